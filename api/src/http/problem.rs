//! Errors as RFC 9457 problem documents: the services' [`ApiError`], and the errors actix
//! produces itself (unknown route, wrong method, unreadable body).

use std::collections::BTreeMap;

use actix_web::{
    body::BoxBody,
    dev::ServiceResponse,
    http::{header, StatusCode},
    middleware::ErrorHandlerResponse,
    HttpResponse, ResponseError,
};

use utoipa::openapi::{
    header::HeaderBuilder,
    schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type},
    ContentBuilder, Ref, RefOr, Response, ResponseBuilder,
};

use crate::error::{ApiError, Problem, ProblemCode, PROBLEM_JSON};

/// What one operation can refuse with, for its `responses(...)`: each line names the
/// problem codes of one status and says when, e.g.
///
/// ```ignore
/// failures!(AcceptFailures {
///     NotYourMove: "Only the recipient can accept",
///     InvalidStatus | MentorFull: "Not pending, or the mentor has no free slot left",
/// });
/// ```
macro_rules! failures {
    ($name:ident { $($($code:ident)|+ : $description:literal),+ $(,)? }) => {
        pub struct $name;

        impl $crate::http::problem::FailureSet for $name {
            const CODES: &'static [$crate::error::ProblemCode] =
                &[$($($crate::error::ProblemCode::$code),+),+];
        }

        impl utoipa::IntoResponses for $name {
            fn responses() -> std::collections::BTreeMap<
                String,
                utoipa::openapi::RefOr<utoipa::openapi::response::Response>,
            > {
                $crate::http::problem::responses(&[
                    $((&[$($crate::error::ProblemCode::$code),+], $description)),+
                ])
            }
        }
    };
}
pub(crate) use failures;

/// The problem codes one operation documents (written by [`failures!`]).
pub trait FailureSet {
    const CODES: &'static [ProblemCode];
}

/// What any operation can answer besides its own set, documented for every operation by
/// the document's common responses: a bad access token, a field the service refuses, a
/// resource that is not the caller's, and the service's own trouble.
const ALWAYS: [ProblemCode; 5] = [
    ProblemCode::Unauthorized,
    ProblemCode::ValidationError,
    ProblemCode::NotFound,
    ProblemCode::InternalError,
    ProblemCode::Unavailable,
];

/// A handler's error, typed by the failures it documents: `Result<HttpResponse,
/// Fails<AcceptFailures>>` says in the signature what `accept` can refuse with. An answer
/// outside the set is a gap in the document; debug builds (and so the tests) stop on it.
pub struct Fails<F>(ApiError, std::marker::PhantomData<F>);

impl<F> From<ApiError> for Fails<F> {
    fn from(error: ApiError) -> Self {
        Self(error, std::marker::PhantomData)
    }
}

impl<F> From<sea_orm::DbErr> for Fails<F> {
    fn from(error: sea_orm::DbErr) -> Self {
        ApiError::from(error).into()
    }
}

impl<F> std::fmt::Debug for Fails<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl<F> std::fmt::Display for Fails<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl<F: FailureSet> ResponseError for Fails<F> {
    fn status_code(&self) -> StatusCode {
        self.0.status_code()
    }

    fn error_response(&self) -> HttpResponse {
        let code = self.0.code();
        if !F::CODES.contains(&code) && !ALWAYS.contains(&code) {
            tracing::error!(
                problem = code.slug(),
                "an operation answered a problem it does not document"
            );
            debug_assert!(false, "undocumented problem {}", code.slug());
        }
        self.0.error_response()
    }
}

/// The documented responses of a failure set: one per status, naming its problem types,
/// with `Retry-After` where the answer carries it.
pub fn responses(lines: &[(&[ProblemCode], &str)]) -> BTreeMap<String, RefOr<Response>> {
    let mut documented = BTreeMap::new();
    for (codes, description) in lines {
        let Some(first) = codes.first() else { continue };
        let types: Vec<String> = codes.iter().map(|c| format!("`{}`", c.uri())).collect();
        let mut response = ResponseBuilder::new()
            .description(format!("{description} ({})", types.join(", ")))
            .content(
                PROBLEM_JSON,
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Problem")))
                    .build(),
            );
        if codes.iter().any(|c| c.retries_after()) {
            let seconds = ObjectBuilder::new()
                .schema_type(Type::Integer)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
                .minimum(Some(0));
            response = response.header(
                "Retry-After",
                HeaderBuilder::new()
                    .schema(seconds)
                    .description(Some("Seconds to wait"))
                    .build(),
            );
        }
        documented.insert(first.status().to_string(), RefOr::T(response.build()));
    }
    documented
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.code().status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::Unexpected(error) = self {
            tracing::error!(error = ?error, "request failed");
        }
        let mut response = HttpResponse::build(self.status_code());
        response.content_type(PROBLEM_JSON);
        if let Some(seconds) = self.retry_after_secs() {
            response.insert_header((header::RETRY_AFTER, seconds.to_string()));
        }
        if let Self::Unauthorized(_) = self {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        response.json(self.problem())
    }
}

/// A problem for a status that actix produced itself (unknown route, wrong method, ...).
fn problem_for_status(status: StatusCode) -> Problem {
    let code = match status {
        StatusCode::NOT_FOUND => ProblemCode::NotFound,
        StatusCode::METHOD_NOT_ALLOWED => ProblemCode::MethodNotAllowed,
        StatusCode::PAYLOAD_TOO_LARGE => ProblemCode::PayloadTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ProblemCode::UnsupportedMediaType,
        s if s.is_server_error() => ProblemCode::InternalError,
        _ => ProblemCode::BadRequest,
    };
    let detail = match code {
        ProblemCode::NotFound => "No resource exists at this path.",
        ProblemCode::MethodNotAllowed => "This path does not support the request method.",
        ProblemCode::InternalError => "Something went wrong on our side.",
        other => other.meaning(),
    };
    Problem {
        status: status.as_u16(),
        title: status.canonical_reason().unwrap_or("Error").to_owned(),
        ..Problem::new(code, detail, None)
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
        E::Deserialize(e) => ApiError::refused(
            ProblemCode::MalformedJson,
            format!("The body is not valid JSON: {e}"),
        ),
        _ => ApiError::refused(
            ProblemCode::BadRequest,
            "The request body could not be read.",
        ),
    }
}
