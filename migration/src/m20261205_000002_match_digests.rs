use sea_orm_migration::{prelude::*, schema::*};

use crate::helpers::user_fk;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // The last weekly digest of suggestions each practitioner was sent, and whom it
        // named, so that the next one names others.
        manager
            .create_table(
                Table::create()
                    .table("match_digests")
                    .col(uuid("user_id").primary_key())
                    .col(timestamp_with_time_zone("sent_at"))
                    .col(json("people"))
                    .foreign_key(&mut user_fk("match_digests", "user_id"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("match_digests").to_owned())
            .await
    }
}
