//! What the API shows of a profile: the owner's full view and everyone else's public view.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    domain::profile::{LocationInput, MentoringInput, Seeking},
    privacy,
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

fn meeting_modes(profile: &StoredProfile) -> Vec<String> {
    let mut modes = Vec::new();
    if profile.row.meets_virtual {
        modes.push("virtual".to_owned());
    }
    if profile.row.meets_in_person {
        modes.push("in_person".to_owned());
    }
    modes
}

fn place(profile: &StoredProfile) -> Place {
    Place {
        name: profile.row.place_name.clone(),
        region: profile.row.place_region.clone(),
        country_code: profile.row.place_country_code.clone(),
    }
}

impl Profile {
    pub fn new(profile: &StoredProfile, display_name: &str) -> Self {
        let row = &profile.row;
        Self {
            user_id: row.user_id,
            display_name: display_name.to_owned(),
            profession: row.profession.clone(),
            populations: profile.populations.clone(),
            settings: profile.settings.clone(),
            location: LocationInput {
                latitude: row.latitude,
                longitude: row.longitude,
            },
            years_experience: row.years_experience,
            languages: profile.languages.clone(),
            interests: profile.interests.clone(),
            bio: row.bio.clone(),
            timezone: row.timezone.clone(),
            meeting_modes: meeting_modes(profile),
            max_travel_km: row.max_travel_km,
            works_alone: row.works_alone,
            seeking: Seeking {
                peers: row.seeking_peers,
                mentor: row.seeking_mentor,
            },
            mentoring: MentoringInput {
                offering: row.mentoring_offering,
                capacity: i64::from(row.mentoring_capacity),
                paused_until: row.mentoring_paused_until.map(|d| d.to_string()),
            },
            place: place(profile),
            updated_at: row.updated_at,
        }
    }
}

impl PublicProfile {
    /// `viewer` is the caller's own profile, if they have one, for the distance.
    pub fn new(
        profile: &StoredProfile,
        display_name: &str,
        viewer: Option<&StoredProfile>,
        available_slots: i32,
    ) -> Self {
        let row = &profile.row;
        Self {
            user_id: row.user_id,
            display_name: display_name.to_owned(),
            profession: row.profession.clone(),
            populations: profile.populations.clone(),
            settings: profile.settings.clone(),
            years_experience: row.years_experience,
            languages: profile.languages.clone(),
            interests: profile.interests.clone(),
            bio: row.bio.clone(),
            timezone: row.timezone.clone(),
            meeting_modes: meeting_modes(profile),
            works_alone: row.works_alone,
            seeking: Seeking {
                peers: row.seeking_peers,
                mentor: row.seeking_mentor,
            },
            mentoring: PublicMentoring {
                offering: row.mentoring_offering,
                available_slots: available_slots.max(0),
                paused_until: row.mentoring_paused_until,
            },
            place: place(profile),
            updated_at: row.updated_at,
            distance_km: viewer.map(|v| {
                privacy::public_distance_km(
                    (v.row.latitude, v.row.longitude),
                    (row.latitude, row.longitude),
                )
            }),
        }
    }
}
