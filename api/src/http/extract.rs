//! Extractors: a JSON body parsed into domain values before a handler sees it, and the
//! signed-in user.

use actix_web::{dev::Payload, http::header, web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;
use utoipa::{
    openapi::{RefOr, Schema},
    ToSchema,
};

use crate::{
    domain::FieldParser,
    error::{ApiError, FieldErrors},
    http::state::AppState,
    store::users::{self, User},
};

/// A request body: its wire form (`Self`, deserialised with defaults for missing fields)
/// and the domain value it parses into.
pub trait ParseBody: DeserializeOwned + ToSchema + 'static {
    type Parsed;

    /// Parses every field, recording each problem in `fields`; `None` when any was bad.
    fn parse(self, fields: &mut FieldParser) -> Option<Self::Parsed>;
}

/// Bodies of opaque strings (tokens, credentials) that are checked where they are used.
macro_rules! opaque_body {
    ($($body:ty),+ $(,)?) => {$(
        impl $crate::http::extract::ParseBody for $body {
            type Parsed = Self;

            fn parse(self, _: &mut $crate::domain::FieldParser) -> Option<Self> {
                Some(self)
            }
        }
    )+};
}
pub(crate) use opaque_body;

/// A local time of a body's `field`, `YYYY-MM-DDTHH:MM`.
pub fn local_time(field: &str, raw: &str) -> Result<chrono::NaiveDateTime, crate::error::ApiError> {
    chrono::NaiveDateTime::parse_from_str(raw.trim(), "%Y-%m-%dT%H:%M").map_err(|_| {
        crate::error::ApiError::field(field, "must be a local time like 2027-01-14T18:00")
    })
}

/// A JSON object body. Syntax errors are 400; missing fields, values of the wrong type and
/// values out of bounds are one 422 that names every bad field it can.
pub struct Valid<T: ParseBody>(pub T::Parsed);

impl<T: ParseBody> FromRequest for Valid<T> {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let json = web::Json::<serde_json::Value>::from_request(req, payload);
        Box::pin(async move {
            let value = json.await?.into_inner();
            Ok(Valid(parse_value::<T>(value)?))
        })
    }
}

pub fn parse_value<T: ParseBody>(value: serde_json::Value) -> Result<T::Parsed, ApiError> {
    let Some(object) = value.as_object() else {
        return Err(ApiError::field("body", "must be a JSON object"));
    };
    let schema = match T::schema() {
        RefOr::T(Schema::Object(schema)) => Some(schema),
        _ => None,
    };
    let mut missing: FieldErrors = schema
        .iter()
        .flat_map(|s| s.required.iter())
        .filter(|name| object.get(*name).is_none_or(serde_json::Value::is_null))
        .map(|name| (name.clone(), vec!["is required".to_owned()]))
        .collect();
    if let Some(schema) = &schema {
        check_string_lengths(schema, object, &mut missing);
    }
    let wire: T = serde_path_to_error::deserialize(value).map_err(|error| {
        let path = error.path().to_string();
        let message = error.inner().to_string();
        let missing_field = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next());
        let field = match (path.as_str(), missing_field) {
            (".", Some(name)) => name.to_owned(),
            (".", None) => "body".to_owned(),
            (_, Some(name)) => format!("{path}.{name}"),
            (_, None) => path,
        };
        let mut errors = missing.clone();
        errors.entry(field).or_default().push(message);
        ApiError::Validation(errors)
    })?;
    let mut fields = FieldParser::from_errors(missing);
    match wire.parse(&mut fields) {
        Some(parsed) if fields.is_clean() => Ok(parsed),
        _ => Err(fields.into_error()),
    }
}

/// Holds every top-level string to the lengths its schema declares, so that the document
/// and the behaviour cannot drift apart. Lengths are in characters, as in JSON Schema.
fn check_string_lengths(
    schema: &utoipa::openapi::schema::Object,
    object: &serde_json::Map<String, serde_json::Value>,
    errors: &mut FieldErrors,
) {
    for (name, property) in &schema.properties {
        let (RefOr::T(Schema::Object(property)), Some(serde_json::Value::String(value))) =
            (property, object.get(name))
        else {
            continue;
        };
        let chars = value.chars().count();
        let too_long = property.max_length.is_some_and(|max| chars > max);
        let too_short = property.min_length.is_some_and(|min| chars < min);
        if too_long || too_short {
            let message = match (property.min_length, property.max_length) {
                (Some(min), Some(max)) => format!("must be {min} to {max} characters"),
                (None, Some(max)) => format!("must be at most {max} characters"),
                (Some(min), None) => format!("must be at least {min} characters"),
                (None, None) => continue,
            };
            errors.entry(name.clone()).or_default().push(message);
        }
    }
}

/// The caller, from a valid access token, re-read from storage so that a suspended or
/// erased account stops working at once.
pub struct AuthUser(pub User);

impl AuthUser {
    pub fn id(&self) -> uuid::Uuid {
        self.0.id
    }
}

impl FromRequest for AuthUser {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let subject = token_subject(req);
        Box::pin(async move {
            let (state, id) = subject.await?;
            Ok(AuthUser(account(&state, id).await?))
        })
    }
}

fn unauthorized() -> ApiError {
    ApiError::Unauthorized("A valid access token is required.")
}

/// The app's state and the account named by the request's verified access token.
fn token_subject(
    req: &HttpRequest,
) -> LocalBoxFuture<'static, Result<(web::Data<AppState>, uuid::Uuid), ApiError>> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let token = bearer(req);
    Box::pin(async move {
        let state = state.ok_or_else(|| ApiError::unexpected(anyhow::anyhow!("no state")))?;
        let token = token.ok_or_else(unauthorized)?;
        let claims = state
            .jwt
            .verify_access(&token)
            .await
            .ok_or_else(unauthorized)?;
        Ok((state, claims.sub))
    })
}

/// The account, read from storage, unless it is gone or suspended.
async fn account(state: &AppState, id: uuid::Uuid) -> Result<users::User, ApiError> {
    users::find_by_id(&state.reads, id)
        .await
        .map_err(ApiError::from)?
        .filter(|u| !u.suspended)
        .ok_or_else(unauthorized)
}

/// The signed-in caller's id, for the read paths served from the live index (suggestions,
/// the directory). The token is checked as for [`AuthUser`]; the account's standing comes
/// from the index's card of the caller, which this instance's writes update as they commit
/// and other instances' at the next poll (within seconds). A caller the index does not hold
/// (no profile yet, or erased) is looked up in storage as [`AuthUser`] does.
pub struct Caller(pub uuid::Uuid);

impl FromRequest for Caller {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let subject = token_subject(req);
        Box::pin(async move {
            let (state, id) = subject.await?;
            match state.index.card(id) {
                Some(card) if card.suspended => Err(unauthorized().into()),
                Some(_) => Ok(Caller(id)),
                None => Ok(Caller(account(&state, id).await?.id)),
            }
        })
    }
}

/// The bearer token of a request, if it has one.
fn bearer(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_owned())
}

/// A whole number from 1 to `max` (or `default` when absent), else a field problem.
pub fn number(field: &str, raw: Option<&str>, max: u32, default: u32) -> Result<u32, ApiError> {
    match raw {
        None => Ok(default),
        Some(raw) => match raw.trim().parse::<u32>() {
            Ok(v) if (1..=max).contains(&v) => Ok(v),
            _ => Err(ApiError::field(
                field,
                format!("must be a whole number from 1 to {max}"),
            )),
        },
    }
}

/// The offset a `next_cursor` of this API carries (0 when absent), else a field problem.
pub fn offset_cursor(raw: Option<&str>) -> Result<u64, ApiError> {
    match raw {
        Some(raw) => Some(raw)
            .filter(|r| r.len() <= 9 && r.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|r| r.parse::<u64>().ok())
            .ok_or_else(|| ApiError::field("cursor", "is not a cursor this API issued")),
        None => Ok(0),
    }
}
