//! One error type for every handler, rendered as an RFC 9457 problem document.

use std::collections::BTreeMap;

use actix_web::{
    body::BoxBody,
    dev::ServiceResponse,
    http::{header, StatusCode},
    middleware::ErrorHandlerResponse,
    HttpResponse, ResponseError,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// Field name -> every message about that field.
pub type FieldErrors = BTreeMap<String, Vec<String>>;

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    /// A relative URI naming the kind of problem; stable, safe to branch on.
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Every invalid field with its messages (validation problems only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<FieldErrors>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("the request has invalid fields")]
    Validation(FieldErrors),
    #[error("{detail}")]
    BadRequest { code: &'static str, detail: String },
    #[error("{0}")]
    Unauthorized(&'static str),
    #[error("{detail}")]
    Forbidden { code: &'static str, detail: String },
    #[error("not found")]
    NotFound,
    #[error("{detail}")]
    Conflict { code: &'static str, detail: String },
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

    pub fn unexpected(error: impl Into<anyhow::Error>) -> Self {
        Self::Unexpected(error.into())
    }

    fn code(&self) -> &'static str {
        match self {
            Self::Validation(_) => "validation-error",
            Self::BadRequest { code, .. }
            | Self::Forbidden { code, .. }
            | Self::Conflict { code, .. } => code,
            Self::Unauthorized(_) => "unauthorized",
            Self::NotFound => "not-found",
            Self::TooManyRequests { .. } => "too-many-requests",
            Self::Unavailable => "unavailable",
            Self::Busy { .. } => "busy",
            Self::PayloadTooLarge => "payload-too-large",
            Self::UnsupportedMediaType => "unsupported-media-type",
            Self::Unexpected(_) => "internal-error",
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
        let status = self.status_code();
        Problem {
            problem_type: format!("/problems/{}", self.code()),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: self.detail(),
            errors: match self {
                Self::Validation(errors) => Some(errors.clone()),
                _ => None,
            },
        }
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(error: sea_orm::DbErr) -> Self {
        Self::Unexpected(error.into())
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

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden { .. } => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable | Self::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::Unexpected(error) = self {
            tracing::error!(error = ?error, "request failed");
        }
        let mut response = HttpResponse::build(self.status_code());
        response.content_type(PROBLEM_JSON);
        if let Self::TooManyRequests { retry_after_secs } | Self::Busy { retry_after_secs } = self {
            response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
        }
        if let Self::Unauthorized(_) = self {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        response.json(self.problem())
    }
}

/// A problem for a status that actix produced itself (unknown route, wrong method, ...).
fn problem_for_status(status: StatusCode) -> Problem {
    let (code, detail) = match status {
        StatusCode::NOT_FOUND => ("not-found", "No resource exists at this path."),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method-not-allowed",
            "This path does not support the request method.",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => ("payload-too-large", "The request body is too large."),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "unsupported-media-type",
            "The request body must be application/json.",
        ),
        s if s.is_server_error() => ("internal-error", "Something went wrong on our side."),
        _ => ("bad-request", "The request could not be understood."),
    };
    Problem {
        problem_type: format!("/problems/{code}"),
        title: status.canonical_reason().unwrap_or("Error").to_owned(),
        status: status.as_u16(),
        detail: detail.to_owned(),
        errors: None,
    }
}

/// Replaces any error response that is not already a problem document, so clients see one
/// error format whatever produced the error.
pub fn render_problem<B>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_JSON));
    if is_problem {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let (req, old) = res.into_parts();
    let mut builder = HttpResponse::build(status);
    for (name, value) in old.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            builder.insert_header((name.clone(), value.clone()));
        }
    }
    let body = serde_json::to_string(&problem_for_status(status)).unwrap_or_default();
    let response: HttpResponse<BoxBody> = builder.content_type(PROBLEM_JSON).body(body);
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, response).map_into_right_body::<B>(),
    ))
}

/// Body-level errors from actix's JSON extractor.
pub fn json_payload_error(error: actix_web::error::JsonPayloadError) -> ApiError {
    use actix_web::error::JsonPayloadError as E;
    match error {
        E::OverflowKnownLength { .. } | E::Overflow { .. } => ApiError::PayloadTooLarge,
        E::ContentType => ApiError::UnsupportedMediaType,
        E::Deserialize(e) => ApiError::BadRequest {
            code: "malformed-json",
            detail: format!("The body is not valid JSON: {e}"),
        },
        _ => ApiError::BadRequest {
            code: "bad-request",
            detail: "The request body could not be read.".into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
