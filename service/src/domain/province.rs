//! The 34 provincial units of 2025, and reading a province out of whatever a user typed.
//!
//! Input names a province by code, full or short name, with or without diacritics, by an alias
//! ("TP.HCM", "Sài Gòn"), or by one of the 63 provinces before the 2025 merger, which resolves to
//! the unit it became. Names are compared in folded form with administrative prefixes removed.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use techmatch_index::analysis::fold_text;

const PROVINCES_2025: &str = include_str!("../../fixtures/reference/provinces-2025.csv");
const LEGACY_TO_2025: &str = include_str!("../../fixtures/reference/legacy-63-to-2025-34.csv");
const LEGACY_63: &str = include_str!("../../fixtures/reference/provinces-legacy-63.csv");

/// Aliases people write that the reference tables lack; each maps to a 2025 code.
const EXTRA_ALIASES: &[(&str, &str)] = &[
    ("tphcm", "79"),
    ("tp hcm", "79"),
    ("hcmc", "79"),
    ("sai gon", "79"),
    ("saigon", "79"),
    ("ho chi minh city", "79"),
    ("ha noi", "01"),
    ("hanoi", "01"),
    ("tp hn", "01"),
    ("da nang", "48"),
    ("danang", "48"),
    ("hai phong", "31"),
    ("haiphong", "31"),
    ("can tho", "92"),
    ("hue", "46"),
    ("thua thien hue", "46"),
    ("ba ria vung tau", "79"),
    ("vung tau", "79"),
    ("brvt", "79"),
];

/// A province code of the 2025 structure, e.g. `"01"` for Hà Nội.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ProvinceCode(String);

impl ProvinceCode {
    /// The two-digit code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ProvinceCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One provincial unit of 2025.
#[derive(Debug, Clone, Serialize)]
pub struct Province {
    /// Two-digit code.
    pub code: ProvinceCode,
    /// Full name, e.g. "Thành phố Hà Nội".
    pub name: String,
    /// Short name, e.g. "Hà Nội".
    pub short_name: String,
    /// Centroid latitude.
    pub lat: f64,
    /// Centroid longitude.
    pub lon: f64,
}

/// Why a province name could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown province {input:?}{}", suggestion_text(.suggestions))]
pub struct UnknownProvince {
    /// What was typed.
    pub input: String,
    /// The nearest known names.
    pub suggestions: Vec<String>,
}

fn suggestion_text(s: &[String]) -> String {
    if s.is_empty() {
        String::new()
    } else {
        format!("; did you mean {}?", s.join(", "))
    }
}

/// The province table with its lookup of every accepted name.
#[derive(Debug)]
pub struct Provinces {
    list: Vec<Province>,
    by_key: HashMap<String, usize>,
}

/// Folds a name for lookup: no diacritics, no punctuation, no "tỉnh"/"thành phố" prefix.
fn key(name: &str) -> String {
    let folded = fold_text(name);
    let words: Vec<&str> = folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let skip = match words.as_slice() {
        ["tinh", _, ..] | ["tp", _, ..] => 1,
        ["thanh", "pho", _, ..] => 2,
        _ => 0,
    };
    words[skip..].join(" ")
}

impl Provinces {
    /// The table shipped with techmatch.
    pub fn get() -> &'static Provinces {
        static TABLE: OnceLock<Provinces> = OnceLock::new();
        TABLE.get_or_init(Provinces::load)
    }

    fn load() -> Provinces {
        let mut list = Vec::new();
        let mut by_key = HashMap::new();
        for row in csv_rows(PROVINCES_2025) {
            let [code, name, short, lat, lon, aliases, ..] = row.as_slice() else {
                continue;
            };
            let i = list.len();
            list.push(Province {
                code: ProvinceCode(code.clone()),
                name: name.clone(),
                short_name: short.clone(),
                lat: lat.parse().unwrap_or(0.0),
                lon: lon.parse().unwrap_or(0.0),
            });
            for k in [code.as_str(), name, short]
                .into_iter()
                .chain(aliases.split('|'))
            {
                if !k.is_empty() {
                    by_key.insert(key(k), i);
                }
            }
        }
        let index_of = |code: &str| list.iter().position(|p| p.code.0 == code);
        // Legacy names never override a 2025 name (Hà Nội, Cao Bằng… kept theirs).
        for row in csv_rows(LEGACY_TO_2025) {
            if let [_, old_name, new_code, ..] = row.as_slice() {
                if let Some(i) = index_of(new_code) {
                    by_key.entry(key(old_name)).or_insert(i);
                }
            }
        }
        let legacy_names: HashMap<String, String> = csv_rows(LEGACY_TO_2025)
            .into_iter()
            .filter_map(|r| Some((key(r.get(1)?), r.get(2)?.clone())))
            .collect();
        for row in csv_rows(LEGACY_63) {
            if let [_, name, short, _, _, aliases, ..] = row.as_slice() {
                let Some(i) = legacy_names.get(&key(name)).and_then(|c| index_of(c)) else {
                    continue;
                };
                for k in std::iter::once(short.as_str()).chain(aliases.split('|')) {
                    if !k.is_empty() {
                        by_key.entry(key(k)).or_insert(i);
                    }
                }
            }
        }
        for (alias, code) in EXTRA_ALIASES {
            if let Some(i) = index_of(code) {
                by_key.entry(key(alias)).or_insert(i);
            }
        }
        Provinces { list, by_key }
    }

    /// Every province, by code.
    pub fn all(&self) -> &[Province] {
        &self.list
    }

    /// The province with this code.
    pub fn by_code(&self, code: &ProvinceCode) -> Option<&Province> {
        self.by_code_str(code.as_str())
    }

    /// The province whose code is `code` (as stored in the index or a profile).
    pub fn by_code_str(&self, code: &str) -> Option<&Province> {
        self.list.iter().find(|p| p.code.0 == code)
    }

    /// Reads a province from a code, a name (2025 or legacy) or an alias.
    ///
    /// # Errors
    /// [`UnknownProvince`] with the nearest names when nothing matches.
    pub fn resolve(&self, input: &str) -> Result<&Province, UnknownProvince> {
        let k = key(input);
        if let Some(&i) = self.by_key.get(&k) {
            return Ok(&self.list[i]);
        }
        // A code may come without its leading zero ("1" for "01").
        if let Ok(n) = k.parse::<u32>() {
            if let Some(&i) = self.by_key.get(&format!("{n:02}")) {
                return Ok(&self.list[i]);
            }
        }
        Err(UnknownProvince {
            input: input.to_string(),
            suggestions: self.nearest(&k, 3),
        })
    }

    fn nearest(&self, k: &str, n: usize) -> Vec<String> {
        let mut scored: Vec<(f64, &str)> = self
            .by_key
            .iter()
            .filter(|(key, _)| key.len() > 3)
            .map(|(key, &i)| {
                (
                    strsim::jaro_winkler(k, key),
                    self.list[i].short_name.as_str(),
                )
            })
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
        let mut out: Vec<String> = Vec::new();
        for (score, name) in scored {
            if score < 0.7 || out.len() == n {
                break;
            }
            if !out.iter().any(|o| o == name) {
                out.push(name.to_string());
            }
        }
        out
    }

    /// Distance in kilometres between two provinces' centroids.
    pub fn distance_km(&self, a: &ProvinceCode, b: &ProvinceCode) -> Option<f64> {
        let (a, b) = (self.by_code(a)?, self.by_code(b)?);
        Some(haversine_km(a.lat, a.lon, b.lat, b.lon))
    }
}

/// Great-circle distance between two points, in kilometres.
pub fn haversine_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * 6371.0 * h.sqrt().asin()
}

/// Rows of an embedded CSV table after its header; the tables are ours, so a bad row is skipped.
pub(crate) fn csv_rows(text: &str) -> Vec<Vec<String>> {
    csv::Reader::from_reader(text.as_bytes())
        .records()
        .filter_map(Result::ok)
        .map(|r| r.iter().map(str::to_string).collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(input: &str) -> String {
        match Provinces::get().resolve(input) {
            Ok(p) => p.code.to_string(),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn every_2025_unit_is_loaded() {
        assert_eq!(Provinces::get().all().len(), 34);
    }

    #[test]
    fn names_codes_and_aliases_resolve() {
        for (input, expected) in [
            ("01", "01"),
            ("1", "01"),
            ("Thành phố Hà Nội", "01"),
            ("Hà Nội", "01"),
            ("ha noi", "01"),
            ("HCM", "79"),
            ("TP.HCM", "79"),
            ("TP. Hồ Chí Minh", "79"),
            ("Sài Gòn", "79"),
            ("Tỉnh Khánh Hòa", "56"),
            ("Khanh Hoa", "56"),
            ("Đắk Lắk", "66"),
            ("Dak Lak", "66"),
        ] {
            assert_eq!(code(input), expected, "{input}");
        }
    }

    #[test]
    fn legacy_provinces_resolve_to_their_2025_unit() {
        assert_eq!(code("Bình Định"), "52");
        assert_eq!(code("Bắc Kạn"), "19");
        assert_eq!(code("Tỉnh Bà Rịa - Vũng Tàu"), "79");
        assert_eq!(code("soc trang"), "92");
        assert_eq!(code("Quảng Nam"), "48");
    }

    #[test]
    fn unknown_province_suggests_nearest_names() {
        let err = Provinces::get().resolve("Hà Nộii").unwrap_err();
        assert_eq!(err.suggestions.first().map(String::as_str), Some("Hà Nội"));
        assert!(Provinces::get().resolve("Atlantis").is_err());
    }

    #[test]
    fn distance_between_hanoi_and_bac_ninh_is_short() {
        let p = Provinces::get();
        let d = p
            .distance_km(&ProvinceCode("01".into()), &ProvinceCode("24".into()))
            .unwrap_or(f64::MAX);
        assert!(d > 20.0 && d < 80.0, "{d}");
    }
}
