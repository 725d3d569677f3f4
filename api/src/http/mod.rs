//! The HTTP layer: routes (one module per capability), extractors, problem documents,
//! security headers and the OpenAPI document. Handlers extract, call one service function
//! and map its result to a response.

pub mod accounts;
pub mod admin;
pub mod app;
pub mod circles;
pub mod connections;
pub mod extract;
pub mod follow_through;
pub mod headers;
pub mod health;
pub mod idempotency;
pub mod log;
pub mod me;
pub mod openapi;
pub mod places;
pub mod problem;
pub mod profile_input;
pub mod profiles;
pub mod ratelimit;
pub mod session;
pub mod state;
pub mod unsubscribe;
pub mod verification;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    health::configure(cfg);
    unsubscribe::configure(cfg);
    cfg.service(
        web::scope("/api/v1")
            // Before `accounts`, whose `/auth` scope would otherwise take `/auth/session`.
            .configure(session::configure)
            .configure(accounts::configure)
            .configure(me::configure)
            .configure(verification::configure)
            .configure(profiles::configure)
            .configure(places::configure)
            .configure(connections::configure)
            .configure(log::configure)
            .configure(follow_through::configure)
            .configure(circles::configure)
            .configure(admin::configure),
    );
}
