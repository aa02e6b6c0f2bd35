//! Bearer-token authentication and the per-token rate limit.
//!
//! Every `/v1` handler takes a [`Caller`]: the token is looked up (the store
//! keeps only hashes and compares in constant time), then the caller's
//! bucket is charged. A missing or unknown token is 401 before anything
//! else is judged; an exhausted bucket is 429 with `Retry-After`.
//!
//! Failed authentications are also throttled per source address
//! ([`FailureThrottle`], governor's keyed GCRA): past the allowance an
//! address gets 429 `rate_limited` with `Retry-After`, and while it waits
//! its tokens are not even looked up (so guessing learns nothing).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use super::AppState;
use super::error::HttpError;
use crate::domain::Actor;
use crate::wire::ErrorCode;

/// The request's bearer token, if it carries a non-empty one.
pub fn bearer_token(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
        })
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

/// The authenticated user of a request.
#[derive(Debug, Clone)]
pub struct Caller(pub Actor);

impl FromRequestParts<Arc<AppState>> for Caller {
    type Rejection = HttpError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let source = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        state.failures.check(source)?;
        let token = bearer_token(&parts.headers).ok_or_else(|| state.failures.failed(source))?;
        // A session credential of an SSH session in this server, else a
        // stored token.
        let actor = match state.sessions.find(&token) {
            Some(actor) => actor,
            None => state
                .store
                .authenticate(&token)
                .await?
                .ok_or_else(|| state.failures.failed(source))?,
        };
        state.limiter.charge(&actor.user_id)?;
        Ok(Caller(actor))
    }
}

/// A token bucket per user: `rate` requests a second, bursts of `2 × rate`.
#[derive(Debug)]
pub struct RateLimiter {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl RateLimiter {
    /// `rate` 0 turns the limit off.
    pub fn new(rate: u32) -> Self {
        Self {
            rate: f64::from(rate),
            burst: f64::from(rate) * 2.0,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token from the user's bucket, or says when to come back.
    pub fn charge(&self, user: &str) -> Result<(), HttpError> {
        if self.rate <= 0.0 {
            return Ok(());
        }
        let now = Instant::now();
        let mut buckets = self.buckets.lock().expect("rate limiter lock");
        if buckets.len() > 100_000 {
            // Forget idle users rather than grow without bound.
            let burst = self.burst;
            let rate = self.rate;
            buckets.retain(|_, b| b.tokens + now.duration_since(b.at).as_secs_f64() * rate < burst);
        }
        let bucket = buckets.entry(user.to_owned()).or_insert(Bucket {
            tokens: self.burst,
            at: now,
        });
        let refill = now.duration_since(bucket.at).as_secs_f64() * self.rate;
        bucket.tokens = (bucket.tokens + refill).min(self.burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait = ((1.0 - bucket.tokens) / self.rate).ceil().max(1.0) as u64;
            let mut err = HttpError::new(
                ErrorCode::RateLimited,
                format!("too many requests; the limit is {} a second", self.rate),
            );
            err.retry_after = Some(wait);
            Err(err)
        }
    }
}

/// Entries kept before forgetting the ones that no longer matter.
const MAX_TRACKED: usize = 100_000;

/// Failed authentications per source address (an IPv6 address counts by
/// its /64, which one host usually holds whole).
pub struct FailureThrottle {
    limiter: Option<DefaultKeyedRateLimiter<IpAddr>>,
    /// Addresses over the allowance, and until when.
    blocked: Mutex<HashMap<IpAddr, Instant>>,
}

impl std::fmt::Debug for FailureThrottle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FailureThrottle")
            .field("on", &self.limiter.is_some())
            .finish_non_exhaustive()
    }
}

impl FailureThrottle {
    /// `per_minute` failures a minute per address (bursts of as many); 0
    /// turns it off.
    pub fn new(per_minute: u32) -> Self {
        Self {
            limiter: NonZeroU32::new(per_minute)
                .map(|n| DefaultKeyedRateLimiter::keyed(Quota::per_minute(n))),
            blocked: Mutex::new(HashMap::new()),
        }
    }

    /// Before a token is looked up: 429 while `source` is over its allowance.
    pub fn check(&self, source: Option<IpAddr>) -> Result<(), HttpError> {
        let (Some(_), Some(ip)) = (&self.limiter, source) else {
            return Ok(());
        };
        let key = key_of(ip);
        let mut blocked = self.blocked.lock().expect("throttle lock");
        let now = Instant::now();
        match blocked.get(&key) {
            Some(until) if *until > now => Err(too_many(*until - now)),
            Some(_) => {
                blocked.remove(&key);
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// After a failed authentication: 401, or 429 once `source` is over
    /// its allowance (it then stays refused until its wait is over).
    pub fn failed(&self, source: Option<IpAddr>) -> HttpError {
        let (Some(limiter), Some(ip)) = (&self.limiter, source) else {
            return HttpError::unauthenticated();
        };
        let key = key_of(ip);
        if limiter.len() > MAX_TRACKED {
            limiter.retain_recent();
        }
        match limiter.check_key(&key) {
            Ok(()) => HttpError::unauthenticated(),
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                let now = Instant::now();
                let mut blocked = self.blocked.lock().expect("throttle lock");
                if blocked.len() > MAX_TRACKED {
                    blocked.retain(|_, until| *until > now);
                }
                blocked.insert(key, now + wait);
                tracing::debug!(source = %key, "failed authentications throttled");
                too_many(wait)
            }
        }
    }
}

/// The throttle's key: the address, an IPv6 one cut to its /64.
fn key_of(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(bits))
        }
        v4 => v4,
    }
}

fn too_many(wait: Duration) -> HttpError {
    let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
    let mut err = HttpError::new(
        ErrorCode::RateLimited,
        format!("too many failed authentications from this address; try again in {secs} s"),
    );
    err.retry_after = Some(secs);
    err
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refuse_with_retry_after() {
        let limiter = RateLimiter::new(5);
        for _ in 0..10 {
            limiter.charge("u").expect("within burst");
        }
        let err = limiter.charge("u").expect_err("over burst");
        assert_eq!(err.error.code, ErrorCode::RateLimited);
        assert_eq!(err.retry_after, Some(1));
        // Another user has a bucket of its own.
        limiter.charge("v").expect("other user");
    }

    #[test]
    fn zero_rate_is_off() {
        let limiter = RateLimiter::new(0);
        for _ in 0..10_000 {
            limiter.charge("u").expect("no limit");
        }
    }

    #[test]
    fn failures_past_the_allowance_are_refused_per_address() {
        let throttle = FailureThrottle::new(3);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        for _ in 0..3 {
            throttle.check(Some(a)).expect("not yet throttled");
            assert_eq!(
                throttle.failed(Some(a)).error.code,
                ErrorCode::Unauthenticated
            );
        }
        let err = throttle.failed(Some(a));
        assert_eq!(err.error.code, ErrorCode::RateLimited);
        assert!(err.retry_after.is_some_and(|s| s >= 1));
        let err = throttle.check(Some(a)).expect_err("blocked before lookup");
        assert_eq!(err.error.code, ErrorCode::RateLimited);
        // Another address, and an unknown one, are not held back.
        throttle.check(Some(b)).expect("other address");
        throttle.check(None).expect("no address");
        assert_eq!(throttle.failed(None).error.code, ErrorCode::Unauthenticated);
    }

    #[test]
    fn an_ipv6_host_counts_by_its_64() {
        let one: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let two: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        assert_eq!(key_of(one), key_of(two));
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert_eq!(key_of(mapped), "192.0.2.1".parse::<IpAddr>().unwrap());
    }
}
