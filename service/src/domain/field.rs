//! OECD Fields of Science 2007, which Vietnam's research-field classification follows.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use techmatch_index::analysis::fold_text;

use super::province::csv_rows;

const FOS: &str = include_str!("../../fixtures/reference/oecd-fos-2007.csv");

/// A field-of-science code: a major field (`"2"`) or a sub-field (`"2.2"`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FieldCode(String);

impl FieldCode {
    /// The code as written, e.g. `"2.2"`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The major field, e.g. `"2"` for `"2.2"`.
    pub fn major(&self) -> &str {
        self.0.split('.').next().unwrap_or(&self.0)
    }
}

/// One entry of the classification.
#[derive(Debug, Clone, Serialize)]
pub struct FieldOfScience {
    /// Its code.
    pub code: FieldCode,
    /// English label.
    pub label_en: String,
    /// Vietnamese label.
    pub label_vi: String,
}

/// The classification table shipped with techmatch.
pub fn fields() -> &'static [FieldOfScience] {
    static TABLE: OnceLock<Vec<FieldOfScience>> = OnceLock::new();
    TABLE.get_or_init(|| {
        csv_rows(FOS)
            .into_iter()
            .filter_map(|r| match r.as_slice() {
                [code, _, en, vi, ..] => Some(FieldOfScience {
                    code: FieldCode(code.clone()),
                    label_en: en.clone(),
                    label_vi: vi.clone(),
                }),
                _ => None,
            })
            .collect()
    })
}

/// Reads a field of science from its code ("2.2") or its English or Vietnamese label.
pub fn resolve_field(input: &str) -> Option<&'static FieldOfScience> {
    // Every listing of an import names its field: the labels are folded once, not per call.
    static BY_NAME: OnceLock<HashMap<String, &'static FieldOfScience>> = OnceLock::new();
    let by_name = BY_NAME.get_or_init(|| {
        let mut names = HashMap::new();
        for f in fields() {
            names.entry(f.code.0.clone()).or_insert(f);
        }
        // Codes first: a label never reads as a code, but the code wins if it ever did.
        for f in fields() {
            names.entry(fold_text(&f.label_en)).or_insert(f);
            names.entry(fold_text(&f.label_vi)).or_insert(f);
        }
        names
    });
    let wanted = input.trim();
    by_name
        .get(wanted)
        .or_else(|| by_name.get(&fold_text(wanted)))
        .copied()
}

/// The entry for a code.
pub fn field_by_code(code: &FieldCode) -> Option<&'static FieldOfScience> {
    field_by_code_str(code.as_str())
}

/// The entry whose code is `code` (as stored in the index or a profile).
pub fn field_by_code_str(code: &str) -> Option<&'static FieldOfScience> {
    fields().iter().find(|f| f.code.0 == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_labels_resolve() {
        assert_eq!(resolve_field("2.2").map(|f| f.code.as_str()), Some("2.2"));
        assert_eq!(resolve_field("Thú y").map(|f| f.code.as_str()), Some("4.3"));
        assert_eq!(
            resolve_field("veterinary science").map(|f| f.code.as_str()),
            Some("4.3")
        );
        assert_eq!(resolve_field("4").map(|f| f.code.major()), Some("4"));
        assert!(resolve_field("9.9").is_none());
        assert_eq!(fields().len(), 48);
    }
}
