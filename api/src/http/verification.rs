//! Sending the verification email again, for a signed-in practitioner whose link expired or
//! went astray.

use actix_web::{web, HttpRequest, HttpResponse};

use crate::{
    http::{
        accounts::{limit_by_ip, Accepted},
        extract::AuthUser,
        problem::{failures, Fails},
        state::AppState,
    },
    service::accounts,
};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/me/verification-email").post(resend));
}

failures!(ResendFailures {
    AlreadyVerified: "The email is already verified",
    TooManyRequests: "Too many requests from this address",
});

/// Emails the caller a new verification link (earlier links keep working until they
/// expire). 409 when the email is already verified.
#[utoipa::path(
    post, path = "/api/v1/me/verification-email", tag = "me",
    security(("bearer" = [])),
    responses(
        (status = 202, description = "A new verification email is on its way", body = Accepted),
        ResendFailures,
    )
)]
pub async fn resend(
    state: web::Data<AppState>,
    req: HttpRequest,
    AuthUser(user): AuthUser,
) -> Result<HttpResponse, Fails<ResendFailures>> {
    if !user.email_verified {
        limit_by_ip(&state, &req).await?;
    }
    accounts::resend_verification(&state, &user).await?;
    Ok(HttpResponse::Accepted().json(Accepted {
        status: "accepted".into(),
    }))
}
