//! The request and response bodies of the API as OpenAPI schemas. Most handlers read their
//! bodies as JSON objects and check them field by field (so that every bad field is named in
//! our error format); these types describe what those checks take and what the handlers write.

// The types are described, never built.
#![allow(dead_code)]

use std::collections::HashMap;

use utoipa::ToSchema;

/// Binary content (a spreadsheet download).
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct Binary(Vec<u8>);

/// A listing as written (POST and PUT /listings): every field is checked by `domain::input::parse_listing`.
#[derive(ToSchema)]
pub struct ListingInput {
    #[schema(max_length = 64, nullable = false)]
    pub id: Option<String>,
    #[schema(inline)]
    pub kind: Kind,
    pub title: String,
    pub description: String,
    #[schema(nullable = false)]
    pub keywords: Option<Vec<String>>,
    /// OECD FOS 2007 code, e.g. 2.2
    #[schema(nullable = false)]
    pub field: Option<String>,
    /// 2025 province code; input accepts names, aliases and pre-2025 names
    #[schema(nullable = false)]
    pub province: Option<String>,
    #[schema(nullable = false)]
    pub owner: Option<String>,
    #[schema(nullable = false)]
    pub contact_name: Option<String>,
    #[schema(nullable = false)]
    pub contact_email: Option<String>,
    #[schema(nullable = false)]
    pub contact_phone: Option<String>,
    #[schema(inline, nullable = false)]
    pub status: Option<Status>,
    #[schema(minimum = 1, maximum = 9, nullable = false)]
    pub trl: Option<i64>,
    #[schema(inline, nullable = false)]
    pub transfer_modes: Option<Vec<TransferMode>>,
    #[schema(minimum = 0, nullable = false)]
    pub price_vnd: Option<i64>,
    #[schema(nullable = false)]
    pub year: Option<i64>,
    #[schema(nullable = false)]
    pub patent_number: Option<String>,
    #[schema(inline, nullable = false)]
    pub patent_type: Option<PatentType>,
    #[schema(nullable = false)]
    pub ipc: Option<Vec<String>>,
    #[schema(format = Date, nullable = false)]
    pub filing_date: Option<String>,
    #[schema(format = Date, nullable = false)]
    pub grant_date: Option<String>,
    #[schema(format = Date, nullable = false)]
    pub expiry_date: Option<String>,
    #[schema(nullable = false)]
    pub holder: Option<String>,
    #[schema(inline, nullable = false)]
    pub legal_status: Option<LegalStatus>,
    #[schema(nullable = false)]
    pub industry: Option<String>,
    #[schema(nullable = false)]
    pub desired_outcome: Option<String>,
    #[schema(minimum = 0, nullable = false)]
    pub budget_min_vnd: Option<i64>,
    #[schema(minimum = 0, nullable = false)]
    pub budget_max_vnd: Option<i64>,
    #[schema(minimum = 1, maximum = 9, nullable = false)]
    pub trl_min: Option<i64>,
    #[schema(format = Date, nullable = false)]
    pub deadline: Option<String>,
    /// The exchange a listing imported from elsewhere comes from
    #[schema(nullable = false)]
    pub source_exchange: Option<String>,
    /// The listing's id on that exchange; without an id, exchange and source_id make the id (src-...), so importing it again updates it
    #[schema(nullable = false)]
    pub source_id: Option<String>,
    /// The listing's address on that exchange (http:// or https://)
    #[schema(nullable = false)]
    pub source_url: Option<String>,
    /// A need posted as confidential: readers it is not disclosed to see its summary, field and province only
    #[schema(nullable = false)]
    pub confidential: Option<bool>,
    /// What a confidential need shows in its stead (required when confidential, at most 500 characters)
    #[schema(nullable = false)]
    pub summary: Option<String>,
    /// When its owner last said it is still current (default: now)
    #[schema(format = DateTime, nullable = false)]
    pub confirmed_at: Option<String>,
}

/// The values of `Kind`: research_output, patent, need.
#[derive(ToSchema)]
pub enum Kind {
    #[serde(rename = "research_output")]
    ResearchOutput,
    #[serde(rename = "patent")]
    Patent,
    #[serde(rename = "need")]
    Need,
}

/// The values of `Status`: draft, published, archived.
#[derive(ToSchema)]
pub enum Status {
    #[serde(rename = "draft")]
    Draft,
    #[serde(rename = "published")]
    Published,
    #[serde(rename = "archived")]
    Archived,
}

/// The values of `TransferMode`: licence, assignment, joint_development, technical_service, consulting.
#[derive(ToSchema)]
pub enum TransferMode {
    #[serde(rename = "licence")]
    Licence,
    #[serde(rename = "assignment")]
    Assignment,
    #[serde(rename = "joint_development")]
    JointDevelopment,
    #[serde(rename = "technical_service")]
    TechnicalService,
    #[serde(rename = "consulting")]
    Consulting,
}

/// The values of `PatentType`: invention, utility_solution.
#[derive(ToSchema)]
pub enum PatentType {
    #[serde(rename = "invention")]
    Invention,
    #[serde(rename = "utility_solution")]
    UtilitySolution,
}

/// The values of `LegalStatus`: pending, granted, expired.
#[derive(ToSchema)]
pub enum LegalStatus {
    #[serde(rename = "pending")]
    Pending,
    #[serde(rename = "granted")]
    Granted,
    #[serde(rename = "expired")]
    Expired,
}

/// A stored listing as a reader may see it (contact details only for those who may see them).
#[derive(ToSchema)]
pub struct Listing {
    #[schema(max_length = 64)]
    pub id: String,
    #[schema(inline)]
    pub kind: Kind,
    pub title: String,
    pub description: String,
    #[schema(nullable = false)]
    pub keywords: Option<Vec<String>>,
    /// OECD FOS 2007 code, e.g. 2.2
    #[schema(nullable = false)]
    pub field: Option<String>,
    /// 2025 province code; input accepts names, aliases and pre-2025 names
    #[schema(nullable = false)]
    pub province: Option<String>,
    #[schema(nullable = false)]
    pub owner: Option<String>,
    #[schema(nullable = false)]
    pub contact_name: Option<String>,
    #[schema(nullable = false)]
    pub contact_email: Option<String>,
    #[schema(nullable = false)]
    pub contact_phone: Option<String>,
    #[schema(inline)]
    pub status: Status,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    #[schema(minimum = 1, maximum = 9, nullable = false)]
    pub trl: Option<i64>,
    #[schema(inline, nullable = false)]
    pub transfer_modes: Option<Vec<TransferMode>>,
    #[schema(minimum = 0, nullable = false)]
    pub price_vnd: Option<i64>,
    #[schema(nullable = false)]
    pub year: Option<i64>,
    #[schema(nullable = false)]
    pub patent_number: Option<String>,
    #[schema(inline, nullable = false)]
    pub patent_type: Option<PatentType>,
    #[schema(nullable = false)]
    pub ipc: Option<Vec<String>>,
    #[schema(format = Date, nullable = false)]
    pub filing_date: Option<String>,
    #[schema(format = Date, nullable = false)]
    pub grant_date: Option<String>,
    #[schema(format = Date, nullable = false)]
    pub expiry_date: Option<String>,
    #[schema(nullable = false)]
    pub holder: Option<String>,
    #[schema(inline, nullable = false)]
    pub legal_status: Option<LegalStatus>,
    #[schema(nullable = false)]
    pub industry: Option<String>,
    #[schema(nullable = false)]
    pub desired_outcome: Option<String>,
    #[schema(minimum = 0, nullable = false)]
    pub budget_min_vnd: Option<i64>,
    #[schema(minimum = 0, nullable = false)]
    pub budget_max_vnd: Option<i64>,
    #[schema(minimum = 1, maximum = 9, nullable = false)]
    pub trl_min: Option<i64>,
    #[schema(format = Date, nullable = false)]
    pub deadline: Option<String>,
    /// The exchange a listing imported from elsewhere comes from
    #[schema(nullable = false)]
    pub source_exchange: Option<String>,
    /// The listing's id on that exchange; without an id, exchange and source_id make the id (src-...), so importing it again updates it
    #[schema(nullable = false)]
    pub source_id: Option<String>,
    /// The listing's address on that exchange (http:// or https://)
    #[schema(nullable = false)]
    pub source_url: Option<String>,
    /// A need posted as confidential
    #[schema(nullable = false)]
    pub confidential: Option<bool>,
    /// What a confidential need shows to readers it is not disclosed to
    #[schema(nullable = false)]
    pub summary: Option<String>,
    /// The organisations a confidential need was disclosed to (its organisation, brokers and admins see them)
    #[schema(nullable = false)]
    pub disclosures: Option<Vec<Disclosure>>,
    /// When its owner last said it is still current
    #[schema(format = DateTime, nullable = false)]
    pub confirmed_at: Option<String>,
    /// When its owner was asked to confirm it, since it was last confirmed
    #[schema(format = DateTime, nullable = false)]
    pub confirm_asked_at: Option<String>,
    /// Not confirmed in time: kept, but out of search and matching until confirmed
    #[schema(nullable = false)]
    pub stale: Option<bool>,
}

/// Our error body: a code, a message in English, and the field at fault.
#[derive(ToSchema)]
pub struct Error {
    #[schema(inline)]
    pub error: ErrorError,
}

/// The error itself.
#[derive(ToSchema)]
pub struct ErrorError {
    pub code: String,
    pub message: String,
    /// The message in Vietnamese, for refusals that have one
    #[schema(nullable = false)]
    pub message_vi: Option<String>,
    pub field: Option<String>,
    #[schema(inline, nullable = false)]
    pub details: Option<Vec<Detail>>,
}

/// One bad field of an invalid listing.
#[derive(ToSchema)]
pub struct Detail {
    pub field: String,
    pub reason: String,
}

/// One value of a facet and how many hits carry it.
#[derive(ToSchema)]
pub struct FacetValue {
    pub value: String,
    #[schema(nullable = false)]
    pub label: Option<String>,
    pub count: i64,
}

/// The answer of a search: total, hits and facets.
#[derive(ToSchema)]
pub struct SearchResponse {
    /// With an embedder: fused (semantic neighbours are in the ranking) or skipped (the query's vector did not arrive within serve --embed-deadline-ms, or the embedder is failing: the ranking is lexical)
    #[schema(inline, nullable = false)]
    pub semantic: Option<Semantic>,
    pub total: i64,
    #[schema(inline)]
    pub hits: Vec<Hit>,
    pub facets: HashMap<String, Vec<FacetValue>>,
}

/// The values of `Semantic`: fused, skipped.
#[derive(ToSchema)]
pub enum Semantic {
    #[serde(rename = "fused")]
    Fused,
    #[serde(rename = "skipped")]
    Skipped,
}

/// One hit of a search.
#[derive(ToSchema)]
pub struct Hit {
    pub id: String,
    pub kind: String,
    pub title: String,
    pub score: f64,
    /// HTML-escaped excerpt with <mark> around matched words
    pub snippet: String,
    #[schema(nullable = false)]
    pub field: Option<String>,
    #[schema(nullable = false)]
    pub province: Option<String>,
    #[schema(nullable = false)]
    pub province_name: Option<String>,
    #[schema(nullable = false)]
    pub owner: Option<String>,
    #[schema(nullable = false)]
    pub trl: Option<i64>,
    #[schema(nullable = false)]
    pub trl_min: Option<i64>,
    #[schema(nullable = false)]
    pub transfer_modes: Option<Vec<String>>,
    #[schema(nullable = false)]
    pub keywords: Option<Vec<String>>,
    pub status: String,
    #[schema(nullable = false)]
    pub updated_at: Option<String>,
    #[schema(nullable = false)]
    pub confidential: Option<bool>,
    #[schema(format = DateTime, nullable = false)]
    pub confirmed_at: Option<String>,
}

/// A sign-in for an API token.
#[derive(ToSchema)]
pub struct TokenRequest {
    pub email: String,
    #[schema(format = Password)]
    pub password: String,
    /// The token stops working after this many days (default: until revoked)
    #[schema(minimum = 1, maximum = 3650, nullable = false)]
    pub expires_in_days: Option<i64>,
}

/// A new API token, shown once.
#[derive(ToSchema)]
pub struct IssuedToken {
    /// For DELETE /api/v1/tokens/{id}
    pub id: String,
    /// Bearer token; shown only now
    pub token: String,
    #[schema(inline, nullable = false)]
    pub user: Option<IssuedTokenUser>,
    /// When the token stops working; null: until revoked
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
}

/// The user a token belongs to.
#[derive(ToSchema)]
pub struct IssuedTokenUser {
    #[schema(nullable = false)]
    pub email: Option<String>,
    #[schema(inline, nullable = false)]
    pub role: Option<Role>,
    pub province: Option<String>,
    pub org: Option<String>,
}

/// The values of `Role`: admin, broker, institute, enterprise.
#[derive(ToSchema)]
pub enum Role {
    #[serde(rename = "admin")]
    Admin,
    #[serde(rename = "broker")]
    Broker,
    #[serde(rename = "institute")]
    Institute,
    #[serde(rename = "enterprise")]
    Enterprise,
}

/// An enterprise's interest in a technology, with the answer.
#[derive(ToSchema)]
pub struct Lead {
    pub id: String,
    pub listing_id: String,
    pub listing_title: String,
    #[schema(nullable = false)]
    pub listing_owner: Option<String>,
    /// 2025 province code
    #[schema(nullable = false)]
    pub listing_province: Option<String>,
    pub from_email: String,
    pub from_org: String,
    /// 2025 province code
    #[schema(nullable = false)]
    pub from_province: Option<String>,
    pub message: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime, nullable = false)]
    pub updated_at: Option<String>,
    #[schema(inline, nullable = false)]
    pub reply: Option<Reply>,
    /// The day by which the technology's organisation should answer
    #[schema(format = DateTime, nullable = false)]
    pub reply_by: Option<String>,
    /// When the organisation was reminded of an overdue answer
    #[schema(format = DateTime, nullable = false)]
    pub reminded_at: Option<String>,
}

/// The technology's organisation's answer to a lead.
#[derive(ToSchema)]
pub struct Reply {
    pub message: String,
    pub by: String,
    #[schema(format = DateTime)]
    pub at: String,
}

/// listing_id, or lead_id whose technology is taken
#[derive(ToSchema)]
pub struct DealRequest {
    pub need_id: String,
    #[schema(nullable = false)]
    pub listing_id: Option<String>,
    #[schema(nullable = false)]
    pub lead_id: Option<String>,
    #[schema(nullable = false)]
    pub note: Option<String>,
}

/// A deal's move to another stage.
#[derive(ToSchema)]
pub struct StageRequest {
    #[schema(inline)]
    pub stage: Stage,
    #[schema(nullable = false)]
    pub note: Option<String>,
    #[schema(minimum = 0, nullable = false)]
    pub contract_value_vnd: Option<i64>,
    #[schema(format = Date, nullable = false)]
    pub signed_on: Option<String>,
    #[schema(nullable = false)]
    pub reason: Option<String>,
}

/// The values of `Stage`: proposed, contacted, negotiating, agreed, lost.
#[derive(ToSchema)]
pub enum Stage {
    #[serde(rename = "proposed")]
    Proposed,
    #[serde(rename = "contacted")]
    Contacted,
    #[serde(rename = "negotiating")]
    Negotiating,
    #[serde(rename = "agreed")]
    Agreed,
    #[serde(rename = "lost")]
    Lost,
}

/// A deal on a broker's desk.
#[derive(ToSchema)]
pub struct Deal {
    pub id: String,
    pub need_id: String,
    pub listing_id: String,
    #[schema(nullable = false)]
    pub lead_id: Option<String>,
    /// 2025 province code
    #[schema(nullable = false)]
    pub need_province: Option<String>,
    /// 2025 province code
    #[schema(nullable = false)]
    pub listing_province: Option<String>,
    #[schema(inline)]
    pub stage: Stage,
    #[schema(nullable = false)]
    pub contract_value_vnd: Option<i64>,
    #[schema(format = Date, nullable = false)]
    pub signed_on: Option<String>,
    #[schema(nullable = false)]
    pub lost_reason: Option<String>,
    pub created_by: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

/// One entry of a deal's append-only history.
#[derive(ToSchema)]
pub struct DealEvent {
    pub n: i64,
    #[schema(format = DateTime)]
    pub at: String,
    /// E-mail of the user, or admin-token
    pub by: String,
    #[schema(nullable = false)]
    pub note: Option<String>,
    #[schema(inline)]
    pub what: What,
}

/// A part of `DealEvent`.
#[derive(ToSchema)]
pub struct What {
    #[serde(rename = "type")]
    #[schema(inline)]
    pub type_: Type,
    #[schema(nullable = false)]
    pub need_id: Option<String>,
    #[schema(nullable = false)]
    pub listing_id: Option<String>,
    #[serde(rename = "from")]
    #[schema(inline, nullable = false)]
    pub from_: Option<Stage>,
    #[schema(inline, nullable = false)]
    pub to: Option<Stage>,
    #[schema(nullable = false)]
    pub contract_value_vnd: Option<i64>,
    #[schema(format = Date, nullable = false)]
    pub signed_on: Option<String>,
    #[schema(nullable = false)]
    pub reason: Option<String>,
}

/// The values of `Type`: proposed, stage.
#[derive(ToSchema)]
pub enum Type {
    #[serde(rename = "proposed")]
    Proposed,
    #[serde(rename = "stage")]
    Stage,
}

/// A province's (or the nation's) supply, demand, deals and flows.
#[derive(ToSchema)]
pub struct Report {
    #[schema(inline, nullable = false)]
    pub scope: Option<Scope>,
    #[schema(format = DateTime, nullable = false)]
    pub generated_at: Option<String>,
    #[schema(inline, nullable = false)]
    pub supply_demand: Option<Vec<SupplyDemandItem>>,
    #[schema(inline, nullable = false)]
    pub stale_needs: Option<Vec<StaleNeed>>,
    #[schema(inline, nullable = false)]
    pub deals: Option<Deals>,
    #[schema(inline, nullable = false)]
    pub flows: Option<Vec<Flow>>,
}

/// A part of `Report`.
#[derive(ToSchema)]
pub struct Scope {
    #[schema(inline, nullable = false)]
    pub kind: Option<Kind2>,
    /// 2025 province code
    #[schema(nullable = false)]
    pub code: Option<String>,
    #[schema(nullable = false)]
    pub name: Option<String>,
}

/// The values of `Kind`: province, national.
#[derive(ToSchema)]
pub enum Kind2 {
    #[serde(rename = "province")]
    Province,
    #[serde(rename = "national")]
    National,
}

/// A part of `Report`.
#[derive(ToSchema)]
pub struct SupplyDemandItem {
    #[schema(nullable = false)]
    pub field: Option<String>,
    #[schema(nullable = false)]
    pub label: Option<String>,
    #[schema(nullable = false)]
    pub supply: Option<i64>,
    #[schema(nullable = false)]
    pub demand: Option<i64>,
}

/// A part of `Report`.
#[derive(ToSchema)]
pub struct StaleNeed {
    #[schema(nullable = false)]
    pub id: Option<String>,
    #[schema(nullable = false)]
    pub title: Option<String>,
    #[schema(format = DateTime, nullable = false)]
    pub created_at: Option<String>,
    #[schema(nullable = false)]
    pub days_open: Option<i64>,
}

/// A part of `Report`.
#[derive(ToSchema)]
pub struct Deals {
    #[schema(nullable = false)]
    pub by_stage: Option<HashMap<String, i64>>,
    #[schema(nullable = false)]
    pub total: Option<i64>,
    #[schema(nullable = false)]
    pub closed: Option<i64>,
    pub conversion: Option<f64>,
    #[schema(nullable = false)]
    pub signed_value_vnd: Option<i64>,
}

/// A part of `Report`.
#[derive(ToSchema)]
pub struct Flow {
    #[serde(rename = "from")]
    pub from_: Option<String>,
    #[schema(nullable = false)]
    pub from_name: Option<String>,
    pub to: Option<String>,
    #[schema(nullable = false)]
    pub to_name: Option<String>,
    #[schema(nullable = false)]
    pub deals: Option<i64>,
    #[schema(nullable = false)]
    pub agreed: Option<i64>,
    #[schema(nullable = false)]
    pub signed_value_vnd: Option<i64>,
}

/// A need described in the request rather than stored.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdHocNeed {
    pub text: String,
    #[schema(nullable = false)]
    pub field: Option<String>,
    #[schema(nullable = false)]
    pub province: Option<String>,
    #[schema(minimum = 1, maximum = 9, nullable = false)]
    pub trl_min: Option<i64>,
    #[schema(nullable = false)]
    pub transfer_modes: Option<Vec<String>>,
    #[schema(minimum = 0, nullable = false)]
    pub budget_max_vnd: Option<i64>,
    #[schema(nullable = false)]
    pub ipc: Option<Vec<String>>,
    #[schema(inline, nullable = false)]
    pub geography: Option<Geography>,
    #[schema(nullable = false)]
    pub provinces: Option<Vec<String>>,
    #[schema(minimum = 1, maximum = 100, nullable = false)]
    pub limit: Option<i64>,
    /// Fuse semantic neighbours (default true, when an embedder is configured)
    #[schema(nullable = false)]
    pub semantic: Option<bool>,
}

/// The values of `Geography`: any, near, only.
#[derive(ToSchema)]
pub enum Geography {
    #[serde(rename = "any")]
    Any,
    #[serde(rename = "near")]
    Near,
    #[serde(rename = "only")]
    Only,
}

/// The technologies (or needs) that fit a listing, each explained.
#[derive(ToSchema)]
pub struct MatchResponse {
    /// With an embedder: fused (semantic neighbours are in the ranking) or skipped (the query's vector did not arrive within serve --embed-deadline-ms, or the embedder is failing: the ranking is lexical)
    #[schema(inline, nullable = false)]
    pub semantic: Option<Semantic>,
    pub candidates: i64,
    #[schema(inline)]
    pub matches: Vec<MatchItem>,
}

/// A part of `MatchResponse`.
#[derive(ToSchema)]
pub struct MatchItem {
    pub id: String,
    pub kind: String,
    pub title: String,
    pub score: f64,
    #[schema(inline)]
    pub components: Vec<Component>,
    pub matched_terms: Vec<String>,
    #[schema(nullable = false)]
    pub distance_km: Option<f64>,
    #[schema(inline)]
    pub reason: Reason,
    /// Cosine similarity of the two texts, when the listing was a semantic neighbour
    #[schema(nullable = false)]
    pub similarity: Option<f64>,
}

/// A part of `MatchItem`.
#[derive(ToSchema)]
pub struct Component {
    pub name: String,
    pub value: Option<f64>,
    pub weight: f64,
    pub contribution: f64,
}

/// A part of `MatchItem`.
#[derive(ToSchema)]
pub struct Reason {
    pub vi: String,
    pub en: String,
}

/// A new account's e-mail, password and name.
#[derive(ToSchema)]
pub struct SignUpRequest {
    pub email: String,
    #[schema(format = Password)]
    pub password: String,
    pub name: String,
}

/// A user account as its owner and administrators see it.
#[derive(ToSchema)]
pub struct User {
    pub id: String,
    pub email: String,
    #[schema(inline)]
    pub role: Role2,
    pub province: Option<String>,
    pub org: Option<String>,
    pub name: Option<String>,
    pub confirmed: bool,
    pub org_id: Option<String>,
}

/// The values of `Role`: admin, broker, institute, enterprise, newcomer.
#[derive(ToSchema)]
pub enum Role2 {
    #[serde(rename = "admin")]
    Admin,
    #[serde(rename = "broker")]
    Broker,
    #[serde(rename = "institute")]
    Institute,
    #[serde(rename = "enterprise")]
    Enterprise,
    #[serde(rename = "newcomer")]
    Newcomer,
}

/// A mail in the outbox with its delivery state.
#[derive(ToSchema)]
pub struct Mail {
    pub id: String,
    pub to: String,
    pub subject: String,
    pub body: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    pub attempts: i64,
    #[schema(format = DateTime)]
    pub next_attempt_at: String,
    #[schema(nullable = false)]
    pub last_error: Option<String>,
    #[schema(format = DateTime, nullable = false)]
    pub sent_at: Option<String>,
}

/// An organisation's public record.
#[derive(ToSchema)]
pub struct Organisation {
    pub id: String,
    pub name: String,
    #[schema(inline)]
    pub kind: Kind3,
    /// 2025 province code
    #[schema(nullable = false)]
    pub province: Option<String>,
    #[schema(nullable = false)]
    pub registration_no: Option<String>,
    #[schema(nullable = false)]
    pub website: Option<String>,
    #[schema(nullable = false)]
    pub description: Option<String>,
    pub verified: bool,
    #[schema(format = DateTime, nullable = false)]
    pub verified_at: Option<String>,
    #[schema(nullable = false)]
    pub merged_into: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
}

/// The values of `Kind`: institute, university, enterprise, other.
#[derive(ToSchema)]
pub enum Kind3 {
    #[serde(rename = "institute")]
    Institute,
    #[serde(rename = "university")]
    University,
    #[serde(rename = "enterprise")]
    Enterprise,
    #[serde(rename = "other")]
    Other,
}

/// An organisation's record as written.
#[derive(ToSchema)]
pub struct OrgInput {
    /// unique after Unicode NFC and case folding; fixed once created
    #[schema(nullable = false)]
    pub name: Option<String>,
    #[schema(inline, nullable = false)]
    pub kind: Option<Kind3>,
    /// code or name
    #[schema(nullable = false)]
    pub province: Option<String>,
    /// tax code (mã số thuế) or the institute's code
    #[schema(nullable = false)]
    pub registration_no: Option<String>,
    /// https:// or http:// address
    #[schema(nullable = false)]
    pub website: Option<String>,
    #[schema(nullable = false)]
    pub description: Option<String>,
}

/// A member of an organisation.
#[derive(ToSchema)]
pub struct Member {
    pub id: String,
    pub email: String,
    #[schema(nullable = false)]
    pub name: Option<String>,
    #[schema(inline)]
    pub role: Role2,
    #[schema(nullable = false)]
    pub province: Option<String>,
    #[schema(nullable = false)]
    pub org: Option<String>,
    #[schema(nullable = false)]
    pub org_id: Option<String>,
}

/// The market's public statistics; cells under the threshold show their count only.
#[derive(ToSchema)]
pub struct Statistics {
    #[schema(nullable = false)]
    pub province: Option<String>,
    #[schema(nullable = false)]
    pub year: Option<i64>,
    pub min_deals_per_cell: i64,
    #[schema(inline)]
    pub market: Market,
    #[schema(inline)]
    pub years: Vec<Year>,
    #[schema(inline)]
    pub fields: Vec<Field>,
    pub supply: i64,
    pub demand: i64,
    pub needs_without_deal: i64,
    pub deals_proposed: i64,
    #[schema(inline)]
    pub intermediaries: Intermediaries,
}

/// A part of `Statistics`.
#[derive(ToSchema)]
pub struct Market {
    pub deals_agreed: i64,
    #[schema(nullable = false)]
    pub value_vnd: Option<i64>,
    #[schema(nullable = false)]
    pub ip_share: Option<f64>,
    #[schema(nullable = false)]
    pub domestic_research_share: Option<f64>,
    pub suppressed: bool,
}

/// A part of `Statistics`.
#[derive(ToSchema)]
pub struct Year {
    pub deals_agreed: i64,
    #[schema(nullable = false)]
    pub value_vnd: Option<i64>,
    #[schema(nullable = false)]
    pub ip_share: Option<f64>,
    #[schema(nullable = false)]
    pub domestic_research_share: Option<f64>,
    pub suppressed: bool,
    pub year: i64,
    #[schema(nullable = false)]
    pub value_growth: Option<f64>,
}

/// A part of `Statistics`.
#[derive(ToSchema)]
pub struct Field {
    pub deals_agreed: i64,
    #[schema(nullable = false)]
    pub value_vnd: Option<i64>,
    #[schema(nullable = false)]
    pub ip_share: Option<f64>,
    #[schema(nullable = false)]
    pub domestic_research_share: Option<f64>,
    pub suppressed: bool,
    pub field: String,
    #[schema(nullable = false)]
    pub label_vi: Option<String>,
    #[schema(nullable = false)]
    pub label_en: Option<String>,
    pub supply: i64,
    pub demand: i64,
}

/// A part of `Statistics`.
#[derive(ToSchema)]
pub struct Intermediaries {
    pub brokers: i64,
    pub organisations: i64,
}

/// A standing search to be alerted of.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SavedSearchRequest {
    /// Free text, as in GET /api/v1/search
    #[schema(max_length = 2000, nullable = false)]
    pub q: Option<String>,
    /// Kinds, comma-separated: research_output, patent, need
    #[schema(nullable = false)]
    pub kind: Option<String>,
    /// Provinces by code or name, comma-separated
    #[schema(nullable = false)]
    pub province: Option<String>,
    /// Fields of science, comma-separated
    #[schema(nullable = false)]
    pub field: Option<String>,
    /// Lowest readiness level, 1 to 9
    #[schema(inline, nullable = false)]
    pub trl_min: Option<TrlMin>,
    /// Transfer modes, comma-separated
    #[schema(nullable = false)]
    pub transfer_mode: Option<String>,
    /// Mail each alert at once (default) or one digest a day
    #[schema(inline, nullable = false)]
    pub delivery: Option<Delivery>,
}

/// The values of `Delivery`: immediate, daily.
#[derive(ToSchema)]
pub enum Delivery {
    #[serde(rename = "immediate")]
    Immediate,
    #[serde(rename = "daily")]
    Daily,
}

/// A standing search of the caller (saved, or of one of their organisation's listings).
#[derive(ToSchema)]
pub struct SavedSearch {
    pub id: String,
    /// The search's private Atom feed; the secret is in the URL
    pub feed_url: String,
    #[schema(inline)]
    pub delivery: Delivery,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// False once unsubscribed (a need's or technology's standing search)
    pub active: bool,
    /// The caller's organisation's need or technology this search stands for; absent for saved searches
    #[schema(nullable = false)]
    pub listing_id: Option<String>,
    #[schema(nullable = false)]
    pub q: Option<String>,
    #[schema(nullable = false)]
    pub kind: Option<String>,
    #[schema(nullable = false)]
    pub province: Option<String>,
    #[schema(nullable = false)]
    pub field: Option<String>,
    #[schema(nullable = false)]
    pub trl_min: Option<String>,
    #[schema(nullable = false)]
    pub transfer_mode: Option<String>,
}

/// An alert: a listing that matched a standing search.
#[derive(ToSchema)]
pub struct Notification {
    pub id: String,
    pub listing_id: String,
    /// Why, in Vietnamese and English
    pub reason: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    pub read: bool,
    /// The listing's title when the alert was raised
    #[schema(nullable = false)]
    pub title: Option<String>,
    /// The standing search it fits
    #[schema(nullable = false)]
    pub search_id: Option<String>,
}

/// The values of `SearchFormat`: json, csv, xlsx, jsonl.
#[derive(ToSchema)]
pub enum SearchFormat {
    #[serde(rename = "json")]
    Json,
    #[serde(rename = "csv")]
    Csv,
    #[serde(rename = "xlsx")]
    Xlsx,
    #[serde(rename = "jsonl")]
    Jsonl,
}

/// The values of `SearchSort`: relevance, newest.
#[derive(ToSchema)]
pub enum SearchSort {
    #[serde(rename = "relevance")]
    Relevance,
    #[serde(rename = "newest")]
    Newest,
}

/// The values of `SemanticSwitch`: on, off.
#[derive(ToSchema)]
pub enum SemanticSwitch {
    #[serde(rename = "on")]
    On,
    #[serde(rename = "off")]
    Off,
}

/// A part of an answer.
#[derive(ToSchema)]
pub struct MetaProvincesResponseItem {
    pub code: String,
    pub name: String,
    pub short_name: String,
    pub lat: f64,
    pub lon: f64,
}

/// A part of an answer.
#[derive(ToSchema)]
pub struct MetaFieldsOfScienceResponseItem {
    pub code: String,
    pub label_en: String,
    pub label_vi: String,
}

/// The answer of `GET /api/v1/health`.
#[derive(ToSchema)]
pub struct MetaHealthResponse {
    pub status: String,
    /// Documents in the index, drafts included: for the admin token only
    #[schema(nullable = false)]
    pub listings_indexed: Option<i64>,
    pub store_seq: i64,
    pub index_seq: i64,
    pub index_lag: i64,
    /// Semantic matching: off without an embedder
    #[schema(inline)]
    pub semantic: Semantic2,
}

/// A part of `MetaHealthResponse`.
#[derive(ToSchema)]
pub struct Semantic2 {
    pub enabled: bool,
    #[schema(nullable = false)]
    pub model: Option<String>,
    #[schema(nullable = false)]
    pub embedder_reachable: Option<bool>,
    /// Listings with a vector of the model
    #[schema(nullable = false)]
    pub vectors: Option<i64>,
    /// Listings still waiting for a vector
    #[schema(nullable = false)]
    pub pending_vectors: Option<i64>,
}

/// The answer of `GET /api/v1/changes`.
#[derive(ToSchema)]
pub struct ChangesChangesResponse {
    #[schema(inline)]
    pub changes: Vec<Change>,
    /// The seq to pass as after for the next page
    pub next: i64,
    /// The newest change's seq when this page was read
    pub last: i64,
}

/// A part of `ChangesChangesResponse`.
#[derive(ToSchema)]
pub struct Change {
    pub seq: i64,
    pub id: String,
    #[schema(inline)]
    pub op: Op,
    #[schema(nullable = false)]
    pub listing: Option<Listing>,
}

/// The values of `Op`: put, delete.
#[derive(ToSchema)]
pub enum Op {
    #[serde(rename = "put")]
    Put,
    #[serde(rename = "delete")]
    Delete,
}

/// The answer of `GET /api/v1/changes/snapshot`.
#[derive(ToSchema)]
pub struct ChangesSnapshotResponse {
    pub listings: Vec<Listing>,
    /// The newest change's seq before this page was read
    pub seq: i64,
    /// after_id for the next page; null on the last
    #[schema(required = true)]
    pub next_id: Option<String>,
}

/// The answer of `GET /api/v1/listings/{id}/duplicates`.
#[derive(ToSchema)]
pub struct DuplicatesDuplicatesResponse {
    #[schema(inline)]
    pub duplicates: Vec<Duplicate>,
}

/// A part of `DuplicatesDuplicatesResponse`.
#[derive(ToSchema)]
pub struct Duplicate {
    pub id: String,
    /// Estimated share of the shorter text's three-word phrases (folded) found in the other, 0.5 to 1
    pub similarity: f64,
    #[schema(nullable = false)]
    pub title: Option<String>,
}

/// The body of `POST /api/v1/listings/{id}/interest`.
#[derive(ToSchema)]
pub struct LeadsInterestRequest {
    #[schema(max_length = 4000)]
    pub message: String,
}

/// The answer of `GET /api/v1/leads`.
#[derive(ToSchema)]
pub struct LeadsLeadsResponse {
    #[schema(nullable = false)]
    pub total: Option<i64>,
    #[schema(nullable = false)]
    pub leads: Option<Vec<Lead>>,
}

/// The answer of `GET /api/v1/deals`.
#[derive(ToSchema)]
pub struct DealsListResponse {
    #[schema(nullable = false)]
    pub total: Option<i64>,
    #[schema(nullable = false)]
    pub deals: Option<Vec<Deal>>,
}

/// The answer of `GET /api/v1/deals/{id}/history`.
#[derive(ToSchema)]
pub struct DealsHistoryResponse {
    #[schema(nullable = false)]
    pub deal_id: Option<String>,
    #[schema(nullable = false)]
    pub events: Option<Vec<DealEvent>>,
}

/// The values of `SearchFormat`: json, csv, xlsx.
#[derive(ToSchema)]
pub enum ReportFormat {
    #[serde(rename = "json")]
    Json,
    #[serde(rename = "csv")]
    Csv,
    #[serde(rename = "xlsx")]
    Xlsx,
}

/// The body of `POST /api/v1/admin/backup`.
#[derive(ToSchema)]
pub struct BackupBackupRequest {
    /// Absolute path of a new or empty directory on the server
    pub dir: String,
}

/// The answer of `POST /api/v1/admin/backup`.
#[derive(ToSchema)]
pub struct BackupBackupResponse {
    pub format: String,
    pub seq: i64,
    pub listings: i64,
    pub taken_at: String,
    pub bytes: i64,
}

/// The answer of `POST /api/v1/signup`.
#[derive(ToSchema)]
pub struct SignupCreateResponse {
    pub email: String,
    pub confirmation: String,
}

/// The body of `POST /api/v1/password-resets`.
#[derive(ToSchema)]
pub struct SignupRequestRequest {
    pub email: String,
}

/// The answer of `POST /api/v1/password-resets`.
#[derive(ToSchema)]
pub struct SignupRequestResponse {
    pub reset: String,
}

/// The body of `POST /api/v1/password-resets/{secret}`.
#[derive(ToSchema)]
pub struct SignupResetRequest {
    #[schema(format = Password)]
    pub password: String,
}

/// The answer of `POST /api/v1/password-resets/{secret}`.
#[derive(ToSchema)]
pub struct SignupResetResponse {
    pub email: String,
}

/// The body of `POST /api/v1/users`.
#[derive(ToSchema)]
pub struct UsersCreateRequest {
    pub email: String,
    pub role: String,
    #[schema(format = Password)]
    pub password: String,
    pub province: Option<String>,
    pub org: Option<String>,
}

/// The body of `POST /api/v1/users/password`.
#[derive(ToSchema)]
pub struct UsersSetPasswordRequest {
    pub email: String,
    #[schema(format = Password)]
    pub password: String,
}

/// The answer of `POST /api/v1/users/password`.
#[derive(ToSchema)]
pub struct UsersSetPasswordResponse {
    pub email: String,
    pub revoked: i64,
}

/// The answer of `GET /api/v1/admin/outbox`.
#[derive(ToSchema)]
pub struct OutboxListResponse {
    pub mails: Vec<Mail>,
}

/// The answer of `GET /api/v1/orgs`.
#[derive(ToSchema)]
pub struct OrgsListResponse {
    pub total: i64,
    pub orgs: Vec<Organisation>,
}

/// The body of `POST /api/v1/orgs`.
#[derive(ToSchema)]
pub struct OrgsCreateRequest {
    /// unique after Unicode NFC and case folding; fixed once created
    pub name: String,
    #[schema(inline)]
    pub kind: Kind3,
    /// code or name
    #[schema(nullable = false)]
    pub province: Option<String>,
    /// tax code (mã số thuế) or the institute's code
    #[schema(nullable = false)]
    pub registration_no: Option<String>,
    /// https:// or http:// address
    #[schema(nullable = false)]
    pub website: Option<String>,
    #[schema(nullable = false)]
    pub description: Option<String>,
}

/// The answer of `POST /api/v1/orgs`.
#[derive(ToSchema)]
pub struct OrgsCreateResponse {
    pub org: Organisation,
    pub member: Option<Member>,
}

/// The answer of `GET /api/v1/orgs/{id}`.
#[derive(ToSchema)]
pub struct OrgsShowResponse {
    #[serde(flatten)]
    pub base: Organisation,
    pub listings: Vec<Listing>,
    #[schema(inline)]
    pub replies: Replies,
    #[schema(nullable = false)]
    pub reply_rate: Option<f64>,
}

/// A part of `OrgsShowResponse`.
#[derive(ToSchema)]
pub struct Replies {
    pub received: i64,
    pub replied: i64,
    #[schema(nullable = false)]
    pub median_reply_hours: Option<f64>,
}

/// The answer of `GET /api/v1/orgs/{id}/members`.
#[derive(ToSchema)]
pub struct OrgsMembersResponse {
    pub members: Vec<Member>,
    pub admins: Vec<String>,
    #[schema(inline)]
    pub requests: Vec<Request>,
}

/// A part of `OrgsMembersResponse`.
#[derive(ToSchema)]
pub struct Request {
    #[schema(nullable = false)]
    pub user_id: Option<String>,
    #[schema(nullable = false)]
    pub email: Option<String>,
    #[schema(nullable = false)]
    pub name: Option<String>,
    #[schema(format = DateTime, nullable = false)]
    pub at: Option<String>,
}

/// The body of `POST /api/v1/orgs/{id}/invitations`.
#[derive(ToSchema)]
pub struct OrgsInviteRequest {
    pub email: String,
}

/// The answer of `POST /api/v1/orgs/{id}/invitations`.
#[derive(ToSchema)]
pub struct OrgsInviteResponse {
    pub email: String,
    pub invitation: String,
}

/// The answer of `POST /api/v1/orgs/{id}/requests`.
#[derive(ToSchema)]
pub struct OrgsRequestResponse {
    pub org: Organisation,
    pub request: String,
}

/// The body of `POST /api/v1/orgs/{id}/requests/{user_id}`.
#[derive(ToSchema)]
pub struct OrgsAnswerRequest {
    pub accept: bool,
}

/// The answer of `POST /api/v1/orgs/{id}/requests/{user_id}`.
#[derive(ToSchema)]
pub struct OrgsAnswerResponse {
    pub accepted: bool,
    pub member: Option<Member>,
}

/// The body of `POST /api/v1/orgs/{id}/merge`.
#[derive(ToSchema)]
pub struct OrgsMergeRequest {
    #[serde(rename = "from")]
    pub from_: String,
}

/// The answer of `POST /api/v1/orgs/{id}/merge`.
#[derive(ToSchema)]
pub struct OrgsMergeResponse {
    pub org: Organisation,
    #[schema(inline)]
    pub moved: Moved,
}

/// A part of `OrgsMergeResponse`.
#[derive(ToSchema)]
pub struct Moved {
    pub members: i64,
    pub listings: i64,
    pub leads: i64,
    pub seq: i64,
}

/// The answer of `GET /api/v1/invitations/{secret}`.
#[derive(ToSchema)]
pub struct OrgsInvitationResponse {
    pub org: Organisation,
    pub email: String,
    pub has_account: bool,
    #[schema(format = DateTime)]
    pub expires_at: String,
}

/// The body of `POST /api/v1/invitations/{secret}`.
#[derive(ToSchema)]
pub struct OrgsAcceptRequest {
    #[schema(nullable = false)]
    pub name: Option<String>,
    #[schema(format = Password, nullable = false)]
    pub password: Option<String>,
}

/// The answer of `POST /api/v1/invitations/{secret}`.
#[derive(ToSchema)]
pub struct OrgsAcceptResponse {
    pub member: Member,
}

/// The answer of `GET /api/v1/me`.
#[derive(ToSchema)]
pub struct OrgsMeResponse {
    pub user: Member,
    #[schema(nullable = false)]
    pub org: Option<HashMap<String, serde_json::Value>>,
    pub org_admin: bool,
    pub listings: Vec<Listing>,
    pub sent_interest: Vec<Lead>,
    pub leads_inbox: Vec<Lead>,
    pub to_verify: Vec<HashMap<String, serde_json::Value>>,
    #[schema(nullable = false)]
    pub notifications: Option<Vec<Notification>>,
    #[schema(nullable = false)]
    pub members: Option<Vec<Member>>,
}

/// The body of `POST /api/v1/leads/{id}/reply`.
#[derive(ToSchema)]
pub struct LeadsReplyRequest {
    pub message: String,
}

/// The answer of `DELETE /api/v1/orgs/{id}/members/{user_id}`.
#[derive(ToSchema)]
pub struct OrgsRemoveMemberResponse {
    pub member: Member,
}

/// The answer of `POST /api/v1/orgs/{id}/admins/{user_id}`.
#[derive(ToSchema)]
pub struct OrgsMakeAdminResponse {
    pub member: Member,
}

/// The body of `POST /api/v1/me/email`.
#[derive(ToSchema)]
pub struct OrgsChangeEmailRequest {
    pub email: String,
}

/// The answer of `POST /api/v1/me/email`.
#[derive(ToSchema)]
pub struct OrgsChangeEmailResponse {
    pub email: String,
    pub confirmation: String,
}

/// The answer of `GET /api/v1/listings/{id}/comparables`.
#[derive(ToSchema)]
pub struct StatisticsComparablesResponse {
    pub count: i64,
    #[schema(nullable = false)]
    pub median_vnd: Option<i64>,
    #[schema(nullable = false)]
    pub min_vnd: Option<i64>,
    #[schema(nullable = false)]
    pub max_vnd: Option<i64>,
    pub suppressed: bool,
}

/// The answer of `GET /api/v1/saved-searches`.
#[derive(ToSchema)]
pub struct SavedSearchesListResponse {
    pub saved_searches: Vec<SavedSearch>,
}

/// The answer of `GET /api/v1/notifications`.
#[derive(ToSchema)]
pub struct SavedSearchesNotificationsResponse {
    pub notifications: Vec<Notification>,
    pub unread: i64,
}

/// The lowest readiness level of a saved search: 1 to 9, as a number or as text.
pub struct TrlMin;

impl utoipa::PartialSchema for TrlMin {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
        OneOfBuilder::new()
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(1))
                    .maximum(Some(9)),
            )
            .item(ObjectBuilder::new().schema_type(Type::String))
            .into()
    }
}

impl ToSchema for TrlMin {}

/// How a confidential need was disclosed: owner (the enterprise accepted the supplier), broker (a broker or an administrator introduced them), deal (a broker proposed a deal with the supplier's technology).
#[derive(ToSchema)]
pub enum DisclosedVia {
    #[serde(rename = "owner")]
    Owner,
    #[serde(rename = "broker")]
    Broker,
    #[serde(rename = "deal")]
    Deal,
}

/// One disclosure of a confidential need, kept for good.
#[derive(ToSchema)]
pub struct Disclosure {
    /// The organisation that may now read the need in full
    pub org: String,
    /// Who disclosed it (an e-mail, or admin-token)
    pub by: String,
    #[schema(format = DateTime)]
    pub at: String,
    #[schema(inline)]
    pub via: DisclosedVia,
    /// The deal it came with
    #[schema(nullable = false)]
    pub deal_id: Option<String>,
}

/// The organisation a confidential need is disclosed to.
#[derive(ToSchema)]
pub struct DisclosureRequest {
    /// The organisation's name or id
    #[schema(min_length = 1)]
    pub org: String,
}

/// A need's disclosures.
#[derive(ToSchema)]
pub struct DisclosuresResponse {
    pub id: String,
    pub disclosures: Vec<Disclosure>,
}

/// When the sweep runs.
#[derive(ToSchema)]
pub struct SweepRequest {
    /// The clock to run on (default: now)
    #[schema(format = DateTime, nullable = false)]
    pub now: Option<String>,
}

/// What one sweep did.
#[derive(ToSchema)]
pub struct SweepResponse {
    /// Listings whose owners were asked to confirm them now
    pub asked: Vec<String>,
    /// Listings marked stale now
    pub stale: Vec<String>,
    /// Leads whose organisations were reminded of an answer overdue
    pub reminded: Vec<String>,
    /// Daily digests mailed
    pub digests: i64,
}
