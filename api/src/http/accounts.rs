//! Registration, email verification, sign-in, token refresh, sign-out and password reset.

use actix_web::{dev::Payload, http::header, web, FromRequest, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    auth,
    domain::{DisplayName, Email, FieldParser, Password},
    error::ApiError,
    http::problem::{failures, Fails},
    http::{
        extract::{ParseBody, Valid},
        state::AppState,
    },
    service::accounts::{self, Registration, TokenPair},
    store::login_failures,
};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/auth")
            .service(web::resource("/register").post(register))
            .service(web::resource("/verify-email").post(verify_email))
            .service(web::resource("/login").post(login))
            .service(web::resource("/refresh").post(refresh))
            .service(web::resource("/logout").post(logout))
            .service(web::resource("/password-reset").post(password_reset))
            .service(web::resource("/password-reset/confirm").post(password_reset_confirm)),
    );
}

#[derive(Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct RegisterRequest {
    #[schema(required = true, format = Email, max_length = 254, example = "sam@example.org")]
    pub email: String,
    #[schema(required = true, min_length = 10, max_length = 128)]
    pub password: String,
    #[schema(required = true, schema_with = crate::domain::profile::display_name_schema)]
    pub display_name: String,
}

impl ParseBody for RegisterRequest {
    type Parsed = Registration;

    fn parse(self, fields: &mut FieldParser) -> Option<Registration> {
        let email = fields.field("email", Email::parse(&self.email));
        let password = fields.field("password", Password::parse(self.password));
        let display_name = fields.field("display_name", DisplayName::parse(&self.display_name));
        Some(Registration {
            email: email?,
            password: password?,
            display_name: display_name?,
        })
    }
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct RegisterResponse {
    pub user_id: Uuid,
    pub email: String,
    pub email_verified: bool,
}

#[derive(Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct TokenRequest {
    /// The token from the emailed link.
    #[schema(required = true, max_length = 200)]
    pub token: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct VerifyEmailResponse {
    pub email_verified: bool,
}

#[derive(Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct LoginRequest {
    #[schema(required = true, max_length = 254)]
    pub email: String,
    #[schema(required = true, max_length = 1024)]
    pub password: String,
}

#[derive(Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct RefreshRequest {
    #[schema(required = true, max_length = 200)]
    pub refresh_token: String,
}

#[derive(Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct PasswordResetRequest {
    #[schema(required = true, max_length = 254)]
    pub email: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct Accepted {
    #[schema(example = "accepted")]
    pub status: String,
}

#[derive(Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct PasswordResetConfirmRequest {
    #[schema(required = true, max_length = 200)]
    pub token: String,
    #[schema(required = true, min_length = 10, max_length = 128)]
    pub new_password: String,
}

pub struct PasswordResetConfirmation {
    token: String,
    new_password: Password,
}

impl ParseBody for PasswordResetConfirmRequest {
    type Parsed = PasswordResetConfirmation;

    fn parse(self, fields: &mut FieldParser) -> Option<PasswordResetConfirmation> {
        let new_password = fields.field("new_password", Password::parse(self.new_password));
        Some(PasswordResetConfirmation {
            token: self.token,
            new_password: new_password?,
        })
    }
}

crate::http::extract::opaque_body!(
    TokenRequest,
    LoginRequest,
    RefreshRequest,
    PasswordResetRequest
);

#[derive(Serialize, Deserialize, ToSchema)]
pub struct PasswordResetDone {
    pub password_reset: bool,
}

pub(crate) async fn limit_by_ip(state: &AppState, req: &HttpRequest) -> Result<(), ApiError> {
    let Some(client) = state.ip_limiter.client(req) else {
        return Ok(());
    };
    state
        .ip_limiter
        .check(&state.db, client)
        .await?
        .map_err(|retry_after_secs| ApiError::TooManyRequests { retry_after_secs })
}

/// The cookie by which a client that signed in to an account before is recognised
/// (OWASP's device cookie): its failed sign-ins have their own budget, so a stranger's
/// failures never lock the owner out.
pub const DEVICE_COOKIE: &str = "alongside_device";
const DEVICE_COOKIE_PATH: &str = "/api/v1/auth";

/// The value of the request's cookie `name`, when it is a token of a sane shape.
pub(crate) fn read_cookie(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(cookie, _)| *cookie == name)
        .map(|(_, value)| value.trim().trim_matches('"'))
        .filter(|value| {
            (1..=200).contains(&value.len())
                && value
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        })
        .map(str::to_owned)
}

/// Adds a `Set-Cookie` to a response that may already carry others.
pub(crate) fn append_cookie(response: &mut HttpResponse, cookie: &str) {
    if let Ok(value) = header::HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

/// A sign-in with email and password, counted against the client's address and, through
/// its device cookie, against the account's budget of failures.
pub(crate) async fn sign_in_with_password(
    state: &AppState,
    req: &HttpRequest,
    turn: auth::Admission,
    body: LoginRequest,
) -> Result<accounts::SignedIn, ApiError> {
    limit_by_ip(state, req).await?;
    let device = read_cookie(req, DEVICE_COOKIE);
    accounts::sign_in(state, turn, &body.email, body.password, device).await
}

pub(crate) fn set_device_cookie(state: &AppState, token: &str) -> String {
    let max_age = login_failures::DEVICE_TTL_DAYS * 24 * 3600;
    let secure = if state.config.public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    format!(
        "{DEVICE_COOKIE}={token}; Max-Age={max_age}; Path={DEVICE_COOKIE_PATH}; HttpOnly; SameSite=Strict{secure}"
    )
}

/// A place in the password pool, taken before the request body is even read: when the pool
/// is full the request is refused at once, before it costs anything else (and, for a
/// sign-in, before it is counted as an attempt).
pub struct PasswordTurn(pub auth::Admission);

impl FromRequest for PasswordTurn {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(match req.app_data::<web::Data<AppState>>() {
            Some(state) => state
                .passwords
                .admit()
                .map(PasswordTurn)
                .map_err(ApiError::from),
            None => Err(ApiError::unexpected(anyhow::anyhow!("no state"))),
        })
    }
}

failures!(RegisterFailures {
    EmailTaken: "The email is already registered",
    TooManyRequests: "Too many attempts from this address",
    Busy: "Every password worker is busy; try again after `Retry-After` seconds",
});

/// Creates an account and emails a verification link.
#[utoipa::path(
    post, path = "/api/v1/auth/register", tag = "auth",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "Account created; a verification email is on its way", body = RegisterResponse),
        RegisterFailures,
    )
)]
pub async fn register(
    state: web::Data<AppState>,
    req: HttpRequest,
    PasswordTurn(turn): PasswordTurn,
    Valid(body): Valid<RegisterRequest>,
) -> Result<HttpResponse, Fails<RegisterFailures>> {
    limit_by_ip(&state, &req).await?;
    let user = accounts::register(&state, turn, body).await?;
    Ok(HttpResponse::Created().json(RegisterResponse {
        user_id: user.id,
        email: user.email,
        email_verified: false,
    }))
}

failures!(VerifyEmailFailures {
    InvalidToken: "The token is invalid, expired or used",
});

/// Confirms an email address with the token from the verification link.
#[utoipa::path(
    post, path = "/api/v1/auth/verify-email", tag = "auth",
    request_body = TokenRequest,
    responses(
        (status = 200, description = "The email is verified", body = VerifyEmailResponse),
        VerifyEmailFailures,
    )
)]
pub async fn verify_email(
    state: web::Data<AppState>,
    Valid(body): Valid<TokenRequest>,
) -> Result<HttpResponse, Fails<VerifyEmailFailures>> {
    accounts::verify_email(&state, &body.token).await?;
    Ok(HttpResponse::Ok().json(VerifyEmailResponse {
        email_verified: true,
    }))
}

failures!(LoginFailures {
    Unauthorized: "Unknown email or wrong password (one message for both)",
    AccountSuspended: "The account is suspended",
    TooManyRequests: "Too many failed attempts for this account from clients it does not know (or from this device), or too many requests from this address",
    Busy: "Every password worker is busy; try again after `Retry-After` seconds",
});

/// Signs in with email and password.
///
/// A successful sign-in sets a device cookie: sign-ins that present it have their own
/// budget of failed attempts (5 in 15 minutes), so failures from other clients, which share
/// the account's budget (10 in 15 minutes), never lock this one out.
#[utoipa::path(
    post, path = "/api/v1/auth/login", tag = "auth",
    request_body = LoginRequest,
    params(
        ("alongside_device" = Option<String>, Cookie, description = "The device cookie set by an earlier successful sign-in to this account"),
    ),
    responses(
        (status = 200, description = "Signed in", body = TokenPair,
            headers(("Set-Cookie" = String, description = "`alongside_device`: HttpOnly, SameSite=Strict, Path=/api/v1/auth, 180 days; Secure when the service is served over https"))),
        LoginFailures,
    )
)]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    PasswordTurn(turn): PasswordTurn,
    Valid(body): Valid<LoginRequest>,
) -> Result<HttpResponse, Fails<LoginFailures>> {
    let signed_in = sign_in_with_password(&state, &req, turn, body).await?;
    let mut response = HttpResponse::Ok().json(signed_in.tokens);
    append_cookie(&mut response, &set_device_cookie(&state, &signed_in.device));
    Ok(response)
}

failures!(RefreshFailures {
    Unauthorized: "The refresh token is invalid, expired, revoked or already used",
});

/// Exchanges a refresh token for a new pair. Each refresh token works once; presenting a
/// spent one again revokes every token descended from the same sign-in.
#[utoipa::path(
    post, path = "/api/v1/auth/refresh", tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new token pair", body = TokenPair),
        RefreshFailures,
    )
)]
pub async fn refresh(
    state: web::Data<AppState>,
    Valid(body): Valid<RefreshRequest>,
) -> Result<HttpResponse, Fails<RefreshFailures>> {
    let pair: TokenPair = accounts::refresh(&state, &body.refresh_token).await?;
    Ok(HttpResponse::Ok().json(pair))
}

/// Signs out: the refresh token and every token descended from the same sign-in stop
/// working. Unknown tokens are accepted silently.
#[utoipa::path(
    post, path = "/api/v1/auth/logout", tag = "auth",
    request_body = RefreshRequest,
    responses((status = 204, description = "Signed out"))
)]
pub async fn logout(
    state: web::Data<AppState>,
    Valid(body): Valid<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    accounts::sign_out(&state, &body.refresh_token).await?;
    Ok(HttpResponse::NoContent().finish())
}

failures!(PasswordResetFailures {
    TooManyRequests: "Too many requests from this address",
});

/// Emails a password reset link when the account exists; answers the same either way.
#[utoipa::path(
    post, path = "/api/v1/auth/password-reset", tag = "auth",
    request_body = PasswordResetRequest,
    responses(
        (status = 202, description = "If the account exists, a reset email is on its way", body = Accepted),
        PasswordResetFailures,
    )
)]
pub async fn password_reset(
    state: web::Data<AppState>,
    req: HttpRequest,
    Valid(body): Valid<PasswordResetRequest>,
) -> Result<HttpResponse, Fails<PasswordResetFailures>> {
    limit_by_ip(&state, &req).await?;
    accounts::request_password_reset(&state, &body.email).await?;
    Ok(HttpResponse::Accepted().json(Accepted {
        status: "accepted".into(),
    }))
}

failures!(PasswordResetConfirmFailures {
    InvalidToken: "The token is invalid, expired or used",
    Busy: "Every password worker is busy; the token is still valid, try again after `Retry-After` seconds",
});

/// Sets a new password with the token from the reset link and signs out every session.
///
/// It works whatever the account's sign-in lock-out, and ends it.
#[utoipa::path(
    post, path = "/api/v1/auth/password-reset/confirm", tag = "auth",
    request_body = PasswordResetConfirmRequest,
    responses(
        (status = 200, description = "The password is changed, every refresh token and device cookie revoked, and the sign-in lock-out ended", body = PasswordResetDone),
        PasswordResetConfirmFailures,
    )
)]
pub async fn password_reset_confirm(
    state: web::Data<AppState>,
    Valid(body): Valid<PasswordResetConfirmRequest>,
) -> Result<HttpResponse, Fails<PasswordResetConfirmFailures>> {
    accounts::reset_password(&state, &body.token, body.new_password).await?;
    Ok(HttpResponse::Ok().json(PasswordResetDone {
        password_reset: true,
    }))
}
