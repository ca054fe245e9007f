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
/// the login cannot connect with it, and makes it a member of [`APP_ROLE`]. A role that is
/// the owner itself, or has any of those attributes, is refused rather than changed.
///
/// # Errors
/// [`Error::Login`] when the role is the owner or too powerful; [`Error::Database`] when the
/// owner may not create roles or the database cannot be reached.
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
    let outcome = async {
        let owner_name: String = sqlx::query_scalar("SELECT current_user::text")
            .fetch_one(&mut owner)
            .await?;
        if owner_name == name {
            return Err(Error::Login(format!(
                "{name} is the owner's login too; give the server a role of its own"
            )));
        }
        let exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)")
                .bind(name)
                .fetch_one(&mut owner)
                .await?;
        if exists {
            refuse_powerful(&mut owner, name, &owner_name).await?;
            if let Some(password) = password
                && !can_connect(login_url).await
            {
                execute_formatted(
                    &mut owner,
                    "SELECT format('ALTER ROLE %I LOGIN PASSWORD %L', $1::text, $2::text)",
                    name,
                    Some(password),
                )
                .await?;
                tracing::info!(login = name, "set the server login's password");
            }
        } else {
            let statement = if password.is_some() {
                "SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', $1::text, $2::text)"
            } else {
                "SELECT format('CREATE ROLE %I LOGIN', $1::text)"
            };
            execute_formatted(&mut owner, statement, name, password).await?;
            tracing::info!(login = name, "created the server's database login");
        }
        let member: bool = sqlx::query_scalar("SELECT pg_has_role($1, $2, 'USAGE')")
            .bind(name)
            .bind(APP_ROLE)
            .fetch_one(&mut owner)
            .await?;
        if !member {
            execute_formatted(
                &mut owner,
                "SELECT format('GRANT %I TO %I', $2::text, $1::text)",
                name,
                Some(APP_ROLE),
            )
            .await?;
        }
        Ok(())
    }
    .await;
    let _ = owner.close().await;
    outcome
}

/// Runs the statement `format` builds from `name` and `value` (quoted by PostgreSQL itself).
async fn execute_formatted(
    conn: &mut PgConnection,
    format: &str,
    name: &str,
    value: Option<&str>,
) -> Result<(), Error> {
    let statement: String = sqlx::query_scalar(format)
        .bind(name)
        .bind(value)
        .fetch_one(&mut *conn)
        .await?;
    sqlx::raw_sql(&statement).execute(&mut *conn).await?;
    Ok(())
}

/// Refuses an existing role with more power than a login of the server may have.
async fn refuse_powerful(conn: &mut PgConnection, name: &str, owner: &str) -> Result<(), Error> {
    let excess: Vec<String> = sqlx::query_scalar(EXCESS_OF_ROLE)
        .bind(name)
        .bind(owner)
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

/// What a role ($1) may do that a login of the server must not, given the tables' owner
/// ($2), one phrase per row.
const EXCESS_OF_ROLE: &str = "
    SELECT why FROM pg_roles r, LATERAL (VALUES
        (r.rolsuper, 'is a superuser'),
        (r.rolcreaterole, 'may create roles'),
        (r.rolcreatedb, 'may create databases'),
        (r.rolreplication, 'may replicate'),
        (r.rolbypassrls, 'bypasses row security'),
        (pg_has_role(r.oid, $2::name, 'MEMBER'), 'may act as the owner ' || $2)
    ) AS attribute (held, why)
    WHERE r.rolname = $1 AND attribute.held";

/// What the login of `pool` may do beyond what the server needs, one phrase each: empty for
/// a login that owns nothing and may only do what [`APP_ROLE`] may.
///
/// # Errors
/// [`Error::Database`] when the database cannot be asked.
pub async fn excess_privileges(pool: &PgPool) -> Result<Vec<String>, Error> {
    Ok(sqlx::query_scalar(
        "SELECT why FROM pg_roles r, LATERAL (VALUES
            (r.rolsuper, 'is a superuser'),
            (r.rolcreaterole, 'may create roles'),
            (r.rolcreatedb, 'may create databases'),
            (pg_has_role(session_user, (SELECT relowner FROM pg_class
                                        WHERE oid = 'events'::regclass), 'MEMBER'),
             'owns the event log (or may act as its owner)'),
            (has_table_privilege(session_user, 'events', 'UPDATE')
                OR has_table_privilege(session_user, 'events', 'DELETE')
                OR has_table_privilege(session_user, 'events', 'TRUNCATE'),
             'may update, delete or truncate events'),
            (has_column_privilege(session_user, 'events', 'transaction_id', 'INSERT'),
             'may choose an event''s place in the global order')
        ) AS attribute (held, why)
        WHERE r.rolname = session_user AND attribute.held",
    )
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

/// The password in `url`, percent-decoded, if it has one.
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

async fn can_connect(url: &str) -> bool {
    match PgConnection::connect(url).await {
        Ok(conn) => {
            let _ = conn.close().await;
            true
        }
        Err(_) => false,
    }
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
