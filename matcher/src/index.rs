//! The in-memory index: top-k suggestions, radius queries and incremental updates (§3).

use crate::geo::{arc_km, chord2, chord2_for_km, LatLon};
use crate::hash::FastMap;
use crate::profile::{flag, pack, Exact, Packed, PersonId, Profile};
use crate::score::{combine, Explanation, Kind, Scorer, ScoringConfig};
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
    /// Position inside the profession's partition.
    pos: u32,
}

/// The scan arrays of one profession, one column per hot field (47 bytes per profile).
#[derive(Clone, Debug, Default)]
struct Partition {
    profession: u16,
    slot: Vec<u32>,
    flags: Vec<u8>,
    years: Vec<u8>,
    languages: Vec<u64>,
    populations: Vec<u32>,
    settings: Vec<u32>,
    interest_sig: Vec<u64>,
    interest_count: Vec<u8>,
    xyz: Vec<[f32; 3]>,
    travel_km: Vec<u16>,
    tz_quarters: Vec<i8>,
    free_slots: Vec<u8>,
}

impl Partition {
    fn len(&self) -> usize {
        self.slot.len()
    }

    fn push(&mut self, slot: u32, p: &Packed) -> u32 {
        let pos = self.slot.len() as u32;
        self.slot.push(slot);
        self.flags.push(p.flags);
        self.years.push(p.years);
        self.languages.push(p.languages);
        self.populations.push(p.populations);
        self.settings.push(p.settings);
        self.interest_sig.push(p.interest_sig);
        self.interest_count.push(p.interest_count);
        self.xyz.push(p.xyz);
        self.travel_km.push(p.travel_km);
        self.tz_quarters.push(p.tz_quarters);
        self.free_slots.push(p.free_slots);
        pos
    }

    /// Removes the row at `pos`; returns the slot of the row moved into its place, if any.
    fn swap_remove(&mut self, pos: usize) -> Option<u32> {
        self.slot.swap_remove(pos);
        self.flags.swap_remove(pos);
        self.years.swap_remove(pos);
        self.languages.swap_remove(pos);
        self.populations.swap_remove(pos);
        self.settings.swap_remove(pos);
        self.interest_sig.swap_remove(pos);
        self.interest_count.swap_remove(pos);
        self.xyz.swap_remove(pos);
        self.travel_km.swap_remove(pos);
        self.tz_quarters.swap_remove(pos);
        self.free_slots.swap_remove(pos);
        self.slot.get(pos).copied()
    }
}

/// Bytes of scan arrays per profile (see [`Partition`]).
pub const SCAN_BYTES_PER_PROFILE: usize = 4 + 1 + 1 + 8 + 4 + 4 + 8 + 1 + 12 + 2 + 1 + 1;

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
    partitions: Vec<Partition>,
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
            partitions: Vec::new(),
            grid: Grid::default(),
            len: 0,
        }
    }

    /// Builds an index from many profiles at once; a later duplicate id replaces an earlier one.
    pub fn build(config: ScoringConfig, profiles: impl IntoIterator<Item = Profile>) -> Self {
        let profiles = profiles.into_iter();
        let mut index = Self::new(config);
        let (lower, _) = profiles.size_hint();
        index.entries.reserve(lower);
        index.by_id.reserve(lower);
        for p in profiles {
            index.upsert(p);
        }
        index
    }

    pub fn config(&self) -> &ScoringConfig {
        &self.config
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
        let part = self.partition_mut(profile.profession);
        let pos = part.push(slot, &packed);
        self.grid.insert(
            profile.profession,
            profile.location,
            GridPoint {
                slot,
                populations: packed.populations,
                eligible: packed.flags & flag::ELIGIBLE != 0,
                xyz: packed.xyz,
            },
        );
        self.by_id.insert(profile.id, slot);
        if let Some(cell) = self.entries.get_mut(slot as usize) {
            *cell = Some(Entry {
                profile,
                packed,
                exact,
                pos,
            });
        }
        self.len += 1;
    }

    /// Removes a profile; returns it if it was there.
    pub fn remove(&mut self, id: PersonId) -> Option<Profile> {
        let slot = self.by_id.remove(&id)?;
        let entry = self.entries.get_mut(slot as usize)?.take()?;
        let profession = entry.profile.profession;
        self.grid.remove(profession, entry.profile.location, slot);
        if let Some(part) = self.partitions.iter_mut().find(|p| p.profession == profession) {
            if let Some(moved) = part.swap_remove(entry.pos as usize) {
                if let Some(Some(e)) = self.entries.get_mut(moved as usize) {
                    e.pos = entry.pos;
                }
            }
        }
        self.free_slots.push(slot);
        self.len -= 1;
        Some(entry.profile)
    }

    fn partition_mut(&mut self, profession: u16) -> &mut Partition {
        let at = match self.partitions.iter().position(|p| p.profession == profession) {
            Some(at) => at,
            None => {
                self.partitions.push(Partition {
                    profession,
                    ..Partition::default()
                });
                self.partitions.len() - 1
            }
        };
        &mut self.partitions[at]
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
        let other_profession_cap = combine(weights, [1.0, 1.0, 0.0, 1.0, 1.0, 1.0]);
        let own = self.partitions.iter().filter(|p| p.profession == q.profession);
        let others = self.partitions.iter().filter(|p| p.profession != q.profession);
        for part in own.chain(others) {
            if part.profession != q.profession && other_profession_cap < top.floor() {
                continue;
            }
            self.scan(part, seeker, q, qx, kind, exclude, &mut top);
        }
        top.items
            .into_iter()
            .map(|(score, id)| Suggestion { id, score })
            .collect()
    }

    #[allow(clippy::too_many_arguments)]
    fn scan(
        &self,
        part: &Partition,
        seeker: PersonId,
        q: &Packed,
        qx: &Exact,
        kind: Kind,
        exclude: Exclusion<'_>,
        top: &mut TopK,
    ) {
        let weights = self.scorer.weights(kind);
        let n = part.len();
        let (flags, years, langs) = (&part.flags[..n], &part.years[..n], &part.languages[..n]);
        let (pops, sets) = (&part.populations[..n], &part.settings[..n]);
        let (sigs, counts) = (&part.interest_sig[..n], &part.interest_count[..n]);
        for i in 0..n {
            if !Scorer::cheap_rules(kind, q, flags[i], years[i], langs[i]) {
                continue;
            }
            let parts = self.scorer.bound_parts(
                kind,
                q,
                part.profession,
                pops[i],
                sets[i],
                years[i],
                sigs[i],
                counts[i],
            );
            if combine(weights, parts) < top.floor() {
                continue;
            }
            self.confirm(part.slot[i], seeker, q, qx, kind, exclude, top);
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
            None => self.partitions.iter().map(|p| p.profession).collect(),
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
