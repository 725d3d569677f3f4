//! Tombstones of erased accounts, read by every instance's index refresher.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::entities::erasures::{self, Entity as Erasures};

/// Forgets tombstones every instance has long since read.
pub async fn purge_older_than(
    db: &impl ConnectionTrait,
    before: DateTime<Utc>,
) -> Result<u64, sea_orm::DbErr> {
    Ok(Erasures::delete_many()
        .filter(erasures::Column::ErasedAt.lt(before))
        .exec(db)
        .await?
        .rows_affected)
}
