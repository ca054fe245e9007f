//! The load generator: drives a running server over HTTP, waits until every accepted order
//! is final, checks that money and stock add up, and reports what it measured.
//!
//! ```text
//! cargo run --release -p benches --bin drive -- --url http://127.0.0.1:8080 \
//!   --operator TOKEN --customer TOKEN      # a customer with no earlier orders
//!   [--scenario place|read|mixed] [--clients 16] [--seconds 10] [--skus 200 | --hot]
//!   [--seed-orders 200] [--faults] [--wait 300]
//! cargo run -p benches --bin drive -- --smoke
//! ```
//!
//! - `place`: every client places one-unit orders (`tok_visa`) round robin over the SKUs.
//! - `read`: `--seed-orders` orders first, then every client reads them through GraphQL
//!   (an order by id; every fifth read a page of orders).
//! - `mixed`: half the clients place orders with faults, half read.
//! - `--faults`: declined, flaky payments, a scarce SKU, customers cancelling at once.
//! - `--smoke`: starts a server of its own in this process (real HTTP, a database of its
//!   own, a 2 s payment deadline) and runs a few seconds of `mixed` with every fault and
//!   `tok_timeout`.
//!
//! It prints a markdown table and the JSON report, and every broken promise (a 5xx or
//! other unexpected answer, an order not final, money or stock that does not add up); it
//! exits with status 1 when there is one, never because of speed.

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "the driver reports what it measured on stdout"
)]

use std::process::ExitCode;

use application::Role;
use benches::drive::{self, Plan};

#[tokio::main]
async fn main() -> ExitCode {
    match drive_once().await {
        Ok(report) if report.violations.is_empty() => ExitCode::SUCCESS,
        Ok(report) => {
            eprintln!("{} broken promise(s):", report.violations.len());
            for violation in &report.violations {
                eprintln!("- {violation}");
            }
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("drive: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn drive_once() -> Result<drive::Report, String> {
    let mut plan = Plan::from_args(std::env::args().skip(1))?;
    // Kept alive for the run: dropping it stops the server.
    let mut _server = None;
    if plan.smoke {
        let app = tests::spawn_app_with(|config| {
            config.saga.options.payment_timeout = std::time::Duration::from_secs(2);
            // One customer principal from one address drives the whole load, far above
            // what one customer or one client may send.
            config.limits.principal_rate = None;
            config.limits.address_rate = None;
        })
        .await;
        plan.url.clone_from(&app.address);
        plan.operator = app.token("drive-operator", Role::Operator);
        plan.customer = app.token("drive-customer", Role::Customer);
        _server = Some(app);
    }
    let report = drive::run(&plan).await?;
    println!("{}", report.markdown());
    println!("{}", report.json);
    Ok(report)
}
