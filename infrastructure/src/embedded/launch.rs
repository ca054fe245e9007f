//! Starting the server and waiting until it accepts connections.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

use sqlx::Connection;
use sqlx::postgres::PgConnection;

use super::{EmbeddedPostgres, LOG_FILE, account, process};
use crate::error::Error;

/// How long the server may take to accept connections after being spawned.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// How long one readiness probe may take; the server answers at once when it is up.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// How many freshly picked ports to try when another process takes ours first.
const PORT_ATTEMPTS: usize = 5;

/// How one attempt to start the server ended, when it did not fail outright.
enum Launch {
    Ready(Child),
    PortTaken,
}

impl EmbeddedPostgres {
    /// Starts the server, picking another port when a faster process took the chosen one.
    pub(super) async fn launch(
        &mut self,
        settings: &'static [(&'static str, &'static str)],
    ) -> Result<(), Error> {
        for attempt in 1..=PORT_ATTEMPTS {
            let port = process::free_port()
                .map_err(|source| self.io("picking a free port for", source))?;
            match self.spawn_server(port, settings).await? {
                Launch::Ready(server) => {
                    self.port = port;
                    self.settings = settings;
                    self.server = Some(server);
                    tracing::info!(
                        port,
                        data_dir = %self.data_dir.display(),
                        temporary = self.temporary,
                        "embedded PostgreSQL is ready"
                    );
                    return Ok(());
                }
                Launch::PortTaken => {
                    tracing::warn!(port, attempt, "port taken before PostgreSQL bound it");
                }
            }
        }
        Err(self.error(format!(
            "no free port found in {PORT_ATTEMPTS} attempts; other processes keep taking them"
        )))
    }

    /// Stops the server and starts it again after `away`, on the same port and with the
    /// same settings, so that its clients find it where it was: for testing how they ride
    /// out a restart of the database. `immediate` stops it as a crash would (every session
    /// cut, no shutdown checkpoint, crash recovery on start: on a temporary cluster, which
    /// commits asynchronously, the last commits of sessions that did not ask for
    /// `synchronous_commit` are lost); otherwise as an operator's fast shutdown does.
    ///
    /// # Errors
    ///
    /// [`Error::Embedded`] when the server is not running, `pg_ctl stop` fails, or the
    /// server does not come back (another process took its port meanwhile, say);
    /// [`Error::Io`] when a program cannot be run.
    pub async fn restart(&mut self, immediate: bool, away: Duration) -> Result<(), Error> {
        let Some(mut server) = self.server.take() else {
            return Err(self.error("the server is not running".to_owned()));
        };
        let mode = if immediate { "immediate" } else { "fast" };
        let output = self.run(self.stop_command(mode)).await?;
        let exited = process::wait_async(&mut server, Duration::from_secs(5))
            .await
            .map_err(|source| self.io("waiting for the server to exit", source))?;
        if exited.is_none() {
            return Err(self.error(format!(
                "pg_ctl stop -m {mode} did not stop the server ({}): {}",
                output.status,
                super::output_tail(&output)
            )));
        }
        tokio::time::sleep(away).await;
        match self.spawn_server(self.port, self.settings).await? {
            Launch::Ready(server) => {
                self.server = Some(server);
                tracing::info!(port = self.port, mode, "embedded PostgreSQL restarted");
                Ok(())
            }
            Launch::PortTaken => Err(self.error(format!(
                "port {} was taken while the server was down",
                self.port
            ))),
        }
    }

    /// Checks that the server found running on this cluster answers on its port as this
    /// very data directory.
    pub(super) async fn check_attached(&self) -> Result<(), Error> {
        match tokio::time::timeout(PROBE_TIMEOUT, probe(&self.url_on(self.port, "postgres"))).await
        {
            Ok(Ok(dir)) if Path::new(&dir) == self.pgdata => Ok(()),
            _ => Err(self.already_running()),
        }
    }

    async fn spawn_server(
        &self,
        port: u16,
        settings: &'static [(&'static str, &'static str)],
    ) -> Result<Launch, Error> {
        let log_path = self.data_dir.join(LOG_FILE);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|source| self.io("opening the server log in", source))?;
        let offset = log
            .metadata()
            .map_err(|source| self.io("reading the server log in", source))?
            .len();
        if let Some(account) = self.account {
            account::give(&log_path, account)?;
        }
        let stderr = log
            .try_clone()
            .map_err(|source| self.io("opening the server log in", source))?;

        let mut command = self.command(self.bin_dir.join("postgres"));
        command.arg("-D").arg(&self.pgdata);
        let fixed = [
            "listen_addresses=127.0.0.1".to_owned(),
            format!("port={port}"),
            "unix_socket_directories=".to_owned(),
        ];
        let tuned = settings.iter().map(|(key, value)| format!("{key}={value}"));
        for setting in fixed.into_iter().chain(tuned) {
            command.arg("-c").arg(setting);
        }
        // Its own process group, so a Ctrl-C at the terminal reaches only us and we can shut
        // down in order (pg_ctl start does the same with setsid).
        command.stdout(log).stderr(stderr).process_group(0);
        let mut server = command
            .spawn()
            .map_err(|source| self.io("spawning postgres for", source))?;

        let deadline = Instant::now() + READY_TIMEOUT;
        let url = self.url_on(port, "postgres");
        loop {
            let exited = server
                .try_wait()
                .map_err(|source| self.io("watching the server of", source))?;
            if let Some(status) = exited {
                let tail = process::log_tail(&log_path, offset);
                if tail.contains("Address already in use") {
                    return Ok(Launch::PortTaken);
                }
                if tail.contains("lock file \"postmaster.pid\" already exists") {
                    return Err(self.already_running());
                }
                return Err(self.error(format!(
                    "the server exited while starting ({status}); end of {}:\n{tail}",
                    log_path.display()
                )));
            }
            match tokio::time::timeout(PROBE_TIMEOUT, probe(&url)).await {
                Ok(Ok(dir)) if Path::new(&dir) == self.pgdata => return Ok(Launch::Ready(server)),
                Ok(Ok(_)) => {
                    // Another server answers on the port, so ours cannot have bound it.
                    self.kill(&mut server);
                    return Ok(Launch::PortTaken);
                }
                Ok(Err(_)) | Err(_) => {}
            }
            if Instant::now() >= deadline {
                self.kill(&mut server);
                return Err(self.error(format!(
                    "the server did not accept connections within {} s; end of {}:\n{}",
                    READY_TIMEOUT.as_secs(),
                    log_path.display(),
                    process::log_tail(&log_path, offset)
                )));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Gets rid of a server that failed to come up, so it does not linger on the directory.
    fn kill(&self, server: &mut Child) {
        if let Err(err) = self.stop_command("immediate").output() {
            tracing::warn!(%err, "could not run pg_ctl stop on a server that failed to start");
        }
        if let Err(err) = server.kill() {
            tracing::debug!(%err, "killing a server that failed to start");
        }
        if let Err(err) = server.wait() {
            tracing::warn!(%err, "waiting for a server that failed to start");
        }
    }
}

/// Connects once and reports the server's data directory, which tells our server apart from
/// another that took the port.
async fn probe(url: &str) -> Result<String, sqlx::Error> {
    let mut conn = PgConnection::connect(url).await?;
    let dir = sqlx::query_scalar("SELECT current_setting('data_directory')")
        .fetch_one(&mut conn)
        .await?;
    conn.close().await?;
    Ok(dir)
}
