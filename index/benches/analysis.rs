//! Throughput of the analysis chains (MB/s of text) and index size per document, on the demo
//! listings of `fixtures/demo`. Run: `cargo bench -p techmatch-index --bench analysis`.

use std::time::Instant;

use techmatch_index::analysis::{tokens, Chain};
use techmatch_index::{IndexChange, IndexDoc, SearchIndex, TextGroup};

fn texts() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for file in ["listings-vi.jsonl", "nasa-en.jsonl"] {
        let path = format!("{}/../fixtures/demo/{file}", env!("CARGO_MANIFEST_DIR"));
        let data = std::fs::read_to_string(&path).expect("demo fixtures");
        for line in data.lines() {
            let v: serde_json::Value = serde_json::from_str(line).expect("JSON line");
            let get = |k: &str| v[k].as_str().unwrap_or_default().to_string();
            out.push((get("title"), get("description")));
        }
    }
    out
}

fn dir_size(path: &std::path::Path) -> u64 {
    std::fs::read_dir(path)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.metadata().map(|m| m.len()).unwrap_or(0))
                .sum()
        })
        .unwrap_or(0)
}

/// CPU time of this process (every thread), in seconds (Linux; 0 elsewhere).
fn cpu_s() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which ends with ')'): utime and stime are the 12th and 13th.
    let rest = stat.rsplit(')').next().unwrap_or_default();
    let ticks: f64 = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|t| t.parse::<f64>().ok())
        .sum();
    ticks / 100.0
}

fn main() {
    let texts = texts();
    let bytes: usize = texts.iter().map(|(t, d)| t.len() + d.len()).sum();
    let mut report = serde_json::Map::new();
    for (name, chain) in [
        ("exact", Chain::Exact),
        ("folded", Chain::Folded),
        ("bigram", Chain::Bigram),
    ] {
        let rounds = 5;
        let started = Instant::now();
        let mut n = 0usize;
        for _ in 0..rounds {
            for (t, d) in &texts {
                n += tokens(chain, t).len() + tokens(chain, d).len();
            }
        }
        let secs = started.elapsed().as_secs_f64();
        let mbps = (bytes * rounds) as f64 / secs / 1e6;
        report.insert(
            format!("{name}_mb_per_s"),
            serde_json::json!((mbps * 10.0).round() / 10.0),
        );
        report.insert(format!("{name}_tokens"), serde_json::json!(n / rounds));
    }
    // Index size: the demo texts repeated under new ids to a realistic count.
    let copies = 10;
    let dir = tempfile::tempdir().expect("temp dir");
    let index = SearchIndex::open(dir.path()).expect("index");
    let started = Instant::now();
    let cpu_started = cpu_s();
    let docs = (0..copies).flat_map(|c| {
        texts.iter().enumerate().map(move |(i, (t, d))| {
            IndexChange::Upsert(Box::new(IndexDoc {
                id: format!("{c}-{i}"),
                text: vec![(TextGroup::Title, t.clone()), (TextGroup::Body, d.clone())],
                stored: format!("{{\"title\":{t:?}}}"),
                ..IndexDoc::default()
            }))
        })
    });
    index.apply(docs, 1).expect("index documents");
    let secs = started.elapsed().as_secs_f64();
    let cpu = cpu_s() - cpu_started;
    let n = texts.len() * copies;
    // The engine doing the least work on the same texts: tantivy's default tokenizer, title and
    // description, one writer with the same memory budget and thread count.
    let plain_dir = tempfile::tempdir().expect("temp dir");
    let mut builder = tantivy::schema::Schema::builder();
    let title = builder.add_text_field("title", tantivy::schema::TEXT);
    let description = builder.add_text_field("description", tantivy::schema::TEXT);
    let plain = tantivy::Index::create_in_dir(plain_dir.path(), builder.build()).expect("index");
    let started = Instant::now();
    let cpu_started = cpu_s();
    let mut writer: tantivy::IndexWriter = plain.writer(128 * 1024 * 1024).expect("writer");
    for _ in 0..copies {
        for (t, d) in &texts {
            writer
                .add_document(tantivy::doc!(title => t.clone(), description => d.clone()))
                .expect("add");
        }
    }
    writer.commit().expect("commit");
    let plain_secs = started.elapsed().as_secs_f64();
    let plain_cpu = cpu_s() - cpu_started;
    report.insert(
        "plain_tantivy_docs_per_s".into(),
        serde_json::json!((n as f64 / plain_secs).round()),
    );
    report.insert(
        "index_vs_plain_tantivy".into(),
        serde_json::json!(((plain_secs / secs) * 100.0).round() / 100.0),
    );
    // CPU time says more than elapsed time on a machine others share.
    report.insert(
        "index_cpu_ms_per_doc".into(),
        serde_json::json!((cpu * 1e5 / n as f64).round() / 100.0),
    );
    report.insert(
        "plain_tantivy_cpu_ms_per_doc".into(),
        serde_json::json!((plain_cpu * 1e5 / n as f64).round() / 100.0),
    );
    report.insert(
        "index_cpu_vs_plain_tantivy".into(),
        serde_json::json!(((plain_cpu / cpu) * 100.0).round() / 100.0),
    );
    report.insert("text_bytes".into(), serde_json::json!(bytes));
    report.insert("indexed_docs".into(), serde_json::json!(n));
    report.insert(
        "index_docs_per_s".into(),
        serde_json::json!((n as f64 / secs).round()),
    );
    report.insert(
        "index_bytes_per_doc".into(),
        serde_json::json!(dir_size(dir.path()) / n as u64),
    );
    report.insert(
        "text_bytes_per_doc".into(),
        serde_json::json!(bytes / texts.len()),
    );
    println!("{}", serde_json::to_string_pretty(&report).expect("JSON"));
}
