//! Locating the installed PostgreSQL server binaries.

use std::cmp::Reverse;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::error::Error;

/// The programs a directory must hold to run a cluster from it.
const TOOLS: [&str; 3] = ["initdb", "pg_ctl", "postgres"];

/// Where distributions (Debian, Ubuntu) install server binaries off `PATH`, one directory per
/// major version.
const VERSIONED_ROOT: &str = "/usr/lib/postgresql";

/// Finds the directory holding PostgreSQL's `initdb`, `pg_ctl` and `postgres`.
///
/// `PATH` wins, so a user can choose a version by putting it first; otherwise the highest version
/// under `/usr/lib/postgresql/*/bin` is used, because Debian-style packages keep the server off
/// `PATH`.
///
/// # Errors
///
/// [`Error::NoPostgres`] when no such directory exists.
pub fn find_binaries() -> Result<PathBuf, Error> {
    let on_path = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default();
    if let Some(dir) = on_path.iter().find(|dir| has_tools(dir)) {
        return Ok(resolve_links(dir));
    }
    let mut versions: Vec<(Vec<u32>, PathBuf)> = std::fs::read_dir(VERSIONED_ROOT)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = parse_version(entry.file_name().to_str()?)?;
            Some((version, entry.path().join("bin")))
        })
        .filter(|(_, bin)| has_tools(bin))
        .collect();
    versions.sort_by_key(|(version, _)| Reverse(version.clone()));
    versions
        .into_iter()
        .next()
        .map(|(_, bin)| bin)
        .ok_or(Error::NoPostgres)
}

fn has_tools(dir: &Path) -> bool {
    TOOLS.iter().all(|tool| {
        std::fs::metadata(dir.join(tool))
            .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
    })
}

/// `PATH` often holds symlinks into the real installation (`/usr/local/bin/initdb` →
/// `/usr/lib/postgresql/15/bin/initdb`); reporting the real directory makes logs say which
/// version runs. Falls back to `dir` when the links do not all lead to one place.
fn resolve_links(dir: &Path) -> PathBuf {
    std::fs::canonicalize(dir.join("initdb"))
        .ok()
        .and_then(|initdb| initdb.parent().map(Path::to_path_buf))
        .filter(|real| has_tools(real))
        .unwrap_or_else(|| dir.to_path_buf())
}

/// `"15"` → `[15]`, `"9.6"` → `[9, 6]`; anything else is not a version directory.
fn parse_version(name: &str) -> Option<Vec<u32>> {
    name.split('.').map(|part| part.parse().ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_numerically() {
        assert_eq!(parse_version("15"), Some(vec![15]));
        assert_eq!(parse_version("9.6"), Some(vec![9, 6]));
        assert_eq!(parse_version("main"), None);
        assert!(parse_version("10") > parse_version("9.6"));
    }

    #[test]
    fn find_binaries_finds_initdb_on_this_machine() {
        let dir = find_binaries().unwrap();
        assert!(dir.join("initdb").is_file(), "{}", dir.display());
    }
}
