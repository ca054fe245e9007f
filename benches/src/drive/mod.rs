//! The load generator: drives a running server over HTTP, waits until every accepted order
//! is final, checks that the books add up ([`check`]) and reports what it measured
//! ([`Report`]). The `drive` binary is its command line.

mod api;
mod books;
mod check;
mod clients;
mod plan;
mod report;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;

pub use api::Api;
pub use plan::{Plan, Scenario};
pub use report::Report;

use check::{Expected, violations};
use clients::{Catalogue, SCARCE_UNITS, Seen, lock};
use report::{Figures, Lag};

/// Opening stock of a plentiful SKU: more than any run sells.
const PLENTIFUL: i64 = 1_000_000_000;

/// Runs `plan` against the server at `plan.url`.
///
/// # Errors
/// When the run could not be carried out (the server refused to register the SKUs, a read
/// of the books failed, the orders did not become final in time). Broken promises found on
/// the way are in the report, not errors.
pub async fn run(plan: &Plan) -> Result<Report, String> {
    let api = Api::new(&plan.url, plan.clients + 2)?;
    let (catalogue, opening) = register(&api, plan).await?;
    let seen = Arc::new(Mutex::new(Seen::default()));
    let lag = Arc::new(Mutex::new(BTreeMap::new()));
    let sampler = tokio::spawn(sample_lag(
        api.clone(),
        plan.operator.clone(),
        Arc::clone(&lag),
    ));

    let started = Instant::now();
    if plan.scenario == Scenario::Read {
        // The orders to read come first, from every client, and must be final.
        let seeding = plan.clone();
        let per_client = plan.seed_orders.div_ceil(plan.clients);
        let mut writers = tokio::task::JoinSet::new();
        for index in 0..plan.clients {
            let (api, plan, catalogue, seen) = (
                api.clone(),
                seeding.clone(),
                catalogue.clone(),
                Arc::clone(&seen),
            );
            let until = Instant::now() + plan.wait;
            writers.spawn(async move {
                clients::write(&api, &plan, &catalogue, index, until, per_client, &seen).await;
            });
        }
        writers.join_all().await;
        wait_until_final(&api, plan, &seen).await?;
    }
    let reading_started = Instant::now();
    let until = reading_started + Duration::from_secs_f64(plan.seconds);
    let mut tasks = tokio::task::JoinSet::new();
    for index in 0..plan.writers() {
        let (api, plan, catalogue, seen) = (
            api.clone(),
            plan.clone(),
            catalogue.clone(),
            Arc::clone(&seen),
        );
        tasks.spawn(async move {
            clients::write(&api, &plan, &catalogue, index, until, usize::MAX, &seen).await;
        });
    }
    for index in 0..plan.readers() {
        let (api, plan, seen) = (api.clone(), plan.clone(), Arc::clone(&seen));
        tasks.spawn(async move { clients::read(&api, &plan, index, until, &seen).await });
    }
    tasks.join_all().await;
    let ran = reading_started.elapsed();
    let fulfilled_in = wait_until_final(&api, plan, &seen).await? - started;
    sampler.abort();

    let placed = lock(&seen).placed.clone();
    let expected = Expected {
        placed: &placed,
        opening: &opening,
        faults: plan.faults,
        scarce: &catalogue.scarce,
    };
    let skus: Vec<String> = opening.keys().cloned().collect();
    // Compensation may still be under way for an order already final (a refund after a
    // cancel): the books must add up within the wait, not at once.
    let checking = Instant::now();
    let (books, found) = loop {
        let books = books::read(&api, &plan.customer, &skus).await?;
        let found = violations(&expected, &books);
        if found.is_empty() || checking.elapsed() > plan.wait {
            break (books, found);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let mut outcomes = BTreeMap::new();
    for order in &books.orders {
        let outcome = format!("{} {}", order.status, order.reason.as_deref().unwrap_or(""));
        *outcomes.entry(outcome.trim_end().to_owned()).or_default() += 1;
    }
    let mut seen = lock(&seen);
    let mut all = std::mem::take(&mut seen.violations);
    all.extend(found);
    let lag = lock_lag(&lag).clone();
    let seen = &mut *seen;
    Ok(Report::new(
        Figures {
            scenario: match plan.scenario {
                Scenario::Place => "place",
                Scenario::Read => "read",
                Scenario::Mixed => "mixed",
            },
            clients: plan.clients,
            skus: plan.skus,
            ran,
            accepted: placed.len(),
            fulfilled_in,
            place_latencies: &mut seen.place_latencies,
            read_latencies: &mut seen.read_latencies,
            answers: &seen.answers,
            outcomes,
            lag: &lag,
        },
        all,
    ))
}

/// Registers the run's SKUs (names unique to the run): the plentiful ones and, with faults,
/// a scarce one. The catalogue and each SKU's opening stock.
async fn register(api: &Api, plan: &Plan) -> Result<(Catalogue, BTreeMap<String, i64>), String> {
    let run = uuid_ish();
    let catalogue = Catalogue {
        plentiful: (0..plan.skus).map(|i| format!("D{run}-{i}")).collect(),
        scarce: format!("D{run}-scarce"),
    };
    let mut opening: BTreeMap<String, i64> = catalogue
        .plentiful
        .iter()
        .map(|sku| (sku.clone(), PLENTIFUL))
        .collect();
    if plan.faults {
        opening.insert(catalogue.scarce.clone(), SCARCE_UNITS);
    }
    for (sku, units) in &opening {
        let body = json!({
            "sku": sku, "name": "driven", "initialQuantity": units,
            "price": "1.00", "currency": "BRL",
        });
        let answer = api.post("/api/products", &plan.operator, &body).await?;
        if answer.status != 201 {
            return Err(format!(
                "registering {sku} answered {}: {}",
                answer.status, answer.body
            ));
        }
    }
    Ok((catalogue, opening))
}

/// A name unique enough for a run's SKUs: the process id and the time.
fn uuid_ish() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{}x{nanos:x}", std::process::id())
}

/// Waits until the orders read model has every accepted order and the customer has no
/// `PENDING` order; answers when that was.
async fn wait_until_final(api: &Api, plan: &Plan, seen: &Mutex<Seen>) -> Result<Instant, String> {
    let started = Instant::now();
    let last = lock(seen).last.clone();
    if let Some((position, id)) = &last {
        // The read model has every accepted order once it has the last one's position.
        loop {
            let answer = api
                .graphql(
                    &plan.customer,
                    "query($id: ID!, $p: String) { order(id: $id, consistentWith: $p) { id } }",
                    json!({ "id": id, "p": position }),
                )
                .await?;
            if answer.body["data"]["order"]["id"].is_string() {
                break;
            }
            if started.elapsed() > plan.wait {
                return Err(format!("the read model did not catch up: {}", answer.body));
            }
        }
    }
    loop {
        let data = api
            .graphql(
                &plan.customer,
                "{ orders(status: PENDING, first: 1) { edges { node { id } } } }",
                json!({}),
            )
            .await?
            .data()?;
        if data["orders"]["edges"]
            .as_array()
            .is_some_and(Vec::is_empty)
        {
            return Ok(Instant::now());
        }
        if started.elapsed() > plan.wait {
            return Err(format!(
                "orders still PENDING after {:?}: {data}",
                plan.wait
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Keeps the most lag each projection and the saga showed, looking once a second (the
/// status query counts what is behind, which costs the server more than a read).
async fn sample_lag(api: Api, operator: String, lag: Arc<Mutex<BTreeMap<String, Lag>>>) {
    loop {
        let answer = api
            .graphql(
                &operator,
                "{ projections { name lagEvents lagSeconds } }",
                json!({}),
            )
            .await
            .and_then(api::Answer::data);
        if let Ok(data) = answer {
            let mut lag = lock_lag(&lag);
            for row in data["projections"].as_array().into_iter().flatten() {
                let name = row["name"].as_str().unwrap_or_default().to_owned();
                let most = lag.entry(name).or_default();
                most.events = most
                    .events
                    .max(row["lagEvents"].as_i64().unwrap_or_default());
                most.seconds = most
                    .seconds
                    .max(row["lagSeconds"].as_f64().unwrap_or_default());
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

fn lock_lag(
    lag: &Mutex<BTreeMap<String, Lag>>,
) -> std::sync::MutexGuard<'_, BTreeMap<String, Lag>> {
    lag.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
