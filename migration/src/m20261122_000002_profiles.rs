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
                    .table("profiles")
                    .col(uuid("user_id").primary_key())
                    .col(text("profession"))
                    .col(double("latitude"))
                    .col(double("longitude"))
                    .col(integer("years_experience"))
                    .col(text_null("bio"))
                    .col(text("timezone"))
                    .col(boolean("meets_virtual"))
                    .col(boolean("meets_in_person"))
                    .col(integer_null("max_travel_km"))
                    .col(boolean("works_alone"))
                    .col(boolean("seeking_peers"))
                    .col(boolean("seeking_mentor"))
                    .col(boolean("mentoring_offering"))
                    .col(integer("mentoring_capacity"))
                    .col(date_null("mentoring_paused_until"))
                    .col(text("place_name"))
                    .col(text("place_region"))
                    .col(text("place_country_code"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut user_fk("profiles", "user_id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_profiles_lat_lon",
                "profiles",
                &["latitude", "longitude"],
            ))
            .await?;
        manager
            .create_index(index(
                "idx_profiles_profession_lat",
                "profiles",
                &["profession", "latitude"],
            ))
            .await?;
        manager
            .create_index(index(
                "idx_profiles_updated_at",
                "profiles",
                &["updated_at"],
            ))
            .await?;

        // Populations, settings, languages and interests, one row each, so that "everyone
        // with population X" is an index lookup on both engines. (No query came to ask
        // that: `m20261207_000002_unread_indexes` drops the lookup index again.)
        manager
            .create_table(
                Table::create()
                    .table("profile_tags")
                    .col(uuid("user_id"))
                    .col(text("kind").check(Expr::col("kind").is_in([
                        "population",
                        "setting",
                        "language",
                        "interest",
                    ])))
                    .col(text("code"))
                    .col(integer("position"))
                    .primary_key(Index::create().col("user_id").col("kind").col("code"))
                    .foreign_key(&mut user_fk("profile_tags", "user_id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_profile_tags_lookup",
                "profile_tags",
                &["kind", "code", "user_id"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("location_changes")
                    .col(pk_uuid("id"))
                    .col(uuid("user_id"))
                    .col(timestamp_with_time_zone("changed_at"))
                    .foreign_key(&mut user_fk("location_changes", "user_id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_location_changes_user",
                "location_changes",
                &["user_id", "changed_at"],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["location_changes", "profile_tags", "profiles"] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
