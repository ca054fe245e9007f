//! Which user the cluster's processes run as, and handing files over to it.
//!
//! PostgreSQL refuses to run as root, and CI runs as root; there, every server program runs as
//! the `postgres` system user and the cluster's files belong to it.

use std::ffi::OsStr;
use std::os::unix::fs::{MetadataExt, lchown};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::error::Error;

/// The unprivileged user a root process hands the cluster to.
const SERVER_USER: &str = "postgres";

/// A uid and primary gid to run server programs as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Account {
    uid: u32,
    gid: u32,
}

/// `None` when we are not root: the programs then simply run as us.
///
/// # Errors
///
/// [`Error::Embedded`] (about `dir`) when we are root and there is no `postgres` user;
/// [`Error::Io`] when `/etc/passwd` cannot be read.
pub(super) fn server_account(dir: &Path) -> Result<Option<Account>, Error> {
    if !running_as_root() {
        return Ok(None);
    }
    let passwd = std::fs::read_to_string("/etc/passwd").map_err(|source| Error::Io {
        context: "reading /etc/passwd to find the postgres user".to_owned(),
        source,
    })?;
    match lookup(&passwd, SERVER_USER) {
        Some(account) => Ok(Some(account)),
        None => Err(Error::Embedded {
            dir: dir.to_path_buf(),
            message: format!(
                "PostgreSQL refuses to run as root and there is no `{SERVER_USER}` user to run \
                 it as; create an unprivileged user (e.g. `useradd --system {SERVER_USER}`) or \
                 set DATABASE_URL to an existing server"
            ),
        }),
    }
}

/// Without libc there is no `geteuid`; `/proc/self` belongs to the effective uid.
fn running_as_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|meta| meta.uid() == 0)
}

fn lookup(passwd: &str, user: &str) -> Option<Account> {
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        if fields.next()? != user {
            return None;
        }
        let _password = fields.next()?;
        Some(Account {
            uid: fields.next()?.parse().ok()?,
            gid: fields.next()?.parse().ok()?,
        })
    })
}

/// A command for one of the cluster's programs, run as `account` with `dir` as home and working
/// directory.
///
/// Our `PG*` variables are removed because they are meant for clients and would redirect the
/// server tools (`PGDATA`, `PGPORT`); stdin is closed so nothing waits on a terminal.
pub(super) fn command(program: impl AsRef<OsStr>, account: Option<Account>, dir: &Path) -> Command {
    let mut command = Command::new(program);
    for (key, _) in std::env::vars_os() {
        if key.as_encoded_bytes().starts_with(b"PG") {
            command.env_remove(key);
        }
    }
    command.current_dir(dir).stdin(Stdio::null());
    if let Some(account) = account {
        // Root's HOME is unreadable for the server user, and tools that look there would fail.
        command
            .uid(account.uid)
            .gid(account.gid)
            .env("HOME", dir)
            .env("USER", SERVER_USER)
            .env("LOGNAME", SERVER_USER);
    }
    command
}

/// Gives `path` (not its contents) to `account`.
///
/// # Errors
///
/// [`Error::Io`] when the change fails.
pub(super) fn give(path: &Path, account: Account) -> Result<(), Error> {
    let meta = std::fs::symlink_metadata(path).map_err(|source| chown_error(path, source))?;
    if meta.uid() != account.uid || meta.gid() != account.gid {
        lchown(path, Some(account.uid), Some(account.gid))
            .map_err(|source| chown_error(path, source))?;
    }
    Ok(())
}

/// Gives `path` and everything below it to `account`, without following symlinks (a link out of
/// the data directory must not hand foreign files to the server user).
///
/// # Errors
///
/// [`Error::Io`] when a directory cannot be read or an owner cannot be changed.
pub(super) fn give_tree(path: &Path, account: Account) -> Result<(), Error> {
    give(path, account)?;
    let meta = std::fs::symlink_metadata(path).map_err(|source| chown_error(path, source))?;
    if meta.is_dir() {
        let entries = std::fs::read_dir(path).map_err(|source| chown_error(path, source))?;
        for entry in entries {
            let entry = entry.map_err(|source| chown_error(path, source))?;
            give_tree(&entry.path(), account)?;
        }
    }
    Ok(())
}

fn chown_error(path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        context: format!("handing {} to the {SERVER_USER} user", path.display()),
        source,
    }
}

/// Checks that `account` can reach `dir`, since a root-only parent (such as `/root`) would
/// otherwise surface as an obscure "permission denied" from `initdb` or `postgres`.
///
/// Only the primary group counts: std drops supplementary groups when it switches users.
///
/// # Errors
///
/// [`Error::Embedded`] naming the first directory the server user cannot search.
pub(super) fn ensure_reachable(dir: &Path, account: Account) -> Result<(), Error> {
    for ancestor in dir.ancestors() {
        let Ok(meta) = std::fs::metadata(ancestor) else {
            continue;
        };
        let mode = meta.mode();
        let searchable = if meta.uid() == account.uid {
            mode & 0o100 != 0
        } else if meta.gid() == account.gid {
            mode & 0o010 != 0
        } else {
            mode & 0o001 != 0
        };
        if !searchable {
            return Err(Error::Embedded {
                dir: dir.to_path_buf(),
                message: format!(
                    "the {SERVER_USER} user that runs the server cannot enter {}; choose a data \
                     directory it can reach, allow it (chmod o+x), or set DATABASE_URL",
                    ancestor.display()
                ),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwd_lookup_reads_uid_and_gid() {
        let passwd = "root:x:0:0:root:/root:/bin/bash\n\
                      postgresql:x:7:7::/:/bin/sh\n\
                      postgres:x:101:104:PostgreSQL administrator:/var/lib/postgresql:/bin/bash\n";
        assert_eq!(
            lookup(passwd, "postgres"),
            Some(Account { uid: 101, gid: 104 })
        );
        assert_eq!(lookup(passwd, "nobody"), None);
    }
}
