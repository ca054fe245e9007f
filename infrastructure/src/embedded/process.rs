//! Process plumbing for the embedded cluster: ports, waiting, log tails and the reaper.

use std::io::{Read, Seek, SeekFrom};
use std::net::{Ipv4Addr, TcpListener};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How often to look whether a child has exited.
const POLL: Duration = Duration::from_millis(20);

/// Lines of server log worth showing when something fails.
const TAIL_LINES: usize = 30;

/// Asks the kernel for a port nobody listens on right now; the server may still lose it to a
/// faster process before binding, which the caller handles by trying again.
pub(super) fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port())
}

/// Waits up to `limit` for `child` to exit without blocking the runtime.
pub(super) async fn wait_async(
    child: &mut Child,
    limit: Duration,
) -> std::io::Result<Option<ExitStatus>> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if Instant::now() >= deadline {
            return Ok(None);
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Waits up to `limit` for `child` to exit, blocking: for `Drop`, which cannot await.
pub(super) fn wait_blocking(
    child: &mut Child,
    limit: Duration,
) -> std::io::Result<Option<ExitStatus>> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if Instant::now() >= deadline {
            return Ok(None);
        }
        std::thread::sleep(POLL);
    }
}

/// The last lines the server wrote to `log` after byte `offset`, so that a failure shows this
/// attempt's messages and not those of earlier runs.
pub(super) fn log_tail(log: &Path, offset: u64) -> String {
    let read = || -> std::io::Result<String> {
        let mut file = std::fs::File::open(log)?;
        let len = file.metadata()?.len();
        // Bounded, so a huge log cannot blow up an error message.
        let start = offset.max(len.saturating_sub(16 * 1024));
        file.seek(SeekFrom::Start(start))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    };
    match read() {
        Ok(text) => tail(&text),
        Err(err) => format!("(server log {} unreadable: {err})", log.display()),
    }
}

/// The last lines of a tool's output.
pub(super) fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines[lines.len().saturating_sub(TAIL_LINES)..].join("\n");
    if tail.trim().is_empty() {
        "(no output)".to_owned()
    } else {
        tail
    }
}

/// The reaper's script. Paths arrive as positional parameters, never spliced into the script, so
/// no quoting can go wrong: `$1` is `pg_ctl`, `$2` the cluster's data directory, `$3` the
/// directory to delete.
///
/// `read` returns when its stdin reaches end of file, which happens exactly when every holder of
/// the pipe's write end is gone: the owning process, however it ends (even SIGKILL), since the
/// kernel closes its descriptors; std opens pipes close-on-exec, so no other child inherits it.
/// Unlike polling `kill -0 <pid>` this works across users (the reaper may run as `postgres`
/// while we are root) and cannot be fooled by pid reuse.
const REAPER_SCRIPT: &str =
    r#"read -r _; "$1" -D "$2" -m immediate -w -t 30 stop >/dev/null 2>&1; rm -rf -- "$3""#;

/// Starts the reaper of a temporary cluster. Dropping (or never closing, until exit) the
/// returned child's stdin is what triggers it.
///
/// `command` must be a `/bin/sh` command prepared for the server user, who can stop the server
/// (`pg_ctl` refuses root) and owns the directory.
pub(super) fn spawn_reaper(
    mut command: Command,
    pg_ctl: &Path,
    pgdata: &Path,
    dir: &Path,
) -> std::io::Result<Child> {
    command
        .arg("-c")
        .arg(REAPER_SCRIPT)
        .arg("domainflow-pg-reaper")
        .arg(pg_ctl)
        .arg(pgdata)
        .arg(dir)
        // Not inside the directory it deletes.
        .current_dir("/")
        .stdin(Stdio::piped())
        // Inheriting the test harness's output pipes would keep `cargo test` waiting for them
        // to close until the reaper finishes.
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        // Out of our process group, so a Ctrl-C aimed at us does not kill it before it cleans up.
        .process_group(0);
    command.spawn()
}
