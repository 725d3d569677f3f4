//! The professional development log: entries, the requirement a practitioner reports to
//! and their progress, and the log as CSV and PDF for an audit.

use actix_web::{http::header, web, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::{
    domain::{
        log::{requirements, ActivityKind, Requirement},
        FieldParser,
    },
    error::ApiError,
    http::{
        extract::{number, offset_cursor, AuthUser, ParseBody, Valid},
        problem::{failures, Fails},
        state::AppState,
    },
    service::{
        circle_meetings,
        log::{
            self as service, check_day, check_minutes, check_reflection, check_title, Choice,
            EntryChange, LogEntry, LogSummary, NewEntry,
        },
    },
};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/log/requirements").get(list_requirements))
        .service(web::resource("/me/log/summary").get(log_summary))
        .service(web::resource("/me/log/requirement").put(choose_requirement))
        .service(web::resource("/me/log/export.csv").get(export_log_csv))
        .service(web::resource("/me/log/export.pdf").get(export_log_pdf))
        .service(web::resource("/me/log").get(list_log).post(add_log_entry))
        .service(
            web::resource("/me/log/{id}")
                .patch(change_log_entry)
                .delete(delete_log_entry),
        )
        .service(web::resource("/circles/{id}/meetings/{meeting_id}/held").post(mark_meeting_held));
}

fn day(raw: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .map_err(|_| "must be a day like 2027-02-03".to_owned())
        .and_then(check_day)
}

/// Two optional days of a query, the first not after the second.
fn range(
    from: Option<&str>,
    to: Option<&str>,
) -> Result<(Option<NaiveDate>, Option<NaiveDate>), ApiError> {
    let parse = |field: &str, raw: Option<&str>| {
        raw.map(|r| day(r).map_err(|m| ApiError::field(field, m)))
            .transpose()
    };
    let (from, to) = (parse("from", from)?, parse("to", to)?);
    if let (Some(f), Some(t)) = (from, to) {
        if f > t {
            return Err(ApiError::field("to", "must not be before from"));
        }
    }
    Ok((from, to))
}

/// The requirements the log can report to, each with where it is published.
#[utoipa::path(
    get, path = "/api/v1/log/requirements", tag = "log",
    security(()),
    responses((status = 200, description = "Every requirement", body = Vec<Requirement>))
)]
pub async fn list_requirements() -> HttpResponse {
    HttpResponse::Ok().json(requirements())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogQuery {
    /// The first day, `YYYY-MM-DD`.
    #[param(value_type = Option<String>, format = Date)]
    from: Option<String>,
    /// The last day, `YYYY-MM-DD`.
    #[param(value_type = Option<String>, format = Date)]
    to: Option<String>,
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    /// From `next_cursor` of the previous page.
    #[param(max_length = 9, pattern = "^[0-9]+$")]
    cursor: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct LogPage {
    pub items: Vec<LogEntry>,
    pub next_cursor: Option<String>,
}

failures!(ListLogFailures {
    ValidationError: "A parameter is invalid",
});

/// The caller's log, newest first, optionally between two days.
#[utoipa::path(
    get, path = "/api/v1/me/log", tag = "log",
    security(("bearer" = [])),
    params(LogQuery),
    responses(
        (status = 200, description = "A page of entries", body = LogPage),
        ListLogFailures,
    )
)]
pub async fn list_log(
    state: web::Data<AppState>,
    user: AuthUser,
    query: web::Query<LogQuery>,
) -> Result<HttpResponse, Fails<ListLogFailures>> {
    let limit = u64::from(number("limit", query.limit.as_deref(), 100, 20)?);
    let offset = offset_cursor(query.cursor.as_deref())?;
    let range = range(query.from.as_deref(), query.to.as_deref())?;
    let (items, next) = service::page(&state, &user.0, range, offset, limit).await?;
    Ok(HttpResponse::Ok().json(LogPage {
        items,
        next_cursor: next.map(|n| n.to_string()),
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct LogEntryRequest {
    /// The day, `YYYY-MM-DD`, not in the future.
    #[schema(value_type = String, format = Date, example = "2027-02-03")]
    pub occurred_on: String,
    #[schema(minimum = 1, maximum = 1440, example = 60)]
    pub minutes: i32,
    pub kind: ActivityKind,
    #[schema(
        min_length = 1,
        max_length = 200,
        example = "Case review with my mentor"
    )]
    pub title: String,
    /// What I learned, and how I will apply it.
    #[schema(max_length = 4000)]
    pub reflection: Option<String>,
    /// A connection of the caller's (accepted or ended) it came from.
    pub connection_id: Option<Uuid>,
    /// A circle of the caller's it came from.
    pub circle_id: Option<Uuid>,
    /// A meeting of that circle.
    pub circle_meeting_id: Option<Uuid>,
}

impl ParseBody for LogEntryRequest {
    type Parsed = NewEntry;

    fn parse(self, fields: &mut FieldParser) -> Option<NewEntry> {
        let occurred_on = fields.field("occurred_on", day(&self.occurred_on));
        let minutes = fields.field("minutes", check_minutes(self.minutes));
        let title = fields.field("title", check_title(&self.title));
        let reflection = fields.field(
            "reflection",
            check_reflection(self.reflection.as_deref().unwrap_or("")),
        );
        Some(NewEntry {
            occurred_on: occurred_on?,
            minutes: minutes?,
            kind: self.kind,
            title: title?,
            reflection: reflection?,
            connection_id: self.connection_id,
            circle_id: self.circle_id,
            circle_meeting_id: self.circle_meeting_id,
        })
    }
}

failures!(AddLogFailures {
    ValidationError: "A field is invalid, or a link is not the caller's",
});

/// Logs an activity.
#[utoipa::path(
    post, path = "/api/v1/me/log", tag = "log",
    security(("bearer" = [])),
    request_body = LogEntryRequest,
    responses(
        (status = 201, description = "The entry", body = LogEntry),
        AddLogFailures,
    )
)]
pub async fn add_log_entry(
    state: web::Data<AppState>,
    user: AuthUser,
    Valid(new): Valid<LogEntryRequest>,
) -> Result<HttpResponse, Fails<AddLogFailures>> {
    let entry = service::add(&state, &user.0, new).await?;
    Ok(HttpResponse::Created().json(entry))
}

#[derive(Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct LogEntryPatch {
    #[schema(value_type = Option<String>, format = Date)]
    pub occurred_on: Option<String>,
    #[schema(minimum = 1, maximum = 1440)]
    pub minutes: Option<i32>,
    pub kind: Option<ActivityKind>,
    #[schema(min_length = 1, max_length = 200)]
    pub title: Option<String>,
    /// An empty reflection removes it.
    #[schema(max_length = 4000)]
    pub reflection: Option<String>,
    /// `false` confirms a draft (an entry cannot become a draft again).
    pub draft: Option<bool>,
}

impl ParseBody for LogEntryPatch {
    type Parsed = EntryChange;

    fn parse(self, fields: &mut FieldParser) -> Option<EntryChange> {
        let occurred_on = self
            .occurred_on
            .map(|d| fields.field("occurred_on", day(&d)));
        let minutes = self
            .minutes
            .map(|m| fields.field("minutes", check_minutes(m)));
        let title = self.title.map(|t| fields.field("title", check_title(&t)));
        let reflection = self
            .reflection
            .map(|r| fields.field("reflection", check_reflection(&r)));
        if self.draft == Some(true) {
            fields.error("draft", "can only be false, to confirm a draft");
        }
        if !fields.is_clean() {
            return None;
        }
        Some(EntryChange {
            occurred_on: occurred_on.flatten(),
            minutes: minutes.flatten(),
            kind: self.kind,
            title: title.flatten(),
            reflection: reflection.map(|r| r.flatten().unwrap_or_default()),
            confirm: self.draft == Some(false),
        })
    }
}

failures!(LogEntryFailures {
    NotFound: "No such entry in the caller's log",
});

/// Changes one of the caller's entries, or confirms a draft with `"draft": false`.
#[utoipa::path(
    patch, path = "/api/v1/me/log/{id}", tag = "log",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The entry id")),
    request_body = LogEntryPatch,
    responses(
        (status = 200, description = "The entry", body = LogEntry),
        LogEntryFailures,
    )
)]
pub async fn change_log_entry(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
    Valid(change): Valid<LogEntryPatch>,
) -> Result<HttpResponse, Fails<LogEntryFailures>> {
    let entry = service::change(&state, &user.0, path.into_inner(), change).await?;
    Ok(HttpResponse::Ok().json(entry))
}

/// Deletes one of the caller's entries.
#[utoipa::path(
    delete, path = "/api/v1/me/log/{id}", tag = "log",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The entry id")),
    responses(
        (status = 204, description = "Deleted"),
        LogEntryFailures,
    )
)]
pub async fn delete_log_entry(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, Fails<LogEntryFailures>> {
    service::remove(&state, &user.0, path.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Progress over the current period of the chosen requirement (or this calendar year),
/// totals per kind, and what is missing.
#[utoipa::path(
    get, path = "/api/v1/me/log/summary", tag = "log",
    security(("bearer" = [])),
    responses((status = 200, description = "The summary", body = LogSummary))
)]
pub async fn log_summary(
    state: web::Data<AppState>,
    user: AuthUser,
) -> Result<HttpResponse, ApiError> {
    let today = chrono::Utc::now().date_naive();
    Ok(HttpResponse::Ok().json(service::summary(&state, &user.0, today).await?))
}

#[derive(Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct RequirementChoice {
    /// A code from `/api/v1/log/requirements`; null to report to none.
    #[schema(example = "otba")]
    pub code: Option<String>,
    /// Where the practitioner's own cycle starts, for requirements without a fixed start.
    #[schema(value_type = Option<String>, format = Date, example = "2025-04-01")]
    pub cycle_start: Option<String>,
}

impl ParseBody for RequirementChoice {
    type Parsed = Choice;

    fn parse(self, fields: &mut FieldParser) -> Option<Choice> {
        let cycle_start = self
            .cycle_start
            .map(|d| fields.field("cycle_start", day(&d)));
        if self.code.as_ref().is_some_and(|c| c.chars().count() > 40) {
            fields.error("code", "must be at most 40 characters");
        }
        if !fields.is_clean() {
            return None;
        }
        Some(Choice {
            code: self.code,
            cycle_start: cycle_start.flatten(),
        })
    }
}

failures!(ChooseFailures {
    ValidationError: "An unknown code or a bad day",
});

/// Chooses the requirement the caller reports to; the answer is the new summary.
#[utoipa::path(
    put, path = "/api/v1/me/log/requirement", tag = "log",
    security(("bearer" = [])),
    request_body = RequirementChoice,
    responses(
        (status = 200, description = "The summary against it", body = LogSummary),
        ChooseFailures,
    )
)]
pub async fn choose_requirement(
    state: web::Data<AppState>,
    user: AuthUser,
    Valid(choice): Valid<RequirementChoice>,
) -> Result<HttpResponse, Fails<ChooseFailures>> {
    Ok(HttpResponse::Ok().json(service::choose(&state, &user.0, choice).await?))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// The first day, `YYYY-MM-DD`; with neither day, the current period of the chosen
    /// requirement (or everything when none is chosen).
    #[param(value_type = Option<String>, format = Date)]
    from: Option<String>,
    /// The last day, `YYYY-MM-DD`.
    #[param(value_type = Option<String>, format = Date)]
    to: Option<String>,
}

/// A file's bytes.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct FileBytes(#[allow(dead_code)] Vec<u8>);

fn file(content_type: &str, name: &str, body: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body)
}

async fn audit_record(
    state: &AppState,
    user: &AuthUser,
    query: &ExportQuery,
) -> Result<service::AuditRecord, ApiError> {
    let (from, to) = range(query.from.as_deref(), query.to.as_deref())?;
    service::audit_record(state, &user.0, from, to).await
}

/// The caller's log as CSV, oldest first: one row per entry with a header row.
#[utoipa::path(
    get, path = "/api/v1/me/log/export.csv", tag = "log",
    security(("bearer" = [])),
    params(ExportQuery),
    responses(
        (status = 200, description = "The log", content_type = "text/csv", body = String),
        ListLogFailures,
    )
)]
pub async fn export_log_csv(
    state: web::Data<AppState>,
    user: AuthUser,
    query: web::Query<ExportQuery>,
) -> Result<HttpResponse, Fails<ListLogFailures>> {
    let record = audit_record(&state, &user, &query).await?;
    let body = crate::audit::csv(&record).map_err(ApiError::unexpected)?;
    Ok(file("text/csv; charset=utf-8", "development-log.csv", body))
}

/// The caller's log as a PDF for an audit: dated, chronological, each activity with its
/// reflection, then totals per kind and for the period against the chosen requirement.
#[utoipa::path(
    get, path = "/api/v1/me/log/export.pdf", tag = "log",
    security(("bearer" = [])),
    params(ExportQuery),
    responses(
        (status = 200, description = "The log", content_type = "application/pdf", body = FileBytes),
        ListLogFailures,
    )
)]
pub async fn export_log_pdf(
    state: web::Data<AppState>,
    user: AuthUser,
    query: web::Query<ExportQuery>,
) -> Result<HttpResponse, Fails<ListLogFailures>> {
    let record = audit_record(&state, &user, &query).await?;
    Ok(file(
        "application/pdf",
        "development-log.pdf",
        crate::audit::pdf(&record),
    ))
}

failures!(HeldFailures {
    NotFound: "No such meeting in a circle of the caller's",
    InvalidStatus: "The meeting has not started yet",
});

/// Says a circle meeting took place (members, once it has started). The caller and each
/// member who said they would come get a draft entry in their log to confirm.
#[utoipa::path(
    post, path = "/api/v1/circles/{id}/meetings/{meeting_id}/held", tag = "circles",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The circle id"),
        ("meeting_id" = Uuid, Path, description = "The meeting"),
    ),
    responses(
        (status = 204, description = "Marked held; drafts made"),
        HeldFailures,
    )
)]
pub async fn mark_meeting_held(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, Fails<HeldFailures>> {
    let (id, meeting_id) = path.into_inner();
    circle_meetings::mark_held(&state, &user.0, id, meeting_id).await?;
    Ok(HttpResponse::NoContent().finish())
}
