//! The transactional outbox: handlers insert rows in their own transaction; the delivery
//! worker claims due rows, sends them, and records the outcome.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    sea_query::{Expr, ExprTrait, LockBehavior, LockType},
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
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
    /// A calendar invitation to attach.
    pub calendar: Option<String>,
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
        lease_token: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        sent_at: Set(None),
        calendar: Set(email.calendar),
    }
    .insert(db)
    .await?;
    Ok(id)
}

/// Claims up to `limit` emails due at `now` for `lease`. Each claimed row gets a fresh
/// fencing token (`lease_token`, returned on the row) that every later outcome must present,
/// so a worker whose lease ran out and was taken over cannot record anything. On PostgreSQL
/// the rows are read with `FOR UPDATE SKIP LOCKED`, so concurrent instances pass each other
/// by; everywhere, a row is taken with a conditional update that only one claimant can win,
/// and a row whose lease expired may be taken over.
pub async fn claim_due(
    db: &DatabaseConnection,
    limit: u64,
    now: DateTime<Utc>,
    lease: Duration,
) -> Result<Vec<OutboxEmail>, sea_orm::DbErr> {
    if super::is_postgres(db) {
        let txn = super::begin(db).await?;
        let claimed = claim_in(&txn, limit, now, lease, true).await?;
        txn.commit().await?;
        Ok(claimed)
    } else {
        // SQLite has one writer: no row locks, and a read transaction that turns into a
        // write would fail when another instance wrote meanwhile; the conditional update
        // alone decides.
        claim_in(db, limit, now, lease, false).await
    }
}

fn claimable(now: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(outbox::Column::Status.eq("queued"))
        .add(outbox::Column::NextAttemptAt.lte(now))
        .add(
            Condition::any()
                .add(outbox::Column::LockedUntil.is_null())
                .add(outbox::Column::LockedUntil.lt(now)),
        )
}

async fn claim_in(
    db: &impl ConnectionTrait,
    limit: u64,
    now: DateTime<Utc>,
    lease: Duration,
    skip_locked: bool,
) -> Result<Vec<OutboxEmail>, sea_orm::DbErr> {
    let mut query = Outbox::find()
        .filter(claimable(now))
        .order_by_asc(outbox::Column::NextAttemptAt)
        .limit(limit);
    if skip_locked {
        query = query.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let until = now
        .checked_add_signed(lease)
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    let mut claimed = Vec::new();
    for mut email in query.all(db).await? {
        let token = Uuid::new_v4();
        let won = Outbox::update_many()
            .col_expr(outbox::Column::LeaseToken, Expr::value(token))
            .col_expr(outbox::Column::LockedUntil, Expr::value(until))
            .filter(outbox::Column::Id.eq(email.id))
            .filter(claimable(now))
            .exec(db)
            .await?
            .rows_affected
            == 1;
        if won {
            email.lease_token = Some(token);
            email.locked_until = Some(until);
            claimed.push(email);
        }
    }
    Ok(claimed)
}

/// An update of the row `id` that applies only while `token` holds its lease.
fn fenced(id: Uuid, token: Uuid) -> sea_orm::UpdateMany<Outbox> {
    Outbox::update_many()
        .col_expr(
            outbox::Column::LockedUntil,
            Expr::value(None::<DateTime<Utc>>),
        )
        .col_expr(outbox::Column::LeaseToken, Expr::value(None::<Uuid>))
        .filter(outbox::Column::Id.eq(id))
        .filter(outbox::Column::Status.eq("queued"))
        .filter(outbox::Column::LeaseToken.eq(token))
}

fn short(error: &str) -> String {
    error.chars().take(500).collect()
}

/// Records a delivery. Returns false, changing nothing, when `token` no longer holds the
/// lease (another instance took the email over).
pub async fn mark_sent(
    db: &impl ConnectionTrait,
    id: Uuid,
    token: Uuid,
) -> Result<bool, sea_orm::DbErr> {
    let result = fenced(id, token)
        .col_expr(outbox::Column::Status, Expr::value("sent"))
        .col_expr(outbox::Column::SentAt, Expr::value(Utc::now()))
        .col_expr(outbox::Column::LastError, Expr::value(None::<String>))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Records a failed attempt and schedules the next one at `next_attempt_at`. Returns false,
/// changing nothing, when `token` no longer holds the lease.
pub async fn reschedule(
    db: &impl ConnectionTrait,
    id: Uuid,
    token: Uuid,
    error: &str,
    next_attempt_at: DateTime<Utc>,
) -> Result<bool, sea_orm::DbErr> {
    let result = fenced(id, token)
        .col_expr(
            outbox::Column::Attempts,
            Expr::col(outbox::Column::Attempts).add(1),
        )
        .col_expr(outbox::Column::NextAttemptAt, Expr::value(next_attempt_at))
        .col_expr(outbox::Column::LastError, Expr::value(short(error)))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Gives the email up: it becomes a dead letter (`failed`). `attempted` says whether this
/// claim tried to send it. Returns false, changing nothing, when `token` no longer holds the
/// lease.
pub async fn mark_failed(
    db: &impl ConnectionTrait,
    id: Uuid,
    token: Uuid,
    error: &str,
    attempted: bool,
) -> Result<bool, sea_orm::DbErr> {
    let result = fenced(id, token)
        .col_expr(outbox::Column::Status, Expr::value("failed"))
        .col_expr(
            outbox::Column::Attempts,
            Expr::col(outbox::Column::Attempts).add(i32::from(attempted)),
        )
        .col_expr(outbox::Column::LastError, Expr::value(short(error)))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Hands a claimed email back unsent, so that any instance may take it at once.
pub async fn release(
    db: &impl ConnectionTrait,
    id: Uuid,
    token: Uuid,
) -> Result<bool, sea_orm::DbErr> {
    Ok(fenced(id, token).exec(db).await?.rows_affected == 1)
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

/// Dead letters (emails given up, status `failed`) by kind of email.
pub async fn dead_letters_by_kind(
    db: &impl ConnectionTrait,
) -> Result<BTreeMap<String, u64>, sea_orm::DbErr> {
    let rows: Vec<(String, i64)> = Outbox::find()
        .select_only()
        .column(outbox::Column::Kind)
        .column_as(outbox::Column::Id.count(), "count")
        .filter(outbox::Column::Status.eq("failed"))
        .group_by(outbox::Column::Kind)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(kind, count)| (kind, u64::try_from(count).unwrap_or(0)))
        .collect())
}
