use sea_orm_migration::{prelude::*, schema::*};

use crate::helpers::{index, user_fk};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("connections")
                    .col(pk_uuid("id"))
                    .col(text("kind").check(Expr::col("kind").is_in(["peer", "mentorship"])))
                    .col(text("status").check(Expr::col("status").is_in([
                        "pending",
                        "accepted",
                        "declined",
                        "withdrawn",
                        "ended",
                        "expired",
                    ])))
                    .col(uuid("requester_id"))
                    .col(uuid("recipient_id"))
                    // Set while pending or accepted, so that the unique index allows one
                    // live connection per pair; NULL (not unique) otherwise.
                    .col(text_null("active_pair"))
                    .col(text("pair_key"))
                    .col(text_null("message"))
                    .col(double_null("score"))
                    .col(json("reasons"))
                    .col(text_null("decline_reason"))
                    .col(text_null("decline_note"))
                    .col(uuid_null("round_id"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .col(timestamp_with_time_zone_null("responded_at"))
                    .col(timestamp_with_time_zone_null("reminded_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut user_fk("connections", "requester_id"))
                    .foreign_key(&mut user_fk("connections", "recipient_id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "idx_connections_active_pair",
                    "connections",
                    &["active_pair"],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        for (name, cols) in [
            ("idx_connections_requester", &["requester_id", "status"][..]),
            ("idx_connections_recipient", &["recipient_id", "status"][..]),
            ("idx_connections_pair", &["pair_key", "status"][..]),
            ("idx_connections_due", &["status", "expires_at"][..]),
            ("idx_connections_updated", &["updated_at"][..]),
        ] {
            manager
                .create_index(index(name, "connections", cols))
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table("blocks")
                    .col(uuid("blocker_id"))
                    .col(uuid("blocked_id"))
                    .col(timestamp_with_time_zone("created_at"))
                    .primary_key(Index::create().col("blocker_id").col("blocked_id"))
                    .foreign_key(&mut user_fk("blocks", "blocker_id"))
                    .foreign_key(&mut user_fk("blocks", "blocked_id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("idx_blocks_blocked", "blocks", &["blocked_id"]))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("notification_prefs")
                    .col(uuid("user_id").primary_key())
                    .col(boolean("connection_requests"))
                    .col(boolean("match_digest"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut user_fk("notification_prefs", "user_id"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("matching_rounds")
                    .col(pk_uuid("id"))
                    .col(text("kind"))
                    .col(boolean("dry_run"))
                    .col(integer("proposals"))
                    .col(integer("unmatched"))
                    .col(double("total_score"))
                    .col(double("elapsed_ms"))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await?;

        // Suggestions need the newest change of anything that feeds the hard rules.
        manager
            .create_index(index("idx_users_updated", "users", &["updated_at"]))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "matching_rounds",
            "notification_prefs",
            "blocks",
            "connections",
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
