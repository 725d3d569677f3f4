use sea_orm_migration::{prelude::*, schema::*};

use crate::helpers::{index, user_fk};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Requests per client address (an IPv4 address or an IPv6 /64) in a fixed window,
        // shared by every instance.
        manager
            .create_table(
                Table::create()
                    .table("address_limits")
                    .col(text("address_key").primary_key())
                    .col(timestamp_with_time_zone("window_start"))
                    .col(integer("hits"))
                    .to_owned(),
            )
            .await?;
        // Clients that have signed in to an account before (a device cookie, stored as the
        // SHA-256 of its value), each with its own budget of failed sign-ins.
        manager
            .create_table(
                Table::create()
                    .table("trusted_devices")
                    .col(text("token_hash").primary_key())
                    .col(uuid("user_id"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .col(timestamp_with_time_zone("window_start"))
                    .col(integer("failures").default(0))
                    .foreign_key(&mut user_fk("trusted_devices", "user_id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_trusted_devices_user",
                "trusted_devices",
                &["user_id", "created_at"],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["trusted_devices", "address_limits"] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
