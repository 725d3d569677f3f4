//! The read model: what the API shows of each practitioner, kept in memory beside their
//! matching entry and refreshed by the same change feed, so that suggestions, the directory
//! and `GET /me` are answered without reading profiles back from the database. Repeated
//! strings (codes, time zones, towns, interests) are shared, so a million cards stay small.

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
};

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::{
    domain::profile::{LocationInput, MentoringInput, Seeking},
    privacy,
    store::profiles::StoredProfile,
    views::{Place, Profile, PublicMentoring, PublicProfile},
};

/// One practitioner as shown: their profile, their name and how many mentees they have.
#[derive(Debug)]
pub struct Card {
    pub user_id: Uuid,
    pub display_name: Box<str>,
    pub profession: Arc<str>,
    /// Populations, settings, languages and interests, one list after another in one
    /// allocation (a million cards hold four million lists otherwise); `tag_ends` marks
    /// where the first three end.
    tags: Box<[Arc<str>]>,
    tag_ends: [u16; 3],
    pub bio: Option<Box<str>>,
    pub timezone: Arc<str>,
    pub latitude: f64,
    pub longitude: f64,
    pub years_experience: i32,
    pub max_travel_km: Option<i32>,
    pub meets_virtual: bool,
    pub meets_in_person: bool,
    pub works_alone: bool,
    pub seeking_peers: bool,
    pub seeking_mentor: bool,
    pub mentoring_offering: bool,
    pub mentoring_capacity: i32,
    pub mentoring_paused_until: Option<NaiveDate>,
    pub accepted_mentees: u32,
    pub place_name: Arc<str>,
    pub place_region: Arc<str>,
    pub place_country_code: Arc<str>,
    pub updated_at: DateTime<Utc>,
    /// The account row's `updated_at` when this card was read: a newer account row (a
    /// profile save, a verification, a suspension) means the card is behind.
    pub account_updated_at: DateTime<Utc>,
    /// Whether the account was suspended when this card was read.
    pub suspended: bool,
}

/// Shares one allocation among equal strings.
#[derive(Default)]
pub struct Interner(Mutex<HashSet<Arc<str>>>);

impl Interner {
    pub fn get(&self, text: &str) -> Arc<str> {
        let Ok(mut known) = self.0.lock() else {
            return Arc::from(text);
        };
        if let Some(found) = known.get(text) {
            return found.clone();
        }
        let shared: Arc<str> = Arc::from(text);
        known.insert(shared.clone());
        shared
    }

    /// The strings of one batch of work (a page of profiles), each looked up in this set
    /// once: converting pages on several threads at once then takes the set's lock once a
    /// distinct string, not once a use.
    pub fn batch(&self) -> Strings<'_> {
        Strings {
            shared: Some(self),
            seen: HashSet::new(),
        }
    }
}

/// See [`Interner::batch`]; `Strings::default()` shares strings within itself alone (cards
/// made for one response).
#[derive(Default)]
pub struct Strings<'a> {
    shared: Option<&'a Interner>,
    seen: HashSet<Arc<str>>,
}

impl Strings<'_> {
    pub fn get(&mut self, text: &str) -> Arc<str> {
        if let Some(found) = self.seen.get(text) {
            return found.clone();
        }
        let shared = self.shared.map_or_else(|| Arc::from(text), |s| s.get(text));
        self.seen.insert(shared.clone());
        shared
    }
}

fn strings(list: &[Arc<str>]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

impl Card {
    pub fn new(
        stored: &StoredProfile,
        display_name: &str,
        accepted_mentees: u64,
        account_updated_at: DateTime<Utc>,
        strings: &mut Strings<'_>,
    ) -> Self {
        let row = &stored.row;
        let lists = [
            &stored.populations,
            &stored.settings,
            &stored.languages,
            &stored.interests,
        ];
        let mut tag_ends = [0u16; 3];
        let mut end = 0;
        for (list, at) in lists.iter().zip(tag_ends.iter_mut()) {
            end += list.len();
            *at = u16::try_from(end).unwrap_or(u16::MAX);
        }
        let tags = lists
            .iter()
            .flat_map(|l| l.iter())
            .map(|t| strings.get(t))
            .collect();
        Self {
            user_id: row.user_id,
            display_name: display_name.into(),
            profession: strings.get(&row.profession),
            tags,
            tag_ends,
            bio: row.bio.as_deref().map(Into::into),
            timezone: strings.get(&row.timezone),
            latitude: row.latitude,
            longitude: row.longitude,
            years_experience: row.years_experience,
            max_travel_km: row.max_travel_km,
            meets_virtual: row.meets_virtual,
            meets_in_person: row.meets_in_person,
            works_alone: row.works_alone,
            seeking_peers: row.seeking_peers,
            seeking_mentor: row.seeking_mentor,
            mentoring_offering: row.mentoring_offering,
            mentoring_capacity: row.mentoring_capacity,
            mentoring_paused_until: row.mentoring_paused_until,
            accepted_mentees: u32::try_from(accepted_mentees).unwrap_or(u32::MAX),
            place_name: strings.get(&row.place_name),
            place_region: strings.get(&row.place_region),
            place_country_code: strings.get(&row.place_country_code),
            updated_at: row.updated_at,
            account_updated_at,
            suspended: false,
        }
    }

    /// The `n`th of the four lists in `tags`.
    fn tags_in(&self, n: usize) -> &[Arc<str>] {
        let start = n
            .checked_sub(1)
            .map_or(0, |i| usize::from(self.tag_ends[i]));
        let end = self
            .tag_ends
            .get(n)
            .map_or(self.tags.len(), |&e| usize::from(e));
        self.tags.get(start..end).unwrap_or_default()
    }

    pub fn populations(&self) -> &[Arc<str>] {
        self.tags_in(0)
    }

    pub fn settings(&self) -> &[Arc<str>] {
        self.tags_in(1)
    }

    pub fn languages(&self) -> &[Arc<str>] {
        self.tags_in(2)
    }

    pub fn interests(&self) -> &[Arc<str>] {
        self.tags_in(3)
    }

    /// Mentees they can still take: capacity less accepted mentees.
    pub fn available_slots(&self) -> i32 {
        let taken = i32::try_from(self.accepted_mentees).unwrap_or(i32::MAX);
        (self.mentoring_capacity - taken).max(0)
    }

    pub fn location(&self) -> (f64, f64) {
        (self.latitude, self.longitude)
    }

    fn meeting_modes(&self) -> Vec<String> {
        let mut modes = Vec::new();
        if self.meets_virtual {
            modes.push("virtual".to_owned());
        }
        if self.meets_in_person {
            modes.push("in_person".to_owned());
        }
        modes
    }

    fn place(&self) -> Place {
        Place {
            name: self.place_name.to_string(),
            region: self.place_region.to_string(),
            country_code: self.place_country_code.to_string(),
        }
    }

    fn seeking(&self) -> Seeking {
        Seeking {
            peers: self.seeking_peers,
            mentor: self.seeking_mentor,
        }
    }

    /// What another practitioner sees; `viewer` is where the viewer is, when they have a
    /// profile, for the coarse distance.
    pub fn public(&self, viewer: Option<(f64, f64)>) -> PublicProfile {
        PublicProfile {
            user_id: self.user_id,
            display_name: self.display_name.to_string(),
            profession: self.profession.to_string(),
            populations: strings(self.populations()),
            settings: strings(self.settings()),
            years_experience: self.years_experience,
            languages: strings(self.languages()),
            interests: strings(self.interests()),
            bio: self.bio.as_deref().map(str::to_owned),
            timezone: self.timezone.to_string(),
            meeting_modes: self.meeting_modes(),
            works_alone: self.works_alone,
            seeking: self.seeking(),
            mentoring: PublicMentoring {
                offering: self.mentoring_offering,
                available_slots: self.available_slots(),
                paused_until: self.mentoring_paused_until,
            },
            place: self.place(),
            updated_at: self.updated_at,
            distance_km: viewer.map(|at| privacy::public_distance_km(at, self.location())),
        }
    }

    /// The owner's own view.
    pub fn owner(&self) -> Profile {
        Profile {
            user_id: self.user_id,
            display_name: self.display_name.to_string(),
            profession: self.profession.to_string(),
            populations: strings(self.populations()),
            settings: strings(self.settings()),
            location: LocationInput {
                latitude: self.latitude,
                longitude: self.longitude,
            },
            years_experience: self.years_experience,
            languages: strings(self.languages()),
            interests: strings(self.interests()),
            bio: self.bio.as_deref().map(str::to_owned),
            timezone: self.timezone.to_string(),
            meeting_modes: self.meeting_modes(),
            max_travel_km: self.max_travel_km,
            works_alone: self.works_alone,
            seeking: self.seeking(),
            mentoring: MentoringInput {
                offering: self.mentoring_offering,
                capacity: i64::from(self.mentoring_capacity),
                paused_until: self.mentoring_paused_until.map(|d| d.to_string()),
            },
            place: self.place(),
            updated_at: self.updated_at,
        }
    }
}
