//! An ε-scaling auction for the round's b-matching, the fast path of the exact solver.
//!
//! Mentees bid for mentor slots; a mentee may also take "nobody" at value 0, which is never
//! outbid. Weights are the solver's integer units multiplied by (number of mentees + 1), so
//! an assignment within one ε = 1 of optimal for every mentee is optimal outright. The catch
//! of auctions on unbalanced problems (more slots than takers, or the reverse) is a slot
//! left empty at a positive price, which breaks that proof; so after every phase a reverse
//! auction lowers each such price until the slot is taken or costs 0. Should the whole
//! thing exceed its work budget, the caller solves the round by successive shortest paths.

use super::RoundInstance;

const NOBODY: u32 = u32::MAX;
/// A mentee holding no slot and not yet settled on "nobody".
const WAITING: u32 = u32::MAX - 1;
/// The price of a mentor without slots: no arc to them is ever worth anything.
const NO_SLOT: i64 = i64::MAX / 4;

pub(super) struct Auction {
    /// Per mentee, arcs `(mentor, scaled weight, edge index)` in `arcs[start[i]..start[i+1]]`.
    start: Vec<u32>,
    arcs: Vec<(u32, i64, u32)>,
    /// Mentor `j` owns slots `slot_start[j]..slot_start[j + 1]`.
    slot_start: Vec<u32>,
    price: Vec<i64>,
    holder: Vec<u32>,
    /// Per slot, the arc its holder used.
    holder_arc: Vec<u32>,
    /// Per mentor, its cheapest slot, and that slot's price (`NO_SLOT` for a mentor without
    /// slots) beside it, so that a bid reads one number per arc.
    cheapest: Vec<u32>,
    cheapest_price: Vec<i64>,
    mentor_of: Vec<u32>,
    /// Per mentor, `(mentee, arc)` for every mentee with an arc to it.
    bidder_start: Vec<u32>,
    bidders: Vec<(i64, u32, u32)>,
    /// Per mentee, the slot held, `NOBODY` or `WAITING`.
    held: Vec<u32>,
    /// Per mentee, what it gets now: its arc's weight less its slot's price, or 0.
    profit: Vec<i64>,
    queue: Vec<u32>,
}

impl Auction {
    pub(super) fn new(instance: &RoundInstance) -> Self {
        let n = instance.mentee_priority.len();
        let scale = n as i64 + 1;
        let mut start = vec![0u32; n + 1];
        for e in &instance.edges {
            start[e.mentee as usize + 1] += 1;
        }
        for i in 0..n {
            start[i + 1] += start[i];
        }
        let mut fill = start.clone();
        let mut arcs = vec![(0u32, 0i64, 0u32); instance.edges.len()];
        for (k, e) in instance.edges.iter().enumerate() {
            let at = &mut fill[e.mentee as usize];
            arcs[*at as usize] = (
                e.mentor,
                instance.weight_units(e).saturating_mul(scale),
                k as u32,
            );
            *at += 1;
        }
        let mut slot_start = Vec::with_capacity(instance.mentor_capacity.len() + 1);
        let mut total = 0u32;
        for &c in &instance.mentor_capacity {
            slot_start.push(total);
            total += c.min(n as u32);
        }
        slot_start.push(total);
        let cheapest = slot_start[..slot_start.len() - 1].to_vec();
        let cheapest_price = (slot_start.windows(2))
            .map(|w| if w[0] == w[1] { NO_SLOT } else { 0 })
            .collect();
        let mut mentor_of = vec![0u32; total as usize];
        for (j, w) in slot_start.windows(2).enumerate() {
            mentor_of[w[0] as usize..w[1] as usize].fill(j as u32);
        }
        let m = instance.mentor_capacity.len();
        let mut bidder_start = vec![0u32; m + 1];
        for a in &arcs {
            bidder_start[a.0 as usize + 1] += 1;
        }
        for j in 0..m {
            bidder_start[j + 1] += bidder_start[j];
        }
        let mut fill = bidder_start.clone();
        let mut bidders = vec![(0i64, 0u32, 0u32); arcs.len()];
        for i in 0..n {
            for a in start[i] as usize..start[i + 1] as usize {
                let at = &mut fill[arcs[a].0 as usize];
                bidders[*at as usize] = (arcs[a].1, i as u32, a as u32);
                *at += 1;
            }
        }
        Self {
            mentor_of,
            bidder_start,
            bidders,
            start,
            arcs,
            slot_start,
            price: vec![0; total as usize],
            holder: vec![NOBODY; total as usize],
            holder_arc: vec![NOBODY; total as usize],
            cheapest,
            cheapest_price,
            held: vec![WAITING; n],
            profit: vec![0; n],
            queue: Vec::new(),
        }
    }

    fn slots(&self, mentor: usize) -> std::ops::Range<usize> {
        self.slot_start[mentor] as usize..self.slot_start[mentor + 1] as usize
    }

    fn refresh_cheapest(&mut self, mentor: usize) {
        let range = self.slots(mentor);
        if range.is_empty() {
            self.cheapest_price[mentor] = NO_SLOT;
            return;
        }
        let mut best = range.start;
        for s in range {
            if self.price[s] < self.price[best] {
                best = s;
            }
        }
        self.cheapest[mentor] = best as u32;
        self.cheapest_price[mentor] = self.price[best];
    }

    /// The mentee's best arc and its value, and the best value of anything else (at least 0,
    /// the value of nobody).
    fn best_two(&self, mentee: usize) -> Option<(usize, i64, i64)> {
        let mut best: Option<(usize, i64)> = None;
        let mut second = 0i64;
        for a in self.start[mentee] as usize..self.start[mentee + 1] as usize {
            let (mentor, w, _) = self.arcs[a];
            let value = w - self.cheapest_price[mentor as usize];
            match best {
                Some((_, v)) if value <= v => second = second.max(value),
                Some((_, v)) => {
                    second = second.max(v);
                    best = Some((a, value));
                }
                None => best = Some((a, value)),
            }
        }
        let (a, v1) = best?;
        let mentor = self.arcs[a].0 as usize;
        let cheapest = self.cheapest[mentor] as usize;
        for s in self.slots(mentor) {
            if s != cheapest {
                second = second.max(self.arcs[a].1 - self.price[s]);
            }
        }
        Some((a, v1, second))
    }

    /// Runs bids until every mentee holds a slot or has settled on nobody.
    fn bid_until_settled(&mut self, epsilon: i64, budget: &mut u64) -> bool {
        while let Some(i) = self.queue.pop() {
            if *budget == 0 {
                return false;
            }
            *budget -= 1;
            let i = i as usize;
            let Some((a, v1, v2)) = self.best_two(i).filter(|&(_, v1, _)| v1 > 0) else {
                self.release(i);
                self.held[i] = NOBODY;
                self.profit[i] = 0;
                continue;
            };
            let mentor = self.arcs[a].0 as usize;
            let slot = self.cheapest[mentor] as usize;
            let evicted = self.holder[slot];
            if evicted != NOBODY {
                self.held[evicted as usize] = WAITING;
                self.profit[evicted as usize] = 0;
                self.queue.push(evicted);
            }
            self.price[slot] += v1 - v2 + epsilon;
            self.holder[slot] = i as u32;
            self.holder_arc[slot] = a as u32;
            self.held[i] = slot as u32;
            self.profit[i] = self.arcs[a].1 - self.price[slot];
            self.refresh_cheapest(mentor);
        }
        true
    }

    /// Leaves a held slot empty at its price (the final phase cleans up such slots).
    fn release(&mut self, mentee: usize) {
        let slot = self.held[mentee];
        if slot != NOBODY && slot != WAITING {
            self.holder[slot as usize] = NOBODY;
            self.holder_arc[slot as usize] = NOBODY;
        }
    }

    /// Reverse auction: every empty slot with a positive price lowers it just enough to win
    /// the mentee who gains most from it, or to 0 when nobody would gain more than ε. The
    /// mentee's old slot is then empty in turn. Profits only rise and prices only fall, so
    /// every mentee keeps within ε of its best choice.
    fn clear_empty_slots(&mut self, epsilon: i64, budget: &mut u64) -> bool {
        let mut holes: Vec<u32> = (0..self.price.len() as u32)
            .filter(|&s| self.holder[s as usize] == NOBODY && self.price[s as usize] > 0)
            .collect();
        while let Some(s) = holes.pop() {
            let s = s as usize;
            if self.holder[s] != NOBODY || self.price[s] == 0 {
                continue;
            }
            if *budget == 0 {
                return false;
            }
            *budget -= 1;
            let mentor = self.mentor_of[s] as usize;
            let mut first: Option<(i64, u32, u32)> = None;
            let mut second = 0i64;
            let range = self.bidder_start[mentor] as usize..self.bidder_start[mentor + 1] as usize;
            for &(weight, mentee, arc) in &self.bidders[range] {
                let gain = weight - self.profit[mentee as usize];
                match first {
                    Some((g, _, _)) if gain <= g => second = second.max(gain),
                    Some((g, _, _)) => {
                        second = second.max(g);
                        first = Some((gain, mentee, arc));
                    }
                    None => first = Some((gain, mentee, arc)),
                }
            }
            match first {
                Some((gain, mentee, arc)) if gain > epsilon => {
                    let i = mentee as usize;
                    let old = self.held[i];
                    self.release(i);
                    if old != NOBODY && old != WAITING {
                        holes.push(old);
                    }
                    self.price[s] = (second - epsilon).max(0);
                    self.holder[s] = mentee;
                    self.holder_arc[s] = arc;
                    self.held[i] = s as u32;
                    self.profit[i] = self.arcs[arc as usize].1 - self.price[s];
                }
                _ => self.price[s] = 0,
            }
            self.refresh_cheapest(mentor);
        }
        true
    }

    /// Edge index per mentee, or `None` when the budget ran out before the auction settled.
    pub(super) fn run(mut self) -> Option<Vec<Option<u32>>> {
        let n = self.held.len();
        let top = self.arcs.iter().map(|a| a.1).max().unwrap_or(0);
        // Rounds settle in a few bids per mentee and slot per phase; this leaves ample room
        // while bounding the time lost before the fallback.
        let mut budget: u64 = 200 * (n as u64 + self.price.len() as u64 + 16);
        let mut epsilon = (top / 16).max(1);
        loop {
            self.holder.iter_mut().for_each(|h| *h = NOBODY);
            self.holder_arc.iter_mut().for_each(|h| *h = NOBODY);
            self.held.iter_mut().for_each(|h| *h = WAITING);
            self.profit.iter_mut().for_each(|p| *p = 0);
            self.queue = (0..n as u32).rev().collect();
            if !self.bid_until_settled(epsilon, &mut budget)
                || !self.clear_empty_slots(epsilon, &mut budget)
            {
                return None;
            }
            if epsilon == 1 {
                break;
            }
            epsilon = (epsilon / 8).max(1);
        }
        Some(
            self.held
                .iter()
                .map(|&slot| match slot {
                    NOBODY | WAITING => None,
                    s => Some(self.arcs[self.holder_arc[s as usize] as usize].2),
                })
                .collect(),
        )
    }
}
