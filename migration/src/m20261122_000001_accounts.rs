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
                    .table("users")
                    .col(pk_uuid("id"))
                    .col(text("email"))
                    .col(text_uniq("email_normalized"))
                    .col(text("password_hash"))
                    .col(text("display_name"))
                    .col(boolean("email_verified").default(false))
                    .col(
                        text("role")
                            .default("practitioner")
                            .check(Expr::col("role").is_in(["practitioner", "admin"])),
                    )
                    .col(boolean("suspended").default(false))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("refresh_tokens")
                    .col(pk_uuid("id"))
                    .col(uuid("user_id"))
                    .col(uuid("family_id"))
                    .col(text_uniq("token_hash"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .col(timestamp_with_time_zone_null("rotated_at"))
                    .col(timestamp_with_time_zone_null("revoked_at"))
                    .foreign_key(&mut user_fk("refresh_tokens", "user_id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_refresh_tokens_family",
                "refresh_tokens",
                &["family_id"],
            ))
            .await?;
        manager
            .create_index(index(
                "idx_refresh_tokens_user",
                "refresh_tokens",
                &["user_id"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("email_tokens")
                    .col(pk_uuid("id"))
                    .col(uuid("user_id"))
                    .col(
                        text("purpose")
                            .check(Expr::col("purpose").is_in(["verify_email", "password_reset"])),
                    )
                    .col(text_uniq("token_hash"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .col(timestamp_with_time_zone_null("used_at"))
                    .foreign_key(&mut user_fk("email_tokens", "user_id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("idx_email_tokens_user", "email_tokens", &["user_id"]))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("login_failures")
                    .col(text("email_key").primary_key())
                    .col(timestamp_with_time_zone("window_start"))
                    .col(integer("failures"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("outbox")
                    .col(pk_uuid("id"))
                    .col(uuid_null("user_id"))
                    .col(text("kind"))
                    .col(text("to_address"))
                    .col(text("subject"))
                    .col(text("text_body"))
                    .col(text("html_body"))
                    .col(json("headers"))
                    .col(
                        text("status")
                            .default("queued")
                            .check(Expr::col("status").is_in(["queued", "sent", "failed"])),
                    )
                    .col(integer("attempts").default(0))
                    .col(timestamp_with_time_zone("next_attempt_at"))
                    .col(timestamp_with_time_zone_null("locked_until"))
                    .col(text_null("last_error"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone_null("sent_at"))
                    .foreign_key(&mut user_fk("outbox", "user_id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_outbox_due",
                "outbox",
                &["status", "next_attempt_at"],
            ))
            .await?;
        manager
            .create_index(index("idx_outbox_user", "outbox", &["user_id"]))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "outbox",
            "login_failures",
            "email_tokens",
            "refresh_tokens",
            "users",
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
