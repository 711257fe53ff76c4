//! The market's statistics, national or for one province, by year and field of science: the
//! figures Decision 1158/QĐ-TTg judges the programme by — value of agreed technology
//! transactions and its growth, the share that is intellectual property (patents), the share
//! supplied by domestic institutes and universities, active intermediaries — with supply,
//! demand and needs without a deal.
//!
//! Only aggregates are public: a cell built from fewer than [`MIN_DEALS`] agreed deals shows
//! its count and nothing else. Supply and demand are counted by the index's facets, not by
//! reading every listing; deals are read once per computation.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::Datelike;
use serde::{Deserialize, Serialize};
use techmatch_index::{Facet, SearchIndex, SearchRequest};

use super::{AppError, AppState, Caller, Exchange};
use crate::domain::deal::{Deal, Stage};
use crate::domain::field::field_by_code_str;
use crate::domain::org::OrgKind;
use crate::domain::{FieldCode, Kind, Listing, ProvinceCode, Provinces, Status};

/// Fewest agreed deals a published figure may rest on.
pub const MIN_DEALS: usize = 3;

/// What the statistics are asked for.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// One province's market (deals whose need or technology is there), or the nation's.
    pub province: Option<ProvinceCode>,
    /// One year (by signing date), or every year.
    pub year: Option<i32>,
}

/// Figures over a set of agreed deals; amounts and shares are left out when the set is too
/// small to publish.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Cell {
    /// Agreed deals.
    pub deals_agreed: usize,
    /// Sum of their contract values.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_vnd: Option<u64>,
    /// Share of the deals whose technology is a patent or utility solution.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_share: Option<f64>,
    /// Share of the deals whose technology comes from a domestic institute or university.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domestic_research_share: Option<f64>,
    /// Whether the figures are withheld (fewer than [`MIN_DEALS`] deals).
    pub suppressed: bool,
}

/// One year's row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct YearRow {
    /// The year deals were signed in.
    pub year: i32,
    /// Its figures.
    #[serde(flatten)]
    pub cell: Cell,
    /// Growth of the value over the year before (0.25 = +25%), when both can be published.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_growth: Option<f64>,
}

/// One field of science's row (major fields: 1 natural sciences … 6 humanities).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldRow {
    /// The major field's code.
    pub field: String,
    /// Its name in Vietnamese.
    pub label_vi: String,
    /// Its name in English.
    pub label_en: String,
    /// Published technologies (research outputs and patents).
    pub supply: u64,
    /// Published needs.
    pub demand: u64,
    /// Its deals' figures.
    #[serde(flatten)]
    pub cell: Cell,
}

/// Who brought deals about.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Intermediaries {
    /// Brokers (and administrators) who proposed a deal in scope.
    pub brokers: usize,
    /// Organisations on either side of a deal in scope.
    pub organisations: usize,
}

/// The statistics of one scope.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Statistics {
    /// The province asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub province: Option<String>,
    /// The year asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub year: Option<i32>,
    /// Fewest agreed deals behind a published figure.
    pub min_deals_per_cell: usize,
    /// The whole scope.
    pub market: Cell,
    /// By year of signing, oldest first.
    pub years: Vec<YearRow>,
    /// By major field of science.
    pub fields: Vec<FieldRow>,
    /// Published technologies.
    pub supply: u64,
    /// Published needs.
    pub demand: u64,
    /// Published needs no deal has been proposed for.
    pub needs_without_deal: u64,
    /// Deals proposed (any stage).
    pub deals_proposed: usize,
    /// Who brought deals about.
    pub intermediaries: Intermediaries,
}

/// An agreed deal with what the figures need to know of it.
struct Agreed {
    year: Option<i32>,
    value: u64,
    patent: bool,
    domestic_research: bool,
    field: Option<String>,
}

fn share(part: usize, whole: usize) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

fn cell<'a>(deals: impl Iterator<Item = &'a Agreed>) -> Cell {
    let deals: Vec<&Agreed> = deals.collect();
    let n = deals.len();
    if n < MIN_DEALS {
        return Cell {
            deals_agreed: n,
            suppressed: true,
            ..Cell::default()
        };
    }
    Cell {
        deals_agreed: n,
        value_vnd: Some(deals.iter().map(|d| d.value).sum()),
        ip_share: share(deals.iter().filter(|d| d.patent).count(), n),
        domestic_research_share: share(deals.iter().filter(|d| d.domestic_research).count(), n),
        suppressed: false,
    }
}

/// Published (supply, demand) by major field, and in all.
type MarketCounts = (BTreeMap<String, (u64, u64)>, u64, u64);

/// Published supply and demand counts by major field, from the index's facets.
fn market_counts(
    index: &SearchIndex,
    province: Option<&ProvinceCode>,
) -> Result<MarketCounts, AppError> {
    let mut by_field: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let (mut supply, mut demand) = (0, 0);
    for (kinds, is_supply) in [
        (vec!["research_output", "patent"], true),
        (vec!["need"], false),
    ] {
        let mut filters = vec![
            (Facet::Status, vec!["published".to_string()]),
            (Facet::Kind, kinds.into_iter().map(str::to_string).collect()),
        ];
        if let Some(p) = province {
            filters.push((Facet::Province, vec![p.to_string()]));
        }
        let request = SearchRequest {
            text: String::new(),
            filters,
            trl_min: None,
            offset: 0,
            limit: 0,
            facets: vec![Facet::FieldMajor],
            weights: crate::config::ranking().search,
            expansions: Vec::new(),
            semantic: Vec::new(),
            fusion: crate::config::ranking().semantic.search,
        };
        let found = index.search(&request).map_err(AppError::Index)?;
        let total = found.total as u64;
        if is_supply {
            supply = total;
        } else {
            demand = total;
        }
        for (field, count) in found.facets.get(&Facet::FieldMajor).into_iter().flatten() {
            let entry = by_field.entry(field.clone()).or_default();
            if is_supply {
                entry.0 += count;
            } else {
                entry.1 += count;
            }
        }
    }
    Ok((by_field, supply, demand))
}

/// The major field of a listing's sub-field (`2.8` → `2`).
fn major(field: Option<&FieldCode>) -> Option<String> {
    field.map(|f| f.major().to_string())
}

/// Computes the statistics of `scope`.
///
/// # Errors
/// Store and index failures.
pub fn compute(
    ex: Exchange<'_>,
    index: &SearchIndex,
    scope: &Scope,
) -> Result<Statistics, AppError> {
    let in_scope = |d: &Deal| match &scope.province {
        Some(p) => d.touches(p),
        None => true,
    };
    let deals: Vec<Deal> = ex.deals.deals()?.into_iter().filter(in_scope).collect();
    // The listings behind the deals, read once.
    let ids: BTreeSet<&str> = deals
        .iter()
        .flat_map(|d| [d.need_id.as_str(), d.listing_id.as_str()])
        .collect();
    let ids: Vec<&str> = ids.into_iter().collect();
    let listings: HashMap<String, Listing> = ex
        .listings
        .get_many(&ids)?
        .into_iter()
        .flatten()
        .map(|l| (l.id.clone(), l))
        .collect();
    let mut kinds: HashMap<String, Option<OrgKind>> = HashMap::new();
    let mut org_kind = |name: &str| -> Result<Option<OrgKind>, AppError> {
        if let Some(k) = kinds.get(name) {
            return Ok(*k);
        }
        let kind = ex.orgs.org_by_name(name)?.map(|o| o.kind);
        kinds.insert(name.to_string(), kind);
        Ok(kind)
    };
    let mut agreed = Vec::new();
    let (mut brokers, mut organisations) = (BTreeSet::new(), BTreeSet::new());
    for d in &deals {
        let year = d.signed_on.map(|s| s.year());
        if scope.year.is_some() && scope.year != year.or(Some(d.created_at.year())) {
            continue;
        }
        brokers.insert(d.created_by.clone());
        let technology = listings.get(&d.listing_id);
        let need = listings.get(&d.need_id);
        for owner in [technology, need]
            .into_iter()
            .flatten()
            .filter_map(|l| l.owner.clone())
        {
            organisations.insert(owner);
        }
        if d.stage != Stage::Agreed {
            continue;
        }
        let owner_kind = match technology.and_then(|t| t.owner.as_deref()) {
            Some(owner) => org_kind(owner)?,
            None => None,
        };
        agreed.push(Agreed {
            year,
            value: d.contract_value_vnd.unwrap_or(0),
            patent: technology.is_some_and(|t| t.kind == Kind::Patent),
            domestic_research: matches!(owner_kind, Some(OrgKind::Institute | OrgKind::University)),
            field: major(technology.and_then(|t| t.field.as_ref())),
        });
    }
    let mut years: Vec<YearRow> = agreed
        .iter()
        .filter_map(|a| a.year)
        .collect::<BTreeSet<i32>>()
        .into_iter()
        .map(|y| YearRow {
            year: y,
            cell: cell(agreed.iter().filter(|a| a.year == Some(y))),
            value_growth: None,
        })
        .collect();
    for i in 1..years.len() {
        let (before, now) = (years[i - 1].clone(), &mut years[i]);
        if before.year + 1 == now.year {
            if let (Some(b), Some(n)) = (before.cell.value_vnd, now.cell.value_vnd) {
                if b > 0 {
                    now.value_growth = Some(n as f64 / b as f64 - 1.0);
                }
            }
        }
    }
    let (counts, supply, demand) = market_counts(index, scope.province.as_ref())?;
    let mut majors: BTreeSet<String> = counts.keys().cloned().collect();
    majors.extend(agreed.iter().filter_map(|a| a.field.clone()));
    let fields = majors
        .into_iter()
        .map(|f| {
            let (s, n) = counts.get(&f).copied().unwrap_or((0, 0));
            let fos = field_by_code_str(&f);
            FieldRow {
                label_vi: fos.map(|x| x.label_vi.clone()).unwrap_or_default(),
                label_en: fos.map(|x| x.label_en.clone()).unwrap_or_default(),
                supply: s,
                demand: n,
                cell: cell(
                    agreed
                        .iter()
                        .filter(|a| a.field.as_deref() == Some(f.as_str())),
                ),
                field: f,
            }
        })
        .collect();
    let needs_with_deal = deals
        .iter()
        .filter_map(|d| listings.get(&d.need_id))
        .filter(|n| n.status == Status::Published)
        .map(|n| n.id.as_str())
        .collect::<BTreeSet<_>>()
        .len() as u64;
    Ok(Statistics {
        province: scope.province.as_ref().map(ToString::to_string),
        year: scope.year,
        min_deals_per_cell: MIN_DEALS,
        market: cell(agreed.iter()),
        years,
        fields,
        supply,
        demand,
        needs_without_deal: demand.saturating_sub(needs_with_deal),
        deals_proposed: deals.len(),
        intermediaries: Intermediaries {
            brokers: brokers.len(),
            organisations: organisations.len(),
        },
    })
}

/// The statistics as CSV rows (`section, key, metric, value`), with a byte-order mark for
/// spreadsheet programs. Withheld figures are left empty.
///
/// # Errors
/// [`AppError::Csv`] if the CSV cannot be written.
pub fn to_csv(s: &Statistics) -> Result<String, AppError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["section", "key", "metric", "value"])?;
    let cell_rows = |w: &mut csv::Writer<Vec<u8>>, section: &str, key: &str, c: &Cell| {
        let opt = |v: Option<String>| v.unwrap_or_default();
        for (metric, value) in [
            ("deals_agreed", c.deals_agreed.to_string()),
            ("value_vnd", opt(c.value_vnd.map(|v| v.to_string()))),
            ("ip_share", opt(c.ip_share.map(|v| format!("{v:.4}")))),
            (
                "domestic_research_share",
                opt(c.domestic_research_share.map(|v| format!("{v:.4}"))),
            ),
            ("suppressed", c.suppressed.to_string()),
        ] {
            w.write_record([section, key, metric, &value])?;
        }
        Ok::<_, csv::Error>(())
    };
    cell_rows(&mut w, "market", "", &s.market)?;
    for y in &s.years {
        let key = y.year.to_string();
        cell_rows(&mut w, "year", &key, &y.cell)?;
        if let Some(g) = y.value_growth {
            w.write_record(["year", &key, "value_growth", &format!("{g:.4}")])?;
        }
    }
    for f in &s.fields {
        w.write_record(["field", &f.field, "supply", &f.supply.to_string()])?;
        w.write_record(["field", &f.field, "demand", &f.demand.to_string()])?;
        cell_rows(&mut w, "field", &f.field, &f.cell)?;
    }
    for (metric, value) in [
        ("supply", s.supply.to_string()),
        ("demand", s.demand.to_string()),
        ("needs_without_deal", s.needs_without_deal.to_string()),
        ("deals_proposed", s.deals_proposed.to_string()),
        ("brokers_with_deals", s.intermediaries.brokers.to_string()),
        (
            "organisations_with_deals",
            s.intermediaries.organisations.to_string(),
        ),
    ] {
        w.write_record(["market", "", metric, &value])?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| AppError::Csv(e.into_error().into()))?;
    Ok(format!("\u{feff}{}", String::from_utf8_lossy(&bytes)))
}

/// The statistics as an XLSX workbook (the CSV's rows; figures as numbers).
///
/// # Errors
/// [`AppError::Csv`] or [`AppError::Xlsx`].
pub fn to_xlsx(s: &Statistics) -> Result<Vec<u8>, AppError> {
    super::reports::rows_to_xlsx(to_csv(s)?.trim_start_matches('\u{feff}'))
}

/// Contract values of agreed deals on technologies like one, for valuing it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Comparables {
    /// Agreed deals on similar technologies (same sub-field of science, or an IPC subclass in
    /// common), this technology's own excluded.
    pub count: usize,
    /// Their median contract value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub median_vnd: Option<u64>,
    /// The lowest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_vnd: Option<u64>,
    /// The highest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_vnd: Option<u64>,
    /// Whether the values are withheld (fewer than [`MIN_DEALS`] deals).
    pub suppressed: bool,
}

/// An IPC code's subclass (`A01K 61/00` → `A01K`).
fn ipc_subclass(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace())
        .take(4)
        .collect::<String>()
        .to_uppercase()
}

/// Whether two technologies are alike enough to compare their deals.
fn similar(a: &Listing, b: &Listing) -> bool {
    let same_field = a.field.is_some() && a.field == b.field;
    let shared_ipc = a
        .ipc
        .iter()
        .map(|c| ipc_subclass(c))
        .any(|s| s.len() == 4 && b.ipc.iter().any(|c| ipc_subclass(c) == s));
    same_field || shared_ipc
}

/// The agreed deals on technologies like `technology` (its own left out), as median and range,
/// withheld below [`MIN_DEALS`].
///
/// # Errors
/// Store failures.
pub fn comparables(ex: Exchange<'_>, technology: &Listing) -> Result<Comparables, AppError> {
    let agreed: Vec<Deal> = ex
        .deals
        .deals()?
        .into_iter()
        .filter(|d| d.stage == Stage::Agreed && d.listing_id != technology.id)
        .collect();
    let ids: Vec<&str> = agreed
        .iter()
        .map(|d| d.listing_id.as_str())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let alike: BTreeSet<String> = ex
        .listings
        .get_many(&ids)?
        .into_iter()
        .flatten()
        .filter(|l| similar(technology, l))
        .map(|l| l.id)
        .collect();
    let mut values: Vec<u64> = agreed
        .iter()
        .filter(|d| alike.contains(&d.listing_id))
        .filter_map(|d| d.contract_value_vnd)
        .collect();
    values.sort_unstable();
    let count = values.len();
    if count < MIN_DEALS {
        return Ok(Comparables {
            count,
            median_vnd: None,
            min_vnd: None,
            max_vnd: None,
            suppressed: true,
        });
    }
    let median = if count % 2 == 1 {
        values[count / 2]
    } else {
        (values[count / 2 - 1] + values[count / 2]) / 2
    };
    Ok(Comparables {
        count,
        median_vnd: Some(median),
        min_vnd: values.first().copied(),
        max_vnd: values.last().copied(),
        suppressed: false,
    })
}

/// The query of `GET /statistics` (and of the statistics page).
#[derive(Debug, Default, Deserialize)]
pub struct StatisticsQuery {
    /// A province's code or name.
    pub province: Option<String>,
    /// A year, e.g. 2026.
    pub year: Option<String>,
    /// `json` (default), `csv` or `xlsx`.
    pub format: Option<String>,
}

impl StatisticsQuery {
    /// The scope asked for, checked.
    ///
    /// # Errors
    /// [`AppError::Invalid`] on `province` or `year`.
    pub fn scope(&self) -> Result<Scope, AppError> {
        let province = match self.province.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(p) => Some(
                Provinces::get()
                    .resolve(p)
                    .map_err(|e| invalid("province", e.to_string()))?
                    .code
                    .clone(),
            ),
        };
        let year = match self.year.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(y) => Some(
                y.parse::<i32>()
                    .ok()
                    .filter(|y| (1900..=2200).contains(y))
                    .ok_or_else(|| invalid("year", format!("{y:?} is not a year")))?,
            ),
        };
        Ok(Scope { province, year })
    }
}

/// Computes the statistics of `scope` off the async threads.
pub async fn statistics_of(state: &AppState, scope: Scope) -> Result<Statistics, AppError> {
    let index = state.index.clone();
    state.run(move |ex| compute(ex, &index, &scope)).await
}

/// The agreed deals' values on technologies like `id`, for brokers, administrators and the
/// technology's organisation (which see it in full); a need or a listing the caller may not see
/// answers 404.
pub async fn comparables_of(
    state: &AppState,
    caller: &Caller,
    id: String,
) -> Result<Comparables, AppError> {
    caller.require_signed_in()?;
    let caller = caller.clone();
    let found = state
        .run(move |ex| {
            let Some(listing) = caller.visible(ex.listings.get(&id)?) else {
                return Ok(Err(AppError::NotFound(format!("listing {id:?}"))));
            };
            if listing.kind == crate::domain::Kind::Need {
                return Ok(Err(invalid(
                    "id",
                    "comparable deals are found for research outputs and patents",
                )));
            }
            if !caller.may_value(&listing) {
                return Ok(Err(AppError::Denied(
                    "comparable deals are for brokers, administrators and the technology's organisation".into(),
                )));
            }
            Ok(Ok(comparables(ex, &listing)?))
        })
        .await??;
    Ok(found)
}

fn invalid(field: &str, reason: impl Into<String>) -> AppError {
    AppError::Invalid(crate::domain::FieldError {
        field: field.into(),
        reason: reason.into(),
    })
}
