//! Ours against the cqrs-es + postgres-es peer on the same orders, on the same cluster:
//!
//! ```text
//! cargo run --release -p benches --bin peer -- [--clients 1,8,32] [--seconds 10] \
//!   [--skus 200] [--rounds 2] [--pool 16] [--database-url URL]
//! ```
//!
//! The URL defaults to `DATABASE_URL`, then `postgres://postgres@127.0.0.1:5432/postgres`;
//! each run creates a database of its own on that cluster and drops it after. For each
//! number of clients, ours and the peer run by turns (`--rounds` times each), so noise on
//! the machine falls on both; the table shows each one's best run and every run's rate.
//!
//! An order is the fulfilment saga's eight commands for a one-line, one-unit `tok_visa`
//! order (place, reserve, record the line reserved, request the payment, record it
//! authorized, record the order paid, commit the stock, confirm), over `--skus` SKUs
//! registered before timing. Ours runs them through the use cases' repositories over our
//! event store with the server's defaults; the peer through one `CqrsFramework` per
//! aggregate over postgres-es's event store (no snapshots), with the same aggregates, each
//! command sent again when it loses a concurrency race. Both pools have `--pool`
//! connections.
//!
//! It prints a markdown table and one JSON line, and exits with status 1 on any failed
//! command, on a log whose events per order differ between runs, or on stock on hand that
//! is not the opening stock less what was sold.

#![allow(
    clippy::print_stdout,
    reason = "the comparison reports what it measured on stdout"
)]

use benches::peer::{
    Catalogue, Cell, Limit, Measured, Options, Ours, Settings, Theirs, check_events_per_order,
    json, measure, table,
};

fn progress(run: &Measured) {
    println!(
        "{} clients, {}: {} orders in {:.1} s, {:.0} orders/s, p50 {:.1} ms, p99 {:.1} ms",
        run.clients,
        run.contender,
        run.orders,
        run.elapsed.as_secs_f64(),
        run.per_second(),
        run.p50.as_secs_f64() * 1000.0,
        run.p99.as_secs_f64() * 1000.0
    );
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let options = Options::parse(std::env::args().skip(1))?;
    let settings = Settings {
        url: options.url.clone(),
        pool: options.pool,
        catalogue: Catalogue::new(options.skus),
    };
    let limit = Limit::For(options.duration);
    let mut cells = Vec::new();
    for &clients in &options.clients {
        let mut cell = Cell::new(clients);
        for _ in 0..options.rounds.max(1) {
            let ours = measure::<Ours>(&settings, clients, limit).await?;
            progress(&ours);
            cell.ours.push(ours);
            let peer = measure::<Theirs>(&settings, clients, limit).await?;
            progress(&peer);
            cell.peer.push(peer);
        }
        cells.push(cell);
    }
    let per_order = check_events_per_order(&cells)?;
    println!();
    println!(
        "{} SKUs, {} s a run, pools of {} connections, {per_order} events per order in both logs",
        options.skus,
        options.duration.as_secs_f64(),
        options.pool
    );
    println!();
    print!("{}", table(&cells));
    println!();
    println!("{}", json(&cells));
    Ok(())
}
