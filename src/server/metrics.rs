//! Request counts and latencies by route, live subscribers and events sent,
//! rendered in the Prometheus text format by `GET /metrics`.

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

/// The server's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    latency: Mutex<BTreeMap<(String, String), Histogram>>,
    pub subscribers: AtomicI64,
    pub events_sent: AtomicU64,
    /// Live feeds dropped because their connection stopped reading.
    pub feeds_dropped: AtomicU64,
}

impl Metrics {
    /// Counts one finished request.
    pub fn observe(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        *self
            .requests
            .lock()
            .expect("metrics lock")
            .entry((method.to_owned(), route.to_owned(), status))
            .or_default() += 1;
        let secs = elapsed.as_secs_f64();
        let mut latency = self.latency.lock().expect("metrics lock");
        let h = latency
            .entry((method.to_owned(), route.to_owned()))
            .or_default();
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
