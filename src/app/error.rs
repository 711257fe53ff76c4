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
    NotFound(&'static str),
    /// What is stored stands in the way.
    #[error("{}", .0.en())]
    Conflict(Refusal),
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
    #[error("the work stopped: {0}")]
    Panicked(String),
    /// Our failure: a CSV could not be written.
    #[error("writing CSV: {0}")]
    Csv(#[from] csv::Error),
    /// Our failure: a workbook could not be written.
    #[error("writing XLSX: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
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
