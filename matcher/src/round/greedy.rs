//! The greedy round: mentees in order, each taking their best mentor who still has room.

use std::cmp::Reverse;

use super::RoundInstance;

impl RoundInstance {
    pub(super) fn greedy(&self) -> Vec<Option<u32>> {
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
}
