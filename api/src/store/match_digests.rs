//! The weekly digest of new suggestions: who is due one, and whom the last one named.

use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::{Expr, Query},
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set,
};
use uuid::Uuid;

use super::entities::{match_digests as digests, notification_prefs as prefs, profiles, users};

/// Up to `limit` verified, unsuspended practitioners with a profile who keep the digest on
/// and whose clock (their last digest, or when it started) is older than `before`.
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
    let waited = Query::select()
        .column(digests::Column::UserId)
        .from(digests::Entity)
        .and_where(digests::Column::SentAt.lt(before))
        .to_owned();
    users::Entity::find()
        .select_only()
        .column(users::Column::Id)
        .filter(users::Column::EmailVerified.eq(true))
        .filter(users::Column::Suspended.eq(false))
        .filter(users::Column::Id.in_subquery(with_profile))
        .filter(users::Column::Id.not_in_subquery(turned_off))
        .filter(users::Column::Id.in_subquery(waited))
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

/// Starts the digest clock of every practitioner with a profile who has none, in one
/// statement, and only when there is someone to start: the scheduler of every instance
/// runs this often, and a write each time would keep SQLite's one writer busy.
pub async fn start_clocks(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> Result<u64, sea_orm::DbErr> {
    use sea_orm::{DbBackend, Statement};
    let missing = "FROM profiles p WHERE NOT EXISTS \
                   (SELECT 1 FROM match_digests d WHERE d.user_id = p.user_id)";
    let backend = db.get_database_backend();
    let any = db
        .query_one_raw(Statement::from_string(
            backend,
            format!("SELECT 1 AS one {missing} LIMIT 1"),
        ))
        .await?;
    if any.is_none() {
        return Ok(0);
    }
    let (at, empty) = match backend {
        DbBackend::Postgres => ("$1", "'[]'::json"),
        _ => ("?", "'[]'"),
    };
    let sql = format!(
        "INSERT INTO match_digests (user_id, sent_at, people) SELECT p.user_id, {at}, {empty} {missing}"
    );
    Ok(db
        .execute_raw(Statement::from_sql_and_values(backend, sql, [now.into()]))
        .await?
        .rows_affected())
}
