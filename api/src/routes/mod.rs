//! HTTP routes, one module per resource.

pub mod admin;
pub mod auth;
pub mod blocks;
pub mod connections;
pub mod health;
pub mod me;
pub mod profiles;
pub mod session;
pub mod unsubscribe;
pub mod verification;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    health::configure(cfg);
    unsubscribe::configure(cfg);
    cfg.service(
        web::scope("/api/v1")
            // Before `auth`, whose `/auth` scope would otherwise take `/auth/session`.
            .configure(session::configure)
            .configure(auth::configure)
            .configure(me::configure)
            .configure(verification::configure)
            .configure(profiles::configure)
            .configure(connections::configure)
            .configure(admin::configure),
    );
}
