//! How alone each practitioner is (matching.md §2).

use crate::geo::{chord2, chord2_for_km, LatLon};
use crate::index::Index;
use crate::profile::{flag, PersonId};
use crate::spatial::{cells_near, GridPoint};

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct IsolationConfig {
    pub radius_km: f32,
    /// Counting stops here: beyond a hundred nearby peers nobody is isolated, and dense
    /// cities would otherwise dominate the sweep.
    pub cap: u32,
    /// Someone who is the only one of their profession at work scores at least this.
    pub works_alone_floor: f32,
}

impl Default for IsolationConfig {
    fn default() -> Self {
        Self {
            radius_km: 50.0,
            cap: 100,
            works_alone_floor: 0.7,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Isolation {
    /// Verified practitioners of the same profession within the radius who share a client
    /// population, counted up to the cap.
    pub peers_within_radius: u32,
    /// `peers_within_radius` reached the cap, so the true count may be higher.
    pub capped: bool,
    /// In [0, 1]; 1 means nobody like them nearby.
    pub score: f32,
}

impl Isolation {
    fn from_count(count: u32, cap: u32, works_alone: bool, config: &IsolationConfig) -> Self {
        let base = 1.0 / (1.0 + count as f32);
        Self {
            peers_within_radius: count,
            capped: count >= cap,
            score: if works_alone {
                base.max(config.works_alone_floor)
            } else {
                base
            },
        }
    }

    /// At most one such peer nearby, or working alone.
    pub fn is_isolated(&self) -> bool {
        self.score >= 0.5
    }
}

fn count_peers(slices: &[&[GridPoint]], me: &GridPoint, limit2: f32, cap: u32) -> u32 {
    let mut count = 0;
    for points in slices {
        for p in *points {
            if p.eligible
                && p.populations & me.populations != 0
                && p.slot != me.slot
                && chord2(p.xyz, me.xyz) <= limit2
            {
                count += 1;
                if count >= cap {
                    return count;
                }
            }
        }
    }
    count
}

impl Index {
    /// Isolation of one practitioner; `None` when unknown.
    pub fn isolation(&self, id: PersonId, config: &IsolationConfig) -> Option<Isolation> {
        let slot = self.slot_of(id)?;
        let (packed, _) = self.packed_at(slot)?;
        let profile = self.profile_at(slot)?;
        let slices: Vec<&[GridPoint]> = cells_near(profile.location, config.radius_km)
            .into_iter()
            .map(|cell| self.grid.cell(profile.profession, cell))
            .collect();
        let me = GridPoint {
            slot,
            populations: packed.populations,
            eligible: true,
            works_alone: false,
            xyz: packed.xyz,
        };
        let count = count_peers(
            &slices,
            &me,
            chord2_for_km(config.radius_km),
            config.cap.max(1),
        );
        Some(Isolation::from_count(
            count,
            config.cap.max(1),
            packed.flags & flag::WORKS_ALONE != 0,
            config,
        ))
    }

    /// Isolation of everyone, in no particular order. Works cell by cell so that the
    /// neighbouring cells are looked up once for all the people in a cell.
    pub fn isolation_all(&self, config: &IsolationConfig) -> Vec<(PersonId, Isolation)> {
        // Half the diagonal of a half-degree cell, so one window serves every point in it.
        const CELL_HALF_DIAGONAL_KM: f32 = 40.0;
        let cap = config.cap.max(1);
        let limit2 = chord2_for_km(config.radius_km);
        let mut by_slot: Vec<Option<Isolation>> = vec![None; self.slot_count()];
        for (profession, (lat, lon), points) in self.grid.cells() {
            let center = LatLon::new(
                (f64::from(lat) + 0.5) * 0.5 - 90.0,
                (f64::from(lon) + 0.5) * 0.5 - 180.0,
            );
            let slices: Vec<&[GridPoint]> =
                cells_near(center, config.radius_km + CELL_HALF_DIAGONAL_KM)
                    .into_iter()
                    .map(|cell| self.grid.cell(profession, cell))
                    .filter(|s| !s.is_empty())
                    .collect();
            for me in points {
                let count = count_peers(&slices, me, limit2, cap);
                if let Some(slot) = by_slot.get_mut(me.slot as usize) {
                    *slot = Some(Isolation::from_count(count, cap, me.works_alone, config));
                }
            }
        }
        let out = self
            .ids_by_slot()
            .zip(by_slot)
            .filter_map(|(id, iso)| Some((id?, iso?)))
            .collect();
        out
    }
}
