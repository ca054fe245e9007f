//! The promises a run checks once its orders are final: every accepted order is there and
//! final, its outcome is one the contract allows for what its client did, the money adds up
//! (a confirmed order's payment captured in full, a cancelled order's never kept) and so does
//! the stock (nothing left reserved, on hand = opening stock − units of confirmed orders).

use std::collections::{BTreeMap, HashMap};

use rust_decimal::Decimal;

use super::books::Books;
use super::clients::{DECLINED, Placed, TIMEOUT};

/// What the checks are told about a run.
#[derive(Debug)]
pub struct Expected<'a> {
    pub placed: &'a [Placed],
    /// Opening stock of each SKU of the run.
    pub opening: &'a BTreeMap<String, i64>,
    /// The run injected faults: a plentiful order may also time out its payment, because
    /// the circuit breaker opens on other orders' failing payments.
    pub faults: bool,
    /// The SKU with too little stock: only its orders may end `OUT_OF_STOCK`.
    pub scarce: &'a str,
}

/// Every broken promise, in words; empty when the books add up.
#[must_use]
pub fn violations(expected: &Expected<'_>, books: &Books) -> Vec<String> {
    let mut found = Vec::new();
    if expected.placed.is_empty() {
        found.push("no order was accepted".to_owned());
    }
    let placed: HashMap<&str, &Placed> =
        expected.placed.iter().map(|p| (p.id.as_str(), p)).collect();
    let mut seen = HashMap::new();
    let mut confirmed_units: BTreeMap<&str, i64> = BTreeMap::new();
    for order in &books.orders {
        let id = order.id.as_str();
        let Some(placed) = placed.get(id) else {
            found.push(format!("order {id} was never accepted by this run"));
            continue;
        };
        seen.insert(id, ());
        let reason = order.reason.as_deref().unwrap_or_default();
        let why = format!("order {id} ({}, {})", placed.token, placed.sku);
        if !matches!(order.status.as_str(), "CONFIRMED" | "CANCELLED") {
            found.push(format!("{why} is {}, not final", order.status));
            continue;
        }
        if !allowed(placed, &order.status, reason, expected) {
            found.push(format!(
                "{why} ended {} {reason} (cancel answered {:?})",
                order.status, placed.cancel
            ));
        }
        let mut total = Decimal::ZERO;
        for (sku, quantity, unit_price) in &order.lines {
            total += Decimal::from(*quantity) * unit_price;
            match books.products.get(sku) {
                Some(product) if product.price == *unit_price => {}
                product => found.push(format!(
                    "{why} charged {unit_price} a unit of {sku}, listed at {:?}",
                    product.map(|p| p.price)
                )),
            }
            if order.status == "CONFIRMED" {
                *confirmed_units.entry(sku.as_str()).or_default() += quantity;
            }
        }
        if total != order.total {
            found.push(format!(
                "{why} totals {} but its lines {total}",
                order.total
            ));
        }
        let payment = order.payment.as_ref().map(|(s, a)| (s.as_str(), *a));
        match (order.status.as_str(), payment) {
            ("CONFIRMED", Some(("SUCCEEDED", amount))) if amount == order.total => {}
            ("CANCELLED", None | Some(("NOT_REQUESTED" | "DECLINED" | "FAILED", _))) => {}
            ("CANCELLED", Some(("REFUNDED", amount))) if amount == order.total => {}
            (status, payment) => found.push(format!(
                "{why} is {status} {reason} with payment {payment:?} (total {})",
                order.total
            )),
        }
    }
    for placed in expected.placed {
        if !seen.contains_key(placed.id.as_str()) {
            found.push(format!(
                "accepted order {} is not in the read model",
                placed.id
            ));
        }
    }
    for (sku, opening) in expected.opening {
        let Some(product) = books.products.get(sku) else {
            found.push(format!("product {sku} is not in the read model"));
            continue;
        };
        let sold = confirmed_units
            .get(sku.as_str())
            .copied()
            .unwrap_or_default();
        if product.reserved != 0 || product.on_hand != opening - sold {
            found.push(format!(
                "product {sku}: {} on hand and {} reserved, expected {} on hand ({opening} - {sold} confirmed) and none reserved",
                product.on_hand,
                product.reserved,
                opening - sold
            ));
        }
    }
    found
}

/// Whether an order that ended `status` `reason` ended as the contract allows for what its
/// client did.
fn allowed(placed: &Placed, status: &str, reason: &str, expected: &Expected<'_>) -> bool {
    match placed.cancel {
        // The customer's cancel was accepted: nothing else may have ended the order.
        Some(202) => return status == "CANCELLED" && reason == "CUSTOMER_REQUEST",
        // Refused because the order had already ended otherwise.
        Some(_) => return status == "CANCELLED" && reason != "CUSTOMER_REQUEST",
        None => {}
    }
    let by_payment = match placed.token {
        DECLINED => status == "CANCELLED" && reason == "PAYMENT_DECLINED",
        TIMEOUT => status == "CANCELLED" && reason == "PAYMENT_TIMEOUT",
        _ => status == "CONFIRMED",
    };
    let cancelled = status == "CANCELLED";
    by_payment
        || (cancelled && reason == "OUT_OF_STOCK" && placed.sku == expected.scarce)
        || (cancelled && reason == "PAYMENT_TIMEOUT" && expected.faults)
}

#[cfg(test)]
mod tests {
    use super::super::books::{OrderView, ProductView};
    use super::super::clients::VISA;
    use super::*;

    fn placed(id: &str, token: &'static str, cancel: Option<u16>) -> Placed {
        Placed {
            id: id.into(),
            sku: "S".into(),
            token,
            cancel,
        }
    }

    fn order(id: &str, status: &str, reason: Option<&str>, payment: Option<&str>) -> OrderView {
        OrderView {
            id: id.into(),
            status: status.into(),
            reason: reason.map(str::to_owned),
            total: Decimal::ONE,
            lines: vec![("S".into(), 1, Decimal::ONE)],
            payment: payment.map(|s| (s.to_owned(), Decimal::ONE)),
        }
    }

    fn books(orders: Vec<OrderView>, on_hand: i64, reserved: i64) -> Books {
        let product = ProductView {
            on_hand,
            reserved,
            price: Decimal::ONE,
        };
        Books {
            orders,
            products: BTreeMap::from([("S".to_owned(), product)]),
        }
    }

    fn check(placed: &[Placed], books: &Books) -> Vec<String> {
        let opening = BTreeMap::from([("S".to_owned(), 10)]);
        violations(
            &Expected {
                placed,
                opening: &opening,
                faults: false,
                scarce: "SCARCE",
            },
            books,
        )
    }

    #[test]
    fn books_that_add_up_pass() {
        let placed = [
            placed("a", VISA, None),
            placed("b", DECLINED, None),
            placed("c", VISA, Some(202)),
        ];
        let books = books(
            vec![
                order("a", "CONFIRMED", None, Some("SUCCEEDED")),
                order("b", "CANCELLED", Some("PAYMENT_DECLINED"), Some("DECLINED")),
                order("c", "CANCELLED", Some("CUSTOMER_REQUEST"), Some("REFUNDED")),
            ],
            9,
            0,
        );
        assert_eq!(check(&placed, &books), Vec::<String>::new());
    }

    #[test]
    fn money_kept_for_a_cancelled_order_is_a_violation() {
        let placed = [placed("c", VISA, Some(202))];
        let books = books(
            vec![order(
                "c",
                "CANCELLED",
                Some("CUSTOMER_REQUEST"),
                Some("SUCCEEDED"),
            )],
            10,
            0,
        );
        let found = check(&placed, &books);
        assert!(found.iter().any(|v| v.contains("SUCCEEDED")), "{found:?}");
    }

    #[test]
    fn stock_sold_or_held_for_a_cancelled_order_is_a_violation() {
        let placed = [placed("c", DECLINED, None)];
        let cancelled = order("c", "CANCELLED", Some("PAYMENT_DECLINED"), Some("DECLINED"));
        for (on_hand, reserved) in [(9, 0), (10, 1)] {
            let found = check(&placed, &books(vec![cancelled.clone()], on_hand, reserved));
            assert!(found.iter().any(|v| v.contains("product S")), "{found:?}");
        }
    }

    #[test]
    fn a_pending_missing_or_unexpected_order_is_a_violation() {
        let placed = [placed("a", VISA, None), placed("b", VISA, None)];
        let books = books(
            vec![
                order("a", "PENDING", None, Some("REQUESTED")),
                order("x", "CONFIRMED", None, Some("SUCCEEDED")),
            ],
            10,
            0,
        );
        let found = check(&placed, &books);
        for expected in ["not final", "b is not in the read model", "never accepted"] {
            assert!(
                found.iter().any(|v| v.contains(expected)),
                "{expected}: {found:?}"
            );
        }
    }

    #[test]
    fn an_outcome_the_client_did_not_cause_is_a_violation() {
        // A declined token confirmed, and an accepted cancel that did not cancel.
        let placed = [placed("a", DECLINED, None), placed("b", VISA, Some(202))];
        let books = books(
            vec![
                order("a", "CONFIRMED", None, Some("SUCCEEDED")),
                order("b", "CONFIRMED", None, Some("SUCCEEDED")),
            ],
            8,
            0,
        );
        assert_eq!(check(&placed, &books).len(), 2);
    }

    #[test]
    fn a_run_that_accepted_nothing_or_sold_out_a_plentiful_sku_is_a_violation() {
        let found = check(&[], &books(vec![], 10, 0));
        assert!(found.iter().any(|v| v.contains("no order")), "{found:?}");
        let placed = [placed("a", VISA, None)];
        let out = order("a", "CANCELLED", Some("OUT_OF_STOCK"), None);
        let found = check(&placed, &books(vec![out], 10, 0));
        assert!(
            found.iter().any(|v| v.contains("OUT_OF_STOCK")),
            "{found:?}"
        );
    }

    #[test]
    fn a_total_or_price_that_does_not_match_is_a_violation() {
        let placed = [placed("a", VISA, None)];
        let mut confirmed = order("a", "CONFIRMED", None, Some("SUCCEEDED"));
        confirmed.lines[0].2 = Decimal::TWO;
        let found = check(&placed, &books(vec![confirmed], 9, 0));
        assert!(found.iter().any(|v| v.contains("listed at")), "{found:?}");
        assert!(
            found.iter().any(|v| v.contains("but its lines")),
            "{found:?}"
        );
    }
}
