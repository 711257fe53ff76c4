//! Counters and latency histograms of one node, exposed at `GET /metrics` in Prometheus' text
//! format: requests by route and status, request and store latencies, index size and lag.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds (seconds) of the latency buckets: 1 ms to 10 s.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// A cumulative latency histogram.
#[derive(Debug, Default, Clone)]
struct Histogram {
    /// Observations at or below each bound of [`BUCKETS`] (not yet cumulative).
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        if let Some(i) = BUCKETS.iter().position(|b| seconds <= *b) {
            self.counts[i] += 1;
        }
        self.count += 1;
        self.sum += seconds;
    }

    fn write(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        let mut running = 0;
        for (bound, n) in BUCKETS.iter().zip(self.counts) {
            running += n;
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}{sep}le=\"{bound}\"}} {running}"
            );
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}",
            self.count
        );
        let _ = writeln!(out, "{name}_sum{{{labels}}} {}", self.sum);
        let _ = writeln!(out, "{name}_count{{{labels}}} {}", self.count);
    }
}

#[derive(Debug, Default)]
struct Inner {
    /// Requests by (method, route, status).
    requests: BTreeMap<(String, String, u16), u64>,
    /// Request latency by route.
    latency: BTreeMap<String, Histogram>,
    /// Store call latency by operation.
    store: BTreeMap<&'static str, Histogram>,
    /// Searches answered from the search cache, and searches run.
    search_cache: [u64; 2],
    /// Searches and matches run with their query's vector, and without (it came too late).
    query_vectors: [u64; 2],
}

/// The node's metrics; shared by every request.
#[derive(Debug, Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

/// Gauges read when the metrics are scraped.
#[derive(Debug, Clone, Copy)]
pub struct Gauges {
    /// Documents in the index.
    pub documents: u64,
    /// Newest change in the store.
    pub store_seq: u64,
    /// Newest change the index has applied.
    pub index_seq: u64,
}

impl Metrics {
    /// Records one answered request; `route` is the matched route template, not the raw path,
    /// so that ids do not make a series each.
    pub fn request(&self, method: &str, route: &str, status: u16, took: Duration) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        *inner
            .requests
            .entry((method.to_string(), route.to_string(), status))
            .or_default() += 1;
        inner
            .latency
            .entry(route.to_string())
            .or_default()
            .observe(took.as_secs_f64());
    }

    /// Records one call to the store.
    pub fn store_call(&self, operation: &'static str, took: Duration) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner
            .store
            .entry(operation)
            .or_default()
            .observe(took.as_secs_f64());
    }

    /// Records one search the cache answered (`hit`) or did not.
    pub fn search_cache(&self, hit: bool) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.search_cache[usize::from(!hit)] += 1;
    }

    /// Records one search or match run with semantic ranking wanted: with its query's vector
    /// (`in_time`) or lexically, the vector late.
    pub fn query_vector(&self, in_time: bool) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.query_vectors[usize::from(!in_time)] += 1;
    }

    /// Everything in Prometheus' text exposition format (version 0.0.4).
    pub fn render(&self, gauges: Gauges) -> String {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = String::new();
        out.push_str("# HELP techmatch_http_requests_total HTTP requests answered.\n");
        out.push_str("# TYPE techmatch_http_requests_total counter\n");
        for ((method, route, status), n) in &inner.requests {
            let _ = writeln!(
                out,
                "techmatch_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}",
                escape(route)
            );
        }
        out.push_str("# HELP techmatch_http_request_duration_seconds Time to answer a request.\n");
        out.push_str("# TYPE techmatch_http_request_duration_seconds histogram\n");
        for (route, h) in &inner.latency {
            let labels = format!("route=\"{}\"", escape(route));
            h.write(&mut out, "techmatch_http_request_duration_seconds", &labels);
        }
        out.push_str("# HELP techmatch_store_duration_seconds Time of a call to the store.\n");
        out.push_str("# TYPE techmatch_store_duration_seconds histogram\n");
        for (operation, h) in &inner.store {
            let labels = format!("operation=\"{operation}\"");
            h.write(&mut out, "techmatch_store_duration_seconds", &labels);
        }
        out.push_str(
            "# HELP techmatch_search_cache_total Searches answered from the cache (hit) or run (miss).\n",
        );
        out.push_str("# TYPE techmatch_search_cache_total counter\n");
        let [hits, misses] = inner.search_cache;
        let _ = writeln!(out, "techmatch_search_cache_total{{result=\"hit\"}} {hits}");
        let _ = writeln!(
            out,
            "techmatch_search_cache_total{{result=\"miss\"}} {misses}"
        );
        out.push_str(
            "# HELP techmatch_query_vectors_total Searches and matches run with their query's vector (in_time) or lexically because it came after the deadline (late).\n",
        );
        out.push_str("# TYPE techmatch_query_vectors_total counter\n");
        let [in_time, late] = inner.query_vectors;
        let _ = writeln!(
            out,
            "techmatch_query_vectors_total{{result=\"in_time\"}} {in_time}"
        );
        let _ = writeln!(
            out,
            "techmatch_query_vectors_total{{result=\"late\"}} {late}"
        );
        let gauges = [
            (
                "techmatch_index_documents",
                "Listings in this node's index.",
                gauges.documents,
            ),
            (
                "techmatch_store_seq",
                "Newest change in the store.",
                gauges.store_seq,
            ),
            (
                "techmatch_index_seq",
                "Newest change this node's index has applied.",
                gauges.index_seq,
            ),
            (
                "techmatch_index_lag",
                "Changes in the store not yet in this node's index.",
                gauges.store_seq.saturating_sub(gauges.index_seq),
            ),
        ];
        for (name, help, value) in gauges {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
            );
        }
        out
    }
}

/// A label value with `\`, `"` and newlines escaped as the format requires.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_cumulative_and_counts_add_up() {
        let m = Metrics::default();
        for ms in [0.5, 3.0, 3.0, 40.0, 20_000.0] {
            m.request(
                "GET",
                "/api/v1/search",
                200,
                Duration::from_secs_f64(ms / 1000.0),
            );
        }
        let text = m.render(Gauges {
            documents: 7,
            store_seq: 9,
            index_seq: 6,
        });
        let line = |prefix: &str| {
            text.lines()
                .find(|l| l.starts_with(prefix))
                .unwrap_or_else(|| panic!("{prefix} in\n{text}"))
                .rsplit(' ')
                .next()
                .unwrap_or_default()
                .to_string()
        };
        let route = "route=\"/api/v1/search\"";
        let bucket = |le: &str| {
            line(&format!(
                "techmatch_http_request_duration_seconds_bucket{{{route},le=\"{le}\"}}"
            ))
        };
        assert_eq!(bucket("0.001"), "1");
        assert_eq!(bucket("0.005"), "3");
        assert_eq!(bucket("0.05"), "4");
        assert_eq!(bucket("10"), "4");
        assert_eq!(bucket("+Inf"), "5");
        assert_eq!(
            line("techmatch_http_requests_total{method=\"GET\",route=\"/api/v1/search\",status=\"200\"}"),
            "5"
        );
        assert_eq!(line("techmatch_index_lag "), "3");
        assert_eq!(line("techmatch_index_documents "), "7");
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
