//! A loose per-address limit on the authentication endpoints. A clinic behind one address
//! must still be able to sign up and sign in its whole staff, so the default is generous;
//! it only stops floods. Per-account limits on failed sign-ins are in
//! `store::login_failures`.
//!
//! The client's address is the peer's, unless the peer is one of `TRUSTED_PROXIES`: then it
//! is the rightmost address in `X-Forwarded-For` that is not itself a trusted proxy (the
//! hops to its left were written by the client and prove nothing). An IPv6 client is
//! counted by its /64, the block one household or host is usually given, so that rotating
//! through it gains nothing. The counts live in the database, so every instance shares them.

use std::{
    net::IpAddr,
    sync::atomic::{AtomicU64, Ordering},
};

use actix_web::HttpRequest;
use chrono::{Duration, Utc};
use sea_orm::{ConnectionTrait, DbErr};

use crate::{
    domain::address::{address_key, client_address, TrustedProxies},
    store::{
        limits::{self, Counter},
        login_failures,
    },
};

pub const WINDOW_SECS: i64 = 60;

/// Every this many checks an instance removes counters whose window has ended.
const SWEEP_EVERY: u64 = 1024;

pub struct IpLimiter {
    per_window: u32,
    trusted: TrustedProxies,
    checks: AtomicU64,
}

impl IpLimiter {
    pub fn new(per_minute: u32, trusted: TrustedProxies) -> Self {
        Self {
            per_window: per_minute,
            trusted,
            checks: AtomicU64::new(0),
        }
    }

    /// The client's address (see [`client_address`]); `None` without a peer address.
    pub fn client(&self, req: &HttpRequest) -> Option<IpAddr> {
        let peer = req.peer_addr()?.ip();
        let forwarded = req
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|value| value.to_str().ok());
        Some(client_address(peer, forwarded, &self.trusted))
    }

    /// Counts one request from `ip`; `Ok(Err(seconds))` when its minute is used up.
    pub async fn check(
        &self,
        db: &impl ConnectionTrait,
        ip: IpAddr,
    ) -> Result<Result<(), u64>, DbErr> {
        let window = Duration::seconds(WINDOW_SECS);
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            sweep(db, window).await;
        }
        let count = limits::hit(db, Counter::Address, &address_key(ip), window).await?;
        if count.count > i64::from(self.per_window) {
            return Ok(Err(count.retry_after_secs(window)));
        }
        Ok(Ok(()))
    }
}

async fn sweep(db: &impl ConnectionTrait, window: Duration) {
    let swept = async {
        let addresses = limits::sweep(db, Counter::Address, Utc::now() - window).await?;
        let accounts = login_failures::sweep(db).await?;
        Ok::<_, DbErr>(addresses + accounts)
    };
    match swept.await {
        Ok(removed) => tracing::debug!(removed, "ended rate-limit windows removed"),
        Err(error) => tracing::warn!(%error, "cannot remove ended rate-limit windows"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn ipv6_addresses_in_one_64_share_a_key() {
        assert_eq!(
            address_key(ip("2001:db8:1:2::1")),
            address_key(ip("2001:db8:1:2:ffff:eeee:dddd:cccc"))
        );
        assert_eq!(address_key(ip("2001:db8:1:2::1")), "2001:db8:1:2::/64");
        assert_ne!(
            address_key(ip("2001:db8:1:2::1")),
            address_key(ip("2001:db8:1:3::1"))
        );
    }

    #[test]
    fn ipv4_addresses_are_counted_one_by_one() {
        assert_eq!(address_key(ip("203.0.113.7")), "203.0.113.7");
        assert_ne!(
            address_key(ip("203.0.113.7")),
            address_key(ip("203.0.113.8"))
        );
        assert_eq!(address_key(ip("::ffff:203.0.113.7")), "203.0.113.7");
    }

    #[test]
    fn trusted_proxies_parse_addresses_and_ranges() {
        let trusted: TrustedProxies = " 10.0.0.0/8, 127.0.0.1 ,2001:db8::/32,".parse().unwrap();
        assert!(trusted.contains(ip("10.200.3.4")));
        assert!(trusted.contains(ip("127.0.0.1")));
        assert!(!trusted.contains(ip("127.0.0.2")));
        assert!(trusted.contains(ip("2001:db8:ffff::1")));
        assert!(!trusted.contains(ip("2001:db9::1")));
        assert!(trusted.contains(ip("::ffff:10.1.1.1")));
        assert_eq!(
            "".parse::<TrustedProxies>().unwrap(),
            TrustedProxies::default()
        );
        let all: TrustedProxies = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("8.8.8.8")));
        for bad in [
            "10.0.0.0/33",
            "nonsense",
            "10.0.0/8",
            "::1/129",
            "10.0.0.1/-1",
        ] {
            let error = bad.parse::<TrustedProxies>().unwrap_err();
            assert!(error.contains(bad), "{error}");
        }
    }

    #[test]
    fn the_forwarded_address_counts_only_from_a_trusted_proxy() {
        let trusted: TrustedProxies = "10.0.0.0/8".parse().unwrap();
        let direct = client_address(ip("198.51.100.1"), ["203.0.113.7"], &trusted);
        assert_eq!(direct, ip("198.51.100.1"));
        let proxied = client_address(ip("10.0.0.2"), ["203.0.113.7"], &trusted);
        assert_eq!(proxied, ip("203.0.113.7"));
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let trusted: TrustedProxies = "10.0.0.0/8".parse().unwrap();
        let peer = ip("10.0.0.2");
        // The client wrote the left part itself.
        let spoofed = client_address(peer, ["1.1.1.1, 203.0.113.7, 10.0.0.9"], &trusted);
        assert_eq!(spoofed, ip("203.0.113.7"));
        let split = client_address(peer, ["1.1.1.1", "203.0.113.7:4711, 10.0.0.9"], &trusted);
        assert_eq!(split, ip("203.0.113.7"));
        let v6 = client_address(peer, ["[2001:db8::1]:443"], &trusted);
        assert_eq!(v6, ip("2001:db8::1"));
        let all_trusted = client_address(peer, ["10.0.0.7, 10.0.0.9"], &trusted);
        assert_eq!(all_trusted, ip("10.0.0.7"));
        let garbled = client_address(peer, ["203.0.113.7, garbage, 10.0.0.9"], &trusted);
        assert_eq!(garbled, ip("10.0.0.9"));
        let missing = client_address(peer, [], &trusted);
        assert_eq!(missing, peer);
    }
}
