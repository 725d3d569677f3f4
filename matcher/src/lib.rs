//! Who should meet whom: scoring, isolation, top-k suggestions and matching rounds for
//! Alongside. Pure computation: profiles in, ranked candidates and assignments out.

pub mod circles;
mod geo;
mod hash;
mod index;
mod isolation;
mod parallel;
pub mod places;
mod profile;
pub mod round;
mod score;
mod spatial;
pub mod synth;
mod vocab;

pub use geo::{rounded_to_10_km, LatLon, EARTH_RADIUS_KM};
pub use index::{no_exclusions, Exclusion, Index, Nearby, Suggestion, SCAN_BYTES_PER_PROFILE};
pub use isolation::{Isolation, IsolationConfig};
pub use profile::{CodeSet, PersonId, Profile};
pub use score::{Component, Explanation, Kind, Reason, ScoringConfig, Weights};
pub use vocab::{Term, Vocabulary};
