#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Bearer-token settings as an operator gives them to `domainflow serve`: an identity
//! provider's key set, a required issuer and audience, the server's own secret in hex. A
//! malformed one stops the server at once, naming it.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use tests::{ServerProcess, test_database};

use super::serve_refused;
use tokio::process::Command;

const BINARY: &str = env!("CARGO_BIN_EXE_domainflow");
const RSA_JWK: &str =
    include_str!("../../../infrastructure/src/auth/testdata/rsa-test-key.jwk.json");
const RSA_DER: &[u8] = include_bytes!("../../../infrastructure/src/auth/testdata/rsa-test-key.der");

/// A token of `alg` under `kid` with `claims`, signed with `key`.
fn token(
    alg: Algorithm,
    kid: Option<&str>,
    claims: &serde_json::Value,
    key: &EncodingKey,
) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, key).unwrap()
}

fn claims(iss: &str, aud: &str, lifetime: i64) -> serde_json::Value {
    let now = chrono::Utc::now().timestamp();
    serde_json::json!({
        "sub": "ops", "role": "operator", "iss": iss, "aud": aud,
        "iat": now, "exp": now + lifetime,
    })
}

/// The status of an operator's read with `token`.
async fn status(address: &str, token: &str) -> u16 {
    reqwest::Client::new()
        .get(format!("{address}/api/admin/projections"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn an_identity_providers_tokens_are_accepted_under_the_configured_rules() {
    let db = test_database().await;
    let dir = std::env::temp_dir().join(format!("df-jwt-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let keys = dir.join("jwks.json");
    let jwk: serde_json::Value = serde_json::from_str(RSA_JWK).unwrap();
    std::fs::write(&keys, serde_json::json!({ "keys": [jwk] }).to_string()).unwrap();
    let (secret, secret_bytes) = tests::jwt_secret();
    let args = [
        "--database-url",
        db.url.as_str(),
        "--jwt-secret",
        secret.as_str(),
        "--jwt-keys",
        keys.to_str().unwrap(),
        "--jwt-issuer",
        "https://id.example",
        "--jwt-audience",
        "shop",
        "--jwt-max-lifetime",
        "1h",
    ];
    let server = ServerProcess::start(BINARY, &args).await;
    let address = server.address.clone();
    let idp = EncodingKey::from_rsa_der(RSA_DER);
    let own = EncodingKey::from_secret(&secret_bytes);
    let good = claims("https://id.example", "shop", 600);

    assert_eq!(
        status(
            &address,
            &token(Algorithm::RS256, Some("idp-rsa"), &good, &idp)
        )
        .await,
        200
    );
    // The server's own secret, with no kid.
    assert_eq!(
        status(&address, &token(Algorithm::HS256, None, &good, &own)).await,
        200
    );
    for (what, refused) in [
        (
            "wrong audience",
            token(
                Algorithm::RS256,
                Some("idp-rsa"),
                &claims("https://id.example", "other", 600),
                &idp,
            ),
        ),
        (
            "wrong issuer",
            token(
                Algorithm::RS256,
                Some("idp-rsa"),
                &claims("https://evil.example", "shop", 600),
                &idp,
            ),
        ),
        (
            "beyond the maximum lifetime",
            token(
                Algorithm::RS256,
                Some("idp-rsa"),
                &claims("https://id.example", "shop", 7200),
                &idp,
            ),
        ),
        (
            "unknown kid",
            token(Algorithm::RS256, Some("nobody"), &good, &idp),
        ),
        (
            "RS256 under the server's own secret",
            token(Algorithm::RS256, None, &good, &idp),
        ),
        (
            "HS256 under the provider's kid",
            token(Algorithm::HS256, Some("idp-rsa"), &good, &own),
        ),
    ] {
        assert_eq!(status(&address, &refused).await, 401, "{what}");
    }

    // `domainflow token` under the same settings mints a token the server accepts.
    let minted = Command::new(BINARY)
        .args([
            "token", "--sub", "ops", "--role", "operator", "--ttl", "30m",
        ])
        .args(&args[2..])
        .output()
        .await
        .unwrap();
    assert!(
        minted.status.success(),
        "{}",
        String::from_utf8_lossy(&minted.stderr)
    );
    let minted = String::from_utf8(minted.stdout).unwrap();
    assert_eq!(status(&address, minted.trim()).await, 200);
    server.kill().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_secret_that_is_not_hex_or_a_malformed_key_set_stops_the_server_naming_it() {
    let dir = std::env::temp_dir().join(format!("df-jwt-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let keys = dir.join("jwks.json");
    std::fs::write(
        &keys,
        r#"{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB","alg":"RS256"}]}"#,
    )
    .unwrap();
    let (secret, _) = tests::jwt_secret();
    let keys_arg = keys.to_str().unwrap();
    for (args, named) in [
        (
            vec!["--jwt-secret", "a passphrase of more than 32 bytes!"],
            "must be hex",
        ),
        (
            vec!["--jwt-secret", secret.as_str(), "--jwt-keys", keys_arg],
            "no kid",
        ),
        (
            vec![
                "--jwt-secret",
                secret.as_str(),
                "--jwt-keys",
                "/nonexistent/jwks.json",
            ],
            "--jwt-keys",
        ),
    ] {
        let stderr = serve_refused(&args).await;
        assert!(stderr.contains(named), "{args:?}: {stderr}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
