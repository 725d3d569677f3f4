//! Programme administration: matching rounds, figures, suspensions.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    http::problem::{failures, Fails},
    http::{
        extract::{AuthUser, Valid},
        state::AppState,
    },
    service::{
        admin::{self, require_admin, RoundResult, RoundSolver, Stats, Suspended},
        circle_rounds::{self, CircleRoundResult},
    },
};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/admin")
            .service(
                web::resource("/matching-rounds")
                    .wrap(actix_web::middleware::from_fn(
                        crate::http::idempotency::keyed,
                    ))
                    .post(matching_round),
            )
            .service(
                web::resource("/circle-rounds")
                    .wrap(actix_web::middleware::from_fn(
                        crate::http::idempotency::keyed,
                    ))
                    .post(circle_round),
            )
            .service(web::resource("/stats").get(stats))
            .service(web::resource("/users/{user_id}/suspend").post(suspend)),
    );
}

#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RoundKind {
    #[default]
    Mentorship,
}

#[derive(Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct RoundRequest {
    #[schema(required = true)]
    pub kind: RoundKind,
    /// Compute and report without creating connections or sending emails.
    #[schema(required = true)]
    pub dry_run: bool,
    #[schema(required = false)]
    pub solver: RoundSolver,
}

crate::http::extract::opaque_body!(RoundRequest);

failures!(MatchingRoundFailures {
    AdminOnly: "Administrators only",
    IdempotencyKeyInUse: "A round with the same Idempotency-Key is still running",
    ValidationError:
        "The body or the Idempotency-Key is invalid, or the key was used with another body",
});

/// A matching round: the best assignment of waiting mentees to mentors with free slots,
/// the most isolated first when mentors are scarce.
#[utoipa::path(
    post, path = "/api/v1/admin/matching-rounds", tag = "admin",
    security(("bearer" = [])),
    params(crate::http::idempotency::IdempotencyKey),
    request_body = RoundRequest,
    responses(
        (status = 200, description = "The round's proposals", body = RoundResult),
        MatchingRoundFailures,
    )
)]
pub async fn matching_round(
    state: web::Data<AppState>,
    user: AuthUser,
    Valid(body): Valid<RoundRequest>,
) -> Result<HttpResponse, Fails<MatchingRoundFailures>> {
    require_admin(&user.0)?;
    let result: RoundResult = admin::run_round(&state, body.dry_run, body.solver).await?;
    Ok(HttpResponse::Ok().json(result))
}

fn default_cap() -> usize {
    6
}

fn default_min_size() -> usize {
    4
}

#[derive(Deserialize, ToSchema)]
pub struct CircleRoundRequest {
    /// Compute and report without creating circles or sending emails.
    pub dry_run: bool,
    /// Most members per circle, 4 to 8 (default 6).
    #[serde(default = "default_cap")]
    #[schema(minimum = 4, maximum = 8, example = 6)]
    pub cap: usize,
    /// Fewest members a circle is formed with, 3 to `cap` (default 4).
    #[serde(default = "default_min_size")]
    #[schema(minimum = 3, maximum = 8, example = 4)]
    pub min_size: usize,
    /// Whether a circle may mix professions (default false).
    #[serde(default)]
    pub interprofessional: bool,
    /// Also report an upper bound on the objective; slow for many seekers (default false).
    #[serde(default)]
    pub with_bound: bool,
}

crate::http::extract::opaque_body!(CircleRoundRequest);

failures!(CircleRoundFailures {
    AdminOnly: "Administrators only",
    IdempotencyKeyInUse: "A round with the same Idempotency-Key is still running",
    ValidationError:
        "The body or the Idempotency-Key is invalid, or the key was used with another body",
});

/// A circle formation round over everyone who asked for a circle: circles that maximise
/// the members' affinity, the most isolated placed first, working hours overlapping and no
/// blocked pair together. Run it with `dry_run` first.
#[utoipa::path(
    post, path = "/api/v1/admin/circle-rounds", tag = "admin",
    security(("bearer" = [])),
    params(crate::http::idempotency::IdempotencyKey),
    request_body = CircleRoundRequest,
    responses(
        (status = 200, description = "The round's circles and who could not be placed", body = CircleRoundResult),
        CircleRoundFailures,
    )
)]
pub async fn circle_round(
    state: web::Data<AppState>,
    user: AuthUser,
    Valid(body): Valid<CircleRoundRequest>,
) -> Result<HttpResponse, Fails<CircleRoundFailures>> {
    require_admin(&user.0)?;
    let request = circle_rounds::RoundRequest {
        dry_run: body.dry_run,
        cap: body.cap,
        min_size: body.min_size,
        interprofessional: body.interprofessional,
        with_bound: body.with_bound,
    };
    Ok(HttpResponse::Ok().json(circle_rounds::run(&state, request).await?))
}

failures!(StatsFailures {
    AdminOnly: "Administrators only",
});

/// The programme's figures.
#[utoipa::path(
    get, path = "/api/v1/admin/stats", tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Figures", body = Stats),
        StatsFailures,
    )
)]
pub async fn stats(
    state: web::Data<AppState>,
    user: AuthUser,
) -> Result<HttpResponse, Fails<StatsFailures>> {
    require_admin(&user.0)?;
    let stats: Stats = admin::stats(&state).await?;
    Ok(HttpResponse::Ok().json(stats))
}

failures!(SuspendFailures {
    AdminOnly: "Administrators only",
    NotFound: "No such account",
    CannotSuspendSelf: "Administrators cannot suspend themselves",
});

/// Suspends an account: it cannot sign in, its sessions end, and it is never suggested.
#[utoipa::path(
    post, path = "/api/v1/admin/users/{user_id}/suspend", tag = "admin",
    security(("bearer" = [])),
    params(("user_id" = Uuid, Path, description = "The account to suspend")),
    responses(
        (status = 200, description = "Suspended", body = Suspended),
        SuspendFailures,
    )
)]
pub async fn suspend(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, Fails<SuspendFailures>> {
    require_admin(&user.0)?;
    let suspended: Suspended = admin::suspend(&state, &user.0, path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(suspended))
}
