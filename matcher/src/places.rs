//! Real towns, offline: GeoNames' table of places over 1,000 people (CC BY 4.0,
//! <https://www.geonames.org>), kept compressed in `data/towns.tsv.gz` and loaded once, on
//! first use. Two questions are asked of it: which town is nearest a point (to name a
//! profile's place), and which towns a typed name may mean (to pick a location by town).

use std::{
    hash::{Hash, Hasher},
    io::Read,
    sync::OnceLock,
};

use crate::hash::FastMap;

use crate::geo::{chord2_for_km, LatLon};

/// A town as people name it.
#[derive(Clone, Debug, PartialEq)]
pub struct Place {
    pub name: String,
    /// State or province.
    pub region: String,
    /// ISO 3166-1 alpha-2.
    pub country_code: String,
    pub location: LatLon,
}

/// Side of the cubes that bucket towns by their point on the unit sphere (about 64 km).
const CELL: f64 = 0.01;

type Cell = (i32, i32, i32);

struct Gazetteer {
    towns: Vec<Place>,
    points: Vec<[f64; 3]>,
    cells: FastMap<Cell, Vec<u32>>,
    /// Bits set for the cubes that hold a town, by a hash of the cube (a few cubes share
    /// a bit): most cubes around a point hold none, and a bit is cheaper to read than the map.
    occupied: Vec<u64>,
    /// Every word start of every name, folded, with its town: sorted, so that the towns a
    /// typed prefix may mean are one range.
    words: Vec<(String, u32)>,
}

fn unit(lat: f64, lon: f64) -> [f64; 3] {
    let (lat, lon) = (lat.to_radians(), lon.to_radians());
    [lat.cos() * lon.cos(), lat.cos() * lon.sin(), lat.sin()]
}

fn cell_of(p: [f64; 3]) -> Cell {
    let at = |v: f64| (v / CELL).floor() as i32;
    (at(p[0]), at(p[1]), at(p[2]))
}

/// Bits in [`Gazetteer::occupied`], a power of two.
const OCCUPIED_BITS: usize = 1 << 22;

/// The bit of `cell` in [`Gazetteer::occupied`].
fn bit_of(cell: Cell) -> usize {
    let mut hasher = crate::hash::FastHasher::default();
    (cell.0, cell.1, cell.2).hash(&mut hasher);
    (hasher.finish() >> 20) as usize & (OCCUPIED_BITS - 1)
}

fn squared(a: [f64; 3], b: [f64; 3]) -> f64 {
    (0..3).map(|i| (a[i] - b[i]) * (a[i] - b[i])).sum()
}

/// Lower case without accents, so that "Zürich", "ZURICH" and "zurich" are one name.
fn fold(text: &str) -> String {
    text.chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => 'a',
            'ç' | 'ć' | 'č' => 'c',
            'ď' | 'đ' => 'd',
            'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ė' | 'ę' | 'ě' => 'e',
            'ì' | 'í' | 'î' | 'ï' | 'ī' | 'į' | 'ı' => 'i',
            'ł' | 'ľ' | 'ĺ' => 'l',
            'ñ' | 'ń' | 'ň' => 'n',
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' => 'o',
            'ŕ' | 'ř' => 'r',
            'ś' | 'š' | 'ş' | 'ș' => 's',
            'ť' | 'ţ' | 'ț' => 't',
            'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' | 'ų' => 'u',
            'ý' | 'ÿ' => 'y',
            'ź' | 'ż' | 'ž' => 'z',
            '-' | '\'' | '’' | '.' | ',' | '/' | '(' | ')' => ' ',
            other => other,
        })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

impl Gazetteer {
    fn load() -> Self {
        static DATA: &[u8] = include_bytes!("../data/towns.tsv.gz");
        let mut text = String::new();
        // The table is part of the crate: it always reads, and a test reads it.
        let _ = flate2::read::GzDecoder::new(DATA).read_to_string(&mut text);
        let mut towns = Vec::new();
        for line in text.lines() {
            let mut fields = line.split('\t');
            let (Some(lat), Some(lon), Some(name), Some(region), Some(country_code)) = (
                fields.next().and_then(|v| v.parse().ok()),
                fields.next().and_then(|v| v.parse().ok()),
                fields.next(),
                fields.next(),
                fields.next(),
            ) else {
                continue;
            };
            towns.push(Place {
                name: name.to_owned(),
                region: region.to_owned(),
                country_code: country_code.to_owned(),
                location: LatLon::new(lat, lon),
            });
        }
        let points: Vec<[f64; 3]> = towns
            .iter()
            .map(|t| unit(t.location.lat, t.location.lon))
            .collect();
        let mut cells: FastMap<Cell, Vec<u32>> = FastMap::default();
        let mut words = Vec::new();
        for (i, (town, point)) in towns.iter().zip(&points).enumerate() {
            let i = i as u32;
            cells.entry(cell_of(*point)).or_default().push(i);
            let name = fold(&town.name);
            let starts = std::iter::once(0).chain(name.match_indices(' ').map(|(at, _)| at + 1));
            for start in starts {
                words.push((name[start..].to_owned(), i));
            }
        }
        words.sort_unstable();
        let mut occupied = vec![0u64; OCCUPIED_BITS / 64];
        for bit in cells.keys().map(|&cell| bit_of(cell)) {
            occupied[bit / 64] |= 1 << (bit % 64);
        }
        Self {
            towns,
            points,
            cells,
            occupied,
            words,
        }
    }

    /// The index of the town nearest `p`; among towns at the same distance, the first in
    /// the table.
    fn nearest(&self, p: [f64; 3]) -> usize {
        // The whole sphere fits in 2 / CELL cells along each axis.
        self.nearest_within(p, 2.0 + CELL).unwrap_or(0)
    }

    /// [`Self::nearest`] when it is less than `chord` away on the unit sphere, else None;
    /// the search stops at that distance, so a point in the ocean costs no more than one
    /// on land.
    fn nearest_within(&self, p: [f64; 3], chord: f64) -> Option<usize> {
        let centre = cell_of(p);
        let mut best: Option<(f64, u32)> = None;
        let visit = |best: &mut Option<(f64, u32)>, key: Cell| {
            let bit = bit_of(key);
            if self.occupied[bit / 64] & (1 << (bit % 64)) == 0 {
                return;
            }
            for &i in self.cells.get(&key).into_iter().flatten() {
                let d = squared(p, self.points[i as usize]);
                if best.is_none_or(|(bd, bi)| d < bd || d == bd && i < bi) {
                    *best = Some((d, i));
                }
            }
        };
        for ring in 0i32.. {
            for dx in -ring..=ring {
                for dy in -ring..=ring {
                    if dx.abs() == ring || dy.abs() == ring {
                        for dz in -ring..=ring {
                            visit(&mut best, (centre.0 + dx, centre.1 + dy, centre.2 + dz));
                        }
                    } else {
                        visit(&mut best, (centre.0 + dx, centre.1 + dy, centre.2 - ring));
                        visit(&mut best, (centre.0 + dx, centre.1 + dy, centre.2 + ring));
                    }
                }
            }
            // Towns in further rings are at least `ring` cells away along some axis.
            let reach = f64::from(ring) * CELL;
            if let Some((d, i)) = best {
                if d < reach * reach {
                    return (d < chord * chord).then_some(i as usize);
                }
            }
            if reach >= chord {
                return best
                    .filter(|&(d, _)| d < chord * chord)
                    .map(|(_, i)| i as usize);
            }
        }
        None
    }

    /// Towns whose name, or a word of it, starts with `typed`: whole-name matches first,
    /// then towns in `country`, then names that start with it, then shorter names.
    fn search(&self, typed: &str, country: Option<&str>, limit: usize) -> Vec<&Place> {
        let typed = fold(typed);
        if typed.is_empty() {
            return Vec::new();
        }
        let from = self
            .words
            .partition_point(|(word, _)| word.as_str() < typed.as_str());
        let mut found: Vec<u32> = self.words[from..]
            .iter()
            .take_while(|(word, _)| word.starts_with(&typed))
            .map(|(_, i)| *i)
            .collect();
        found.sort_unstable();
        found.dedup();
        let rank = |i: &u32| {
            let town = &self.towns[*i as usize];
            let name = fold(&town.name);
            (
                name != typed,
                country != Some(town.country_code.as_str()),
                !name.starts_with(&typed),
                name.len(),
                name,
                town.region.clone(),
            )
        };
        found.sort_by_cached_key(rank);
        found
            .into_iter()
            .take(limit)
            .map(|i| &self.towns[i as usize])
            .collect()
    }
}

fn gazetteer() -> &'static Gazetteer {
    static GAZETTEER: OnceLock<Gazetteer> = OnceLock::new();
    GAZETTEER.get_or_init(Gazetteer::load)
}

/// Loads the table now rather than on the first question (it takes a moment).
pub fn preload() {
    gazetteer();
}

/// The town nearest to `at`, e.g. for a profile's `place`. Never fails: the table always has
/// a nearest entry, even from the middle of an ocean.
pub fn nearest(at: LatLon) -> Place {
    let gazetteer = gazetteer();
    gazetteer.towns[gazetteer.nearest(unit(at.lat, at.lon))].clone()
}

/// The town nearest to `at` if it is within about `km` (by the chord through the Earth,
/// a hair wide: callers that need an exact cut confirm with the distance), else None.
pub fn nearest_within(at: LatLon, km: f64) -> Option<Place> {
    let gazetteer = gazetteer();
    let chord = f64::from(chord2_for_km(km as f32)).sqrt();
    gazetteer
        .nearest_within(unit(at.lat, at.lon), chord)
        .map(|i| gazetteer.towns[i].clone())
}

/// Up to `limit` towns that `typed` may mean (see [`Gazetteer::search`]), those in
/// `country` (ISO 3166-1 alpha-2) first.
pub fn search(typed: &str, country: Option<&str>, limit: usize) -> Vec<Place> {
    gazetteer()
        .search(typed, country, limit)
        .into_iter()
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_real_town() {
        let p = nearest(LatLon::new(-35.28, 149.13));
        assert_eq!(p.country_code, "AU");
        assert_eq!(p.region, "Australian Capital Territory");
    }

    #[test]
    fn the_nearest_town_is_the_nearest_of_all() {
        let g = gazetteer();
        for (lat, lon) in [
            (-32.25, 148.6),
            (0.0, -160.0),
            (89.9, 0.0),
            (-89.9, 45.0),
            (51.5, -0.12),
            (-41.3, 174.8),
            (64.1, -21.9),
            (10.0, 179.99),
        ] {
            let p = unit(lat, lon);
            let found = g.nearest(p);
            let best = (0..g.points.len())
                .min_by(|&a, &b| squared(p, g.points[a]).total_cmp(&squared(p, g.points[b])))
                .unwrap_or(0);
            assert_eq!(
                squared(p, g.points[found]),
                squared(p, g.points[best]),
                "{lat},{lon}"
            );
        }
    }

    #[test]
    fn the_nearest_within_a_distance_is_the_nearest_or_none() {
        let g = gazetteer();
        for i in 0..2000 {
            let (lat, lon) = (-47.0 + f64::from(i % 40), 110.0 + f64::from(i / 40) * 1.4);
            let p = unit(lat, lon);
            let nearest = g.nearest(p);
            let d = squared(p, g.points[nearest]).sqrt();
            for chord in [0.004, 0.0158, 0.05] {
                let within = g.nearest_within(p, chord);
                assert_eq!(
                    within,
                    (d < chord).then_some(nearest),
                    "{lat},{lon} {chord}"
                );
            }
        }
    }

    #[test]
    fn a_typed_name_finds_its_town_first() {
        let found = search("dubbo", Some("AU"), 5);
        assert_eq!(found[0].name, "Dubbo");
        assert_eq!(found[0].region, "New South Wales");
    }

    #[test]
    fn a_prefix_finds_towns_in_the_preferred_country_first() {
        let found = search("Wagga", Some("AU"), 5);
        assert_eq!(found[0].name, "Wagga Wagga");
        let found = search("Springf", Some("US"), 10);
        assert!(found.iter().all(|p| p.country_code == "US"), "{found:?}");
    }

    #[test]
    fn accents_and_case_do_not_matter_and_words_inside_a_name_count() {
        assert!(search("ZÜRICH", None, 20)
            .iter()
            .any(|p| p.name == "Zurich"));
        assert!(search("sydney", Some("AU"), 20)
            .iter()
            .any(|p| p.name == "North Sydney"));
        assert!(search("  ", None, 5).is_empty());
    }
}
