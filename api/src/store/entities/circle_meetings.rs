use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "circle_meetings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub circle_id: Uuid,
    pub series_id: Option<Uuid>,
    pub organiser_id: Option<Uuid>,
    pub title: String,
    pub starts_at: DateTimeUtc,
    pub duration_minutes: i32,
    /// The organiser's IANA time zone, named in the invitation.
    pub timezone: String,
    pub location: Option<String>,
    pub sequence: i32,
    pub cancelled: bool,
    pub reminded_at: Option<DateTimeUtc>,
    /// When a member said it took place.
    pub held_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
