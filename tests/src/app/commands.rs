//! Commands a test sets its scene with: registering products, placing orders, opening and
//! closing tickets, and a fulfilment step run behind the API.

use application::event_log::CommandMetadata;
use application::{CommandResult, Role};
use domain::order::Command as OrderCommand;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::answers::expect;

use super::{TestApp, string_field};

impl TestApp {
    /// Registers product `sku` at 12.50 BRL with `quantity` units on hand, as an operator
    /// (the price the order helpers state).
    ///
    /// # Panics
    /// Unless the server answers 201.
    pub async fn register_product(&self, sku: &str, quantity: u32) -> Value {
        let body = json!({
            "sku": sku,
            "name": format!("Product {sku}"),
            "initialQuantity": quantity,
            "lowStockThreshold": 0,
            "price": "12.50",
            "currency": "BRL",
        });
        let operator = self.token("operator-1", Role::Operator);
        expect(self.post("/api/products", Some(&operator), body).await, 201).await
    }

    /// Places an order of `quantity` × `sku` at 12.50 BRL as `customer`; its id.
    ///
    /// # Panics
    /// Unless the server answers 202 with an `orderId`.
    pub async fn place_order(&self, customer: &str, sku: &str, quantity: u32) -> String {
        let body = json!({
            "currency": "BRL",
            "lines": [{ "sku": sku, "quantity": quantity, "unitPrice": "12.50" }],
            "paymentToken": "tok_visa",
        });
        let token = self.token(customer, Role::Customer);
        let result = expect(self.post("/api/orders", Some(&token), body).await, 202).await;
        string_field(&result, "orderId")
    }

    /// Opens a ticket as `customer`; its id.
    ///
    /// # Panics
    /// Unless the server answers 201 with a `ticketId`.
    pub async fn open_ticket(&self, customer: &str) -> String {
        let body = json!({ "subject": "Where is my parcel?", "message": "It has not arrived." });
        let token = self.token(customer, Role::Customer);
        let result = expect(self.post("/api/tickets", Some(&token), body).await, 201).await;
        string_field(&result, "ticketId")
    }

    /// Closes `ticket` as its `customer`.
    ///
    /// # Panics
    /// Unless the server answers 200.
    pub async fn close_ticket(&self, customer: &str, ticket: &str) {
        let token = self.token(customer, Role::Customer);
        let path = format!("/api/tickets/{ticket}/close");
        let body = json!({ "resolution": "Solved." });
        expect(self.post(&path, Some(&token), body).await, 200).await;
    }

    /// Runs one step of fulfilment on `order` behind the API, standing in for the saga of
    /// a server started without it; its command result.
    ///
    /// # Panics
    /// When the order refuses the step.
    pub async fn order_step(&self, order: &str, step: OrderCommand) -> CommandResult {
        let metadata = CommandMetadata {
            command_id: Uuid::now_v7(),
            correlation_id: Uuid::now_v7(),
            causation_id: None,
            actor: "fulfilment-stand-in".into(),
            client_correlation_id: None,
        };
        self.commands
            .orders()
            .execute(order, step, &metadata)
            .await
            .unwrap_or_else(|e| panic!("step on order {order}: {e}"))
    }

    /// Places an order for `customer` of `lines` (`(sku, quantity)`, 12.50 BRL each) paid
    /// with `payment_token`; its id.
    ///
    /// # Panics
    /// Unless the server answers 202 with an `orderId`.
    pub async fn place_order_paid_with(
        &self,
        customer: &str,
        lines: &[(&str, u32)],
        payment_token: &str,
    ) -> String {
        let lines: Vec<Value> = lines
            .iter()
            .map(
                |(sku, quantity)| json!({ "sku": sku, "quantity": quantity, "unitPrice": "12.50" }),
            )
            .collect();
        let body = json!({ "currency": "BRL", "lines": lines, "paymentToken": payment_token });
        let token = self.token(customer, Role::Customer);
        let result = expect(self.post("/api/orders", Some(&token), body).await, 202).await;
        string_field(&result, "orderId")
    }
}
