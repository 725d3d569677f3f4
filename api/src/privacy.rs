//! Distances shown to other people. Rounding alone is not enough: someone who moves their
//! own origin in small steps could find where a rounded figure flips and trilaterate. So
//! both ends are first snapped to the centre of a grid cell about 5 km across, and the
//! distance between the centres is rounded to 10 km.

use matcher::LatLon;

/// About 5 km of latitude.
const CELL_DEGREES: f64 = 0.045;

pub fn snap(lat: f64, lon: f64) -> LatLon {
    let row = (lat / CELL_DEGREES).floor();
    let snapped_lat = ((row + 0.5) * CELL_DEGREES).clamp(-90.0, 90.0);
    // Cells keep roughly the same width on the ground away from the equator.
    let lon_step = CELL_DEGREES / snapped_lat.to_radians().cos().max(0.05);
    let snapped_lon = (((lon + 180.0) / lon_step).floor() + 0.5) * lon_step - 180.0;
    LatLon::new(snapped_lat, snapped_lon.clamp(-180.0, 180.0))
}

/// The distance between two people as anyone else may see it: a multiple of 10 km.
pub fn public_distance_km(a: (f64, f64), b: (f64, f64)) -> u32 {
    matcher::rounded_to_10_km(snap(a.0, a.1).distance_km(snap(b.0, b.1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_are_multiples_of_ten() {
        let dubbo = (-32.2569, 148.6011);
        let orange = (-33.2839, 149.1007);
        let d = public_distance_km(dubbo, orange);
        assert_eq!(d % 10, 0);
        assert!((110..=140).contains(&d), "{d}");
    }

    #[test]
    fn small_moves_inside_a_cell_change_nothing() {
        let here = snap(-32.2569, 148.6011);
        let nudged = snap(-32.2569 + 0.0005, 148.6011 + 0.0005);
        assert_eq!(here, nudged);
    }

    #[test]
    fn snapping_moves_a_point_at_most_a_few_kilometres() {
        for (lat, lon) in [
            (0.0, 0.0),
            (-32.2569, 148.6011),
            (64.1, -21.9),
            (89.9, 179.9),
        ] {
            let snapped = snap(lat, lon);
            assert!(
                snapped.distance_km(LatLon::new(lat, lon)) < 5.0,
                "{lat},{lon}"
            );
        }
    }
}
