//! These run the real `initdb` and `postgres`.

use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use sqlx::Connection;
use sqlx::postgres::PgConnection;

use super::*;

/// A fresh directory under the system temp dir, deleted when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(label: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("domainflow-{label}-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn select_one(url: &str) -> i32 {
    let mut conn = PgConnection::connect(url).await.unwrap();
    let one = sqlx::query_scalar("SELECT 1")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    one
}

async fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while !done() {
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    true
}

#[tokio::test]
async fn temporary_cluster_serves_a_database_and_is_deleted_on_stop() {
    let pg = EmbeddedPostgres::start_temporary().await.unwrap();
    let dir = pg.data_dir().to_path_buf();
    assert!(dir.join("pgdata/PG_VERSION").is_file());
    assert!(
        dir.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("domainflow-pg-")
    );

    let url = pg.create_database("embedded_temporary").await.unwrap();
    assert_eq!(url, pg.url("embedded_temporary"));
    assert!(
        url.starts_with("postgres://postgres:")
            && url.ends_with(&format!("@127.0.0.1:{}/embedded_temporary", pg.port())),
        "{url}"
    );
    assert_eq!(select_one(&url).await, 1);

    for bad in ["", "Upper", "semi;colon", "quote\"", &"x".repeat(64)] {
        let err = pg.create_database(bad).await.unwrap_err();
        assert!(matches!(err, Error::Embedded { .. }), "{bad:?}: {err}");
    }

    pg.stop().await.unwrap();
    assert!(!dir.exists(), "{} survived stop", dir.display());
}

#[tokio::test]
async fn a_restarted_server_cuts_its_sessions_and_comes_back_on_the_same_port() {
    let mut pg = EmbeddedPostgres::start_temporary().await.unwrap();
    let url = pg.create_database("restarted").await.unwrap();
    let mut before = PgConnection::connect(&url).await.unwrap();
    // A temporary cluster commits asynchronously; a crash keeps only what was flushed.
    sqlx::raw_sql(
        "SET synchronous_commit = on; CREATE TABLE kept (n int); INSERT INTO kept VALUES (7)",
    )
    .execute(&mut before)
    .await
    .unwrap();
    let port = pg.port();

    pg.restart(true, Duration::from_millis(200)).await.unwrap();

    assert_eq!(pg.port(), port);
    assert!(
        sqlx::query("SELECT 1").execute(&mut before).await.is_err(),
        "a session survived the restart"
    );
    let mut after = PgConnection::connect(&url).await.unwrap();
    let kept: i32 = sqlx::query_scalar("SELECT n FROM kept")
        .fetch_one(&mut after)
        .await
        .unwrap();
    assert_eq!(kept, 7);
    after.close().await.unwrap();
    pg.restart(false, Duration::ZERO).await.unwrap();
    assert_eq!(select_one(&url).await, 1);
    pg.stop().await.unwrap();
}

#[tokio::test]
async fn persistent_cluster_keeps_data_across_restarts() {
    let scratch = Scratch::new("persistent");
    let data_dir = scratch.0.join(".domainflow");

    let pg = EmbeddedPostgres::start(&data_dir).await.unwrap();
    assert_eq!(std::fs::metadata(&data_dir).unwrap().mode() & 0o777, 0o700);
    if std::fs::metadata("/proc/self").unwrap().uid() == 0 {
        // As root, the server runs as (and owns its files as) an unprivileged user.
        let pgdata = std::fs::metadata(data_dir.join("pgdata")).unwrap();
        assert_ne!(pgdata.uid(), 0);
        assert_eq!(std::fs::metadata(&data_dir).unwrap().uid(), pgdata.uid());
    }
    let mut conn = PgConnection::connect(&pg.url("postgres")).await.unwrap();
    sqlx::raw_sql("CREATE TABLE kept (id int); INSERT INTO kept VALUES (42);")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    pg.stop().await.unwrap();
    assert!(data_dir.join("pgdata/PG_VERSION").is_file());

    let pg = EmbeddedPostgres::start(&data_dir).await.unwrap();
    let mut conn = PgConnection::connect(&pg.url("postgres")).await.unwrap();
    let id: i32 = sqlx::query_scalar("SELECT id FROM kept")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(id, 42);
    conn.close().await.unwrap();
    pg.stop().await.unwrap();
    assert!(data_dir.exists(), "a persistent cluster must survive stop");
}

#[tokio::test]
async fn a_second_start_on_a_running_cluster_attaches_to_it_and_leaves_it_running() {
    let scratch = Scratch::new("running");
    let data_dir = scratch.0.join("data");
    let first = EmbeddedPostgres::start(&data_dir).await.unwrap();

    let second = EmbeddedPostgres::start(&data_dir).await.unwrap();
    assert_eq!(second.port(), first.port());
    assert_eq!(select_one(&second.url("postgres")).await, 1);
    // The attached handle did not start the server, so stopping it leaves the server alone.
    second.stop().await.unwrap();
    assert_eq!(select_one(&first.url("postgres")).await, 1);

    first.stop().await.unwrap();
}

#[tokio::test]
async fn dropping_a_temporary_cluster_stops_it_and_deletes_it() {
    let pg = EmbeddedPostgres::start_temporary().await.unwrap();
    let dir = pg.data_dir().to_path_buf();
    let port = pg.port();
    drop(pg);
    assert!(!dir.exists());
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
}

/// Where the helper below reports its cluster, when run as a child by the next test.
const REPORT_ENV: &str = "DOMAINFLOW_EMBEDDED_REAPER_REPORT";

#[tokio::test]
#[ignore = "helper: run in a child process by reaper_cleans_up_after_sigkill"]
async fn reaper_child_process() {
    let Some(report) = std::env::var_os(REPORT_ENV) else {
        return;
    };
    let pg = EmbeddedPostgres::start_temporary().await.unwrap();
    let line = format!("{}\n{}\n", pg.port(), pg.data_dir().display());
    std::fs::write(PathBuf::from(&report).with_extension("tmp"), line).unwrap();
    std::fs::rename(PathBuf::from(&report).with_extension("tmp"), &report).unwrap();
    // Like a static in a test binary: never dropped. The parent kills us.
    std::mem::forget(pg);
    tokio::time::sleep(Duration::from_secs(120)).await;
}

#[tokio::test]
async fn reaper_cleans_up_after_sigkill() {
    let scratch = Scratch::new("reaper-report");
    let report = scratch.0.join("report");
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "embedded::tests::reaper_child_process",
            "--exact",
            "--ignored",
            "--nocapture",
        ])
        .env(REPORT_ENV, &report)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = wait_until(Duration::from_secs(60), || report.exists()).await;
    if !started {
        child.kill().unwrap();
        panic!("the child never reported its cluster");
    }
    let text = std::fs::read_to_string(&report).unwrap();
    let mut lines = text.lines();
    let port: u16 = lines.next().unwrap().parse().unwrap();
    let dir = PathBuf::from(lines.next().unwrap());
    assert!(dir.exists());

    child.kill().unwrap(); // SIGKILL: no destructor, no atexit.
    child.wait().unwrap();

    assert!(
        wait_until(Duration::from_secs(30), || !dir.exists()).await,
        "{} survived its process",
        dir.display()
    );
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
}

#[tokio::test]
async fn as_root_an_unreachable_data_dir_is_refused_clearly() {
    if std::fs::metadata("/proc/self").unwrap().uid() != 0 {
        return; // Only root hands the cluster to another user.
    }
    let scratch = Scratch::new("unreachable");
    std::fs::set_permissions(
        &scratch.0,
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .unwrap();
    let err = EmbeddedPostgres::start(&scratch.0.join("data"))
        .await
        .unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, Error::Embedded { .. }), "{message}");
    assert!(message.contains("cannot enter"), "{message}");
}
