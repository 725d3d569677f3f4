//! Scheduled work: reminders at half a request's time, expiry at its end, and forgetting
//! what is kept only for a while. Every instance runs it; the services make sure each
//! reminder and expiry happens once.

use std::sync::Arc;

use chrono::Utc;
use tokio::sync::watch;

use crate::{
    service::{
        check_ins, circle_meetings, circle_posts, connection_meetings, connections, matching,
        mentors, Core,
    },
    store::{erasures, idempotency},
};

pub async fn run(core: Arc<Core>, mut shutdown: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(core.config.scheduler_interval) => {}
            _ = shutdown.changed() => break,
        }
        if let Err(error) = tick(&core).await {
            tracing::warn!(%error, "scheduled work failed; retrying");
        }
    }
}

/// One pass. Each step commits on its own, so one that fails leaves the others done.
async fn tick(core: &Core) -> anyhow::Result<()> {
    let now = Utc::now();
    connections::send_reminders(core, now).await?;
    connections::expire_overdue(core, now).await?;
    circle_meetings::send_reminders(core, now).await?;
    connection_meetings::send_reminders(core, now).await?;
    mentors::mark_dormant(core, now).await?;
    circle_posts::send_digests(core, now).await?;
    matching::send_match_digests(core, now).await?;
    check_ins::send_due(core, now).await?;
    idempotency::purge_expired(&core.db).await?;
    erasures::purge_older_than(&core.db, now - chrono::Duration::days(1)).await?;
    Ok(())
}
