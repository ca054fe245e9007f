//! The `peer` comparison runs the same orders through both contenders: a few orders each,
//! on a real PostgreSQL (`DATABASE_URL`, or an embedded cluster).

use benches::peer::{Catalogue, Limit, OPENING, Ours, Settings, Theirs, measure};

#[tokio::test]
async fn both_contenders_write_the_same_events_per_order_and_sell_the_same_stock() {
    let database = tests::test_database().await;
    let settings = Settings {
        url: database.owner_url.clone(),
        pool: 4,
        // Few SKUs for two clients: the peer has to resolve conflicts on the way.
        catalogue: Catalogue::new(3),
    };
    database.pool.close().await;
    let limit = Limit::Orders(6);

    let ours = measure::<Ours>(&settings, 2, limit).await.unwrap();
    let peer = measure::<Theirs>(&settings, 2, limit).await.unwrap();

    for run in [&ours, &peer] {
        assert_eq!(run.orders, 12, "{}", run.contender);
        // Placed, reserved (stock), line reserved, payment requested, authorized, paid,
        // committed (stock), confirmed.
        assert_eq!(run.events_per_order, 8, "{}", run.contender);
        assert_eq!(run.sold.iter().sum::<u32>(), 12, "{}", run.contender);
        let expected: Vec<u32> = run.sold.iter().map(|sold| OPENING - sold).collect();
        assert_eq!(run.on_hand, expected, "{}", run.contender);
    }
    assert_eq!(ours.sold, peer.sold, "both bought the same SKUs");
    assert_eq!(ours.events, peer.events, "both logs hold as many events");
}
