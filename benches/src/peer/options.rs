//! The `peer` binary's command line.

use std::time::Duration;

/// What to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// The cluster; each contender's run gets a fresh database on it.
    pub url: String,
    /// The numbers of concurrent clients, one cell each.
    pub clients: Vec<usize>,
    /// How long each run places orders.
    pub duration: Duration,
    /// SKUs the orders are spread over.
    pub skus: usize,
    /// Runs of each contender per cell, alternating (ours, peer, ours, peer ...).
    pub rounds: usize,
    /// Connections of each contender's pool.
    pub pool: u32,
}

impl Options {
    /// Parses `args` (without the program name); the URL defaults to `DATABASE_URL`, then
    /// the local cluster.
    ///
    /// # Errors
    /// An unknown flag or a value that does not parse.
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Self, String> {
        let mut options = Self {
            url: std::env::var("DATABASE_URL")
                .ok()
                .filter(|url| !url.is_empty())
                .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".into()),
            clients: vec![1, 8, 32],
            duration: Duration::from_secs(10),
            skus: 200,
            rounds: 2,
            pool: 16,
        };
        let mut args = args.into_iter();
        while let Some(flag) = args.next() {
            let mut value = || args.next().ok_or(format!("{flag} takes a value"));
            match flag.as_str() {
                "--database-url" => options.url = value()?,
                "--clients" => {
                    options.clients = value()?
                        .split(',')
                        .map(|n| n.trim().parse().map_err(|e| format!("--clients: {e}")))
                        .collect::<Result<_, _>>()?;
                }
                "--seconds" => {
                    options.duration = Duration::try_from_secs_f64(number(&flag, &value()?)?)
                        .map_err(|e| format!("--seconds: {e}"))?;
                }
                "--skus" => options.skus = number(&flag, &value()?)?,
                "--rounds" => options.rounds = number(&flag, &value()?)?,
                "--pool" => options.pool = number(&flag, &value()?)?,
                other => return Err(format!("unknown argument {other:?}; see the file's header")),
            }
        }
        if options.clients.is_empty() || options.clients.contains(&0) {
            return Err("--clients takes positive numbers, e.g. 1,8,32".into());
        }
        Ok(options)
    }
}

fn number<T: std::str::FromStr>(flag: &str, value: &str) -> Result<T, String>
where
    T::Err: std::fmt::Display,
{
    value.parse().map_err(|e| format!("{flag} {value:?}: {e}"))
}
