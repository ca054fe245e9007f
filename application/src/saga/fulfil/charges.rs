//! The payment side of fulfilment: charging through the provider, asking it how a charge
//! stands before giving a payment up, expiring and refunding.

use std::sync::atomic::Ordering;
use std::time::Duration;

use domain::{OrderId, payment};
use uuid::Uuid;

use super::{Cause, Failure, Fulfil, Outcome};
use crate::Error;
use crate::saga::provider::{Charge, ChargeRequest, ChargeStatus, ProviderError};
use crate::schema::REDACTED;

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

impl Fulfil {
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
    pub(super) async fn charge(
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
    pub(super) async fn charge_through_breaker(
        &self,
        request: &ChargeRequest,
    ) -> Result<Charge, ProviderError> {
        let started = tokio::time::Instant::now();
        loop {
            let outcome = if request.method == REDACTED {
                self.redacted_charge(request.payment).await
            } else {
                self.call_provider(self.provider.charge(request)).await
            };
            match outcome {
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
    pub(super) async fn expire(&self, cause: &Cause) -> Result<(), Failure> {
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
    pub(super) async fn charge_status(&self, cause: &Cause) -> Result<ChargeStatus, Failure> {
        let payment = Uuid::from_u128(cause.order.as_u128());
        let status = self
            .retrying(|| self.call_retried(self.provider.status(payment)))
            .await?;
        status.ok_or_else(|| Failure {
            error: "the payment provider's status look-up gave no answer".into(),
            attempts: self.options.max_command_attempts,
        })
    }

    pub(super) async fn record_found(
        &self,
        cause: &Cause,
        command: payment::Command,
    ) -> Result<(), Failure> {
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

    /// The charge of a payment method an upgrade redacted (an order placed while tokens
    /// were still kept in the log): no provider knows it, so no charge is sent. What the
    /// provider knows of the payment stands, as a charge made before the upgrade may have
    /// captured money. A payment it has not charged yet is left to the payment deadline,
    /// which asks again: a charge an older process still had in flight may land meanwhile.
    async fn redacted_charge(&self, payment: Uuid) -> Result<Charge, ProviderError> {
        match self.call_provider(self.provider.status(payment)).await? {
            ChargeStatus::Captured => Ok(Charge::Approved),
            ChargeStatus::Declined { reason } => Ok(Charge::Declined { reason }),
            ChargeStatus::Pending | ChargeStatus::NotCharged => Err(ProviderError::TimedOut),
        }
    }

    /// [`Fulfil::call_provider`] for a call [`Fulfil::retrying`] repeats. A call the breaker
    /// held back never reached the provider: the next attempt waits until the circuit lets
    /// one through, instead of spending every attempt while it is open (which left status
    /// look-ups at a payment deadline as dead letters).
    async fn call_retried<T>(
        &self,
        call: impl Future<Output = Result<T, ProviderError>>,
    ) -> Result<T, Error> {
        match self.call_provider(call).await {
            Err(ProviderError::CircuitOpen(wait)) => {
                tokio::time::sleep(wait).await;
                Err(Error::Infrastructure(
                    ProviderError::CircuitOpen(wait).to_string(),
                ))
            }
            other => other.map_err(|e| Error::Infrastructure(e.to_string())),
        }
    }

    /// Runs one provider call, giving up on it (dropping it) after the call timeout.
    pub(super) async fn call_provider<T>(
        &self,
        call: impl Future<Output = Result<T, ProviderError>>,
    ) -> Result<T, ProviderError> {
        tokio::time::timeout(self.options.provider_call_timeout, call)
            .await
            .unwrap_or(Err(ProviderError::TimedOut))
    }

    /// Pays back at the provider, then records the refund.
    pub(super) async fn refund(&self, cause: &Cause) -> Result<(), Failure> {
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
        self.retrying(|| self.call_retried(self.provider.refund(payment, amount)))
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
}
