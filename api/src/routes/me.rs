//! The signed-in practitioner's own account.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{error::ApiError, extract::AuthUser};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/me").get(get_me));
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct Isolation {
    /// 1.0 for someone with no nearby peers of their profession and population, lower as
    /// such peers are closer at hand.
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
    /// The practitioner's profile, or null until they create one.
    pub profile: Option<serde_json::Value>,
    /// Null until there is a profile to measure from.
    pub isolation: Option<Isolation>,
}

/// The caller's account.
#[utoipa::path(
    get, path = "/api/v1/me", tag = "me",
    security(("bearer" = [])),
    responses((status = 200, description = "The caller's account", body = Me))
)]
pub async fn get_me(user: AuthUser) -> Result<HttpResponse, ApiError> {
    let user = user.0;
    Ok(HttpResponse::Ok().json(Me {
        user_id: user.id,
        email: user.email,
        email_verified: user.email_verified,
        role: user.role,
        display_name: user.display_name,
        profile: None,
        isolation: None,
    }))
}
