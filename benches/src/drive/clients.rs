//! The clients of a run: writers place orders (and, with faults, cancel some), readers read
//! them back through GraphQL. Both write down what they saw in [`Seen`].

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::json;

use super::api::{Answer, Api};
use super::plan::Plan;

/// The payment tokens a run may use (the simulated provider's).
pub const VISA: &str = "tok_visa";
pub const FLAKY: &str = "tok_flaky";
pub const DECLINED: &str = "tok_chargeDeclined";
pub const TIMEOUT: &str = "tok_timeout";

/// Stock of the scarce SKU of a run with faults: most of its orders are out of stock.
pub const SCARCE_UNITS: i64 = 3;

/// The SKUs of a run.
#[derive(Debug, Clone)]
pub struct Catalogue {
    /// Plentiful SKUs: stock for any run.
    pub plentiful: Vec<String>,
    /// The scarce SKU ([`SCARCE_UNITS`] on hand), ordered only in runs with faults.
    pub scarce: String,
}

/// One accepted order, as its client placed it.
#[derive(Debug, Clone)]
pub struct Placed {
    pub id: String,
    pub sku: String,
    pub token: &'static str,
    /// What the customer's cancel right after placing answered, when there was one.
    pub cancel: Option<u16>,
}

/// What the clients saw.
#[derive(Debug, Default)]
pub struct Seen {
    pub place_latencies: Vec<Duration>,
    pub read_latencies: Vec<Duration>,
    /// Answers by request kind (`place`, `cancel`, `read`) and status.
    pub answers: BTreeMap<&'static str, BTreeMap<u16, u64>>,
    /// Answers no correct server gives (a 5xx, an unexpected refusal, no answer at all).
    pub violations: Vec<String>,
    pub placed: Vec<Placed>,
    /// The accepted order with the highest position token, and that token.
    pub last: Option<(String, String)>,
}

impl Seen {
    fn answered(&mut self, kind: &'static str, status: u16) {
        *self
            .answers
            .entry(kind)
            .or_default()
            .entry(status)
            .or_default() += 1;
    }

    fn violated(&mut self, what: String) {
        self.violations.push(what);
    }
}

/// Locks `seen`, whatever a panicking client left behind.
pub fn lock(seen: &Mutex<Seen>) -> std::sync::MutexGuard<'_, Seen> {
    seen.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// What writer `index` asks for in its `n`th order: the SKU and the payment token.
#[must_use]
pub fn order_of(
    plan: &Plan,
    catalogue: &Catalogue,
    index: usize,
    n: usize,
) -> (String, &'static str) {
    let spread = index + n * plan.writers().max(1);
    let sku = if plan.faults && n % 10 == 9 {
        catalogue.scarce.clone()
    } else {
        catalogue.plentiful[spread % catalogue.plentiful.len()].clone()
    };
    let token = match (plan.faults, n % 20) {
        (true, 3) => DECLINED,
        (true, 7) => FLAKY,
        (true, 13) if plan.timeouts => TIMEOUT,
        _ => VISA,
    };
    (sku, token)
}

/// Whether writer's `n`th order is cancelled by its customer right after it was accepted.
#[must_use]
pub fn cancels(plan: &Plan, n: usize) -> bool {
    plan.faults && n % 7 == 5
}

/// One writer: orders placed back to back until `deadline` or `limit` orders. An order the
/// server asks to place later (503: fulfilment is too far behind) is placed again after a
/// pause.
pub async fn write(
    api: &Api,
    plan: &Plan,
    catalogue: &Catalogue,
    index: usize,
    until: Instant,
    limit: usize,
    seen: &Mutex<Seen>,
) {
    let mut n = 0;
    while Instant::now() < until && n < limit {
        let (sku, token) = order_of(plan, catalogue, index, n);
        let body = json!({
            "currency": "BRL",
            "lines": [{ "sku": sku, "quantity": 1 }],
            "paymentToken": token,
        });
        let sent = Instant::now();
        let answer = api.post("/api/orders", &plan.customer, &body).await;
        let took = sent.elapsed();
        let expected: &[u16] = if plan.tolerate_busy {
            &[202, 503]
        } else {
            &[202]
        };
        let answered = record(seen, "place", expected, answer, |seen| {
            seen.place_latencies.push(took);
        });
        if answered.as_ref().is_some_and(|a| a.status == 503) {
            // Fulfilment is too far behind: the server asks to come back later.
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        }
        if let Some(answer) = answered {
            let id = answer.body["orderId"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let position = answer.body["position"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let cancel = if cancels(plan, n) {
                let path = format!("/api/orders/{id}/cancel");
                let body = json!({ "reason": "CUSTOMER_REQUEST" });
                let answer = api.post(&path, &plan.customer, &body).await;
                record(seen, "cancel", &[202, 409], answer, |_| {}).map(|a| a.status)
            } else {
                None
            };
            let mut seen = lock(seen);
            // Position tokens are fixed-width hex of (transaction, position): they sort as
            // the log does.
            if seen.last.as_ref().is_none_or(|(last, _)| position > *last) {
                seen.last = Some((position, id.clone()));
            }
            seen.placed.push(Placed {
                id,
                sku,
                token,
                cancel,
            });
        }
        n += 1;
    }
}

/// One reader: GraphQL reads of the accepted orders until `until`: an order by id, and
/// every fifth read a page of the customer's orders.
pub async fn read(api: &Api, plan: &Plan, index: usize, until: Instant, seen: &Mutex<Seen>) {
    let mut n = index;
    while Instant::now() < until {
        let id = {
            let seen = lock(seen);
            (!seen.placed.is_empty()).then(|| seen.placed[n % seen.placed.len()].id.clone())
        };
        let Some(id) = id else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let (query, variables) = if n % 5 == 4 {
            (
                "{ orders(first: 20) { edges { node { id status total } } } }",
                json!({}),
            )
        } else {
            (
                "query($id: ID!) { order(id: $id) { id status total payment { status } } }",
                json!({ "id": id }),
            )
        };
        let sent = Instant::now();
        let answer = api.graphql(&plan.customer, query, variables).await;
        let took = sent.elapsed();
        let answered = record(seen, "read", &[200], answer, |seen| {
            seen.read_latencies.push(took);
        });
        if let Some(answer) = answered
            && let Err(error) = answer.data()
        {
            lock(seen).violated(format!("read: {error}"));
        }
        n += 1;
    }
}

/// Writes down an answer of `kind`; a status not in `expected`, or no answer, is a
/// violation. The answer when it was expected, after `also` saw `seen`.
fn record(
    seen: &Mutex<Seen>,
    kind: &'static str,
    expected: &[u16],
    answer: Result<Answer, String>,
    also: impl FnOnce(&mut Seen),
) -> Option<Answer> {
    let mut seen = lock(seen);
    match answer {
        Ok(answer) => {
            seen.answered(kind, answer.status);
            if expected.contains(&answer.status) {
                also(&mut seen);
                Some(answer)
            } else {
                seen.violated(format!(
                    "{kind} answered {}: {}",
                    answer.status, answer.body
                ));
                None
            }
        }
        Err(error) => {
            seen.violated(format!("{kind}: {error}"));
            None
        }
    }
}
