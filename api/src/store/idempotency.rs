//! Kept responses for `Idempotency-Key`: a key is claimed by inserting its row (the
//! primary key makes one request win), completed with the response, released when the
//! request failed, and forgotten after [`KEPT_HOURS`].

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, Set,
};
use uuid::Uuid;

use crate::store::entities::idempotency_keys::{self, Entity as Keys};

pub const KEPT_HOURS: i64 = 24;

pub enum Claim {
    Ours,
    Kept(idempotency_keys::Model),
    /// Another request held the key a moment ago and let it go.
    Released,
}

/// Claims `key` for this request, or finds what an earlier request with it left.
pub async fn claim(
    db: &DatabaseConnection,
    user_id: Uuid,
    key: &str,
    operation: &str,
    request_hash: &str,
    now: DateTime<Utc>,
) -> Result<Claim, DbErr> {
    // A key past its 24 hours is free again.
    Keys::delete_many()
        .filter(idempotency_keys::Column::UserId.eq(user_id))
        .filter(idempotency_keys::Column::Key.eq(key))
        .filter(idempotency_keys::Column::ExpiresAt.lte(now))
        .exec(db)
        .await?;
    let inserted = idempotency_keys::ActiveModel {
        user_id: Set(user_id),
        key: Set(key.to_owned()),
        operation: Set(operation.to_owned()),
        request_hash: Set(request_hash.to_owned()),
        status: Set(None),
        body: Set(None),
        created_at: Set(now),
        expires_at: Set(now + Duration::hours(KEPT_HOURS)),
    }
    .insert(db)
    .await;
    match inserted {
        Ok(_) => Ok(Claim::Ours),
        Err(error)
            if matches!(
                error.sql_err(),
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
            ) =>
        {
            match Keys::find_by_id((user_id, key.to_owned())).one(db).await? {
                Some(row) => Ok(Claim::Kept(row)),
                // Released between our insert and our read: the caller may simply retry.
                None => Ok(Claim::Released),
            }
        }
        Err(error) => Err(error),
    }
}

/// Keeps the response of the request that holds the key.
pub async fn complete(
    db: &DatabaseConnection,
    user_id: Uuid,
    key: &str,
    status: u16,
    body: String,
) -> Result<(), DbErr> {
    idempotency_keys::ActiveModel {
        user_id: Set(user_id),
        key: Set(key.to_owned()),
        status: Set(Some(i32::from(status))),
        body: Set(Some(body)),
        ..Default::default()
    }
    .update(db)
    .await
    .map(drop)
}

/// Frees a key whose request failed, so that a retry runs again.
pub async fn release(db: &DatabaseConnection, user_id: Uuid, key: &str) {
    let released = Keys::delete_by_id((user_id, key.to_owned())).exec(db).await;
    if let Err(error) = released {
        tracing::warn!(%error, "cannot release an idempotency key");
    }
}

/// Forgets kept responses past their 24 hours.
pub async fn purge_expired(db: &DatabaseConnection) -> Result<u64, DbErr> {
    Ok(Keys::delete_many()
        .filter(idempotency_keys::Column::ExpiresAt.lte(Utc::now()))
        .exec(db)
        .await?
        .rows_affected)
}
