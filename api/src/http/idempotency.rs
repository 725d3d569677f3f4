//! `Idempotency-Key` on the POSTs that create things: a phone on a bad connection retries,
//! and the retry must not create a second connection or run a second round. Keys belong to
//! one user for 24 hours. The first request with a key claims it before any work is done;
//! its response (anything but a 5xx or a 429, which a retry should be free to redo) is kept
//! and returned to every retry with the same body. The same key with another body is 422;
//! a retry while the first is still being served is 409.

use actix_web::{
    body::{to_bytes, BoxBody, MessageBody},
    dev::{Payload, ServiceRequest, ServiceResponse},
    http::{header, StatusCode},
    middleware::Next,
    web, FromRequest, HttpResponse, ResponseError,
};
use chrono::Utc;
use uuid::Uuid;

use crate::{
    auth::hash_token,
    error::{ApiError, ProblemCode},
    http::state::AppState,
    store::{entities::idempotency_keys, idempotency},
};

pub const HEADER: &str = "Idempotency-Key";

/// The header as the OpenAPI document describes it.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
pub struct IdempotencyKey {
    /// Any string of up to 255 printable characters, new for each distinct request: a
    /// retry with the same key and body within 24 hours returns the first response (with
    /// `Idempotent-Replayed: true`) and does nothing twice.
    #[param(rename = "Idempotency-Key", min_length = 1, max_length = 255)]
    idempotency_key: Option<String>,
}
/// Set on a response that repeats a kept one.
pub const REPLAYED_HEADER: &str = "Idempotent-Replayed";
const MAX_KEY_LEN: usize = 255;

fn key_of(req: &ServiceRequest) -> Result<Option<String>, ApiError> {
    let Some(raw) = req.headers().get(HEADER) else {
        return Ok(None);
    };
    let bad = || {
        ApiError::field(
            HEADER,
            format!("must be 1 to {MAX_KEY_LEN} printable ASCII characters"),
        )
    };
    let key = raw.to_str().map_err(|_| bad())?.trim();
    if key.is_empty()
        || key.len() > MAX_KEY_LEN
        || !key.bytes().all(|b| b == b' ' || b.is_ascii_graphic())
    {
        return Err(bad());
    }
    Ok(Some(key.to_owned()))
}

async fn caller(req: &ServiceRequest, state: &AppState) -> Option<Uuid> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))?
        .trim()
        .to_owned();
    state
        .jwt
        .verify_access(&token)
        .await
        .map(|claims| claims.sub)
}

fn problem(req: ServiceRequest, error: ApiError) -> ServiceResponse<BoxBody> {
    let response = error.error_response();
    req.into_response(response).map_into_boxed_body()
}

fn kept(row: &idempotency_keys::Model) -> Option<HttpResponse> {
    let status = StatusCode::from_u16(u16::try_from(row.status?).ok()?).ok()?;
    let content_type = if status.is_success() {
        "application/json"
    } else {
        "application/problem+json"
    };
    Some(
        HttpResponse::build(status)
            .content_type(content_type)
            .insert_header((REPLAYED_HEADER, "true"))
            .body(row.body.clone().unwrap_or_default()),
    )
}

fn in_use() -> ApiError {
    ApiError::refused(
        ProblemCode::IdempotencyKeyInUse,
        "A request with this Idempotency-Key is still being served; retry shortly.",
    )
}

/// The middleware for the resources that honour the header.
pub async fn keyed(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if req.method() != actix_web::http::Method::POST {
        return next.call(req).await.map(|r| r.map_into_boxed_body());
    }
    let key = match key_of(&req) {
        Ok(Some(key)) => key,
        Ok(None) => return next.call(req).await.map(|r| r.map_into_boxed_body()),
        Err(error) => return Ok(problem(req, error)),
    };
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return next.call(req).await.map(|r| r.map_into_boxed_body());
    };
    // Without a valid caller the handler answers 401 on its own; nothing is kept.
    let Some(user_id) = caller(&req, &state).await else {
        return next.call(req).await.map(|r| r.map_into_boxed_body());
    };
    let (http_req, mut payload) = req.into_parts();
    let body = web::Bytes::from_request(&http_req, &mut payload).await?;
    let operation = format!("{} {}", http_req.method(), http_req.path());
    let request_hash = hash_token(&format!("{operation}\n{}", String::from_utf8_lossy(&body)));
    req = ServiceRequest::from_parts(http_req, Payload::from(body));

    let db = &state.db;
    let now = Utc::now();
    match idempotency::claim(db, user_id, &key, &operation, &request_hash, now).await {
        Ok(idempotency::Claim::Ours) => {}
        Ok(idempotency::Claim::Released) => return Ok(problem(req, in_use())),
        Ok(idempotency::Claim::Kept(row)) => {
            if row.request_hash != request_hash {
                return Ok(problem(
                    req,
                    ApiError::field(
                        HEADER,
                        "was already used with a different request; use a new key",
                    ),
                ));
            }
            return match kept(&row) {
                Some(response) => Ok(req.into_response(response)),
                None => Ok(problem(req, in_use())),
            };
        }
        Err(error) => return Ok(problem(req, error.into())),
    }

    let response = match next.call(req).await {
        Ok(response) => response,
        Err(error) => {
            idempotency::release(db, user_id, &key).await;
            return Err(error);
        }
    };
    let status = response.status();
    let (http_req, response) = response.into_parts();
    let (head, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body).await else {
        idempotency::release(db, user_id, &key).await;
        return Ok(ServiceResponse::new(
            http_req,
            ApiError::unexpected(anyhow::anyhow!("cannot read the response to keep it"))
                .error_response(),
        ));
    };
    if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
        idempotency::release(db, user_id, &key).await;
    } else {
        let body = String::from_utf8_lossy(&bytes).into_owned();
        let completed = idempotency::complete(db, user_id, &key, status.as_u16(), body).await;
        if let Err(error) = completed {
            tracing::warn!(%error, "cannot keep the response for an idempotency key");
        }
    }
    Ok(ServiceResponse::new(
        http_req,
        head.set_body(BoxBody::new(bytes)),
    ))
}
