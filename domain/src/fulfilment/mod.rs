//! The fulfilment policy: the order-fulfilment saga's decisions, as a pure state machine.
//!
//! The saga runner feeds it the [`Step`]s of one order in the global order of the log
//! (events from the order, its stock lines and its payment, plus the payment deadline) and
//! carries out the [`Action`]s it answers, in order. Every action comes from a state
//! transition, so a duplicate or late step finds nothing to change and answers nothing:
//! at-least-once delivery never turns into a repeated command.

mod action;
mod progress;
mod step;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

pub use action::Action;
pub use progress::{LineState, PaymentState, Phase};
pub use step::Step;

use crate::order::CancellationReason;
use crate::{CustomerId, Money, OrderId, PaymentMethod, Quantity, Sku};

/// One order's fulfilment: what has been asked and answered so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fulfilment {
    order: Option<Facts>,
    lines: BTreeMap<Sku, Line>,
    phase: Phase,
    payment: PaymentState,
    /// Whether the payment's request is in the log (its step was taken).
    request_seen: bool,
    last_payment_attempt: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Facts {
    id: OrderId,
    customer: CustomerId,
    total: Money,
    payment: PaymentMethod,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Line {
    quantity: Quantity,
    state: LineState,
}

impl Fulfilment {
    /// Where the fulfilment stands.
    #[must_use]
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// Where the payment stands, as far as the saga knows.
    #[must_use]
    pub fn payment(&self) -> PaymentState {
        self.payment
    }

    /// The order being fulfilled, `None` before it is placed.
    #[must_use]
    pub fn order(&self) -> Option<OrderId> {
        self.order.as_ref().map(|f| f.id)
    }

    /// Each line's SKU and where its stock stands.
    pub fn lines(&self) -> impl Iterator<Item = (&Sku, LineState)> {
        self.lines.iter().map(|(sku, line)| (sku, line.state))
    }

    /// Takes in one step and answers the actions it calls for, in the order to carry them out.
    pub fn on(&mut self, step: Step) -> Vec<Action> {
        let Some(order) = self.order.as_ref().map(|f| f.id) else {
            return self.start(step);
        };
        match step {
            Step::Placed { .. } => vec![],
            Step::StockReserved { sku } => self.on_reserved(order, sku),
            Step::StockRejected { sku } => self.on_rejected(order, &sku),
            Step::StockCommitted { sku } => self.on_committed(order, sku),
            Step::PaymentRequested => self.on_payment_requested(order),
            Step::PaymentFailed { attempt } => self.on_payment_failed(order, attempt),
            Step::PaymentAuthorized => self.on_authorized(order),
            Step::PaymentDeclined => {
                self.on_payment_lost(order, CancellationReason::PaymentDeclined)
            }
            Step::PaymentDeadlinePassed => {
                self.on_payment_lost(order, CancellationReason::PaymentTimeout)
            }
            Step::OrderCancelled { reason } => self.on_cancelled_elsewhere(order, reason),
            Step::OrderConfirmed => {
                if self.phase == Phase::Confirming {
                    self.phase = Phase::Confirmed;
                    // The saga confirms only once every sale is in the log (sagas stored
                    // before sales were steps of their own confirmed right after them).
                    for line in self.lines.values_mut() {
                        if line.state == LineState::Committing {
                            line.state = LineState::Committed;
                        }
                    }
                }
                vec![]
            }
        }
    }

    fn start(&mut self, step: Step) -> Vec<Action> {
        let Step::Placed {
            order,
            customer,
            lines,
            total,
            payment,
        } = step
        else {
            // Nothing to coordinate for an order the saga never saw placed.
            return vec![];
        };
        self.order = Some(Facts {
            id: order,
            customer,
            total,
            payment,
        });
        self.phase = Phase::Reserving;
        lines
            .into_iter()
            .map(|(sku, quantity)| {
                self.lines.insert(
                    sku.clone(),
                    Line {
                        quantity,
                        state: LineState::Requested,
                    },
                );
                Action::ReserveStock {
                    sku,
                    order,
                    quantity,
                }
            })
            .collect()
    }

    fn on_reserved(&mut self, order: OrderId, sku: Sku) -> Vec<Action> {
        let phase = self.phase;
        let Some(line) = self.lines.get_mut(&sku) else {
            return vec![];
        };
        if line.state != LineState::Requested {
            return vec![];
        }
        match phase {
            Phase::Reserving => {
                line.state = LineState::Reserved;
                let mut actions = vec![Action::RecordLineReserved { order, sku }];
                if self.lines.values().all(|l| l.state == LineState::Reserved) {
                    self.phase = Phase::Paying;
                    self.payment = PaymentState::Requested;
                    // The clock starts with the request, so that an order whose payment
                    // can never be requested or charged still reaches an outcome.
                    actions.push(Action::ScheduleDeadline { order });
                    if let Some(facts) = &self.order {
                        actions.push(Action::RequestPayment {
                            order,
                            amount: facts.total,
                            method: facts.payment.clone(),
                        });
                    }
                }
                actions
            }
            // The order was given up while this reservation was on its way: hand it back.
            Phase::Cancelled(_) => {
                line.state = LineState::Released;
                vec![Action::ReleaseStock { sku, order }]
            }
            Phase::NotStarted | Phase::Paying | Phase::Confirming | Phase::Confirmed => vec![],
        }
    }

    fn on_rejected(&mut self, order: OrderId, sku: &Sku) -> Vec<Action> {
        let Some(line) = self.lines.get_mut(sku) else {
            return vec![];
        };
        if line.state != LineState::Requested {
            return vec![];
        }
        line.state = LineState::Rejected;
        if self.phase != Phase::Reserving {
            return vec![];
        }
        self.phase = Phase::Cancelled(CancellationReason::OutOfStock);
        let mut actions = self.release_reserved(order);
        actions.push(Action::CancelOrder {
            order,
            reason: CancellationReason::OutOfStock,
        });
        actions
    }

    fn on_payment_requested(&mut self, order: OrderId) -> Vec<Action> {
        if std::mem::replace(&mut self.request_seen, true) {
            return vec![];
        }
        match (self.phase, self.payment) {
            (Phase::Paying, PaymentState::Requested) => {
                self.payment = PaymentState::Charging;
                self.charge(order)
            }
            // The request landed after the order was given up (it was held up, and the
            // expiry found nothing to give up): give it up now, so that no payment is
            // left waiting for a charge nobody will make.
            (Phase::Cancelled(_), PaymentState::Expired) => {
                vec![Action::ExpirePayment { order }]
            }
            _ => vec![],
        }
    }

    fn on_payment_failed(&mut self, order: OrderId, attempt: u32) -> Vec<Action> {
        if attempt <= self.last_payment_attempt {
            return vec![];
        }
        self.last_payment_attempt = attempt;
        if self.phase != Phase::Paying || self.payment != PaymentState::Charging {
            return vec![];
        }
        self.charge(order)
    }

    fn charge(&self, order: OrderId) -> Vec<Action> {
        self.order
            .as_ref()
            .map(|facts| Action::ChargePayment {
                order,
                amount: facts.total,
                method: facts.payment.clone(),
            })
            .into_iter()
            .collect()
    }

    fn on_authorized(&mut self, order: OrderId) -> Vec<Action> {
        match (self.phase, self.payment) {
            (Phase::Paying, PaymentState::Requested | PaymentState::Charging) => {
                self.payment = PaymentState::Succeeded;
                self.phase = Phase::Confirming;
                let mut actions = vec![Action::RecordPaymentSucceeded { order }];
                // A line counts as sold once its commit is in the log; the order is
                // confirmed when every line's is.
                for (sku, line) in &mut self.lines {
                    line.state = LineState::Committing;
                    actions.push(Action::CommitStock {
                        sku: sku.clone(),
                        order,
                    });
                }
                actions
            }
            // The money arrived after the order was given up: pay it back.
            (
                Phase::Cancelled(_),
                PaymentState::Requested | PaymentState::Charging | PaymentState::Expired,
            ) => {
                self.payment = PaymentState::Refunded;
                vec![Action::RefundPayment { order }]
            }
            _ => vec![],
        }
    }

    fn on_committed(&mut self, order: OrderId, sku: Sku) -> Vec<Action> {
        let phase = self.phase;
        let Some(line) = self.lines.get_mut(&sku) else {
            return vec![];
        };
        match (phase, line.state) {
            (Phase::Confirming, LineState::Committing) => {
                line.state = LineState::Committed;
                if self.lines.values().all(|l| l.state == LineState::Committed) {
                    vec![Action::ConfirmOrder { order }]
                } else {
                    vec![]
                }
            }
            // The sale landed after the order was given up (its release found nothing
            // left to release): put the units back.
            (Phase::Cancelled(_), LineState::Committing | LineState::Released) => {
                line.state = LineState::Returned;
                vec![Action::ReturnStock {
                    sku,
                    order,
                    quantity: line.quantity,
                }]
            }
            _ => vec![],
        }
    }

    /// Declined or timed out: release the stock, cancel, and open a ticket for the customer.
    fn on_payment_lost(&mut self, order: OrderId, reason: CancellationReason) -> Vec<Action> {
        if self.phase != Phase::Paying
            || !matches!(
                self.payment,
                PaymentState::Requested | PaymentState::Charging
            )
        {
            return vec![];
        }
        self.phase = Phase::Cancelled(reason);
        let mut actions = self.release_reserved(order);
        actions.push(Action::CancelOrder { order, reason });
        if let Some(facts) = &self.order {
            actions.push(Action::OpenTicket {
                customer: facts.customer.clone(),
                order,
                reason,
            });
        }
        // Last: giving up the payment asks the provider first, which may be down; the
        // order's outcome and its stock do not wait for it.
        if reason == CancellationReason::PaymentTimeout {
            self.payment = PaymentState::Expired;
            actions.push(Action::ExpirePayment { order });
        } else {
            self.payment = PaymentState::Declined;
        }
        actions
    }

    /// The order was cancelled by someone other than the saga (the customer, an operator):
    /// undo whatever fulfilment has done so far.
    fn on_cancelled_elsewhere(
        &mut self,
        order: OrderId,
        reason: CancellationReason,
    ) -> Vec<Action> {
        if matches!(self.phase, Phase::Cancelled(_)) {
            return vec![];
        }
        self.phase = Phase::Cancelled(reason);
        // Stock first: it does not depend on the payment provider being reachable.
        let mut actions = Vec::new();
        for (sku, line) in &mut self.lines {
            match line.state {
                LineState::Committed => {
                    line.state = LineState::Returned;
                    actions.push(Action::ReturnStock {
                        sku: sku.clone(),
                        order,
                        quantity: line.quantity,
                    });
                }
                // A commit that is not in the log yet is refused once the reservation is
                // released; if it landed first, its step returns the units.
                LineState::Reserved | LineState::Committing => {
                    line.state = LineState::Released;
                    actions.push(Action::ReleaseStock {
                        sku: sku.clone(),
                        order,
                    });
                }
                LineState::Requested
                | LineState::Rejected
                | LineState::Released
                | LineState::Returned => {}
            }
        }
        match self.payment {
            PaymentState::Succeeded => {
                self.payment = PaymentState::Refunded;
                actions.push(Action::RefundPayment { order });
            }
            PaymentState::Requested | PaymentState::Charging => {
                self.payment = PaymentState::Expired;
                actions.push(Action::ExpirePayment { order });
            }
            PaymentState::NotRequested
            | PaymentState::Declined
            | PaymentState::Expired
            | PaymentState::Refunded => {}
        }
        actions
    }

    fn release_reserved(&mut self, order: OrderId) -> Vec<Action> {
        let mut actions = Vec::new();
        for (sku, line) in &mut self.lines {
            if line.state == LineState::Reserved {
                line.state = LineState::Released;
                actions.push(Action::ReleaseStock {
                    sku: sku.clone(),
                    order,
                });
            }
        }
        actions
    }
}
