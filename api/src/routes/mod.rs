//! HTTP routes, one module per resource.

pub mod admin;
pub mod auth;
pub mod connections;
pub mod health;
pub mod me;
pub mod profiles;
pub mod unsubscribe;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    health::configure(cfg);
    unsubscribe::configure(cfg);
    cfg.service(
        web::scope("/api/v1")
            .configure(auth::configure)
            .configure(me::configure)
            .configure(profiles::configure)
            .configure(connections::configure)
            .configure(admin::configure),
    );
}
