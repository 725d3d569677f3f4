use sea_orm::entity::prelude::*;

use crate::domain::follow_through::MeetingStatus;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "connection_meetings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub connection_id: Uuid,
    pub proposer_id: Uuid,
    pub title: String,
    /// The proposed start times, UTC, as a JSON list.
    pub options: Json,
    /// The time the other side picked.
    pub starts_at: Option<DateTimeUtc>,
    pub duration_minutes: i32,
    /// The proposer's IANA time zone, in which the invitation is written.
    pub timezone: String,
    /// Where, or the video link (free text).
    pub location: Option<String>,
    pub status: MeetingStatus,
    /// The invitation's `SEQUENCE`: goes up with every change sent.
    pub sequence: i32,
    pub reminded_at: Option<DateTimeUtc>,
    pub held_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
