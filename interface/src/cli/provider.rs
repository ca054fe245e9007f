//! The payment provider's settings from flags, environment and the settings file.

use super::duration::duration_setting;
use super::{FileSettings, ProviderArgs};
use crate::payment::{DEFAULT_PROVIDER_TIMEOUT, ProviderSettings};

/// Merges `args` over `file` (flags and environment variables win), with the defaults for
/// what neither gives.
///
/// # Errors
/// A message naming `payment_provider_timeout` when the file's value is not a duration.
pub fn provider_settings(
    args: ProviderArgs,
    file: &FileSettings,
) -> Result<ProviderSettings, String> {
    let timeout = duration_setting(
        args.payment_provider_timeout,
        "payment_provider_timeout",
        file.payment_provider_timeout.as_deref(),
    )?;
    Ok(ProviderSettings {
        kind: args
            .payment_provider
            .or(file.payment_provider)
            .unwrap_or_default(),
        url: args
            .payment_provider_url
            .or_else(|| file.payment_provider_url.clone()),
        timeout: timeout.unwrap_or(DEFAULT_PROVIDER_TIMEOUT),
        key: args
            .payment_provider_key
            .or_else(|| file.payment_provider_key.clone()),
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::payment::ProviderKind;

    fn no_flags() -> ProviderArgs {
        ProviderArgs {
            payment_provider: None,
            payment_provider_url: None,
            payment_provider_timeout: None,
            payment_provider_key: None,
        }
    }

    #[test]
    fn the_file_fills_in_what_flags_leave_out_and_flags_win() {
        let file: FileSettings = toml::from_str(
            r#"
            payment_provider = "http"
            payment_provider_url = "http://file.test/v1"
            payment_provider_timeout = "7s"
            payment_provider_key = "sk_file"
            "#,
        )
        .unwrap();
        let from_file = provider_settings(no_flags(), &file).unwrap();
        assert_eq!(
            from_file,
            ProviderSettings {
                kind: ProviderKind::Http,
                url: Some("http://file.test/v1".into()),
                timeout: Duration::from_secs(7),
                key: Some("sk_file".into()),
            }
        );
        let flags = ProviderArgs {
            payment_provider_url: Some("http://flag.test".into()),
            payment_provider_timeout: Some(Duration::from_secs(2)),
            ..no_flags()
        };
        let merged = provider_settings(flags, &file).unwrap();
        assert_eq!(merged.url.as_deref(), Some("http://flag.test"));
        assert_eq!(merged.timeout, Duration::from_secs(2));
        assert_eq!(merged.kind, ProviderKind::Http);
    }

    #[test]
    fn nothing_configured_is_the_simulation_with_the_default_timeout() {
        let settings = provider_settings(no_flags(), &FileSettings::default()).unwrap();
        assert_eq!(settings, ProviderSettings::default());
    }

    #[test]
    fn a_bad_timeout_in_the_file_names_the_setting() {
        let file = FileSettings {
            payment_provider_timeout: Some("soon".into()),
            ..FileSettings::default()
        };
        let error = provider_settings(no_flags(), &file).unwrap_err();
        assert!(error.contains("payment_provider_timeout"), "{error}");
    }

    #[test]
    fn an_unknown_provider_in_the_file_is_refused() {
        let parsed = toml::from_str::<FileSettings>(r#"payment_provider = "paypal""#);
        assert!(parsed.is_err());
    }
}
