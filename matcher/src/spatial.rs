//! A grid of half-degree cells per profession, for radius questions.
//!
//! Chosen over a k-d tree because the isolation sweep wants to stop counting at a cap and to
//! visit the densest cell (the person's own) first, and because moving one profile is a
//! `Vec` push and a swap-remove rather than a rebalance.

use crate::geo::{LatLon, EARTH_RADIUS_KM};
use crate::hash::FastMap;

const CELL_DEG: f64 = 0.5;
const LAT_CELLS: i32 = 360;
const LON_CELLS: i32 = 720;

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct GridPoint {
    pub slot: u32,
    pub populations: u32,
    pub eligible: bool,
    pub works_alone: bool,
    pub xyz: [f32; 3],
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct CellKey {
    profession: u16,
    lat: i16,
    lon: i16,
}

impl CellKey {
    fn of(profession: u16, at: LatLon) -> Self {
        let (lat, lon) = cell_of(at);
        Self {
            profession,
            lat,
            lon,
        }
    }
}

pub(crate) type Cell = (i16, i16);

#[derive(Clone, Debug, Default)]
pub(crate) struct Grid {
    cells: FastMap<CellKey, Vec<GridPoint>>,
}

fn lat_cell(lat: f64) -> i32 {
    (((lat + 90.0) / CELL_DEG).floor() as i32).clamp(0, LAT_CELLS - 1)
}

fn lon_cell(lon: f64) -> i32 {
    (((lon + 180.0) / CELL_DEG).floor() as i32).rem_euclid(LON_CELLS)
}

fn cell_of(p: LatLon) -> Cell {
    (lat_cell(p.lat) as i16, lon_cell(p.lon) as i16)
}

/// Cells that may hold a point within `radius_km` of `center`, nearest first.
pub(crate) fn cells_near(center: LatLon, radius_km: f32) -> Vec<Cell> {
    let angle = f64::from(radius_km.max(0.0)) / f64::from(EARTH_RADIUS_KM);
    let deg_lat = angle.to_degrees() * 1.001 + 1e-9;
    let (lat_lo, lat_hi) = (center.lat - deg_lat, center.lat + deg_lat);
    let max_abs_lat = lat_lo.abs().max(lat_hi.abs()).min(90.0);
    let sin_extent = angle.min(std::f64::consts::FRAC_PI_2).sin() / max_abs_lat.to_radians().cos();
    let deg_lon = if max_abs_lat >= 89.9 || sin_extent >= 1.0 {
        180.0
    } else {
        sin_extent.asin().to_degrees() * 1.001 + 1e-9
    };
    let (c_lat, c_lon) = (
        lat_cell(center.lat),
        ((center.lon + 180.0) / CELL_DEG).floor() as i32,
    );
    let lat_range = lat_cell(lat_lo)..=lat_cell(lat_hi);
    let lon_range = if deg_lon >= 180.0 {
        c_lon - LON_CELLS / 2..=c_lon + LON_CELLS / 2 - 1
    } else {
        ((center.lon - deg_lon + 180.0) / CELL_DEG).floor() as i32
            ..=((center.lon + deg_lon + 180.0) / CELL_DEG).floor() as i32
    };
    let mut cells: Vec<(i32, Cell)> = Vec::new();
    for i in lat_range {
        for j in lon_range.clone() {
            let (di, dj) = (i - c_lat, j - c_lon);
            cells.push((
                di * di + dj * dj,
                (i as i16, j.rem_euclid(LON_CELLS) as i16),
            ));
        }
    }
    cells.sort_unstable_by_key(|&(d, cell)| (d, cell));
    cells.dedup_by_key(|&mut (_, cell)| cell);
    cells.into_iter().map(|(_, cell)| cell).collect()
}

impl Grid {
    pub fn insert(&mut self, profession: u16, at: LatLon, point: GridPoint) {
        self.cells
            .entry(CellKey::of(profession, at))
            .or_default()
            .push(point);
    }

    pub fn remove(&mut self, profession: u16, at: LatLon, slot: u32) {
        let key = CellKey::of(profession, at);
        if let Some(points) = self.cells.get_mut(&key) {
            if let Some(i) = points.iter().position(|p| p.slot == slot) {
                points.swap_remove(i);
            }
            if points.is_empty() {
                self.cells.remove(&key);
            }
        }
    }

    /// Every non-empty cell as (profession, cell, points).
    pub fn cells(&self) -> impl Iterator<Item = (u16, Cell, &[GridPoint])> {
        self.cells
            .iter()
            .map(|(k, v)| (k.profession, (k.lat, k.lon), v.as_slice()))
    }

    pub fn cell(&self, profession: u16, (lat, lon): Cell) -> &[GridPoint] {
        self.cells
            .get(&CellKey {
                profession,
                lat,
                lon,
            })
            .map_or(&[], Vec::as_slice)
    }
}

/// Fills a new grid in two passes: [`GridFill::plan`] each point's place in order, then
/// [`GridFill::allocate`] and push the points in the same order. Each cell is allocated once
/// at its final size, and the second pass looks nothing up by key.
#[derive(Default)]
pub(crate) struct GridFill {
    numbers: FastMap<CellKey, u32>,
    keys: Vec<CellKey>,
    sizes: Vec<usize>,
    /// The cell number of each planned point.
    cell_of_point: Vec<u32>,
}

impl GridFill {
    pub fn plan(&mut self, profession: u16, at: LatLon) {
        let key = CellKey::of(profession, at);
        let number = *self.numbers.entry(key).or_insert_with(|| {
            self.keys.push(key);
            self.sizes.push(0);
            (self.keys.len() - 1) as u32
        });
        if let Some(size) = self.sizes.get_mut(number as usize) {
            *size += 1;
        }
        self.cell_of_point.push(number);
    }

    pub fn allocate(self) -> GridFilling {
        GridFilling {
            cells: self.sizes.iter().map(|&n| Vec::with_capacity(n)).collect(),
            keys: self.keys,
            cell_of_point: self.cell_of_point,
        }
    }
}

pub(crate) struct GridFilling {
    keys: Vec<CellKey>,
    cells: Vec<Vec<GridPoint>>,
    cell_of_point: Vec<u32>,
}

impl GridFilling {
    /// Adds the `i`th planned point.
    pub fn push(&mut self, i: usize, point: GridPoint) {
        let cell = self
            .cell_of_point
            .get(i)
            .and_then(|&n| self.cells.get_mut(n as usize));
        if let Some(cell) = cell {
            cell.push(point);
        }
    }

    pub fn finish(self) -> Grid {
        Grid {
            cells: self.keys.into_iter().zip(self.cells).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_cell_comes_first() {
        let here = LatLon::new(-33.87, 151.21);
        let cells = cells_near(here, 50.0);
        assert_eq!(cells[0], cell_of(here));
        assert!(cells.len() >= 9);
    }

    #[test]
    fn windows_wrap_around_the_date_line() {
        let cells = cells_near(LatLon::new(-17.7, 179.9), 60.0);
        assert!(cells.iter().any(|&(_, lon)| lon == 0));
        assert!(cells.iter().any(|&(_, lon)| lon == (LON_CELLS - 1) as i16));
    }

    #[test]
    fn a_huge_radius_covers_every_longitude() {
        let cells = cells_near(LatLon::new(80.0, 0.0), 2000.0);
        let mut lons: Vec<_> = cells.iter().map(|&(_, lon)| lon).collect();
        lons.sort_unstable();
        lons.dedup();
        assert_eq!(lons.len(), LON_CELLS as usize);
    }
}
