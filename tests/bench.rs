//! The benchmark harness runs end to end on a small corpus and reports every figure.
//! (Figures themselves are not asserted: timing belongs to `techmatch bench`, not to tests.)

use crate::common::{stderr, Workspace};

#[test]
fn bench_reports_every_figure_for_ten_thousand_listings() {
    let ws = Workspace::new();
    let json = ws.dir.path().join("bench.json");
    let out = ws.cli(&[
        "bench",
        "--listings",
        "10000",
        "--searches",
        "50",
        "--matches",
        "10",
        "--http-seconds",
        "1",
        "--connections",
        "4",
        "--json",
        json.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let figures: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(figures["listings"], 10000);
    assert_eq!(figures["http_errors"], 0);
    for key in [
        "import_per_s",
        "reindex_s",
        "disk_bytes_per_listing",
        "open_s",
        "search_p50_ms",
        "search_p95_ms",
        "search_p99_ms",
        "http_rps",
        "http_p99_ms",
        "match_p50_ms",
        "match_p99_ms",
        "rss_peak_mib",
    ] {
        let v = figures[key].as_f64();
        assert!(v.is_some_and(|v| v > 0.0), "{key}: {}", figures[key]);
    }
}
