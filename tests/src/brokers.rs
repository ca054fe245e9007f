//! The brokers on this machine, for the relay's tests: whether one is reachable, a restart
//! (stopped, then started again the way the machine starts it), and what a consumer of
//! integration events received.
//!
//! A broker that cannot be reached skips its test with a line saying so, on stdout and in
//! `target/tmp/broker-tests.txt` (which `.ci/run` prints), unless `BROKER_TESTS=required`.

use std::io::Write;
use std::process::Command;
use std::time::Duration;

use std::collections::{HashMap, HashSet};

use application::event_log::{Position, ReadFilter};
use application::integration::{IntegrationEvent, integration_event};
use application::{EventStore, Upcasters, decode_recorded};
use chrono::{DateTime, Utc};
use lapin::options::{
    BasicGetOptions, ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions,
    QueueDeleteOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{Connection, ConnectionProperties, ExchangeKind};
use serde_json::Value;
use sqlx::PgPool;

/// One message as a consumer received it.
#[derive(Debug, Clone)]
pub struct Received {
    /// The broker's message id (RabbitMQ's `message_id`, NATS's `Nats-Msg-Id`).
    pub message_id: String,
    /// The CloudEvents document.
    pub body: Value,
}

/// Says a broker test was skipped (or ran), on stdout and in `broker-tests.txt` under
/// `tmp_dir` (the test's `CARGO_TARGET_TMPDIR`), where `.ci/run` shows it.
///
/// # Panics
/// When skipped while `BROKER_TESTS=required`.
#[allow(clippy::print_stdout)] // the line is the report
pub fn report(tmp_dir: &str, line: &str, skipped: bool) {
    println!("{line}");
    let path = std::path::Path::new(tmp_dir).join("broker-tests.txt");
    if let Ok(mut file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = writeln!(file, "{line}");
    }
    if skipped && std::env::var("BROKER_TESTS").as_deref() == Ok("required") {
        panic!("{line} (BROKER_TESTS=required)");
    }
}

/// The RabbitMQ URL of the tests: `RABBITMQ_URL`, or the machine's own.
#[must_use]
pub fn rabbitmq_url() -> String {
    std::env::var("RABBITMQ_URL").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
}

/// The NATS URL of the tests: `NATS_URL`, or the machine's own.
#[must_use]
pub fn nats_url() -> String {
    std::env::var("NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into())
}

/// A durable queue bound to every integration event, which outlives a broker restart and
/// expires ten minutes after its last use should a test leave it behind.
#[derive(Debug)]
pub struct RabbitQueue {
    url: String,
    name: String,
}

impl RabbitQueue {
    /// Declares the exchange (as the relay does) and a fresh queue bound to it; `Err` when
    /// the broker cannot be reached.
    ///
    /// # Errors
    /// The connection's error.
    pub async fn bind(url: &str) -> Result<Self, lapin::Error> {
        let connection = Connection::connect(url, ConnectionProperties::default()).await?;
        let channel = connection.create_channel().await?;
        channel
            .exchange_declare(
                infrastructure::relay::EXCHANGE.into(),
                ExchangeKind::Topic,
                ExchangeDeclareOptions {
                    durable: true,
                    ..ExchangeDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await?;
        let name = format!("domainflow-test-{}", uuid::Uuid::new_v4().simple());
        let mut arguments = FieldTable::default();
        arguments.insert("x-expires".into(), AMQPValue::LongUInt(600_000));
        channel
            .queue_declare(
                name.as_str().into(),
                QueueDeclareOptions {
                    durable: true,
                    ..QueueDeclareOptions::default()
                },
                arguments,
            )
            .await?;
        channel
            .queue_bind(
                name.as_str().into(),
                infrastructure::relay::EXCHANGE.into(),
                "#".into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;
        let _ = connection.close(200, "bound".into()).await;
        Ok(Self {
            url: url.to_owned(),
            name,
        })
    }

    /// Every message in the queue, in the order it holds them; the queue is deleted.
    ///
    /// # Panics
    /// When the broker cannot be read.
    pub async fn drain(self) -> Vec<Received> {
        let connection = Connection::connect(&self.url, ConnectionProperties::default())
            .await
            .unwrap_or_else(|e| panic!("connecting to RabbitMQ: {e}"));
        let channel = connection
            .create_channel()
            .await
            .unwrap_or_else(|e| panic!("a channel: {e}"));
        let mut received = Vec::new();
        while let Some(message) = channel
            .basic_get(self.name.as_str().into(), BasicGetOptions { no_ack: true })
            .await
            .unwrap_or_else(|e| panic!("reading queue {}: {e}", self.name))
        {
            let delivery = message.delivery;
            received.push(Received {
                message_id: delivery
                    .properties
                    .message_id()
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
                body: serde_json::from_slice(&delivery.data).unwrap_or(Value::Null),
            });
        }
        let _ = channel
            .queue_delete(self.name.as_str().into(), QueueDeleteOptions::default())
            .await;
        let _ = connection.close(200, "drained".into()).await;
        received
    }
}

/// Where the JetStream stream of integration events stands before a test publishes.
#[derive(Debug)]
pub struct NatsMark {
    url: String,
    after: u64,
}

impl NatsMark {
    /// Creates the stream as the relay would and notes its last sequence; `Err` when the
    /// server cannot be reached.
    ///
    /// # Errors
    /// The connection's or JetStream's error, as text.
    pub async fn take(url: &str) -> Result<Self, String> {
        let client = async_nats::connect(url).await.map_err(|e| e.to_string())?;
        let context = async_nats::jetstream::new(client);
        let mut stream = context
            .get_or_create_stream(infrastructure::relay::stream_config())
            .await
            .map_err(|e| e.to_string())?;
        let after = stream
            .info()
            .await
            .map_err(|e| e.to_string())?
            .state
            .last_sequence;
        Ok(Self {
            url: url.to_owned(),
            after,
        })
    }

    /// Every message stored after the mark, in the stream's order.
    ///
    /// # Panics
    /// When the stream cannot be read.
    pub async fn read(self) -> Vec<Received> {
        let client = async_nats::connect(&self.url)
            .await
            .unwrap_or_else(|e| panic!("connecting to NATS: {e}"));
        let context = async_nats::jetstream::new(client);
        let mut stream = context
            .get_stream(infrastructure::relay::STREAM)
            .await
            .unwrap_or_else(|e| panic!("the stream: {e}"));
        let last = stream
            .info()
            .await
            .unwrap_or_else(|e| panic!("stream info: {e}"))
            .state
            .last_sequence;
        let mut received = Vec::new();
        for sequence in self.after + 1..=last {
            let message = stream
                .get_raw_message(sequence)
                .await
                .unwrap_or_else(|e| panic!("message {sequence}: {e}"));
            received.push(Received {
                message_id: message
                    .headers
                    .get("Nats-Msg-Id")
                    .map(|id| id.as_str().to_owned())
                    .unwrap_or_default(),
                body: serde_json::from_slice(&message.payload).unwrap_or(Value::Null),
            });
        }
        received
    }
}

/// When a broker was certainly down: from its stop's end to its start's beginning.
pub type Outage = (DateTime<Utc>, DateTime<Utc>);

/// Restarts RabbitMQ: `rabbitmqctl stop_app`, an outage of `outage`, `start_app`. Blocking.
///
/// # Panics
/// When rabbitmqctl fails.
pub fn restart_rabbitmq(outage: Duration) -> Outage {
    run("rabbitmqctl", &["stop_app"]);
    let down = Utc::now();
    std::thread::sleep(outage);
    let up = Utc::now();
    run("rabbitmqctl", &["start_app"]);
    (down, up)
}

/// Restarts the NATS server: stopped with SIGTERM, an outage of `outage`, then started again
/// with the command line it ran with, detached as the machine starts it. Blocking.
///
/// # Panics
/// When no nats-server runs or it cannot be started again.
pub fn restart_nats(outage: Duration) -> Outage {
    let server = nats_server().unwrap_or_else(|| panic!("no nats-server runs"));
    let pid = server.pid;
    run("kill", &["-TERM", &pid.to_string()]);
    for _ in 0..100 {
        if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let down = Utc::now();
    std::thread::sleep(outage);
    let up = Utc::now();
    let program = server.program.as_str();
    let arguments = &server.arguments;
    let started = if which("start-stop-daemon") {
        let mut all = vec![
            "--start",
            "--oknodo",
            "--background",
            "--exec",
            program,
            "--",
        ];
        all.extend(arguments.iter().map(String::as_str));
        Command::new("start-stop-daemon")
            .args(all)
            .current_dir(&server.directory)
            .status()
    } else {
        Command::new("setsid")
            .current_dir(&server.directory)
            .arg("-f")
            .arg(program)
            .args(arguments)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
    };
    assert!(
        started.is_ok_and(|status| status.success()),
        "starting nats-server again"
    );
    (down, up)
}

/// A running nats-server, as it was started.
struct NatsServer {
    pid: u32,
    /// Its executable, absolute.
    program: String,
    /// Its arguments.
    arguments: Vec<String>,
    /// The directory it was started in (relative paths among the arguments are from there).
    directory: std::path::PathBuf,
}

/// The running nats-server.
fn nats_server() -> Option<NatsServer> {
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(comm) = std::fs::read_to_string(entry.path().join("comm")) else {
            continue;
        };
        if comm.trim() == "nats-server" {
            let line = std::fs::read(entry.path().join("cmdline")).ok()?;
            let arguments = line
                .split(|&b| b == 0)
                .filter(|part| !part.is_empty())
                .skip(1)
                .map(|part| String::from_utf8_lossy(part).into_owned())
                .collect();
            let program = std::fs::read_link(entry.path().join("exe")).ok()?;
            let directory = std::fs::read_link(entry.path().join("cwd")).ok()?;
            return Some(NatsServer {
                pid,
                program: program.to_string_lossy().into_owned(),
                arguments,
                directory,
            });
        }
    }
    None
}

/// Whether `program` is on the PATH.
fn which(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

fn run(program: &str, arguments: &[&str]) {
    let output = Command::new(program)
        .args(arguments)
        .output()
        .unwrap_or_else(|e| panic!("running {program}: {e}"));
    assert!(
        output.status.success(),
        "{program} {arguments:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Waits until the relay's checkpoint is at the end of the log (every event appended so
/// far readable first).
///
/// # Panics
/// When it has not caught up within 90 s.
pub async fn relayed_to_the_end(pool: &PgPool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    loop {
        let statuses = projections::status(pool)
            .await
            .unwrap_or_else(|e| panic!("the relay's status: {e}"));
        let relay = statuses.iter().find(|s| s.name == projections::relay::NAME);
        if relay.is_some_and(|relay| relay.lag_events == 0) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the relay did not catch up: {relay:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The integration events of the whole log, in its order.
///
/// # Panics
/// When the log cannot be read or an event does not decode.
pub async fn integration_events(pool: &PgPool) -> Vec<IntegrationEvent> {
    let store = infrastructure::PgEventStore::new(pool.clone());
    let upcasters = Upcasters::current();
    let mut after = Position::START;
    let mut events = Vec::new();
    loop {
        let page = store
            .read_filtered(after, 1000, &ReadFilter::default())
            .await
            .unwrap_or_else(|e| panic!("reading the log: {e}"));
        let Some(last) = page.last() else {
            return events;
        };
        after = last.position;
        for recorded in &page {
            let decoded = decode_recorded(recorded, &upcasters)
                .unwrap_or_else(|e| panic!("decoding {}: {e}", recorded.stream));
            events.extend(decoded.and_then(|event| integration_event(recorded, &event)));
        }
    }
}

/// Every expected event arrived, under its id and as the contract says; per subject, the
/// first arrivals come in the stream's order; how many repeats came. Messages of other
/// databases are left aside.
///
/// # Panics
/// When one is missing, differs from the contract or came first out of order.
#[must_use]
pub fn check_arrivals(expected: &[IntegrationEvent], received: &[Received]) -> usize {
    let by_id: HashMap<String, &IntegrationEvent> = expected
        .iter()
        .map(|event| (event.id.to_string(), event))
        .collect();
    let mut first_seen: HashSet<&str> = HashSet::new();
    let mut last_sequence: HashMap<&str, i64> = HashMap::new();
    let mut duplicates = 0;
    for message in received {
        let Some(event) = by_id.get(message.message_id.as_str()) else {
            continue;
        };
        let body = &message.body;
        assert_eq!(
            body["id"],
            message.message_id.as_str(),
            "message id = event id: {body}"
        );
        assert_eq!(body["type"], event.name, "{body}");
        assert_eq!(body["subject"], event.subject.as_str(), "{body}");
        assert_eq!(body["streamversion"], event.sequence, "{body}");
        assert_eq!(body["specversion"], "1.0", "{body}");
        assert!(
            body.get("data").is_some_and(serde_json::Value::is_object),
            "{body}"
        );
        if !first_seen.insert(message.message_id.as_str()) {
            duplicates += 1;
            continue;
        }
        let last = last_sequence.entry(event.subject.as_str()).or_insert(0);
        assert!(
            event.sequence > *last,
            "{} arrived first as sequence {} after sequence {last}",
            event.subject,
            event.sequence
        );
        *last = event.sequence;
    }
    let missing: Vec<String> = expected
        .iter()
        .filter(|event| !first_seen.contains(event.id.to_string().as_str()))
        .map(|event| format!("{} {} #{}", event.name, event.subject, event.sequence))
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} integration events never arrived: {missing:?}",
        missing.len(),
        expected.len()
    );
    duplicates
}
