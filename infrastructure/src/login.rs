//! The server's own database login: a role that owns nothing and holds only the privileges
//! of the group role [`APP_ROLE`] (read and append events, never change them; keep the read
//! models). The tables' owner makes it ([`provision`]); the server checks at start what its
//! login may do beyond that ([`excess_privileges`]).

use sqlx::postgres::{PgConnectOptions, PgPool};
use sqlx::{Connection, PgConnection};

use crate::Error;
use crate::database::APP_ROLE;

/// How often provisioning is tried when another process changes the same role at the same
/// moment (PostgreSQL answers "tuple concurrently updated").
const ATTEMPTS: usize = 5;

/// Makes the role `login_url` names into a login of the server, working as the owner
/// `owner_url` names: creates it when missing (LOGIN, with the URL's password, and none of
/// SUPERUSER, CREATEDB, CREATEROLE, REPLICATION, BYPASSRLS), sets the URL's password when
/// the login is refused for a wrong one, and makes it a member of [`APP_ROLE`]. Only it may
/// then connect to the database and none may make temporary tables there (both taken from
/// PUBLIC where the owner may), so a login of another deployment on the same cluster, a
/// member of [`APP_ROLE`] too, is kept out. A role that is not a login, is the owner, or
/// may do more than [`excess_privileges`] allows is refused rather than changed.
///
/// Passwords reach the database only as SCRAM verifiers, and the session runs with a
/// search path of `pg_catalog` alone, so nothing a login may have created is called.
///
/// # Errors
/// [`Error::Login`] when the role is refused; [`Error::Database`] when the owner may not
/// create roles or the database cannot be reached.
pub async fn provision(owner_url: &str, login_url: &str) -> Result<(), Error> {
    let login: PgConnectOptions = login_url.parse()?;
    let name = login.get_username().to_owned();
    let password = password_of(login_url)?;
    let mut last = None;
    for attempt in 1..=ATTEMPTS {
        match provision_once(owner_url, login_url, &name, password.as_deref()).await {
            Err(Error::Database(error)) if concurrently_updated(&error) => {
                tracing::debug!(attempt, %error, "provisioning the login raced another process");
                last = Some(error);
                tokio::time::sleep(std::time::Duration::from_millis(50 * attempt as u64)).await;
            }
            outcome => return outcome,
        }
    }
    Err(Error::Database(last.unwrap_or(sqlx::Error::PoolClosed)))
}

async fn provision_once(
    owner_url: &str,
    login_url: &str,
    name: &str,
    password: Option<&str>,
) -> Result<(), Error> {
    let mut owner = PgConnection::connect(owner_url).await?;
    let outcome = provision_on(&mut owner, login_url, name, password).await;
    let _ = owner.close().await;
    outcome
}

async fn provision_on(
    owner: &mut PgConnection,
    login_url: &str,
    name: &str,
    password: Option<&str>,
) -> Result<(), Error> {
    {
        run(
            owner,
            "SET search_path = pg_catalog, pg_temp; SET password_encryption = 'scram-sha-256'"
                .to_owned(),
        )
        .await?;
        let owner_name: String = sqlx::query_scalar("SELECT current_user::text")
            .fetch_one(&mut *owner)
            .await?;
        if owner_name == name {
            return Err(Error::Login(format!(
                "{name} is the owner's login too; give the server a role of its own"
            )));
        }
        let existing: Option<bool> =
            sqlx::query_scalar("SELECT rolcanlogin FROM pg_catalog.pg_roles WHERE rolname = $1")
                .bind(name)
                .fetch_optional(&mut *owner)
                .await?;
        let role = quote_identifier(name);
        match existing {
            Some(false) => {
                return Err(Error::Login(format!(
                    "the role {name} is not a login (a group role?); name a role of its own"
                )));
            }
            Some(true) => {
                refuse_powerful(owner, name).await?;
                if let Some(password) = password
                    && wrong_password(login_url).await
                {
                    let verifier = crate::scram::verifier(password)?;
                    run(
                        owner,
                        format!("ALTER ROLE {role} PASSWORD {}", quote_literal(&verifier)),
                    )
                    .await?;
                    tracing::info!(login = name, "set the server login's password");
                }
            }
            None => {
                let password = match password {
                    Some(password) => {
                        format!(
                            " PASSWORD {}",
                            quote_literal(&crate::scram::verifier(password)?)
                        )
                    }
                    None => String::new(),
                };
                run(owner, format!("CREATE ROLE {role} LOGIN{password}")).await?;
                tracing::info!(login = name, "created the server's database login");
            }
        }
        let member: bool = sqlx::query_scalar("SELECT pg_catalog.pg_has_role($1, $2, 'USAGE')")
            .bind(name)
            .bind(APP_ROLE)
            .fetch_one(&mut *owner)
            .await?;
        if !member {
            run(
                owner,
                format!("GRANT {} TO {role}", quote_identifier(APP_ROLE)),
            )
            .await?;
        }
        keep_the_database_to(owner, &role).await
    }
}

/// Runs `sql`, one or more statements without parameters.
async fn run(conn: &mut PgConnection, sql: String) -> Result<(), Error> {
    // Through the Executor trait rather than raw_sql, whose future is not Send for every
    // lifetime: provisioning must be able to run on a spawned task.
    sqlx::Executor::execute(conn, sql.as_str()).await?;
    Ok(())
}

/// Lets only `role` (besides the owner and superusers) connect to the current database, and
/// nobody make temporary tables in it, when the owner may say so.
async fn keep_the_database_to(owner: &mut PgConnection, role: &str) -> Result<(), Error> {
    let database: String = sqlx::query_scalar("SELECT current_database()::text")
        .fetch_one(&mut *owner)
        .await?;
    let database = quote_identifier(&database);
    let may: bool = sqlx::query_scalar(
        "SELECT pg_catalog.pg_has_role(current_user, datdba, 'MEMBER')
         FROM pg_catalog.pg_database WHERE datname = current_database()",
    )
    .fetch_one(&mut *owner)
    .await?;
    if may {
        run(
            owner,
            format!(
                "REVOKE CONNECT, TEMPORARY ON DATABASE {database} FROM PUBLIC;
             GRANT CONNECT ON DATABASE {database} TO {role}"
            ),
        )
        .await?;
    } else {
        tracing::warn!(
            "the owner does not own the database, so every role may still connect to it and \
             make temporary tables; its owner should REVOKE CONNECT, TEMPORARY ... FROM PUBLIC"
        );
    }
    Ok(())
}

/// Refuses an existing role with more power than a login of the server may have.
async fn refuse_powerful(conn: &mut PgConnection, name: &str) -> Result<(), Error> {
    let excess: Vec<String> = sqlx::query_scalar(EXCESS)
        .bind(name)
        .fetch_all(&mut *conn)
        .await?;
    if excess.is_empty() {
        Ok(())
    } else {
        Err(Error::Login(format!(
            "the role {name} {}; give the server a role of its own that owns nothing",
            excess.join(", ")
        )))
    }
}

/// What a role ($1) may do that a login of the server must not, one phrase per row: the
/// one predicate provisioning refuses by and the server warns by.
const EXCESS: &str = "
    SELECT why FROM pg_catalog.pg_roles r, LATERAL (VALUES
        (r.rolsuper, 'is a superuser'),
        (r.rolcreaterole, 'may create roles'),
        (r.rolcreatedb, 'may create databases'),
        (r.rolreplication, 'may replicate'),
        (r.rolbypassrls, 'bypasses row security'),
        (pg_catalog.pg_has_role(r.oid, (SELECT relowner FROM pg_catalog.pg_class
                                         WHERE oid = 'public.events'::regclass), 'MEMBER'),
         'owns the event log (or may act as its owner)'),
        (EXISTS (SELECT 1 FROM pg_catalog.pg_roles g
                 WHERE g.rolname IN ('pg_write_all_data', 'pg_execute_server_program',
                                     'pg_read_server_files', 'pg_write_server_files')
                   AND pg_catalog.pg_has_role(r.oid, g.oid, 'MEMBER')),
         'holds a predefined role that writes anything or reaches the server''s files'),
        ((SELECT datdba FROM pg_catalog.pg_database
          WHERE datname = current_database()) = r.oid, 'owns the database'),
        (pg_catalog.has_database_privilege(r.oid, current_database(), 'CREATE'),
         'may create schemas'),
        (EXISTS (SELECT 1 FROM pg_catalog.pg_namespace n
                 WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'
                   AND pg_catalog.has_schema_privilege(r.oid, n.oid, 'CREATE')),
         'may create objects in a schema'),
        (EXISTS (SELECT 1 FROM pg_catalog.pg_class WHERE relowner = r.oid)
           OR EXISTS (SELECT 1 FROM pg_catalog.pg_proc WHERE proowner = r.oid)
           OR EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspowner = r.oid),
         'owns objects in the database'),
        (pg_catalog.has_table_privilege(r.oid, 'public.events', 'UPDATE')
           OR pg_catalog.has_table_privilege(r.oid, 'public.events', 'DELETE')
           OR pg_catalog.has_table_privilege(r.oid, 'public.events', 'TRUNCATE'),
         'may update, delete or truncate events'),
        (pg_catalog.has_column_privilege(r.oid, 'public.events', 'transaction_id', 'INSERT')
           OR pg_catalog.has_column_privilege(r.oid, 'public.events', 'position', 'INSERT'),
         'may choose an event''s place in the global order')
    ) AS attribute (held, why)
    WHERE r.rolname = $1 AND attribute.held";

/// What the login of `pool` may do beyond what the server needs, one phrase each: empty for
/// a login that owns nothing and may only do what [`APP_ROLE`] may.
///
/// # Errors
/// [`Error::Database`] when the database cannot be asked.
pub async fn excess_privileges(pool: &PgPool) -> Result<Vec<String>, Error> {
    let login = login_name(pool).await?;
    Ok(sqlx::query_scalar(EXCESS)
        .bind(login)
        .fetch_all(pool)
        .await?)
}

/// The name of the login a pool works as (the session user, whatever role it switched to).
///
/// # Errors
/// [`Error::Database`] when the database cannot be asked.
pub async fn login_name(pool: &PgPool) -> Result<String, Error> {
    Ok(sqlx::query_scalar("SELECT session_user::text")
        .fetch_one(pool)
        .await?)
}

/// The password in `url`, percent-decoded, if it has one (a `password` query parameter or
/// `PGPASSWORD` are not looked at: give it in the URL).
fn password_of(url: &str) -> Result<Option<String>, Error> {
    // PgConnectOptions keeps the password private; read it from the URL itself.
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = after_scheme.split(['/', '?']).next().unwrap_or_default();
    let Some((userinfo, _host)) = authority.rsplit_once('@') else {
        return Ok(None);
    };
    let Some((_user, password)) = userinfo.split_once(':') else {
        return Ok(None);
    };
    percent_decode(password).map(Some).ok_or_else(|| {
        Error::Login("the password in the database URL is not valid percent-encoding".into())
    })
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Whether the server refuses `url`'s login for a wrong password (SQLSTATE 28P01): only
/// then is its password set, never because the server is away or full.
async fn wrong_password(url: &str) -> bool {
    match PgConnection::connect(url).await {
        Ok(conn) => {
            let _ = conn.close().await;
            false
        }
        Err(error) => error
            .as_database_error()
            .and_then(sqlx::error::DatabaseError::code)
            .is_some_and(|code| code == "28P01"),
    }
}

/// `name` as an SQL identifier.
fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `text` as an SQL string literal (`standard_conforming_strings` is on since 9.1).
fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// PostgreSQL's answer when two sessions change one catalog row at once (XX000), or when
/// two create one role (23505, 42710).
fn concurrently_updated(error: &sqlx::Error) -> bool {
    error.as_database_error().is_some_and(|e| {
        matches!(e.code().as_deref(), Some("23505" | "42710"))
            || e.message().contains("concurrently updated")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_texts_are_quoted_for_sql() {
        assert_eq!(quote_identifier("app"), "\"app\"");
        assert_eq!(quote_identifier("a\"b; DROP"), "\"a\"\"b; DROP\"");
        assert_eq!(quote_literal("it's"), "'it''s'");
    }

    #[test]
    fn the_password_is_read_from_the_url_and_decoded() {
        let read = |url: &str| password_of(url).unwrap();
        assert_eq!(
            read("postgres://app:s3cret@db:5432/x"),
            Some("s3cret".into())
        );
        assert_eq!(read("postgres://app:a%40b%2Fc@db/x"), Some("a@b/c".into()));
        assert_eq!(read("postgres://app@db/x"), None);
        assert_eq!(read("postgres://db/x?user=app"), None);
        assert_eq!(read("postgres://app:p@ss@db/x"), Some("p@ss".into()));
        assert!(password_of("postgres://app:%zz@db/x").is_err());
    }
}
