//! Password hashes: argon2id, computed on a bounded pool of threads of their own so that a
//! flood of sign-ins cannot starve everything else.

use std::sync::{Arc, LazyLock};

use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Algorithm, Argon2, Params, Version,
};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

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

/// The default number of password workers: one per core but one, so that a core is always
/// left for answering requests during a flood of sign-ins.
pub fn default_password_workers() -> usize {
    std::thread::available_parallelism()
        .map_or(2, std::num::NonZeroUsize::get)
        .saturating_sub(1)
        .max(1)
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
}
