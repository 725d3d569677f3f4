//! Suggestions, connection requests and their answers, blocks, and email preferences.

use actix_web::{web, HttpResponse};
use matcher::Kind;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::{
    domain::{
        connection::{Action, ConnectionKind, ConnectionStatus, DeclineReason},
        FieldParser,
    },
    error::ApiError,
    http::problem::{failures, Fails},
    http::{
        extract::{AuthUser, Caller, ParseBody, Valid},
        state::AppState,
    },
    service::{
        connections::{
            self as service, BlockList, ConnectionView, Cursor, Decline, ListFilter, ListOrder,
            Request,
        },
        matching::{self, Suggestions},
        notifications,
    },
    store::connections::{Direction, Preferences},
};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/me/suggestions").get(suggestions))
        .service(
            web::resource("/connections")
                .wrap(actix_web::middleware::from_fn(
                    crate::http::idempotency::keyed,
                ))
                .post(create)
                .get(list),
        )
        .service(web::resource("/connections/{id}").get(get))
        .service(web::resource("/connections/{id}/accept").post(accept))
        .service(web::resource("/connections/{id}/decline").post(decline))
        .service(web::resource("/connections/{id}/withdraw").post(withdraw))
        .service(web::resource("/connections/{id}/end").post(end))
        .service(web::resource("/me/blocks").get(list_blocks).post(block))
        .service(web::resource("/me/blocks/{user_id}").delete(unblock))
        .service(
            web::resource("/me/notifications")
                .get(get_notifications)
                .put(put_notifications),
        );
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

failures!(SuggestionsFailures {
    ProfileRequired: "The caller has no profile yet",
    ValidationError: "A parameter is invalid",
});

/// The best peers or mentors for the caller, best first, each with the reasons.
#[utoipa::path(
    get, path = "/api/v1/me/suggestions", tag = "connections",
    security(("bearer" = [])),
    params(SuggestionQuery),
    responses(
        (status = 200, description = "Suggestions, best first", body = Suggestions),
        SuggestionsFailures,
    )
)]
pub async fn suggestions(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<SuggestionQuery>,
) -> Result<HttpResponse, Fails<SuggestionsFailures>> {
    let limit = parse_limit(query.limit.as_deref(), 50, 10)?;
    let kind = match query.kind {
        Some(SuggestionKind::Mentor) => Kind::Mentor,
        _ => Kind::Peer,
    };
    let found: Suggestions = matching::suggestions(&state, caller.0, kind, limit as usize).await?;
    Ok(HttpResponse::Ok().json(found))
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

crate::http::extract::opaque_body!(CreateConnection);

failures!(CreateFailures {
    EmailNotVerified: "The caller's email is not verified yet",
    NotFound: "No such practitioner to connect with",
    ConnectionExists | MentorUnavailable | ProfileRequired | IdempotencyKeyInUse: "Already connected or pending, the mentor has no free slot, the caller has no profile, or a request with the same Idempotency-Key is still being served",
    ValidationError: "The body or the Idempotency-Key is invalid, or the key was used with another body",
    TooManyRequests: "Too many requests today",
});

/// Asks another practitioner to connect, as peers or as the mentee of a mentorship.
#[utoipa::path(
    post, path = "/api/v1/connections", tag = "connections",
    security(("bearer" = [])),
    params(crate::http::idempotency::IdempotencyKey),
    request_body = CreateConnection,
    responses(
        (status = 201, description = "The request is sent", body = ConnectionView),
        CreateFailures,
    )
)]
pub async fn create(
    state: web::Data<AppState>,
    user: AuthUser,
    Valid(body): Valid<CreateConnection>,
) -> Result<HttpResponse, Fails<CreateFailures>> {
    let request = Request {
        recipient_id: body.recipient_id,
        kind: body.kind,
        message: body.message,
    };
    let view = service::request(&state, &user.0, request).await?;
    Ok(HttpResponse::Created().json(view))
}

#[derive(Clone, Copy, Debug, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ListDirection {
    Incoming,
    Outgoing,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    #[param(inline)]
    direction: Option<ListDirection>,
    #[param(inline)]
    status: Option<ConnectionStatus>,
    /// `newest` (default) or `isolation`: the most isolated other party first, as a mentor
    /// sees who asked them.
    #[param(inline)]
    order: Option<ListOrder>,
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

failures!(ListFailures {
    ValidationError: "A parameter is invalid",
});

/// The caller's connections, newest first (or the most isolated other party first).
#[utoipa::path(
    get, path = "/api/v1/connections", tag = "connections",
    security(("bearer" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "A page of connections", body = ConnectionPage),
        ListFailures,
    )
)]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, Fails<ListFailures>> {
    let limit = parse_limit(query.limit.as_deref(), 100, 20)?;
    let order = query.order.unwrap_or_default();
    let not_ours = || ApiError::field("cursor", "is not a cursor this API issued");
    let cursor = match (&query.cursor, order) {
        (None, _) => None,
        (Some(raw), ListOrder::Newest) => Some(Cursor::Before(
            Uuid::parse_str(raw).map_err(|_| not_ours())?,
        )),
        (Some(raw), ListOrder::Isolation) => Some(Cursor::Offset(
            Some(raw)
                .filter(|r| r.len() <= 9)
                .and_then(|r| r.parse::<usize>().ok())
                .ok_or_else(not_ours)?,
        )),
    };
    let filter = ListFilter {
        direction: query.direction.map(|d| match d {
            ListDirection::Incoming => Direction::Incoming,
            ListDirection::Outgoing => Direction::Outgoing,
        }),
        status: query.status,
        order,
        cursor,
        limit: u64::from(limit),
    };
    let (items, next_cursor) = service::list(&state, user.id(), filter).await?;
    Ok(HttpResponse::Ok().json(ConnectionPage { items, next_cursor }))
}

failures!(GetFailures {
    NotFound: "No such connection of the caller's",
});

/// One connection (its two parties only).
#[utoipa::path(
    get, path = "/api/v1/connections/{id}", tag = "connections",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The connection id")),
    responses(
        (status = 200, description = "The connection", body = ConnectionView),
        GetFailures,
    )
)]
pub async fn get(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, Fails<GetFailures>> {
    let view = service::get(&state, path.into_inner(), user.id()).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Runs one action of the state machine on a connection for the caller.
async fn act(
    state: &AppState,
    user: &AuthUser,
    id: Uuid,
    action: Action,
    decline: Decline,
) -> Result<HttpResponse, ApiError> {
    let view = service::act(state, id, user.id(), action, decline).await?;
    Ok(HttpResponse::Ok().json(view))
}

failures!(AcceptFailures {
    NotYourMove: "Only the recipient can accept",
    NotFound: "No such connection of the caller's",
    InvalidStatus | MentorFull: "Not pending, or the mentor has no free slot left",
});

/// Accepts a request (recipient only); both receive an introduction email.
#[utoipa::path(
    post, path = "/api/v1/connections/{id}/accept", tag = "connections",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The connection id")),
    responses(
        (status = 200, description = "Accepted", body = ConnectionView),
        AcceptFailures,
    )
)]
pub async fn accept(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, Fails<AcceptFailures>> {
    Ok(act(
        &state,
        &user,
        path.into_inner(),
        Action::Accept,
        Decline::default(),
    )
    .await?)
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

failures!(DeclineFailures {
    NotYourMove: "Only the recipient can decline",
    NotFound: "No such connection of the caller's",
    InvalidStatus: "Not pending",
});

/// Declines a request (recipient only). The requester gets a kind email without the note;
/// a mentee proposed by a round is proposed to their next-best free mentor.
#[utoipa::path(
    post, path = "/api/v1/connections/{id}/decline", tag = "connections",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The connection id")),
    request_body = DeclineRequest,
    responses(
        (status = 200, description = "Declined", body = ConnectionView),
        DeclineFailures,
    )
)]
pub async fn decline(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
    Valid(body): Valid<DeclineRequest>,
) -> Result<HttpResponse, Fails<DeclineFailures>> {
    let decline = Decline {
        reason: body.reason_code,
        note: body.note,
    };
    Ok(act(&state, &user, path.into_inner(), Action::Decline, decline).await?)
}

failures!(WithdrawFailures {
    NotYourMove: "Only the requester can withdraw",
    NotFound: "No such connection of the caller's",
    InvalidStatus: "Not pending",
});

/// Withdraws a pending request (requester only).
#[utoipa::path(
    post, path = "/api/v1/connections/{id}/withdraw", tag = "connections",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The connection id")),
    responses(
        (status = 200, description = "Withdrawn", body = ConnectionView),
        WithdrawFailures,
    )
)]
pub async fn withdraw(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, Fails<WithdrawFailures>> {
    Ok(act(
        &state,
        &user,
        path.into_inner(),
        Action::Withdraw,
        Decline::default(),
    )
    .await?)
}

failures!(EndFailures {
    NotFound: "No such connection of the caller's",
    InvalidStatus: "Not accepted",
});

/// Ends an accepted connection (either party); a mentor's slot is free again.
#[utoipa::path(
    post, path = "/api/v1/connections/{id}/end", tag = "connections",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The connection id")),
    responses(
        (status = 200, description = "Ended", body = ConnectionView),
        EndFailures,
    )
)]
pub async fn end(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, Fails<EndFailures>> {
    Ok(act(
        &state,
        &user,
        path.into_inner(),
        Action::End,
        Decline::default(),
    )
    .await?)
}

#[derive(Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct BlockRequest {
    #[schema(required = true)]
    pub user_id: Uuid,
}

crate::http::extract::opaque_body!(BlockRequest);

failures!(BlockFailures {
    NotFound: "No such practitioner",
});

/// Blocks someone: neither is suggested to or can request the other; pending requests
/// between them are withdrawn.
#[utoipa::path(
    post, path = "/api/v1/me/blocks", tag = "connections",
    security(("bearer" = [])),
    request_body = BlockRequest,
    responses(
        (status = 204, description = "Blocked"),
        BlockFailures,
    )
)]
pub async fn block(
    state: web::Data<AppState>,
    user: AuthUser,
    Valid(body): Valid<BlockRequest>,
) -> Result<HttpResponse, Fails<BlockFailures>> {
    service::block(&state, user.id(), body.user_id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Lists the people the caller has blocked (not those who blocked the caller).
#[utoipa::path(
    get, path = "/api/v1/me/blocks", tag = "connections",
    security(("bearer" = [])),
    responses((status = 200, description = "The people the caller has blocked", body = BlockList))
)]
pub async fn list_blocks(
    state: web::Data<AppState>,
    user: AuthUser,
) -> Result<HttpResponse, ApiError> {
    let list: BlockList = service::blocked(&state, user.id()).await?;
    Ok(HttpResponse::Ok().json(list))
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
    service::unblock(&state, user.id(), path.into_inner()).await?;
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
    /// A circle's introduction, meeting invitations and reminders. Left out of a PUT, the
    /// setting stays as it is.
    pub circle_updates: Option<bool>,
    /// At most one email a day with new posts in the caller's circles. Left out of a PUT,
    /// the setting stays as it is.
    pub circle_digest: Option<bool>,
    /// Check-ins ("How is it going?"), meeting proposals and reminders of the caller's
    /// connections (calendar invitations for a meeting they agreed are always sent). Left
    /// out of a PUT, the setting stays as it is.
    pub follow_through: Option<bool>,
}

impl From<Preferences> for NotificationPreferences {
    fn from(prefs: Preferences) -> Self {
        Self {
            connection_requests: prefs.connection_requests,
            match_digest: prefs.match_digest,
            circle_updates: Some(prefs.circle_updates),
            circle_digest: Some(prefs.circle_digest),
            follow_through: Some(prefs.follow_through),
        }
    }
}

crate::http::extract::opaque_body!(NotificationPreferences);

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
    let prefs = notifications::preferences(&state.db, user.id()).await?;
    Ok(HttpResponse::Ok().json(NotificationPreferences::from(prefs)))
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
    let now = notifications::preferences(&state.db, user.id()).await?;
    let prefs = Preferences {
        connection_requests: body.connection_requests,
        match_digest: body.match_digest,
        circle_updates: body.circle_updates.unwrap_or(now.circle_updates),
        circle_digest: body.circle_digest.unwrap_or(now.circle_digest),
        follow_through: body.follow_through.unwrap_or(now.follow_through),
    };
    notifications::set_preferences(&state.db, user.id(), prefs).await?;
    Ok(HttpResponse::Ok().json(NotificationPreferences::from(prefs)))
}
