//! Check-ins: which connections are due one, claiming a connection's turn so that only one
//! instance asks, and answers taken once.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    sea_query::{Expr, ExprTrait},
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use uuid::Uuid;

use crate::domain::follow_through::CheckInAnswer;

pub use super::entities::check_ins::Model as CheckIn;
use super::entities::{check_ins, connections};
use crate::domain::connection::ConnectionStatus;

/// Accepted connections whose next check-in is due at `now`: never asked and accepted at
/// least `first` ago, or asked and due again.
pub async fn due_connections(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    first: Duration,
    limit: u64,
) -> Result<Vec<connections::Model>, sea_orm::DbErr> {
    connections::Entity::find()
        .filter(connections::Column::Status.eq(ConnectionStatus::Accepted))
        .filter(
            Condition::any()
                .add(
                    Condition::all()
                        .add(connections::Column::NextCheckInAt.is_null())
                        .add(connections::Column::RespondedAt.lte(now - first)),
                )
                .add(connections::Column::NextCheckInAt.lte(now)),
        )
        .order_by_asc(connections::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// Moves the connection's next check-in to `next` if it is still where it was read
/// (`seen`); false when another instance got there first.
pub async fn claim(
    db: &impl ConnectionTrait,
    connection: &connections::Model,
    next: DateTime<Utc>,
) -> Result<bool, sea_orm::DbErr> {
    let mut update = connections::Entity::update_many()
        .col_expr(connections::Column::NextCheckInAt, Expr::value(next))
        .filter(connections::Column::Id.eq(connection.id))
        .filter(connections::Column::Status.eq(ConnectionStatus::Accepted));
    update = match connection.next_check_in_at {
        None => update.filter(connections::Column::NextCheckInAt.is_null()),
        Some(seen) => update.filter(connections::Column::NextCheckInAt.eq(seen)),
    };
    Ok(update.exec(db).await?.rows_affected == 1)
}

/// The number of the connection's next check-in.
pub async fn next_seq(
    db: &impl ConnectionTrait,
    connection_id: Uuid,
) -> Result<i32, sea_orm::DbErr> {
    let last = check_ins::Entity::find()
        .filter(check_ins::Column::ConnectionId.eq(connection_id))
        .order_by_desc(check_ins::Column::Seq)
        .one(db)
        .await?;
    Ok(last.map_or(1, |c| c.seq + 1))
}

pub async fn insert(
    db: &impl ConnectionTrait,
    row: check_ins::ActiveModel,
) -> Result<CheckIn, sea_orm::DbErr> {
    row.insert(db).await
}

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<CheckIn>, sea_orm::DbErr> {
    check_ins::Entity::find_by_id(id).one(db).await
}

/// Records the answer unless there already is one; false when there was.
pub async fn answer(
    db: &impl ConnectionTrait,
    id: Uuid,
    answer: CheckInAnswer,
    at: DateTime<Utc>,
) -> Result<bool, sea_orm::DbErr> {
    let done = check_ins::Entity::update_many()
        .col_expr(check_ins::Column::Answer, Expr::value(answer.code()))
        .col_expr(check_ins::Column::AnsweredAt, Expr::value(at))
        .filter(check_ins::Column::Id.eq(id))
        .filter(check_ins::Column::AnsweredAt.is_null())
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

/// The person's check-ins, newest first: open ones (of connections still accepted) when
/// `open_only`, else all.
pub async fn of_user(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    open_only: bool,
) -> Result<Vec<CheckIn>, sea_orm::DbErr> {
    let mut query = check_ins::Entity::find().filter(check_ins::Column::UserId.eq(user_id));
    if open_only {
        let accepted = sea_orm::sea_query::Query::select()
            .column(connections::Column::Id)
            .from(connections::Entity)
            .and_where(
                Expr::col(connections::Column::Status).eq(ConnectionStatus::Accepted.as_str()),
            )
            .to_owned();
        query = query
            .filter(check_ins::Column::AnsweredAt.is_null())
            .filter(check_ins::Column::ConnectionId.in_subquery(accepted));
    }
    query
        .order_by_desc(check_ins::Column::CreatedAt)
        .all(db)
        .await
}

/// How many check-ins have each answer (and how many wait), over everyone.
pub async fn answer_counts(
    db: &impl ConnectionTrait,
) -> Result<Vec<(Option<CheckInAnswer>, i64)>, sea_orm::DbErr> {
    check_ins::Entity::find()
        .select_only()
        .column(check_ins::Column::Answer)
        .column_as(check_ins::Column::Id.count(), "n")
        .group_by(check_ins::Column::Answer)
        .into_tuple()
        .all(db)
        .await
}
