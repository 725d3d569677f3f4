//! Real towns, offline: the GeoNames table (places over 1,000 people) that ships inside the
//! `reverse_geocoder` crate. Loading it takes a moment, so it is loaded once, on first use.

use std::sync::OnceLock;

use reverse_geocoder::ReverseGeocoder;

use crate::geo::LatLon;

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

fn gazetteer() -> &'static ReverseGeocoder {
    static GAZETTEER: OnceLock<ReverseGeocoder> = OnceLock::new();
    GAZETTEER.get_or_init(ReverseGeocoder::new)
}

/// The town nearest to `at`, e.g. for a profile's `place`. Never fails: the table always has
/// a nearest entry, even from the middle of an ocean.
pub fn nearest(at: LatLon) -> Place {
    let record = gazetteer().search((at.lat, at.lon)).record;
    Place {
        name: record.name.clone(),
        region: record.admin1.clone(),
        country_code: record.cc.clone(),
        location: LatLon::new(record.lat, record.lon),
    }
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
}
