//! What the API shows of a profile: the owner's full view and everyone else's public view.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    cards::{Card, Strings},
    domain::profile::{LocationInput, MentoringInput, Seeking},
    store::profiles::StoredProfile,
};

/// Scores and shares are shown to three decimals: finer digits mean nothing to a person.
pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Place {
    #[schema(example = "Dubbo")]
    pub name: String,
    #[schema(example = "New South Wales")]
    pub region: String,
    /// ISO 3166-1 alpha-2.
    #[schema(example = "AU")]
    pub country_code: String,
}

/// The owner's view of their profile: ProfileInput plus what the service derived.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Profile {
    pub user_id: Uuid,
    pub display_name: String,
    pub profession: String,
    pub populations: Vec<String>,
    pub settings: Vec<String>,
    pub location: LocationInput,
    pub years_experience: i32,
    pub languages: Vec<String>,
    pub interests: Vec<String>,
    pub bio: Option<String>,
    pub timezone: String,
    pub meeting_modes: Vec<String>,
    pub max_travel_km: Option<i32>,
    pub works_alone: bool,
    pub seeking: Seeking,
    pub mentoring: MentoringInput,
    /// The nearest town, found offline from the location.
    pub place: Place,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct PublicMentoring {
    pub offering: bool,
    /// Mentees they can still take.
    pub available_slots: i32,
    pub paused_until: Option<NaiveDate>,
}

/// What other practitioners see: no email, no coordinates, no travel radius, and a distance
/// that is coarse on purpose.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct PublicProfile {
    pub user_id: Uuid,
    pub display_name: String,
    pub profession: String,
    pub populations: Vec<String>,
    pub settings: Vec<String>,
    pub years_experience: i32,
    pub languages: Vec<String>,
    pub interests: Vec<String>,
    pub bio: Option<String>,
    pub timezone: String,
    pub meeting_modes: Vec<String>,
    pub works_alone: bool,
    pub seeking: Seeking,
    pub mentoring: PublicMentoring,
    pub place: Place,
    pub updated_at: DateTime<Utc>,
    /// From the caller, in whole tens of kilometres; null when the caller has no profile.
    pub distance_km: Option<u32>,
}

impl Profile {
    pub fn new(profile: &StoredProfile, display_name: &str) -> Self {
        Card::new(
            profile,
            display_name,
            0,
            profile.row.updated_at,
            &mut Strings::default(),
        )
        .owner()
    }
}
