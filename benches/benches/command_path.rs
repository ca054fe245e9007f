//! The cost of cqrs-es on the command path: the same command decided, and its events
//! applied, by the domain directly and through the cqrs-es `Aggregate::handle` adapter the
//! repository calls (with its `EventSink`, which applies each event as it is written).
//!
//! Run: `cargo bench -p benches --bench command_path`

// A benchmark whose fixed setup fails has nothing to measure: aborting is the right answer.
#![allow(clippy::expect_used)]

use std::hint::black_box;

use application::{OrderAggregate, StockAggregate};
use cqrs_es::event_sink::EventSink;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use domain::order::{self, Line, Order};
use domain::stock::{self, Stock};
use domain::{Aggregate, Currency, CustomerId, Money, OrderId, Quantity, Sku, Timestamp};

fn brl() -> Currency {
    Currency::parse("BRL").expect("valid currency")
}

/// A product with plenty of stock.
fn stock() -> Stock {
    Stock::from_events(&[
        stock::Event::Registered {
            sku: Sku::parse("MUG-1").expect("valid sku"),
            name: "Mug".into(),
            low_stock_threshold: 10,
            price: Some(Money::new(1250, brl())),
        },
        stock::Event::Restocked {
            quantity: Quantity::new(1_000_000).expect("positive"),
        },
    ])
}

fn reserve() -> stock::Command {
    stock::Command::Reserve {
        order: OrderId::from_u128(7),
        quantity: Quantity::new(1).expect("positive"),
    }
}

fn place(lines: usize) -> order::Command {
    order::Command::Place {
        order: OrderId::from_u128(1),
        customer: CustomerId::parse("alice").expect("valid customer"),
        currency: brl(),
        lines: (0..lines)
            .map(|i| Line {
                sku: Sku::parse(&format!("SKU-{i}")).expect("valid sku"),
                quantity: Quantity::new(2).expect("positive"),
                unit_price: Money::new(1250, brl()),
            })
            .collect(),
        payment: domain::PaymentMethod::new("pm_bench", "fp_bench").expect("valid method"),
        at: Timestamp::from_millis(0),
    }
}

/// The domain alone: decide, then apply the events to the state.
fn direct<A: Aggregate<Error: std::fmt::Debug>>(mut state: A, command: A::Command) -> (A, usize) {
    let events = state.decide(command).expect("accepted");
    for event in &events {
        state.apply(event);
    }
    (state, events.len())
}

/// The repository's path: cqrs-es `handle`, its sink applying each event as it is written.
async fn through_cqrs_es<A>(mut aggregate: A, command: A::Command) -> (A, usize)
where
    A: cqrs_es::Aggregate<Services = ()>,
    A::Error: std::fmt::Debug,
{
    let sink = EventSink::default();
    aggregate
        .handle(command, &(), &sink)
        .await
        .expect("accepted");
    (aggregate, sink.collect().await.len())
}

fn command_path(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    let mut group = c.benchmark_group("command_path");

    let product = stock();
    // Both paths run on the same runtime, so the rows differ only by the adapter.
    group.bench_function("stock_reserve/domain", |b| {
        b.to_async(&runtime).iter_batched(
            || (product.clone(), reserve()),
            |(state, command)| async move { direct(state, black_box(command)) },
            BatchSize::SmallInput,
        );
    });
    group.bench_function("stock_reserve/cqrs_es", |b| {
        b.to_async(&runtime).iter_batched(
            || (StockAggregate(product.clone()), reserve()),
            |(aggregate, command)| through_cqrs_es(aggregate, black_box(command)),
            BatchSize::SmallInput,
        );
    });

    group.bench_function("order_place_10_lines/domain", |b| {
        b.to_async(&runtime).iter_batched(
            || (Order::default(), place(10)),
            |(state, command)| async move { direct(state, black_box(command)) },
            BatchSize::SmallInput,
        );
    });
    group.bench_function("order_place_10_lines/cqrs_es", |b| {
        b.to_async(&runtime).iter_batched(
            || (OrderAggregate::default(), place(10)),
            |(aggregate, command)| through_cqrs_es(aggregate, black_box(command)),
            BatchSize::SmallInput,
        );
    });
    group.finish();
}

criterion_group!(benches, command_path);
criterion_main!(benches);
