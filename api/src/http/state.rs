//! What every handler can reach: the services' shared core and the HTTP layer's own
//! per-address limiter.

use std::sync::Arc;

use crate::{http::ratelimit::IpLimiter, service::Core};

pub struct AppState {
    pub core: Arc<Core>,
    pub ip_limiter: IpLimiter,
}

impl std::ops::Deref for AppState {
    type Target = Core;

    fn deref(&self) -> &Core {
        &self.core
    }
}
