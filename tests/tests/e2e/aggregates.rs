//! Aggregates stored in our event store: snapshots agree with full replay, command ids are
//! idempotent, conflicts are retried, and cqrs-es's framework runs over our store.

// A test that cannot set up its fixtures has nothing left to check: failing loudly is right.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::sync::Arc;

use application::event_log::{CommandMetadata, LoadedStream, StreamRef};
use application::repository::{rehydrate, stream};
use application::{
    Error, EventSourced, OrderAggregate, PaymentAggregate, Repository, RepositoryOptions,
    StockAggregate, TicketAggregate, Upcasters,
};
use cqrs_es::CqrsFramework;
use domain::order::{self, CancellationReason, Line};
use domain::ticket::{self, Author, Role};
use domain::{
    AgentId, Currency, CustomerId, Money, OrderId, Quantity, Sku, TicketId, Timestamp, payment,
    stock,
};
use infrastructure::{CqrsEventStore, PgEventStore};
use tests::{TestDatabase, test_database};
use uuid::Uuid;

fn metadata() -> CommandMetadata {
    CommandMetadata {
        command_id: Uuid::now_v7(),
        correlation_id: Uuid::now_v7(),
        causation_id: None,
        actor: "tester".into(),
        client_correlation_id: None,
    }
}

fn repository<A>(db: &TestDatabase, snapshot_every: i64) -> Repository<A>
where
    A: EventSourced,
    A::Command: Clone + Send,
{
    Repository::new(
        Arc::new(PgEventStore::new(db.pool.clone())),
        Arc::new(Upcasters::current()),
        RepositoryOptions {
            snapshot_every,
            ..RepositoryOptions::default()
        },
    )
}

fn sku(s: &str) -> Sku {
    Sku::parse(s).unwrap()
}

fn qty(n: u32) -> Quantity {
    Quantity::new(n).unwrap()
}

fn at(ms: i64) -> Timestamp {
    Timestamp::from_millis(ms)
}

fn brl(minor: i64) -> Money {
    Money::new(minor, Currency::parse("BRL").unwrap())
}

/// Runs `commands` with a snapshot every 3 events, then checks that the state loaded from
/// the latest snapshot plus its tail equals the state folded from every event; then makes
/// the snapshot look like an older schema and checks it is ignored, not misread.
async fn snapshot_and_tail_equal_full_replay<A>(id: &str, commands: Vec<A::Command>)
where
    A: EventSourced + std::fmt::Debug,
    A::Command: Clone + Send,
    A::Domain: PartialEq + std::fmt::Debug,
{
    let db = test_database().await;
    let repo = repository::<A>(&db, 3);
    for command in commands {
        repo.execute(id, command, &metadata()).await.unwrap();
    }
    let store = PgEventStore::new(db.pool.clone());
    let stream_ref = stream::<A>(id);
    let loaded = store.load(&stream_ref, A::SNAPSHOT_SCHEMA).await.unwrap();
    let snapshot = loaded.snapshot.as_ref().expect("a snapshot was taken");
    assert!(!loaded.events.is_empty(), "the snapshot has a tail to fold");
    let all = store.read_stream(&stream_ref, 0).await.unwrap();
    assert_eq!(
        snapshot.version + loaded.events.len() as i64,
        all.len() as i64
    );

    let (from_snapshot, version) = repo.load(id).await.unwrap();
    let full = rehydrate::<A>(
        &LoadedStream {
            snapshot: None,
            events: all.clone(),
            head_hash: None,
        },
        &Upcasters::current(),
    )
    .unwrap();
    assert_eq!(from_snapshot.state(), full.state());
    assert_eq!(version, all.len() as i64);
    // Appends after snapshot-only loads linked to the snapshot's head: the chain holds.
    assert!(matches!(
        store.verify(Some(&stream_ref)).await.unwrap(),
        application::event_log::Integrity::Verified { .. }
    ));

    // A snapshot written by an older schema version is ignored, never misread.
    sqlx::query(
        "UPDATE snapshots SET schema_version = schema_version - 1, state = '{\"old\": true}'",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    let (after_bump, version_after_bump) = repo.load(id).await.unwrap();
    assert_eq!(after_bump.state(), full.state());
    assert_eq!(version_after_bump, all.len() as i64);
}

#[tokio::test]
async fn stock_snapshot_and_tail_equal_full_replay() {
    let order = |n| OrderId::from_u128(n);
    let mut commands = vec![stock::Command::Register {
        sku: sku("MUG"),
        name: "Mug".into(),
        low_stock_threshold: 5,
        initial_quantity: 20,
        price: brl(1250),
    }];
    for n in 1..=6 {
        commands.push(stock::Command::Reserve {
            order: order(n),
            quantity: qty(2),
        });
    }
    commands.extend([
        stock::Command::Commit { order: order(1) },
        stock::Command::Release { order: order(2) },
        stock::Command::Return {
            order: order(1),
            quantity: qty(2),
        },
        stock::Command::Restock { quantity: qty(7) },
        stock::Command::Reprice { price: brl(1490) },
        stock::Command::Commit { order: order(3) },
    ]);
    snapshot_and_tail_equal_full_replay::<StockAggregate>("MUG", commands).await;
}

#[tokio::test]
async fn order_snapshot_and_tail_equal_full_replay() {
    let lines = ["A", "B", "C"]
        .iter()
        .map(|s| Line {
            sku: sku(s),
            quantity: qty(2),
            unit_price: brl(1250),
        })
        .collect();
    let commands = vec![
        order::Command::Place {
            order: OrderId::from_u128(1),
            customer: CustomerId::parse("alice").unwrap(),
            currency: Currency::parse("BRL").unwrap(),
            lines,
            payment: domain::PaymentMethod::new("pm_visa", "fp_visa").unwrap(),
            at: at(1),
        },
        order::Command::RecordLineReserved { sku: sku("A") },
        order::Command::RecordLineReserved { sku: sku("B") },
        order::Command::RecordLineReserved { sku: sku("C") },
        order::Command::RecordPaymentSucceeded,
        order::Command::Confirm { at: at(2) },
        order::Command::Cancel {
            reason: CancellationReason::CustomerRequest,
            at: at(3),
        },
    ];
    snapshot_and_tail_equal_full_replay::<OrderAggregate>(&Uuid::now_v7().to_string(), commands)
        .await;
}

#[tokio::test]
async fn payment_snapshot_and_tail_equal_full_replay() {
    let commands = vec![
        payment::Command::Request {
            order: OrderId::from_u128(1),
            amount: brl(2500),
            method: domain::PaymentMethod::new("pm_tok_flaky", "fp_1").unwrap(),
        },
        payment::Command::RecordFailure {
            error: "gateway".into(),
        },
        payment::Command::RecordFailure {
            error: "gateway".into(),
        },
        payment::Command::RecordAuthorized,
        payment::Command::Refund,
    ];
    snapshot_and_tail_equal_full_replay::<PaymentAggregate>(&Uuid::now_v7().to_string(), commands)
        .await;
}

#[tokio::test]
async fn ticket_snapshot_and_tail_equal_full_replay() {
    let say = |body: &str| ticket::Command::PostMessage {
        author: Author {
            id: "bob".into(),
            role: Role::Agent,
        },
        body: body.into(),
        at: at(2),
    };
    let commands = vec![
        ticket::Command::Open {
            ticket: TicketId::from_u128(1),
            customer: CustomerId::parse("alice").unwrap(),
            subject: "Late".into(),
            message: "Where is it?".into(),
            order: Some(OrderId::from_u128(9)),
            at: at(1),
        },
        say("Looking"),
        ticket::Command::Assign {
            agent: AgentId::parse("bob").unwrap(),
            at: at(2),
        },
        say("Found it"),
        ticket::Command::Close {
            resolution: "Delivered".into(),
            at: at(3),
        },
        ticket::Command::Reopen { at: at(4) },
        say("Again?"),
    ];
    snapshot_and_tail_equal_full_replay::<TicketAggregate>(&Uuid::now_v7().to_string(), commands)
        .await;
}

#[tokio::test]
async fn the_same_command_id_twice_returns_the_first_result_and_appends_once() {
    let db = test_database().await;
    let repo = repository::<StockAggregate>(&db, 100);
    let register = stock::Command::Register {
        sku: sku("CUP"),
        name: "Cup".into(),
        low_stock_threshold: 0,
        initial_quantity: 1,
        price: brl(1250),
    };
    repo.execute("CUP", register, &metadata()).await.unwrap();
    let restock = metadata();
    let command = stock::Command::Restock { quantity: qty(5) };
    let first = repo
        .execute("CUP", command.clone(), &restock)
        .await
        .unwrap();
    let again = repo.execute("CUP", command, &restock).await.unwrap();
    assert_eq!(first, again);
    let (stock, version) = repo.load("CUP").await.unwrap();
    assert_eq!((stock.state().on_hand(), version), (6, 3));
}

#[tokio::test]
async fn concurrent_commands_on_one_hot_aggregate_are_retried_not_lost() {
    let db = test_database().await;
    let repo = repository::<StockAggregate>(&db, 10);
    let register = stock::Command::Register {
        sku: sku("HOT"),
        name: "Hot".into(),
        low_stock_threshold: 0,
        initial_quantity: 0,
        price: brl(1250),
    };
    repo.execute("HOT", register, &metadata()).await.unwrap();
    let restocks = (0..20).map(|_| {
        let repo = repo.clone();
        tokio::spawn(async move {
            let command = stock::Command::Restock { quantity: qty(1) };
            repo.execute("HOT", command, &metadata()).await
        })
    });
    let mut conflicts = 0;
    for result in futures::future::join_all(restocks).await {
        match result.unwrap() {
            Ok(_) => {}
            Err(Error::Conflict { .. }) => conflicts += 1,
            Err(other) => panic!("{other}"),
        }
    }
    let (stock, _) = repo.load("HOT").await.unwrap();
    assert_eq!(
        stock.state().on_hand(),
        20 - conflicts,
        "every success counted once"
    );
    assert!(
        conflicts <= 2,
        "retries absorb the races: {conflicts} conflicts leaked"
    );
}

#[tokio::test]
async fn a_refused_command_names_its_rule_and_appends_nothing() {
    let db = test_database().await;
    let repo = repository::<StockAggregate>(&db, 10);
    let result = repo
        .execute(
            "NONE",
            stock::Command::Restock { quantity: qty(1) },
            &metadata(),
        )
        .await;
    match result {
        Err(Error::Rejected(rejection)) => assert_eq!(rejection.rule(), "NotRegistered"),
        other => panic!("{other:?}"),
    }
    let store = PgEventStore::new(db.pool.clone());
    assert!(
        store
            .read_stream(&StreamRef::new("stock", "NONE"), 0)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn cqrs_es_framework_runs_our_aggregates_over_our_store() {
    let db = test_database().await;
    let store = CqrsEventStore::<StockAggregate>::new(
        PgEventStore::new(db.pool.clone()),
        Arc::new(Upcasters::current()),
        2,
    );
    let cqrs = CqrsFramework::new(store, vec![], ());
    let mut meta = HashMap::new();
    meta.insert("actor".to_owned(), "framework".to_owned());
    cqrs.execute_with_metadata(
        "TEA",
        stock::Command::Register {
            sku: sku("TEA"),
            name: "Tea".into(),
            low_stock_threshold: 1,
            initial_quantity: 3,
            price: brl(1250),
        },
        meta.clone(),
    )
    .await
    .unwrap();
    cqrs.execute_with_metadata(
        "TEA",
        stock::Command::Reserve {
            order: OrderId::from_u128(1),
            quantity: qty(3),
        },
        meta,
    )
    .await
    .unwrap();
    let refused = cqrs
        .execute(
            "TEA",
            stock::Command::Commit {
                order: OrderId::from_u128(2),
            },
        )
        .await;
    assert!(matches!(
        refused,
        Err(cqrs_es::AggregateError::UserError(_))
    ));

    // What the framework wrote is our log: hash-chained, snapshotted, readable by our repository.
    let pg = PgEventStore::new(db.pool.clone());
    let events = pg
        .read_stream(&StreamRef::new("stock", "TEA"), 0)
        .await
        .unwrap();
    let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(
        types,
        vec![
            "ProductRegistered",
            "StockRestocked",
            "StockReserved",
            "LowStock"
        ]
    );
    assert_eq!(events[0].metadata["actor"], "framework");
    assert_eq!(events[1].prev_hash, events[0].hash);
    let (stock, version) = repository::<StockAggregate>(&db, 2)
        .load("TEA")
        .await
        .unwrap();
    assert_eq!((stock.state().available(), version), (0, 4));
}

fn register(id: &str, quantity: u32) -> stock::Command {
    stock::Command::Register {
        sku: sku(id),
        name: id.into(),
        low_stock_threshold: 0,
        initial_quantity: quantity,
        price: brl(1250),
    }
}

fn reserve(order: u128, quantity: u32) -> stock::Command {
    stock::Command::Reserve {
        order: OrderId::from_u128(order),
        quantity: qty(quantity),
    }
}

async fn event_types(db: &TestDatabase, stream: &StreamRef) -> Vec<String> {
    PgEventStore::new(db.pool.clone())
        .read_stream(stream, 0)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event_type)
        .collect()
}

/// Two repositories on one database stand for two server processes: each keeps the
/// aggregates it wrote, and the other's writes make what it keeps stale.
#[tokio::test]
async fn a_kept_aggregate_another_process_moved_past_is_decided_again_on_the_stored_stream() {
    let db = test_database().await;
    let here = repository::<StockAggregate>(&db, 100);
    let there = repository::<StockAggregate>(&db, 100);
    here.execute("ONE", register("ONE", 1), &metadata())
        .await
        .unwrap();
    there
        .execute("ONE", reserve(1, 1), &metadata())
        .await
        .unwrap();
    // Kept here: one unit available. Stored: none. Deciding on what is kept would sell the
    // unit twice; the append's head check refuses that, and the stored stream decides.
    here.execute("ONE", reserve(2, 1), &metadata())
        .await
        .unwrap();
    let (stock, version) = here.load("ONE").await.unwrap();
    assert_eq!(
        (stock.state().reserved(), stock.state().available(), version),
        (1, 0, 4)
    );
    assert!(stock.state().reservation(OrderId::from_u128(2)).is_none());
    let stream = StreamRef::new("stock", "ONE");
    assert_eq!(
        event_types(&db, &stream).await,
        [
            "ProductRegistered",
            "StockRestocked",
            "StockReserved",
            "StockReservationRejected"
        ]
    );

    // A refusal decided on a stale kept aggregate is not trusted either: kept here, order 3
    // holds nothing; stored, it holds a unit after a restock elsewhere.
    there
        .execute(
            "ONE",
            stock::Command::Restock { quantity: qty(1) },
            &metadata(),
        )
        .await
        .unwrap();
    there
        .execute("ONE", reserve(3, 1), &metadata())
        .await
        .unwrap();
    let commit = stock::Command::Commit {
        order: OrderId::from_u128(3),
    };
    here.execute("ONE", commit, &metadata()).await.unwrap();
    let types = event_types(&db, &stream).await;
    assert_eq!(types.last().map(String::as_str), Some("StockCommitted"));
}

/// A read of an aggregate this process keeps trusts what it keeps only while the stream's
/// version is the kept one: a reprice by another process is read as it stands.
#[tokio::test]
async fn a_kept_aggregate_is_read_as_kept_only_while_its_stream_has_not_moved() {
    let db = test_database().await;
    let here = repository::<StockAggregate>(&db, 100);
    let there = repository::<StockAggregate>(&db, 100);
    let price = |stock: &StockAggregate, version: i64| (stock.0.price(), version);
    assert_eq!(here.read("ONE", price).await.unwrap(), (None, 0));
    here.execute("ONE", register("ONE", 1), &metadata())
        .await
        .unwrap();
    assert_eq!(here.read("ONE", price).await.unwrap(), (Some(brl(1250)), 2));

    let reprice = stock::Command::Reprice { price: brl(990) };
    there.execute("ONE", reprice, &metadata()).await.unwrap();
    assert_eq!(here.read("ONE", price).await.unwrap(), (Some(brl(990)), 3));
    // What it keeps is still the older state: the read did not take its place.
    here.execute("ONE", reserve(1, 1), &metadata())
        .await
        .unwrap();
    assert_eq!(here.read("ONE", price).await.unwrap(), (Some(brl(990)), 4));
}

/// The event store, counting the streams loaded to decide a command on.
struct CountingLoads {
    inner: PgEventStore,
    loads: std::sync::atomic::AtomicUsize,
}

#[async_trait::async_trait]
impl application::EventStore for CountingLoads {
    async fn load(&self, stream: &StreamRef, schema: i32) -> Result<LoadedStream, Error> {
        application::EventStore::load(&self.inner, stream, schema).await
    }

    async fn load_for_command(
        &self,
        stream: &StreamRef,
        schema: i32,
        command_id: Uuid,
    ) -> Result<application::ForCommand, Error> {
        self.loads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        application::EventStore::load_for_command(&self.inner, stream, schema, command_id).await
    }

    async fn version(&self, stream: &StreamRef) -> Result<i64, Error> {
        application::EventStore::version(&self.inner, stream).await
    }

    async fn append(
        &self,
        append: &application::event_log::Append,
    ) -> Result<application::AppendOutcome, Error> {
        application::EventStore::append(&self.inner, append).await
    }

    async fn command_outcome(
        &self,
        command_id: Uuid,
    ) -> Result<Option<(StreamRef, application::event_log::Appended)>, Error> {
        application::EventStore::command_outcome(&self.inner, command_id).await
    }

    async fn read_filtered(
        &self,
        after: application::event_log::Position,
        limit: i64,
        filter: &application::event_log::ReadFilter,
    ) -> Result<Vec<application::event_log::RecordedEvent>, Error> {
        application::EventStore::read_filtered(&self.inner, after, limit, filter).await
    }

    async fn head(&self) -> Result<application::event_log::Position, Error> {
        application::EventStore::head(&self.inner).await
    }

    async fn count(
        &self,
        after: application::event_log::Position,
        filter: &application::event_log::ReadFilter,
    ) -> Result<i64, Error> {
        application::EventStore::count(&self.inner, after, filter).await
    }

    async fn read_stream(
        &self,
        stream: &StreamRef,
        after_version: i64,
    ) -> Result<Vec<application::event_log::RecordedEvent>, Error> {
        application::EventStore::read_stream(&self.inner, stream, after_version).await
    }

    async fn verify(
        &self,
        stream: Option<&StreamRef>,
    ) -> Result<application::event_log::Integrity, Error> {
        application::EventStore::verify(&self.inner, stream).await
    }
}

#[tokio::test]
async fn a_command_on_an_aggregate_this_process_wrote_last_or_on_a_new_stream_loads_nothing() {
    let db = test_database().await;
    let counting = Arc::new(CountingLoads {
        inner: PgEventStore::new(db.pool.clone()),
        loads: std::sync::atomic::AtomicUsize::new(0),
    });
    let loads = || counting.loads.load(std::sync::atomic::Ordering::SeqCst);
    let options = |keep| RepositoryOptions {
        keep,
        ..RepositoryOptions::default()
    };
    let kept = Repository::<StockAggregate>::new(
        Arc::clone(&counting) as Arc<dyn application::EventStore>,
        Arc::new(Upcasters::current()),
        options(16),
    );
    kept.execute("TWO", register("TWO", 5), &metadata())
        .await
        .unwrap();
    for order in 1..=3 {
        kept.execute("TWO", reserve(order, 1), &metadata())
            .await
            .unwrap();
    }
    assert_eq!(
        loads(),
        0,
        "a new stream and the aggregate written last load nothing"
    );

    // A command that starts a stream that exists after all is decided on the stored stream.
    let elsewhere = Repository::<StockAggregate>::new(
        Arc::clone(&counting) as Arc<dyn application::EventStore>,
        Arc::new(Upcasters::current()),
        options(16),
    );
    match elsewhere
        .execute("TWO", register("TWO", 5), &metadata())
        .await
    {
        Err(Error::Rejected(rejection)) => assert_eq!(rejection.rule(), "AlreadyRegistered"),
        other => panic!("registered twice: {other:?}"),
    }

    // Resending an applied command on the kept aggregate still answers its first result.
    let again = metadata();
    let first = kept.execute("TWO", reserve(4, 1), &again).await.unwrap();
    let resent = kept.execute("TWO", reserve(4, 1), &again).await.unwrap();
    assert_eq!(resent, first);
    let (stock, _) = kept.load("TWO").await.unwrap();
    assert_eq!(stock.state().reserved(), 4, "the resend reserved nothing");

    // Keeping nothing loads for every command.
    let unkept = Repository::<StockAggregate>::new(
        Arc::clone(&counting) as Arc<dyn application::EventStore>,
        Arc::new(Upcasters::current()),
        options(0),
    );
    let before = loads();
    for order in 5..=6 {
        unkept
            .execute("TWO", reserve(order, 1), &metadata())
            .await
            .unwrap();
    }
    assert_eq!(loads() - before, 2);
}
