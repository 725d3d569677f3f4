//! A small multiplicative hasher for integer keys. The std SipHash defends against
//! adversarial keys, which ids and grid cells are not, and costs several times more per
//! lookup in the isolation sweep.

use std::hash::{BuildHasherDefault, Hasher};

use hashbrown::hash_table::{Entry, HashTable};

use crate::profile::PersonId;

#[derive(Default, Clone, Copy)]
pub(crate) struct FastHasher(u64);

const K: u64 = 0x517c_c1b7_2722_0a95;

impl Hasher for FastHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }

    fn write_u16(&mut self, n: u16) {
        self.write_u64(u64::from(n));
    }

    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }

    fn write_i32(&mut self, n: i32) {
        self.write_u64(u64::from(n as u32));
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(K);
    }

    fn write_u128(&mut self, n: u128) {
        self.write_u64(n as u64);
        self.write_u64((n >> 64) as u64);
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
}

pub(crate) type FastMap<K, V> = std::collections::HashMap<K, V, BuildHasherDefault<FastHasher>>;

fn id_hash(id: PersonId) -> u64 {
    let mut h = FastHasher::default();
    h.write_u128(id.0);
    h.finish()
}

/// Slots by person id. Only the slot is stored, four bytes an entry: the id is read from the
/// slot itself through `id_of`, which must know every slot in the table.
#[derive(Clone, Debug, Default)]
pub(crate) struct SlotTable(HashTable<u32>);

impl SlotTable {
    pub fn with_capacity(n: usize) -> Self {
        Self(HashTable::with_capacity(n))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn get(&self, id: PersonId, id_of: impl Fn(u32) -> Option<PersonId>) -> Option<u32> {
        self.0.find(id_hash(id), |&s| id_of(s) == Some(id)).copied()
    }

    /// Points `id` at `slot`; returns the slot it pointed at before.
    pub fn insert(
        &mut self,
        id: PersonId,
        slot: u32,
        id_of: impl Fn(u32) -> Option<PersonId>,
    ) -> Option<u32> {
        let entry = self.0.entry(
            id_hash(id),
            |&s| id_of(s) == Some(id),
            |&s| id_of(s).map_or(0, id_hash),
        );
        match entry {
            Entry::Occupied(mut e) => Some(std::mem::replace(e.get_mut(), slot)),
            Entry::Vacant(e) => {
                e.insert(slot);
                None
            }
        }
    }

    pub fn remove(&mut self, id: PersonId, id_of: impl Fn(u32) -> Option<PersonId>) -> Option<u32> {
        let found = self.0.find_entry(id_hash(id), |&s| id_of(s) == Some(id));
        found.ok().map(|e| e.remove().0)
    }
}
