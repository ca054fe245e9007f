//! `domainflow token`.

use chrono::Utc;

use super::TokenArgs;
use super::settings::default_data_dir;
use infrastructure::{JwtKeys, load_or_create_secret};

/// A token for `--sub` in `--role`, signed with the configured secret.
///
/// # Errors
/// A message for an unknown role, a short secret or an unreadable secret file.
pub fn token(args: TokenArgs) -> Result<String, String> {
    let role: application::Role = args.role.parse()?;
    let secret = match args.jwt_secret {
        Some(secret) => secret.into_bytes(),
        None => {
            let dir = args.data_dir.unwrap_or_else(default_data_dir);
            load_or_create_secret(&dir)
                .map_err(|e| format!("cannot read the JWT secret in {}: {e}", dir.display()))?
        }
    };
    let keys = JwtKeys::new(&secret).map_err(|e| e.to_string())?;
    let ttl = args
        .ttl
        .unwrap_or(std::time::Duration::from_secs(24 * 3600));
    let ttl = chrono::Duration::from_std(ttl).map_err(|e| e.to_string())?;
    if args.sub.trim().is_empty() {
        return Err("--sub must not be empty".into());
    }
    Ok(keys.sign(&args.sub, role, ttl, Utc::now()))
}
