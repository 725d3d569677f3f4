//! The professional development log: entries and the requirement each person logs against.

use chrono::NaiveDate;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

pub use super::entities::log_entries::Model as Entry;
use super::entities::{log_entries as entries, log_requirements as requirements};
pub use requirements::Model as ChosenRequirement;

pub async fn insert(
    db: &impl ConnectionTrait,
    row: entries::ActiveModel,
) -> Result<Entry, sea_orm::DbErr> {
    row.insert(db).await
}

/// Adds entries, leaving out any for a meeting its owner already has one for.
pub async fn add_drafts(
    db: &impl ConnectionTrait,
    rows: Vec<entries::ActiveModel>,
) -> Result<(), sea_orm::DbErr> {
    for row in rows {
        entries::Entity::insert(row)
            .on_conflict_do_nothing_on([entries::Column::UserId, entries::Column::CircleMeetingId])
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

pub async fn update(
    db: &impl ConnectionTrait,
    row: entries::ActiveModel,
) -> Result<Entry, sea_orm::DbErr> {
    row.update(db).await
}

/// The owner's entry `id`.
pub async fn find(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    id: Uuid,
) -> Result<Option<Entry>, sea_orm::DbErr> {
    entries::Entity::find_by_id(id)
        .filter(entries::Column::UserId.eq(user_id))
        .one(db)
        .await
}

pub async fn delete(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    id: Uuid,
) -> Result<bool, sea_orm::DbErr> {
    let done = entries::Entity::delete_many()
        .filter(entries::Column::Id.eq(id))
        .filter(entries::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

fn within(
    user_id: Uuid,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> sea_orm::Select<entries::Entity> {
    let mut query = entries::Entity::find().filter(entries::Column::UserId.eq(user_id));
    if let Some(from) = from {
        query = query.filter(entries::Column::OccurredOn.gte(from));
    }
    if let Some(to) = to {
        query = query.filter(entries::Column::OccurredOn.lte(to));
    }
    query
}

/// A page of the owner's entries between two days, newest first.
pub async fn page(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    (from, to): (Option<NaiveDate>, Option<NaiveDate>),
    offset: u64,
    limit: u64,
) -> Result<Vec<Entry>, sea_orm::DbErr> {
    within(user_id, from, to)
        .order_by_desc(entries::Column::OccurredOn)
        .order_by_desc(entries::Column::Id)
        .offset(offset)
        .limit(limit)
        .all(db)
        .await
}

/// Every entry of the owner's between two days, oldest first.
pub async fn chronological(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    (from, to): (Option<NaiveDate>, Option<NaiveDate>),
) -> Result<Vec<Entry>, sea_orm::DbErr> {
    within(user_id, from, to)
        .order_by_asc(entries::Column::OccurredOn)
        .order_by_asc(entries::Column::Id)
        .all(db)
        .await
}

pub async fn requirement_of(
    db: &impl ConnectionTrait,
    user_id: Uuid,
) -> Result<Option<ChosenRequirement>, sea_orm::DbErr> {
    requirements::Entity::find_by_id(user_id).one(db).await
}

pub async fn choose(
    db: &impl ConnectionTrait,
    row: requirements::ActiveModel,
) -> Result<(), sea_orm::DbErr> {
    super::upsert(db, row).await
}

pub async fn unchoose(db: &impl ConnectionTrait, user_id: Uuid) -> Result<(), sea_orm::DbErr> {
    requirements::Entity::delete_by_id(user_id).exec(db).await?;
    Ok(())
}
