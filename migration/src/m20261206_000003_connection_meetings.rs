use sea_orm_migration::{prelude::*, schema::*};

use crate::helpers::{connection_fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// What the users table gains: when each person was last active, whether a mentor is
/// left out of suggestions for being away too long, and how many requests to them have
/// expired unanswered in a row.
fn user_columns() -> [ColumnDef; 3] {
    [
        timestamp_with_time_zone_null("last_active_at"),
        boolean("dormant").default(false).to_owned(),
        integer("unanswered_expiries").default(0).to_owned(),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One meeting of the two sides of a connection: proposed with one or more times
        // (`options`, UTC), then scheduled at the one the other side picks.
        manager
            .create_table(
                Table::create()
                    .table("connection_meetings")
                    .col(pk_uuid("id"))
                    .col(uuid("connection_id"))
                    .col(uuid("proposer_id"))
                    .col(text("title"))
                    .col(json("options"))
                    .col(timestamp_with_time_zone_null("starts_at"))
                    .col(integer("duration_minutes"))
                    .col(text("timezone"))
                    .col(text_null("location"))
                    .col(text("status"))
                    .col(integer("sequence"))
                    .col(timestamp_with_time_zone_null("reminded_at"))
                    .col(timestamp_with_time_zone_null("held_at"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut connection_fk("connection_meetings"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_connection_meetings_connection",
                "connection_meetings",
                &["connection_id", "created_at"],
            ))
            .await?;
        manager
            .create_index(index(
                "idx_connection_meetings_starts",
                "connection_meetings",
                &["status", "starts_at"],
            ))
            .await?;
        // Check-ins, meeting proposals and reminders can be turned off like other optional
        // emails.
        manager
            .alter_table(
                Table::alter()
                    .table("notification_prefs")
                    .add_column(boolean("follow_through").default(true))
                    .to_owned(),
            )
            .await?;
        // SQLite takes one column per ALTER TABLE.
        for column in user_columns() {
            manager
                .alter_table(Table::alter().table("users").add_column(column).to_owned())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("connection_meetings").to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("notification_prefs")
                    .drop_column("follow_through")
                    .to_owned(),
            )
            .await?;
        for column in ["last_active_at", "dormant", "unanswered_expiries"] {
            manager
                .alter_table(Table::alter().table("users").drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
