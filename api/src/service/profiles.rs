//! Profiles: writing one's own (with the hourly allowance of moves), and what others see of
//! it.

use std::collections::HashMap;

use chrono::{Duration, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::{
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
async fn names(
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

/// Free mentoring places of each profile: capacity less accepted mentees.
async fn available_slots(
    db: &impl ConnectionTrait,
    profiles: &[StoredProfile],
) -> Result<HashMap<Uuid, i32>, sea_orm::DbErr> {
    let mentors: Vec<Uuid> = profiles
        .iter()
        .filter(|p| p.row.mentoring_offering)
        .map(|p| p.row.user_id)
        .collect();
    let taken = store::connections::accepted_counts(db, &mentors).await?;
    Ok(profiles
        .iter()
        .map(|p| {
            let taken = taken.get(&p.row.user_id).copied().unwrap_or(0);
            let taken = i32::try_from(taken).unwrap_or(i32::MAX);
            (p.row.user_id, (p.row.mentoring_capacity - taken).max(0))
        })
        .collect())
}

/// What `viewer` sees of each stored profile.
#[tracing::instrument(skip_all)]
pub async fn public_profiles(
    db: &impl ConnectionTrait,
    stored: &[StoredProfile],
    viewer: Option<&StoredProfile>,
) -> Result<Vec<PublicProfile>, sea_orm::DbErr> {
    let names = names(db, stored.iter().map(|p| p.row.user_id).collect()).await?;
    let slots = available_slots(db, stored).await?;
    Ok(stored
        .iter()
        .map(|p| {
            let id = p.row.user_id;
            PublicProfile::new(
                p,
                names.get(&id).map_or("", String::as_str),
                viewer,
                slots.get(&id).copied().unwrap_or(0),
            )
        })
        .collect())
}

/// The visible profiles among `ids`, in the order given, as `viewer` sees them.
#[tracing::instrument(skip(db, viewer))]
pub async fn visible_in_order(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
    viewer: Option<&StoredProfile>,
) -> Result<Vec<PublicProfile>, ApiError> {
    let order: HashMap<Uuid, usize> = ids.iter().enumerate().map(|(n, id)| (*id, n)).collect();
    let mut page = profiles::find(db, profiles::visible_among(ids.to_vec()), None, None).await?;
    page.sort_by_key(|p| order.get(&p.user_id).copied());
    let stored = profiles::attach_tags(db, page).await?;
    Ok(public_profiles(db, &stored, viewer).await?)
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
    public_profiles(db, &[stored], own.as_ref())
        .await?
        .pop()
        .ok_or(ApiError::NotFound)
}

/// Towns that a typed name may mean, for picking a location by town; those in `country`
/// first.
pub fn find_towns(typed: &str, country: Option<&str>, limit: usize) -> Vec<matcher::places::Place> {
    matcher::places::search(typed, country, limit)
}
