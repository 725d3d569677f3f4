//! Credentials: argon2id password hashes, HS256 access tokens and unsubscribe links signed
//! by rotating keys, and opaque random tokens (refresh, email verification, password reset)
//! that are stored only as hashes.

mod keys;
mod passwords;

pub use keys::*;
pub use passwords::*;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A fresh opaque token and the hash under which it is stored.
pub fn new_opaque_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash_token(&token);
    (token, hash)
}

pub fn hash_token(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opaque_tokens_are_stored_as_hashes() {
        let (token, hash) = new_opaque_token();
        assert_eq!(hash, hash_token(&token));
        assert_ne!(token, hash);
        assert_eq!(hash.len(), 64);
    }
}
