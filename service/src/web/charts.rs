//! Server-drawn SVG charts for the broker desk: supply against demand by field of science,
//! the deal funnel, and flows between provinces. Plain SVG, no scripts; text is escaped by maud.

use maud::{html, Markup};

use super::Lang;
use crate::domain::deal::Stage;
use crate::report::{DealFigures, FieldRow, Flow};

/// Chart width in SVG units; the charts scale down to the screen.
const WIDTH: u32 = 560;
/// Height of one bar row.
const ROW: u32 = 26;
/// Room for the labels on the left.
const LABEL: u32 = 190;
const SUPPLY: &str = "#0b5cad";
const DEMAND: &str = "#e07b00";

/// Cuts a label to `n` characters so that it fits beside the bars.
fn short(text: &str, n: usize) -> String {
    if text.chars().count() <= n {
        text.to_string()
    } else {
        format!("{}…", text.chars().take(n - 1).collect::<String>())
    }
}

/// A bar's length for `value` out of `max`, in SVG units, leaving room for a figure after it.
fn bar(value: u64, max: u64) -> u32 {
    let room = f64::from(WIDTH - LABEL - 110);
    if max == 0 {
        0
    } else {
        (room * value as f64 / max as f64).round() as u32
    }
}

/// Two bars per field: supply (blue) and demand (orange); the fields with most listings first.
pub fn supply_demand(l: Lang, rows: &[FieldRow]) -> Markup {
    let mut rows: Vec<&FieldRow> = rows.iter().collect();
    rows.sort_by(|a, b| {
        (b.supply + b.demand)
            .cmp(&(a.supply + a.demand))
            .then(a.field.cmp(&b.field))
    });
    rows.truncate(10);
    let max = rows
        .iter()
        .map(|r| r.supply.max(r.demand))
        .max()
        .unwrap_or(0);
    let height = 30 + ROW * rows.len().max(1) as u32;
    html! {
        figure {
            figcaption { (l.t("Cung và cầu theo lĩnh vực", "Supply and demand by field")) }
            svg xmlns="http://www.w3.org/2000/svg" viewBox=(format!("0 0 {WIDTH} {height}")) role="img"
                aria-label=(l.t("Cung và cầu theo lĩnh vực", "Supply and demand by field")) {
                rect x=(LABEL) y="4" width="10" height="10" fill=(SUPPLY) {}
                text x=(LABEL + 14) y="13" font-size="13" { (l.t("Cung (công nghệ)", "Supply (technologies)")) }
                rect x=(LABEL + 170) y="4" width="10" height="10" fill=(DEMAND) {}
                text x=(LABEL + 184) y="13" font-size="13" { (l.t("Cầu (nhu cầu)", "Demand (needs)")) }
                @if rows.is_empty() {
                    text x="0" y="44" font-size="12" fill="#5a6776" { (l.t("Chưa có tin đăng.", "No listings yet.")) }
                }
                @for (i, r) in rows.iter().enumerate() {
                    @let y = 24 + ROW * i as u32;
                    @let name = format!("{} {}", r.field, r.label.as_deref().unwrap_or_default());
                    text x="0" y=(y + 15) font-size="13" { title { (name) } (short(&name, 26)) }
                    rect x=(LABEL) y=(y + 3) width=(bar(r.supply, max)) height="9" fill=(SUPPLY) {}
                    text x=(LABEL + bar(r.supply, max) + 4) y=(y + 11) font-size="13" { (r.supply) }
                    rect x=(LABEL) y=(y + 13) width=(bar(r.demand, max)) height="9" fill=(DEMAND) {}
                    text x=(LABEL + bar(r.demand, max) + 4) y=(y + 21) font-size="13" { (r.demand) }
                }
            }
        }
    }
}

/// The deal funnel: one centred bar per stage, widest for the most deals.
pub fn funnel(l: Lang, deals: &DealFigures) -> Markup {
    let max = deals.by_stage.values().copied().max().unwrap_or(0);
    let height = 8 + ROW * Stage::ALL.len() as u32;
    let conversion = deals
        .conversion
        .map(|c| format!("{:.0}%", c * 100.0))
        .unwrap_or_else(|| "–".into());
    html! {
        figure {
            figcaption {
                (l.t("Phễu giao dịch", "Deal funnel")) " · "
                (l.t("tỷ lệ thành công", "conversion")) " " (conversion)
            }
            svg xmlns="http://www.w3.org/2000/svg" viewBox=(format!("0 0 {WIDTH} {height}")) role="img"
                aria-label=(l.t("Phễu giao dịch", "Deal funnel")) {
                @for (i, stage) in Stage::ALL.iter().enumerate() {
                    @let n = deals.by_stage.get(stage).copied().unwrap_or(0);
                    @let w = bar(n, max).max(2);
                    @let y = 4 + ROW * i as u32;
                    @let x = LABEL + (WIDTH - LABEL - 110 - w) / 2;
                    text x="0" y=(y + 16) font-size="13" { (l.stage(*stage)) }
                    rect x=(x) y=(y + 2) width=(w) height="18" rx="3"
                        fill=(if *stage == Stage::Lost { "#9aa8b8" } else { SUPPLY }) {}
                    text x=(WIDTH - 100) y=(y + 16) font-size="13" { (n) }
                }
            }
        }
    }
}

/// Flows from the supplier's province to the demander's, largest first.
pub fn flows(l: Lang, flows: &[Flow]) -> Markup {
    let flows: Vec<&Flow> = flows.iter().take(8).collect();
    let max = flows.iter().map(|f| f.deals).max().unwrap_or(0);
    let height = 8 + ROW * flows.len().max(1) as u32;
    let unknown = l.t("không rõ", "unknown");
    html! {
        figure {
            figcaption { (l.t("Luồng chuyển giao giữa các tỉnh (nơi cung → nơi cầu)", "Flows between provinces (supplier → demander)")) }
            svg xmlns="http://www.w3.org/2000/svg" viewBox=(format!("0 0 {WIDTH} {height}")) role="img"
                aria-label=(l.t("Luồng chuyển giao giữa các tỉnh", "Flows between provinces")) {
                @if flows.is_empty() {
                    text x="0" y="20" font-size="12" fill="#5a6776" { (l.t("Chưa có giao dịch.", "No deals yet.")) }
                }
                @for (i, f) in flows.iter().enumerate() {
                    @let y = 4 + ROW * i as u32;
                    @let name = format!("{} → {}", f.from_name.as_deref().unwrap_or(unknown), f.to_name.as_deref().unwrap_or(unknown));
                    text x="0" y=(y + 16) font-size="13" { title { (name) } (short(&name, 26)) }
                    rect x=(LABEL) y=(y + 4) width=(bar(f.deals, max).max(2)) height="14" fill="#2e7d32" {}
                    text x=(LABEL + bar(f.deals, max).max(2) + 4) y=(y + 16) font-size="13" {
                        (f.deals) " (" (f.agreed) " " (l.t("đã ký", "agreed")) ")"
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_in_charts_are_escaped_and_bars_scale() {
        let rows = vec![FieldRow {
            field: "2.8".into(),
            label: Some("<script>x</script>".into()),
            supply: 4,
            demand: 2,
        }];
        let svg = supply_demand(Lang::Vi, &rows).into_string();
        assert!(!svg.contains("<script>") && svg.contains("&lt;script&gt;"));
        assert_eq!(bar(2, 4) * 2, bar(4, 4));
        assert_eq!(bar(1, 0), 0);
    }
}
