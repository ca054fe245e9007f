//! Carrying out the fulfilment policy's actions: each becomes a command with an id derived
//! from the order and the action (so a resend after a crash appends nothing), or a call to
//! the payment provider keyed by the payment.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use domain::fulfilment::Action;
use domain::order::CancellationReason;
use domain::{OrderId, Sku, order, payment, stock, ticket};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::provider::{Charge, ChargeRequest, ChargeStatus, PaymentProvider, ProviderError};
use crate::backoff::Backoff;
use crate::commands::now;
use crate::event_log::CommandMetadata;
use crate::{Commands, Error, EventSourced, Rejection, Repository};

/// How hard the saga tries.
#[derive(Debug, Clone)]
pub struct SagaOptions {
    /// Charge attempts (each one a provider call) before the charge is dead-lettered.
    pub max_charge_attempts: u32,
    /// Attempts at a command that failed for a passing reason (a database hiccup) before it
    /// is dead-lettered.
    pub max_command_attempts: u32,
    /// The pause between attempts.
    pub retry: Backoff,
    /// How long a payment may take to settle before the order is cancelled with
    /// `PAYMENT_TIMEOUT`.
    pub payment_timeout: Duration,
    /// The longest one call to the payment provider may take before it counts as timed
    /// out (the call is dropped), so that no provider call outlives the payment deadline.
    pub provider_call_timeout: Duration,
}

impl Default for SagaOptions {
    fn default() -> Self {
        Self {
            max_charge_attempts: 5,
            max_command_attempts: 5,
            retry: Backoff {
                base: Duration::from_millis(200),
                cap: Duration::from_secs(5),
            },
            payment_timeout: Duration::from_secs(30),
            provider_call_timeout: Duration::from_secs(10),
        }
    }
}

/// Why the saga is acting: the order, its causal chain, and the event that caused it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause {
    /// The order.
    pub order: OrderId,
    /// The order's correlation id (its customer's first command).
    pub correlation_id: Uuid,
    /// The event the saga reacts to (none for a deadline).
    pub causation_id: Option<Uuid>,
    /// The charge attempt a `ChargePayment` makes (1 for the first).
    pub charge_attempt: u32,
}

/// What the runner must do after an action was carried out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing more.
    Done,
    /// Start the payment deadline.
    ScheduleDeadline,
    /// The line's SKU names no registered product, so it can never be reserved: the
    /// runner takes this as the line's rejection (there is no stock event to say so).
    LineUnavailable(Sku),
}

/// What asking the provider about a charge came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reconciled {
    /// The provider captured or declined it, and that is now recorded on the payment.
    Recorded,
    /// Nothing was charged.
    NotCharged,
    /// The provider is still processing it.
    Pending,
}

/// An action the saga gave up on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The last error.
    pub error: String,
    /// How many attempts were made.
    pub attempts: u32,
}

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
                token,
            } => {
                let command = payment::Command::Request {
                    order: *order,
                    amount: *amount,
                    token: token.clone(),
                };
                self.send(c.payments(), &order_id, command, "request-payment", cause)
                    .await
            }
            Action::ChargePayment { amount, token, .. } => {
                let request = ChargeRequest {
                    payment: Uuid::from_u128(cause.order.as_u128()),
                    amount: *amount,
                    token: token.clone(),
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

    /// Whether the payment of `order` is still waiting for an answer (requested, or failed
    /// for a passing reason). A deadline must not give up on a payment whose answer is in
    /// the log but not yet taken in by the saga; when the store cannot be read, it is
    /// taken as waiting and the deadline decides.
    pub async fn payment_unsettled(&self, order: OrderId) -> bool {
        match self.commands.payments().load(&order.to_string()).await {
            Ok((payment, _)) => matches!(
                payment.0.status(),
                payment::Status::NotRequested
                    | payment::Status::Requested
                    | payment::Status::FailedTransiently
            ),
            Err(error) => {
                tracing::warn!(%error, %order, "reading the payment for its deadline");
                true
            }
        }
    }

    /// One charge attempt. A provider failure is recorded on the payment (the policy asks
    /// for the next attempt when the runner sees it); an unknown outcome (no answer in
    /// time) is left to the payment deadline rather than charged blindly again.
    async fn charge(
        &self,
        request: &ChargeRequest,
        cause: &Cause,
        redrive: bool,
    ) -> Result<Outcome, Failure> {
        let attempt = cause.charge_attempt.max(1);
        if !redrive {
            if attempt > self.options.max_charge_attempts {
                return Err(Failure {
                    error: format!(
                        "the payment provider failed {} charge attempts in a row",
                        attempt - 1
                    ),
                    attempts: attempt - 1,
                });
            }
            if attempt > 1 {
                tokio::time::sleep(self.options.retry.delay(attempt - 1)).await;
            }
        }
        let result = format!("charge-result:{attempt}");
        let payments = self.commands.payments();
        let order_id = cause.order.to_string();
        match self.charge_through_breaker(request).await {
            Ok(Charge::Approved) => {
                let command = payment::Command::RecordAuthorized;
                self.send(payments, &order_id, command, &result, cause)
                    .await?;
            }
            Ok(Charge::Declined { reason }) => {
                let command = payment::Command::RecordDeclined { reason };
                self.send(payments, &order_id, command, &result, cause)
                    .await?;
            }
            Err(error) if redrive => {
                return Err(Failure {
                    error: error.to_string(),
                    attempts: 1,
                });
            }
            Err(ProviderError::TimedOut) => {
                tracing::warn!(attempt, "charge timed out; the payment deadline decides");
            }
            Err(error) => {
                let error = error.to_string();
                tracing::warn!(attempt, %error, "charge failed; recording the failure");
                self.retries.fetch_add(1, Ordering::Relaxed);
                let command = payment::Command::RecordFailure { error };
                self.send(payments, &order_id, command, &result, cause)
                    .await?;
            }
        }
        Ok(Outcome::Done)
    }

    /// Calls the provider, waiting while its circuit is open (a call that never reached the
    /// provider is not an attempt), for at most the payment deadline.
    async fn charge_through_breaker(
        &self,
        request: &ChargeRequest,
    ) -> Result<Charge, ProviderError> {
        let started = tokio::time::Instant::now();
        loop {
            match self.call_provider(self.provider.charge(request)).await {
                Err(ProviderError::CircuitOpen(wait))
                    if started.elapsed() + wait < self.options.payment_timeout =>
                {
                    tokio::time::sleep(wait.max(Duration::from_millis(10))).await;
                }
                other => return other,
            }
        }
    }

    /// Records on the payment that its deadline passed before it settled. The payment
    /// refuses it once settled (then the capture or decline that won the race drives the
    /// saga); otherwise the saga gives the order up when it takes the event in, like any
    /// other step, so the decision is made once, in the log, however often the runner
    /// stops half-way.
    ///
    /// # Errors
    /// A [`Failure`] when it cannot be recorded after the usual retries.
    pub async fn pass_deadline(&self, cause: &Cause) -> Result<(), Failure> {
        let order_id = cause.order.to_string();
        let command = payment::Command::PassDeadline;
        self.send(
            self.commands.payments(),
            &order_id,
            command,
            "deadline",
            cause,
        )
        .await
    }

    /// Asks the provider what became of the order's charge and records a capture or a
    /// decline it knows of. Asked before the deadline gives
    /// up on a payment, and by an operator's redrive of a charge the order has moved past.
    ///
    /// # Errors
    /// A [`Failure`] when the provider cannot be asked or the answer cannot be recorded.
    pub async fn reconcile_charge(&self, cause: &Cause) -> Result<Reconciled, Failure> {
        match self.charge_status(cause).await? {
            ChargeStatus::Captured => {
                self.record_found(cause, payment::Command::RecordAuthorized)
                    .await?;
                Ok(Reconciled::Recorded)
            }
            ChargeStatus::Declined { reason } => {
                self.record_found(cause, payment::Command::RecordDeclined { reason })
                    .await?;
                Ok(Reconciled::Recorded)
            }
            ChargeStatus::NotCharged => Ok(Reconciled::NotCharged),
            ChargeStatus::Pending => Ok(Reconciled::Pending),
        }
    }

    /// Gives up on the payment, unless the provider says the money was captured (then the
    /// capture is recorded, and the policy refunds it) or declined. A charge still being
    /// processed is not given up: the action fails and is tried again.
    async fn expire(&self, cause: &Cause) -> Result<(), Failure> {
        match self.charge_status(cause).await? {
            ChargeStatus::Captured => {
                self.record_found(cause, payment::Command::RecordAuthorized)
                    .await
            }
            ChargeStatus::Declined { reason } => {
                self.record_found(cause, payment::Command::RecordDeclined { reason })
                    .await
            }
            ChargeStatus::NotCharged => {
                let order_id = cause.order.to_string();
                let payments = self.commands.payments();
                let command = payment::Command::Expire;
                self.send(payments, &order_id, command, "expire-payment", cause)
                    .await
            }
            ChargeStatus::Pending => Err(Failure {
                error: "the payment provider is still processing the charge".into(),
                attempts: 1,
            }),
        }
    }

    /// The provider's answer to a status look-up of the order's payment, with retries.
    async fn charge_status(&self, cause: &Cause) -> Result<ChargeStatus, Failure> {
        let payment = Uuid::from_u128(cause.order.as_u128());
        let status = self
            .retrying(|| async {
                self.call_provider(self.provider.status(payment))
                    .await
                    .map_err(|e| Error::Infrastructure(e.to_string()))
            })
            .await?;
        status.ok_or_else(|| Failure {
            error: "the payment provider's status look-up gave no answer".into(),
            attempts: self.options.max_command_attempts,
        })
    }

    async fn record_found(&self, cause: &Cause, command: payment::Command) -> Result<(), Failure> {
        let order_id = cause.order.to_string();
        self.send(
            self.commands.payments(),
            &order_id,
            command,
            "charge-found",
            cause,
        )
        .await
    }

    /// Runs one provider call, giving up on it (dropping it) after the call timeout.
    async fn call_provider<T>(
        &self,
        call: impl Future<Output = Result<T, ProviderError>>,
    ) -> Result<T, ProviderError> {
        tokio::time::timeout(self.options.provider_call_timeout, call)
            .await
            .unwrap_or(Err(ProviderError::TimedOut))
    }

    /// Pays back at the provider, then records the refund.
    async fn refund(&self, cause: &Cause) -> Result<(), Failure> {
        let order_id = cause.order.to_string();
        let payments = self.commands.payments();
        let Some(amount) = self
            .retrying(|| async {
                let (payment, _) = payments.load(&order_id).await?;
                payment
                    .0
                    .amount()
                    .ok_or_else(|| Error::Infrastructure("no amount to refund".into()))
            })
            .await?
        else {
            return Ok(());
        };
        let payment = Uuid::from_u128(cause.order.as_u128());
        self.retrying(|| async {
            self.call_provider(self.provider.refund(payment, amount))
                .await
                .map_err(|e| Error::Infrastructure(e.to_string()))
        })
        .await?;
        self.send(
            payments,
            &order_id,
            payment::Command::Refund,
            "refund",
            cause,
        )
        .await
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
