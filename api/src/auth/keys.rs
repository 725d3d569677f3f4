//! Signing keys: HS256 access tokens and unsubscribe links, signed by rotating keys that
//! every instance shares.

use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm as JwtAlgorithm, DecodingKey, EncodingKey, Header, Validation};
use sea_orm::{DatabaseConnection, DbErr};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::watch;
use uuid::Uuid;

use crate::{
    config::Config,
    store::signing_keys::{self, SigningKey},
};

pub const ACCESS_TOKEN_TTL_SECS: i64 = 15 * 60;
pub const ISSUER: &str = "alongside";
pub const ACCESS_AUDIENCE: &str = "alongside-api";
const ACCESS_TYP: &str = "access";

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

/// How long an unsubscribe link works.
pub const UNSUBSCRIBE_TOKEN_TTL_SECS: i64 = 365 * 24 * 3600;

/// The id of a signing key, carried as `kid` in each token's header: 16 hex digits of a
/// SHA-256 over a label and the secret, so it names the key without revealing it.
pub fn key_id(secret: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"alongside signing key id\0");
    hasher.update(secret);
    hasher
        .finalize()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn looks_like_key_id(kid: &str) -> bool {
    kid.len() == 16
        && kid
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// What a token is for; each kind trusts a retired key for as long as its own tokens live.
#[derive(Clone, Copy, Debug)]
enum Purpose {
    Access,
    Unsubscribe,
    CheckIn,
}

impl Purpose {
    /// How long after its retirement a key still verifies tokens of this kind: a retired
    /// key signed nothing newer, so this is the longest any of its tokens can still be valid.
    /// Access keys are rotated for real after 15 minutes; unsubscribe links, which live a
    /// year and only ever switch off optional emails, keep working across rotations.
    fn window(self) -> chrono::Duration {
        match self {
            Self::Access => chrono::Duration::seconds(ACCESS_TOKEN_TTL_SECS),
            Self::Unsubscribe => chrono::Duration::seconds(UNSUBSCRIBE_TOKEN_TTL_SECS),
            Self::CheckIn => chrono::Duration::seconds(CHECK_IN_TOKEN_TTL_SECS),
        }
    }
}

struct VerifyingKey {
    decoding: DecodingKey,
    retired_at: Option<DateTime<Utc>>,
}

impl VerifyingKey {
    fn verifies(&self, purpose: Purpose, now: DateTime<Utc>) -> bool {
        self.retired_at
            .is_none_or(|retired| now < retired + purpose.window())
    }
}

/// The key that signs and every key that may verify, by kid.
struct Ring {
    kid: String,
    encoding: EncodingKey,
    keys: HashMap<String, VerifyingKey>,
}

impl Ring {
    fn fixed(secret: &[u8]) -> Self {
        let kid = key_id(secret);
        let keys = HashMap::from([(
            kid.clone(),
            VerifyingKey {
                decoding: DecodingKey::from_secret(secret),
                retired_at: None,
            },
        )]);
        Self {
            kid,
            encoding: EncodingKey::from_secret(secret),
            keys,
        }
    }

    fn from_stored(current: &SigningKey, usable: &[SigningKey]) -> Self {
        let mut keys: HashMap<String, VerifyingKey> = usable
            .iter()
            .map(|key| {
                (
                    key.kid.clone(),
                    VerifyingKey {
                        decoding: DecodingKey::from_secret(key.secret.as_bytes()),
                        retired_at: key.retired_at,
                    },
                )
            })
            .collect();
        keys.insert(
            current.kid.clone(),
            VerifyingKey {
                decoding: DecodingKey::from_secret(current.secret.as_bytes()),
                retired_at: None,
            },
        );
        Self {
            kid: current.kid.clone(),
            encoding: EncodingKey::from_secret(current.secret.as_bytes()),
            keys,
        }
    }
}

/// Where the keys come from when `JWT_SECRET` is not set: the `signing_keys` table.
struct KeyStore {
    db: DatabaseConnection,
    /// The secret an older version kept in `DATA_DIR/jwt_secret`; it becomes the first key.
    first_secret: Option<String>,
    /// When the last reload started; reloads are one at a time.
    last_reload: tokio::sync::Mutex<Option<Instant>>,
}

/// The signing keys of access tokens and unsubscribe links, shared by every clone.
///
/// With `JWT_SECRET` the key is that secret, and only it. Without, the keys live in the
/// database: the newest key that is not retired signs, and a token names its key (`kid`).
/// A token naming a key this instance has not seen makes it re-read the table at once, so a
/// key rotated in by another instance works everywhere straight away; a timer re-reads it
/// too, so that every instance signs with the newest key. A retired key verifies access
/// tokens for one access-token lifetime after its retirement, and unsubscribe links for a
/// year; then never again.
#[derive(Clone)]
pub struct JwtKeys {
    ring: Arc<RwLock<Arc<Ring>>>,
    store: Option<Arc<KeyStore>>,
}

impl JwtKeys {
    /// Keys from one fixed secret (`JWT_SECRET`).
    pub fn new(secret: &[u8]) -> Self {
        Self {
            ring: Arc::new(RwLock::new(Arc::new(Ring::fixed(secret)))),
            store: None,
        }
    }

    /// The keys for these settings: `JWT_SECRET` when set, otherwise the database's keys,
    /// creating the first one if there is none.
    pub async fn load(config: &Config, db: &DatabaseConnection) -> Result<Self, DbErr> {
        if let Some(secret) = &config.jwt_secret {
            return Ok(Self::new(secret));
        }
        let store = KeyStore {
            db: db.clone(),
            first_secret: legacy_secret(&config.data_dir),
            last_reload: tokio::sync::Mutex::new(None),
        };
        let ring = read_ring(&store).await?;
        Ok(Self {
            ring: Arc::new(RwLock::new(Arc::new(ring))),
            store: Some(Arc::new(store)),
        })
    }

    fn ring(&self) -> Arc<Ring> {
        self.ring
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The id of the key that signs now.
    pub fn current_kid(&self) -> String {
        self.ring().kid.clone()
    }

    /// Re-reads the keys from the database (nothing to do with `JWT_SECRET`).
    pub async fn reload(&self) -> Result<(), DbErr> {
        self.reload_unless_since(Instant::now()).await
    }

    /// Re-reads the keys unless a reload started at or after `since` (one that started
    /// later has already seen every key that existed at `since`).
    async fn reload_unless_since(&self, since: Instant) -> Result<(), DbErr> {
        let Some(store) = &self.store else {
            return Ok(());
        };
        let mut last = store.last_reload.lock().await;
        if last.is_some_and(|started| started >= since) {
            return Ok(());
        }
        *last = Some(Instant::now());
        let ring = read_ring(store).await?;
        let mut current = self
            .ring
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if current.kid != ring.kid {
            tracing::info!(kid = %ring.kid, "signing with a new key");
        }
        *current = Arc::new(ring);
        Ok(())
    }

    /// Re-reads the keys every `interval` until shutdown.
    pub async fn run_refresher(self, interval: Duration, mut shutdown: watch::Receiver<bool>) {
        if self.store.is_none() {
            return;
        }
        loop {
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = shutdown.changed() => break,
            }
            if let Err(error) = self.reload().await {
                tracing::warn!(%error, "cannot re-read the signing keys; retrying");
            }
        }
    }

    fn sign(&self, claims: &impl Serialize) -> anyhow::Result<String> {
        let ring = self.ring();
        let mut header = Header::new(JwtAlgorithm::HS256);
        header.kid = Some(ring.kid.clone());
        Ok(jsonwebtoken::encode(&header, claims, &ring.encoding)?)
    }

    /// The claims of an HS256 token whose signature one of the keys trusted for `purpose`
    /// verifies and that passes `validation`. A token without a `kid` (signed before tokens
    /// named their key) is tried against every such key.
    async fn verify<T: DeserializeOwned>(
        &self,
        token: &str,
        purpose: Purpose,
        validation: &Validation,
    ) -> Option<T> {
        let started = Instant::now();
        let header = jsonwebtoken::decode_header(token).ok()?;
        if header.alg != JwtAlgorithm::HS256 {
            return None;
        }
        let now = Utc::now();
        let decode = |key: &VerifyingKey| {
            key.verifies(purpose, now)
                .then(|| jsonwebtoken::decode::<T>(token, &key.decoding, validation).ok())
                .flatten()
                .map(|data| data.claims)
        };
        let Some(kid) = header.kid else {
            return self.ring().keys.values().find_map(decode);
        };
        if let Some(key) = self.ring().keys.get(&kid) {
            return decode(key);
        }
        if self.store.is_none() || !looks_like_key_id(&kid) {
            return None;
        }
        if let Err(error) = self.reload_unless_since(started).await {
            tracing::warn!(%error, "cannot re-read the signing keys");
            return None;
        }
        self.ring().keys.get(&kid).and_then(decode)
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
        self.sign(&claims)
    }

    /// Accepts only HS256 access tokens of this issuer and audience that are in their
    /// validity window, signed by the current key or one retired less than an access-token
    /// lifetime ago.
    pub async fn verify_access(&self, token: &str) -> Option<AccessClaims> {
        let mut validation = Validation::new(JwtAlgorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[ACCESS_AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = 5;
        let claims: AccessClaims = self.verify(token, Purpose::Access, &validation).await?;
        (claims.typ == ACCESS_TYP).then_some(claims)
    }
}

/// Reads the keys: the current one (created if there is none) and every key that may still
/// verify something.
async fn read_ring(store: &KeyStore) -> Result<Ring, DbErr> {
    let current = signing_keys::ensure_current(&store.db, store.first_secret.as_deref()).await?;
    let usable = signing_keys::usable(&store.db, Utc::now()).await?;
    Ok(Ring::from_stored(&current, &usable))
}

/// The secret an older version generated into `DATA_DIR/jwt_secret`, if there is one: it
/// becomes the first key in the database, so tokens and unsubscribe links it signed keep
/// working. Nothing writes that file any more.
fn legacy_secret(data_dir: &std::path::Path) -> Option<String> {
    let secret = std::fs::read_to_string(data_dir.join("jwt_secret")).ok()?;
    let secret = secret.trim();
    (secret.len() >= 32).then(|| secret.to_owned())
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
            exp: now + UNSUBSCRIBE_TOKEN_TTL_SECS,
            iat: now,
            typ: UNSUBSCRIBE_TYP.into(),
        };
        self.sign(&claims)
    }

    /// The person an unsubscribe link names, if it is genuine and current. Links signed by
    /// a retired key keep working for their year.
    pub async fn verify_unsubscribe(&self, token: &str) -> Option<Uuid> {
        let mut validation = Validation::new(JwtAlgorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[UNSUBSCRIBE_AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let claims: UnsubscribeClaims = self
            .verify(token, Purpose::Unsubscribe, &validation)
            .await?;
        (claims.typ == UNSUBSCRIBE_TYP).then_some(claims.sub)
    }
}

pub const CHECK_IN_AUDIENCE: &str = "alongside-check-in";
/// A check-in link answers for a month; the check-in can be answered in the app after that.
pub const CHECK_IN_TOKEN_TTL_SECS: i64 = 30 * 24 * 3600;

#[derive(Debug, Serialize, Deserialize)]
struct CheckInClaims {
    /// The check-in.
    sub: Uuid,
    /// The answer this link gives.
    ans: String,
    iss: String,
    aud: String,
    exp: i64,
    iat: i64,
}

impl JwtKeys {
    /// A link that answers one check-in with one answer (it is single-use because a
    /// check-in takes one answer).
    pub fn issue_check_in(&self, check_in: Uuid, answer: &str) -> anyhow::Result<String> {
        let now = Utc::now().timestamp();
        self.sign(&CheckInClaims {
            sub: check_in,
            ans: answer.to_owned(),
            iss: ISSUER.into(),
            aud: CHECK_IN_AUDIENCE.into(),
            exp: now + CHECK_IN_TOKEN_TTL_SECS,
            iat: now,
        })
    }

    /// The check-in and answer a link carries, if it is genuine and current.
    pub async fn verify_check_in(&self, token: &str) -> Option<(Uuid, String)> {
        let mut validation = Validation::new(JwtAlgorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[CHECK_IN_AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let claims: CheckInClaims = self.verify(token, Purpose::CheckIn, &validation).await?;
        Some((claims.sub, claims.ans))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn access_tokens_round_trip_and_reject_other_keys() {
        let keys = JwtKeys::new(&[7u8; 32]);
        let id = Uuid::new_v4();
        let token = keys.issue_access(id, "practitioner").unwrap();
        assert_eq!(keys.verify_access(&token).await.unwrap().sub, id);
        assert!(JwtKeys::new(&[8u8; 32])
            .verify_access(&token)
            .await
            .is_none());
    }

    #[tokio::test]
    async fn tokens_of_another_type_are_not_access_tokens() {
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
        let token = keys.sign(&claims).unwrap();
        assert!(keys.verify_access(&token).await.is_none());
    }

    #[tokio::test]
    async fn unsubscribe_and_access_tokens_never_stand_in_for_each_other() {
        let keys = JwtKeys::new(&[7u8; 32]);
        let id = Uuid::new_v4();
        let unsubscribe = keys.issue_unsubscribe(id).unwrap();
        assert_eq!(keys.verify_unsubscribe(&unsubscribe).await, Some(id));
        assert!(keys.verify_access(&unsubscribe).await.is_none());
        let access = keys.issue_access(id, "practitioner").unwrap();
        assert!(keys.verify_unsubscribe(&access).await.is_none());
    }

    #[test]
    fn key_ids_name_a_key_without_revealing_it() {
        let kid = key_id(b"a secret of at least thirty-two bytes");
        assert!(looks_like_key_id(&kid), "{kid}");
        assert_eq!(kid, key_id(b"a secret of at least thirty-two bytes"));
        assert_ne!(kid, key_id(b"another secret of at least thirty-two bytes"));
        assert!(!looks_like_key_id("../../etc/passwd"));
        assert!(!looks_like_key_id("0123456789ABCDEF"));
    }

    #[test]
    fn tokens_name_their_key() {
        let keys = JwtKeys::new(&[7u8; 32]);
        let token = keys.issue_access(Uuid::new_v4(), "practitioner").unwrap();
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.kid.as_deref(), Some(key_id(&[7u8; 32]).as_str()));
        assert_eq!(keys.current_kid(), key_id(&[7u8; 32]));
    }

    fn stored(secret: &str, generation: i32, retired_ago: Option<chrono::Duration>) -> SigningKey {
        SigningKey {
            kid: key_id(secret.as_bytes()),
            generation,
            secret: secret.into(),
            created_at: Utc::now() - chrono::Duration::days(500),
            retired_at: retired_ago.map(|ago| Utc::now() - ago),
        }
    }

    fn ring_of(current: &SigningKey, all: &[SigningKey]) -> JwtKeys {
        JwtKeys {
            ring: Arc::new(RwLock::new(Arc::new(Ring::from_stored(current, all)))),
            store: None,
        }
    }

    const OLD: &str = "the old secret, at least thirty-two bytes long";
    const NEW: &str = "the new secret, at least thirty-two bytes long";

    #[tokio::test]
    async fn a_retired_key_verifies_access_tokens_for_one_access_token_lifetime() {
        let id = Uuid::new_v4();
        let old_token = JwtKeys::new(OLD.as_bytes())
            .issue_access(id, "practitioner")
            .unwrap();
        let current = stored(NEW, 2, None);

        let recently = ring_of(
            &current,
            &[
                current.clone(),
                stored(OLD, 1, Some(chrono::Duration::minutes(10))),
            ],
        );
        assert_eq!(recently.verify_access(&old_token).await.unwrap().sub, id);
        let new_token = recently.issue_access(id, "practitioner").unwrap();
        assert_eq!(
            jsonwebtoken::decode_header(&new_token).unwrap().kid,
            Some(key_id(NEW.as_bytes()))
        );
        assert!(recently.verify_access(&new_token).await.is_some());

        let long_ago = ring_of(
            &current,
            &[
                current.clone(),
                stored(OLD, 1, Some(chrono::Duration::minutes(16))),
            ],
        );
        assert!(long_ago.verify_access(&old_token).await.is_none());
        assert!(long_ago.verify_access(&new_token).await.is_some());
    }

    #[tokio::test]
    async fn unsubscribe_links_outlive_a_rotation_by_their_year() {
        let id = Uuid::new_v4();
        let link = JwtKeys::new(OLD.as_bytes()).issue_unsubscribe(id).unwrap();
        let current = stored(NEW, 2, None);
        let months = ring_of(
            &current,
            &[
                current.clone(),
                stored(OLD, 1, Some(chrono::Duration::days(300))),
            ],
        );
        assert_eq!(months.verify_unsubscribe(&link).await, Some(id));
        let over_a_year = ring_of(
            &current,
            &[
                current.clone(),
                stored(OLD, 1, Some(chrono::Duration::days(366))),
            ],
        );
        assert_eq!(over_a_year.verify_unsubscribe(&link).await, None);
    }

    #[tokio::test]
    async fn unknown_key_ids_and_borrowed_key_ids_are_refused() {
        let id = Uuid::new_v4();
        let current = stored(NEW, 2, None);
        let keys = ring_of(&current, &[current.clone(), stored(OLD, 1, None)]);
        let now = Utc::now().timestamp();
        let claims = AccessClaims {
            sub: id,
            iss: ISSUER.into(),
            aud: ACCESS_AUDIENCE.into(),
            exp: now + 60,
            nbf: now,
            iat: now,
            typ: ACCESS_TYP.into(),
            role: "practitioner".into(),
        };
        let sign_as = |kid: Option<String>, secret: &[u8]| {
            let mut header = Header::new(JwtAlgorithm::HS256);
            header.kid = kid;
            jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(secret)).unwrap()
        };
        let unknown = sign_as(Some("00000000000000ff".into()), NEW.as_bytes());
        assert!(keys.verify_access(&unknown).await.is_none(), "unknown kid");
        let borrowed = sign_as(
            Some(key_id(NEW.as_bytes())),
            b"an attacker's own key of thirty-two bytes",
        );
        assert!(
            keys.verify_access(&borrowed).await.is_none(),
            "kid of a real key, other secret"
        );
        // Tokens from before keys had ids carry none: any trusted key may verify them.
        assert!(
            keys.verify_access(&sign_as(None, OLD.as_bytes()))
                .await
                .is_some(),
            "no kid"
        );
        assert!(keys
            .verify_access(&sign_as(None, b"an attacker's own key of thirty-two bytes"))
            .await
            .is_none());
    }
}
