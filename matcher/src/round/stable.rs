//! The stable round: mentee-proposing deferred acceptance, both sides ranking by weight, so
//! that no mentee and mentor would both rather have each other.

use std::cmp::Reverse;

use super::RoundInstance;

impl RoundInstance {
    pub(super) fn stable(&self) -> Vec<Option<u32>> {
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
}
