//! Storage: connecting, migrating, and the queries, one module per table group.

pub mod connections;
pub mod entities;
pub mod erasures;
pub mod login_failures;
pub mod outbox;
pub mod profiles;
pub mod signing_keys;
pub mod tokens;
pub mod users;

use std::time::Duration;

use migration::MigratorTrait;
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbBackend, DbErr};

/// Opens the pool. SQLite gets a single connection: it has one writer anyway, and a
/// single connection never fails a transaction with "database is locked".
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    let is_sqlite = url.starts_with("sqlite:");
    options
        .max_connections(if is_sqlite { 1 } else { 20 })
        .min_connections(if is_sqlite { 1 } else { 2 })
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(5))
        .sqlx_logging(false);
    Database::connect(options).await
}

pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    migration::Migrator::up(db, None).await
}

pub fn is_postgres(db: &impl sea_orm::ConnectionTrait) -> bool {
    db.get_database_backend() == DbBackend::Postgres
}
