//! The transactional outbox: handlers insert rows in their own transaction; the delivery
//! worker claims due rows, sends them, and records the outcome.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    sea_query::{Expr, LockBehavior, LockType},
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};
use uuid::Uuid;

use super::entities::outbox::{self, Entity as Outbox};

pub use outbox::Model as OutboxEmail;

/// A rendered email waiting to be queued.
pub struct NewEmail {
    pub user_id: Option<Uuid>,
    pub kind: &'static str,
    pub to_address: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    /// Extra headers, such as `List-Unsubscribe`.
    pub headers: Vec<(String, String)>,
}

pub async fn enqueue(db: &impl ConnectionTrait, email: NewEmail) -> Result<Uuid, sea_orm::DbErr> {
    let now = Utc::now();
    let id = Uuid::now_v7();
    let headers: serde_json::Map<String, serde_json::Value> = email
        .headers
        .into_iter()
        .map(|(k, v)| (k, serde_json::Value::String(v)))
        .collect();
    outbox::ActiveModel {
        id: Set(id),
        user_id: Set(email.user_id),
        kind: Set(email.kind.to_owned()),
        to_address: Set(email.to_address),
        subject: Set(email.subject),
        text_body: Set(email.text_body),
        html_body: Set(email.html_body),
        headers: Set(serde_json::Value::Object(headers)),
        status: Set("queued".into()),
        attempts: Set(0),
        next_attempt_at: Set(now),
        locked_until: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        sent_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(id)
}

/// How long a claim lasts; a worker that dies mid-send releases its rows after this.
const CLAIM_LEASE_SECS: i64 = 120;

/// Claims up to `limit` due emails for this worker. On PostgreSQL the rows are read with
/// `FOR UPDATE SKIP LOCKED`, so concurrent instances never pick the same row; everywhere,
/// the lease is taken with a conditional update that only one claimant can win.
pub async fn claim_due(
    db: &DatabaseConnection,
    limit: u64,
) -> Result<Vec<OutboxEmail>, sea_orm::DbErr> {
    let now = Utc::now();
    let txn = db.begin().await?;
    let unleased = Condition::any()
        .add(outbox::Column::LockedUntil.is_null())
        .add(outbox::Column::LockedUntil.lt(now));
    let mut query = Outbox::find()
        .filter(outbox::Column::Status.eq("queued"))
        .filter(outbox::Column::NextAttemptAt.lte(now))
        .filter(unleased.clone())
        .order_by_asc(outbox::Column::NextAttemptAt)
        .limit(limit);
    if super::is_postgres(&txn) {
        query = query.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let candidates = query.all(&txn).await?;
    let mut claimed = Vec::with_capacity(candidates.len());
    for email in candidates {
        let won = Outbox::update_many()
            .col_expr(
                outbox::Column::LockedUntil,
                Expr::value(now + Duration::seconds(CLAIM_LEASE_SECS)),
            )
            .filter(outbox::Column::Id.eq(email.id))
            .filter(outbox::Column::Status.eq("queued"))
            .filter(unleased.clone())
            .exec(&txn)
            .await?
            .rows_affected
            == 1;
        if won {
            claimed.push(email);
        }
    }
    txn.commit().await?;
    Ok(claimed)
}

pub async fn mark_sent(db: &impl ConnectionTrait, id: Uuid) -> Result<(), sea_orm::DbErr> {
    outbox::ActiveModel {
        id: Set(id),
        status: Set("sent".into()),
        sent_at: Set(Some(Utc::now())),
        locked_until: Set(None),
        last_error: Set(None),
        ..Default::default()
    }
    .update(db)
    .await
    .map(drop)
}

/// Records a failed attempt: schedules the next one, or gives up after `max_attempts`.
pub async fn mark_attempt_failed(
    db: &impl ConnectionTrait,
    email: &OutboxEmail,
    error: &str,
    next_attempt_at: DateTime<Utc>,
    max_attempts: i32,
) -> Result<bool, sea_orm::DbErr> {
    let attempts = email.attempts + 1;
    let gave_up = attempts >= max_attempts;
    outbox::ActiveModel {
        id: Set(email.id),
        attempts: Set(attempts),
        status: Set(if gave_up { "failed" } else { "queued" }.into()),
        next_attempt_at: Set(next_attempt_at),
        locked_until: Set(None),
        last_error: Set(Some(error.chars().take(500).collect())),
        ..Default::default()
    }
    .update(db)
    .await?;
    Ok(gave_up)
}

pub async fn count_by_status(
    db: &impl ConnectionTrait,
    status: &str,
) -> Result<u64, sea_orm::DbErr> {
    Outbox::find()
        .filter(outbox::Column::Status.eq(status))
        .count(db)
        .await
}
