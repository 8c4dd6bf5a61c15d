//! The demo's users: `alice` / `alice-password` and `bob` / `bob-password`, hashed with Argon2id
//! at start (random 16-byte salts, the crate's default parameters: 19 MiB, 2 passes, the OWASP
//! recommendation) and only ever compared through the hash, in constant time.

use std::collections::HashMap;

use argon2::{Algorithm, Argon2, Block, Params, Version};
use subtle::ConstantTimeEq;

/// A salt and the Argon2id hash of a password with it.
struct Stored {
    salt: [u8; 16],
    hash: [u8; 32],
}

/// Password hashes by user name.
pub struct Users {
    users: HashMap<String, Stored>,
    /// What an unknown name is checked against, so that a login for a name that does not exist
    /// costs the same as one with a wrong password (no user enumeration by timing).
    decoy: Stored,
}

fn argon2id(password: &[u8], salt: &[u8; 16]) -> [u8; 32] {
    let params = Params::default();
    let mut memory = vec![Block::default(); params.block_count()];
    let mut out = [0u8; 32];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into_with_memory(password, salt, &mut out, &mut memory[..])
        .expect("Argon2id with default parameters hashes any password of a JSON body's size");
    out
}

fn stored(password: &[u8]) -> Stored {
    let mut salt = [0u8; 16];
    rand::fill(&mut salt[..]);
    Stored {
        hash: argon2id(password, &salt),
        salt,
    }
}

impl Users {
    /// The two demo users.
    pub fn demo() -> Users {
        let users = [("alice", "alice-password"), ("bob", "bob-password")]
            .into_iter()
            .map(|(user, password)| (user.to_owned(), stored(password.as_bytes())))
            .collect();
        let mut decoy = [0u8; 32];
        rand::fill(&mut decoy[..]);
        Users {
            users,
            decoy: stored(&decoy),
        }
    }

    /// Whether `password` is `user`'s. Always runs exactly one Argon2id hash. Blocking (tens of
    /// milliseconds of CPU): call it from `spawn_blocking`.
    pub fn check(&self, user: &str, password: &str) -> bool {
        let (stored, known) = match self.users.get(user) {
            Some(s) => (s, true),
            None => (&self.decoy, false),
        };
        let matches: bool = argon2id(password.as_bytes(), &stored.salt)
            .ct_eq(&stored.hash)
            .into();
        matches && known
    }
}
