//! The in-memory index: top-k suggestions, radius queries and incremental updates (§3).
//!
//! This file holds the layout (profiles grouped into buckets of rows that share the parts of
//! the score a query can bound at once) and the bulk build; `update` holds changes to one
//! profile, `query` the queries, and `flat` the row-by-row search of a round's candidates.

mod flat;
mod query;
mod update;
pub(crate) use flat::Flat;
pub(crate) use query::Query;

use crate::geo::{arc_km, chord2, chord2_for_km, LatLon, EARTH_RADIUS_KM};
use crate::hash::{FastMap, SlotTable};
use crate::profile::{flag, pack, Exact, Packed, PersonId, Profile};
use crate::score::{
    combine, interest_bound, jaccard_bits, nearness_at, time_zone_closeness, Explanation, Kind,
    Scorer, ScoringConfig,
};
use crate::spatial::{cells_near, Grid, GridFill, GridPoint};
use crate::vocab::Vocabulary;

/// Hard rules that need state the matcher does not hold: blocks, suspensions recorded
/// elsewhere, pending or accepted connections, pairs declined in the last 90 days.
/// Called as `exclude(seeker, candidate)`; `true` removes the candidate.
pub type Exclusion<'a> = &'a (dyn Fn(PersonId, PersonId) -> bool + Sync);

/// Excludes nobody.
pub fn no_exclusions(_: PersonId, _: PersonId) -> bool {
    false
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Suggestion {
    pub id: PersonId,
    pub score: f32,
}

/// One result of [`Index::within`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Nearby {
    pub id: PersonId,
    /// Exact; round with [`crate::rounded_to_10_km`] before showing it to anyone.
    pub distance_km: f32,
}

/// Where a profile's row lives: group, bucket within the group, row within the bucket.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct RowRef {
    group: u32,
    bucket: u32,
    row: u32,
}

/// The hot fields of one profile that vary inside a bucket, packed together so that a
/// bucket is one contiguous run of memory.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Row {
    languages: u64,
    interest_sig: u64,
    xyz: [f32; 3],
    slot: u32,
    travel_km: u16,
    flags: u8,
    years: u8,
    tz_quarters: i8,
    interest_count: u8,
}

impl Row {
    fn new(slot: u32, p: &Packed) -> Self {
        Self {
            languages: p.languages,
            interest_sig: p.interest_sig,
            xyz: p.xyz,
            slot,
            travel_km: p.travel_km,
            flags: p.flags,
            years: p.years,
            tz_quarters: p.tz_quarters,
            interest_count: p.interest_count,
        }
    }

    /// The packed form again, with the parts the whole bucket shares.
    fn packed(&self, key: &BucketKey) -> Packed {
        Packed {
            flags: self.flags,
            years: self.years,
            tz_quarters: self.tz_quarters,
            interest_count: self.interest_count,
            travel_km: self.travel_km,
            profession: key.profession,
            populations: key.populations,
            settings: key.settings,
            languages: self.languages,
            interest_sig: self.interest_sig,
            xyz: self.xyz,
        }
    }
}

/// Bytes scanned per profile: one [`Row`] (profession, populations and settings are shared
/// by the whole bucket).
pub const SCAN_BYTES_PER_PROFILE: usize = std::mem::size_of::<Row>();

// matching.md §6 allows at most 64 bytes per scanned profile.
const _: () = assert!(SCAN_BYTES_PER_PROFILE <= 64);

/// What a query needs to bound a group or bucket without touching its rows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
struct BucketKey {
    profession: u16,
    populations: u32,
    settings: u32,
}

impl BucketKey {
    fn of(p: &Profile) -> Self {
        Self {
            profession: p.profession,
            populations: p.populations.bits(),
            settings: p.settings.bits(),
        }
    }
}

/// What a query needs to know about the rows of a bucket or group without reading them:
/// how many could be candidates at all, and ranges that bound their experience and interest
/// parts. Ranges only widen; after removals they may be loose, which keeps them safe.
#[derive(Clone, Copy, Debug)]
struct Summary {
    /// Rows that could be a peer candidate at all (eligible and seeking peers).
    peers: u32,
    /// Rows that could be a mentor candidate at all (eligible, offering, free slot).
    mentors: u32,
    interest_sigs: u64,
    /// Every setting of any row, and the fewest settings a row has.
    settings: u32,
    min_settings: u8,
    max_interests: u8,
    min_years: u8,
    max_years: u8,
}

impl Default for Summary {
    fn default() -> Self {
        Self {
            peers: 0,
            mentors: 0,
            interest_sigs: 0,
            settings: 0,
            min_settings: u8::MAX,
            max_interests: 0,
            min_years: u8::MAX,
            max_years: 0,
        }
    }
}

impl Summary {
    /// Counts a row in (`delta` 1) or out (-1); `settings` are those of the row's bucket.
    fn add(&mut self, p: &Row, settings: u32, delta: i32) {
        let has = |bits: u8| p.flags & bits == bits;
        if has(flag::ELIGIBLE | flag::SEEKS_PEERS) {
            self.peers = self.peers.saturating_add_signed(delta);
        }
        if has(flag::ELIGIBLE | flag::OPEN_MENTOR) {
            self.mentors = self.mentors.saturating_add_signed(delta);
        }
        if delta > 0 {
            self.interest_sigs |= p.interest_sig;
            self.settings |= settings;
            self.min_settings = self.min_settings.min(settings.count_ones() as u8);
            self.max_interests = self.max_interests.max(p.interest_count);
            self.min_years = self.min_years.min(p.years);
            self.max_years = self.max_years.max(p.years);
        }
    }

    /// Widens this summary to cover another's rows too.
    fn merge(&mut self, other: &Summary) {
        self.peers = self.peers.saturating_add(other.peers);
        self.mentors = self.mentors.saturating_add(other.mentors);
        self.interest_sigs |= other.interest_sigs;
        self.settings |= other.settings;
        self.min_settings = self.min_settings.min(other.min_settings);
        self.max_interests = self.max_interests.max(other.max_interests);
        self.min_years = self.min_years.min(other.min_years);
        self.max_years = self.max_years.max(other.max_years);
    }

    fn candidates(&self, kind: Kind) -> u32 {
        match kind {
            Kind::Peer => self.peers,
            Kind::Mentor => self.mentors,
        }
    }

    /// At least the experience part of any row. The fit rises to its best (the seeker's own
    /// years for peers, the ideal gap above them for mentors) and falls after it, so the best
    /// row in range is the one nearest to that best.
    fn experience_bound(&self, scorer: &Scorer, kind: Kind, q_years: u8) -> f32 {
        scorer.experience(kind, q_years, self.best_years(scorer, kind, q_years))
    }

    /// The years in range that fit best: the fit rises to its best and falls after it.
    fn best_years(&self, scorer: &Scorer, kind: Kind, q_years: u8) -> u8 {
        let (lo, hi) = (self.min_years, self.max_years.max(self.min_years));
        let (best_lo, best_hi) = match kind {
            Kind::Peer => (q_years, q_years),
            Kind::Mentor => scorer.mentor_ideal_years(q_years),
        };
        if hi < best_lo {
            hi
        } else if lo > best_hi {
            lo
        } else {
            best_lo.clamp(lo, hi)
        }
    }

    /// At least the settings part of any row: its common settings are among all the rows'
    /// settings, over a union no smaller than either side's own count.
    fn setting_bound(&self, q: &Packed) -> f32 {
        let (common, union) = self.setting_counts(q);
        common as f32 / union as f32
    }

    /// The most settings a row can share with the seeker, and the least union it can have.
    fn setting_counts(&self, q: &Packed) -> (u32, u32) {
        let common = (q.settings & self.settings).count_ones();
        let union = q
            .settings
            .count_ones()
            .max(u32::from(self.min_settings))
            .max(1);
        (common, union)
    }

    /// At least the interest part of any row: a row's Jaccard is its common count over a
    /// union no smaller than the seeker's own count.
    fn interest_bound(&self, q: &Packed) -> f32 {
        self.common_interests(q) as f32 / u32::from(q.interest_count).max(1) as f32
    }

    /// The most interests a row can share with the seeker.
    fn common_interests(&self, q: &Packed) -> u32 {
        (q.interest_sig & self.interest_sigs)
            .count_ones()
            .min(u32::from(q.interest_count))
            .min(u32::from(self.max_interests))
    }
}

/// Profiles that share profession, populations and settings: those parts of the score are
/// the same for every row, so a query bounds the bucket once and skips it when even a
/// perfect row could not enter the top k.
#[derive(Clone, Debug, Default)]
struct Bucket {
    key: BucketKey,
    /// Rows laid out by a bulk build: `arena[start..start + built]`. Rows added later go to
    /// `added`, so a build makes one allocation for all rows instead of one per bucket.
    start: u32,
    built: u32,
    added: Vec<Row>,
}

impl Bucket {
    fn len(&self) -> usize {
        self.built as usize + self.added.len()
    }

    fn row<'a>(&'a self, arena: &'a [Row], r: u32) -> Option<&'a Row> {
        match r.checked_sub(self.built) {
            None => arena.get((self.start + r) as usize),
            Some(added) => self.added.get(added as usize),
        }
    }

    fn rows<'a>(&'a self, arena: &'a [Row]) -> [&'a [Row]; 2] {
        let start = self.start as usize;
        let built = arena.get(start..start + self.built as usize).unwrap_or(&[]);
        [built, &self.added]
    }

    fn push(&mut self, row: Row) -> u32 {
        let at = self.len() as u32;
        self.added.push(row);
        at
    }

    /// Removes row `r` by moving the last row into its place; returns that row's slot.
    fn swap_remove(&mut self, arena: &mut [Row], r: usize) -> Option<u32> {
        let len = self.len();
        if r >= len {
            return None;
        }
        let last = match self.added.pop() {
            Some(row) => row,
            None => {
                self.built -= 1;
                *arena.get((self.start + self.built) as usize)?
            }
        };
        if r == len - 1 {
            return None;
        }
        let target = if r < self.built as usize {
            arena.get_mut(self.start as usize + r)
        } else {
            self.added.get_mut(r - self.built as usize)
        };
        *target? = last;
        Some(last.slot)
    }
}

/// Buckets that share profession and populations. A query bounds the groups (a few
/// thousand) and looks at a group's buckets only while the group could still contribute.
#[derive(Clone, Debug, Default)]
struct Group {
    key: BucketKey,
    summary: Summary,
    buckets: Vec<Bucket>,
    /// Each bucket's summary, kept apart from the buckets so that bounding them all reads
    /// one short run of memory. Every row of a bucket has its key's settings, so a summary
    /// with candidates carries them too.
    summaries: Vec<Summary>,
}

/// Reads one byte of every heap buffer the profiles point to (languages and tags), in a loop
/// short enough for the processor to have many of those reads in flight at once.
fn touch_heap_parts(profiles: &[Profile]) -> u32 {
    let mut sum = 0u32;
    for p in profiles {
        sum = sum.wrapping_add(u32::from(p.languages.first().copied().unwrap_or(0)));
        for tag in &p.interests {
            sum = sum.wrapping_add(u32::from(tag.as_bytes().first().copied().unwrap_or(0)));
        }
    }
    sum
}

/// The id table of `profiles`, whose index is the slot. Where an id occurs more than once,
/// only its last profile is kept.
fn slots_by_id(profiles: &mut Vec<Profile>) -> SlotTable {
    let fill = |profiles: &[Profile]| {
        let mut by_id = SlotTable::with_capacity(profiles.len());
        let id_of = |s: u32| profiles.get(s as usize).map(|p| p.id);
        for (slot, p) in profiles.iter().enumerate() {
            by_id.insert(p.id, slot as u32, id_of);
        }
        by_id
    };
    let by_id = fill(profiles);
    if by_id.len() == profiles.len() {
        return by_id;
    }
    let id_of = |s: u32| profiles.get(s as usize).map(|p| p.id);
    let latest: Vec<Option<u32>> = profiles.iter().map(|p| by_id.get(p.id, id_of)).collect();
    let mut i = 0;
    profiles.retain(|_| {
        let keep = latest.get(i) == Some(&Some(i as u32));
        i += 1;
        keep
    });
    fill(profiles)
}

/// The id in each slot, as the id table reads it.
fn id_in(profiles: &[Option<Profile>]) -> impl Fn(u32) -> Option<PersonId> + '_ {
    move |s| profiles.get(s as usize)?.as_ref().map(|p| p.id)
}

fn grid_point(slot: u32, p: &Packed) -> GridPoint {
    GridPoint {
        slot,
        populations: p.populations,
        eligible: p.flags & flag::ELIGIBLE != 0,
        works_alone: p.flags & flag::WORKS_ALONE != 0,
        xyz: p.xyz,
    }
}

/// Every practitioner in compact form, ready to answer suggestions and radius queries.
///
/// Each profile has a slot; per-slot data lives in parallel arrays so that a bulk build keeps
/// the caller's profiles where they are and writes only the compact parts.
#[derive(Clone, Debug)]
pub struct Index {
    config: ScoringConfig,
    scorer: Scorer,
    /// The profile in each slot; `None` marks a free slot.
    profiles: Vec<Option<Profile>>,
    exact: Vec<Exact>,
    at: Vec<RowRef>,
    free_slots: Vec<u32>,
    by_id: SlotTable,
    groups: Vec<Group>,
    arena: Vec<Row>,
    bucket_of: FastMap<BucketKey, (u32, u32)>,
    group_of: FastMap<BucketKey, u32>,
    professions: Vec<u16>,
    pub(crate) grid: Grid,
    len: usize,
}

impl Default for Index {
    fn default() -> Self {
        Self::new(ScoringConfig::default())
    }
}

impl Index {
    pub fn new(config: ScoringConfig) -> Self {
        Self {
            scorer: Scorer::new(&config),
            config,
            profiles: Vec::new(),
            exact: Vec::new(),
            at: Vec::new(),
            free_slots: Vec::new(),
            by_id: SlotTable::default(),
            groups: Vec::new(),
            arena: Vec::new(),
            bucket_of: FastMap::default(),
            group_of: FastMap::default(),
            professions: Vec::new(),
            grid: Grid::default(),
            len: 0,
        }
    }

    /// Builds an index from many profiles at once; a later duplicate id replaces an earlier
    /// one. Faster than inserting one by one: the profiles stay where they are, and rows are
    /// laid out bucket by bucket with every array allocated once at its final size.
    pub fn build(config: ScoringConfig, profiles: impl IntoIterator<Item = Profile>) -> Self {
        let mut index = Self::new(config);
        let mut profiles: Vec<Profile> = profiles.into_iter().collect();
        index.by_id = slots_by_id(&mut profiles);
        // Two passes instead of a sort. The first reads only fields stored inline in each
        // profile: it finds every row's bucket and grid cell and its place in them.
        let mut sizes: Vec<Vec<u32>> = Vec::new();
        let mut cells = GridFill::default();
        index.at = Vec::with_capacity(profiles.len());
        for p in &profiles {
            let (group, bucket) = index.bucket_for(BucketKey::of(p));
            if sizes.len() <= group as usize {
                sizes.resize(group as usize + 1, Vec::new());
            }
            let counts = &mut sizes[group as usize];
            if counts.len() <= bucket as usize {
                counts.resize(bucket as usize + 1, 0);
            }
            let row = &mut counts[bucket as usize];
            index.at.push(RowRef {
                group,
                bucket,
                row: *row,
            });
            *row += 1;
            cells.plan(p.profession, p.location);
        }
        // Each bucket's rows sit together in one arena; `starts` holds where each bucket
        // begins, numbered group by group (`first_bucket` is each group's first number).
        let mut first_bucket = Vec::with_capacity(sizes.len());
        let mut starts = Vec::with_capacity(index.bucket_of.len());
        let mut next = 0u32;
        for (g, counts) in index.groups.iter_mut().zip(&sizes) {
            first_bucket.push(starts.len());
            for (b, &n) in g.buckets.iter_mut().zip(counts) {
                starts.push(next);
                b.start = next;
                b.built = n;
                next += n;
            }
        }
        // The second pass packs each profile and writes its row in place. Packing follows
        // pointers to languages and tags; touching a batch of them first lets those memory
        // reads overlap instead of waiting one by one.
        index.arena = vec![Row::default(); next as usize];
        index.exact = Vec::with_capacity(profiles.len());
        let mut cells = cells.allocate();
        const BATCH: usize = 32;
        for (first, batch) in profiles.chunks(BATCH).enumerate() {
            std::hint::black_box(touch_heap_parts(batch));
            for (i, p) in batch.iter().enumerate() {
                let slot = first * BATCH + i;
                let (packed, exact) = pack(p);
                index.exact.push(exact);
                cells.push(slot, grid_point(slot as u32, &packed));
                let place = index.at.get(slot).and_then(|at| {
                    let bucket = first_bucket.get(at.group as usize)? + at.bucket as usize;
                    Some(starts.get(bucket)? + at.row)
                });
                if let Some(row) = place.and_then(|r| index.arena.get_mut(r as usize)) {
                    *row = Row::new(slot as u32, &packed);
                }
            }
        }
        index.grid = cells.finish();
        index.summarise_buckets();
        index.len = profiles.len();
        index.profiles = profiles.into_iter().map(Some).collect();
        index
    }

    /// Summaries of every bucket and group, from each bucket's rows where they sit together.
    fn summarise_buckets(&mut self) {
        let arena = &self.arena;
        for g in &mut self.groups {
            g.summary = Summary::default();
            g.summaries = g
                .buckets
                .iter()
                .map(|b| {
                    let mut summary = Summary::default();
                    for row in b.rows(arena).into_iter().flatten() {
                        summary.add(row, b.key.settings, 1);
                    }
                    summary
                })
                .collect();
            for summary in &g.summaries {
                g.summary.merge(summary);
            }
        }
    }

    pub fn config(&self) -> &ScoringConfig {
        &self.config
    }

    /// How many (profession, populations, settings) buckets the rows fall into.
    pub fn bucket_count(&self) -> usize {
        self.bucket_of.len()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn get(&self, id: PersonId) -> Option<&Profile> {
        self.slot_of(id).and_then(|slot| self.profile_at(slot))
    }

    pub fn contains(&self, id: PersonId) -> bool {
        self.slot_of(id).is_some()
    }

    pub fn profiles(&self) -> impl Iterator<Item = &Profile> {
        self.profiles.iter().flatten()
    }

    pub(crate) fn profile_at(&self, slot: u32) -> Option<&Profile> {
        self.profiles.get(slot as usize).and_then(Option::as_ref)
    }

    pub(crate) fn slot_count(&self) -> usize {
        self.profiles.len()
    }

    /// The id in each slot, `None` for free slots, in slot order.
    pub(crate) fn ids_by_slot(&self) -> impl Iterator<Item = Option<PersonId>> + '_ {
        self.profiles.iter().map(|p| p.as_ref().map(|p| p.id))
    }

    pub(crate) fn scorer(&self) -> &Scorer {
        &self.scorer
    }

    pub(crate) fn slot_of(&self, id: PersonId) -> Option<u32> {
        self.by_id.get(id, id_in(&self.profiles))
    }

    /// The packed and exact forms of the profile in `slot`, if the slot is in use.
    pub(crate) fn packed_at(&self, slot: u32) -> Option<(Packed, &Exact)> {
        self.profile_at(slot)?;
        let at = self.at.get(slot as usize)?;
        let bucket = self
            .groups
            .get(at.group as usize)?
            .buckets
            .get(at.bucket as usize)?;
        let row = bucket.row(&self.arena, at.row)?;
        Some((row.packed(&bucket.key), self.exact.get(slot as usize)?))
    }
}
