//! Retry timing of outbox delivery (docs/domain.md §8): exponential backoff with jitter.

use chrono::Duration;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The longest exponent of the backoff: past it the delay stops doubling (2¹⁵ × the base is
/// already weeks for any sensible base, and the multiplication stays far from overflow).
const MAX_DOUBLINGS: u32 = 15;

/// How long to wait before the next try of a message that just failed its `attempt`-th try
/// (1-based): `base × 2^(attempt−1)`, moved by up to ±`jitter_percent` % of itself.
///
/// The jitter spreads the retries of messages that failed together (an SMTP outage fails the
/// whole backlog at once), so they do not all come back in the same second. It is derived
/// from the message id and the attempt rather than drawn at random, so a retry schedule is
/// reproducible (tests assert exact instants) while still differing between messages. A
/// `jitter_percent` of 0 gives the plain doubling; values above 100 count as 100, and the
/// delay never drops below zero.
pub fn retry_delay(base: Duration, attempt: u32, message_id: Uuid, jitter_percent: u8) -> Duration {
    let doublings = attempt.saturating_sub(1).min(MAX_DOUBLINGS);
    let delay = base.checked_mul(1 << doublings).unwrap_or(base);
    let percent = i64::from(jitter_percent.min(100));
    let millis = delay.num_milliseconds();
    let span = millis / 100 * percent + millis % 100 * percent / 100;
    if span <= 0 {
        return delay;
    }
    let mut hasher = Sha256::new();
    hasher.update(message_id.as_bytes());
    hasher.update(attempt.to_le_bytes());
    let digest = hasher.finalize();
    let mut word = [0u8; 8];
    word.copy_from_slice(&digest[..8]);
    // Uniform enough over [−span, +span]: the modulo bias of a 64-bit draw is negligible.
    let draw = u64::from_le_bytes(word) % (2 * span as u64 + 1);
    let offset = draw as i64 - span;
    (delay + Duration::milliseconds(offset)).max(Duration::zero())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    #[test]
    fn without_jitter_the_delay_doubles() {
        let base = Duration::minutes(1);
        let delays: Vec<i64> = (1..=5)
            .map(|attempt| retry_delay(base, attempt, id(7), 0).num_minutes())
            .collect();
        assert_eq!(delays, [1, 2, 4, 8, 16]);
        assert_eq!(retry_delay(base, 0, id(7), 0), base, "attempt 0 counts as the first");
        assert_eq!(
            retry_delay(base, 1000, id(7), 0),
            base * (1 << MAX_DOUBLINGS),
            "the doubling stops"
        );
    }

    #[test]
    fn jitter_stays_within_its_percent_and_is_reproducible() {
        let base = Duration::minutes(1);
        let mut distinct = std::collections::HashSet::new();
        for n in 0..500u128 {
            for attempt in 1..=6 {
                let plain = retry_delay(base, attempt, id(n), 0);
                let jittered = retry_delay(base, attempt, id(n), 25);
                let bound = plain.num_milliseconds() / 4;
                let off = (jittered - plain).num_milliseconds();
                assert!((-bound..=bound).contains(&off), "{n}/{attempt}: {off} vs ±{bound}");
                assert_eq!(
                    jittered,
                    retry_delay(base, attempt, id(n), 25),
                    "same inputs, same delay"
                );
                if attempt == 1 {
                    distinct.insert(jittered);
                }
            }
        }
        assert!(
            distinct.len() > 400,
            "messages failing together spread out: {}",
            distinct.len()
        );
    }

    #[test]
    fn full_jitter_never_goes_negative() {
        for n in 0..200u128 {
            let d = retry_delay(Duration::seconds(3), 1, id(n), 255);
            assert!(d >= Duration::zero() && d <= Duration::seconds(6), "{d}");
        }
        assert_eq!(retry_delay(Duration::zero(), 3, id(1), 25), Duration::zero());
    }
}
