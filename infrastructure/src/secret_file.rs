//! Secrets kept in files of the data directory, so the quick start needs no configuration:
//! random bytes, hex-encoded, created on first use and readable by their owner only.

use std::fs;
use std::io::{self, Write as _};
use std::path::Path;

use application::random::random_bytes;

/// The secret in `path`, created (with its directory) when missing: `created_len` random
/// bytes, hex-encoded, readable by the owner only. One put there by hand must be hex too and
/// at least `min_len` bytes long. `what` names it in errors and logs.
///
/// # Errors
/// Any IO error reading or creating the file or directory; [`io::ErrorKind::InvalidData`]
/// when the file is not hex or too short.
pub(crate) fn load_or_create(
    path: &Path,
    created_len: usize,
    min_len: usize,
    what: &str,
) -> io::Result<Vec<u8>> {
    match read_secret(path, min_len, what) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        read => return read,
    }

    if let Some(data_dir) = path.parent() {
        let mut dir = fs::DirBuilder::new();
        dir.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut dir, 0o700);
        dir.create(data_dir)?;
    }

    let secret = random_bytes(created_len);
    if !create_exclusively(path, hex(&secret).as_bytes())? {
        // Another process made it first: theirs is the one.
        return read_secret(path, min_len, what);
    }
    tracing::info!(path = %path.display(), "created a new {what}");
    Ok(secret)
}

/// Writes `contents` to `path`, readable by the owner only, unless `path` exists; `false`
/// when it did. The file appears whole or not at all (written aside, then linked into
/// place), so a process reading it at the same moment never sees it half written.
///
/// # Errors
/// Any IO error writing or linking the file.
pub(crate) fn create_exclusively(path: &Path, contents: &[u8]) -> io::Result<bool> {
    let aside = path.with_extension(format!("new-{}", uuid::Uuid::new_v4().simple()));
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&aside).and_then(|mut file| {
        file.write_all(contents)?;
        file.sync_all()
    });
    let linked = written.and_then(|()| match fs::hard_link(&aside, path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e),
    });
    if let Err(error) = fs::remove_file(&aside)
        && error.kind() != io::ErrorKind::NotFound
    {
        tracing::warn!(path = %aside.display(), %error, "could not remove a file written aside");
    }
    linked
}

/// The secret in `path` (hex, at least `min_len` bytes).
///
/// # Errors
/// [`io::ErrorKind::NotFound`] without the file; [`io::ErrorKind::InvalidData`] when it is
/// not hex or too short; any other IO error reading it.
pub(crate) fn read_secret(path: &Path, min_len: usize, what: &str) -> io::Result<Vec<u8>> {
    let text = fs::read_to_string(path)?;
    warn_if_shared(path, what);
    let invalid = |why: String| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: {why}", path.display()),
        )
    };
    let secret = unhex(text.trim()).ok_or_else(|| invalid(format!("the {what} is not hex")))?;
    if secret.len() < min_len {
        return Err(invalid(format!(
            "the {what} must be at least {min_len} bytes"
        )));
    }
    Ok(secret)
}

/// The 32-byte key in `path` (64 hex digits), which only its owner may read: a key file
/// given in the settings (the seal key, the data key).
///
/// # Errors
/// A message naming the file and the `what` when it cannot be read, is readable by others,
/// or is not 32 bytes of hex.
pub(crate) fn read_private_seed(path: &Path, what: &str) -> Result<[u8; 32], String> {
    let failed = |why: String| format!("the {what} {}: {why}", path.display());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = fs::metadata(path)
            .map_err(|e| failed(e.to_string()))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(format!(
                "the {what} {} is readable by others (mode {:o}): chmod 600 it",
                path.display(),
                mode & 0o777
            ));
        }
    }
    let seed = read_secret(path, 32, what).map_err(|e| failed(e.to_string()))?;
    seed.try_into()
        .map_err(|_| failed("not 32 bytes (64 hex digits)".into()))
}

/// A new random 32-byte key written to `path` as 64 hex digits, readable by its owner
/// only; `path` must not exist.
///
/// # Errors
/// A message when `path` exists or cannot be written.
pub(crate) fn generate_private_seed(path: &Path) -> Result<[u8; 32], String> {
    use ring::rand::{SecureRandom as _, SystemRandom};
    let mut seed = [0_u8; 32];
    SystemRandom::new()
        .fill(&mut seed)
        .map_err(|_| "the operating system gave no random bytes".to_owned())?;
    match create_exclusively(path, hex(&seed).as_bytes()) {
        Ok(true) => Ok(seed),
        Ok(false) => Err(format!("{} exists already: not replaced", path.display())),
        Err(e) => Err(format!("writing {}: {e}", path.display())),
    }
}

#[cfg(unix)]
fn warn_if_shared(path: &Path, what: &str) {
    use std::os::unix::fs::PermissionsExt as _;
    if let Ok(meta) = fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(path = %path.display(), "the {what} is readable by other users");
    }
}

#[cfg(not(unix))]
fn warn_if_shared(_path: &Path, _what: &str) {}

/// `bytes` as lowercase hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    bytes
        .iter()
        .flat_map(|b| [DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 0xf)]])
        .map(char::from)
        .collect()
}

/// `text` as bytes, if it is hex.
pub(crate) fn unhex(text: &str) -> Option<Vec<u8>> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    bytes
        .chunks_exact(2)
        .map(|pair| Some(nibble(pair[0])? << 4 | nibble(pair[1])?))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    /// A directory of its own under the system temp dir, removed when dropped.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new() -> Self {
            Self(std::env::temp_dir().join(format!("domainflow-auth-{}", uuid::Uuid::new_v4())))
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn the_secret_is_created_once_and_read_back_identically() {
        let temp = TempDir::new();
        let data_dir = temp.0.join("nested/data");
        let created = crate::auth::load_or_create_secret(&data_dir).unwrap();
        assert_eq!(created.len(), 64);
        let text = fs::read_to_string(data_dir.join("jwt-secret")).unwrap();
        assert_eq!(text, hex(&created));
        assert_eq!(
            crate::auth::load_or_create_secret(&data_dir).unwrap(),
            created
        );
        assert_ne!(
            crate::auth::load_or_create_secret(&temp.0.join("other")).unwrap(),
            created
        );
    }

    #[cfg(unix)]
    #[test]
    fn the_secret_file_is_readable_by_its_owner_only() {
        use std::os::unix::fs::PermissionsExt as _;
        let temp = TempDir::new();
        crate::auth::load_or_create_secret(&temp.0).unwrap();
        let mode = fs::metadata(temp.0.join("jwt-secret"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn a_secret_put_there_by_hand_is_used() {
        let temp = TempDir::new();
        fs::create_dir_all(&temp.0).unwrap();
        fs::write(temp.0.join("jwt-secret"), format!("{}\n", "AB".repeat(32))).unwrap();
        assert_eq!(
            crate::auth::load_or_create_secret(&temp.0).unwrap(),
            vec![0xab; 32]
        );
    }

    #[test]
    fn a_malformed_or_short_secret_file_is_an_error_not_replaced() {
        let temp = TempDir::new();
        fs::create_dir_all(&temp.0).unwrap();
        for content in [
            "not hex at all",
            "abc",
            &"ab".repeat(31),
            "",
            "+f".repeat(32).as_str(),
        ] {
            fs::write(temp.0.join("jwt-secret"), content).unwrap();
            let error = crate::auth::load_or_create_secret(&temp.0).unwrap_err();
            assert_eq!(error.kind(), io::ErrorKind::InvalidData, "{content:?}");
            assert!(!error.to_string().contains(content) || content.is_empty());
            assert_eq!(
                fs::read_to_string(temp.0.join("jwt-secret")).unwrap(),
                content
            );
        }
    }

    #[test]
    fn hex_round_trips() {
        let bytes: Vec<u8> = (0..=255).collect();
        assert_eq!(unhex(&hex(&bytes)), Some(bytes));
    }
}
