//! The demo's users: `alice` / `alice-password` and `bob` / `bob-password`, hashed with Argon2id
//! at start (random salts, OWASP parameters) and only ever compared through the hash.

use std::collections::HashMap;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

/// Password hashes by user name.
pub struct Users {
    hashes: HashMap<String, String>,
    /// The hash an unknown name is checked against, so that a login for a name that does not
    /// exist costs the same as one with a wrong password (no user enumeration by timing).
    decoy: String,
}

fn hash(password: &str) -> String {
    let mut salt = [0u8; 16];
    rand::fill(&mut salt[..]);
    let salt = SaltString::encode_b64(&salt).expect("16 bytes is a valid salt");
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("Argon2 with default parameters hashes any password")
        .to_string()
}

impl Users {
    /// The two demo users.
    pub fn demo() -> Users {
        let hashes = [("alice", "alice-password"), ("bob", "bob-password")]
            .into_iter()
            .map(|(user, password)| (user.to_owned(), hash(password)))
            .collect();
        let mut decoy = [0u8; 16];
        rand::fill(&mut decoy[..]);
        Users {
            hashes,
            decoy: hash(&String::from_utf8_lossy(&decoy)),
        }
    }

    /// Whether `password` is `user`'s. Always runs exactly one Argon2 verification. Blocking
    /// (tens of milliseconds of CPU): call it from `spawn_blocking`.
    pub fn check(&self, user: &str, password: &str) -> bool {
        let (stored, known) = match self.hashes.get(user) {
            Some(h) => (h.as_str(), true),
            None => (self.decoy.as_str(), false),
        };
        let Ok(parsed) = PasswordHash::new(stored) else {
            return false;
        };
        let matches = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        matches && known
    }
}
