//! The processor's HTTP routes: payment methods, charges, a charge's status and refunds, answered from the
//! ledger as each token or every charge was told to behave, behind the API key if one is set.

use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use uuid::Uuid;

use super::{Behaviour, Entry, Outcome, Running, Shared, lock};

pub(super) fn serve(listener: TcpListener, ledger: Shared) -> Running {
    let app = Router::new()
        .route("/v1/payment-methods", post(register))
        .route("/v1/charges", post(charge))
        .route("/v1/charges/{payment}", get(status))
        .route("/v1/charges/{payment}/refunds", post(refund))
        .with_state(ledger);
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await;
    });
    Running { stop, task }
}

fn answer(outcome: &Outcome) -> Response {
    match outcome {
        Outcome::Captured => (StatusCode::OK, axum::Json(json!({ "status": "captured" }))),
        Outcome::Declined(reason) => (
            StatusCode::OK,
            axum::Json(json!({ "status": "declined", "reason": reason })),
        ),
        Outcome::Pending => (
            StatusCode::ACCEPTED,
            axum::Json(json!({ "status": "pending" })),
        ),
    }
    .into_response()
}

fn failure(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({ "error": message }))).into_response()
}

/// The 401 for a call without the required key, if one is required.
fn unauthorized(ledger: &Shared, headers: &HeaderMap) -> Option<Response> {
    let expected = lock(ledger).key.clone()?;
    let given = headers
        .get("authorization")
        .and_then(|value| value.to_str().ok());
    (given != Some(format!("Bearer {expected}").as_str()))
        .then(|| failure(StatusCode::UNAUTHORIZED, "invalid API key"))
}

/// Keeps a token and answers its reference and fingerprint.
async fn register(
    State(ledger): State<Shared>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    if let Some(refused) = unauthorized(&ledger, &headers) {
        return refused;
    }
    let Some(token) = body["token"].as_str().filter(|token| !token.is_empty()) else {
        return failure(StatusCode::BAD_REQUEST, "token needed");
    };
    if token.starts_with("tok_refused") {
        // As processors do, the refusal quotes what it refuses.
        return failure(
            StatusCode::PAYMENT_REQUIRED,
            &format!("{token} is not a card"),
        );
    }
    let mut ledger = lock(&ledger);
    let reference = format!("pm_{}", ledger.methods.len() + 1);
    ledger.methods.insert(reference.clone(), token.to_owned());
    let fingerprint = format!("fp_{}", token.len());
    (
        StatusCode::CREATED,
        axum::Json(json!({ "reference": reference, "fingerprint": fingerprint })),
    )
        .into_response()
}

/// What a charge request does to the ledger, decided under its lock.
enum Step {
    Answer(Outcome),
    Fail,
    Refuse,
    CaptureThenDelay(Duration),
    AnswerLate(Duration),
}

async fn charge(
    State(ledger): State<Shared>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    if let Some(refused) = unauthorized(&ledger, &headers) {
        return refused;
    }
    let (Some(payment), Some(amount), Some(method)) = (
        body["paymentId"]
            .as_str()
            .and_then(|id| Uuid::parse_str(id).ok()),
        body["amount"].as_i64(),
        body["paymentMethod"].as_str(),
    ) else {
        return failure(
            StatusCode::BAD_REQUEST,
            "paymentId, amount and paymentMethod needed",
        );
    };
    if body["currency"].as_str().is_none_or(str::is_empty) {
        return failure(StatusCode::BAD_REQUEST, "currency needed");
    }
    let key = headers
        .get("idempotency-key")
        .and_then(|value| value.to_str().ok());
    if key != Some(payment.to_string().as_str()) {
        return failure(
            StatusCode::BAD_REQUEST,
            "Idempotency-Key must be the payment id",
        );
    }
    let step = {
        let mut ledger = lock(&ledger);
        let token = ledger.methods.get(method).cloned();
        let behaviour = match (ledger.every_charge, token) {
            (Some(every), _) => every,
            (None, Some(token)) => ledger
                .tokens
                .get(&token)
                .copied()
                .unwrap_or(Behaviour::Approve),
            (None, None) => Behaviour::Decline,
        };
        let entry = ledger.payments.entry(payment).or_default();
        entry.charge_calls += 1;
        match (&entry.outcome, behaviour) {
            (_, Behaviour::Fail) => Step::Fail,
            (_, Behaviour::Refuse) => Step::Refuse,
            (Some(first), _) => Step::Answer(first.clone()),
            (None, Behaviour::Approve) => Step::Answer(capture(entry, amount)),
            (None, Behaviour::Decline) => {
                entry.outcome = Some(Outcome::Declined("card declined".into()));
                Step::Answer(Outcome::Declined("card declined".into()))
            }
            (None, Behaviour::Pending) => {
                entry.outcome = Some(Outcome::Pending);
                Step::Answer(Outcome::Pending)
            }
            (None, Behaviour::CaptureThenDelay(delay)) => {
                capture(entry, amount);
                Step::CaptureThenDelay(delay)
            }
            (None, Behaviour::AnswerLate(delay)) => Step::AnswerLate(delay),
        }
    };
    match step {
        Step::Answer(outcome) => answer(&outcome),
        Step::Fail => failure(StatusCode::INTERNAL_SERVER_ERROR, "processor failure"),
        Step::Refuse => failure(StatusCode::BAD_REQUEST, "invalid request: unknown API key"),
        Step::CaptureThenDelay(delay) => {
            tokio::time::sleep(delay).await;
            answer(&Outcome::Captured)
        }
        Step::AnswerLate(delay) => {
            tokio::time::sleep(delay).await;
            let mut ledger = lock(&ledger);
            let entry = ledger.payments.entry(payment).or_default();
            let outcome = match &entry.outcome {
                Some(first) => first.clone(),
                None => capture(entry, amount),
            };
            answer(&outcome)
        }
    }
}

fn capture(entry: &mut Entry, amount: i64) -> Outcome {
    entry.outcome = Some(Outcome::Captured);
    entry.amount = amount;
    entry.captures += 1;
    Outcome::Captured
}

async fn status(
    State(ledger): State<Shared>,
    Path(payment): Path<Uuid>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = unauthorized(&ledger, &headers) {
        return refused;
    }
    let ledger = lock(&ledger);
    if ledger.every_charge == Some(Behaviour::Fail) {
        return failure(StatusCode::INTERNAL_SERVER_ERROR, "processor failure");
    }
    let Some(entry) = ledger.payments.get(&payment) else {
        return (
            StatusCode::NOT_FOUND,
            axum::Json(json!({ "status": "not_found" })),
        )
            .into_response();
    };
    let body = match (&entry.outcome, entry.refunded) {
        (Some(Outcome::Captured), Some(_)) => json!({ "status": "refunded" }),
        (Some(Outcome::Captured), None) => json!({ "status": "captured" }),
        (Some(Outcome::Declined(reason)), _) => json!({ "status": "declined", "reason": reason }),
        (Some(Outcome::Pending), _) => json!({ "status": "pending" }),
        (None, _) => json!({ "status": "not_found" }),
    };
    (StatusCode::OK, axum::Json(body)).into_response()
}

async fn refund(
    State(ledger): State<Shared>,
    Path(payment): Path<Uuid>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    if let Some(refused) = unauthorized(&ledger, &headers) {
        return refused;
    }
    let key = headers
        .get("idempotency-key")
        .and_then(|value| value.to_str().ok());
    if key != Some(format!("refund-{payment}").as_str()) {
        return failure(
            StatusCode::BAD_REQUEST,
            "Idempotency-Key must be refund-{paymentId}",
        );
    }
    let Some(amount) = body["amount"].as_i64() else {
        return failure(StatusCode::BAD_REQUEST, "amount needed");
    };
    let mut ledger = lock(&ledger);
    if ledger.every_charge == Some(Behaviour::Fail) {
        return failure(StatusCode::INTERNAL_SERVER_ERROR, "processor failure");
    }
    match ledger.payments.get_mut(&payment) {
        Some(entry) if entry.outcome == Some(Outcome::Captured) => {
            if entry.refunded.is_none() {
                entry.refunded = Some(amount);
                entry.refunds += 1;
            }
            (StatusCode::OK, axum::Json(json!({ "status": "refunded" }))).into_response()
        }
        _ => failure(StatusCode::NOT_FOUND, "no captured charge for this payment"),
    }
}
