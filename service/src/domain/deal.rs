//! The broker's desk: expressions of interest (leads), deals between a need and a technology,
//! the stages a deal moves through, and the append-only history of every change.
//!
//! The pipeline is proposed → contacted → negotiating → agreed, or lost from any open stage.
//! Agreed needs a contract value and a signing date; lost needs a reason. Agreed and lost are
//! final.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::input::FieldError;
use super::listing::Vnd;
use super::province::ProvinceCode;

/// Longest message or note, in characters.
pub const MAX_NOTE_CHARS: usize = 4000;

/// Where a deal stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// A broker has put the need and the technology together.
    Proposed,
    /// Both parties have been contacted.
    Contacted,
    /// The parties are negotiating terms.
    Negotiating,
    /// A contract is signed (final).
    Agreed,
    /// The deal fell through (final).
    Lost,
}

impl Stage {
    /// Every stage, in pipeline order.
    pub const ALL: [Stage; 5] = [
        Stage::Proposed,
        Stage::Contacted,
        Stage::Negotiating,
        Stage::Agreed,
        Stage::Lost,
    ];

    /// The stage's name as in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Proposed => "proposed",
            Stage::Contacted => "contacted",
            Stage::Negotiating => "negotiating",
            Stage::Agreed => "agreed",
            Stage::Lost => "lost",
        }
    }

    /// Reads a stage from its name.
    pub fn parse(input: &str) -> Option<Stage> {
        let wanted = input.trim().to_lowercase();
        Stage::ALL.into_iter().find(|s| s.name() == wanted)
    }

    /// Whether the deal is finished.
    pub fn is_closed(self) -> bool {
        matches!(self, Stage::Agreed | Stage::Lost)
    }

    /// Whether a deal may move from this stage to `to`.
    pub fn may_move_to(self, to: Stage) -> bool {
        matches!(
            (self, to),
            (Stage::Proposed, Stage::Contacted)
                | (Stage::Contacted, Stage::Negotiating)
                | (Stage::Negotiating, Stage::Agreed)
                | (
                    Stage::Proposed | Stage::Contacted | Stage::Negotiating,
                    Stage::Lost
                )
        )
    }

    /// The stages reachable from this one.
    pub fn next(self) -> Vec<Stage> {
        Stage::ALL
            .into_iter()
            .filter(|s| self.may_move_to(*s))
            .collect()
    }
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// An enterprise member's interest in a research output or patent: a lead for the owner
/// organisation and for the brokers of both provinces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lead {
    /// Identifier (`ld-` and random hex).
    pub id: String,
    /// The technology (research output or patent).
    pub listing_id: String,
    /// Its title when the interest was marked.
    pub listing_title: String,
    /// Its owner organisation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listing_owner: Option<String>,
    /// Its province (the supplier's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listing_province: Option<ProvinceCode>,
    /// Who marked interest (their sign-in e-mail, which the owner may use to answer).
    pub from_email: String,
    /// Their enterprise.
    pub from_org: String,
    /// Their enterprise's province (the demander's), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_province: Option<ProvinceCode>,
    /// What they wrote.
    pub message: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// When the enterprise last wrote again (a second interest updates the first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
    /// The owner organisation's answer, which the enterprise and the brokers see.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<LeadReply>,
    /// When an answer is due (working days after the interest, `app::replies`); leads stored
    /// before this existed are due by the same rule from `created_at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_by: Option<DateTime<Utc>>,
    /// When the organisation was reminded that the answer is overdue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reminded_at: Option<DateTime<Utc>>,
}

/// An organisation's answer to interest in its technology.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeadReply {
    /// What they wrote.
    pub message: String,
    /// Who answered (their e-mail).
    pub by: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// A deal between a need and a technology, run by brokers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deal {
    /// Identifier (`dl-` and random hex).
    pub id: String,
    /// The enterprise's need.
    pub need_id: String,
    /// The technology: research output or patent.
    pub listing_id: String,
    /// The lead it came from, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lead_id: Option<String>,
    /// The demander's province (the need's), fixed when the deal is proposed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub need_province: Option<ProvinceCode>,
    /// The supplier's province (the technology's), fixed when the deal is proposed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listing_province: Option<ProvinceCode>,
    /// Where it stands.
    pub stage: Stage,
    /// Contract value, once agreed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract_value_vnd: Option<Vnd>,
    /// Signing date, once agreed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_on: Option<NaiveDate>,
    /// Why it was lost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lost_reason: Option<String>,
    /// Who proposed it.
    pub created_by: String,
    /// When it was proposed.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl Deal {
    /// Whether the deal concerns `province` on either side.
    pub fn touches(&self, province: &ProvinceCode) -> bool {
        self.need_province.as_ref() == Some(province)
            || self.listing_province.as_ref() == Some(province)
    }
}

/// What one history entry records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    /// The deal was proposed.
    Proposed {
        /// The need.
        need_id: String,
        /// The technology.
        listing_id: String,
    },
    /// The deal moved to another stage.
    Stage {
        /// The stage before.
        from: Stage,
        /// The stage after.
        to: Stage,
        /// Contract value (agreed).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        contract_value_vnd: Option<Vnd>,
        /// Signing date (agreed).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signed_on: Option<NaiveDate>,
        /// Why (lost).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
}

/// One entry of a deal's history: who did what, when. Entries are only ever appended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DealEvent {
    /// Position in the deal's history, from 1; assigned by the store.
    pub n: u32,
    /// When.
    pub at: DateTime<Utc>,
    /// Who: a user's e-mail, or `admin-token` for the break-glass credential.
    pub by: String,
    /// What happened.
    pub what: EventKind,
    /// The broker's note on this step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A requested move to another stage, as the broker sent it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StageChange {
    /// Where to.
    pub to: Option<Stage>,
    /// Note on the step.
    pub note: Option<String>,
    /// Contract value (needed for agreed).
    pub contract_value_vnd: Option<Vnd>,
    /// Signing date (needed for agreed).
    pub signed_on: Option<NaiveDate>,
    /// Reason (needed for lost).
    pub reason: Option<String>,
}

/// Why a stage change was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StageError {
    /// A field is missing or wrong for the target stage.
    #[error("{0}")]
    Invalid(FieldError),
    /// The pipeline does not allow this move.
    #[error("a deal in stage {from} cannot move to {to}; {}", allowed_text(*.from))]
    Forbidden {
        /// The deal's stage.
        from: Stage,
        /// The stage asked for.
        to: Stage,
    },
}

fn allowed_text(from: Stage) -> String {
    let next = from.next();
    if next.is_empty() {
        format!("{from} is final")
    } else {
        let names: Vec<&str> = next.iter().map(|s| s.name()).collect();
        format!("from {from} it may move to {}", names.join(" or "))
    }
}

fn bad(field: &str, reason: impl Into<String>) -> StageError {
    StageError::Invalid(FieldError {
        field: field.into(),
        reason: reason.into(),
    })
}

/// A date as people write it, `YYYY-MM-DD` or `DD/MM/YYYY`.
///
/// # Errors
/// A [`FieldError`] on `field` for anything else.
pub fn parse_date(field: &str, text: &str) -> Result<chrono::NaiveDate, FieldError> {
    let text = text.trim();
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .or_else(|_| chrono::NaiveDate::parse_from_str(text, "%d/%m/%Y"))
        .map_err(|_| FieldError {
            field: field.into(),
            reason: format!("{text:?} is not a date like 2025-09-30"),
        })
}

/// Trims a free text, treats blank as absent, and limits its length.
///
/// # Errors
/// A [`FieldError`] on `field` when the text is longer than [`MAX_NOTE_CHARS`].
pub fn clean_text(field: &str, text: Option<&str>) -> Result<Option<String>, FieldError> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if text.chars().count() > MAX_NOTE_CHARS {
        return Err(FieldError {
            field: field.into(),
            reason: format!("must have at most {MAX_NOTE_CHARS} characters"),
        });
    }
    Ok(Some(text.to_string()))
}

impl StageChange {
    /// Applies the change to `deal`: the deal as it becomes and the history entry to append.
    ///
    /// # Errors
    /// [`StageError::Forbidden`] for a move the pipeline does not allow (including any move
    /// from a final stage); [`StageError::Invalid`] when agreed lacks a value or date, or lost
    /// lacks a reason.
    pub fn apply(
        &self,
        deal: &Deal,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<(Deal, DealEvent), StageError> {
        let to = self.to.ok_or_else(|| bad("stage", "is required"))?;
        if !deal.stage.may_move_to(to) {
            return Err(StageError::Forbidden {
                from: deal.stage,
                to,
            });
        }
        let reason = clean_text("reason", self.reason.as_deref()).map_err(StageError::Invalid)?;
        let note = clean_text("note", self.note.as_deref()).map_err(StageError::Invalid)?;
        let mut next = Deal {
            stage: to,
            updated_at: at,
            ..deal.clone()
        };
        let (mut value, mut signed, mut why) = (None, None, None);
        match to {
            Stage::Agreed => {
                let v = self
                    .contract_value_vnd
                    .ok_or_else(|| bad("contract_value_vnd", "is required to agree a deal"))?;
                let d = self
                    .signed_on
                    .ok_or_else(|| bad("signed_on", "is required to agree a deal"))?;
                (next.contract_value_vnd, next.signed_on) = (Some(v), Some(d));
                (value, signed) = (Some(v), Some(d));
            }
            Stage::Lost => {
                let r =
                    reason.ok_or_else(|| bad("reason", "is required to close a deal as lost"))?;
                next.lost_reason = Some(r.clone());
                why = Some(r);
            }
            _ => {}
        }
        let event = DealEvent {
            n: 0,
            at,
            by: by.to_string(),
            what: EventKind::Stage {
                from: deal.stage,
                to,
                contract_value_vnd: value,
                signed_on: signed,
                reason: why,
            },
            note,
        };
        Ok((next, event))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deal(stage: Stage) -> Deal {
        Deal {
            id: "dl-1".into(),
            need_id: "nd-1".into(),
            listing_id: "ro-1".into(),
            lead_id: None,
            need_province: None,
            listing_province: None,
            stage,
            contract_value_vnd: None,
            signed_on: None,
            lost_reason: None,
            created_by: "b@x.vn".into(),
            created_at: DateTime::<Utc>::UNIX_EPOCH,
            updated_at: DateTime::<Utc>::UNIX_EPOCH,
        }
    }

    fn to(stage: Stage) -> StageChange {
        StageChange {
            to: Some(stage),
            ..StageChange::default()
        }
    }

    #[test]
    fn the_pipeline_moves_one_step_at_a_time_and_may_be_lost_while_open() {
        use Stage::*;
        let allowed: Vec<(Stage, Stage)> = Stage::ALL
            .into_iter()
            .flat_map(|a| Stage::ALL.into_iter().map(move |b| (a, b)))
            .filter(|(a, b)| a.may_move_to(*b))
            .collect();
        assert_eq!(
            allowed,
            vec![
                (Proposed, Contacted),
                (Proposed, Lost),
                (Contacted, Negotiating),
                (Contacted, Lost),
                (Negotiating, Agreed),
                (Negotiating, Lost),
            ]
        );
    }

    #[test]
    fn agreed_needs_value_and_date_and_lost_needs_reason() {
        let now = DateTime::<Utc>::UNIX_EPOCH;
        let err = to(Stage::Agreed)
            .apply(&deal(Stage::Negotiating), "b", now)
            .unwrap_err();
        assert!(matches!(err, StageError::Invalid(ref e) if e.field == "contract_value_vnd"));
        let err = to(Stage::Lost)
            .apply(&deal(Stage::Contacted), "b", now)
            .unwrap_err();
        assert!(matches!(err, StageError::Invalid(ref e) if e.field == "reason"));
        let change = StageChange {
            to: Some(Stage::Agreed),
            contract_value_vnd: Some(5),
            signed_on: NaiveDate::from_ymd_opt(2025, 9, 1),
            ..StageChange::default()
        };
        let (d, e) = change.apply(&deal(Stage::Negotiating), "b", now).unwrap();
        assert_eq!((d.stage, d.contract_value_vnd), (Stage::Agreed, Some(5)));
        assert!(matches!(
            e.what,
            EventKind::Stage {
                from: Stage::Negotiating,
                ..
            }
        ));
    }

    #[test]
    fn a_forbidden_move_says_what_is_allowed() {
        let err = to(Stage::Agreed)
            .apply(&deal(Stage::Proposed), "b", DateTime::<Utc>::UNIX_EPOCH)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "a deal in stage proposed cannot move to agreed; from proposed it may move to contacted or lost"
        );
        let err = to(Stage::Lost)
            .apply(&deal(Stage::Agreed), "b", DateTime::<Utc>::UNIX_EPOCH)
            .unwrap_err();
        assert!(err.to_string().ends_with("agreed is final"), "{err}");
    }
}
