use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "profiles")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: Uuid,
    pub profession: String,
    pub latitude: f64,
    pub longitude: f64,
    pub years_experience: i32,
    pub bio: Option<String>,
    pub timezone: String,
    pub meets_virtual: bool,
    pub meets_in_person: bool,
    pub max_travel_km: Option<i32>,
    pub works_alone: bool,
    pub seeking_peers: bool,
    pub seeking_mentor: bool,
    pub mentoring_offering: bool,
    pub mentoring_capacity: i32,
    pub mentoring_paused_until: Option<Date>,
    pub place_name: String,
    pub place_region: String,
    pub place_country_code: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// The tags of `profile_tags`, in one column for bulk reading (see
    /// `store::profiles::tag_list`).
    pub tag_list: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
