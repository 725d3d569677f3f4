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
        ids.into_iter().fold(Self::EMPTY, |set, id| set.with(id))
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
    /// Free tags; compared case-insensitively. Shared, since many people give the same.
    pub interests: Vec<std::sync::Arc<str>>,
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
    pub interests: Hashes,
    /// Sorted and unique; kept only when some id does not fit the 64-bit filter, since
    /// otherwise the filter is exact.
    pub languages: Vec<u16>,
}

impl Exact {
    /// Whether two people share a language, exactly, given that their filters intersect.
    pub fn share_language(a: &Packed, ax: &Exact, b: &Packed, bx: &Exact) -> bool {
        let wide = |p: &Packed| p.flags & flag::WIDE_LANGUAGES != 0;
        let in_filter = |p: &Packed, id: u16| id < 64 && p.languages & (1u64 << id) != 0;
        match (wide(a), wide(b)) {
            (false, false) => a.languages & b.languages != 0,
            (true, false) => ax.languages.iter().any(|&l| in_filter(b, l)),
            (false, true) => bx.languages.iter().any(|&l| in_filter(a, l)),
            (true, true) => sorted_overlap(&ax.languages, &bx.languages) > 0,
        }
    }
}

/// A short sorted list of tag hashes, kept inline when it fits so that building an index of
/// a million profiles does not make a million small allocations.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Hashes {
    Inline(u8, [u64; 4]),
    Spilled(Box<[u64]>),
}

impl Default for Hashes {
    fn default() -> Self {
        Hashes::Inline(0, [0; 4])
    }
}

impl Hashes {
    pub fn as_slice(&self) -> &[u64] {
        match self {
            Hashes::Inline(len, items) => &items[..usize::from(*len).min(4)],
            Hashes::Spilled(items) => items,
        }
    }

    /// Sorts and removes duplicates.
    fn from_unsorted(mut items: impl Iterator<Item = u64>) -> Self {
        let mut inline = [0u64; 4];
        let mut len = 0;
        for h in items.by_ref() {
            if len == 4 {
                let mut all: Vec<u64> = inline.iter().copied().chain([h]).chain(items).collect();
                all.sort_unstable();
                all.dedup();
                return Hashes::Spilled(all.into_boxed_slice());
            }
            inline[len] = h;
            len += 1;
        }
        let used = &mut inline[..len];
        used.sort_unstable();
        let mut unique = 0;
        for i in 0..len {
            if i == 0 || inline[i] != inline[unique - 1] {
                inline[unique] = inline[i];
                unique += 1;
            }
        }
        Hashes::Inline(unique as u8, inline)
    }
}

/// A stable 64-bit hash of the trimmed, lower-cased tag (unlike the std hasher, the same on
/// every run and platform). ASCII tags, nearly all of them, are trimmed and lower-cased
/// eight bytes at a time without allocating.
pub(crate) fn tag_hash(tag: &str) -> u64 {
    trimmed_tag_hash(tag).unwrap_or_else(|| hash_bytes(&[], |w| w))
}

/// [`tag_hash`], or `None` when nothing is left after trimming.
fn trimmed_tag_hash(tag: &str) -> Option<u64> {
    if tag.is_ascii() {
        // The ASCII characters `str::trim` removes: space and \t, \n, \x0B, \x0C, \r.
        let bytes = tag.as_bytes().trim_ascii_start().trim_ascii_end();
        let bytes = trim_vertical_tabs(bytes);
        (!bytes.is_empty()).then(|| hash_bytes(bytes, ascii_lowercase_word))
    } else {
        let tag = tag.trim();
        (!tag.is_empty()).then(|| hash_bytes(tag.to_lowercase().as_bytes(), |w| w))
    }
}

/// Vertical tabs are whitespace to `str::trim` but not to `trim_ascii`; rare enough that the
/// plain trim runs again only when one is found at either end.
fn trim_vertical_tabs(bytes: &[u8]) -> &[u8] {
    const VT: u8 = 0x0B;
    if bytes.first() == Some(&VT) || bytes.last() == Some(&VT) {
        let mut rest = bytes;
        while let [first, tail @ ..] = rest {
            if !(first.is_ascii_whitespace() || *first == VT) {
                break;
            }
            rest = tail;
        }
        while let [head @ .., last] = rest {
            if !(last.is_ascii_whitespace() || *last == VT) {
                break;
            }
            rest = head;
        }
        rest
    } else {
        bytes
    }
}

/// Adds 0x20 to every byte from `A` to `Z` in a word of ASCII bytes.
fn ascii_lowercase_word(w: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let at_least_a = w + ONES * (0x80 - u64::from(b'A'));
    let past_z = w + ONES * (0x80 - u64::from(b'Z') - 1);
    let upper = at_least_a & !past_z & (ONES * 0x80);
    w | (upper >> 2)
}

fn hash_bytes(bytes: &[u8], normalise: impl Fn(u64) -> u64) -> u64 {
    let mix = |h: u64, w: u64| (h.rotate_left(5) ^ w).wrapping_mul(0x517c_c1b7_2722_0a95);
    let mut h = 0x9e37_79b9_7f4a_7c15 ^ bytes.len() as u64;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        h = mix(h, normalise(u64::from_le_bytes(word)));
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        // Assembled byte by byte: copying a few bytes into a word and reading it back costs
        // a library call and a stalled load, which showed in building large indexes.
        let word = rest
            .iter()
            .rev()
            .fold(0u64, |w, &b| (w << 8) | u64::from(b));
        h = mix(h, normalise(word));
    }
    // The signature uses the low bits, so spread every input bit into them.
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

pub(crate) fn pack(p: &Profile) -> (Packed, Exact) {
    let interests = Hashes::from_unsorted(p.interests.iter().filter_map(|t| trimmed_tag_hash(t)));
    let wide = p.languages.iter().any(|&l| l >= 64);
    let mut languages = if wide {
        p.languages.clone()
    } else {
        Vec::new()
    };
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
    set(wide, flag::WIDE_LANGUAGES);
    set(p.works_alone, flag::WORKS_ALONE);

    let packed = Packed {
        flags,
        years: p.years_experience,
        tz_quarters: (p.utc_offset_minutes / 15).clamp(-56, 56) as i8,
        interest_count: u8::try_from(interests.as_slice().len()).unwrap_or(u8::MAX),
        travel_km: p.max_travel_km,
        profession: p.profession,
        populations: p.populations.bits(),
        settings: p.settings.bits(),
        languages: p
            .languages
            .iter()
            .fold(0u64, |acc, &l| acc | 1u64 << (l % 64)),
        interest_sig: interest_signature(interests.as_slice()),
        xyz: p.location.unit(),
    };
    (
        packed,
        Exact {
            interests,
            languages,
        },
    )
}

/// One bit per tag. When two of a person's own tags share a bit, every bit is set instead,
/// so that the common bits of two signatures never undercount the common tags.
fn interest_signature(hashes: &[u64]) -> u64 {
    let sig = hashes.iter().fold(0u64, |acc, &h| acc | 1u64 << (h % 64));
    if sig.count_ones() as usize == hashes.len() {
        sig
    } else {
        u64::MAX
    }
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
        assert_eq!(
            tag_hash(" Sensory Processing"),
            tag_hash("sensory processing")
        );
        assert_ne!(tag_hash("falls"), tag_hash("fall"));
        assert_eq!(
            tag_hash("Wheelchair SEATING"),
            tag_hash("wheelchair seating")
        );
        assert_eq!(tag_hash("\u{212A}nee"), tag_hash("knee"));
        assert_eq!(tag_hash("Éducation"), tag_hash("éducation"));
        assert_ne!(tag_hash("@[`{"), tag_hash("`{@["));
        for padded in [
            "\x0B falls\t",
            "\r\nfalls \x0C",
            "falls\x0B",
            "\u{a0}falls ",
        ] {
            assert_eq!(tag_hash(padded), tag_hash("falls"), "{padded:?}");
        }
        assert_eq!(tag_hash(" \x0B "), tag_hash(""));
    }

    #[test]
    fn hash_lists_are_sorted_and_unique_inline_or_not() {
        let short = Hashes::from_unsorted([9, 3, 9, 1].into_iter());
        assert_eq!(short.as_slice(), &[1, 3, 9]);
        assert!(matches!(short, Hashes::Inline(..)));
        let long = Hashes::from_unsorted([5, 4, 3, 2, 1, 1].into_iter());
        assert_eq!(long.as_slice(), &[1, 2, 3, 4, 5]);
        assert_eq!(Hashes::default().as_slice(), &[] as &[u64]);
    }

    #[test]
    fn overlap_counts_common_items() {
        assert_eq!(sorted_overlap(&[1, 3, 5, 7], &[3, 4, 5]), 2);
        assert_eq!(sorted_overlap::<u8>(&[], &[1]), 0);
    }
}
