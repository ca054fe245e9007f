//! A fresh database for each contender's run, on the cluster the URL names, dropped after.

use sqlx::{Connection as _, Executor as _, PgConnection};
use uuid::Uuid;

/// A database created for one run.
#[derive(Debug)]
pub struct Scratch {
    admin: String,
    name: String,
    /// Where the database is.
    pub url: String,
}

/// `url` with its database replaced by `database` (query parameters kept).
#[must_use]
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    // The path starts at the first '/' after "scheme://authority".
    let authority_end = base.find("://").map_or(0, |i| i + 3);
    let root = match base[authority_end..].find('/') {
        Some(slash) => &base[..authority_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{root}/{database}?{query}"),
        None => format!("{root}/{database}"),
    }
}

impl Scratch {
    /// Creates a database named after `label` on the cluster of `url`.
    ///
    /// # Errors
    /// When the cluster cannot be reached or refuses.
    pub async fn create(url: &str, label: &str) -> Result<Self, String> {
        let suffix = Uuid::now_v7().simple().to_string();
        let name = format!("peer_{label}_{}", &suffix[suffix.len() - 12..]);
        let admin = with_database(url, "postgres");
        let mut conn = PgConnection::connect(&admin)
            .await
            .map_err(|e| format!("connecting to {admin}: {e}"))?;
        conn.execute(format!("CREATE DATABASE \"{name}\"").as_str())
            .await
            .map_err(|e| format!("creating database {name}: {e}"))?;
        conn.close().await.map_err(|e| e.to_string())?;
        let url = with_database(url, &name);
        Ok(Self { admin, name, url })
    }

    /// Drops the database (closing whatever is still connected to it).
    ///
    /// # Errors
    /// When the cluster cannot be reached or refuses.
    pub async fn drop_database(self) -> Result<(), String> {
        let mut conn = PgConnection::connect(&self.admin)
            .await
            .map_err(|e| e.to_string())?;
        conn.execute(format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name).as_str())
            .await
            .map_err(|e| format!("dropping database {}: {e}", self.name))?;
        conn.close().await.map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_of_a_url_is_replaced() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://u:p@h/db?sslmode=disable", "x"),
            "postgres://u:p@h/x?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://h:5432", "x"),
            "postgres://h:5432/x"
        );
    }
}
