//! The relay against RabbitMQ: a durable queue bound to `domainflow.events` receives every
//! integration event across a broker restart (`rabbitmqctl stop_app`, `start_app`).

use tests::brokers::{RabbitQueue, rabbitmq_url, report, restart_rabbitmq};

use super::{TMP, check, relay_through_a_restart};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rabbitmq_receives_every_integration_event_in_stream_order_across_a_restart() {
    let url = rabbitmq_url();
    let queue = match RabbitQueue::bind(&url).await {
        Ok(queue) => queue,
        Err(error) => {
            report(
                TMP,
                &format!("broker test skipped: no RabbitMQ reachable at RABBITMQ_URL ({error})"),
                true,
            );
            return;
        }
    };
    let broker = infrastructure::relay::broker("rabbitmq", &url).unwrap();
    let expected = relay_through_a_restart(broker, restart_rabbitmq).await;
    let received = queue.drain().await;
    check(&expected, &received);
    report(TMP, "broker test ran: RabbitMQ, restarted mid-run", false);
}
