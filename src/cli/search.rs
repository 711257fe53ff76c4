//! `techmatch search QUERY`: the same search as `GET /api/v1/search`, on the terminal.

use std::process::ExitCode;

use techmatch_index::{IndexError, SearchIndex};

use techmatch::data_dir::DataDir;
use techmatch::search::{run as run_search, SearchParams};
use techmatch::store::StoreError;

/// Options of `search`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to look for (any text; no syntax).
    query: Vec<String>,
    /// Kinds: research_output, patent, need (comma-separated).
    #[arg(long)]
    kind: Option<String>,
    /// Provinces by code or name (comma-separated).
    #[arg(long)]
    province: Option<String>,
    /// Fields of science, e.g. 2.2 or 4 (comma-separated).
    #[arg(long)]
    field: Option<String>,
    /// Lowest readiness level.
    #[arg(long)]
    trl_min: Option<u8>,
    /// Transfer modes (comma-separated).
    #[arg(long)]
    transfer_mode: Option<String>,
    /// Hits per page.
    #[arg(long, default_value_t = 10)]
    limit: usize,
    /// Hits to skip.
    #[arg(long, default_value_t = 0)]
    offset: usize,
    /// Print the JSON answer of the API instead of a list.
    #[arg(long)]
    json: bool,
    /// `on` fuses semantic neighbours: needs an embedder and the vectors `serve` computed.
    #[arg(long, value_enum, default_value = "off")]
    semantic: super::eval::Switch,
    #[command(flatten)]
    embedder: super::embedder::EmbedderArgs,
}

pub fn run(data: &DataDir, args: Args) -> anyhow::Result<ExitCode> {
    let params = SearchParams {
        q: Some(args.query.join(" ")),
        kind: args.kind,
        province: args.province,
        field: args.field,
        trl_min: args.trl_min.map(|t| t.to_string()),
        transfer_mode: args.transfer_mode,
        status: None,
        limit: Some(args.limit.to_string()),
        offset: Some(args.offset.to_string()),
    };
    let mut request = match params.to_request(false) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: --{}: {}", e.field.replace('_', "-"), e.reason);
            return Ok(ExitCode::from(2));
        }
    };
    let index = match super::open_current(data) {
        Ok((store, index)) => {
            if args.semantic == super::eval::Switch::On {
                let cli = super::semantic::open(data, store.as_store(), &args.embedder)?;
                cli.semantic.add_to_search(&mut request);
            }
            index
        }
        Err(e) if args.semantic == super::eval::Switch::On => return Err(e),
        Err(e)
            if matches!(e.downcast_ref::<StoreError>(), Some(StoreError::Locked(_)))
                || matches!(e.downcast_ref::<IndexError>(), Some(IndexError::Locked(_))) =>
        {
            // A server owns the data dir (or, on a shared store, this node's index); its index
            // is readable as last committed.
            SearchIndex::open_read_only(&data.index_path())?
        }
        Err(e) => return Err(e),
    };
    let response = run_search(&index, &request)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&response)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("{} result(s)", response.total);
    for (i, hit) in response.hits.iter().enumerate() {
        println!(
            "{:>3}. [{}] {} — {} ({})",
            request.offset + i + 1,
            hit.kind,
            hit.title,
            hit.province_name.as_deref().unwrap_or(""),
            hit.id
        );
        let snippet = hit
            .snippet
            .replace("<mark>", "\x1b[1m")
            .replace("</mark>", "\x1b[0m");
        println!("     {}", html_unescape(&snippet));
    }
    Ok(ExitCode::SUCCESS)
}

fn html_unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}
