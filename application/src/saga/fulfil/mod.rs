//! Carrying out the fulfilment policy's actions: each becomes a command with an id derived
//! from the order and the action (so a resend after a crash appends nothing), or a call to
//! the payment provider keyed by the payment.

mod charges;
mod options;
mod outcome;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use domain::fulfilment::Action;
use domain::order::CancellationReason;
use domain::{OrderId, Sku, order, payment, stock, ticket};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::provider::{ChargeRequest, PaymentProvider};
use crate::commands::now;
use crate::event_log::CommandMetadata;
use crate::{Commands, Error, EventSourced, Rejection, Repository};

pub use charges::Reconciled;
pub use options::SagaOptions;
pub use outcome::{Cause, Failure, Outcome};

/// Carries out fulfilment actions through the command side and the payment provider.
#[derive(Debug, Clone)]
pub struct Fulfil {
    commands: Commands,
    provider: Arc<dyn PaymentProvider>,
    options: SagaOptions,
    retries: Arc<AtomicU64>,
}

/// Whether a domain refusal means "already done, or overtaken by a later change": the saga
/// moves on, and the event that overtook it drives what happens next. `NotRequested`
/// (expiring a payment never requested) means there is nothing to undo; `NothingReserved`
/// (committing a reservation released meanwhile) means the order was given up before the
/// sale.
const fn overtaken(rejection: &Rejection) -> bool {
    matches!(
        rejection,
        Rejection::Order(
            order::Error::AlreadyCancelled
                | order::Error::AlreadyShipped
                | order::Error::AlreadyConfirmed
        ) | Rejection::Payment(
            payment::Error::AlreadySettled { .. }
                | payment::Error::AlreadyRefunded
                | payment::Error::NotRequested
        ) | Rejection::Stock(stock::Error::NothingReserved { .. })
    )
}

impl Fulfil {
    /// Actions carried out through `commands` and `provider`.
    #[must_use]
    pub fn new(
        commands: Commands,
        provider: Arc<dyn PaymentProvider>,
        options: SagaOptions,
    ) -> Self {
        Self {
            commands,
            provider,
            options,
            retries: Arc::default(),
        }
    }

    /// How many retries this process has made: failed charges and commands tried again.
    #[must_use]
    pub fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }

    /// How hard the saga tries.
    #[must_use]
    pub fn options(&self) -> &SagaOptions {
        &self.options
    }

    /// Carries out `action`. A `redrive` (an operator's retry of a dead letter) makes one
    /// attempt, past the usual bound, and fails instead of recording a provider failure.
    ///
    /// # Errors
    /// A [`Failure`] when the action cannot be carried out after its retries.
    #[tracing::instrument(skip(self, cause), fields(order = %cause.order))]
    pub async fn carry_out(
        &self,
        action: &Action,
        cause: &Cause,
        redrive: bool,
    ) -> Result<Outcome, Failure> {
        let c = &self.commands;
        let order_id = cause.order.to_string();
        match action {
            Action::ReserveStock {
                sku,
                order,
                quantity,
            } => {
                let command = stock::Command::Reserve {
                    order: *order,
                    quantity: *quantity,
                };
                let metadata = metadata(cause, &label("reserve", sku));
                let stock = c.stock();
                // The reservation itself finds out whether the product exists (one load of
                // the SKU's stream, not two).
                let reserved = self
                    .retrying(|| async {
                        match stock
                            .execute(sku.as_str(), command.clone(), &metadata)
                            .await
                        {
                            Ok(_) => Ok(true),
                            Err(Error::Rejected(Rejection::Stock(stock::Error::NotRegistered))) => {
                                Ok(false)
                            }
                            Err(error) => Err(error),
                        }
                    })
                    .await?;
                if reserved == Some(false) {
                    return Ok(Outcome::LineUnavailable(sku.clone()));
                }
                Ok(())
            }
            Action::RecordLineReserved { sku, .. } => {
                let command = order::Command::RecordLineReserved { sku: sku.clone() };
                self.send(
                    c.orders(),
                    &order_id,
                    command,
                    &label("line-reserved", sku),
                    cause,
                )
                .await
            }
            Action::RequestPayment {
                order,
                amount,
                method,
            } => {
                let command = payment::Command::Request {
                    order: *order,
                    amount: *amount,
                    method: method.clone(),
                };
                self.send(c.payments(), &order_id, command, "request-payment", cause)
                    .await
            }
            Action::ChargePayment { amount, method, .. } => {
                let request = ChargeRequest {
                    payment: Uuid::from_u128(cause.order.as_u128()),
                    amount: *amount,
                    method: method.reference().to_owned(),
                };
                return self.charge(&request, cause, redrive).await;
            }
            Action::ScheduleDeadline { .. } => return Ok(Outcome::ScheduleDeadline),
            Action::RecordPaymentSucceeded { .. } => {
                let command = order::Command::RecordPaymentSucceeded;
                self.send(c.orders(), &order_id, command, "payment-succeeded", cause)
                    .await
            }
            Action::CommitStock { sku, order } => {
                let command = stock::Command::Commit { order: *order };
                self.send(
                    c.stock(),
                    sku.as_str(),
                    command,
                    &label("commit", sku),
                    cause,
                )
                .await
            }
            Action::ConfirmOrder { .. } => {
                let command = order::Command::Confirm { at: now() };
                self.send(c.orders(), &order_id, command, "confirm", cause)
                    .await
            }
            Action::ReleaseStock { sku, order } => {
                let command = stock::Command::Release { order: *order };
                self.send(
                    c.stock(),
                    sku.as_str(),
                    command,
                    &label("release", sku),
                    cause,
                )
                .await
            }
            Action::CancelOrder { reason, .. } => {
                let command = order::Command::Cancel {
                    reason: *reason,
                    at: now(),
                };
                self.send(c.orders(), &order_id, command, "cancel", cause)
                    .await
            }
            Action::ExpirePayment { .. } => self.expire(cause).await,
            Action::RefundPayment { .. } => self.refund(cause).await,
            Action::ReturnStock {
                sku,
                order,
                quantity,
            } => {
                let command = stock::Command::Return {
                    order: *order,
                    quantity: *quantity,
                };
                self.send(
                    c.stock(),
                    sku.as_str(),
                    command,
                    &label("return", sku),
                    cause,
                )
                .await
            }
            Action::OpenTicket {
                customer,
                order,
                reason,
            } => {
                let metadata = metadata(cause, "open-ticket");
                let ticket = domain::TicketId::from_u128(metadata.command_id.as_u128());
                let command = ticket::Command::Open {
                    ticket,
                    customer: customer.clone(),
                    subject: format!("Order {order} could not be completed"),
                    message: ticket_message(*order, *reason),
                    order: Some(*order),
                    at: now(),
                };
                self.send(
                    c.tickets(),
                    &ticket.to_string(),
                    command,
                    "open-ticket",
                    cause,
                )
                .await
            }
        }?;
        Ok(Outcome::Done)
    }

    /// Sends `command` to aggregate `id` under the id derived from `label`, retrying
    /// passing failures; a refusal that only says the saga was overtaken is success.
    async fn send<A>(
        &self,
        repository: &Repository<A>,
        id: &str,
        command: A::Command,
        label: &str,
        cause: &Cause,
    ) -> Result<(), Failure>
    where
        A: EventSourced,
        A::Command: Clone + Send,
    {
        let metadata = metadata(cause, label);
        self.retrying(|| repository.execute(id, command.clone(), &metadata))
            .await
            .map(|_| ())
    }

    /// Runs `attempt` until it succeeds, is refused for good, or has failed
    /// `max_command_attempts` times for passing reasons.
    async fn retrying<T, F, Fut>(&self, attempt: F) -> Result<Option<T>, Failure>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let mut attempts = 1;
        loop {
            match attempt().await {
                Ok(value) => return Ok(Some(value)),
                Err(Error::Rejected(rejection)) if overtaken(&rejection) => {
                    let rule = rejection.rule();
                    tracing::info!(rule, %rejection, "overtaken by a later change; moving on");
                    return Ok(None);
                }
                Err(
                    error @ (Error::Infrastructure(_)
                    | Error::Unavailable(_)
                    | Error::Conflict { .. }),
                ) if attempts < self.options.max_command_attempts => {
                    tracing::warn!(%error, attempts, "saga command failed; retrying");
                    self.retries.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(self.options.retry.delay(attempts)).await;
                    attempts += 1;
                }
                Err(error) => {
                    return Err(Failure {
                        error: error.to_string(),
                        attempts,
                    });
                }
            }
        }
    }
}

/// The metadata of the saga's command `label` for `cause`.
fn metadata(cause: &Cause, label: &str) -> CommandMetadata {
    CommandMetadata {
        command_id: command_id(cause.order, label),
        correlation_id: cause.correlation_id,
        causation_id: cause.causation_id,
        actor: "saga".into(),
        client_correlation_id: None,
    }
}

/// The id of the saga's command `label` for `order`: the same every time it is derived, so a
/// command resent after a crash is recognised and appends nothing.
#[must_use]
pub fn command_id(order: OrderId, label: &str) -> Uuid {
    let digest = Sha256::digest(format!("fulfilment/{order}/{label}").as_bytes());
    let mut bytes = [0_u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    Uuid::new_v8(bytes)
}

fn label(what: &str, sku: &Sku) -> String {
    format!("{what}:{sku}")
}

fn ticket_message(order: OrderId, reason: CancellationReason) -> String {
    let why = match reason {
        CancellationReason::PaymentDeclined => "the payment was declined",
        CancellationReason::PaymentTimeout => "the payment did not go through in time",
        CancellationReason::OutOfStock => "an item was out of stock",
        CancellationReason::CustomerRequest => "it was cancelled",
    };
    format!(
        "Order {order} was cancelled because {why}. The items were put back on sale, and \
         any amount charged for it is refunded. Reply here if you would like help placing it \
         again."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_id_depends_only_on_the_order_and_the_action() {
        let order = OrderId::from_u128(42);
        assert_eq!(command_id(order, "confirm"), command_id(order, "confirm"));
        assert_ne!(command_id(order, "confirm"), command_id(order, "cancel"));
        assert_ne!(
            command_id(order, "confirm"),
            command_id(OrderId::from_u128(43), "confirm")
        );
    }
}
