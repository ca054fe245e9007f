#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The payment provider settings as an operator gives them to the `domainflow` binary: a
//! bad one stops `serve` at once, naming it; good ones, from flags or the settings file,
//! make the server charge through the card processor they name.

use std::time::Duration;

use tests::fake_provider::FakeProvider;
use tests::{ServerProcess, TestApp, test_database};

use super::serve_refused;

const BINARY: &str = env!("CARGO_BIN_EXE_domainflow");

#[tokio::test]
async fn serve_refuses_a_fulfilment_lag_limit_a_payment_step_can_outlast() {
    // The payment deadline (30 s) plus a provider call (10 s) is 40 s.
    for limit in ["30s", "40s"] {
        let stderr = serve_refused(&["--max-fulfilment-lag", limit]).await;
        assert!(stderr.contains("--max-fulfilment-lag"), "{limit}: {stderr}");
    }
    let stderr = serve_refused(&["--max-fulfilment-lag", "0s"]).await;
    assert!(stderr.contains("or off"), "{stderr}");
}

#[tokio::test]
async fn serve_refuses_bad_payment_provider_settings_naming_the_setting() {
    let cases: [(&[&str], &str); 5] = [
        (
            &["--payment-provider-key", "sk_test"],
            "--payment-provider-key",
        ),
        (&["--payment-provider", "http"], "--payment-provider-url"),
        (
            &[
                "--payment-provider",
                "http",
                "--payment-provider-url",
                "payments.internal",
            ],
            "--payment-provider-url",
        ),
        (
            &["--payment-provider-url", "http://payments.internal"],
            "--payment-provider-url",
        ),
        (&["--payment-provider", "paypal"], "--payment-provider"),
    ];
    for (args, named) in cases {
        let stderr = serve_refused(args).await;
        assert!(stderr.contains(named), "{args:?}: {stderr}");
    }
}

#[tokio::test]
async fn a_server_configured_from_the_settings_file_charges_through_the_http_provider() {
    let fake = FakeProvider::start().await;
    fake.require_key("sk_test_from_file");
    let db = test_database().await;
    let dir = std::env::temp_dir().join(format!("df-settings-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("domainflow.toml");
    std::fs::write(
        &file,
        format!(
            "payment_provider = \"http\"\npayment_provider_url = \"{}\"\n\
             payment_provider_timeout = \"2s\"\npayment_provider_key = \"sk_test_from_file\"\n",
            fake.url()
        ),
    )
    .unwrap();
    let (secret, secret_bytes) = tests::jwt_secret();
    let args = [
        "--config",
        file.to_str().unwrap(),
        "--database-url",
        db.url.as_str(),
        "--jwt-secret",
        secret.as_str(),
    ];
    let server = ServerProcess::start(BINARY, &args).await;
    let app = TestApp::attach(server.address.clone(), db, &secret_bytes);
    app.register_product("MUG-1", 5).await;

    let order = app
        .place_order_paid_with("ana", &[("MUG-1", 1)], "tok_visa")
        .await;

    let settled = app.settled_order(&order, Duration::from_secs(30)).await;
    assert_eq!(settled["status"], "CONFIRMED", "{settled}");
    let payment = uuid::Uuid::parse_str(&order).unwrap();
    assert_eq!(fake.captures(payment), 1);
    assert_eq!(fake.captured_amount(payment), Some(1250));
    server.kill().await;
    let _ = std::fs::remove_dir_all(&dir);
}
