//! What follows a match: check-ins on each connection, and the agreement its two sides make.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    domain::follow_through::CheckInAnswer,
    http::{
        extract::{opaque_body, AuthUser, Valid},
        problem::{failures, Fails},
        state::AppState,
    },
    service::check_ins::{self, CheckInOutcome, CheckInView},
};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/me/check-ins").get(my_check_ins))
        .service(web::resource("/me/check-ins/{id}").post(answer_check_in))
        .service(web::resource("/check-ins/answer").post(answer_check_in_by_link));
}

/// The caller's check-ins that wait for an answer, newest first.
#[utoipa::path(
    get, path = "/api/v1/me/check-ins", tag = "connections",
    security(("bearer" = [])),
    responses((status = 200, description = "Open check-ins", body = Vec<CheckInView>))
)]
pub async fn my_check_ins(
    state: web::Data<AppState>,
    user: AuthUser,
) -> Result<HttpResponse, crate::error::ApiError> {
    Ok(HttpResponse::Ok().json(check_ins::open(&state, user.0.id).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct CheckInAnswerRequest {
    pub answer: CheckInAnswer,
}

opaque_body!(CheckInAnswerRequest);

failures!(AnswerFailures {
    NotFound: "No such check-in of the caller's",
    InvalidStatus: "Already answered",
});

/// Answers one of the caller's check-ins. `not_a_good_fit` ends the connection kindly (the
/// other side is told it ended, never why) and, for the mentee, comes back with the
/// next-best suggestions.
#[utoipa::path(
    post, path = "/api/v1/me/check-ins/{id}", tag = "connections",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The check-in id")),
    request_body = CheckInAnswerRequest,
    responses(
        (status = 200, description = "Answered", body = CheckInOutcome),
        AnswerFailures,
    )
)]
pub async fn answer_check_in(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
    Valid(body): Valid<CheckInAnswerRequest>,
) -> Result<HttpResponse, Fails<AnswerFailures>> {
    let outcome =
        check_ins::answer(&state, path.into_inner(), Some(user.0.id), body.answer).await?;
    Ok(HttpResponse::Ok().json(outcome))
}

#[derive(Deserialize, ToSchema)]
pub struct CheckInLinkRequest {
    /// The `token` of the emailed link: it names the check-in and the answer.
    #[schema(max_length = 2048)]
    pub token: String,
}

opaque_body!(CheckInLinkRequest);

failures!(LinkFailures {
    InvalidToken: "The link is not genuine or has expired",
    NotFound: "The check-in is gone (the connection no longer exists)",
    InvalidStatus: "Already answered",
});

/// Answers a check-in from the emailed one-click link (no sign-in: the signed link is the
/// proof). Each link answers once.
#[utoipa::path(
    post, path = "/api/v1/check-ins/answer", tag = "connections",
    security(()),
    request_body = CheckInLinkRequest,
    responses(
        (status = 200, description = "Answered", body = CheckInOutcome),
        LinkFailures,
    )
)]
pub async fn answer_check_in_by_link(
    state: web::Data<AppState>,
    Valid(body): Valid<CheckInLinkRequest>,
) -> Result<HttpResponse, Fails<LinkFailures>> {
    Ok(HttpResponse::Ok().json(check_ins::answer_by_link(&state, &body.token).await?))
}
