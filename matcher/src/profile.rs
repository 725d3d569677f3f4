//! The matcher's own view of a practitioner: plain ids and numbers, no storage types.

use crate::geo::LatLon;

/// Identifies a practitioner. The api stores a UUID's 128 bits here, so ordering by id (used
/// to break ties) is the UUID's byte order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PersonId(pub u128);

/// A set of vocabulary ids below [`CodeSet::CAPACITY`] (populations, settings).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct CodeSet(u32);

impl CodeSet {
    /// Controlled lists are short; 32 entries leave room to grow.
    pub const CAPACITY: usize = 32;
    pub const EMPTY: CodeSet = CodeSet(0);

    /// Ids at or above [`CodeSet::CAPACITY`] are ignored; the api rejects unknown codes first.
    pub fn from_ids(ids: impl IntoIterator<Item = u16>) -> Self {
        ids.into_iter()
            .fold(Self::EMPTY, |set, id| set.with(id))
    }

    #[must_use]
    pub fn with(self, id: u16) -> Self {
        match 1u32.checked_shl(u32::from(id)) {
            Some(bit) => CodeSet(self.0 | bit),
            None => self,
        }
    }

    #[must_use]
    pub fn without(self, id: u16) -> Self {
        match 1u32.checked_shl(u32::from(id)) {
            Some(bit) => CodeSet(self.0 & !bit),
            None => self,
        }
    }

    pub fn contains(self, id: u16) -> bool {
        1u32.checked_shl(u32::from(id))
            .is_some_and(|bit| self.0 & bit != 0)
    }

    pub fn len(self) -> u32 {
        self.0.count_ones()
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    #[must_use]
    pub fn intersection(self, other: CodeSet) -> CodeSet {
        CodeSet(self.0 & other.0)
    }

    pub fn ids(self) -> impl Iterator<Item = u16> {
        (0u16..32).filter(move |&id| self.contains(id))
    }

    pub fn bits(self) -> u32 {
        self.0
    }
}

/// Everything the matcher needs to know about one practitioner.
///
/// The api fills this from its rows: vocabulary codes become ids (see
/// [`crate::Vocabulary`]), a paused or full mentor gets `free_mentor_slots = 0`, a suspended
/// or deleted account gets `active = false`, and `utc_offset_minutes` is the current offset of
/// the profile's time zone.
#[derive(Clone, Debug, PartialEq)]
pub struct Profile {
    pub id: PersonId,
    pub profession: u16,
    pub populations: CodeSet,
    pub settings: CodeSet,
    /// Language ids (any `u16`; ids below 64 are checked fastest).
    pub languages: Vec<u16>,
    /// Free tags; compared case-insensitively.
    pub interests: Vec<String>,
    pub location: LatLon,
    pub years_experience: u8,
    pub utc_offset_minutes: i16,
    pub meets_virtually: bool,
    pub meets_in_person: bool,
    pub max_travel_km: u16,
    pub works_alone: bool,
    pub seeking_peers: bool,
    pub seeking_mentor: bool,
    pub offering_mentoring: bool,
    pub free_mentor_slots: u8,
    pub verified: bool,
    pub active: bool,
}

impl Profile {
    /// A verified, active practitioner who meets virtually and seeks nothing yet; tests and
    /// the generator start from this and change what matters to them.
    pub fn new(id: PersonId, profession: u16, location: LatLon) -> Self {
        Self {
            id,
            profession,
            populations: CodeSet::EMPTY,
            settings: CodeSet::EMPTY,
            languages: vec![0],
            interests: Vec::new(),
            location,
            years_experience: 0,
            utc_offset_minutes: 0,
            meets_virtually: true,
            meets_in_person: false,
            max_travel_km: 50,
            works_alone: false,
            seeking_peers: false,
            seeking_mentor: false,
            offering_mentoring: false,
            free_mentor_slots: 0,
            verified: true,
            active: true,
        }
    }

    pub(crate) fn is_open_mentor(&self) -> bool {
        self.offering_mentoring && self.free_mentor_slots > 0
    }
}

/// Flag bits of the packed form.
pub(crate) mod flag {
    pub const ELIGIBLE: u8 = 1;
    pub const SEEKS_PEERS: u8 = 1 << 1;
    pub const SEEKS_MENTOR: u8 = 1 << 2;
    pub const OPEN_MENTOR: u8 = 1 << 3;
    pub const VIRTUAL: u8 = 1 << 4;
    pub const IN_PERSON: u8 = 1 << 5;
    /// Speaks a language whose id does not fit the 64-bit filter; confirm exactly.
    pub const WIDE_LANGUAGES: u8 = 1 << 6;
    pub const WORKS_ALONE: u8 = 1 << 7;
    pub const MODES: u8 = VIRTUAL | IN_PERSON;
}

/// The hot fields of one profile, as scored. Interests and exact languages live with the
/// full profile and are read only for candidates that survive the cheap bound.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Packed {
    pub flags: u8,
    pub years: u8,
    pub tz_quarters: i8,
    pub interest_count: u8,
    pub free_slots: u8,
    pub travel_km: u16,
    pub profession: u16,
    pub populations: u32,
    pub settings: u32,
    pub languages: u64,
    pub interest_sig: u64,
    pub xyz: [f32; 3],
}

/// Interests and languages in the exact form used to confirm a candidate.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Exact {
    /// Hashes of the trimmed, lower-cased tags, sorted and unique.
    pub interests: Vec<u64>,
    /// Sorted and unique.
    pub languages: Vec<u16>,
}

pub(crate) fn normalise_tag(tag: &str) -> String {
    tag.trim().to_lowercase()
}

/// FNV-1a: stable across runs and platforms, unlike the std hasher.
pub(crate) fn tag_hash(tag: &str) -> u64 {
    normalise_tag(tag).bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

pub(crate) fn pack(p: &Profile) -> (Packed, Exact) {
    let mut interests: Vec<u64> = p
        .interests
        .iter()
        .filter(|t| !t.trim().is_empty())
        .map(|t| tag_hash(t))
        .collect();
    interests.sort_unstable();
    interests.dedup();
    let mut languages = p.languages.clone();
    languages.sort_unstable();
    languages.dedup();

    let mut flags = 0;
    let mut set = |cond: bool, bit: u8| {
        if cond {
            flags |= bit;
        }
    };
    set(p.verified && p.active, flag::ELIGIBLE);
    set(p.seeking_peers, flag::SEEKS_PEERS);
    set(p.seeking_mentor, flag::SEEKS_MENTOR);
    set(p.is_open_mentor(), flag::OPEN_MENTOR);
    set(p.meets_virtually, flag::VIRTUAL);
    set(p.meets_in_person, flag::IN_PERSON);
    set(languages.iter().any(|&l| l >= 64), flag::WIDE_LANGUAGES);
    set(p.works_alone, flag::WORKS_ALONE);

    let packed = Packed {
        flags,
        years: p.years_experience,
        tz_quarters: (p.utc_offset_minutes / 15).clamp(-56, 56) as i8,
        interest_count: u8::try_from(interests.len()).unwrap_or(u8::MAX),
        free_slots: p.free_mentor_slots,
        travel_km: p.max_travel_km,
        profession: p.profession,
        populations: p.populations.bits(),
        settings: p.settings.bits(),
        languages: languages.iter().fold(0u64, |acc, &l| acc | 1u64 << (l % 64)),
        interest_sig: interests.iter().fold(0u64, |acc, &h| acc | 1u64 << (h % 64)),
        xyz: p.location.unit(),
    };
    (packed, Exact { interests, languages })
}

/// Size of two sorted, unique lists' intersection.
pub(crate) fn sorted_overlap<T: Ord>(a: &[T], b: &[T]) -> usize {
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                n += 1;
                i += 1;
                j += 1;
            }
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_sets_ignore_ids_out_of_range() {
        let s = CodeSet::from_ids([0, 3, 31, 32, 400]);
        assert_eq!(s.ids().collect::<Vec<_>>(), vec![0, 3, 31]);
        assert!(!s.contains(32));
        assert_eq!(s.without(3).len(), 2);
    }

    #[test]
    fn tags_compare_case_insensitively() {
        assert_eq!(tag_hash(" Sensory Processing"), tag_hash("sensory processing"));
        assert_ne!(tag_hash("falls"), tag_hash("fall"));
    }

    #[test]
    fn overlap_counts_common_items() {
        assert_eq!(sorted_overlap(&[1, 3, 5, 7], &[3, 4, 5]), 2);
        assert_eq!(sorted_overlap::<u8>(&[], &[1]), 0);
    }
}
