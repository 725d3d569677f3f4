//! Programme administration: matching rounds, figures, suspensions. Only administrators
//! reach these; [`require_admin`] says so.

use std::collections::BTreeMap;

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    domain::{
        connection::{self, Action, Actor, ConnectionKind, ConnectionStatus},
        role::Role,
    },
    error::{ApiError, ProblemCode},
    service::{connections as requests, notifications, Core},
    store::{
        connections as store,
        entities::{connections, matching_rounds, profiles, users},
        outbox, tokens,
        users::User,
    },
};

pub fn require_admin(user: &User) -> Result<(), ApiError> {
    if user.role == Role::Admin {
        Ok(())
    } else {
        Err(ApiError::refused(
            ProblemCode::AdminOnly,
            "Only programme administrators can do this.",
        ))
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct RoundProposal {
    pub mentee_id: Uuid,
    pub mentor_id: Uuid,
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub score: f64,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct RoundResult {
    pub round_id: Uuid,
    /// `exact` (the most value, the most isolated weighing most), `stable` (nobody would
    /// both rather have each other) or `greedy` (first come, first served).
    pub solver: RoundSolver,
    /// Mentee and mentor pairs who would both rather have each other than what the round
    /// gave them (always 0 for `stable`).
    pub blocking_pairs: u64,
    pub proposals: Vec<RoundProposal>,
    pub unmatched_mentee_ids: Vec<Uuid>,
    /// Sum of the proposals' scores.
    pub total_score: f64,
    pub elapsed_ms: f64,
}

/// How a round assigns mentees to mentors: `exact` (the default: the most value, the most
/// isolated weighing most), `stable` (no mentee and mentor would both rather have each
/// other) or `greedy` (first come, first served), to compare an optimal round with a
/// stable one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RoundSolver {
    #[default]
    Exact,
    Stable,
    Greedy,
}

impl RoundSolver {
    fn matcher(self) -> matcher::round::Solver {
        match self {
            Self::Exact => matcher::round::Solver::Exact,
            Self::Stable => matcher::round::Solver::Stable,
            Self::Greedy => matcher::round::Solver::Greedy,
        }
    }
}

/// Runs a round over everyone waiting for a mentor and, unless it is a dry run, proposes
/// each pair as a pending connection with an email to the mentor.
#[tracing::instrument(skip(core))]
pub async fn run_round(
    core: &Core,
    dry_run: bool,
    solver: RoundSolver,
) -> Result<RoundResult, ApiError> {
    // The index may lag other instances by a moment: the database has the last word on who
    // is still here, so a round never proposes an erased or suspended person. A round asks
    // about each mentee and a mentor for each; when that is a large share of everyone,
    // every live account is read while the round runs.
    let population = core.index.population();
    let read_everyone = reads_everyone(2 * core.index.waiting_for_mentor(), population);
    // Seconds of work over a large population: off the async threads, as circle rounds.
    let index = core.index.clone();
    let (outcome, everyone) = tokio::join!(
        tokio::task::spawn_blocking(move || index.round(solver.matcher())),
        async {
            if read_everyone {
                Some(every_live_account(&core.db).await)
            } else {
                None
            }
        }
    );
    let outcome = outcome
        .map_err(|e| ApiError::unexpected(anyhow::anyhow!("{e}")))?
        .map_err(|e| ApiError::unexpected(anyhow::anyhow!("{e}")))?;
    let round_id = Uuid::now_v7();
    let asked: Vec<Uuid> = (outcome.proposals.iter())
        .flat_map(|(mentee, mentor, _)| [*mentee, *mentor])
        .chain(outcome.unmatched.iter().copied())
        .collect();
    let live = match everyone {
        Some(everyone) => live_among(asked, &everyone?),
        None => live_accounts(&core.db, asked, population).await?,
    };
    let mut proposals = Vec::new();
    for (mentee, mentor, score) in outcome.proposals {
        if !live.contains(&mentee) || !live.contains(&mentor) {
            continue;
        }
        if !dry_run {
            let explanation = core.index.explain(mentee, mentor, matcher::Kind::Mentor);
            if !requests::propose(core, mentee, mentor, round_id, explanation.as_ref()).await? {
                continue;
            }
        }
        proposals.push(RoundProposal {
            mentee_id: mentee,
            mentor_id: mentor,
            score: crate::views::round3(score),
        });
    }
    matching_rounds::ActiveModel {
        id: Set(round_id),
        kind: Set(ConnectionKind::Mentorship.as_str().to_owned()),
        dry_run: Set(dry_run),
        proposals: Set(i32::try_from(proposals.len()).unwrap_or(i32::MAX)),
        unmatched: Set(i32::try_from(outcome.unmatched.len()).unwrap_or(i32::MAX)),
        total_score: Set(outcome.total_score),
        elapsed_ms: Set(outcome.elapsed_ms),
        created_at: Set(Utc::now()),
    }
    .insert(&core.db)
    .await?;
    Ok(RoundResult {
        round_id,
        solver,
        blocking_pairs: outcome.blocking_pairs as u64,
        proposals,
        unmatched_mentee_ids: outcome
            .unmatched
            .into_iter()
            .filter(|id| live.contains(id))
            .collect(),
        total_score: crate::views::round3(outcome.total_score),
        elapsed_ms: outcome.elapsed_ms,
    })
}

/// Those of `ids` whose accounts exist, are verified and are not suspended; `population` is
/// about how many accounts there are.
pub(crate) async fn live_accounts(
    db: &impl ConnectionTrait,
    ids: Vec<Uuid>,
    population: usize,
) -> Result<std::collections::HashSet<Uuid>, ApiError> {
    if reads_everyone(ids.len(), population) {
        return Ok(live_among(ids, &every_live_account(db).await?));
    }
    let mut live = std::collections::HashSet::with_capacity(ids.len());
    for chunk in ids.chunks(crate::store::profiles::ID_CHUNK) {
        live.extend(
            live_users()
                .filter(users::Column::Id.is_in(chunk.to_vec()))
                .into_tuple::<Uuid>()
                .all(db)
                .await?,
        );
    }
    Ok(live)
}

/// Asking about a large share of everyone (a mentorship round asks about half): one pass
/// over every live account is then far cheaper than looking the ids up a list at a time.
fn reads_everyone(asked: usize, population: usize) -> bool {
    asked.saturating_mul(8) >= population
}

/// Every account that exists, is verified and is not suspended.
async fn every_live_account(
    db: &impl ConnectionTrait,
) -> Result<std::collections::HashSet<Uuid>, ApiError> {
    Ok(live_users()
        .into_tuple::<Uuid>()
        .all(db)
        .await?
        .into_iter()
        .collect())
}

/// Those of `ids` among `everyone` live.
fn live_among(
    ids: Vec<Uuid>,
    everyone: &std::collections::HashSet<Uuid>,
) -> std::collections::HashSet<Uuid> {
    ids.into_iter().filter(|id| everyone.contains(id)).collect()
}

fn live_users() -> sea_orm::Select<users::Entity> {
    users::Entity::find()
        .select_only()
        .column(users::Column::Id)
        .filter(users::Column::EmailVerified.eq(true))
        .filter(users::Column::Suspended.eq(false))
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct ConnectionCounts {
    pub pending: u64,
    pub accepted: u64,
    pub declined: u64,
    pub expired: u64,
    pub ended: u64,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct EmailCounts {
    pub queued: u64,
    pub sent: u64,
    /// Dead letters: emails given up at their deadline (sign-in mail when its link expired,
    /// anything else after 24 hours) and never sent.
    pub failed: u64,
    /// The dead letters by kind of email (`verify_email`, `password_reset`, ...).
    pub dead_letters_by_kind: BTreeMap<String, u64>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct Stats {
    /// Accounts with a profile.
    pub practitioners: u64,
    /// Of those, with a verified email.
    pub verified: u64,
    /// Isolation score of at least 0.5.
    pub isolated: u64,
    pub mentors_offering: u64,
    pub open_mentor_slots: u64,
    pub connections: ConnectionCounts,
    /// Accepted (including since ended) out of all answered or expired requests.
    pub acceptance_rate: Option<f64>,
    /// Median time from request to answer.
    pub median_response_hours: Option<f64>,
    pub emails: EmailCounts,
    pub circles: CircleCounts,
    pub follow_through: FollowThroughCounts,
    pub outcomes: crate::service::outcomes::Outcomes,
}

/// What follows matches, counted: never what an agreement or an answer says about anyone.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct FollowThroughCounts {
    /// Agreements waiting for the other side.
    pub agreements_proposed: u64,
    /// Agreements both sides accepted.
    pub agreements_accepted: u64,
    /// Check-ins sent and not answered yet.
    pub check_ins_unanswered: u64,
    pub check_ins_going_well: u64,
    pub check_ins_not_met_yet: u64,
    /// Each of these ended its connection.
    pub check_ins_not_a_good_fit: u64,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct CircleCounts {
    pub forming: u64,
    pub active: u64,
    pub closed: u64,
    /// Practitioners waiting for a formation round.
    pub waiting: u64,
    /// Reports on posts that are still shown; the facilitator and administrators decide.
    pub open_reports: u64,
}

/// The programme's figures.
#[tracing::instrument(skip(core))]
pub async fn stats(core: &Core) -> Result<Stats, ApiError> {
    let db = &core.db;
    let practitioners = profiles::Entity::find().count(db).await?;
    let verified = users::Entity::find()
        .filter(users::Column::EmailVerified.eq(true))
        .filter(
            users::Column::Id.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(profiles::Column::UserId)
                    .from(profiles::Entity)
                    .to_owned(),
            ),
        )
        .count(db)
        .await?;
    let today = Utc::now().date_naive();
    let mentors = profiles::Entity::find()
        .filter(profiles::Column::MentoringOffering.eq(true))
        .all(db)
        .await?;
    let open: Vec<&profiles::Model> = mentors
        .iter()
        .filter(|m| m.mentoring_paused_until.is_none_or(|d| d <= today))
        .collect();
    let ids: Vec<Uuid> = open.iter().map(|m| m.user_id).collect();
    let mut taken = std::collections::HashMap::new();
    for chunk in ids.chunks(crate::store::profiles::ID_CHUNK) {
        taken.extend(store::accepted_counts(db, Some(chunk)).await?);
    }
    let open_slots: u64 = open
        .iter()
        .map(|m| {
            let capacity = u64::try_from(m.mentoring_capacity.max(0)).unwrap_or(0);
            capacity.saturating_sub(taken.get(&m.user_id).copied().unwrap_or(0))
        })
        .sum();
    let count = |status| store::count_by_status(db, status);
    let counts = ConnectionCounts {
        pending: count(ConnectionStatus::Pending).await?,
        accepted: count(ConnectionStatus::Accepted).await?,
        declined: count(ConnectionStatus::Declined).await?,
        expired: count(ConnectionStatus::Expired).await?,
        ended: count(ConnectionStatus::Ended).await?,
    };
    let answered = counts.accepted + counts.ended + counts.declined + counts.expired;
    let acceptance_rate =
        (answered > 0).then(|| (counts.accepted + counts.ended) as f64 / answered as f64);
    let mut hours: Vec<f64> = connections::Entity::find()
        .filter(connections::Column::RespondedAt.is_not_null())
        .all(db)
        .await?
        .iter()
        .filter_map(|c| {
            c.responded_at
                .map(|r| (r - c.created_at).num_seconds() as f64 / 3600.0)
        })
        .collect();
    hours.sort_by(f64::total_cmp);
    let median_response_hours = match hours.len() {
        0 => None,
        n if n % 2 == 1 => hours.get(n / 2).copied(),
        n => Some((hours[n / 2 - 1] + hours[n / 2]) / 2.0),
    };
    Ok(Stats {
        practitioners,
        verified,
        isolated: core.index.isolated_count() as u64,
        mentors_offering: mentors.len() as u64,
        open_mentor_slots: open_slots,
        connections: counts,
        acceptance_rate,
        median_response_hours,
        emails: EmailCounts {
            queued: outbox::count_by_status(db, "queued").await?,
            sent: outbox::count_by_status(db, "sent").await?,
            failed: outbox::count_by_status(db, "failed").await?,
            dead_letters_by_kind: outbox::dead_letters_by_kind(db).await?,
        },
        circles: circle_counts(db).await?,
        follow_through: follow_through_counts(db).await?,
        outcomes: crate::service::outcomes::outcomes(db, Utc::now()).await?,
    })
}

async fn follow_through_counts(db: &impl ConnectionTrait) -> Result<FollowThroughCounts, ApiError> {
    let (agreements_proposed, agreements_accepted) = crate::store::agreements::counts(db).await?;
    let answers = crate::store::check_ins::answer_counts(db).await?;
    use crate::domain::follow_through::CheckInAnswer;
    let count = |answer: Option<CheckInAnswer>| {
        answers
            .iter()
            .filter(|(a, _)| *a == answer)
            .map(|(_, n)| u64::try_from(*n).unwrap_or(0))
            .sum()
    };
    Ok(FollowThroughCounts {
        agreements_proposed,
        agreements_accepted,
        check_ins_unanswered: count(None),
        check_ins_going_well: count(Some(CheckInAnswer::GoingWell)),
        check_ins_not_met_yet: count(Some(CheckInAnswer::NotMetYet)),
        check_ins_not_a_good_fit: count(Some(CheckInAnswer::NotAGoodFit)),
    })
}

async fn circle_counts(db: &impl ConnectionTrait) -> Result<CircleCounts, ApiError> {
    use crate::{domain::circle::CircleState, store::circles as circle_rows};
    let count = |state| circle_rows::count_in_state(db, state);
    Ok(CircleCounts {
        forming: count(CircleState::Forming).await?,
        active: count(CircleState::Active).await?,
        closed: count(CircleState::Closed).await?,
        waiting: circle_rows::seekers(db).await?.len() as u64,
        open_reports: circle_rows::open_reports(db).await?,
    })
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct Suspended {
    pub user_id: Uuid,
    pub suspended: bool,
}

/// Suspends an account: it cannot sign in, its sessions end, its pending requests close
/// (the other side is told), and it is never suggested.
#[tracing::instrument(skip(core, admin), fields(admin_id = %admin.id))]
pub async fn suspend(core: &Core, admin: &User, target: Uuid) -> Result<Suspended, ApiError> {
    if target == admin.id {
        return Err(ApiError::refused(
            ProblemCode::CannotSuspendSelf,
            "Administrators cannot suspend their own account.",
        ));
    }
    let found = users::Entity::find_by_id(target)
        .one(&core.db)
        .await?
        .ok_or(ApiError::NotFound)?;
    let mut write = core.write().await?;
    suspend_user(write.db(), found.id).await?;
    crate::store::circles::forget_member(write.db(), found.id).await?;
    for closed in close_pending(write.db(), found.id).await? {
        write.connection_changed(closed);
    }
    write.users_changed(&[found.id]);
    write.commit().await?;
    Ok(Suspended {
        user_id: found.id,
        suspended: true,
    })
}

/// Withdraws every pending request to or from a suspended person, telling the other side.
async fn close_pending(db: &impl ConnectionTrait, id: Uuid) -> Result<Vec<Uuid>, ApiError> {
    let pending = connections::Entity::find()
        .filter(connections::Column::Status.eq(ConnectionStatus::Pending.as_str()))
        .filter(
            sea_orm::Condition::any()
                .add(connections::Column::RequesterId.eq(id))
                .add(connections::Column::RecipientId.eq(id)),
        )
        .all(db)
        .await?;
    let mut closed = Vec::with_capacity(pending.len());
    for row in pending {
        let close = connection::apply(row.status, Action::Close, Actor::Service)?;
        if store::transition(db, row.id, close, None).await? {
            notifications::request_closed(db, &row, id).await?;
            closed.push(row.id);
        }
    }
    Ok(closed)
}

async fn suspend_user(db: &impl ConnectionTrait, id: Uuid) -> Result<(), ApiError> {
    users::ActiveModel {
        id: Set(id),
        suspended: Set(true),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .update(db)
    .await?;
    tokens::revoke_all_for_user(db, id).await?;
    Ok(())
}
