//! The delivery worker: a task in every instance that drains the outbox.
//!
//! Every claimed email carries a lease with a fencing token. The worker sends only while the
//! lease has a whole send timeout left, and records the outcome with its token, so an email
//! taken over by another instance is neither sent nor recorded twice. Failed sends are retried
//! with capped exponential backoff until the email's deadline (sign-in mail: the life of its
//! link; everything else: `retry_for`), after which it becomes a dead letter.

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use rand::Rng;
use sea_orm::{DatabaseConnection, DbErr};
use tokio::sync::{watch, Notify};
use uuid::Uuid;

use super::transport::{build_message, Mailer};
use crate::{
    config::OutboxSettings,
    metrics::Metrics,
    store::outbox::{self, OutboxEmail},
};

pub struct Worker {
    pub db: DatabaseConnection,
    pub mailer: Mailer,
    pub settings: OutboxSettings,
    pub mail_from: String,
    pub message_id_domain: String,
    pub wake: Arc<Notify>,
    pub metrics: Metrics,
}

/// How long a stopping process lets a send in hand go on before handing the email back.
pub const SEND_GRACE: Duration = Duration::from_secs(3);

/// Time kept in hand after a send for recording its outcome under the same lease.
const RECORD_MARGIN: Duration = Duration::from_secs(1);

impl Worker {
    /// Runs until `shutdown` turns true, finishing the email in hand first (for at most
    /// [`SEND_GRACE`]) and handing the rest of its claim back.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let per_claim = per_claim(&self.settings);
        let lease =
            chrono::Duration::from_std(lease(&self.settings)).unwrap_or(chrono::Duration::MAX);
        loop {
            if *shutdown.borrow() {
                break;
            }
            match outbox::claim_due(&self.db, per_claim, Utc::now(), lease).await {
                Ok(claimed) => {
                    let full = claimed.len() as u64 == per_claim;
                    let mut claimed = claimed.into_iter();
                    for email in claimed.by_ref() {
                        if *shutdown.borrow() || !self.lease_covers_a_send(&email) {
                            self.release(&email).await;
                            break;
                        }
                        self.deliver_unless_stopped(email, &shutdown).await;
                    }
                    for email in claimed {
                        self.release(&email).await;
                    }
                    if *shutdown.borrow() {
                        break;
                    }
                    if full {
                        continue;
                    }
                }
                Err(error) => tracing::warn!(%error, "cannot read the outbox"),
            }
            self.refresh_figures().await;
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(self.settings.poll_interval) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    /// Delivers `email`, unless the process is stopping and the send is still in hand
    /// [`SEND_GRACE`] later: then the send is abandoned and the email handed back, so that
    /// another instance (or this one, restarted) sends it without waiting for the lease.
    async fn deliver_unless_stopped(&self, email: OutboxEmail, shutdown: &watch::Receiver<bool>) {
        let mut stopping = shutdown.clone();
        let grace_over = async move {
            if stopping.wait_for(|stop| *stop).await.is_err() {
                std::future::pending::<()>().await;
            }
            tokio::time::sleep(SEND_GRACE).await;
        };
        tokio::select! {
            () = self.deliver(email.clone()) => {}
            () = grace_over => {
                tracing::warn!(email_id = %email.id, "stopping: the email in hand is handed back");
                self.release(&email).await;
            }
        }
    }

    fn lease_covers_a_send(&self, email: &OutboxEmail) -> bool {
        lease_left(email) > self.settings.send_timeout + RECORD_MARGIN
    }

    #[tracing::instrument(skip_all, fields(email_id = %email.id, kind = %email.kind))]
    async fn deliver(&self, email: OutboxEmail) {
        let Some(token) = email.lease_token else {
            return;
        };
        let deadline = deadline(&self.settings, &email);
        if Utc::now() >= deadline {
            self.give_up(
                &email,
                token,
                "its deadline passed before it could be sent",
                false,
            )
            .await;
            return;
        }
        match self.send(&email).await {
            Ok(()) => {
                self.metrics.email_sent();
                self.record_sent(&email, token).await;
            }
            Err(error) => {
                let attempt = email.attempts + 1;
                let next = Utc::now() + backoff(&self.settings, email.attempts);
                if next >= deadline {
                    tracing::warn!(%error, attempt, "email not delivered");
                    self.give_up(&email, token, &error.to_string(), true).await;
                } else {
                    tracing::warn!(%error, attempt, retry_at = %next, "email not delivered");
                    let recorded =
                        outbox::reschedule(&self.db, email.id, token, &error.to_string(), next)
                            .await;
                    self.settle(recorded);
                }
            }
        }
    }

    async fn send(&self, email: &OutboxEmail) -> anyhow::Result<()> {
        let message = build_message(email, &self.mail_from, &self.message_id_domain)?;
        let timeout = self.settings.send_timeout;
        tokio::time::timeout(timeout, self.mailer.send(message))
            .await
            .map_err(|_| anyhow::anyhow!("the mail server did not answer within {timeout:?}"))?
    }

    /// Records a delivery, retrying a failing database while the lease lasts: an email sent
    /// but not recorded would be sent again once the lease runs out.
    async fn record_sent(&self, email: &OutboxEmail, token: Uuid) {
        let mut pause = Duration::from_millis(200);
        loop {
            match outbox::mark_sent(&self.db, email.id, token).await {
                Ok(won) => return self.settle(Ok(won)),
                Err(error) => {
                    if lease_left(email) <= pause {
                        return self.settle(Err(error));
                    }
                    tracing::warn!(%error, "cannot record a delivery yet; trying again");
                    tokio::time::sleep(pause).await;
                    pause *= 2;
                }
            }
        }
    }

    async fn give_up(&self, email: &OutboxEmail, token: Uuid, error: &str, attempted: bool) {
        let recorded = outbox::mark_failed(&self.db, email.id, token, error, attempted).await;
        if matches!(recorded, Ok(true)) {
            self.metrics.email_failed();
            tracing::error!(
                attempts = email.attempts + i32::from(attempted),
                "email given up at its deadline; it is now a dead letter"
            );
            self.refresh_figures().await;
        }
        self.settle(recorded);
    }

    async fn release(&self, email: &OutboxEmail) {
        if let Some(token) = email.lease_token {
            let released = outbox::release(&self.db, email.id, token).await;
            self.settle(released);
        }
    }

    /// Logs a recorded outcome that did not apply: another instance holds the email now.
    fn settle(&self, recorded: Result<bool, DbErr>) {
        match recorded {
            Ok(true) => {}
            Ok(false) => {
                self.metrics.lease_lost();
                tracing::warn!("the lease on this email was taken over; outcome not recorded");
            }
            Err(error) => tracing::error!(%error, "cannot record the delivery outcome"),
        }
    }

    async fn refresh_figures(&self) {
        let queued = outbox::count_by_status(&self.db, "queued").await;
        let dead = outbox::count_by_status(&self.db, "failed").await;
        match (queued, dead) {
            (Ok(queued), Ok(dead)) => self.metrics.set_outbox(queued, dead),
            (Err(error), _) | (_, Err(error)) => {
                tracing::warn!(%error, "cannot count the outbox");
            }
        }
    }
}

/// The lease taken on each claim: long enough for a send and recording its outcome.
fn lease(settings: &OutboxSettings) -> Duration {
    settings
        .lease
        .max(settings.send_timeout * 2 + RECORD_MARGIN)
}

/// How long the claim on `email` still lasts.
fn lease_left(email: &OutboxEmail) -> Duration {
    email
        .locked_until
        .and_then(|until| (until - Utc::now()).to_std().ok())
        .unwrap_or(Duration::ZERO)
}

/// How many emails one claim takes: no more than the lease covers at a full send
/// timeout each, keeping one send's worth in hand.
fn per_claim(settings: &OutboxSettings) -> u64 {
    let sends =
        (lease(settings) - RECORD_MARGIN).as_millis() / settings.send_timeout.as_millis().max(1);
    u64::try_from(sends)
        .unwrap_or(u64::MAX)
        .saturating_sub(1)
        .clamp(1, settings.claim_batch.max(1))
}

/// When the email becomes a dead letter if it has not been sent.
fn deadline(settings: &OutboxSettings, email: &OutboxEmail) -> DateTime<Utc> {
    let retry_for = match email.kind.as_str() {
        "verify_email" => settings.verify_email_retry_for,
        "password_reset" => settings.password_reset_retry_for,
        _ => settings.retry_for,
    };
    chrono::Duration::from_std(retry_for)
        .ok()
        .and_then(|d| email.created_at.checked_add_signed(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Exponential backoff, capped, with equal jitter (half fixed, half random) so that
/// instances drift apart without ever waiting past the cap.
fn backoff(settings: &OutboxSettings, previous_attempts: i32) -> chrono::Duration {
    let base = settings.backoff_base.as_secs_f64();
    let cap = settings.backoff_max.as_secs_f64().max(base);
    let ceiling = (base * 2f64.powi(previous_attempts.clamp(0, 30))).min(cap);
    let seconds = ceiling / 2.0 + rand::rng().random_range(0.0..=ceiling / 2.0);
    chrono::Duration::milliseconds((seconds * 1000.0) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> OutboxSettings {
        OutboxSettings {
            backoff_base: Duration::from_secs(2),
            backoff_max: Duration::from_secs(300),
            retry_for: Duration::from_secs(24 * 3600),
            verify_email_retry_for: Duration::from_secs(7 * 86_400),
            password_reset_retry_for: Duration::from_secs(3600),
            ..OutboxSettings::default()
        }
    }

    fn email(kind: &str) -> OutboxEmail {
        let now = Utc::now();
        OutboxEmail {
            id: Uuid::now_v7(),
            user_id: None,
            kind: kind.into(),
            to_address: "sam@example.org".into(),
            subject: "Hello".into(),
            text_body: "Hello".into(),
            html_body: "<p>Hello</p>".into(),
            headers: serde_json::json!({}),
            status: "queued".into(),
            attempts: 0,
            next_attempt_at: now,
            locked_until: None,
            lease_token: None,
            last_error: None,
            created_at: now,
            sent_at: None,
            calendar: None,
        }
    }

    #[test]
    fn backoff_doubles_with_jitter_and_never_passes_the_cap() {
        let settings = settings();
        for attempts in 0..40 {
            let ceiling = (2.0 * 2f64.powi(attempts.min(30))).min(300.0);
            for _ in 0..20 {
                let wait = backoff(&settings, attempts).num_milliseconds() as f64 / 1000.0;
                assert!(wait >= ceiling / 2.0 - 0.001, "{attempts}: {wait}");
                assert!(wait <= ceiling + 0.001, "{attempts}: {wait}");
            }
        }
    }

    #[test]
    fn sign_in_mail_is_retried_for_the_life_of_its_link_and_the_rest_for_a_day() {
        let settings = settings();
        for (kind, hours) in [
            ("verify_email", 7 * 24),
            ("password_reset", 1),
            ("connection_request", 24),
            ("introduction", 24),
        ] {
            let email = email(kind);
            assert_eq!(
                deadline(&settings, &email) - email.created_at,
                chrono::Duration::hours(hours),
                "{kind}"
            );
        }
    }

    #[test]
    fn the_default_retry_windows_are_the_token_lifetimes() {
        use crate::store::tokens::EmailTokenPurpose;
        let defaults = OutboxSettings::default();
        let life = |p: EmailTokenPurpose| p.ttl().to_std().unwrap();
        assert_eq!(
            defaults.verify_email_retry_for,
            life(EmailTokenPurpose::VerifyEmail)
        );
        assert_eq!(
            defaults.password_reset_retry_for,
            life(EmailTokenPurpose::PasswordReset)
        );
        assert_eq!(defaults.retry_for, Duration::from_secs(24 * 3600));
    }

    #[test]
    fn a_claim_never_takes_more_than_its_lease_can_send() {
        for (lease_secs, send_secs, batch) in [(120, 20, 5), (10, 5, 5), (1, 5, 5), (600, 1, 25)] {
            let settings = OutboxSettings {
                lease: Duration::from_secs(lease_secs),
                send_timeout: Duration::from_secs(send_secs),
                claim_batch: batch,
                ..OutboxSettings::default()
            };
            let n = per_claim(&settings);
            assert!((1..=batch).contains(&n));
            let lease = lease(&settings);
            assert!(lease >= settings.send_timeout * 2 + RECORD_MARGIN);
            assert!(
                settings.send_timeout * (n as u32 + 1) + RECORD_MARGIN <= lease,
                "{lease_secs} {send_secs}: {n}"
            );
        }
    }
}
