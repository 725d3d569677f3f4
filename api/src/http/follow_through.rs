//! What follows a match: check-ins on each connection, the agreement its two sides make, and
//! their meetings.

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
        extract::{local_time, opaque_body, AuthUser, ParseBody, Valid},
        problem::{failures, Fails},
        state::AppState,
    },
    service::{
        agreements::{self, AgreementView, Terms},
        check_ins::{self, CheckInOutcome, CheckInView},
        connection_meetings::{self as meetings, ConnectionMeetingView},
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
        .service(web::resource("/connections/{id}/agreement/goals/{n}").put(mark_goal))
        .service(
            web::resource("/connections/{id}/meetings")
                .get(list_connection_meetings)
                .post(propose_connection_meeting),
        )
        .service(
            web::resource("/connections/{id}/meetings/{meeting_id}")
                .patch(change_connection_meeting),
        )
        .service(
            web::resource("/connections/{id}/meetings/{meeting_id}/choose")
                .post(choose_meeting_time),
        )
        .service(
            web::resource("/connections/{id}/meetings/{meeting_id}/cancel")
                .post(cancel_connection_meeting),
        )
        .service(
            web::resource("/connections/{id}/meetings/{meeting_id}/held")
                .post(mark_connection_meeting_held),
        )
        .service(
            web::resource("/connections/{id}/meetings/{meeting_id}/missed")
                .post(mark_connection_meeting_missed),
        );
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

failures!(MeetingListFailures {
    NotFound: "No such connection of the caller's",
});

/// The connection's meetings, newest first, with every time also in the caller's own time
/// zone (its two sides only).
#[utoipa::path(
    get, path = "/api/v1/connections/{id}/meetings", tag = "connections",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The connection id")),
    responses(
        (status = 200, description = "The meetings", body = Vec<ConnectionMeetingView>),
        MeetingListFailures,
    )
)]
pub async fn list_connection_meetings(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, Fails<MeetingListFailures>> {
    Ok(HttpResponse::Ok().json(meetings::list(&state, &user.0, path.into_inner()).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct ProposeMeeting {
    #[schema(min_length = 1, max_length = 140, example = "Caseload planning")]
    pub title: String,
    /// 1 to 5 start times in `timezone`'s local time, `YYYY-MM-DDTHH:MM`, within the coming
    /// year; the other side picks one.
    #[schema(min_items = 1, max_items = 5, example = json!(["2027-01-14T18:00", "2027-01-15T07:30"]))]
    pub times: Vec<String>,
    /// An IANA time zone; the caller's own when absent.
    #[schema(example = "Australia/Sydney")]
    pub timezone: Option<String>,
    #[schema(minimum = 15, maximum = 240, example = 45)]
    pub duration_minutes: i32,
    /// Where, or the video link (free text, up to 300 characters).
    #[schema(max_length = 300, example = "https://meet.example.org/ana-sam")]
    pub location: Option<String>,
}

impl ParseBody for ProposeMeeting {
    type Parsed = meetings::Proposal;

    fn parse(self, fields: &mut FieldParser) -> Option<meetings::Proposal> {
        if self.times.is_empty() || self.times.len() > meetings::TIMES_MAX {
            fields.error(
                "times",
                format!("must hold 1 to {} times", meetings::TIMES_MAX),
            );
        }
        let mut times = Vec::new();
        for raw in &self.times {
            match local_time("times", raw) {
                Ok(time) => times.push(time),
                Err(_) => fields.error("times", "each must be a local time like 2027-01-14T18:00"),
            }
        }
        fields.is_clean().then_some(meetings::Proposal {
            title: self.title,
            times,
            timezone: self.timezone,
            minutes: self.duration_minutes,
            location: self.location,
        })
    }
}

failures!(ProposeMeetingFailures {
    NotFound: "No such connection of the caller's",
    InvalidStatus: "The connection is not accepted",
});

/// Proposes a meeting at one or more times. The other side is emailed the times in their
/// own time zone and picks one.
#[utoipa::path(
    post, path = "/api/v1/connections/{id}/meetings", tag = "connections",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The connection id")),
    request_body = ProposeMeeting,
    responses(
        (status = 201, description = "The meeting, proposed", body = ConnectionMeetingView),
        ProposeMeetingFailures,
    )
)]
pub async fn propose_connection_meeting(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
    Valid(proposal): Valid<ProposeMeeting>,
) -> Result<HttpResponse, Fails<ProposeMeetingFailures>> {
    let view = meetings::propose(&state, &user.0, path.into_inner(), proposal).await?;
    Ok(HttpResponse::Created().json(view))
}

#[derive(Deserialize, ToSchema)]
pub struct ChooseTime {
    /// One of the meeting's `options[].starts_at`, exactly.
    pub starts_at: chrono::DateTime<chrono::Utc>,
}

opaque_body!(ChooseTime);

failures!(ChooseFailures {
    NotFound: "No such meeting of a connection of the caller's",
    NotYourMove: "The caller proposed these times: the other side picks",
    InvalidStatus:
        "A time was picked already, the meeting is cancelled, or the connection is not accepted",
});

/// Picks one of the proposed times (the side that did not propose them). Both sides are
/// emailed the invitation (`invite.ics`, `METHOD:REQUEST`, in the proposer's time zone).
#[utoipa::path(
    post, path = "/api/v1/connections/{id}/meetings/{meeting_id}/choose", tag = "connections",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The connection id"),
        ("meeting_id" = Uuid, Path, description = "The meeting"),
    ),
    request_body = ChooseTime,
    responses(
        (status = 200, description = "The meeting, scheduled", body = ConnectionMeetingView),
        ChooseFailures,
    )
)]
pub async fn choose_meeting_time(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
    Valid(body): Valid<ChooseTime>,
) -> Result<HttpResponse, Fails<ChooseFailures>> {
    let (id, meeting_id) = path.into_inner();
    let view = meetings::choose(&state, &user.0, id, meeting_id, body.starts_at).await?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct ChangeConnectionMeeting {
    #[schema(min_length = 1, max_length = 140)]
    pub title: Option<String>,
    /// The new start in the meeting's own time zone, `YYYY-MM-DDTHH:MM`.
    #[schema(value_type = Option<String>, example = "2027-01-21T18:00", pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}$")]
    pub starts_at: Option<String>,
    #[schema(minimum = 15, maximum = 240)]
    pub duration_minutes: Option<i32>,
    /// Where, or the video link; empty to clear it.
    #[schema(max_length = 300)]
    pub location: Option<String>,
}

opaque_body!(ChangeConnectionMeeting);

failures!(ChangeMeetingFailures {
    NotFound: "No such meeting of a connection of the caller's",
    InvalidStatus: "The meeting is not scheduled, took place already, or changed meanwhile",
});

/// Changes a scheduled meeting (either side). Both are sent the updated invitation: the
/// same `UID`, the next `SEQUENCE`.
#[utoipa::path(
    patch, path = "/api/v1/connections/{id}/meetings/{meeting_id}", tag = "connections",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The connection id"),
        ("meeting_id" = Uuid, Path, description = "The meeting"),
    ),
    request_body = ChangeConnectionMeeting,
    responses(
        (status = 200, description = "The meeting", body = ConnectionMeetingView),
        ChangeMeetingFailures,
    )
)]
pub async fn change_connection_meeting(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
    Valid(body): Valid<ChangeConnectionMeeting>,
) -> Result<HttpResponse, Fails<ChangeMeetingFailures>> {
    let (id, meeting_id) = path.into_inner();
    let change = meetings::Change {
        title: body.title,
        starts_local: body
            .starts_at
            .as_deref()
            .map(|raw| local_time("starts_at", raw))
            .transpose()?,
        minutes: body.duration_minutes,
        location: body.location,
    };
    let view = meetings::change(&state, &user.0, id, meeting_id, change).await?;
    Ok(HttpResponse::Ok().json(view))
}

failures!(CancelConnectionMeetingFailures {
    NotFound: "No such meeting of a connection of the caller's",
    InvalidStatus: "The meeting is cancelled already or took place",
});

/// Cancels a meeting (either side). A scheduled one is cancelled in both calendars
/// (`METHOD:CANCEL`, the next `SEQUENCE`).
#[utoipa::path(
    post, path = "/api/v1/connections/{id}/meetings/{meeting_id}/cancel", tag = "connections",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The connection id"),
        ("meeting_id" = Uuid, Path, description = "The meeting"),
    ),
    responses(
        (status = 200, description = "The meeting, cancelled", body = ConnectionMeetingView),
        CancelConnectionMeetingFailures,
    )
)]
pub async fn cancel_connection_meeting(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, Fails<CancelConnectionMeetingFailures>> {
    let (id, meeting_id) = path.into_inner();
    Ok(HttpResponse::Ok().json(meetings::cancel(&state, &user.0, id, meeting_id).await?))
}

failures!(HeldFailures {
    NotFound: "No such meeting of a connection of the caller's",
    InvalidStatus: "The meeting is not scheduled or has not started",
});

/// Says the meeting took place (either side, once it has started). Each side gets a draft
/// entry in their development log to confirm: mentoring given or received, or peer
/// supervision. Saying it again changes nothing.
#[utoipa::path(
    post, path = "/api/v1/connections/{id}/meetings/{meeting_id}/held", tag = "connections",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The connection id"),
        ("meeting_id" = Uuid, Path, description = "The meeting"),
    ),
    responses(
        (status = 200, description = "The meeting", body = ConnectionMeetingView),
        HeldFailures,
    )
)]
pub async fn mark_connection_meeting_held(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, Fails<HeldFailures>> {
    let (id, meeting_id) = path.into_inner();
    Ok(HttpResponse::Ok().json(meetings::mark_held(&state, &user.0, id, meeting_id).await?))
}

failures!(MissedFailures {
    NotFound: "No such meeting of a connection of the caller's",
    InvalidStatus: "The meeting is not scheduled, has not started, or was said to be held",
});

/// Says the meeting did not take place (either side, once it has started). It no longer
/// counts as a planned meeting, and no log entry is drafted.
#[utoipa::path(
    post, path = "/api/v1/connections/{id}/meetings/{meeting_id}/missed", tag = "connections",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The connection id"),
        ("meeting_id" = Uuid, Path, description = "The meeting"),
    ),
    responses(
        (status = 200, description = "The meeting, missed", body = ConnectionMeetingView),
        MissedFailures,
    )
)]
pub async fn mark_connection_meeting_missed(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, Fails<MissedFailures>> {
    let (id, meeting_id) = path.into_inner();
    Ok(HttpResponse::Ok().json(meetings::mark_missed(&state, &user.0, id, meeting_id).await?))
}
