//! The throw-away PostgreSQL cluster: real `initdb` and `postgres` processes on loopback, and
//! the full-text search configuration the benchmark compares against.

use techmatch_bench::pg::fts::{Combine, CONFIG, SETUP_SQL};
use techmatch_bench::pg::TempCluster;

use crate::common::postgres_installed;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn two_clusters_run_side_by_side_answer_queries_and_vanish_when_dropped() {
    if !postgres_installed("two_clusters_run_side_by_side") {
        return;
    }
    let first = TempCluster::start().unwrap();
    let second = TempCluster::start().unwrap();
    assert_ne!(first.port(), second.port());
    assert_ne!(first.dir(), second.dir());
    let dirs = [first.dir().to_path_buf(), second.dir().to_path_buf()];
    assert!(dirs.iter().all(|d| d.join("data/PG_VERSION").is_file()));

    let rt = runtime();
    rt.block_on(async {
        // Each cluster is its own server: a table made in one is absent from the other.
        let a = first.connect().await.unwrap();
        let b = second.connect().await.unwrap();
        a.batch_execute("CREATE TABLE only_here (x int)")
            .await
            .unwrap();
        assert!(b.simple_query("SELECT * FROM only_here").await.is_err());

        // Vietnamese words stay whole and lose their diacritics; English is stemmed; the
        // English stop words that are also Vietnamese syllables are kept.
        a.batch_execute(SETUP_SQL).await.unwrap();
        let row = a
            .query_one(
                &format!("SELECT to_tsvector('{CONFIG}', $1)::text"),
                &[&"Công nghệ nuôi tôm, có thể: the fishes"],
            )
            .await
            .unwrap();
        let vector: String = row.get(0);
        for lexeme in ["'cong'", "'nghe'", "'nuoi'", "'tom'", "'the'", "'fish'"] {
            assert!(vector.contains(lexeme), "{lexeme} missing from {vector}");
        }

        // Any word matches with `Combine::Any`; all are needed with `Combine::All`.
        let count = |combine: Combine| {
            let a = &a;
            async move {
                let sql = format!(
                    "SELECT count(*) FROM (VALUES ('nuôi tôm'), ('nuôi cá'), ('trồng lúa')) t(s)
                     WHERE to_tsvector('{CONFIG}', s) @@ {}",
                    combine.tsquery_sql(1)
                );
                a.query_one(&sql, &[&"nuoi tom"])
                    .await
                    .unwrap()
                    .get::<_, i64>(0)
            }
        };
        assert_eq!(count(Combine::Any).await, 2);
        assert_eq!(count(Combine::All).await, 1);
    });
    drop(rt);

    drop(first);
    assert!(!dirs[0].exists(), "{} left behind", dirs[0].display());
    assert!(dirs[1].exists(), "dropping one cluster touched the other");
    drop(second);
    assert!(!dirs[1].exists(), "{} left behind", dirs[1].display());
}

#[test]
fn eval_with_the_postgres_engine_ranks_a_small_labelled_set() {
    if !postgres_installed("eval_with_the_postgres_engine") {
        return;
    }
    let ws = crate::common::Workspace::new();
    let corpus = ws.file(
        "corpus.jsonl",
        concat!(
            r#"{"_id": "tom", "title": "Nuôi tôm thẻ chân trắng", "text": "Quy trình nuôi tôm trong ao lót bạt."}"#,
            "\n",
            r#"{"_id": "solar", "title": "", "text": "Solar panels cleaned by a robot arm."}"#,
            "\n",
            r#"{"_id": "lua", "title": "Giống lúa chịu mặn", "text": "Giống lúa cho vùng nhiễm mặn."}"#,
            "\n",
        ),
    );
    let queries = ws.file(
        "queries.jsonl",
        concat!(
            r#"{"_id": "q1", "text": "nuoi tom"}"#,
            "\n",
            r#"{"_id": "q2", "text": "cleaning solar panel"}"#,
            "\n",
        ),
    );
    let qrels = ws.file(
        "qrels.tsv",
        "query-id\tcorpus-id\tscore\nq1\ttom\t1\nq2\tsolar\t1\n",
    );
    let paths = [corpus, queries, qrels].map(|p| p.to_str().unwrap().to_string());
    let report = ws.cli_json(&[
        "eval",
        "--engine",
        "postgres",
        "--corpus",
        &paths[0],
        "--queries",
        &paths[1],
        "--qrels",
        &paths[2],
    ]);
    assert_eq!(report["engine"], "postgres");
    assert_eq!(report["pg_words"], "any");
    assert_eq!(report["judged_queries"], 2);
    // Unaccented Vietnamese meets accented text, and English is stemmed.
    assert!(report["mrr@10"].as_f64().unwrap() > 0.99, "{report}");
}
