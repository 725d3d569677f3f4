//! The one error type of the services, and every problem code the API can answer with.
//! The HTTP layer renders it as an RFC 9457 problem document (`http::problem`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// Field name -> every message about that field.
pub type FieldErrors = BTreeMap<String, Vec<String>>;

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    /// A relative URI naming the kind of problem (see [`ProblemCode`]).
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Every invalid field with its messages (validation problems only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<FieldErrors>,
}

/// Every kind of problem the API answers with: the last part of its `type`
/// (`/problems/{slug}`), its HTTP status and what it means. Clients branch on these.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProblemCode {
    ValidationError,
    BadRequest,
    MalformedJson,
    InvalidToken,
    Unauthorized,
    AccountSuspended,
    AdminOnly,
    EmailNotVerified,
    NotYourMove,
    WrongPassword,
    NotFound,
    MethodNotAllowed,
    EmailTaken,
    AlreadyVerified,
    ConnectionExists,
    MentorUnavailable,
    MentorFull,
    InvalidStatus,
    ProfileRequired,
    CannotSuspendSelf,
    IdempotencyKeyInUse,
    PayloadTooLarge,
    UnsupportedMediaType,
    TooManyRequests,
    InternalError,
    Unavailable,
    Busy,
    NotAModerator,
    CircleFull,
    CircleLimit,
    AlreadyInCircle,
    CircleClosed,
    HoursDoNotOverlap,
}

impl ProblemCode {
    pub const ALL: [Self; 33] = [
        Self::ValidationError,
        Self::BadRequest,
        Self::MalformedJson,
        Self::InvalidToken,
        Self::Unauthorized,
        Self::AccountSuspended,
        Self::AdminOnly,
        Self::EmailNotVerified,
        Self::NotYourMove,
        Self::WrongPassword,
        Self::NotFound,
        Self::MethodNotAllowed,
        Self::EmailTaken,
        Self::AlreadyVerified,
        Self::ConnectionExists,
        Self::MentorUnavailable,
        Self::MentorFull,
        Self::InvalidStatus,
        Self::ProfileRequired,
        Self::CannotSuspendSelf,
        Self::IdempotencyKeyInUse,
        Self::PayloadTooLarge,
        Self::UnsupportedMediaType,
        Self::TooManyRequests,
        Self::InternalError,
        Self::Unavailable,
        Self::Busy,
        Self::NotAModerator,
        Self::CircleFull,
        Self::CircleLimit,
        Self::AlreadyInCircle,
        Self::CircleClosed,
        Self::HoursDoNotOverlap,
    ];

    /// The slug, status and meaning of each code: the one table the document, the contract
    /// and the responses are checked against.
    const fn describe(self) -> (&'static str, u16, &'static str) {
        match self {
            Self::ValidationError => (
                "validation-error",
                422,
                "Some fields are invalid; `errors` lists each with its messages.",
            ),
            Self::BadRequest => ("bad-request", 400, "The request could not be understood."),
            Self::MalformedJson => ("malformed-json", 400, "The body is not valid JSON."),
            Self::InvalidToken => (
                "invalid-token",
                400,
                "The emailed or unsubscribe link is invalid, expired or used.",
            ),
            Self::Unauthorized => (
                "unauthorized",
                401,
                "A valid access token (or the right credentials) is required.",
            ),
            Self::AccountSuspended => ("account-suspended", 403, "The account is suspended."),
            Self::AdminOnly => (
                "admin-only",
                403,
                "Only programme administrators can do this.",
            ),
            Self::EmailNotVerified => (
                "email-not-verified",
                403,
                "The caller must verify their email first.",
            ),
            Self::NotYourMove => (
                "not-your-move",
                403,
                "Only the other party of the connection can do this.",
            ),
            Self::WrongPassword => (
                "wrong-password",
                403,
                "The password given to confirm is not correct.",
            ),
            Self::NotFound => ("not-found", 404, "Nothing the caller may see exists here."),
            Self::MethodNotAllowed => (
                "method-not-allowed",
                405,
                "The path does not support the method.",
            ),
            Self::EmailTaken => (
                "email-taken",
                409,
                "An account with this email already exists.",
            ),
            Self::AlreadyVerified => (
                "already-verified",
                409,
                "The account's email is already verified.",
            ),
            Self::ConnectionExists => (
                "connection-exists",
                409,
                "A pending or accepted connection between the two already exists.",
            ),
            Self::MentorUnavailable => (
                "mentor-unavailable",
                409,
                "The mentor is not taking mentees (not offering, paused or full).",
            ),
            Self::MentorFull => (
                "mentor-full",
                409,
                "Accepting would take the mentor past the mentees they offered.",
            ),
            Self::InvalidStatus => (
                "invalid-status",
                409,
                "The connection is not in a status that allows this.",
            ),
            Self::ProfileRequired => ("profile-required", 409, "The caller needs a profile first."),
            Self::CannotSuspendSelf => (
                "cannot-suspend-self",
                409,
                "An administrator cannot suspend their own account.",
            ),
            Self::IdempotencyKeyInUse => (
                "idempotency-key-in-use",
                409,
                "A request with the same Idempotency-Key is still being served.",
            ),
            Self::PayloadTooLarge => ("payload-too-large", 413, "The request body is too large."),
            Self::UnsupportedMediaType => (
                "unsupported-media-type",
                415,
                "The request body must be application/json.",
            ),
            Self::TooManyRequests => (
                "too-many-requests",
                429,
                "Too many requests; wait `Retry-After` seconds.",
            ),
            Self::InternalError => (
                "internal-error",
                500,
                "Something went wrong on the service's side; it is logged.",
            ),
            Self::Unavailable => ("unavailable", 503, "The service cannot reach its database."),
            Self::Busy => (
                "busy",
                503,
                "Every password worker is busy; retry after `Retry-After` seconds.",
            ),
            Self::NotAModerator => (
                "not-a-moderator",
                403,
                "Only the circle's facilitator (or an administrator) can do this, or, for a \
                 join, a member of a circle without a facilitator.",
            ),
            Self::CircleFull => (
                "circle-full",
                409,
                "Every seat in the circle is taken.",
            ),
            Self::CircleLimit => (
                "circle-limit",
                409,
                "The caller already belongs to (or asked to join) as many circles as one person may.",
            ),
            Self::AlreadyInCircle => (
                "already-in-circle",
                409,
                "The practitioner is already a member of the circle or has asked to join.",
            ),
            Self::CircleClosed => ("circle-closed", 409, "The circle is closed."),
            Self::HoursDoNotOverlap => (
                "hours-do-not-overlap",
                409,
                "The caller's working hours overlap the circle's by less than two hours.",
            ),
        }
    }

    pub const fn slug(self) -> &'static str {
        self.describe().0
    }

    pub const fn status(self) -> u16 {
        self.describe().1
    }

    /// What the code means, as documented.
    pub const fn meaning(self) -> &'static str {
        self.describe().2
    }

    /// The problem's `title`: its status's standard reason phrase.
    pub const fn title(self) -> &'static str {
        match self.status() {
            400 => "Bad Request",
            401 => "Unauthorized",
            403 => "Forbidden",
            404 => "Not Found",
            405 => "Method Not Allowed",
            409 => "Conflict",
            413 => "Payload Too Large",
            415 => "Unsupported Media Type",
            422 => "Unprocessable Entity",
            429 => "Too Many Requests",
            503 => "Service Unavailable",
            _ => "Internal Server Error",
        }
    }

    /// Whether the answer carries `Retry-After`.
    pub const fn retries_after(self) -> bool {
        matches!(self, Self::TooManyRequests | Self::Busy)
    }

    /// The problem's `type`.
    pub fn uri(self) -> String {
        format!("/problems/{}", self.slug())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("the request has invalid fields")]
    Validation(FieldErrors),
    /// A rule refused the request; the code says which, and carries the status.
    #[error("{detail}")]
    Refused { code: ProblemCode, detail: String },
    #[error("{0}")]
    Unauthorized(&'static str),
    #[error("not found")]
    NotFound,
    #[error("too many requests")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("the service is not ready")]
    Unavailable,
    /// Every password worker is busy; the client should retry shortly.
    #[error("the service is busy")]
    Busy { retry_after_secs: u64 },
    #[error("The request body is too large.")]
    PayloadTooLarge,
    #[error("The request body must be application/json.")]
    UnsupportedMediaType,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl ApiError {
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        let mut errors = FieldErrors::new();
        errors.insert(field.to_owned(), vec![message.into()]);
        Self::Validation(errors)
    }

    pub fn refused(code: ProblemCode, detail: impl Into<String>) -> Self {
        Self::Refused {
            code,
            detail: detail.into(),
        }
    }

    pub fn unexpected(error: impl Into<anyhow::Error>) -> Self {
        Self::Unexpected(error.into())
    }

    pub fn code(&self) -> ProblemCode {
        match self {
            Self::Validation(_) => ProblemCode::ValidationError,
            Self::Refused { code, .. } => *code,
            Self::Unauthorized(_) => ProblemCode::Unauthorized,
            Self::NotFound => ProblemCode::NotFound,
            Self::TooManyRequests { .. } => ProblemCode::TooManyRequests,
            Self::Unavailable => ProblemCode::Unavailable,
            Self::Busy { .. } => ProblemCode::Busy,
            Self::PayloadTooLarge => ProblemCode::PayloadTooLarge,
            Self::UnsupportedMediaType => ProblemCode::UnsupportedMediaType,
            Self::Unexpected(_) => ProblemCode::InternalError,
        }
    }

    /// Seconds a client should wait before trying again, for the answers that say so.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            Self::TooManyRequests { retry_after_secs } | Self::Busy { retry_after_secs } => {
                Some(*retry_after_secs)
            }
            _ => None,
        }
    }

    fn detail(&self) -> String {
        match self {
            Self::Validation(errors) => {
                let fields: Vec<&str> = errors.keys().map(String::as_str).collect();
                format!("Some fields are invalid: {}.", fields.join(", "))
            }
            Self::TooManyRequests { retry_after_secs } => {
                format!("Too many attempts; try again in {retry_after_secs} seconds.")
            }
            Self::NotFound => "The resource does not exist.".into(),
            Self::Unavailable => "The service cannot reach its database.".into(),
            Self::Busy { retry_after_secs } => {
                format!("The service is busy; try again in {retry_after_secs} seconds.")
            }
            Self::Unexpected(_) => "Something went wrong on our side; it has been logged.".into(),
            other => other.to_string(),
        }
    }

    pub fn problem(&self) -> Problem {
        let code = self.code();
        Problem::new(
            code,
            self.detail(),
            match self {
                Self::Validation(errors) => Some(errors.clone()),
                _ => None,
            },
        )
    }
}

impl Problem {
    /// A problem document for `code`; its title is the status's standard reason phrase.
    pub fn new(code: ProblemCode, detail: impl Into<String>, errors: Option<FieldErrors>) -> Self {
        let status = code.status();
        Self {
            problem_type: code.uri(),
            title: code.title().to_owned(),
            status,
            detail: detail.into(),
            errors,
        }
    }
}

impl From<sea_orm::DbErr> for ApiError {
    /// A database that cannot be reached (refused, cut, or no connection free in time) is
    /// a 503 the client may retry; anything else is unexpected.
    fn from(error: sea_orm::DbErr) -> Self {
        if unreachable(&error) {
            tracing::warn!(%error, "the database cannot be reached");
            Self::Unavailable
        } else {
            Self::Unexpected(error.into())
        }
    }
}

fn unreachable(error: &sea_orm::DbErr) -> bool {
    use sea_orm::{sqlx::Error as Sqlx, DbErr, RuntimeErr};
    match error {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            matches!(
                **e,
                Sqlx::Io(_)
                    | Sqlx::Tls(_)
                    | Sqlx::Protocol(_)
                    | Sqlx::PoolTimedOut
                    | Sqlx::PoolClosed
                    | Sqlx::WorkerCrashed
            )
        }
        _ => false,
    }
}

impl From<crate::auth::PasswordWorkError> for ApiError {
    fn from(error: crate::auth::PasswordWorkError) -> Self {
        match error {
            crate::auth::PasswordWorkError::Busy => Self::Busy {
                retry_after_secs: crate::auth::BUSY_RETRY_AFTER_SECS,
            },
            crate::auth::PasswordWorkError::Failed(e) => Self::Unexpected(e),
        }
    }
}

impl From<sea_orm::TransactionError<ApiError>> for ApiError {
    fn from(error: sea_orm::TransactionError<ApiError>) -> Self {
        match error {
            sea_orm::TransactionError::Connection(e) => e.into(),
            sea_orm::TransactionError::Transaction(e) => e,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_problem_code_is_listed_once_with_its_own_slug() {
        let mut slugs: Vec<&str> = ProblemCode::ALL.iter().map(|c| c.slug()).collect();
        slugs.sort_unstable();
        slugs.dedup();
        assert_eq!(slugs.len(), ProblemCode::ALL.len());
    }

    #[test]
    fn validation_problem_lists_every_field() {
        let mut errors = FieldErrors::new();
        errors.insert("email".into(), vec!["must be an email address".into()]);
        errors.insert(
            "password".into(),
            vec!["must be 10 to 128 characters".into()],
        );
        let body = serde_json::to_value(ApiError::Validation(errors).problem()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "type": "/problems/validation-error",
                "title": "Unprocessable Entity",
                "status": 422,
                "detail": "Some fields are invalid: email, password.",
                "errors": {
                    "email": ["must be an email address"],
                    "password": ["must be 10 to 128 characters"]
                }
            })
        );
    }

    #[test]
    fn unexpected_errors_reveal_nothing() {
        let error = ApiError::unexpected(anyhow::anyhow!("relation \"users\" does not exist"));
        let body = serde_json::to_string(&error.problem()).unwrap();
        assert!(!body.contains("users"));
        assert!(body.contains("/problems/internal-error"));
    }
}
