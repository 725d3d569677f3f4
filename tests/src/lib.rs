//! The black-box test harness: a real server on port 0 with its own fresh database
//! (SQLite file or PostgreSQL database), a real SMTP server process, and an HTTP client.
//! A test is an `async fn` that takes the app, marked `#[on_both_engines]` to run on SQLite
//! and on PostgreSQL.

mod actors;
mod calls;
mod mail;
mod pg_proxy;
pub mod tokens;
pub mod wire;

use std::{path::PathBuf, time::Duration};

use api::{
    config::{LogFormat, OutboxSettings},
    startup::Application,
};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::{json, Value};

pub use actors::{place, position, NewPractitioner, Practitioner};
pub use api::config::Config;
pub use calls::{body_of, eventually, retry_after, Statuses};
pub use mail::{Email, SmtpSink};
pub use pg_proxy::PgProxy;
pub use tests_macros::on_both_engines;

pub const JWT_SECRET: &[u8] = b"test-secret-that-is-at-least-32-bytes-long";
pub const PASSWORD: &str = "a long enough password";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

fn postgres_base_url() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

pub struct TestApp {
    pub backend: Backend,
    pub address: String,
    pub port: u16,
    pub client: reqwest::Client,
    pub db: DatabaseConnection,
    pub smtp: SmtpSink,
    pub config: Config,
    handle: actix_web::dev::ServerHandle,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    dir: PathBuf,
    pg_database: Option<String>,
}

pub async fn postgres_available() -> bool {
    match Database::connect(format!("{}/postgres", postgres_base_url())).await {
        Ok(db) => {
            let _ = db.close().await;
            true
        }
        Err(_) => false,
    }
}

pub async fn create_postgres_database() -> (String, String) {
    let name = format!("alongside_test_{}", uuid::Uuid::new_v4().simple());
    let admin = Database::connect(format!("{}/postgres", postgres_base_url()))
        .await
        .expect("PostgreSQL is not reachable");
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("cannot create a test database");
    let _ = admin.close().await;
    (name.clone(), format!("{}/{name}", postgres_base_url()))
}

async fn drop_postgres_database(name: &str) {
    if let Ok(admin) = Database::connect(format!("{}/postgres", postgres_base_url())).await {
        let _ = admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await;
        let _ = admin.close().await;
    }
}

impl TestApp {
    pub async fn spawn_postgres_or_skip() -> Option<Self> {
        Self::spawn_postgres_configured_or_skip(|_| {}).await
    }

    pub async fn spawn_postgres_configured_or_skip(
        adjust: impl FnOnce(&mut Config),
    ) -> Option<Self> {
        if !postgres_available().await {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("PostgreSQL is required under CI=true but is not reachable");
            }
            eprintln!("PostgreSQL is not reachable: skipping the PostgreSQL leg");
            return None;
        }
        Some(Self::spawn_configured(Backend::Postgres, adjust).await)
    }

    /// An app on a fresh PostgreSQL database reached through a [`PgProxy`] that the test can
    /// cut and restore; `None` (a skip) without PostgreSQL, except under `CI=true`.
    pub async fn spawn_behind_pg_proxy_or_skip() -> Option<(Self, PgProxy)> {
        if !postgres_available().await {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "PostgreSQL is required under CI"
            );
            eprintln!("PostgreSQL is not reachable: skipping");
            return None;
        }
        let (name, _) = create_postgres_database().await;
        let proxy = PgProxy::start("127.0.0.1:5432").await;
        let url = format!("postgres://postgres@127.0.0.1:{}/{name}", proxy.port);
        let dir = std::env::temp_dir().join(format!("alongside-test-{}", uuid::Uuid::new_v4()));
        let app = Self::spawn_with(Backend::Postgres, url, dir, Some(name), |_| {}).await;
        Some((app, proxy))
    }

    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_configured(backend, |_| {}).await
    }

    /// Like `spawn`, with settings changed by `adjust` first.
    pub async fn spawn_configured(backend: Backend, adjust: impl FnOnce(&mut Config)) -> Self {
        let dir = std::env::temp_dir().join(format!("alongside-test-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("cannot create a test folder");
        let (pg_database, database_url) = match backend {
            Backend::Sqlite => (
                None,
                format!("sqlite://{}?mode=rwc", dir.join("alongside.db").display()),
            ),
            Backend::Postgres => {
                let (name, url) = create_postgres_database().await;
                (Some(name), url)
            }
        };
        Self::spawn_with(backend, database_url, dir, pg_database, adjust).await
    }

    pub async fn spawn_with(
        backend: Backend,
        database_url: String,
        dir: PathBuf,
        pg_database: Option<String>,
        adjust: impl FnOnce(&mut Config),
    ) -> Self {
        if std::env::var_os("RUST_LOG").is_some() {
            api::telemetry::init(&LogFormat::Text);
        }
        let smtp = SmtpSink::start(dir.join("mail")).await;
        let mut config = test_config(database_url, &dir, Some(smtp.url()));
        adjust(&mut config);
        let app = Application::build(config.clone())
            .await
            .expect("the application did not start");
        let port = app.port();
        let db = app.db();
        let handle = app.handle();
        let server = tokio::spawn(app.run_until_stopped());
        Self {
            backend,
            address: format!("http://127.0.0.1:{port}"),
            port,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("http client"),
            db,
            smtp,
            config,
            handle,
            server,
            dir,
            pg_database,
        }
    }

    /// A second instance of the service on the same database (its own port, worker and
    /// index), as behind a load balancer, delivering mail through this one's SMTP server.
    pub async fn another_instance(&self) -> TestApp {
        self.another_instance_configured(|_| {}).await
    }

    /// Like `another_instance`, with settings changed by `adjust` first.
    pub async fn another_instance_configured(&self, adjust: impl FnOnce(&mut Config)) -> TestApp {
        let dir = self
            .dir
            .join(format!("instance-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("instance folder");
        let outbox = self.config.outbox.clone();
        let smtp_url = self.config.smtp_url.clone();
        TestApp::spawn_with(
            self.backend,
            self.config.database_url.clone(),
            dir,
            None,
            |c| {
                c.outbox = outbox;
                c.smtp_url = smtp_url;
                adjust(c);
            },
        )
        .await
    }

    /// Makes an account an administrator, as `alongside create-admin` does.
    pub async fn make_admin(&self, who: &Practitioner) {
        use api::store::entities::users;
        use sea_orm::{ActiveModelTrait, Set};
        users::ActiveModel {
            id: Set(uuid::Uuid::parse_str(&who.user_id).expect("uuid")),
            role: Set(api::domain::role::Role::Admin),
            ..Default::default()
        }
        .update(&self.db)
        .await
        .expect("make admin");
    }

    /// Stops the server and removes its database.
    pub async fn teardown(self) {
        self.handle.stop(true).await;
        let _ = self.server.await;
        let _ = self.db.close_by_ref().await;
        if let Some(name) = &self.pg_database {
            drop_postgres_database(name).await;
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        let mut request = self.client.get(self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("request failed")
    }

    pub async fn post(&self, path: &str, body: &Value, token: Option<&str>) -> reqwest::Response {
        self.send(reqwest::Method::POST, path, body, token).await
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &Value,
        token: Option<&str>,
    ) -> reqwest::Response {
        let mut request = self.client.request(method, self.url(path)).json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("request failed")
    }

    pub async fn register(
        &self,
        email: &str,
        password: &str,
        display_name: &str,
    ) -> reqwest::Response {
        self.post(
            "/api/v1/auth/register",
            &json!({"email": email, "password": password, "display_name": display_name}),
            None,
        )
        .await
    }

    pub async fn login(&self, email: &str, password: &str) -> reqwest::Response {
        self.post(
            "/api/v1/auth/login",
            &json!({"email": email, "password": password}),
            None,
        )
        .await
    }

    /// Waits for the one email to `to` whose link starts with `path`, and returns its token.
    pub async fn token_from_email(&self, to: &str, path: &str) -> String {
        let email = self
            .smtp
            .wait_for(|m| m.is_to(to) && m.link_token(path).is_some())
            .await;
        email.link_token(path).expect("a token in the link")
    }
}

pub fn test_config(
    database_url: String,
    dir: &std::path::Path,
    smtp_url: Option<String>,
) -> Config {
    Config {
        database_url,
        database_pool_size: 10,
        host: "127.0.0.1".into(),
        port: 0,
        public_url: "http://localhost:8080".into(),
        jwt_secret: Some(JWT_SECRET.to_vec()),
        smtp_url,
        mail_from: "Alongside <no-reply@alongside.test>".into(),
        request_ttl_days: 14,
        data_dir: dir.to_path_buf(),
        log_format: LogFormat::Text,
        outbox: OutboxSettings {
            poll_interval: Duration::from_millis(100),
            backoff_base: Duration::from_millis(100),
            backoff_max: Duration::from_millis(800),
            ..OutboxSettings::default()
        },
        auth_requests_per_ip_per_minute: 600,
        location_changes_per_hour: 5,
        request_ttl: Duration::from_secs(14 * 86_400),
        scheduler_interval: Duration::from_millis(200),
        index_refresh_interval: Duration::from_millis(500),
        circle_digest_every: Duration::from_secs(86_400),
        match_digest_every: Duration::from_secs(7 * 86_400),
        check_in_first: Duration::from_secs(14 * 86_400),
        check_in_every: Duration::from_secs(42 * 86_400),
        mentor_dormant_after: Duration::from_secs(60 * 86_400),
        requests_per_day: 20,
        cors_origins: Vec::new(),
        trusted_proxies: Default::default(),
        password_hash_workers: api::auth::default_password_workers(),
    }
}

/// A complete, valid ProfileInput for a community OT in Dubbo, with `overrides` merged in.
pub fn profile_body(overrides: Value) -> Value {
    let mut body = json!({
        "display_name": "Sam Rivera",
        "profession": "occupational_therapy",
        "populations": ["older_adults", "neurology"],
        "settings": ["community", "home_visits"],
        "location": {"latitude": -32.2569, "longitude": 148.6011},
        "years_experience": 4,
        "languages": ["en"],
        "interests": ["Falls prevention", "driving assessment"],
        "bio": "Community OT covering the Orana region.",
        "timezone": "Australia/Sydney",
        "meeting_modes": ["virtual", "in_person"],
        "max_travel_km": 150,
        "works_alone": true,
        "seeking": {"peers": true, "mentor": true},
        "mentoring": {"offering": false, "capacity": 0}
    });
    if let (Some(target), Some(changes)) = (body.as_object_mut(), overrides.as_object()) {
        for (key, value) in changes {
            target.insert(key.clone(), value.clone());
        }
    }
    body
}

impl TestApp {
    pub async fn put_profile(&self, who: &Practitioner, body: &Value) -> reqwest::Response {
        self.send(
            reqwest::Method::PUT,
            "/api/v1/me/profile",
            body,
            Some(&who.access_token),
        )
        .await
    }
}

/// Asserts a problem document with the given status, and returns it.
pub async fn expect_problem(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status(), status, "unexpected status");
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        content_type.starts_with("application/problem+json"),
        "content type was {content_type}"
    );
    let body: Value = response.json().await.expect("a JSON problem");
    assert_eq!(body["status"], status);
    assert!(body["type"].is_string() && body["title"].is_string());
    body
}
