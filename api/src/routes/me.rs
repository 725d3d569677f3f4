//! The signed-in practitioner's own account: who they are, everything stored about them,
//! and leaving.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    error::ApiError,
    extract::{AuthUser, Valid},
    isolation,
    state::AppState,
    store::{
        entities::{erasures, outbox, refresh_tokens, users},
        login_failures, profiles,
    },
    views::Profile,
};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/me").get(get_me).delete(delete_me))
        .service(web::resource("/me/export").get(export));
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct Isolation {
    /// 1.0 when nobody of the same profession and population is within 50 km, lower as such
    /// peers are at hand; at least 0.7 for someone who works alone.
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub score: f64,
    pub peers_within_50km: u32,
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
#[utoipa::path(
    get, path = "/api/v1/me", tag = "me",
    security(("bearer" = [])),
    responses((status = 200, description = "The caller's account", body = Me))
)]
pub async fn get_me(state: web::Data<AppState>, user: AuthUser) -> Result<HttpResponse, ApiError> {
    let user = user.0;
    let stored = profiles::load(&state.db, user.id).await?;
    let isolation = match &stored {
        Some(profile) => Some(match state.matching.isolation(user.id) {
            Some(found) => Isolation {
                score: crate::views::round3(f64::from(found.score)),
                peers_within_50km: found.peers_within_radius,
            },
            None => {
                let found = isolation::for_profile(&state.db, profile).await?;
                Isolation {
                    score: found.score,
                    peers_within_50km: found.peers_within_50km,
                }
            }
        }),
        None => None,
    };
    Ok(HttpResponse::Ok().json(Me {
        profile: stored.map(|p| Profile::new(&p, &user.display_name)),
        isolation,
        user_id: user.id,
        email: user.email,
        email_verified: user.email_verified,
        role: user.role,
        display_name: user.display_name,
    }))
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
    pub connections: Vec<crate::routes::connections::ConnectionView>,
    /// Emails sent or queued to them.
    pub emails: Vec<ExportedEmail>,
}

/// Everything stored about the caller, as JSON.
#[utoipa::path(
    get, path = "/api/v1/me/export", tag = "me",
    security(("bearer" = [])),
    responses((status = 200, description = "Every stored fact about the caller", body = Export))
)]
pub async fn export(state: web::Data<AppState>, user: AuthUser) -> Result<HttpResponse, ApiError> {
    let user = user.0;
    let db = &state.db;
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
    let emails = outbox::Entity::find()
        .filter(outbox::Column::UserId.eq(user.id))
        .order_by_asc(outbox::Column::CreatedAt)
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
    let connections = crate::routes::connections::all_views(db, user.id).await?;
    Ok(HttpResponse::Ok().json(Export {
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
            role: user.role,
            suspended: user.suspended,
            created_at: user.created_at,
            updated_at: user.updated_at,
        },
    }))
}

#[derive(Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct DeleteAccountRequest {
    /// The account's password, to confirm.
    #[schema(required = true, max_length = 1024)]
    pub password: String,
}

crate::extract::opaque_body!(DeleteAccountRequest);

/// Erases the caller's account and everything that hangs off it.
#[utoipa::path(
    delete, path = "/api/v1/me", tag = "me",
    security(("bearer" = [])),
    request_body = DeleteAccountRequest,
    responses(
        (status = 204, description = "The account and its data are erased"),
        (status = 403, description = "The password is not correct", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Every password worker is busy; try again after `Retry-After` seconds", body = crate::error::Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub async fn delete_me(
    state: web::Data<AppState>,
    user: AuthUser,
    Valid(body): Valid<DeleteAccountRequest>,
) -> Result<HttpResponse, ApiError> {
    let user = user.0;
    let confirmed = state
        .passwords
        .verify(body.password, Some(user.password_hash.clone()))
        .await?;
    if !confirmed {
        return Err(ApiError::Forbidden {
            code: "wrong-password",
            detail: "The password is not correct.".into(),
        });
    }
    let txn = state.db.begin().await?;
    // Profiles, tags, tokens, queued emails and location history go with the account
    // (foreign keys cascade).
    users::Entity::delete_by_id(user.id).exec(&txn).await?;
    login_failures::clear(&txn, &user.email_normalized).await?;
    // Tells every instance to drop the person from its index.
    erasures::ActiveModel {
        user_id: Set(user.id),
        erased_at: Set(Utc::now()),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    state.matching.forget(user.id);
    tracing::info!(user_id = %user.id, "account erased");
    Ok(HttpResponse::NoContent().finish())
}
