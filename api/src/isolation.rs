//! How alone a practitioner is (matching.md §2): verified practitioners of the same
//! profession within 50 km who share a client population.

use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::{
    privacy::snap,
    store::{
        entities::profiles,
        profiles::{self as store, StoredProfile},
    },
};
use sea_orm::ColumnTrait;

pub const RADIUS_KM: f32 = 50.0;
pub const WORKS_ALONE_FLOOR: f64 = 0.7;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Isolation {
    pub score: f64,
    pub peers_within_50km: u32,
}

pub fn score(peers: u32, works_alone: bool) -> f64 {
    let base = 1.0 / (1.0 + f64::from(peers));
    if works_alone {
        base.max(WORKS_ALONE_FLOOR)
    } else {
        base
    }
}

/// Counts from snapped positions, so that watching the count while moving one's own
/// location reveals no more than the distances shown elsewhere.
pub async fn for_profile(
    db: &impl ConnectionTrait,
    me: &StoredProfile,
) -> Result<Isolation, sea_orm::DbErr> {
    let (lat, lon) = (me.row.latitude, me.row.longitude);
    let condition = store::visible_users()
        .add(profiles::Column::Profession.eq(me.row.profession.clone()))
        .add(profiles::Column::UserId.ne(me.row.user_id))
        .add(store::has_tag(store::POPULATION, me.populations.clone()))
        .add(store::bounding_box(lat, lon, f64::from(RADIUS_KM) + 10.0));
    let here = snap(lat, lon);
    let peers = store::find(db, condition, None::<Uuid>, None)
        .await?
        .iter()
        .filter(|p| here.distance_km(snap(p.latitude, p.longitude)) <= RADIUS_KM)
        .count();
    let peers = u32::try_from(peers).unwrap_or(u32::MAX);
    Ok(Isolation {
        score: score(peers, me.row.works_alone),
        peers_within_50km: peers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nobody_nearby_is_fully_isolated_and_working_alone_raises_the_floor() {
        assert_eq!(score(0, false), 1.0);
        assert_eq!(score(1, false), 0.5);
        assert_eq!(score(9, false), 0.1);
        assert_eq!(score(9, true), 0.7);
    }
}
