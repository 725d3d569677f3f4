use std::sync::Arc;

use sea_orm::DatabaseConnection;
use tokio::sync::Notify;

use crate::{
    auth::{JwtKeys, PasswordPool},
    config::Config,
    matching::Matching,
    metrics::Metrics,
    ratelimit::IpLimiter,
};

/// What every handler can reach.
pub struct AppState {
    pub db: DatabaseConnection,
    pub config: Config,
    pub jwt: JwtKeys,
    pub metrics: Metrics,
    pub ip_limiter: IpLimiter,
    /// Every password hash and verification of a request runs here.
    pub passwords: PasswordPool,
    /// Wakes the delivery worker as soon as a transaction has queued an email.
    pub outbox_wake: Arc<Notify>,
    pub matching: Arc<Matching>,
}

impl AppState {
    pub fn link(&self, path: &str, token: &str) -> String {
        format!("{}{path}?token={token}", self.config.public_url)
    }
}
