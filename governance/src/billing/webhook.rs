//! `invoice.created` webhooks: the signature a receiver checks, and the
//! retry schedule.
//!
//! Each delivery is a `POST` of a JSON body with the headers
//!
//! ```text
//! zktx-signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
//! idempotency-key: <the event's id>       same on every retry of one event
//! content-type: application/json
//! ```
//! A receiver recomputes the HMAC over the timestamp and the raw body with
//! its secret, compares in constant time, refuses a timestamp too far from
//! its clock (replays), and acts on each idempotency key once.

use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The signature header's name.
pub const SIGNATURE_HEADER: &str = "zktx-signature";
/// The idempotency header's name.
pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";
/// Deliveries of one event before it is dead-lettered.
pub const MAX_ATTEMPTS: u32 = 8;
/// The first retry's ceiling; each next one doubles, up to [`MAX_BACKOFF`].
pub const FIRST_BACKOFF: Duration = Duration::from_secs(1);
/// The longest wait between two deliveries of one event.
pub const MAX_BACKOFF: Duration = Duration::from_secs(300);

fn mac(secret: &[u8], timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The signature header's value for `body` sent at `timestamp` (Unix seconds).
pub fn signature_header(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let tag = mac(secret, timestamp, body).finalize().into_bytes();
    format!("t={timestamp},v1={}", hex::encode(tag))
}

/// Why a receiver refuses a delivery.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The header is not `t=…,v1=…`.
    #[error("zktx-signature: malformed (expected t=<seconds>,v1=<hex>)")]
    Malformed,
    /// The timestamp is too far from now.
    #[error("zktx-signature: timestamp outside the tolerance (a replay, or a skewed clock)")]
    Stale,
    /// The HMAC does not match.
    #[error("zktx-signature: does not match the body")]
    Mismatch,
}

/// Checks a delivery as a receiver would: the HMAC over the timestamp and
/// the body (constant time), and the timestamp within `tolerance_secs` of `now`.
pub fn verify_signature(
    secret: &[u8],
    header: &str,
    body: &[u8],
    now: i64,
    tolerance_secs: i64,
) -> Result<(), SignatureError> {
    let mut timestamp = None;
    let mut tag = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", v)) => tag = hex::decode(v).ok(),
            _ => return Err(SignatureError::Malformed),
        }
    }
    let (timestamp, tag) = timestamp.zip(tag).ok_or(SignatureError::Malformed)?;
    if (now - timestamp).abs() > tolerance_secs {
        return Err(SignatureError::Stale);
    }
    mac(secret, timestamp, body)
        .verify_slice(&tag)
        .map_err(|_| SignatureError::Mismatch)
}

/// The wait before delivery attempt `attempt + 1` after `attempt` failures:
/// "full jitter" (uniform in `[0, min(MAX, FIRST × 2^(attempt-1))]`), so
/// many failed deliveries do not retry in step. `unit` is a uniform sample in `[0, 1)`.
pub fn backoff(attempt: u32, unit: f64) -> Duration {
    let ceiling = FIRST_BACKOFF
        .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
        .min(MAX_BACKOFF);
    ceiling.mul_f64(unit.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_receiver_checks_the_body_the_time_and_the_secret() {
        let body = br#"{"type":"invoice.created"}"#;
        let header = signature_header(b"s3cret", 1_800_000_000, body);
        assert!(header.starts_with("t=1800000000,v1="));
        assert_eq!(
            verify_signature(b"s3cret", &header, body, 1_800_000_010, 300),
            Ok(())
        );
        assert_eq!(
            verify_signature(b"s3cret", &header, b"{}", 1_800_000_010, 300),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_signature(b"other", &header, body, 1_800_000_010, 300),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_signature(b"s3cret", &header, body, 1_800_001_000, 300),
            Err(SignatureError::Stale)
        );
        assert_eq!(
            verify_signature(b"s3cret", "garbage", body, 1_800_000_000, 300),
            Err(SignatureError::Malformed)
        );
    }

    #[test]
    fn backoff_doubles_with_full_jitter_up_to_its_cap() {
        assert_eq!(backoff(1, 1.0), Duration::from_secs(1));
        assert_eq!(backoff(2, 1.0), Duration::from_secs(2));
        assert_eq!(backoff(4, 1.0), Duration::from_secs(8));
        assert_eq!(backoff(20, 1.0), MAX_BACKOFF);
        assert_eq!(backoff(3, 0.5), Duration::from_secs(2));
        assert_eq!(backoff(3, 0.0), Duration::ZERO);
    }
}
