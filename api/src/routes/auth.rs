//! Registration, email verification, sign-in, token refresh, sign-out and password reset.

use actix_web::{dev::Payload, http::header, web, FromRequest, HttpRequest, HttpResponse};
use sea_orm::TransactionTrait;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    auth::{self, ACCESS_TOKEN_TTL_SECS},
    domain::{DisplayName, Email, FieldParser, Password},
    email::templates,
    error::ApiError,
    extract::{ParseBody, Valid},
    state::AppState,
    store::{
        login_failures::{self, Attempt},
        outbox,
        tokens::{self, EmailTokenPurpose, Rotation},
        users::{self, NewUser, User},
    },
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

pub struct Registration {
    email: Email,
    password: Password,
    display_name: DisplayName,
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

#[derive(Serialize, Deserialize, ToSchema)]
pub struct TokenPair {
    /// A JWT for the `Authorization: Bearer` header.
    pub access_token: String,
    #[schema(example = "Bearer")]
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// Opaque; exchange it at `/auth/refresh` for a new pair. Single use.
    pub refresh_token: String,
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

crate::extract::opaque_body!(
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

fn device_cookie(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == DEVICE_COOKIE)
        .map(|(_, value)| value.trim().trim_matches('"'))
        .filter(|value| {
            (1..=100).contains(&value.len())
                && value
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map(str::to_owned)
}

fn set_device_cookie(state: &AppState, token: &str) -> String {
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
pub struct PasswordTurn(auth::Admission);

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

/// Which failure budget a sign-in attempt was counted against.
enum Budget {
    /// The account's budget for clients it does not know.
    Account,
    /// The budget of this device cookie of the account.
    Device(String),
}

fn wrong_credentials() -> ApiError {
    ApiError::Unauthorized("The email or password is not correct.")
}

fn bad_token() -> ApiError {
    ApiError::BadRequest {
        code: "invalid-token",
        detail: "The link is invalid, has expired, or has already been used.".into(),
    }
}

fn email_taken() -> ApiError {
    ApiError::Conflict {
        code: "email-taken",
        detail: "An account with this email already exists.".into(),
    }
}

/// Creates an account and emails a verification link.
#[utoipa::path(
    post, path = "/api/v1/auth/register", tag = "auth",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "Account created; a verification email is on its way", body = RegisterResponse),
        (status = 409, description = "The email is already registered", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts from this address", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Every password worker is busy; try again after `Retry-After` seconds", body = crate::error::Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub async fn register(
    state: web::Data<AppState>,
    req: HttpRequest,
    PasswordTurn(turn): PasswordTurn,
    Valid(body): Valid<RegisterRequest>,
) -> Result<HttpResponse, ApiError> {
    limit_by_ip(&state, &req).await?;
    let Registration {
        email,
        password,
        display_name: name,
    } = body;
    if users::find_by_email(&state.db, &email).await?.is_some() {
        return Err(email_taken());
    }
    let password_hash = turn.hash(password.expose().to_owned()).await?;

    let txn = state.db.begin().await?;
    let user = users::insert(
        &txn,
        NewUser {
            email: &email,
            password_hash,
            display_name: &name,
            role: "practitioner",
            email_verified: false,
        },
    )
    .await
    .map_err(|e| {
        if users::is_duplicate_email(&e) {
            email_taken()
        } else {
            e.into()
        }
    })?;
    let token = tokens::create_email_token(&txn, user.id, EmailTokenPurpose::VerifyEmail).await?;
    let rendered =
        templates::verify_email(&user.display_name, &state.link("/verify-email", &token));
    outbox::enqueue(&txn, outgoing(&user, "verify_email", rendered)).await?;
    txn.commit().await?;
    state.outbox_wake.notify_one();

    tracing::info!(user_id = %user.id, "account registered");
    Ok(HttpResponse::Created().json(RegisterResponse {
        user_id: user.id,
        email: user.email,
        email_verified: false,
    }))
}

pub(crate) fn outgoing(
    user: &User,
    kind: &'static str,
    rendered: templates::Rendered,
) -> outbox::NewEmail {
    outbox::NewEmail {
        user_id: Some(user.id),
        kind,
        to_address: user.email.clone(),
        subject: rendered.subject,
        text_body: rendered.text,
        html_body: rendered.html,
        headers: Vec::new(),
    }
}

/// Confirms an email address with the token from the verification link.
#[utoipa::path(
    post, path = "/api/v1/auth/verify-email", tag = "auth",
    request_body = TokenRequest,
    responses(
        (status = 200, description = "The email is verified", body = VerifyEmailResponse),
        (status = 400, description = "The token is invalid, expired or used", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn verify_email(
    state: web::Data<AppState>,
    Valid(body): Valid<TokenRequest>,
) -> Result<HttpResponse, ApiError> {
    let txn = state.db.begin().await?;
    let user_id = tokens::consume_email_token(&txn, &body.token, EmailTokenPurpose::VerifyEmail)
        .await?
        .ok_or_else(bad_token)?;
    users::mark_verified(&txn, user_id).await?;
    txn.commit().await?;
    state.matching.refresh_users(&state.db, &[user_id]).await?;
    Ok(HttpResponse::Ok().json(VerifyEmailResponse {
        email_verified: true,
    }))
}

async fn issue_pair(
    state: &AppState,
    db: &impl sea_orm::ConnectionTrait,
    user: &User,
    family_id: Uuid,
) -> Result<TokenPair, ApiError> {
    let refresh_token = tokens::create_refresh_token(db, user.id, family_id).await?;
    Ok(TokenPair {
        access_token: state.jwt.issue_access(user.id, &user.role)?,
        token_type: "Bearer".into(),
        expires_in: ACCESS_TOKEN_TTL_SECS,
        refresh_token,
    })
}

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
        (status = 401, description = "Unknown email or wrong password (one message for both)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The account is suspended", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed attempts for this account from clients it does not know (or from this device), or too many requests from this address", body = crate::error::Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "Every password worker is busy; try again after `Retry-After` seconds", body = crate::error::Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    PasswordTurn(turn): PasswordTurn,
    Valid(body): Valid<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    limit_by_ip(&state, &req).await?;
    let email_key = body.email.trim().to_lowercase();
    let user = match Email::parse(&body.email) {
        Ok(email) => users::find_by_email(&state.db, &email).await?,
        Err(_) => None,
    };
    let budget = take_attempt(&state, &req, &email_key, user.as_ref()).await?;
    let verified = turn
        .verify(
            body.password,
            user.as_ref().map(|u| u.password_hash.clone()),
        )
        .await?;
    let user = match user {
        Some(user) if verified => user,
        _ => return Err(wrong_credentials()),
    };
    if user.suspended {
        return Err(ApiError::Forbidden {
            code: "account-suspended",
            detail: "This account is suspended. Contact the programme administrator.".into(),
        });
    }
    let device = match budget {
        Budget::Account => {
            login_failures::clear(&state.db, &email_key).await?;
            None
        }
        Budget::Device(token) => Some(token),
    };
    let device = login_failures::remember_device(&state.db, user.id, device.as_deref()).await?;
    let pair = issue_pair(&state, &state.db, &user, Uuid::now_v7()).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::SET_COOKIE, set_device_cookie(&state, &device)))
        .json(pair))
}

/// Counts a sign-in attempt, before the password is checked, against the budget of the
/// client's device cookie when it is one of this account's, and otherwise against the
/// account's budget for clients it does not know; 429 when that budget is used up.
async fn take_attempt(
    state: &AppState,
    req: &HttpRequest,
    email_key: &str,
    user: Option<&User>,
) -> Result<Budget, ApiError> {
    let refused = |retry_after_secs| Err(ApiError::TooManyRequests { retry_after_secs });
    if let (Some(user), Some(token)) = (user, device_cookie(req)) {
        match login_failures::take_device_attempt(&state.db, &token, user.id).await? {
            Some(Attempt::Allowed) => return Ok(Budget::Device(token)),
            Some(Attempt::Refused { retry_after_secs }) => return refused(retry_after_secs),
            None => {}
        }
    }
    match login_failures::take_attempt(&state.db, email_key).await? {
        Attempt::Allowed => Ok(Budget::Account),
        Attempt::Refused { retry_after_secs } => refused(retry_after_secs),
    }
}

/// Exchanges a refresh token for a new pair. Each refresh token works once; presenting a
/// spent one again revokes every token descended from the same sign-in.
#[utoipa::path(
    post, path = "/api/v1/auth/refresh", tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new token pair", body = TokenPair),
        (status = 401, description = "The refresh token is invalid, expired, revoked or already used", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn refresh(
    state: web::Data<AppState>,
    Valid(body): Valid<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let invalid = || ApiError::Unauthorized("The refresh token is not valid.");
    let txn = state.db.begin().await?;
    let (user_id, family_id) = match tokens::rotate_refresh_token(&txn, &body.refresh_token).await?
    {
        Rotation::Rotated { user_id, family_id } => (user_id, family_id),
        Rotation::Invalid => return Err(invalid()),
        Rotation::Reused => {
            txn.commit().await?;
            tracing::warn!("a spent refresh token was presented; its family is revoked");
            return Err(invalid());
        }
    };
    let user = users::find_by_id(&txn, user_id)
        .await?
        .filter(|u| !u.suspended)
        .ok_or_else(invalid)?;
    let pair = issue_pair(&state, &txn, &user, family_id).await?;
    txn.commit().await?;
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
    if let Some(family_id) = tokens::family_of(&state.db, &body.refresh_token).await? {
        tokens::revoke_family(&state.db, family_id, chrono::Utc::now()).await?;
    }
    Ok(HttpResponse::NoContent().finish())
}

/// Emails a password reset link when the account exists; answers the same either way.
#[utoipa::path(
    post, path = "/api/v1/auth/password-reset", tag = "auth",
    request_body = PasswordResetRequest,
    responses(
        (status = 202, description = "If the account exists, a reset email is on its way", body = Accepted),
        (status = 429, description = "Too many requests from this address", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn password_reset(
    state: web::Data<AppState>,
    req: HttpRequest,
    Valid(body): Valid<PasswordResetRequest>,
) -> Result<HttpResponse, ApiError> {
    limit_by_ip(&state, &req).await?;
    let user = match Email::parse(&body.email) {
        Ok(email) => users::find_by_email(&state.db, &email).await?,
        Err(_) => None,
    };
    if let Some(user) = user.filter(|u| !u.suspended) {
        let txn = state.db.begin().await?;
        let token =
            tokens::create_email_token(&txn, user.id, EmailTokenPurpose::PasswordReset).await?;
        let rendered =
            templates::password_reset(&user.display_name, &state.link("/reset-password", &token));
        outbox::enqueue(&txn, outgoing(&user, "password_reset", rendered)).await?;
        txn.commit().await?;
        state.outbox_wake.notify_one();
    }
    Ok(HttpResponse::Accepted().json(Accepted {
        status: "accepted".into(),
    }))
}

/// Sets a new password with the token from the reset link and signs out every session.
///
/// It works whatever the account's sign-in lock-out, and ends it.
#[utoipa::path(
    post, path = "/api/v1/auth/password-reset/confirm", tag = "auth",
    request_body = PasswordResetConfirmRequest,
    responses(
        (status = 200, description = "The password is changed, every refresh token and device cookie revoked, and the sign-in lock-out ended", body = PasswordResetDone),
        (status = 400, description = "The token is invalid, expired or used", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Every password worker is busy; the token is still valid, try again after `Retry-After` seconds", body = crate::error::Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub async fn password_reset_confirm(
    state: web::Data<AppState>,
    Valid(body): Valid<PasswordResetConfirmRequest>,
) -> Result<HttpResponse, ApiError> {
    // The token first: only its holder gets to spend a password worker.
    tokens::peek_email_token(&state.db, &body.token, EmailTokenPurpose::PasswordReset)
        .await?
        .ok_or_else(bad_token)?;
    let password_hash = state
        .passwords
        .hash(body.new_password.expose().to_owned())
        .await?;
    let txn = state.db.begin().await?;
    let user_id = tokens::consume_email_token(&txn, &body.token, EmailTokenPurpose::PasswordReset)
        .await?
        .ok_or_else(bad_token)?;
    users::set_password(&txn, user_id, password_hash).await?;
    tokens::revoke_all_for_user(&txn, user_id).await?;
    login_failures::forget_devices(&txn, user_id).await?;
    if let Some(user) = users::find_by_id(&txn, user_id).await? {
        login_failures::clear(&txn, &user.email_normalized).await?;
    }
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(PasswordResetDone {
        password_reset: true,
    }))
}
