//! The real server for end-to-end tests: [`spawn_app`] starts it on port 0 against a
//! database of its own, and [`TestApp`] talks to it over HTTP the way a client does.

use std::sync::Arc;

use application::event_log::CommandMetadata;
use application::{Commands, RepositoryOptions, Role};
use chrono::{Duration, Utc};
use domain::Timestamp;
use domain::order::Command as OrderCommand;
use infrastructure::PgEventStore;
use interface::auth::JwtKeys;
use interface::{Application, HttpLimits, ServerConfig};
use reqwest::Response;
use serde_json::{Value, json};
use tokio::sync::oneshot;
use uuid::Uuid;

use crate::answers::expect;
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
    /// Dropping it (with the app) stops the server.
    _stop: oneshot::Sender<()>,
}

/// Starts the real server on a free port against a fresh database, with a random JWT
/// secret and the default limits.
///
/// # Panics
/// When there is no database or the server cannot start.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// [`spawn_app`] with the server's settings changed by `configure` first.
///
/// # Panics
/// When there is no database or the server cannot start.
pub async fn spawn_app_with(configure: impl FnOnce(&mut ServerConfig)) -> TestApp {
    let db = test_database().await;
    let secret = format!("test-secret-{}", Uuid::new_v4().simple()).into_bytes();
    let mut config = ServerConfig {
        listen: ([127, 0, 0, 1], 0).into(),
        database_url: db.url.clone(),
        jwt_secret: secret.clone(),
        limits: HttpLimits::default(),
        repository: RepositoryOptions::default(),
        max_connections: 16,
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
    let store = Arc::new(PgEventStore::new(db.pool.clone()));
    TestApp {
        address,
        client: reqwest::Client::new(),
        keys,
        commands: Commands::new(store, &RepositoryOptions::default()),
        db,
        _stop: stop,
    }
}

impl TestApp {
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
        let mut request = self.client.post(self.url(path)).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request
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

    /// Registers product `sku` with `quantity` units on hand, as an operator.
    ///
    /// # Panics
    /// Unless the server answers 201.
    pub async fn register_product(&self, sku: &str, quantity: u32) -> Value {
        let body = json!({
            "sku": sku,
            "name": format!("Product {sku}"),
            "initialQuantity": quantity,
            "lowStockThreshold": 0,
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

    /// Stands in for fulfilment, which this server does not run: records every line of
    /// `order` as reserved and its payment as succeeded, and confirms it.
    ///
    /// # Panics
    /// When the order does not exist or refuses a step.
    pub async fn confirm_order(&self, order: &str) {
        let orders = self.commands.orders();
        let (state, _) = orders
            .load(order)
            .await
            .unwrap_or_else(|e| panic!("loading order {order}: {e}"));
        let mut steps: Vec<OrderCommand> = state
            .0
            .lines()
            .iter()
            .map(|line| OrderCommand::RecordLineReserved {
                sku: line.sku.clone(),
            })
            .collect();
        steps.push(OrderCommand::RecordPaymentSucceeded);
        steps.push(OrderCommand::Confirm {
            at: Timestamp::from_millis(Utc::now().timestamp_millis()),
        });
        for step in steps {
            let metadata = CommandMetadata {
                command_id: Uuid::now_v7(),
                correlation_id: Uuid::now_v7(),
                causation_id: None,
                actor: "fulfilment-stand-in".into(),
            };
            orders
                .execute(order, step, &metadata)
                .await
                .unwrap_or_else(|e| panic!("confirming order {order}: {e}"));
        }
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

    /// The event types of stream `stream_type/stream_id`, in version order.
    pub async fn event_types(&self, stream_type: &str, stream_id: &str) -> Vec<String> {
        self.events(stream_type, stream_id)
            .await
            .into_iter()
            .map(|(event_type, _)| event_type)
            .collect()
    }
}

fn string_field(body: &Value, field: &str) -> String {
    body[field]
        .as_str()
        .unwrap_or_else(|| panic!("no {field} in {body}"))
        .to_owned()
}
