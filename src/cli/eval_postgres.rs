//! `techmatch eval --engine postgres`: the same labelled set ranked by PostgreSQL full-text
//! search (`unaccent` + Snowball, title weight A, text B, GIN index, `ts_rank_cd` by length) in a
//! throw-away cluster, for comparison with our own ranking.

use std::time::Instant;

use techmatch_index::eval::Run;
use tokio_postgres::Client;

use super::eval::{Doc, QueryLine, DEPTH};
use techmatch_bench::pg::fts::{rank_sql, Combine, SETUP_SQL};
use techmatch_bench::pg::TempCluster;

const TABLE_SQL: &str = "
CREATE TABLE docs (
    n int PRIMARY KEY,
    title text NOT NULL,
    body text NOT NULL,
    tsv tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('techmatch_fts', title), 'A')
        || setweight(to_tsvector('techmatch_fts', body), 'B')
    ) STORED
);
CREATE INDEX docs_tsv ON docs USING gin (tsv);
";

/// Documents per insert statement.
const CHUNK: usize = 5_000;

/// PostgreSQL refuses NUL in text; scraped sets sometimes carry one.
fn clean(s: &str) -> String {
    s.replace('\0', " ")
}

async fn load(client: &Client, corpus: &[Doc]) -> anyhow::Result<()> {
    client.batch_execute(SETUP_SQL).await?;
    client.batch_execute(TABLE_SQL).await?;
    let insert = client
        .prepare(
            "INSERT INTO docs (n, title, body)
             SELECT * FROM unnest($1::int[], $2::text[], $3::text[])",
        )
        .await?;
    for (c, chunk) in corpus.chunks(CHUNK).enumerate() {
        let first = c * CHUNK;
        let n: Vec<i32> = (first..first + chunk.len())
            .map(|i| i32::try_from(i).unwrap_or(i32::MAX))
            .collect();
        let titles: Vec<String> = chunk.iter().map(|d| clean(&d.title)).collect();
        let bodies: Vec<String> = chunk.iter().map(|d| clean(&d.text)).collect();
        client.execute(&insert, &[&n, &titles, &bodies]).await?;
    }
    client.batch_execute("VACUUM ANALYZE docs").await?;
    Ok(())
}

/// Ranks every query's top [`DEPTH`] documents with `ts_rank_cd`; returns the run and the
/// seconds spent loading and querying.
pub(super) fn rank(
    corpus: &[Doc],
    queries: &[QueryLine],
    combine: Combine,
) -> anyhow::Result<(Run, f64, f64)> {
    let cluster = TempCluster::start()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(async {
        let client = cluster.connect().await?;
        let started = Instant::now();
        load(&client, corpus).await?;
        let load_s = started.elapsed().as_secs_f64();
        let tsquery = combine.tsquery_sql(1);
        let statement = client
            .prepare(&format!(
                "SELECT n, {} AS score FROM docs
                 WHERE tsv @@ {tsquery} ORDER BY score DESC, n LIMIT {DEPTH}",
                rank_sql(&tsquery)
            ))
            .await?;
        let started = Instant::now();
        let mut ranking: Run = Vec::with_capacity(queries.len());
        for q in queries {
            let rows = client.query(&statement, &[&clean(&q.text)]).await?;
            let mut ranked = Vec::with_capacity(rows.len());
            for row in rows {
                let n: i32 = row.try_get(0)?;
                let score: f32 = row.try_get(1)?;
                if let Some(doc) = usize::try_from(n).ok().and_then(|n| corpus.get(n)) {
                    ranked.push((doc.id.clone(), score));
                }
            }
            ranking.push((q.id.clone(), ranked));
        }
        anyhow::Ok((ranking, load_s, started.elapsed().as_secs_f64()))
    });
    drop(runtime);
    drop(cluster);
    result
}
