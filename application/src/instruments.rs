//! The names of every metric domainflow records, and their descriptions.
//!
//! Each layer records through the `metrics` facade where the thing happens (a command
//! decided, a batch applied, a saga moved on); the server installs the Prometheus recorder
//! and serves what it holds at `GET /metrics`. Nothing is counted at scrape time: gauges are
//! kept up to date by whoever changes them (the workers, the saga runner).
//!
//! Without an installed recorder (the command line, a library user) every record is a
//! no-op.

use crate::Error;

/// HTTP requests answered, by `route` (the route's pattern, `unmatched` for none),
/// `method` and `status`.
pub const HTTP_REQUESTS: &str = "domainflow_http_requests_total";
/// Seconds from a request's arrival to its answer's head, by `route`, `method` and `status`.
pub const HTTP_REQUEST_SECONDS: &str = "domainflow_http_request_duration_seconds";
/// Commands decided, by `aggregate`, `command` and `outcome`
/// ([`command_outcome`]): those of clients and those of the saga.
pub const COMMANDS: &str = "domainflow_commands_total";
/// Seconds a command took, from its load to its answer, by `aggregate` and `command`.
pub const COMMAND_SECONDS: &str = "domainflow_command_duration_seconds";
/// Events appended by this process, by `aggregate`.
pub const EVENTS_APPENDED: &str = "domainflow_events_appended_total";
/// Commands decided again after a concurrency conflict, by `aggregate`.
pub const CONFLICTS_RETRIED: &str = "domainflow_conflicts_retried_total";
/// Events a follower took (applied, for a projection; read into its lanes, for the saga), by
/// `projection`.
pub const PROJECTION_EVENTS: &str = "domainflow_projection_events_applied_total";
/// Events a follower has not finished, by `projection` (the fulfilment saga is one): those
/// after its position in the log (counted up to 100 000), and for the saga also the steps
/// read but not done.
pub const PROJECTION_LAG_EVENTS: &str = "domainflow_projection_lag_events";
/// Age in seconds of the oldest event a follower has not applied yet (0 when caught up),
/// by `projection`.
pub const PROJECTION_LAG_SECONDS: &str = "domainflow_projection_lag_seconds";
/// 1 in the process whose follower holds the lock (and keeps the lag gauges), 0 in one
/// that let it go, by `projection`.
pub const PROJECTION_ACTIVE: &str = "domainflow_projection_active";
/// 1 while a follower is parked after a failing event, 0 while it runs, by `projection`.
pub const PROJECTION_PARKED: &str = "domainflow_projection_parked";
/// Order-fulfilment sagas by `phase`.
pub const SAGAS: &str = "domainflow_sagas";
/// Saga actions given up on, waiting for an operator.
pub const SAGA_DEAD_LETTERS: &str = "domainflow_saga_dead_letters";
/// Payment deadlines running.
pub const SAGA_DEADLINES: &str = "domainflow_saga_deadlines";
/// Saga retries by this process: failed charges and commands tried again.
pub const SAGA_RETRIES: &str = "domainflow_saga_retries_total";
/// 1 for the payment provider circuit's current `state` (closed, open, half_open), 0 for
/// the others.
pub const PAYMENT_CIRCUIT: &str = "domainflow_payment_circuit_state";
/// Connections of the server's pool, by `state` (`in_use`, `idle`).
pub const DB_CONNECTIONS: &str = "domainflow_db_connections";
/// The most connections the server's pool opens.
pub const DB_CONNECTIONS_MAX: &str = "domainflow_db_connections_max";

/// Integration events the relay published and the broker confirmed, by `broker` and
/// `event` (a repeat after a failure counts again).
pub const RELAY_PUBLISHED: &str = "domainflow_relay_published_total";
/// Batches the relay failed to publish (the broker away, a confirm missing or refused), by
/// `broker`: each is tried again.
pub const RELAY_FAILURES: &str = "domainflow_relay_failures_total";

/// Rounds of the sealer, by `outcome`: `sealed`, `nothing_new`, `refused` (the seals or
/// the events under them were changed: alert on it) or `failed` (tried again next round).
pub const SEALS: &str = "domainflow_seal_rounds_total";

/// The metrics whose names end in `_seconds` and are histograms: the exporter gives them
/// buckets.
pub const HISTOGRAMS: [&str; 2] = [HTTP_REQUEST_SECONDS, COMMAND_SECONDS];

/// Describes every metric to the installed recorder (its `# HELP` and unit).
pub fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests answered, by route, method and status."
    );
    describe_histogram!(
        HTTP_REQUEST_SECONDS,
        Unit::Seconds,
        "Seconds from a request's arrival to its answer, by route, method and status."
    );
    describe_counter!(
        COMMANDS,
        "Commands decided (clients' and the saga's), by aggregate, command and outcome."
    );
    describe_histogram!(
        COMMAND_SECONDS,
        Unit::Seconds,
        "Seconds a command took from its load to its answer, by aggregate and command."
    );
    describe_counter!(
        EVENTS_APPENDED,
        "Events appended by this process, by aggregate."
    );
    describe_counter!(
        CONFLICTS_RETRIED,
        "Commands decided again after a concurrency conflict, by aggregate."
    );
    describe_counter!(
        PROJECTION_EVENTS,
        "Events a projection applied, by projection."
    );
    describe_gauge!(
        PROJECTION_LAG_EVENTS,
        "Events the follower has not finished: after its position (up to 100000), and the \
         saga's steps read but not done."
    );
    describe_gauge!(
        PROJECTION_LAG_SECONDS,
        Unit::Seconds,
        "Age in seconds of the oldest event the projection has not applied (0 when caught up)."
    );
    describe_gauge!(
        PROJECTION_ACTIVE,
        "1 where the follower holds its lock and keeps the lag gauges, 0 where it let it go."
    );
    describe_gauge!(
        PROJECTION_PARKED,
        "1 when the projection is parked after a failing event, 0 while it runs."
    );
    describe_gauge!(SAGAS, "Order-fulfilment sagas by phase.");
    describe_gauge!(
        SAGA_DEAD_LETTERS,
        "Saga actions given up on, waiting for an operator."
    );
    describe_gauge!(SAGA_DEADLINES, "Payment deadlines running.");
    describe_counter!(
        SAGA_RETRIES,
        "Saga retries by this process: failed charges and commands tried again."
    );
    describe_gauge!(
        PAYMENT_CIRCUIT,
        "1 for the payment provider circuit's current state (closed, open, half_open), 0 for \
         the others."
    );
    describe_gauge!(
        DB_CONNECTIONS,
        "Connections of the server's database pool, by state (in_use, idle)."
    );
    describe_gauge!(
        DB_CONNECTIONS_MAX,
        "The most connections the server's database pool opens."
    );
    describe_counter!(
        RELAY_PUBLISHED,
        "Integration events published and confirmed by the broker, by broker and event."
    );
    describe_counter!(
        SEALS,
        "Rounds of the log's sealer by outcome (sealed, nothing_new, refused, failed)."
    );
    describe_counter!(
        RELAY_FAILURES,
        "Batches the relay failed to publish and tries again, by broker."
    );
}

/// Counts and times one command: [`CommandTimer::finish`] with its answer, or, when the
/// command's future is dropped before it answers (its caller went away), as `cancelled`.
#[derive(Debug)]
pub struct CommandTimer {
    aggregate: &'static str,
    command: &'static str,
    started: std::time::Instant,
    finished: bool,
}

impl CommandTimer {
    /// Starts timing `command` on an aggregate of type `aggregate`.
    #[must_use]
    pub fn start(aggregate: &'static str, command: &'static str) -> Self {
        Self {
            aggregate,
            command,
            started: std::time::Instant::now(),
            finished: false,
        }
    }

    /// The command answered `result`.
    pub fn finish<T>(mut self, result: &Result<T, Error>) {
        self.finished = true;
        self.record(command_outcome(result));
    }

    fn record(&self, outcome: &'static str) {
        let (aggregate, command) = (self.aggregate, self.command);
        metrics::counter!(COMMANDS, "aggregate" => aggregate, "command" => command, "outcome" => outcome)
            .increment(1);
        metrics::histogram!(COMMAND_SECONDS, "aggregate" => aggregate, "command" => command)
            .record(self.started.elapsed());
    }
}

impl Drop for CommandTimer {
    fn drop(&mut self) {
        if !self.finished {
            self.record("cancelled");
        }
    }
}

/// The `outcome` label of a command's answer: `ok`, or what refused it.
#[must_use]
pub const fn command_outcome<T>(result: &Result<T, Error>) -> &'static str {
    match result {
        Ok(_) => "ok",
        Err(Error::Rejected(_) | Error::PriceMismatch(_)) => "rejected",
        Err(Error::Validation(_) | Error::Schema(_)) => "invalid",
        Err(Error::NotFound { .. }) => "not_found",
        Err(Error::Conflict { .. }) => "conflict",
        Err(Error::Forbidden(_) | Error::Unauthenticated(_)) => "forbidden",
        Err(Error::IdempotencyMismatch) => "idempotency_mismatch",
        Err(Error::Busy(_) | Error::Overloaded(_)) => "busy",
        Err(
            Error::Stale
            | Error::Unavailable(_)
            | Error::Infrastructure(_)
            | Error::NotConfigured(_),
        ) => "failed",
    }
}
