//! Preparing a cluster's directory before its server starts.

use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};

use super::{EmbeddedPostgres, account, output_tail};
use crate::error::Error;

impl EmbeddedPostgres {
    /// The server's files must belong to the server user before any of its programs runs:
    /// `data_dir` itself (it holds the log and, for a new cluster, `pgdata`), and the path to
    /// it must be open to that user.
    pub(super) fn hand_over(&self, recursive: bool) -> Result<(), Error> {
        let Some(account) = self.account else {
            return Ok(());
        };
        if recursive {
            account::give_tree(&self.data_dir, account)?;
        } else {
            account::give(&self.data_dir, account)?;
        }
        account::ensure_reachable(&self.data_dir, account)
    }

    pub(super) async fn initdb(&self, no_sync: bool) -> Result<(), Error> {
        let pwfile = self.write_pwfile()?;
        let mut command = self.command(self.bin_dir.join("initdb"));
        command
            .arg("-D")
            .arg(&self.pgdata)
            .args([
                "-U",
                "postgres",
                "--auth=scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C",
            ])
            .arg(format!("--pwfile={}", pwfile.display()));
        if no_sync {
            command.arg("--no-sync");
        }
        tracing::info!(pgdata = %self.pgdata.display(), "creating PostgreSQL cluster");
        let output = self.run(command).await;
        if let Err(error) = std::fs::remove_file(&pwfile) {
            tracing::warn!(%error, "could not remove initdb's password file");
        }
        let output = output?;
        if output.status.success() {
            Ok(())
        } else {
            Err(self.error(format!(
                "initdb failed ({}): {}",
                output.status,
                output_tail(&output)
            )))
        }
    }

    /// Two servers must never share a data directory, and one we did not start is not ours to
    /// stop; `pg_ctl status` checks that `postmaster.pid` names a live process.
    /// The port of the server already running on this cluster (left over by a process
    /// that died, or run by another domainflow process), if there is one.
    pub(super) async fn running_port(&self) -> Result<Option<u16>, Error> {
        let mut command = self.command(self.bin_dir.join("pg_ctl"));
        command.arg("-D").arg(&self.pgdata).arg("status");
        let output = self.run(command).await?;
        // Exit code 3 means not running; 4 (no accessible directory) is left to the start
        // attempt, whose log says more.
        if output.status.code() != Some(0) {
            return Ok(None);
        }
        // postmaster.pid: line 1 is the pid, line 4 the port.
        let pid_file = std::fs::read_to_string(self.pgdata.join("postmaster.pid"))
            .map_err(|source| self.io("reading postmaster.pid", source))?;
        pid_file
            .lines()
            .nth(3)
            .and_then(|port| port.trim().parse().ok())
            .map(Some)
            .ok_or_else(|| {
                self.error(format!(
                    "a server runs on it but its postmaster.pid names no port; stop it with \
                     `pg_ctl -D {} stop` (as the postgres user when root)",
                    self.pgdata.display()
                ))
            })
    }
}

impl EmbeddedPostgres {
    pub(super) fn already_running(&self) -> Error {
        // postmaster.pid: line 1 is the pid, line 4 the port.
        let pid_file =
            std::fs::read_to_string(self.pgdata.join("postmaster.pid")).unwrap_or_default();
        let mut lines = pid_file.lines();
        let pid = lines.next().unwrap_or("?");
        let port = lines.nth(2).unwrap_or("?");
        self.error(format!(
            "a PostgreSQL server is already running on it (pid {pid}, port {port}) and does \
             not answer as this cluster; stop it with `pg_ctl -D {} stop` (as the postgres \
             user when root), or use another data directory",
            self.pgdata.display()
        ))
    }
}

/// Creates `dir` readable by its owner only (it will hold a cluster and its passwords), and
/// returns its canonical path, which is what the server reports as its data directory.
/// `existing_ok` allows reusing the directory of a persistent cluster; a temporary one must be
/// new.
pub(super) fn create_private_dir(dir: &Path, existing_ok: bool) -> Result<PathBuf, Error> {
    let io = |doing: &str, source| Error::Io {
        context: format!("{doing} {}", dir.display()),
        source,
    };
    if let Some(parent) = dir.parent().filter(|parent| !parent.as_os_str().is_empty()) {
        // Parents get default permissions: the server user may have to pass through them.
        std::fs::create_dir_all(parent).map_err(|source| io("creating the parent of", source))?;
    }
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {}
        Err(err) if existing_ok && err.kind() == std::io::ErrorKind::AlreadyExists => {
            let meta = std::fs::metadata(dir).map_err(|source| io("inspecting", source))?;
            if !meta.is_dir() {
                return Err(Error::Embedded {
                    dir: dir.to_path_buf(),
                    message: format!("not a directory (mode {:o})", meta.mode()),
                });
            }
        }
        Err(source) => return Err(io("creating", source)),
    }
    std::fs::canonicalize(dir).map_err(|source| io("resolving", source))
}
