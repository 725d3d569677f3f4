//! Coordinates and distances.
//!
//! The index keeps every location as a point on the unit sphere in `f32`, so a distance test
//! is a few multiplications (a chord length) instead of trigonometry; the arc length is
//! derived from the chord only when a score needs it. One `f32` step on the unit sphere is
//! about half a metre on the ground, far below anything a practitioner cares about.

/// Mean Earth radius used for every distance in the crate.
pub const EARTH_RADIUS_KM: f32 = 6371.0;

/// A position in decimal degrees (WGS 84).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LatLon {
    pub lat: f64,
    pub lon: f64,
}

impl LatLon {
    pub fn new(lat: f64, lon: f64) -> Self {
        Self { lat, lon }
    }

    /// Great-circle distance in kilometres, computed the same way the index does.
    pub fn distance_km(self, other: LatLon) -> f32 {
        arc_km(self.unit(), other.unit())
    }

    pub(crate) fn unit(self) -> [f32; 3] {
        let (lat, lon) = (self.lat.to_radians(), self.lon.to_radians());
        [
            (lat.cos() * lon.cos()) as f32,
            (lat.cos() * lon.sin()) as f32,
            lat.sin() as f32,
        ]
    }
}

pub(crate) fn chord2(a: [f32; 3], b: [f32; 3]) -> f32 {
    let (dx, dy, dz) = (a[0] - b[0], a[1] - b[1], a[2] - b[2]);
    dx * dx + dy * dy + dz * dz
}

pub(crate) fn arc_km(a: [f32; 3], b: [f32; 3]) -> f32 {
    let half_chord = (chord2(a, b).sqrt() * 0.5).min(1.0);
    2.0 * EARTH_RADIUS_KM * half_chord.asin()
}

/// The squared chord that corresponds to an arc of `km`, for radius tests without `asin`.
/// Slightly widened so that a point exactly on the circle is never lost to rounding; callers
/// that need an exact cut confirm with [`arc_km`].
pub(crate) fn chord2_for_km(km: f32) -> f32 {
    let half_angle = (km / EARTH_RADIUS_KM * 0.5).min(std::f32::consts::FRAC_PI_2);
    let chord = 2.0 * half_angle.sin();
    chord * chord * (1.0 + 1e-5) + 1e-12
}

/// Distance as shown to people: whole tens of kilometres, never the exact figure.
pub fn rounded_to_10_km(km: f32) -> u32 {
    ((km / 10.0).round() as u32) * 10
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sydney_to_melbourne_is_about_714_km() {
        let d = LatLon::new(-33.8688, 151.2093).distance_km(LatLon::new(-37.8136, 144.9631));
        assert!((d - 714.0).abs() < 3.0, "{d}");
    }

    #[test]
    fn chord_threshold_keeps_points_on_the_circle() {
        let a = LatLon::new(-33.0, 151.0);
        let b = LatLon::new(-33.0, 151.5);
        let d = a.distance_km(b);
        assert!(chord2(a.unit(), b.unit()) <= chord2_for_km(d));
    }

    #[test]
    fn distances_are_rounded_to_tens() {
        assert_eq!(rounded_to_10_km(38.2), 40);
        assert_eq!(rounded_to_10_km(4.9), 0);
        assert_eq!(rounded_to_10_km(15.0), 20);
    }
}
