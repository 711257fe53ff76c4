//! The demo data shipped in `fixtures/demo`: Vietnamese listings written as departments,
//! institutes and firms write them, and NASA's public-domain technology listings in English.

mod corpus;

pub use corpus::{Corpus, Rng};

use std::path::Path;

use crate::domain::org::{OrgKind, Organisation};
use crate::domain::{parse_listing, Kind, ProvinceCode};
use crate::import::{jsonl, store_drafts, ImportError, ImportReport, Problem};
use crate::store::{OrgStore, Store, StoreError};

/// The demo files: name and contents.
pub const FILES: [(&str, &str); 2] = [
    (
        "fixtures/demo/listings-vi.jsonl",
        include_str!("../../fixtures/demo/listings-vi.jsonl"),
    ),
    (
        "fixtures/demo/nasa-en.jsonl",
        include_str!("../../fixtures/demo/nasa-en.jsonl"),
    ),
];

/// Stores every demo listing in one durable write.
pub fn load(store: &dyn Store) -> Result<ImportReport, ImportError> {
    let mut drafts = Vec::new();
    let mut problems = Vec::new();
    for (name, text) in FILES {
        let path = Path::new(name);
        let (records, unreadable) =
            jsonl::read_bytes(path, text.as_bytes()).map_err(ImportError::Invalid)?;
        problems.extend(unreadable);
        for located in records {
            match parse_listing(&located.record) {
                Ok(d) => drafts.push(d),
                Err(errors) => problems.extend(errors.into_iter().map(|e| Problem {
                    file: path.to_path_buf(),
                    line: located.line,
                    field: e.field,
                    reason: e.reason,
                })),
            }
        }
    }
    if !problems.is_empty() {
        return Err(ImportError::Invalid(problems));
    }
    store_drafts(store, drafts)
}

/// The kind an organisation's name says it is; enterprises also when it only posts needs.
fn kind_of(name: &str, only_needs: bool) -> OrgKind {
    let name = name.to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| name.contains(w));
    if has(&["đại học", "trường", "học viện", "university", "college"]) {
        OrgKind::University
    } else if has(&[
        "viện",
        "trung tâm",
        "institute",
        "center",
        "centre",
        "laboratory",
        "nasa",
    ]) {
        OrgKind::Institute
    } else if only_needs
        || has(&[
            "công ty",
            "tập đoàn",
            "hợp tác xã",
            "doanh nghiệp",
            "company",
        ])
    {
        OrgKind::Enterprise
    } else {
        OrgKind::Other
    }
}

/// A record for every organisation the demo listings name, without members (their people ask
/// to join, and a broker verifies them), so the demo's profiles and `/orgs` are not empty.
/// Returns how many were made.
///
/// # Errors
/// Store failures.
pub fn organisations(store: &dyn Store, orgs: &dyn OrgStore) -> Result<usize, StoreError> {
    use std::collections::BTreeMap;
    // Per owner: its listings' provinces (to pick the most frequent) and whether all are needs.
    let mut owners: BTreeMap<String, (BTreeMap<ProvinceCode, usize>, bool)> = BTreeMap::new();
    for listing in store.scan() {
        let listing = listing?;
        let Some(owner) = listing.owner.clone() else {
            continue;
        };
        let entry = owners
            .entry(owner)
            .or_insert_with(|| (BTreeMap::new(), true));
        if let Some(p) = listing.province {
            *entry.0.entry(p).or_default() += 1;
        }
        entry.1 &= listing.kind == Kind::Need;
    }
    let mut made = 0;
    for (n, (name, (provinces, only_needs))) in owners.into_iter().enumerate() {
        let province = provinces
            .into_iter()
            .max_by_key(|(code, count)| (*count, std::cmp::Reverse(code.clone())))
            .map(|(code, _)| code);
        let org = Organisation {
            id: format!("org-demo-{n:04}"),
            kind: kind_of(&name, only_needs),
            name,
            province,
            registration_no: None,
            website: None,
            description: None,
            created_at: chrono::Utc::now(),
            admins: Vec::new(),
            verified: None,
            verification_history: Vec::new(),
            requests: Vec::new(),
            merged_into: None,
        };
        if orgs.add_org(&org)? {
            made += 1;
        }
    }
    Ok(made)
}
