//! Scheduled work: reminders at half a request's time and expiry at its end. Every instance
//! runs it; conditional updates make sure each reminder and expiry happens once.

use std::sync::Arc;

use chrono::Utc;
use sea_orm::{DatabaseConnection, TransactionTrait};
use tokio::sync::{watch, Notify};

use crate::{
    auth::JwtKeys,
    config::Config,
    domain::connection::{self, Action, Actor, ConnectionStatus},
    index::Matching,
    service::notifications::{self as notify, Mailing},
    store::connections,
};

pub async fn run(
    db: DatabaseConnection,
    config: Config,
    jwt: JwtKeys,
    matching: Arc<Matching>,
    wake_outbox: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(config.scheduler_interval) => {}
            _ = shutdown.changed() => break,
        }
        let mailing = Mailing {
            public_url: &config.public_url,
            jwt: &jwt,
        };
        match tick(&db, &config, &matching, &mailing).await {
            Ok(0) => {}
            Ok(_) => wake_outbox.notify_one(),
            Err(error) => tracing::warn!(%error, "scheduled work failed; retrying"),
        }
    }
}

/// One pass; returns how many emails it queued.
async fn tick(
    db: &DatabaseConnection,
    config: &Config,
    matching: &Matching,
    mailing: &Mailing<'_>,
) -> anyhow::Result<usize> {
    let ttl = chrono::Duration::from_std(config.request_ttl)?;
    let now = Utc::now();
    let mut queued = 0;

    let txn = db.begin().await?;
    let due = connections::claim_reminders(&txn, ttl, now).await?;
    for connection in &due {
        notify::reminder(&txn, mailing, connection).await?;
    }
    txn.commit().await?;
    queued += due.len();

    let txn = db.begin().await?;
    let expiry = connection::apply(ConnectionStatus::Pending, Action::Expire, Actor::Service)
        .map_err(|refusal| anyhow::anyhow!("expiry refused: {refusal:?}"))?;
    let expired = connections::claim_expired(&txn, expiry, now).await?;
    for connection in &expired {
        notify::expired(&txn, connection).await?;
    }
    txn.commit().await?;
    queued += expired.len();
    for connection in &expired {
        if let Some(fresh) = connections::find(db, connection.id).await? {
            matching.connection_changed(db, &fresh).await?;
        }
        tracing::info!(connection_id = %connection.id, "connection request expired");
    }
    crate::http::idempotency::purge_expired(db).await?;
    crate::store::erasures::purge_older_than(db, now - chrono::Duration::days(1)).await?;
    Ok(queued)
}
