//! Password hashing for web UI accounts: argon2id with the crate's default parameters
//! (m=19 MiB, t=2, p=1, the OWASP recommendation), stored as PHC strings so parameters can be
//! raised later without invalidating existing hashes.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longest password accepted, in bytes; hashing cost grows with length.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Why a password cannot be used or hashed.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// Too short or too long.
    #[error(
        "password: must be at least {MIN_PASSWORD_CHARS} characters and at most {MAX_PASSWORD_BYTES} bytes"
    )]
    Length,
    /// The hasher failed (never expected with valid parameters).
    #[error("password hashing failed: {0}")]
    Hash(String),
}

/// Checks the password policy.
pub fn check_policy(password: &str) -> Result<(), PasswordError> {
    if password.chars().count() < MIN_PASSWORD_CHARS || password.len() > MAX_PASSWORD_BYTES {
        return Err(PasswordError::Length);
    }
    Ok(())
}

/// The argon2id PHC string of `password`, with a fresh random salt.
pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    check_policy(password)?;
    let mut salt = [0u8; 16];
    rand::fill(&mut salt[..]);
    let salt = SaltString::encode_b64(&salt).map_err(|e| PasswordError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

/// A valid hash of a password nobody knows, verified against when the user does not exist so
/// that a login for an unknown name costs the same time as one for a known name.
const DECOY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$d2Fycm9vbWRlY295c2FsdA$5BUsWt3z0BMMTr4hwThPKrFPrMCJgV6uLJ1wpF3XbXk";

/// Whether `password` matches `stored` (a PHC string; `None` for an unknown user, which is
/// checked against a decoy and always fails). The digest comparison inside the verifier is
/// constant-time.
pub fn verify_password(stored: Option<&str>, password: &str) -> bool {
    let known = stored.is_some();
    let Ok(parsed) = PasswordHash::new(stored.unwrap_or(DECOY_HASH)) else {
        return false;
    };
    if password.len() > MAX_PASSWORD_BYTES {
        return false;
    }
    let ok = Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok();
    ok && known
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_are_salted() {
        let a = hash_password("correct horse battery").expect("hash");
        let b = hash_password("correct horse battery").expect("hash");
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_ne!(a, b, "fresh salt each time");
        assert!(verify_password(Some(&a), "correct horse battery"));
        assert!(!verify_password(Some(&a), "correct horse battery!"));
        assert!(!verify_password(Some("not a phc string"), "x"));
    }

    #[test]
    fn unknown_users_never_verify_and_the_decoy_parses() {
        assert!(PasswordHash::new(DECOY_HASH).is_ok());
        assert!(!verify_password(None, "anything at all"));
    }

    #[test]
    fn policy_names_the_field() {
        let err = hash_password("short").expect_err("too short");
        assert!(err.to_string().starts_with("password:"), "{err}");
        assert!(hash_password(&"x".repeat(MAX_PASSWORD_BYTES + 1)).is_err());
    }
}
