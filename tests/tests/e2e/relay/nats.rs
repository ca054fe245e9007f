//! The relay against NATS JetStream: the stream `DOMAINFLOW_EVENTS` holds every integration
//! event across a restart of the server (stopped with SIGTERM, started again as before).

use tests::brokers::{NatsMark, nats_url, report, restart_nats};

use super::{TMP, check, relay_through_a_restart};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nats_stores_every_integration_event_in_stream_order_across_a_restart() {
    let url = nats_url();
    let mark = match NatsMark::take(&url).await {
        Ok(mark) => mark,
        Err(error) => {
            report(
                TMP,
                &format!("broker test skipped: no NATS JetStream reachable at NATS_URL ({error})"),
                true,
            );
            return;
        }
    };
    let broker = infrastructure::relay::broker("nats", &url).unwrap();
    let expected = relay_through_a_restart(broker, restart_nats).await;
    let received = mark.read().await;
    check(&expected, &received);
    report(
        TMP,
        "broker test ran: NATS JetStream, restarted mid-run",
        false,
    );
}
