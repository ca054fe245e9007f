//! Which payment provider the saga charges through, as the settings choose it: the built-in
//! simulation or a card processor over HTTP. `serve` and `dead-letters retry` build it the
//! same way, from the same settings.

use std::sync::Arc;
use std::time::Duration;

use application::saga::PaymentProvider;
use infrastructure::{HttpProvider, HttpProviderError, SimulatedProvider};
use serde::Deserialize;
use sqlx::PgPool;

/// How long one call to the provider may take when no timeout is configured.
pub const DEFAULT_PROVIDER_TIMEOUT: Duration = Duration::from_secs(5);

/// The kinds of payment provider.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// The built-in simulation with test tokens (`tok_visa`, `tok_chargeDeclined`, …).
    #[default]
    Simulated,
    /// A card processor's JSON API over HTTP (see `infrastructure::payment_http`).
    Http,
}

/// The payment provider's settings.
#[derive(Clone, PartialEq, Eq)]
pub struct ProviderSettings {
    /// Which provider.
    pub kind: ProviderKind,
    /// The HTTP provider's base URL (required for, and only allowed with, `http`).
    pub url: Option<String>,
    /// How long one call may take before it is given up: the HTTP client's timeout, and
    /// how long the simulation's `tok_timeout` hangs.
    pub timeout: Duration,
    /// The HTTP provider's API key, sent as a bearer credential (only allowed with `http`).
    pub key: Option<String>,
}

impl std::fmt::Debug for ProviderSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderSettings")
            .field("kind", &self.kind)
            .field("url", &self.url)
            .field("timeout", &self.timeout)
            .field("key", &self.key.as_ref().map(|_| "(hidden)"))
            .finish()
    }
}

impl Default for ProviderSettings {
    fn default() -> Self {
        Self {
            kind: ProviderKind::Simulated,
            url: None,
            timeout: DEFAULT_PROVIDER_TIMEOUT,
            key: None,
        }
    }
}

impl ProviderSettings {
    /// Checks the settings without building anything, so that a bad one fails before the
    /// server starts.
    ///
    /// # Errors
    /// As [`ProviderSettings::build`].
    pub fn validate(&self) -> Result<(), String> {
        self.build(None).map(drop)
    }

    /// The provider these settings describe. The simulation keeps its ledger in the
    /// database behind `ledger` when one is given (so restarts and CLI redrives see the
    /// same charges), in memory otherwise.
    ///
    /// # Errors
    /// A message naming the setting at fault: `http` without a URL, a URL that is not an
    /// absolute `http` URL, a URL or key given for the simulation, a key that cannot be
    /// sent, or a zero timeout.
    pub fn build(&self, ledger: Option<&PgPool>) -> Result<Arc<dyn PaymentProvider>, String> {
        if self.timeout.is_zero() {
            return Err("--payment-provider-timeout must be more than zero".into());
        }
        if self.kind == ProviderKind::Simulated && self.key.is_some() {
            return Err(
                "--payment-provider-key is set but --payment-provider is simulated; \
                 set --payment-provider http to use it, or remove the key"
                    .into(),
            );
        }
        match (self.kind, &self.url) {
            (ProviderKind::Simulated, None) => Ok(match ledger {
                Some(pool) => Arc::new(SimulatedProvider::persistent(pool.clone(), self.timeout)),
                None => Arc::new(SimulatedProvider::new(self.timeout)),
            }),
            (ProviderKind::Simulated, Some(_)) => Err(
                "--payment-provider-url is set but --payment-provider is simulated; \
                 set --payment-provider http to use that URL, or remove the URL"
                    .into(),
            ),
            (ProviderKind::Http, None) => {
                Err("--payment-provider http needs --payment-provider-url \
                 (DOMAINFLOW_PAYMENT_PROVIDER_URL), e.g. http://payments.internal:8080/v1"
                    .into())
            }
            (ProviderKind::Http, Some(url)) => {
                let provider = HttpProvider::new(url, self.timeout).map_err(|e| match e {
                    HttpProviderError::ZeroTimeout => format!("--payment-provider-timeout: {e}"),
                    _ => format!("--payment-provider-url: {e}"),
                })?;
                let provider = match &self.key {
                    Some(key) => provider
                        .with_api_key(key)
                        .map_err(|e| format!("--payment-provider-key: {e}"))?,
                    None => provider,
                };
                Ok(Arc::new(provider))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(kind: ProviderKind, url: Option<&str>) -> ProviderSettings {
        ProviderSettings {
            kind,
            url: url.map(str::to_owned),
            ..ProviderSettings::default()
        }
    }

    #[test]
    fn the_default_is_the_simulation() {
        assert!(ProviderSettings::default().validate().is_ok());
    }

    #[test]
    fn http_with_a_usable_url_builds() {
        let http = settings(ProviderKind::Http, Some("http://127.0.0.1:9/v1"));
        assert!(http.validate().is_ok());
    }

    #[test]
    fn the_key_never_shows_in_debug_output() {
        let with_key = ProviderSettings {
            key: Some("sk_live_secret".into()),
            ..settings(ProviderKind::Http, Some("http://pay.test"))
        };
        assert!(!format!("{with_key:?}").contains("sk_live_secret"));
        let provider = with_key.build(None).unwrap();
        assert!(!format!("{provider:?}").contains("sk_live_secret"));
    }

    #[test]
    fn bad_settings_fail_naming_the_setting() {
        let cases = [
            (settings(ProviderKind::Http, None), "--payment-provider-url"),
            (
                settings(ProviderKind::Http, Some("not a url")),
                "--payment-provider-url",
            ),
            (
                settings(ProviderKind::Http, Some("https://pay.test")),
                "--payment-provider-url",
            ),
            (
                settings(ProviderKind::Simulated, Some("http://pay.test")),
                "--payment-provider-url",
            ),
            (
                ProviderSettings {
                    timeout: Duration::ZERO,
                    ..ProviderSettings::default()
                },
                "--payment-provider-timeout",
            ),
            (
                ProviderSettings {
                    key: Some("sk_test".into()),
                    ..ProviderSettings::default()
                },
                "--payment-provider-key",
            ),
            (
                ProviderSettings {
                    key: Some("line\nbreak".into()),
                    ..settings(ProviderKind::Http, Some("http://pay.test"))
                },
                "--payment-provider-key",
            ),
        ];
        for (settings, named) in cases {
            let error = settings.validate().unwrap_err();
            assert!(error.contains(named), "{settings:?}: {error}");
        }
    }
}
