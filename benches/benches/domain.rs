//! Pure domain costs: deciding a command, and folding a hot SKU's long history.
//!
//! Run: `cargo bench -p benches --bench domain`

// A benchmark whose fixed setup fails has nothing to measure: aborting is the right answer.
#![allow(clippy::expect_used)]

use std::hint::black_box;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use domain::order::{self, Line, Order};
use domain::stock::{self, Stock};
use domain::{Aggregate, Currency, CustomerId, Money, OrderId, Quantity, Sku, Timestamp};

fn sku() -> Sku {
    Sku::parse("HOT-SKU").expect("valid sku")
}

/// A hot SKU's history: registered, then orders reserving and committing one unit each,
/// with a restock every 1 000 events.
fn hot_sku_history(events: usize) -> Vec<stock::Event> {
    let mut history = vec![
        stock::Event::Registered {
            sku: sku(),
            name: "Hot".into(),
            low_stock_threshold: 10,
            price: Some(Money::new(
                1250,
                Currency::parse("BRL").expect("valid currency"),
            )),
        },
        stock::Event::Restocked {
            quantity: Quantity::new(1_000_000).expect("positive"),
        },
    ];
    let one = Quantity::new(1).expect("positive");
    let mut n = 0_u128;
    while history.len() < events {
        let order = OrderId::from_u128(n);
        n += 1;
        history.push(stock::Event::Reserved {
            order,
            quantity: one,
        });
        history.push(stock::Event::Committed {
            order,
            quantity: one,
        });
    }
    history.truncate(events);
    history
}

fn place_command(lines: usize) -> order::Command {
    let brl = Currency::parse("BRL").expect("valid currency");
    order::Command::Place {
        order: OrderId::from_u128(1),
        customer: CustomerId::parse("alice").expect("valid customer"),
        currency: brl,
        lines: (0..lines)
            .map(|i| Line {
                sku: Sku::parse(&format!("SKU-{i}")).expect("valid sku"),
                quantity: Quantity::new(2).expect("positive"),
                unit_price: Money::new(1250, brl),
            })
            .collect(),
        payment: domain::PaymentMethod::new("pm_bench", "fp_bench").expect("valid method"),
        at: Timestamp::from_millis(0),
    }
}

fn decide(c: &mut Criterion) {
    let stock = Stock::from_events(&hot_sku_history(10_000));
    c.bench_function("decide/stock_reserve", |b| {
        b.iter(|| {
            stock.decide(black_box(stock::Command::Reserve {
                order: OrderId::from_u128(u128::MAX),
                quantity: Quantity::new(1).expect("positive"),
            }))
        });
    });
    let empty = Order::default();
    c.bench_function("decide/order_place_10_lines", |b| {
        b.iter_batched(
            || place_command(10),
            |command| empty.decide(black_box(command)),
            BatchSize::SmallInput,
        );
    });
}

fn rebuild(c: &mut Criterion) {
    let history = hot_sku_history(100_000);
    let mut group = c.benchmark_group("rebuild");
    group.sample_size(20);
    group.throughput(criterion::Throughput::Elements(history.len() as u64));
    group.bench_function("stock_from_100k_events", |b| {
        b.iter(|| Stock::from_events(black_box(&history)));
    });
    group.finish();
}

criterion_group!(benches, decide, rebuild);
criterion_main!(benches);
