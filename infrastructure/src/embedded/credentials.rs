//! The cluster's passwords and who may connect how.
//!
//! Both roles the server needs have a password, kept in files of the data directory readable
//! by their owner only: the superuser `postgres` (who owns the database and runs the
//! migrations) and the server's own login ([`LOGIN_ROLE`], which owns nothing). Every TCP
//! connection must give one (SCRAM-SHA-256); nothing is trusted, and Unix sockets are off.
//! A cluster made before passwords were required gets its superuser password in single-user
//! mode before its server starts.

use std::io::Write as _;
use std::path::Path;
use std::process::Stdio;

use super::{EmbeddedPostgres, account, output_tail};
use crate::error::Error;
use crate::secret_file;

/// The server's login on an embedded cluster.
pub const LOGIN_ROLE: &str = "domainflow_server";

/// The superuser's password, under the data directory.
const SUPERUSER_FILE: &str = "postgres.password";
/// The server login's password, under the data directory.
const LOGIN_FILE: &str = "server.password";
/// Random bytes in a password we create (hex-encoded: no URL escaping needed).
const PASSWORD_LEN: usize = 24;
/// Shortest password accepted from a file put there by hand.
const MIN_PASSWORD_LEN: usize = 16;

/// Who may connect, written over `pg_hba.conf` at every start.
const HBA: &str = "\
# Written by domainflow at each start: every connection over TCP gives a password.
host all all 127.0.0.1/32 scram-sha-256
host all all ::1/128 scram-sha-256
";

/// The two passwords of a cluster.
#[derive(Clone)]
pub(super) struct Passwords {
    pub(super) superuser: String,
    pub(super) login: String,
    /// The superuser's password was made now and is not yet in its file: it is written
    /// there ([`commit`]) only once the cluster has it, so a start that fails in between
    /// leaves no password file the cluster does not know.
    pub(super) superuser_pending: bool,
}

impl std::fmt::Debug for Passwords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Passwords(..)")
    }
}

/// The cluster's passwords: the login's created on first use, the superuser's read from its
/// file or, without one (a new cluster, or one made before passwords were required), made
/// and left pending.
pub(super) fn passwords(data_dir: &Path) -> Result<Passwords, Error> {
    let io = |path: &Path| {
        let context = format!("reading or creating {}", path.display());
        move |source| Error::Io { context, source }
    };
    let superuser_path = data_dir.join(SUPERUSER_FILE);
    let (superuser, superuser_pending) =
        match secret_file::read_secret(&superuser_path, MIN_PASSWORD_LEN, "database password") {
            Ok(password) => (password, false),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                (application::random::random_bytes(PASSWORD_LEN), true)
            }
            Err(e) => return Err(io(&superuser_path)(e)),
        };
    let login_path = data_dir.join(LOGIN_FILE);
    let login = secret_file::load_or_create(
        &login_path,
        PASSWORD_LEN,
        MIN_PASSWORD_LEN,
        "database password",
    )
    .map_err(io(&login_path))?;
    Ok(Passwords {
        superuser: secret_file::hex(&superuser),
        login: secret_file::hex(&login),
        superuser_pending,
    })
}

impl EmbeddedPostgres {
    /// Once the cluster has the superuser's password (initdb, or single-user mode): writes a
    /// pending one to its file, and [`HBA`] over `pg_hba.conf`, before the server starts.
    pub(super) fn require_passwords(&mut self) -> Result<(), Error> {
        if self.passwords.superuser_pending {
            let path = self.data_dir.join(SUPERUSER_FILE);
            secret_file::create_exclusively(&path, self.passwords.superuser.as_bytes()).map_err(
                |source| Error::Io {
                    context: format!("writing {}", path.display()),
                    source,
                },
            )?;
            self.passwords.superuser_pending = false;
        }
        let hba = self.pgdata.join("pg_hba.conf");
        std::fs::write(&hba, HBA).map_err(|source| self.io("writing pg_hba.conf in", source))?;
        if let Some(account) = self.account {
            account::give(&hba, account)?;
        }
        Ok(())
    }

    /// The superuser's password in a file the server user can read, for `initdb --pwfile`;
    /// removed once initdb is done.
    pub(super) fn write_pwfile(&self) -> Result<std::path::PathBuf, Error> {
        let path = self.data_dir.join("initdb.pwfile");
        let mut options = std::fs::OpenOptions::new();
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        options
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .and_then(|mut file| writeln!(file, "{}", self.passwords.superuser))
            .map_err(|source| self.io("writing the initdb password file in", source))?;
        if let Some(account) = self.account {
            account::give(&path, account)?;
        }
        Ok(path)
    }

    /// Gives the superuser of a cluster made before passwords were required the password
    /// from its file, in single-user mode (the server is not running).
    pub(super) async fn set_superuser_password(&self) -> Result<(), Error> {
        let mut command = self.command(self.bin_dir.join("postgres"));
        command
            .arg("--single")
            .arg("-D")
            .arg(&self.pgdata)
            .arg("postgres")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = tokio::process::Command::from(command)
            .spawn()
            .map_err(|source| self.io("running postgres --single for", source))?;
        if let Some(mut stdin) = child.stdin.take() {
            use tokio::io::AsyncWriteExt as _;
            // A verifier rather than the password: nothing in clear reaches the server's
            // output, which an error would show.
            let verifier = crate::scram::verifier(&self.passwords.superuser)?;
            let statement = format!("ALTER ROLE postgres PASSWORD '{verifier}'\n");
            stdin
                .write_all(statement.as_bytes())
                .await
                .map_err(|source| self.io("talking to postgres --single for", source))?;
        }
        let output = child
            .wait_with_output()
            .await
            .map_err(|source| self.io("running postgres --single for", source))?;
        let said = String::from_utf8_lossy(&output.stderr);
        if output.status.success() && !said.contains("ERROR") {
            tracing::info!("gave the embedded cluster's superuser its password");
            Ok(())
        } else {
            Err(self.error(format!(
                "setting the superuser's password failed ({}): {}",
                output.status,
                output_tail(&output)
            )))
        }
    }
}
