//! The one way the inbox and the headless CLI reach a server: HTTP with
//! reqwest, the live feed (Server-Sent Events) and retries.
//!
//! - [`http`]: [`Client`], one async method per endpoint of PROTOCOL.md;
//! - [`error`]: [`ClientError`], which says whether an answer is definite;
//! - [`answer`]: a server's answer read within a size bound, and the
//!   headers that matter;
//! - [`paging`]: `list_all*`, which follow `next_cursor` within
//!   [`ListLimits`] and stop on a cursor that repeats or does not advance;
//! - [`retry`]: [`Backoff`] (exponential, full jitter, `Retry-After`) and
//!   [`retry_until_definite`], which retries with one idempotency key;
//! - [`feed`]: [`watch`], a task that follows `GET /v1/events` forever,
//!   resuming with `Last-Event-ID`;
//! - [`sse`]: the incremental Server-Sent Events parser the feed uses;
//! - [`servers`]: several servers of one exchange, and the one place that
//!   decides to move to the next when the live one cannot be reached
//!   ([`Client::on_move`] hears of each move).
//!
//! How a client stays in step with the server:
//!
//! 1. `let (items, as_of) = client.list_all(ReferralBox::All).await?;`
//! 2. `let mut feed = watch(client.clone(), as_of, FeedOptions::default());`
//! 3. on `FeedEvent::Event { referral, .. }` keep it only if its `version`
//!    is higher than the one held (delivery is at least once); on
//!    `FeedEvent::Gone` list again and call `watch` with the new `as_of`;
//!    `Connected` / `Disconnected` / `Stale` are for the status bar.
//!
//! How an action is sent: choose `let key = new_idempotency_key();` once,
//! then `retry_until_definite(Backoff::default(), || client.accept(&id,
//! &req, &key), |n, e, wait| ...)`. A 409 `conflict` comes back at once with
//! [`ClientError::current`]: the person decides again, never the client.

pub mod answer;
pub mod error;
pub mod feed;
pub mod http;
pub mod paging;
pub mod retry;
pub mod servers;
pub mod sse;

pub use feed::{FeedEvent, FeedHandle, FeedOptions, watch};
pub use http::{Answer, Client, ClientConfig, ClientError, LIST_ALL_PAGE, new_idempotency_key};
pub use paging::ListLimits;
pub use retry::{Backoff, CancelToken, retry_until_definite, retry_until_definite_or_cancelled};
pub use servers::{ServerMove, server_label};
pub use sse::{SseError, SseEvent, SseItem, SseParser};

/// Makes untrusted text from a server (an error message, a cursor) safe
/// to show on one terminal line with the one sanitizer every lead field goes
/// through (`sanitize::clean_line`: escape sequences, controls, bidi and
/// invisible characters become visible placeholders), cut to `max_chars`
/// Unicode scalar values (with `…` when cut).
pub(crate) fn one_line(s: &str, max_chars: usize) -> String {
    let clean = crate::sanitize::clean_line(s);
    match clean.char_indices().nth(max_chars) {
        Some((at, _)) => format!("{}…", &clean[..at]),
        None => clean,
    }
}

#[cfg(test)]
mod tests {
    use super::one_line;

    #[test]
    fn one_line_replaces_controls_bidi_and_cuts() {
        // Like a lead's text: a whole escape sequence is one placeholder.
        assert_eq!(one_line("a\x1b[31mb\nc", 100), "a␛b␊c");
        let odd = one_line("x\u{202E}y\u{200B}z\u{9B}1m", 100);
        assert!(odd.starts_with('x') && odd.contains('y') && odd.contains('z'));
        assert!(!odd.chars().any(crate::sanitize::is_forbidden), "{odd:?}");
        assert_eq!(one_line("abcdef", 3), "abc…");
        assert_eq!(one_line("abc", 3), "abc");
    }
}
