//! Counters for `GET /_s3cors/metrics`, in the Prometheus text format
//! (<https://prometheus.io/docs/instrumenting/exposition_formats/>).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use parking_lot::Mutex;

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 10] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5];

/// The server's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(&'static str, u16), u64>>,
    preflights_allowed: AtomicU64,
    preflights_denied: AtomicU64,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
    latency: [AtomicU64; BUCKETS.len() + 1],
    latency_sum_micros: AtomicU64,
}

impl Metrics {
    /// Counts one answered request.
    pub fn request(&self, op: &'static str, status: u16, elapsed: Duration, bytes_in: u64, bytes_out: u64) {
        *self.requests.lock().entry((op, status)).or_default() += 1;
        self.bytes_in.fetch_add(bytes_in, Ordering::Relaxed);
        self.bytes_out.fetch_add(bytes_out, Ordering::Relaxed);
        let secs = elapsed.as_secs_f64();
        let slot = BUCKETS.iter().position(|b| secs <= *b).unwrap_or(BUCKETS.len());
        self.latency[slot].fetch_add(1, Ordering::Relaxed);
        self.latency_sum_micros
            .fetch_add(elapsed.as_micros() as u64, Ordering::Relaxed);
    }

    /// Counts one preflight.
    pub fn preflight(&self, allowed: bool) {
        let c = if allowed {
            &self.preflights_allowed
        } else {
            &self.preflights_denied
        };
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// The exposition text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str("# HELP s3cors_requests_total Requests answered, by S3 operation and status.\n");
        out.push_str("# TYPE s3cors_requests_total counter\n");
        for ((op, status), n) in self.requests.lock().iter() {
            let _ = writeln!(
                out,
                "s3cors_requests_total{{operation=\"{op}\",status=\"{status}\"}} {n}"
            );
        }
        out.push_str("# HELP s3cors_preflights_total CORS preflights, by outcome.\n");
        out.push_str("# TYPE s3cors_preflights_total counter\n");
        let _ = writeln!(
            out,
            "s3cors_preflights_total{{outcome=\"allowed\"}} {}",
            self.preflights_allowed.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "s3cors_preflights_total{{outcome=\"denied\"}} {}",
            self.preflights_denied.load(Ordering::Relaxed)
        );
        out.push_str("# HELP s3cors_request_bytes_total Request body bytes received.\n# TYPE s3cors_request_bytes_total counter\n");
        let _ = writeln!(
            out,
            "s3cors_request_bytes_total {}",
            self.bytes_in.load(Ordering::Relaxed)
        );
        out.push_str("# HELP s3cors_response_bytes_total Response body bytes sent.\n# TYPE s3cors_response_bytes_total counter\n");
        let _ = writeln!(
            out,
            "s3cors_response_bytes_total {}",
            self.bytes_out.load(Ordering::Relaxed)
        );
        out.push_str("# HELP s3cors_request_duration_seconds Time to answer a request.\n");
        out.push_str("# TYPE s3cors_request_duration_seconds histogram\n");
        let mut cumulative = 0;
        for (i, bound) in BUCKETS.iter().enumerate() {
            cumulative += self.latency[i].load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "s3cors_request_duration_seconds_bucket{{le=\"{bound}\"}} {cumulative}"
            );
        }
        cumulative += self.latency[BUCKETS.len()].load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "s3cors_request_duration_seconds_bucket{{le=\"+Inf\"}} {cumulative}"
        );
        let sum = self.latency_sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "s3cors_request_duration_seconds_sum {sum}");
        let _ = writeln!(out, "s3cors_request_duration_seconds_count {cumulative}");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_a_cumulative_histogram() {
        let m = Metrics::default();
        m.request("GetObject", 200, Duration::from_micros(300), 0, 10);
        m.request("GetObject", 200, Duration::from_millis(3), 0, 10);
        m.request("PutObject", 403, Duration::from_secs(5), 7, 0);
        m.preflight(true);
        m.preflight(false);
        m.preflight(false);
        let text = m.render();
        assert!(text.contains("s3cors_requests_total{operation=\"GetObject\",status=\"200\"} 2\n"));
        assert!(text.contains("s3cors_requests_total{operation=\"PutObject\",status=\"403\"} 1\n"));
        assert!(text.contains("s3cors_preflights_total{outcome=\"denied\"} 2\n"));
        assert!(text.contains("s3cors_request_bytes_total 7\n"));
        assert!(text.contains("s3cors_response_bytes_total 20\n"));
        assert!(text.contains("s3cors_request_duration_seconds_bucket{le=\"0.0005\"} 1\n"));
        assert!(text.contains("s3cors_request_duration_seconds_bucket{le=\"0.005\"} 2\n"));
        assert!(text.contains("s3cors_request_duration_seconds_bucket{le=\"+Inf\"} 3\n"));
        assert!(text.contains("s3cors_request_duration_seconds_count 3\n"));
    }
}
