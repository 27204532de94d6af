//! `adflow all` for local use: the projectors run in this process, and each API and the ML worker
//! (`adflow-ml worker`, the binary that links LibTorch) run in a child process of their own that is
//! started again when it dies. Nothing a client sends can
//! then take the projectors and workers down with an API: a stack overflow or an abort ends only
//! the child, and the listening socket stays open in this process (the child inherits it), so
//! clients queue for the moment of the restart instead of being refused.
//!
//! A child learns that this process is gone from its standard input: it reads it until end of
//! file (`ADFLOW_SUPERVISED`), which the kernel delivers when this process exits in any way,
//! SIGKILL included; the child then shuts down.

use crate::config::Config;
use crate::platform::{listen_for_signals, serve_until, Parts, PlatformError};
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};
use tokio::sync::watch;

/// The descriptor number at which a child finds its listening socket.
const INHERITED_FD: i32 = 3;
/// How long a child may take to report `ADFLOW_READY`, and to stop when asked.
const START_TIMEOUT: Duration = Duration::from_secs(60);
const STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// Restarts back off from the first to the last delay; a child that ran this long resets it.
const FIRST_RESTART_DELAY: Duration = Duration::from_millis(200);
const LAST_RESTART_DELAY: Duration = Duration::from_secs(10);
const HEALTHY_RUN: Duration = Duration::from_secs(60);
/// The fewest database connections a process of `adflow all` gets.
const MIN_CONNECTIONS: u32 = 4;

pub async fn serve_all(config: &Config) -> Result<(), PlatformError> {
    // Once here, so that the children's own migration step finds nothing to do.
    crate::platform::migrate_quietly(config).await?;
    let (stop, shutdown) = watch::channel(false);
    listen_for_signals(stop, false);
    let mut ready = vec![];
    let mut supervisors = tokio::task::JoinSet::new();
    let here = std::env::current_exe()
        .map_err(|e| PlatformError::Usage(format!("cannot find this binary: {e}")))?;
    // One budget of database connections for the whole of `adflow all`, not one per process:
    // half to the command API, a quarter each to the query API and to the projectors here (the ML
    // worker needs a few), never below a working minimum.
    let budget = config.database_max_connections;
    let share = |part: u32| (budget / part).max(MIN_CONNECTIONS);
    let mut config = config.clone();
    config.database_max_connections = share(4);
    let config = &config;
    for (name, subcommand, addr, connections) in [
        (
            "command_api",
            "command-api",
            config.command_api_addr,
            share(2),
        ),
        ("query_api", "query-api", config.query_api_addr, share(4)),
    ] {
        let bind_error = |source| PlatformError::Bind { addr, source };
        let listener = std::net::TcpListener::bind(addr).map_err(bind_error)?;
        let bound: SocketAddr = listener.local_addr().map_err(bind_error)?;
        let api = Supervised {
            program: here.clone(),
            subcommand,
            listener: Some(listener),
            connections,
            ops_addr: None,
            shutdown: shutdown.clone(),
        };
        let started = api.start().await?;
        ready.push(format!("{name}={bound}"));
        supervisors.spawn(api.supervise(Some(started)));
    }
    if config.ml_worker {
        let worker = Supervised {
            program: here.with_file_name("adflow-ml"),
            subcommand: "worker",
            listener: None,
            connections: MIN_CONNECTIONS,
            ops_addr: config.ops_addr.map(|a| SocketAddr::new(a.ip(), 0)),
            shutdown: shutdown.clone(),
        };
        // The APIs and projectors run without it: a missing or failing ML worker is logged and
        // tried again, never a reason not to start.
        let started = match worker.start().await {
            Ok(started) => {
                ready.push("ml_worker=running".into());
                if let Some(ops) = started.2.split(' ').find_map(|p| p.strip_prefix("ops=")) {
                    ready.push(format!("ml_worker_ops={ops}"));
                }
                Some(started)
            }
            Err(error) => {
                tracing::error!(%error, "the ML worker did not start; retrying in the background");
                None
            }
        };
        supervisors.spawn(worker.supervise(started));
    }
    let served = serve_until(config, Parts::BACKGROUND, shutdown, ready).await;
    while supervisors.join_next().await.is_some() {}
    served
}

struct Supervised {
    program: std::path::PathBuf,
    subcommand: &'static str,
    /// The socket an API child serves on; none for the ML worker.
    listener: Option<std::net::TcpListener>,
    /// Its share of the database connections.
    connections: u32,
    /// Where it serves `/metrics` and its probes (the ML worker, which has no API): the parent's
    /// `ADFLOW_OPS_ADDR` with a port of its own.
    ops_addr: Option<SocketAddr>,
    shutdown: watch::Receiver<bool>,
}

/// A started child, its output, and its `ADFLOW_READY` line.
type Started = (Child, Lines<BufReader<ChildStdout>>, String);

impl Supervised {
    fn spawn(&self) -> std::io::Result<Child> {
        let fd = self.listener.as_ref().map(|l| l.as_raw_fd());
        let mut command = Command::new(&self.program);
        command
            .arg(self.subcommand)
            .env("ADFLOW_SUPERVISED", "true")
            .env(
                "ADFLOW_DATABASE_MAX_CONNECTIONS",
                self.connections.to_string(),
            );
        if fd.is_some() {
            command.env("ADFLOW_LISTEN_FD", INHERITED_FD.to_string());
        }
        match self.ops_addr {
            Some(addr) => command.env("ADFLOW_OPS_ADDR", addr.to_string()),
            None => command.env_remove("ADFLOW_OPS_ADDR"),
        };
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true);
        // SAFETY: between fork and exec the closure calls only prctl, dup2 and fcntl, which are
        // async-signal-safe, on a descriptor this process keeps open.
        unsafe {
            command.pre_exec(move || {
                // A supervisor killed without warning takes its children along at once (a
                // graceful stop closes their stdin instead). The signal follows the thread that
                // forked, and spawns happen on the runtime's long-lived threads.
                #[cfg(target_os = "linux")]
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                    return Err(std::io::Error::last_os_error());
                }
                // The socket is close-on-exec; dup2 gives a copy without the flag, unless it is
                // already at the target number, where the flag is cleared instead.
                let result = match fd {
                    None => 0,
                    Some(fd) if fd == INHERITED_FD => libc::fcntl(fd, libc::F_SETFD, 0),
                    Some(fd) => libc::dup2(fd, INHERITED_FD),
                };
                if result == -1 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        command.spawn()
    }

    /// The first start: waits for the child's `ADFLOW_READY` line, so that `adflow all` reports
    /// ready only when both APIs are.
    async fn start(&self) -> Result<Started, PlatformError> {
        let failed = |why: String| PlatformError::Usage(format!("{}: {why}", self.subcommand));
        let mut child = self
            .spawn()
            .map_err(|e| failed(format!("cannot start: {e}")))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| failed("no standard output".into()))?;
        let mut lines = BufReader::new(stdout).lines();
        let ready = tokio::time::timeout(START_TIMEOUT, async {
            while let Ok(Some(line)) = lines.next_line().await {
                if line.starts_with("ADFLOW_READY ") {
                    return Some(line);
                }
            }
            None
        })
        .await;
        match ready {
            Ok(Some(line)) => Ok((child, lines, line)),
            Ok(None) => Err(failed(format!(
                "exited before it was ready ({})",
                describe(child.wait().await.ok())
            ))),
            Err(_) => Err(failed(format!(
                "not ready within {} s",
                START_TIMEOUT.as_secs()
            ))),
        }
    }

    /// Keeps the child running until shutdown; `started` is the first start, when it succeeded.
    async fn supervise(mut self, started: Option<Started>) {
        let mut delay = FIRST_RESTART_DELAY;
        let mut child = match started {
            Some((child, stdout, _)) => {
                drain(stdout);
                child
            }
            None => match self.restart(&mut delay).await {
                Some(child) => child,
                None => return,
            },
        };
        loop {
            // `Child::wait` closes the child's stdin first, which would tell it to stop: the
            // handle is held here, and dropped only to stop the child.
            let stdin = child.stdin.take();
            let started = Instant::now();
            let status = tokio::select! {
                status = child.wait() => Some(status.ok()),
                _ = self.shutdown.wait_for(|stop| *stop) => None,
            };
            let Some(status) = status else {
                return stop(child, stdin).await;
            };
            drop(stdin);
            if started.elapsed() >= HEALTHY_RUN {
                delay = FIRST_RESTART_DELAY;
            }
            tracing::error!(
                process = self.subcommand,
                status = %describe(status),
                restart_in_ms = delay.as_millis() as u64,
                "a supervised process died; the others keep running, and it is restarted"
            );
            child = match self.restart(&mut delay).await {
                Some(child) => child,
                None => return,
            };
        }
    }

    /// Starts the child again after `delay` (which grows), until it starts or shutdown comes.
    async fn restart(&mut self, delay: &mut Duration) -> Option<Child> {
        loop {
            let stopping = tokio::select! {
                _ = tokio::time::sleep(*delay) => false,
                _ = self.shutdown.wait_for(|stop| *stop) => true,
            };
            if stopping {
                return None;
            }
            *delay = (*delay * 2).min(LAST_RESTART_DELAY);
            match self.spawn() {
                Ok(mut restarted) => {
                    if let Some(stdout) = restarted.stdout.take() {
                        drain(BufReader::new(stdout).lines());
                    }
                    return Some(restarted);
                }
                Err(error) => {
                    tracing::error!(process = self.subcommand, %error, "cannot restart the process")
                }
            }
        }
    }
}

/// Closing its standard input asks a child to stop; one that does not is killed.
async fn stop(mut child: Child, stdin: Option<tokio::process::ChildStdin>) {
    drop(stdin);
    if tokio::time::timeout(STOP_TIMEOUT, child.wait())
        .await
        .is_err()
    {
        let _ = child.kill().await;
    }
}

fn drain(mut lines: Lines<BufReader<ChildStdout>>) {
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
}

fn describe(status: Option<std::process::ExitStatus>) -> String {
    match status {
        None => "unknown status".into(),
        Some(status) => match (status.code(), status.signal()) {
            (Some(code), _) => format!("exit code {code}"),
            (None, Some(signal)) => format!("killed by signal {signal}"),
            (None, None) => status.to_string(),
        },
    }
}

/// In a supervised child: stop when the supervisor's end of standard input closes.
pub fn stop_when_supervisor_goes(stop: watch::Sender<bool>) {
    tokio::spawn(async move {
        use tokio::io::AsyncReadExt;
        let mut stdin = tokio::io::stdin();
        let mut buffer = [0u8; 64];
        while let Ok(read) = stdin.read(&mut buffer).await {
            if read == 0 {
                break;
            }
        }
        tracing::info!("the supervising process is gone; shutting down");
        let _ = stop.send(true);
        // A child that cannot finish its graceful shutdown must not outlive its supervisor.
        tokio::time::sleep(STOP_TIMEOUT).await;
        std::process::exit(1);
    });
}
