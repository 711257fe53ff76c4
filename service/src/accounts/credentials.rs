//! Secrets and their fingerprints: argon2 password hashes, random API tokens kept only as
//! SHA-256, and random identifiers.
//!
//! Tokens are 32 random bytes, so a fast hash is enough to make a stolen store useless; passwords
//! are chosen by people and need argon2's slow, memory-hard hash.

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use sha2::{Digest, Sha256};

/// Prefix of every API token, so that secret scanners and people can recognise one.
pub const TOKEN_PREFIX: &str = "tm_";

/// Why a secret could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    /// The operating system gave no randomness.
    #[error("no randomness available: {0}")]
    Random(String),
    /// argon2 refused to hash (it does not for our parameters; kept as a type, not a panic).
    #[error("password hashing failed: {0}")]
    Hash(String),
}

/// `n` random bytes as lowercase hex.
pub fn random_hex(n: usize) -> Result<String, CredentialError> {
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes).map_err(|e| CredentialError::Random(e.to_string()))?;
    Ok(hex(&bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A fresh identifier like `u-3f9a0c1d2e4b5a69`.
pub fn new_id(prefix: &str) -> Result<String, CredentialError> {
    Ok(format!("{prefix}-{}", random_hex(8)?))
}

/// The argon2id hash of `password` with a random salt, in PHC string format.
pub fn hash_password(password: &str) -> Result<String, CredentialError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| CredentialError::Random(e.to_string()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| CredentialError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| CredentialError::Hash(e.to_string()))
}

/// Whether `password` matches the PHC hash; an unreadable hash matches nothing.
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .and_then(|hash| Argon2::default().verify_password(password.as_bytes(), &hash))
        .is_ok()
}

/// Spends as long as a real check, for sign-ins with an unknown e-mail, so that timing does not
/// tell which accounts exist.
pub fn verify_nothing(password: &str) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let phc = DUMMY.get_or_init(|| hash_password("not anyone's password").unwrap_or_default());
    let _ = verify_password(password, phc);
}

/// A newly issued token: the secret (shown once) and what the store keeps.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    /// Public identifier (`tk-…`), used to revoke it.
    pub id: String,
    /// The bearer secret; never stored.
    pub token: String,
    /// Its SHA-256, stored.
    pub hash: String,
}

/// Makes a token: [`TOKEN_PREFIX`] and 32 random bytes in hex.
pub fn new_token() -> Result<IssuedToken, CredentialError> {
    let token = format!("{TOKEN_PREFIX}{}", random_hex(32)?);
    Ok(IssuedToken {
        id: new_id("tk")?,
        hash: token_hash(&token),
        token,
    })
}

/// The hex SHA-256 under which a token is stored and looked up.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_against_its_own_hash_only() {
        let phc = hash_password("correct horse battery").unwrap();
        assert!(phc.starts_with("$argon2id$"));
        assert!(!phc.contains("correct horse"));
        assert!(verify_password("correct horse battery", &phc));
        assert!(!verify_password("correct horse batterY", &phc));
        assert!(!verify_password("correct horse battery", "not a hash"));
        assert_ne!(
            phc,
            hash_password("correct horse battery").unwrap(),
            "salted"
        );
    }

    #[test]
    fn tokens_are_random_and_stored_as_their_sha256() {
        let a = new_token().unwrap();
        let b = new_token().unwrap();
        assert_ne!(a.token, b.token);
        assert!(a.token.starts_with(TOKEN_PREFIX) && a.token.len() == 67);
        assert_eq!(a.hash, token_hash(&a.token));
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
