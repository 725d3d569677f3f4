//! Credentials: argon2id password hashes, HS256 access tokens, and opaque random tokens
//! (refresh, email verification, password reset) that are stored only as hashes.

use std::sync::LazyLock;

use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Algorithm, Argon2, Params, Version,
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use chrono::Utc;
use jsonwebtoken::{Algorithm as JwtAlgorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

pub const ACCESS_TOKEN_TTL_SECS: i64 = 15 * 60;
pub const ISSUER: &str = "alongside";
pub const ACCESS_AUDIENCE: &str = "alongside-api";
const ACCESS_TYP: &str = "access";

/// OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane.
fn argon2() -> anyhow::Result<Argon2<'static>> {
    let params = Params::new(19 * 1024, 2, 1, None).map_err(|e| anyhow::anyhow!(e))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(argon2()?
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!(e))?
        .to_string())
}

/// A hash of a random password, verified against when the account does not exist so that
/// unknown emails and wrong passwords take the same time.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_password("a password nobody has").unwrap_or_default());

pub fn verify_password(password: &str, stored_hash: Option<&str>) -> bool {
    let hash = stored_hash.unwrap_or(DUMMY_HASH.as_str());
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let Ok(hasher) = argon2() else {
        return false;
    };
    hasher.verify_password(password.as_bytes(), &parsed).is_ok() && stored_hash.is_some()
}

/// Runs the (deliberately slow) password work off the async workers.
pub async fn hash_password_blocking(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || hash_password(&password)).await?
}

pub async fn verify_password_blocking(password: String, stored_hash: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || verify_password(&password, stored_hash.as_deref()))
        .await
        .unwrap_or(false)
}

#[derive(Debug, Serialize, Deserialize)]
pub struct AccessClaims {
    pub sub: Uuid,
    pub iss: String,
    pub aud: String,
    pub exp: i64,
    pub nbf: i64,
    pub iat: i64,
    pub typ: String,
    pub role: String,
}

#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl JwtKeys {
    pub fn new(secret: &[u8]) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
        }
    }

    pub fn issue_access(&self, user_id: Uuid, role: &str) -> anyhow::Result<String> {
        let now = Utc::now().timestamp();
        let claims = AccessClaims {
            sub: user_id,
            iss: ISSUER.into(),
            aud: ACCESS_AUDIENCE.into(),
            exp: now + ACCESS_TOKEN_TTL_SECS,
            nbf: now,
            iat: now,
            typ: ACCESS_TYP.into(),
            role: role.into(),
        };
        Ok(jsonwebtoken::encode(
            &Header::new(JwtAlgorithm::HS256),
            &claims,
            &self.encoding,
        )?)
    }

    /// Accepts only HS256 access tokens of this issuer and audience that are in their
    /// validity window.
    pub fn verify_access(&self, token: &str) -> Option<AccessClaims> {
        let mut validation = Validation::new(JwtAlgorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[ACCESS_AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = 5;
        let data = jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &validation).ok()?;
        (data.claims.typ == ACCESS_TYP).then_some(data.claims)
    }
}

pub const UNSUBSCRIBE_AUDIENCE: &str = "alongside-unsubscribe";
const UNSUBSCRIBE_TYP: &str = "unsubscribe";

#[derive(Debug, Serialize, Deserialize)]
struct UnsubscribeClaims {
    sub: Uuid,
    iss: String,
    aud: String,
    exp: i64,
    iat: i64,
    typ: String,
}

impl JwtKeys {
    /// A token for one-click unsubscribe links: it names the person and nothing else can
    /// use it (its own audience and type).
    pub fn issue_unsubscribe(&self, user_id: Uuid) -> anyhow::Result<String> {
        let now = Utc::now().timestamp();
        let claims = UnsubscribeClaims {
            sub: user_id,
            iss: ISSUER.into(),
            aud: UNSUBSCRIBE_AUDIENCE.into(),
            exp: now + 365 * 24 * 3600,
            iat: now,
            typ: UNSUBSCRIBE_TYP.into(),
        };
        Ok(jsonwebtoken::encode(
            &Header::new(JwtAlgorithm::HS256),
            &claims,
            &self.encoding,
        )?)
    }

    pub fn verify_unsubscribe(&self, token: &str) -> Option<Uuid> {
        let mut validation = Validation::new(JwtAlgorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[UNSUBSCRIBE_AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let data =
            jsonwebtoken::decode::<UnsubscribeClaims>(token, &self.decoding, &validation).ok()?;
        (data.claims.typ == UNSUBSCRIBE_TYP).then_some(data.claims.sub)
    }
}

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
    fn password_hashes_are_argon2id_and_verify() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_password("correct horse battery", Some(&hash)));
        assert!(!verify_password("wrong horse battery", Some(&hash)));
        assert!(!verify_password("correct horse battery", None));
    }

    #[test]
    fn access_tokens_round_trip_and_reject_other_keys() {
        let keys = JwtKeys::new(&[7u8; 32]);
        let id = Uuid::new_v4();
        let token = keys.issue_access(id, "practitioner").unwrap();
        assert_eq!(keys.verify_access(&token).unwrap().sub, id);
        assert!(JwtKeys::new(&[8u8; 32]).verify_access(&token).is_none());
    }

    #[test]
    fn tokens_of_another_type_are_not_access_tokens() {
        let keys = JwtKeys::new(&[7u8; 32]);
        let now = Utc::now().timestamp();
        let claims = AccessClaims {
            sub: Uuid::new_v4(),
            iss: ISSUER.into(),
            aud: ACCESS_AUDIENCE.into(),
            exp: now + 60,
            nbf: now,
            iat: now,
            typ: "refresh".into(),
            role: "practitioner".into(),
        };
        let token =
            jsonwebtoken::encode(&Header::new(JwtAlgorithm::HS256), &claims, &keys.encoding)
                .unwrap();
        assert!(keys.verify_access(&token).is_none());
    }

    #[test]
    fn unsubscribe_and_access_tokens_never_stand_in_for_each_other() {
        let keys = JwtKeys::new(&[7u8; 32]);
        let id = Uuid::new_v4();
        let unsubscribe = keys.issue_unsubscribe(id).unwrap();
        assert_eq!(keys.verify_unsubscribe(&unsubscribe), Some(id));
        assert!(keys.verify_access(&unsubscribe).is_none());
        let access = keys.issue_access(id, "practitioner").unwrap();
        assert!(keys.verify_unsubscribe(&access).is_none());
    }

    #[test]
    fn opaque_tokens_are_stored_as_hashes() {
        let (token, hash) = new_opaque_token();
        assert_eq!(hash, hash_token(&token));
        assert_ne!(token, hash);
        assert_eq!(hash.len(), 64);
    }
}
