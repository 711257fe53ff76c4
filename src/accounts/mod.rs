//! Accounts as a service: adding users, signing in for API tokens with limited guessing, and
//! recognising tokens. The data and rules are in `domain::account`, storage behind
//! `store::AccountStore`; the HTTP side is `api::tokens` and `api::auth`.

pub mod credentials;
pub mod sign_in;
pub mod users;

pub use sign_in::{authenticate, sign_in, SignInError};
pub use users::{add_user, reset_password, AccountError, NewUser};
