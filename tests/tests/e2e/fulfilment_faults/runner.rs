//! The saga runner on its own: a runner that lost its lock stores nothing, and an event that
//! does not decode parks the saga until an operator resumes it.

use std::time::Duration;

use application::Role;

use infrastructure::PgEventStore;
use uuid::Uuid;

#[tokio::test]
async fn a_runner_that_lost_its_lock_can_store_nothing() {
    use projections::saga::fence;
    let db = tests::test_database().await;
    let mut old = db.pool.acquire().await.unwrap();
    let mut new = db.pool.acquire().await.unwrap();
    let old_epoch = fence::take(&mut old, "fulfilment").await.unwrap();
    let mut tx = sqlx::Connection::begin(&mut *old).await.unwrap();
    fence::hold(&mut tx, "fulfilment", old_epoch).await.unwrap();
    // The new runner's take waits for the old one's write in flight, then wins.
    let taking = tokio::spawn(async move {
        let epoch = fence::take(&mut new, "fulfilment").await.unwrap();
        (new, epoch)
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!taking.is_finished(), "take waits for the write in flight");
    tx.commit().await.unwrap();
    let (mut new, new_epoch) = taking.await.unwrap();
    assert!(new_epoch > old_epoch);
    let mut tx = sqlx::Connection::begin(&mut *old).await.unwrap();
    assert!(matches!(
        fence::hold(&mut tx, "fulfilment", old_epoch).await,
        Err(projections::Error::Fenced("fulfilment"))
    ));
    let mut tx = sqlx::Connection::begin(&mut *new).await.unwrap();
    fence::hold(&mut tx, "fulfilment", new_epoch).await.unwrap();
}

/// A step's outcome stored under an old epoch writes nothing at all: neither the saga, nor
/// its deadline, nor its dead letters; under the current epoch all three land.
#[tokio::test]
async fn a_step_stored_under_an_old_epoch_writes_nothing() {
    use application::saga::{Failure, Saga};
    use projections::saga::dead_letters::Place;
    use projections::saga::fence;
    use projections::saga::outcome::{self, Deadline, Outcome};
    let db = tests::test_database().await;
    let mut conn = db.pool.acquire().await.unwrap();
    let old_epoch = fence::take(&mut conn, "fulfilment").await.unwrap();
    let new_epoch = fence::take(&mut conn, "fulfilment").await.unwrap();
    let order = Uuid::now_v7();
    let saga = Saga {
        order,
        correlation_id: Uuid::now_v7(),
        steps: Vec::new(),
        position: application::event_log::Position::START,
    };
    let letters = vec![(
        Place {
            order,
            step: 0,
            action: 1,
        },
        "ChargePayment".to_owned(),
        Failure {
            error: "down".into(),
            attempts: 3,
        },
    )];
    let cause = serde_json::json!({});
    let outcome = Outcome {
        saga: &saga,
        phase: domain::fulfilment::Phase::Paying,
        deadline: Deadline::Start(chrono::Utc::now()),
        dead_letters: &letters,
        cause: &cause,
    };
    let counts = || async {
        sqlx::query_as::<_, (i64, i64, i64)>(
            "SELECT (SELECT count(*) FROM saga_fulfilments), (SELECT count(*) FROM saga_deadlines),
                    (SELECT count(*) FROM saga_dead_letters)",
        )
        .fetch_one(&db.pool)
        .await
        .unwrap()
    };
    assert!(matches!(
        outcome::store(&db.pool, "fulfilment", old_epoch, &outcome).await,
        Err(projections::Error::Fenced("fulfilment"))
    ));
    assert_eq!(counts().await, (0, 0, 0));
    outcome::store(&db.pool, "fulfilment", new_epoch, &outcome)
        .await
        .unwrap();
    assert_eq!(counts().await, (1, 1, 1));
    let cleared = Outcome {
        deadline: Deadline::Clear,
        dead_letters: &[],
        ..outcome
    };
    outcome::store(&db.pool, "fulfilment", new_epoch, &cleared)
        .await
        .unwrap();
    assert_eq!(counts().await, (1, 0, 1));
}

/// Steps of several orders done at the same time are stored in one statement: each
/// order's saga, deadline and dead letters land as they would alone, or, under an old
/// epoch, nothing of any of them.
#[tokio::test]
async fn outcomes_of_several_orders_are_stored_together_or_not_at_all() {
    use application::saga::{Failure, Saga};
    use projections::saga::dead_letters::Place;
    use projections::saga::fence;
    use projections::saga::outcome::{Deadline, Outcome, Row, store_all};
    let db = tests::test_database().await;
    let mut conn = db.pool.acquire().await.unwrap();
    let old_epoch = fence::take(&mut conn, "fulfilment").await.unwrap();
    let new_epoch = fence::take(&mut conn, "fulfilment").await.unwrap();
    let sagas: Vec<Saga> = (0..3)
        .map(|_| Saga {
            order: Uuid::now_v7(),
            correlation_id: Uuid::now_v7(),
            steps: Vec::new(),
            position: application::event_log::Position::START,
        })
        .collect();
    let letter = |order| {
        (
            Place {
                order,
                step: 0,
                action: 0,
            },
            "ReserveStock A".to_owned(),
            Failure {
                error: "down".into(),
                attempts: 5,
            },
        )
    };
    let letters = [
        vec![letter(sagas[0].order)],
        vec![],
        vec![letter(sagas[2].order)],
    ];
    let cause = serde_json::json!({ "eventType": "OrderPlaced" });
    let deadlines = [
        Deadline::Start(chrono::Utc::now()),
        Deadline::Keep,
        Deadline::Start(chrono::Utc::now()),
    ];
    let rows = || {
        sagas
            .iter()
            .zip(&letters)
            .zip(deadlines)
            .map(|((saga, letters), deadline)| {
                Row::of(&Outcome {
                    saga,
                    phase: domain::fulfilment::Phase::Reserving,
                    deadline,
                    dead_letters: letters,
                    cause: &cause,
                })
                .unwrap()
            })
            .collect::<Vec<_>>()
    };
    let stored = || async {
        sqlx::query_as::<_, (Uuid, bool, i64)>(
            "SELECT f.order_id,
                    EXISTS (SELECT 1 FROM saga_deadlines d WHERE d.order_id = f.order_id),
                    (SELECT count(*) FROM saga_dead_letters l
                     WHERE l.order_id = f.order_id AND l.cause->>'eventType' = 'OrderPlaced')
             FROM saga_fulfilments f ORDER BY f.order_id",
        )
        .fetch_all(&db.pool)
        .await
        .unwrap()
    };
    assert!(matches!(
        store_all(&db.pool, "fulfilment", old_epoch, &rows()).await,
        Err(projections::Error::Fenced("fulfilment"))
    ));
    assert_eq!(stored().await, []);
    store_all(&db.pool, "fulfilment", new_epoch, &rows())
        .await
        .unwrap();
    let expected: Vec<(Uuid, bool, i64)> = sagas
        .iter()
        .zip([(true, 1), (false, 0), (true, 1)])
        .map(|(saga, (deadline, letters))| (saga.order, deadline, letters))
        .collect();
    assert_eq!(stored().await, expected);
}

#[tokio::test]
async fn an_event_that_does_not_decode_parks_the_saga_until_an_operator_resumes_it() {
    let app = tests::spawn_app().await;
    let operator = app.token("ops", Role::Operator);
    app.register_product("MUG-1", 10).await;
    // An event the saga cannot read (its payload lacks the order), on a stream of its own.
    let mut poison = tests::restocks("POISON-1", 0, 1);
    poison.events[0].event_type = "StockReserved".into();
    poison.events[0].payload = serde_json::json!({ "quantity": 1 });
    PgEventStore::new(app.db.pool.clone())
        .append(&poison)
        .await
        .unwrap();
    let order = app.place_order("alice", "MUG-1", 1).await;

    let mut row = serde_json::Value::Null;
    for _ in 0..200 {
        let statuses = tests::expect(
            app.get("/api/admin/projections", Some(&operator), &[])
                .await,
            200,
        )
        .await;
        row = statuses
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == "fulfilment")
            .cloned()
            .expect("the saga is a row of the projections status");
        if row["state"] == "PARKED" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(row["state"], "PARKED", "{row}");
    assert!(
        row["error"].as_str().unwrap().contains("stock/POISON-1"),
        "{row}"
    );
    assert!(row["lagEvents"].as_i64().unwrap() >= 2, "{row}");
    // Readiness names it, without taking the instance out of service.
    let ready = app.get("/health/ready", None, &[]).await;
    assert_eq!(ready.status(), 200);
    let body: serde_json::Value = ready.json().await.unwrap();
    let saga = body["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|check| check["name"] == "fulfilment")
        .unwrap_or_else(|| panic!("no fulfilment check: {body}"));
    assert_eq!(saga["status"], "warn", "{body}");
    assert!(
        saga["reason"].as_str().unwrap().contains("stock/POISON-1"),
        "{body}"
    );
    assert_eq!(
        app.event_types("order", &order).await,
        ["OrderPlaced"],
        "the parked saga does not act"
    );

    // The operator mends the event (here, by hand in the database) and resumes the saga.
    app.db
        .break_glass(&format!(
            "UPDATE events SET payload = '{{\"orderId\": \"{}\", \"quantity\": 1}}'
             WHERE stream_type = 'stock' AND stream_id = 'POISON-1'",
            Uuid::nil()
        ))
        .await;
    let mut conn = app.db.pool.acquire().await.unwrap();
    assert!(
        projections::checkpoint::resume(&mut conn, "fulfilment")
            .await
            .unwrap()
    );
    let settled = app.settled_order(&order, Duration::from_secs(30)).await;
    assert_eq!(settled["status"], "CONFIRMED");
    assert_eq!(app.get("/health/ready", None, &[]).await.status(), 200);
}
