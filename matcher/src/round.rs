//! Matching rounds: mentees to mentors under capacities (matching.md §4).
//!
//! The exact solver maximises Σ score × priority with weights scaled to integers, so the
//! optimum is exact and reproducible. Its fast path is an ε-scaling auction with reverse
//! steps for mentor slots left empty (see `auction`). Should the auction ever exceed its work
//! budget, the round is solved instead as a min-cost flow source → mentee (1) → mentor
//! (−weight) → sink (free slots), with a zero-cost "stays unmatched" arc from every mentee to
//! the sink so that the flow maximises weight rather than size: mentees are added one at a
//! time, each followed by one shortest augmenting path found by Dijkstra on reduced costs
//! (successive shortest paths with potentials), stopping at the sink.

mod auction;

use std::cmp::Reverse;
use std::fmt;
use std::time::{Duration, Instant};

use crate::index::{Exclusion, Index};
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

    fn greedy(&self) -> Vec<Option<u32>> {
        let by_mentee = self.edges_by_mentee();
        let mut room = self.mentor_capacity.clone();
        let mut chosen = vec![None; self.mentee_priority.len()];
        for (mentee, edges) in by_mentee.iter().enumerate() {
            let best = edges
                .iter()
                .filter(|&&e| room[self.edges[e as usize].mentor as usize] > 0)
                .max_by_key(|&&e| (self.weight_units(&self.edges[e as usize]), Reverse(e)));
            if let Some(&e) = best {
                room[self.edges[e as usize].mentor as usize] -= 1;
                chosen[mentee] = Some(e);
            }
        }
        chosen
    }

    fn stable(&self) -> Vec<Option<u32>> {
        let mut by_mentee = self.edges_by_mentee();
        for edges in &mut by_mentee {
            edges.sort_by_key(|&e| (Reverse(self.weight_units(&self.edges[e as usize])), e));
        }
        let mut next = vec![0usize; by_mentee.len()];
        let mut held: Vec<Vec<(i64, u32)>> = vec![Vec::new(); self.mentor_capacity.len()];
        let mut chosen = vec![None; by_mentee.len()];
        let mut free: Vec<u32> = (0..by_mentee.len() as u32).rev().collect();
        while let Some(mentee) = free.pop() {
            let m = mentee as usize;
            let Some(&e) = by_mentee[m].get(next[m]) else {
                continue;
            };
            next[m] += 1;
            let edge = &self.edges[e as usize];
            let w = self.weight_units(edge);
            let j = edge.mentor as usize;
            let cap = self.mentor_capacity[j] as usize;
            if cap == 0 || w <= 0 {
                free.push(mentee);
                continue;
            }
            if held[j].len() < cap {
                held[j].push((w, mentee));
                chosen[m] = Some(e);
                continue;
            }
            // The mentor drops their least preferred: lowest weight, then highest index.
            let worst = held[j]
                .iter()
                .enumerate()
                .min_by_key(|(_, &(hw, hm))| (hw, Reverse(hm)))
                .map(|(i, &h)| (i, h));
            match worst {
                Some((i, (hw, hm))) if (w, Reverse(mentee)) > (hw, Reverse(hm)) => {
                    held[j][i] = (w, mentee);
                    chosen[m] = Some(e);
                    chosen[hm as usize] = None;
                    free.push(hm);
                }
                _ => free.push(mentee),
            }
        }
        chosen
    }

    fn edges_by_mentee(&self) -> Vec<Vec<u32>> {
        let mut by_mentee = vec![Vec::new(); self.mentee_priority.len()];
        for (i, e) in self.edges.iter().enumerate() {
            by_mentee[e.mentee as usize].push(i as u32);
        }
        by_mentee
    }

    fn exact(&self) -> Vec<Option<u32>> {
        auction::Auction::new(self)
            .run()
            .unwrap_or_else(|| ExactSolver::new(self).run())
    }
}

const NONE: u32 = u32::MAX;
const INF: i64 = i64::MAX / 4;

/// A priority queue for Dijkstra with integer keys that never go below the last one popped:
/// items sit in buckets by the highest bit in which they differ from that key, so a push is
/// O(1) and each item moves down at most 64 times.
struct RadixHeap {
    last: u64,
    len: usize,
    buckets: Vec<Vec<(u64, u32)>>,
}

impl RadixHeap {
    fn new() -> Self {
        Self {
            last: 0,
            len: 0,
            buckets: vec![Vec::new(); 65],
        }
    }

    fn bucket(&self, key: u64) -> usize {
        (64 - (key ^ self.last).leading_zeros()) as usize
    }

    fn push(&mut self, key: u64, value: u32) {
        let b = self.bucket(key.max(self.last));
        self.buckets[b].push((key.max(self.last), value));
        self.len += 1;
    }

    fn pop(&mut self) -> Option<(u64, u32)> {
        if self.len == 0 {
            return None;
        }
        if self.buckets[0].is_empty() {
            let b = self.buckets.iter().position(|b| !b.is_empty())?;
            let items = std::mem::take(&mut self.buckets[b]);
            self.last = items.iter().map(|&(k, _)| k).min()?;
            for &(k, v) in &items {
                let to = self.bucket(k);
                self.buckets[to].push((k, v));
            }
            // Hand the emptied allocation back so the next redistribution reuses it.
            let mut items = items;
            items.clear();
            if self.buckets[b].is_empty() {
                self.buckets[b] = items;
            }
        }
        self.len -= 1;
        self.buckets[0].pop()
    }

    fn clear(&mut self) {
        for b in &mut self.buckets {
            b.clear();
        }
        self.last = 0;
        self.len = 0;
    }
}

/// Per node: Dijkstra label, potential and how the node was reached, kept together so a
/// relaxation touches one cache line.
#[derive(Clone, Copy)]
struct Node {
    dist: i64,
    potential: i64,
    pred: u32,
    pred_arc: u32,
    done: bool,
}

/// Nodes are mentees `0..n` and mentors `n..n+m`; the sink is implicit with potential 0.
struct ExactSolver {
    n: usize,
    start: Vec<u32>,
    /// Per mentee, edges sorted by mentor: (mentor, weight, edge index).
    arcs: Vec<(u32, i64, u32)>,
    mate: Vec<u32>,
    mate_edge: Vec<u32>,
    /// Mentor `j` holds `held_len[j]` mentees in `held[held_start[j]..]`, with the weight of
    /// the edge that binds each one.
    held: Vec<(u32, i64)>,
    held_start: Vec<u32>,
    held_len: Vec<u32>,
    capacity: Vec<u32>,
    nodes: Vec<Node>,
    touched: Vec<u32>,
    finished: Vec<(u32, i64)>,
    heap: RadixHeap,
}

enum Exit {
    FreeMentor(u32),
    DropMentee(u32),
}

impl ExactSolver {
    fn new(instance: &RoundInstance) -> Self {
        let n = instance.mentee_priority.len();
        let m = instance.mentor_capacity.len();
        let mut count = vec![0u32; n + 1];
        for e in &instance.edges {
            count[e.mentee as usize + 1] += 1;
        }
        for i in 0..n {
            count[i + 1] += count[i];
        }
        let start = count.clone();
        let mut fill = count;
        let mut arcs = vec![(0u32, 0i64, 0u32); instance.edges.len()];
        for (i, e) in instance.edges.iter().enumerate() {
            let at = &mut fill[e.mentee as usize];
            arcs[*at as usize] = (e.mentor, instance.weight_units(e), i as u32);
            *at += 1;
        }
        for i in 0..n {
            arcs[start[i] as usize..start[i + 1] as usize]
                .sort_unstable_by_key(|a| (a.0, Reverse(a.1)));
        }
        // A mentor never holds more mentees than there are.
        let capacity: Vec<u32> = instance
            .mentor_capacity
            .iter()
            .map(|&c| c.min(n as u32))
            .collect();
        let mut held_start = Vec::with_capacity(m);
        let mut total = 0u32;
        for &c in &capacity {
            held_start.push(total);
            total += c;
        }
        let node = Node {
            dist: INF,
            potential: 0,
            pred: NONE,
            pred_arc: NONE,
            done: false,
        };
        Self {
            n,
            start,
            arcs,
            mate: vec![NONE; n],
            mate_edge: vec![NONE; n],
            held: vec![(NONE, 0); total as usize],
            held_start,
            held_len: vec![0; m],
            capacity,
            nodes: vec![node; n + m],
            touched: Vec::new(),
            finished: Vec::new(),
            heap: RadixHeap::new(),
        }
    }

    fn arcs_of(&self, mentee: usize) -> std::ops::Range<usize> {
        self.start[mentee] as usize..self.start[mentee + 1] as usize
    }

    fn held_of(&self, mentor: usize) -> std::ops::Range<usize> {
        let s = self.held_start[mentor] as usize;
        s..s + self.held_len[mentor] as usize
    }

    fn run(mut self) -> Vec<Option<u32>> {
        let mut order: Vec<(i64, u32)> = (0..self.n)
            .map(|i| {
                let best = self.arcs[self.arcs_of(i)]
                    .iter()
                    .map(|a| a.1)
                    .max()
                    .unwrap_or(0);
                (best, i as u32)
            })
            .filter(|&(best, _)| best > 0)
            .collect();
        // Strongest claims first: they mostly take their favourite without displacing anyone.
        order.sort_unstable_by_key(|&(best, i)| (Reverse(best), i));
        for (_, mentee) in order {
            self.add(mentee as usize);
        }
        self.mate_edge
            .iter()
            .map(|&e| (e != NONE).then_some(e))
            .collect()
    }

    fn reach(&mut self, node: usize, d: i64, pred: u32, arc: u32) {
        let state = &mut self.nodes[node];
        if state.dist == INF {
            self.touched.push(node as u32);
        }
        state.dist = d;
        state.pred = pred;
        state.pred_arc = arc;
        self.heap.push(d as u64, node as u32);
    }

    /// Adds mentee `s` and re-optimises: one shortest augmenting path from `s` to the sink.
    fn add(&mut self, s: usize) {
        let n = self.n;
        let mut claim = 0;
        for a in &self.arcs[self.arcs_of(s)] {
            claim = claim.max(self.nodes[n + a.0 as usize].potential + a.1);
        }
        self.nodes[s].potential = claim;
        self.reach(s, 0, NONE, NONE);
        let mut best = INF;
        let mut exit = Exit::DropMentee(s as u32);
        while let Some((d, node)) = self.heap.pop() {
            let d = d as i64;
            let u = node as usize;
            if d >= best {
                break;
            }
            let state = self.nodes[u];
            if state.done || d > state.dist {
                continue;
            }
            self.nodes[u].done = true;
            self.finished.push((node, d));
            let pu = state.potential;
            if u < n {
                if d + pu < best {
                    best = d + pu;
                    exit = Exit::DropMentee(node);
                }
                let mate = self.mate[u];
                for ai in self.arcs_of(u) {
                    let (mentor, w, _) = self.arcs[ai];
                    if mentor == mate {
                        continue;
                    }
                    let v = n + mentor as usize;
                    let nd = d + (pu - w - self.nodes[v].potential).max(0);
                    if nd < self.nodes[v].dist && nd < best {
                        self.reach(v, nd, node, ai as u32);
                    }
                }
            } else {
                let j = u - n;
                if self.held_len[j] < self.capacity[j] && d + pu < best {
                    best = d + pu;
                    exit = Exit::FreeMentor(j as u32);
                }
                for hi in self.held_of(j) {
                    let (k, w) = self.held[hi];
                    let k = k as usize;
                    let nd = d + (w + pu - self.nodes[k].potential).max(0);
                    if nd < self.nodes[k].dist && nd < best {
                        self.reach(k, nd, node, NONE);
                    }
                }
            }
        }
        self.heap.clear();
        for &(node, d) in &self.finished {
            self.nodes[node as usize].potential += d - best;
        }
        self.finished.clear();
        for &node in &self.touched {
            let state = &mut self.nodes[node as usize];
            state.dist = INF;
            state.done = false;
        }
        self.touched.clear();
        self.augment(s, exit);
    }

    fn augment(&mut self, s: usize, exit: Exit) {
        let n = self.n;
        let mut mentor = match exit {
            Exit::DropMentee(k) if k as usize == s => return,
            Exit::DropMentee(k) => {
                let k = k as usize;
                let j = self.mate[k] as usize;
                self.unassign(k, j);
                j
            }
            Exit::FreeMentor(j) => j as usize,
        };
        loop {
            let k = self.nodes[n + mentor].pred as usize;
            let arc = self.nodes[n + mentor].pred_arc as usize;
            let previous = self.mate[k];
            if previous != NONE {
                self.unassign(k, previous as usize);
            }
            let (_, w, edge) = self.arcs[arc];
            self.mate[k] = mentor as u32;
            self.mate_edge[k] = edge;
            let at = (self.held_start[mentor] + self.held_len[mentor]) as usize;
            self.held[at] = (k as u32, w);
            self.held_len[mentor] += 1;
            if k == s || previous == NONE {
                return;
            }
            mentor = previous as usize;
        }
    }

    fn unassign(&mut self, k: usize, j: usize) {
        let range = self.held_of(j);
        if let Some(i) = self.held[range.clone()]
            .iter()
            .position(|&(h, _)| h as usize == k)
        {
            let last = range.end - 1;
            self.held.swap(range.start + i, last);
            self.held_len[j] -= 1;
        }
        self.mate[k] = NONE;
        self.mate_edge[k] = NONE;
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
        let mut mentor_ids: Vec<PersonId> = Vec::new();
        let mut mentor_index = crate::hash::FastMap::<PersonId, u32>::default();
        let mut round = RoundInstance::default();
        let mut mentee_ids = Vec::new();
        for &id in mentees {
            let Some(profile) = self.get(id) else {
                continue;
            };
            let (q, qx) = pack(profile);
            let found = mentors.suggest_packed(id, &q, &qx, Kind::Mentor, candidates, exclude);
            let mentee = mentee_ids.len() as u32;
            mentee_ids.push(id);
            let iso = self.isolation(id, isolation).map_or(0.0, |i| i.score);
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
