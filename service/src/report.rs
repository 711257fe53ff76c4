//! The province and national reports on the technology market: supply and demand by field of
//! science, needs left without a deal, the deal pipeline, and flows between provinces.
//!
//! Computed from a scan of the store on each request; fine at the size of a national market.
//! Only published listings count as supply and demand. A deal counts for a province when its
//! need or its technology is there; a flow runs from the technology's province (supplier) to
//! the need's (demander).

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::domain::deal::{Deal, Stage};
use crate::domain::field::field_by_code;
use crate::domain::{Kind, Listing, ProvinceCode, Provinces, Status};

/// Days after which a need without any deal is reported.
pub const STALE_AFTER_DAYS: i64 = 30;

/// What a report covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Scope {
    /// `province` or `national`.
    pub kind: &'static str,
    /// The province's code (province reports).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<ProvinceCode>,
    /// The province's short name (province reports).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Supply and demand in one field of science.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldRow {
    /// The field's code, or `unspecified`.
    pub field: String,
    /// Its Vietnamese label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Published research outputs and patents.
    pub supply: u64,
    /// Published needs.
    pub demand: u64,
}

/// A published need with no deal, older than [`STALE_AFTER_DAYS`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StaleNeed {
    /// The need's id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// When it was posted.
    pub created_at: DateTime<Utc>,
    /// Whole days since.
    pub days_open: i64,
}

/// The deal pipeline in figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DealFigures {
    /// Deals per stage, every stage present.
    pub by_stage: BTreeMap<Stage, u64>,
    /// All deals.
    pub total: u64,
    /// Agreed or lost.
    pub closed: u64,
    /// Agreed / closed; `None` while none is closed.
    pub conversion: Option<f64>,
    /// Sum of agreed contract values, in VND.
    pub signed_value_vnd: u64,
}

/// Deals from a supplier province to a demander province.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Flow {
    /// The technology's province.
    pub from: Option<ProvinceCode>,
    /// Its short name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_name: Option<String>,
    /// The need's province.
    pub to: Option<ProvinceCode>,
    /// Its short name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_name: Option<String>,
    /// Deals.
    pub deals: u64,
    /// Of which agreed.
    pub agreed: u64,
    /// Their signed value, in VND.
    pub signed_value_vnd: u64,
}

/// A province or national report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// What it covers.
    pub scope: Scope,
    /// When it was computed (the "now" of stale needs).
    pub generated_at: DateTime<Utc>,
    /// Supply and demand by field of science, by field code.
    pub supply_demand: Vec<FieldRow>,
    /// Needs without a deal after [`STALE_AFTER_DAYS`], oldest first.
    pub stale_needs: Vec<StaleNeed>,
    /// The deal pipeline.
    pub deals: DealFigures,
    /// Flows between provinces, largest first.
    pub flows: Vec<Flow>,
}

fn name(code: &Option<ProvinceCode>) -> Option<String> {
    let code = code.as_ref()?;
    Provinces::get().by_code(code).map(|p| p.short_name.clone())
}

/// Computes the report for `province`, or the national one when `None`.
pub fn build(
    province: Option<&ProvinceCode>,
    listings: impl IntoIterator<Item = Listing>,
    deals: &[Deal],
    now: DateTime<Utc>,
) -> Report {
    let in_scope = |p: &Option<ProvinceCode>| province.is_none() || p.as_ref() == province;
    let dealt: HashSet<&str> = deals.iter().map(|d| d.need_id.as_str()).collect();
    let stale_before = now - Duration::days(STALE_AFTER_DAYS);
    let mut fields: BTreeMap<String, FieldRow> = BTreeMap::new();
    let mut stale_needs = Vec::new();
    for l in listings {
        if l.status != Status::Published || !in_scope(&l.province) {
            continue;
        }
        let key = l
            .field
            .as_ref()
            .map_or("unspecified", |f| f.as_str())
            .to_string();
        let row = fields.entry(key.clone()).or_insert_with(|| FieldRow {
            label: l
                .field
                .as_ref()
                .and_then(field_by_code)
                .map(|f| f.label_vi.clone()),
            field: key,
            supply: 0,
            demand: 0,
        });
        if l.kind == Kind::Need {
            row.demand += 1;
            if l.created_at <= stale_before && !dealt.contains(l.id.as_str()) {
                stale_needs.push(StaleNeed {
                    days_open: (now - l.created_at).num_days(),
                    id: l.id,
                    title: l.title,
                    created_at: l.created_at,
                });
            }
        } else {
            row.supply += 1;
        }
    }
    stale_needs.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));

    let deals: Vec<&Deal> = deals
        .iter()
        .filter(|d| province.is_none_or(|p| d.touches(p)))
        .collect();
    let mut by_stage: BTreeMap<Stage, u64> = Stage::ALL.into_iter().map(|s| (s, 0)).collect();
    let mut flows: BTreeMap<(Option<ProvinceCode>, Option<ProvinceCode>), Flow> = BTreeMap::new();
    let mut signed = 0u64;
    for d in &deals {
        *by_stage.entry(d.stage).or_default() += 1;
        let value = match d.stage {
            Stage::Agreed => d.contract_value_vnd.unwrap_or(0),
            _ => 0,
        };
        signed = signed.saturating_add(value);
        let key = (d.listing_province.clone(), d.need_province.clone());
        let flow = flows.entry(key).or_insert_with(|| Flow {
            from_name: name(&d.listing_province),
            from: d.listing_province.clone(),
            to_name: name(&d.need_province),
            to: d.need_province.clone(),
            deals: 0,
            agreed: 0,
            signed_value_vnd: 0,
        });
        flow.deals += 1;
        flow.agreed += u64::from(d.stage == Stage::Agreed);
        flow.signed_value_vnd = flow.signed_value_vnd.saturating_add(value);
    }
    let agreed = by_stage.get(&Stage::Agreed).copied().unwrap_or(0);
    let closed = agreed + by_stage.get(&Stage::Lost).copied().unwrap_or(0);
    let mut flows: Vec<Flow> = flows.into_values().collect();
    flows.sort_by_key(|f| std::cmp::Reverse(f.deals));
    Report {
        scope: Scope {
            kind: if province.is_some() {
                "province"
            } else {
                "national"
            },
            code: province.cloned(),
            name: name(&province.cloned()),
        },
        generated_at: now,
        supply_demand: fields.into_values().collect(),
        stale_needs,
        deals: DealFigures {
            by_stage,
            total: deals.len() as u64,
            closed,
            conversion: (closed > 0).then(|| agreed as f64 / closed as f64),
            signed_value_vnd: signed,
        },
        flows,
    }
}

/// A cell that a spreadsheet will show as text: one starting like a formula (`=`, `+`, `-`,
/// `@`, tab, carriage return) gets a leading apostrophe, so `=HYPERLINK(...)` typed into a
/// title cannot run when a broker opens the export.
pub fn spreadsheet_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

/// Header of the CSV form: one figure per row, ready to pivot in a spreadsheet.
pub const CSV_HEADER: [&str; 6] = ["section", "key", "key2", "label", "metric", "value"];

impl Report {
    /// The report as CSV with [`CSV_HEADER`]: sections `supply_demand`, `stale_need`, `stage`,
    /// `deals` and `flow`.
    ///
    /// # Errors
    /// Only if writing to memory fails, which the csv crate reports as an error.
    pub fn to_csv(&self) -> Result<String, csv::Error> {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(CSV_HEADER)?;
        for r in &self.supply_demand {
            let label = r.label.as_deref().unwrap_or("");
            for (metric, value) in [("supply", r.supply), ("demand", r.demand)] {
                w.write_record([
                    "supply_demand",
                    &r.field,
                    "",
                    &spreadsheet_safe(label),
                    metric,
                    &value.to_string(),
                ])?;
            }
        }
        for n in &self.stale_needs {
            let days = n.days_open.to_string();
            w.write_record([
                "stale_need",
                &n.id,
                "",
                &spreadsheet_safe(&n.title),
                "days_open",
                &days,
            ])?;
        }
        for (stage, count) in &self.deals.by_stage {
            w.write_record(["stage", stage.name(), "", "", "deals", &count.to_string()])?;
        }
        let d = &self.deals;
        let conversion = d.conversion.map(|c| format!("{c:.4}")).unwrap_or_default();
        for (metric, value) in [
            ("total", d.total.to_string()),
            ("closed", d.closed.to_string()),
            ("conversion", conversion),
            ("signed_value_vnd", d.signed_value_vnd.to_string()),
        ] {
            w.write_record(["deals", "", "", "", metric, &value])?;
        }
        for f in &self.flows {
            let code =
                |c: &Option<ProvinceCode>| c.as_ref().map(|c| c.to_string()).unwrap_or_default();
            let label = format!(
                "{} → {}",
                f.from_name.as_deref().unwrap_or("?"),
                f.to_name.as_deref().unwrap_or("?")
            );
            let (from, to) = (code(&f.from), code(&f.to));
            for (metric, value) in [
                ("deals", f.deals),
                ("agreed", f.agreed),
                ("signed_value_vnd", f.signed_value_vnd),
            ] {
                w.write_record([
                    "flow",
                    &from,
                    &to,
                    &spreadsheet_safe(&label),
                    metric,
                    &value.to_string(),
                ])?;
            }
        }
        let bytes = w
            .into_inner()
            .map_err(|e| csv::Error::from(e.into_error()))?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }
}

#[cfg(test)]
mod csv_tests {
    use super::spreadsheet_safe;

    #[test]
    fn formula_cells_are_defused_and_text_is_left_alone() {
        assert_eq!(
            spreadsheet_safe("=HYPERLINK(\"http://x\")"),
            "'=HYPERLINK(\"http://x\")"
        );
        assert_eq!(spreadsheet_safe("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(spreadsheet_safe("Máy sấy"), "Máy sấy");
    }
}
