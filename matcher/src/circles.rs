//! Circles: partitioning the practitioners who asked for a community of practice into small
//! groups (matching.md §8).
//!
//! The value of a circle is the sum over its members of their mean peer score to the others,
//! each weighted by their priority (1 for the well connected up to 2 for the most isolated,
//! as in rounds); a formation's objective is the sum over its circles. Hard constraints: the
//! cap, working hours that overlap for every pair, no blocked pair, the same profession
//! unless the round is interprofessional, and every profile-only rule of a peer pair.
//!
//! The method: candidate neighbours from a few sorted orders of the seekers (by client
//! populations, settings, time zone, place and interests: never all pairs), a greedy
//! construction that seeds circles at the most isolated unplaced person and grows each by the
//! best marginal value, then a local search of moves and swaps between circles that stops
//! when no move improves the objective, after `max_passes` passes or at the time budget.
//! Nothing is random, so a run is the same for the same input.

use std::time::{Duration, Instant};

use crate::hash::FastMap;
use crate::index::{Exclusion, Index};
use crate::profile::{flag, Exact, Packed, PersonId};
use crate::round::priority;
use crate::score::Kind;

/// The largest cap a circle may have.
pub const MAX_CIRCLE: usize = 8;

/// What a formation must respect and how hard it searches.
#[derive(Clone, Debug, PartialEq)]
pub struct CircleRules {
    /// Most members in one circle (at most [`MAX_CIRCLE`]).
    pub cap: usize,
    /// Fewest members a circle is formed with.
    pub min_size: usize,
    /// Length of a working day, in minutes of local time starting at the same hour.
    pub working_minutes: u16,
    /// Every pair's working hours overlap by at least this much.
    pub min_overlap_minutes: u16,
    /// Whether members may be of different professions.
    pub interprofessional: bool,
    /// Candidate neighbours kept for each person.
    pub neighbours: usize,
    /// How far along each sorted order a person looks for neighbours.
    pub window: usize,
    /// Passes of the local search at most. Two reach 99.5 % of what eight do over 100,000
    /// seekers (the greedy construction is 96 % of it), in three quarters of the time.
    pub max_passes: usize,
    /// The local search stops after this long, if set.
    pub time_budget: Option<Duration>,
}

impl Default for CircleRules {
    fn default() -> Self {
        Self {
            cap: 6,
            min_size: 4,
            working_minutes: 8 * 60,
            min_overlap_minutes: 2 * 60,
            interprofessional: false,
            neighbours: 10,
            window: 6,
            max_passes: 2,
            time_budget: None,
        }
    }
}

impl CircleRules {
    fn cap(&self) -> usize {
        self.cap.clamp(2, MAX_CIRCLE)
    }

    fn min_size(&self) -> usize {
        self.min_size.clamp(2, self.cap())
    }

    /// The largest difference of UTC offsets (minutes) at which working hours still overlap
    /// by the minimum. Offsets are compared on a line, so a circle's spread of offsets is
    /// what must stay within it (then all members share that overlap at once).
    pub fn max_offset_gap(&self) -> i32 {
        i32::from(self.working_minutes) - i32::from(self.min_overlap_minutes)
    }
}

/// Why someone who asked for a circle is not in one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Unplaced {
    /// Not in the index, not verified or not active.
    NotEligible,
    /// Nobody else of their profession who asked has working hours that overlap theirs.
    NoOverlap,
    /// Too few similar people who fit together were left to make a circle.
    TooFewSimilar,
}

impl Unplaced {
    pub fn code(self) -> &'static str {
        match self {
            Unplaced::NotEligible => "not_eligible",
            Unplaced::NoOverlap => "no_overlap",
            Unplaced::TooFewSimilar => "too_few_similar",
        }
    }
}

/// One circle of a formation.
#[derive(Clone, Debug, PartialEq)]
pub struct FormedCircle {
    pub members: Vec<PersonId>,
    /// Mean peer score over every pair of members.
    pub mean_score: f64,
    /// Its part of the objective.
    pub value: f64,
}

/// The result of [`Index::form_circles`].
#[derive(Clone, Debug, Default)]
pub struct Formation {
    /// Circles, most valuable first (ties: lowest first member).
    pub circles: Vec<FormedCircle>,
    /// Everyone who asked and is in no circle, with the reason, in id order.
    pub unplaced: Vec<(PersonId, Unplaced)>,
    pub objective: f64,
    /// The objective after the greedy construction, before the local search.
    pub greedy_objective: f64,
    /// Moves and swaps the local search made.
    pub improvements: usize,
    pub elapsed: Duration,
}

/// One seeker as scored: packed as someone who seeks peers.
struct Seeker {
    id: PersonId,
    packed: Packed,
    /// A copy, so that the people scored together sit together in memory.
    exact: Exact,
    weight: f64,
    offset: i32,
    partition: u16,
    /// Where they are on a Z-order curve, so that neighbours sort near each other.
    place: u64,
}

const NONE: u32 = u32::MAX;

/// One of the orders neighbours are looked for along.
type SortKey = fn(&Seeker) -> (u64, u64);

/// A circle during the search: members and the scores between them.
#[derive(Clone)]
struct Circle {
    members: Vec<u32>,
    scores: [[f32; MAX_CIRCLE]; MAX_CIRCLE],
}

impl Circle {
    fn row_sum(&self, i: usize) -> f64 {
        self.scores[i][..self.members.len()]
            .iter()
            .map(|&s| f64::from(s))
            .sum()
    }

    /// Every member's total score to the others.
    fn rows(&self) -> [f64; MAX_CIRCLE] {
        std::array::from_fn(|i| {
            if i < self.members.len() {
                self.row_sum(i)
            } else {
                0.0
            }
        })
    }
}

struct Search<'a> {
    index: &'a Index,
    rules: &'a CircleRules,
    exclude: Exclusion<'a>,
    people: Vec<Seeker>,
    neighbours: Vec<Vec<(f32, u32)>>,
    circle_of: Vec<u32>,
    circles: Vec<Circle>,
    /// Who lists each person among their neighbours: `listed_by[listed_at[p]..listed_at[p + 1]]`.
    listed_at: Vec<u32>,
    listed_by: Vec<u32>,
    /// Who the local search should look at again: someone whose circle, or whose
    /// neighbour's circle, has changed since they were last looked at.
    dirty: Vec<bool>,
}

impl<'a> Search<'a> {
    fn new(
        index: &'a Index,
        rules: &'a CircleRules,
        exclude: Exclusion<'a>,
        people: Vec<Seeker>,
    ) -> Self {
        let count = people.len();
        Self {
            index,
            rules,
            exclude,
            people,
            neighbours: Vec::new(),
            circle_of: vec![NONE; count],
            circles: Vec::new(),
            listed_at: Vec::new(),
            listed_by: Vec::new(),
            dirty: vec![true; count],
        }
    }

    /// The peer score of two seekers, or `None` when they may not share a circle.
    fn pair(&self, a: u32, b: u32) -> Option<f32> {
        let (x, y) = (&self.people[a as usize], &self.people[b as usize]);
        if a == b
            || x.partition != y.partition
            || (x.offset - y.offset).abs() > self.rules.max_offset_gap()
            || (self.exclude)(x.id, y.id)
        {
            return None;
        }
        self.index
            .scorer()
            .evaluate(&x.packed, &x.exact, &y.packed, &y.exact, Kind::Peer)
            .map(|e| e.score)
    }

    fn weight(&self, p: u32) -> f64 {
        self.people[p as usize].weight
    }

    /// Value of members with row sums `rows` (each member's total score to the others).
    fn value_of(&self, members: &[u32], rows: impl Iterator<Item = f64>) -> f64 {
        if members.len() < 2 {
            return 0.0;
        }
        let total: f64 = members
            .iter()
            .zip(rows)
            .map(|(&m, r)| self.weight(m) * r)
            .sum();
        total / (members.len() - 1) as f64
    }

    fn value(&self, c: &Circle) -> f64 {
        self.value_of(&c.members, c.rows().into_iter())
    }

    /// Value of `c` without member `p` and, if given, with `add` (its scores to each member,
    /// the one at `p` ignored) in its place.
    /// `rows` are the circle's [`Circle::rows`].
    fn value_changed(
        &self,
        c: &Circle,
        rows: &[f64; MAX_CIRCLE],
        p: Option<usize>,
        add: Option<(u32, &[f32])>,
    ) -> f64 {
        let n = c.members.len();
        let kept = (0..n).filter(|&i| Some(i) != p);
        let mut total = 0.0;
        let mut count = 0usize;
        let mut added_sum = 0.0;
        for i in kept {
            let mut r = rows[i] - p.map_or(0.0, |p| f64::from(c.scores[i][p]));
            if let Some((_, t)) = add {
                r += f64::from(t[i]);
                added_sum += f64::from(t[i]);
            }
            total += self.weight(c.members[i]) * r;
            count += 1;
        }
        if let Some((x, _)) = add {
            total += self.weight(x) * added_sum;
            count += 1;
        }
        if count < 2 {
            0.0
        } else {
            total / (count - 1) as f64
        }
    }

    /// Scores of `x` to each member of `c`, `None` if it may not sit with one of them.
    fn scores_to(&self, x: u32, c: &Circle, buf: &mut [Option<f32>; MAX_CIRCLE]) {
        let known = self
            .neighbours
            .get(x as usize)
            .map_or(&[][..], Vec::as_slice);
        for (slot, &m) in buf.iter_mut().zip(&c.members) {
            // A neighbour's score was found (and allowed) when the lists were made.
            *slot = match known.iter().find(|&&(_, y)| y == m) {
                Some(&(s, _)) => Some(s),
                None => self.pair(x, m),
            };
        }
    }

    /// Marks for another look those a change to circle `c` by `x` moving concerns most:
    /// its members (their circle changed), and `x` and whoever lists `x` as a neighbour
    /// (where `x` sits changed the circles they could join).
    fn touch(&mut self, c: u32, x: u32) {
        for &m in &self.circles[c as usize].members {
            self.dirty[m as usize] = true;
        }
        self.dirty[x as usize] = true;
        let (from, to) = (
            self.listed_at[x as usize] as usize,
            self.listed_at[x as usize + 1] as usize,
        );
        for &y in &self.listed_by[from..to] {
            self.dirty[y as usize] = true;
        }
    }

    fn commit(&mut self, members: Vec<u32>) -> u32 {
        let mut scores = [[0f32; MAX_CIRCLE]; MAX_CIRCLE];
        for (i, &a) in members.iter().enumerate() {
            for (j, &b) in members.iter().enumerate() {
                if i != j {
                    scores[i][j] = self.pair(a, b).unwrap_or(0.0);
                }
            }
        }
        let c = self.circles.len() as u32;
        for &m in &members {
            self.circle_of[m as usize] = c;
        }
        self.circles.push(Circle { members, scores });
        c
    }

    fn remove(&mut self, c: u32, p: usize) -> u32 {
        let circle = &mut self.circles[c as usize];
        let n = circle.members.len();
        let x = circle.members.remove(p);
        for row in circle.scores.iter_mut().take(n) {
            row.copy_within(p + 1..n, p);
            row[n - 1] = 0.0;
        }
        circle.scores.copy_within(p + 1..n, p);
        circle.scores[n - 1] = [0.0; MAX_CIRCLE];
        self.circle_of[x as usize] = NONE;
        self.touch(c, x);
        x
    }

    fn insert(&mut self, c: u32, x: u32, t: &[f32]) {
        let circle = &mut self.circles[c as usize];
        let n = circle.members.len();
        circle.members.push(x);
        for (i, &s) in t.iter().enumerate().take(n) {
            circle.scores[i][n] = s;
            circle.scores[n][i] = s;
        }
        self.circle_of[x as usize] = c;
        self.touch(c, x);
    }

    /// Candidate neighbours: along each of a few orders of each partition, every person is
    /// scored against the next `window`; each keeps their best `neighbours`.
    fn find_neighbours(&mut self, by_partition: &[Vec<u32>]) {
        let keep = self.rules.neighbours.max(1);
        let window = self.rules.window.max(1);
        let mut lists: Vec<Vec<(f32, u32)>> = vec![Vec::new(); self.people.len()];
        let offer = |list: &mut Vec<(f32, u32)>, s: f32, y: u32| {
            if list.iter().any(|&(_, z)| z == y) {
                return;
            }
            let at = list.partition_point(|&(t, z)| t > s || (t == s && z < y));
            if at < keep {
                list.insert(at, (s, y));
                list.truncate(keep);
            }
        };
        for members in by_partition {
            let mut order = Vec::with_capacity(members.len());
            let orders: [SortKey; 4] = [
                |p| {
                    (
                        u64::from(p.packed.populations) << 32 | u64::from(p.packed.settings),
                        tz_then_place(p),
                    )
                },
                |p| {
                    (
                        u64::from(p.packed.settings) << 32 | u64::from(p.packed.populations),
                        p.place,
                    )
                },
                |p| (tz_then_place(p), u64::from(p.packed.populations)),
                |p| {
                    (
                        u64::from(p.packed.populations) << 32 | u64::from(p.packed.years),
                        p.packed.interest_sig,
                    )
                },
            ];
            for key in orders {
                let mut keyed: Vec<((u64, u64), u32)> = members
                    .iter()
                    .map(|&i| (key(&self.people[i as usize]), i))
                    .collect();
                keyed.sort_unstable();
                order.clear();
                order.extend(keyed.into_iter().map(|(_, i)| i));
                for (at, &a) in order.iter().enumerate() {
                    for &b in order.iter().skip(at + 1).take(window) {
                        if let Some(s) = self.pair(a, b) {
                            offer(&mut lists[a as usize], s, b);
                            offer(&mut lists[b as usize], s, a);
                        }
                    }
                }
            }
        }
        let mut listed_at = vec![0u32; self.people.len() + 1];
        for list in &lists {
            for &(_, y) in list {
                listed_at[y as usize + 1] += 1;
            }
        }
        for i in 1..listed_at.len() {
            listed_at[i] += listed_at[i - 1];
        }
        let mut fill = listed_at.clone();
        let mut listed_by = vec![0u32; listed_at[self.people.len()] as usize];
        for (x, list) in lists.iter().enumerate() {
            for &(_, y) in list {
                listed_by[fill[y as usize] as usize] = x as u32;
                fill[y as usize] += 1;
            }
        }
        self.listed_at = listed_at;
        self.listed_by = listed_by;
        self.neighbours = lists;
    }

    /// Seeds circles at the most isolated unplaced people and grows each by the candidate
    /// who adds the most value, up to the cap; a seed that cannot reach the minimum size
    /// releases everyone it gathered.
    fn construct(&mut self, order: &[u32]) {
        let cap = self.rules.cap();
        let min = self.rules.min_size();
        // Each pooled candidate: id, Σ weight·score and Σ score to the members, and whether
        // they may sit with all of them.
        let mut pool: Vec<(u32, f64, f64, bool)> = Vec::new();
        for &seed in order {
            if self.circle_of[seed as usize] != NONE {
                continue;
            }
            pool.clear();
            let mut members = vec![seed];
            let mut total = 0.0;
            self.gather(seed, &members, &mut pool);
            while members.len() < cap {
                let best = pool
                    .iter()
                    .enumerate()
                    .filter(|(_, e)| e.3)
                    .map(|(i, &(x, a, b, _))| (total + a + self.weight(x) * b, i, x))
                    .max_by(|p, q| p.0.total_cmp(&q.0).then(q.2.cmp(&p.2)));
                let Some((new_total, at, x)) = best else {
                    break;
                };
                total = new_total;
                pool.swap_remove(at);
                let wx = self.weight(x);
                for e in pool.iter_mut().filter(|e| e.3) {
                    match self.pair(e.0, x) {
                        Some(s) => {
                            e.1 += wx * f64::from(s);
                            e.2 += f64::from(s);
                        }
                        None => e.3 = false,
                    }
                }
                members.push(x);
                self.gather(x, &members, &mut pool);
            }
            if members.len() >= min {
                self.commit(members);
            }
        }
    }

    /// Adds the unplaced neighbours of `from` to the pool, scored against every member.
    fn gather(&self, from: u32, members: &[u32], pool: &mut Vec<(u32, f64, f64, bool)>) {
        for &(_, x) in &self.neighbours[from as usize] {
            if self.circle_of[x as usize] != NONE
                || members.contains(&x)
                || pool.iter().any(|e| e.0 == x)
            {
                continue;
            }
            let (mut a, mut b, mut ok) = (0.0, 0.0, true);
            for &m in members {
                match self.pair(x, m) {
                    Some(s) => {
                        a += self.weight(m) * f64::from(s);
                        b += f64::from(s);
                    }
                    None => {
                        ok = false;
                        break;
                    }
                }
            }
            pool.push((x, a, b, ok));
        }
    }

    fn objective(&self) -> f64 {
        self.circles.iter().map(|c| self.value(c)).sum()
    }

    /// Moves and swaps between circles (and with the unplaced) while one improves the
    /// objective. Returns how many were made.
    fn improve(&mut self, order: &[u32], started: Instant) -> usize {
        let mut made = 0;
        self.dirty.iter_mut().for_each(|d| *d = true);
        for _ in 0..self.rules.max_passes {
            let mut improved = false;
            for (n, &x) in order.iter().enumerate() {
                if n % 1024 == 0
                    && self
                        .rules
                        .time_budget
                        .is_some_and(|b| started.elapsed() >= b)
                {
                    return made;
                }
                if !std::mem::take(&mut self.dirty[x as usize]) {
                    continue;
                }
                if self.improve_one(x) {
                    made += 1;
                    improved = true;
                }
            }
            if !improved {
                break;
            }
        }
        made
    }

    /// The best improving move or swap for `x`, made; whether there was one.
    fn improve_one(&mut self, x: u32) -> bool {
        const EPSILON: f64 = 1e-9;
        let cap = self.rules.cap();
        let min = self.rules.min_size();
        let home = self.circle_of[x as usize];
        let (home_value, home_at, home_rows) = match home {
            NONE => (0.0, None, [0.0; MAX_CIRCLE]),
            h => {
                let c = &self.circles[h as usize];
                (
                    self.value(c),
                    c.members.iter().position(|&m| m == x),
                    c.rows(),
                )
            }
        };
        // What leaving home alone is worth (when home stays big enough).
        let leave = match (home, home_at) {
            (NONE, _) | (_, None) => Some(0.0),
            (h, Some(p)) => {
                let hc = &self.circles[h as usize];
                (hc.members.len() > min)
                    .then(|| self.value_changed(hc, &home_rows, Some(p), None) - home_value)
            }
        };
        // At most one target a neighbour, in a fixed-size list (this runs for everyone).
        let mut targets = [NONE; 32];
        let mut found = 0;
        for &(_, y) in self.neighbours[x as usize].iter().take(targets.len()) {
            let c = self.circle_of[y as usize];
            if c != NONE && c != home {
                targets[found] = c;
                found += 1;
            }
        }
        let targets = &mut targets[..found];
        targets.sort_unstable();
        let mut kept = 0;
        for i in 0..targets.len() {
            if i == 0 || targets[i] != targets[kept - 1] {
                targets[kept] = targets[i];
                kept += 1;
            }
        }
        let targets = &targets[..kept];
        // (gain, target circle, member of it swapped out)
        let mut best: Option<(f64, u32, Option<usize>)> = None;
        let mut t = [None; MAX_CIRCLE];
        for &c in targets {
            let circle = &self.circles[c as usize];
            let n = circle.members.len();
            self.scores_to(x, circle, &mut t);
            let rows = circle.rows();
            let there = self.value_of(&circle.members, rows.into_iter());
            let scores: [f32; MAX_CIRCLE] = std::array::from_fn(|i| t[i].unwrap_or(0.0));
            // Move in, leaving home if it stays big enough.
            if let (true, Some(leave)) = (n < cap && t[..n].iter().all(Option::is_some), leave) {
                let gain =
                    self.value_changed(circle, &rows, None, Some((x, &scores))) - there + leave;
                if gain > best.map_or(EPSILON, |b| b.0) {
                    best = Some((gain, c, None));
                }
            }
            // Swap with a member: with a neighbour of x's when x has a circle (who must then
            // fit x's), with anyone when x has none (who is then left unplaced).
            for p in 0..n {
                let y = circle.members[p];
                if (0..n).any(|i| i != p && t[i].is_none()) {
                    continue;
                }
                let into_home = match (home, home_at) {
                    (NONE, _) | (_, None) => Some(0.0),
                    (h, Some(q)) => {
                        if !self.neighbours[x as usize].iter().any(|&(_, z)| z == y) {
                            continue;
                        }
                        let hc = &self.circles[h as usize];
                        let mut u = [0f32; MAX_CIRCLE];
                        let mut fits = true;
                        for (i, &m) in hc.members.iter().enumerate() {
                            if i != q {
                                match self.pair(y, m) {
                                    Some(s) => u[i] = s,
                                    None => {
                                        fits = false;
                                        break;
                                    }
                                }
                            }
                        }
                        fits.then(|| {
                            self.value_changed(hc, &home_rows, Some(q), Some((y, &u))) - home_value
                        })
                    }
                };
                let Some(into_home) = into_home else {
                    continue;
                };
                let gain = self.value_changed(circle, &rows, Some(p), Some((x, &scores))) - there
                    + into_home;
                if gain > best.map_or(EPSILON, |b| b.0) {
                    best = Some((gain, c, Some(p)));
                }
            }
        }
        let Some((_, c, swapped)) = best else {
            return false;
        };
        if let Some(q) = home_at {
            self.remove(home, q);
        }
        if let Some(p) = swapped {
            let y = self.remove(c, p);
            if home_at.is_some() {
                self.join(home, y);
            }
        }
        self.join(c, x);
        true
    }

    /// Puts `x` into circle `c`, with their scores to its members.
    fn join(&mut self, c: u32, x: u32) {
        let mut u = [0f32; MAX_CIRCLE];
        for (i, &m) in self.circles[c as usize].members.iter().enumerate() {
            u[i] = self.pair(x, m).unwrap_or(0.0);
        }
        self.insert(c, x, &u);
    }
}

/// A place on a 2^16 × 2^16 grid of latitude and longitude, interleaved (a Z-order curve)
/// so that people near each other sort near each other.
fn z_order(at: crate::LatLon) -> u64 {
    let q = |v: f64, half: f64| (((v + half) / (2.0 * half)).clamp(0.0, 1.0) * 65535.0) as u32;
    let (a, b) = (q(at.lat, 90.0), q(at.lon, 180.0));
    let spread = |mut v: u64| {
        v = (v | (v << 8)) & 0x00ff_00ff;
        v = (v | (v << 4)) & 0x0f0f_0f0f;
        v = (v | (v << 2)) & 0x3333_3333;
        (v | (v << 1)) & 0x5555_5555
    };
    spread(u64::from(a)) | spread(u64::from(b)) << 1
}

fn tz_then_place(p: &Seeker) -> u64 {
    ((p.offset + 24 * 60) as u64) << 32 | p.place
}

impl Index {
    /// The seekers that may be placed (in the index, verified and active), each packed as
    /// someone who seeks peers, with their priority from `isolation`.
    fn circle_seekers(
        &self,
        seekers: &[(PersonId, f32)],
        rules: &CircleRules,
    ) -> (Vec<Seeker>, Vec<PersonId>) {
        let mut people = Vec::with_capacity(seekers.len());
        let mut ineligible = Vec::new();
        let mut seen = FastMap::<PersonId, ()>::default();
        for &(id, isolation) in seekers {
            if seen.insert(id, ()).is_some() {
                continue;
            }
            let found = self
                .slot_of(id)
                .and_then(|slot| Some((self.profile_at(slot)?, self.packed_at(slot)?)));
            match found {
                Some((profile, (mut packed, exact))) if packed.flags & flag::ELIGIBLE != 0 => {
                    packed.flags |= flag::SEEKS_PEERS;
                    people.push(Seeker {
                        id,
                        packed,
                        exact: exact.clone(),
                        weight: priority(isolation),
                        offset: i32::from(profile.utc_offset_minutes),
                        partition: if rules.interprofessional {
                            0
                        } else {
                            profile.profession
                        },
                        place: z_order(profile.location),
                    });
                }
                _ => ineligible.push(id),
            }
        }
        (people, ineligible)
    }

    /// Partitions `seekers` (each with their isolation score) into circles under `rules`,
    /// never placing a pair that `exclude` forbids together. See the module's notes.
    pub fn form_circles(
        &self,
        seekers: &[(PersonId, f32)],
        rules: &CircleRules,
        exclude: Exclusion<'_>,
    ) -> Formation {
        let started = Instant::now();
        let (mut people, ineligible) = self.circle_seekers(seekers, rules);
        // People who are likely to be scored together sit together in memory.
        people.sort_unstable_by_key(|p| {
            (
                p.partition,
                p.packed.populations,
                p.packed.settings,
                tz_then_place(p),
                p.id,
            )
        });
        let count = people.len();
        let mut search = Search::new(self, rules, exclude, people);
        let mut by_partition: FastMap<u16, Vec<u32>> = FastMap::default();
        for (i, p) in search.people.iter().enumerate() {
            by_partition.entry(p.partition).or_default().push(i as u32);
        }
        let mut partitions: Vec<(u16, Vec<u32>)> = by_partition.into_iter().collect();
        partitions.sort_unstable_by_key(|(k, _)| *k);
        let partitions: Vec<Vec<u32>> = partitions.into_iter().map(|(_, v)| v).collect();
        search.find_neighbours(&partitions);
        // The most isolated first; ties by id.
        let mut order: Vec<u32> = (0..count as u32).collect();
        order.sort_by(|&a, &b| {
            let (p, q) = (&search.people[a as usize], &search.people[b as usize]);
            q.weight.total_cmp(&p.weight).then(p.id.cmp(&q.id))
        });
        search.construct(&order);
        let greedy_objective = search.objective();
        let improvements = search.improve(&order, started);
        let objective = search.objective();

        let mut circles: Vec<FormedCircle> = search
            .circles
            .iter()
            .filter(|c| !c.members.is_empty())
            .map(|c| {
                let n = c.members.len();
                let pairs = (n * (n - 1)) as f64;
                let sum: f64 = (0..n).map(|i| c.row_sum(i)).sum();
                let mut members: Vec<PersonId> = c
                    .members
                    .iter()
                    .map(|&m| search.people[m as usize].id)
                    .collect();
                members.sort_unstable();
                FormedCircle {
                    members,
                    mean_score: if pairs > 0.0 { sum / pairs } else { 0.0 },
                    value: search.value(c),
                }
            })
            .collect();
        circles.sort_by(|a, b| {
            b.value
                .total_cmp(&a.value)
                .then(a.members.first().cmp(&b.members.first()))
        });

        // Why each unplaced person is out: nobody with overlapping hours, or too few.
        let mut offsets: FastMap<u16, Vec<i32>> = FastMap::default();
        for p in &search.people {
            offsets.entry(p.partition).or_default().push(p.offset);
        }
        for list in offsets.values_mut() {
            list.sort_unstable();
        }
        let gap = rules.max_offset_gap();
        let mut unplaced: Vec<(PersonId, Unplaced)> = ineligible
            .into_iter()
            .map(|id| (id, Unplaced::NotEligible))
            .collect();
        for (i, p) in search.people.iter().enumerate() {
            if search.circle_of[i] != NONE {
                continue;
            }
            let list = offsets.get(&p.partition).map_or(&[][..], Vec::as_slice);
            let within = list.partition_point(|&o| o <= p.offset + gap)
                - list.partition_point(|&o| o < p.offset - gap);
            let reason = if within <= 1 {
                Unplaced::NoOverlap
            } else {
                Unplaced::TooFewSimilar
            };
            unplaced.push((p.id, reason));
        }
        unplaced.sort_unstable_by_key(|(id, _)| *id);
        Formation {
            circles,
            unplaced,
            objective,
            greedy_objective,
            improvements,
            elapsed: started.elapsed(),
        }
    }

    /// An upper bound of any formation's objective under `rules`: each seeker's priority
    /// times their mean score to their best `min_size − 1` possible circle-mates (a member of
    /// a circle of n ≥ min_size has a mean over n − 1 others, which is no higher), found
    /// exactly by the index's own search among the seekers. Costs one top-k query a seeker,
    /// spread over every core.
    pub fn circle_bound(
        &self,
        seekers: &[(PersonId, f32)],
        rules: &CircleRules,
        exclude: Exclusion<'_>,
    ) -> f64 {
        let (people, _) = self.circle_seekers(seekers, rules);
        let among = Index::build(
            self.config().clone(),
            people.iter().filter_map(|p| {
                let mut profile = self.get(p.id)?.clone();
                profile.seeking_peers = true;
                Some(profile)
            }),
        );
        let at: FastMap<PersonId, (u16, i32)> = people
            .iter()
            .map(|p| (p.id, (p.partition, p.offset)))
            .collect();
        let gap = rules.max_offset_gap();
        let apart = |a: PersonId, b: PersonId| match (at.get(&a), at.get(&b)) {
            (Some(x), Some(y)) => x.0 != y.0 || (x.1 - y.1).abs() > gap || exclude(a, b),
            _ => true,
        };
        let want = rules.min_size() - 1;
        crate::parallel::map_on_every_core(&people, |p| {
            let best = among.suggest(p.id, Kind::Peer, want, &apart);
            if best.len() < want {
                return 0.0;
            }
            let sum: f64 = best.iter().map(|s| f64::from(s.score)).sum();
            p.weight * sum / want as f64
        })
        .into_iter()
        .sum()
    }

    /// Waiting seekers ranked by how much each would add to a circle of `members` (best
    /// first, ties by id), leaving out anyone who may not sit with every member: who is
    /// offered an open seat.
    pub fn best_for_circle(
        &self,
        members: &[PersonId],
        waiting: &[(PersonId, f32)],
        rules: &CircleRules,
        exclude: Exclusion<'_>,
    ) -> Vec<(PersonId, f64)> {
        let all: Vec<(PersonId, f32)> = members
            .iter()
            .map(|&m| (m, 0.0))
            .chain(waiting.iter().copied())
            .collect();
        let (people, _) = self.circle_seekers(&all, rules);
        let count = people.len();
        let search = Search::new(self, rules, exclude, people);
        let inside: Vec<u32> = (0..count as u32)
            .filter(|&i| members.contains(&search.people[i as usize].id))
            .take(MAX_CIRCLE - 1)
            .collect();
        let mut circle = Circle {
            members: inside.clone(),
            scores: [[0.0; MAX_CIRCLE]; MAX_CIRCLE],
        };
        for (i, &a) in inside.iter().enumerate() {
            for (j, &b) in inside.iter().enumerate() {
                if i != j {
                    circle.scores[i][j] = search.pair(a, b).unwrap_or(0.0);
                }
            }
        }
        let now = search.value(&circle);
        let rows = circle.rows();
        let mut t = [None; MAX_CIRCLE];
        let mut ranked: Vec<(PersonId, f64)> = (0..count as u32)
            .filter(|i| !inside.contains(i))
            .filter_map(|x| {
                search.scores_to(x, &circle, &mut t);
                let mut scores = [0f32; MAX_CIRCLE];
                for (s, found) in scores.iter_mut().zip(&t[..inside.len()]) {
                    *s = (*found)?;
                }
                let gain = search.value_changed(&circle, &rows, None, Some((x, &scores))) - now;
                Some((search.people[x as usize].id, gain))
            })
            .collect();
        ranked.sort_by(|p, q| q.1.total_cmp(&p.1).then(p.0.cmp(&q.0)));
        ranked
    }
}
