//! Accounts: registration, email verification, sign-in with its failure budgets, token
//! refresh, sign-out, password reset, and the account's own view, export and erasure.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    auth::{Admission, ACCESS_TOKEN_TTL_SECS},
    domain::{role::Role, DisplayName, Email, Password},
    email::templates,
    error::{ApiError, ProblemCode},
    service::{
        connections::{self, ConnectionView},
        matching::{self, Isolation},
        Core,
    },
    store::{
        entities::{erasures, outbox as outbox_rows, refresh_tokens, users as user_rows},
        login_failures::{self, Attempt},
        outbox, profiles,
        tokens::{self, EmailTokenPurpose, Rotation},
        users::{self, NewUser, User},
    },
    views::Profile,
};

fn wrong_credentials() -> ApiError {
    ApiError::Unauthorized("The email or password is not correct.")
}

fn bad_token() -> ApiError {
    ApiError::refused(
        ProblemCode::InvalidToken,
        "The link is invalid, has expired, or has already been used.",
    )
}

fn email_taken() -> ApiError {
    ApiError::refused(
        ProblemCode::EmailTaken,
        "An account with this email already exists.",
    )
}

fn outgoing(user: &User, kind: &'static str, rendered: templates::Rendered) -> outbox::NewEmail {
    outbox::NewEmail {
        user_id: Some(user.id),
        kind,
        to_address: user.email.clone(),
        subject: rendered.subject,
        text_body: rendered.text,
        html_body: rendered.html,
        headers: Vec::new(),
        calendar: None,
    }
}

pub struct Registration {
    pub email: Email,
    pub password: Password,
    pub display_name: DisplayName,
}

/// Creates an account and emails a verification link.
#[tracing::instrument(skip_all)]
pub async fn register(
    core: &Core,
    turn: Admission,
    registration: Registration,
) -> Result<User, ApiError> {
    let Registration {
        email,
        password,
        display_name: name,
    } = registration;
    if users::find_by_email(&core.db, &email).await?.is_some() {
        return Err(email_taken());
    }
    let password_hash = turn.hash(password.expose().to_owned()).await?;

    let write = core.write().await?;
    let user = users::insert(
        write.db(),
        NewUser {
            email: &email,
            password_hash,
            display_name: &name,
            role: Role::Practitioner,
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
    let token =
        tokens::create_email_token(write.db(), user.id, EmailTokenPurpose::VerifyEmail).await?;
    let rendered = templates::verify_email(&user.display_name, &core.link("/verify-email", &token));
    outbox::enqueue(write.db(), outgoing(&user, "verify_email", rendered)).await?;
    write.commit().await?;
    tracing::info!(user_id = %user.id, "account registered");
    Ok(user)
}

/// Emails a new verification link to an account whose email is not verified yet (earlier
/// links keep working until they expire).
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn resend_verification(core: &Core, user: &User) -> Result<(), ApiError> {
    if user.email_verified {
        return Err(ApiError::refused(
            ProblemCode::AlreadyVerified,
            "This email address is already verified.",
        ));
    }
    let write = core.write().await?;
    let token =
        tokens::create_email_token(write.db(), user.id, EmailTokenPurpose::VerifyEmail).await?;
    let rendered = templates::verify_email(&user.display_name, &core.link("/verify-email", &token));
    outbox::enqueue(write.db(), outgoing(user, "verify_email", rendered)).await?;
    write.commit().await
}

/// Confirms an email address with the token from the verification link.
#[tracing::instrument(skip_all)]
pub async fn verify_email(core: &Core, token: &str) -> Result<(), ApiError> {
    let mut write = core.write().await?;
    let user_id = tokens::consume_email_token(write.db(), token, EmailTokenPurpose::VerifyEmail)
        .await?
        .ok_or_else(bad_token)?;
    users::mark_verified(write.db(), user_id).await?;
    write.users_changed(&[user_id]);
    write.commit().await
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

async fn issue_pair(
    core: &Core,
    db: &impl sea_orm::ConnectionTrait,
    user: &User,
    family_id: Uuid,
) -> Result<TokenPair, ApiError> {
    let refresh_token = tokens::create_refresh_token(db, user.id, family_id).await?;
    Ok(TokenPair {
        access_token: core.jwt.issue_access(user.id, user.role.as_str())?,
        token_type: "Bearer".into(),
        expires_in: ACCESS_TOKEN_TTL_SECS,
        refresh_token,
    })
}

/// Which failure budget a sign-in attempt was counted against.
enum Budget {
    /// The account's budget for clients it does not know.
    Account,
    /// The budget of this device cookie of the account.
    Device(String),
}

/// Counts a sign-in attempt, before the password is checked, against the budget of the
/// client's device when it is one of this account's, and otherwise against the account's
/// budget for clients it does not know; 429 when that budget is used up.
async fn take_attempt(
    core: &Core,
    device: Option<String>,
    email_key: &str,
    user: Option<&User>,
) -> Result<Budget, ApiError> {
    let refused = |retry_after_secs| Err(ApiError::TooManyRequests { retry_after_secs });
    if let (Some(user), Some(token)) = (user, device) {
        match login_failures::take_device_attempt(&core.db, &token, user.id).await? {
            Some(Attempt::Allowed) => return Ok(Budget::Device(token)),
            Some(Attempt::Refused { retry_after_secs }) => return refused(retry_after_secs),
            None => {}
        }
    }
    match login_failures::take_attempt(&core.db, email_key).await? {
        Attempt::Allowed => Ok(Budget::Account),
        Attempt::Refused { retry_after_secs } => refused(retry_after_secs),
    }
}

pub struct SignedIn {
    pub tokens: TokenPair,
    /// The device token to keep (OWASP's device cookie): its sign-ins have their own
    /// budget of failures, so a stranger's failures never lock this client out.
    pub device: String,
}

/// Signs in with email and password, from a client that may present a device token of an
/// earlier sign-in.
#[tracing::instrument(skip_all)]
pub async fn sign_in(
    core: &Core,
    turn: Admission,
    email: &str,
    password: String,
    device: Option<String>,
) -> Result<SignedIn, ApiError> {
    let email_key = email.trim().to_lowercase();
    let user = match Email::parse(email) {
        Ok(email) => users::find_by_email(&core.db, &email).await?,
        Err(_) => None,
    };
    let budget = take_attempt(core, device, &email_key, user.as_ref()).await?;
    let verified = turn
        .verify(password, user.as_ref().map(|u| u.password_hash.clone()))
        .await?;
    let user = match user {
        Some(user) if verified => user,
        _ => return Err(wrong_credentials()),
    };
    if user.suspended {
        return Err(ApiError::refused(
            ProblemCode::AccountSuspended,
            "This account is suspended. Contact the programme administrator.",
        ));
    }
    let device = match budget {
        Budget::Account => {
            login_failures::clear(&core.db, &email_key).await?;
            None
        }
        Budget::Device(token) => Some(token),
    };
    let device = login_failures::remember_device(&core.db, user.id, device.as_deref()).await?;
    let mut write = core.write().await?;
    let tokens = issue_pair(core, write.db(), &user, Uuid::now_v7()).await?;
    crate::service::mentors::seen(&mut write, user.id).await?;
    write.commit().await?;
    Ok(SignedIn { tokens, device })
}

/// Exchanges a refresh token for a new pair. Each refresh token works once; presenting a
/// spent one again revokes every token descended from the same sign-in.
#[tracing::instrument(skip_all)]
pub async fn refresh(core: &Core, refresh_token: &str) -> Result<TokenPair, ApiError> {
    let invalid = || ApiError::Unauthorized("The refresh token is not valid.");
    let mut write = core.write().await?;
    let (user_id, family_id) = match tokens::rotate_refresh_token(write.db(), refresh_token).await?
    {
        Rotation::Rotated { user_id, family_id } => (user_id, family_id),
        Rotation::Invalid => return Err(invalid()),
        Rotation::Reused => {
            write.commit().await?;
            tracing::warn!("a spent refresh token was presented; its family is revoked");
            return Err(invalid());
        }
    };
    let user = users::find_by_id(write.db(), user_id)
        .await?
        .filter(|u| !u.suspended)
        .ok_or_else(invalid)?;
    let pair = issue_pair(core, write.db(), &user, family_id).await?;
    crate::service::mentors::seen(&mut write, user.id).await?;
    write.commit().await?;
    Ok(pair)
}

/// Signs out: the refresh token and every token descended from the same sign-in stop
/// working. Unknown tokens are accepted silently.
#[tracing::instrument(skip_all)]
pub async fn sign_out(core: &Core, refresh_token: &str) -> Result<(), ApiError> {
    if let Some(family_id) = tokens::family_of(&core.db, refresh_token).await? {
        tokens::revoke_family(&core.db, family_id, Utc::now()).await?;
    }
    Ok(())
}

/// Emails a password reset link when the account exists and is not suspended; says nothing
/// either way.
#[tracing::instrument(skip_all)]
pub async fn request_password_reset(core: &Core, email: &str) -> Result<(), ApiError> {
    let user = match Email::parse(email) {
        Ok(email) => users::find_by_email(&core.db, &email).await?,
        Err(_) => None,
    };
    if let Some(user) = user.filter(|u| !u.suspended) {
        let write = core.write().await?;
        let token =
            tokens::create_email_token(write.db(), user.id, EmailTokenPurpose::PasswordReset)
                .await?;
        let rendered =
            templates::password_reset(&user.display_name, &core.link("/reset-password", &token));
        outbox::enqueue(write.db(), outgoing(&user, "password_reset", rendered)).await?;
        write.commit().await?;
    }
    Ok(())
}

/// Sets a new password with the token from the reset link, signs out every session,
/// forgets every device and ends any sign-in lock-out.
#[tracing::instrument(skip_all)]
pub async fn reset_password(
    core: &Core,
    token: &str,
    new_password: Password,
) -> Result<(), ApiError> {
    // The token first: only its holder gets to spend a password worker.
    tokens::peek_email_token(&core.db, token, EmailTokenPurpose::PasswordReset)
        .await?
        .ok_or_else(bad_token)?;
    let password_hash = core
        .passwords
        .hash(new_password.expose().to_owned())
        .await?;
    let write = core.write().await?;
    let user_id = tokens::consume_email_token(write.db(), token, EmailTokenPurpose::PasswordReset)
        .await?
        .ok_or_else(bad_token)?;
    users::set_password(write.db(), user_id, password_hash).await?;
    tokens::revoke_all_for_user(write.db(), user_id).await?;
    login_failures::forget_devices(write.db(), user_id).await?;
    if let Some(user) = users::find_by_id(write.db(), user_id).await? {
        login_failures::clear(write.db(), &user.email_normalized).await?;
    }
    write.commit().await
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct Me {
    pub user_id: Uuid,
    pub email: String,
    pub email_verified: bool,
    #[schema(example = "practitioner")]
    pub role: String,
    pub display_name: String,
    /// Null until the practitioner creates one.
    pub profile: Option<Profile>,
    /// Null until there is a profile to measure from.
    pub isolation: Option<Isolation>,
}

/// The caller's account, profile and isolation.
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn me(core: &Core, user: User) -> Result<Me, ApiError> {
    // The read model answers when it has seen this very version of the account (every
    // profile save touches the account row); otherwise, and without a profile, storage does.
    let card = core
        .index
        .card(user.id)
        .filter(|card| card.account_updated_at == user.updated_at);
    let (profile, isolation) = match card {
        Some(card) => (
            Some(card.owner()),
            matching::indexed_isolation(core, user.id),
        ),
        None => match profiles::load(&core.reads, user.id).await? {
            Some(stored) => {
                let isolation = matching::isolation(core, &stored).await?;
                (
                    Some(Profile::new(&stored, &user.display_name)),
                    Some(isolation),
                )
            }
            None => (None, None),
        },
    };
    Ok(Me {
        profile,
        isolation,
        user_id: user.id,
        email: user.email,
        email_verified: user.email_verified,
        role: user.role.as_str().to_owned(),
        display_name: user.display_name,
    })
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct ExportedAccount {
    pub user_id: Uuid,
    pub email: String,
    pub display_name: String,
    pub email_verified: bool,
    pub role: String,
    pub suspended: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct ExportedSession {
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub rotated_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Serialize, Deserialize, ToSchema)]
/// An email sent or queued to the caller, listed without its body: bodies carry one-time
/// links (verification, password reset, unsubscribe) that must never leave in an export.
pub struct ExportedEmail {
    pub id: Uuid,
    pub kind: String,
    pub to: String,
    pub subject: String,
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// Everything Alongside stores about one person.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct Export {
    pub exported_at: DateTime<Utc>,
    pub account: ExportedAccount,
    pub profile: Option<Profile>,
    /// When the practitioner moved their location (kept for an hour's rate limit).
    pub location_changes: Vec<DateTime<Utc>>,
    pub sessions: Vec<ExportedSession>,
    /// Connection requests and connections, as the practitioner sees them.
    pub connections: Vec<ConnectionView>,
    /// Emails sent or queued to them.
    pub emails: Vec<ExportedEmail>,
    /// Circles they are in or asked to join.
    pub circles: Vec<crate::service::circles::CircleSummary>,
    /// Whether they wait for a circle formation round.
    pub circle_interest: crate::service::circles::CircleInterest,
    /// Every post and reply they wrote in circles.
    pub circle_posts: Vec<crate::service::circle_posts::PostView>,
    /// Circle meetings they organised, and whether they said they would come to others.
    pub circle_meetings: crate::service::circle_meetings::ExportedMeetings,
    /// Their professional development log and the requirement they report to.
    pub development_log: crate::service::log::ExportedLog,
    /// Every check-in they were sent, and their answers.
    pub check_ins: Vec<crate::service::check_ins::CheckInView>,
    /// The agreements of their connections.
    pub agreements: Vec<crate::service::agreements::AgreementView>,
    /// The meetings of their connections.
    pub connection_meetings: Vec<crate::service::connection_meetings::ConnectionMeetingView>,
    /// When they were last active (sign-in, session refresh, answering a request).
    pub last_active_at: Option<DateTime<Utc>>,
}

/// Everything stored about `user`, with no secret in it.
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn export(core: &Core, user: User) -> Result<Export, ApiError> {
    let db = &core.reads;
    let profile = profiles::load(db, user.id)
        .await?
        .map(|p| Profile::new(&p, &user.display_name));
    let sessions = refresh_tokens::Entity::find()
        .filter(refresh_tokens::Column::UserId.eq(user.id))
        .order_by_asc(refresh_tokens::Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .map(|t| ExportedSession {
            created_at: t.created_at,
            expires_at: t.expires_at,
            rotated_at: t.rotated_at,
            revoked_at: t.revoked_at,
        })
        .collect();
    let emails = outbox_rows::Entity::find()
        .filter(outbox_rows::Column::UserId.eq(user.id))
        .order_by_asc(outbox_rows::Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .map(|e| ExportedEmail {
            id: e.id,
            kind: e.kind,
            to: e.to_address,
            subject: e.subject,
            status: e.status,
            created_at: e.created_at,
            sent_at: e.sent_at,
        })
        .collect();
    let connections = connections::all_views(db, user.id).await?;
    let circles = crate::service::circles::mine(core, &user).await?;
    let circle_interest = crate::service::circles::interest(core, &user).await?;
    let circle_posts = crate::service::circle_posts::written_by(core, user.id).await?;
    let circle_meetings = crate::service::circle_meetings::exported(core, user.id).await?;
    let development_log = crate::service::log::exported(core, user.id).await?;
    let check_ins = crate::service::check_ins::of_user(core, user.id, false).await?;
    let agreements = crate::service::agreements::exported(core, user.id).await?;
    let connection_meetings = crate::service::connection_meetings::exported(core, user.id).await?;
    Ok(Export {
        agreements,
        connection_meetings,
        last_active_at: user.last_active_at,
        check_ins,
        development_log,
        circle_meetings,
        circles,
        circle_interest,
        circle_posts,
        exported_at: Utc::now(),
        location_changes: profiles::all_location_changes(db, user.id).await?,
        profile,
        sessions,
        connections,
        emails,
        account: ExportedAccount {
            user_id: user.id,
            email: user.email,
            display_name: user.display_name,
            email_verified: user.email_verified,
            role: user.role.as_str().to_owned(),
            suspended: user.suspended,
            created_at: user.created_at,
            updated_at: user.updated_at,
        },
    })
}

/// Erases the account and everything that hangs off it, once its password confirms it.
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn erase(core: &Core, user: &User, password: String) -> Result<(), ApiError> {
    let confirmed = core
        .passwords
        .verify(password, Some(user.password_hash.clone()))
        .await?;
    if !confirmed {
        return Err(ApiError::refused(
            ProblemCode::WrongPassword,
            "The password is not correct.",
        ));
    }
    let mut write = core.write().await?;
    // Circle posts stay as empty places so that others' replies keep their thread; the
    // links they shared go.
    crate::store::circles::forget_author(write.db(), user.id).await?;
    // Profiles, tags, tokens, queued emails, location history and circle memberships go
    // with the account (foreign keys cascade).
    user_rows::Entity::delete_by_id(user.id)
        .exec(write.db())
        .await?;
    login_failures::clear(write.db(), &user.email_normalized).await?;
    // Tells every instance to drop the person from its index.
    erasures::ActiveModel {
        user_id: Set(user.id),
        erased_at: Set(Utc::now()),
    }
    .insert(write.db())
    .await?;
    write.erased(user.id);
    write.commit().await?;
    tracing::info!(user_id = %user.id, "account erased");
    Ok(())
}
