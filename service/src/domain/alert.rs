//! Standing searches and the alerts they raise: a member's saved search, or a need (technology)
//! standing for technologies (needs) on behalf of its organisation's members; and the
//! notification one raises when a listing enters its first results.
//!
//! Plain data and rules: storage is behind `store::AlertStore`, percolation in `alerts`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How many of a saved search's first results a listing must enter to raise an alert.
pub const FIRST_RESULTS: usize = 10;
/// Lowest match score (0–1) at which a listing fits a need or technology's standing search.
pub const MATCH_THRESHOLD: f32 = 0.35;

/// A saved search's parameters, as `GET /api/v1/search` takes them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SavedQuery {
    /// Free text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// Kinds, comma-separated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Provinces, comma-separated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub province: Option<String>,
    /// Fields of science, comma-separated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Lowest readiness level.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trl_min: Option<String>,
    /// Transfer modes, comma-separated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transfer_mode: Option<String>,
}

/// When its owner is mailed about new alerts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    /// One mail per alert, as soon as it is found.
    #[default]
    Immediate,
    /// One mail a day with every alert since the last.
    Daily,
}

/// A standing search: what makes a listing worth telling its owner about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StandingSearch {
    /// `ss-` and random hex (saved), or `sl-<user id>-<listing id>` (a listing's, per member).
    pub id: String,
    /// Who is told.
    pub user_id: String,
    /// The search, for a saved one.
    #[serde(default)]
    pub query: SavedQuery,
    /// The need or technology this search stands for; its matches are the results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listing_id: Option<String>,
    /// The secret in its feed and unsubscribe links (a capability like a private calendar
    /// link: it opens this feed and nothing else).
    pub secret: String,
    /// How its alerts are mailed.
    #[serde(default)]
    pub delivery: Delivery,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// False once unsubscribed (kept for a listing's search, so that it is not made again).
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

impl StandingSearch {
    /// The id of the standing search that `listing_id` keeps on behalf of `user_id`.
    pub fn for_listing_id(user_id: &str, listing_id: &str) -> String {
        format!("sl-{user_id}-{listing_id}")
    }
}

/// One alert as its owner sees it: in the app, in the feed and (once) by mail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    /// `n-<change seq, 16 hex>-<search id>`: one per standing search and listing version, and
    /// ordered by when the listing changed.
    pub id: String,
    /// Whom it is for.
    pub user_id: String,
    /// The standing search it fits.
    pub search_id: String,
    /// The listing that entered the search's first results.
    pub listing_id: String,
    /// The listing's title then.
    pub title: String,
    /// Why, in Vietnamese and English.
    pub reason: String,
    /// When it was found.
    pub created_at: DateTime<Utc>,
    /// Whether its owner has read it.
    #[serde(default)]
    pub read: bool,
    /// Whether it has been mailed (immediately, or in a digest).
    #[serde(default)]
    pub mailed: bool,
}

impl Notification {
    /// The notification id for `search_id` at change `seq`.
    pub fn id_for(seq: u64, search_id: &str) -> String {
        format!("n-{seq:016x}-{search_id}")
    }
}
