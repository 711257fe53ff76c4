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
    /// Our failure: no randomness, or hashing failed.
    #[error(transparent)]
    Credentials(#[from] CredentialError),
    /// Our failure: the store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Our failure: a CSV could not be written.
    #[error("writing CSV: {0}")]
    Csv(#[from] csv::Error),
}

impl From<FieldError> for AppError {
    fn from(e: FieldError) -> Self {
        AppError::Invalid(e)
    }
}
