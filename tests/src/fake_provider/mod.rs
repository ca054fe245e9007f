//! A card processor for tests: a real HTTP server on 127.0.0.1 port 0 speaking the
//! contract of `infrastructure::payment_http`, under `/v1`. Each token (or every charge)
//! can be told how to behave: approve, decline, fail with a 5xx, refuse with a 400, capture
//! and then answer too late, answer late, or stay pending; the whole server can go down (connections
//! refused) and come back on the same port, and it can require an API key.
//!
//! Like a real processor it keeps an idempotent ledger per payment id: a repeated charge
//! answers the first outcome and never captures twice, a repeated refund pays back nothing
//! more. It counts what reached it, so tests can check that money moved exactly once.

mod routes;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use uuid::Uuid;

use routes::serve;

/// How the processor treats a charge it has not answered before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// Capture and answer `captured` at once.
    Approve,
    /// Answer `declined` ("card declined").
    Decline,
    /// Answer 500 and record nothing (a repeat is another 500 while this holds).
    Fail,
    /// Answer 400 ("invalid request") and record nothing, as a processor does to a
    /// request it cannot accept (a malformed body, bad credentials).
    Refuse,
    /// Capture at once, then hold the answer for this long (past the client's timeout).
    CaptureThenDelay(Duration),
    /// Wait this long, then capture and answer `captured` (a client that gives up and
    /// hangs up first leaves nothing captured).
    AnswerLate(Duration),
    /// Accept the charge as `pending` (202); it stays pending.
    Pending,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Captured,
    Declined(String),
    Pending,
}

#[derive(Debug, Default)]
struct Entry {
    outcome: Option<Outcome>,
    amount: i64,
    charge_calls: u32,
    captures: u32,
    refunds: u32,
    refunded: Option<i64>,
}

#[derive(Debug, Default)]
struct Ledger {
    /// When set, every call must carry `Authorization: Bearer {key}`.
    key: Option<String>,
    tokens: HashMap<String, Behaviour>,
    /// The registered payment methods: reference → token.
    methods: HashMap<String, String>,
    every_charge: Option<Behaviour>,
    payments: HashMap<Uuid, Entry>,
}

type Shared = Arc<Mutex<Ledger>>;

#[derive(Debug)]
struct Running {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

/// The fake processor. Dropping it stops the server.
#[derive(Debug)]
pub struct FakeProvider {
    address: SocketAddr,
    ledger: Shared,
    running: tokio::sync::Mutex<Option<Running>>,
}

impl FakeProvider {
    /// Starts the processor on a free port. `tok_chargeDeclined` declines; every other
    /// token approves until told otherwise; a token starting `tok_refused` is refused at
    /// registration (402).
    ///
    /// # Panics
    /// When no port can be bound.
    pub async fn start() -> Self {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .unwrap_or_else(|e| panic!("binding the fake provider: {e}"));
        let address = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("the fake provider's address: {e}"));
        let ledger = Shared::default();
        lock(&ledger)
            .tokens
            .insert("tok_chargeDeclined".into(), Behaviour::Decline);
        let running = serve(listener, Arc::clone(&ledger));
        Self {
            address,
            ledger,
            running: tokio::sync::Mutex::new(Some(running)),
        }
    }

    /// The base URL to configure the HTTP provider with, e.g. `http://127.0.0.1:41234/v1`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://{}/v1", self.address)
    }

    /// Charges with `token` behave as `behaviour` from now on.
    pub fn on_token(&self, token: &str, behaviour: Behaviour) {
        lock(&self.ledger)
            .tokens
            .insert(token.to_owned(), behaviour);
    }

    /// Every charge behaves as `behaviour`, whatever its token (`None`: per token again).
    /// [`Behaviour::Fail`] also fails status look-ups and refunds.
    pub fn on_every_charge(&self, behaviour: Option<Behaviour>) {
        lock(&self.ledger).every_charge = behaviour;
    }

    /// From now on every call must carry `Authorization: Bearer {key}`, or is answered 401.
    pub fn require_key(&self, key: &str) {
        lock(&self.ledger).key = Some(key.to_owned());
    }

    /// Stops the server: connections are refused until [`FakeProvider::come_up`].
    ///
    /// # Panics
    /// When the server does not stop within 5 s.
    pub async fn go_down(&self) {
        let Some(running) = self.running.lock().await.take() else {
            return;
        };
        let _ = running.stop.send(());
        tokio::time::timeout(Duration::from_secs(5), running.task)
            .await
            .unwrap_or_else(|_| panic!("the fake provider did not stop"))
            .unwrap_or_else(|e| panic!("the fake provider failed: {e}"));
    }

    /// Starts the server again on the same port, with the same ledger.
    ///
    /// # Panics
    /// When the port cannot be bound again.
    pub async fn come_up(&self) {
        let mut running = self.running.lock().await;
        if running.is_none() {
            let listener = TcpListener::bind(self.address)
                .await
                .unwrap_or_else(|e| panic!("rebinding the fake provider: {e}"));
            *running = Some(serve(listener, Arc::clone(&self.ledger)));
        }
    }

    /// How many charge requests for `payment` arrived.
    #[must_use]
    pub fn charge_calls(&self, payment: Uuid) -> u32 {
        self.entry(payment, |e| e.charge_calls)
    }

    /// How many times money was captured for `payment` (never more than once).
    #[must_use]
    pub fn captures(&self, payment: Uuid) -> u32 {
        self.entry(payment, |e| e.captures)
    }

    /// The amount captured for `payment`, in minor units.
    #[must_use]
    pub fn captured_amount(&self, payment: Uuid) -> Option<i64> {
        lock(&self.ledger)
            .payments
            .get(&payment)
            .filter(|e| e.captures > 0)
            .map(|e| e.amount)
    }

    /// How many times money was paid back for `payment` (never more than once).
    #[must_use]
    pub fn refunds(&self, payment: Uuid) -> u32 {
        self.entry(payment, |e| e.refunds)
    }

    /// The amount refunded for `payment`, in minor units.
    #[must_use]
    pub fn refunded_amount(&self, payment: Uuid) -> Option<i64> {
        lock(&self.ledger)
            .payments
            .get(&payment)
            .and_then(|e| e.refunded)
    }

    fn entry(&self, payment: Uuid, field: impl Fn(&Entry) -> u32) -> u32 {
        lock(&self.ledger).payments.get(&payment).map_or(0, field)
    }
}

fn lock(ledger: &Mutex<Ledger>) -> MutexGuard<'_, Ledger> {
    ledger.lock().unwrap_or_else(PoisonError::into_inner)
}
