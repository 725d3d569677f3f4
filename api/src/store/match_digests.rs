//! The weekly digest of new suggestions: who is due one, and whom the last one named.

use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::{Expr, Query},
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set,
};
use uuid::Uuid;

use super::entities::{match_digests as digests, notification_prefs as prefs, profiles, users};

/// Up to `limit` verified, unsuspended practitioners with a profile who keep the digest on
/// and have had none since `before`.
pub async fn due(
    db: &impl ConnectionTrait,
    before: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<Uuid>, sea_orm::DbErr> {
    let with_profile = Query::select()
        .column(profiles::Column::UserId)
        .from(profiles::Entity)
        .to_owned();
    let turned_off = Query::select()
        .column(prefs::Column::UserId)
        .from(prefs::Entity)
        .and_where(prefs::Column::MatchDigest.eq(false))
        .to_owned();
    let recent = Query::select()
        .column(digests::Column::UserId)
        .from(digests::Entity)
        .and_where(digests::Column::SentAt.gte(before))
        .to_owned();
    users::Entity::find()
        .select_only()
        .column(users::Column::Id)
        .filter(users::Column::EmailVerified.eq(true))
        .filter(users::Column::Suspended.eq(false))
        .filter(users::Column::Id.in_subquery(with_profile))
        .filter(users::Column::Id.not_in_subquery(turned_off))
        .filter(users::Column::Id.not_in_subquery(recent))
        .limit(limit)
        .into_tuple()
        .all(db)
        .await
}

/// The last digest of `user_id`: when, and whom it named.
pub async fn last(
    db: &impl ConnectionTrait,
    user_id: Uuid,
) -> Result<Option<(DateTime<Utc>, Vec<Uuid>)>, sea_orm::DbErr> {
    Ok(digests::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .map(|d| {
            (
                d.sent_at,
                serde_json::from_value(d.people).unwrap_or_default(),
            )
        }))
}

/// Records the digest `user_id` is sent now, naming `people`: true for exactly one caller
/// per `last`, on every instance.
pub async fn claim(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    last: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    people: &[Uuid],
) -> Result<bool, sea_orm::DbErr> {
    let named = serde_json::json!(people);
    match last {
        Some(last) => Ok(digests::Entity::update_many()
            .col_expr(digests::Column::SentAt, Expr::value(now))
            .col_expr(digests::Column::People, Expr::value(named))
            .filter(digests::Column::UserId.eq(user_id))
            .filter(digests::Column::SentAt.eq(last))
            .exec(db)
            .await?
            .rows_affected
            == 1),
        None => {
            super::insert_first(
                db,
                digests::ActiveModel {
                    user_id: Set(user_id),
                    sent_at: Set(now),
                    people: Set(named),
                },
            )
            .await
        }
    }
}
