//! Taking one step: asking the policy what to do and carrying it out, in order, stopping at
//! the first action that fails for good.

use super::{Cause, Failure, Fulfil, Outcome, Saga};
use domain::OrderId;
use domain::fulfilment::{Action, Step};
use uuid::Uuid;

/// What carrying out a step's actions came to.
#[derive(Debug, Default)]
pub struct Carried {
    /// The payment deadline must start.
    pub deadline: bool,
    /// The action that failed for good (its index among the step's actions), if any.
    pub failed: Option<(usize, Action, Failure)>,
    /// Steps the actions found out about without an event to tell them (a line whose
    /// product does not exist), to be taken next.
    pub follow_ups: Vec<Step>,
}

/// Why the saga of `saga` acts on `step`, caused by event `causation`.
#[must_use]
pub fn cause_of(saga: &Saga, step: &Step, causation: Option<Uuid>) -> Cause {
    Cause {
        order: OrderId::from_u128(saga.order.as_u128()),
        correlation_id: saga.correlation_id,
        causation_id: causation,
        charge_attempt: match step {
            Step::PaymentFailed { attempt } => attempt.saturating_add(1),
            _ => 1,
        },
    }
}

/// Carries out `actions[from..]` in order, stopping at the first failure.
pub async fn carry_out(
    fulfil: &Fulfil,
    actions: &[Action],
    from: usize,
    cause: &Cause,
    redrive: bool,
) -> Carried {
    let mut carried = Carried::default();
    for (index, action) in actions.iter().enumerate().skip(from) {
        match fulfil.carry_out(action, cause, redrive).await {
            Ok(Outcome::Done) => {}
            Ok(Outcome::ScheduleDeadline) => carried.deadline = true,
            Ok(Outcome::LineUnavailable(sku)) => {
                carried.follow_ups.push(Step::StockRejected { sku });
            }
            Err(failure) => {
                tracing::error!(
                    order = %cause.order,
                    action = describe(action),
                    error = %failure.error,
                    attempts = failure.attempts,
                    "saga action failed; dead-lettered"
                );
                carried.failed = Some((index, action.clone(), failure));
                break;
            }
        }
    }
    carried
}

/// A short name for an action, for operators.
#[must_use]
pub fn describe(action: &Action) -> String {
    match action {
        Action::ReserveStock { sku, quantity, .. } => {
            format!("ReserveStock {sku} x{}", quantity.get())
        }
        Action::RecordLineReserved { sku, .. } => format!("RecordLineReserved {sku}"),
        Action::RequestPayment { .. } => "RequestPayment".into(),
        Action::ChargePayment { .. } => "ChargePayment".into(),
        Action::ScheduleDeadline { .. } => "ScheduleDeadline".into(),
        Action::RecordPaymentSucceeded { .. } => "RecordPaymentSucceeded".into(),
        Action::CommitStock { sku, .. } => format!("CommitStock {sku}"),
        Action::ConfirmOrder { .. } => "ConfirmOrder".into(),
        Action::ReleaseStock { sku, .. } => format!("ReleaseStock {sku}"),
        Action::CancelOrder { reason, .. } => format!("CancelOrder {}", reason.as_str()),
        Action::ExpirePayment { .. } => "ExpirePayment".into(),
        Action::RefundPayment { .. } => "RefundPayment".into(),
        Action::ReturnStock { sku, .. } => format!("ReturnStock {sku}"),
        Action::OpenTicket { .. } => "OpenTicket".into(),
    }
}
