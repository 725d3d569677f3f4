//! Agreements, one per connection.

use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::{Expr, Query},
    ActiveEnum, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
};
use uuid::Uuid;

use super::entities::{agreements, connections};
use crate::domain::follow_through::AgreementStatus;

pub async fn find(
    db: &impl ConnectionTrait,
    connection_id: Uuid,
) -> Result<Option<agreements::Model>, sea_orm::DbErr> {
    agreements::Entity::find_by_id(connection_id).one(db).await
}

/// Writes the whole agreement, new or changed, in one statement.
pub async fn save(
    db: &impl ConnectionTrait,
    row: agreements::ActiveModel,
) -> Result<(), sea_orm::DbErr> {
    super::upsert(db, row).await
}

/// Accepts the terms as they were read (`seen` is when they last changed); false when they
/// changed meanwhile.
pub async fn accept(
    db: &impl ConnectionTrait,
    connection_id: Uuid,
    seen: DateTime<Utc>,
    at: DateTime<Utc>,
) -> Result<bool, sea_orm::DbErr> {
    let done = agreements::Entity::update_many()
        .col_expr(
            agreements::Column::Status,
            Expr::value(AgreementStatus::Accepted.into_value()),
        )
        .col_expr(agreements::Column::AcceptedAt, Expr::value(at))
        .filter(agreements::Column::ConnectionId.eq(connection_id))
        .filter(agreements::Column::Status.eq(AgreementStatus::Proposed))
        .filter(agreements::Column::UpdatedAt.eq(seen))
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

pub async fn set_goals(
    db: &impl ConnectionTrait,
    connection_id: Uuid,
    goals: serde_json::Value,
) -> Result<(), sea_orm::DbErr> {
    agreements::Entity::update_many()
        .col_expr(agreements::Column::Goals, Expr::value(goals))
        .filter(agreements::Column::ConnectionId.eq(connection_id))
        .exec(db)
        .await?;
    Ok(())
}

/// The agreements of every connection `user_id` is a side of.
pub async fn of_party(
    db: &impl ConnectionTrait,
    user_id: Uuid,
) -> Result<Vec<agreements::Model>, sea_orm::DbErr> {
    let theirs = Query::select()
        .column(connections::Column::Id)
        .from(connections::Entity)
        .cond_where(
            Condition::any()
                .add(connections::Column::RequesterId.eq(user_id))
                .add(connections::Column::RecipientId.eq(user_id)),
        )
        .to_owned();
    agreements::Entity::find()
        .filter(agreements::Column::ConnectionId.in_subquery(theirs))
        .all(db)
        .await
}

/// How many agreements wait for an answer, and how many were accepted.
pub async fn counts(db: &impl ConnectionTrait) -> Result<(u64, u64), sea_orm::DbErr> {
    let count = |status: AgreementStatus| {
        agreements::Entity::find()
            .filter(agreements::Column::Status.eq(status))
            .count(db)
    };
    Ok((
        count(AgreementStatus::Proposed).await?,
        count(AgreementStatus::Accepted).await?,
    ))
}
