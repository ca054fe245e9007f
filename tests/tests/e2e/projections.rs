//! Projection workers against a real PostgreSQL: read models say what a client expects,
//! a worker resumes from its checkpoint, one worker per projection, failures park.

// A test that cannot set up its fixtures has nothing left to check: failing loudly is right.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use application::commands::{OpenTicket, OrderLineInput, PlaceOrder, RegisterProduct};
use application::event_log::{CommandMetadata, Position, RecordedEvent};
use application::{Actor, Commands, EventStore, RepositoryOptions, Role};
use domain::{Currency, Money, OrderId, Quantity, Timestamp, order, payment, stock};
use infrastructure::PgEventStore;
use projections::{
    Announcer, Error, Products, Projection, Projections, Tickets, Worker, WorkerOptions,
    spawn_workers,
};
use serde_json::{Value, json};
use sqlx::{Connection, PgPool};
use tests::{TestDatabase, test_database};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use uuid::Uuid;

struct World {
    db: TestDatabase,
    store: Arc<dyn EventStore>,
    commands: Commands,
    wake: Arc<Notify>,
}

async fn world() -> World {
    let db = test_database().await;
    let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(db.pool.clone()));
    let commands = Commands::new(Arc::clone(&store), &RepositoryOptions::default());
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

fn now() -> Timestamp {
    Timestamp::from_millis(chrono::Utc::now().timestamp_millis())
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

/// Shipped: reserved, paid, committed, confirmed, shipped.
async fn shipped_order(w: &World) -> Uuid {
    let eur = Currency::parse("EUR").unwrap();

    let shipped = w.place("alice", &[("MUG-1", 2)]).await;
    let order_id = OrderId::from_u128(shipped.as_u128());
    w.stock(
        "MUG-1",
        stock::Command::Reserve {
            order: order_id,
            quantity: units(2),
        },
    )
    .await;
    w.order(
        shipped,
        order::Command::RecordLineReserved {
            sku: domain::Sku::parse("MUG-1").unwrap(),
        },
    )
    .await;
    w.payment(
        shipped,
        payment::Command::Request {
            order: order_id,
            amount: Money::new(2500, eur),
            token: "tok_visa".into(),
        },
    )
    .await;
    w.payment(shipped, payment::Command::RecordAuthorized).await;
    w.order(shipped, order::Command::RecordPaymentSucceeded)
        .await;
    w.stock("MUG-1", stock::Command::Commit { order: order_id })
        .await;
    w.order(shipped, order::Command::Confirm { at: now() })
        .await;
    w.commands
        .ship_order(&operator(), shipped, &meta())
        .await
        .unwrap();

    shipped
}

/// Cancelled by the customer: its reservation released, payment declined.
async fn cancelled_order(w: &World) -> Uuid {
    let eur = Currency::parse("EUR").unwrap();
    let cancelled = w.place("alice", &[("PEN-1", 1)]).await;
    let cancelled_id = OrderId::from_u128(cancelled.as_u128());
    w.stock(
        "PEN-1",
        stock::Command::Reserve {
            order: cancelled_id,
            quantity: units(1),
        },
    )
    .await;
    w.payment(
        cancelled,
        payment::Command::Request {
            order: cancelled_id,
            amount: Money::new(1250, eur),
            token: "tok_chargeDeclined".into(),
        },
    )
    .await;
    w.payment(
        cancelled,
        payment::Command::RecordDeclined {
            reason: "card declined".into(),
        },
    )
    .await;
    w.commands
        .cancel_order(&Actor::new("alice", Role::Customer), cancelled, &meta())
        .await
        .unwrap();
    w.stock(
        "PEN-1",
        stock::Command::Release {
            order: cancelled_id,
        },
    )
    .await;

    cancelled
}

/// Pending, holding two pens (stock now low); another asks for too many (rejected). Then
/// pens get cheaper; the orders keep their prices.
async fn pending_order(w: &World) -> Uuid {
    let eur = Currency::parse("EUR").unwrap();
    let pending = w.place("bob", &[("PEN-1", 2)]).await;
    w.stock(
        "PEN-1",
        stock::Command::Reserve {
            order: OrderId::from_u128(pending.as_u128()),
            quantity: units(2),
        },
    )
    .await;
    let greedy = w.place("bob", &[("PEN-1", 50)]).await;
    w.stock(
        "PEN-1",
        stock::Command::Reserve {
            order: OrderId::from_u128(greedy.as_u128()),
            quantity: units(50),
        },
    )
    .await;

    w.stock(
        "PEN-1",
        stock::Command::Reprice {
            price: Money::new(200, eur),
        },
    )
    .await;

    pending
}

/// A ticket about `order` with a thread, assigned and closed.
async fn closed_ticket(w: &World, shipped: Uuid) -> Uuid {
    let ticket = w.open_ticket("alice", Some(shipped)).await;
    let agent = Actor::new("agnes", Role::Agent);
    w.post(ticket, &agent, "Let me check.").await;
    w.post(ticket, &Actor::new("alice", Role::Customer), "Thanks!")
        .await;
    w.commands
        .assign_ticket(&agent, ticket, "agnes", &meta())
        .await
        .unwrap();
    w.commands
        .close_ticket(&agent, ticket, "Delivered.".into(), &meta())
        .await
        .unwrap();

    ticket
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

#[tokio::test]
async fn the_orders_read_model_says_what_a_client_expects() {
    let shop = shop().await;
    let (w, shipped, cancelled, pending) = (&shop.w, shop.shipped, shop.cancelled, shop.pending);
    let o = w.order_row(shipped).await;
    assert_eq!(o["status"], "SHIPPED");
    assert_eq!(o["customer_id"], "alice");
    assert_eq!(o["total_minor"], 2500);
    assert_eq!(
        o["lines"],
        json!([{"sku": "MUG-1", "quantity": 2, "unitPriceMinor": 1250, "lineTotalMinor": 2500}])
    );
    assert_eq!(o["payment_status"], "SUCCEEDED");
    assert_eq!(o["payment_amount_minor"], 2500);
    let timeline: Vec<&str> = o["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        timeline,
        [
            "OrderPlaced",
            "OrderLineReserved",
            "OrderPaid",
            "OrderConfirmed",
            "OrderShipped"
        ]
    );
    assert_eq!(o["version"], 5);

    let c = w.order_row(cancelled).await;
    assert_eq!(c["status"], "CANCELLED");
    assert_eq!(c["cancellation_reason"], "CUSTOMER_REQUEST");
    assert_eq!(c["payment_status"], "DECLINED");
    assert_eq!(w.order_row(pending).await["status"], "PENDING");
    let history: Vec<Uuid> = sqlx::query_scalar(
        "SELECT id FROM rm_orders WHERE customer_id = 'alice' ORDER BY placed_at DESC, id DESC",
    )
    .fetch_all(&w.db.pool)
    .await
    .unwrap();
    assert_eq!(history.len(), 2);
    assert!(history.contains(&shipped) && history.contains(&cancelled));

    shop.stop().await;
}

#[tokio::test]
async fn the_products_read_model_keeps_levels_and_prices_and_takes_events_twice() {
    let shop = shop().await;
    let w = &shop.w;
    let mug = w.product_row("MUG-1").await;
    assert_eq!(
        (
            &mug["on_hand"],
            &mug["reserved"],
            &mug["available"],
            &mug["low_stock"]
        ),
        (&json!(8), &json!(0), &json!(8), &json!(false))
    );
    let pen = w.product_row("PEN-1").await;
    assert_eq!(
        (
            &pen["on_hand"],
            &pen["reserved"],
            &pen["available"],
            &pen["low_stock"]
        ),
        (&json!(4), &json!(2), &json!(2), &json!(true))
    );
    assert_eq!(pen["name"], "Product PEN-1");
    assert_eq!(
        (&pen["price_minor"], &pen["currency"]),
        (&json!(200), &json!("EUR"))
    );
    assert_eq!(
        (&mug["price_minor"], &mug["currency"]),
        (&json!(1250), &json!("EUR"))
    );
    // At-least-once: delivering the whole log again changes no product.
    let mut conn = w.db.pool.acquire().await.unwrap();
    let mut tx = conn.begin().await.unwrap();
    for event in w.all_events().await {
        Products.apply(&mut tx, &event).await.unwrap();
    }
    tx.commit().await.unwrap();
    assert_eq!(w.product_row("PEN-1").await, pen);
    assert_eq!(w.product_row("MUG-1").await, mug);

    shop.stop().await;
}

#[tokio::test]
async fn the_tickets_and_payments_read_models_say_what_a_client_expects() {
    let shop = shop().await;
    let (w, shipped, cancelled, ticket) = (&shop.w, shop.shipped, shop.cancelled, shop.ticket);
    let t = w.ticket_row(ticket).await;
    assert_eq!(t["status"], "CLOSED");
    assert_eq!(t["assignee"], "agnes");
    assert_eq!(t["resolution"], "Delivered.");
    assert_eq!(t["order_id"], json!(shipped.to_string()));
    let thread: Vec<(&str, &str, &str)> = t["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["author"].as_str().unwrap(),
                m["role"].as_str().unwrap(),
                m["body"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        thread,
        [
            ("alice", "customer", "It has been a week."),
            ("agnes", "agent", "Let me check."),
            ("alice", "customer", "Thanks!"),
        ]
    );

    let p = w.payment_row(shipped).await;
    assert_eq!(
        (
            &p["status"],
            &p["amount_minor"],
            &p["currency"],
            &p["attempts"]
        ),
        (&json!("SUCCEEDED"), &json!(2500), &json!("EUR"), &json!(1))
    );
    assert_eq!(w.payment_row(cancelled).await["status"], "DECLINED");

    shop.stop().await;
}

#[tokio::test]
async fn workers_are_woken_in_process_and_stop_on_shutdown() {
    let shop = shop().await;
    // Woken in process: a new command is visible without waiting for a long poll.
    shop.w.register("CUP-1", 1, 0).await;
    shop.w.caught_up(&["products"]).await;
    assert_eq!(shop.w.product_row("CUP-1").await["on_hand"], 1);

    shop.stop().await;
    assert_eq!(Projections::all().len(), 4);
}

#[tokio::test]
async fn a_worker_whose_connection_is_dropped_resumes_from_its_checkpoint_without_doubling() {
    let w = world().await;
    let owner = w.db.owner_pool().await;
    let ticket = w.open_ticket("alice", None).await;
    let agent = Actor::new("agnes", Role::Agent);
    for n in 1..=15 {
        w.post(ticket, &agent, &format!("message {n}")).await;
    }
    let options = WorkerOptions {
        batch_size: 4,
        ..fast()
    };
    let (shutdown, stopped) = watch::channel(false);
    let handle = tokio::spawn(w.worker(Arc::new(Tickets), options).run(stopped));
    w.caught_up(&["tickets"]).await;

    // Its session is killed; more messages arrive meanwhile.
    let holders = w.lock_holders(&owner).await;
    assert_eq!(holders.len(), 1);
    let killed: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
        .bind(holders[0])
        .fetch_one(&owner)
        .await
        .unwrap();
    assert!(killed);
    for n in 16..=30 {
        w.post(ticket, &agent, &format!("message {n}")).await;
    }
    w.wake.notify_waiters();
    w.caught_up(&["tickets"]).await;
    let holders_after = w.lock_holders(&owner).await;
    assert_eq!(holders_after.len(), 1);
    assert_ne!(holders_after, holders, "a new session took the lock");

    let bodies = |row: &Value| -> Vec<String> {
        row["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["body"].as_str().unwrap().to_owned())
            .collect()
    };
    let mut expected = vec!["It has been a week.".to_owned()];
    expected.extend((1..=30).map(|n| format!("message {n}")));
    let row = w.ticket_row(ticket).await;
    assert_eq!(bodies(&row), expected);
    assert_eq!(row["version"], 31);

    // Killed by aborting its task this time: a new worker resumes where it left off.
    handle.abort();
    let _ = handle.await;
    for n in 31..=33 {
        w.post(ticket, &agent, &format!("message {n}")).await;
    }
    let (shutdown2, stopped2) = watch::channel(false);
    let again = tokio::spawn(w.worker(Arc::new(Tickets), fast()).run(stopped2));
    w.caught_up(&["tickets"]).await;
    expected.extend((31..=33).map(|n| format!("message {n}")));
    assert_eq!(bodies(&w.ticket_row(ticket).await), expected);

    // At-least-once: delivering the whole log again changes nothing.
    let mut conn = w.db.pool.acquire().await.unwrap();
    let mut tx = conn.begin().await.unwrap();
    for event in w.all_events().await {
        Tickets.apply(&mut tx, &event).await.unwrap();
    }
    tx.commit().await.unwrap();
    assert_eq!(bodies(&w.ticket_row(ticket).await), expected);

    stop(&shutdown2, again).await;
    drop(shutdown);
}

#[tokio::test]
async fn of_two_workers_for_one_projection_one_processes_and_the_other_takes_over_when_it_stops() {
    let w = world().await;
    let owner = w.db.owner_pool().await;
    w.register("MUG-1", 5, 0).await;
    let (stop_a, stopped_a) = watch::channel(false);
    let a = tokio::spawn(w.worker(Arc::new(Products), fast()).run(stopped_a));
    w.caught_up(&["products"]).await;
    let (stop_b, stopped_b) = watch::channel(false);
    let b = tokio::spawn(w.worker(Arc::new(Products), fast()).run(stopped_b));

    let first = w.lock_holders(&owner).await;
    assert_eq!(first.len(), 1, "exactly one worker holds the lock");
    w.stock("MUG-1", stock::Command::Restock { quantity: units(1) })
        .await;
    w.wake.notify_waiters();
    w.caught_up(&["products"]).await;
    assert_eq!(w.product_row("MUG-1").await["on_hand"], 6);
    assert_eq!(
        w.lock_holders(&owner).await,
        first,
        "the first worker kept it"
    );

    stop(&stop_a, a).await;
    w.stock("MUG-1", stock::Command::Restock { quantity: units(2) })
        .await;
    w.caught_up(&["products"]).await;
    let product = w.product_row("MUG-1").await;
    assert_eq!(product["on_hand"], 8);
    assert_eq!(product["version"], 4);
    let second = w.lock_holders(&owner).await;
    assert_eq!(second.len(), 1);
    assert_ne!(second, first, "the waiting worker took over");
    stop(&stop_b, b).await;
}

#[tokio::test]
async fn a_failing_event_is_retried_then_parks_the_projection_before_it() {
    let w = world().await;
    let owner = w.db.owner_pool().await;
    w.register("MUG-1", 10, 0).await;
    sqlx::query(
        "INSERT INTO events (stream_type, stream_id, version, event_id, event_type,
             event_version, payload, metadata, prev_hash, hash)
         VALUES ('stock', 'BAD-1', 1, $1, 'ProductRegistered', 1, '{\"oops\": true}', '{}',
             '', '\\x00')",
    )
    .bind(Uuid::now_v7())
    .execute(&owner)
    .await
    .unwrap();
    w.register("PEN-1", 3, 0).await;
    let events = w.all_events().await;
    let bad = events
        .iter()
        .position(|e| e.stream.stream_id == "BAD-1")
        .unwrap();
    let before_bad = events[bad - 1].position;

    let (_shutdown, stopped) = watch::channel(false);
    let outcome = tokio::time::timeout(
        Duration::from_secs(10),
        w.worker(Arc::new(Products), fast()).run(stopped),
    )
    .await
    .expect("the worker gives up and parks");
    let Err(Error::Parked { name, error }) = outcome else {
        panic!("expected a parked projection, got {outcome:?}");
    };
    assert_eq!(name, "products");
    assert!(error.contains("stock/BAD-1"), "{error}");

    let checkpoint = w.checkpoint("products").await;
    assert_eq!(checkpoint["state"], "parked");
    assert!(
        checkpoint["error"]
            .as_str()
            .unwrap()
            .contains("ProductRegistered")
    );
    assert_eq!(checkpoint["position"], before_bad.position);
    assert_eq!(
        checkpoint["transaction_id"],
        before_bad.transaction_id.to_string()
    );
    // The events before the bad one are applied, none after it.
    assert_eq!(w.product_row("MUG-1").await["on_hand"], 10);
    assert_eq!(w.product_row("PEN-1").await, Value::Null);

    // A parked projection stays parked for the next worker too.
    let (_shutdown, stopped) = watch::channel(false);
    let again = w.worker(Arc::new(Products), fast()).run(stopped).await;
    assert!(matches!(again, Err(Error::Parked { .. })), "{again:?}");
}

/// After each committed batch a worker announces its projection and new checkpoint, which
/// is what row subscriptions wait on instead of polling their row.
#[tokio::test]
async fn a_worker_announces_each_committed_batch_with_its_checkpoint() {
    let w = world().await;
    let announcer = Announcer::new();
    let mut committed = announcer.listen();
    let (shutdown, stopped) = watch::channel(false);
    let worker = w
        .worker(Arc::new(Products), fast())
        .announcing(announcer.clone());
    let handle = tokio::spawn(worker.run(stopped));

    w.register("MUG-1", 5, 1).await;
    let last: (String, i64) = sqlx::query_as(
        "SELECT transaction_id::text, position FROM events
         ORDER BY transaction_id DESC, position DESC LIMIT 1",
    )
    .fetch_one(&w.db.pool)
    .await
    .unwrap();
    let batch = tokio::time::timeout(Duration::from_secs(30), committed.recv())
        .await
        .expect("an announcement")
        .unwrap();
    assert_eq!(batch.projection, "products");
    assert_eq!(
        (
            batch.position.transaction_id.to_string(),
            batch.position.position
        ),
        last
    );
    stop(&shutdown, handle).await;
}
