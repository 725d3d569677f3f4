//! HTTP routes, one module per resource.

pub mod auth;
pub mod health;
pub mod me;
pub mod profiles;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    health::configure(cfg);
    cfg.service(
        web::scope("/api/v1")
            .configure(auth::configure)
            .configure(me::configure)
            .configure(profiles::configure),
    );
}
