//! The delivery worker: a task in every instance that drains the outbox.

use std::sync::Arc;

use chrono::Utc;
use rand::Rng;
use sea_orm::DatabaseConnection;
use tokio::sync::{watch, Notify};

use super::transport::{build_message, Mailer};
use crate::{config::OutboxSettings, metrics::Metrics, store::outbox};

pub struct Worker {
    pub db: DatabaseConnection,
    pub mailer: Mailer,
    pub settings: OutboxSettings,
    pub mail_from: String,
    pub message_id_domain: String,
    pub wake: Arc<Notify>,
    pub metrics: Metrics,
}

const BATCH: u64 = 25;

impl Worker {
    /// Runs until `shutdown` turns true, finishing the email in hand first.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        loop {
            if *shutdown.borrow() {
                break;
            }
            match outbox::claim_due(&self.db, BATCH).await {
                Ok(batch) => {
                    let full = batch.len() as u64 == BATCH;
                    for email in batch {
                        self.deliver(email).await;
                        if *shutdown.borrow() {
                            return;
                        }
                    }
                    if full {
                        continue;
                    }
                }
                Err(error) => tracing::warn!(%error, "cannot read the outbox"),
            }
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(self.settings.poll_interval) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    #[tracing::instrument(skip_all, fields(email_id = %email.id, kind = %email.kind))]
    async fn deliver(&self, email: outbox::OutboxEmail) {
        let result = match build_message(&email, &self.mail_from, &self.message_id_domain) {
            Ok(message) => self.mailer.send(message).await,
            Err(e) => Err(e),
        };
        let outcome = match result {
            Ok(()) => {
                self.metrics.email_sent();
                outbox::mark_sent(&self.db, email.id).await
            }
            Err(error) => {
                let next = Utc::now() + self.backoff(email.attempts);
                tracing::warn!(%error, attempt = email.attempts + 1, "email not delivered");
                match outbox::mark_attempt_failed(
                    &self.db,
                    &email,
                    &error.to_string(),
                    next,
                    self.settings.max_attempts,
                )
                .await
                {
                    Ok(true) => {
                        self.metrics.email_failed();
                        tracing::error!("email given up after {} attempts", email.attempts + 1);
                        Ok(())
                    }
                    other => other.map(drop),
                }
            }
        };
        if let Err(error) = outcome {
            tracing::error!(%error, "cannot record the delivery outcome");
        }
    }

    /// Exponential backoff with up to 25 % jitter, so that instances do not retry in step.
    fn backoff(&self, previous_attempts: i32) -> chrono::Duration {
        let base = self.settings.backoff_base.as_millis() as f64;
        let max = self.settings.backoff_max.as_millis() as f64;
        let exp = base * 2f64.powi(previous_attempts.clamp(0, 30));
        let jitter = rand::rng().random_range(0.0..0.25);
        let millis = (exp.min(max) * (1.0 + jitter)) as i64;
        chrono::Duration::milliseconds(millis)
    }
}
