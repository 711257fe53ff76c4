//! [`AppError`]: the application's one error, separating the caller's mistake from our failure.

use crate::accounts::credentials::CredentialError;
use crate::domain::FieldError;
use crate::store::StoreError;

/// Why a use case did not happen.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The caller's mistake: a field is missing or wrong.
    #[error("{0}")]
    Invalid(FieldError),
    /// The caller's mistake: the link is unknown, used or expired.
    #[error("this link is unknown, already used or expired")]
    InvalidLink,
    /// The caller may not do this.
    #[error("{}", .0.en())]
    Forbidden(Refusal),
    /// Nothing by that id (or nothing the caller may see).
    #[error("{0} not found")]
    NotFound(String),
    /// The caller's mistake: several fields of a listing are wrong; all are reported.
    #[error("the listing has {} invalid field(s)", .0.len())]
    InvalidListing(Vec<FieldError>),
    /// No credentials, or wrong ones.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// Signed in, but the rights model does not allow this (said in English, as the API does).
    #[error("{0}")]
    Denied(String),
    /// The deal pipeline does not allow this move.
    #[error("{0}")]
    Transition(String),
    /// The id is taken.
    #[error("{0} already exists; use PUT to replace it")]
    Exists(String),
    /// The caller has too many requests waiting; try again after a pause.
    #[error("{message}")]
    TooMany {
        /// What happened.
        message: String,
        /// Seconds to wait before trying again.
        retry_after_secs: u64,
    },
    /// The change log now begins after this sequence: a follower starts again from the
    /// snapshot.
    #[error(
        "the change log now begins after sequence {0}; read the snapshot, then follow from its seq"
    )]
    Pruned(u64),
    /// The service cannot answer now (the index is behind, the store refuses writes).
    #[error("{0}")]
    Unavailable(String),
    /// What is stored stands in the way.
    #[error("{}", .0.en())]
    Conflict(Refusal),
    /// What is stored stands in the way of this field.
    #[error("{}", .refusal.en())]
    Refused {
        /// The field at fault.
        field: &'static str,
        /// Why.
        refusal: Refusal,
    },
    /// Our failure: no randomness, or hashing failed.
    #[error(transparent)]
    Credentials(#[from] CredentialError),
    /// Our failure: the index failed.
    #[error(transparent)]
    Index(#[from] techmatch_index::IndexError),
    /// Our failure: the store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Our failure: the work stopped half-way (it panicked).
    #[error("the work stopped")]
    Panicked(#[source] tokio::task::JoinError),
    /// Our failure: background work stopped half-way (it panicked).
    #[error(transparent)]
    Background(#[from] crate::app::background::Panicked),
    /// Our failure: daily digests could not be sent.
    #[error("daily digests")]
    Digests(#[source] Box<crate::alerts::AlertError>),
    /// Our failure: an answer could not be written as JSON.
    #[error("writing JSON: {0}")]
    Json(#[source] serde_json::Error),
    /// Our failure: a CSV could not be written.
    #[error("writing CSV: {0}")]
    Csv(#[from] csv::Error),
    /// Our failure: a workbook could not be written.
    #[error("writing XLSX: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
}

/// What went wrong on our side while answering a request, for the log: an adapter puts it in
/// the response's extensions and the server's request layer logs it once, inside the request's
/// span. The person is told only that something failed.
#[derive(Debug, Clone)]
pub struct FailureDetail(pub String);

impl From<crate::domain::deal::StageError> for AppError {
    fn from(e: crate::domain::deal::StageError) -> Self {
        use crate::domain::deal::StageError;
        match e {
            StageError::Invalid(field) => AppError::Invalid(field),
            e @ StageError::Forbidden { .. } => AppError::Transition(e.to_string()),
        }
    }
}

impl From<tokio::task::JoinError> for AppError {
    fn from(e: tokio::task::JoinError) -> Self {
        AppError::Panicked(e)
    }
}

impl From<crate::accounts::SignInError> for AppError {
    fn from(e: crate::accounts::SignInError) -> Self {
        use crate::accounts::SignInError;
        match e {
            SignInError::Invalid(field) => AppError::Invalid(field),
            SignInError::WrongCredentials => AppError::Unauthorized("wrong e-mail or password"),
            SignInError::Locked { until } => AppError::TooMany {
                message: format!(
                    "too many failed sign-ins; try again after {}",
                    until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                ),
                retry_after_secs: (until - chrono::Utc::now()).num_seconds().max(1) as u64,
            },
            SignInError::Unconfirmed => AppError::Denied(e.to_string()),
            SignInError::Busy(e) => AppError::Unavailable(e.to_string()),
            SignInError::Task(e) => AppError::Panicked(e),
            SignInError::Credentials(e) => AppError::Credentials(e),
            SignInError::Store(e) => AppError::Store(e),
        }
    }
}

impl From<FieldError> for AppError {
    fn from(e: FieldError) -> Self {
        AppError::Invalid(e)
    }
}

/// Why a use case was refused, in both languages (the API speaks English, the pages the
/// visitor's language).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Only the organisation's administrators (and the exchange's) may do this.
    NotOrgAdmin,
    /// Only the broker of the organisation's province (or an administrator) may do this.
    NotProvinceBroker,
    /// Only administrators may do this.
    AdminsOnly,
    /// The user belongs to an organisation already.
    AlreadyMember,
    /// Brokers and administrators do not join organisations.
    StaffJoinNone,
    /// Another organisation has this name.
    NameTaken,
    /// Listings already carry this name: its record is made by a broker or an administrator.
    NameHasListings,
    /// The organisation was merged into another.
    Merged,
    /// The user asked to join already.
    AlreadyRequested,
    /// The invitation is for another address than the signed-in user's.
    InvitationForOther,
    /// Only members of the technology's organisation answer interest in it.
    NotListingOrg,
    /// The caller is not signed in as a user.
    UsersOnly,
    /// Another account took the address in the meantime.
    EmailTaken,
    /// The user asked for the address they have.
    SameEmail,
    /// The organisation's last administrator cannot leave it.
    LastAdmin,
    /// The user is not a member of this organisation.
    NotMember,
    /// Only the need's organisation, its province's brokers and administrators disclose it.
    NotNeedOrgOrBroker,
    /// A deal between this need and this technology is open already.
    DealOpen,
    /// Only the listing's organisation (and administrators) confirm it.
    NotListingOwner,
    /// The user keeps as many saved searches as allowed.
    TooManySavedSearches,
}

impl Refusal {
    /// In English.
    pub fn en(self) -> &'static str {
        match self {
            Refusal::NotOrgAdmin => "only the organisation's administrators may do this",
            Refusal::NotProvinceBroker => {
                "only a broker of the organisation's province or an administrator may do this"
            }
            Refusal::AdminsOnly => "this action is for administrators",
            Refusal::AlreadyMember => "this account belongs to an organisation already",
            Refusal::StaffJoinNone => "brokers and administrators do not join organisations",
            Refusal::NameTaken => "an organisation with this name exists; ask to join it instead",
            Refusal::NameHasListings => {
                "listings on the exchange already carry this organisation's name: ask a broker of \
                 your province to create its record, then ask to join it"
            }
            Refusal::Merged => "this organisation was merged into another",
            Refusal::AlreadyRequested => "you have asked to join this organisation already",
            Refusal::InvitationForOther => "this invitation was sent to another e-mail address",
            Refusal::NotListingOrg => {
                "interest in a technology is answered by members of its organisation"
            }
            Refusal::UsersOnly => "this action is for signed-in users",
            Refusal::EmailTaken => "another account uses this e-mail address",
            Refusal::SameEmail => "this is your e-mail address already",
            Refusal::LastAdmin => {
                "the organisation's last administrator cannot leave; make another member its administrator first"
            }
            Refusal::NotMember => "this user is not a member of the organisation",
            Refusal::NotNeedOrgOrBroker => {
                "a confidential need is disclosed by its organisation, a broker of its province or an administrator"
            }
            Refusal::DealOpen => {
                "a deal between this need and this technology is open already; move that one instead"
            }
            Refusal::NotListingOwner => {
                "a listing is confirmed by members of its organisation or an administrator"
            }
            Refusal::TooManySavedSearches => {
                "at most 100 saved searches per user; delete one first"
            }
        }
    }

    /// In Vietnamese.
    pub fn vi(self) -> &'static str {
        match self {
            Refusal::NotOrgAdmin => "Chỉ quản trị viên của tổ chức mới làm được việc này.",
            Refusal::NotProvinceBroker => {
                "Chỉ cán bộ môi giới của tỉnh nơi tổ chức đặt trụ sở hoặc quản trị viên mới làm được việc này."
            }
            Refusal::AdminsOnly => "Việc này dành cho quản trị viên.",
            Refusal::AlreadyMember => "Tài khoản này đã thuộc một tổ chức.",
            Refusal::StaffJoinNone => {
                "Cán bộ môi giới và quản trị viên không tham gia tổ chức."
            }
            Refusal::NameTaken => "Đã có tổ chức mang tên này; hãy xin tham gia tổ chức đó.",
            Refusal::NameHasListings => {
                "Sàn đã có tin đăng mang tên tổ chức này: hãy đề nghị cán bộ môi giới của tỉnh tạo hồ sơ tổ chức, rồi xin tham gia."
            }
            Refusal::Merged => "Tổ chức này đã được gộp vào một tổ chức khác.",
            Refusal::AlreadyRequested => "Bạn đã xin tham gia tổ chức này rồi.",
            Refusal::InvitationForOther => "Lời mời này được gửi đến một địa chỉ e-mail khác.",
            Refusal::NotListingOrg => {
                "Quan tâm đến một công nghệ do thành viên của tổ chức sở hữu công nghệ đó trả lời."
            }
            Refusal::UsersOnly => "Việc này dành cho người dùng đã đăng nhập.",
            Refusal::EmailTaken => "Một tài khoản khác đang dùng địa chỉ e-mail này.",
            Refusal::SameEmail => "Đây đã là địa chỉ e-mail của bạn.",
            Refusal::LastAdmin => {
                "Quản trị viên cuối cùng không thể rời tổ chức; hãy chỉ định một thành viên khác làm quản trị viên trước."
            }
            Refusal::NotMember => "Người dùng này không phải thành viên của tổ chức.",
            Refusal::NotNeedOrgOrBroker => {
                "Nhu cầu bảo mật chỉ được mở bởi chính doanh nghiệp, cán bộ môi giới của tỉnh hoặc quản trị viên."
            }
            Refusal::DealOpen => {
                "Đã có một giao dịch đang mở giữa nhu cầu này và công nghệ này; hãy cập nhật giao dịch đó."
            }
            Refusal::NotListingOwner => {
                "Tin đăng do thành viên của tổ chức sở hữu hoặc quản trị viên xác nhận."
            }
            Refusal::TooManySavedSearches => {
                "Mỗi người dùng lưu tối đa 100 tìm kiếm; hãy xóa bớt một tìm kiếm trước."
            }
        }
    }
}
