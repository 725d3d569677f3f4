//! What follows a match: check-ins on each connection, and the agreement its two sides make.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    domain::{
        follow_through::{CheckInAnswer, MeetingMode},
        FieldParser,
    },
    http::{
        extract::{opaque_body, AuthUser, ParseBody, Valid},
        problem::{failures, Fails},
        state::AppState,
    },
    service::{
        agreements::{self, AgreementView, Terms},
        check_ins::{self, CheckInOutcome, CheckInView},
    },
};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/me/check-ins").get(my_check_ins))
        .service(web::resource("/me/check-ins/{id}").post(answer_check_in))
        .service(web::resource("/check-ins/answer").post(answer_check_in_by_link))
        .service(
            web::resource("/connections/{id}/agreement")
                .get(get_agreement)
                .put(propose_agreement),
        )
        .service(web::resource("/connections/{id}/agreement/accept").post(accept_agreement))
        .service(web::resource("/connections/{id}/agreement/goals/{n}").put(mark_goal));
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
    Ok(HttpResponse::Ok().json(check_ins::of_user(&state, user.0.id, true).await?))
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

failures!(AgreementFailures {
    NotFound: "No agreement on a connection of the caller's",
});

/// The connection's agreement, for its two sides only (administrators included, nobody
/// else reads it).
#[utoipa::path(
    get, path = "/api/v1/connections/{id}/agreement", tag = "connections",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The connection id")),
    responses(
        (status = 200, description = "The agreement", body = AgreementView),
        AgreementFailures,
    )
)]
pub async fn get_agreement(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, Fails<AgreementFailures>> {
    Ok(HttpResponse::Ok().json(agreements::get(&state, &user.0, path.into_inner()).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct AgreementTerms {
    /// 1 to 8 goals, each one line of up to 300 characters.
    #[schema(max_items = 8, example = json!(["Plan my caseload so that home visits fit in four days"]))]
    pub goals: Vec<String>,
    /// How often they meet, in their words (up to 100 characters).
    #[schema(max_length = 100, example = "Every two weeks, an hour")]
    pub cadence: String,
    #[schema(minimum = 1, maximum = 24, example = 6)]
    pub duration_months: i32,
    pub mode: MeetingMode,
    /// What stays between them (up to 1000 characters).
    #[schema(max_length = 1000)]
    pub confidentiality: Option<String>,
}

impl ParseBody for AgreementTerms {
    type Parsed = Terms;

    fn parse(self, fields: &mut FieldParser) -> Option<Terms> {
        let terms = Terms {
            goals: self.goals,
            cadence: self.cadence,
            duration_months: self.duration_months,
            mode: self.mode,
            confidentiality: self.confidentiality,
        };
        terms.check(fields);
        fields.is_clean().then_some(terms)
    }
}

failures!(ProposeFailures {
    NotFound: "No such connection of the caller's",
    InvalidStatus: "The connection is not accepted",
});

/// Proposes the agreement, or an edit of it; either way it then waits for the other side,
/// who is emailed. Goals kept word for word stay done.
#[utoipa::path(
    put, path = "/api/v1/connections/{id}/agreement", tag = "connections",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The connection id")),
    request_body = AgreementTerms,
    responses(
        (status = 200, description = "The agreement, proposed", body = AgreementView),
        ProposeFailures,
    )
)]
pub async fn propose_agreement(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
    Valid(terms): Valid<AgreementTerms>,
) -> Result<HttpResponse, Fails<ProposeFailures>> {
    let view = agreements::propose(&state, &user.0, path.into_inner(), terms).await?;
    Ok(HttpResponse::Ok().json(view))
}

failures!(AcceptAgreementFailures {
    NotFound: "No agreement on a connection of the caller's",
    NotYourMove: "The caller proposed these terms, or they are accepted already",
    InvalidStatus: "The connection is not accepted, or the terms changed meanwhile",
});

/// Accepts the terms the other side proposed.
#[utoipa::path(
    post, path = "/api/v1/connections/{id}/agreement/accept", tag = "connections",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The connection id")),
    responses(
        (status = 200, description = "The agreement, accepted", body = AgreementView),
        AcceptAgreementFailures,
    )
)]
pub async fn accept_agreement(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, Fails<AcceptAgreementFailures>> {
    Ok(HttpResponse::Ok().json(agreements::accept(&state, &user.0, path.into_inner()).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct GoalDone {
    pub done: bool,
}

opaque_body!(GoalDone);

/// Marks goal `n` (counted from 0) done, or not done.
#[utoipa::path(
    put, path = "/api/v1/connections/{id}/agreement/goals/{n}", tag = "connections",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The connection id"),
        ("n" = u32, Path, description = "The goal, from 0"),
    ),
    request_body = GoalDone,
    responses(
        (status = 200, description = "The agreement", body = AgreementView),
        AgreementFailures,
    )
)]
pub async fn mark_goal(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, u32)>,
    Valid(body): Valid<GoalDone>,
) -> Result<HttpResponse, Fails<AgreementFailures>> {
    let (id, n) = path.into_inner();
    let view = agreements::mark_goal(&state, &user.0, id, n as usize, body.done).await?;
    Ok(HttpResponse::Ok().json(view))
}
