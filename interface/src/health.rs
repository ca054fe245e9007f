//! Liveness and readiness.
//!
//! `/health/ready` answers JSON with one entry per check, each `pass`, `warn` or `fail`
//! with its reason, and 503 when one fails. What fails is this instance's own trouble:
//! - `server`: shutting down;
//! - `followers`: a projection worker or the saga's runner of this process has stopped;
//! - `database`: no answer within [`DATABASE_WAIT`];
//! - `migrations`: one this binary knows is not applied.
//!
//! The followers of the log (`orders`, …, `fulfilment`) are shared by every instance, so
//! their state is reported and fails nothing by default (a parked one is a `warn`): were it
//! to fail readiness, every instance would leave the load balancer at once. Only with
//! `--ready-max-lag` does a projection further behind than that fail (the saga is left out:
//! its checkpoint waits for payments, and admission control, `--max-fulfilment-lag`, guards
//! it).

use std::time::Duration;

use application::operations::{FollowerHealth, Readiness};
use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use serde_json::{Value, json};

use crate::state::AppState;

/// `/health/live` and `/health/ready`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/health/live", get(live))
        .route("/health/ready", get(ready))
}

/// The process is up.
async fn live() -> Json<Value> {
    Json(json!({ "status": "live" }))
}

/// How long readiness waits for the database before it says the database is unreachable.
pub const DATABASE_WAIT: Duration = Duration::from_secs(2);

/// A check that passed, with what it found.
fn pass(name: &str, details: Value) -> Value {
    entry(name, "pass", None, details)
}

/// A check that found something to look at, without failing readiness.
fn warn(name: &str, reason: impl Into<String>, details: Value) -> Value {
    entry(name, "warn", Some(reason.into()), details)
}

/// A check that failed, and why.
fn fail(name: &str, reason: impl Into<String>, details: Value) -> Value {
    entry(name, "fail", Some(reason.into()), details)
}

/// One entry of the answer: `details` with the check's name, status and reason.
fn entry(name: &str, status: &str, reason: Option<String>, mut details: Value) -> Value {
    details["name"] = json!(name);
    details["status"] = json!(status);
    if let Some(reason) = reason {
        details["reason"] = json!(reason);
    }
    details
}

/// Every check; see the module documentation.
async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let mut checks = Vec::new();
    checks.push(if *state.shutdown.borrow() {
        fail("server", "shutting down", json!({}))
    } else {
        pass("server", json!({}))
    });
    let stopped: Vec<&str> = state
        .followers
        .iter()
        .filter(|(_, task)| task.is_finished())
        .map(|(name, _)| name.as_str())
        .collect();
    checks.push(if stopped.is_empty() {
        pass("followers", json!({ "running": state.followers.len() }))
    } else {
        fail(
            "followers",
            format!("stopped in this process: {}", stopped.join(", ")),
            json!({ "stopped": stopped }),
        )
    });
    match tokio::time::timeout(DATABASE_WAIT, state.operations.readiness()).await {
        Ok(Ok(readiness)) => {
            checks.push(pass("database", json!({})));
            checks.extend(database_checks(&readiness, state.limits.ready_max_lag));
        }
        Ok(Err(error)) => {
            tracing::warn!(%error, "readiness check failed");
            checks.push(fail("database", "unreachable", json!({})));
        }
        Err(_) => {
            tracing::warn!(wait = ?DATABASE_WAIT, "readiness check timed out");
            checks.push(fail(
                "database",
                format!("no answer within {}s", DATABASE_WAIT.as_secs()),
                json!({}),
            ));
        }
    }
    let ready = checks.iter().all(|check| check["status"] != "fail");
    let (status, word) = if ready {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready")
    };
    (status, Json(json!({ "status": word, "checks": checks })))
}

/// The migrations' check and one per follower of the log.
fn database_checks(readiness: &Readiness, max_lag: Duration) -> Vec<Value> {
    let (applied, known) = (readiness.migrations_applied, readiness.migrations_known);
    let counts = json!({ "applied": applied, "known": known });
    let mut checks = vec![if applied < known {
        fail("migrations", format!("{} pending", known - applied), counts)
    } else {
        pass("migrations", counts)
    }];
    let names = projections::followers();
    for follower in &readiness.followers {
        if names.contains(&follower.name) {
            checks.push(follower_check(follower, max_lag));
        }
    }
    checks
}

fn follower_check(follower: &FollowerHealth, max_lag: Duration) -> Value {
    let lag = follower.lag_seconds;
    let details = json!({ "lagSeconds": lag });
    let limit = max_lag.as_secs_f64();
    // The saga and the relay wait on shared outsiders (the payment provider, the broker):
    // their lag takes no instance out of the load balancer.
    let gated = !max_lag.is_zero()
        && follower.name != projections::saga::runner::NAME
        && follower.name != projections::relay::NAME;
    match &follower.parked {
        Some(error) => warn(&follower.name, format!("parked: {error}"), details),
        None if gated && lag > limit => fail(
            &follower.name,
            format!("{lag:.0}s behind the log, over the {limit:.0}s of --ready-max-lag"),
            details,
        ),
        None => pass(&follower.name, details),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn follower(parked: Option<&str>, lag_seconds: f64) -> FollowerHealth {
        FollowerHealth {
            name: "orders".into(),
            parked: parked.map(str::to_owned),
            lag_seconds,
        }
    }

    #[test]
    fn a_follower_fails_when_parked_or_too_far_behind() {
        let minute = Duration::from_secs(60);
        assert_eq!(
            follower_check(&follower(None, 5.0), minute)["status"],
            "pass"
        );
        let behind = follower_check(&follower(None, 90.0), minute);
        assert_eq!(behind["status"], "fail");
        assert_eq!(
            behind["reason"],
            "90s behind the log, over the 60s of --ready-max-lag"
        );
        assert_eq!(
            follower_check(&follower(None, 90.0), Duration::ZERO)["status"],
            "pass"
        );
        let parked = follower_check(&follower(Some("bad event"), 0.0), minute);
        assert_eq!(parked["status"], "warn");
        assert_eq!(parked["reason"], "parked: bad event");
        let saga = FollowerHealth {
            name: "fulfilment".into(),
            ..follower(None, 90.0)
        };
        assert_eq!(follower_check(&saga, minute)["status"], "pass");
    }
}
