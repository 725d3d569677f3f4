use sea_orm_migration::{prelude::*, schema::*};

use crate::helpers::{connection_fk, index, user_fk};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One question to each side of an accepted connection, two weeks in and then every
        // six weeks; `seq` counts them.
        manager
            .create_table(
                Table::create()
                    .table("check_ins")
                    .col(pk_uuid("id"))
                    .col(uuid("connection_id"))
                    .col(uuid("user_id"))
                    .col(integer("seq"))
                    .col(text_null("answer"))
                    .col(timestamp_with_time_zone_null("answered_at"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut connection_fk("check_ins"))
                    .foreign_key(&mut user_fk("check_ins", "user_id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "idx_check_ins_once",
                    "check_ins",
                    &["connection_id", "user_id", "seq"],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        // When the next check-in of a connection is due; none yet means two weeks after
        // acceptance.
        manager
            .alter_table(
                Table::alter()
                    .table("connections")
                    .add_column(timestamp_with_time_zone_null("next_check_in_at"))
                    .to_owned(),
            )
            .await?;
        // What the two sides of a connection agree: goals, how often and how they meet,
        // for how long, and what stays between them.
        manager
            .create_table(
                Table::create()
                    .table("agreements")
                    .col(uuid("connection_id").primary_key())
                    .col(json("goals"))
                    .col(text("cadence"))
                    .col(integer("duration_months"))
                    .col(text("mode"))
                    .col(text_null("confidentiality"))
                    .col(text("status"))
                    .col(uuid("proposed_by"))
                    .col(timestamp_with_time_zone_null("accepted_at"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut connection_fk("agreements"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["agreements", "check_ins"] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table("connections")
                    .drop_column("next_check_in_at")
                    .to_owned(),
            )
            .await
    }
}
