//! `techmatch match`: the best technologies for a need (or needs for a technology), explained.

use std::process::ExitCode;

use anyhow::bail;

use techmatch::data_dir::DataDir;
use techmatch::matching::{for_listing, run, AdHocNeed, MatchParams};

/// Options of `match`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A stored listing: a need finds technologies, a technology finds needs.
    #[arg(long, conflicts_with = "text")]
    listing: Option<String>,
    /// An ad-hoc need in plain words.
    #[arg(long)]
    text: Option<String>,
    /// The need's field of science (ad-hoc).
    #[arg(long)]
    field: Option<String>,
    /// The enterprise's province (ad-hoc).
    #[arg(long)]
    province: Option<String>,
    /// Lowest acceptable TRL (ad-hoc).
    #[arg(long)]
    trl_min: Option<u8>,
    /// Preferred transfer modes, comma-separated (ad-hoc).
    #[arg(long)]
    transfer_mode: Option<String>,
    /// Upper end of the budget in VND (ad-hoc).
    #[arg(long)]
    budget_max: Option<u64>,
    /// any, near (default) or only.
    #[arg(long)]
    geography: Option<String>,
    /// Provinces for --geography only (comma-separated).
    #[arg(long)]
    provinces: Option<String>,
    /// Matches to show.
    #[arg(long, default_value_t = 10)]
    limit: usize,
    /// Print the API's JSON answer.
    #[arg(long)]
    json: bool,
    /// `on` fuses semantic neighbours: needs an embedder and the vectors `serve` computed.
    #[arg(long, value_enum, default_value = "off")]
    semantic: super::eval::Switch,
    #[command(flatten)]
    embedder: super::embedder::EmbedderArgs,
}

pub fn run_cmd(data: &DataDir, args: Args) -> anyhow::Result<ExitCode> {
    let (store, index) = super::open_current(data)?;
    let mut request = if let Some(id) = &args.listing {
        let Some(listing) = store.get(id)? else {
            bail!("no listing with id {id:?}");
        };
        let params = MatchParams {
            geography: args.geography.clone(),
            provinces: args.provinces.clone(),
            limit: Some(args.limit.to_string()),
        };
        let (geography, limit) = params
            .check()
            .map_err(|e| anyhow::anyhow!("--{}: {}", e.field, e.reason))?;
        for_listing(&listing, geography, limit)
    } else if let Some(text) = &args.text {
        let need = AdHocNeed {
            text: text.clone(),
            field: args.field.clone(),
            province: args.province.clone(),
            trl_min: args.trl_min,
            transfer_modes: args
                .transfer_mode
                .iter()
                .flat_map(|m| m.split(','))
                .map(|m| m.trim().to_string())
                .filter(|m| !m.is_empty())
                .collect(),
            budget_max_vnd: args.budget_max,
            geography: args.geography.clone(),
            provinces: args
                .provinces
                .iter()
                .flat_map(|p| p.split(','))
                .map(str::to_string)
                .collect(),
            limit: Some(args.limit),
            ..AdHocNeed::default()
        };
        need.to_request()
            .map_err(|e| anyhow::anyhow!("--{}: {}", e.field.replace('_', "-"), e.reason))?
    } else {
        bail!("give --listing ID or --text TEXT");
    };
    if args.semantic == super::eval::Switch::On {
        let cli = super::semantic::open(data, store.as_store(), &args.embedder)?;
        cli.semantic
            .add_to_match(&mut request, args.listing.as_deref());
    }
    let response = run(&index, &request)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&response)?);
        return Ok(ExitCode::SUCCESS);
    }
    for (i, m) in response.matches.iter().enumerate() {
        let get = |k: &str| m.get(k).and_then(|v| v.as_str()).unwrap_or("");
        println!(
            "{:>3}. {:.3} [{}] {} ({})",
            i + 1,
            m.get("score").and_then(|v| v.as_f64()).unwrap_or(0.0),
            get("kind"),
            get("title"),
            get("id")
        );
        println!("     {}", m["reason"]["vi"].as_str().unwrap_or(""));
    }
    Ok(ExitCode::SUCCESS)
}
