//! Reading a listing from loose input — a JSON object, a CSV row, a spreadsheet row — and
//! checking every field, so that one pass reports every problem with the field it concerns.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;
use techmatch_index::analysis::fold_text;

use super::field::resolve_field;
use super::listing::{Kind, LegalStatus, Listing, PatentType, Status, TransferMode, Trl, Vnd};
use super::province::Provinces;

/// Longest title, in characters.
const MAX_TITLE: usize = 500;
/// Longest description and other free text, in characters.
const MAX_TEXT: usize = 50_000;
/// Longest short text (names, numbers), in characters.
const MAX_SHORT: usize = 500;
/// Most entries in a list field.
const MAX_LIST: usize = 50;

const COMMON: &[&str] = &[
    "id",
    "kind",
    "title",
    "description",
    "keywords",
    "field",
    "province",
    "owner",
    "contact_name",
    "contact_email",
    "contact_phone",
    "status",
    "created_at",
    "updated_at",
    "transfer_modes",
];
const RESEARCH_OUTPUT: &[&str] = &["trl", "price_vnd", "year"];
const PATENT: &[&str] = &[
    "trl",
    "patent_number",
    "patent_type",
    "ipc",
    "filing_date",
    "grant_date",
    "expiry_date",
    "holder",
    "legal_status",
];
const NEED: &[&str] = &[
    "industry",
    "desired_outcome",
    "budget_min_vnd",
    "budget_max_vnd",
    "trl_min",
    "deadline",
];

/// Where a listing imported from another exchange comes from (every kind; last in the template,
/// so that older templates keep their column positions).
const SOURCE: &[&str] = &["source_exchange", "source_id", "source_url"];

/// A confidential need's columns (needs only; after the source's, so that older templates keep
/// their column positions).
const CONFIDENTIAL: &[&str] = &["confidential", "summary"];

/// When the owner last confirmed the listing (every kind; last in the template).
const FRESHNESS: &[&str] = &["confirmed_at"];

/// What the store keeps beside a listing and an input may carry back (a listing read from the
/// API and sent again): accepted and ignored, never taken from input.
const KEPT_BY_THE_STORE: &[&str] = &["disclosures", "confirm_asked_at", "stale"];

/// Every column a listing may have, in template order.
pub fn all_columns() -> &'static [&'static str] {
    // Asked for every field of every record read: built once.
    static COLUMNS: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    COLUMNS.get_or_init(|| {
        let mut out: Vec<&str> = COMMON.to_vec();
        for f in RESEARCH_OUTPUT
            .iter()
            .chain(PATENT)
            .chain(NEED)
            .chain(SOURCE)
            .chain(CONFIDENTIAL)
            .chain(FRESHNESS)
        {
            if !out.contains(f) {
                out.push(f);
            }
        }
        out
    })
}

/// One value as read: a cell's text, or a JSON value.
#[derive(Debug, Clone)]
pub enum RawValue {
    /// Text from a CSV or spreadsheet cell.
    Text(String),
    /// A value from a JSON object.
    Json(Value),
}

/// A record as read, before checking: field names and their values.
#[derive(Debug, Clone, Default)]
pub struct RawRecord {
    /// Named values, in input order.
    pub fields: Vec<(String, RawValue)>,
}

impl RawRecord {
    /// A record from a JSON object's members.
    pub fn from_json(object: serde_json::Map<String, Value>) -> Self {
        RawRecord {
            fields: object
                .into_iter()
                .map(|(k, v)| (k, RawValue::Json(v)))
                .collect(),
        }
    }
}

/// A problem with one field.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    /// The field at fault.
    pub field: String,
    /// What is wrong, in words a user can act on.
    pub reason: String,
}

impl FieldError {
    /// A problem with `field`.
    pub fn new(field: &str, reason: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

/// A checked listing whose timestamps are settled when it is stored.
#[derive(Debug, Clone)]
pub struct Draft {
    /// The listing; its timestamps are placeholders until [`Draft::into_listing`].
    listing: Listing,
    created_at: Option<DateTime<Utc>>,
    updated_at: Option<DateTime<Utc>>,
    confirmed_at: Option<DateTime<Utc>>,
}

impl Draft {
    /// The listing's id.
    pub fn id(&self) -> &str {
        &self.listing.id
    }

    /// The listing to store: timestamps from the input, else kept from `existing`, else `now`.
    pub fn into_listing(self, existing: Option<&Listing>, now: DateTime<Utc>) -> Listing {
        let created_at = self
            .created_at
            .or(existing.map(|e| e.created_at))
            .unwrap_or(now);
        Listing {
            created_at,
            updated_at: self.updated_at.unwrap_or(now),
            // Disclosures are a history that only grows: a new version keeps them.
            disclosures: existing.map(|e| e.disclosures.clone()).unwrap_or_default(),
            // Storing a listing again says it is current, unless the input says when it was.
            confirmed_at: Some(self.confirmed_at.unwrap_or(now)),
            ..self.listing
        }
    }

    /// Forgets timestamps that came with the input (the API manages them itself).
    pub fn without_timestamps(mut self) -> Self {
        self.created_at = None;
        self.updated_at = None;
        self.confirmed_at = None;
        self
    }
}

/// Checks a record and builds its listing, or returns every problem found.
pub fn parse_listing(record: &RawRecord) -> Result<Draft, Vec<FieldError>> {
    let mut r = Reader::new(record);
    let kind = r
        .required("kind")
        .and_then(|v| r.convert("kind", &v, parse_kind));
    let title = r
        .required("title")
        .and_then(|t| r.limit("title", t, MAX_TITLE));
    let description = r
        .required("description")
        .and_then(|t| r.limit("description", t, MAX_TEXT));
    let source = read_source(&mut r);
    let id = match (r.text("id"), &source) {
        (Some(id), _) => r.convert("id", &id, check_id),
        // The same listing of the same exchange gets the same id: importing it again updates it.
        (None, (Some(exchange), Some(source_id), _)) => {
            Some(source_listing_id(exchange, source_id))
        }
        (None, _) => kind.map(new_id),
    };
    let (source_exchange, source_id, source_url) = source;
    if let Some(kind) = kind {
        let allowed = match kind {
            Kind::ResearchOutput => RESEARCH_OUTPUT,
            Kind::Patent => PATENT,
            Kind::Need => NEED,
        };
        for (name, value) in &record.fields {
            let known = all_columns().contains(&name.as_str());
            let applies = if CONFIDENTIAL.contains(&name.as_str()) {
                kind == Kind::Need
            } else {
                allowed.contains(&name.as_str())
            };
            if known
                && !COMMON.contains(&name.as_str())
                && !SOURCE.contains(&name.as_str())
                && !FRESHNESS.contains(&name.as_str())
                && !applies
                && !is_blank(value)
            {
                r.error(name, format!("does not apply to kind {}", kind_name(kind)));
            }
        }
    }
    for (name, _) in &record.fields {
        if !all_columns().contains(&name.as_str()) && !KEPT_BY_THE_STORE.contains(&name.as_str()) {
            let hint = nearest_column(name)
                .map(|c| format!("; did you mean {c:?}?"))
                .unwrap_or_default();
            r.error(name, format!("unknown field{hint}"));
        }
    }
    let keywords = r.list("keywords");
    let field = r.text("field").and_then(|v| {
        r.convert("field", &v, |s| {
            resolve_field(s)
                .map(|f| f.code.clone())
                .ok_or_else(|| "not an OECD field-of-science code such as 2.2 or 4.1".to_string())
        })
    });
    let province = r.text("province").and_then(|v| {
        r.convert("province", &v, |s| {
            Provinces::get()
                .resolve(s)
                .map(|p| p.code.clone())
                .map_err(|e| e.to_string())
        })
    });
    let status = r
        .text("status")
        .and_then(|v| r.convert("status", &v, parse_status))
        .unwrap_or_default();
    let transfer_modes = {
        let values = r.list("transfer_modes");
        let mut modes = Vec::new();
        for v in values {
            if let Some(m) = r.convert("transfer_modes", &v, parse_mode) {
                if !modes.contains(&m) {
                    modes.push(m);
                }
            }
        }
        modes
    };
    let budget_min_vnd = r.vnd("budget_min_vnd");
    let budget_max_vnd = r.vnd("budget_max_vnd");
    if let (Some(lo), Some(hi)) = (budget_min_vnd, budget_max_vnd) {
        if lo > hi {
            r.error("budget_min_vnd", "is above budget_max_vnd".into());
        }
    }
    let confidential = r.flag("confidential");
    let summary = r
        .text("summary")
        .and_then(|t| r.limit("summary", t, MAX_TITLE));
    if confidential && summary.is_none() && !r.errors.iter().any(|e| e.field == "summary") {
        r.error(
            "summary",
            "is required for a confidential need: it is what others read instead".into(),
        );
    }
    let contact_email = r.short("contact_email");
    if let Some(email) = &contact_email {
        if !looks_like_email(email) {
            r.error("contact_email", "is not an e-mail address".into());
        }
    }
    let listing = Listing {
        id: id.unwrap_or_default(),
        kind: kind.unwrap_or(Kind::ResearchOutput),
        title: title.unwrap_or_default(),
        description: description.unwrap_or_default(),
        keywords,
        field,
        province,
        owner: r.short("owner"),
        contact_name: r.short("contact_name"),
        contact_email,
        contact_phone: r.short("contact_phone"),
        status,
        created_at: DateTime::<Utc>::UNIX_EPOCH,
        updated_at: DateTime::<Utc>::UNIX_EPOCH,
        trl: r.trl("trl"),
        transfer_modes,
        price_vnd: r.vnd("price_vnd"),
        year: r.uint("year").and_then(|y| {
            if (1900..=2100).contains(&y) {
                Some(y as u16)
            } else {
                r.error("year", format!("{y} is not a plausible year"));
                None
            }
        }),
        patent_number: r.short("patent_number"),
        patent_type: r
            .text("patent_type")
            .and_then(|v| r.convert("patent_type", &v, parse_patent_type)),
        ipc: r.list("ipc"),
        filing_date: r.date("filing_date"),
        grant_date: r.date("grant_date"),
        expiry_date: r.date("expiry_date"),
        holder: r.short("holder"),
        legal_status: r
            .text("legal_status")
            .and_then(|v| r.convert("legal_status", &v, parse_legal_status)),
        industry: r.short("industry"),
        desired_outcome: r
            .text("desired_outcome")
            .and_then(|t| r.limit("desired_outcome", t, MAX_TEXT)),
        budget_min_vnd,
        budget_max_vnd,
        trl_min: r.trl("trl_min"),
        deadline: r.date("deadline"),
        source_exchange,
        source_id,
        source_url,
        confidential,
        summary,
        disclosures: Vec::new(),
        confirmed_at: None,
        confirm_asked_at: None,
        stale: false,
    };
    let created_at = r.timestamp("created_at");
    let updated_at = r.timestamp("updated_at");
    let confirmed_at = r.timestamp("confirmed_at");
    if r.errors.is_empty() {
        Ok(Draft {
            listing,
            created_at,
            updated_at,
            confirmed_at,
        })
    } else {
        Err(r.errors)
    }
}

/// Reads fields by name and collects the problems found.
struct Reader<'a> {
    values: HashMap<&'a str, &'a RawValue>,
    errors: Vec<FieldError>,
}

impl<'a> Reader<'a> {
    fn new(record: &'a RawRecord) -> Self {
        Reader {
            values: record.fields.iter().map(|(k, v)| (k.as_str(), v)).collect(),
            errors: Vec::new(),
        }
    }

    fn error(&mut self, field: &str, reason: String) {
        self.errors.push(FieldError {
            field: field.to_string(),
            reason,
        });
    }

    fn convert<T>(
        &mut self,
        field: &str,
        value: &str,
        f: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        match f(value) {
            Ok(v) => Some(v),
            Err(reason) => {
                self.error(field, reason);
                None
            }
        }
    }

    /// The field as trimmed text; `None` when absent, null or blank.
    fn text(&mut self, field: &str) -> Option<String> {
        let text = match self.values.get(field)? {
            RawValue::Text(s) => s.clone(),
            RawValue::Json(Value::Null) => return None,
            RawValue::Json(Value::String(s)) => s.clone(),
            RawValue::Json(Value::Number(n)) => n.to_string(),
            RawValue::Json(Value::Bool(_)) | RawValue::Json(Value::Array(_) | Value::Object(_)) => {
                self.error(field, "must be text".into());
                return None;
            }
        };
        if let Some(c) = text
            .chars()
            .find(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            self.error(
                field,
                format!("contains the control character U+{:04X}", c as u32),
            );
            return None;
        }
        let trimmed = text.trim();
        (!trimmed.is_empty()).then(|| trimmed.to_string())
    }

    fn required(&mut self, field: &str) -> Option<String> {
        let v = self.text(field);
        if v.is_none() && !self.errors.iter().any(|e| e.field == field) {
            self.error(field, "is required".into());
        }
        v
    }

    fn limit(&mut self, field: &str, text: String, max: usize) -> Option<String> {
        let n = text.chars().count();
        if n > max {
            self.error(field, format!("is {n} characters long; the limit is {max}"));
            return None;
        }
        Some(text)
    }

    fn short(&mut self, field: &str) -> Option<String> {
        let t = self.text(field)?;
        self.limit(field, t, MAX_SHORT)
    }

    /// A list: a JSON array of strings, or text separated by `;`, `|` or `,`.
    fn list(&mut self, field: &str) -> Vec<String> {
        let items: Vec<String> = match self.values.get(field) {
            None | Some(RawValue::Json(Value::Null)) => return Vec::new(),
            Some(RawValue::Json(Value::Array(items))) => {
                let mut out = Vec::new();
                for item in items {
                    match item {
                        Value::String(s) => out.push(s.clone()),
                        Value::Number(n) => out.push(n.to_string()),
                        _ => {
                            self.error(field, "must be a list of text".into());
                            return Vec::new();
                        }
                    }
                }
                out
            }
            Some(_) => match self.text(field) {
                Some(t) => t.split([';', '|', ',']).map(str::to_string).collect(),
                None => return Vec::new(),
            },
        };
        let items: Vec<String> = items
            .iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        if items.len() > MAX_LIST {
            self.error(
                field,
                format!("has {} entries; the limit is {MAX_LIST}", items.len()),
            );
            return Vec::new();
        }
        if let Some(long) = items.iter().find(|s| s.chars().count() > MAX_SHORT) {
            self.error(
                field,
                format!(
                    "an entry is {} characters long; the limit is {MAX_SHORT}",
                    long.chars().count()
                ),
            );
            return Vec::new();
        }
        if let Some(bad) = items.iter().find(|s| s.chars().any(char::is_control)) {
            self.error(field, format!("entry {bad:?} contains a control character"));
            return Vec::new();
        }
        items
    }

    fn uint(&mut self, field: &str) -> Option<u64> {
        if let Some(RawValue::Json(Value::Number(n))) = self.values.get(field) {
            if let Some(v) = n.as_u64() {
                return Some(v);
            }
            if let Some(f) = n
                .as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f < 1e18)
            {
                return Some(f as u64);
            }
            self.error(field, format!("{n} is not a whole number ≥ 0"));
            return None;
        }
        let t = self.text(field)?;
        self.convert(field, &t, parse_amount)
    }

    fn vnd(&mut self, field: &str) -> Option<Vnd> {
        self.uint(field)
    }

    fn trl(&mut self, field: &str) -> Option<Trl> {
        let v = self.uint(field)?;
        let v = u8::try_from(v).unwrap_or(0);
        self.convert(field, "", |_| Trl::try_from(v))
    }

    fn date(&mut self, field: &str) -> Option<NaiveDate> {
        let t = self.text(field)?;
        self.convert(field, &t, parse_date)
    }

    /// A yes/no field: JSON `true`/`false`, or text `true`, `yes`, `1`, `có` (and their
    /// opposites); absent or blank is no.
    fn flag(&mut self, field: &str) -> bool {
        if let Some(RawValue::Json(Value::Bool(b))) = self.values.get(field) {
            return *b;
        }
        let Some(t) = self.text(field) else {
            return false;
        };
        self.convert(field, &t, |s| match fold_text(s).as_str() {
            "true" | "yes" | "1" | "co" | "x" => Ok(true),
            "false" | "no" | "0" | "khong" => Ok(false),
            _ => Err("must be true or false".into()),
        })
        .unwrap_or(false)
    }

    fn timestamp(&mut self, field: &str) -> Option<DateTime<Utc>> {
        let t = self.text(field)?;
        self.convert(field, &t, |s| {
            DateTime::parse_from_rfc3339(s)
                .map(|d| d.with_timezone(&Utc))
                .map_err(|_| "must be an RFC 3339 time such as 2025-03-01T08:00:00Z".into())
        })
    }
}

fn is_blank(v: &RawValue) -> bool {
    match v {
        RawValue::Text(s) => s.trim().is_empty(),
        RawValue::Json(Value::Null) => true,
        RawValue::Json(Value::String(s)) => s.trim().is_empty(),
        RawValue::Json(Value::Array(a)) => a.is_empty(),
        RawValue::Json(Value::Bool(b)) => !b,
        RawValue::Json(_) => false,
    }
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::ResearchOutput => "research_output",
        Kind::Patent => "patent",
        Kind::Need => "need",
    }
}

fn nearest_column(name: &str) -> Option<&'static str> {
    all_columns()
        .iter()
        .copied()
        .map(|c| (strsim::jaro_winkler(&name.to_lowercase(), c), c))
        .filter(|(s, _)| *s > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// Whether `value`, folded, is one of `names`, so "Kết quả nghiên cứu" and "ket qua nghien cuu"
/// both match; `names` are written folded already and compared as they are.
fn folded_in(value: &str, names: &[&str]) -> bool {
    debug_assert!(names.iter().all(|n| fold_text(n) == *n), "{names:?}");
    let v = fold_text(value).replace(['-', '_'], " ");
    names.contains(&v.trim())
}

fn parse_kind(s: &str) -> Result<Kind, String> {
    if folded_in(
        s,
        &[
            "research output",
            "ket qua nghien cuu",
            "research",
            "technology",
        ],
    ) {
        Ok(Kind::ResearchOutput)
    } else if folded_in(
        s,
        &["patent", "sang che", "giai phap huu ich", "bang sang che"],
    ) {
        Ok(Kind::Patent)
    } else if folded_in(s, &["need", "nhu cau", "nhu cau cong nghe", "demand"]) {
        Ok(Kind::Need)
    } else {
        Err("must be research_output, patent or need".into())
    }
}

fn parse_status(s: &str) -> Result<Status, String> {
    if folded_in(s, &["published", "cong bo", "da cong bo", "public"]) {
        Ok(Status::Published)
    } else if folded_in(s, &["draft", "nhap", "ban nhap"]) {
        Ok(Status::Draft)
    } else if folded_in(s, &["archived", "luu tru", "da luu tru"]) {
        Ok(Status::Archived)
    } else {
        Err("must be draft, published or archived".into())
    }
}

fn parse_mode(s: &str) -> Result<TransferMode, String> {
    if folded_in(
        s,
        &[
            "licence",
            "license",
            "li xang",
            "cap phep",
            "chuyen giao quyen su dung",
        ],
    ) {
        Ok(TransferMode::Licence)
    } else if folded_in(
        s,
        &[
            "assignment",
            "chuyen nhuong",
            "chuyen giao quyen so huu",
            "ban dut",
        ],
    ) {
        Ok(TransferMode::Assignment)
    } else if folded_in(
        s,
        &[
            "joint development",
            "hop tac phat trien",
            "hop tac",
            "lien doanh",
        ],
    ) {
        Ok(TransferMode::JointDevelopment)
    } else if folded_in(s, &["technical service", "dich vu ky thuat", "dich vu"]) {
        Ok(TransferMode::TechnicalService)
    } else if folded_in(s, &["consulting", "consultancy", "tu van"]) {
        Ok(TransferMode::Consulting)
    } else {
        Err(format!(
            "{s:?} is not a transfer mode (licence, assignment, joint_development, technical_service, consulting)"
        ))
    }
}

fn parse_patent_type(s: &str) -> Result<PatentType, String> {
    if folded_in(s, &["invention", "sang che", "bang doc quyen sang che"]) {
        Ok(PatentType::Invention)
    } else if folded_in(
        s,
        &["utility solution", "giai phap huu ich", "utility model"],
    ) {
        Ok(PatentType::UtilitySolution)
    } else {
        Err("must be invention or utility_solution".into())
    }
}

fn parse_legal_status(s: &str) -> Result<LegalStatus, String> {
    if folded_in(s, &["granted", "da cap", "con hieu luc", "in force"]) {
        Ok(LegalStatus::Granted)
    } else if folded_in(s, &["pending", "dang xet", "cho cap", "filed"]) {
        Ok(LegalStatus::Pending)
    } else if folded_in(s, &["expired", "het han", "het hieu luc", "lapsed"]) {
        Ok(LegalStatus::Expired)
    } else {
        Err("must be pending, granted or expired".into())
    }
}

/// A whole amount, allowing thousands separators and a currency word: "350.000.000 đ".
fn parse_amount(s: &str) -> Result<u64, String> {
    let folded = fold_text(s);
    let core = folded
        .trim_end_matches("vnd")
        .trim_end_matches("dong")
        .trim_end_matches('d')
        .trim();
    let digits: String = core
        .chars()
        .filter(|c| !matches!(c, '.' | ',' | ' ' | '_'))
        .collect();
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!("{s:?} is not a whole number"));
    }
    digits.parse().map_err(|_| format!("{s:?} is too large"))
}

/// A date as YYYY-MM-DD or the Vietnamese DD/MM/YYYY.
fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%d/%m/%Y"))
        .map_err(|_| format!("{s:?} is not a date (YYYY-MM-DD or DD/MM/YYYY)"))
}

/// The source fields: exchange name, the listing's id there, its address there. An id or an
/// address needs the exchange; an address is `http://` or `https://`.
fn read_source(r: &mut Reader<'_>) -> (Option<String>, Option<String>, Option<String>) {
    let exchange = r.short("source_exchange");
    let id = r.short("source_id");
    let url = r.short("source_url");
    if exchange.is_none() && (id.is_some() || url.is_some()) {
        let named = if id.is_some() {
            "source_id"
        } else {
            "source_url"
        };
        r.error(
            "source_exchange",
            format!("is required with {named} (the exchange the listing comes from)"),
        );
    }
    if let Some(u) = &url {
        let lower = u.to_ascii_lowercase();
        if !(lower.starts_with("https://") || lower.starts_with("http://"))
            || u.chars().any(char::is_whitespace)
        {
            r.error(
                "source_url",
                "is not a web address (http:// or https://)".into(),
            );
        }
    }
    (exchange, id, url)
}

/// The id of a listing imported from another exchange, derived from the exchange's name and
/// its id there: `src-<exchange>-<id>` in letters, digits and dashes, or, when that would be
/// longer than 64 characters, `src-` and a hash of both.
pub fn source_listing_id(exchange: &str, id: &str) -> String {
    fn slug(s: &str) -> String {
        let mut out = String::new();
        for c in fold_text(s).chars() {
            if c.is_ascii_alphanumeric() {
                out.push(c.to_ascii_lowercase());
            } else if !out.ends_with('-') {
                out.push('-');
            }
        }
        out.trim_matches('-').to_string()
    }
    let (e, i) = (slug(exchange), slug(id));
    let readable = format!("src-{e}-{i}");
    // Distinct source ids must not meet in one slug (`A/1` and `a-1`): readable only when the
    // id is already in slug form.
    if !e.is_empty() && !i.is_empty() && i == id && readable.len() <= 64 {
        return readable;
    }
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("{exchange}\u{0}{id}").as_bytes());
    let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    let prefix: String = e.chars().take(30).collect();
    format!("src-{prefix}-{hex}")
}

/// Ids are kept short and URL-safe because they appear in links and file names.
fn check_id(s: &str) -> Result<String, String> {
    if s.len() > 64 {
        return Err("is longer than 64 characters".into());
    }
    if !s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err("may contain only letters A–Z, digits, '-', '_' and '.'".into());
    }
    Ok(s.to_string())
}

fn looks_like_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((user, host)) => {
            !user.is_empty() && host.contains('.') && !s.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

/// A fresh id: kind prefix, then time and randomness so that ids sort by creation.
pub fn new_id(kind: Kind) -> String {
    let prefix = match kind {
        Kind::ResearchOutput => "ro",
        Kind::Patent => "pt",
        Kind::Need => "nd",
    };
    let mut random = [0u8; 3];
    // Without randomness the time still separates ids in practice; a failure is not fatal.
    let _ = getrandom::fill(&mut random);
    let millis = Utc::now().timestamp_millis();
    let [a, b, c] = random;
    format!("{prefix}-{millis:x}{a:02x}{b:02x}{c:02x}")
}
