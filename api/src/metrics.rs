//! Prometheus metrics: request counts and latencies by route pattern, email outcomes, and
//! the outbox's queue and dead letters.

use std::sync::Arc;

use prometheus_client::{
    encoding::{text::encode, EncodeLabelSet},
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

struct Inner {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    durations: Family<RouteLabels, Histogram>,
    emails_sent: Counter,
    emails_failed: Counter,
    leases_lost: Counter,
    queued: Gauge,
    dead_letters: Gauge,
}

#[derive(Clone)]
pub struct Metrics(Arc<Inner>);

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("alongside");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register("http_requests", "HTTP requests served", requests.clone());
        let durations = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new([
                0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ])
        });
        registry.register(
            "http_request_duration_seconds",
            "Time to serve HTTP requests",
            durations.clone(),
        );
        let emails_sent = Counter::default();
        registry.register(
            "emails_sent",
            "Emails handed to the mail server",
            emails_sent.clone(),
        );
        let emails_failed = Counter::default();
        registry.register(
            "emails_failed",
            "Emails this instance gave up at their deadline (made dead letters)",
            emails_failed.clone(),
        );
        let leases_lost = Counter::default();
        registry.register(
            "outbox_leases_lost",
            "Delivery outcomes not recorded because another instance had taken the email over",
            leases_lost.clone(),
        );
        let queued = Gauge::default();
        registry.register(
            "outbox_queued",
            "Emails waiting in the outbox (all instances)",
            queued.clone(),
        );
        let dead_letters = Gauge::default();
        registry.register(
            "outbox_dead_letters",
            "Emails given up at their deadline and never sent (all instances)",
            dead_letters.clone(),
        );
        Self(Arc::new(Inner {
            registry,
            requests,
            durations,
            emails_sent,
            emails_failed,
            leases_lost,
            queued,
            dead_letters,
        }))
    }
}

impl Metrics {
    pub fn observe_request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.0
            .requests
            .get_or_create(&RequestLabels {
                method: method.to_owned(),
                route: route.to_owned(),
                status,
            })
            .inc();
        self.0
            .durations
            .get_or_create(&RouteLabels {
                method: method.to_owned(),
                route: route.to_owned(),
            })
            .observe(seconds);
    }

    pub fn email_sent(&self) {
        self.0.emails_sent.inc();
    }

    pub fn email_failed(&self) {
        self.0.emails_failed.inc();
    }

    pub fn lease_lost(&self) {
        self.0.leases_lost.inc();
    }

    /// The outbox as read from the database, so every instance shows the same figures.
    pub fn set_outbox(&self, queued: u64, dead_letters: u64) {
        self.0.queued.set(i64::try_from(queued).unwrap_or(i64::MAX));
        self.0
            .dead_letters
            .set(i64::try_from(dead_letters).unwrap_or(i64::MAX));
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        if encode(&mut out, &self.0.registry).is_err() {
            out.clear();
        }
        out
    }
}
