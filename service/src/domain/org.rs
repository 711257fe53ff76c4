//! Organisations as records: institutes, universities and enterprises with a profile, their
//! administrators, requests to join, and the province broker's verification.
//!
//! A member's organisation is still matched by name against listings' `owner`, so the name is
//! unique (after NFC, case folding and collapsed spaces) and does not change except by an
//! administrator's merge.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::account::{fold, invisible, Role};
use super::input::FieldError;
use super::province::{ProvinceCode, Provinces};

/// Longest organisation name, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// Longest description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 4000;
/// Longest registration number or website, in characters.
pub const MAX_SHORT_CHARS: usize = 200;

/// What kind of organisation it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrgKind {
    /// A research institute.
    Institute,
    /// A university or college.
    University,
    /// An enterprise.
    Enterprise,
    /// Anything else (an association, an intermediary).
    Other,
}

impl OrgKind {
    /// Every kind, in the order forms list them.
    pub const ALL: [OrgKind; 4] = [
        OrgKind::Institute,
        OrgKind::University,
        OrgKind::Enterprise,
        OrgKind::Other,
    ];

    /// The kind's name as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            OrgKind::Institute => "institute",
            OrgKind::University => "university",
            OrgKind::Enterprise => "enterprise",
            OrgKind::Other => "other",
        }
    }

    /// Reads a kind from its name.
    pub fn parse(input: &str) -> Option<OrgKind> {
        let wanted = input.trim().to_lowercase();
        OrgKind::ALL.into_iter().find(|k| k.as_str() == wanted)
    }

    /// The kind in Vietnamese.
    pub fn label_vi(self) -> &'static str {
        match self {
            OrgKind::Institute => "Viện nghiên cứu",
            OrgKind::University => "Trường đại học",
            OrgKind::Enterprise => "Doanh nghiệp",
            OrgKind::Other => "Tổ chức khác",
        }
    }

    /// The kind in English.
    pub fn label_en(self) -> &'static str {
        match self {
            OrgKind::Institute => "Research institute",
            OrgKind::University => "University",
            OrgKind::Enterprise => "Enterprise",
            OrgKind::Other => "Other organisation",
        }
    }

    /// The role its members get: enterprises post needs, the others offer technology.
    pub fn member_role(self) -> Role {
        match self {
            OrgKind::Enterprise => Role::Enterprise,
            _ => Role::Institute,
        }
    }
}

/// Who verified an organisation, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    /// The broker's or administrator's e-mail.
    pub by: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// One verification or revocation, kept in the record's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerificationEvent {
    /// `true` for a verification, `false` for a revocation.
    pub verified: bool,
    /// The broker's or administrator's e-mail.
    pub by: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// A person asking to join, waiting for the organisation's administrator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinRequest {
    /// The user asking.
    pub user_id: String,
    /// Their e-mail.
    pub email: String,
    /// Their name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// When they asked.
    pub at: DateTime<Utc>,
}

/// An organisation's record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organisation {
    /// Stable identifier (`org-` and random hex).
    pub id: String,
    /// Its name, as listings' `owner` carries it.
    pub name: String,
    /// What kind of organisation.
    pub kind: OrgKind,
    /// Where it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub province: Option<ProvinceCode>,
    /// Tax code (mã số thuế) or the institute's code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_no: Option<String>,
    /// Its website.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    /// What it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// When the record was made.
    pub created_at: DateTime<Utc>,
    /// Users who manage the record and its members.
    #[serde(default)]
    pub admins: Vec<String>,
    /// The current verification by the province's broker, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified: Option<Verification>,
    /// Every verification and revocation, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub verification_history: Vec<VerificationEvent>,
    /// People waiting to be let in.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requests: Vec<JoinRequest>,
    /// The record this one was merged into (it is kept so old links still lead somewhere).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<String>,
}

impl Organisation {
    /// Whether the user manages this record.
    pub fn is_admin(&self, user_id: &str) -> bool {
        self.admins.iter().any(|a| a == user_id)
    }
}

/// The parts of a record its administrator writes, as typed.
#[derive(Debug, Clone, Default)]
pub struct OrgInput {
    /// The name.
    pub name: String,
    /// The kind's name.
    pub kind: String,
    /// A province code or name (optional).
    pub province: String,
    /// Registration number (optional).
    pub registration_no: String,
    /// Website (optional).
    pub website: String,
    /// Description (optional).
    pub description: String,
}

/// The checked profile of an organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgProfile {
    /// The name, trimmed and with spaces collapsed.
    pub name: String,
    /// The kind.
    pub kind: OrgKind,
    /// The province.
    pub province: Option<ProvinceCode>,
    /// Registration number.
    pub registration_no: Option<String>,
    /// Website (`http://` or `https://`).
    pub website: Option<String>,
    /// Description.
    pub description: Option<String>,
}

/// The key an organisation's name is unique under: NFC, case folded, spaces collapsed.
pub fn name_key(name: &str) -> String {
    fold(&collapse(name))
}

fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A text of at most `max` characters without control or invisible characters (`None` when
/// empty). Newlines and tabs pass when `multiline`.
fn text(
    field: &str,
    value: &str,
    max: usize,
    multiline: bool,
) -> Result<Option<String>, FieldError> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    if value.chars().count() > max {
        return Err(FieldError::new(
            field,
            format!("is longer than {max} characters"),
        ));
    }
    let allowed = |c: char| multiline && matches!(c, '\n' | '\r' | '\t');
    if value
        .chars()
        .any(|c| (c.is_control() && !allowed(c)) || invisible(c))
    {
        return Err(FieldError::new(
            field,
            "holds control or invisible characters",
        ));
    }
    Ok(Some(value.to_string()))
}

impl OrgInput {
    /// Checks every field; the first problem found names its field.
    ///
    /// # Errors
    /// A [`FieldError`] on `name`, `kind`, `province`, `registration_no`, `website` or
    /// `description`.
    pub fn check(&self) -> Result<OrgProfile, FieldError> {
        let name = text("name", &collapse(&self.name), MAX_NAME_CHARS, false)?
            .ok_or_else(|| FieldError::new("name", "is required"))?;
        let kind = OrgKind::parse(&self.kind).ok_or_else(|| {
            FieldError::new(
                "kind",
                "must be one of institute, university, enterprise, other",
            )
        })?;
        let province = match self.province.trim() {
            "" => None,
            typed => Some(
                Provinces::get()
                    .resolve(typed)
                    .map_err(|e| FieldError::new("province", e.to_string()))?
                    .code
                    .clone(),
            ),
        };
        let registration_no = text(
            "registration_no",
            &self.registration_no,
            MAX_SHORT_CHARS,
            false,
        )?;
        let website = text("website", &self.website, MAX_SHORT_CHARS, false)?;
        if let Some(w) = &website {
            let lower = w.to_lowercase();
            if !(lower.starts_with("https://") || lower.starts_with("http://")) || w.contains(' ') {
                return Err(FieldError::new(
                    "website",
                    "must be an address starting with https:// or http://",
                ));
            }
        }
        let description = text(
            "description",
            &self.description,
            MAX_DESCRIPTION_CHARS,
            true,
        )?;
        Ok(OrgProfile {
            name,
            kind,
            province,
            registration_no,
            website,
            description,
        })
    }
}

/// How an organisation answers interest in its technologies.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ReplyStats {
    /// Interest received.
    pub received: usize,
    /// Interest answered.
    pub replied: usize,
    /// Median hours from interest to reply, when any was answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub median_reply_hours: Option<f64>,
}

impl ReplyStats {
    /// From the (received at, replied at) of each interest.
    pub fn from_times(times: &[(DateTime<Utc>, Option<DateTime<Utc>>)]) -> ReplyStats {
        let mut hours: Vec<f64> = times
            .iter()
            .filter_map(|(sent, replied)| {
                replied.map(|r| (r - *sent).num_seconds().max(0) as f64 / 3600.0)
            })
            .collect();
        hours.sort_by(f64::total_cmp);
        let median = match hours.len() {
            0 => None,
            n if n % 2 == 1 => Some(hours[n / 2]),
            n => Some((hours[n / 2 - 1] + hours[n / 2]) / 2.0),
        };
        ReplyStats {
            received: times.len(),
            replied: hours.len(),
            median_reply_hours: median,
        }
    }

    /// The share of interest answered, 0–1 (`None` when none was received).
    pub fn rate(&self) -> Option<f64> {
        (self.received > 0).then(|| self.replied as f64 / self.received as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(name: &str, kind: &str) -> OrgInput {
        OrgInput {
            name: name.into(),
            kind: kind.into(),
            ..OrgInput::default()
        }
    }

    #[test]
    fn names_are_one_key_however_typed() {
        assert_eq!(name_key("  Viện   Công nghệ  "), name_key("VIỆN CÔNG NGHỆ"));
        // Decomposed (NFD) input folds to the same key as composed.
        assert_eq!(name_key("Vie\u{0323}\u{0302}n"), name_key("Viện"));
        assert_ne!(name_key("Viện A"), name_key("Viện B"));
    }

    #[test]
    fn a_profile_is_checked_field_by_field() {
        let ok = input("Viện Thủy sản", "institute").check().expect("valid");
        assert_eq!(ok.kind, OrgKind::Institute);
        assert_eq!(input("", "institute").check().unwrap_err().field, "name");
        assert_eq!(input("X", "bank").check().unwrap_err().field, "kind");
        let bad_site = OrgInput {
            website: "javascript:alert(1)".into(),
            ..input("X", "other")
        };
        assert_eq!(bad_site.check().unwrap_err().field, "website");
        let bad_province = OrgInput {
            province: "Atlantis".into(),
            ..input("X", "other")
        };
        assert_eq!(bad_province.check().unwrap_err().field, "province");
        let hidden = input("Vi\u{200B}ện", "other");
        assert_eq!(hidden.check().unwrap_err().field, "name");
    }

    #[test]
    fn reply_stats_take_the_median() {
        let t0 = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .expect("time")
            .with_timezone(&Utc);
        let h = |n: i64| t0 + chrono::Duration::hours(n);
        let stats = ReplyStats::from_times(&[(t0, Some(h(2))), (t0, Some(h(10))), (t0, None)]);
        assert_eq!(stats.received, 3);
        assert_eq!(stats.replied, 2);
        assert_eq!(stats.median_reply_hours, Some(6.0));
        assert!((stats.rate().expect("rate") - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(ReplyStats::from_times(&[]).rate(), None);
    }
}
