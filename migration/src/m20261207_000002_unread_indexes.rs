use sea_orm_migration::prelude::*;

use crate::helpers::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Two indexes no query reads, each kept up to date by every profile write:
/// `idx_profile_tags_lookup` (the one query on tags by code checks a person's own tags,
/// which the table's primary key answers) and `idx_profiles_lat_lon` (the one bounding-box
/// query names a profession, which `idx_profiles_profession_lat` answers). The tag index
/// was the largest of the database (7.7 million entries at a million practitioners).
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, _) in UNREAD {
            manager
                .drop_index(Index::drop().name(name).table(table).to_owned())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, columns) in UNREAD {
            manager.create_index(index(name, table, columns)).await?;
        }
        Ok(())
    }
}

/// Name, table and columns of each.
const UNREAD: [(&str, &str, &[&str]); 2] = [
    (
        "idx_profile_tags_lookup",
        "profile_tags",
        &["kind", "code", "user_id"],
    ),
    (
        "idx_profiles_lat_lon",
        "profiles",
        &["latitude", "longitude"],
    ),
];
