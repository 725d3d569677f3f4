use sea_orm_migration::{prelude::*, schema::*};

use crate::helpers::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Who was erased and when: the account row is gone, so other instances learn of the
        // erasure from here and drop the person from their indexes. Holds no personal data.
        manager
            .create_table(
                Table::create()
                    .table("erasures")
                    .col(uuid("user_id").primary_key())
                    .col(timestamp_with_time_zone("erased_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("idx_erasures_at", "erasures", &["erased_at"]))
            .await?;
        // Every instance asks every couple of seconds which profiles changed; without this
        // index that is a scan of every profile (and SQLite has one connection).
        manager
            .create_index(index("idx_profiles_updated", "profiles", &["updated_at"]))
            .await?;

        // Responses kept for `Idempotency-Key` retries: one row per (user, key), claimed
        // before the work and completed with the response after it.
        manager
            .create_table(
                Table::create()
                    .table("idempotency_keys")
                    .col(uuid("user_id"))
                    .col(text("key"))
                    .col(text("operation"))
                    .col(text("request_hash"))
                    .col(integer_null("status"))
                    .col(text_null("body"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .primary_key(Index::create().col("user_id").col("key"))
                    .foreign_key(&mut crate::helpers::user_fk("idempotency_keys", "user_id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_idempotency_expires",
                "idempotency_keys",
                &["expires_at"],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_profiles_updated")
                    .table("profiles")
                    .to_owned(),
            )
            .await?;
        for table in ["idempotency_keys", "erasures"] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
