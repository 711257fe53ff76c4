//! The structured facts of a listing that matching compares, and the geography policy.

use serde::{Deserialize, Serialize};

/// What matching knows of a listing besides its text. Every fact is optional: an unknown fact
/// scores neutral, neither for nor against.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MatchProfile {
    /// Field-of-science code, e.g. "2.2".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// IPC classes, e.g. "A01K 61/59".
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ipc: Vec<String>,
    /// Readiness level offered (supply).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trl: Option<u8>,
    /// Lowest readiness level accepted (need).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trl_min: Option<u8>,
    /// Transfer modes offered (supply) or preferred (need).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub modes: Vec<String>,
    /// Asking price (supply).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price: Option<u64>,
    /// Upper end of the budget (need).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget_max: Option<u64>,
    /// Region code (a province), compared for equality.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Latitude of the region's centre.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lat: Option<f64>,
    /// Longitude of the region's centre.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lon: Option<f64>,
    /// Last day the offer is valid (patent expiry), as YYYY-MM-DD.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<String>,
    /// No longer on offer (e.g. a lapsed patent), whatever the date.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub lapsed: bool,
}

impl MatchProfile {
    /// Whether the offer has ended by `today` (YYYY-MM-DD).
    pub fn ended(&self, today: &str) -> bool {
        self.lapsed
            || self
                .valid_until
                .as_deref()
                .is_some_and(|until| until < today)
    }
}

/// Where matches may come from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Geography {
    /// Any region, distance ignored.
    Any,
    /// Any region, nearer ones preferred.
    #[default]
    PreferNear,
    /// Only these regions (codes).
    Only(Vec<String>),
}
