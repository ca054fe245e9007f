#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The server's database login owns nothing: it reads and appends events and keeps the read
//! models, and nothing else. Checked on the server the tests run against (`DATABASE_URL`,
//! whose role is the owner, or the tests' throwaway cluster) and on the embedded cluster
//! `domainflow serve` starts by default.

use infrastructure::{Database, DatabaseOptions, PgEventStore};
use sqlx::{Connection, PgConnection};
use tests::test_database;

/// Runs `sql` as `conn` and expects PostgreSQL to refuse it for want of a privilege.
async fn refused(conn: &mut PgConnection, sql: &str) {
    let error = sqlx::raw_sql(sql)
        .execute(&mut *conn)
        .await
        .expect_err(&format!("the server's login may run {sql}"));
    let code = error
        .as_database_error()
        .and_then(sqlx::error::DatabaseError::code)
        .map(std::borrow::Cow::into_owned);
    assert_eq!(code.as_deref(), Some("42501"), "{sql}: {error}");
}

/// Everything the server's login (`login_url`) must not do, each tried over a connection
/// of its own as that login (no `SET ROLE`): change or remove events, change the table or
/// its triggers, become the owner, choose an event's place in the global order, create
/// objects. Then what it must do: append through the store, and read.
async fn login_is_least_privileged(login_url: &str) {
    let mut conn = PgConnection::connect(login_url).await.unwrap();
    let owner: String =
        sqlx::query_scalar("SELECT tableowner::text FROM pg_tables WHERE tablename = 'events'")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    let login: String = sqlx::query_scalar("SELECT session_user::text")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_ne!(login, owner, "the server logs in as the owner");
    let columns = "stream_type, stream_id, version, event_id, event_type, event_version, \
                   payload, metadata, prev_hash, hash";
    let values = "'stock', 'X', 1, gen_random_uuid(), 'StockRestocked', 1, '{}', '{}', '', ''";
    for sql in [
        "UPDATE events SET payload = '{}'".to_owned(),
        "DELETE FROM events".to_owned(),
        "TRUNCATE events".to_owned(),
        "ALTER TABLE events DISABLE TRIGGER events_no_update_or_delete".to_owned(),
        "ALTER TABLE events DISABLE TRIGGER ALL".to_owned(),
        "ALTER TABLE events ADD COLUMN note text".to_owned(),
        "DROP TABLE events".to_owned(),
        "DROP TRIGGER events_no_truncate ON events".to_owned(),
        format!("SET ROLE \"{owner}\""),
        format!("SET SESSION AUTHORIZATION \"{owner}\""),
        format!("INSERT INTO events (transaction_id, {columns}) VALUES ('1'::xid8, {values})"),
        format!(
            "INSERT INTO events (position, {columns}) OVERRIDING SYSTEM VALUE \
             VALUES (1, {values})"
        ),
        "CREATE TABLE intruder (id int)".to_owned(),
        "CREATE TEMP TABLE intruder (id int)".to_owned(),
        "CREATE SCHEMA intruder".to_owned(),
        "CREATE FUNCTION intruder() RETURNS int LANGUAGE sql RETURN 1".to_owned(),
        "UPDATE commands SET version = 0".to_owned(),
        "DELETE FROM commands".to_owned(),
        "ALTER ROLE domainflow_app SUPERUSER".to_owned(),
        format!("GRANT \"{owner}\" TO \"{login}\""),
    ] {
        refused(&mut conn, &sql).await;
    }
    conn.close().await.unwrap();

    // It does what the server needs: appends through the store, reads back.
    let pool = infrastructure::connect(
        login_url,
        &DatabaseOptions {
            assume_app_role: false,
            max_connections: 1,
            ..DatabaseOptions::default()
        },
    )
    .await
    .unwrap();
    let store = PgEventStore::new(pool.clone());
    let sku = format!("LP-{}", uuid::Uuid::now_v7().simple());
    store.append(&tests::restocks(&sku, 0, 2)).await.unwrap();
    let stream = application::event_log::StreamRef::new("stock", &sku);
    assert_eq!(store.read_stream(&stream, 0).await.unwrap().len(), 2);
    assert_eq!(
        infrastructure::login::excess_privileges(&pool)
            .await
            .unwrap(),
        Vec::<String>::new()
    );
    pool.close().await;
}

#[tokio::test]
async fn the_server_login_on_the_test_server_owns_nothing() {
    let db = test_database().await;
    login_is_least_privileged(&db.url).await;
    // The check the server makes at start tells the owner's login apart.
    let owner = db.owner_pool().await;
    let excess = infrastructure::login::excess_privileges(&owner)
        .await
        .unwrap();
    assert!(
        excess.iter().any(|why| why.contains("owns the event log")),
        "{excess:?}"
    );
}

/// A data directory under the system temporary directory, removed when dropped.
struct DataDir(std::path::PathBuf);

impl Drop for DataDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[tokio::test]
async fn the_embedded_cluster_asks_every_login_for_a_password_and_the_server_owns_nothing() {
    let dir = DataDir(
        std::env::temp_dir().join(format!("domainflow-lp-{}", uuid::Uuid::now_v7().simple())),
    );
    let database = Database::open(None, None, &dir.0).await.unwrap();
    login_is_least_privileged(&database.url).await;

    // No password, or a wrong one, gets nobody in: not the superuser, not the login.
    let (_, after_at) = database.url.split_once('@').unwrap();
    for who in [
        "postgres",
        "postgres:wrong",
        "domainflow_server",
        "domainflow_server:wrong",
    ] {
        let url = format!("postgres://{who}@{after_at}");
        let error = PgConnection::connect(&url)
            .await
            .err()
            .unwrap_or_else(|| panic!("{who} connected"));
        assert!(error.to_string().contains("password"), "{who}: {error}");
    }

    // A cluster made before passwords were required (trust, a superuser without a password,
    // no password files) gets them on its next start, and keeps its data.
    let superuser = std::fs::read_to_string(dir.0.join("postgres.password")).unwrap();
    let mut admin = PgConnection::connect(&format!("postgres://postgres:{superuser}@{after_at}"))
        .await
        .unwrap();
    sqlx::raw_sql("ALTER ROLE postgres PASSWORD NULL")
        .execute(&mut admin)
        .await
        .unwrap();
    admin.close().await.unwrap();
    database.close().await;
    std::fs::remove_file(dir.0.join("postgres.password")).unwrap();
    std::fs::remove_file(dir.0.join("server.password")).unwrap();
    std::fs::write(
        dir.0.join("pgdata/pg_hba.conf"),
        "host all all 127.0.0.1/32 trust\n",
    )
    .unwrap();
    let reopened = Database::open(None, None, &dir.0).await.unwrap();
    login_is_least_privileged(&reopened.url).await;
    let (_, after_at) = reopened.url.split_once('@').unwrap();
    assert!(
        PgConnection::connect(&format!("postgres://postgres@{after_at}"))
            .await
            .is_err(),
        "trust survived the upgrade"
    );
    let hba = std::fs::read_to_string(dir.0.join("pgdata/pg_hba.conf")).unwrap();
    assert!(!hba.contains("trust"), "{hba}");
    let superuser = std::fs::read_to_string(dir.0.join("postgres.password")).unwrap();
    PgConnection::connect(&format!("postgres://postgres:{superuser}@{after_at}"))
        .await
        .unwrap_or_else(|e| panic!("the superuser's new password: {e}"));

    // A server still running without the superuser's password file is one an earlier
    // version started: it is not attached to, and no password file is made for it.
    std::fs::remove_file(dir.0.join("postgres.password")).unwrap();
    let refused = Database::open(None, None, &dir.0).await.unwrap_err();
    assert!(
        refused.to_string().contains("before passwords"),
        "{refused}"
    );
    assert!(!dir.0.join("postgres.password").exists());
    std::fs::write(dir.0.join("postgres.password"), &superuser).unwrap();
    reopened.close().await;
}

#[tokio::test]
async fn a_role_that_may_do_more_than_the_server_needs_is_refused_as_its_login_naming_why() {
    let db = test_database().await;
    let owner = db.owner_pool().await;
    let suffix = uuid::Uuid::now_v7().simple().to_string();
    let login_url = |role: &str| {
        let (_, after_at) = db.url.split_once('@').unwrap();
        format!("postgres://{role}:pw-{suffix}@{after_at}")
    };
    let cases = [
        ("CREATEDB LOGIN", "", "may create databases"),
        ("CREATEROLE LOGIN", "", "may create roles"),
        ("NOLOGIN", "", "not a login"),
        (
            "LOGIN",
            "GRANT pg_write_all_data TO {role}",
            "predefined role",
        ),
        (
            "LOGIN",
            "GRANT CREATE ON SCHEMA public TO {role}",
            "create objects in a schema",
        ),
        (
            "LOGIN",
            "CREATE TABLE {role}_t (id int); ALTER TABLE {role}_t OWNER TO {role}",
            "owns objects",
        ),
    ];
    for (index, (attributes, then, why)) in cases.into_iter().enumerate() {
        let role = format!("lp_{index}_{suffix}");
        sqlx::raw_sql(&format!("CREATE ROLE {role} {attributes}"))
            .execute(&owner)
            .await
            .unwrap();
        if !then.is_empty() {
            sqlx::raw_sql(&then.replace("{role}", &role))
                .execute(&owner)
                .await
                .unwrap();
        }
        let refused = infrastructure::login::provision(&db.owner_url, &login_url(&role))
            .await
            .expect_err(&role);
        assert!(
            refused.to_string().contains(why),
            "{attributes} {then}: {refused}"
        );
        let member: bool = sqlx::query_scalar("SELECT pg_has_role($1, 'domainflow_app', 'USAGE')")
            .bind(&role)
            .fetch_one(&owner)
            .await
            .unwrap();
        assert!(!member, "{role} was made a member before being refused");
        sqlx::raw_sql(&format!(
            "DROP TABLE IF EXISTS {role}_t; REVOKE ALL ON SCHEMA public FROM {role}; DROP ROLE {role}"
        ))
        .execute(&owner)
        .await
        .unwrap();
    }
}

#[tokio::test]
async fn a_server_given_only_its_login_refuses_a_database_whose_applied_migration_was_edited() {
    let db = test_database().await;
    Database::open(Some(db.url.clone()), None, std::path::Path::new("."))
        .await
        .unwrap();
    sqlx::query(
        "UPDATE _sqlx_migrations SET checksum = '\\x00'
         WHERE version = (SELECT max(version) FROM _sqlx_migrations)",
    )
    .execute(&db.owner_pool().await)
    .await
    .unwrap();
    let refused = Database::open(Some(db.url.clone()), None, std::path::Path::new("."))
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("migration"), "{refused}");
}
