//! Reading the read models: plain views of the `rm_*` tables, keyset-paginated lists, and
//! [`wait_until`] for read-your-writes; [`PgReadModels`] is the application's
//! [`application::queries::ReadModels`] port over them.
//!
//! Money is a decimal string in the row's currency; lists are ordered newest first by
//! `(placed_at, id)` / `(opened_at, id)`, products by SKU; cursors are opaque hex strings.

mod port;
mod wait;

use application::money::format_amount;
pub use application::queries::{
    KeyCursor, MAX_PAGE, OrderFilter, OrderLineView, OrderPaymentView, OrderView, Page,
    PaymentView, ProductView, SkuCursor, Tally, TicketFilter, TicketMessageView, TicketView,
    TimelineEntryView,
};
use chrono::{DateTime, Utc};
use domain::{AgentId, Currency, CustomerId, Money, Sku};
use serde_json::Value;
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Row};
use uuid::Uuid;

pub use port::PgReadModels;
pub use wait::{WaitError, wait_until};

use crate::Error;

/// The page from `rows`, fetched with one row more than `first` to learn whether more
/// follow: each row decoded and paired with its cursor.
fn page_of<C, T>(
    rows: &[PgRow],
    first: usize,
    decode: impl Fn(&PgRow) -> Result<T, Error>,
    cursor: impl Fn(&T) -> C,
) -> Result<Page<(C, T)>, Error> {
    let mut items = rows
        .iter()
        .map(|row| decode(row).map(|view| (cursor(&view), view)))
        .collect::<Result<Vec<_>, Error>>()?;
    let has_next = items.len() > first;
    items.truncate(first);
    Ok(Page { items, has_next })
}

fn money(minor: i64, currency: &str) -> Result<String, Error> {
    let currency = Currency::parse(currency)
        .map_err(|e| Error::Unexpected(format!("currency {currency:?}: {e}")))?;
    Ok(format_amount(Money::new(minor, currency)))
}

fn json_i64(value: &Value, field: &str) -> Result<i64, Error> {
    value[field]
        .as_i64()
        .ok_or_else(|| Error::Unexpected(format!("{field} in {value}")))
}

fn json_str(value: &Value, field: &str) -> String {
    value[field].as_str().unwrap_or_default().to_owned()
}

fn json_time(value: &Value, field: &str) -> Result<DateTime<Utc>, Error> {
    serde_json::from_value(value[field].clone())
        .map_err(|e| Error::Unexpected(format!("{field} in {value}: {e}")))
}

const ORDER_COLUMNS: &str = "id, customer_id, status, cancellation_reason, currency, total_minor, \
     lines, payment_status, payment_amount_minor, timeline, version, placed_at, updated_at";

fn order_row(row: &PgRow) -> Result<OrderView, Error> {
    let currency: String = row.try_get("currency")?;
    let lines: Value = row.try_get("lines")?;
    let lines = lines
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|line| {
            Ok(OrderLineView {
                sku: json_str(line, "sku"),
                quantity: json_i64(line, "quantity")?,
                unit_price: money(json_i64(line, "unitPriceMinor")?, &currency)?,
                line_total: money(json_i64(line, "lineTotalMinor")?, &currency)?,
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    let timeline: Value = row.try_get("timeline")?;
    let timeline = timeline
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|entry| {
            Ok(TimelineEntryView {
                at: json_time(entry, "at")?,
                event: json_str(entry, "event"),
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    let payment_status: Option<String> = row.try_get("payment_status")?;
    let payment_amount: Option<i64> = row.try_get("payment_amount_minor")?;
    let payment = match (payment_status, payment_amount) {
        (Some(status), amount) => Some(OrderPaymentView {
            status,
            amount: amount.map(|a| money(a, &currency)).transpose()?,
        }),
        (None, _) => None,
    };
    Ok(OrderView {
        id: row.try_get("id")?,
        customer_id: row.try_get("customer_id")?,
        status: row.try_get("status")?,
        cancellation_reason: row.try_get("cancellation_reason")?,
        total: money(row.try_get("total_minor")?, &currency)?,
        currency,
        lines,
        payment,
        timeline,
        version: row.try_get("version")?,
        placed_at: row.try_get("placed_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// The order `id`, if the read model has it.
///
/// # Errors
/// [`Error::Database`]; [`Error::Unexpected`] for a row that does not decode.
pub async fn order(pool: &PgPool, id: Uuid) -> Result<Option<OrderView>, Error> {
    let sql = format!("SELECT {ORDER_COLUMNS} FROM rm_orders WHERE id = $1");
    let row = sqlx::query(&sql).bind(id).fetch_optional(pool).await?;
    row.as_ref().map(order_row).transpose()
}

/// The orders among `ids` that exist (in no particular order): one query for a batch of
/// nested lookups.
///
/// # Errors
/// [`Error::Database`]; [`Error::Unexpected`] for a row that does not decode.
pub async fn orders_by_id(pool: &PgPool, ids: &[Uuid]) -> Result<Vec<OrderView>, Error> {
    let sql = format!("SELECT {ORDER_COLUMNS} FROM rm_orders WHERE id = ANY($1)");
    let rows = sqlx::query(&sql).bind(ids).fetch_all(pool).await?;
    rows.iter().map(order_row).collect()
}

/// Up to `first` (at most [`MAX_PAGE`]) orders matching `filter`, newest first, after
/// `after`.
///
/// # Errors
/// [`Error::Database`]; [`Error::Unexpected`] for a row that does not decode.
pub async fn orders(
    pool: &PgPool,
    filter: &OrderFilter,
    after: Option<KeyCursor>,
    first: usize,
) -> Result<Page<(KeyCursor, OrderView)>, Error> {
    let first = first.min(MAX_PAGE);
    let sql = format!(
        "SELECT {ORDER_COLUMNS} FROM rm_orders
         WHERE ($1::text IS NULL OR status = $1)
           AND ($2::text IS NULL OR customer_id = $2)
           AND ($3::timestamptz IS NULL OR (placed_at, id) < ($3, $4))
         ORDER BY placed_at DESC, id DESC
         LIMIT $5"
    );
    let rows = sqlx::query(&sql)
        .bind(filter.status)
        .bind(filter.customer.as_ref().map(CustomerId::as_str))
        .bind(after.map(|c| c.at))
        .bind(after.map_or(Uuid::nil(), |c| c.id))
        .bind(i64::try_from(first + 1).unwrap_or(i64::MAX))
        .fetch_all(pool)
        .await?;
    page_of(&rows, first, order_row, |view| KeyCursor {
        at: view.placed_at,
        id: view.id,
    })
}

/// How many orders stand in each status that has any (an index-only pass over
/// `rm_orders_status`).
///
/// # Errors
/// [`Error::Database`].
pub async fn order_counts(pool: &PgPool) -> Result<Vec<Tally>, Error> {
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT status, count(*) FROM rm_orders GROUP BY status ORDER BY status")
            .fetch_all(pool)
            .await?;
    Ok(rows.into_iter().map(Tally::from).collect())
}

const TICKET_COLUMNS: &str = "id, customer_id, order_id, subject, status, assignee, messages, \
     opened_at, closed_at, resolution, version";

fn ticket_row(row: &PgRow) -> Result<TicketView, Error> {
    let messages: Value = row.try_get("messages")?;
    let messages = messages
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|m| {
            Ok(TicketMessageView {
                author: json_str(m, "author"),
                role: json_str(m, "role"),
                body: json_str(m, "body"),
                at: json_time(m, "at")?,
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(TicketView {
        id: row.try_get("id")?,
        customer_id: row.try_get("customer_id")?,
        order_id: row.try_get("order_id")?,
        subject: row.try_get("subject")?,
        status: row.try_get("status")?,
        assignee: row.try_get("assignee")?,
        messages,
        opened_at: row.try_get("opened_at")?,
        closed_at: row.try_get("closed_at")?,
        resolution: row.try_get("resolution")?,
        version: row.try_get("version")?,
    })
}

/// The ticket `id`, if the read model has it.
///
/// # Errors
/// [`Error::Database`]; [`Error::Unexpected`] for a row that does not decode.
pub async fn ticket(pool: &PgPool, id: Uuid) -> Result<Option<TicketView>, Error> {
    let sql = format!("SELECT {TICKET_COLUMNS} FROM rm_tickets WHERE id = $1");
    let row = sqlx::query(&sql).bind(id).fetch_optional(pool).await?;
    row.as_ref().map(ticket_row).transpose()
}

/// Up to `first` (at most [`MAX_PAGE`]) tickets matching `filter`, newest first, after
/// `after`.
///
/// # Errors
/// [`Error::Database`]; [`Error::Unexpected`] for a row that does not decode.
pub async fn tickets(
    pool: &PgPool,
    filter: &TicketFilter,
    after: Option<KeyCursor>,
    first: usize,
) -> Result<Page<(KeyCursor, TicketView)>, Error> {
    let first = first.min(MAX_PAGE);
    let sql = format!(
        "SELECT {TICKET_COLUMNS} FROM rm_tickets
         WHERE ($1::text IS NULL OR status = $1)
           AND ($2::text IS NULL OR customer_id = $2)
           AND ($3::text IS NULL OR assignee = $3)
           AND ($4::timestamptz IS NULL OR (opened_at, id) < ($4, $5))
         ORDER BY opened_at DESC, id DESC
         LIMIT $6"
    );
    let rows = sqlx::query(&sql)
        .bind(filter.status)
        .bind(filter.customer.as_ref().map(CustomerId::as_str))
        .bind(filter.assignee.as_ref().map(AgentId::as_str))
        .bind(after.map(|c| c.at))
        .bind(after.map_or(Uuid::nil(), |c| c.id))
        .bind(i64::try_from(first + 1).unwrap_or(i64::MAX))
        .fetch_all(pool)
        .await?;
    page_of(&rows, first, ticket_row, |view| KeyCursor {
        at: view.opened_at,
        id: view.id,
    })
}

const PRODUCT_COLUMNS: &str = "sku, name, on_hand, reserved, available, low_stock_threshold, \
     low_stock, price_minor, currency, version";

fn product_row(row: &PgRow) -> Result<ProductView, Error> {
    let price_minor: Option<i64> = row.try_get("price_minor")?;
    let currency: Option<String> = row.try_get("currency")?;
    let price = match (price_minor, &currency) {
        (Some(minor), Some(currency)) => Some(money(minor, currency)?),
        _ => None,
    };
    Ok(ProductView {
        price,
        currency,
        sku: row.try_get("sku")?,
        name: row.try_get("name")?,
        on_hand: row.try_get("on_hand")?,
        reserved: row.try_get("reserved")?,
        available: row.try_get("available")?,
        low_stock_threshold: row.try_get("low_stock_threshold")?,
        low_stock: row.try_get("low_stock")?,
        version: row.try_get("version")?,
    })
}

/// The product `sku`, if the read model has it.
///
/// # Errors
/// [`Error::Database`].
pub async fn product(pool: &PgPool, sku: &Sku) -> Result<Option<ProductView>, Error> {
    let sql = format!("SELECT {PRODUCT_COLUMNS} FROM rm_products WHERE sku = $1");
    let row = sqlx::query(&sql)
        .bind(sku.as_str())
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(product_row).transpose()
}

/// Up to `first` (at most [`MAX_PAGE`]) products by SKU after `after`; only those low on
/// stock when `low_stock_only`.
///
/// # Errors
/// [`Error::Database`].
pub async fn products(
    pool: &PgPool,
    low_stock_only: bool,
    after: Option<&SkuCursor>,
    first: usize,
) -> Result<Page<(SkuCursor, ProductView)>, Error> {
    let first = first.min(MAX_PAGE);
    let sql = format!(
        "SELECT {PRODUCT_COLUMNS} FROM rm_products
         WHERE (NOT $1 OR low_stock) AND ($2::text IS NULL OR sku > $2)
         ORDER BY sku
         LIMIT $3"
    );
    let rows = sqlx::query(&sql)
        .bind(low_stock_only)
        .bind(after.map(|c| c.0.as_str()))
        .bind(i64::try_from(first + 1).unwrap_or(i64::MAX))
        .fetch_all(pool)
        .await?;
    page_of(&rows, first, product_row, |view| {
        SkuCursor(view.sku.clone())
    })
}

fn payment_row(row: &PgRow) -> Result<PaymentView, Error> {
    let currency: String = row.try_get("currency")?;
    Ok(PaymentView {
        order_id: row.try_get("order_id")?,
        status: row.try_get("status")?,
        amount: money(row.try_get("amount_minor")?, &currency)?,
        currency,
        attempts: row.try_get("attempts")?,
        version: row.try_get("version")?,
    })
}

/// The payment of order `order_id`, if the read model has one.
///
/// # Errors
/// [`Error::Database`]; [`Error::Unexpected`] for a row that does not decode.
pub async fn payment(pool: &PgPool, order_id: Uuid) -> Result<Option<PaymentView>, Error> {
    Ok(payments(pool, &[order_id]).await?.into_iter().next())
}

/// The payments of the orders `order_ids` (those that have one), in no particular order.
///
/// # Errors
/// [`Error::Database`]; [`Error::Unexpected`] for a row that does not decode.
pub async fn payments(pool: &PgPool, order_ids: &[Uuid]) -> Result<Vec<PaymentView>, Error> {
    let rows = sqlx::query(
        "SELECT order_id, status, amount_minor, currency, attempts, version
         FROM rm_payments WHERE order_id = ANY($1)",
    )
    .bind(order_ids)
    .fetch_all(pool)
    .await?;
    rows.iter().map(payment_row).collect()
}
