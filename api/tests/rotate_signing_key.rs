//! `alongside rotate-signing-key` on SQLite and PostgreSQL: each run signs with a new key and
//! retires the previous one; `--revoke` deletes the older keys; with `JWT_SECRET` set there
//! is nothing to rotate.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::process::{Command, Output};

use api::store::entities::signing_keys;
use sea_orm::{ConnectionTrait, Database, EntityTrait};

fn alongside(database_url: &str, data_dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_alongside"))
        .env_clear()
        .env("DATABASE_URL", database_url)
        .env("DATA_DIR", data_dir)
        .env("RUST_LOG", "warn")
        .args(args)
        .output()
        .expect("the binary runs")
}

/// The kid printed by a successful rotation.
fn rotated_to(output: &Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("signing with key "))
        .and_then(|rest| rest.split_whitespace().next())
        .expect("the new key id")
        .to_owned()
}

async fn exercise(database_url: &str) {
    let dir = std::env::temp_dir().join(format!("alongside-rotate-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();

    let first = alongside(database_url, &dir, &["rotate-signing-key"]);
    let second_kid = rotated_to(&first);
    let third = alongside(database_url, &dir, &["rotate-signing-key"]);
    let third_kid = rotated_to(&third);
    assert_ne!(second_kid, third_kid);
    assert!(
        String::from_utf8_lossy(&third.stdout).contains(&format!("key {second_kid} is retired"))
    );

    let db = Database::connect(database_url).await.unwrap();
    let mut keys = signing_keys::Entity::find().all(&db).await.unwrap();
    keys.sort_by_key(|k| k.generation);
    assert_eq!(
        keys.len(),
        3,
        "the first key, created on demand, and two more"
    );
    assert!(keys[0].retired_at.is_some() && keys[1].retired_at.is_some());
    assert_eq!(keys[1].kid, second_kid);
    assert_eq!(
        (keys[2].kid.as_str(), keys[2].retired_at),
        (third_kid.as_str(), None)
    );

    let revoked = alongside(database_url, &dir, &["rotate-signing-key", "--revoke"]);
    let fourth_kid = rotated_to(&revoked);
    let keys = signing_keys::Entity::find().all(&db).await.unwrap();
    assert_eq!(keys.len(), 1, "--revoke deletes every older key");
    assert_eq!(keys[0].kid, fourth_kid);
    let _ = db.close().await;

    let fixed = Command::new(env!("CARGO_BIN_EXE_alongside"))
        .env_clear()
        .env("DATABASE_URL", database_url)
        .env("DATA_DIR", &dir)
        .env("JWT_SECRET", "a fixed secret of at least thirty-two bytes")
        .arg("rotate-signing-key")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&fixed.stderr);
    assert!(!fixed.status.success());
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("JWT_SECRET"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn rotation_on_sqlite() {
    let dir = std::env::temp_dir().join(format!("alongside-rotate-db-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    exercise(&format!(
        "sqlite://{}?mode=rwc",
        dir.join("alongside.db").display()
    ))
    .await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn rotation_on_postgres() {
    let base = std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    let Ok(admin) = Database::connect(format!("{base}/postgres")).await else {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "PostgreSQL is required under CI=true but is not reachable"
        );
        eprintln!("PostgreSQL is not reachable: skipping the PostgreSQL leg");
        return;
    };
    let name = format!("alongside_rotate_{}", uuid::Uuid::new_v4().simple());
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    exercise(&format!("{base}/{name}")).await;
    let _ = admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await;
    let _ = admin.close().await;
}
