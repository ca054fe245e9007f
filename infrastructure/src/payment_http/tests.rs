//! The HTTP provider's requests, credentials and reading of answers.

use super::*;

fn ok(base: &str) -> HttpProvider {
    HttpProvider::new(base, Duration::from_secs(1)).unwrap()
}

#[test]
fn calls_go_below_the_base_path_with_or_without_a_trailing_slash() {
    let id = Uuid::nil();
    for base in ["http://pay.test:9000/v1", "http://pay.test:9000/v1/"] {
        let provider = ok(base);
        assert_eq!(
            provider.url(&["charges"]).as_str(),
            "http://pay.test:9000/v1/charges"
        );
        assert_eq!(
            provider.url(&["payment-methods"]).as_str(),
            "http://pay.test:9000/v1/payment-methods"
        );
        assert_eq!(
            provider
                .url(&["charges", &id.to_string(), "refunds"])
                .as_str(),
            format!("http://pay.test:9000/v1/charges/{id}/refunds")
        );
    }
    assert_eq!(
        ok("http://pay.test").url(&["charges"]).as_str(),
        "http://pay.test/charges"
    );
}

#[test]
fn unusable_settings_are_refused_with_the_reason() {
    for base in [
        "pay.test",
        "ftp://pay.test",
        "https://pay.test",
        "http://pay.test/?key=1",
        "",
    ] {
        let error = HttpProvider::new(base, Duration::from_secs(1)).unwrap_err();
        assert!(
            matches!(error, HttpProviderError::BadUrl { .. }),
            "{base}: {error}"
        );
    }
    assert_eq!(
        HttpProvider::new("http://pay.test", Duration::ZERO).unwrap_err(),
        HttpProviderError::ZeroTimeout
    );
}

#[test]
fn the_api_key_never_shows_in_debug_output() {
    let provider = ok("http://pay.test")
        .with_api_key("sk_live_secret")
        .unwrap();
    assert!(!format!("{provider:?}").contains("sk_live_secret"));
    assert_eq!(
        ok("http://pay.test").with_api_key("bad\nkey").unwrap_err(),
        HttpProviderError::BadKey
    );
}

#[test]
fn long_bodies_are_cut_on_a_character_boundary() {
    let body = "é".repeat(400);
    let quoted = quote(body.as_bytes());
    assert!(quoted.len() <= QUOTED_BODY);
    assert!(quoted.chars().all(|c| c == 'é'));
}
