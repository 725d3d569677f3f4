//! Changes to one profile: insert, replace and remove, keeping bucket and group summaries
//! safe (they only widen).

use super::*;

impl Index {
    /// Inserts a new profile or replaces the one with the same id.
    pub fn upsert(&mut self, profile: Profile) {
        let id = profile.id;
        self.remove(id);
        let (packed, exact) = pack(&profile);
        let slot = match self.free_slots.pop() {
            Some(slot) => slot,
            None => {
                self.profiles.push(None);
                self.exact.push(Exact::default());
                self.at.push(RowRef::default());
                (self.profiles.len() - 1) as u32
            }
        };
        let (group, bucket) = self.bucket_for(BucketKey::of(&profile));
        let Some(g) = self.groups.get_mut(group as usize) else {
            return;
        };
        let (Some(b), Some(summary)) = (
            g.buckets.get_mut(bucket as usize),
            g.summaries.get_mut(bucket as usize),
        ) else {
            return;
        };
        let row = Row::new(slot, &packed);
        g.summary.add(&row, b.key.settings, 1);
        summary.add(&row, b.key.settings, 1);
        let at = RowRef {
            group,
            bucket,
            row: b.push(row),
        };
        self.grid.insert(
            profile.profession,
            profile.location,
            grid_point(slot, &packed),
        );
        let i = slot as usize;
        if let (Some(p), Some(x), Some(r)) = (
            self.profiles.get_mut(i),
            self.exact.get_mut(i),
            self.at.get_mut(i),
        ) {
            *p = Some(profile);
            *x = exact;
            *r = at;
        }
        self.by_id.insert(id, slot, id_in(&self.profiles));
        self.len += 1;
    }

    /// Removes a profile; returns it if it was there.
    pub fn remove(&mut self, id: PersonId) -> Option<Profile> {
        let slot = self.by_id.remove(id, id_in(&self.profiles))?;
        let profile = self.profiles.get_mut(slot as usize)?.take()?;
        if let Some(x) = self.exact.get_mut(slot as usize) {
            *x = Exact::default();
        }
        self.grid.remove(profile.profession, profile.location, slot);
        let at = *self.at.get(slot as usize)?;
        let arena = &mut self.arena;
        let moved = self.groups.get_mut(at.group as usize).and_then(|g| {
            let b = g.buckets.get_mut(at.bucket as usize)?;
            let row = *b.row(arena, at.row)?;
            g.summary.add(&row, b.key.settings, -1);
            if let Some(summary) = g.summaries.get_mut(at.bucket as usize) {
                summary.add(&row, b.key.settings, -1);
            }
            b.swap_remove(arena, at.row as usize)
        });
        if let Some(r) = moved.and_then(|m| self.at.get_mut(m as usize)) {
            r.row = at.row;
        }
        self.free_slots.push(slot);
        self.len -= 1;
        Some(profile)
    }

    pub(super) fn bucket_for(&mut self, key: BucketKey) -> (u32, u32) {
        if let Some(&at) = self.bucket_of.get(&key) {
            return at;
        }
        let group_key = BucketKey { settings: 0, ..key };
        let group = match self.group_of.get(&group_key) {
            Some(&g) => g,
            None => {
                let g = self.groups.len() as u32;
                self.groups.push(Group {
                    key: group_key,
                    ..Group::default()
                });
                self.group_of.insert(group_key, g);
                g
            }
        };
        let mut at = (group, 0);
        if let Some(g) = self.groups.get_mut(group as usize) {
            at.1 = g.buckets.len() as u32;
            g.buckets.push(Bucket {
                key,
                ..Bucket::default()
            });
            g.summaries.push(Summary::default());
        }
        self.bucket_of.insert(key, at);
        if !self.professions.contains(&key.profession) {
            self.professions.push(key.profession);
        }
        at
    }
}
