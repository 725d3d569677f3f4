use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub email: String,
    #[sea_orm(unique)]
    pub email_normalized: String,
    pub password_hash: String,
    pub display_name: String,
    pub email_verified: bool,
    pub role: crate::domain::role::Role,
    pub suspended: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// When they last signed in, refreshed their session or answered a request.
    pub last_active_at: Option<DateTimeUtc>,
    /// A mentor away for longer than `mentor_dormant_after`: left out of suggestions and
    /// rounds until they return.
    pub dormant: bool,
    /// Mentorship requests to them that expired unanswered since they last answered one.
    pub unanswered_expiries: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
