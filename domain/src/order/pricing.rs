//! What an order line is charged: the catalog price, never what the customer would like.

use std::fmt;

use crate::{Currency, Money, Sku};

/// The unit price a line of `sku` is charged in an order in `currency`: the product's
/// `catalog` price. The customer may state the price they expect (`asked`); it must be the
/// catalog price, so a client showing a stale price finds out instead of being charged
/// something else.
///
/// # Errors
/// [`PriceError::Unpriced`] when the product has no price; [`PriceError::CurrencyMismatch`]
/// when it is priced in another currency than the order; [`PriceError::Mismatch`] when
/// `asked` is not the catalog price.
pub fn unit_price(
    sku: &Sku,
    catalog: Option<Money>,
    currency: Currency,
    asked: Option<Money>,
) -> Result<Money, PriceError> {
    let catalog = catalog.ok_or_else(|| PriceError::Unpriced { sku: sku.clone() })?;
    if catalog.currency() != currency {
        return Err(PriceError::CurrencyMismatch {
            sku: sku.clone(),
            catalog,
            order: currency,
        });
    }
    match asked {
        Some(asked) if asked != catalog => Err(PriceError::Mismatch {
            sku: sku.clone(),
            catalog,
            asked,
        }),
        _ => Ok(catalog),
    }
}

/// Why a line cannot be charged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PriceError {
    /// The product has no price (it was registered before products had one).
    Unpriced {
        /// The product.
        sku: Sku,
    },
    /// The product is priced in another currency than the order.
    CurrencyMismatch {
        /// The product.
        sku: Sku,
        /// Its price.
        catalog: Money,
        /// The order's currency.
        order: Currency,
    },
    /// The price the customer stated is not the catalog price.
    Mismatch {
        /// The product.
        sku: Sku,
        /// Its price.
        catalog: Money,
        /// The price stated.
        asked: Money,
    },
}

impl PriceError {
    /// The name of the rule: the variant's name, e.g. `"Unpriced"`.
    #[must_use]
    pub const fn rule_name(&self) -> &'static str {
        match self {
            Self::Unpriced { .. } => "Unpriced",
            Self::CurrencyMismatch { .. } => "CurrencyMismatch",
            Self::Mismatch { .. } => "Mismatch",
        }
    }
}

impl fmt::Display for PriceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unpriced { sku } => {
                write!(
                    f,
                    "{sku} has no price yet and cannot be ordered until it is repriced"
                )
            }
            Self::CurrencyMismatch {
                sku,
                catalog,
                order,
            } => write!(
                f,
                "{sku} costs {catalog}, which cannot be charged in an order in {order}"
            ),
            Self::Mismatch {
                sku,
                catalog,
                asked,
            } => write!(f, "{sku} costs {catalog}, not {asked}"),
        }
    }
}

impl std::error::Error for PriceError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn sku() -> Sku {
        Sku::parse("MUG-1").unwrap()
    }

    fn brl(minor: i64) -> Money {
        Money::new(minor, Currency::parse("BRL").unwrap())
    }

    fn in_brl(catalog: Option<Money>, asked: Option<Money>) -> Result<Money, PriceError> {
        unit_price(&sku(), catalog, Currency::parse("BRL").unwrap(), asked)
    }

    #[test]
    fn a_line_is_charged_the_catalog_price_whether_or_not_it_states_it() {
        assert_eq!(in_brl(Some(brl(1250)), None), Ok(brl(1250)));
        assert_eq!(in_brl(Some(brl(1250)), Some(brl(1250))), Ok(brl(1250)));
    }

    #[test]
    fn a_stated_price_other_than_the_catalog_price_is_a_mismatch() {
        assert_eq!(
            in_brl(Some(brl(1250)), Some(brl(1))),
            Err(PriceError::Mismatch {
                sku: sku(),
                catalog: brl(1250),
                asked: brl(1),
            })
        );
    }

    #[test]
    fn a_product_priced_in_another_currency_cannot_be_charged() {
        let usd = Money::new(300, Currency::parse("USD").unwrap());
        assert_eq!(
            in_brl(Some(usd), None),
            Err(PriceError::CurrencyMismatch {
                sku: sku(),
                catalog: usd,
                order: Currency::parse("BRL").unwrap(),
            })
        );
    }

    #[test]
    fn a_product_without_a_price_cannot_be_ordered() {
        assert_eq!(
            in_brl(None, Some(brl(1250))),
            Err(PriceError::Unpriced { sku: sku() })
        );
    }
}
