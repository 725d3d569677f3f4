//! The exact round solver: the optimum of Σ score × priority, with weights scaled to
//! integers so that it is exact and reproducible.
//!
//! Its fast path is an ε-scaling auction with reverse steps for mentor slots left empty (see
//! `auction`). Should the auction ever exceed its work budget, the round is solved instead
//! as a min-cost flow source → mentee (1) → mentor (−weight) → sink (free slots), with a
//! zero-cost "stays unmatched" arc from every mentee to the sink so that the flow maximises
//! weight rather than size: mentees are added one at a time, each followed by one shortest
//! augmenting path found by Dijkstra on reduced costs (successive shortest paths with
//! potentials), stopping at the sink.

use std::cmp::Reverse;

use super::{auction, RoundInstance};

impl RoundInstance {
    pub(super) fn exact(&self) -> Vec<Option<u32>> {
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
pub(super) struct ExactSolver {
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
    pub(super) fn new(instance: &RoundInstance) -> Self {
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

    pub(super) fn run(mut self) -> Vec<Option<u32>> {
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
