use sea_orm_migration::{prelude::*, schema::*};

use crate::helpers::{index, user_fk};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Each practitioner's professional development log: what they did, when, for how
        // long, what they took from it, and what it came from (a connection, a circle or
        // one of its meetings). A draft waits for its owner to confirm it.
        manager
            .create_table(
                Table::create()
                    .table("log_entries")
                    .col(pk_uuid("id"))
                    .col(uuid("user_id"))
                    .col(date("occurred_on"))
                    .col(integer("minutes"))
                    .col(text("kind"))
                    .col(text("title"))
                    .col(text_null("reflection"))
                    .col(uuid_null("connection_id"))
                    .col(uuid_null("circle_id"))
                    .col(uuid_null("circle_meeting_id"))
                    .col(boolean("draft").default(false))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut user_fk("log_entries", "user_id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_log_entries_user",
                "log_entries",
                &["user_id", "occurred_on"],
            ))
            .await?;
        // One entry per person per held meeting, however often it is marked held.
        manager
            .create_index(
                index(
                    "idx_log_entries_meeting",
                    "log_entries",
                    &["user_id", "circle_meeting_id"],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        // The requirement a practitioner logs against, and where their cycle starts when
        // the regulator's cycle is their own.
        manager
            .create_table(
                Table::create()
                    .table("log_requirements")
                    .col(uuid("user_id").primary_key())
                    .col(text("code"))
                    .col(date_null("cycle_start"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut user_fk("log_requirements", "user_id"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("circle_meetings")
                    .add_column(timestamp_with_time_zone_null("held_at"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("circle_meetings")
                    .drop_column("held_at")
                    .to_owned(),
            )
            .await?;
        for table in ["log_requirements", "log_entries"] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
