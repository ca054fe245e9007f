//! The counts never go negative, whatever order the commands come in.

use super::*;

/// A small deterministic generator, so the property runs the same sequences every time.
struct XorShift(u64);

impl XorShift {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[test]
fn counts_never_go_negative_whatever_order_the_commands_come_in() {
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    for _ in 0..300 {
        let mut stock = Stock::default();
        for event in ten_on_hand() {
            stock.apply(&event);
        }
        for _ in 0..200 {
            let order = OrderId::from_u128(u128::from(rng.below(8)));
            let command = match rng.below(5) {
                0 => Command::Reserve {
                    order,
                    quantity: qty(1 + u32::try_from(rng.below(6)).unwrap()),
                },
                1 => Command::Release { order },
                2 => Command::Commit { order },
                3 => Command::Return {
                    order,
                    quantity: qty(1),
                },
                _ => Command::Restock {
                    quantity: qty(1 + u32::try_from(rng.below(3)).unwrap()),
                },
            };
            if let Ok(events) = stock.decide(command) {
                for event in &events {
                    stock.apply(event);
                }
            }
            let held: u32 = stock.reservations.values().map(|q| q.get()).sum();
            assert_eq!(
                stock.reserved(),
                held,
                "reserved is the sum of reservations"
            );
            assert!(
                stock.reserved() <= stock.on_hand(),
                "reserved exceeds on hand"
            );
        }
    }
}
