//! Failed sign-ins per account, kept in the database so that every instance sees them.
//! Keyed by the normalised email, whether or not the account exists, so that the limit
//! itself reveals nothing about which addresses are registered.

use chrono::{Duration, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set};

use super::entities::login_failures::{self, Entity as LoginFailures};

pub const MAX_FAILURES: i32 = 10;
pub const WINDOW_MINUTES: i64 = 15;

/// Seconds until the account may try again, when it has used up its failures.
pub async fn lockout_remaining(
    db: &impl ConnectionTrait,
    email_key: &str,
) -> Result<Option<u64>, sea_orm::DbErr> {
    let Some(row) = LoginFailures::find_by_id(email_key.to_owned())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let window_end = row.window_start + Duration::minutes(WINDOW_MINUTES);
    let now = Utc::now();
    if row.failures >= MAX_FAILURES && window_end > now {
        let secs = (window_end - now).num_seconds().max(1);
        return Ok(Some(u64::try_from(secs).unwrap_or(1)));
    }
    Ok(None)
}

pub async fn record_failure(
    db: &impl ConnectionTrait,
    email_key: &str,
) -> Result<(), sea_orm::DbErr> {
    let now = Utc::now();
    match LoginFailures::find_by_id(email_key.to_owned())
        .one(db)
        .await?
    {
        Some(row) if row.window_start + Duration::minutes(WINDOW_MINUTES) > now => {
            let failures = row.failures + 1;
            let mut active: login_failures::ActiveModel = row.into();
            active.failures = Set(failures);
            active.update(db).await.map(drop)
        }
        Some(row) => {
            let mut active: login_failures::ActiveModel = row.into();
            active.window_start = Set(now);
            active.failures = Set(1);
            active.update(db).await.map(drop)
        }
        None => login_failures::ActiveModel {
            email_key: Set(email_key.to_owned()),
            window_start: Set(now),
            failures: Set(1),
        }
        .insert(db)
        .await
        .map(drop)
        .or_else(|e| match e.sql_err() {
            // Another request recorded the first failure at the same moment.
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => Ok(()),
            _ => Err(e),
        }),
    }
}

pub async fn clear(db: &impl ConnectionTrait, email_key: &str) -> Result<(), sea_orm::DbErr> {
    LoginFailures::delete_by_id(email_key.to_owned())
        .exec(db)
        .await
        .map(drop)
}
