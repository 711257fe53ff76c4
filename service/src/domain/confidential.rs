//! Confidential needs: what a reader who may not see a confidential need's full text sees of
//! it (its summary, field and province, never its organisation), and the disclosures that let
//! a supplier read it in full.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::listing::{Kind, Listing};

/// How a confidential need came to be disclosed to an organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DisclosedVia {
    /// The enterprise accepted the supplier's interest.
    Owner,
    /// A broker (or an administrator) introduced them.
    Broker,
    /// A broker proposed a deal between the need and the supplier's technology.
    Deal,
}

impl DisclosedVia {
    /// How someone of `role` discloses a need: staff introduce, the enterprise accepts.
    pub fn by(role: Option<crate::domain::account::Role>) -> Self {
        use crate::domain::account::Role;
        match role {
            Some(Role::Admin | Role::Broker) => DisclosedVia::Broker,
            _ => DisclosedVia::Owner,
        }
    }
}

/// One disclosure of a confidential need, kept for good in the need's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Disclosure {
    /// The organisation that may now read the need in full.
    pub org: String,
    /// Who disclosed it (their e-mail, or `admin-token`).
    pub by: String,
    /// When.
    pub at: DateTime<Utc>,
    /// How.
    pub via: DisclosedVia,
    /// The deal it came with, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deal_id: Option<String>,
}

impl Listing {
    /// Whether this is a need its enterprise posted as confidential.
    pub fn is_confidential(&self) -> bool {
        self.kind == Kind::Need && self.confidential
    }

    /// Whether the need was disclosed to organisation `org` (any listing is "disclosed" to its
    /// own organisation).
    pub fn disclosed_to(&self, org: &str) -> bool {
        self.owner.as_deref() == Some(org) || self.disclosures.iter().any(|d| d.org == org)
    }

    /// What a reader who may not see a confidential need in full sees of it: its summary (as
    /// title and description), kind, field, province, status, readiness, transfer modes and
    /// dates; never its organisation, contact, text, budget or disclosures. Other listings
    /// come back as they are.
    pub fn redacted(&self) -> Listing {
        if !self.is_confidential() {
            return self.clone();
        }
        let summary = self.summary.clone().unwrap_or_default();
        Listing {
            id: self.id.clone(),
            kind: self.kind,
            title: summary.clone(),
            description: summary.clone(),
            keywords: Vec::new(),
            field: self.field.clone(),
            province: self.province.clone(),
            owner: None,
            contact_name: None,
            contact_email: None,
            contact_phone: None,
            status: self.status,
            created_at: self.created_at,
            updated_at: self.updated_at,
            trl: None,
            transfer_modes: self.transfer_modes.clone(),
            price_vnd: None,
            year: None,
            patent_number: None,
            patent_type: None,
            ipc: Vec::new(),
            filing_date: None,
            grant_date: None,
            expiry_date: None,
            holder: None,
            legal_status: None,
            industry: None,
            desired_outcome: None,
            budget_min_vnd: None,
            budget_max_vnd: None,
            trl_min: self.trl_min,
            deadline: None,
            source_exchange: None,
            source_id: None,
            source_url: None,
            confidential: true,
            summary: Some(summary),
            disclosures: Vec::new(),
            confirmed_at: self.confirmed_at,
            confirm_asked_at: None,
            stale: self.stale,
        }
    }

    /// The listing as the interchange format carries it (downloads, `export`): without the
    /// disclosure history and the freshness cycle's state, which stay in the store.
    pub fn interchange(&self) -> Listing {
        Listing {
            disclosures: Vec::new(),
            confirm_asked_at: None,
            stale: false,
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Status;

    fn need() -> Listing {
        let json = serde_json::json!({
            "id": "nd-1", "kind": "need", "title": "Bí mật", "description": "Kế hoạch riêng",
            "owner": "Công ty A", "status": "published", "confidential": true,
            "summary": "Tìm công nghệ sấy", "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z", "budget_max_vnd": 5
        });
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn a_redacted_need_keeps_only_its_summary_field_and_province() {
        let n = need();
        let r = n.redacted();
        assert_eq!(r.title, "Tìm công nghệ sấy");
        assert_eq!(r.description, "Tìm công nghệ sấy");
        assert_eq!(r.owner, None);
        assert_eq!(r.budget_max_vnd, None);
        assert_eq!(r.status, Status::Published);
        let text = serde_json::to_string(&r).unwrap();
        assert!(!text.contains("Công ty A") && !text.contains("Kế hoạch"));
    }

    #[test]
    fn a_listing_is_disclosed_to_its_owner_and_to_those_named() {
        let mut n = need();
        assert!(n.disclosed_to("Công ty A"));
        assert!(!n.disclosed_to("Viện B"));
        n.disclosures.push(Disclosure {
            org: "Viện B".into(),
            by: "b@x.vn".into(),
            at: Utc::now(),
            via: DisclosedVia::Broker,
            deal_id: None,
        });
        assert!(n.disclosed_to("Viện B"));
        assert!(n.interchange().disclosures.is_empty());
    }
}
