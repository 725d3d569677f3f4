//! Shared builders and an independent statement of the hard rules, written from the spec
//! rather than from the matcher's internals.

#![allow(dead_code)]

use matcher::{CodeSet, Kind, LatLon, PersonId, Profile};
use proptest::prelude::*;

pub const OT: u16 = 0;
pub const ADULTS: u16 = 2;
pub const OLDER_ADULTS: u16 = 3;
pub const COMMUNITY: u16 = 0;
pub const HOME_VISITS: u16 = 1;
pub const SCHOOL: u16 = 7;
pub const PAEDIATRICS: u16 = 0;

/// A point `km` east of a fixed spot in regional New South Wales.
pub fn east_of_base(km: f64) -> LatLon {
    let lat: f64 = -33.0;
    LatLon::new(lat, 148.0 + km / (111.195 * lat.to_radians().cos()))
}

pub fn ot(id: u128, km_east: f64) -> Profile {
    let mut p = Profile::new(PersonId(id), OT, east_of_base(km_east));
    p.populations = CodeSet::from_ids([OLDER_ADULTS]);
    p.settings = CodeSet::from_ids([COMMUNITY]);
    p.years_experience = 6;
    p.utc_offset_minutes = 600;
    p.meets_in_person = true;
    p.max_travel_km = 100;
    p.seeking_peers = true;
    p
}

fn haversine_km(a: LatLon, b: LatLon) -> f64 {
    let (la, lb) = (a.lat.to_radians(), b.lat.to_radians());
    let dlat = lb - la;
    let dlon = (b.lon - a.lon).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + la.cos() * lb.cos() * (dlon / 2.0).sin().powi(2);
    2.0 * 6371.0 * h.sqrt().asin()
}

/// Every hard rule of matching.md §1 that depends on the two profiles. Distances within a
/// metre of a limit are not judged, since either rounding is acceptable there.
pub fn obeys_hard_rules(seeker: &Profile, candidate: &Profile, kind: Kind) -> bool {
    let shares_language = seeker
        .languages
        .iter()
        .any(|l| candidate.languages.contains(l));
    let kind_fits = match kind {
        Kind::Peer => candidate.seeking_peers,
        Kind::Mentor => {
            seeker.seeking_mentor
                && candidate.offering_mentoring
                && candidate.free_mentor_slots > 0
                && candidate.years_experience >= seeker.years_experience
        }
    };
    let shares_mode = (seeker.meets_virtually && candidate.meets_virtually)
        || (seeker.meets_in_person && candidate.meets_in_person);
    let only_in_person = |p: &Profile| p.meets_in_person && !p.meets_virtually;
    let within_travel = if only_in_person(seeker) && only_in_person(candidate) {
        let d = haversine_km(seeker.location, candidate.location);
        let limit = f64::from(seeker.max_travel_km.min(candidate.max_travel_km));
        d <= limit + 0.001
    } else {
        true
    };
    seeker.id != candidate.id
        && seeker.verified
        && seeker.active
        && candidate.verified
        && candidate.active
        && shares_language
        && kind_fits
        && shares_mode
        && within_travel
}

pub fn strict_in_person_violation(seeker: &Profile, candidate: &Profile) -> bool {
    let only_in_person = |p: &Profile| p.meets_in_person && !p.meets_virtually;
    if !(only_in_person(seeker) && only_in_person(candidate)) {
        return false;
    }
    let d = haversine_km(seeker.location, candidate.location);
    d > f64::from(seeker.max_travel_km.min(candidate.max_travel_km)) + 0.001
}

const TAGS: &[&str] = &[
    "Dementia",
    "dementia ",
    "falls",
    "AAC",
    "splinting",
    "NDIS",
    "research",
];

prop_compose! {
    /// A practitioner somewhere in a 150 km square, with small vocabularies so that
    /// overlaps, ties and every hard rule come up often.
    pub fn profile(id: u128)(
        profession in 0u16..3,
        populations in proptest::collection::vec(0u16..5, 1..4),
        settings in proptest::collection::vec(0u16..5, 1..3),
        languages in proptest::collection::vec(prop_oneof![8 => 0u16..3, 1 => Just(70u16)], 1..3),
        interests in proptest::sample::subsequence(TAGS, 0..4),
        lat in -34.0f64..-32.7,
        lon in 150.0f64..151.6,
        years in 0u8..40,
        tz in prop_oneof![Just(600i16), Just(570), Just(480), Just(720)],
        modes in 1u8..4,
        max_travel_km in prop_oneof![Just(0u16), 1u16..200],
        flags in proptest::collection::vec(any::<bool>(), 5),
        free_mentor_slots in 0u8..3,
        verified in prop::bool::weighted(0.9),
        active in prop::bool::weighted(0.95),
    ) -> Profile {
        let mut p = Profile::new(PersonId(id), profession, LatLon::new(lat, lon));
        p.populations = CodeSet::from_ids(populations);
        p.settings = CodeSet::from_ids(settings);
        p.languages = languages;
        p.interests = interests.into_iter().map(Into::into).collect();
        p.years_experience = years;
        p.utc_offset_minutes = tz;
        p.meets_virtually = modes & 1 != 0;
        p.meets_in_person = modes & 2 != 0;
        p.max_travel_km = max_travel_km;
        p.works_alone = flags[0];
        p.seeking_peers = flags[1];
        p.seeking_mentor = flags[2];
        p.offering_mentoring = flags[3];
        p.free_mentor_slots = free_mentor_slots;
        p.verified = verified;
        p.active = active;
        p
    }
}

/// `n` profiles with ids 1..=n.
pub fn population(n: usize) -> impl Strategy<Value = Vec<Profile>> {
    (1..=n as u128).map(profile).collect::<Vec<_>>()
}
