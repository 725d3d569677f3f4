use sea_orm::entity::prelude::*;

use crate::domain::follow_through::AgreementStatus;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "agreements")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub connection_id: Uuid,
    /// `[{text, done}]`.
    pub goals: Json,
    pub cadence: String,
    pub duration_months: i32,
    pub mode: String,
    pub confidentiality: Option<String>,
    pub status: AgreementStatus,
    pub proposed_by: Uuid,
    pub accepted_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
