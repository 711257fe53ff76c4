//! `techmatch bench --postgres`: the same listings and the same search mix run on PostgreSQL
//! full-text search (`tsvector` over `unaccent`, a GIN index, `ts_rank_cd`) in a throw-away
//! cluster, so that both engines are timed in the same run on the same machine.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{json, Value};
use techmatch_index::{Facet, SearchRequest, TextGroup};
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Statement};

use super::{percentile, round, Corpus, Options, CHUNK};
use crate::pg::fts::{rank_sql, Combine, CONFIG, SETUP_SQL};
use crate::pg::TempCluster;
use techmatch::domain::{parse_listing, RawRecord};
use techmatch::indexer::to_index_doc;
use techmatch::search::SearchParams;

/// The table: the facts our search filters and counts by, and the text groups our index
/// weighs (title A, keywords and description B, the rest C), searched through a stored
/// generated `tsvector` with a GIN index that exists during the import.
const TABLE_SQL: &str = "
CREATE TABLE listings (
    id text PRIMARY KEY,
    kind text NOT NULL,
    status text NOT NULL,
    province text,
    field text,
    field_major text,
    trl int,
    modes text[] NOT NULL,
    title text NOT NULL,
    keywords text NOT NULL,
    body text NOT NULL,
    extra text NOT NULL,
    tsv tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('techmatch_fts', title), 'A')
        || setweight(to_tsvector('techmatch_fts', keywords), 'B')
        || setweight(to_tsvector('techmatch_fts', body), 'B')
        || setweight(to_tsvector('techmatch_fts', extra), 'C')
    ) STORED
);
CREATE INDEX listings_tsv ON listings USING gin (tsv);
";

/// Session settings a tuned installation would have for this load: JIT compilation costs more
/// than it saves on queries of milliseconds, and the matches of a common word, materialised
/// for the facet counts, should stay in memory rather than spill to temporary files.
const SESSION_SQL: &str = "SET jit = off; SET work_mem = '64MB';";

/// One chunk of rows as parallel columns, inserted with one `unnest` statement.
const INSERT_SQL: &str = "
INSERT INTO listings (id, kind, status, province, field, field_major, trl, modes, title,
                      keywords, body, extra)
SELECT id, kind, status, province, field, field_major, trl, string_to_array(modes, ','),
       title, keywords, body, extra
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
            $7::int[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[])
     AS t(id, kind, status, province, field, field_major, trl, modes, title, keywords, body,
          extra)
";

/// The facets our search counts, with the SQL that yields each one's values of a row.
const FACETS: [(&str, &str); 5] = [
    ("kind", "kind"),
    ("province", "province"),
    ("field", "field"),
    ("trl", "trl::text"),
    ("transfer_mode", "unnest(modes)"),
];

#[derive(Default)]
struct Columns {
    id: Vec<String>,
    kind: Vec<String>,
    status: Vec<String>,
    province: Vec<Option<String>>,
    field: Vec<Option<String>>,
    field_major: Vec<Option<String>>,
    trl: Vec<Option<i32>>,
    modes: Vec<String>,
    title: Vec<String>,
    keywords: Vec<String>,
    body: Vec<String>,
    extra: Vec<String>,
}

impl Columns {
    /// Adds one generated record, checked as our import checks it.
    fn push(&mut self, record: &Value) -> anyhow::Result<()> {
        let Value::Object(map) = record.clone() else {
            anyhow::bail!("generated record is not an object");
        };
        let draft = parse_listing(&RawRecord::from_json(map))
            .map_err(|e| anyhow::anyhow!("generated record invalid: {e:?}"))?;
        let listing = draft.into_listing(None, chrono::Utc::now());
        // The same text and facet values our index is given.
        let doc = to_index_doc(&listing);
        let text = |group: TextGroup| {
            doc.text
                .iter()
                .filter(|(g, _)| *g == group)
                .map(|(_, t)| t.as_str())
                .collect::<Vec<_>>()
                .join(". ")
        };
        let facet = |facet: Facet| {
            let values: Vec<&str> = doc
                .facets
                .iter()
                .filter(|(f, _)| *f == facet)
                .map(|(_, v)| v.as_str())
                .collect();
            (!values.is_empty()).then(|| values.join(","))
        };
        self.id.push(doc.id.clone());
        self.kind.push(facet(Facet::Kind).unwrap_or_default());
        self.status.push(facet(Facet::Status).unwrap_or_default());
        self.province.push(facet(Facet::Province));
        self.field.push(facet(Facet::Field));
        self.field_major.push(facet(Facet::FieldMajor));
        self.trl.push(doc.trl.and_then(|t| i32::try_from(t).ok()));
        self.modes.push(facet(Facet::Mode).unwrap_or_default());
        self.title.push(text(TextGroup::Title));
        self.keywords.push(text(TextGroup::Keywords));
        self.body.push(text(TextGroup::Body));
        self.extra.push(text(TextGroup::Extra));
        Ok(())
    }

    fn params(&self) -> [&(dyn ToSql + Sync); 12] {
        [
            &self.id,
            &self.kind,
            &self.status,
            &self.province,
            &self.field,
            &self.field_major,
            &self.trl,
            &self.modes,
            &self.title,
            &self.keywords,
            &self.body,
            &self.extra,
        ]
    }
}

/// A filter's SQL condition on parameter `$n`.
fn filter_sql(facet: Facet, n: usize) -> String {
    match facet {
        Facet::Mode => format!("modes && ${n}::text[]"),
        Facet::Trl => format!("trl::text = ANY(${n}::text[])"),
        other => format!("{} = ANY(${n}::text[])", other.name()),
    }
}

/// One search as SQL and its parameters; `facets` adds the total and the facet counts.
fn search_sql(request: &SearchRequest, facets: bool) -> (String, Vec<Box<dyn ToSql + Sync>>) {
    let tsquery = Combine::Any.tsquery_sql(1);
    let mut params: Vec<Box<dyn ToSql + Sync>> = vec![Box::new(request.text.clone())];
    let mut conditions = vec![format!("tsv @@ {tsquery}")];
    for (facet, values) in &request.filters {
        params.push(Box::new(values.clone()));
        conditions.push(filter_sql(*facet, params.len()));
    }
    if let Some(min) = request.trl_min {
        params.push(Box::new(i32::try_from(min).unwrap_or(i32::MAX)));
        conditions.push(format!("trl >= ${}", params.len()));
    }
    params.push(Box::new(request.limit as i64));
    let limit = params.len();
    params.push(Box::new(request.offset as i64));
    let offset = params.len();
    // Matches carry only what is counted and ranked; the page reads its text afterwards.
    let matches = format!(
        "SELECT id, kind, province, field, trl, modes, {} AS score
         FROM listings WHERE {}",
        rank_sql(&tsquery),
        conditions.join(" AND ")
    );
    let hits = format!(
        "SELECT coalesce(json_agg(json_build_object('id', id, 'kind', kind, 'title', title,
                'score', score,
                'snippet', ts_headline('{CONFIG}', body, {tsquery}, 'MaxFragments=1'))
             ORDER BY score DESC, id), '[]')::text
         FROM (SELECT id, score FROM m ORDER BY score DESC, id LIMIT ${limit} OFFSET ${offset}) page
         JOIN listings USING (id)"
    );
    if !facets {
        return (format!("WITH m AS ({matches}) {hits}"), params);
    }
    let counts: Vec<String> = FACETS
        .iter()
        .map(|(name, value)| {
            format!(
                "(SELECT coalesce(json_agg(json_build_object('value', v, 'count', n)
                     ORDER BY n DESC, v), '[]')::text
                  FROM (SELECT {value} AS v, count(*) AS n FROM m GROUP BY 1) f
                  WHERE v IS NOT NULL) AS {name}"
            )
        })
        .collect();
    let sql = format!(
        "WITH m AS MATERIALIZED ({matches})
         SELECT (SELECT count(*) FROM m) AS total, ({hits}) AS hits, {}",
        counts.join(", ")
    );
    (sql, params)
}

/// The statement for `sql`, prepared once.
async fn prepared(
    client: &Client,
    statements: &mut HashMap<String, Statement>,
    sql: String,
) -> anyhow::Result<Statement> {
    if let Some(s) = statements.get(&sql) {
        return Ok(s.clone());
    }
    let s = client.prepare(&sql).await.context("preparing a search")?;
    statements.insert(sql, s.clone());
    Ok(s)
}

/// Runs `request` and parses every JSON column, as our search shapes its answer.
async fn search(
    client: &Client,
    statements: &mut HashMap<String, Statement>,
    request: &SearchRequest,
    facets: bool,
) -> anyhow::Result<usize> {
    let (sql, params) = search_sql(request, facets);
    let statement = prepared(client, statements, sql).await?;
    let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p.as_ref()).collect();
    let row = client.query_one(&statement, &refs).await?;
    // Columns: (total, hits, one per facet) or (hits); every JSON column is parsed.
    let hits_column = usize::from(facets);
    let mut hits = 0;
    for i in hits_column..row.len() {
        let value: Value = serde_json::from_str(row.try_get::<_, &str>(i)?)?;
        if i == hits_column {
            hits = value.as_array().map_or(0, Vec::len);
        }
    }
    Ok(hits)
}

/// Imports the corpus of `options` end to end and returns the seconds it took.
async fn import(client: &mut Client, options: &Options) -> anyhow::Result<f64> {
    // The same records as our import, generated before the clock starts, as ours are.
    let mut corpus = Corpus::new(options.seed);
    let records: Vec<Value> = (0..options.listings).map(|n| corpus.listing(n)).collect();
    let started = Instant::now();
    let insert = client.prepare(INSERT_SQL).await?;
    for chunk in records.chunks(CHUNK) {
        let mut columns = Columns::default();
        for r in chunk {
            columns.push(r)?;
        }
        // One transaction per chunk, committed durably, like one import call of ours.
        let tx = client.transaction().await?;
        tx.execute(&insert, &columns.params()).await?;
        tx.commit().await?;
    }
    // Folds the GIN pending list into the index and gathers planner statistics.
    client.batch_execute("VACUUM ANALYZE listings").await?;
    Ok(started.elapsed().as_secs_f64())
}

/// Searches timed on PostgreSQL at most: at a million listings one can take seconds, and the
/// whole benchmark must finish in half an hour. The first ones of the mix, which repeats its
/// kinds of query every five, so the sample has all of them.
const PG_SEARCHES: usize = 200;

/// Times `params` (at most [`PG_SEARCHES`]) with facets, then without, returning the sorted
/// durations of each.
async fn time_searches(
    client: &Client,
    params: &[SearchParams],
) -> anyhow::Result<(Vec<Duration>, Vec<Duration>, usize)> {
    let requests = params
        .iter()
        .take(PG_SEARCHES)
        .map(|p| p.to_request(false).map_err(|e| anyhow::anyhow!("{e}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut statements = HashMap::new();
    // Statements are prepared before the clock starts, as an application would at start-up.
    for facets in [true, false] {
        for r in &requests {
            prepared(client, &mut statements, search_sql(r, facets).0).await?;
        }
    }
    let mut with_facets = Vec::with_capacity(requests.len());
    let mut hits = 0;
    for r in &requests {
        let started = Instant::now();
        hits += search(client, &mut statements, r, true).await?;
        with_facets.push(started.elapsed());
    }
    let mut without = Vec::with_capacity(requests.len());
    for r in &requests {
        let started = Instant::now();
        search(client, &mut statements, r, false).await?;
        without.push(started.elapsed());
    }
    with_facets.sort();
    without.sort();
    Ok((with_facets, without, hits))
}

/// Loads the listings of `options` into a throw-away PostgreSQL, times the search mix
/// `params` there, and adds the `pg_*` figures (and the p50 ratio to ours) to `figures`.
pub fn add_figures(
    figures: &mut Value,
    options: &Options,
    params: &[SearchParams],
) -> anyhow::Result<()> {
    let cluster = TempCluster::start()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (import_s, with_facets, without, hits, bytes) = runtime.block_on(async {
        let mut client = cluster.connect().await?;
        client.batch_execute(SESSION_SQL).await?;
        client.batch_execute(SETUP_SQL).await?;
        client.batch_execute(TABLE_SQL).await?;
        let import_s = import(&mut client, options).await?;
        let bytes: i64 = client
            .query_one("SELECT pg_total_relation_size('listings')", &[])
            .await?
            .get(0);
        let (with_facets, without, hits) = time_searches(&client, params).await?;
        anyhow::Ok((import_s, with_facets, without, hits, bytes))
    })?;
    drop(runtime);
    drop(cluster);
    let n = options.listings.max(1) as f64;
    let p50 = percentile(&with_facets, 0.50);
    let ours = figures["search_p50_ms"].as_f64().unwrap_or(0.0);
    let ratio = if ours > 0.0 { p50 / ours } else { 0.0 };
    let pg = json!({
        "pg_import_per_s": round(n / import_s, 0),
        "pg_disk_bytes_per_listing": round(bytes as f64 / n, 0),
        "pg_search_p50_ms": round(p50, 2),
        "pg_search_p95_ms": round(percentile(&with_facets, 0.95), 2),
        "pg_search_p99_ms": round(percentile(&with_facets, 0.99), 2),
        "pg_search_nofacets_p50_ms": round(percentile(&without, 0.50), 2),
        "pg_search_nofacets_p99_ms": round(percentile(&without, 0.99), 2),
        "pg_search_hits": hits,
        "pg_search_ratio_p50": round(ratio, 2),
    });
    if let (Some(all), Value::Object(pg)) = (figures.as_object_mut(), pg) {
        all.extend(pg);
    }
    eprintln!(
        "search p50: PostgreSQL full-text search {p50:.2} ms, techmatch {ours:.2} ms; \
         ratio {ratio:.2} (PostgreSQL / techmatch)"
    );
    Ok(())
}
