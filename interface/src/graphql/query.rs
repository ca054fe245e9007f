//! The queries: the read models of API.md, with Relay connections (opaque cursors, `first`
//! capped at 100), `consistentWith` and the same authorization as REST: customers see only
//! their own orders and tickets, agents read orders and tickets, operators read all,
//! products are readable by any authenticated caller.

use application::operations::{ProjectionState, ProjectionStatus};
use application::queries::{self, OrderFilter, TicketFilter};
use application::queries::{KeyCursor, SkuCursor};
use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Enum, ID, Object};

use std::sync::Arc;

use super::context::state;
use super::order_loader::order_loader;
use super::reads::{
    Order, OrderStatus, Payment, Product, Ticket, TicketStatus, bad_cursor, graphql_error,
    page_size, payment_loader, reader, uuid, wait,
};

/// The root of the queries.
#[derive(Debug, Default, Clone, Copy)]
pub struct Query;

// Merged into the schema's `Query` root (see `QueryRoot`), under a name of its own.
#[Object(name = "ReadQuery")]
impl Query {
    /// The version of the domainflow server answering.
    async fn api_version(&self) -> &'static str {
        env!("CARGO_PKG_VERSION")
    }

    /// An order (its customer, agents, operators); null when it does not exist or is
    /// another customer's. `consistentWith` waits (at most 5 s) for a command's position.
    async fn order(
        &self,
        ctx: &Context<'_>,
        id: ID,
        consistent_with: Option<String>,
    ) -> Result<Option<Order>, async_graphql::Error> {
        let caller = reader(ctx, "orders").await?;
        let id = uuid("id", &id)?;
        let state = state(ctx)?;
        wait(state, &["orders"], consistent_with.as_deref()).await?;
        let order = state
            .queries
            .order(&caller.actor, id)
            .await
            .map_err(graphql_error)?;
        let loader = payment_loader(state);
        Ok(order.map(|o| Order::new(o, loader)))
    }

    /// Orders, newest first. A customer sees only their own (`customerId` is theirs).
    async fn orders(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        status: Option<OrderStatus>,
        customer_id: Option<String>,
    ) -> Result<Connection<String, Order>, async_graphql::Error> {
        let caller = reader(ctx, "orders").await?;
        let first = page_size(first)?;
        let after = after
            .map(|a| KeyCursor::decode(&a).ok_or_else(bad_cursor))
            .transpose()?;
        let filter = OrderFilter::parse(
            &caller.actor,
            status.map(OrderStatus::as_str),
            customer_id.as_deref(),
        )
        .map_err(graphql_error)?;
        let state = state(ctx)?;
        let page = state
            .queries
            .orders(&caller.actor, &filter, after, first)
            .await
            .map_err(graphql_error)?;
        let loader = payment_loader(state);
        let mut connection = Connection::new(after.is_some(), page.has_next);
        connection.edges.extend(
            page.items
                .into_iter()
                .map(|(cursor, view)| Edge::new(cursor.encode(), Order::new(view, loader.clone()))),
        );
        Ok(connection)
    }

    /// A ticket with its messages (its customer, agents, operators); null when it does
    /// not exist or is another customer's.
    async fn ticket(
        &self,
        ctx: &Context<'_>,
        id: ID,
        consistent_with: Option<String>,
    ) -> Result<Option<Ticket>, async_graphql::Error> {
        let caller = reader(ctx, "tickets").await?;
        let id = uuid("id", &id)?;
        let state = state(ctx)?;
        // The ticket shows the order it names: that read model must have caught up too.
        wait(state, &["tickets", "orders"], consistent_with.as_deref()).await?;
        let ticket = state
            .queries
            .ticket(&caller.actor, id)
            .await
            .map_err(graphql_error)?;
        let (orders, payments) = (order_loader(state), payment_loader(state));
        Ok(ticket.map(|t| Ticket::new(t, orders, payments)))
    }

    /// Tickets, newest first. A customer sees only their own.
    async fn tickets(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        status: Option<TicketStatus>,
        customer_id: Option<String>,
        assignee: Option<String>,
    ) -> Result<Connection<String, Ticket>, async_graphql::Error> {
        let caller = reader(ctx, "tickets").await?;
        let first = page_size(first)?;
        let after = after
            .map(|a| KeyCursor::decode(&a).ok_or_else(bad_cursor))
            .transpose()?;
        let filter = TicketFilter::parse(
            &caller.actor,
            status.map(TicketStatus::as_str),
            customer_id.as_deref(),
            assignee.as_deref(),
        )
        .map_err(graphql_error)?;
        let state = state(ctx)?;
        let page = state
            .queries
            .tickets(&caller.actor, &filter, after, first)
            .await
            .map_err(graphql_error)?;
        let (orders, payments) = (order_loader(state), payment_loader(state));
        let mut connection = Connection::new(after.is_some(), page.has_next);
        connection
            .edges
            .extend(page.items.into_iter().map(|(cursor, view)| {
                let ticket = Ticket::new(view, Arc::clone(&orders), Arc::clone(&payments));
                Edge::new(cursor.encode(), ticket)
            }));
        Ok(connection)
    }

    /// A product's stock levels (any authenticated caller); null when it does not exist.
    async fn product(
        &self,
        ctx: &Context<'_>,
        sku: String,
        consistent_with: Option<String>,
    ) -> Result<Option<Product>, async_graphql::Error> {
        super::context::caller(ctx).await?;
        let sku = queries::sku(&sku).map_err(graphql_error)?;
        let state = state(ctx)?;
        wait(state, &["products"], consistent_with.as_deref()).await?;
        let product = state.queries.product(&sku).await.map_err(graphql_error)?;
        Ok(product.map(Product))
    }

    /// Products by SKU; only those low on stock with `lowStockOnly`.
    async fn products(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        low_stock_only: Option<bool>,
    ) -> Result<Connection<String, Product>, async_graphql::Error> {
        super::context::caller(ctx).await?;
        let first = page_size(first)?;
        let after = after
            .map(|a| SkuCursor::decode(&a).ok_or_else(bad_cursor))
            .transpose()?;
        let state = state(ctx)?;
        let page = state
            .queries
            .products(low_stock_only.unwrap_or(false), after.as_ref(), first)
            .await
            .map_err(graphql_error)?;
        let mut connection = Connection::new(after.is_some(), page.has_next);
        connection.edges.extend(
            page.items
                .into_iter()
                .map(|(cursor, view)| Edge::new(cursor.encode(), Product(view))),
        );
        Ok(connection)
    }

    /// An order's payment (as the order: its customer, agents, operators); null when there
    /// is none or the order is another customer's.
    async fn payment(
        &self,
        ctx: &Context<'_>,
        order_id: ID,
    ) -> Result<Option<Payment>, async_graphql::Error> {
        let caller = reader(ctx, "payments").await?;
        let id = uuid("orderId", &order_id)?;
        let payment = state(ctx)?
            .queries
            .payment(&caller.actor, id)
            .await
            .map_err(graphql_error)?;
        Ok(payment.map(Payment))
    }

    /// Every projection: its position, lag in events and seconds, and state (operators
    /// only).
    async fn projections(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Vec<Projection>, async_graphql::Error> {
        let caller = super::context::caller(ctx).await?;
        let statuses = state(ctx)?
            .operations
            .projections(&caller.actor)
            .await
            .map_err(graphql_error)?;
        Ok(statuses.into_iter().map(Projection).collect())
    }
}

/// Whether a projection's worker applies events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(name = "ProjectionState")]
pub enum ProjectionStateValue {
    /// Applying events (or waiting for new ones).
    Running,
    /// Stopped at a failing event until an operator resumes it.
    Parked,
    /// Serving while a rebuild fills its shadow tables (see `rebuild`).
    Rebuilding,
}

/// A projection's checkpoint and lag.
#[derive(Debug, Clone)]
pub struct Projection(pub ProjectionStatus);

/// A projection's checkpoint, state and lag.
#[Object(name = "ProjectionStatus")]
impl Projection {
    /// The projection's name.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// The position token of the last event applied (all zeros before the first).
    async fn position(&self) -> &str {
        &self.0.position
    }

    /// Running, parked or rebuilding.
    async fn state(&self) -> ProjectionStateValue {
        match self.0.state {
            ProjectionState::Running => ProjectionStateValue::Running,
            ProjectionState::Parked => ProjectionStateValue::Parked,
            ProjectionState::Rebuilding => ProjectionStateValue::Rebuilding,
        }
    }

    /// The running rebuild's progress, while one runs.
    async fn rebuild(&self) -> Option<super::rebuild::Rebuild> {
        self.0.rebuild.clone().map(super::rebuild::Rebuild)
    }

    /// Why it is parked, when it is.
    async fn error(&self) -> Option<&str> {
        self.0.error.as_deref()
    }

    /// Events in the log after the checkpoint.
    async fn lag_events(&self) -> i64 {
        self.0.lag_events
    }

    /// Age in seconds of the oldest event not applied yet; 0 when caught up.
    async fn lag_seconds(&self) -> f64 {
        self.0.lag_seconds
    }
}
