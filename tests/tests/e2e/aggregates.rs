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
            payment_token: "tok_visa".into(),
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
            token: "tok_flaky".into(),
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
