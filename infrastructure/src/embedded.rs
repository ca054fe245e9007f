//! A private PostgreSQL cluster run from the machine's installed server binaries.
//!
//! Without a `DATABASE_URL`, domainflow still needs a PostgreSQL. Rather than bundling one, it
//! runs the installed server ([`find_binaries`]) on a data directory of its own:
//! [`EmbeddedPostgres::start`] keeps a durable cluster in a directory across runs, and
//! [`EmbeddedPostgres::start_temporary`] makes a throwaway, non-durable one for tests.
//!
//! The server listens on 127.0.0.1 only, on a port picked at start, and asks every connection
//! for a password ([`credentials`]): the superuser `postgres` owns the database and runs the
//! migrations, the server works as its own login ([`LOGIN_ROLE`]), which owns nothing. Unix
//! sockets are disabled, so deep data directories never hit the 107-byte socket path limit.
//!
//! PostgreSQL refuses to run as root, and CI runs as root; then every server program runs as
//! the `postgres` system user, which is given the cluster's files.
//!
//! Temporary clusters must vanish even when their process ends without running destructors
//! (test binaries never drop statics, and get SIGKILLed): each has a reaper, a detached `sh`
//! that stops the server and deletes the directory once the owning process is gone.

mod account;
mod binaries;
mod credentials;
mod launch;
mod process;
mod setup;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::time::Duration;

use sqlx::Connection;
use sqlx::postgres::PgConnection;

use self::account::Account;
pub use self::binaries::find_binaries;
pub use self::credentials::LOGIN_ROLE;
use self::credentials::Passwords;
use self::setup::create_private_dir;
use crate::error::Error;

/// How long `pg_ctl stop` may wait for the server to exit (passed as `-t`).
const STOP_TIMEOUT_SECS: &str = "30";

/// The cluster's directory inside the data directory.
const PGDATA: &str = "pgdata";

/// The server's log inside the data directory; kept across runs for post-mortems.
const LOG_FILE: &str = "postgresql.log";

/// A persistent cluster is the application's real store: keep PostgreSQL's durable defaults.
const DURABLE_SETTINGS: &[(&str, &str)] = &[("max_connections", "200")];

/// A temporary cluster's data is worthless after a crash, so trade durability for speed; tests
/// also open many pools at once.
const TEMPORARY_SETTINGS: &[(&str, &str)] = &[
    ("fsync", "off"),
    ("synchronous_commit", "off"),
    ("full_page_writes", "off"),
    ("max_connections", "300"),
    ("shared_buffers", "128MB"),
];

/// A PostgreSQL server run by this process on a private data directory.
///
/// Stop it with [`EmbeddedPostgres::stop`]; dropping it stops it too, synchronously.
#[derive(Debug)]
pub struct EmbeddedPostgres {
    bin_dir: PathBuf,
    data_dir: PathBuf,
    pgdata: PathBuf,
    port: u16,
    /// The settings the server was started with, to start it again the same way.
    settings: &'static [(&'static str, &'static str)],
    /// Who runs the server programs when we are root.
    account: Option<Account>,
    /// The passwords of the superuser and of the server's login.
    passwords: Passwords,
    /// Whether `data_dir` is deleted when the cluster stops.
    temporary: bool,
    /// The postmaster; `None` once stopped, or before it started.
    server: Option<Child>,
    /// A temporary cluster's reaper; its stdin is the pipe whose closing sets it off.
    reaper: Option<Child>,
}

impl EmbeddedPostgres {
    /// Starts the durable cluster kept in `data_dir`, creating it on first use.
    ///
    /// The cluster lives in `<data_dir>/pgdata` and logs to `<data_dir>/postgresql.log`.
    ///
    /// # Errors
    ///
    /// When a server already runs on that data directory (another domainflow process, or
    /// one left over by a process that died), it is used as it is and left running when
    /// this handle stops.
    ///
    /// # Errors
    ///
    /// [`Error::NoPostgres`] without server binaries; [`Error::Embedded`] when running as
    /// root without a `postgres` user, or when `initdb` or the server fails (with the tail
    /// of its output); [`Error::Io`] when the directory cannot be prepared.
    pub async fn start(data_dir: &Path) -> Result<Self, Error> {
        let bin_dir = find_binaries()?;
        let data_dir = create_private_dir(data_dir, true)?;
        let account = account::server_account(&data_dir)?;
        let passwords = credentials::passwords(&data_dir)?;
        let mut cluster = Self::new(bin_dir, data_dir, account, false, passwords);
        cluster.hand_over(false)?;
        if cluster.pgdata.join("PG_VERSION").exists() {
            if let Some(port) = cluster.running_port().await? {
                if cluster.passwords.superuser_pending {
                    return Err(cluster.error(format!(
                        "a server started before passwords were required runs on it; stop it \
                         (`pg_ctl -D {} stop`, as the postgres user when root) and start again, \
                         so that it gets its passwords",
                        cluster.pgdata.display()
                    )));
                }
                // Share it rather than fail: it serves this very data directory. This
                // process did not start it, so it will not stop it either.
                cluster.port = port;
                cluster.check_attached().await?;
                tracing::info!(port, "attached to the embedded PostgreSQL already running");
                return Ok(cluster);
            }
            if let Some(account) = account {
                account::give_tree(&cluster.pgdata, account)?;
            }
            if cluster.passwords.superuser_pending {
                // A cluster made before passwords were required has none for its superuser.
                cluster.set_superuser_password().await?;
            }
        } else {
            cluster.initdb(false).await?;
        }
        cluster.require_passwords()?;
        cluster.launch(DURABLE_SETTINGS).await?;
        Ok(cluster)
    }

    /// Starts a throwaway cluster in a fresh `domainflow-pg-<uuid>` directory under the system
    /// temporary directory, tuned for speed over durability.
    ///
    /// The directory is deleted when the cluster stops, and also shortly after this process
    /// exits, however it exits.
    ///
    /// # Errors
    ///
    /// As [`EmbeddedPostgres::start`], except that a temporary cluster is never already running.
    pub async fn start_temporary() -> Result<Self, Error> {
        let bin_dir = find_binaries()?;
        let temp = std::env::temp_dir();
        let temp = std::fs::canonicalize(&temp).map_err(|source| Error::Io {
            context: format!("resolving the temporary directory {}", temp.display()),
            source,
        })?;
        let name = format!("domainflow-pg-{}", uuid::Uuid::new_v4());
        let data_dir = create_private_dir(&temp.join(name), false)?;
        let passwords = credentials::passwords(&data_dir)?;
        // From here on, dropping `cluster` deletes the directory.
        let mut cluster = Self::new(bin_dir, data_dir, None, true, passwords);
        cluster.account = account::server_account(&cluster.data_dir)?;
        cluster.hand_over(true)?;
        // Before initdb, so that even a crash during setup leaves nothing behind.
        let reaper = process::spawn_reaper(
            cluster.command("/bin/sh"),
            &cluster.bin_dir.join("pg_ctl"),
            &cluster.pgdata,
            &cluster.data_dir,
        )
        .map_err(|source| Error::Io {
            context: "starting the temporary cluster's reaper".to_owned(),
            source,
        })?;
        cluster.reaper = Some(reaper);
        cluster.initdb(true).await?;
        cluster.require_passwords()?;
        cluster.launch(TEMPORARY_SETTINGS).await?;
        Ok(cluster)
    }

    fn new(
        bin_dir: PathBuf,
        data_dir: PathBuf,
        account: Option<Account>,
        temporary: bool,
        passwords: Passwords,
    ) -> Self {
        Self {
            passwords,
            bin_dir,
            pgdata: data_dir.join(PGDATA),
            data_dir,
            port: 0,
            settings: &[],
            account,
            temporary,
            server: None,
            reaper: None,
        }
    }

    /// The URL of `database` on this cluster, as the `postgres` superuser (with its password):
    /// the owner's, for migrations and administration.
    pub fn url(&self, database: &str) -> String {
        self.url_on(self.port, database)
    }

    /// The URL of `database` as the server's login ([`LOGIN_ROLE`], with its password). The
    /// role itself is made by [`crate::login::provision`] once the migrations have run.
    pub fn login_url(&self, database: &str) -> String {
        format!(
            "postgres://{LOGIN_ROLE}:{}@127.0.0.1:{}/{database}",
            self.passwords.login, self.port
        )
    }

    fn url_on(&self, port: u16, database: &str) -> String {
        format!(
            "postgres://postgres:{}@127.0.0.1:{port}/{database}",
            self.passwords.superuser
        )
    }

    /// The TCP port the server listens on, on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The directory holding the cluster (`pgdata`) and its log.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Creates the database `name` and returns its URL.
    ///
    /// # Errors
    ///
    /// [`Error::Embedded`] when `name` is not 1 to 63 characters of `a-z`, `0-9` and `_` (the
    /// name is spliced into SQL, so nothing else is accepted); [`Error::Database`] when the
    /// server refuses, for instance because the database exists.
    pub async fn create_database(&self, name: &str) -> Result<String, Error> {
        let valid = (1..=63).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !valid {
            return Err(self.error(format!(
                "invalid database name {name:?}: use 1 to 63 characters of a-z, 0-9 and _"
            )));
        }
        let mut conn = PgConnection::connect(&self.url("postgres")).await?;
        sqlx::raw_sql(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut conn)
            .await?;
        conn.close().await?;
        Ok(self.url(name))
    }

    /// Stops the server (fast shutdown: open sessions are cut off) and, for a temporary
    /// cluster, deletes its directory.
    ///
    /// # Errors
    ///
    /// [`Error::Embedded`] when `pg_ctl stop` fails while the server still runs;
    /// [`Error::Io`] when the temporary directory cannot be deleted.
    pub async fn stop(mut self) -> Result<(), Error> {
        if let Some(mut server) = self.server.take() {
            let output = self.run(self.stop_command("fast")).await?;
            let exited = process::wait_async(&mut server, Duration::from_secs(5))
                .await
                .map_err(|source| self.io("waiting for the server to exit", source))?;
            if !output.status.success() && exited.is_none() {
                return Err(self.error(format!(
                    "pg_ctl stop failed ({}): {}",
                    output.status,
                    output_tail(&output)
                )));
            }
        }
        if self.temporary {
            remove_dir(&self.data_dir).map_err(|source| self.io("deleting", source))?;
        }
        Ok(())
    }

    fn stop_command(&self, mode: &str) -> Command {
        let mut command = self.command(self.bin_dir.join("pg_ctl"));
        command.arg("-D").arg(&self.pgdata).args([
            "-m",
            mode,
            "-w",
            "-t",
            STOP_TIMEOUT_SECS,
            "stop",
        ]);
        command
    }

    fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        account::command(program, self.account, &self.data_dir)
    }

    async fn run(&self, command: Command) -> Result<Output, Error> {
        let program = command.get_program().to_string_lossy().into_owned();
        tracing::debug!(?command, "running");
        tokio::process::Command::from(command)
            .output()
            .await
            .map_err(|source| self.io(&format!("running {program} for"), source))
    }

    fn error(&self, message: String) -> Error {
        Error::Embedded {
            dir: self.data_dir.clone(),
            message,
        }
    }

    fn io(&self, doing: &str, source: std::io::Error) -> Error {
        Error::Io {
            context: format!("{doing} {}", self.data_dir.display()),
            source,
        }
    }
}

impl Drop for EmbeddedPostgres {
    fn drop(&mut self) {
        if let Some(mut server) = self.server.take() {
            match self.stop_command("fast").output() {
                Ok(output) if output.status.success() => {}
                Ok(output) => tracing::warn!(
                    status = %output.status,
                    output = %output_tail(&output),
                    "pg_ctl stop failed while dropping the embedded cluster"
                ),
                Err(err) => tracing::warn!(
                    %err,
                    "could not run pg_ctl stop while dropping the embedded cluster"
                ),
            }
            if let Err(err) = process::wait_blocking(&mut server, Duration::from_secs(5)) {
                tracing::warn!(%err, "waiting for the embedded server to exit");
            }
        }
        // A server that may still run keeps its directory: deleting postmaster.pid under it
        // would leave the reaper unable to stop it.
        if self.temporary
            && !self.pgdata.join("postmaster.pid").exists()
            && let Err(err) = remove_dir(&self.data_dir)
        {
            tracing::warn!(
                %err,
                dir = %self.data_dir.display(),
                "could not delete the temporary cluster"
            );
        }
        if let Some(mut reaper) = self.reaper.take() {
            // Closing its stdin sets it off; with the server stopped it finishes at once, and
            // waiting keeps it from lingering as a zombie.
            drop(reaper.stdin.take());
            if let Err(err) = process::wait_blocking(&mut reaper, Duration::from_secs(2)) {
                tracing::debug!(%err, "waiting for the reaper");
            }
        }
    }
}

fn remove_dir(dir: &Path) -> std::io::Result<()> {
    match std::fs::remove_dir_all(dir) {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => Err(err),
        _ => Ok(()),
    }
}

fn output_tail(output: &Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    process::tail(&format!("{stdout}{stderr}"))
}
