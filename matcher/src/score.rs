//! Scoring one pair: components, weights, hard rules and reasons (matching.md §1).

use crate::geo::{arc_km, rounded_to_10_km};
use crate::profile::{flag, pack, sorted_overlap, tag_hash, Exact, Packed, Profile};
use crate::vocab::{join_phrases, Vocabulary};

/// What the seeker is looking for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Peer,
    /// The seeker is the mentee; candidates are mentors.
    Mentor,
}

/// The named parts of a score, in the order they are summed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Component {
    PopulationOverlap,
    SettingOverlap,
    SameProfession,
    ExperienceFit,
    Nearness,
    SharedInterests,
}

impl Component {
    pub const ALL: [Component; 6] = [
        Component::PopulationOverlap,
        Component::SettingOverlap,
        Component::SameProfession,
        Component::ExperienceFit,
        Component::Nearness,
        Component::SharedInterests,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Component::PopulationOverlap => "population_overlap",
            Component::SettingOverlap => "setting_overlap",
            Component::SameProfession => "same_profession",
            Component::ExperienceFit => "experience_fit",
            Component::Nearness => "nearness",
            Component::SharedInterests => "shared_interests",
        }
    }
}

/// Relative importance of each component. Only ratios matter: weights are divided by their
/// sum, so a score always lies in [0, 1].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Weights {
    pub population: f32,
    pub setting: f32,
    pub profession: f32,
    pub experience: f32,
    pub nearness: f32,
    pub interests: f32,
}

impl Weights {
    pub const PEER: Weights = Weights {
        population: 0.30,
        setting: 0.20,
        profession: 0.15,
        experience: 0.10,
        nearness: 0.15,
        interests: 0.10,
    };
    pub const MENTOR: Weights = Weights {
        population: 0.25,
        setting: 0.20,
        profession: 0.15,
        experience: 0.20,
        nearness: 0.10,
        interests: 0.10,
    };

    fn normalised(&self) -> [f32; 6] {
        let raw = [
            self.population,
            self.setting,
            self.profession,
            self.experience,
            self.nearness,
            self.interests,
        ]
        .map(|w| if w.is_finite() { w.max(0.0) } else { 0.0 });
        let sum: f32 = raw.iter().sum();
        if sum > 0.0 {
            raw.map(|w| w / sum)
        } else {
            [0.0; 6]
        }
    }
}

/// Everything that shapes a score. `Default` gives the values of matching.md §1.
#[derive(Clone, Debug, PartialEq)]
pub struct ScoringConfig {
    pub peer: Weights,
    pub mentor: Weights,
    /// Peer experience fit falls linearly from 1 (same years) to 0 at this gap.
    pub peer_years_gap_to_zero: f32,
    /// A mentor this many more years than the mentee (inclusive range) fits perfectly.
    pub mentor_ideal_gap: (u8, u8),
    /// Components contributing at least this much become reasons.
    pub reason_threshold: f32,
}

impl Default for ScoringConfig {
    fn default() -> Self {
        Self {
            peer: Weights::PEER,
            mentor: Weights::MENTOR,
            peer_years_gap_to_zero: 20.0,
            mentor_ideal_gap: (5, 15),
            reason_threshold: 0.05,
        }
    }
}

impl ScoringConfig {
    /// The score of `candidate` for `seeker`, or `None` when a hard rule that depends only on
    /// the two profiles forbids the pair. Blocks, suspensions and existing or recently
    /// declined connections are the caller's to exclude.
    pub fn score(&self, seeker: &Profile, candidate: &Profile, kind: Kind) -> Option<f32> {
        let scorer = Scorer::new(self);
        let (q, qx) = pack(seeker);
        let (c, cx) = pack(candidate);
        if seeker.id == candidate.id {
            return None;
        }
        scorer.evaluate(&q, &qx, &c, &cx, kind).map(|e| e.score)
    }

    /// The score and the reasons a person would read.
    pub fn explain(
        &self,
        seeker: &Profile,
        candidate: &Profile,
        kind: Kind,
        vocabulary: &Vocabulary,
    ) -> Option<Explanation> {
        let scorer = Scorer::new(self);
        let (q, qx) = pack(seeker);
        let (c, cx) = pack(candidate);
        if seeker.id == candidate.id {
            return None;
        }
        let eval = scorer.evaluate(&q, &qx, &c, &cx, kind)?;
        Some(scorer.explanation(&eval, seeker, candidate, kind, vocabulary))
    }
}

/// One line of "why": `{code, label, contribution}`.
#[derive(Clone, Debug, PartialEq)]
pub struct Reason {
    pub code: &'static str,
    pub label: String,
    /// Weighted share of the score, in [0, 1].
    pub contribution: f32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Explanation {
    pub score: f32,
    /// Largest contribution first.
    pub reasons: Vec<Reason>,
}

/// A scored pair before any words are attached.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Evaluation {
    pub score: f32,
    pub parts: [f32; 6],
    /// Set when nearness was judged by distance rather than time zone.
    pub distance_km: Option<f32>,
}

/// A [`ScoringConfig`] in the form the scan uses.
#[derive(Clone, Debug)]
pub(crate) struct Scorer {
    weights: [[f32; 6]; 2],
    peer_years_inverse_scale: f32,
    mentor_ideal_low: f32,
    mentor_ideal_high: f32,
    reason_threshold: f32,
}

pub(crate) fn jaccard_bits(a: u32, b: u32) -> f32 {
    (a & b).count_ones() as f32 / (a | b).count_ones().max(1) as f32
}

pub(crate) fn jaccard_counts(common: u32, a: u32, b: u32) -> f32 {
    common as f32 / (a + b - common).max(1) as f32
}

/// Upper bound of the interest Jaccard from the 64-bit signatures: hash collisions can only
/// add common bits, never remove them.
#[inline(always)]
pub(crate) fn interest_bound(q_sig: u64, q_count: u8, c_sig: u64, c_count: u8) -> f32 {
    let common = (q_sig & c_sig)
        .count_ones()
        .min(u32::from(q_count))
        .min(u32::from(c_count));
    jaccard_counts(common, u32::from(q_count), u32::from(c_count))
}

/// Nearness from a distance (or a lower bound of it) when someone meets in person.
#[inline(always)]
pub(crate) fn nearness_at(distance_km: f32, limit_km: f32) -> f32 {
    (1.0 - distance_km / limit_km).max(0.0)
}

/// Summing always in this order lets a bound built from larger parts stay above the score.
#[inline(always)]
pub(crate) fn combine(w: &[f32; 6], p: [f32; 6]) -> f32 {
    (w[0] * p[0] + w[1] * p[1] + w[2] * p[2] + w[3] * p[3] + w[4] * p[4] + w[5] * p[5]).min(1.0)
}

/// The nearest travel limit among the sides that meet in person, at least 1 km.
#[inline]
pub(crate) fn travel_limit(q: &Packed, c: &Packed) -> f32 {
    f32::from(own_travel_limit(q.flags, q.travel_km).min(own_travel_limit(c.flags, c.travel_km)))
}

/// One side's travel limit: theirs, at least 1 km, when they meet in person; none otherwise.
#[inline]
pub(crate) fn own_travel_limit(flags: u8, travel_km: u16) -> u16 {
    if flags & flag::IN_PERSON != 0 {
        travel_km.max(1)
    } else {
        u16::MAX
    }
}

pub(crate) fn time_zone_closeness(a: i8, b: i8) -> f32 {
    let diff = (i16::from(a) - i16::from(b)).unsigned_abs() % 96;
    let diff = diff.min(96 - diff);
    (1.0 - f32::from(diff) / 48.0).max(0.0)
}

impl Scorer {
    pub fn new(config: &ScoringConfig) -> Self {
        let (lo, hi) = config.mentor_ideal_gap;
        Self {
            weights: [config.peer.normalised(), config.mentor.normalised()],
            peer_years_inverse_scale: 1.0 / config.peer_years_gap_to_zero.max(1.0),
            mentor_ideal_low: f32::from(lo.min(hi)),
            mentor_ideal_high: f32::from(hi.max(lo)),
            reason_threshold: config.reason_threshold,
        }
    }

    #[inline(always)]
    pub fn weights(&self, kind: Kind) -> &[f32; 6] {
        &self.weights[kind as usize]
    }

    /// Experience fit of a candidate with `c` years for a seeker with `q`. Written without
    /// branches so the scan vectorises; a mentor with fewer years is excluded by
    /// [`Scorer::cheap_rules`] and scores 0 here.
    #[inline(always)]
    pub fn experience_fit<const MENTOR: bool>(&self, q: u8, c: u8) -> f32 {
        let gap = f32::from(c) - f32::from(q);
        if MENTOR {
            let lo = self.mentor_ideal_low;
            let rising = 0.4 + 0.6 * gap / lo.max(1.0);
            let falling = (1.0 - (gap - self.mentor_ideal_high) / 20.0).clamp(0.3, 1.0);
            let fit = if gap < lo { rising } else { falling };
            if gap < 0.0 {
                0.0
            } else {
                fit
            }
        } else {
            (1.0 - gap.abs() * self.peer_years_inverse_scale).max(0.0)
        }
    }

    /// The candidate years at the ends of a mentor's ideal gap above `q`.
    pub fn mentor_ideal_years(&self, q: u8) -> (u8, u8) {
        let at = |gap: f32| q.saturating_add(gap as u8);
        (at(self.mentor_ideal_low), at(self.mentor_ideal_high))
    }

    #[inline(always)]
    pub fn experience(&self, kind: Kind, q: u8, c: u8) -> f32 {
        match kind {
            Kind::Peer => self.experience_fit::<false>(q, c),
            Kind::Mentor => self.experience_fit::<true>(q, c),
        }
    }

    /// The hard rules that need only the packed fields.
    #[inline(always)]
    pub fn cheap_rules(kind: Kind, q: &Packed, c_flags: u8, c_years: u8, c_langs: u64) -> bool {
        Self::rules_hold(
            q,
            kind == Kind::Mentor,
            Self::candidate_flags(kind),
            c_flags,
            c_years,
            c_langs,
        )
    }

    /// [`Scorer::cheap_rules`] without a branch, so that the searches' loops over rows
    /// vectorise: `needed` is [`Scorer::candidate_flags`] of the kind.
    #[inline(always)]
    pub(crate) fn rules_hold(
        q: &Packed,
        mentor: bool,
        needed: u8,
        c_flags: u8,
        c_years: u8,
        c_langs: u64,
    ) -> bool {
        (c_flags & needed == needed)
            & (q.languages & c_langs != 0)
            & (q.flags & c_flags & flag::MODES != 0)
            & (!mentor | (c_years >= q.years))
    }

    /// The flags a candidate of this kind must have.
    #[inline(always)]
    pub(crate) fn candidate_flags(kind: Kind) -> u8 {
        match kind {
            Kind::Peer => flag::ELIGIBLE | flag::SEEKS_PEERS,
            Kind::Mentor => flag::ELIGIBLE | flag::OPEN_MENTOR,
        }
    }

    /// Whether the seeker may ask at all for this kind.
    pub fn seeker_allowed(kind: Kind, q: &Packed) -> bool {
        let needed = match kind {
            Kind::Peer => flag::ELIGIBLE,
            Kind::Mentor => flag::ELIGIBLE | flag::SEEKS_MENTOR,
        };
        q.flags & needed == needed
    }

    /// Full evaluation of a pair that passed [`Scorer::cheap_rules`] or not: applies every
    /// profile-only hard rule and returns the exact score.
    pub fn evaluate(
        &self,
        q: &Packed,
        qx: &Exact,
        c: &Packed,
        cx: &Exact,
        kind: Kind,
    ) -> Option<Evaluation> {
        if !Self::seeker_allowed(kind, q)
            || !Self::cheap_rules(kind, q, c.flags, c.years, c.languages)
        {
            return None;
        }
        if !Exact::share_language(q, qx, c, cx) {
            return None;
        }
        let in_person = (q.flags | c.flags) & flag::IN_PERSON != 0;
        let distance = in_person.then(|| arc_km(q.xyz, c.xyz));
        let only_in_person = |p: &Packed| p.flags & flag::MODES == flag::IN_PERSON;
        if let Some(d) = distance {
            if only_in_person(q)
                && only_in_person(c)
                && (d > f32::from(q.travel_km) || d > f32::from(c.travel_km))
            {
                return None;
            }
        }
        let nearness = match distance {
            Some(d) => nearness_at(d, travel_limit(q, c)),
            None => time_zone_closeness(q.tz_quarters, c.tz_quarters),
        };
        let common = u32::try_from(sorted_overlap(
            qx.interests.as_slice(),
            cx.interests.as_slice(),
        ))
        .unwrap_or(u32::MAX);
        let parts = [
            jaccard_bits(q.populations, c.populations),
            jaccard_bits(q.settings, c.settings),
            if q.profession == c.profession {
                1.0
            } else {
                0.0
            },
            self.experience(kind, q.years, c.years),
            nearness,
            jaccard_counts(
                common,
                u32::from(q.interest_count),
                u32::from(c.interest_count),
            ),
        ];
        Some(Evaluation {
            score: combine(self.weights(kind), parts),
            parts,
            distance_km: distance,
        })
    }

    pub fn explanation(
        &self,
        eval: &Evaluation,
        seeker: &Profile,
        candidate: &Profile,
        kind: Kind,
        vocabulary: &Vocabulary,
    ) -> Explanation {
        let weights = self.weights(kind);
        let mut reasons: Vec<Reason> = Component::ALL
            .iter()
            .zip(weights.iter().zip(eval.parts))
            .map(|(&component, (&w, part))| (component, w * part))
            .filter(|&(_, contribution)| {
                contribution >= self.reason_threshold && contribution > 0.0
            })
            .map(|(component, contribution)| Reason {
                code: component.code(),
                label: label(component, eval, seeker, candidate, kind, vocabulary),
                contribution,
            })
            .collect();
        reasons.sort_by(|a, b| b.contribution.total_cmp(&a.contribution));
        Explanation {
            score: eval.score,
            reasons,
        }
    }
}

fn label(
    component: Component,
    eval: &Evaluation,
    seeker: &Profile,
    candidate: &Profile,
    kind: Kind,
    vocabulary: &Vocabulary,
) -> String {
    match component {
        Component::PopulationOverlap => {
            let shared = seeker.populations.intersection(candidate.populations);
            format!(
                "You both work with {}",
                join_phrases(shared.ids().map(|id| vocabulary.population_phrase(id)))
            )
        }
        Component::SettingOverlap => {
            let shared = seeker.settings.intersection(candidate.settings);
            format!(
                "You both practise in {}",
                join_phrases(shared.ids().map(|id| vocabulary.setting_phrase(id)))
            )
        }
        Component::SameProfession => format!(
            "You are both {}",
            vocabulary.profession_phrase(seeker.profession)
        ),
        Component::ExperienceFit => {
            let (mine, theirs) = (seeker.years_experience, candidate.years_experience);
            match kind {
                Kind::Peer if mine == theirs => {
                    format!("You have the same experience ({mine} years)")
                }
                Kind::Peer => format!(
                    "You have similar experience ({} and {} years)",
                    mine.min(theirs),
                    mine.max(theirs)
                ),
                Kind::Mentor => format!(
                    "{} years of experience, {} more than you",
                    theirs,
                    theirs.saturating_sub(mine)
                ),
            }
        }
        Component::Nearness => match eval.distance_km.map(rounded_to_10_km) {
            Some(0) => "Less than 10 km away".to_owned(),
            Some(km) => format!("About {km} km away"),
            None => {
                let diff = seeker
                    .utc_offset_minutes
                    .abs_diff(candidate.utc_offset_minutes);
                let diff = diff.min((24 * 60u16).saturating_sub(diff));
                if diff == 0 {
                    "In your time zone".to_owned()
                } else if diff == 60 {
                    "1 hour from your time zone".to_owned()
                } else {
                    let hours = f32::from(diff) / 60.0;
                    format!("{hours} hours from your time zone")
                }
            }
        },
        Component::SharedInterests => {
            let mine: Vec<u64> = seeker.interests.iter().map(|t| tag_hash(t)).collect();
            let mut seen = Vec::new();
            let mut shared = Vec::new();
            for tag in &candidate.interests {
                let h = tag_hash(tag);
                if !tag.trim().is_empty() && mine.contains(&h) && !seen.contains(&h) {
                    seen.push(h);
                    shared.push(tag.trim().to_lowercase());
                }
            }
            format!(
                "You share an interest in {}",
                join_phrases(shared.iter().map(String::as_str))
            )
        }
    }
}
