//! A listing — research output, patent or technology need — and the small types it is made of.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::field::FieldCode;
use super::province::ProvinceCode;

/// What a listing offers or asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A research result (kết quả nghiên cứu) offered for transfer.
    ResearchOutput,
    /// A patent or utility solution (sáng chế, giải pháp hữu ích).
    Patent,
    /// An enterprise's technology need (nhu cầu công nghệ).
    Need,
}

/// Whether a listing is visible to the public.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Not yet public.
    Draft,
    /// Public.
    #[default]
    Published,
    /// Kept for the record, no longer offered.
    Archived,
}

/// How a technology can change hands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferMode {
    /// Licence to use (li-xăng).
    Licence,
    /// Outright assignment (chuyển nhượng).
    Assignment,
    /// Joint development (hợp tác phát triển).
    JointDevelopment,
    /// Technical service (dịch vụ kỹ thuật).
    TechnicalService,
    /// Consulting (tư vấn).
    Consulting,
}

impl TransferMode {
    /// Every mode, in the order forms and facets show them.
    pub const ALL: [TransferMode; 5] = [
        TransferMode::Licence,
        TransferMode::Assignment,
        TransferMode::JointDevelopment,
        TransferMode::TechnicalService,
        TransferMode::Consulting,
    ];

    /// The name in JSON, URLs and files (`licence`, `joint_development`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            TransferMode::Licence => "licence",
            TransferMode::Assignment => "assignment",
            TransferMode::JointDevelopment => "joint_development",
            TransferMode::TechnicalService => "technical_service",
            TransferMode::Consulting => "consulting",
        }
    }

    /// The mode named `name` ([`TransferMode::as_str`]).
    pub fn parse(name: &str) -> Option<TransferMode> {
        TransferMode::ALL.into_iter().find(|m| m.as_str() == name)
    }

    /// What people call it: `(Vietnamese, English)`.
    pub fn label(self) -> (&'static str, &'static str) {
        match self {
            TransferMode::Licence => ("li-xăng", "licence"),
            TransferMode::Assignment => ("chuyển nhượng", "assignment"),
            TransferMode::JointDevelopment => ("hợp tác phát triển", "joint development"),
            TransferMode::TechnicalService => ("dịch vụ kỹ thuật", "technical service"),
            TransferMode::Consulting => ("tư vấn", "consulting"),
        }
    }

    /// The names of every mode, for messages listing what is allowed.
    pub fn names() -> [&'static str; 5] {
        TransferMode::ALL.map(TransferMode::as_str)
    }
}

/// Kind of patent title.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PatentType {
    /// Invention patent (bằng độc quyền sáng chế).
    Invention,
    /// Utility solution (giải pháp hữu ích).
    UtilitySolution,
}

/// Legal status of a patent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LegalStatus {
    /// Application filed, not yet granted.
    Pending,
    /// Granted and in force.
    Granted,
    /// No longer in force.
    Expired,
}

/// Technology readiness level, 1 to 9.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct Trl(u8);

impl Trl {
    /// The level, 1–9.
    pub fn get(self) -> u8 {
        self.0
    }
}

impl TryFrom<u8> for Trl {
    type Error = String;
    fn try_from(v: u8) -> Result<Self, String> {
        if (1..=9).contains(&v) {
            Ok(Trl(v))
        } else {
            Err(format!("TRL must be 1 to 9, got {v}"))
        }
    }
}

impl From<Trl> for u8 {
    fn from(t: Trl) -> u8 {
        t.0
    }
}

/// An amount in Vietnamese đồng.
pub type Vnd = u64;

/// An amount as Vietnamese readers write it: dots between thousands, then "đ" (1.500.000 đ).
pub fn format_vnd(amount: Vnd) -> String {
    let digits = amount.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push('.');
        }
        out.push(c);
    }
    format!("{out} đ")
}

/// A stored listing: validated, with every field in its type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Listing {
    /// Stable identifier.
    pub id: String,
    /// What it is.
    pub kind: Kind,
    /// Short title.
    pub title: String,
    /// Free-text description.
    pub description: String,
    /// Keywords.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
    /// Field of science.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<FieldCode>,
    /// Province (2025 code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub province: Option<ProvinceCode>,
    /// Owner organisation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Contact person; never shown to anonymous readers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_name: Option<String>,
    /// Contact e-mail; never shown to anonymous readers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_email: Option<String>,
    /// Contact phone; never shown to anonymous readers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_phone: Option<String>,
    /// Publication status.
    #[serde(default)]
    pub status: Status,
    /// When first stored.
    pub created_at: DateTime<Utc>,
    /// When last changed.
    pub updated_at: DateTime<Utc>,
    /// Readiness (research outputs, patents).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trl: Option<Trl>,
    /// Offered (supply) or preferred (need) transfer modes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transfer_modes: Vec<TransferMode>,
    /// Asking price (research outputs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_vnd: Option<Vnd>,
    /// Year of the result (research outputs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year: Option<u16>,
    /// Patent or application number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patent_number: Option<String>,
    /// Invention or utility solution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patent_type: Option<PatentType>,
    /// IPC classes, e.g. "A01K 61/59".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ipc: Vec<String>,
    /// Filing date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filing_date: Option<NaiveDate>,
    /// Grant date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_date: Option<NaiveDate>,
    /// Expiry date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry_date: Option<NaiveDate>,
    /// Patent holder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder: Option<String>,
    /// Patent legal status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_status: Option<LegalStatus>,
    /// Industry of the enterprise (needs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub industry: Option<String>,
    /// What the enterprise wants to achieve (needs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desired_outcome: Option<String>,
    /// Lower end of the budget (needs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_min_vnd: Option<Vnd>,
    /// Upper end of the budget (needs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_max_vnd: Option<Vnd>,
    /// Lowest acceptable readiness (needs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trl_min: Option<Trl>,
    /// Wanted by (needs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<NaiveDate>,
    /// The exchange a listing imported from elsewhere comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_exchange: Option<String>,
    /// The listing's id on that exchange.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_id: Option<String>,
    /// The listing's address on that exchange.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_url: Option<String>,
    /// A need posted as confidential: readers who may not see it in full see its summary,
    /// field and province only (`domain::confidential`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub confidential: bool,
    /// What a confidential need shows in its stead, written by its enterprise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// The organisations a confidential need was disclosed to, in order; never removed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub disclosures: Vec<super::confidential::Disclosure>,
    /// When its owner last said it is still current (creating or editing it says so too);
    /// listings stored before this existed count from `updated_at` (`Listing::confirmed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmed_at: Option<DateTime<Utc>>,
    /// When its owner was asked to confirm it, since it was last confirmed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirm_asked_at: Option<DateTime<Utc>>,
    /// Not confirmed in time: kept, but out of search and matching until confirmed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stale: bool,
}

impl Listing {
    /// This listing without contact details (nor a confidential need's disclosures), for
    /// readers who may not see them.
    pub fn public(&self) -> Listing {
        Listing {
            contact_name: None,
            contact_email: None,
            contact_phone: None,
            disclosures: Vec::new(),
            ..self.clone()
        }
    }
}
