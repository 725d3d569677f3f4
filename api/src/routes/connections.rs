//! Suggestions, connection requests and their answers, blocks, and email preferences.

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Duration, Utc};
use matcher::Kind;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionTrait};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::{
    domain::FieldParser,
    error::ApiError,
    extract::{AuthUser, ParseBody, Valid},
    notify::{self, Mailing},
    routes::profiles::{no_profile, public_profiles},
    state::AppState,
    store::{
        connections::{self as store, Connection, Direction, NewConnection, ACCEPTED, PENDING},
        profiles, users,
    },
    views::{round3, PublicProfile},
};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/me/suggestions").get(suggestions))
        .service(
            web::resource("/connections")
                .wrap(actix_web::middleware::from_fn(crate::idempotency::keyed))
                .post(create)
                .get(list),
        )
        .service(web::resource("/connections/{id}").get(get))
        .service(web::resource("/connections/{id}/accept").post(accept))
        .service(web::resource("/connections/{id}/decline").post(decline))
        .service(web::resource("/connections/{id}/withdraw").post(withdraw))
        .service(web::resource("/connections/{id}/end").post(end))
        .service(
            web::resource("/me/blocks")
                .get(super::blocks::list_blocks)
                .post(block),
        )
        .service(web::resource("/me/blocks/{user_id}").delete(unblock))
        .service(
            web::resource("/me/notifications")
                .get(get_notifications)
                .put(put_notifications),
        );
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ReasonView {
    #[schema(example = "population_overlap")]
    pub code: String,
    #[schema(example = "You both work with older adults")]
    pub label: String,
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub contribution: f64,
}

fn reasons_json(reasons: &[matcher::Reason]) -> serde_json::Value {
    serde_json::Value::Array(
        reasons
            .iter()
            .map(|r| {
                serde_json::json!({
                    "code": r.code,
                    "label": r.label,
                    "contribution": round3(f64::from(r.contribution)),
                })
            })
            .collect(),
    )
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SuggestionKind {
    Peer,
    Mentor,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SuggestionQuery {
    #[param(inline)]
    kind: Option<SuggestionKind>,
    /// How many, 1 to 50 (default 10).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 50)]
    limit: Option<String>,
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

fn parse_limit(raw: Option<&str>, max: u32, default: u32) -> Result<u32, ApiError> {
    match raw {
        None => Ok(default),
        Some(raw) => match raw.trim().parse::<u32>() {
            Ok(v) if (1..=max).contains(&v) => Ok(v),
            _ => Err(ApiError::field(
                "limit",
                format!("must be a whole number from 1 to {max}"),
            )),
        },
    }
}

/// The best peers or mentors for the caller, best first, each with the reasons.
#[utoipa::path(
    get, path = "/api/v1/me/suggestions", tag = "connections",
    security(("bearer" = [])),
    params(SuggestionQuery),
    responses(
        (status = 200, description = "Suggestions, best first", body = Suggestions),
        (status = 409, description = "The caller has no profile yet", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "A parameter is invalid", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn suggestions(
    state: web::Data<AppState>,
    user: AuthUser,
    query: web::Query<SuggestionQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = parse_limit(query.limit.as_deref(), 50, 10)?;
    let kind = match query.kind {
        Some(SuggestionKind::Mentor) => Kind::Mentor,
        _ => Kind::Peer,
    };
    let me = profiles::load(&state.db, user.id())
        .await?
        .ok_or_else(no_profile)?;
    let found = state.matching.suggest(user.id(), kind, limit as usize);
    let ids: Vec<Uuid> = found.iter().map(|s| s.user_id).collect();
    let rows = profiles::find(&state.db, profiles::visible_among(ids), None, None).await?;
    let stored = profiles::attach_tags(&state.db, rows).await?;
    let public: HashMap<Uuid, PublicProfile> = public_profiles(&state.db, &stored, Some(&me))
        .await?
        .into_iter()
        .map(|p| (p.user_id, p))
        .collect();
    let items = found
        .into_iter()
        .filter_map(|s| {
            Some(SuggestionItem {
                profile: public.get(&s.user_id)?.clone(),
                score: round3(f64::from(s.score)),
                reasons: s
                    .reasons
                    .iter()
                    .map(|r| ReasonView {
                        code: r.code.to_owned(),
                        label: r.label.clone(),
                        contribution: round3(f64::from(r.contribution)),
                    })
                    .collect(),
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(Suggestions {
        items,
        generated_at: Utc::now(),
    }))
}

#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionKind {
    #[default]
    Peer,
    /// The caller is the mentee; the recipient must be offering with a free slot.
    Mentorship,
}

impl ConnectionKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Peer => "peer",
            Self::Mentorship => "mentorship",
        }
    }
}

fn matcher_kind(kind: &str) -> Kind {
    if kind == "mentorship" {
        Kind::Mentor
    } else {
        Kind::Peer
    }
}

#[derive(Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct CreateConnection {
    #[schema(required = true)]
    pub recipient_id: Uuid,
    #[schema(required = true)]
    pub kind: ConnectionKind,
    /// A note to the recipient.
    #[schema(max_length = 1000)]
    pub message: Option<String>,
}

crate::extract::opaque_body!(CreateConnection);

/// One connection as either party sees it.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ConnectionView {
    pub id: Uuid,
    #[schema(example = "mentorship")]
    pub kind: String,
    /// pending, accepted, declined, withdrawn, ended or expired.
    #[schema(example = "pending")]
    pub status: String,
    pub requester: PublicProfile,
    pub recipient: PublicProfile,
    pub message: Option<String>,
    pub score: Option<f64>,
    pub reasons: Vec<ReasonView>,
    /// Proposed by a matching round rather than asked for.
    pub proposed_by_round: bool,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub responded_at: Option<DateTime<Utc>>,
    /// The other party's email, once both have said yes.
    pub contact_email: Option<String>,
}

async fn views(
    db: &impl ConnectionTrait,
    rows: &[Connection],
    viewer: Uuid,
) -> Result<Vec<ConnectionView>, ApiError> {
    let mut ids: Vec<Uuid> = rows
        .iter()
        .flat_map(|c| [c.requester_id, c.recipient_id])
        .collect();
    ids.sort();
    ids.dedup();
    let found = profiles::find(
        db,
        sea_orm::Condition::all().add(sea_orm::ColumnTrait::is_in(
            &crate::store::entities::profiles::Column::UserId,
            ids.clone(),
        )),
        None,
        None,
    )
    .await?;
    let stored = profiles::attach_tags(db, found).await?;
    let me = stored.iter().find(|p| p.row.user_id == viewer).cloned();
    let public: HashMap<Uuid, PublicProfile> = public_profiles(db, &stored, me.as_ref())
        .await?
        .into_iter()
        .map(|p| (p.user_id, p))
        .collect();
    let emails: HashMap<Uuid, String> = crate::store::entities::users::Entity::find()
        .filter(crate::store::entities::users::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.email))
        .collect();
    rows.iter()
        .map(|c| {
            let party = |id: Uuid| {
                public
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| ApiError::unexpected(anyhow::anyhow!("no profile for {id}")))
            };
            let other = if c.requester_id == viewer {
                c.recipient_id
            } else {
                c.requester_id
            };
            let reasons =
                serde_json::from_value::<Vec<ReasonView>>(c.reasons.clone()).unwrap_or_default();
            Ok(ConnectionView {
                id: c.id,
                kind: c.kind.clone(),
                status: c.status.clone(),
                requester: party(c.requester_id)?,
                recipient: party(c.recipient_id)?,
                message: c.message.clone(),
                score: c.score,
                reasons,
                proposed_by_round: c.round_id.is_some(),
                created_at: c.created_at,
                expires_at: c.expires_at,
                responded_at: c.responded_at,
                contact_email: (c.status == ACCEPTED)
                    .then(|| emails.get(&other).cloned())
                    .flatten(),
            })
        })
        .collect()
}

/// Every connection of one practitioner, as they see it (for their data export).
pub async fn all_views(
    db: &impl ConnectionTrait,
    user_id: Uuid,
) -> Result<Vec<ConnectionView>, ApiError> {
    let rows = store::all_of(db, user_id).await?;
    views(db, &rows, user_id).await
}

async fn view(
    db: &impl ConnectionTrait,
    row: &Connection,
    viewer: Uuid,
) -> Result<ConnectionView, ApiError> {
    views(db, std::slice::from_ref(row), viewer)
        .await?
        .pop()
        .ok_or(ApiError::NotFound)
}

fn conflict(code: &'static str, detail: &str) -> ApiError {
    ApiError::Conflict {
        code,
        detail: detail.to_owned(),
    }
}

/// A mentor who offers, is not paused, and has a free slot.
async fn mentor_has_room(
    db: &impl ConnectionTrait,
    mentor: &profiles::StoredProfile,
) -> Result<bool, ApiError> {
    let row = &mentor.row;
    let paused = row
        .mentoring_paused_until
        .is_some_and(|d| d > Utc::now().date_naive());
    let taken = store::accepted_mentees(db, row.user_id).await?;
    Ok(row.mentoring_offering
        && !paused
        && taken < u64::try_from(row.mentoring_capacity.max(0)).unwrap_or(0))
}

/// Refuses a practitioner's own request beyond `CONNECTION_REQUESTS_PER_DAY` in the last
/// 24 hours (round proposals do not count).
async fn check_daily_requests(
    state: &AppState,
    db: &impl ConnectionTrait,
    requester_id: Uuid,
) -> Result<(), ApiError> {
    let sent_today =
        store::requests_since(db, requester_id, Utc::now() - Duration::days(1)).await?;
    if sent_today >= u64::from(state.config.requests_per_day) {
        return Err(ApiError::TooManyRequests {
            retry_after_secs: 3600,
        });
    }
    Ok(())
}

/// Inserts a pending connection and queues the request email, in one transaction. A
/// practitioner's own request is counted against the daily limit under their account's row
/// lock in the same transaction, so simultaneous requests are counted one after another.
async fn open_connection(state: &AppState, new: NewConnection) -> Result<Connection, ApiError> {
    let txn = state.db.begin().await?;
    if new.round_id.is_none() {
        crate::store::lock_account(&txn, new.requester_id).await?;
        check_daily_requests(state, &txn, new.requester_id).await?;
    }
    let row = store::insert(&txn, new)
        .await
        .map_err(|e| match e.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => conflict(
                "connection-exists",
                "There is already a pending or accepted connection between you.",
            ),
            _ => e.into(),
        })?;
    let mailing = Mailing {
        public_url: &state.config.public_url,
        jwt: &state.jwt,
    };
    notify::connection_request(&txn, &mailing, &row).await?;
    txn.commit().await?;
    state.outbox_wake.notify_one();
    state.matching.connection_changed(&state.db, &row).await?;
    Ok(row)
}

fn ttl(state: &AppState) -> Duration {
    Duration::from_std(state.config.request_ttl).unwrap_or_else(|_| Duration::days(14))
}

/// Asks another practitioner to connect, as peers or as the mentee of a mentorship.
#[utoipa::path(
    post, path = "/api/v1/connections", tag = "connections",
    security(("bearer" = [])),
    params(crate::idempotency::IdempotencyKey),
    request_body = CreateConnection,
    responses(
        (status = 201, description = "The request is sent", body = ConnectionView),
        (status = 403, description = "The caller's email is not verified yet", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such practitioner to connect with", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already connected or pending, the mentor has no free slot, the caller has no profile, or a request with the same Idempotency-Key is still being served", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "The body or the Idempotency-Key is invalid, or the key was used with another body", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests today", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create(
    state: web::Data<AppState>,
    user: AuthUser,
    Valid(body): Valid<CreateConnection>,
) -> Result<HttpResponse, ApiError> {
    let me = user.0;
    if !me.email_verified {
        return Err(ApiError::Forbidden {
            code: "email-not-verified",
            detail: "Verify your email address before asking anyone to connect.".into(),
        });
    }
    if body.recipient_id == me.id {
        return Err(ApiError::field(
            "recipient_id",
            "you cannot connect with yourself",
        ));
    }
    if let Some(message) = &body.message {
        if message.chars().count() > 1000 {
            return Err(ApiError::field(
                "message",
                "must be at most 1000 characters",
            ));
        }
    }
    profiles::load(&state.db, me.id)
        .await?
        .ok_or_else(no_profile)?;
    let recipient = users::find_by_id(&state.db, body.recipient_id)
        .await?
        .filter(|u| u.email_verified && !u.suspended)
        .ok_or(ApiError::NotFound)?;
    let recipient_profile = profiles::load(&state.db, recipient.id)
        .await?
        .ok_or(ApiError::NotFound)?;
    if store::is_blocked_either_way(&state.db, me.id, recipient.id).await? {
        return Err(ApiError::NotFound);
    }
    // A quick look first; the count that decides is taken again in the transaction that
    // writes the request.
    check_daily_requests(&state, &state.db, me.id).await?;
    if body.kind == ConnectionKind::Mentorship
        && !mentor_has_room(&state.db, &recipient_profile).await?
    {
        return Err(conflict(
            "mentor-unavailable",
            "This practitioner is not taking mentees right now.",
        ));
    }
    if store::live_between(&state.db, me.id, recipient.id)
        .await?
        .is_some()
    {
        return Err(conflict(
            "connection-exists",
            "There is already a pending or accepted connection between you.",
        ));
    }
    let explanation = state
        .matching
        .explain(me.id, recipient.id, matcher_kind(body.kind.as_str()));
    let row = open_connection(
        &state,
        NewConnection {
            kind: body.kind.as_str(),
            requester_id: me.id,
            recipient_id: recipient.id,
            message: body.message.filter(|m| !m.trim().is_empty()),
            score: explanation.as_ref().map(|e| round3(f64::from(e.score))),
            reasons: explanation
                .as_ref()
                .map_or(serde_json::json!([]), |e| reasons_json(&e.reasons)),
            round_id: None,
            ttl: ttl(&state),
        },
    )
    .await?;
    Ok(HttpResponse::Created().json(view(&state.db, &row, me.id).await?))
}

#[derive(Clone, Copy, Debug, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ListDirection {
    Incoming,
    Outgoing,
}

#[derive(Clone, Copy, Debug, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ListStatus {
    Pending,
    Accepted,
    Declined,
    Withdrawn,
    Ended,
    Expired,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    #[param(inline)]
    direction: Option<ListDirection>,
    #[param(inline)]
    status: Option<ListStatus>,
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    /// From `next_cursor` of the previous page.
    #[param(max_length = 100)]
    cursor: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct ConnectionPage {
    pub items: Vec<ConnectionView>,
    pub next_cursor: Option<String>,
}

/// The caller's connections, newest first.
#[utoipa::path(
    get, path = "/api/v1/connections", tag = "connections",
    security(("bearer" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "A page of connections", body = ConnectionPage),
        (status = 422, description = "A parameter is invalid", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = parse_limit(query.limit.as_deref(), 100, 20)?;
    let before = match &query.cursor {
        Some(raw) => Some(
            Uuid::parse_str(raw)
                .map_err(|_| ApiError::field("cursor", "is not a cursor this API issued"))?,
        ),
        None => None,
    };
    let direction = query.direction.map(|d| match d {
        ListDirection::Incoming => Direction::Incoming,
        ListDirection::Outgoing => Direction::Outgoing,
    });
    let status = query.status.map(|s| match s {
        ListStatus::Pending => store::PENDING,
        ListStatus::Accepted => store::ACCEPTED,
        ListStatus::Declined => store::DECLINED,
        ListStatus::Withdrawn => store::WITHDRAWN,
        ListStatus::Ended => store::ENDED,
        ListStatus::Expired => store::EXPIRED,
    });
    let mut rows = store::list(
        &state.db,
        user.id(),
        direction,
        status,
        before,
        Some(u64::from(limit) + 1),
    )
    .await?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next_cursor = if more {
        rows.last().map(|r| r.id.to_string())
    } else {
        None
    };
    let items = views(&state.db, &rows, user.id()).await?;
    Ok(HttpResponse::Ok().json(ConnectionPage { items, next_cursor }))
}

/// A connection the caller is party to; anyone else is told it does not exist.
async fn party_connection(
    state: &AppState,
    id: Uuid,
    caller: Uuid,
) -> Result<Connection, ApiError> {
    store::find(&state.db, id)
        .await?
        .filter(|c| c.requester_id == caller || c.recipient_id == caller)
        .ok_or(ApiError::NotFound)
}

fn only(role: &str) -> ApiError {
    ApiError::Forbidden {
        code: "not-your-move",
        detail: format!("Only the {role} can do this."),
    }
}

fn wrong_status(status: &str) -> ApiError {
    conflict("invalid-status", &format!("The connection is {status}."))
}

/// One connection (its two parties only).
#[utoipa::path(
    get, path = "/api/v1/connections/{id}", tag = "connections",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The connection id")),
    responses(
        (status = 200, description = "The connection", body = ConnectionView),
        (status = 404, description = "No such connection of the caller's", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let row = party_connection(&state, path.into_inner(), user.id()).await?;
    Ok(HttpResponse::Ok().json(view(&state.db, &row, user.id()).await?))
}

/// Accepts a request (recipient only); both receive an introduction email.
#[utoipa::path(
    post, path = "/api/v1/connections/{id}/accept", tag = "connections",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The connection id")),
    responses(
        (status = 200, description = "Accepted", body = ConnectionView),
        (status = 403, description = "Only the recipient can accept", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such connection of the caller's", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not pending, or the mentor has no free slot left", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn accept(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let row = party_connection(&state, path.into_inner(), user.id()).await?;
    if row.recipient_id != user.id() {
        return Err(only("recipient"));
    }
    let txn = state.db.begin().await?;
    if row.kind == "mentorship" {
        let mentor = store::lock_mentor(&txn, row.recipient_id)
            .await?
            .ok_or(ApiError::NotFound)?;
        let taken = store::accepted_mentees(&txn, row.recipient_id).await?;
        if taken >= u64::try_from(mentor.mentoring_capacity.max(0)).unwrap_or(0) {
            return Err(conflict(
                "mentor-full",
                "Accepting would take you past the number of mentees you offered.",
            ));
        }
    }
    if !store::transition(&txn, row.id, PENDING, ACCEPTED, None).await? {
        let current = store::find(&txn, row.id)
            .await?
            .map(|c| c.status)
            .unwrap_or_default();
        return Err(wrong_status(&current));
    }
    notify::introduction(&txn, &row).await?;
    txn.commit().await?;
    state.outbox_wake.notify_one();
    let row = store::find(&state.db, row.id)
        .await?
        .ok_or(ApiError::NotFound)?;
    state.matching.connection_changed(&state.db, &row).await?;
    Ok(HttpResponse::Ok().json(view(&state.db, &row, user.id()).await?))
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum DeclineReason {
    NoCapacity,
    NotAGoodFit,
    OutsideMyExpertise,
    Other,
}

#[derive(Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct DeclineRequest {
    pub reason_code: Option<DeclineReason>,
    /// Kept for the recipient; never sent to the requester.
    #[schema(max_length = 1000)]
    pub note: Option<String>,
}

impl ParseBody for DeclineRequest {
    type Parsed = Self;

    fn parse(self, fields: &mut FieldParser) -> Option<Self> {
        if self.note.as_ref().is_some_and(|n| n.chars().count() > 1000) {
            fields.error("note", "must be at most 1000 characters");
            return None;
        }
        Some(self)
    }
}

/// Declines a request (recipient only). The requester gets a kind email without the note;
/// a mentee proposed by a round is proposed to their next-best free mentor.
#[utoipa::path(
    post, path = "/api/v1/connections/{id}/decline", tag = "connections",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The connection id")),
    request_body = DeclineRequest,
    responses(
        (status = 200, description = "Declined", body = ConnectionView),
        (status = 403, description = "Only the recipient can decline", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such connection of the caller's", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not pending", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn decline(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
    Valid(body): Valid<DeclineRequest>,
) -> Result<HttpResponse, ApiError> {
    let row = party_connection(&state, path.into_inner(), user.id()).await?;
    if row.recipient_id != user.id() {
        return Err(only("recipient"));
    }
    let reason = body.reason_code.and_then(|r| {
        serde_json::to_value(r)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
    });
    let txn = state.db.begin().await?;
    if !store::transition(
        &txn,
        row.id,
        PENDING,
        store::DECLINED,
        Some((reason, body.note)),
    )
    .await?
    {
        let current = store::find(&txn, row.id)
            .await?
            .map(|c| c.status)
            .unwrap_or_default();
        return Err(wrong_status(&current));
    }
    notify::declined(&txn, &row).await?;
    txn.commit().await?;
    state.outbox_wake.notify_one();
    let row = store::find(&state.db, row.id)
        .await?
        .ok_or(ApiError::NotFound)?;
    state.matching.connection_changed(&state.db, &row).await?;
    if let (Some(round_id), "mentorship") = (row.round_id, row.kind.as_str()) {
        propose_next_mentor(&state, row.requester_id, round_id).await?;
    }
    Ok(HttpResponse::Ok().json(view(&state.db, &row, user.id()).await?))
}

/// A round's proposal: a pending mentorship from the mentee to the mentor, emailed to the
/// mentor.
pub async fn propose(
    state: &AppState,
    mentee: Uuid,
    mentor: Uuid,
    round_id: Uuid,
    explanation: Option<matcher::Explanation>,
) -> Result<(), ApiError> {
    open_connection(
        state,
        NewConnection {
            kind: "mentorship",
            requester_id: mentee,
            recipient_id: mentor,
            message: None,
            score: explanation.as_ref().map(|e| round3(f64::from(e.score))),
            reasons: explanation
                .as_ref()
                .map_or(serde_json::json!([]), |e| reasons_json(&e.reasons)),
            round_id: Some(round_id),
            ttl: ttl(state),
        },
    )
    .await
    .map(drop)
}

/// After a round proposal is declined: the mentee's best remaining mentor with room.
async fn propose_next_mentor(
    state: &AppState,
    mentee: Uuid,
    round_id: Uuid,
) -> Result<(), ApiError> {
    for candidate in state.matching.suggest(mentee, Kind::Mentor, 5) {
        let proposed = open_connection(
            state,
            NewConnection {
                kind: "mentorship",
                requester_id: mentee,
                recipient_id: candidate.user_id,
                message: None,
                score: Some(round3(f64::from(candidate.score))),
                reasons: reasons_json(&candidate.reasons),
                round_id: Some(round_id),
                ttl: ttl(state),
            },
        )
        .await;
        match proposed {
            Ok(row) => {
                tracing::info!(connection_id = %row.id, "mentee proposed to their next-best mentor");
                return Ok(());
            }
            Err(ApiError::Conflict { .. }) => continue,
            Err(other) => return Err(other),
        }
    }
    Ok(())
}

async fn simple_transition(
    state: &AppState,
    user: &AuthUser,
    id: Uuid,
    allowed: impl Fn(&Connection, Uuid) -> bool,
    role: &str,
    from: &str,
    to: &str,
) -> Result<HttpResponse, ApiError> {
    let row = party_connection(state, id, user.id()).await?;
    if !allowed(&row, user.id()) {
        return Err(only(role));
    }
    if !store::transition(&state.db, row.id, from, to, None).await? {
        let current = store::find(&state.db, row.id)
            .await?
            .map(|c| c.status)
            .unwrap_or_default();
        return Err(wrong_status(&current));
    }
    let row = store::find(&state.db, row.id)
        .await?
        .ok_or(ApiError::NotFound)?;
    state.matching.connection_changed(&state.db, &row).await?;
    Ok(HttpResponse::Ok().json(view(&state.db, &row, user.id()).await?))
}

/// Withdraws a pending request (requester only).
#[utoipa::path(
    post, path = "/api/v1/connections/{id}/withdraw", tag = "connections",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The connection id")),
    responses(
        (status = 200, description = "Withdrawn", body = ConnectionView),
        (status = 403, description = "Only the requester can withdraw", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such connection of the caller's", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not pending", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn withdraw(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    simple_transition(
        &state,
        &user,
        path.into_inner(),
        |c, me| c.requester_id == me,
        "requester",
        PENDING,
        store::WITHDRAWN,
    )
    .await
}

/// Ends an accepted connection (either party); a mentor's slot is free again.
#[utoipa::path(
    post, path = "/api/v1/connections/{id}/end", tag = "connections",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The connection id")),
    responses(
        (status = 200, description = "Ended", body = ConnectionView),
        (status = 404, description = "No such connection of the caller's", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not accepted", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn end(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    simple_transition(
        &state,
        &user,
        path.into_inner(),
        |_, _| true,
        "parties",
        ACCEPTED,
        store::ENDED,
    )
    .await
}

#[derive(Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct BlockRequest {
    #[schema(required = true)]
    pub user_id: Uuid,
}

crate::extract::opaque_body!(BlockRequest);

/// Blocks someone: neither is suggested to or can request the other; pending requests
/// between them are withdrawn.
#[utoipa::path(
    post, path = "/api/v1/me/blocks", tag = "connections",
    security(("bearer" = [])),
    request_body = BlockRequest,
    responses(
        (status = 204, description = "Blocked"),
        (status = 404, description = "No such practitioner", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn block(
    state: web::Data<AppState>,
    user: AuthUser,
    Valid(body): Valid<BlockRequest>,
) -> Result<HttpResponse, ApiError> {
    if body.user_id == user.id() {
        return Err(ApiError::field("user_id", "you cannot block yourself"));
    }
    users::find_by_id(&state.db, body.user_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let txn = state.db.begin().await?;
    store::block(&txn, user.id(), body.user_id).await?;
    let live = store::live_between(&txn, user.id(), body.user_id).await?;
    let withdrawn = match live {
        Some(c) if c.status == PENDING => {
            store::transition(&txn, c.id, PENDING, store::WITHDRAWN, None)
                .await?
                .then_some(c.id)
        }
        _ => None,
    };
    txn.commit().await?;
    state.matching.blocks_changed(&state.db).await?;
    if let Some(id) = withdrawn {
        if let Some(row) = store::find(&state.db, id).await? {
            state.matching.connection_changed(&state.db, &row).await?;
        }
    }
    Ok(HttpResponse::NoContent().finish())
}

/// Lifts a block.
#[utoipa::path(
    delete, path = "/api/v1/me/blocks/{user_id}", tag = "connections",
    security(("bearer" = [])),
    params(("user_id" = Uuid, Path, description = "The blocked practitioner")),
    responses((status = 204, description = "Unblocked (or was not blocked)"))
)]
pub async fn unblock(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    store::unblock(&state.db, user.id(), path.into_inner()).await?;
    state.matching.blocks_changed(&state.db).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct NotificationPreferences {
    /// Emails about new connection requests and reminders.
    #[schema(required = true)]
    pub connection_requests: bool,
    /// Occasional emails about new suggestions.
    #[schema(required = true)]
    pub match_digest: bool,
}

crate::extract::opaque_body!(NotificationPreferences);

/// Which optional emails the caller receives.
#[utoipa::path(
    get, path = "/api/v1/me/notifications", tag = "connections",
    security(("bearer" = [])),
    responses((status = 200, description = "The caller's email preferences", body = NotificationPreferences))
)]
pub async fn get_notifications(
    state: web::Data<AppState>,
    user: AuthUser,
) -> Result<HttpResponse, ApiError> {
    let prefs = store::preferences(&state.db, user.id()).await?;
    Ok(HttpResponse::Ok().json(NotificationPreferences {
        connection_requests: prefs.connection_requests,
        match_digest: prefs.match_digest,
    }))
}

/// Sets which optional emails the caller receives.
#[utoipa::path(
    put, path = "/api/v1/me/notifications", tag = "connections",
    security(("bearer" = [])),
    request_body = NotificationPreferences,
    responses((status = 200, description = "The saved preferences", body = NotificationPreferences))
)]
pub async fn put_notifications(
    state: web::Data<AppState>,
    user: AuthUser,
    Valid(body): Valid<NotificationPreferences>,
) -> Result<HttpResponse, ApiError> {
    let prefs = store::Preferences {
        connection_requests: body.connection_requests,
        match_digest: body.match_digest,
    };
    store::set_preferences(&state.db, user.id(), prefs).await?;
    Ok(HttpResponse::Ok().json(body))
}
