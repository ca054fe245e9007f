//! A hot SKU: many restocks of one product at once all succeed, none is lost and none is
//! counted twice.

// A test that cannot set up its fixtures has nothing left to check: failing loudly is right.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::sync::Arc;

use application::{Commands, RepositoryOptions, Role};
use futures::future::join_all;
use infrastructure::PgEventStore;
use serde_json::json;
use tests::{command_result, spawn_app};

#[tokio::test]
async fn fifty_concurrent_restocks_of_one_sku_all_succeed_and_add_up_exactly() {
    let app = spawn_app().await;
    app.register_product("HOT-1", 0).await;
    let operator = app.token("olga", Role::Operator);
    let quantities: Vec<u32> = (1..=50).collect();

    let responses = join_all(quantities.iter().map(|quantity| {
        app.post(
            "/api/products/HOT-1/restock",
            Some(&operator),
            json!({ "quantity": quantity }),
        )
    }))
    .await;

    let mut versions = BTreeSet::new();
    for response in responses {
        let result = command_result(response, 200).await;
        versions.insert(result["version"].as_i64().unwrap());
    }
    assert_eq!(
        versions,
        (2..=51).collect(),
        "each restock has a version of its own"
    );
    let restocked: Vec<u64> = app
        .events("stock", "HOT-1")
        .await
        .into_iter()
        .filter(|(event_type, _)| event_type == "StockRestocked")
        .map(|(_, payload)| payload["quantity"].as_u64().unwrap())
        .collect();
    assert_eq!(restocked.len(), 50);
    let expected: u32 = quantities.iter().sum();
    assert_eq!(restocked.iter().sum::<u64>(), u64::from(expected));
    let commands = Commands::new(
        Arc::new(PgEventStore::new(app.db.pool.clone())),
        &RepositoryOptions::default(),
        infrastructure::SimulatedProvider::simulation(),
    );
    let (stock, version) = commands.stock().load("HOT-1").await.unwrap();
    assert_eq!((stock.0.on_hand(), version), (expected, 51));
}
