//! One-click unsubscribe (RFC 8058): works from the email link without signing in.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    email::templates::escape_html,
    error::{ApiError, ProblemCode},
    http::problem::{failures, Fails},
    http::state::AppState,
    service::notifications,
};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/unsubscribe")
            .post(unsubscribe)
            .get(confirm_page),
    );
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UnsubscribeQuery {
    /// The token from the email's unsubscribe link.
    #[param(max_length = 1000)]
    token: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct Unsubscribed {
    pub unsubscribed: bool,
}

/// The token as given, if it is of a length this API issues.
fn valid_length(token: Option<&str>) -> Result<&str, ApiError> {
    token
        .filter(|t| !t.is_empty() && t.len() <= 1000)
        .ok_or_else(bad_token)
}

fn bad_token() -> ApiError {
    ApiError::refused(
        ProblemCode::InvalidToken,
        "The unsubscribe link is invalid or has expired.",
    )
}

failures!(UnsubscribeFailures {
    InvalidToken: "The token is invalid",
});

/// Stops optional emails (connection requests, reminders, digests) for the link's owner.
#[utoipa::path(
    post, path = "/unsubscribe", tag = "notifications",
    params(UnsubscribeQuery),
    responses(
        (status = 200, description = "Unsubscribed", body = Unsubscribed),
        UnsubscribeFailures,
    )
)]
pub async fn unsubscribe(
    state: web::Data<AppState>,
    query: web::Query<UnsubscribeQuery>,
) -> Result<HttpResponse, Fails<UnsubscribeFailures>> {
    let token = valid_length(query.token.as_deref())?;
    if !notifications::unsubscribe(&state, token).await? {
        return Err(bad_token().into());
    }
    Ok(HttpResponse::Ok().json(Unsubscribed { unsubscribed: true }))
}

failures!(ConfirmPageFailures {
    InvalidToken: "The token is missing or malformed",
});

/// A page with a button that unsubscribes; opening it (as mail scanners do) changes nothing.
#[utoipa::path(
    get, path = "/unsubscribe", tag = "notifications",
    params(UnsubscribeQuery),
    responses(
        (status = 200, description = "A confirmation page", body = String, content_type = "text/html"),
        ConfirmPageFailures,
    )
)]
pub async fn confirm_page(
    query: web::Query<UnsubscribeQuery>,
) -> Result<HttpResponse, Fails<ConfirmPageFailures>> {
    let token = escape_html(valid_length(query.token.as_deref())?);
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(format!(
            "<!DOCTYPE html><html><body style=\"font-family:sans-serif\">\
         <h1>Unsubscribe from Alongside emails?</h1>\
         <p>You will still receive introductions and replies to your own requests.</p>\
         <form method=\"post\" action=\"/unsubscribe?token={token}\">\
         <button type=\"submit\">Unsubscribe</button></form></body></html>"
        )))
}
