//! Typed settings read once from the environment, with the defaults of the API contract.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use crate::{domain::address::TrustedProxies, store::tokens::EmailTokenPurpose};
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{name} is not valid: {reason}")]
    Invalid { name: &'static str, reason: String },
    #[error("cannot prepare the data folder {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// How the delivery worker paces itself and when it gives an email up; tests shorten these.
#[derive(Clone, Debug)]
pub struct OutboxSettings {
    pub poll_interval: Duration,
    /// The first retry waits about this long; each later one twice as long as the last.
    pub backoff_base: Duration,
    /// The longest wait between two attempts.
    pub backoff_max: Duration,
    /// How long a claim on an email lasts. A worker sends only while its lease has at least
    /// `send_timeout` left, so no other instance takes the email over mid-send; a worker
    /// that died releases its emails after this.
    pub lease: Duration,
    /// The longest one SMTP send may take before it counts as a failed attempt.
    pub send_timeout: Duration,
    /// The most emails claimed at once (fewer when the lease would not cover their sends).
    pub claim_batch: u64,
    /// How long an email is retried from when it was queued before it becomes a dead letter;
    /// sign-in mail is retried for the life of its link instead (the two below).
    pub retry_for: Duration,
    pub verify_email_retry_for: Duration,
    pub password_reset_retry_for: Duration,
}

impl Default for OutboxSettings {
    fn default() -> Self {
        let link_life = |purpose: EmailTokenPurpose| {
            Duration::from_secs(u64::try_from(purpose.ttl().num_seconds()).unwrap_or(0))
        };
        Self {
            poll_interval: Duration::from_secs(2),
            backoff_base: Duration::from_secs(2),
            backoff_max: Duration::from_secs(5 * 60),
            lease: Duration::from_secs(2 * 60),
            send_timeout: Duration::from_secs(20),
            claim_batch: 5,
            retry_for: Duration::from_secs(24 * 3600),
            verify_email_retry_for: link_life(EmailTokenPurpose::VerifyEmail),
            password_reset_retry_for: link_life(EmailTokenPurpose::PasswordReset),
        }
    }
}

#[derive(Clone)]
pub struct Config {
    pub database_url: String,
    /// PostgreSQL connections per instance (`DATABASE_POOL_SIZE`).
    pub database_pool_size: u32,
    pub host: String,
    pub port: u16,
    /// Base of links in emails, without a trailing slash.
    pub public_url: String,
    /// `JWT_SECRET`: the one signing key. Unset, the keys live in the database, shared by
    /// every instance and rotated with `alongside rotate-signing-key`.
    pub jwt_secret: Option<Vec<u8>>,
    pub smtp_url: Option<String>,
    pub mail_from: String,
    pub request_ttl_days: u32,
    pub data_dir: PathBuf,
    pub log_format: LogFormat,
    pub outbox: OutboxSettings,
    /// Sign-in, registration and reset attempts allowed from one address per minute.
    pub auth_requests_per_ip_per_minute: u32,
    /// How often a practitioner may move their own location in an hour.
    pub location_changes_per_hour: u32,
    /// How long a connection request waits for an answer (`REQUEST_TTL_DAYS`).
    pub request_ttl: Duration,
    /// How often reminders and expiries are looked for.
    pub scheduler_interval: Duration,
    /// How often the matching index picks up other instances' changes.
    pub index_refresh_interval: Duration,
    /// The least time between two digests of new circle posts to one person (a day).
    pub circle_digest_every: Duration,
    /// The time between two digests of new suggestions to one person (a week).
    pub match_digest_every: Duration,
    /// How long after a connection is accepted its first check-in is sent (two weeks).
    pub check_in_first: Duration,
    /// The time between later check-ins (six weeks).
    pub check_in_every: Duration,
    /// How long a mentor may be away before they drop out of suggestions and rounds (60
    /// days); they come back as soon as they sign in.
    pub mentor_dormant_after: Duration,
    /// Connection requests one practitioner may send in a day.
    pub requests_per_day: u32,
    /// Origins allowed to call the API from a browser (`CORS_ORIGINS`); none by default.
    pub cors_origins: Vec<String>,
    /// Peers whose `X-Forwarded-For` names the client (`TRUSTED_PROXIES`).
    pub trusted_proxies: TrustedProxies,
    /// Password hashes computed at once (`PASSWORD_HASH_WORKERS`).
    pub password_hash_workers: usize,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("database_url", &redact_url(&self.database_url))
            .field("host", &self.host)
            .field("port", &self.port)
            .field("public_url", &self.public_url)
            .field("smtp_url", &self.smtp_url.as_deref().map(redact_url))
            .field("mail_from", &self.mail_from)
            .field("request_ttl_days", &self.request_ttl_days)
            .field("data_dir", &self.data_dir)
            .field("cors_origins", &self.cors_origins)
            .finish_non_exhaustive()
    }
}

/// Hides the password part of a URL so it can be logged.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}://***@{}", &url[..scheme_end], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

/// The longest check-in interval, in seconds.
const YEAR_SECONDS: u64 = 366 * 86_400;

/// Every variable the service reads, validated at start-up.
pub const VARIABLES: &[&str] = &[
    "DATA_DIR",
    "DATABASE_URL",
    "DATABASE_POOL_SIZE",
    "HOST",
    "PORT",
    "PUBLIC_URL",
    "JWT_SECRET",
    "SMTP_URL",
    "MAIL_FROM",
    "REQUEST_TTL_DAYS",
    "RUST_LOG",
    "LOG_FORMAT",
    "AUTH_RATE_LIMIT_PER_MINUTE",
    "LOCATION_CHANGES_PER_HOUR",
    "CONNECTION_REQUESTS_PER_DAY",
    "CORS_ORIGINS",
    "TRUSTED_PROXIES",
    "PASSWORD_HASH_WORKERS",
    "SCHEDULER_INTERVAL_SECONDS",
    "CHECK_IN_FIRST_SECONDS",
    "CHECK_IN_EVERY_SECONDS",
    "MENTOR_DORMANT_DAYS",
];

fn invalid(name: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        name,
        reason: reason.into(),
    }
}

/// The variables, read through a lookup (the process environment, or a map in tests). A
/// value of only spaces counts as unset.
struct Vars<F> {
    lookup: F,
}

impl<F: Fn(&str) -> Option<String>> Vars<F> {
    fn get(&self, name: &str) -> Option<String> {
        (self.lookup)(name).filter(|v| !v.trim().is_empty())
    }

    /// A whole number within `range`, or the default when unset.
    fn number<T>(
        &self,
        name: &'static str,
        default: T,
        range: std::ops::RangeInclusive<T>,
    ) -> Result<T, ConfigError>
    where
        T: std::str::FromStr + PartialOrd + std::fmt::Display,
    {
        let Some(raw) = self.get(name) else {
            return Ok(default);
        };
        let reason = || {
            format!(
                "must be a whole number from {} to {}",
                range.start(),
                range.end()
            )
        };
        let value: T = raw.trim().parse().map_err(|_| invalid(name, reason()))?;
        if range.contains(&value) {
            Ok(value)
        } else {
            Err(invalid(name, reason()))
        }
    }
}

/// A loose upper bound for the per-person and per-address limits.
const MAX_LIMIT: u32 = 1_000_000;

impl Config {
    /// Reads and validates the environment. The first bad variable stops start-up with one
    /// line naming it (values are never echoed: some are secrets).
    pub fn from_env() -> Result<Self, ConfigError> {
        for name in VARIABLES {
            if let Err(std::env::VarError::NotUnicode(_)) = std::env::var(name) {
                return Err(invalid(name, "is not valid UTF-8"));
            }
        }
        let config = Self::from_lookup(|name| std::env::var(name).ok())?;
        if config.database_url == default_database_url(&config.data_dir) {
            ensure_dir(&config.data_dir)?;
        }
        Ok(config)
    }

    /// Validates the settings given by `lookup` (a variable's value, if set) without
    /// touching the process environment or the file system.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let vars = Vars { lookup };
        let data_dir = PathBuf::from(vars.get("DATA_DIR").unwrap_or_else(|| "data".to_owned()));
        let database_url = match vars.get("DATABASE_URL") {
            Some(url) => database_url(url.trim())?,
            None => default_database_url(&data_dir),
        };
        let jwt_secret = match vars.get("JWT_SECRET") {
            Some(secret) if secret.len() >= 32 => Some(secret.into_bytes()),
            Some(_) => return Err(invalid("JWT_SECRET", "must be at least 32 bytes")),
            None => None,
        };
        if let Some(filter) = vars.get("RUST_LOG") {
            tracing_subscriber::EnvFilter::builder()
                .parse(filter.trim())
                .map_err(|e| invalid("RUST_LOG", format!("is not a log filter: {e}")))?;
        }
        let log_format = match vars.get("LOG_FORMAT").as_deref().map(str::trim) {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(_) => return Err(invalid("LOG_FORMAT", "must be `json` or `text`")),
        };
        let request_ttl_days: u32 = vars.number("REQUEST_TTL_DAYS", 14, 1..=365)?;
        let public_url = match vars.get("PUBLIC_URL") {
            Some(url) => public_url(url.trim())?,
            None => "http://localhost:8080".to_owned(),
        };
        let smtp_url = vars
            .get("SMTP_URL")
            .map(|url| smtp_url(url.trim()))
            .transpose()?;
        let mail_from = match vars.get("MAIL_FROM") {
            Some(from) => mail_from(from.trim())?,
            None => "Alongside <no-reply@localhost>".to_owned(),
        };
        let host = match vars.get("HOST") {
            Some(host) => host_name(host.trim())?,
            None => "127.0.0.1".to_owned(),
        };
        let cors_origins = match vars.get("CORS_ORIGINS") {
            Some(list) => cors_origins(&list)?,
            None => Vec::new(),
        };
        Ok(Self {
            database_url,
            database_pool_size: vars.number("DATABASE_POOL_SIZE", 10, 2..=1_000)?,
            host,
            port: vars.number("PORT", 8080, 1..=u16::MAX)?,
            public_url,
            jwt_secret,
            smtp_url,
            mail_from,
            request_ttl_days,
            data_dir,
            log_format,
            outbox: OutboxSettings::default(),
            auth_requests_per_ip_per_minute: vars.number(
                "AUTH_RATE_LIMIT_PER_MINUTE",
                600,
                1..=MAX_LIMIT,
            )?,
            location_changes_per_hour: vars.number(
                "LOCATION_CHANGES_PER_HOUR",
                5,
                1..=MAX_LIMIT,
            )?,
            request_ttl: Duration::from_secs(u64::from(request_ttl_days) * 86_400),
            scheduler_interval: Duration::from_secs(vars.number(
                "SCHEDULER_INTERVAL_SECONDS",
                60,
                1..=3_600,
            )?),
            index_refresh_interval: Duration::from_secs(2),
            circle_digest_every: Duration::from_secs(86_400),
            match_digest_every: Duration::from_secs(7 * 86_400),
            check_in_first: Duration::from_secs(vars.number(
                "CHECK_IN_FIRST_SECONDS",
                14 * 86_400,
                1..=YEAR_SECONDS,
            )?),
            check_in_every: Duration::from_secs(vars.number(
                "CHECK_IN_EVERY_SECONDS",
                42 * 86_400,
                1..=YEAR_SECONDS,
            )?),
            mentor_dormant_after: Duration::from_secs(
                vars.number("MENTOR_DORMANT_DAYS", 60u64, 1..=3_650)? * 86_400,
            ),
            requests_per_day: vars.number("CONNECTION_REQUESTS_PER_DAY", 20, 1..=MAX_LIMIT)?,
            cors_origins,
            trusted_proxies: match vars.get("TRUSTED_PROXIES") {
                None => TrustedProxies::default(),
                Some(raw) => raw.trim().parse().map_err(
                    |e: <TrustedProxies as std::str::FromStr>::Err| {
                        invalid("TRUSTED_PROXIES", e.to_string())
                    },
                )?,
            },
            password_hash_workers: vars.number(
                "PASSWORD_HASH_WORKERS",
                crate::auth::default_password_workers(),
                1..=1024,
            )?,
        })
    }

    pub fn outbox_dir(&self) -> PathBuf {
        self.data_dir.join("outbox")
    }

    /// Whether links point at an https address (and browsers should insist on https).
    pub fn is_https(&self) -> bool {
        self.public_url
            .get(..8)
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"))
    }
}

fn default_database_url(data_dir: &Path) -> String {
    format!(
        "sqlite://{}?mode=rwc",
        data_dir.join("alongside.db").display()
    )
}

fn database_url(url: &str) -> Result<String, ConfigError> {
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("sqlite:") {
        return Ok(url.to_owned());
    }
    if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
        return match url::Url::parse(url) {
            Ok(parsed) if parsed.host_str().is_some_and(|h| !h.is_empty()) => Ok(url.to_owned()),
            Ok(_) => Err(invalid("DATABASE_URL", "names no database host")),
            Err(e) => Err(invalid("DATABASE_URL", format!("is not a URL: {e}"))),
        };
    }
    Err(invalid(
        "DATABASE_URL",
        "must start with sqlite: or postgres://",
    ))
}

/// An absolute http(s) URL without credentials, query or fragment; no trailing slash.
fn public_url(url: &str) -> Result<String, ConfigError> {
    let name = "PUBLIC_URL";
    let parsed = url::Url::parse(url)
        .map_err(|e| invalid(name, format!("must be an absolute http(s) URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(invalid(name, "must be an http:// or https:// URL"));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(invalid(name, "names no host"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(invalid(name, "must not contain credentials"));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(invalid(name, "must not have a query or fragment"));
    }
    Ok(url.trim_end_matches('/').to_owned())
}

fn smtp_url(url: &str) -> Result<String, ConfigError> {
    lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(url).map_err(|e| {
        invalid(
            "SMTP_URL",
            format!("must be an smtp:// or smtps:// URL: {e}"),
        )
    })?;
    Ok(url.to_owned())
}

fn mail_from(from: &str) -> Result<String, ConfigError> {
    from.parse::<lettre::message::Mailbox>().map_err(|e| {
        invalid(
            "MAIL_FROM",
            format!("must be a mailbox like `Alongside <no-reply@example.org>`: {e}"),
        )
    })?;
    Ok(from.to_owned())
}

/// An IP address (IPv6 with or without brackets) or a host name.
fn host_name(host: &str) -> Result<String, ConfigError> {
    let unbracketed = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if unbracketed.parse::<std::net::IpAddr>().is_ok() {
        return Ok(unbracketed.to_owned());
    }
    let label_ok = |label: &str| {
        (1..=63).contains(&label.len())
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    let name = host.strip_suffix('.').unwrap_or(host);
    if name.len() <= 253 && name.split('.').all(label_ok) {
        Ok(host.to_owned())
    } else {
        Err(invalid("HOST", "must be an IP address or a host name"))
    }
}

/// Comma-separated origins (`scheme://host[:port]`), each normalised as browsers send it.
fn cors_origins(list: &str) -> Result<Vec<String>, ConfigError> {
    let name = "CORS_ORIGINS";
    let mut origins = Vec::new();
    for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let shown: String = entry.chars().take(80).collect();
        let not_origin = || {
            invalid(
                name,
                format!("{shown:?} is not an origin like https://app.example.org"),
            )
        };
        let parsed = url::Url::parse(entry).map_err(|_| not_origin())?;
        let bare = matches!(parsed.scheme(), "http" | "https")
            && parsed.host_str().is_some_and(|h| !h.is_empty())
            && parsed.username().is_empty()
            && parsed.password().is_none()
            && parsed.path() == "/"
            && parsed.query().is_none()
            && parsed.fragment().is_none();
        if !bare {
            return Err(not_origin());
        }
        let origin = parsed.origin().ascii_serialization();
        if !origins.contains(&origin) {
            origins.push(origin);
        }
    }
    Ok(origins)
}

fn ensure_dir(path: &Path) -> Result<(), ConfigError> {
    std::fs::create_dir_all(path).map_err(|source| ConfigError::DataDir {
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_credentials_in_urls() {
        assert_eq!(
            redact_url("postgres://user:secret@db:5432/app"),
            "postgres://***@db:5432/app"
        );
        assert_eq!(redact_url("sqlite://data/a.db"), "sqlite://data/a.db");
    }

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: std::collections::HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_lookup(|name| vars.get(name).cloned())
    }

    /// The one-line message for a bad value, checking that it names the variable.
    fn rejected(name: &str, value: &str) -> String {
        let error = match config(&[(name, value)]) {
            Ok(_) => panic!("{name}={value:?} was accepted"),
            Err(error) => error,
        };
        assert!(
            matches!(&error, ConfigError::Invalid { name: n, .. } if *n == name),
            "{error}"
        );
        let message = error.to_string();
        assert!(
            message.starts_with(&format!("{name} is not valid: ")),
            "{message}"
        );
        assert!(!message.contains('\n'), "{message}");
        message
    }

    #[test]
    fn no_variables_at_all_give_the_embedded_default() {
        let c = config(&[]).unwrap();
        assert_eq!(c.database_url, "sqlite://data/alongside.db?mode=rwc");
        assert_eq!((c.host.as_str(), c.port), ("127.0.0.1", 8080));
        assert_eq!(c.public_url, "http://localhost:8080");
        assert!(!c.is_https());
        assert_eq!(c.jwt_secret, None);
        assert_eq!(c.smtp_url, None);
        assert_eq!(c.mail_from, "Alongside <no-reply@localhost>");
        assert_eq!(c.request_ttl, Duration::from_secs(14 * 86_400));
        assert_eq!(c.log_format, LogFormat::Text);
        assert_eq!(c.auth_requests_per_ip_per_minute, 600);
        assert_eq!(c.location_changes_per_hour, 5);
        assert_eq!(c.requests_per_day, 20);
        assert!(c.cors_origins.is_empty());
    }

    #[test]
    fn good_values_are_taken() {
        let c = config(&[
            ("DATA_DIR", "/var/lib/alongside"),
            ("DATABASE_URL", "postgres://app:pw@db:5432/alongside"),
            ("HOST", "0.0.0.0"),
            ("PORT", " 9000 "),
            ("PUBLIC_URL", "https://alongside.example.org/"),
            ("JWT_SECRET", "0123456789abcdef0123456789abcdef"),
            (
                "SMTP_URL",
                "smtp://user:pass@mail.example.org:587?tls=required",
            ),
            ("MAIL_FROM", "Alongside <hello@example.org>"),
            ("REQUEST_TTL_DAYS", "365"),
            ("RUST_LOG", "info,api=debug"),
            ("LOG_FORMAT", "json"),
            ("AUTH_RATE_LIMIT_PER_MINUTE", "1000000"),
            ("LOCATION_CHANGES_PER_HOUR", "1"),
            ("CONNECTION_REQUESTS_PER_DAY", "3"),
            (
                "CORS_ORIGINS",
                "https://App.Example.org, http://localhost:5173,https://app.example.org:443/",
            ),
        ])
        .unwrap();
        assert_eq!(c.data_dir, PathBuf::from("/var/lib/alongside"));
        assert_eq!(c.port, 9000);
        assert_eq!(c.public_url, "https://alongside.example.org");
        assert!(c.is_https());
        assert_eq!(
            c.jwt_secret.as_deref(),
            Some(&b"0123456789abcdef0123456789abcdef"[..])
        );
        assert_eq!(c.request_ttl, Duration::from_secs(365 * 86_400));
        assert_eq!(c.log_format, LogFormat::Json);
        assert_eq!(
            c.cors_origins,
            ["https://app.example.org", "http://localhost:5173"]
        );
        for host in [
            "::1",
            "[::1]",
            "localhost",
            "api.internal.example.org",
            "10.0.0.7",
        ] {
            assert!(config(&[("HOST", host)]).is_ok(), "{host}");
        }
        assert_eq!(config(&[("HOST", "[::1]")]).unwrap().host, "::1");
        assert!(config(&[("DATABASE_URL", "sqlite::memory:")]).is_ok());
        assert!(config(&[("MAIL_FROM", "no-reply@example.org")]).is_ok());
        assert!(config(&[("SMTP_URL", "smtps://mail.example.org")]).is_ok());
        assert!(config(&[("REQUEST_TTL_DAYS", "1")]).is_ok());
    }

    #[test]
    fn a_bad_trusted_proxy_is_one_line_naming_the_setting() {
        let message = rejected("TRUSTED_PROXIES", "10.0.0.0/8, 10.1.0.0/33");
        assert_eq!(
            message,
            "TRUSTED_PROXIES is not valid: `10.1.0.0/33` is not an IP address or CIDR range"
        );
        let good = config(&[("TRUSTED_PROXIES", "10.0.0.0/8")]).unwrap();
        assert!(good.trusted_proxies.contains("10.2.3.4".parse().unwrap()));
        assert!(rejected("PASSWORD_HASH_WORKERS", "0").contains("PASSWORD_HASH_WORKERS"));
    }

    #[test]
    fn a_value_of_spaces_is_unset() {
        assert_eq!(config(&[("PORT", "   ")]).unwrap().port, 8080);
    }

    #[test]
    fn request_ttl_days_is_bounded_so_it_cannot_overflow() {
        for bad in [
            "99999999999",
            "4294967295",
            "366",
            "0",
            "-1",
            "2.5",
            "two weeks",
        ] {
            let message = rejected("REQUEST_TTL_DAYS", bad);
            assert!(message.contains("from 1 to 365"), "{message}");
        }
    }

    #[test]
    fn numbers_outside_their_range_are_refused() {
        for (name, bad) in [
            ("PORT", "0"),
            ("PORT", "65536"),
            ("PORT", "http"),
            ("AUTH_RATE_LIMIT_PER_MINUTE", "0"),
            ("AUTH_RATE_LIMIT_PER_MINUTE", "1000001"),
            ("LOCATION_CHANGES_PER_HOUR", "0"),
            ("LOCATION_CHANGES_PER_HOUR", "lots"),
            ("CONNECTION_REQUESTS_PER_DAY", "0"),
            ("CONNECTION_REQUESTS_PER_DAY", "99999999999999999999"),
        ] {
            rejected(name, bad);
        }
    }

    #[test]
    fn public_url_must_be_an_absolute_http_url() {
        for bad in [
            "localhost:8080",
            "/relative",
            "ftp://example.org",
            "https://",
            "https://user:pw@example.org",
            "https://example.org/?x=1",
            "https://example.org/#top",
        ] {
            rejected("PUBLIC_URL", bad);
        }
    }

    #[test]
    fn database_url_must_be_sqlite_or_postgres() {
        for bad in [
            "mysql://db/app",
            "data/alongside.db",
            "postgres://",
            "postgres://:5432/app",
        ] {
            let message = rejected("DATABASE_URL", bad);
            assert!(!message.contains("pw"), "{message}");
        }
        let message = rejected("DATABASE_URL", "mysql://user:hunter2secret@db/app");
        assert!(
            !message.contains("hunter2secret"),
            "the value is never echoed: {message}"
        );
    }

    #[test]
    fn mail_settings_must_parse() {
        rejected("SMTP_URL", "mail.example.org:587");
        rejected("SMTP_URL", "http://mail.example.org");
        rejected("MAIL_FROM", "Alongside");
        rejected("MAIL_FROM", "Alongside <not an address>");
    }

    #[test]
    fn host_must_be_an_address_or_a_host_name() {
        for bad in [
            "exa mple.org",
            "-bad.example.org",
            "example..org",
            "http://example.org",
            "::1::2",
        ] {
            rejected("HOST", bad);
        }
    }

    #[test]
    fn log_settings_are_checked() {
        rejected("LOG_FORMAT", "yaml");
        rejected("RUST_LOG", "info,api=loud");
    }

    #[test]
    fn a_short_jwt_secret_is_refused() {
        let message = rejected("JWT_SECRET", "too short");
        assert!(!message.contains("too short"), "{message}");
    }

    #[test]
    fn cors_origins_must_be_origins() {
        for bad in [
            "*",
            "app.example.org",
            "https://app.example.org/path",
            "https://app.example.org?x",
            "ftp://app.example.org",
            "https://user@app.example.org",
            "null",
            "https://ok.example.org,https://bad.example.org/x",
        ] {
            rejected("CORS_ORIGINS", bad);
        }
        assert!(config(&[("CORS_ORIGINS", " , ")])
            .unwrap()
            .cors_origins
            .is_empty());
    }
}
