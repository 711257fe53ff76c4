//! The domain: listings and their parts, provinces, fields of science, input checking, and the
//! broker's desk (accounts, leads, deals).

pub mod account;
pub mod alert;
pub mod confidential;
pub mod deal;
pub mod field;
pub mod input;
pub mod listing;
pub mod mail;
pub mod org;
pub mod province;

pub use field::FieldCode;
pub use input::{parse_listing, Draft, FieldError, RawRecord, RawValue};
pub use listing::{Kind, Listing, Status, TransferMode, Trl};
pub use province::{ProvinceCode, Provinces};
