//! Sending the verification email again, for a signed-in practitioner whose link expired or
//! went astray.

use actix_web::{web, HttpRequest, HttpResponse};
use sea_orm::TransactionTrait;

use crate::{
    email::templates,
    error::ApiError,
    extract::AuthUser,
    routes::auth::{limit_by_ip, outgoing, Accepted},
    state::AppState,
    store::{
        outbox,
        tokens::{self, EmailTokenPurpose},
    },
};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/me/verification-email").post(resend));
}

/// Emails the caller a new verification link (earlier links keep working until they
/// expire). 409 when the email is already verified.
#[utoipa::path(
    post, path = "/api/v1/me/verification-email", tag = "me",
    security(("bearer" = [])),
    responses(
        (status = 202, description = "A new verification email is on its way", body = Accepted),
        (status = 409, description = "The email is already verified", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests from this address", body = crate::error::Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub async fn resend(
    state: web::Data<AppState>,
    req: HttpRequest,
    AuthUser(user): AuthUser,
) -> Result<HttpResponse, ApiError> {
    if user.email_verified {
        return Err(ApiError::Conflict {
            code: "already-verified",
            detail: "This email address is already verified.".into(),
        });
    }
    limit_by_ip(&state, &req).await?;
    let txn = state.db.begin().await?;
    let token = tokens::create_email_token(&txn, user.id, EmailTokenPurpose::VerifyEmail).await?;
    let rendered =
        templates::verify_email(&user.display_name, &state.link("/verify-email", &token));
    outbox::enqueue(&txn, outgoing(&user, "verify_email", rendered)).await?;
    txn.commit().await?;
    state.outbox_wake.notify_one();
    Ok(HttpResponse::Accepted().json(Accepted {
        status: "accepted".into(),
    }))
}
