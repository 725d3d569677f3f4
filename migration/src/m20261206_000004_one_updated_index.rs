use sea_orm_migration::prelude::*;

use crate::helpers::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// `profiles.updated_at` was indexed twice (`idx_profiles_updated_at` with the table and
/// `idx_profiles_updated` later); every profile write kept both up to date. One goes.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_profiles_updated")
                    .table("profiles")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(index("idx_profiles_updated", "profiles", &["updated_at"]))
            .await
    }
}
