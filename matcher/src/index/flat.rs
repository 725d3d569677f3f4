//! Candidates for a round: every row of a small index with its bucket's parts beside it,
//! bounded row by row from per-query tables instead of bucket by bucket.

use super::query::{Query, TopK};
use super::*;
use crate::score::own_travel_limit;

impl Index {
    /// The same answer as [`Index::suggest_packed`] from `flat` (this index's rows), for an
    /// index whose rows are spread over nearly as many buckets (the open mentors of a round),
    /// where bounding bucket by bucket costs more than the rows themselves. The rows of the
    /// seeker's profession are bounded in one pass, and those whose bound is among the k
    /// best are scored exactly first, so that the k-th score is near its final value early;
    /// the other professions' groups are then bounded whole, and the rows of a group that
    /// could still contribute first from their tables alone (nearness and interests at
    /// their best), then in full.
    pub(crate) fn suggest_flat(&self, flat: &Flat, query: &Query<'_>) -> Vec<Suggestion> {
        let Query { q, kind, k, .. } = *query;
        if k == 0 || !Scorer::seeker_allowed(kind, q) {
            return Vec::new();
        }
        let rule = FlatBound::new(flat, &self.scorer, q, kind);
        let mut top = TopK::new(k);
        let confirm = |i: usize, top: &mut TopK| {
            if let (Some(row), Some(key)) = (flat.rows.get(i), flat.keys.get(i)) {
                self.confirm(row, key, query, top);
            }
        };
        let own = flat.profession_rows(q.profession);
        let bounds: Vec<f32> = own.clone().map(|i| rule.bound(flat, i)).collect();
        let mut kth: Vec<f32> = bounds.iter().copied().filter(|b| b.is_finite()).collect();
        // With fewer than k rows under the rules, every one of them (and none ruled out).
        let first = match kth.len().checked_sub(k) {
            Some(at) => *kth.select_nth_unstable_by(at, f32::total_cmp).1,
            None => f32::MIN,
        };
        for (i, &bound) in own.clone().zip(&bounds) {
            if bound >= first {
                confirm(i, &mut top);
            }
        }
        for (i, &bound) in own.zip(&bounds) {
            if bound < first && bound >= top.floor() {
                confirm(i, &mut top);
            }
        }
        let weights = self.scorer.weights(kind);
        if combine(weights, [1.0, 1.0, 0.0, 1.0, 1.0, 1.0]) < top.floor() {
            return top.into_suggestions();
        }
        for group in &flat.groups {
            if group.key.profession == q.profession || group.summary.candidates(kind) == 0 {
                continue;
            }
            if rule.group(flat, &self.scorer, group) < top.floor() {
                continue;
            }
            let base = rule.group_base(group);
            for i in group.rows.clone() {
                let i = i as usize;
                let Some(part) = flat.parts.get(i) else {
                    continue;
                };
                if rule.coarse(base, part) >= top.floor() && rule.bound(flat, i) >= top.floor() {
                    confirm(i, &mut top);
                }
            }
        }
        top.into_suggestions()
    }
}

/// An index's rows laid out for [`Index::suggest_flat`], group by group and the groups by
/// profession: each row with its bucket's key, and the parts that bound it without a
/// division: its bucket's populations and settings as numbers into tables of the distinct
/// values (each query scores those once), and the inverse of its travel limit.
#[derive(Clone, Debug, Default)]
pub(crate) struct Flat {
    rows: Vec<Row>,
    keys: Vec<BucketKey>,
    parts: Vec<FlatPart>,
    groups: Vec<FlatGroup>,
    populations: Vec<u32>,
    settings: Vec<u32>,
    /// `1 / n` for every union size an interest Jaccard can have.
    reciprocals: Vec<f32>,
}

/// Everything a row's bound reads besides the row, in 16 bytes; the bound from tables alone
/// reads nothing else (`profession` and `years` repeat the key's and the row's).
#[derive(Clone, Copy, Debug, Default)]
struct FlatPart {
    population: u32,
    setting: u32,
    inverse_limit: f32,
    profession: u16,
    years: u8,
}

/// The rows of one of the index's groups (one profession and set of populations).
#[derive(Clone, Debug)]
struct FlatGroup {
    key: BucketKey,
    /// The number of its populations in [`Flat::populations`].
    population: u32,
    summary: Summary,
    rows: std::ops::Range<u32>,
}

/// Added to every flat bound: its parts are summed in another order than the exact score's
/// and divide by multiplying with an inverse, so it may fall a rounding error short of the
/// score it bounds without this margin.
const FLAT_MARGIN: f32 = 1e-5;

impl Flat {
    pub(crate) fn of(index: &Index) -> Self {
        let mut flat = Flat {
            reciprocals: (0..=2 * usize::from(u8::MAX))
                .map(|n| 1.0 / n.max(1) as f32)
                .collect(),
            ..Flat::default()
        };
        let mut populations = crate::hash::FastMap::<u32, u32>::default();
        let mut settings = crate::hash::FastMap::<u32, u32>::default();
        let number = |seen: &mut crate::hash::FastMap<u32, u32>, list: &mut Vec<u32>, v| {
            *seen.entry(v).or_insert_with(|| {
                list.push(v);
                (list.len() - 1) as u32
            })
        };
        let mut groups: Vec<&Group> = index.groups.iter().collect();
        groups.sort_by_key(|g| g.key.profession);
        for group in groups {
            let start = flat.rows.len() as u32;
            for bucket in &group.buckets {
                let key = bucket.key;
                let population = number(&mut populations, &mut flat.populations, key.populations);
                let setting = number(&mut settings, &mut flat.settings, key.settings);
                for row in bucket.rows(&index.arena).into_iter().flatten() {
                    flat.rows.push(*row);
                    flat.keys.push(key);
                    flat.parts.push(FlatPart {
                        population,
                        setting,
                        inverse_limit: 1.0 / f32::from(own_travel_limit(row.flags, row.travel_km)),
                        profession: key.profession,
                        years: row.years,
                    });
                }
            }
            flat.groups.push(FlatGroup {
                key: group.key,
                population: number(
                    &mut populations,
                    &mut flat.populations,
                    group.key.populations,
                ),
                summary: group.summary,
                rows: start..flat.rows.len() as u32,
            });
        }
        flat
    }

    /// `1 / n`, rounded (the bounds' margin covers the rounding).
    #[inline(always)]
    fn reciprocal(&self, n: u32) -> f32 {
        self.reciprocals.get(n as usize).copied().unwrap_or(1.0)
    }

    /// The rows of one profession, which sit together.
    fn profession_rows(&self, profession: u16) -> std::ops::Range<usize> {
        let first = self
            .groups
            .partition_point(|g| g.key.profession < profession);
        let end = self
            .groups
            .partition_point(|g| g.key.profession <= profession);
        let at = |g: usize| {
            self.groups
                .get(g)
                .map_or(self.rows.len(), |g| g.rows.start as usize)
        };
        at(first)..at(end)
    }
}

/// One query's upper bound of a flat row's score, from tables of the parts that take few
/// values, or minus infinity where a hard rule the row carries rules it out.
struct FlatBound<'a> {
    q: &'a Packed,
    w: [f32; 6],
    populations: Vec<f32>,
    settings: Vec<f32>,
    years: [f32; 256],
    zones: [f32; 256],
    needed: u8,
    kind: Kind,
    q_in_person: bool,
    q_inverse_limit: f32,
    q_inverse_interests: f32,
}

impl<'a> FlatBound<'a> {
    fn new(flat: &Flat, scorer: &Scorer, q: &'a Packed, kind: Kind) -> Self {
        let w = *scorer.weights(kind);
        Self {
            q,
            w,
            populations: (flat.populations.iter())
                .map(|&p| jaccard_bits(q.populations, p))
                .collect(),
            settings: (flat.settings.iter())
                .map(|&s| jaccard_bits(q.settings, s))
                .collect(),
            years: std::array::from_fn(|y| w[3] * scorer.experience(kind, q.years, y as u8)),
            zones: std::array::from_fn(|z| {
                w[4] * time_zone_closeness(q.tz_quarters, z as u8 as i8)
            }),
            needed: Scorer::candidate_flags(kind),
            kind,
            q_in_person: q.flags & flag::IN_PERSON != 0,
            q_inverse_limit: 1.0 / f32::from(own_travel_limit(q.flags, q.travel_km)),
            q_inverse_interests: 1.0 / f32::from(q.interest_count.max(1)),
        }
    }

    /// The population part of a score, unweighted, for populations number `p`.
    fn population(&self, p: u32) -> f32 {
        self.populations.get(p as usize).copied().unwrap_or(1.0)
    }

    /// The settings part of a score, unweighted, for settings number `s`.
    fn setting(&self, s: u32) -> f32 {
        self.settings.get(s as usize).copied().unwrap_or(1.0)
    }

    /// The bound of every row of a group of another profession, from its summary.
    #[inline]
    fn group(&self, flat: &Flat, scorer: &Scorer, group: &FlatGroup) -> f32 {
        let (q, w, summary) = (self.q, &self.w, &group.summary);
        let (common, union) = summary.setting_counts(q);
        let setting = common as f32 * flat.reciprocal(union);
        let interests = summary.common_interests(q) as f32 * self.q_inverse_interests;
        w[0] * self.population(group.population)
            + w[1] * setting
            + self.years[usize::from(summary.best_years(scorer, self.kind, q.years))]
            + w[4]
            + w[5] * interests
            + FLAT_MARGIN
    }

    /// What the rows of a group of another profession share in [`FlatBound::coarse`]: the
    /// group's populations, and nearness and interests at their best.
    fn group_base(&self, group: &FlatGroup) -> f32 {
        self.w[0] * self.population(group.population) + self.w[4] + self.w[5] + FLAT_MARGIN
    }

    /// A looser bound of a row of a group of another profession that reads only the row's
    /// part: `base` and its settings and years.
    #[inline]
    fn coarse(&self, base: f32, part: &FlatPart) -> f32 {
        base + self.w[1] * self.setting(part.setting) + self.years[usize::from(part.years)]
    }

    /// The weighted parts that come from tables: populations, settings, profession, years.
    #[inline(always)]
    fn tabled(&self, part: &FlatPart) -> f32 {
        let w = &self.w;
        let profession = if part.profession == self.q.profession {
            w[2]
        } else {
            0.0
        };
        w[0] * self.population(part.population)
            + w[1] * self.setting(part.setting)
            + profession
            + self.years[usize::from(part.years)]
    }

    #[inline]
    fn bound(&self, flat: &Flat, i: usize) -> f32 {
        let (Some(r), Some(part)) = (flat.rows.get(i), flat.parts.get(i)) else {
            return f32::NEG_INFINITY;
        };
        let (q, w) = (self.q, &self.w);
        let f = r.flags;
        let ok = Scorer::rules_hold(
            q,
            self.kind == Kind::Mentor,
            self.needed,
            f,
            r.years,
            r.languages,
        );
        let near = if self.q_in_person | (f & flag::IN_PERSON != 0) {
            let km = EARTH_RADIUS_KM * (1.0 - 1e-4) * chord2(q.xyz, r.xyz).sqrt();
            w[4] * (1.0 - km * self.q_inverse_limit.max(part.inverse_limit)).max(0.0)
        } else {
            self.zones[usize::from(r.tz_quarters as u8)]
        };
        let (q_interests, c_interests) = (u32::from(q.interest_count), u32::from(r.interest_count));
        let common = (q.interest_sig & r.interest_sig)
            .count_ones()
            .min(q_interests)
            .min(c_interests);
        let union = (q_interests + c_interests - common) as usize;
        let interests = w[5] * common as f32 * flat.reciprocal(union as u32);
        let bound = self.tabled(part) + near + interests + FLAT_MARGIN;
        if ok {
            bound
        } else {
            f32::NEG_INFINITY
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The two searches a round may use give what scoring everyone gives, for mentors and
    /// peers and with blocks: on a population whose buckets hold a row or two, and on one
    /// whose buckets are full (everyone shares populations and settings).
    #[test]
    fn the_round_searches_equal_scoring_everyone() {
        let spread = crate::synth::profiles(7, 3_000);
        let mut full = spread.clone();
        for p in &mut full {
            p.populations = spread[0].populations;
            p.settings = spread[0].settings;
        }
        let blocked = |a: PersonId, b: PersonId| (a.0 + b.0) % 7 == 0;
        let mut found = 0;
        for profiles in [spread, full] {
            let index = Index::build(ScoringConfig::default(), profiles.clone());
            let flat = Flat::of(&index);
            for seeker in profiles.iter().step_by(37).map(|p| p.id) {
                let Some((q, qx)) = index.slot_of(seeker).and_then(|s| index.packed_at(s)) else {
                    continue;
                };
                for (kind, k) in [(Kind::Mentor, 1), (Kind::Mentor, 50), (Kind::Peer, 10)] {
                    let all = index.suggest_exhaustive(seeker, kind, k, &blocked);
                    let query = Query {
                        seeker,
                        q: &q,
                        qx,
                        kind,
                        k,
                        exclude: &blocked,
                    };
                    let flat_found = index.suggest_flat(&flat, &query);
                    let unordered = index.suggest_unordered(&query);
                    assert_eq!(flat_found, all, "{kind:?} for {seeker:?}");
                    assert_eq!(unordered, all, "{kind:?} for {seeker:?}");
                    found += all.len();
                }
            }
        }
        assert!(found > 1_000, "{found} suggestions in all");
    }
}
