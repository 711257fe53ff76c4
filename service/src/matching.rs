//! Matching as brokers use it: from a stored need (or technology), or an ad-hoc need, to the
//! best listings on the other side, each with its score parts and a one-line reason in
//! Vietnamese and English.

use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use techmatch_index::{
    Facet, Geography, IndexError, Match, MatchProfile, MatchRequest, SearchIndex, Side,
};

use crate::config::{ranking, synonyms};
use crate::domain::field::{field_by_code_str, resolve_field};
use crate::domain::input::FieldError;
use crate::domain::listing::format_vnd;
use crate::domain::{Kind, Listing, Provinces, TransferMode};
use crate::indexer::{enum_name, match_profile};

/// Most matches in one answer.
pub const MAX_MATCHES: usize = 100;

/// How a request limits or weighs where matches come from, as typed.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct MatchParams {
    /// `any`, `near` (default) or `only`.
    pub geography: Option<String>,
    /// Provinces for `only` (comma-separated codes or names).
    pub provinces: Option<String>,
    /// Matches to return (default 10).
    pub limit: Option<String>,
}

fn bad(field: &str, reason: impl Into<String>) -> FieldError {
    FieldError::new(field, reason)
}

fn provinces(list: &str) -> Result<Vec<String>, FieldError> {
    list.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            Provinces::get()
                .resolve(p)
                .map(|p| p.code.to_string())
                .map_err(|e| bad("provinces", e.to_string()))
        })
        .collect()
}

impl MatchParams {
    /// Checks the parameters: the geography policy and the page size.
    pub fn check(&self) -> Result<(Geography, usize), FieldError> {
        let geography = match self.geography.as_deref().map(str::trim) {
            None | Some("") | Some("near") => Geography::PreferNear,
            Some("any") => Geography::Any,
            Some("only") => {
                let list = provinces(self.provinces.as_deref().unwrap_or_default())?;
                if list.is_empty() {
                    return Err(bad("provinces", "is required with geography=only"));
                }
                Geography::Only(list)
            }
            Some(other) => {
                return Err(bad(
                    "geography",
                    format!("{other:?} is not one of any, near, only"),
                ))
            }
        };
        let limit = match self.limit.as_deref().map(str::trim) {
            None | Some("") => 10,
            Some(n) => match n.parse::<usize>() {
                Ok(n) if (1..=MAX_MATCHES).contains(&n) => n,
                _ => return Err(bad("limit", format!("must be 1 to {MAX_MATCHES}"))),
            },
        };
        Ok((geography, limit))
    }
}

/// An ad-hoc need: text plus whatever structured facts are known.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdHocNeed {
    /// What is needed, in plain words.
    pub text: String,
    /// Field of science.
    pub field: Option<String>,
    /// The enterprise's province.
    pub province: Option<String>,
    /// Lowest acceptable TRL.
    pub trl_min: Option<u8>,
    /// Preferred transfer modes.
    pub transfer_modes: Vec<String>,
    /// Upper end of the budget.
    pub budget_max_vnd: Option<u64>,
    /// IPC classes of interest.
    pub ipc: Vec<String>,
    /// `any`, `near` or `only`.
    pub geography: Option<String>,
    /// Provinces for `only`.
    pub provinces: Vec<String>,
    /// Matches to return.
    pub limit: Option<usize>,
    /// Fuse semantic neighbours (default true, when an embedder is configured).
    pub semantic: Option<bool>,
}

impl AdHocNeed {
    /// Checks the need and builds the index request.
    pub fn to_request(&self) -> Result<MatchRequest, FieldError> {
        if self.text.trim().is_empty() {
            return Err(bad("text", "is required"));
        }
        if self.text.chars().count() > 50_000 {
            return Err(bad("text", "is longer than 50000 characters"));
        }
        let mut profile = MatchProfile::default();
        if let Some(f) = &self.field {
            let field = resolve_field(f)
                .ok_or_else(|| bad("field", format!("{f:?} is not a field code")))?;
            profile.field = Some(field.code.as_str().to_string());
        }
        if let Some(p) = &self.province {
            let province = Provinces::get()
                .resolve(p)
                .map_err(|e| bad("province", e.to_string()))?;
            profile.region = Some(province.code.to_string());
            profile.lat = Some(province.lat);
            profile.lon = Some(province.lon);
        }
        if let Some(t) = self.trl_min {
            if !(1..=9).contains(&t) {
                return Err(bad("trl_min", "must be 1 to 9"));
            }
            profile.trl_min = Some(t);
        }
        for m in &self.transfer_modes {
            if TransferMode::parse(m).is_none() {
                return Err(bad(
                    "transfer_modes",
                    format!("{m:?} is not one of {}", TransferMode::names().join(", ")),
                ));
            }
        }
        profile.modes = self.transfer_modes.clone();
        profile.budget_max = self.budget_max_vnd;
        profile.ipc = self.ipc.clone();
        let params = MatchParams {
            geography: self.geography.clone(),
            provinces: Some(self.provinces.join(",")),
            limit: self.limit.map(|l| l.to_string()),
        };
        let (geography, limit) = params.check()?;
        Ok(request(
            &self.text,
            profile,
            Side::Need,
            None,
            geography,
            limit,
        ))
    }
}

/// The text matching reads from a listing: everything a person would read to judge it.
fn listing_text(l: &Listing) -> String {
    let mut parts = vec![l.title.clone(), l.description.clone()];
    parts.extend(l.keywords.iter().cloned());
    parts.extend(l.desired_outcome.iter().cloned());
    parts.extend(l.industry.iter().cloned());
    parts.join("\n")
}

fn request(
    text: &str,
    profile: MatchProfile,
    side: Side,
    exclude: Option<String>,
    geography: Geography,
    limit: usize,
) -> MatchRequest {
    let kinds: &[Kind] = match side {
        Side::Need => &[Kind::ResearchOutput, Kind::Patent],
        Side::Supply => &[Kind::Need],
    };
    MatchRequest {
        text: text.to_string(),
        expansions: synonyms().expand(text),
        profile,
        side,
        filters: vec![
            (Facet::Kind, kinds.iter().map(enum_name).collect()),
            (Facet::Status, vec!["published".into()]),
        ],
        exclude_id: exclude,
        geography,
        today: Utc::now().date_naive().to_string(),
        limit,
        weights: ranking().matching,
        text_weights: ranking().search,
        semantic: Vec::new(),
        fusion: ranking().semantic.matching,
    }
}

/// The request for a stored listing: a need finds supply, supply finds needs.
pub fn for_listing(listing: &Listing, geography: Geography, limit: usize) -> MatchRequest {
    let side = if listing.kind == Kind::Need {
        Side::Need
    } else {
        Side::Supply
    };
    request(
        &listing_text(listing),
        match_profile(listing),
        side,
        Some(listing.id.clone()),
        geography,
        limit,
    )
}

/// The answer to a match request.
#[derive(Debug, Clone, Serialize)]
pub struct MatchResponse {
    /// Candidates rescored.
    pub candidates: usize,
    /// The best matches.
    pub matches: Vec<Value>,
}

/// Runs a request and shapes each match with its explanation.
pub fn run(index: &SearchIndex, request: &MatchRequest) -> Result<MatchResponse, IndexError> {
    let result = index.find_matches(request)?;
    let matches = result.matches.iter().map(|m| view(m, request)).collect();
    Ok(MatchResponse {
        candidates: result.candidates,
        matches,
    })
}

fn view(m: &Match, request: &MatchRequest) -> Value {
    let mut out = match serde_json::from_str(&m.stored) {
        Ok(Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    };
    // A confidential need is matched on its full text, but the words it shares with the
    // technology would quote that text: its match names none.
    let hidden;
    let m = if out.get("confidential") == Some(&Value::Bool(true)) {
        hidden = Match {
            matched_terms: Vec::new(),
            ..m.clone()
        };
        &hidden
    } else {
        m
    };
    out.insert("score".into(), json!(m.score));
    out.insert(
        "components".into(),
        Value::Array(
            m.components
                .iter()
                .map(|c| {
                    json!({"name": c.name, "value": c.value, "weight": c.weight, "contribution": c.contribution})
                })
                .collect(),
        ),
    );
    out.insert("matched_terms".into(), json!(m.matched_terms));
    if let Some(sim) = m.similarity {
        out.insert("similarity".into(), json!((sim * 1e3).round() / 1e3));
    }
    if let Some(d) = m.distance_km {
        out.insert("distance_km".into(), json!(d.round()));
    }
    let title = out
        .get("title")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let (vi, en) = reasons(m, request, &title);
    out.insert("reason".into(), json!({"vi": vi, "en": en}));
    Value::Object(out)
}

fn mode_vi(mode: &str) -> &str {
    TransferMode::parse(mode).map_or(mode, |m| m.label().0)
}

fn province_name(code: &Option<String>) -> Option<String> {
    Provinces::get()
        .by_code_str(code.as_deref()?)
        .map(|p| p.short_name.clone())
}

/// One line of reasons in Vietnamese and in English, from the known components.
fn reasons(m: &Match, request: &MatchRequest, title: &str) -> (String, String) {
    let (need, supply) = match request.side {
        Side::Need => (&request.profile, &m.profile),
        Side::Supply => (&m.profile, &request.profile),
    };
    let mut vi: Vec<String> = Vec::new();
    let mut en: Vec<String> = Vec::new();
    if !m.matched_terms.is_empty() {
        let words = m
            .matched_terms
            .iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        vi.push(format!("Khớp từ: {words}"));
        en.push(format!("Shared terms: {words}"));
    }
    if let Some(sim) = m.similarity {
        // One vector per listing: the closest passage is the listing itself, named by title.
        let short: String = title.chars().take(80).collect();
        let sim = (sim * 100.0).round() / 100.0;
        let (lead_vi, lead_en) = if m.semantic_only {
            (
                "Gần nghĩa (không chung từ)",
                "Close in meaning (no shared word)",
            )
        } else {
            ("Gần nghĩa", "Close in meaning")
        };
        vi.push(format!("{lead_vi}: «{short}», độ tương đồng {sim}"));
        en.push(format!("{lead_en}: «{short}», similarity {sim}"));
    }
    for c in &m.components {
        let Some(value) = c.value else { continue };
        match c.name {
            "field" => {
                let code = supply.field.clone().unwrap_or_default();
                let label = field_by_code_str(&code);
                if value >= 1.0 {
                    vi.push(format!("Cùng lĩnh vực {code}"));
                    en.push(format!(
                        "Same field {code}{}",
                        label
                            .map(|f| format!(" ({})", f.label_en))
                            .unwrap_or_default()
                    ));
                } else if value > 0.0 {
                    let major = code.split('.').next().unwrap_or_default();
                    vi.push(format!("Cùng nhóm lĩnh vực {major}"));
                    en.push(format!("Same broad field {major}"));
                } else {
                    vi.push(format!("Khác lĩnh vực ({code})"));
                    en.push(format!("Different field ({code})"));
                }
            }
            "ipc" if value >= 0.5 => {
                vi.push("Cùng nhóm phân loại IPC".into());
                en.push("Same IPC class".into());
            }
            "trl" => {
                let (t, min) = (supply.trl.unwrap_or(0), need.trl_min.unwrap_or(0));
                if value >= 1.0 {
                    vi.push(format!("TRL {t} ≥ yêu cầu {min}"));
                    en.push(format!("TRL {t} ≥ required {min}"));
                } else {
                    vi.push(format!("TRL {t} < yêu cầu {min}"));
                    en.push(format!("TRL {t} below the required {min}"));
                }
            }
            "mode" => {
                let shared: Vec<&String> = need
                    .modes
                    .iter()
                    .filter(|x| supply.modes.contains(x))
                    .collect();
                if let Some(first) = shared.first() {
                    vi.push(format!("Phương thức phù hợp: {}", mode_vi(first)));
                    en.push(format!("Transfer mode fits: {}", first.replace('_', " ")));
                } else {
                    vi.push("Phương thức chuyển giao khác mong muốn".into());
                    en.push("Transfer modes differ".into());
                }
            }
            "budget" => {
                let price = supply.price.unwrap_or(0);
                if value >= 1.0 {
                    vi.push(format!("Giá {} trong ngân sách", format_vnd(price)));
                    en.push(format!("Price {} within budget", format_vnd(price)));
                } else {
                    vi.push(format!("Giá {} vượt ngân sách", format_vnd(price)));
                    en.push(format!("Price {} over budget", format_vnd(price)));
                }
            }
            "geography" if c.weight > 0.0 => {
                let name = province_name(&m.profile.region).unwrap_or_default();
                if need.region.is_some() && need.region == supply.region {
                    vi.push(format!("Cùng tỉnh ({name})"));
                    en.push(format!("Same province ({name})"));
                } else if let Some(d) = m.distance_km {
                    vi.push(format!("cách {} km ({name})", d.round()));
                    en.push(format!("{} km away ({name})", d.round()));
                }
            }
            _ => {}
        }
    }
    (vi.join("; "), en.join("; "))
}
