//! Credentials: argon2id password hashes, HS256 access tokens, and opaque random tokens
//! (refresh, email verification, password reset) that are stored only as hashes.

use std::sync::{Arc, LazyLock};

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
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
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

/// Runs the (deliberately slow) password work off the async workers, for the command line
/// (requests go through a [`PasswordPool`]).
pub async fn hash_password_blocking(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || hash_password(&password)).await?
}

/// How many requests may wait for each password worker before the pool answers busy.
pub const WAITING_PER_WORKER: usize = 8;

/// Seconds a client is asked to wait when the pool is full.
pub const BUSY_RETRY_AFTER_SECS: u64 = 1;

/// The default number of password workers: one per core.
pub fn default_password_workers() -> usize {
    std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
}

#[derive(Debug, thiserror::Error)]
pub enum PasswordWorkError {
    /// Every worker is busy and the short queue is full: answer 503 with `Retry-After`.
    #[error("every password worker is busy")]
    Busy,
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

/// A bounded pool for argon2 work: `workers` threads of its own, each hashing one password
/// at a time (a core and 19 MiB each) at a lower scheduling priority than request handling,
/// at most `WAITING_PER_WORKER` requests per worker waiting for a turn, and any further
/// request refused at once. A flood of sign-ins therefore cannot take the cores and memory
/// that health checks and everyone else need.
///
/// A request takes its place ([`PasswordPool::admit`]) before any other work, so a refused
/// request costs next to nothing (not even a database round trip).
#[derive(Clone)]
pub struct PasswordPool {
    admitted: Arc<Semaphore>,
    jobs: std::sync::mpsc::Sender<PasswordJob>,
}

type PasswordJob = Box<dyn FnOnce() + Send>;

/// Nice value of the password threads (request handling runs at 0).
#[cfg(target_os = "linux")]
const PASSWORD_THREAD_NICE: i32 = 10;

/// A place in the pool: one hash or verification may be run with it.
pub struct Admission {
    admitted: OwnedSemaphorePermit,
    jobs: std::sync::mpsc::Sender<PasswordJob>,
}

impl PasswordPool {
    /// Starts `workers` password threads; they stop when the last clone of the pool goes.
    pub fn new(workers: usize) -> Self {
        let workers = workers.max(1);
        let (jobs, queue) = std::sync::mpsc::channel::<PasswordJob>();
        let queue = Arc::new(std::sync::Mutex::new(queue));
        for n in 0..workers {
            let queue = queue.clone();
            let started = std::thread::Builder::new()
                .name(format!("password-{n}"))
                .spawn(move || password_worker(&queue));
            if let Err(error) = started {
                tracing::error!(%error, "cannot start a password thread");
            }
        }
        // The dummy hash is ready before the first sign-in needs it.
        let _ = jobs.send(Box::new(|| {
            LazyLock::force(&DUMMY_HASH);
        }));
        Self {
            admitted: Arc::new(Semaphore::new(workers * (1 + WAITING_PER_WORKER))),
            jobs,
        }
    }

    /// A place in the pool, or `Busy` at once when it is full.
    pub fn admit(&self) -> Result<Admission, PasswordWorkError> {
        let admitted = self
            .admitted
            .clone()
            .try_acquire_owned()
            .map_err(|_| PasswordWorkError::Busy)?;
        Ok(Admission {
            admitted,
            jobs: self.jobs.clone(),
        })
    }

    pub async fn hash(&self, password: String) -> Result<String, PasswordWorkError> {
        self.admit()?.hash(password).await
    }

    pub async fn verify(
        &self,
        password: String,
        stored_hash: Option<String>,
    ) -> Result<bool, PasswordWorkError> {
        self.admit()?.verify(password, stored_hash).await
    }
}

fn password_worker(queue: &std::sync::Mutex<std::sync::mpsc::Receiver<PasswordJob>>) {
    #[cfg(target_os = "linux")]
    if let Err(error) = rustix::process::setpriority_process(None, PASSWORD_THREAD_NICE) {
        tracing::warn!(%error, "password thread keeps the normal priority");
    }
    loop {
        let job = match queue.lock() {
            Ok(queue) => queue.recv(),
            Err(_) => return,
        };
        match job {
            // A panicking job drops its result sender, which its request reports.
            Ok(job) => drop(std::panic::catch_unwind(std::panic::AssertUnwindSafe(job))),
            Err(_) => return,
        }
    }
}

impl Admission {
    async fn run<T: Send + 'static>(
        self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, PasswordWorkError> {
        let (done, result) = tokio::sync::oneshot::channel();
        let admitted = self.admitted;
        // The place goes with the work, so a request that gives up (its client went away)
        // still holds it until the hash it started has finished.
        let job: PasswordJob = Box::new(move || {
            let _ = done.send(work());
            drop(admitted);
        });
        self.jobs
            .send(job)
            .map_err(|_| anyhow::anyhow!("the password threads have stopped"))?;
        result
            .await
            .map_err(|_| PasswordWorkError::Failed(anyhow::anyhow!("a password job failed")))
    }

    pub async fn hash(self, password: String) -> Result<String, PasswordWorkError> {
        Ok(self.run(move || hash_password(&password)).await??)
    }

    /// Verifies against `stored_hash`, or against a dummy hash when there is no account, so
    /// that both take the same time.
    pub async fn verify(
        self,
        password: String,
        stored_hash: Option<String>,
    ) -> Result<bool, PasswordWorkError> {
        self.run(move || verify_password(&password, stored_hash.as_deref()))
            .await
    }
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

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_password_pool_answers_busy_at_once() {
        let pool = PasswordPool::new(1);
        let gate = Arc::new(std::sync::Barrier::new(2));
        let mut held = Vec::new();
        // One running (held at the barrier) and WAITING_PER_WORKER waiting fill the pool.
        for n in 0..=WAITING_PER_WORKER {
            let pool = pool.clone();
            let gate = gate.clone();
            let admission = pool.admit().unwrap();
            held.push(tokio::spawn(async move {
                admission
                    .run(move || {
                        if n == 0 {
                            gate.wait();
                        }
                    })
                    .await
            }));
            tokio::task::yield_now().await;
        }
        assert_eq!(pool.admitted.available_permits(), 0);
        assert!(matches!(
            pool.verify("anything at all".into(), None).await,
            Err(PasswordWorkError::Busy)
        ));
        gate.wait();
        for task in held {
            assert!(task.await.unwrap().is_ok());
        }
        assert!(!pool.verify("anything at all".into(), None).await.unwrap());
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
