//! The `domainflow` binary as a child process, for tests where the server must crash.

use std::process::Stdio;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// A `domainflow serve` child process.
#[derive(Debug)]
pub struct ServerProcess {
    child: Child,
    /// Its base URL, e.g. `http://127.0.0.1:41234`.
    pub address: String,
    /// The lines it has written to standard error so far.
    logs: Arc<Mutex<Vec<String>>>,
}

impl ServerProcess {
    /// Starts `binary serve` on a free port with `args` added, logging warnings only, and
    /// waits until it says where it listens.
    ///
    /// # Panics
    /// When it cannot start or exits before listening.
    pub async fn start(binary: &str, args: &[&str]) -> Self {
        Self::start_logging(binary, args, "warn").await
    }

    /// Like [`ServerProcess::start`], logging what `filter` (a `RUST_LOG` value) lets
    /// through, as JSON lines ([`ServerProcess::log_lines`]).
    ///
    /// # Panics
    /// When it cannot start or exits before listening.
    pub async fn start_logging(binary: &str, args: &[&str], filter: &str) -> Self {
        Self::spawn(binary, "serve", args, filter).await
    }

    /// Starts `binary worker` (the followers of the log, health and metrics only) on a free
    /// port with `args` added, logging warnings only, and waits until it listens.
    ///
    /// # Panics
    /// When it cannot start or exits before listening.
    pub async fn start_worker(binary: &str, args: &[&str]) -> Self {
        Self::spawn(binary, "worker", args, "warn").await
    }

    /// Starts `binary relay` (the outbox relay alone, health and metrics only) on a free
    /// port with `args` added, logging warnings only, and waits until it listens.
    ///
    /// # Panics
    /// When it cannot start or exits before listening.
    pub async fn start_relay(binary: &str, args: &[&str]) -> Self {
        Self::spawn(binary, "relay", args, "warn").await
    }

    async fn spawn(binary: &str, command: &str, args: &[&str], filter: &str) -> Self {
        let mut child = Command::new(binary)
            .arg(command)
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .env("RUST_LOG", filter)
            .env("DOMAINFLOW_LOG_FORMAT", "json")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {binary}: {e}"));
        let stdout = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
        let stderr = child.stderr.take().unwrap_or_else(|| panic!("no stderr"));
        let logs = Arc::new(Mutex::new(Vec::new()));
        let kept = Arc::clone(&logs);
        // Keep reading so the child never blocks on a full pipe.
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                kept.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(line);
            }
        });
        let mut lines = BufReader::new(stdout).lines();
        let address = loop {
            match lines.next_line().await {
                Ok(Some(line)) => {
                    if let Some(address) = line.strip_prefix("domainflow listening on ") {
                        break address.trim().to_owned();
                    }
                }
                Ok(None) | Err(_) => panic!("{binary} exited before listening"),
            }
        };
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Self {
            child,
            address,
            logs,
        }
    }

    /// What its `/metrics` shows now.
    ///
    /// # Panics
    /// When it does not answer.
    pub async fn metrics(&self) -> String {
        let response = reqwest::get(format!("{}/metrics", self.address))
            .await
            .unwrap_or_else(|e| panic!("scraping {}: {e}", self.address));
        response
            .text()
            .await
            .unwrap_or_else(|e| panic!("scraping {}: {e}", self.address))
    }

    /// The lines written to standard error so far.
    #[must_use]
    pub fn log_lines(&self) -> Vec<String> {
        self.logs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Sends SIGTERM and waits at most `within` for the process to exit; how it exited.
    ///
    /// # Panics
    /// When the signal cannot be sent or the process outlives `within`.
    pub async fn terminate(mut self, within: std::time::Duration) -> std::process::ExitStatus {
        let pid = self
            .child
            .id()
            .unwrap_or_else(|| panic!("the server has exited"));
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .unwrap_or_else(|e| panic!("running kill: {e}"));
        assert!(sent.success(), "kill -TERM {pid} failed");
        tokio::time::timeout(within, self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("the server did not exit within {within:?} of SIGTERM"))
            .unwrap_or_else(|e| panic!("waiting for the server: {e}"))
    }

    /// Kills the process with SIGKILL (no shutdown of any kind) and waits for it to die.
    ///
    /// # Panics
    /// When it cannot be killed.
    pub async fn kill(mut self) {
        self.child
            .kill()
            .await
            .unwrap_or_else(|e| panic!("killing the server: {e}"));
    }
}

/// Runs `binary` with `args` to its end, logging only warnings; its output.
///
/// # Panics
/// When it cannot be started.
#[must_use]
pub fn run(binary: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(binary)
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap_or_else(|e| panic!("running {binary}: {e}"))
}

/// Output bytes as text, trimmed.
#[must_use]
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).trim().to_owned()
}
