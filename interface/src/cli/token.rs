//! `domainflow token`.

use chrono::Utc;

use super::settings::default_data_dir;
use super::{FileSettings, TokenArgs};
use infrastructure::{JwtKeys, load_or_create_secret};

/// A token for `--sub` in `--role`, signed with the configured secret: the flag or its
/// environment variable, else the settings file's `jwt_secret`, else the secret in the data
/// directory (the flag's, else the file's, else the default) — the one `serve` uses with
/// the same settings.
///
/// # Errors
/// A message for an unknown role, a short secret or an unreadable secret file.
pub fn token(args: TokenArgs, file: &FileSettings) -> Result<String, String> {
    let role: application::Role = args.role.parse()?;
    let secret = match args.jwt_secret.or_else(|| file.jwt_secret.clone()) {
        Some(secret) => secret.into_bytes(),
        None => {
            let dir = args
                .data_dir
                .or_else(|| file.data_dir.clone())
                .unwrap_or_else(default_data_dir);
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

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};

    fn token_with(flags: &[&str], file: &str) -> Result<String, String> {
        let cli = Cli::try_parse_from([&["domainflow", "token"], flags].concat())
            .map_err(|e| e.to_string())?;
        let Command::Token(args) = cli.command else {
            return Err("not token".into());
        };
        token(args, &toml::from_str(file).map_err(|e| e.to_string())?)
    }

    #[test]
    fn the_settings_file_gives_the_secret_and_the_flag_wins_over_it() {
        let from_file = "settings-file-secret-0123456789abcdef";
        let from_flag = "flag-secret-0123456789abcdef-0123456789";
        let file = format!("jwt_secret = \"{from_file}\"");
        let signed = token_with(&["--sub", "ops", "--role", "operator"], &file).unwrap();
        let keys = JwtKeys::new(from_file.as_bytes()).unwrap();
        assert_eq!(keys.verify(&signed, Utc::now()).unwrap().subject, "ops");

        let flags = [
            "--sub",
            "ops",
            "--role",
            "operator",
            "--jwt-secret",
            from_flag,
        ];
        let signed = token_with(&flags, &file).unwrap();
        assert!(keys.verify(&signed, Utc::now()).is_err());
        let flag_keys = JwtKeys::new(from_flag.as_bytes()).unwrap();
        assert!(flag_keys.verify(&signed, Utc::now()).is_ok());
    }
}
