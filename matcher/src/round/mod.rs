//! Matching rounds: mentees to mentors under capacities (matching.md §4).
//!
//! A round is a [`RoundInstance`] (mentee priorities, mentor capacities, scored edges) and
//! one of three solvers: `greedy` (each mentee in turn takes their best mentor with room),
//! `stable` (mentee-proposing deferred acceptance) and `exact` (the optimum of
//! Σ score × priority, by an auction with a min-cost-flow fallback). The index turns its
//! profiles into an instance with [`Index::mentorship_round`].

mod auction;
mod exact;
mod greedy;
mod stable;

use std::fmt;
use std::time::{Duration, Instant};

use crate::index::{Exclusion, Index, Suggestion};
use crate::isolation::IsolationConfig;
use crate::profile::{pack, PersonId};
use crate::score::Kind;

/// Weights are multiplied by this and rounded before the exact solver sees them.
pub const WEIGHT_SCALE: f64 = 1_000_000.0;

/// Priorities above this are rejected, which keeps the solvers' integer arithmetic far from
/// overflow (isolation gives priorities between 1 and 2).
pub const MAX_PRIORITY: f64 = 1000.0;

/// A round as plain numbers, the shape of the JSON instance in matching.md §7.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RoundInstance {
    /// Multiplies every score of that mentee; grows with isolation.
    pub mentee_priority: Vec<f64>,
    pub mentor_capacity: Vec<u32>,
    pub edges: Vec<RoundEdge>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RoundEdge {
    pub mentee: u32,
    pub mentor: u32,
    pub score: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Solver {
    /// First come, first served: mentees in order, each takes their best mentor with room.
    Greedy,
    /// Mentee-proposing deferred acceptance with capacities; no blocking pairs.
    Stable,
    /// Maximum total of score × priority.
    Exact,
}

impl Solver {
    pub fn name(self) -> &'static str {
        match self {
            Solver::Greedy => "greedy",
            Solver::Stable => "stable",
            Solver::Exact => "exact",
        }
    }
}

impl std::str::FromStr for Solver {
    type Err = RoundError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "greedy" => Ok(Solver::Greedy),
            "stable" => Ok(Solver::Stable),
            "exact" => Ok(Solver::Exact),
            other => Err(RoundError::UnknownSolver(other.to_owned())),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum RoundError {
    EdgeOutOfRange { edge: usize },
    BadScore { edge: usize },
    BadPriority { mentee: usize },
    UnknownSolver(String),
}

impl fmt::Display for RoundError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RoundError::EdgeOutOfRange { edge } => {
                write!(
                    f,
                    "edge {edge} refers to a mentee or mentor that does not exist"
                )
            }
            RoundError::BadScore { edge } => {
                write!(
                    f,
                    "edge {edge} has a score that is not a finite number in [0, 1]"
                )
            }
            RoundError::BadPriority { mentee } => {
                write!(
                    f,
                    "mentee {mentee} has a priority that is not a finite positive number"
                )
            }
            RoundError::UnknownSolver(s) => {
                write!(f, "unknown solver {s:?}; expected greedy, stable or exact")
            }
        }
    }
}

impl std::error::Error for RoundError {}

/// The outcome of a round.
#[derive(Clone, Debug, PartialEq)]
pub struct RoundReport {
    pub solver: Solver,
    /// For each mentee, the index of the chosen edge.
    pub chosen: Vec<Option<u32>>,
    /// Sum of score × priority over chosen edges.
    pub objective: f64,
    /// Sum of plain scores over chosen edges.
    pub total_score: f64,
    pub matched: usize,
    pub unmatched: Vec<u32>,
    /// Edges whose mentee and mentor would both rather have each other than what they got.
    pub blocking_pairs: usize,
    /// The solve alone.
    pub elapsed: Duration,
}

impl RoundInstance {
    pub fn validate(&self) -> Result<(), RoundError> {
        for (mentee, p) in self.mentee_priority.iter().enumerate() {
            if !(p.is_finite() && *p > 0.0 && *p <= MAX_PRIORITY) {
                return Err(RoundError::BadPriority { mentee });
            }
        }
        for (edge, e) in self.edges.iter().enumerate() {
            if e.mentee as usize >= self.mentee_priority.len()
                || e.mentor as usize >= self.mentor_capacity.len()
            {
                return Err(RoundError::EdgeOutOfRange { edge });
            }
            if !e.score.is_finite() || !(0.0..=1.0).contains(&e.score) {
                return Err(RoundError::BadScore { edge });
            }
        }
        Ok(())
    }

    /// score × priority of an edge.
    pub fn weight(&self, edge: &RoundEdge) -> f64 {
        edge.score
            * self
                .mentee_priority
                .get(edge.mentee as usize)
                .copied()
                .unwrap_or(0.0)
    }

    /// The integer weight the exact solver maximises.
    pub fn weight_units(&self, edge: &RoundEdge) -> i64 {
        (self.weight(edge) * WEIGHT_SCALE).round() as i64
    }

    pub fn solve(&self, solver: Solver) -> Result<RoundReport, RoundError> {
        self.validate()?;
        let started = Instant::now();
        let chosen = match solver {
            Solver::Greedy => self.greedy(),
            Solver::Stable => self.stable(),
            Solver::Exact => self.exact(),
        };
        let elapsed = started.elapsed();
        Ok(self.report(solver, chosen, elapsed))
    }

    /// Builds the report for any assignment (edge index per mentee).
    pub fn report(
        &self,
        solver: Solver,
        chosen: Vec<Option<u32>>,
        elapsed: Duration,
    ) -> RoundReport {
        let mut objective = 0.0;
        let mut total_score = 0.0;
        let mut unmatched = Vec::new();
        for (mentee, c) in chosen.iter().enumerate() {
            match c.and_then(|e| self.edges.get(e as usize)) {
                Some(edge) => {
                    objective += self.weight(edge);
                    total_score += edge.score;
                }
                None => unmatched.push(mentee as u32),
            }
        }
        RoundReport {
            solver,
            matched: chosen.len() - unmatched.len(),
            blocking_pairs: self.blocking_pairs(&chosen),
            chosen,
            objective,
            total_score,
            unmatched,
            elapsed,
        }
    }

    /// Pairs (mentee, mentor) joined by an edge where the mentee prefers this mentor to their
    /// own (or has none) and the mentor has room or prefers this mentee to one they hold.
    /// Both sides rank by the edge weight.
    pub fn blocking_pairs(&self, chosen: &[Option<u32>]) -> usize {
        let mentors = self.mentor_capacity.len();
        let mut load = vec![0u32; mentors];
        let mut weakest = vec![i64::MAX; mentors];
        let mut current: Vec<Option<(u32, i64)>> = vec![None; self.mentee_priority.len()];
        for (mentee, c) in chosen.iter().enumerate() {
            if let Some(e) = c.and_then(|e| self.edges.get(e as usize)) {
                let (j, w) = (e.mentor as usize, self.weight_units(e));
                load[j] += 1;
                weakest[j] = weakest[j].min(w);
                current[mentee] = Some((e.mentor, w));
            }
        }
        self.edges
            .iter()
            .filter(|e| {
                let w = self.weight_units(e);
                let mentee_wants = match current[e.mentee as usize] {
                    None => true,
                    Some((mentor, mine)) => mentor != e.mentor && w > mine,
                };
                let j = e.mentor as usize;
                let mentor_wants = load[j] < self.mentor_capacity[j] || weakest[j] < w;
                w > 0 && mentee_wants && mentor_wants
            })
            .count()
    }

    fn edges_by_mentee(&self) -> Vec<Vec<u32>> {
        let mut by_mentee = vec![Vec::new(); self.mentee_priority.len()];
        for (i, e) in self.edges.iter().enumerate() {
            by_mentee[e.mentee as usize].push(i as u32);
        }
        by_mentee
    }
}

/// A round built from the index, with the ids behind the instance's indices.
#[derive(Clone, Debug, PartialEq)]
pub struct MentorshipRound {
    pub instance: RoundInstance,
    pub mentee_ids: Vec<PersonId>,
    pub mentor_ids: Vec<PersonId>,
}

/// One proposed pair of a solved round.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Proposal {
    pub mentee: PersonId,
    pub mentor: PersonId,
    pub score: f64,
}

impl MentorshipRound {
    pub fn proposals(&self, report: &RoundReport) -> Vec<Proposal> {
        report
            .chosen
            .iter()
            .flatten()
            .filter_map(|&e| self.instance.edges.get(e as usize))
            .filter_map(|e| {
                Some(Proposal {
                    mentee: *self.mentee_ids.get(e.mentee as usize)?,
                    mentor: *self.mentor_ids.get(e.mentor as usize)?,
                    score: e.score,
                })
            })
            .collect()
    }

    pub fn unmatched(&self, report: &RoundReport) -> Vec<PersonId> {
        report
            .unmatched
            .iter()
            .filter_map(|&i| self.mentee_ids.get(i as usize).copied())
            .collect()
    }
}

/// Priority of a mentee in a round: 1 for the well connected up to 2 for the most isolated.
pub fn priority(isolation_score: f32) -> f64 {
    1.0 + f64::from(isolation_score.clamp(0.0, 1.0))
}

impl Index {
    /// Builds a round: for each mentee (who must seek a mentor) their best `candidates` open
    /// mentors under every hard rule, weighted by isolation. Mentors are searched in an index
    /// of open mentors only, so a round costs little even when the index is large.
    pub fn mentorship_round(
        &self,
        mentees: &[PersonId],
        candidates: usize,
        isolation: &IsolationConfig,
        exclude: Exclusion<'_>,
    ) -> MentorshipRound {
        let mentors = Index::build(
            self.config().clone(),
            self.profiles().filter(|p| p.is_open_mentor()).cloned(),
        );
        // Open mentors spread over nearly as many buckets as there are of them (in a
        // population of up to a few hundred thousand) are bounded row by row; fuller
        // buckets, bucket by bucket.
        let flat = (2 * mentors.len() < 3 * mentors.bucket_count())
            .then(|| crate::index::Flat::of(&mentors));
        // Each mentee's candidates and isolation, found on every core at once: the work is
        // independent per mentee and read-only. Mentees of one profession go one after
        // another, so that the rows each searches first and scores most are still in the
        // cache from the one before.
        let found: Vec<(PersonId, Vec<Suggestion>, f32)> = crate::parallel::map_on_every_core_by(
            mentees,
            |&id| self.get(id).map(|p| p.profession),
            |&id| {
                let profile = self.get(id)?;
                let (q, qx) = pack(profile);
                let query = crate::index::Query {
                    seeker: id,
                    q: &q,
                    qx: &qx,
                    kind: Kind::Mentor,
                    k: candidates,
                    exclude,
                };
                let found = match &flat {
                    Some(flat) => mentors.suggest_flat(flat, &query),
                    None => mentors.suggest_unordered(&query),
                };
                let iso = self.isolation(id, isolation).map_or(0.0, |i| i.score);
                Some((id, found, iso))
            },
        )
        .into_iter()
        .flatten()
        .collect();
        // Every list made at its full size at once: a round over 100,000 has a million
        // edges, which growing by doubling copied and faulted in several times over.
        let mut mentor_ids: Vec<PersonId> = Vec::with_capacity(mentors.len());
        let mut mentor_index = crate::hash::FastMap::<PersonId, u32>::default();
        mentor_index.reserve(mentors.len());
        let mut round = RoundInstance {
            mentee_priority: Vec::with_capacity(found.len()),
            mentor_capacity: Vec::with_capacity(mentors.len()),
            edges: Vec::with_capacity(found.iter().map(|(_, f, _)| f.len()).sum()),
        };
        let mut mentee_ids = Vec::with_capacity(found.len());
        for (id, found, iso) in found {
            let mentee = mentee_ids.len() as u32;
            mentee_ids.push(id);
            round.mentee_priority.push(priority(iso));
            for s in found {
                let mentor = *mentor_index.entry(s.id).or_insert_with(|| {
                    mentor_ids.push(s.id);
                    let cap = mentors
                        .get(s.id)
                        .map_or(0, |p| u32::from(p.free_mentor_slots));
                    round.mentor_capacity.push(cap);
                    (mentor_ids.len() - 1) as u32
                });
                round.edges.push(RoundEdge {
                    mentee,
                    mentor,
                    score: f64::from(s.score),
                });
            }
        }
        MentorshipRound {
            instance: round,
            mentee_ids,
            mentor_ids,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::exact::ExactSolver;
    use super::*;

    fn instance(priority: &[f64], capacity: &[u32], edges: &[(u32, u32, f64)]) -> RoundInstance {
        RoundInstance {
            mentee_priority: priority.to_vec(),
            mentor_capacity: capacity.to_vec(),
            edges: edges
                .iter()
                .map(|&(mentee, mentor, score)| RoundEdge {
                    mentee,
                    mentor,
                    score,
                })
                .collect(),
        }
    }

    #[test]
    fn exact_displaces_a_mentee_who_has_an_alternative() {
        // Greedy gives mentor 0 to mentee 0 and leaves mentee 1 with nobody.
        let r = instance(
            &[1.0, 1.0],
            &[1, 1],
            &[(0, 0, 0.9), (0, 1, 0.8), (1, 0, 0.85)],
        );
        let greedy = r.solve(Solver::Greedy).unwrap();
        let exact = r.solve(Solver::Exact).unwrap();
        assert_eq!(greedy.matched, 1);
        assert_eq!(exact.matched, 2);
        assert!((exact.objective - 1.65).abs() < 1e-9);
    }

    #[test]
    fn exact_leaves_a_mentee_unmatched_when_that_pays() {
        let r = instance(&[1.0, 2.0], &[1], &[(0, 0, 0.9), (1, 0, 0.5)]);
        let exact = r.solve(Solver::Exact).unwrap();
        assert_eq!(exact.unmatched, vec![0]);
        assert!((exact.objective - 1.0).abs() < 1e-9);
    }

    #[test]
    fn stable_has_no_blocking_pairs() {
        let r = instance(
            &[1.0, 1.0, 1.0],
            &[1, 1],
            &[
                (0, 0, 0.9),
                (0, 1, 0.8),
                (1, 0, 0.85),
                (2, 1, 0.7),
                (2, 0, 0.95),
            ],
        );
        assert_eq!(r.solve(Solver::Stable).unwrap().blocking_pairs, 0);
    }

    /// The fallback must stay exact on its own, since the auction rarely hands over to it.
    #[test]
    fn the_fallback_agrees_with_the_auction() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = |below: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % below
        };
        for _ in 0..300 {
            let (n, m) = (1 + next(30) as usize, 1 + next(8) as usize);
            let r = RoundInstance {
                mentee_priority: (0..n).map(|_| 1.0 + next(100) as f64 / 100.0).collect(),
                mentor_capacity: (0..m).map(|_| next(4) as u32).collect(),
                edges: (0..next(120))
                    .map(|_| RoundEdge {
                        mentee: next(n as u64) as u32,
                        mentor: next(m as u64) as u32,
                        score: next(1000) as f64 / 1000.0,
                    })
                    .collect(),
            };
            let units = |chosen: &[Option<u32>]| -> i64 {
                chosen
                    .iter()
                    .flatten()
                    .map(|&e| r.weight_units(&r.edges[e as usize]))
                    .sum()
            };
            let auction = auction::Auction::new(&r).run().unwrap();
            let flow = ExactSolver::new(&r).run();
            assert_eq!(units(&auction), units(&flow));
        }
    }

    #[test]
    fn bad_instances_are_rejected() {
        let r = instance(&[1.0], &[1], &[(0, 3, 0.5)]);
        assert_eq!(
            r.solve(Solver::Exact),
            Err(RoundError::EdgeOutOfRange { edge: 0 })
        );
        let r = instance(&[1.0], &[1], &[(0, 0, f64::NAN)]);
        assert_eq!(
            r.solve(Solver::Exact),
            Err(RoundError::BadScore { edge: 0 })
        );
    }
}
