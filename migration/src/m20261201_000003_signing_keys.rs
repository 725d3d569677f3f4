//! Signing keys for access tokens and unsubscribe links, kept in the database so that every
//! instance on one database signs and verifies with the same keys, and so that a key can be
//! rotated without a restart.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("signing_keys")
                    // Derived from a hash of the secret; carried in each token's header.
                    .col(text("kid").primary_key())
                    // 1 for the first key, then one more for each rotation. Unique, so that
                    // instances creating the first key (or rotating) at the same moment
                    // cannot both succeed: the loser re-reads the winner's key.
                    .col(integer_uniq("generation"))
                    .col(text("secret"))
                    .col(timestamp_with_time_zone("created_at"))
                    // Set when a newer key takes over; a retired key still verifies access
                    // tokens for one access-token lifetime and unsubscribe links for theirs.
                    .col(timestamp_with_time_zone_null("retired_at"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("signing_keys").to_owned())
            .await
    }
}
