//! The production binary carries no LibTorch: `adflow` runs in a bare environment (what the
//! README's "Try it" does in a new shell), and only `adflow-ml` links torch.

use std::process::Command;

fn linked_libraries(binary: &str) -> String {
    let output = Command::new("ldd").arg(binary).output().expect("ldd runs");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn the_adflow_binary_links_no_libtorch_and_adflow_ml_does() {
    let adflow = env!("CARGO_BIN_EXE_adflow");
    let linked = linked_libraries(adflow);
    assert!(!linked.contains("torch"), "{linked}");
    let ml = linked_libraries(env!("CARGO_BIN_EXE_adflow-ml"));
    assert!(ml.contains("libtorch"), "{ml}");
}

#[test]
fn adflow_token_runs_in_an_empty_environment() {
    let output = Command::new(env!("CARGO_BIN_EXE_adflow"))
        .args(["token", "--role", "viewer"])
        .env_clear()
        .output()
        .expect("adflow runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let token = String::from_utf8_lossy(&output.stdout);
    assert_eq!(token.trim().split('.').count(), 3, "a JWT: {token}");
}
