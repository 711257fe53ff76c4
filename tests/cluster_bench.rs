//! The short version of `techmatch bench-cluster` (#10): three real nodes on a throw-away
//! PostgreSQL store (with a streaming replica) behind a real haproxy configured by
//! `deploy/haproxy.cfg`, writes and searches through haproxy, one node SIGKILLed under load and
//! restarted. No acknowledged write may be missing from any node, the store or the replica.

use std::process::Command;

use serde_json::Value;

use crate::common::{stderr, stdout, Workspace};

/// Whether haproxy is installed; skips with a message, or fails when `CI` is set.
fn haproxy_installed(test: &str) -> bool {
    if techmatch_bench::cluster_bench::prerequisites().is_ok() {
        return true;
    }
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false");
    assert!(
        !ci,
        "CI is set but haproxy is missing: apt-get install haproxy"
    );
    eprintln!("SKIPPED {test}: haproxy not found (apt-get install haproxy)");
    false
}

#[test]
fn three_nodes_behind_haproxy_lose_no_acknowledged_write_when_one_is_killed() {
    let test = "three_nodes_behind_haproxy_lose_no_acknowledged_write";
    if !crate::common::postgres_installed(test) || !haproxy_installed(test) {
        return;
    }
    let ws = Workspace::new();
    let json = ws.dir.path().join("cluster.json");
    let out = Command::new(env!("CARGO_BIN_EXE_techmatch"))
        .args([
            "bench-cluster",
            "--nodes",
            "3",
            "--seconds",
            "6",
            "--replica",
        ])
        .arg("--json")
        .arg(&json)
        .env("TECHMATCH_LOG", "warn")
        .output()
        .expect("run bench-cluster");
    let table = format!("{}{}", stdout(&out), stderr(&out));
    assert!(out.status.success(), "{table}");
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();

    // Every acknowledged write is searchable on every node, in the store and on the replica.
    assert!(
        report["acknowledged_writes"].as_u64().unwrap() > 0,
        "{table}"
    );
    assert_eq!(report["lost_writes"], 0, "{table}");
    assert_eq!(report["missing_in_store"], 0, "{table}");
    assert_eq!(report["probe_misses"], 0, "{table}");
    let replica = &report["replica"];
    assert_eq!(replica["missing"], 0, "{table}");
    assert!(
        replica["final_seq"].as_u64() >= report["restart"]["target_seq"].as_u64(),
        "{table}"
    );

    // Lag figures for every node, and writes spread over all of them by round robin.
    for name in ["node1", "node2", "node3", "all", "every_node"] {
        let lag = &report["lag_ms"][name];
        assert!(lag["samples"].as_u64().unwrap() > 0, "{name}: {table}");
        assert!(lag["p99_ms"].as_f64().unwrap() >= lag["p50_ms"].as_f64().unwrap());
    }
    for name in ["node1", "node2", "node3"] {
        assert!(
            report["writes_by_node"][name].as_u64().unwrap_or(0) > 0,
            "{name}: {table}"
        );
    }
    // Read-your-writes through the balancer: whichever node answers waits for min_seq.
    assert!(
        report["read_your_writes_ok"].as_u64().unwrap() > 0,
        "{table}"
    );
    assert_eq!(report["read_your_writes_missed"], 0, "{table}");

    // The kill costs at most the writes in flight at that moment (a search cut off is retried
    // on another node by haproxy), nothing after the first second, and service goes on.
    let kill = &report["kill"];
    assert_eq!(kill["node"], "node2");
    assert!(
        kill["failed_first_second"].as_u64().unwrap() <= 4,
        "{table}"
    );
    assert_eq!(kill["failed_later"], 0, "{table}");
    assert!(kill["ok_after"].as_u64().unwrap() > 0, "{table}");

    // The restarted node caught up with every write acknowledged before its restart and
    // came back into haproxy's rotation.
    let restart = &report["restart"];
    assert!(restart["caught_up_seconds"].as_f64().is_some(), "{table}");
    assert!(restart["in_rotation_seconds"].as_f64().is_some(), "{table}");
}
