//! Retries that never act twice: [`Backoff`] says how long to wait, and
//! [`retry_until_definite`] calls an attempt (which reuses one idempotency
//! key, chosen once by the caller) until the server gives a definite answer.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rand::Rng;
use tokio::sync::Notify;

use super::http::ClientError;

/// Exponential backoff with full jitter: the wait before retry `n` (1-based)
/// is uniform in `[0, min(cap, base * 2^(n-1))]`, and never shorter than a
/// `Retry-After` the server sent (itself bounded by `max_retry_after`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The first ceiling.
    pub base: Duration,
    /// The largest ceiling.
    pub cap: Duration,
    /// Stop after this many attempts (None: until definite or cancelled).
    pub max_attempts: Option<u32>,
    /// The longest `Retry-After` honoured (a hostile server cannot park
    /// the client for a day).
    pub max_retry_after: Duration,
}

impl Default for Backoff {
    /// 250 ms base, 30 s cap, no attempt bound, `Retry-After` up to 5 min.
    fn default() -> Self {
        Self {
            base: Duration::from_millis(250),
            cap: Duration::from_secs(30),
            max_attempts: None,
            max_retry_after: Duration::from_secs(300),
        }
    }
}

impl Backoff {
    /// A backoff with this base and cap (no attempt bound).
    pub fn new(base: Duration, cap: Duration) -> Self {
        Self {
            base,
            cap,
            ..Self::default()
        }
    }

    /// The same, stopping after `n` attempts in all (n >= 1).
    pub fn with_max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = Some(n.max(1));
        self
    }

    /// The ceiling of the wait before retry `retry` (1-based):
    /// `min(cap, base * 2^(retry-1))`.
    pub fn ceiling(&self, retry: u32) -> Duration {
        let shift = retry.saturating_sub(1).min(31);
        self.base
            .checked_mul(1u32 << shift)
            .unwrap_or(self.cap)
            .min(self.cap)
    }

    /// A jittered wait before retry `retry`.
    pub fn delay(&self, retry: u32) -> Duration {
        self.delay_with(retry, None, &mut rand::rng())
    }

    /// The wait before retry `retry` after `error`: jittered, and at least
    /// the server's `Retry-After`.
    pub fn delay_after(&self, retry: u32, error: &ClientError) -> Duration {
        self.delay_with(retry, error.retry_after(), &mut rand::rng())
    }

    /// [`Backoff::delay_after`] with a given random source (for tests).
    pub fn delay_with<R: Rng + ?Sized>(
        &self,
        retry: u32,
        retry_after: Option<Duration>,
        rng: &mut R,
    ) -> Duration {
        let ceiling = self.ceiling(retry);
        let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
        let jittered = Duration::from_nanos(if nanos == 0 {
            0
        } else {
            rng.random_range(0..=nanos)
        });
        match retry_after {
            Some(ra) => jittered.max(ra.min(self.max_retry_after)),
            None => jittered,
        }
    }
}

/// A cheap, clonable cancellation signal for [`retry_until_definite_or_cancelled`]
/// (pass `token.cancelled()`), or anything else that waits on one.
#[derive(Debug, Clone, Default)]
pub struct CancelToken {
    inner: Arc<(AtomicBool, Notify)>,
}

impl CancelToken {
    /// A token not yet cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Cancels: every `cancelled()` future, now and later, completes.
    pub fn cancel(&self) {
        self.inner.0.store(true, Ordering::SeqCst);
        self.inner.1.notify_waiters();
    }

    /// Whether `cancel` was called.
    pub fn is_cancelled(&self) -> bool {
        self.inner.0.load(Ordering::SeqCst)
    }

    /// Completes once the token is cancelled.
    pub async fn cancelled(&self) {
        loop {
            let notified = self.inner.1.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.is_cancelled() {
                return;
            }
            notified.await;
        }
    }
}

/// Calls `attempt` until it succeeds or fails with an error that is not
/// [`ClientError::is_retryable`] (a definite answer, or a body that does not
/// decode), waiting `backoff` between tries and calling `on_retry(n, error,
/// wait)` before each wait (`n`: the attempt that just failed, 1-based).
/// With `backoff.max_attempts`, the last retryable error is returned once
/// they are spent. `attempt` must send the same idempotency key every time.
pub async fn retry_until_definite<T, F, Fut>(
    backoff: Backoff,
    attempt: F,
    on_retry: impl FnMut(u32, &ClientError, Duration),
) -> Result<T, ClientError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ClientError>>,
{
    retry_until_definite_or_cancelled(backoff, std::future::pending::<()>(), attempt, on_retry)
        .await
}

/// [`retry_until_definite`] that also stops when `cancel` completes (e.g.
/// [`CancelToken::cancelled`], or a deadline's `sleep`), during an attempt
/// or a wait. It then returns the last retryable error, or, when no attempt
/// had answered yet, a [`ClientError::Network`] saying so: either way the
/// outcome is unknown and retrying later with the same key is safe.
pub async fn retry_until_definite_or_cancelled<T, F, Fut, C>(
    backoff: Backoff,
    cancel: C,
    mut attempt: F,
    mut on_retry: impl FnMut(u32, &ClientError, Duration),
) -> Result<T, ClientError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ClientError>>,
    C: Future<Output = ()>,
{
    tokio::pin!(cancel);
    let mut last: Option<ClientError> = None;
    let mut n: u32 = 0;
    loop {
        n += 1;
        let result = tokio::select! {
            biased;
            () = &mut cancel => return Err(cancelled(last)),
            r = attempt() => r,
        };
        let error = match result {
            Ok(v) => return Ok(v),
            Err(e) if !e.is_retryable() => return Err(e),
            Err(e) => e,
        };
        if backoff.max_attempts.is_some_and(|max| n >= max) {
            return Err(error);
        }
        let wait = backoff.delay_after(n, &error);
        on_retry(n, &error, wait);
        last = Some(error);
        tokio::select! {
            biased;
            () = &mut cancel => return Err(cancelled(last)),
            () = tokio::time::sleep(wait) => {}
        }
    }
}

fn cancelled(last: Option<ClientError>) -> ClientError {
    last.unwrap_or_else(|| ClientError::Network("cancelled before the server answered".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{ApiError, ErrorCode};
    use rand::SeedableRng;
    use std::sync::atomic::AtomicU32;
    use std::time::Instant;

    /// Millisecond waits, so that tests run in real time quickly.
    fn fast() -> Backoff {
        Backoff::new(Duration::from_millis(1), Duration::from_millis(8))
    }

    fn api(status: u16, code: ErrorCode, retry_after: Option<Duration>) -> ClientError {
        ClientError::Api {
            status,
            error: ApiError::new(code, "m"),
            retry_after,
        }
    }

    #[test]
    fn ceiling_doubles_up_to_the_cap() {
        let b = Backoff::default();
        assert_eq!(b.ceiling(1), Duration::from_millis(250));
        assert_eq!(b.ceiling(2), Duration::from_millis(500));
        assert_eq!(b.ceiling(5), Duration::from_millis(4000));
        assert_eq!(b.ceiling(8), Duration::from_secs(30));
        assert_eq!(b.ceiling(1000), Duration::from_secs(30));
        assert_eq!(b.ceiling(0), Duration::from_millis(250));
    }

    #[test]
    fn delays_are_fully_jittered_within_the_ceiling() {
        let b = Backoff::default();
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for retry in 1..12 {
            let mut lo = Duration::MAX;
            let mut hi = Duration::ZERO;
            for _ in 0..400 {
                let d = b.delay_with(retry, None, &mut rng);
                assert!(d <= b.ceiling(retry));
                lo = lo.min(d);
                hi = hi.max(d);
            }
            // Full jitter: the draws spread over the whole [0, ceiling].
            assert!(lo < b.ceiling(retry) / 10, "retry {retry}: lo {lo:?}");
            assert!(hi > b.ceiling(retry) * 9 / 10, "retry {retry}: hi {hi:?}");
        }
    }

    #[test]
    fn retry_after_is_a_floor_but_bounded() {
        let b = Backoff::default();
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        for _ in 0..100 {
            let d = b.delay_with(1, Some(Duration::from_secs(5)), &mut rng);
            assert_eq!(d, Duration::from_secs(5));
        }
        let d = b.delay_with(1, Some(Duration::from_secs(86_400)), &mut rng);
        assert_eq!(d, Duration::from_secs(300));
        let zero = Backoff::new(Duration::ZERO, Duration::ZERO);
        assert_eq!(zero.delay_with(3, None, &mut rng), Duration::ZERO);
    }

    #[tokio::test]
    async fn retries_until_success_reporting_each_retry() {
        let calls = AtomicU32::new(0);
        let mut seen = Vec::new();
        let result = retry_until_definite(
            fast(),
            || {
                let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
                async move {
                    match n {
                        1 => Err(ClientError::Network(
                            "server unreachable: connection refused".into(),
                        )),
                        2 => Err(api(503, ErrorCode::Unavailable, None)),
                        3 => Err(api(409, ErrorCode::IdempotencyInFlight, None)),
                        4 => Err(api(
                            429,
                            ErrorCode::RateLimited,
                            Some(Duration::from_millis(30)),
                        )),
                        _ => Ok(n),
                    }
                }
            },
            |n, e, wait| seen.push((n, e.status(), wait)),
        )
        .await;
        assert_eq!(result.unwrap(), 5);
        assert_eq!(calls.load(Ordering::SeqCst), 5);
        let attempts: Vec<u32> = seen.iter().map(|s| s.0).collect();
        assert_eq!(attempts, [1, 2, 3, 4]);
        assert_eq!(seen[0].1, None);
        assert_eq!(seen[1].1, Some(503));
        // The jitter (at most 8 ms here) is under the server's 30 ms.
        assert_eq!(seen[3].2, Duration::from_millis(30), "Retry-After honoured");
    }

    #[tokio::test]
    async fn stops_at_a_definite_answer() {
        for definite in [
            api(409, ErrorCode::Conflict, None),
            api(404, ErrorCode::NotFound, None),
            api(422, ErrorCode::IdempotencyMismatch, None),
            ClientError::Decode("bad json".into()),
        ] {
            let calls = AtomicU32::new(0);
            let mut retries = 0;
            let e = definite.clone();
            let result: Result<(), _> = retry_until_definite(
                fast(),
                || {
                    let n = calls.fetch_add(1, Ordering::SeqCst);
                    let e = e.clone();
                    async move {
                        if n == 0 {
                            Err(ClientError::Network(
                                "connection lost: connection reset".into(),
                            ))
                        } else {
                            Err(e)
                        }
                    }
                },
                |_, _, _| retries += 1,
            )
            .await;
            assert_eq!(result.unwrap_err().to_string(), definite.to_string());
            assert_eq!(calls.load(Ordering::SeqCst), 2);
            assert_eq!(retries, 1);
        }
    }

    #[tokio::test]
    async fn max_attempts_bounds_the_tries() {
        let calls = AtomicU32::new(0);
        let result: Result<(), _> = retry_until_definite(
            fast().with_max_attempts(3),
            || {
                calls.fetch_add(1, Ordering::SeqCst);
                async { Err(api(500, ErrorCode::Internal, None)) }
            },
            |_, _, _| {},
        )
        .await;
        assert_eq!(result.unwrap_err().status(), Some(500));
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn waits_really_happen_between_attempts() {
        let start = Instant::now();
        let calls = AtomicU32::new(0);
        let b = fast();
        let _ = retry_until_definite(
            b,
            || {
                let n = calls.fetch_add(1, Ordering::SeqCst);
                async move {
                    if n < 2 {
                        Err(api(
                            429,
                            ErrorCode::RateLimited,
                            Some(Duration::from_millis(40)),
                        ))
                    } else {
                        Ok(())
                    }
                }
            },
            |_, _, _| {},
        )
        .await;
        assert!(
            start.elapsed() >= Duration::from_millis(80),
            "{:?}",
            start.elapsed()
        );
    }

    #[tokio::test]
    async fn a_cancel_token_stops_waiting_and_returns_the_last_error() {
        let token = CancelToken::new();
        // The third failure asks for a 5-minute wait; as soon as it has
        // begun, another task cancels. Only the cancel can end that wait
        // within the test's timeout.
        let (waiting, begun) = tokio::sync::oneshot::channel::<Duration>();
        let canceller = {
            let t = token.clone();
            tokio::spawn(async move {
                let wait = begun.await.expect("a third retry");
                t.cancel();
                wait
            })
        };
        let mut waiting = Some(waiting);
        let calls = AtomicU32::new(0);
        let attempts = tokio::time::timeout(
            Duration::from_secs(20),
            retry_until_definite_or_cancelled(
                fast(),
                token.cancelled(),
                || {
                    let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
                    async move {
                        match n {
                            1 | 2 => Err(api(503, ErrorCode::Unavailable, None)),
                            3 => Err(api(
                                429,
                                ErrorCode::RateLimited,
                                Some(Duration::from_secs(300)),
                            )),
                            _ => Ok(()),
                        }
                    }
                },
                |n, _, wait| {
                    if n == 3 {
                        waiting.take().unwrap().send(wait).unwrap();
                    }
                },
            ),
        )
        .await
        .expect("the cancel ended the 5-minute wait");
        assert_eq!(canceller.await.unwrap(), Duration::from_secs(300));
        assert_eq!(attempts.unwrap_err().status(), Some(429), "the last error");
        assert!(token.is_cancelled());
        assert_eq!(calls.load(Ordering::SeqCst), 3, "retried until the wait");
    }

    #[tokio::test]
    async fn cancel_during_the_first_attempt_is_a_network_error() {
        let token = CancelToken::new();
        token.cancel();
        let result: Result<(), _> = retry_until_definite_or_cancelled(
            Backoff::default(),
            token.cancelled(),
            || async {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                Ok(())
            },
            |_, _, _| {},
        )
        .await;
        let e = result.unwrap_err();
        assert!(matches!(e, ClientError::Network(_)));
        assert!(e.is_retryable());
        assert_eq!(e.to_string(), "cancelled before the server answered");
    }

    #[tokio::test]
    async fn cancelled_completes_for_waiters_before_and_after() {
        let token = CancelToken::new();
        let waiter = {
            let t = token.clone();
            tokio::spawn(async move { t.cancelled().await })
        };
        tokio::task::yield_now().await;
        token.cancel();
        let deadline = Duration::from_secs(20);
        tokio::time::timeout(deadline, waiter)
            .await
            .expect("a waiter from before wakes")
            .unwrap();
        tokio::time::timeout(deadline, token.cancelled())
            .await
            .expect("a waiter from after returns at once");
    }
}
