//! The parts of a match score: each compares one fact of a need with one of a supply.
//!
//! Every component gives a value in 0..=1, or `None` when either side lacks the fact; an
//! unknown component counts as 0.5, so known good facts lift a match and known bad ones lower
//! it, while missing ones do neither.

use serde::{Deserialize, Serialize};

use super::profile::MatchProfile;

/// Value an unknown component counts for.
pub const NEUTRAL: f32 = 0.5;

/// How much each component counts, and the sizes of the candidate pool.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MatchWeights {
    /// Text relevance: how much of the text a listing covers (against what saying it would score).
    pub text: f32,
    /// Same sub-field (1), same major field (0.5), else 0.
    pub field: f32,
    /// IPC overlap (same subclass 1, same class 0.5).
    pub ipc: f32,
    /// Readiness at or above the need's minimum.
    pub trl: f32,
    /// A transfer mode both sides accept.
    pub mode: f32,
    /// Asking price within budget.
    pub budget: f32,
    /// Nearness (same region 1, then falling with distance).
    pub geography: f32,
    /// Distance in km at which nearness falls to one half.
    pub half_distance_km: f32,
    /// Candidates taken from text search before rescoring.
    pub candidates: usize,
    /// Most single-word terms kept from a long text.
    pub salient_terms: usize,
    /// Most two-word terms kept from a long text.
    pub salient_bigrams: usize,
    /// Power of a word's idf (relative to the text's rarest word's) that its query weight is
    /// multiplied by: a long text says many common words, which should count less (0: off).
    pub idf_power: f32,
    /// Best first-pass candidates whose words extend the query of a text in English (0: no
    /// feedback).
    pub feedback_docs: usize,
    /// Most words feedback adds weight to (new words or the text's own).
    pub feedback_terms: usize,
    /// Weight feedback adds to its strongest word (the text's rarest word weighs 1).
    pub feedback_weight: f32,
}

impl Default for MatchWeights {
    fn default() -> Self {
        MatchWeights {
            text: 0.6,
            field: 0.1,
            ipc: 0.05,
            trl: 0.08,
            mode: 0.05,
            budget: 0.05,
            geography: 0.07,
            half_distance_km: 150.0,
            candidates: 200,
            salient_terms: 32,
            salient_bigrams: 32,
            idf_power: 0.5,
            feedback_docs: 5,
            feedback_terms: 20,
            feedback_weight: 0.6,
        }
    }
}

/// Field fit: same sub-field 1, same major field 0.5, different 0.
pub fn field(need: &MatchProfile, supply: &MatchProfile) -> Option<f32> {
    let (a, b) = (need.field.as_deref()?, supply.field.as_deref()?);
    let major = |f: &str| f.split('.').next().map(str::to_string);
    Some(if a == b {
        1.0
    } else if major(a) == major(b) {
        0.5
    } else {
        0.0
    })
}

/// IPC fit: best over pairs; same subclass (A01K) 1, same class (A01) 0.5, else 0.
pub fn ipc(need: &MatchProfile, supply: &MatchProfile) -> Option<f32> {
    if need.ipc.is_empty() || supply.ipc.is_empty() {
        return None;
    }
    let prefix = |code: &str, n: usize| -> String {
        code.chars()
            .filter(|c| !c.is_whitespace())
            .take(n)
            .collect::<String>()
            .to_uppercase()
    };
    let mut best: f32 = 0.0;
    for a in &need.ipc {
        for b in &supply.ipc {
            if prefix(a, 4) == prefix(b, 4) {
                best = best.max(1.0);
            } else if prefix(a, 3) == prefix(b, 3) {
                best = best.max(0.5);
            }
        }
    }
    Some(best)
}

/// Readiness fit: 1 at or above the need's minimum, a quarter less per level below.
pub fn trl(need: &MatchProfile, supply: &MatchProfile) -> Option<f32> {
    let (min, offered) = (need.trl_min?, supply.trl?);
    Some(if offered >= min {
        1.0
    } else {
        (1.0 - 0.25 * f32::from(min - offered)).max(0.0)
    })
}

/// Transfer-mode fit: 1 when the sides share a mode, 0 when they share none.
pub fn mode(need: &MatchProfile, supply: &MatchProfile) -> Option<f32> {
    if need.modes.is_empty() || supply.modes.is_empty() {
        return None;
    }
    Some(if need.modes.iter().any(|m| supply.modes.contains(m)) {
        1.0
    } else {
        0.0
    })
}

/// Budget fit: 1 when the price is within budget, falling to 0 at twice the budget.
pub fn budget(need: &MatchProfile, supply: &MatchProfile) -> Option<f32> {
    let (budget, price) = (need.budget_max?, supply.price?);
    if price <= budget {
        return Some(1.0);
    }
    let over = (price - budget) as f64 / budget.max(1) as f64;
    Some((1.0 - over).max(0.0) as f32)
}

/// Distance between two profiles' centres in km, when both are known.
pub fn distance_km(a: &MatchProfile, b: &MatchProfile) -> Option<f64> {
    let (lat1, lon1, lat2, lon2) = (a.lat?, a.lon?, b.lat?, b.lon?);
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let h = ((p2 - p1) / 2.0).sin().powi(2)
        + p1.cos() * p2.cos() * ((lon2 - lon1).to_radians() / 2.0).sin().powi(2);
    Some(2.0 * 6371.0 * h.sqrt().asin())
}

/// Nearness: 1 in the same region, else half at `half_km` and falling with distance.
pub fn geography(a: &MatchProfile, b: &MatchProfile, half_km: f32) -> Option<f32> {
    if let (Some(x), Some(y)) = (&a.region, &b.region) {
        if x == y {
            return Some(1.0);
        }
    }
    let d = distance_km(a, b)? as f32;
    // Just below 1 even at distance 0, so that the same region always ranks first.
    Some(0.95 / (1.0 + d / half_km.max(1.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(f: impl FnOnce(&mut MatchProfile)) -> MatchProfile {
        let mut m = MatchProfile::default();
        f(&mut m);
        m
    }

    #[test]
    fn each_component_orders_good_above_bad() {
        let need = p(|m| {
            m.field = Some("2.2".into());
            m.trl_min = Some(6);
            m.modes = vec!["licence".into()];
            m.budget_max = Some(100);
            m.ipc = vec!["A01K 61/00".into()];
        });
        let good = p(|m| {
            m.field = Some("2.2".into());
            m.trl = Some(7);
            m.modes = vec!["licence".into()];
            m.price = Some(90);
            m.ipc = vec!["A01K 63/04".into()];
        });
        let bad = p(|m| {
            m.field = Some("3.1".into());
            m.trl = Some(2);
            m.modes = vec!["assignment".into()];
            m.price = Some(250);
            m.ipc = vec!["C02F 3/00".into()];
        });
        for (name, f) in [
            (
                "field",
                field as fn(&MatchProfile, &MatchProfile) -> Option<f32>,
            ),
            ("trl", trl),
            ("mode", mode),
            ("budget", budget),
            ("ipc", ipc),
        ] {
            assert_eq!(f(&need, &good), Some(1.0), "{name}");
            assert_eq!(f(&need, &bad), Some(0.0), "{name}");
            assert_eq!(f(&need, &MatchProfile::default()), None, "{name}");
        }
        let sibling = p(|m| m.field = Some("2.3".into()));
        assert_eq!(field(&need, &sibling), Some(0.5));
    }

    #[test]
    fn nearness_falls_with_distance_and_peaks_in_the_same_region() {
        let hanoi = p(|m| {
            m.region = Some("01".into());
            m.lat = Some(21.0);
            m.lon = Some(105.7);
        });
        let bac_ninh = p(|m| {
            m.region = Some("24".into());
            m.lat = Some(21.24);
            m.lon = Some(106.17);
        });
        let ca_mau = p(|m| {
            m.region = Some("96".into());
            m.lat = Some(9.14);
            m.lon = Some(105.18);
        });
        let same = geography(&hanoi, &hanoi, 150.0).unwrap();
        let near = geography(&hanoi, &bac_ninh, 150.0).unwrap();
        let far = geography(&hanoi, &ca_mau, 150.0).unwrap();
        assert!(same > near && near > far, "{same} {near} {far}");
    }
}
