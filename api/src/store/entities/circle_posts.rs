use sea_orm::entity::prelude::*;

use crate::domain::circle::PostKind;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "circle_posts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub circle_id: Uuid,
    pub parent_id: Option<Uuid>,
    /// None once the author's account is erased.
    pub author_id: Option<Uuid>,
    pub kind: PostKind,
    pub title: Option<String>,
    pub body: String,
    /// A case study's guiding questions (a JSON array of strings).
    pub questions: Json,
    pub pinned: bool,
    pub hidden: bool,
    /// Deleted by its author (or erased with them): the text is gone, replies stay.
    pub removed: bool,
    pub replies: i32,
    pub created_at: DateTimeUtc,
    pub edited_at: Option<DateTimeUtc>,
    pub last_activity_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
