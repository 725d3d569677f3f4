//! Profiles: writing one's own (with the hourly allowance of moves), and what others see of
//! it.

use std::collections::HashMap;

use chrono::{Duration, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::{
    cards::{Card, Strings},
    domain::profile::ProfileData,
    error::{ApiError, ProblemCode},
    privacy,
    service::Core,
    store::{
        self,
        entities::{profiles as profile_rows, users},
        profiles::{self, PlaceName, StoredProfile},
    },
    views::{Profile, PublicProfile},
};

pub fn no_profile() -> ApiError {
    ApiError::refused(
        ProblemCode::ProfileRequired,
        "Create your profile with PUT /api/v1/me/profile first.",
    )
}

/// The caller's own profile, or the refusal that says they must make one first.
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn own(core: &Core, user: &users::Model) -> Result<Profile, ApiError> {
    let stored = profiles::load(&core.db, user.id)
        .await?
        .ok_or_else(no_profile)?;
    Ok(Profile::new(&stored, &user.display_name))
}

/// Refuses a location change beyond the hourly allowance.
async fn check_location_allowance(
    core: &Core,
    db: &impl ConnectionTrait,
    user_id: Uuid,
) -> Result<(), ApiError> {
    let now = Utc::now();
    let changes = profiles::location_changes_since(db, user_id, now - Duration::hours(1)).await?;
    let allowed = usize::try_from(core.config.location_changes_per_hour).unwrap_or(usize::MAX);
    if changes.len() >= allowed {
        let oldest = changes.first().copied().unwrap_or(now);
        let retry = (oldest + Duration::hours(1) - now).num_seconds().max(1);
        return Err(ApiError::TooManyRequests {
            retry_after_secs: u64::try_from(retry).unwrap_or(1),
        });
    }
    Ok(())
}

/// Creates or replaces the caller's profile and returns the owner's view.
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn save(
    core: &Core,
    user: &users::Model,
    data: ProfileData,
) -> Result<Profile, ApiError> {
    // Named from the snapped position, so that two people in one grid cell show one town.
    let found = matcher::places::nearest(privacy::snap(
        data.location.latitude(),
        data.location.longitude(),
    ));
    let place = PlaceName {
        name: found.name,
        region: found.region,
        country_code: found.country_code,
    };
    let now = Utc::now();
    let mut write = core.write().await?;
    // Simultaneous saves of one profile take turns, so the location changes of the last
    // hour are counted with every earlier change already written.
    store::lock_account(write.db(), user.id).await?;
    let previous = profile_rows::Entity::find_by_id(user.id)
        .one(write.db())
        .await?;
    let moved = previous.is_none_or(|p| {
        p.latitude != data.location.latitude() || p.longitude != data.location.longitude()
    });
    if moved {
        check_location_allowance(core, write.db(), user.id).await?;
        profiles::record_location_change(write.db(), user.id, now).await?;
    }
    profiles::save(write.db(), user.id, &data, place, now).await?;
    let stored = profiles::load(write.db(), user.id)
        .await?
        .ok_or_else(|| ApiError::unexpected(anyhow::anyhow!("profile vanished after saving")))?;
    write.users_changed(&[user.id]);
    write.commit().await?;
    Ok(Profile::new(&stored, data.display_name.as_str()))
}

/// Display names of the given accounts.
pub(crate) async fn names(
    db: &impl ConnectionTrait,
    ids: Vec<Uuid>,
) -> Result<HashMap<Uuid, String>, sea_orm::DbErr> {
    Ok(users::Entity::find()
        .filter(users::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.display_name))
        .collect())
}

/// What `viewer` sees of each stored profile.
#[tracing::instrument(skip_all)]
pub async fn public_profiles(
    db: &impl ConnectionTrait,
    stored: &[StoredProfile],
    viewer: Option<(f64, f64)>,
) -> Result<Vec<PublicProfile>, sea_orm::DbErr> {
    let ids: Vec<Uuid> = stored.iter().map(|p| p.row.user_id).collect();
    let names = names(db, ids.clone()).await?;
    let taken = store::connections::accepted_counts(db, Some(&ids)).await?;
    let mut strings = Strings::default();
    Ok(stored
        .iter()
        .map(|p| {
            let id = p.row.user_id;
            let name = names.get(&id).map_or("", String::as_str);
            let taken = taken.get(&id).copied().unwrap_or(0);
            Card::new(p, name, taken, p.row.updated_at, &mut strings).public(viewer)
        })
        .collect())
}

/// The profiles of `ids`, which the live index itself chose for `viewer_id` (suggestions, a
/// directory page), in the order given, as seen from `viewer`. The index already left out
/// the unverified, the suspended, the erased and anyone blocked either way, and learns of
/// changes on other instances at its next poll (within seconds), so this reads nothing from
/// storage; a practitioner the read model does not hold yet is checked and read there.
#[tracing::instrument(skip(core, viewer))]
pub async fn chosen_by_index(
    core: &Core,
    viewer_id: Uuid,
    ids: &[Uuid],
    viewer: Option<(f64, f64)>,
) -> Result<Vec<PublicProfile>, ApiError> {
    let cards = core.index.cards(ids);
    if cards.len() == ids.len() {
        return Ok(cards.iter().map(|card| card.public(viewer)).collect());
    }
    visible_to(core, viewer_id, ids, viewer).await
}

/// The visible profiles among `ids`, in the order given, as `viewer_id` sees them from
/// `viewer` (where they are, when they have a profile). Answered from the read model in
/// memory with one query that checks who may still be seen; a practitioner the read model
/// does not hold yet is read from storage.
#[tracing::instrument(skip(core, viewer))]
pub async fn visible_to(
    core: &Core,
    viewer_id: Uuid,
    ids: &[Uuid],
    viewer: Option<(f64, f64)>,
) -> Result<Vec<PublicProfile>, ApiError> {
    let visible = store::users::visible_to(&core.reads, viewer_id, ids).await?;
    let ids: Vec<Uuid> = ids
        .iter()
        .copied()
        .filter(|id| visible.contains(id))
        .collect();
    let cards = core.index.cards(&ids);
    if cards.len() == ids.len() {
        return Ok(cards.iter().map(|card| card.public(viewer)).collect());
    }
    let mut shown: HashMap<Uuid, PublicProfile> = cards
        .iter()
        .map(|card| (card.user_id, card.public(viewer)))
        .collect();
    let missing: Vec<Uuid> = ids
        .iter()
        .copied()
        .filter(|id| !shown.contains_key(id))
        .collect();
    let rows = profiles::find(&core.reads, profiles::visible_among(missing), None, None).await?;
    let stored = profiles::attach_tags(&core.reads, rows).await?;
    for public in public_profiles(&core.reads, &stored, viewer).await? {
        shown.insert(public.user_id, public);
    }
    Ok(ids.iter().filter_map(|id| shown.remove(id)).collect())
}

/// A practitioner's public profile as `viewer` sees it. Unverified and suspended accounts,
/// accounts without a profile, and anyone on either side of a block are not found (except
/// by their owner).
#[tracing::instrument(skip_all, fields(viewer_id = %viewer.id, %target_id))]
pub async fn public(
    core: &Core,
    viewer: &users::Model,
    target_id: Uuid,
) -> Result<PublicProfile, ApiError> {
    let db = &core.reads;
    if target_id != viewer.id {
        store::users::find_by_id(db, target_id)
            .await?
            .filter(|u| u.email_verified && !u.suspended)
            .ok_or(ApiError::NotFound)?;
        if store::connections::is_blocked_either_way(db, viewer.id, target_id).await? {
            return Err(ApiError::NotFound);
        }
    }
    let stored = profiles::load(db, target_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let own = profiles::load(db, viewer.id).await?;
    public_profiles(db, &[stored], own.as_ref().map(StoredProfile::location))
        .await?
        .pop()
        .ok_or(ApiError::NotFound)
}

/// Towns that a typed name may mean, for picking a location by town; those in `country`
/// first.
pub fn find_towns(typed: &str, country: Option<&str>, limit: usize) -> Vec<matcher::places::Place> {
    matcher::places::search(typed, country, limit)
}
