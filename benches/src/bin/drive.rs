//! Drives a running server over HTTP and measures orders accepted and orders fulfilled per
//! second: `cargo run --release -p benches --bin drive -- --url http://127.0.0.1:8080
//! --operator TOKEN --customer TOKEN [--clients 16] [--seconds 10] [--skus 200] [--hot]`.
//!
//! It registers its own SKUs (stock enough for any run), places orders of one unit from
//! `--clients` concurrent clients for `--seconds`, then waits until the read model has every
//! accepted order and none of the customer's orders is `PENDING`, and reports: accepted
//! orders/s, fulfilled orders/s (from the first order placed to the last one final), the
//! latency percentiles of placing, and every non-202 answer. The customer's earlier orders
//! must be final before a run (use a fresh subject).
//!
//! A first piece of the load generator: baselines, other scenarios and the correctness
//! checks of money and stock are still to come.

#![allow(
    clippy::print_stdout,
    reason = "the driver reports what it measured on stdout"
)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::Mutex;

/// What one run is asked to do.
#[derive(Debug, Clone)]
struct Plan {
    url: String,
    operator: String,
    customer: String,
    clients: usize,
    seconds: u64,
    skus: usize,
    wait: Duration,
}

/// What the clients saw.
#[derive(Debug, Default)]
struct Seen {
    latencies: Vec<Duration>,
    answers: BTreeMap<u16, u64>,
    /// The accepted order with the highest position, and that position.
    last: Option<(String, String)>,
    accepted: u64,
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let plan = plan()?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(plan.clients)
        .build()
        .map_err(|e| e.to_string())?;
    let run = std::process::id();
    let skus: Vec<String> = (0..plan.skus).map(|i| format!("D{run}-{i}")).collect();
    for sku in &skus {
        let body = json!({
            "sku": sku, "name": "driven", "initialQuantity": 1_000_000_000,
            "price": "1.00", "currency": "BRL",
        });
        let status = post(&client, &plan, "/api/products", &plan.operator, &body)
            .await?
            .0;
        if status != 201 {
            return Err(format!("registering {sku} answered {status}"));
        }
    }

    let seen = Arc::new(Mutex::new(Seen::default()));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(plan.seconds);
    let mut clients = tokio::task::JoinSet::new();
    for index in 0..plan.clients {
        let (client, plan, skus, seen) = (
            client.clone(),
            plan.clone(),
            skus.clone(),
            Arc::clone(&seen),
        );
        clients
            .spawn(async move { place_until(index, deadline, &client, &plan, &skus, &seen).await });
    }
    while let Some(done) = clients.join_next().await {
        done.map_err(|e| e.to_string())??;
    }
    let placing = started.elapsed();
    let fulfilled_at = wait_until_final(&client, &plan, &seen).await? - started;

    let mut seen = seen.lock().await;
    seen.latencies.sort();
    let report = json!({
        "clients": plan.clients,
        "skus": plan.skus,
        "seconds": placing.as_secs_f64(),
        "accepted": seen.accepted,
        "acceptedPerSecond": per_second(seen.accepted, placing),
        "fulfilledPerSecond": per_second(seen.accepted, fulfilled_at),
        "p50Ms": percentile(&seen.latencies, 50),
        "p95Ms": percentile(&seen.latencies, 95),
        "p99Ms": percentile(&seen.latencies, 99),
        "answers": seen.answers,
    });
    println!("| clients | SKUs | accepted/s | fulfilled/s | p50 ms | p95 ms | p99 ms | answers |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---|");
    println!(
        "| {} | {} | {:.0} | {:.0} | {:.1} | {:.1} | {:.1} | {:?} |",
        plan.clients,
        plan.skus,
        report["acceptedPerSecond"].as_f64().unwrap_or_default(),
        report["fulfilledPerSecond"].as_f64().unwrap_or_default(),
        report["p50Ms"].as_f64().unwrap_or_default(),
        report["p95Ms"].as_f64().unwrap_or_default(),
        report["p99Ms"].as_f64().unwrap_or_default(),
        seen.answers,
    );
    println!("{report}");
    Ok(())
}

/// One client: orders placed back to back until `deadline`.
async fn place_until(
    index: usize,
    deadline: Instant,
    client: &reqwest::Client,
    plan: &Plan,
    skus: &[String],
    seen: &Mutex<Seen>,
) -> Result<(), String> {
    let mut next = index;
    while Instant::now() < deadline {
        let sku = &skus[next % skus.len()];
        next += plan.clients;
        let body = json!({
            "currency": "BRL",
            "lines": [{ "sku": sku, "quantity": 1 }],
            "paymentToken": "tok_visa",
        });
        let sent = Instant::now();
        let (status, answer) = post(client, plan, "/api/orders", &plan.customer, &body).await?;
        let took = sent.elapsed();
        let mut seen = seen.lock().await;
        seen.latencies.push(took);
        *seen.answers.entry(status).or_default() += 1;
        if status == 202 {
            seen.accepted += 1;
            let position = answer["position"].as_str().unwrap_or_default().to_owned();
            let id = answer["orderId"].as_str().unwrap_or_default().to_owned();
            // Position tokens are fixed-width hex of (transaction, position): they sort as
            // the log does.
            if seen.last.as_ref().is_none_or(|(last, _)| position > *last) {
                seen.last = Some((position, id));
            }
        }
    }
    Ok(())
}

/// Waits until the orders read model has every accepted order and the customer has no
/// `PENDING` order; answers when that was.
async fn wait_until_final(
    client: &reqwest::Client,
    plan: &Plan,
    seen: &Mutex<Seen>,
) -> Result<Instant, String> {
    let started = Instant::now();
    let last = seen.lock().await.last.clone();
    while let Some((position, id)) = &last {
        // The read model has every accepted order once it has the last one's position.
        let caught_up = json!({
            "query": "query($id: ID!, $p: String) { order(id: $id, consistentWith: $p) { id } }",
            "variables": { "id": id, "p": position },
        });
        let (_, answer) = post(client, plan, "/graphql", &plan.customer, &caught_up).await?;
        if answer["data"]["order"]["id"].is_string() {
            break;
        }
        if started.elapsed() > plan.wait {
            return Err(format!("the read model did not catch up: {answer}"));
        }
    }
    loop {
        let pending = json!({
            "query": "{ orders(status: PENDING, first: 1) { edges { node { id } } } }",
        });
        let (_, answer) = post(client, plan, "/graphql", &plan.customer, &pending).await?;
        let edges = &answer["data"]["orders"]["edges"];
        if edges.as_array().is_some_and(Vec::is_empty) {
            return Ok(Instant::now());
        }
        if started.elapsed() > plan.wait {
            return Err(format!(
                "orders still PENDING after {:?}: {answer}",
                plan.wait
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn post(
    client: &reqwest::Client,
    plan: &Plan,
    path: &str,
    token: &str,
    body: &Value,
) -> Result<(u16, Value), String> {
    let response = client
        .post(format!("{}{path}", plan.url))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .map_err(|e| format!("POST {path}: {e}"))?;
    let status = response.status().as_u16();
    let answer = response.json().await.unwrap_or(Value::Null);
    Ok((status, answer))
}

fn per_second(count: u64, over: Duration) -> f64 {
    #[allow(clippy::cast_precision_loss, reason = "a rate for a report")]
    let count = count as f64;
    count / over.as_secs_f64().max(f64::EPSILON)
}

fn percentile(sorted: &[Duration], percent: usize) -> f64 {
    let Some(last) = sorted.len().checked_sub(1) else {
        return 0.0;
    };
    sorted[last * percent / 100].as_secs_f64() * 1000.0
}

fn plan() -> Result<Plan, String> {
    let mut plan = Plan {
        url: "http://127.0.0.1:8080".into(),
        operator: String::new(),
        customer: String::new(),
        clients: 16,
        seconds: 10,
        skus: 200,
        wait: Duration::from_secs(300),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} takes a value"));
        let number = |text: String| text.parse::<usize>().map_err(|e| format!("{text}: {e}"));
        match arg.as_str() {
            "--url" => plan.url = value()?,
            "--operator" => plan.operator = value()?,
            "--customer" => plan.customer = value()?,
            "--clients" => plan.clients = number(value()?)?.max(1),
            "--seconds" => {
                let text = value()?;
                plan.seconds = text.parse().map_err(|e| format!("{text}: {e}"))?;
            }
            "--skus" => plan.skus = number(value()?)?.max(1),
            "--hot" => plan.skus = 1,
            other => return Err(format!("unknown argument {other:?}; see the file's header")),
        }
    }
    if plan.operator.is_empty() || plan.customer.is_empty() {
        return Err("give --operator TOKEN and --customer TOKEN (domainflow token ...)".into());
    }
    Ok(plan)
}
