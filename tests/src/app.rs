//! The real server for end-to-end tests: [`spawn_app`] starts it on port 0 against a
//! database of its own, and [`TestApp`] talks to it over HTTP the way a client does.

use std::sync::Arc;

use application::event_log::CommandMetadata;
use application::saga::PaymentProvider;
use application::{CommandResult, Commands, RepositoryOptions, Role};
use chrono::{Duration, Utc};
use domain::order::Command as OrderCommand;
use infrastructure::JwtKeys;
use infrastructure::{PgEventStore, SimulatedProvider};
use interface::{Application, HttpLimits, SagaConfig, ServerConfig};
use reqwest::Response;
use serde_json::{Value, json};
use tokio::sync::oneshot;
use uuid::Uuid;

use crate::answers::{expect, graphql_data};
use crate::{TestDatabase, test_database};

/// A running server and what a test needs to talk to it and to look behind it.
#[derive(Debug)]
pub struct TestApp {
    /// The server's base URL, e.g. `http://127.0.0.1:41234`.
    pub address: String,
    /// The server's database, for checks a client cannot make (the event log).
    pub db: TestDatabase,
    /// The HTTP client every helper uses.
    pub client: reqwest::Client,
    keys: JwtKeys,
    commands: Commands,
    /// The simulated payment provider the server charges through (to take it down and bring
    /// it back), unless the test chose another provider; for a server in another process
    /// ([`TestApp::attach`]) a stand-in that server never calls.
    pub provider: Arc<SimulatedProvider>,
    /// Dropping it (with the app) stops an in-process server.
    _stop: Option<oneshot::Sender<()>>,
}

/// Starts the real server on a free port against a fresh database, with a random JWT
/// secret and the default limits.
///
/// # Panics
/// When there is no database or the server cannot start.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// [`spawn_app`] without the fulfilment saga, for tests that drive orders step by step or
/// count every event of the log.
///
/// # Panics
/// When there is no database or the server cannot start.
pub async fn spawn_app_without_saga() -> TestApp {
    spawn_app_with(|config| config.saga.run = false).await
}

/// [`spawn_app`] with the server's settings changed by `configure` first.
///
/// # Panics
/// When there is no database or the server cannot start.
pub async fn spawn_app_with(configure: impl FnOnce(&mut ServerConfig)) -> TestApp {
    let simulation = SimulatedProvider::new(std::time::Duration::from_secs(2));
    spawn_app_with_simulation(Arc::new(simulation), configure).await
}

/// [`spawn_app_with`] charging through `simulation` (unless `configure` sets another
/// provider), which the test keeps as [`TestApp::provider`] to control it.
///
/// # Panics
/// When there is no database or the server cannot start.
pub async fn spawn_app_with_simulation(
    simulation: Arc<SimulatedProvider>,
    configure: impl FnOnce(&mut ServerConfig),
) -> TestApp {
    let db = test_database().await;
    let secret = format!("test-secret-{}", Uuid::new_v4().simple()).into_bytes();
    let mut config = ServerConfig {
        listen: ([127, 0, 0, 1], 0).into(),
        database_url: db.url.clone(),
        jwt_secret: secret.clone(),
        limits: HttpLimits::default(),
        repository: RepositoryOptions::default(),
        max_connections: 16,
        saga: SagaConfig {
            provider: Arc::clone(&simulation) as Arc<dyn PaymentProvider>,
            ..SagaConfig::default()
        },
    };
    configure(&mut config);
    let app = Application::build(config)
        .await
        .unwrap_or_else(|e| panic!("starting the server: {e}"));
    let address = format!("http://127.0.0.1:{}", app.port());
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    let keys = JwtKeys::new(&secret).unwrap_or_else(|e| panic!("test JWT keys: {e}"));
    TestApp {
        address,
        client: reqwest::Client::new(),
        keys,
        commands: commands_over(&db),
        db,
        provider: simulation,
        _stop: Some(stop),
    }
}

impl TestApp {
    /// Helpers for a server running in another process at `address`, over `db`, signing
    /// its tokens with `secret`.
    ///
    /// # Panics
    /// When `secret` is too short to sign with.
    #[must_use]
    pub fn attach(address: String, db: TestDatabase, secret: &[u8]) -> Self {
        Self {
            address,
            client: reqwest::Client::new(),
            keys: JwtKeys::new(secret).unwrap_or_else(|e| panic!("test JWT keys: {e}")),
            commands: commands_over(&db),
            db,
            provider: Arc::new(SimulatedProvider::new(std::time::Duration::ZERO)),
            _stop: None,
        }
    }

    /// The absolute URL of `path`.
    #[must_use]
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// A bearer token for `sub` in `role`, valid for an hour, signed with the server's secret.
    #[must_use]
    pub fn token(&self, sub: &str, role: Role) -> String {
        self.keys.sign(sub, role, Duration::hours(1), Utc::now())
    }

    /// A genuine token for `sub` in `role` that expired an hour ago.
    #[must_use]
    pub fn expired_token(&self, sub: &str, role: Role) -> String {
        self.keys.sign(
            sub,
            role,
            Duration::hours(1),
            Utc::now() - Duration::hours(2),
        )
    }

    /// `GET path` as the holder of `token` (anonymous without one), with extra headers.
    ///
    /// # Panics
    /// When the request cannot be sent.
    pub async fn get(&self, path: &str, token: Option<&str>, headers: &[(&str, &str)]) -> Response {
        with_credentials(self.client.get(self.url(path)), token, headers)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    /// `POST path` with `body` as JSON, as the holder of `token` (anonymous without one).
    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Response {
        self.post_with(path, token, body, &[]).await
    }

    /// [`TestApp::post`] with extra headers, e.g. `Idempotency-Key`.
    ///
    /// # Panics
    /// When the request cannot be sent.
    pub async fn post_with(
        &self,
        path: &str,
        token: Option<&str>,
        body: Value,
        headers: &[(&str, &str)],
    ) -> Response {
        with_credentials(self.client.post(self.url(path)).json(&body), token, headers)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path}: {e}"))
    }

    /// `POST path` with a body sent as is under `content_type` (for malformed requests).
    ///
    /// # Panics
    /// When the request cannot be sent.
    pub async fn post_raw(
        &self,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> Response {
        let mut request = self
            .client
            .post(self.url(path))
            .header("content-type", content_type)
            .body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path}: {e}"))
    }

    /// Runs a GraphQL operation with `POST /graphql`.
    pub async fn graphql(&self, query: &str, variables: Value, token: Option<&str>) -> Response {
        self.graphql_with(query, variables, token, &[]).await
    }

    /// [`TestApp::graphql`] with extra headers, e.g. `Idempotency-Key`.
    pub async fn graphql_with(
        &self,
        query: &str,
        variables: Value,
        token: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Response {
        let body = json!({ "query": query, "variables": variables });
        self.post_with("/graphql", token, body, headers).await
    }

    /// Registers product `sku` at 12.50 BRL with `quantity` units on hand, as an operator
    /// (the price the order helpers state).
    ///
    /// # Panics
    /// Unless the server answers 201.
    pub async fn register_product(&self, sku: &str, quantity: u32) -> Value {
        let body = json!({
            "sku": sku,
            "name": format!("Product {sku}"),
            "initialQuantity": quantity,
            "lowStockThreshold": 0,
            "price": "12.50",
            "currency": "BRL",
        });
        let operator = self.token("operator-1", Role::Operator);
        expect(self.post("/api/products", Some(&operator), body).await, 201).await
    }

    /// Places an order of `quantity` × `sku` at 12.50 BRL as `customer`; its id.
    ///
    /// # Panics
    /// Unless the server answers 202 with an `orderId`.
    pub async fn place_order(&self, customer: &str, sku: &str, quantity: u32) -> String {
        let body = json!({
            "currency": "BRL",
            "lines": [{ "sku": sku, "quantity": quantity, "unitPrice": "12.50" }],
            "paymentToken": "tok_visa",
        });
        let token = self.token(customer, Role::Customer);
        let result = expect(self.post("/api/orders", Some(&token), body).await, 202).await;
        string_field(&result, "orderId")
    }

    /// Opens a ticket as `customer`; its id.
    ///
    /// # Panics
    /// Unless the server answers 201 with a `ticketId`.
    pub async fn open_ticket(&self, customer: &str) -> String {
        let body = json!({ "subject": "Where is my parcel?", "message": "It has not arrived." });
        let token = self.token(customer, Role::Customer);
        let result = expect(self.post("/api/tickets", Some(&token), body).await, 201).await;
        string_field(&result, "ticketId")
    }

    /// Closes `ticket` as its `customer`.
    ///
    /// # Panics
    /// Unless the server answers 200.
    pub async fn close_ticket(&self, customer: &str, ticket: &str) {
        let token = self.token(customer, Role::Customer);
        let path = format!("/api/tickets/{ticket}/close");
        let body = json!({ "resolution": "Solved." });
        expect(self.post(&path, Some(&token), body).await, 200).await;
    }

    /// Waits until fulfilment has confirmed `order` (its products must be registered with
    /// enough stock, and it paid with `tok_visa`).
    ///
    /// # Panics
    /// When the order settles otherwise or not in time.
    pub async fn confirm_order(&self, order: &str) {
        let settled = self
            .settled_order(order, std::time::Duration::from_secs(30))
            .await;
        assert_eq!(settled["status"], "CONFIRMED", "order {order}: {settled}");
    }

    /// Runs one step of fulfilment on `order` behind the API, standing in for the saga of
    /// a server started without it; its command result.
    ///
    /// # Panics
    /// When the order refuses the step.
    pub async fn order_step(&self, order: &str, step: OrderCommand) -> CommandResult {
        let metadata = CommandMetadata {
            command_id: Uuid::now_v7(),
            correlation_id: Uuid::now_v7(),
            causation_id: None,
            actor: "fulfilment-stand-in".into(),
        };
        self.commands
            .orders()
            .execute(order, step, &metadata)
            .await
            .unwrap_or_else(|e| panic!("step on order {order}: {e}"))
    }

    /// The event types and payloads of stream `stream_type/stream_id`, in version order.
    ///
    /// # Panics
    /// When the event log cannot be read.
    pub async fn events(&self, stream_type: &str, stream_id: &str) -> Vec<(String, Value)> {
        sqlx::query_as(
            "SELECT event_type, payload FROM events \
             WHERE stream_type = $1 AND stream_id = $2 ORDER BY version",
        )
        .bind(stream_type)
        .bind(stream_id)
        .fetch_all(&self.db.pool)
        .await
        .unwrap_or_else(|e| panic!("reading {stream_type}/{stream_id}: {e}"))
    }

    /// How many orders the log records as placed.
    ///
    /// # Panics
    /// When the event log cannot be read.
    pub async fn orders_placed(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = 'OrderPlaced'")
            .fetch_one(&self.db.pool)
            .await
            .unwrap_or_else(|e| panic!("counting orders: {e}"))
    }

    /// How many events callers have recorded (the log without the events fulfilment
    /// appends on its own as orders are placed).
    ///
    /// # Panics
    /// When the event log cannot be read.
    pub async fn event_total(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM events WHERE metadata ->> 'actor' <> 'saga'")
            .fetch_one(&self.db.pool)
            .await
            .unwrap_or_else(|e| panic!("counting events: {e}"))
    }

    /// The events of stream `stream_type/stream_id` as an auditor reads them with the
    /// GraphQL `stream` query (`position`, `version`, `eventType`, `recordedAt`, `hash`),
    /// in version order.
    ///
    /// # Panics
    /// Unless the query answers a stream.
    pub async fn history_stream(&self, stream_type: &str, stream_id: &str) -> Vec<Value> {
        let query = "query($type: String!, $id: String!) {
            stream(streamType: $type, streamId: $id) {
                edges { node { position version eventType recordedAt hash } }
            }
        }";
        let auditor = self.token("audrey", Role::Auditor);
        let variables = json!({ "type": stream_type, "id": stream_id });
        let data = graphql_data(self.graphql(query, variables, Some(&auditor)).await).await;
        data["stream"]["edges"]
            .as_array()
            .unwrap_or_else(|| panic!("no stream {stream_type}/{stream_id}: {data}"))
            .iter()
            .map(|edge| edge["node"].clone())
            .collect()
    }

    /// The event types of stream `stream_type/stream_id`, in version order.
    pub async fn event_types(&self, stream_type: &str, stream_id: &str) -> Vec<String> {
        self.events(stream_type, stream_id)
            .await
            .into_iter()
            .map(|(event_type, _)| event_type)
            .collect()
    }
}

impl TestApp {
    /// Places an order for `customer` of `lines` (`(sku, quantity)`, 12.50 BRL each) paid
    /// with `payment_token`; its id.
    ///
    /// # Panics
    /// Unless the server answers 202 with an `orderId`.
    pub async fn place_order_paid_with(
        &self,
        customer: &str,
        lines: &[(&str, u32)],
        payment_token: &str,
    ) -> String {
        let lines: Vec<Value> = lines
            .iter()
            .map(
                |(sku, quantity)| json!({ "sku": sku, "quantity": quantity, "unitPrice": "12.50" }),
            )
            .collect();
        let body = json!({ "currency": "BRL", "lines": lines, "paymentToken": payment_token });
        let token = self.token(customer, Role::Customer);
        let result = expect(self.post("/api/orders", Some(&token), body).await, 202).await;
        string_field(&result, "orderId")
    }

    /// The order read model of `order`, as an operator sees it.
    ///
    /// # Panics
    /// Unless the server answers 200.
    pub async fn order(&self, order: &str) -> Value {
        let operator = self.token("operator-1", Role::Operator);
        expect(
            self.get(&format!("/api/orders/{order}"), Some(&operator), &[])
                .await,
            200,
        )
        .await
    }

    /// The product read model of `sku`.
    ///
    /// # Panics
    /// Unless the server answers 200.
    pub async fn product(&self, sku: &str) -> Value {
        let operator = self.token("operator-1", Role::Operator);
        expect(
            self.get(&format!("/api/products/{sku}"), Some(&operator), &[])
                .await,
            200,
        )
        .await
    }

    /// Waits (up to `within`) until the order read model of `order` has reached a final
    /// status with nothing of its fulfilment left to do: CONFIRMED with its payment
    /// SUCCEEDED, or CANCELLED with its compensation recorded (no saga deadline or action
    /// pending). Answers the read model.
    ///
    /// # Panics
    /// When it does not settle in time.
    pub async fn settled_order(&self, order: &str, within: std::time::Duration) -> Value {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            // At rest first, then the read: the read models have taken in everything the
            // saga did by the time it is read.
            let at_rest = self.saga_at_rest(order).await;
            let operator = self.token("operator-1", Role::Operator);
            let response = self
                .get(&format!("/api/orders/{order}"), Some(&operator), &[])
                .await;
            if response.status() == 200 {
                let body: Value = response.json().await.unwrap_or(Value::Null);
                let status = body["status"].as_str().unwrap_or("");
                if matches!(status, "CONFIRMED" | "CANCELLED") && at_rest {
                    return body;
                }
                if tokio::time::Instant::now() > deadline {
                    panic!("order {order} did not settle in {within:?}; last seen {body}");
                }
            } else if tokio::time::Instant::now() > deadline {
                panic!("order {order} never appeared in the read model");
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// Whether the saga of `order` has reached an outcome and the log holds nothing that the
    /// saga or a projection has not taken in yet.
    async fn saga_at_rest(&self, order: &str) -> bool {
        let Ok(id) = Uuid::parse_str(order) else {
            return false;
        };
        let phase: Option<String> =
            sqlx::query_scalar("SELECT phase FROM saga_fulfilments WHERE order_id = $1")
                .bind(id)
                .fetch_optional(&self.db.pool)
                .await
                .unwrap_or(None);
        let behind: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM events e, projection_checkpoints c
             WHERE c.name IN ('fulfilment', 'orders', 'products', 'payments')
               AND (e.transaction_id, e.position) > (c.transaction_id, c.position)",
        )
        .fetch_one(&self.db.pool)
        .await
        .unwrap_or(1);
        matches!(phase.as_deref(), Some("CONFIRMED" | "CANCELLED")) && behind == 0
    }
}

/// `request` with `token` as its bearer credentials (if any) and `headers` added.
fn with_credentials(
    request: reqwest::RequestBuilder,
    token: Option<&str>,
    headers: &[(&str, &str)],
) -> reqwest::RequestBuilder {
    let request = match token {
        Some(token) => request.bearer_auth(token),
        None => request,
    };
    headers.iter().fold(request, |request, (name, value)| {
        request.header(*name, *value)
    })
}

/// The command side over `db`, behind the API.
fn commands_over(db: &TestDatabase) -> Commands {
    let store = Arc::new(PgEventStore::new(db.pool.clone()));
    Commands::new(store, &RepositoryOptions::default())
}

fn string_field(body: &Value, field: &str) -> String {
    body[field]
        .as_str()
        .unwrap_or_else(|| panic!("no {field} in {body}"))
        .to_owned()
}
