//! The books after a run: every order of the run's customer and every SKU of the run, read
//! back through GraphQL as the checks need them.

use std::collections::BTreeMap;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::api::Api;

/// An order as the read model has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderView {
    pub id: String,
    pub status: String,
    pub reason: Option<String>,
    pub total: Decimal,
    /// SKU, quantity and unit price of each line.
    pub lines: Vec<(String, i64, Decimal)>,
    /// The payment's status and amount, when there is a payment.
    pub payment: Option<(String, Decimal)>,
}

/// A product as the read model has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProductView {
    pub on_hand: i64,
    pub reserved: i64,
    pub price: Decimal,
}

/// What the read models say about a run.
#[derive(Debug, Default)]
pub struct Books {
    pub orders: Vec<OrderView>,
    pub products: BTreeMap<String, ProductView>,
}

const ORDERS: &str = "query($after: String) { orders(first: 100, after: $after) {
  pageInfo { hasNextPage endCursor }
  nodes { id status cancellationReason total lines { sku quantity unitPrice }
          payment { status amount } } } }";

const PRODUCT: &str = "query($sku: String!) { product(sku: $sku) { onHand reserved price } }";

/// Reads every order `customer` can see and the products `skus`.
///
/// # Errors
/// A read that failed, or an answer without the fields asked for.
pub async fn read(api: &Api, customer: &str, skus: &[String]) -> Result<Books, String> {
    let mut books = Books::default();
    let mut after = Value::Null;
    loop {
        let data = api
            .graphql(customer, ORDERS, json!({ "after": after }))
            .await?
            .data()?;
        let page = &data["orders"];
        for node in page["nodes"].as_array().into_iter().flatten() {
            books
                .orders
                .push(order(node).ok_or(format!("an order without its fields: {node}"))?);
        }
        if page["pageInfo"]["hasNextPage"] != Value::Bool(true) {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    for sku in skus {
        let data = api
            .graphql(customer, PRODUCT, json!({ "sku": sku }))
            .await?
            .data()?;
        let product = &data["product"];
        let view = (|| {
            Some(ProductView {
                on_hand: product["onHand"].as_i64()?,
                reserved: product["reserved"].as_i64()?,
                price: decimal(&product["price"])?,
            })
        })()
        .ok_or(format!("product {sku}: {product}"))?;
        books.products.insert(sku.clone(), view);
    }
    Ok(books)
}

fn order(node: &Value) -> Option<OrderView> {
    let lines = node["lines"]
        .as_array()?
        .iter()
        .map(|line| {
            Some((
                line["sku"].as_str()?.to_owned(),
                line["quantity"].as_i64()?,
                decimal(&line["unitPrice"])?,
            ))
        })
        .collect::<Option<Vec<_>>>()?;
    let payment = match &node["payment"] {
        Value::Null => None,
        payment => Some((
            payment["status"].as_str()?.to_owned(),
            decimal(&payment["amount"])?,
        )),
    };
    Some(OrderView {
        id: node["id"].as_str()?.to_owned(),
        status: node["status"].as_str()?.to_owned(),
        reason: node["cancellationReason"].as_str().map(str::to_owned),
        total: decimal(&node["total"])?,
        lines,
        payment,
    })
}

fn decimal(value: &Value) -> Option<Decimal> {
    Decimal::from_str(value.as_str()?).ok()
}
