use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Each profile keeps its tags in one column as well (`kind␟position␟code`, joined by `␞`),
/// written with the `profile_tags` rows: loading everyone reads one row per practitioner
/// instead of looking up their tags one practitioner at a time. `profile_tags` stays the
/// table the filters search.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("profiles")
                    .add_column(text("tag_list").default(""))
                    .to_owned(),
            )
            .await?;
        let aggregate = match manager.get_database_backend() {
            sea_orm::DbBackend::Postgres => {
                "string_agg(t.kind || chr(31) || t.position || chr(31) || t.code, chr(30) \
                 ORDER BY t.kind, t.position)"
            }
            _ => "group_concat(t.kind || char(31) || t.position || char(31) || t.code, char(30))",
        };
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "UPDATE profiles SET tag_list = COALESCE((SELECT {aggregate} FROM profile_tags t \
                 WHERE t.user_id = profiles.user_id), '')"
            ))
            .await
            .map(drop)
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("profiles")
                    .drop_column("tag_list")
                    .to_owned(),
            )
            .await
    }
}
