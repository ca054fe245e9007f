//! The event store against a real PostgreSQL: concurrency, gap-free global order,
//! append-only enforcement, tamper detection and command idempotency.

// A test that cannot set up its fixtures has nothing left to check: failing loudly is right.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod commands;
mod concurrency;
mod global_order;
mod groups;
mod seals;
mod tampering;

use std::time::Duration;

use application::event_log::{
    Append, CommandMetadata, NewEvent, Position, RecordedEvent, StreamRef,
};
use infrastructure::{PgEventStore, ReadFilter};
use serde_json::json;
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

fn event(n: u32) -> NewEvent {
    NewEvent {
        event_id: Uuid::now_v7(),
        event_type: "StockRestocked".into(),
        event_version: 1,
        payload: json!({ "quantity": n }),
    }
}

fn append(stream: &StreamRef, expected_version: i64, events: Vec<NewEvent>) -> Append {
    Append {
        stream: stream.clone(),
        expected_version,
        head_hash: None,
        events,
        metadata: metadata(),
        snapshot: None,
    }
}

/// Reads the selection once `count` events are visible. The read horizon is cluster-wide,
/// so a transaction of another test running in parallel can hold it back for a moment.
async fn read_when(store: &PgEventStore, filter: &ReadFilter, count: usize) -> Vec<RecordedEvent> {
    for _ in 0..1000 {
        let events = store
            .read_all(Position::START, 1_000_000, filter)
            .await
            .unwrap();
        if events.len() >= count {
            return events;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("fewer than {count} events became visible");
}
