//! `domainflow verify`, run as the real binary: it passes on an untouched log and names the
//! exact broken link, with a non-zero exit, after a payload is changed and after a row is
//! deleted through the break-glass path. Its report is the store's, which the GraphQL
//! `integrity` query answers too.

// A test that cannot set up its fixtures has nothing left to check: failing loudly is right.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Output;

use application::event_log::{Integrity, StreamRef};
use infrastructure::PgEventStore;
use infrastructure::store::hash::hex;
use tests::{restocks, text};

fn verify(url: &str, args: &[&str]) -> Output {
    let mut all = vec!["verify", "--database-url", url];
    all.extend_from_slice(args);
    tests::run(env!("CARGO_BIN_EXE_domainflow"), &all)
}

#[tokio::test]
async fn verify_passes_an_untouched_log_and_names_the_exact_broken_link() {
    let db = tests::test_database().await;
    let store = PgEventStore::new(db.pool.clone());
    for id in ["A", "B", "C"] {
        store.append(&restocks(id, 0, 2)).await.unwrap();
        store.append(&restocks(id, 2, 1)).await.unwrap();
    }

    let untouched = verify(&db.url, &[]);
    // With the key, a log that was never sealed (or whose seals were all deleted) fails.
    let dir = std::env::temp_dir().join(format!("unsealed-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let key = dir.join("seal.key");
    let generated = tests::run(
        env!("CARGO_BIN_EXE_domainflow"),
        &["seal-key", "generate", key.to_str().unwrap()],
    );
    assert!(generated.status.success(), "{}", text(&generated.stderr));
    let public = dir.join("seal.pub");
    std::fs::write(&public, text(&generated.stdout)).unwrap();
    let keyed = verify(&db.url, &["--public-key", public.to_str().unwrap()]);
    assert!(!keyed.status.success());
    assert!(
        text(&keyed.stderr).contains("no seal in the log"),
        "{}",
        text(&keyed.stderr)
    );
    std::fs::remove_dir_all(dir).unwrap();
    assert!(untouched.status.success(), "{}", text(&untouched.stderr));
    assert_eq!(
        text(&untouched.stdout),
        "verified 9 events in 3 streams\nno seal yet (9 events unsealed)"
    );

    let stored = store
        .read_stream(&StreamRef::new("stock", "B"), 1)
        .await
        .unwrap();
    db.break_glass(
        "UPDATE events SET payload = '{\"quantity\": 999}' WHERE stream_id = 'B' AND version = 2",
    )
    .await;
    let tampered = verify(&db.url, &[]);
    assert!(!tampered.status.success());
    let Integrity::Broken(link) = store.verify(None).await.unwrap() else {
        panic!("the store missed the tampering");
    };
    assert_eq!(link.found, hex(&stored[0].hash), "the stored hash is named");
    assert_eq!(
        text(&tampered.stderr),
        format!(
            "domainflow: broken link in stock/B at version 2: stored content does not match \
             its hash (expected hash {}, found {})",
            link.expected, link.found
        )
    );

    db.break_glass("DELETE FROM events WHERE stream_id = 'C' AND version = 2")
        .await;
    let deleted = verify(&db.url, &["--stream", "stock/C"]);
    assert!(!deleted.status.success());
    let stderr = text(&deleted.stderr);
    assert!(
        stderr.starts_with("domainflow: broken link in stock/C at version 3: version 2 is missing"),
        "{stderr}"
    );
    let other = verify(&db.url, &["--stream", "stock/A"]);
    assert_eq!(text(&other.stdout), "verified 3 events in 1 streams");
}

/// A server with a seal key seals the log as it goes; `verify --public-key` checks the
/// seals with the key's public half, and names the seal a deleted stream breaks although
/// every remaining chain holds.
#[tokio::test]
async fn a_server_seals_the_log_and_verify_checks_the_seals_with_the_public_key() {
    let db = tests::test_database().await;
    let dir = std::env::temp_dir().join(format!("seal-cli-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let key_file = dir.join("seal.key");
    let key_path = key_file.to_str().unwrap();
    let binary = env!("CARGO_BIN_EXE_domainflow");
    let generated = tests::run(binary, &["seal-key", "generate", key_path]);
    assert!(generated.status.success(), "{}", text(&generated.stderr));
    let public = text(&generated.stdout);
    assert_eq!(public.len(), 64, "{public}");
    let again = tests::run(binary, &["seal-key", "generate", key_path]);
    assert!(!again.status.success(), "an existing key was replaced");
    let shown = tests::run(binary, &["seal-key", "public", key_path]);
    assert_eq!(text(&shown.stdout), public);
    let public_file = dir.join("seal.pub");
    std::fs::write(&public_file, &public).unwrap();
    let public_path = public_file.to_str().unwrap();

    // A key others may read is refused before the server starts.
    let shared = dir.join("shared.key");
    std::fs::copy(&key_file, &shared).unwrap();
    let mut mode = std::fs::metadata(&shared).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut mode, 0o644);
    std::fs::set_permissions(&shared, mode).unwrap();
    let refused = crate::serve_refused(&["--seal-key", shared.to_str().unwrap()]).await;
    assert!(refused.contains("is readable by others"), "{refused}");

    let store = PgEventStore::new(db.pool.clone());
    for id in ["A", "B"] {
        store.append(&restocks(id, 0, 2)).await.unwrap();
    }
    let (secret, _) = tests::jwt_secret();
    let server_args = [
        "--database-url",
        &db.url,
        "--jwt-secret",
        &secret,
        "--seal-key",
        key_path,
        "--seal-every",
        "1s",
    ];
    let server = tests::ServerProcess::start(binary, &server_args).await;
    let mut sealed = String::new();
    for _ in 0..100 {
        let checked = verify(&db.url, &["--public-key", public_path]);
        sealed = text(&checked.stdout);
        if sealed.contains("seals hold: 4 events sealed") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        sealed.contains("seals hold: 4 events sealed, 0 after the last seal"),
        "{sealed}"
    );
    assert!(
        server
            .metrics()
            .await
            .contains("domainflow_seal_rounds_total{outcome=\"sealed\"}"),
        "the seal is counted"
    );
    server.kill().await;

    // The whole log exported carries its seals and verifies offline, with no database.
    let export_file = dir.join("events.ndjson");
    let export_path = export_file.to_str().unwrap();
    let exported = tests::run(
        binary,
        &[
            "events",
            "export",
            "--out",
            export_path,
            "--database-url",
            &db.url,
        ],
    );
    assert!(exported.status.success(), "{}", text(&exported.stderr));
    let offline = |file: &str| {
        tests::run(
            binary,
            &["verify", "--export", file, "--public-key", public_path],
        )
    };
    let checked = offline(export_path);
    assert!(checked.status.success(), "{}", text(&checked.stderr));
    assert!(
        text(&checked.stdout).starts_with("verified 4 events in 2 streams; 1 seals hold"),
        "{}",
        text(&checked.stdout)
    );
    // An export changed after the fact: a payload, or a line left out; and without its
    // seal lines, an export proves nothing to a holder of the key.
    let lines: Vec<String> = std::fs::read_to_string(&export_file)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    let refused_as = |name: &str, edited: &[String], why: &str| {
        let file = dir.join(name);
        std::fs::write(&file, edited.join("\n")).unwrap();
        let refused = offline(file.to_str().unwrap());
        assert!(!refused.status.success(), "{name} passed");
        assert!(
            text(&refused.stderr).contains(why),
            "{name}: {}",
            text(&refused.stderr)
        );
    };
    let mut edited = lines.clone();
    edited[1] = edited[1].replacen("\"quantity\":", "\"quantity\":9", 1);
    refused_as("changed.ndjson", &edited, "line 2: stock/");
    let mut shorter = lines.clone();
    shorter.remove(3);
    refused_as("cut.ndjson", &shorter, "seal 1 is broken");
    let events_only: Vec<String> = lines
        .iter()
        .filter(|l| !l.starts_with("{\"seal\""))
        .cloned()
        .collect();
    refused_as("unsealed.ndjson", &events_only, "holds no seal");
    // Two events of different streams swapped, a field no export writes, a seal line
    // written another way than the export writes it (its digest in capitals).
    let mut swapped = lines.clone();
    swapped.swap(1, 2);
    refused_as("swapped.ndjson", &swapped, "in the global order");
    let mut extra = lines.clone();
    extra[0] = extra[0].replacen('{', "{\"extra\":1,", 1);
    refused_as("extra.ndjson", &extra, "a field no export writes");
    let seal_line = lines
        .iter()
        .position(|l| l.starts_with("{\"seal\""))
        .unwrap();
    let mut shouted = lines.clone();
    let digest =
        serde_json::from_str::<serde_json::Value>(&lines[seal_line]).unwrap()["seal"]["digest"]
            .as_str()
            .unwrap()
            .to_owned();
    shouted[seal_line] = shouted[seal_line].replace(&digest, &digest.to_uppercase());
    refused_as("shouted.ndjson", &shouted, "not written the one way");
    // A seal an auditor kept that the export does not hold: the log was cut back.
    let cut_back = tests::run(
        binary,
        &[
            "verify",
            "--export",
            export_path,
            "--expect-seal",
            &format!("9:{}", "00".repeat(32)),
        ],
    );
    assert!(!cut_back.status.success());
    assert!(
        text(&cut_back.stderr).contains("seal 9 is not in the export: the log was cut back"),
        "{}",
        text(&cut_back.stderr)
    );
    // The newest seal, as verify printed it, is what an auditor keeps and expects later.
    let kept = sealed
        .rsplit_once("(newest ")
        .map(|(_, rest)| rest.trim_end_matches(')').to_owned())
        .unwrap();
    let expecting = verify(
        &db.url,
        &["--public-key", public_path, "--expect-seal", &kept],
    );
    assert!(expecting.status.success(), "{}", text(&expecting.stderr));
    let wrong = format!("{}:{}", kept.split(':').next().unwrap(), "00".repeat(32));
    let mismatch = verify(
        &db.url,
        &["--public-key", public_path, "--expect-seal", &wrong],
    );
    assert!(!mismatch.status.success());
    assert!(
        text(&mismatch.stderr).contains("not the one expected"),
        "{}",
        text(&mismatch.stderr)
    );

    db.break_glass("DELETE FROM events WHERE stream_id = 'B'")
        .await;
    let chains = verify(&db.url, &["--stream", "stock/A"]);
    assert!(chains.status.success(), "{}", text(&chains.stderr));
    let broken = verify(&db.url, &["--public-key", public_path]);
    assert!(!broken.status.success());
    let stderr = text(&broken.stderr);
    assert!(
        stderr.starts_with("domainflow: seal ") && stderr.contains(" is broken: "),
        "{stderr}"
    );
    // An export of the changed log refuses to finish without the seal it cannot place.
    let refused_export = tests::run(
        binary,
        &[
            "events",
            "export",
            "--out",
            export_path,
            "--database-url",
            &db.url,
        ],
    );
    assert!(!refused_export.status.success());
    assert!(
        text(&refused_export.stderr).contains("names a last event"),
        "{}",
        text(&refused_export.stderr)
    );

    // A server started over the changed log refuses to seal over it, and counts it.
    let server = tests::ServerProcess::start(binary, &server_args).await;
    let mut refused = false;
    for _ in 0..100 {
        if server
            .metrics()
            .await
            .contains("domainflow_seal_rounds_total{outcome=\"refused\"}")
        {
            refused = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(refused, "the sealer went on over a changed log");
    server.kill().await;
    std::fs::remove_dir_all(dir).unwrap();
}
