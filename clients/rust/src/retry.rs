//! Retries with jittered exponential backoff, within the call's deadline.

use std::future::Future;
use std::time::{Duration, Instant};

use rand::Rng;

use crate::Error;

/// When and how often a failed call is tried again. Only errors for which
/// [`Error::is_retryable`] holds are retried: `UNAVAILABLE`, and
/// `RESOURCE_EXHAUSTED` for the request rate. Verifying is safe to repeat:
/// a valid statement verified twice is answered with its first receipt and
/// metered once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 never retries).
    pub max_attempts: u32,
    /// The wait before the first retry, doubled for each one after.
    pub initial_backoff: Duration,
    /// The longest wait between attempts (a server's `retry-after` may be longer).
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    /// Four attempts, waits of about 100, 200 and 400 ms (or the server's `retry-after`).
    fn default() -> Self {
        Self {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// No retries: every error is returned as it comes (load generators, tests).
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The wait before retry number `retry` (from 0): the server's
    /// `retry-after` when it gave one, else the exponential step; either with
    /// up to half of it (at most 1 s) added at random, so that clients
    /// refused together do not come back together.
    pub fn wait(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        let step = self
            .initial_backoff
            .saturating_mul(1u32 << retry.min(16))
            .min(self.max_backoff);
        let base = retry_after.unwrap_or(step);
        let spread = (base / 2).min(Duration::from_secs(1));
        base + spread.mul_f64(rand::thread_rng().gen::<f64>())
    }

    /// Runs `attempt` until it succeeds, fails for good, runs out of
    /// attempts, or `deadline` passes; each attempt is given the time left.
    pub(crate) async fn run<T, F, Fut>(&self, deadline: Instant, mut attempt: F) -> Result<T, Error>
    where
        F: FnMut(Duration) -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let mut retry = 0;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Error::deadline());
            }
            let result = tokio::time::timeout(left, attempt(left))
                .await
                .unwrap_or_else(|_| Err(Error::deadline()));
            match result {
                Err(error) if error.is_retryable() && retry + 1 < self.max_attempts => {
                    let wait = self.wait(retry, error.retry_after);
                    if Instant::now() + wait >= deadline {
                        return Err(error);
                    }
                    tokio::time::sleep(wait).await;
                    retry += 1;
                }
                done => return done,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};
    use zktx_proto::status::{Code, Reason};

    #[test]
    fn waits_grow_stay_capped_and_honour_retry_after() {
        let policy = RetryPolicy::default();
        for retry in 0..3 {
            let step = Duration::from_millis(100 << retry);
            let wait = policy.wait(retry, None);
            assert!(wait >= step && wait <= step + step / 2, "{retry}: {wait:?}");
        }
        assert!(policy.wait(30, None) <= Duration::from_secs(6));
        let wait = policy.wait(0, Some(Duration::from_secs(2)));
        assert!(wait >= Duration::from_secs(2) && wait <= Duration::from_secs(3));
    }

    #[tokio::test]
    async fn retries_what_can_succeed_and_nothing_else() {
        let policy = RetryPolicy {
            initial_backoff: Duration::from_millis(1),
            ..RetryPolicy::default()
        };
        let far = Instant::now() + Duration::from_secs(10);
        let calls = AtomicU32::new(0);
        let result = policy
            .run(far, |_| async {
                match calls.fetch_add(1, Ordering::SeqCst) {
                    0 | 1 => Err(Error::new(Code::Unavailable, "busy")),
                    _ => Ok(7),
                }
            })
            .await;
        assert_eq!(result, Ok(7));
        assert_eq!(calls.load(Ordering::SeqCst), 3);

        let calls = AtomicU32::new(0);
        let spent = Error {
            reason: Some(Reason::QuotaExhausted),
            ..Error::new(Code::ResourceExhausted, "quota")
        };
        let result: Result<(), _> = policy
            .run(far, |_| {
                calls.fetch_add(1, Ordering::SeqCst);
                let spent = spent.clone();
                async move { Err(spent) }
            })
            .await;
        assert_eq!(result.unwrap_err().reason, Some(Reason::QuotaExhausted));
        assert_eq!(
            calls.load(Ordering::SeqCst),
            1,
            "a spent quota is not retried"
        );

        let calls = AtomicU32::new(0);
        let result: Result<(), _> = policy
            .run(far, |_| {
                calls.fetch_add(1, Ordering::SeqCst);
                async { Err(Error::new(Code::Unavailable, "down")) }
            })
            .await;
        assert_eq!(result.unwrap_err().code, Code::Unavailable);
        assert_eq!(
            calls.load(Ordering::SeqCst),
            4,
            "gives up after max_attempts"
        );
    }

    #[tokio::test]
    async fn the_deadline_bounds_every_attempt() {
        let soon = Instant::now() + Duration::from_millis(50);
        let result: Result<(), _> = RetryPolicy::default()
            .run(soon, |_| std::future::pending())
            .await;
        assert_eq!(result.unwrap_err().code, Code::DeadlineExceeded);
    }
}
