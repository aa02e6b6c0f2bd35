//! Bearer-token authentication and the per-token rate limit.
//!
//! Every `/v1` handler takes a [`Caller`]: the token is looked up (the store
//! keeps only hashes and compares in constant time), then the caller's
//! bucket is charged. A missing or unknown token is 401 before anything
//! else is judged; an exhausted bucket is 429 with `Retry-After`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

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
        let token = bearer_token(&parts.headers).ok_or_else(HttpError::unauthenticated)?;
        let actor = state
            .store
            .authenticate(&token)
            .await?
            .ok_or_else(HttpError::unauthenticated)?;
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
}
