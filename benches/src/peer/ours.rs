//! Ours: the use cases' repositories ([`application::Commands`]) over
//! [`infrastructure::PgEventStore`], with the server's repository options (aggregates kept
//! in memory, snapshots every 100 events, conflicts decided again).

use std::sync::Arc;

use application::event_log::CommandMetadata;
use application::{Commands, EventStore, RepositoryOptions};
use infrastructure::{DatabaseOptions, PgEventStore};
use sqlx::PgPool;
use uuid::Uuid;

use super::contender::Contender;
use super::plan::Step;

/// Our command side on a migrated database.
#[derive(Debug)]
pub struct Ours {
    commands: Commands,
    pool: PgPool,
}

/// Fresh metadata for one command, as a client sending it makes.
fn metadata() -> CommandMetadata {
    let id = Uuid::now_v7();
    CommandMetadata {
        command_id: id,
        correlation_id: id,
        causation_id: None,
        actor: "peer-bench".into(),
        client_correlation_id: None,
    }
}

impl Contender for Ours {
    const NAME: &'static str = "ours";

    async fn open(url: &str, pool: u32) -> Result<Self, String> {
        infrastructure::migrate(url)
            .await
            .map_err(|e| format!("migrating: {e}"))?;
        let options = DatabaseOptions {
            max_connections: pool,
            ..DatabaseOptions::default()
        };
        let pool = infrastructure::connect(url, &options)
            .await
            .map_err(|e| format!("connecting: {e}"))?;
        let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
        let commands = Commands::new(
            store,
            &RepositoryOptions::default(),
            infrastructure::SimulatedProvider::simulation(),
        );
        Ok(Self { commands, pool })
    }

    async fn execute(&self, step: Step) -> Result<(), String> {
        let c = &self.commands;
        let meta = metadata();
        let done = match step {
            Step::Order { id, command } => c.orders().execute(&id, command, &meta).await,
            Step::Stock { sku, command } => c.stock().execute(&sku, command, &meta).await,
            Step::Payment { id, command } => c.payments().execute(&id, command, &meta).await,
        };
        done.map(drop).map_err(|e| e.to_string())
    }

    async fn events(&self) -> Result<i64, String> {
        sqlx::query_scalar("SELECT count(*) FROM events")
            .fetch_one(&self.pool)
            .await
            .map_err(|e| e.to_string())
    }

    async fn on_hand(&self, sku: &str) -> Result<u32, String> {
        let (stock, _) = self
            .commands
            .stock()
            .load(sku)
            .await
            .map_err(|e| e.to_string())?;
        Ok(stock.0.on_hand())
    }

    fn retries(&self) -> u64 {
        // The repository queues commands on one aggregate in process and retries inside;
        // it does not count.
        0
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}
