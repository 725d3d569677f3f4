//! A synthetic population, the same for the same seed: practitioners at real Australian and
//! New Zealand towns, dense around cities with a long rural tail, with realistic mixes of
//! professions, client populations and settings. Used by tests, benchmarks and the demo
//! seeder; codes are the [`Vocabulary::standard`] ones so the api can map them back.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::geo::{arc_km, chord2, chord2_for_km, LatLon};
use crate::hash::FastMap;
use crate::places::{nearest, nearest_within, Place};
use crate::profile::{CodeSet, PersonId, Profile};
use crate::vocab::{Vocabulary, POPULATIONS, PROFESSIONS, SETTINGS};

/// A generated practitioner with everything a demo profile shows.
#[derive(Clone, Debug, PartialEq)]
pub struct SynthPractitioner {
    pub profile: Profile,
    pub display_name: String,
    pub place: Place,
    /// IANA name matching `profile.utc_offset_minutes` (standard time).
    pub timezone: &'static str,
    pub profession: &'static str,
    pub populations: Vec<&'static str>,
    pub settings: Vec<&'static str>,
    pub languages: Vec<&'static str>,
    /// Mentoring capacity offered (free slots may be fewer).
    pub mentoring_capacity: u8,
}

struct City {
    lat: f64,
    lon: f64,
    thousands: f64,
}

const CITIES: &[City] = &[
    City {
        lat: -33.87,
        lon: 151.21,
        thousands: 5300.0,
    }, // Sydney
    City {
        lat: -37.81,
        lon: 144.96,
        thousands: 5100.0,
    }, // Melbourne
    City {
        lat: -27.47,
        lon: 153.03,
        thousands: 2600.0,
    }, // Brisbane
    City {
        lat: -31.95,
        lon: 115.86,
        thousands: 2200.0,
    }, // Perth
    City {
        lat: -34.93,
        lon: 138.60,
        thousands: 1400.0,
    }, // Adelaide
    City {
        lat: -36.85,
        lon: 174.76,
        thousands: 1700.0,
    }, // Auckland
    City {
        lat: -28.02,
        lon: 153.40,
        thousands: 700.0,
    }, // Gold Coast
    City {
        lat: -32.93,
        lon: 151.78,
        thousands: 500.0,
    }, // Newcastle
    City {
        lat: -35.28,
        lon: 149.13,
        thousands: 460.0,
    }, // Canberra
    City {
        lat: -41.29,
        lon: 174.78,
        thousands: 420.0,
    }, // Wellington
    City {
        lat: -43.53,
        lon: 172.64,
        thousands: 390.0,
    }, // Christchurch
    City {
        lat: -26.65,
        lon: 153.07,
        thousands: 350.0,
    }, // Sunshine Coast
    City {
        lat: -34.42,
        lon: 150.89,
        thousands: 310.0,
    }, // Wollongong
    City {
        lat: -38.15,
        lon: 144.36,
        thousands: 280.0,
    }, // Geelong
    City {
        lat: -42.88,
        lon: 147.33,
        thousands: 250.0,
    }, // Hobart
    City {
        lat: -37.79,
        lon: 175.28,
        thousands: 180.0,
    }, // Hamilton
    City {
        lat: -19.26,
        lon: 146.82,
        thousands: 180.0,
    }, // Townsville
    City {
        lat: -16.92,
        lon: 145.77,
        thousands: 155.0,
    }, // Cairns
    City {
        lat: -12.46,
        lon: 130.84,
        thousands: 150.0,
    }, // Darwin
    City {
        lat: -27.56,
        lon: 151.95,
        thousands: 140.0,
    }, // Toowoomba
    City {
        lat: -45.87,
        lon: 170.50,
        thousands: 130.0,
    }, // Dunedin
    City {
        lat: -37.56,
        lon: 143.85,
        thousands: 110.0,
    }, // Ballarat
    City {
        lat: -36.76,
        lon: 144.28,
        thousands: 100.0,
    }, // Bendigo
    City {
        lat: -36.08,
        lon: 146.92,
        thousands: 95.0,
    }, // Albury
    City {
        lat: -41.43,
        lon: 147.14,
        thousands: 90.0,
    }, // Launceston
    City {
        lat: -21.14,
        lon: 149.19,
        thousands: 80.0,
    }, // Mackay
    City {
        lat: -23.38,
        lon: 150.51,
        thousands: 80.0,
    }, // Rockhampton
    City {
        lat: -33.33,
        lon: 115.64,
        thousands: 75.0,
    }, // Bunbury
    City {
        lat: -23.70,
        lon: 133.88,
        thousands: 25.0,
    }, // Alice Springs
];

/// (country, region) → (IANA zone, standard UTC offset in minutes).
fn time_zone(place: &Place) -> Option<(&'static str, i16)> {
    match (place.country_code.as_str(), place.region.as_str()) {
        ("NZ", _) => Some(("Pacific/Auckland", 720)),
        ("AU", "New South Wales" | "Australian Capital Territory") => {
            Some(("Australia/Sydney", 600))
        }
        ("AU", "Victoria") => Some(("Australia/Melbourne", 600)),
        ("AU", "Queensland") => Some(("Australia/Brisbane", 600)),
        ("AU", "Tasmania") => Some(("Australia/Hobart", 600)),
        ("AU", "South Australia") => Some(("Australia/Adelaide", 570)),
        ("AU", "Northern Territory") => Some(("Australia/Darwin", 570)),
        ("AU", "Western Australia") => Some(("Australia/Perth", 480)),
        _ => None,
    }
}

/// Relative frequency of each profession, in [`Vocabulary::standard`] order.
const PROFESSION_MIX: [u32; 12] = [22, 28, 12, 7, 9, 10, 4, 2, 3, 1, 1, 1];
const POPULATION_MIX: [u32; 12] = [14, 6, 14, 16, 10, 8, 12, 6, 4, 3, 3, 4];
const SETTING_MIX: [u32; 12] = [14, 10, 16, 8, 6, 8, 7, 5, 4, 6, 4, 8];

/// Populations and settings each profession favours (ids), so that peers cluster.
fn typical(profession: u16) -> (&'static [u16], &'static [u16]) {
    match profession {
        0 => (&[0, 3, 4, 5, 8], &[0, 1, 6, 7]),
        1 => (&[6, 3, 5, 2], &[2, 3, 4, 5]),
        2 => (&[0, 7, 5, 3], &[7, 8, 2, 3]),
        3 => (&[2, 3, 4], &[5, 11, 2]),
        4 => (&[4, 2, 3, 9], &[0, 3, 11]),
        5 => (&[4, 1, 2, 0], &[2, 0, 9]),
        6 => (&[3, 6, 2], &[2, 6, 1]),
        7 => (&[3, 0, 2], &[5, 2]),
        8 => (&[6, 2, 11], &[2, 5]),
        _ => (&[2, 3], &[0, 2]),
    }
}

const INTERESTS: &[&str] = &[
    "sensory processing",
    "falls prevention",
    "dysphagia",
    "autism",
    "dementia",
    "telehealth",
    "pain science",
    "vestibular rehab",
    "splinting",
    "wheelchair seating",
    "NDIS",
    "AAC",
    "stuttering",
    "paediatric feeding",
    "stroke recovery",
    "return to work",
    "pelvic health",
    "sports injuries",
    "diabetes",
    "lymphoedema",
    "clinical supervision",
    "research",
    "running a small practice",
    "cultural safety",
    "First Nations health",
    "burnout",
    "home modifications",
    "driving assessment",
    "motor neurone disease",
    "cerebral palsy",
];

const OTHER_LANGUAGES: &[&str] = &["zh", "vi", "ar", "el", "it", "hi", "es", "pa", "ko", "mi"];

const FIRST_NAMES: &[&str] = &[
    "Olivia",
    "Jack",
    "Charlotte",
    "Noah",
    "Amelia",
    "William",
    "Isla",
    "Oliver",
    "Mia",
    "Leo",
    "Grace",
    "Lucas",
    "Chloe",
    "Henry",
    "Zoe",
    "Thomas",
    "Ruby",
    "James",
    "Aroha",
    "Tane",
    "Priya",
    "Wei",
    "Linh",
    "Omar",
    "Sofia",
    "Nikos",
    "Giulia",
    "Arjun",
    "Mei",
    "Hana",
    "Sarah",
    "Daniel",
    "Emily",
    "Matthew",
    "Jessica",
    "Liam",
    "Hannah",
    "Ethan",
    "Kate",
    "Sam",
];

const SURNAMES: &[&str] = &[
    "Smith",
    "Jones",
    "Williams",
    "Brown",
    "Wilson",
    "Taylor",
    "Nguyen",
    "Johnson",
    "Martin",
    "White",
    "Anderson",
    "Walker",
    "Thompson",
    "Thomas",
    "Lee",
    "Ryan",
    "Chen",
    "Kelly",
    "King",
    "Harris",
    "Wright",
    "Clarke",
    "Patel",
    "Singh",
    "Papadopoulos",
    "Rossi",
    "Tran",
    "Ngata",
    "Parata",
    "Campbell",
    "Murphy",
    "Robinson",
    "Hughes",
    "Young",
    "Scott",
    "Green",
    "Baker",
    "Hall",
    "Mitchell",
    "O'Brien",
];

/// A deterministic stream of practitioners.
pub struct Generator {
    rng: ChaCha8Rng,
    vocabulary: Vocabulary,
    next_id: u128,
    city_pick: Weighted,
    profession_pick: Weighted,
}

/// Draws an index with probability proportional to its weight.
struct Weighted {
    cumulative: Vec<f64>,
}

impl Weighted {
    fn new(weights: impl IntoIterator<Item = f64>) -> Self {
        let mut total = 0.0;
        let cumulative = weights
            .into_iter()
            .map(|w| {
                total += w.max(0.0);
                total
            })
            .collect();
        Self { cumulative }
    }

    fn sample(&self, rng: &mut impl Rng) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        let r = rng.random::<f64>() * total;
        self.cumulative
            .partition_point(|&c| c <= r)
            .min(self.cumulative.len().saturating_sub(1))
    }
}

/// What kind of member to generate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Anyone, with the mix of the whole membership.
    Any,
    /// Early career, seeking a mentor.
    Mentee,
    /// Experienced, offering 1–8 free slots.
    Mentor,
}

impl Generator {
    pub fn new(seed: u64) -> Self {
        Self {
            rng: ChaCha8Rng::seed_from_u64(seed),
            vocabulary: Vocabulary::standard(),
            next_id: 1,
            city_pick: Weighted::new(CITIES.iter().map(|c| c.thousands)),
            profession_pick: Weighted::new(PROFESSION_MIX.map(f64::from)),
        }
    }

    /// The next practitioner of `role`; ids count up from 1.
    pub fn next(&mut self, role: Role) -> SynthPractitioner {
        let (place, rural) = self.place();
        let (timezone, offset) = time_zone(&place).unwrap_or(("Australia/Sydney", 600));
        let jitter_km = 2.0;
        let location = LatLon::new(
            place.location.lat + self.rng.random_range(-1.0..1.0) * jitter_km / 111.0,
            place.location.lon + self.rng.random_range(-1.0..1.0) * jitter_km / 90.0,
        );
        let profession = self.profession_pick.sample(&mut self.rng) as u16;
        let (typical_pops, typical_sets) = typical(profession);
        let pop_count = self.rng.random_range(1..=4);
        let populations = self.pick_codes(&POPULATION_MIX, typical_pops, pop_count, None);
        let set_count = self.rng.random_range(1..=3);
        let settings = self.pick_codes(&SETTING_MIX, typical_sets, set_count, rural.then_some(10));

        let years = match role {
            Role::Any => (self.rng.random::<f64>().ln() * -9.0).min(45.0) as u8,
            Role::Mentee => self.rng.random_range(0..=5),
            Role::Mentor => self.rng.random_range(8..=35),
        };
        let mut languages = vec!["en"];
        let extra = OTHER_LANGUAGES[self.rng.random_range(0..OTHER_LANGUAGES.len())];
        match self.rng.random_range(0..100) {
            0..3 => languages = vec![extra],
            3..22 => languages.push(extra),
            _ => {}
        }
        let interest_count = self.rng.random_range(0..=4);
        let mut interests: Vec<std::sync::Arc<str>> = Vec::new();
        while interests.len() < interest_count {
            let tag = INTERESTS[self.rng.random_range(0..INTERESTS.len())];
            if !interests.iter().any(|t| &**t == tag) {
                interests.push(tag.into());
            }
        }
        let modes = self.rng.random_range(0..100);
        let (meets_virtually, meets_in_person) = match modes {
            0..50 => (true, true),
            50..85 => (true, false),
            _ => (false, true),
        };
        let travel_choices: &[u16] = if rural {
            &[50, 100, 150, 200, 300]
        } else {
            &[10, 20, 30, 50, 80]
        };
        let max_travel_km = travel_choices[self.rng.random_range(0..travel_choices.len())];
        let works_alone = self.rng.random_bool(if rural { 0.45 } else { 0.12 });
        let capacity: u8 = match role {
            Role::Mentor => self.rng.random_range(1..=8),
            Role::Mentee => 0,
            Role::Any if years >= 8 && self.rng.random_bool(0.3) => self.rng.random_range(1..=8),
            Role::Any => 0,
        };
        let free_mentor_slots = match role {
            Role::Any if capacity > 0 => self.rng.random_range(0..=capacity),
            _ => capacity,
        };
        let seeking_mentor = match role {
            Role::Mentee => true,
            Role::Mentor => false,
            Role::Any => self.rng.random_bool(if years < 5 { 0.45 } else { 0.1 }),
        };
        let (verified, active) = match role {
            Role::Any => (self.rng.random_bool(0.92), self.rng.random_bool(0.98)),
            _ => (true, true),
        };
        let id = PersonId(self.next_id);
        self.next_id += 1;
        let language_ids = languages
            .iter()
            .filter_map(|l| self.vocabulary.language_id(l))
            .collect();
        let profile = Profile {
            id,
            profession,
            populations: CodeSet::from_ids(populations.iter().copied()),
            settings: CodeSet::from_ids(settings.iter().copied()),
            languages: language_ids,
            interests,
            location,
            years_experience: years,
            utc_offset_minutes: offset,
            meets_virtually,
            meets_in_person,
            max_travel_km,
            works_alone,
            seeking_peers: self.rng.random_bool(0.7),
            seeking_mentor,
            offering_mentoring: capacity > 0,
            free_mentor_slots,
            verified,
            active,
        };
        let display_name = format!(
            "{} {}",
            FIRST_NAMES[self.rng.random_range(0..FIRST_NAMES.len())],
            SURNAMES[self.rng.random_range(0..SURNAMES.len())]
        );
        SynthPractitioner {
            display_name,
            place,
            timezone,
            profession: code(PROFESSIONS, profession),
            populations: populations.iter().map(|&i| code(POPULATIONS, i)).collect(),
            settings: settings.iter().map(|&i| code(SETTINGS, i)).collect(),
            languages,
            mentoring_capacity: capacity,
            profile,
        }
    }

    /// A town, and whether it was drawn from the rural tail.
    fn place(&mut self) -> (Place, bool) {
        if self.rng.random_bool(0.25) {
            for _ in 0..20 {
                if let Some((town, _)) = country_point(&mut self.rng) {
                    return (town, true);
                }
            }
        }
        let city = &CITIES[self.city_pick.sample(&mut self.rng)];
        // Bigger cities sprawl further; a half-normal spread keeps most people close in.
        let spread_km = 6.0 + 12.0 * (city.thousands / 1000.0).sqrt();
        let r: f64 = {
            let (u1, u2): (f64, f64) = (self.rng.random_range(1e-12..1.0), self.rng.random());
            ((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()).abs() * spread_km
        };
        let bearing = self.rng.random_range(0.0..std::f64::consts::TAU);
        let at = LatLon::new(
            city.lat + r * bearing.cos() / 111.0,
            city.lon + r * bearing.sin() / (111.0 * city.lat.to_radians().cos()),
        );
        let town = nearest(at);
        if time_zone(&town).is_some() {
            (town, false)
        } else {
            (nearest(LatLon::new(city.lat, city.lon)), false)
        }
    }

    fn pick_codes(
        &mut self,
        mix: &[u32],
        typical: &[u16],
        count: usize,
        force: Option<u16>,
    ) -> Vec<u16> {
        let dist = Weighted::new(mix.iter().enumerate().map(|(i, &w)| {
            f64::from(if typical.contains(&(i as u16)) {
                w * 5
            } else {
                w
            })
        }));
        let mut picked: Vec<u16> = force.into_iter().collect();
        while picked.len() < count.min(mix.len()) {
            let id = dist.sample(&mut self.rng) as u16;
            if !picked.contains(&id) {
                picked.push(id);
            }
        }
        picked.sort_unstable();
        picked
    }
}

/// A point anywhere in the two countries within 100 km of a town (in a time zone the
/// generator knows), with that town; None when the draw fell too far from any.
fn country_point(rng: &mut impl Rng) -> Option<(Place, LatLon)> {
    let at = country_draw(rng);
    Some((town_near(at)?, at))
}

/// A point anywhere in the boxes around the two countries.
fn country_draw(rng: &mut impl Rng) -> LatLon {
    let (lat, lon) = if rng.random_bool(0.85) {
        (
            rng.random_range(-39.0..-11.0),
            rng.random_range(114.0..153.5),
        )
    } else {
        (
            rng.random_range(-46.5..-34.5),
            rng.random_range(166.5..178.5),
        )
    };
    LatLon::new(lat, lon)
}

/// The town nearest `at` when it is within 100 km and in a time zone the generator knows.
fn town_near(at: LatLon) -> Option<Place> {
    // A little wider than the 100 km asked for, so that the same towns pass as when every
    // draw looked for its nearest town however far.
    let town = nearest_within(at, 100.5)?;
    (time_zone(&town).is_some() && town.location.distance_km(at) < 100.0).then_some(town)
}

/// Members of each profession by half-degree cell, to find who is near whom.
struct Neighbourhood {
    /// Each member's profession, as its place in `professions`.
    profession: Vec<u16>,
    professions: Vec<&'static str>,
    cells: FastMap<(u16, (i32, i32)), Vec<u32>>,
    /// One bit per profession and cell of the globe, set when the cell has members of the
    /// profession: most cells around a point in the country are empty, and a bit is cheaper
    /// to read than the map.
    occupied: Vec<u64>,
    /// Each member's point on the unit sphere, for a distance test without trigonometry.
    points: Vec<[f32; 3]>,
    /// The cells to look in around a member's own, nearest first, as (row, column) steps.
    window: Vec<(i32, i32)>,
    radius_km: f64,
    /// `radius_km` as a squared chord, a little wide: a member inside it is confirmed with
    /// the distance itself.
    within: f32,
}

impl Neighbourhood {
    const CELL_DEGREES: f64 = 0.5;
    const ROWS: i32 = (180.0 / Self::CELL_DEGREES) as i32;
    const COLUMNS: i32 = (360.0 / Self::CELL_DEGREES) as i32;
    /// Kilometres in a degree of latitude, a little short so that no cell is skipped wrongly.
    const KM_PER_DEGREE: f64 = 111.0;

    fn cell(at: LatLon) -> (i32, i32) {
        (
            (at.lat / Self::CELL_DEGREES).floor() as i32,
            (at.lon / Self::CELL_DEGREES).floor() as i32,
        )
    }

    /// The bit of a profession's cell in `occupied`; None off the globe's grid.
    fn bit(profession: u16, (row, column): (i32, i32)) -> Option<usize> {
        let row = usize::try_from(row + Self::ROWS / 2)
            .ok()
            .filter(|&r| r < Self::ROWS as usize)?;
        let column = usize::try_from(column + Self::COLUMNS / 2)
            .ok()
            .filter(|&c| c < Self::COLUMNS as usize)?;
        Some(
            (usize::from(profession) * Self::ROWS as usize + row) * Self::COLUMNS as usize + column,
        )
    }

    fn new(members: &[SynthPractitioner], radius_km: f64) -> Self {
        let mut professions: Vec<&'static str> = Vec::new();
        let profession: Vec<u16> = members
            .iter()
            .map(|m| {
                let at = professions
                    .iter()
                    .position(|&p| p == m.profession)
                    .unwrap_or_else(|| {
                        professions.push(m.profession);
                        professions.len() - 1
                    });
                at as u16
            })
            .collect();
        let mut near = Self {
            occupied: vec![
                0;
                (professions.len() * (Self::ROWS * Self::COLUMNS) as usize).div_ceil(64)
            ],
            profession,
            professions,
            cells: FastMap::default(),
            points: members.iter().map(|m| m.profile.location.unit()).collect(),
            window: Vec::new(),
            radius_km,
            within: chord2_for_km(radius_km as f32),
        };
        for (i, m) in members.iter().enumerate() {
            near.add(i, m.profile.location);
        }
        // Half a degree of longitude is over 35 km this far from the poles.
        let reach = (radius_km / 35.0).ceil() as i32 + 1;
        near.window = (-reach..=reach)
            .flat_map(|dr| (-reach..=reach).map(move |dc| (dr, dc)))
            .collect();
        near.window
            .sort_by_key(|&(dr, dc)| (dr.abs().max(dc.abs()), dr.abs() + dc.abs()));
        near
    }

    fn add(&mut self, i: usize, at: LatLon) {
        let (profession, cell) = (self.profession[i], Self::cell(at));
        self.cells
            .entry((profession, cell))
            .or_default()
            .push(i as u32);
        if let Some(bit) = Self::bit(profession, cell) {
            self.occupied[bit / 64] |= 1 << (bit % 64);
        }
    }

    /// Whether anyone of member `of`'s profession other than them is within the radius of
    /// `at`.
    fn has_peer(&self, of: usize, at: LatLon) -> bool {
        let profession = self.profession[of];
        let (row, col) = Self::cell(at);
        let point = at.unit();
        self.window.iter().any(|&(dr, dc)| {
            let cell = (row + dr, col + dc);
            if Self::bit(profession, cell)
                .is_some_and(|bit| self.occupied[bit / 64] & (1 << (bit % 64)) == 0)
            {
                return false;
            }
            // A row of cells wholly further north or south than the radius is skipped.
            let south = f64::from(cell.0) * Self::CELL_DEGREES;
            let gap = (south - at.lat).max(at.lat - (south + Self::CELL_DEGREES));
            if gap * Self::KM_PER_DEGREE > self.radius_km {
                return false;
            }
            self.cells.get(&(profession, cell)).is_some_and(|near| {
                near.iter().any(|&j| {
                    let there = self.points[j as usize];
                    j as usize != of
                        && chord2(there, point) <= self.within
                        && f64::from(arc_km(there, point)) <= self.radius_km
                })
            })
        })
    }

    /// Member `i` has moved from `from` to `to`.
    fn moved(&mut self, i: usize, from: LatLon, to: LatLon) {
        if let Some(list) = self.cells.get_mut(&(self.profession[i], Self::cell(from))) {
            if let Some(at) = list.iter().position(|&j| j as usize == i) {
                list.swap_remove(at);
            }
        }
        // The old cell's bit stays set: a set bit only means "look in the map".
        self.add(i, to);
        self.points[i] = to.unit();
    }
}

/// Of the members who work alone, how many have nobody of their profession within
/// `radius_km`, and how many work alone.
pub fn lone_without_peer(members: &[SynthPractitioner], radius_km: f64) -> (usize, usize) {
    Neighbourhood::new(members, radius_km).lone_without_peer(members)
}

impl Neighbourhood {
    /// [`lone_without_peer`] of the members this neighbourhood holds, on every core.
    fn lone_without_peer(&self, members: &[SynthPractitioner]) -> (usize, usize) {
        let lone: Vec<usize> = (0..members.len())
            .filter(|&i| members[i].profile.works_alone)
            .collect();
        let without = crate::parallel::map_on_every_core(&lone, |&i| {
            !self.has_peer(i, members[i].profile.location)
        })
        .into_iter()
        .filter(|&alone| alone)
        .count();
        (without, lone.len())
    }
}

/// Moves members who work alone out to the country, one at a time, until at least `share`
/// of those who work alone have nobody of their profession within `radius_km`: each moves
/// to a point near a small town where nobody of their profession is that close (their
/// town, time zone and offset follow). The demo then has the isolated practitioners the
/// service is for; the same seed moves the same people. Returns [`lone_without_peer`] after.
pub fn move_to_the_country(
    members: &mut [SynthPractitioner],
    share: f64,
    radius_km: f64,
    seed: u64,
) -> (usize, usize) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5EED_C0DE);
    let mut near = Neighbourhood::new(members, radius_km);
    let (mut without, lone) = near.lone_without_peer(members);
    let wanted = (share.clamp(0.0, 1.0) * lone as f64).ceil() as usize;
    // Members of a profession that has failed this many in a row to find a place with
    // nobody of theirs nearby are not tried any more: the country is full of them.
    const GIVE_UP: u32 = 50;
    let mut failed_in_a_row = vec![0u32; near.professions.len()];
    #[allow(clippy::needless_range_loop)] // `near` is indexed by member too.
    for i in 0..members.len() {
        if without >= wanted {
            break;
        }
        let profession = usize::from(near.profession[i]);
        if !members[i].profile.works_alone
            || failed_in_a_row[profession] >= GIVE_UP
            || !near.has_peer(i, members[i].profile.location)
        {
            continue;
        }
        // The draw does not depend on the town found, so the cheaper test goes first.
        let found = (0..200).find_map(|_| {
            let at = country_draw(&mut rng);
            if near.has_peer(i, at) {
                return None;
            }
            Some((town_near(at)?, at))
        });
        let Some((town, at, (timezone, offset))) =
            found.and_then(|(town, at)| Some((town.clone(), at, time_zone(&town)?)))
        else {
            failed_in_a_row[profession] += 1;
            continue;
        };
        failed_in_a_row[profession] = 0;
        let from = members[i].profile.location;
        let m = &mut members[i];
        m.profile.location = at;
        m.profile.utc_offset_minutes = offset;
        m.timezone = timezone;
        m.place = town;
        near.moved(i, from, at);
        without += 1;
    }
    near.lone_without_peer(members)
}

fn code(list: &[(&'static str, &'static str, &'static str)], id: u16) -> &'static str {
    list.get(usize::from(id)).map_or("other", |t| t.0)
}

/// `n` members with the mix of the whole membership.
pub fn population(seed: u64, n: usize) -> Vec<SynthPractitioner> {
    members(seed).take(n).collect()
}

/// The members of [`population`] one at a time, without end: the first `n` are
/// `population(seed, n)`.
pub fn members(seed: u64) -> impl Iterator<Item = SynthPractitioner> {
    let mut g = Generator::new(seed);
    std::iter::repeat_with(move || g.next(Role::Any))
}

/// Just the profiles of [`population`].
pub fn profiles(seed: u64, n: usize) -> Vec<Profile> {
    population(seed, n).into_iter().map(|p| p.profile).collect()
}

/// Mentees then mentors, for a matching round.
pub fn round_population(seed: u64, mentees: usize, mentors: usize) -> Vec<Profile> {
    let mut g = Generator::new(seed);
    let mut out: Vec<Profile> = (0..mentees).map(|_| g.next(Role::Mentee).profile).collect();
    out.extend((0..mentors).map(|_| g.next(Role::Mentor).profile));
    out
}
