//! Formation rounds: the practitioners who asked for a circle are partitioned into circles
//! by the matcher (`matching.md` §8), the most isolated placed first. A dry run reports
//! without creating anything; a real round creates each circle with its members and
//! introduces them by email.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, Set};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    domain::{
        circle::{Admission, CircleState, MemberRole, MemberStatus, CAP_RANGE},
        codes::utc_offset_minutes,
    },
    error::ApiError,
    privacy,
    service::{admin::live_accounts, notifications, Core},
    store::{
        circles::{self as rows, NewMember},
        entities::{circle_rounds, circles as circle_rows},
    },
    vocabulary::VOCABULARY,
};

/// What an administrator asks of a round.
pub struct RoundRequest {
    pub dry_run: bool,
    /// Most members per circle, 4 to 8.
    pub cap: usize,
    /// Fewest members a circle is formed with, 3 to `cap`.
    pub min_size: usize,
    /// Whether a circle may mix professions.
    pub interprofessional: bool,
    /// Also compute an upper bound on the objective (one search per seeker: slow).
    pub with_bound: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct FormedCircle {
    /// The circle created (null in a dry run).
    pub circle_id: Option<Uuid>,
    #[schema(example = "Occupational therapy: older adults, home visits")]
    pub domain: String,
    /// Members, the most isolated first.
    pub member_ids: Vec<Uuid>,
    /// Mean peer score over every pair of members.
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub mean_score: f64,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Unplaced {
    pub user_id: Uuid,
    /// `not_eligible` (no profile the matcher can place), `no_overlap` (nobody who asked
    /// has working hours that overlap theirs), or `too_few_similar` (too few compatible
    /// people were left to form a circle).
    #[schema(example = "too_few_similar")]
    pub reason: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct CircleRoundResult {
    pub round_id: Uuid,
    pub dry_run: bool,
    pub circles: Vec<FormedCircle>,
    pub unplaced: Vec<Unplaced>,
    /// Sum over circles of the members' isolation-weighted mean scores.
    pub objective: f64,
    /// The objective of the greedy construction alone, before the local search.
    pub greedy_objective: f64,
    /// An upper bound on the objective, when asked for.
    pub upper_bound: Option<f64>,
    pub elapsed_ms: f64,
}

/// The most common of `codes` (ties: the first seen), as its label.
fn commonest(
    codes: impl Iterator<Item = std::sync::Arc<str>>,
    terms: &[matcher::Term],
) -> Option<String> {
    let mut counts: Vec<(std::sync::Arc<str>, usize)> = Vec::new();
    for code in codes {
        match counts.iter_mut().find(|(c, _)| *c == code) {
            Some((_, n)) => *n += 1,
            None => counts.push((code, 1)),
        }
    }
    let best = counts
        .iter()
        .max_by_key(|(_, n)| *n)
        .map(|(c, _)| c.clone())?;
    terms
        .iter()
        .find(|t| *t.code == *best)
        .map(|t| t.label.to_lowercase())
}

/// A plain-words domain for a formed circle: the members' profession and the client
/// population and setting most of them share.
fn domain_for(core: &Core, members: &[Uuid]) -> (String, String) {
    let cards = core.index.cards(members);
    let profession = cards
        .first()
        .map(|c| c.profession.to_string())
        .unwrap_or_default();
    let mixed = cards.iter().any(|c| *c.profession != *profession);
    let label = if mixed {
        "Interprofessional".to_owned()
    } else {
        VOCABULARY
            .professions
            .iter()
            .find(|t| t.code == profession)
            .map_or_else(|| profession.clone(), |t| t.label.clone())
    };
    let population = commonest(
        cards.iter().flat_map(|c| c.populations().iter().cloned()),
        &VOCABULARY.populations,
    );
    let setting = commonest(
        cards.iter().flat_map(|c| c.settings().iter().cloned()),
        &VOCABULARY.settings,
    );
    let focus: Vec<String> = population.into_iter().chain(setting).collect();
    let domain = if focus.is_empty() {
        label
    } else {
        format!("{label}: {}", focus.join(", "))
    };
    let profession = if mixed {
        crate::service::circles::INTERPROFESSIONAL.to_owned()
    } else {
        profession
    };
    (domain, profession)
}

/// Creates one formed circle with its members, takes them off the waiting list and
/// introduces them, in one write. Returns None when someone was placed meanwhile (by
/// another round), and then changes nothing.
async fn create(
    core: &Core,
    round_id: Uuid,
    cap: usize,
    members: &[Uuid],
    domain: &str,
    profession: &str,
) -> Result<Option<Uuid>, ApiError> {
    let cards = core.index.cards(members);
    let now = Utc::now();
    let count = i32::try_from(cards.len().max(1)).unwrap_or(1);
    let mean_offset = cards
        .iter()
        .map(|c| utc_offset_minutes(&c.timezone, now))
        .sum::<i32>()
        / count;
    let snapped: Vec<matcher::LatLon> = cards
        .iter()
        .map(|c| privacy::snap(c.latitude, c.longitude))
        .collect();
    let n = f64::from(count);
    let anchor = privacy::snap(
        snapped.iter().map(|p| p.lat).sum::<f64>() / n,
        snapped.iter().map(|p| p.lon).sum::<f64>() / n,
    );
    let id = Uuid::now_v7();
    let write = core.write().await?;
    if rows::stop_seeking(write.db(), members).await? < members.len() as u64 {
        return Ok(None);
    }
    rows::insert(
        write.db(),
        circle_rows::ActiveModel {
            id: Set(id),
            domain: Set(domain.to_owned()),
            cap: Set(i32::try_from(cap).unwrap_or(*CAP_RANGE.end())),
            state: Set(CircleState::Active),
            admission: Set(Admission::Approval),
            closed_reason: Set(None),
            profession: Set(profession.to_owned()),
            utc_offset_minutes: Set(mean_offset),
            anchor_latitude: Set(anchor.lat),
            anchor_longitude: Set(anchor.lon),
            round_id: Set(Some(round_id)),
            version: Set(0),
            created_at: Set(now),
            last_activity_at: Set(now),
            updated_at: Set(now),
        },
    )
    .await?;
    for &user_id in members {
        rows::add_member(
            write.db(),
            NewMember {
                circle_id: id,
                user_id,
                role: MemberRole::Member,
                status: MemberStatus::Active,
                note: None,
            },
        )
        .await?;
    }
    notifications::circle_formed(write.db(), &core.mailing(), id, domain, members).await?;
    write.commit().await?;
    Ok(Some(id))
}

/// Runs a formation round over everyone waiting for a circle.
#[tracing::instrument(skip(core, request), fields(dry_run = request.dry_run))]
pub async fn run(core: &Core, request: RoundRequest) -> Result<CircleRoundResult, ApiError> {
    let cap = i32::try_from(request.cap).unwrap_or(0);
    if !CAP_RANGE.contains(&cap) {
        return Err(ApiError::field("cap", "must be a whole number from 4 to 8"));
    }
    if !(3..=request.cap).contains(&request.min_size) {
        return Err(ApiError::field("min_size", "must be from 3 to the cap"));
    }
    let waiting = rows::seekers(&core.db).await?;
    let live = live_accounts(&core.db, waiting.clone(), core.index.population()).await?;
    let seekers: Vec<Uuid> = waiting.into_iter().filter(|id| live.contains(id)).collect();
    let rules = matcher::circles::CircleRules {
        cap: request.cap,
        min_size: request.min_size,
        interprofessional: request.interprofessional,
        ..crate::service::circles::rules()
    };
    let index = core.index.clone();
    let with_bound = request.with_bound;
    let outcome =
        tokio::task::spawn_blocking(move || index.form_circles(&seekers, &rules, with_bound))
            .await
            .map_err(|e| ApiError::unexpected(anyhow::anyhow!("{e}")))?;
    let round_id = Uuid::now_v7();
    let mut circles = Vec::new();
    let mut unplaced: Vec<Unplaced> = outcome
        .unplaced
        .iter()
        .map(|(user_id, reason)| Unplaced {
            user_id: *user_id,
            reason: (*reason).to_owned(),
        })
        .collect();
    for (members, mean_score) in &outcome.circles {
        let (domain, profession) = domain_for(core, members);
        let circle_id = if request.dry_run {
            None
        } else {
            match create(core, round_id, request.cap, members, &domain, &profession).await? {
                Some(id) => Some(id),
                None => {
                    unplaced.extend(members.iter().map(|&user_id| Unplaced {
                        user_id,
                        reason: "placed_meanwhile".to_owned(),
                    }));
                    continue;
                }
            }
        };
        circles.push(FormedCircle {
            circle_id,
            domain,
            member_ids: members.clone(),
            mean_score: crate::views::round3(*mean_score),
        });
    }
    let placed: usize = circles.iter().map(|c| c.member_ids.len()).sum();
    circle_rounds::ActiveModel {
        id: Set(round_id),
        dry_run: Set(request.dry_run),
        circles: Set(i32::try_from(circles.len()).unwrap_or(i32::MAX)),
        placed: Set(i32::try_from(placed).unwrap_or(i32::MAX)),
        unplaced: Set(i32::try_from(unplaced.len()).unwrap_or(i32::MAX)),
        objective: Set(outcome.objective),
        greedy_objective: Set(outcome.greedy_objective),
        elapsed_ms: Set(outcome.elapsed_ms),
        created_at: Set(Utc::now()),
    }
    .insert(&core.db)
    .await?;
    Ok(CircleRoundResult {
        round_id,
        dry_run: request.dry_run,
        circles,
        unplaced,
        objective: crate::views::round3(outcome.objective),
        greedy_objective: crate::views::round3(outcome.greedy_objective),
        upper_bound: outcome.upper_bound.map(crate::views::round3),
        elapsed_ms: outcome.elapsed_ms,
    })
}
