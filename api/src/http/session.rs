//! Sessions for the web app: the same sign-in, refresh and sign-out as `/auth/login`,
//! `/auth/refresh` and `/auth/logout` (the same account services), but the
//! refresh token travels only in an HttpOnly, SameSite=Strict cookie scoped to
//! `/api/v1/auth/session`, so that page script never sees it. The access token is returned
//! in the body and kept in memory by the app.

use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    error::ApiError,
    http::{
        accounts::{
            append_cookie, read_cookie, set_device_cookie, sign_in_with_password, LoginRequest,
            PasswordTurn,
        },
        extract::Valid,
        problem::{failures, Fails},
        state::AppState,
    },
    service::accounts::{self, TokenPair},
    store::tokens::REFRESH_TOKEN_TTL_DAYS,
};

pub const SESSION_COOKIE: &str = "alongside_session";
const SESSION_PATH: &str = "/api/v1/auth/session";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/auth/session")
            .post(sign_in)
            .delete(sign_out),
    )
    .service(web::resource("/auth/session/refresh").post(refresh_session));
}

/// An access token for the `Authorization: Bearer` header; the refresh token is in the
/// session cookie.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct SessionToken {
    /// A JWT for the `Authorization: Bearer` header.
    pub access_token: String,
    #[schema(example = "Bearer")]
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
}

/// `Secure` unless the service is reached over plain http at an address that is not this
/// machine (browsers keep `Secure` cookies from `http://localhost` too).
fn secure(state: &AppState) -> bool {
    let Ok(url) = url::Url::parse(&state.config.public_url) else {
        return true;
    };
    url.scheme() == "https"
        || matches!(
            url.host_str(),
            Some("localhost" | "127.0.0.1" | "[::1]") | None
        )
}

fn cookie(state: &AppState, value: &str, max_age: i64) -> String {
    let secure = if secure(state) { "; Secure" } else { "" };
    format!(
        "{SESSION_COOKIE}={value}; Max-Age={max_age}; Path={SESSION_PATH}; HttpOnly; SameSite=Strict{secure}"
    )
}

fn clear_cookie(state: &AppState) -> String {
    cookie(state, "", 0)
}

fn session_response(state: &AppState, pair: TokenPair) -> HttpResponse {
    let max_age = REFRESH_TOKEN_TTL_DAYS * 24 * 3600;
    let mut response = HttpResponse::Ok().json(SessionToken {
        access_token: pair.access_token,
        token_type: pair.token_type,
        expires_in: pair.expires_in,
    });
    append_cookie(&mut response, &cookie(state, &pair.refresh_token, max_age));
    response
}

failures!(SignInFailures {
    Unauthorized: "Unknown email or wrong password (one message for both)",
    AccountSuspended: "The account is suspended",
    TooManyRequests: "Too many failed attempts, or too many requests from this address",
    Busy: "Every password worker is busy; try again after `Retry-After` seconds",
});

/// Signs in with email and password, as `/auth/login` does (the same limits and device
/// cookie), keeping the refresh token in the session cookie.
#[utoipa::path(
    post, path = "/api/v1/auth/session", tag = "auth",
    request_body = LoginRequest,
    params(
        ("alongside_device" = Option<String>, Cookie, description = "The device cookie set by an earlier successful sign-in to this account"),
    ),
    responses(
        (status = 200, description = "Signed in", body = SessionToken,
            headers(("Set-Cookie" = String, description = "`alongside_session`: the refresh token; HttpOnly, SameSite=Strict, Path=/api/v1/auth/session, 30 days; Secure unless the service is served over plain http at an address other than localhost. Also `alongside_device`, as for `/auth/login`"))),
        SignInFailures,
    )
)]
pub async fn sign_in(
    state: web::Data<AppState>,
    req: HttpRequest,
    PasswordTurn(turn): PasswordTurn,
    Valid(body): Valid<LoginRequest>,
) -> Result<HttpResponse, Fails<SignInFailures>> {
    let signed_in = sign_in_with_password(&state, &req, turn, body).await?;
    let mut response = session_response(&state, signed_in.tokens);
    append_cookie(&mut response, &set_device_cookie(&state, &signed_in.device));
    Ok(response)
}

/// A new access token for the refresh token in the session cookie, which is rotated as at
/// `/auth/refresh` (a spent one revokes its whole sign-in). Without a valid cookie: 401, and
/// the cookie is cleared.
#[utoipa::path(
    post, path = "/api/v1/auth/session/refresh", tag = "auth",
    params(
        ("alongside_session" = Option<String>, Cookie, description = "The session cookie set at sign-in"),
    ),
    responses(
        (status = 200, description = "A new access token; the session cookie holds a new refresh token", body = SessionToken,
            headers(("Set-Cookie" = String, description = "`alongside_session`, rotated"))),
        (status = 401, description = "No session cookie, or its refresh token is invalid, expired, revoked or already used (`/problems/unauthorized`)", body = crate::error::Problem, content_type = "application/problem+json",
            headers(("Set-Cookie" = String, description = "`alongside_session`, cleared"))),
    )
)]
pub async fn refresh_session(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let outcome = match read_cookie(&req, SESSION_COOKIE) {
        Some(refresh_token) => accounts::refresh(&state, &refresh_token).await,
        None => Err(ApiError::Unauthorized("You are not signed in.")),
    };
    match outcome {
        Ok(pair) => Ok(session_response(&state, pair)),
        Err(error) => {
            let mut response = error.error_response();
            append_cookie(&mut response, &clear_cookie(&state));
            Ok(response)
        }
    }
}

/// Signs out: the session's refresh token and every token descended from the same sign-in
/// stop working, and the cookie is cleared. Answers the same without a cookie.
#[utoipa::path(
    delete, path = "/api/v1/auth/session", tag = "auth",
    params(
        ("alongside_session" = Option<String>, Cookie, description = "The session cookie set at sign-in"),
    ),
    responses(
        (status = 204, description = "Signed out",
            headers(("Set-Cookie" = String, description = "`alongside_session`, cleared"))),
    )
)]
pub async fn sign_out(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    if let Some(refresh_token) = read_cookie(&req, SESSION_COOKIE) {
        accounts::sign_out(&state, &refresh_token).await?;
    }
    let mut response = HttpResponse::NoContent().finish();
    append_cookie(&mut response, &clear_cookie(&state));
    Ok(response)
}
