//! Queries on the index: top-k suggestions (bounded scans of groups and buckets, then exact
//! scores for the few rows that could enter the top k), explanations and radius queries.

use super::*;

/// The best `k` seen so far, best first: higher score, then lower id.
pub(super) struct TopK {
    k: usize,
    items: Vec<(f32, PersonId)>,
    /// The k-th score once there are k, kept beside the list since every bound is held
    /// against it.
    floor: f32,
}

impl TopK {
    pub(super) fn into_suggestions(self) -> Vec<Suggestion> {
        self.items
            .into_iter()
            .map(|(score, id)| Suggestion { id, score })
            .collect()
    }

    pub(super) fn new(k: usize) -> Self {
        Self {
            k,
            items: Vec::with_capacity(k + 1),
            floor: f32::NEG_INFINITY,
        }
    }

    /// Scores below this cannot enter.
    #[inline(always)]
    pub(super) fn floor(&self) -> f32 {
        self.floor
    }

    pub(super) fn admits(&self, score: f32, id: PersonId) -> bool {
        if self.items.len() < self.k {
            return true;
        }
        self.items
            .last()
            .is_some_and(|&(s, w)| score > s || (score == s && id < w))
    }

    /// Offering the same candidate again changes nothing: a candidate's score is the same
    /// each time, so an earlier offer sits exactly where this one would go.
    pub(super) fn offer(&mut self, score: f32, id: PersonId) {
        if !self.admits(score, id) {
            return;
        }
        let at = self
            .items
            .partition_point(|&(s, i)| s > score || (s == score && i < id));
        if self.items.get(at).is_some_and(|&(_, i)| i == id) {
            return;
        }
        self.items.insert(at, (score, id));
        self.items.truncate(self.k);
        if self.items.len() == self.k {
            self.floor = self.items.last().map_or(f32::NEG_INFINITY, |w| w.0);
        }
    }
}

/// One search: who asks (their packed profile), for what, how many, and who is ruled out.
#[derive(Clone, Copy)]
pub(crate) struct Query<'a> {
    pub seeker: PersonId,
    pub q: &'a Packed,
    pub qx: &'a Exact,
    pub kind: Kind,
    pub k: usize,
    pub exclude: Exclusion<'a>,
}

impl Index {
    /// The best `k` candidates of `kind` for `seeker`, best first (ties: lower id first),
    /// each passing every hard rule. Empty when the seeker is unknown or may not ask.
    pub fn suggest(
        &self,
        seeker: PersonId,
        kind: Kind,
        k: usize,
        exclude: Exclusion<'_>,
    ) -> Vec<Suggestion> {
        match self.slot_of(seeker).and_then(|slot| self.packed_at(slot)) {
            Some((q, qx)) => self.suggest_packed(&Query {
                seeker,
                q: &q,
                qx,
                kind,
                k,
                exclude,
            }),
            None => Vec::new(),
        }
    }

    pub(crate) fn suggest_packed(&self, query: &Query<'_>) -> Vec<Suggestion> {
        let Query { q, kind, k, .. } = *query;
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
        // Two passes: the seeker's own profession first, whose groups set the k-th score
        // quickly; then the others, each bounded cheaply first (its populations and
        // interests, with the experience part at its best) and skipped when even that cannot
        // reach the k-th score. A group skipped has a bound below the final k-th score, so
        // the answer is the same as one best-first pass over every group.
        let search = |heap: &mut std::collections::BinaryHeap<(u32, u32, u32)>, top: &mut TopK| {
            while let Some((bits, g, b)) = heap.pop() {
                if f32::from_bits(bits) < top.floor() {
                    break;
                }
                let Some(group) = self.groups.get(g as usize) else {
                    continue;
                };
                if b == WHOLE_GROUP {
                    for (i, (bucket, summary)) in
                        group.buckets.iter().zip(&group.summaries).enumerate()
                    {
                        if summary.candidates(kind) > 0 {
                            let setting = jaccard_bits(q.settings, bucket.key.settings);
                            heap.push((bound(&bucket.key, setting, summary), g, i as u32));
                        }
                    }
                } else if let Some(bucket) = group.buckets.get(b as usize) {
                    match kind {
                        Kind::Peer => self.scan::<false>(bucket, query, top),
                        Kind::Mentor => self.scan::<true>(bucket, query, top),
                    }
                }
            }
        };
        let whole_group = |(i, g): (usize, &Group)| {
            (
                bound(&g.key, g.summary.setting_bound(q), &g.summary),
                i as u32,
                WHOLE_GROUP,
            )
        };
        let own: Vec<(u32, u32, u32)> = self
            .groups
            .iter()
            .enumerate()
            .filter(|(_, g)| g.key.profession == q.profession && g.summary.candidates(kind) > 0)
            .map(whole_group)
            .collect();
        search(&mut std::collections::BinaryHeap::from(own), &mut top);
        let best_elsewhere = combine(weights, [1.0, 1.0, 0.0, 1.0, 1.0, 1.0]);
        if best_elsewhere >= top.floor() {
            let floor = top.floor();
            let others: Vec<(u32, u32, u32)> = self
                .groups
                .iter()
                .enumerate()
                .filter(|(_, g)| g.key.profession != q.profession && g.summary.candidates(kind) > 0)
                .filter(|(_, g)| {
                    let cheap = combine(
                        weights,
                        [
                            jaccard_bits(q.populations, g.key.populations),
                            1.0,
                            0.0,
                            1.0,
                            1.0,
                            g.summary.interest_bound(q),
                        ],
                    );
                    cheap >= floor
                })
                .map(whole_group)
                .collect();
            search(&mut std::collections::BinaryHeap::from(others), &mut top);
        }
        top.into_suggestions()
    }

    /// The same answer as [`Index::suggest_packed`] by one pass over the groups and their
    /// buckets, each skipped on a cheap bound, without ordering them: faster when buckets
    /// hold a row or two (the open mentors of a round), where bounding and ordering every
    /// bucket precisely costs more than it saves. The seeker's own profession goes first so
    /// that the k-th score rises early.
    pub(crate) fn suggest_unordered(&self, query: &Query<'_>) -> Vec<Suggestion> {
        let Query { q, kind, k, .. } = *query;
        if k == 0 || !Scorer::seeker_allowed(kind, q) {
            return Vec::new();
        }
        let mut top = TopK::new(k);
        let weights = self.scorer.weights(kind);
        for own in [true, false] {
            let profession = if own { 1.0 } else { 0.0 };
            for group in &self.groups {
                if (group.key.profession == q.profession) != own
                    || group.summary.candidates(kind) == 0
                {
                    continue;
                }
                let population = jaccard_bits(q.populations, group.key.populations);
                let interests = group.summary.interest_bound(q);
                let group_bound =
                    combine(weights, [population, 1.0, profession, 1.0, 1.0, interests]);
                if group_bound < top.floor() {
                    continue;
                }
                let experience = group.summary.experience_bound(&self.scorer, kind, q.years);
                let setting = group.summary.setting_bound(q);
                let group_bound = combine(
                    weights,
                    [population, setting, profession, experience, 1.0, interests],
                );
                if group_bound < top.floor() {
                    continue;
                }
                for (b, summary) in group.summaries.iter().enumerate() {
                    if summary.candidates(kind) == 0 {
                        continue;
                    }
                    let setting = jaccard_bits(q.settings, summary.settings);
                    let interests = summary.interest_bound(q);
                    let bound = combine(
                        weights,
                        [population, setting, profession, experience, 1.0, interests],
                    );
                    if bound < top.floor() {
                        continue;
                    }
                    let Some(bucket) = group.buckets.get(b) else {
                        continue;
                    };
                    match kind {
                        Kind::Peer => self.scan::<false>(bucket, query, &mut top),
                        Kind::Mentor => self.scan::<true>(bucket, query, &mut top),
                    }
                }
            }
        }
        top.into_suggestions()
    }

    /// Bounds a chunk of rows at a time in straight-line code the compiler can vectorise
    /// (the distance part from the chord, which never exceeds the arc), then computes the
    /// exact score only for rows whose bound reaches the current k-th score.
    fn scan<const MENTOR: bool>(&self, bucket: &Bucket, query: &Query<'_>, top: &mut TopK) {
        let q = query.q;
        const CHUNK: usize = 64;
        let kind = if MENTOR { Kind::Mentor } else { Kind::Peer };
        let w = *self.scorer.weights(kind);
        let needed = Scorer::candidate_flags(kind);
        let key = &bucket.key;
        let population = jaccard_bits(q.populations, key.populations);
        let setting = jaccard_bits(q.settings, key.settings);
        let profession = if key.profession == q.profession {
            1.0
        } else {
            0.0
        };
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
                let ok = Scorer::rules_hold(q, MENTOR, needed, f, r.years, r.languages);
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
                    self.confirm(r, key, query, top);
                }
            }
        }
    }

    #[inline(never)]
    pub(super) fn confirm(&self, row: &Row, key: &BucketKey, query: &Query<'_>, top: &mut TopK) {
        let Query {
            seeker,
            q,
            qx,
            kind,
            exclude,
            ..
        } = *query;
        let (Some(profile), Some(exact)) =
            (self.profile_at(row.slot), self.exact.get(row.slot as usize))
        else {
            return;
        };
        let id = profile.id;
        if id == seeker {
            return;
        }
        let Some(eval) = self.scorer.evaluate(q, qx, &row.packed(key), exact, kind) else {
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
        let Some((q, qx)) = self.slot_of(seeker).and_then(|slot| self.packed_at(slot)) else {
            return Vec::new();
        };
        let mut all: Vec<Suggestion> = (0..self.slot_count() as u32)
            .filter_map(|slot| {
                let id = self.profile_at(slot)?.id;
                if id == seeker || exclude(seeker, id) {
                    return None;
                }
                let (c, cx) = self.packed_at(slot)?;
                let eval = self.scorer.evaluate(&q, qx, &c, cx, kind)?;
                Some(Suggestion {
                    id,
                    score: eval.score,
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
        let (qs, cs) = (self.slot_of(seeker)?, self.slot_of(candidate)?);
        let ((q, qx), (c, cx)) = (self.packed_at(qs)?, self.packed_at(cs)?);
        let eval = self.scorer.evaluate(&q, qx, &c, cx, kind)?;
        Some(self.scorer.explanation(
            &eval,
            self.profile_at(qs)?,
            self.profile_at(cs)?,
            kind,
            vocabulary,
        ))
    }

    /// Everyone within `radius_km` of `center` (optionally of one profession) that `keep`
    /// accepts, nearest first, ties by id.
    pub fn within(
        &self,
        center: LatLon,
        radius_km: f32,
        profession: Option<u16>,
        mut keep: impl FnMut(&Profile) -> bool,
    ) -> Vec<Nearby> {
        let mut found = Vec::new();
        self.visit_within(center, radius_km, profession, |p, distance_km| {
            if keep(p) {
                found.push(Nearby {
                    id: p.id,
                    distance_km,
                });
            }
        });
        found.sort_by(|a, b| {
            a.distance_km
                .total_cmp(&b.distance_km)
                .then(a.id.cmp(&b.id))
        });
        found
    }

    /// Calls `visit` with everyone within `radius_km` of `center` (optionally of one
    /// profession) and their distance, in no order. For the directory, which keeps the few
    /// it shows: no list of everyone near, and no lookup of each by id.
    pub fn visit_within(
        &self,
        center: LatLon,
        radius_km: f32,
        profession: Option<u16>,
        mut visit: impl FnMut(&Profile, f32),
    ) {
        let origin = center.unit();
        let limit2 = chord2_for_km(radius_km);
        let professions: Vec<u16> = match profession {
            Some(p) => vec![p],
            None => self.professions.clone(),
        };
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
                        visit(p, distance_km);
                    }
                }
            }
        }
    }

    /// Ids of verified, active practitioners who seek a mentor (the api removes those who
    /// already have one before a round).
    pub fn seeking_mentor(&self) -> Vec<PersonId> {
        let needed = flag::ELIGIBLE | flag::SEEKS_MENTOR;
        let mut ids: Vec<PersonId> = (0..self.slot_count() as u32)
            .filter(|&slot| {
                self.packed_at(slot)
                    .is_some_and(|(p, _)| p.flags & needed == needed)
            })
            .filter_map(|slot| Some(self.profile_at(slot)?.id))
            .collect();
        ids.sort_unstable();
        ids
    }
}
