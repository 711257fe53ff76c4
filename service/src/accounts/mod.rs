//! Accounts as a service: adding users, signing in for API tokens or browser sessions with
//! limited guessing, and recognising tokens and sessions. The data and rules are in
//! `domain::account`, storage behind `store::AccountStore`; the HTTP side is `api::tokens`,
//! `api::auth` and `web::session`.

pub mod credentials;
pub mod gate;
pub mod sessions;
pub mod sign_in;
pub mod users;

pub use gate::PasswordGate;
pub use sign_in::{authenticate, check_credentials, sign_in, sign_in_session, SignInError};
pub use users::{add_user, find_user, reset_password, AccountError, NewUser};
