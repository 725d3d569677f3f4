//! The in-memory index: top-k suggestions, radius queries and incremental updates (§3).

use crate::geo::{arc_km, chord2, chord2_for_km, LatLon, EARTH_RADIUS_KM};
use crate::hash::FastMap;
use crate::profile::{flag, pack, Exact, Packed, PersonId, Profile};
use crate::score::{
    combine, interest_bound, jaccard_bits, nearness_at, time_zone_closeness, Explanation, Kind,
    Scorer, ScoringConfig,
};
use crate::spatial::{cells_near, Grid, GridPoint};
use crate::vocab::Vocabulary;

/// Hard rules that need state the matcher does not hold: blocks, suspensions recorded
/// elsewhere, pending or accepted connections, pairs declined in the last 90 days.
/// Called as `exclude(seeker, candidate)`; `true` removes the candidate.
pub type Exclusion<'a> = &'a dyn Fn(PersonId, PersonId) -> bool;

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

#[derive(Clone, Debug)]
struct Entry {
    profile: Profile,
    packed: Packed,
    exact: Exact,
    at: RowRef,
}

/// Where a profile's row lives: group, bucket within the group, row within the bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
            max_interests: 0,
            min_years: u8::MAX,
            max_years: 0,
        }
    }
}

impl Summary {
    fn add(&mut self, p: &Packed, delta: i32) {
        let has = |bits: u8| p.flags & bits == bits;
        if has(flag::ELIGIBLE | flag::SEEKS_PEERS) {
            self.peers = self.peers.saturating_add_signed(delta);
        }
        if has(flag::ELIGIBLE | flag::OPEN_MENTOR) {
            self.mentors = self.mentors.saturating_add_signed(delta);
        }
        if delta > 0 {
            self.interest_sigs |= p.interest_sig;
            self.max_interests = self.max_interests.max(p.interest_count);
            self.min_years = self.min_years.min(p.years);
            self.max_years = self.max_years.max(p.years);
        }
    }

    fn candidates(&self, kind: Kind) -> u32 {
        match kind {
            Kind::Peer => self.peers,
            Kind::Mentor => self.mentors,
        }
    }

    /// At least the experience part of any row: the fit is highest at the seeker's years
    /// (peers) or at the ideal gap above them (mentors), so only the years in range nearest
    /// to those need checking, plus the ends of the range.
    fn experience_bound(&self, scorer: &Scorer, kind: Kind, q_years: u8) -> f32 {
        let (lo, hi) = (self.min_years, self.max_years.max(self.min_years));
        let (ideal_lo, ideal_hi) = scorer.mentor_ideal_years(q_years);
        let probes = [
            lo,
            hi,
            q_years.clamp(lo, hi),
            ideal_lo.clamp(lo, hi),
            ideal_hi.clamp(lo, hi),
        ];
        probes
            .iter()
            .map(|&c| scorer.experience(kind, q_years, c))
            .fold(0.0, f32::max)
    }

    /// At least the interest part of any row: a row's Jaccard is its common count over a
    /// union no smaller than the seeker's own count.
    fn interest_bound(&self, q: &Packed) -> f32 {
        let common = (q.interest_sig & self.interest_sigs)
            .count_ones()
            .min(u32::from(q.interest_count))
            .min(u32::from(self.max_interests));
        common as f32 / u32::from(q.interest_count).max(1) as f32
    }
}

/// Profiles that share profession, populations and settings: those parts of the score are
/// the same for every row, so a query bounds the bucket once and skips it when even a
/// perfect row could not enter the top k.
#[derive(Clone, Debug, Default)]
struct Bucket {
    key: BucketKey,
    summary: Summary,
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

/// The best `k` seen so far, best first: higher score, then lower id.
struct TopK {
    k: usize,
    items: Vec<(f32, PersonId)>,
}

impl TopK {
    fn new(k: usize) -> Self {
        Self {
            k,
            items: Vec::with_capacity(k + 1),
        }
    }

    /// Scores below this cannot enter.
    #[inline(always)]
    fn floor(&self) -> f32 {
        if self.items.len() < self.k {
            f32::NEG_INFINITY
        } else {
            self.items.last().map_or(f32::NEG_INFINITY, |w| w.0)
        }
    }

    fn admits(&self, score: f32, id: PersonId) -> bool {
        if self.items.len() < self.k {
            return true;
        }
        self.items
            .last()
            .is_some_and(|&(s, w)| score > s || (score == s && id < w))
    }

    fn offer(&mut self, score: f32, id: PersonId) {
        if !self.admits(score, id) || self.items.iter().any(|&(_, i)| i == id) {
            return;
        }
        let at = self
            .items
            .partition_point(|&(s, i)| s > score || (s == score && i < id));
        self.items.insert(at, (score, id));
        self.items.truncate(self.k);
    }
}

/// Every practitioner in compact form, ready to answer suggestions and radius queries.
#[derive(Clone, Debug)]
pub struct Index {
    config: ScoringConfig,
    scorer: Scorer,
    entries: Vec<Option<Entry>>,
    free_slots: Vec<u32>,
    by_id: FastMap<PersonId, u32>,
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
            entries: Vec::new(),
            free_slots: Vec::new(),
            by_id: FastMap::default(),
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
    /// one. Faster than inserting one by one: rows are laid out bucket by bucket with every
    /// array allocated once at its final size.
    pub fn build(config: ScoringConfig, profiles: impl IntoIterator<Item = Profile>) -> Self {
        let mut index = Self::new(config);
        let mut profiles: Vec<Profile> = profiles.into_iter().collect();
        index.by_id.reserve(profiles.len());
        for (slot, p) in profiles.iter().enumerate() {
            index.by_id.insert(p.id, slot as u32);
        }
        if index.by_id.len() != profiles.len() {
            let mut i = 0;
            profiles.retain(|p| {
                let keep = index.by_id.get(&p.id) == Some(&i);
                i += 1;
                keep
            });
            for (slot, p) in profiles.iter().enumerate() {
                index.by_id.insert(p.id, slot as u32);
            }
        }
        let placeholder = RowRef {
            group: 0,
            bucket: 0,
            row: 0,
        };
        index.entries = profiles
            .into_iter()
            .map(|profile| {
                let (packed, exact) = pack(&profile);
                Some(Entry {
                    profile,
                    packed,
                    exact,
                    at: placeholder,
                })
            })
            .collect();
        // Two passes instead of a sort: find each row's bucket and count, then place every
        // row with each bucket allocated once at its final size.
        let mut sizes: Vec<Vec<u32>> = Vec::new();
        for slot in 0..index.entries.len() {
            let Some(Some(e)) = index.entries.get(slot) else {
                continue;
            };
            let (group, bucket) = index.bucket_for(BucketKey {
                profession: e.packed.profession,
                populations: e.packed.populations,
                settings: e.packed.settings,
            });
            if sizes.len() <= group as usize {
                sizes.resize(group as usize + 1, Vec::new());
            }
            let counts = &mut sizes[group as usize];
            if counts.len() <= bucket as usize {
                counts.resize(bucket as usize + 1, 0);
            }
            counts[bucket as usize] += 1;
            if let Some(Some(e)) = index.entries.get_mut(slot) {
                e.at = RowRef {
                    group,
                    bucket,
                    row: 0,
                };
            }
        }
        let mut next = 0u32;
        for (g, counts) in index.groups.iter_mut().zip(&sizes) {
            for (b, &n) in g.buckets.iter_mut().zip(counts) {
                b.start = next;
                next += n;
            }
        }
        index.arena = vec![Row::default(); next as usize];
        for (slot, e) in index.entries.iter_mut().enumerate() {
            let Some(e) = e else { continue };
            let Some(g) = index.groups.get_mut(e.at.group as usize) else {
                continue;
            };
            let Some(b) = g.buckets.get_mut(e.at.bucket as usize) else {
                continue;
            };
            g.summary.add(&e.packed, 1);
            b.summary.add(&e.packed, 1);
            e.at.row = b.built;
            if let Some(place) = index.arena.get_mut((b.start + b.built) as usize) {
                *place = Row::new(slot as u32, &e.packed);
            }
            b.built += 1;
        }
        index
            .grid
            .extend(index.entries.iter().enumerate().filter_map(|(slot, e)| {
                let e = e.as_ref()?;
                let p = &e.profile;
                Some((p.profession, p.location, grid_point(slot as u32, &e.packed)))
            }));
        index.len = index.entries.len();
        index
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
        self.entry(id).map(|e| &e.profile)
    }

    pub fn contains(&self, id: PersonId) -> bool {
        self.by_id.contains_key(&id)
    }

    pub fn profiles(&self) -> impl Iterator<Item = &Profile> {
        self.entries.iter().flatten().map(|e| &e.profile)
    }

    fn entry(&self, id: PersonId) -> Option<&Entry> {
        self.by_id.get(&id).and_then(|&slot| self.entry_at(slot))
    }

    fn entry_at(&self, slot: u32) -> Option<&Entry> {
        self.entries.get(slot as usize).and_then(Option::as_ref)
    }

    pub(crate) fn profile_at(&self, slot: u32) -> Option<&Profile> {
        self.entry_at(slot).map(|e| &e.profile)
    }

    pub(crate) fn slot_count(&self) -> usize {
        self.entries.len()
    }

    /// The id in each slot, `None` for free slots, in slot order.
    pub(crate) fn ids_by_slot(&self) -> impl Iterator<Item = Option<PersonId>> + '_ {
        self.entries
            .iter()
            .map(|e| e.as_ref().map(|e| e.profile.id))
    }

    pub(crate) fn slot_of(&self, id: PersonId) -> Option<u32> {
        self.by_id.get(&id).copied()
    }

    pub(crate) fn packed_at(&self, slot: u32) -> Option<(&Packed, &Exact)> {
        self.entry_at(slot).map(|e| (&e.packed, &e.exact))
    }

    /// Inserts a new profile or replaces the one with the same id.
    pub fn upsert(&mut self, profile: Profile) {
        self.remove(profile.id);
        let (packed, exact) = pack(&profile);
        let slot = match self.free_slots.pop() {
            Some(slot) => slot,
            None => {
                self.entries.push(None);
                (self.entries.len() - 1) as u32
            }
        };
        let (group, bucket) = self.bucket_for(BucketKey {
            profession: packed.profession,
            populations: packed.populations,
            settings: packed.settings,
        });
        let Some(g) = self.groups.get_mut(group as usize) else {
            return;
        };
        let Some(b) = g.buckets.get_mut(bucket as usize) else {
            return;
        };
        g.summary.add(&packed, 1);
        b.summary.add(&packed, 1);
        let at = RowRef {
            group,
            bucket,
            row: b.push(Row::new(slot, &packed)),
        };
        self.grid.insert(
            profile.profession,
            profile.location,
            grid_point(slot, &packed),
        );
        self.by_id.insert(profile.id, slot);
        if let Some(cell) = self.entries.get_mut(slot as usize) {
            *cell = Some(Entry {
                profile,
                packed,
                exact,
                at,
            });
        }
        self.len += 1;
    }

    /// Removes a profile; returns it if it was there.
    pub fn remove(&mut self, id: PersonId) -> Option<Profile> {
        let slot = self.by_id.remove(&id)?;
        let entry = self.entries.get_mut(slot as usize)?.take()?;
        self.grid
            .remove(entry.profile.profession, entry.profile.location, slot);
        let at = entry.at;
        let arena = &mut self.arena;
        let moved = self.groups.get_mut(at.group as usize).and_then(|g| {
            g.summary.add(&entry.packed, -1);
            let b = g.buckets.get_mut(at.bucket as usize)?;
            b.summary.add(&entry.packed, -1);
            b.swap_remove(arena, at.row as usize)
        });
        if let Some(Some(e)) = moved.and_then(|m| self.entries.get_mut(m as usize)) {
            e.at.row = at.row;
        }
        self.free_slots.push(slot);
        self.len -= 1;
        Some(entry.profile)
    }

    fn bucket_for(&mut self, key: BucketKey) -> (u32, u32) {
        if let Some(&at) = self.bucket_of.get(&key) {
            return at;
        }
        let group_key = BucketKey { settings: 0, ..key };
        let group = match self.group_of.get(&group_key) {
            Some(&g) => g,
            None => {
                let g = self.groups.len() as u32;
                self.groups.push(Group {
                    key: group_key,
                    ..Group::default()
                });
                self.group_of.insert(group_key, g);
                g
            }
        };
        let mut at = (group, 0);
        if let Some(g) = self.groups.get_mut(group as usize) {
            at.1 = g.buckets.len() as u32;
            g.buckets.push(Bucket {
                key,
                ..Bucket::default()
            });
        }
        self.bucket_of.insert(key, at);
        if !self.professions.contains(&key.profession) {
            self.professions.push(key.profession);
        }
        at
    }

    /// The best `k` candidates of `kind` for `seeker`, best first (ties: lower id first),
    /// each passing every hard rule. Empty when the seeker is unknown or may not ask.
    pub fn suggest(
        &self,
        seeker: PersonId,
        kind: Kind,
        k: usize,
        exclude: Exclusion<'_>,
    ) -> Vec<Suggestion> {
        match self.entry(seeker) {
            Some(e) => self.suggest_packed(seeker, &e.packed, &e.exact, kind, k, exclude),
            None => Vec::new(),
        }
    }

    pub(crate) fn suggest_packed(
        &self,
        seeker: PersonId,
        q: &Packed,
        qx: &Exact,
        kind: Kind,
        k: usize,
        exclude: Exclusion<'_>,
    ) -> Vec<Suggestion> {
        if k == 0 || !Scorer::seeker_allowed(kind, q) {
            return Vec::new();
        }
        let mut top = TopK::new(k);
        let weights = self.scorer.weights(kind);
        // Best-first over groups and then buckets: each is pushed with the best score any of
        // its rows could reach, and the search stops once the next bound falls below the
        // k-th score found. Scores are non-negative, so their bits sort like the numbers.
        const WHOLE_GROUP: u32 = u32::MAX;
        let bound = |key: &BucketKey, setting: f32, summary: &Summary| {
            combine(
                weights,
                [
                    jaccard_bits(q.populations, key.populations),
                    setting,
                    if key.profession == q.profession {
                        1.0
                    } else {
                        0.0
                    },
                    summary.experience_bound(&self.scorer, kind, q.years),
                    1.0,
                    summary.interest_bound(q),
                ],
            )
            .max(0.0)
            .to_bits()
        };
        let order: Vec<(u32, u32, u32)> = self
            .groups
            .iter()
            .enumerate()
            .filter(|(_, g)| g.summary.candidates(kind) > 0)
            .map(|(i, g)| (bound(&g.key, 1.0, &g.summary), i as u32, WHOLE_GROUP))
            .collect();
        let mut heap = std::collections::BinaryHeap::from(order);
        while let Some((bits, g, b)) = heap.pop() {
            if f32::from_bits(bits) < top.floor() {
                break;
            }
            let Some(group) = self.groups.get(g as usize) else {
                continue;
            };
            if b == WHOLE_GROUP {
                for (i, bucket) in group.buckets.iter().enumerate() {
                    if bucket.summary.candidates(kind) > 0 {
                        let setting = jaccard_bits(q.settings, bucket.key.settings);
                        heap.push((bound(&bucket.key, setting, &bucket.summary), g, i as u32));
                    }
                }
            } else if let Some(bucket) = group.buckets.get(b as usize) {
                match kind {
                    Kind::Peer => self.scan::<false>(bucket, seeker, q, qx, exclude, &mut top),
                    Kind::Mentor => self.scan::<true>(bucket, seeker, q, qx, exclude, &mut top),
                }
            }
        }
        top.items
            .into_iter()
            .map(|(score, id)| Suggestion { id, score })
            .collect()
    }

    /// Bounds a chunk of rows at a time in straight-line code the compiler can vectorise
    /// (the distance part from the chord, which never exceeds the arc), then computes the
    /// exact score only for rows whose bound reaches the current k-th score.
    #[allow(clippy::too_many_arguments)]
    fn scan<const MENTOR: bool>(
        &self,
        bucket: &Bucket,
        seeker: PersonId,
        q: &Packed,
        qx: &Exact,
        exclude: Exclusion<'_>,
        top: &mut TopK,
    ) {
        const CHUNK: usize = 64;
        let kind = if MENTOR { Kind::Mentor } else { Kind::Peer };
        let w = *self.scorer.weights(kind);
        let needed = if MENTOR {
            flag::ELIGIBLE | flag::OPEN_MENTOR
        } else {
            flag::ELIGIBLE | flag::SEEKS_PEERS
        };
        let key = &bucket.key;
        let population = jaccard_bits(q.populations, key.populations);
        let setting = jaccard_bits(q.settings, key.settings);
        let profession = if key.profession == q.profession {
            1.0
        } else {
            0.0
        };
        let modes = q.flags & flag::MODES;
        let q_in_person = q.flags & flag::IN_PERSON != 0;
        let q_limit = if q_in_person {
            q.travel_km.max(1)
        } else {
            u16::MAX
        };
        let km_per_chord = EARTH_RADIUS_KM * (1.0 - 1e-4);
        let mut bound = [0f32; CHUNK];
        for rows in bucket
            .rows(&self.arena)
            .into_iter()
            .flat_map(|part| part.chunks(CHUNK))
        {
            for (r, b) in rows.iter().zip(bound.iter_mut()) {
                let f = r.flags;
                let ok = (f & needed == needed)
                    & (r.languages & q.languages != 0)
                    & (f & modes != 0)
                    & (!MENTOR | (r.years >= q.years));
                let c_in_person = f & flag::IN_PERSON != 0;
                let c_limit = if c_in_person {
                    r.travel_km.max(1)
                } else {
                    u16::MAX
                };
                let by_distance = nearness_at(
                    km_per_chord * chord2(q.xyz, r.xyz).sqrt(),
                    f32::from(q_limit.min(c_limit)),
                );
                let by_zone = time_zone_closeness(q.tz_quarters, r.tz_quarters);
                let near = if q_in_person | c_in_person {
                    by_distance
                } else {
                    by_zone
                };
                let score = combine(
                    &w,
                    [
                        population,
                        setting,
                        profession,
                        self.scorer.experience_fit::<MENTOR>(q.years, r.years),
                        near,
                        interest_bound(
                            q.interest_sig,
                            q.interest_count,
                            r.interest_sig,
                            r.interest_count,
                        ),
                    ],
                );
                *b = if ok { score } else { f32::NEG_INFINITY };
            }
            for (r, &b) in rows.iter().zip(bound.iter()) {
                if b >= top.floor() {
                    self.confirm(r.slot, seeker, q, qx, kind, exclude, top);
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    #[inline(never)]
    fn confirm(
        &self,
        slot: u32,
        seeker: PersonId,
        q: &Packed,
        qx: &Exact,
        kind: Kind,
        exclude: Exclusion<'_>,
        top: &mut TopK,
    ) {
        let Some(e) = self.entry_at(slot) else {
            return;
        };
        let id = e.profile.id;
        if id == seeker {
            return;
        }
        let Some(eval) = self.scorer.evaluate(q, qx, &e.packed, &e.exact, kind) else {
            return;
        };
        if top.admits(eval.score, id) && !exclude(seeker, id) {
            top.offer(eval.score, id);
        }
    }

    /// Scores everyone and sorts: the reference the fast path must equal.
    pub fn suggest_exhaustive(
        &self,
        seeker: PersonId,
        kind: Kind,
        k: usize,
        exclude: Exclusion<'_>,
    ) -> Vec<Suggestion> {
        let Some(q) = self.entry(seeker) else {
            return Vec::new();
        };
        let mut all: Vec<Suggestion> = self
            .entries
            .iter()
            .flatten()
            .filter(|c| c.profile.id != seeker && !exclude(seeker, c.profile.id))
            .filter_map(|c| {
                self.scorer
                    .evaluate(&q.packed, &q.exact, &c.packed, &c.exact, kind)
                    .map(|e| Suggestion {
                        id: c.profile.id,
                        score: e.score,
                    })
            })
            .collect();
        all.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.id.cmp(&b.id)));
        all.truncate(k);
        all
    }

    /// Score and reasons for one pair, from the seeker's point of view. `None` when either is
    /// unknown or a profile-only hard rule forbids the pair.
    pub fn explain(
        &self,
        seeker: PersonId,
        candidate: PersonId,
        kind: Kind,
        vocabulary: &Vocabulary,
    ) -> Option<Explanation> {
        if seeker == candidate {
            return None;
        }
        let (q, c) = (self.entry(seeker)?, self.entry(candidate)?);
        let eval = self
            .scorer
            .evaluate(&q.packed, &q.exact, &c.packed, &c.exact, kind)?;
        Some(
            self.scorer
                .explanation(&eval, &q.profile, &c.profile, kind, vocabulary),
        )
    }

    /// Everyone within `radius_km` of `center` (optionally of one profession) that `keep`
    /// accepts, nearest first, ties by id. For the directory.
    pub fn within(
        &self,
        center: LatLon,
        radius_km: f32,
        profession: Option<u16>,
        mut keep: impl FnMut(&Profile) -> bool,
    ) -> Vec<Nearby> {
        let origin = center.unit();
        let limit2 = chord2_for_km(radius_km);
        let professions: Vec<u16> = match profession {
            Some(p) => vec![p],
            None => self.professions.clone(),
        };
        let mut found = Vec::new();
        for cell in cells_near(center, radius_km) {
            for &prof in &professions {
                for point in self.grid.cell(prof, cell) {
                    if chord2(origin, point.xyz) > limit2 {
                        continue;
                    }
                    let distance_km = arc_km(origin, point.xyz);
                    if distance_km > radius_km {
                        continue;
                    }
                    if let Some(p) = self.profile_at(point.slot) {
                        if keep(p) {
                            found.push(Nearby {
                                id: p.id,
                                distance_km,
                            });
                        }
                    }
                }
            }
        }
        found.sort_by(|a, b| {
            a.distance_km
                .total_cmp(&b.distance_km)
                .then(a.id.cmp(&b.id))
        });
        found
    }

    /// Ids of verified, active practitioners who seek a mentor (the api removes those who
    /// already have one before a round).
    pub fn seeking_mentor(&self) -> Vec<PersonId> {
        let needed = flag::ELIGIBLE | flag::SEEKS_MENTOR;
        let mut ids: Vec<PersonId> = self
            .entries
            .iter()
            .flatten()
            .filter(|e| e.packed.flags & needed == needed)
            .map(|e| e.profile.id)
            .collect();
        ids.sort_unstable();
        ids
    }
}
