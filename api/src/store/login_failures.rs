//! Sign-in attempts, kept in the database so that every instance sees them.
//!
//! Following OWASP's device-cookie pattern, a client that has signed in to an account
//! before carries a device cookie and has its own small budget of failed attempts; every
//! other client shares the account's budget, keyed by the normalised email whether or not
//! the account exists, so that the limit itself reveals nothing about which addresses are
//! registered. A stranger who uses up the account's budget therefore locks out strangers,
//! never the owner on their own device.
//!
//! Each attempt is counted before the password is checked, by one statement that returns
//! the new count, so that simultaneous attempts cannot all pass a check made before any of
//! them was recorded. A successful sign-in clears the budget it used.

use chrono::{Duration, Utc};
use sea_orm::{ConnectionTrait, DbErr, Statement};
use uuid::Uuid;

use super::limits::{self, Counter};
use crate::auth::{hash_token, new_opaque_token};

/// Attempts allowed per account from unknown clients in a window.
pub const MAX_FAILURES: i64 = 10;
/// Attempts allowed per device cookie in a window.
pub const MAX_DEVICE_FAILURES: i64 = 5;
pub const WINDOW_MINUTES: i64 = 15;
/// How long a device cookie stays valid after the last sign-in with it.
pub const DEVICE_TTL_DAYS: i64 = 180;
/// Device cookies kept per account (the most recent).
pub const DEVICES_PER_ACCOUNT: i64 = 20;

pub fn window() -> Duration {
    Duration::minutes(WINDOW_MINUTES)
}

/// Whether an attempt may go ahead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attempt {
    Allowed,
    Refused { retry_after_secs: u64 },
}

/// Counts an attempt against the account's budget for unknown clients.
pub async fn take_attempt(db: &impl ConnectionTrait, email_key: &str) -> Result<Attempt, DbErr> {
    let count = limits::hit(db, Counter::Account, email_key, window()).await?;
    Ok(if count.count > MAX_FAILURES {
        Attempt::Refused {
            retry_after_secs: count.retry_after_secs(window()),
        }
    } else {
        Attempt::Allowed
    })
}

pub async fn clear(db: &impl ConnectionTrait, email_key: &str) -> Result<(), DbErr> {
    db.execute_raw(Statement::from_sql_and_values(
        db.get_database_backend(),
        "DELETE FROM login_failures WHERE email_key = $1",
        vec![email_key.into()],
    ))
    .await
    .map(drop)
}

fn statement(db: &impl ConnectionTrait, sql: &str, values: Vec<sea_orm::Value>) -> Statement {
    Statement::from_sql_and_values(db.get_database_backend(), sql, values)
}

/// Counts an attempt against the budget of the device cookie `token`, when it is a live
/// device cookie of `user_id`; `None` when it is not (unknown, expired, another account's),
/// and the client is treated as unknown.
pub async fn take_device_attempt(
    db: &impl ConnectionTrait,
    token: &str,
    user_id: Uuid,
) -> Result<Option<Attempt>, DbErr> {
    let now = Utc::now();
    let row = db
        .query_one_raw(statement(
            db,
            "UPDATE trusted_devices SET \
             failures = CASE WHEN window_start <= $3 THEN 1 ELSE failures + 1 END, \
             window_start = CASE WHEN window_start <= $3 THEN $2 ELSE window_start END \
             WHERE token_hash = $1 AND user_id = $4 AND expires_at > $2 \
             RETURNING failures, window_start",
            vec![
                hash_token(token).into(),
                now.into(),
                (now - window()).into(),
                user_id.into(),
            ],
        ))
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let count = limits::Count {
        count: i64::from(row.try_get::<i32>("", "failures")?),
        window_start: row.try_get("", "window_start")?,
    };
    Ok(Some(if count.count > MAX_DEVICE_FAILURES {
        Attempt::Refused {
            retry_after_secs: count.retry_after_secs(window()),
        }
    } else {
        Attempt::Allowed
    }))
}

/// After a successful sign-in: keeps the device cookie `current` (when it is one of this
/// account's) for another `DEVICE_TTL_DAYS` with a fresh budget, or creates a new one.
/// Returns the cookie's value.
pub async fn remember_device(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    current: Option<&str>,
) -> Result<String, DbErr> {
    let now = Utc::now();
    let expires = now + Duration::days(DEVICE_TTL_DAYS);
    if let Some(token) = current {
        let kept = db
            .execute_raw(statement(
                db,
                "UPDATE trusted_devices SET failures = 0, window_start = $2, expires_at = $3 \
                 WHERE token_hash = $1 AND user_id = $4 AND expires_at > $2",
                vec![
                    hash_token(token).into(),
                    now.into(),
                    expires.into(),
                    user_id.into(),
                ],
            ))
            .await?;
        if kept.rows_affected() == 1 {
            return Ok(token.to_owned());
        }
    }
    let (token, token_hash) = new_opaque_token();
    db.execute_raw(statement(
        db,
        "INSERT INTO trusted_devices \
         (token_hash, user_id, created_at, expires_at, window_start, failures) \
         VALUES ($1, $2, $3, $4, $3, 0)",
        vec![
            token_hash.into(),
            user_id.into(),
            now.into(),
            expires.into(),
        ],
    ))
    .await?;
    // Expired cookies, and all but the most recent few, go.
    db.execute_raw(statement(
        db,
        "DELETE FROM trusted_devices WHERE user_id = $1 AND (expires_at <= $2 OR token_hash NOT IN \
         (SELECT token_hash FROM trusted_devices WHERE user_id = $1 \
          ORDER BY created_at DESC LIMIT $3))",
        vec![user_id.into(), now.into(), DEVICES_PER_ACCOUNT.into()],
    ))
    .await?;
    Ok(token)
}

/// Forgets every device cookie of an account (after a password reset).
pub async fn forget_devices(db: &impl ConnectionTrait, user_id: Uuid) -> Result<(), DbErr> {
    db.execute_raw(statement(
        db,
        "DELETE FROM trusted_devices WHERE user_id = $1",
        vec![user_id.into()],
    ))
    .await
    .map(drop)
}

/// Removes account budgets whose window has ended.
pub async fn sweep(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    limits::sweep(db, Counter::Account, Utc::now() - window()).await
}
