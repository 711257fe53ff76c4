//! Counters and latency histograms of one node, exposed at `GET /metrics` in Prometheus' text
//! format (0.0.4): requests by route and status, request and store latencies, search cache
//! and query vectors, index size and lag. Kept with `prometheus-client`.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Upper bounds (seconds) of the latency buckets: 1 ms to 10 s.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// The `Content-Type` of what [`Metrics::render`] writes.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    operation: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    result: &'static str,
}

/// A histogram over [`BUCKETS`], for families to make one per label set.
fn latency_histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

type Latencies<L> = Family<L, Histogram, fn() -> Histogram>;

/// The node's metrics; shared by every request.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Latencies<RouteLabels>,
    store: Latencies<OperationLabels>,
    search_cache: Family<ResultLabels, Counter>,
    query_vectors: Family<ResultLabels, Counter>,
    documents: Gauge,
    store_seq: Gauge,
    index_seq: Gauge,
    index_lag: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "techmatch_http_requests",
            "HTTP requests answered",
            requests.clone(),
        );
        let latency: Latencies<RouteLabels> = Family::new_with_constructor(latency_histogram);
        registry.register(
            "techmatch_http_request_duration_seconds",
            "Time to answer a request",
            latency.clone(),
        );
        let store: Latencies<OperationLabels> = Family::new_with_constructor(latency_histogram);
        registry.register(
            "techmatch_store_duration_seconds",
            "Time of a call to the store",
            store.clone(),
        );
        let search_cache = Family::<ResultLabels, Counter>::default();
        registry.register(
            "techmatch_search_cache",
            "Searches answered from the cache (hit) or run (miss)",
            search_cache.clone(),
        );
        let query_vectors = Family::<ResultLabels, Counter>::default();
        registry.register(
            "techmatch_query_vectors",
            "Searches and matches run with their query's vector (in_time) or lexically because it came after the deadline (late)",
            query_vectors.clone(),
        );
        // Both results show from the start, so a rate over them never starts from nothing.
        for result in ["hit", "miss"] {
            drop(search_cache.get_or_create(&ResultLabels { result }));
        }
        for result in ["in_time", "late"] {
            drop(query_vectors.get_or_create(&ResultLabels { result }));
        }
        let gauge = |registry: &mut Registry, name: &str, help: &str| {
            let g = Gauge::default();
            registry.register(name, help, g.clone());
            g
        };
        let documents = gauge(
            &mut registry,
            "techmatch_index_documents",
            "Listings in this node's index",
        );
        let store_seq = gauge(
            &mut registry,
            "techmatch_store_seq",
            "Newest change in the store",
        );
        let index_seq = gauge(
            &mut registry,
            "techmatch_index_seq",
            "Newest change this node's index has applied",
        );
        let index_lag = gauge(
            &mut registry,
            "techmatch_index_lag",
            "Changes in the store not yet in this node's index",
        );
        Metrics {
            registry,
            requests,
            latency,
            store,
            search_cache,
            query_vectors,
            documents,
            store_seq,
            index_seq,
            index_lag,
        }
    }
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

fn as_gauge(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Metrics {
    /// Records one answered request; `route` is the matched route template, not the raw path,
    /// so that ids do not make a series each.
    pub fn request(&self, method: &str, route: &str, status: u16, took: Duration) {
        self.requests
            .get_or_create(&RequestLabels {
                method: method.to_string(),
                route: route.to_string(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels {
                route: route.to_string(),
            })
            .observe(took.as_secs_f64());
    }

    /// Records one call to the store.
    pub fn store_call(&self, operation: &'static str, took: Duration) {
        self.store
            .get_or_create(&OperationLabels { operation })
            .observe(took.as_secs_f64());
    }

    /// Records one search the cache answered (`hit`) or did not.
    pub fn search_cache(&self, hit: bool) {
        let result = if hit { "hit" } else { "miss" };
        self.search_cache
            .get_or_create(&ResultLabels { result })
            .inc();
    }

    /// Records one search or match run with semantic ranking wanted: with its query's vector
    /// (`in_time`) or lexically, the vector late.
    pub fn query_vector(&self, in_time: bool) {
        let result = if in_time { "in_time" } else { "late" };
        self.query_vectors
            .get_or_create(&ResultLabels { result })
            .inc();
    }

    /// Everything in Prometheus' text exposition format (version 0.0.4), the gauges as given.
    pub fn render(&self, gauges: Gauges) -> String {
        self.documents.set(as_gauge(gauges.documents));
        self.store_seq.set(as_gauge(gauges.store_seq));
        self.index_seq.set(as_gauge(gauges.index_seq));
        self.index_lag
            .set(as_gauge(gauges.store_seq.saturating_sub(gauges.index_seq)));
        let mut out = String::new();
        // Writing into a String cannot fail; an error would leave what was written.
        let _ = prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry);
        out
    }
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
        assert_eq!(line("techmatch_search_cache_total{result=\"miss\"}"), "0");
    }

    #[test]
    fn label_values_are_escaped() {
        let m = Metrics::default();
        m.request("GET", "a\"b\\c\nd", 404, Duration::from_millis(1));
        let text = m.render(Gauges {
            documents: 0,
            store_seq: 0,
            index_seq: 0,
        });
        assert!(text.contains("route=\"a\\\"b\\\\c\\nd\""), "{text}");
    }
}
