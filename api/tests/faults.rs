//! The `alongside` process under faults, while it is busy: killed outright during a stream
//! of writes (every write it acknowledged is there after a restart, on both engines), and
//! told to stop with SIGTERM (requests in flight finish, new connections are refused, the
//! delivery worker hands its lease back, and the process is gone within ten seconds).

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use api::store::entities::outbox;
use sea_orm::{ColumnTrait, Database, EntityTrait, QueryFilter};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PASSWORD: &str = "a long enough password";

struct Service {
    child: Child,
    base: String,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts the binary on `database_url` and waits until it answers.
async fn start(database_url: &str, dir: &Path, smtp_url: Option<&str>) -> Service {
    let port = free_port();
    let mut command = Command::new(env!("CARGO_BIN_EXE_alongside"));
    command
        .env_clear()
        .env("DATABASE_URL", database_url)
        .env("DATA_DIR", dir)
        .env("HOST", "127.0.0.1")
        .env("PORT", port.to_string())
        .env("JWT_SECRET", "fault-test-secret-that-is-at-least-32-bytes")
        .env("AUTH_RATE_LIMIT_PER_MINUTE", "1000000")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(url) = smtp_url {
        command.env("SMTP_URL", url);
    }
    let child = command.arg("serve").spawn().expect("the binary starts");
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let started = Instant::now();
    while client.get(format!("{base}/healthz")).send().await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the service did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Service { child, base }
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([format!("-{name}"), child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

fn temp_dir(what: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("alongside-{what}-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn register(client: &reqwest::Client, base: &str, email: &str) -> Option<u16> {
    client
        .post(format!("{base}/api/v1/auth/register"))
        .json(&json!({"email": email, "password": PASSWORD, "display_name": "Writer"}))
        .send()
        .await
        .ok()
        .map(|r| r.status().as_u16())
}

/// A PostgreSQL database of its own (its name and address), or `None` (a skip) where
/// PostgreSQL is not running, except under CI, which requires it.
async fn postgres_database() -> Option<(String, String)> {
    use sea_orm::ConnectionTrait;
    match Database::connect("postgres://postgres@127.0.0.1:5432/postgres").await {
        Ok(admin) => {
            let name = format!("alongside_faults_{}", uuid::Uuid::new_v4().simple());
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .unwrap();
            let url = format!("postgres://postgres@127.0.0.1:5432/{name}");
            Some((name, url))
        }
        Err(_) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("PostgreSQL is required under CI=true")
        }
        Err(_) => {
            eprintln!("PostgreSQL is not reachable: skipping the PostgreSQL leg");
            None
        }
    }
}

/// Eight writers register accounts as fast as they can; the process is killed with
/// SIGKILL in the middle. After a restart every acknowledged registration is there: the
/// same email is refused as taken.
async fn acknowledged_writes_survive_kill_9(database_url: &str) {
    let dir = temp_dir("kill");
    let service = start(database_url, &dir, None).await;
    let client = reqwest::Client::new();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers: Vec<_> = (0..8)
        .map(|writer| {
            let client = client.clone();
            let base = service.base.clone();
            let stop = stop.clone();
            tokio::spawn(async move {
                let mut acknowledged = Vec::new();
                let mut n = 0;
                while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                    let email = format!("writer-{writer}-{n}@example.org");
                    n += 1;
                    match register(&client, &base, &email).await {
                        Some(201) => acknowledged.push(email),
                        Some(_) => {}
                        None => break,
                    }
                }
                acknowledged
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut service = service;
    signal(&service.child, "KILL");
    service.child.wait().unwrap();
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let mut acknowledged = Vec::new();
    for writer in writers {
        acknowledged.extend(writer.await.unwrap());
    }
    assert!(
        !acknowledged.is_empty(),
        "no write was acknowledged before the kill"
    );

    let mut restarted = start(database_url, &dir, None).await;
    for email in &acknowledged {
        assert_eq!(
            register(&client, &restarted.base, email).await,
            Some(409),
            "{email} was acknowledged before the kill but is not there after it"
        );
    }
    restarted.child.kill().unwrap();
    restarted.child.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_kill_9_on_sqlite() {
    let dir = temp_dir("kill-db");
    let url = format!("sqlite://{}?mode=rwc", dir.join("alongside.db").display());
    acknowledged_writes_survive_kill_9(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_kill_9_on_postgres() {
    if let Some((name, url)) = postgres_database().await {
        acknowledged_writes_survive_kill_9(&url).await;
        drop_database(&name).await;
    }
}

/// Drops a database [`postgres_database`] made, once its test has passed.
async fn drop_database(name: &str) {
    use sea_orm::ConnectionTrait;
    let admin = Database::connect("postgres://postgres@127.0.0.1:5432/postgres")
        .await
        .unwrap();
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await
        .unwrap();
}

/// An SMTP server that accepts connections and never says a word: a send hangs on it.
async fn silent_smtp() -> (u16, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    (port, task)
}

/// SIGTERM while requests are in flight and the delivery worker is stuck on a silent mail
/// server: the requests in flight are answered, a new connection is refused, the worker's
/// lease is handed back, and the process exits, successfully, within ten seconds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_in_flight_work_and_exits_within_ten_seconds() {
    let dir = temp_dir("term");
    let database = dir.join("alongside.db");
    let url = format!("sqlite://{}?mode=rwc", database.display());
    let (smtp_port, _smtp) = silent_smtp().await;
    let mut service = start(&url, &dir, Some(&format!("smtp://127.0.0.1:{smtp_port}"))).await;
    let client = reqwest::Client::new();

    // A registration queues a verification email; the worker takes it and hangs on the
    // silent server.
    assert_eq!(
        register(&client, &service.base, "first@example.org").await,
        Some(201)
    );
    let db = Database::connect(&url).await.unwrap();
    let started = Instant::now();
    loop {
        let leased = outbox::Entity::find()
            .filter(outbox::Column::LeaseToken.is_not_null())
            .all(&db)
            .await
            .unwrap();
        if !leased.is_empty() {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the worker never took the email"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // A request in flight when the signal arrives: its body is half sent.
    let body =
        json!({"email": "in-flight@example.org", "password": PASSWORD, "display_name": "Late"})
            .to_string();
    let mut in_flight = tokio::net::TcpStream::connect(service.base.trim_start_matches("http://"))
        .await
        .unwrap();
    let head = format!(
        "POST /api/v1/auth/register HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let (first, rest) = body.split_at(body.len() / 2);
    in_flight.write_all(head.as_bytes()).await.unwrap();
    in_flight.write_all(first.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let signalled = Instant::now();
    signal(&service.child, "TERM");
    tokio::time::sleep(Duration::from_millis(300)).await;
    in_flight.write_all(rest.as_bytes()).await.unwrap();
    let mut answer = String::new();
    in_flight.read_to_string(&mut answer).await.unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 201"),
        "the request in flight was not finished: {answer:?}"
    );

    tokio::time::sleep(Duration::from_millis(200)).await;
    if service.child.try_wait().unwrap().is_none() {
        let fresh = reqwest::Client::new();
        assert!(
            fresh
                .get(format!("{}/healthz", service.base))
                .send()
                .await
                .is_err(),
            "a new connection was accepted after SIGTERM"
        );
    }

    let status = loop {
        if let Some(status) = service.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            signalled.elapsed() < Duration::from_secs(10),
            "still running ten seconds after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "exit status {status}");
    let leased = outbox::Entity::find()
        .filter(outbox::Column::LeaseToken.is_not_null())
        .all(&db)
        .await
        .unwrap();
    assert!(leased.is_empty(), "a lease was left behind: {leased:?}");
}
