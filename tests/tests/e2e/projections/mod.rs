//! Projection workers against a real PostgreSQL: read models say what a client expects,
//! a worker resumes from its checkpoint, one worker per projection, failures park.

// A test that cannot set up its fixtures has nothing left to check: failing loudly is right.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod histories;
mod read_models;
mod workers;

use std::sync::Arc;
use std::time::Duration;

use application::commands::{OpenTicket, OrderLineInput, PlaceOrder, RegisterProduct};
use application::event_log::{CommandMetadata, Position, RecordedEvent};
use application::{Actor, Commands, EventStore, RepositoryOptions, Role};
use domain::{Quantity, order, payment, stock};
use infrastructure::PgEventStore;
use projections::{Announcer, Error, Projection, Worker, WorkerOptions, spawn_workers};
use serde_json::Value;
use sqlx::PgPool;
use tests::{TestDatabase, test_database};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use uuid::Uuid;

use histories::{cancelled_order, closed_ticket, pending_order, shipped_order};

struct World {
    db: TestDatabase,
    store: Arc<dyn EventStore>,
    commands: Commands,
    wake: Arc<Notify>,
}

async fn world() -> World {
    let db = test_database().await;
    let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(db.pool.clone()));
    let commands = Commands::new(
        Arc::clone(&store),
        &RepositoryOptions::default(),
        infrastructure::SimulatedProvider::simulation(),
    );
    World {
        db,
        store,
        commands,
        wake: Arc::new(Notify::new()),
    }
}

fn meta() -> CommandMetadata {
    let id = Uuid::now_v7();
    CommandMetadata {
        command_id: id,
        correlation_id: id,
        causation_id: None,
        actor: "test".into(),
        client_correlation_id: None,
    }
}

fn operator() -> Actor {
    Actor::new("olga", Role::Operator)
}

fn fast() -> WorkerOptions {
    WorkerOptions {
        batch_size: 500,
        min_poll: Duration::from_millis(5),
        max_poll: Duration::from_millis(50),
        lock_retry: Duration::from_millis(20),
        max_attempts: 3,
        retry_base: Duration::from_millis(10),
    }
}

fn units(n: u32) -> Quantity {
    Quantity::new(n).unwrap()
}

impl World {
    fn worker(&self, projection: Arc<dyn Projection>, options: WorkerOptions) -> Worker {
        Worker::new(
            projection,
            Arc::clone(&self.store),
            self.db.pool.clone(),
            Arc::clone(&self.wake),
            options,
        )
    }

    async fn register(&self, sku: &str, quantity: u32, threshold: u32) {
        let input = RegisterProduct {
            sku: sku.into(),
            name: format!("Product {sku}"),
            initial_quantity: quantity,
            low_stock_threshold: threshold,
            price: "12.50".into(),
            currency: "EUR".into(),
        };
        self.commands
            .register_product(&operator(), input, &meta())
            .await
            .unwrap();
        self.wake.notify_waiters();
    }

    async fn place(&self, customer: &str, lines: &[(&str, u32)]) -> Uuid {
        let input = PlaceOrder {
            customer_id: None,
            currency: "EUR".into(),
            lines: lines
                .iter()
                .map(|(sku, quantity)| OrderLineInput {
                    sku: (*sku).into(),
                    quantity: *quantity,
                    unit_price: Some("12.50".into()),
                })
                .collect(),
            payment_token: "tok_visa".into(),
        };
        let result = self
            .commands
            .place_order(&Actor::new(customer, Role::Customer), input, &meta())
            .await
            .unwrap();
        result.stream.stream_id.parse().unwrap()
    }

    async fn stock(&self, sku: &str, command: stock::Command) {
        self.commands
            .stock()
            .execute(sku, command, &meta())
            .await
            .unwrap();
    }

    async fn order(&self, id: Uuid, command: order::Command) {
        self.commands
            .orders()
            .execute(&id.to_string(), command, &meta())
            .await
            .unwrap();
    }

    async fn payment(&self, id: Uuid, command: payment::Command) {
        self.commands
            .payments()
            .execute(&id.to_string(), command, &meta())
            .await
            .unwrap();
    }

    async fn open_ticket(&self, customer: &str, order: Option<Uuid>) -> Uuid {
        let input = OpenTicket {
            customer_id: None,
            subject: "Where is my parcel?".into(),
            message: "It has been a week.".into(),
            order_id: order,
        };
        let result = self
            .commands
            .open_ticket(&Actor::new(customer, Role::Customer), input, &meta())
            .await
            .unwrap();
        result.stream.stream_id.parse().unwrap()
    }

    async fn post(&self, ticket: Uuid, actor: &Actor, body: &str) {
        self.commands
            .post_ticket_message(actor, ticket, body.into(), &meta())
            .await
            .unwrap();
    }

    /// Waits until every named projection's checkpoint is at the last event of the log.
    async fn caught_up(&self, names: &[&str]) {
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        for _ in 0..500 {
            let done: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM projection_checkpoints c
                 WHERE c.name = ANY($1) AND (c.transaction_id, c.position) =
                     (SELECT transaction_id, position FROM events
                      ORDER BY transaction_id DESC, position DESC LIMIT 1)",
            )
            .bind(&names)
            .fetch_one(&self.db.pool)
            .await
            .unwrap();
            if usize::try_from(done).unwrap() == names.len() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("projections {names:?} did not catch up");
    }

    async fn row(&self, sql: &str, id: impl ToString) -> Value {
        sqlx::query_scalar::<_, Value>(&format!("SELECT to_jsonb(r) FROM ({sql}) r"))
            .bind(id.to_string())
            .fetch_optional(&self.db.pool)
            .await
            .unwrap()
            .unwrap_or(Value::Null)
    }

    async fn order_row(&self, id: Uuid) -> Value {
        self.row("SELECT * FROM rm_orders WHERE id = $1::uuid", id)
            .await
    }

    async fn ticket_row(&self, id: Uuid) -> Value {
        self.row("SELECT * FROM rm_tickets WHERE id = $1::uuid", id)
            .await
    }

    async fn product_row(&self, sku: &str) -> Value {
        self.row("SELECT * FROM rm_products WHERE sku = $1", sku)
            .await
    }

    async fn payment_row(&self, id: Uuid) -> Value {
        self.row("SELECT * FROM rm_payments WHERE order_id = $1::uuid", id)
            .await
    }

    async fn checkpoint(&self, name: &str) -> Value {
        self.row(
            "SELECT transaction_id::text, position, state, error
             FROM projection_checkpoints WHERE name = $1",
            name,
        )
        .await
    }

    /// The backends holding a projection lock in this database.
    async fn lock_holders(&self, owner: &PgPool) -> Vec<i32> {
        sqlx::query_scalar(
            "SELECT pid FROM pg_locks
             WHERE locktype = 'advisory' AND granted
               AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        )
        .fetch_all(owner)
        .await
        .unwrap()
    }

    /// The whole log in the global order, once every committed event is readable (a
    /// transaction running elsewhere in the cluster holds the readable horizon back).
    async fn all_events(&self) -> Vec<RecordedEvent> {
        let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
            .fetch_one(&self.db.pool)
            .await
            .unwrap();
        for _ in 0..500 {
            let events = self.store.read_all(Position::START, 10_000).await.unwrap();
            if i64::try_from(events.len()).unwrap() == stored {
                return events;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the log did not become readable");
    }
}

async fn stop(shutdown: &watch::Sender<bool>, handle: JoinHandle<Result<(), Error>>) {
    shutdown.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(10), handle)
        .await
        .expect("the worker stops on shutdown")
        .unwrap()
        .unwrap();
}

/// A shop with every kind of history the read models show, its workers caught up.
struct Shop {
    w: World,
    shipped: Uuid,
    cancelled: Uuid,
    pending: Uuid,
    ticket: Uuid,
    shutdown: watch::Sender<bool>,
    handles: Vec<JoinHandle<Result<(), Error>>>,
}

async fn shop() -> Shop {
    let w = world().await;
    w.register("MUG-1", 10, 3).await;
    w.register("PEN-1", 4, 3).await;
    let shipped = shipped_order(&w).await;
    let cancelled = cancelled_order(&w).await;
    let pending = pending_order(&w).await;
    let ticket = closed_ticket(&w, shipped).await;
    let (shutdown, stopped) = watch::channel(false);
    let handles = spawn_workers(
        &w.db.pool,
        &w.store,
        &w.wake,
        &Announcer::new(),
        &stopped,
        &fast(),
    );
    w.caught_up(&["orders", "products", "tickets", "payments"])
        .await;

    Shop {
        w,
        shipped,
        cancelled,
        pending,
        ticket,
        shutdown,
        handles,
    }
}

impl Shop {
    async fn stop(self) {
        self.shutdown.send(true).unwrap();
        for handle in self.handles {
            tokio::time::timeout(Duration::from_secs(10), handle)
                .await
                .unwrap()
                .unwrap()
                .unwrap();
        }
    }
}
