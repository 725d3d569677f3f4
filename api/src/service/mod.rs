//! The capabilities, each owning its rules: plain async functions that take typed input
//! and return typed results or an [`ApiError`], with no HTTP in sight. Handlers, the CLI and
//! the scheduler call them; a capability reaches another only through its functions here.

pub mod accounts;
pub mod admin;
pub mod agreements;
pub mod check_ins;
pub mod circle_meetings;
pub mod circle_posts;
pub mod circle_rounds;
pub mod circles;
pub mod connection_meetings;
pub mod connections;
pub mod log;
pub mod matching;
pub mod meeting_fields;
pub mod mentors;
pub mod notifications;
pub mod outcomes;
pub mod profiles;

use std::sync::Arc;

use sea_orm::{DatabaseConnection, DatabaseTransaction};
use tokio::sync::Notify;
use uuid::Uuid;

use crate::{
    auth::{JwtKeys, PasswordPool},
    config::Config,
    error::ApiError,
    index::Matching,
    metrics::Metrics,
};

/// What every capability shares: storage, the live matching index, credentials, settings,
/// and the delivery worker's doorbell.
pub struct Core {
    /// Writes, and reads inside a write's transaction.
    pub db: DatabaseConnection,
    /// Reads outside any transaction (see `store::connect_readers`).
    pub reads: DatabaseConnection,
    pub config: Config,
    pub jwt: JwtKeys,
    /// Every password hash and verification runs here.
    pub passwords: PasswordPool,
    pub index: Arc<Matching>,
    /// Wakes the delivery worker as soon as a transaction has queued an email.
    pub outbox_wake: Arc<Notify>,
    pub metrics: Metrics,
}

impl Core {
    /// A link into the web app carrying a one-time token.
    pub fn link(&self, path: &str, token: &str) -> String {
        format!("{}{path}?token={token}", self.config.public_url)
    }

    /// What emails need to build their links.
    pub fn mailing(&self) -> notifications::Mailing<'_> {
        notifications::Mailing {
            public_url: &self.config.public_url,
            jwt: &self.jwt,
            from: &self.config.mail_from,
        }
    }

    /// Starts the one way a write is finished: see [`Write`].
    pub async fn write(&self) -> Result<Write<'_>, ApiError> {
        Ok(Write {
            txn: crate::store::begin(&self.db).await?,
            core: self,
            after: Vec::new(),
        })
    }
}

/// What the live index must learn once a write is committed.
enum Change {
    Users(Vec<Uuid>),
    Connection(Uuid),
    Blocks,
    Erased(Uuid),
}

/// A unit of work: one transaction, and what must follow its commit. [`Write::commit`]
/// commits, always rings the delivery worker (emails queued in the transaction go out at
/// once) and then tells the live index what changed. The write is done once committed: an
/// index refresh that fails afterwards is logged, never returned, and the index's poll picks
/// the change up within seconds. Dropped without a commit, everything is rolled back.
#[must_use = "a write does nothing until it is committed"]
pub struct Write<'a> {
    txn: DatabaseTransaction,
    core: &'a Core,
    after: Vec<Change>,
}

impl Write<'_> {
    /// The transaction, for the store's queries.
    pub fn db(&self) -> &DatabaseTransaction {
        &self.txn
    }

    /// These accounts' profiles, verification or standing changed.
    pub fn users_changed(&mut self, ids: &[Uuid]) {
        self.after.push(Change::Users(ids.to_vec()));
    }

    /// This connection was created or changed state.
    pub fn connection_changed(&mut self, id: Uuid) {
        self.after.push(Change::Connection(id));
    }

    pub fn blocks_changed(&mut self) {
        self.after.push(Change::Blocks);
    }

    /// This account is gone: every index drops the person.
    pub fn erased(&mut self, id: Uuid) {
        self.after.push(Change::Erased(id));
    }

    pub async fn commit(self) -> Result<(), ApiError> {
        let Write { txn, core, after } = self;
        txn.commit().await?;
        core.outbox_wake.notify_one();
        for change in after {
            if let Err(error) = core.apply(change).await {
                tracing::warn!(%error, "the live index will catch up with a committed write at its next poll");
            }
        }
        Ok(())
    }
}

impl Core {
    async fn apply(&self, change: Change) -> Result<(), sea_orm::DbErr> {
        match change {
            Change::Users(ids) => self.index.refresh_users(&self.reads, &ids).await,
            Change::Connection(id) => {
                match crate::store::connections::find(&self.reads, id).await? {
                    Some(row) => self.index.connection_changed(&self.reads, &row).await,
                    None => Ok(()),
                }
            }
            Change::Blocks => self.index.blocks_changed(&self.reads).await,
            Change::Erased(id) => {
                self.index.forget(id);
                Ok(())
            }
        }
    }
}
