//! Fee arithmetic, pure and exact.
//!
//! The rounding rule: a fee is `amount × bps / 10,000` rounded to the nearest centime, halves
//! rounded up (away from zero for these positive amounts). A refund gives the fee back pro rata,
//! computed on the running total, so that however a payment is refunded in parts, the fee given
//! back after a full refund is exactly the fee taken.

/// Basis points in a whole.
const BPS_PER_WHOLE: i128 = 10_000;

/// `numerator / denominator` rounded to the nearest integer, halves up; both positive.
fn div_round_half_up(numerator: i128, denominator: i128) -> i128 {
    (2 * numerator + denominator) / (2 * denominator)
}

/// The fee on `amount` minor units at `bps` basis points (0..=10,000).
pub(crate) fn fee_minor(amount: i64, bps: i32) -> i64 {
    let fee = div_round_half_up(i128::from(amount) * i128::from(bps), BPS_PER_WHOLE);
    // bps ≤ 10,000 keeps the fee within the amount, hence within i64.
    i64::try_from(fee).unwrap_or(amount)
}

/// The part of `fee` to give back when `refund` more of a payment of `amount` is refunded, after
/// `refunded_before` already was.
pub(crate) fn fee_refund(fee: i64, amount: i64, refunded_before: i64, refund: i64) -> i64 {
    let given_back_after = |refunded: i64| {
        div_round_half_up(
            i128::from(fee) * i128::from(refunded),
            i128::from(amount.max(1)),
        )
    };
    let part = given_back_after(refunded_before + refund) - given_back_after(refunded_before);
    i64::try_from(part).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn fees_round_half_up_to_the_centime() {
        let cases = [
            (10_000, 150, 150), // 1.5% of 100 DZD = 1.50 DZD
            (100, 150, 2),      // 1.5 centimes -> 2
            (99, 150, 1),       // 1.485 -> 1
            (1, 4_999, 0),      // 0.4999 -> 0
            (1, 5_000, 1),      // 0.5 -> 1
            (12_345, 0, 0),
            (12_345, 10_000, 12_345),
        ];
        for (amount, bps, fee) in cases {
            assert_eq!(fee_minor(amount, bps), fee, "{amount} at {bps} bps");
        }
    }

    #[test]
    fn a_full_refund_in_parts_gives_back_exactly_the_fee() {
        let (amount, fee) = (10_001, fee_minor(10_001, 175));
        let parts = [1, 333, 3_333, 6_334];
        let mut refunded = 0;
        let mut given_back = 0;
        for part in parts {
            given_back += fee_refund(fee, amount, refunded, part);
            refunded += part;
        }
        assert_eq!(refunded, amount);
        assert_eq!(given_back, fee);
    }

    proptest! {
        #[test]
        fn partial_refunds_never_give_back_more_than_the_fee(
            amount in 1i64..1_000_000_000,
            bps in 0i32..=10_000,
            cuts in proptest::collection::vec(1u32..1000, 1..12),
        ) {
            let fee = fee_minor(amount, bps);
            prop_assert!((0..=amount).contains(&fee));
            let total: u64 = cuts.iter().map(|c| u64::from(*c)).sum();
            let mut refunded = 0i64;
            let mut given_back = 0i64;
            for (i, cut) in cuts.iter().enumerate() {
                let part = if i + 1 == cuts.len() {
                    amount - refunded
                } else {
                    (i128::from(amount) * i128::from(*cut) / i128::from(total)) as i64
                };
                if part <= 0 { continue; }
                let back = fee_refund(fee, amount, refunded, part);
                prop_assert!(back >= 0 && back <= part);
                given_back += back;
                refunded += part;
                prop_assert!(given_back <= fee);
            }
            prop_assert_eq!(refunded, amount);
            prop_assert_eq!(given_back, fee);
        }
    }
}
