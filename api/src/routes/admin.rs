//! Programme administration: matching rounds, figures, suspensions.

use std::collections::BTreeMap;

use actix_web::{web, HttpResponse};
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QuerySelect, Set, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    error::ApiError,
    extract::{AuthUser, Valid},
    state::AppState,
    store::{
        connections as store,
        entities::{connections, matching_rounds, profiles, users},
        outbox, tokens,
    },
};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/admin")
            .service(
                web::resource("/matching-rounds")
                    .wrap(actix_web::middleware::from_fn(crate::idempotency::keyed))
                    .post(matching_round),
            )
            .service(web::resource("/stats").get(stats))
            .service(web::resource("/users/{user_id}/suspend").post(suspend)),
    );
}

fn require_admin(user: &AuthUser) -> Result<(), ApiError> {
    if user.0.role == "admin" {
        Ok(())
    } else {
        Err(ApiError::Forbidden {
            code: "admin-only",
            detail: "Only programme administrators can do this.".into(),
        })
    }
}

#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RoundKind {
    #[default]
    Mentorship,
}

#[derive(Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct RoundRequest {
    #[schema(required = true)]
    pub kind: RoundKind,
    /// Compute and report without creating connections or sending emails.
    #[schema(required = true)]
    pub dry_run: bool,
}

crate::extract::opaque_body!(RoundRequest);

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
    pub proposals: Vec<RoundProposal>,
    pub unmatched_mentee_ids: Vec<Uuid>,
    /// Sum of the proposals' scores.
    pub total_score: f64,
    pub elapsed_ms: f64,
}

/// Runs a round over everyone waiting for a mentor and, unless it is a dry run, proposes
/// each pair as a pending connection with an email to the mentor.
pub async fn run_round(state: &AppState, dry_run: bool) -> Result<RoundResult, ApiError> {
    let outcome = state
        .matching
        .round(matcher::round::Solver::Exact)
        .map_err(|e| ApiError::unexpected(anyhow::anyhow!("{e}")))?;
    let round_id = Uuid::now_v7();
    // The index may lag other instances by a moment: the database has the last word on who
    // is still here, so a round never proposes an erased or suspended person.
    let live = live_accounts(
        &state.db,
        outcome
            .proposals
            .iter()
            .flat_map(|(mentee, mentor, _)| [*mentee, *mentor])
            .chain(outcome.unmatched.iter().copied())
            .collect(),
    )
    .await?;
    let mut proposals = Vec::new();
    for (mentee, mentor, score) in outcome.proposals {
        if !live.contains(&mentee) || !live.contains(&mentor) {
            continue;
        }
        if !dry_run {
            let explanation = state
                .matching
                .explain(mentee, mentor, matcher::Kind::Mentor);
            let created =
                crate::routes::connections::propose(state, mentee, mentor, round_id, explanation)
                    .await;
            match created {
                Ok(()) => {}
                Err(ApiError::Conflict { .. }) => continue,
                Err(other) => return Err(other),
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
        kind: Set("mentorship".into()),
        dry_run: Set(dry_run),
        proposals: Set(i32::try_from(proposals.len()).unwrap_or(i32::MAX)),
        unmatched: Set(i32::try_from(outcome.unmatched.len()).unwrap_or(i32::MAX)),
        total_score: Set(outcome.total_score),
        elapsed_ms: Set(outcome.elapsed_ms),
        created_at: Set(Utc::now()),
    }
    .insert(&state.db)
    .await?;
    Ok(RoundResult {
        round_id,
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

/// Those of `ids` whose accounts exist, are verified and are not suspended.
async fn live_accounts(
    db: &impl ConnectionTrait,
    ids: Vec<Uuid>,
) -> Result<std::collections::HashSet<Uuid>, ApiError> {
    let mut live = std::collections::HashSet::with_capacity(ids.len());
    for chunk in ids.chunks(crate::store::profiles::ID_CHUNK) {
        live.extend(
            users::Entity::find()
                .select_only()
                .column(users::Column::Id)
                .filter(users::Column::Id.is_in(chunk.to_vec()))
                .filter(users::Column::EmailVerified.eq(true))
                .filter(users::Column::Suspended.eq(false))
                .into_tuple::<Uuid>()
                .all(db)
                .await?,
        );
    }
    Ok(live)
}

/// A matching round: the best assignment of waiting mentees to mentors with free slots,
/// the most isolated first when mentors are scarce.
#[utoipa::path(
    post, path = "/api/v1/admin/matching-rounds", tag = "admin",
    security(("bearer" = [])),
    params(crate::idempotency::IdempotencyKey),
    request_body = RoundRequest,
    responses(
        (status = 200, description = "The round's proposals", body = RoundResult),
        (status = 403, description = "Administrators only", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "A round with the same Idempotency-Key is still running", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "The body or the Idempotency-Key is invalid, or the key was used with another body", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn matching_round(
    state: web::Data<AppState>,
    user: AuthUser,
    Valid(body): Valid<RoundRequest>,
) -> Result<HttpResponse, ApiError> {
    require_admin(&user)?;
    let result = run_round(&state, body.dry_run).await?;
    Ok(HttpResponse::Ok().json(result))
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
}

async fn figures(state: &AppState) -> Result<Stats, ApiError> {
    let db = &state.db;
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
        taken.extend(store::accepted_counts(db, chunk).await?);
    }
    let open_slots: u64 = open
        .iter()
        .map(|m| {
            let capacity = u64::try_from(m.mentoring_capacity.max(0)).unwrap_or(0);
            capacity.saturating_sub(taken.get(&m.user_id).copied().unwrap_or(0))
        })
        .sum();
    let count = |status: &'static str| store::count_by_status(db, status);
    let counts = ConnectionCounts {
        pending: count(store::PENDING).await?,
        accepted: count(store::ACCEPTED).await?,
        declined: count(store::DECLINED).await?,
        expired: count(store::EXPIRED).await?,
        ended: count(store::ENDED).await?,
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
        isolated: state.matching.isolated_count() as u64,
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
    })
}

/// The programme's figures.
#[utoipa::path(
    get, path = "/api/v1/admin/stats", tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Figures", body = Stats),
        (status = 403, description = "Administrators only", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn stats(state: web::Data<AppState>, user: AuthUser) -> Result<HttpResponse, ApiError> {
    require_admin(&user)?;
    Ok(HttpResponse::Ok().json(figures(&state).await?))
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct Suspended {
    pub user_id: Uuid,
    pub suspended: bool,
}

/// Suspends an account: it cannot sign in, its sessions end, and it is never suggested.
#[utoipa::path(
    post, path = "/api/v1/admin/users/{user_id}/suspend", tag = "admin",
    security(("bearer" = [])),
    params(("user_id" = Uuid, Path, description = "The account to suspend")),
    responses(
        (status = 200, description = "Suspended", body = Suspended),
        (status = 403, description = "Administrators only", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Administrators cannot suspend themselves", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn suspend(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    require_admin(&user)?;
    let target = path.into_inner();
    if target == user.id() {
        return Err(ApiError::Conflict {
            code: "cannot-suspend-self",
            detail: "Administrators cannot suspend their own account.".into(),
        });
    }
    let found = users::Entity::find_by_id(target)
        .one(&state.db)
        .await?
        .ok_or(ApiError::NotFound)?;
    let txn = state.db.begin().await?;
    suspend_user(&txn, found.id).await?;
    let closed = close_pending(&txn, found.id).await?;
    txn.commit().await?;
    state.outbox_wake.notify_one();
    for row in &closed {
        if let Err(error) = state.matching.connection_changed(&state.db, row).await {
            tracing::warn!(%error, "the index will pick up the closed request on its next poll");
        }
    }
    state.matching.refresh_users(&state.db, &[found.id]).await?;
    Ok(HttpResponse::Ok().json(Suspended {
        user_id: found.id,
        suspended: true,
    }))
}

/// Withdraws every pending request to or from a suspended person, telling the other side.
async fn close_pending(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Vec<connections::Model>, ApiError> {
    let pending = connections::Entity::find()
        .filter(connections::Column::Status.eq(store::PENDING))
        .filter(
            sea_orm::Condition::any()
                .add(connections::Column::RequesterId.eq(id))
                .add(connections::Column::RecipientId.eq(id)),
        )
        .all(db)
        .await?;
    let mut closed = Vec::with_capacity(pending.len());
    for row in pending {
        if store::transition(db, row.id, store::PENDING, store::WITHDRAWN, None).await? {
            crate::notify::request_closed(db, &row, id).await?;
            if let Some(updated) = store::find(db, row.id).await? {
                closed.push(updated);
            }
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
