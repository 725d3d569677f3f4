//! Finding one's people: suggestions with their reasons, the directory, and how isolated
//! the caller is. Everything is chosen in memory from the live index; the database has the
//! last word on who is visible.

use chrono::{DateTime, Utc};
use matcher::Kind;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    error::ApiError,
    index::DirectoryFilter,
    isolation,
    service::{notifications, profiles, Core},
    store::profiles as stored_profiles,
    views::{round3, PublicProfile},
};

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ReasonView {
    #[schema(example = "population_overlap")]
    pub code: String,
    #[schema(example = "You both work with older adults")]
    pub label: String,
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub contribution: f64,
}

impl ReasonView {
    pub fn all(reasons: &[matcher::Reason]) -> Vec<Self> {
        reasons
            .iter()
            .map(|r| Self {
                code: r.code.to_owned(),
                label: r.label.clone(),
                contribution: round3(f64::from(r.contribution)),
            })
            .collect()
    }
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct SuggestionItem {
    pub profile: PublicProfile,
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub score: f64,
    pub reasons: Vec<ReasonView>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct Suggestions {
    pub items: Vec<SuggestionItem>,
    pub generated_at: DateTime<Utc>,
}

/// The best `limit` peers or mentors for the caller, best first, each with the reasons.
#[tracing::instrument(skip(core))]
pub async fn suggestions(
    core: &Core,
    user_id: Uuid,
    kind: Kind,
    limit: usize,
) -> Result<Suggestions, ApiError> {
    let me = own_location(core, user_id)
        .await?
        .ok_or_else(profiles::no_profile)?;
    let found = core.index.suggest(user_id, kind, limit);
    let ids: Vec<Uuid> = found.iter().map(|s| s.user_id).collect();
    let visible = profiles::chosen_by_index(core, user_id, &ids, Some(me)).await?;
    let items = found
        .into_iter()
        .filter_map(|s| {
            Some(SuggestionItem {
                profile: visible.iter().find(|p| p.user_id == s.user_id)?.clone(),
                score: round3(f64::from(s.score)),
                reasons: ReasonView::all(&s.reasons),
            })
        })
        .collect();
    Ok(Suggestions {
        items,
        generated_at: Utc::now(),
    })
}

/// Where the caller's profile puts them, from the read model (or storage, when the read
/// model does not hold them yet); `None` without a profile.
async fn own_location(core: &Core, user_id: Uuid) -> Result<Option<(f64, f64)>, ApiError> {
    if let Some(card) = core.index.card(user_id) {
        return Ok(Some(card.location()));
    }
    Ok(stored_profiles::load(&core.reads, user_id)
        .await?
        .map(|p| p.location()))
}

/// Where a directory page ends: the last item's shown distance (when sorted by distance)
/// and its id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageEnd {
    pub distance_km: Option<u32>,
    pub user_id: Uuid,
}

/// One page of the directory: practitioners matching every filter, nearest first within
/// `within_km` of the caller (which needs the caller's profile), and where the next page
/// starts when there is one.
#[tracing::instrument(skip(core, filter))]
pub async fn directory(
    core: &Core,
    user_id: Uuid,
    filter: &DirectoryFilter,
    within_km: Option<u32>,
    after: Option<PageEnd>,
    limit: usize,
) -> Result<(Vec<PublicProfile>, Option<PageEnd>), ApiError> {
    let viewer = own_location(core, user_id).await?;
    let near = match within_km {
        Some(km) => Some((viewer.ok_or_else(profiles::no_profile)?, km)),
        None => None,
    };
    // The page is chosen in memory from the live index (bounded work at any radius); only
    // its rows are read.
    let (chosen, more) = core.index.directory(
        user_id,
        filter,
        near,
        after.map(|a| (a.distance_km, a.user_id)),
        limit,
    );
    let ids: Vec<Uuid> = chosen.iter().map(|(id, _)| *id).collect();
    let items = profiles::chosen_by_index(core, user_id, &ids, viewer).await?;
    let next = match (more, chosen.last()) {
        (true, Some((user_id, distance_km))) => Some(PageEnd {
            distance_km: *distance_km,
            user_id: *user_id,
        }),
        _ => None,
    };
    Ok((items, next))
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct Isolation {
    /// 1.0 when nobody of the same profession and population is within 50 km, lower as such
    /// peers are at hand; at least 0.7 for someone who works alone.
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub score: f64,
    pub peers_within_50km: u32,
}

/// How isolated `user_id` is, when the live index holds them.
pub fn indexed_isolation(core: &Core, user_id: Uuid) -> Option<Isolation> {
    core.index.isolation(user_id).map(|found| Isolation {
        score: round3(f64::from(found.score)),
        peers_within_50km: found.peers_within_radius,
    })
}

/// How isolated the owner of `profile` is: from the live index, or measured from storage
/// when the index does not hold them yet.
#[tracing::instrument(skip_all, fields(user_id = %profile.row.user_id))]
pub async fn isolation(
    core: &Core,
    profile: &stored_profiles::StoredProfile,
) -> Result<Isolation, ApiError> {
    Ok(match indexed_isolation(core, profile.row.user_id) {
        Some(found) => found,
        None => {
            let found = isolation::for_profile(&core.reads, profile).await?;
            Isolation {
                score: found.score,
                peers_within_50km: found.peers_within_50km,
            }
        }
    })
}

/// People named in one weekly digest at most.
const DIGEST_PEOPLE: usize = 3;
/// Practitioners sent a digest in one pass of the scheduler.
const DIGESTS_PER_PASS: u64 = 200;

/// Sends the weekly digest (at most three suggestions with their reasons) to those who keep
/// it on and are due one, never naming anyone the previous digest named. The first comes a
/// week after the service first sees someone.
pub async fn send_match_digests(core: &Core, now: DateTime<Utc>) -> Result<(), ApiError> {
    let every = chrono::Duration::from_std(core.config.match_digest_every)
        .unwrap_or_else(|_| chrono::Duration::days(7));
    // A practitioner's clock starts when the service first sees them: their first digest
    // comes an interval later, when there is something new to tell.
    crate::store::match_digests::start_clocks(&core.db, now).await?;
    let due = crate::store::match_digests::due(&core.db, now - every, DIGESTS_PER_PASS).await?;
    for user_id in due {
        let Some(last) = crate::store::match_digests::last(&core.db, user_id).await? else {
            continue;
        };
        let last = Some(last);
        let named_last: Vec<Uuid> = last.as_ref().map(|(_, p)| p.clone()).unwrap_or_default();
        let seeking_mentor = core.index.card(user_id).is_some_and(|c| c.seeking_mentor);
        let mut found = core.index.suggest(user_id, Kind::Peer, 10);
        if seeking_mentor {
            found.extend(core.index.suggest(user_id, Kind::Mentor, 10));
        }
        found.sort_by(|a, b| b.score.total_cmp(&a.score));
        let ids: Vec<Uuid> = found.iter().map(|s| s.user_id).collect();
        let visible = crate::store::users::visible_to(&core.reads, user_id, &ids).await?;
        let mut people: Vec<(Uuid, Vec<String>)> = Vec::new();
        for s in found {
            if people.len() == DIGEST_PEOPLE {
                break;
            }
            if named_last.contains(&s.user_id)
                || !visible.contains(&s.user_id)
                || people.iter().any(|(id, _)| *id == s.user_id)
            {
                continue;
            }
            people.push((
                s.user_id,
                s.reasons.iter().map(|r| r.label.clone()).collect(),
            ));
        }
        let ids: Vec<Uuid> = people.iter().map(|(id, _)| *id).collect();
        let write = core.write().await?;
        if !crate::store::match_digests::claim(
            write.db(),
            user_id,
            last.map(|(at, _)| at),
            now,
            &ids,
        )
        .await?
        {
            continue;
        }
        if !people.is_empty() {
            notifications::match_digest(write.db(), &core.mailing(), user_id, &people).await?;
        }
        write.commit().await?;
    }
    Ok(())
}
