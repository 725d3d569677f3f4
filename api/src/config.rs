//! Typed settings read once from the environment, with the defaults of the API contract.

use std::{
    io::Write,
    path::{Path, PathBuf},
    time::Duration,
};

use rand::RngCore;

use crate::ratelimit::TrustedProxies;

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

/// How the delivery worker paces itself; tests shorten these.
#[derive(Clone, Debug)]
pub struct OutboxSettings {
    pub poll_interval: Duration,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    pub max_attempts: i32,
}

impl Default for OutboxSettings {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_secs(2),
            backoff_base: Duration::from_secs(2),
            backoff_max: Duration::from_secs(15 * 60),
            max_attempts: 12,
        }
    }
}

#[derive(Clone)]
pub struct Config {
    pub database_url: String,
    pub host: String,
    pub port: u16,
    pub public_url: String,
    pub jwt_secret: Vec<u8>,
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
    /// Connection requests one practitioner may send in a day.
    pub requests_per_day: u32,
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

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn parsed<T: std::str::FromStr>(name: &'static str, default: T) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    parse_setting(name, var(name), default)
}

fn parse_setting<T: std::str::FromStr>(
    name: &'static str,
    raw: Option<String>,
    default: T,
) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    match raw {
        None => Ok(default),
        Some(raw) => raw
            .trim()
            .parse()
            .map_err(|e: T::Err| ConfigError::Invalid {
                name,
                reason: e.to_string(),
            }),
    }
}

impl Config {
    /// Reads the environment. The JWT secret is created in the data folder on first use
    /// when `JWT_SECRET` is not set.
    pub fn from_env() -> Result<Self, ConfigError> {
        let data_dir = PathBuf::from(var("DATA_DIR").unwrap_or_else(|| "data".to_owned()));
        let database_url = match var("DATABASE_URL") {
            Some(url) => url,
            None => {
                ensure_dir(&data_dir)?;
                format!(
                    "sqlite://{}?mode=rwc",
                    data_dir.join("alongside.db").display()
                )
            }
        };
        let jwt_secret = match var("JWT_SECRET") {
            Some(secret) if secret.len() >= 32 => secret.into_bytes(),
            Some(_) => {
                return Err(ConfigError::Invalid {
                    name: "JWT_SECRET",
                    reason: "must be at least 32 bytes".into(),
                })
            }
            None => load_or_create_secret(&data_dir)?,
        };
        let log_format = match var("LOG_FORMAT").as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    name: "LOG_FORMAT",
                    reason: format!("expected `json` or `text`, got `{other}`"),
                })
            }
        };
        let request_ttl_days: u32 = parsed("REQUEST_TTL_DAYS", 14)?;
        let public_url = var("PUBLIC_URL").unwrap_or_else(|| "http://localhost:8080".to_owned());
        Ok(Self {
            database_url,
            host: var("HOST").unwrap_or_else(|| "127.0.0.1".to_owned()),
            port: parsed("PORT", 8080)?,
            public_url: public_url.trim_end_matches('/').to_owned(),
            jwt_secret,
            smtp_url: var("SMTP_URL"),
            mail_from: var("MAIL_FROM").unwrap_or_else(|| "Alongside <no-reply@localhost>".into()),
            request_ttl_days,
            data_dir,
            log_format,
            outbox: OutboxSettings::default(),
            auth_requests_per_ip_per_minute: parsed("AUTH_RATE_LIMIT_PER_MINUTE", 600)?,
            location_changes_per_hour: parsed("LOCATION_CHANGES_PER_HOUR", 5)?,
            request_ttl: Duration::from_secs(u64::from(request_ttl_days) * 86_400),
            scheduler_interval: Duration::from_secs(60),
            index_refresh_interval: Duration::from_secs(2),
            requests_per_day: parsed("CONNECTION_REQUESTS_PER_DAY", 20)?,
            trusted_proxies: parsed("TRUSTED_PROXIES", TrustedProxies::default())?,
            password_hash_workers: match parsed(
                "PASSWORD_HASH_WORKERS",
                crate::auth::default_password_workers(),
            )? {
                0 => {
                    return Err(ConfigError::Invalid {
                        name: "PASSWORD_HASH_WORKERS",
                        reason: "must be at least 1".into(),
                    })
                }
                workers => workers,
            },
        })
    }

    pub fn outbox_dir(&self) -> PathBuf {
        self.data_dir.join("outbox")
    }
}

fn ensure_dir(path: &Path) -> Result<(), ConfigError> {
    std::fs::create_dir_all(path).map_err(|source| ConfigError::DataDir {
        path: path.to_owned(),
        source,
    })
}

fn load_or_create_secret(data_dir: &Path) -> Result<Vec<u8>, ConfigError> {
    ensure_dir(data_dir)?;
    let path = data_dir.join("jwt_secret");
    let io_err = |source| ConfigError::DataDir {
        path: path.clone(),
        source,
    };
    match std::fs::read_to_string(&path) {
        Ok(existing) if existing.trim().len() >= 32 => {
            return Ok(existing.trim().as_bytes().to_vec())
        }
        Ok(_) => {
            return Err(ConfigError::Invalid {
                name: "JWT_SECRET",
                reason: format!("{} holds fewer than 32 bytes", path.display()),
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_err(e)),
    }
    let mut bytes = [0u8; 48];
    rand::rng().fill_bytes(&mut bytes);
    let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&path).map_err(io_err)?;
    file.write_all(secret.as_bytes()).map_err(io_err)?;
    Ok(secret.into_bytes())
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

    #[test]
    fn a_bad_trusted_proxy_is_one_line_naming_the_setting() {
        let error = parse_setting(
            "TRUSTED_PROXIES",
            Some("10.0.0.0/8, 10.1.0.0/33".into()),
            TrustedProxies::default(),
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            error,
            "TRUSTED_PROXIES is not valid: `10.1.0.0/33` is not an IP address or CIDR range"
        );
        let good = parse_setting(
            "TRUSTED_PROXIES",
            Some("10.0.0.0/8".into()),
            TrustedProxies::default(),
        )
        .unwrap();
        assert!(good.contains("10.2.3.4".parse().unwrap()));
    }

    #[test]
    fn secret_is_created_once_with_private_mode() {
        let dir = std::env::temp_dir().join(format!("alongside-secret-{}", uuid::Uuid::new_v4()));
        let first = load_or_create_secret(&dir).unwrap();
        let second = load_or_create_secret(&dir).unwrap();
        assert_eq!(first, second);
        assert!(first.len() >= 32);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join("jwt_secret"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::remove_dir_all(dir).unwrap();
    }
}
