//! What the `adflow` and `adflow-ml` binaries share: the one configuration loader, the wiring of
//! pools, stores and servers, the supervisor of `adflow all`, and the benchmarks' scratch
//! databases and second process. Nothing here links LibTorch: the ML worker is `adflow-ml`.

pub mod ad_platforms;
pub mod audit;
pub mod audit_replay;
pub mod bench_server;
pub mod config;
pub mod connections;
pub mod notifications;
pub mod pacing;
pub mod platform;
pub mod process;
pub mod report_schedules;
pub mod retention;
pub mod scratch;
pub mod supervisor;
pub mod webhooks;
