//! Request counts and latencies by route, live subscribers and events sent,
//! rendered in the Prometheus text format by `GET /metrics`.
//!
//! Every label comes from a fixed set, whatever a client sends: methods
//! outside the standard nine and paths that match no route are counted as
//! `other`, and a route is its template (`/v1/referrals/{id}`), never the
//! raw path. So the number of series, and the size of `/metrics`, is
//! bounded no matter how many made-up methods or paths arrive.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64};
use std::time::Duration;

/// Latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Debug, Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    total: u64,
}

/// The label for anything outside a known set.
pub const OTHER: &str = "other";

/// Methods counted under their own name; any other is [`OTHER`].
const METHODS: [&str; 9] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE",
];

/// Route templates counted under their own name; any other is [`OTHER`].
pub const ROUTES: [&str; 9] = [
    "/v1/me",
    "/v1/partners",
    "/v1/referrals",
    "/v1/referrals/batch",
    "/v1/referrals/{id}",
    "/v1/referrals/{id}/{action}",
    "/v1/events",
    "/healthz",
    "/metrics",
];

/// The method's label: its name when standard, else [`OTHER`].
pub fn method_label(method: &str) -> &'static str {
    METHODS
        .iter()
        .find(|m| **m == method)
        .copied()
        .unwrap_or(OTHER)
}

/// The route's label from the matched template (none for an unknown path).
pub fn route_label(template: Option<&str>) -> &'static str {
    template
        .and_then(|t| ROUTES.iter().find(|r| **r == t).copied())
        .unwrap_or(OTHER)
}

/// The status's label: a real HTTP status (100..=599), else 0.
fn status_label(status: u16) -> u16 {
    if (100..=599).contains(&status) {
        status
    } else {
        0
    }
}

/// The server's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(&'static str, &'static str, u16), u64>>,
    latency: Mutex<BTreeMap<(&'static str, &'static str), Histogram>>,
    pub subscribers: AtomicI64,
    pub events_sent: AtomicU64,
    /// Live feeds dropped because their connection stopped reading.
    pub feeds_dropped: AtomicU64,
}

impl Metrics {
    /// Counts one finished request. `method` and `route` are folded into
    /// their known sets (see [`method_label`], [`route_label`]).
    pub fn observe(&self, method: &str, route: Option<&str>, status: u16, elapsed: Duration) {
        let method = method_label(method);
        let route = route_label(route);
        *self
            .requests
            .lock()
            .expect("metrics lock")
            .entry((method, route, status_label(status)))
            .or_default() += 1;
        let secs = elapsed.as_secs_f64();
        let mut latency = self.latency.lock().expect("metrics lock");
        let h = latency.entry((method, route)).or_default();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound {
                h.counts[i] += 1;
            }
        }
        h.sum += secs;
        h.total += 1;
    }

    /// The Prometheus exposition, with the store's referral counts.
    pub fn render(&self, by_status: &[(crate::wire::Status, u64)]) -> String {
        use std::fmt::Write;
        use std::sync::atomic::Ordering;
        let mut out = String::new();
        out.push_str("# HELP leadx_http_requests_total HTTP requests by route and status.\n");
        out.push_str("# TYPE leadx_http_requests_total counter\n");
        for ((method, route, status), n) in self.requests.lock().expect("metrics lock").iter() {
            let _ = writeln!(
                out,
                "leadx_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {n}"
            );
        }
        out.push_str("# HELP leadx_http_request_duration_seconds HTTP request latency by route.\n");
        out.push_str("# TYPE leadx_http_request_duration_seconds histogram\n");
        for ((method, route), h) in self.latency.lock().expect("metrics lock").iter() {
            let labels = format!("method=\"{method}\",route=\"{route}\"");
            for (i, bound) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "leadx_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {}",
                    h.counts[i]
                );
            }
            let _ = writeln!(
                out,
                "leadx_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                h.total
            );
            let _ = writeln!(
                out,
                "leadx_http_request_duration_seconds_sum{{{labels}}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "leadx_http_request_duration_seconds_count{{{labels}}} {}",
                h.total
            );
        }
        out.push_str("# HELP leadx_referrals Referrals by status.\n");
        out.push_str("# TYPE leadx_referrals gauge\n");
        for (status, n) in by_status {
            let _ = writeln!(out, "leadx_referrals{{status=\"{}\"}} {n}", status.as_str());
        }
        out.push_str("# HELP leadx_event_subscribers Live event-stream subscribers.\n");
        out.push_str("# TYPE leadx_event_subscribers gauge\n");
        let _ = writeln!(
            out,
            "leadx_event_subscribers {}",
            self.subscribers.load(Ordering::Relaxed)
        );
        out.push_str("# HELP leadx_events_sent_total Events sent to subscribers.\n");
        out.push_str("# TYPE leadx_events_sent_total counter\n");
        let _ = writeln!(
            out,
            "leadx_events_sent_total {}",
            self.events_sent.load(Ordering::Relaxed)
        );
        out.push_str(
            "# HELP leadx_feeds_dropped_total Live feeds dropped because they stopped reading.\n",
        );
        out.push_str("# TYPE leadx_feeds_dropped_total counter\n");
        let _ = writeln!(
            out,
            "leadx_feeds_dropped_total {}",
            self.feeds_dropped.load(Ordering::Relaxed)
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_fold_into_known_sets() {
        assert_eq!(method_label("GET"), "GET");
        assert_eq!(method_label("get"), OTHER);
        assert_eq!(method_label(&"X".repeat(30_000)), OTHER);
        assert_eq!(
            route_label(Some("/v1/referrals/{id}")),
            "/v1/referrals/{id}"
        );
        assert_eq!(route_label(Some("/v1/referrals/r_01ABC")), OTHER);
        assert_eq!(route_label(None), OTHER);
    }

    #[test]
    fn made_up_methods_and_paths_leave_the_exposition_small() {
        let m = Metrics::default();
        for i in 0..1_000 {
            let method = format!("M{i}{}", "X".repeat(1_000));
            m.observe(&method, None, 404, Duration::from_millis(1));
            m.observe("GET", Some("/v1/me"), 200, Duration::from_millis(1));
        }
        let text = m.render(&[]);
        assert!(text.len() < 8 * 1024, "{} bytes", text.len());
        assert!(text.contains(
            "leadx_http_requests_total{method=\"other\",route=\"other\",status=\"404\"} 1000"
        ));
        assert!(!text.contains("XXXX"));
    }
}
