use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "log_entries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub occurred_on: Date,
    pub minutes: i32,
    /// A [`crate::domain::log::ActivityKind`] code.
    pub kind: crate::domain::log::ActivityKind,
    pub title: String,
    pub reflection: Option<String>,
    pub connection_id: Option<Uuid>,
    pub circle_id: Option<Uuid>,
    pub circle_meeting_id: Option<Uuid>,
    /// Made from a held meeting; counts once its owner confirms it.
    pub draft: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
