//! The JWT secret kept in the data directory, so the quick start needs no configuration:
//! `serve` creates it and `domainflow token` reads it.

use std::io;
use std::path::Path;

use super::jwt::MIN_SECRET_LEN;
use crate::{Error, secret_file};

/// The file under the data directory.
const FILE_NAME: &str = "jwt-secret";
/// Length of a secret we create: twice the minimum, as HMAC-SHA256 uses a 64-byte block.
const CREATED_LEN: usize = 64;

/// The secret in `<data_dir>/jwt-secret`, created (with the directory) when missing: 64
/// random bytes, hex-encoded, readable by the owner only. A secret put there by hand must be
/// hex too and at least 32 bytes long.
///
/// # Errors
/// Any IO error reading or creating the file or directory; [`io::ErrorKind::InvalidData`]
/// when the file is not hex or too short.
pub fn load_or_create_secret(data_dir: &Path) -> io::Result<Vec<u8>> {
    secret_file::load_or_create(
        &data_dir.join(FILE_NAME),
        CREATED_LEN,
        MIN_SECRET_LEN,
        "JWT secret",
    )
}

/// A secret given as text (flag, environment variable, settings file): hex, as in the file,
/// at least 32 bytes.
///
/// # Errors
/// [`Error::SecretNotHex`] when it is not hex; [`Error::WeakSecret`] when it is too short.
pub fn parse_secret(text: &str) -> Result<Vec<u8>, Error> {
    let secret = secret_file::unhex(text.trim()).ok_or(Error::SecretNotHex)?;
    if secret.len() < MIN_SECRET_LEN {
        return Err(Error::WeakSecret);
    }
    Ok(secret)
}
