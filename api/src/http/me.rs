//! The signed-in practitioner's own account: who they are, everything stored about them,
//! and leaving.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::{
    error::ApiError,
    http::problem::{failures, Fails},
    http::{
        extract::{AuthUser, Valid},
        state::AppState,
    },
    service::accounts::{self, Export, Me},
};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/me").get(get_me).delete(delete_me))
        .service(web::resource("/me/export").get(export));
}

/// The caller's account, profile and isolation.
#[utoipa::path(
    get, path = "/api/v1/me", tag = "me",
    security(("bearer" = [])),
    responses((status = 200, description = "The caller's account", body = Me))
)]
pub async fn get_me(state: web::Data<AppState>, user: AuthUser) -> Result<HttpResponse, ApiError> {
    let me: Me = accounts::me(&state, user.0).await?;
    Ok(HttpResponse::Ok().json(me))
}

/// Everything stored about the caller, as JSON.
#[utoipa::path(
    get, path = "/api/v1/me/export", tag = "me",
    security(("bearer" = [])),
    responses((status = 200, description = "Every stored fact about the caller", body = Export))
)]
pub async fn export(state: web::Data<AppState>, user: AuthUser) -> Result<HttpResponse, ApiError> {
    let export: Export = accounts::export(&state, user.0).await?;
    Ok(HttpResponse::Ok().json(export))
}

#[derive(Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct DeleteAccountRequest {
    /// The account's password, to confirm.
    #[schema(required = true, max_length = 1024)]
    pub password: String,
}

crate::http::extract::opaque_body!(DeleteAccountRequest);

failures!(DeleteMeFailures {
    WrongPassword: "The password is not correct",
    Busy: "Every password worker is busy; try again after `Retry-After` seconds",
});

/// Erases the caller's account and everything that hangs off it.
#[utoipa::path(
    delete, path = "/api/v1/me", tag = "me",
    security(("bearer" = [])),
    request_body = DeleteAccountRequest,
    responses(
        (status = 204, description = "The account and its data are erased"),
        DeleteMeFailures,
    )
)]
pub async fn delete_me(
    state: web::Data<AppState>,
    user: AuthUser,
    Valid(body): Valid<DeleteAccountRequest>,
) -> Result<HttpResponse, Fails<DeleteMeFailures>> {
    accounts::erase(&state, &user.0, body.password).await?;
    Ok(HttpResponse::NoContent().finish())
}
