//! The deployment files, checked offline (containers cannot run on these machines): the compose
//! file and the Kubernetes manifests parse; every `ADFLOW_*` variable they set is one the config
//! loader reads; the variables a real deployment must set are set; every process they start is a
//! subcommand the binaries have; probes and scrapes point at the ports the processes serve; the
//! Dockerfiles build binaries that exist from files that exist.

use adflow::config::Config;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use yaml_rust2::{Yaml, YamlLoader};

const ADFLOW: &str = env!("CARGO_BIN_EXE_adflow");
const ADFLOW_ML: &str = env!("CARGO_BIN_EXE_adflow-ml");
const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn documents(path: &str) -> Vec<Yaml> {
    let text = std::fs::read_to_string(Path::new(ROOT).join(path)).unwrap();
    YamlLoader::load_from_str(&text).unwrap_or_else(|e| panic!("{path} does not parse: {e}"))
}

fn manifests() -> Vec<(String, Yaml)> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(Path::new(ROOT).join("ops/k8s")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".yaml") {
            for document in documents(&format!("ops/k8s/{name}")) {
                all.push((name.clone(), document));
            }
        }
    }
    all
}

/// Every `ADFLOW_*` name anywhere in `yaml`: mapping keys, and `name:` values of env lists.
fn variables(yaml: &Yaml, found: &mut BTreeSet<String>) {
    match yaml {
        Yaml::Hash(map) => {
            for (key, value) in map {
                if let Some(key) = key.as_str() {
                    if key.starts_with("ADFLOW_") {
                        found.insert(key.to_owned());
                    }
                    if key == "name" {
                        if let Some(name) = value.as_str().filter(|v| v.starts_with("ADFLOW_")) {
                            found.insert(name.to_owned());
                        }
                    }
                }
                variables(value, found);
            }
        }
        Yaml::Array(items) => items.iter().for_each(|item| variables(item, found)),
        _ => {}
    }
}

/// Every container's `(image, args)` of a manifest.
fn containers(yaml: &Yaml, found: &mut Vec<(String, Vec<String>, Yaml)>) {
    match yaml {
        Yaml::Hash(map) => {
            for (key, value) in map {
                if key.as_str() == Some("containers") {
                    for container in value.as_vec().into_iter().flatten() {
                        let args = container["args"]
                            .as_vec()
                            .map(|a| {
                                a.iter()
                                    .filter_map(|s| s.as_str().map(str::to_owned))
                                    .collect()
                            })
                            .unwrap_or_default();
                        let image = container["image"].as_str().unwrap_or("").to_owned();
                        found.push((image, args, container.clone()));
                    }
                }
                containers(value, found);
            }
        }
        Yaml::Array(items) => items.iter().for_each(|item| containers(item, found)),
        _ => {}
    }
}

/// Whether `binary subcommand --help` succeeds: the subcommand exists.
fn subcommand_exists(binary: &str, subcommand: &str) -> bool {
    std::process::Command::new(binary)
        .args([subcommand, "--help"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

#[test]
fn compose_sets_only_real_variables_and_starts_real_processes_on_kurrentdb() {
    let known: BTreeSet<String> = Config::variables().into_iter().collect();
    let compose = &documents("ops/compose.yaml")[0];
    let mut set = BTreeSet::new();
    variables(compose, &mut set);
    let unknown: Vec<&String> = set.difference(&known).collect();
    assert!(
        unknown.is_empty(),
        "compose sets variables nobody reads: {unknown:?}"
    );
    for required in [
        "ADFLOW_DATABASE_URL",
        "ADFLOW_JWT_SECRET",
        "ADFLOW_CREDENTIALS_KEY",
        "ADFLOW_ESDB_URL",
        "ADFLOW_OPS_ADDR",
    ] {
        assert!(set.contains(required), "compose leaves {required} unset");
    }
    let services = compose["services"].as_hash().unwrap();
    let mut adflow_processes = 0;
    for (name, service) in services {
        let name = name.as_str().unwrap();
        let image = service["image"].as_str().unwrap_or("");
        let Some(command) = service["command"].as_vec() else {
            continue;
        };
        let subcommand = command[0].as_str().unwrap();
        let binary = match image {
            "adflow:dev" => ADFLOW,
            "adflow-ml:dev" => ADFLOW_ML,
            _ => continue,
        };
        adflow_processes += 1;
        assert!(
            subcommand_exists(binary, subcommand),
            "{name}: {image} has no `{subcommand}`"
        );
        if subcommand != "migrate" && subcommand != "sandbox" {
            assert_eq!(
                service["environment"]["ADFLOW_EVENT_STORE"].as_str(),
                Some("kurrentdb"),
                "{name}"
            );
        }
    }
    assert_eq!(
        adflow_processes, 7,
        "migrate, sandbox, both APIs, projections, platform and ML workers"
    );
    for service in ["kurrentdb", "nats", "clickhouse", "postgres"] {
        assert!(
            !services[&Yaml::String(service.into())].is_badvalue(),
            "no {service}"
        );
    }
}

#[test]
fn the_manifests_parse_set_real_variables_and_probe_the_served_ports() {
    let known: BTreeSet<String> = Config::variables().into_iter().collect();
    let all = manifests();
    let mut set = BTreeSet::new();
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    let mut config = None;
    for (file, document) in &all {
        let kind = document["kind"]
            .as_str()
            .unwrap_or_else(|| panic!("{file}: no kind"));
        *kinds.entry(kind.to_owned()).or_default() += 1;
        variables(document, &mut set);
        if kind == "ConfigMap" {
            config = Some(document["data"].clone());
        }
    }
    let unknown: Vec<&String> = set.difference(&known).collect();
    assert!(
        unknown.is_empty(),
        "the manifests set variables nobody reads: {unknown:?}"
    );
    for required in [
        "ADFLOW_DATABASE_URL",
        "ADFLOW_JWT_SECRET",
        "ADFLOW_CREDENTIALS_KEY",
        "ADFLOW_EVENT_STORE",
        "ADFLOW_ESDB_URL",
        "ADFLOW_OPS_ADDR",
    ] {
        assert!(
            set.contains(required),
            "the manifests leave {required} unset"
        );
    }
    for (kind, at_least) in [
        ("Deployment", 5),
        ("HorizontalPodAutoscaler", 3),
        ("Job", 1),
        ("ConfigMap", 1),
        ("Secret", 1),
        ("Service", 2),
    ] {
        assert!(
            kinds.get(kind).copied().unwrap_or(0) >= at_least,
            "{kinds:?}"
        );
    }
    let config = config.unwrap();
    let port_of = |variable: &str| {
        config[variable]
            .as_str()
            .and_then(|a| a.rsplit(':').next())
            .and_then(|p| p.parse::<i64>().ok())
            .unwrap_or_else(|| panic!("{variable} has no port"))
    };
    let mut started = BTreeSet::new();
    for (file, document) in &all {
        let mut found = Vec::new();
        containers(document, &mut found);
        for (image, args, container) in found {
            let subcommand = args.first().cloned().unwrap_or_default();
            let binary = if image == "adflow-ml" {
                ADFLOW_ML
            } else {
                ADFLOW
            };
            assert!(
                subcommand_exists(binary, &subcommand),
                "{file}: {image} has no `{subcommand}`"
            );
            started.insert(subcommand.clone());
            if document["kind"].as_str() != Some("Deployment") {
                continue;
            }
            let served = match subcommand.as_str() {
                "command-api" => port_of("ADFLOW_COMMAND_API_ADDR"),
                "query-api" => port_of("ADFLOW_QUERY_API_ADDR"),
                _ => port_of("ADFLOW_OPS_ADDR"),
            };
            let ports = container["ports"].as_vec().unwrap();
            assert_eq!(ports[0]["containerPort"].as_i64(), Some(served), "{file}");
            for (probe, path) in [("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")] {
                assert_eq!(
                    container[probe]["httpGet"]["path"].as_str(),
                    Some(path),
                    "{file} {probe}"
                );
            }
            let scraped = document["spec"]["template"]["metadata"]["annotations"]
                ["prometheus.io/port"]
                .as_str()
                .and_then(|p| p.parse::<i64>().ok());
            assert_eq!(
                scraped,
                Some(served),
                "{file}: Prometheus scrapes another port"
            );
        }
    }
    for process in [
        "migrate",
        "command-api",
        "query-api",
        "projections",
        "platform-workers",
        "worker",
    ] {
        assert!(
            started.contains(process),
            "nothing runs {process}: {started:?}"
        );
    }
    let projections = all
        .iter()
        .find(|(file, d)| file == "projections.yaml" && d["kind"].as_str() == Some("Deployment"))
        .map(|(_, d)| d.clone())
        .unwrap();
    assert_eq!(
        projections["spec"]["replicas"].as_i64(),
        Some(1),
        "one writer"
    );
    assert_eq!(
        projections["spec"]["strategy"]["type"].as_str(),
        Some("Recreate")
    );
}

#[test]
fn the_dockerfiles_build_binaries_that_exist_from_files_that_exist() {
    let manifest = std::fs::read_to_string(Path::new(ROOT).join("Cargo.toml")).unwrap();
    for (file, binary) in [
        ("ops/docker/api.Dockerfile", "adflow"),
        ("ops/docker/ml.Dockerfile", "adflow-ml"),
        ("ops/docker/ml-cuda.Dockerfile", "adflow-ml"),
    ] {
        let text = std::fs::read_to_string(Path::new(ROOT).join(file)).unwrap();
        assert!(text.contains(&format!("--bin {binary} ")), "{file}");
        let built = manifest.contains(&format!("name = \"{binary}\""))
            || Path::new(ROOT)
                .join(format!("src/bin/{binary}/main.rs"))
                .exists();
        assert!(built, "no binary {binary}");
        assert!(text.matches("FROM ").count() >= 2, "{file}: multi-stage");
        assert!(text.contains("USER 10001"), "{file}: not as root");
        for line in text
            .lines()
            .filter(|l| l.starts_with("COPY ") && !l.contains("--from"))
        {
            let source = line.split_whitespace().nth(1).unwrap();
            assert!(
                Path::new(ROOT).join(source).exists(),
                "{file}: {source} does not exist"
            );
        }
    }
    let api = std::fs::read_to_string(Path::new(ROOT).join("ops/docker/api.Dockerfile")).unwrap();
    assert!(
        !api.contains("/opt/torch /opt/torch"),
        "the API image carries no LibTorch"
    );
}

#[test]
fn the_grafana_dashboard_charts_only_series_adflow_records_and_every_one_of_them() {
    let text = std::fs::read_to_string(Path::new(ROOT).join("ops/grafana/adflow.json")).unwrap();
    let dashboard: serde_json::Value = serde_json::from_str(&text).unwrap();
    let expressions: Vec<String> = dashboard["panels"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["targets"].as_array().cloned().unwrap_or_default())
        .map(|t| t["expr"].as_str().unwrap().to_owned())
        .collect();
    let recorded: Vec<&str> = adflow_telemetry::SERIES
        .iter()
        .map(|(name, _)| *name)
        .collect();
    for expression in &expressions {
        let named: Vec<&str> = expression
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .filter(|w| w.starts_with("adflow_"))
            .map(|w| w.trim_end_matches("_bucket"))
            .collect();
        assert!(!named.is_empty(), "{expression}");
        for name in named {
            assert!(
                recorded.contains(&name),
                "{name} is not a series Adflow records"
            );
        }
    }
    for name in recorded {
        assert!(
            expressions.iter().any(|e| e.contains(name)),
            "the dashboard does not chart {name}"
        );
    }
}
