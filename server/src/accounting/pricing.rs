//! Task prices: an assignment fee uniformly in $10–$20 and a completion reward uniformly in
//! $20–$40, in whole cents, fixed the first time accounting hears of a task.
//!
//! The draw is a keyed hash of the task id under a secret seed that accounting generates
//! once and keeps: as unpredictable as a random draw to anyone without the seed, and yet
//! the same every time accounting computes it, so replaying the event log into an empty
//! ledger rebuilds exactly the same prices, whatever order events arrive in.

use super::store::Prices;
use sha2::{Digest, Sha256};
use std::ops::RangeInclusive;
use uuid::Uuid;

pub const FEE_CENTS: RangeInclusive<i64> = 1_000..=2_000;
pub const REWARD_CENTS: RangeInclusive<i64> = 2_000..=4_000;

/// Length of the secret seed, in bytes.
pub const SEED_LEN: usize = 32;

pub fn prices(seed: &[u8], task_id: Uuid) -> Prices {
    Prices {
        fee_cents: draw(seed, task_id, b"fee", &FEE_CENTS),
        reward_cents: draw(seed, task_id, b"reward", &REWARD_CENTS),
    }
}

/// A uniform draw from `range` keyed by (seed, task, label). The modulo bias of reducing a
/// 64-bit hash to ~2,000 values is below 1e-16.
fn draw(seed: &[u8], task_id: Uuid, label: &[u8], range: &RangeInclusive<i64>) -> i64 {
    let digest = Sha256::new()
        .chain_update(seed)
        .chain_update(task_id.as_bytes())
        .chain_update(label)
        .finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    let span = (range.end() - range.start() + 1) as u64;
    range.start() + (u64::from_le_bytes(first) % span) as i64
}

pub fn new_seed() -> Vec<u8> {
    use rand::RngExt;
    let mut seed = vec![0u8; SEED_LEN];
    rand::rng().fill(&mut seed[..]);
    seed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_stay_in_their_ranges_and_cover_them() {
        let seed = new_seed();
        let (mut fees, mut rewards) = (Vec::new(), Vec::new());
        for _ in 0..20_000 {
            let p = prices(&seed, Uuid::now_v7());
            assert!(FEE_CENTS.contains(&p.fee_cents), "{p:?}");
            assert!(REWARD_CENTS.contains(&p.reward_cents), "{p:?}");
            fees.push(p.fee_cents);
            rewards.push(p.reward_cents);
        }
        // Uniform: both ends are reached and the mean sits in the middle.
        let mean = |v: &[i64]| v.iter().sum::<i64>() as f64 / v.len() as f64;
        assert!(
            (mean(&fees) - 1_500.0).abs() < 15.0,
            "fee mean {}",
            mean(&fees)
        );
        assert!(
            (mean(&rewards) - 3_000.0).abs() < 30.0,
            "reward mean {}",
            mean(&rewards)
        );
        assert!(fees.iter().min().unwrap() < &1_010 && fees.iter().max().unwrap() > &1_990);
    }

    #[test]
    fn the_same_task_always_gets_the_same_prices_and_another_seed_others() {
        let (seed, other) = (new_seed(), new_seed());
        let task = Uuid::now_v7();
        assert_eq!(prices(&seed, task), prices(&seed, task));
        let differ = (0..50)
            .map(|_| Uuid::now_v7())
            .any(|t| prices(&seed, t) != prices(&other, t));
        assert!(differ);
    }
}
