//! Tests of the `domainflow` binary itself, run as a process: its commands, its settings,
//! and crashes of the server. One test binary rather than one per file.

mod dead_letters_cli;
mod erasure;
mod export;
mod jwt_settings;
mod observability;
mod payment_settings;
mod rebuild_cli;
mod roles;
mod saga_crash;
mod scale_out;
mod settings;
mod shutdown;
mod tokens;
mod verify;

/// Runs `domainflow serve` with `args` (and an unreachable database, never reached: settings
/// are checked first), which must fail before serving; its stderr. Settings from the
/// environment are removed, so only `args` count.
async fn serve_refused(args: &[&str]) -> String {
    serve_refused_on("postgres://nobody@127.0.0.1:1/none", args).await
}

/// Runs `domainflow serve` with `args` on the database at `url`, which must fail before
/// serving; its stderr.
#[allow(clippy::expect_used)] // A test helper: a failure is the test failing.
async fn serve_refused_on(url: &str, args: &[&str]) -> String {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_domainflow"));
    command
        .arg("serve")
        .args(["--database-url", url])
        .args(args)
        .kill_on_drop(true);
    for (key, _) in std::env::vars() {
        if key.starts_with("DOMAINFLOW_") {
            command.env_remove(key);
        }
    }
    let output = tokio::time::timeout(std::time::Duration::from_secs(30), command.output())
        .await
        .expect("serve did not stop")
        .expect("running serve");
    assert!(!output.status.success(), "serve {args:?} started");
    String::from_utf8_lossy(&output.stderr).into_owned()
}
