//! Search as users ask for it: parameters by name, checked, run on the index, answered in the
//! one JSON shape that the CLI (`--json`) and `GET /api/v1/search` share.

use serde::{Deserialize, Serialize};
use techmatch_index::{Facet, FacetCounts, IndexError, SearchIndex, SearchRequest};

use crate::domain::field::{field_by_code_str, resolve_field};
use crate::domain::input::FieldError;
use crate::domain::Provinces;

/// Longest query accepted; a long text is a need, which matching reads by its salient terms.
pub const MAX_QUERY_CHARS: usize = 2_000;
/// Most hits in one page.
pub const MAX_LIMIT: usize = 100;
/// Deepest offset served; deeper pages are refused rather than slowly computed.
pub const MAX_OFFSET: usize = 10_000;
/// Facets counted on every search.
const FACETS: [Facet; 5] = [
    Facet::Kind,
    Facet::Province,
    Facet::Field,
    Facet::Trl,
    Facet::Mode,
];

/// Search parameters as typed; lists are comma-separated.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SearchParams {
    /// Free text.
    pub q: Option<String>,
    /// Kinds: research_output, patent, need.
    pub kind: Option<String>,
    /// Provinces by code or any accepted name.
    pub province: Option<String>,
    /// Fields of science ("2.2") or major fields ("2").
    pub field: Option<String>,
    /// Lowest readiness level.
    pub trl_min: Option<String>,
    /// Transfer modes.
    pub transfer_mode: Option<String>,
    /// Statuses; only administrators may ask for other than published.
    pub status: Option<String>,
    /// Page size (default 10).
    pub limit: Option<String>,
    /// Hits to skip.
    pub offset: Option<String>,
}

/// One value of a facet with its count.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FacetValue {
    /// The value as used in filters.
    pub value: String,
    /// A name for people, where the value is a code.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub label: Option<String>,
    /// Matching listings with this value.
    pub count: u64,
}

/// The answer to a search.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SearchResponse {
    /// Matching listings.
    pub total: usize,
    /// This page.
    pub hits: Vec<crate::views::Hit>,
    /// Counts per facet.
    pub facets: std::collections::BTreeMap<String, Vec<FacetValue>>,
    /// With an embedder: `fused` when the query's semantic neighbours are in the ranking,
    /// `skipped` when its vector did not arrive in time and the ranking is lexical.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub semantic: Option<String>,
}

fn split(list: &Option<String>) -> Vec<String> {
    list.iter()
        .flat_map(|s| s.split(','))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

fn bad(field: &str, reason: impl Into<String>) -> FieldError {
    FieldError::new(field, reason)
}

fn number(field: &str, value: &Option<String>, max: usize) -> Result<Option<usize>, FieldError> {
    let Some(v) = value.as_deref().map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let n: usize = v
        .parse()
        .map_err(|_| bad(field, format!("{v:?} is not a whole number")))?;
    if n > max {
        return Err(bad(field, format!("must be at most {max}")));
    }
    Ok(Some(n))
}

const KINDS: [&str; 3] = ["research_output", "patent", "need"];
const STATUSES: [&str; 4] = ["draft", "published", "archived", "stale"];

fn one_of(field: &str, values: Vec<String>, allowed: &[&str]) -> Result<Vec<String>, FieldError> {
    for v in &values {
        if !allowed.contains(&v.as_str()) {
            return Err(bad(
                field,
                format!("{v:?} is not one of {}", allowed.join(", ")),
            ));
        }
    }
    Ok(values)
}

impl SearchParams {
    /// Checks the parameters and builds the index request.
    ///
    /// `may_see_unpublished` lets administrators filter by any status; everyone else sees
    /// published listings only.
    pub fn to_request(&self, may_see_unpublished: bool) -> Result<SearchRequest, FieldError> {
        let mut filters = Vec::new();
        let kinds = one_of("kind", split(&self.kind), &KINDS)?;
        if !kinds.is_empty() {
            filters.push((Facet::Kind, kinds));
        }
        let mut provinces = Vec::new();
        for p in split(&self.province) {
            let province = Provinces::get()
                .resolve(&p)
                .map_err(|e| bad("province", e.to_string()))?;
            provinces.push(province.code.to_string());
        }
        if !provinces.is_empty() {
            filters.push((Facet::Province, provinces));
        }
        let (mut majors, mut subs) = (Vec::new(), Vec::new());
        for f in split(&self.field) {
            let field = resolve_field(&f)
                .ok_or_else(|| bad("field", format!("{f:?} is not a field-of-science code")))?;
            let code = field.code.as_str().to_string();
            if code.contains('.') {
                subs.push(code);
            } else {
                majors.push(code);
            }
        }
        if !subs.is_empty() {
            filters.push((Facet::Field, subs));
        }
        if !majors.is_empty() {
            filters.push((Facet::FieldMajor, majors));
        }
        let modes = one_of(
            "transfer_mode",
            split(&self.transfer_mode),
            &crate::domain::TransferMode::names(),
        )?;
        if !modes.is_empty() {
            filters.push((Facet::Mode, modes));
        }
        let statuses = one_of("status", split(&self.status), &STATUSES)?;
        let statuses = if statuses.is_empty() {
            vec!["published".to_string()]
        } else if !may_see_unpublished && statuses.iter().any(|s| s != "published") {
            return Err(bad(
                "status",
                "only administrators may search unpublished listings",
            ));
        } else {
            statuses
        };
        filters.push((Facet::Status, statuses));
        let trl_min = number("trl_min", &self.trl_min, 9)?;
        if trl_min == Some(0) {
            return Err(bad("trl_min", "must be 1 to 9"));
        }
        let text = self.q.clone().unwrap_or_default();
        if text.chars().count() > MAX_QUERY_CHARS {
            return Err(bad(
                "q",
                format!("is longer than {MAX_QUERY_CHARS} characters; use POST /api/v1/match for long texts"),
            ));
        }
        Ok(SearchRequest {
            expansions: crate::config::synonyms().expand(&text),
            text,
            filters,
            trl_min: trl_min.map(|t| t as u64),
            offset: number("offset", &self.offset, MAX_OFFSET)?.unwrap_or(0),
            limit: number("limit", &self.limit, MAX_LIMIT)?.unwrap_or(10),
            facets: FACETS.to_vec(),
            weights: crate::config::ranking().search,
            semantic: Vec::new(),
            fusion: crate::config::ranking().semantic.search,
        })
    }
}

/// Runs a checked request and shapes the answer.
pub fn run(index: &SearchIndex, request: &SearchRequest) -> Result<SearchResponse, IndexError> {
    let result = index.search(request)?;
    let hits = result
        .hits
        .into_iter()
        .map(|hit| {
            // The stored view of an index older than a field lacks it; one that cannot be
            // read at all still names its listing.
            let mut view: crate::views::Hit =
                serde_json::from_str(&hit.stored).unwrap_or_else(|_| crate::views::Hit {
                    id: hit.id.clone(),
                    ..Default::default()
                });
            view.score = hit.score;
            // A confidential need's snippet would quote its hidden text: its summary instead.
            view.snippet = if view.confidential {
                techmatch_index::escape_html(&view.title)
            } else {
                hit.snippet
            };
            view
        })
        .collect();
    let mut facets = std::collections::BTreeMap::new();
    for (facet, mut counts) in result.facets {
        if facet == Facet::Trl {
            counts = at_or_above(counts);
        }
        let values: Vec<FacetValue> = counts
            .into_iter()
            .map(|(value, count)| FacetValue {
                label: label(facet, &value),
                value,
                count,
            })
            .collect();
        facets.insert(facet.name().to_string(), values);
    }
    Ok(SearchResponse {
        total: result.total,
        hits,
        facets,
        semantic: None,
    })
}

/// Readiness counts as the `trl_min` filter reads them: each level with the listings at or
/// above it, lowest level first (an ordinal scale keeps its order).
fn at_or_above(counts: FacetCounts) -> FacetCounts {
    let mut levels: Vec<(u64, u64)> = counts
        .into_iter()
        .filter_map(|(value, n)| Some((value.parse().ok()?, n)))
        .collect();
    levels.sort_unstable();
    let mut above = 0;
    let mut out: FacetCounts = levels
        .into_iter()
        .rev()
        .map(|(level, n)| {
            above += n;
            (level.to_string(), above)
        })
        .collect();
    out.reverse();
    out
}

fn label(facet: Facet, value: &str) -> Option<String> {
    match facet {
        Facet::Province => Provinces::get()
            .by_code_str(value)
            .map(|p| p.short_name.clone()),
        Facet::Field => field_by_code_str(value).map(|f| f.label_vi.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readiness_counts_what_its_filter_keeps() {
        let counts = vec![
            ("7".to_string(), 4),
            ("3".to_string(), 1),
            ("9".to_string(), 2),
        ];
        let shown = at_or_above(counts);
        let expected = [("3", 7), ("7", 6), ("9", 2)].map(|(l, n)| (l.to_string(), n));
        assert_eq!(shown, expected);
    }
}
