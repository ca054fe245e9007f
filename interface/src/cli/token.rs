//! `domainflow token`.

use chrono::Utc;

use super::settings::default_data_dir;
use super::{FileSettings, TokenArgs, jwt_keys};

/// A token for `--sub` in `--role`, signed with the configured secret: the flag or its
/// environment variable, else the settings file's `jwt_secret`, else the secret in the data
/// directory (the flag's, else the file's, else the default) — the one `serve` uses with
/// the same settings.
///
/// # Errors
/// A message for an unknown role, a short secret or an unreadable secret file.
pub fn token(args: TokenArgs, file: &FileSettings) -> Result<String, String> {
    let role: application::Role = args.role.parse()?;
    let dir = args
        .data_dir
        .or_else(|| file.data_dir.clone())
        .unwrap_or_else(default_data_dir);
    let keys = jwt_keys(&args.jwt, file, &dir)?;
    let ttl = args
        .ttl
        .unwrap_or(std::time::Duration::from_secs(24 * 3600));
    let ttl = chrono::Duration::from_std(ttl).map_err(|e| e.to_string())?;
    if ttl > keys.rules().max_lifetime {
        return Err(format!(
            "--ttl is longer than the longest a token may be valid ({}s, --jwt-max-lifetime)",
            keys.rules().max_lifetime.num_seconds()
        ));
    }
    if args.sub.trim().is_empty() {
        return Err("--sub must not be empty".into());
    }
    Ok(keys.sign(&args.sub, role, ttl, Utc::now()))
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use infrastructure::JwtKeys;

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
        let from_file = "ab".repeat(32);
        let from_flag = "cd".repeat(40);
        let file = format!("jwt_secret = \"{from_file}\"");
        let signed = token_with(&["--sub", "ops", "--role", "operator"], &file).unwrap();
        let keys = JwtKeys::new(&[0xab; 32]).unwrap();
        assert_eq!(keys.verify(&signed, Utc::now()).unwrap().subject, "ops");

        let flags = [
            "--sub",
            "ops",
            "--role",
            "operator",
            "--jwt-secret",
            &from_flag,
        ];
        let signed = token_with(&flags, &file).unwrap();
        assert!(keys.verify(&signed, Utc::now()).is_err());
        let flag_keys = JwtKeys::new(&[0xcd; 40]).unwrap();
        assert!(flag_keys.verify(&signed, Utc::now()).is_ok());
    }

    #[test]
    fn a_secret_that_is_not_hex_or_a_ttl_beyond_the_maximum_is_refused() {
        let flags = ["--sub", "ops", "--role", "operator", "--jwt-secret"];
        let text = token_with(
            &[&flags[..], &["a passphrase, not hex, 32 bytes+"]].concat(),
            "",
        )
        .unwrap_err();
        assert!(text.contains("must be hex"), "{text}");
        let short = token_with(&[&flags[..], &["abcd"]].concat(), "").unwrap_err();
        assert!(short.contains("32 bytes"), "{short}");
        let hex = "ab".repeat(32);
        let long =
            token_with(&[&flags[..], &[hex.as_str(), "--ttl", "8d"]].concat(), "").unwrap_err();
        assert!(long.contains("--jwt-max-lifetime"), "{long}");
        let allowed = token_with(
            &[
                &flags[..],
                &[hex.as_str(), "--ttl", "8d", "--jwt-max-lifetime", "9d"],
            ]
            .concat(),
            "",
        );
        assert!(allowed.is_ok(), "{allowed:?}");
    }

    #[test]
    fn issuer_and_audience_go_into_the_token() {
        let hex = "ab".repeat(32);
        let file = format!(
            "jwt_secret = \"{hex}\"\njwt_issuer = \"https://id.example\"\njwt_audience = \"shop\""
        );
        let signed = token_with(&["--sub", "ops", "--role", "operator"], &file).unwrap();
        let strict = JwtKeys::new(&[0xab; 32])
            .unwrap()
            .with_rules(infrastructure::TokenRules {
                issuer: Some("https://id.example".into()),
                audience: Some("shop".into()),
                ..infrastructure::TokenRules::default()
            });
        assert!(strict.verify(&signed, Utc::now()).is_ok());
        let other = JwtKeys::new(&[0xab; 32])
            .unwrap()
            .with_rules(infrastructure::TokenRules {
                audience: Some("elsewhere".into()),
                ..infrastructure::TokenRules::default()
            });
        assert!(other.verify(&signed, Utc::now()).is_err());
    }
}
