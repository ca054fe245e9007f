//! A mixed workload made through the application's use cases (no HTTP, no SQL): products,
//! restocks, orders with their fulfilment steps and payments, cancellations, shipping, and
//! support tickets with their threads. The end-to-end tests and the benches load logs with
//! it.

use std::sync::Arc;

use application::commands::{OpenTicket, OrderLineInput, PlaceOrder, RegisterProduct};
use application::event_log::CommandMetadata;
use application::{Actor, Commands, EventStore, RepositoryOptions, Role};
use domain::{Currency, Money, OrderId, Timestamp, order, payment, stock};
use infrastructure::PgEventStore;
use sqlx::PgPool;
use uuid::Uuid;

/// The use cases over the event store in `pool` (a server's workers find these events by
/// polling).
#[must_use]
pub fn commands(pool: &PgPool) -> Arc<Commands> {
    let store: Arc<dyn EventStore> = Arc::new(PgEventStore::new(pool.clone()));
    Arc::new(Commands::new(
        store,
        &RepositoryOptions::default(),
        infrastructure::SimulatedProvider::simulation(),
    ))
}

/// SKUs of the catalogue [`register_catalogue`] creates.
pub const CATALOGUE: usize = 12;

/// Fresh command metadata, as a client sending a new command gets.
#[must_use]
pub fn metadata(actor: &str) -> CommandMetadata {
    let id = Uuid::now_v7();
    CommandMetadata {
        command_id: id,
        correlation_id: id,
        causation_id: None,
        actor: actor.into(),
        client_correlation_id: None,
    }
}

fn now() -> Timestamp {
    Timestamp::from_millis(chrono::Utc::now().timestamp_millis())
}

/// The SKU of catalogue entry `i`.
#[must_use]
pub fn sku(i: usize) -> String {
    format!("LOAD-{:02}", i % CATALOGUE)
}

/// Registers the catalogue at 12.50 EUR a unit (the price the orders of [`round`] state)
/// with plenty of stock.
///
/// # Errors
/// The first use case that fails.
pub async fn register_catalogue(commands: &Commands) -> Result<(), application::Error> {
    let operator = Actor::new("operator-load", Role::Operator);
    for i in 0..CATALOGUE {
        let input = RegisterProduct {
            sku: sku(i),
            name: format!("Load product {i}"),
            initial_quantity: 1_000_000,
            low_stock_threshold: 10,
            price: "12.50".into(),
            currency: "EUR".into(),
        };
        commands
            .register_product(&operator, input, &metadata("operator-load"))
            .await?;
    }
    Ok(())
}

/// One round of the workload, numbered `n`: an order (cancelled, fulfilled and shipped, or
/// left pending, by turns), and every other round a ticket with a thread (closed and
/// sometimes reopened); a restock every tenth round. About 8 events a round. Fulfilment
/// steps that a process manager may have taken first are skipped, not failed.
///
/// # Errors
/// The first use case that fails (other than a fulfilment step).
pub async fn round(commands: &Commands, n: usize) -> Result<(), application::Error> {
    let customer = format!("customer-{}", n % 40);
    let buyer = Actor::new(&customer, Role::Customer);
    let operator = Actor::new("operator-load", Role::Operator);
    let agent = Actor::new("agent-load", Role::Agent);
    let lines: Vec<OrderLineInput> = (0..=(n % 3))
        .map(|k| OrderLineInput {
            sku: sku(n + k),
            quantity: u32::try_from(1 + (n + k) % 4).unwrap_or(1),
            unit_price: Some("12.50".into()),
        })
        .collect();
    let input = PlaceOrder {
        customer_id: None,
        currency: "EUR".into(),
        lines,
        payment_token: "tok_visa".into(),
    };
    let placed = commands
        .place_order(&buyer, input, &metadata(&customer))
        .await?;
    let order_id = Uuid::parse_str(&placed.stream.stream_id)
        .map_err(|e| application::Error::Validation(e.to_string()))?;
    match n % 3 {
        0 => {
            commands
                .cancel_order(&buyer, order_id, &metadata(&customer))
                .await?;
        }
        1 => {
            // Another party may have moved the order on already: that is fine here.
            let _ = fulfil(commands, order_id, n % 2 == 1).await;
        }
        _ => {}
    }
    if n.is_multiple_of(10) {
        commands
            .restock(&operator, &sku(n), 50, &metadata("operator-load"))
            .await?;
    }
    if n.is_multiple_of(2) {
        let ticket = commands
            .open_ticket(
                &buyer,
                OpenTicket {
                    customer_id: None,
                    subject: format!("Question {n}"),
                    message: "Where is my parcel?".into(),
                    order_id: Some(order_id),
                },
                &metadata(&customer),
            )
            .await?;
        let ticket_id = Uuid::parse_str(&ticket.stream.stream_id)
            .map_err(|e| application::Error::Validation(e.to_string()))?;
        commands
            .assign_ticket(&agent, ticket_id, "agent-load", &metadata("agent-load"))
            .await?;
        commands
            .post_ticket_message(
                &agent,
                ticket_id,
                "On its way.".into(),
                &metadata("agent-load"),
            )
            .await?;
        commands
            .close_ticket(&buyer, ticket_id, "Arrived.".into(), &metadata(&customer))
            .await?;
        if n.is_multiple_of(8) {
            commands
                .reopen_ticket(&buyer, ticket_id, &metadata(&customer))
                .await?;
        }
    }
    Ok(())
}

/// Takes `order` through fulfilment as the process manager would: reserves each line,
/// charges the payment, confirms, commits the stock and (when `ship`) ships it.
async fn fulfil(commands: &Commands, id: Uuid, ship: bool) -> Result<(), application::Error> {
    let key = id.to_string();
    let (state, _) = commands.orders().load(&key).await?;
    let order_ref = OrderId::from_u128(id.as_u128());
    let meta = || metadata("fulfilment-load");
    let mut total = 0_i64;
    for line in state.0.lines() {
        total += line.unit_price.minor() * i64::from(line.quantity.get());
        commands
            .stock()
            .execute(
                line.sku.as_str(),
                stock::Command::Reserve {
                    order: order_ref,
                    quantity: line.quantity,
                },
                &meta(),
            )
            .await?;
        commands
            .orders()
            .execute(
                &key,
                order::Command::RecordLineReserved {
                    sku: line.sku.clone(),
                },
                &meta(),
            )
            .await?;
    }
    let currency = Currency::parse("EUR")?;
    let payments = commands.payments();
    payments
        .execute(
            &key,
            payment::Command::Request {
                order: order_ref,
                amount: Money::new(total, currency),
                method: domain::PaymentMethod::new("pm_workload", "fp_workload")?,
            },
            &meta(),
        )
        .await?;
    payments
        .execute(&key, payment::Command::RecordAuthorized, &meta())
        .await?;
    let orders = commands.orders();
    orders
        .execute(&key, order::Command::RecordPaymentSucceeded, &meta())
        .await?;
    orders
        .execute(&key, order::Command::Confirm { at: now() }, &meta())
        .await?;
    for line in state.0.lines() {
        commands
            .stock()
            .execute(
                line.sku.as_str(),
                stock::Command::Commit { order: order_ref },
                &meta(),
            )
            .await?;
    }
    if ship {
        orders
            .execute(&key, order::Command::Ship { at: now() }, &meta())
            .await?;
    }
    Ok(())
}

/// Runs rounds `from..to` on `writers` concurrent tasks sharing `commands`.
///
/// # Errors
/// The first round that fails.
pub async fn rounds(
    commands: &Arc<Commands>,
    from: usize,
    to: usize,
    writers: usize,
) -> Result<(), application::Error> {
    let writers = writers.max(1);
    let tasks: Vec<_> = (0..writers)
        .map(|w| {
            let commands = Arc::clone(commands);
            tokio::spawn(async move {
                for n in (from + w..to).step_by(writers) {
                    round(&commands, n).await?;
                }
                Ok::<(), application::Error>(())
            })
        })
        .collect();
    for task in tasks {
        task.await
            .map_err(|e| application::Error::Infrastructure(e.to_string()))??;
    }
    Ok(())
}
