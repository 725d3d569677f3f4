//! Building the application (database, worker, HTTP server) apart from running it, so that
//! tests can bind port 0 and read the real port.

use std::{net::TcpListener, sync::Arc, time::Duration};

use actix_web::{
    dev::{Server, ServerHandle, Service},
    http::header::{self, HeaderValue},
    middleware::ErrorHandlers,
    web, App, HttpServer,
};
use sea_orm::DatabaseConnection;
use tokio::{
    sync::{watch, Notify},
    task::JoinHandle,
};
use tracing_actix_web::{RequestId, TracingLogger};

use crate::{
    auth::{JwtKeys, PasswordPool},
    config::{redact_url, Config},
    email::{transport::Mailer, worker::Worker},
    error::ApiError,
    http,
    http::headers::SecurityHeaders,
    http::problem::{json_payload_error, render_problem},
    http::ratelimit::IpLimiter,
    http::state::AppState,
    index::Matching,
    metrics::Metrics,
    service::Core,
    store,
};

/// Largest accepted request body.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// How often each instance re-reads the signing keys (a token naming an unknown key makes
/// it re-read them at once).
pub const KEY_REFRESH_INTERVAL: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot connect to the database at {url}: {source}")]
    Database { url: String, source: sea_orm::DbErr },
    #[error("cannot migrate the database: {0}")]
    Migrate(sea_orm::DbErr),
    #[error("cannot listen on {address}: {source}")]
    Listen {
        address: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Mail(anyhow::Error),
    #[error("cannot load profiles into the matching index: {0}")]
    Index(sea_orm::DbErr),
    #[error("cannot load the signing keys: {0}")]
    Keys(sea_orm::DbErr),
}

pub async fn connect_and_migrate(config: &Config) -> Result<DatabaseConnection, StartupError> {
    let db = store::connect(&config.database_url, config.database_pool_size)
        .await
        .map_err(|source| StartupError::Database {
            url: redact_url(&config.database_url),
            source,
        })?;
    store::migrate(&db).await.map_err(StartupError::Migrate)?;
    Ok(db)
}

pub struct Application {
    port: u16,
    server: Server,
    worker: JoinHandle<()>,
    background: Vec<JoinHandle<()>>,
    stop_worker: watch::Sender<bool>,
    state: web::Data<AppState>,
}

impl Application {
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        let db = connect_and_migrate(&config).await?;
        let reads = store::connect_readers(&config.database_url, &db)
            .await
            .map_err(|source| StartupError::Database {
                url: redact_url(&config.database_url),
                source,
            })?;
        let jwt = JwtKeys::load(&config, &db)
            .await
            .map_err(StartupError::Keys)?;
        let matching = Arc::new(Matching::load(&reads).await.map_err(StartupError::Index)?);
        let address = listen_address(&config.host, config.port);
        let listener = listen(&address).map_err(|source| StartupError::Listen {
            address: address.clone(),
            source,
        })?;
        let port = listener
            .local_addr()
            .map_err(|source| StartupError::Listen { address, source })?
            .port();

        let mailer = Mailer::new(config.smtp_url.as_deref(), &config.outbox_dir())
            .map_err(StartupError::Mail)?;
        let metrics = Metrics::default();
        let outbox_wake = Arc::new(Notify::new());
        let (stop_worker, stop_rx) = watch::channel(false);
        let worker = Worker {
            db: db.clone(),
            mailer,
            settings: config.outbox.clone(),
            mail_from: config.mail_from.clone(),
            message_id_domain: message_id_domain(&config.public_url),
            wake: outbox_wake.clone(),
            metrics: metrics.clone(),
        };
        let refresher = tokio::spawn(crate::index::run_refresher(
            matching.clone(),
            reads.clone(),
            config.index_refresh_interval,
            stop_rx.clone(),
        ));
        let key_refresher = tokio::spawn(
            jwt.clone()
                .run_refresher(KEY_REFRESH_INTERVAL, stop_rx.clone()),
        );
        let core = Arc::new(Core {
            db,
            reads,
            jwt,
            passwords: PasswordPool::new(config.password_hash_workers),
            metrics,
            outbox_wake,
            index: matching,
            config,
        });
        let scheduler = tokio::spawn(crate::scheduler::run(core.clone(), stop_rx.clone()));
        let worker = tokio::spawn(worker.run(stop_rx));

        let state = web::Data::new(AppState {
            ip_limiter: IpLimiter::new(
                core.config.auth_requests_per_ip_per_minute,
                core.config.trusted_proxies.clone(),
            ),
            core,
        });
        let server = run(listener, state.clone()).map_err(|source| StartupError::Listen {
            address: format!("port {port}"),
            source,
        })?;
        Ok(Self {
            port,
            server,
            worker,
            background: vec![refresher, key_refresher, scheduler],
            stop_worker,
            state,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    pub fn db(&self) -> DatabaseConnection {
        self.state.db.clone()
    }

    /// Serves until SIGTERM/SIGINT or `handle().stop()`. On a signal it stops accepting
    /// connections at once, lets requests in flight finish (for at most
    /// [`SHUTDOWN_GRACE_SECS`]) and, at the same time, lets the delivery worker finish or hand
    /// back the email in hand; the process is gone within about ten seconds.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let handle = self.server.handle();
        let mut server = std::pin::pin!(self.server);
        let served = tokio::select! {
            served = &mut server => served,
            () = termination() => {
                tracing::info!("stopping: finishing requests in flight, refusing new ones");
                let _ = self.stop_worker.send(true);
                // The command is sent at once; the server future, polled below, carries it
                // out (awaiting the returned future first would wait for itself).
                let stopped = handle.stop(true);
                let served = server.await;
                stopped.await;
                served
            }
        };
        let _ = self.stop_worker.send(true);
        for task in self.background {
            let _ = task.await;
        }
        if let Err(error) = self.worker.await {
            tracing::error!(%error, "the delivery worker stopped abnormally");
        }
        served
    }
}

/// How long requests in flight may go on once the process is told to stop.
pub const SHUTDOWN_GRACE_SECS: u64 = 5;

/// Resolves on SIGTERM or SIGINT (Ctrl-C).
async fn termination() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
            return;
        }
    }
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// `host:port`, with an IPv6 address in brackets.
fn listen_address(host: &str, port: u16) -> String {
    if host.parse::<std::net::Ipv6Addr>().is_ok() {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Connections the kernel keeps waiting for `accept` (std's default is 128). A burst of
/// clients beyond it has its connection attempts dropped and retried a second later, health
/// checks included; this is what actix uses when it binds itself.
const LISTEN_BACKLOG: i32 = 2048;

/// Binds like `TcpListener::bind`, with a longer queue of waiting connections.
fn listen(address: &str) -> std::io::Result<TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let mut last_error = None;
    for addr in std::net::ToSocketAddrs::to_socket_addrs(address)? {
        let bound = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))
            .and_then(|socket| {
                #[cfg(unix)]
                socket.set_reuse_address(true)?;
                socket.bind(&addr.into())?;
                socket.listen(LISTEN_BACKLOG)?;
                Ok(socket)
            });
        match bound {
            Ok(socket) => return Ok(socket.into()),
            Err(error) => last_error = Some(error),
        }
    }
    Err(last_error.unwrap_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "the address resolves to nothing",
        )
    }))
}

fn message_id_domain(public_url: &str) -> String {
    public_url
        .split("://")
        .nth(1)
        .and_then(|rest| rest.split(['/', ':']).next())
        .filter(|host| !host.is_empty())
        .unwrap_or("localhost")
        .to_owned()
}

fn run(listener: TcpListener, state: web::Data<AppState>) -> std::io::Result<Server> {
    let security = SecurityHeaders {
        hsts: state.config.is_https(),
        cors_origins: state.config.cors_origins.clone(),
    };
    let server = HttpServer::new(move || {
        let metrics = state.metrics.clone();
        let security = security.clone();
        App::new()
            .app_data(state.clone())
            .app_data(
                web::JsonConfig::default()
                    .limit(MAX_BODY_BYTES)
                    .error_handler(|error, _| json_payload_error(error).into()),
            )
            .app_data(web::PayloadConfig::new(MAX_BODY_BYTES))
            .app_data(
                web::QueryConfig::default()
                    .error_handler(|error, _| ApiError::field("query", error.to_string()).into()),
            )
            .app_data(web::PathConfig::default().error_handler(|_, _| ApiError::NotFound.into()))
            .configure(http::configure)
            .default_service(web::to(crate::http::app::fallback))
            .wrap(ErrorHandlers::new().default_handler(render_problem))
            .wrap_fn(move |req, srv| security.middleware(req, srv))
            .wrap_fn(move |req, srv| {
                let started = std::time::Instant::now();
                let method = req.method().to_string();
                let request_id = actix_web::HttpMessage::extensions(&req)
                    .get::<RequestId>()
                    .map(|id| id.to_string());
                let metrics = metrics.clone();
                let response = srv.call(req);
                async move {
                    let mut response = response.await?;
                    let route = response
                        .request()
                        .match_pattern()
                        .unwrap_or_else(|| "unmatched".to_owned());
                    let status = response.status().as_u16();
                    let seconds = started.elapsed().as_secs_f64();
                    metrics.observe_request(&method, &route, status, seconds);
                    tracing::info!(
                        %method,
                        %route,
                        status,
                        elapsed_ms = seconds * 1000.0,
                        "request served"
                    );
                    if let Some(id) =
                        request_id.and_then(|id: String| HeaderValue::from_str(&id).ok())
                    {
                        response
                            .headers_mut()
                            .insert(header::HeaderName::from_static("x-request-id"), id);
                    }
                    Ok(response)
                }
            })
            .wrap(TracingLogger::default())
    })
    .shutdown_timeout(SHUTDOWN_GRACE_SECS)
    .disable_signals()
    .listen(listener)?
    .run();
    Ok(server)
}
