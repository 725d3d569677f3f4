use sea_orm::entity::prelude::*;

use crate::domain::circle::{MemberRole, MemberStatus};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "circle_members")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub circle_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: Uuid,
    pub role: MemberRole,
    pub status: MemberStatus,
    pub note: Option<String>,
    pub requested_at: DateTimeUtc,
    pub joined_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
