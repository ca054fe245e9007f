//! The bearer-token keys `serve` checks with and `token` signs with, from the same settings:
//! flags (or their environment variables) over the settings file over the data directory.

use std::path::Path;

use infrastructure::{JwtKeys, TokenRules, load_or_create_secret, parse_secret};

use super::duration::duration_setting;
use super::{FileSettings, JwtArgs};

/// The keys `args` (over the settings `file`) describe; the server's own secret comes from
/// the data directory `data_dir` when neither gives one (created on first use).
///
/// # Errors
/// A message naming the setting at fault: a secret that is not hex or too short, an
/// unreadable or malformed key set, a maximum lifetime that is not a duration.
pub fn jwt_keys(args: &JwtArgs, file: &FileSettings, data_dir: &Path) -> Result<JwtKeys, String> {
    let secret = match args.jwt_secret.as_ref().or(file.jwt_secret.as_ref()) {
        Some(text) => parse_secret(text).map_err(|e| format!("--jwt-secret: {e}"))?,
        None => load_or_create_secret(data_dir).map_err(|e| {
            format!(
                "cannot read or create the JWT secret in {}: {e}",
                data_dir.display()
            )
        })?,
    };
    let max_lifetime = duration_setting(
        args.jwt_max_lifetime,
        "jwt_max_lifetime",
        file.jwt_max_lifetime.as_deref(),
    )?
    .map_or(Ok(infrastructure::auth::DEFAULT_MAX_LIFETIME), |d| {
        chrono::Duration::from_std(d).map_err(|e| format!("--jwt-max-lifetime: {e}"))
    })?;
    let rules = TokenRules {
        max_lifetime,
        issuer: args.jwt_issuer.clone().or_else(|| file.jwt_issuer.clone()),
        audience: args
            .jwt_audience
            .clone()
            .or_else(|| file.jwt_audience.clone()),
    };
    let keys = JwtKeys::new(&secret)
        .map_err(|e| format!("--jwt-secret: {e}"))?
        .with_rules(rules);
    match args.jwt_keys.as_ref().or(file.jwt_keys.as_ref()) {
        Some(path) => {
            let json = std::fs::read_to_string(path)
                .map_err(|e| format!("--jwt-keys {}: {e}", path.display()))?;
            keys.with_key_set(&json)
                .map_err(|e| format!("--jwt-keys {}: {e}", path.display()))
        }
        None => Ok(keys),
    }
}
