use sea_orm::entity::prelude::*;

use crate::domain::circle::{Admission, CircleState};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "circles")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub domain: String,
    pub cap: i32,
    pub state: CircleState,
    pub admission: Admission,
    pub closed_reason: Option<String>,
    pub profession: String,
    pub utc_offset_minutes: i32,
    /// The centre of a grid cell (see `privacy::snap`), never anyone's own position.
    pub anchor_latitude: f64,
    pub anchor_longitude: f64,
    pub round_id: Option<Uuid>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub last_activity_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
