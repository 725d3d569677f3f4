use sea_orm_migration::{prelude::*, schema::*};

use crate::helpers::{index, user_fk};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A foreign key to a circle's row that goes with the circle.
fn circle_fk(table: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_circle_id"))
        .from(table, "circle_id")
        .to("circles", "id")
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

/// A foreign key to an author who may be erased: the row stays, without them.
fn author_fk(table: &'static str, column: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_{column}"))
        .from(table, column)
        .to("users", "id")
        .on_delete(ForeignKeyAction::SetNull)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Circle emails: introductions, meeting invitations and reminders; and the digest.
        for column in ["circle_updates", "circle_digest"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("notification_prefs")
                        .add_column(boolean(column).default(true))
                        .to_owned(),
                )
                .await?;
        }
        // A calendar invitation (RFC 5545) sent with an email.
        manager
            .alter_table(
                Table::alter()
                    .table("outbox")
                    .add_column(text_null("calendar"))
                    .to_owned(),
            )
            .await?;
        // A community of practice. `version` is bumped as the first statement of every
        // change to its membership, so that changes are made one after another on every
        // instance and engine.
        manager
            .create_table(
                Table::create()
                    .table("circles")
                    .col(pk_uuid("id"))
                    .col(text("domain"))
                    .col(integer("cap").check(Expr::col("cap").between(4, 8)))
                    .col(
                        text("state")
                            .check(Expr::col("state").is_in(["forming", "active", "closed"])),
                    )
                    .col(
                        text("admission").check(Expr::col("admission").is_in(["open", "approval"])),
                    )
                    .col(text_null("closed_reason"))
                    .col(text("profession"))
                    .col(integer("utc_offset_minutes"))
                    .col(double("anchor_latitude"))
                    .col(double("anchor_longitude"))
                    .col(uuid_null("round_id"))
                    .col(integer("version").default(0))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("last_activity_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_circles_state",
                "circles",
                &["state", "last_activity_at"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("circle_members")
                    .col(uuid("circle_id"))
                    .col(uuid("user_id"))
                    .col(text("role").check(Expr::col("role").is_in(["member", "facilitator"])))
                    .col(text("status").check(Expr::col("status").is_in(["pending", "active"])))
                    .col(text_null("note"))
                    .col(timestamp_with_time_zone("requested_at"))
                    .col(timestamp_with_time_zone_null("joined_at"))
                    .primary_key(Index::create().col("circle_id").col("user_id"))
                    .foreign_key(&mut circle_fk("circle_members"))
                    .foreign_key(&mut user_fk("circle_members", "user_id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_circle_members_user",
                "circle_members",
                &["user_id", "status"],
            ))
            .await?;
        // Practitioners who asked to be placed in a circle by the next formation round.
        manager
            .create_table(
                Table::create()
                    .table("circle_seekers")
                    .col(uuid("user_id").primary_key())
                    .col(timestamp_with_time_zone("since"))
                    .foreign_key(&mut user_fk("circle_seekers", "user_id"))
                    .to_owned(),
            )
            .await?;
        // A free seat offered to a waiting practitioner: their join is taken at once.
        manager
            .create_table(
                Table::create()
                    .table("circle_offers")
                    .col(uuid("circle_id"))
                    .col(uuid("user_id"))
                    .col(timestamp_with_time_zone("offered_at"))
                    .primary_key(Index::create().col("circle_id").col("user_id"))
                    .foreign_key(&mut circle_fk("circle_offers"))
                    .foreign_key(&mut user_fk("circle_offers", "user_id"))
                    .to_owned(),
            )
            .await?;
        // When each practitioner was last sent the digest of new posts.
        manager
            .create_table(
                Table::create()
                    .table("circle_digests")
                    .col(uuid("user_id").primary_key())
                    .col(timestamp_with_time_zone("sent_at"))
                    .foreign_key(&mut user_fk("circle_digests", "user_id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("circle_rounds")
                    .col(pk_uuid("id"))
                    .col(boolean("dry_run"))
                    .col(integer("circles"))
                    .col(integer("placed"))
                    .col(integer("unplaced"))
                    .col(double("objective"))
                    .col(double("greedy_objective"))
                    .col(double("elapsed_ms"))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await?;
        // Discussion posts and their replies (`parent_id`). An erased author's posts stay
        // as empty shells so that others' replies keep their thread.
        manager
            .create_table(
                Table::create()
                    .table("circle_posts")
                    .col(pk_uuid("id"))
                    .col(uuid("circle_id"))
                    .col(uuid_null("parent_id"))
                    .col(uuid_null("author_id"))
                    .col(text("kind").check(Expr::col("kind").is_in([
                        "discussion",
                        "case",
                        "reply",
                    ])))
                    .col(text_null("title"))
                    .col(text("body"))
                    .col(json("questions"))
                    .col(boolean("pinned").default(false))
                    .col(boolean("hidden").default(false))
                    .col(boolean("removed").default(false))
                    .col(integer("replies").default(0))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone_null("edited_at"))
                    .col(timestamp_with_time_zone("last_activity_at"))
                    .foreign_key(&mut circle_fk("circle_posts"))
                    .foreign_key(&mut author_fk("circle_posts", "author_id"))
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            (
                "idx_circle_posts_thread",
                &["circle_id", "parent_id", "last_activity_at"][..],
            ),
            ("idx_circle_posts_parent", &["parent_id", "created_at"][..]),
            ("idx_circle_posts_author", &["author_id"][..]),
        ] {
            manager
                .create_index(index(name, "circle_posts", cols))
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table("circle_reports")
                    .col(uuid("post_id"))
                    .col(uuid("reporter_id"))
                    .col(text("reason"))
                    .col(timestamp_with_time_zone("created_at"))
                    .primary_key(Index::create().col("post_id").col("reporter_id"))
                    .foreign_key(
                        &mut ForeignKey::create()
                            .name("fk_circle_reports_post_id")
                            .from("circle_reports", "post_id")
                            .to("circle_posts", "id")
                            .on_delete(ForeignKeyAction::Cascade)
                            .to_owned(),
                    )
                    .foreign_key(&mut user_fk("circle_reports", "reporter_id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("circle_resources")
                    .col(pk_uuid("id"))
                    .col(uuid("circle_id"))
                    .col(uuid_null("added_by"))
                    .col(text("title"))
                    .col(text("url"))
                    .col(text_null("note"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut circle_fk("circle_resources"))
                    .foreign_key(&mut author_fk("circle_resources", "added_by"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_circle_resources",
                "circle_resources",
                &["circle_id", "created_at"],
            ))
            .await?;
        // A meeting, or one of a repeating series (`series_id`), stored in UTC with the
        // organiser's time zone for the invitation.
        manager
            .create_table(
                Table::create()
                    .table("circle_meetings")
                    .col(pk_uuid("id"))
                    .col(uuid("circle_id"))
                    .col(uuid_null("series_id"))
                    .col(uuid_null("organiser_id"))
                    .col(text("title"))
                    .col(timestamp_with_time_zone("starts_at"))
                    .col(integer("duration_minutes"))
                    .col(text("timezone"))
                    .col(text_null("location"))
                    .col(integer("sequence").default(0))
                    .col(boolean("cancelled").default(false))
                    .col(timestamp_with_time_zone_null("reminded_at"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut circle_fk("circle_meetings"))
                    .foreign_key(&mut author_fk("circle_meetings", "organiser_id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_circle_meetings",
                "circle_meetings",
                &["circle_id", "starts_at"],
            ))
            .await?;
        manager
            .create_index(index(
                "idx_circle_meetings_due",
                "circle_meetings",
                &["reminded_at", "starts_at"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("circle_rsvps")
                    .col(uuid("meeting_id"))
                    .col(uuid("user_id"))
                    .col(boolean("attending"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .primary_key(Index::create().col("meeting_id").col("user_id"))
                    .foreign_key(
                        &mut ForeignKey::create()
                            .name("fk_circle_rsvps_meeting_id")
                            .from("circle_rsvps", "meeting_id")
                            .to("circle_meetings", "id")
                            .on_delete(ForeignKeyAction::Cascade)
                            .to_owned(),
                    )
                    .foreign_key(&mut user_fk("circle_rsvps", "user_id"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "circle_rsvps",
            "circle_meetings",
            "circle_resources",
            "circle_reports",
            "circle_posts",
            "circle_rounds",
            "circle_digests",
            "circle_offers",
            "circle_seekers",
            "circle_members",
            "circles",
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table("outbox")
                    .drop_column("calendar")
                    .to_owned(),
            )
            .await?;
        for column in ["circle_digest", "circle_updates"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("notification_prefs")
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
