//! Storage: connecting, migrating, and the queries, one module per table group.

pub mod agreements;
pub mod bulk;
pub mod check_ins;
pub mod circles;
pub mod connection_meetings;
pub mod connections;
pub mod entities;
pub mod erasures;
pub mod idempotency;
pub mod limits;
pub mod log;
pub mod login_failures;
pub mod match_digests;
pub mod outbox;
pub mod profiles;
pub mod signing_keys;
pub mod tokens;
pub mod users;

use std::time::Duration;

use migration::MigratorTrait;
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbBackend, DbErr};

/// The rows of a grouped count, each an id and its count, as a map (absent means none).
pub(crate) async fn counts_by_id<E: sea_orm::EntityTrait>(
    db: &impl sea_orm::ConnectionTrait,
    query: sea_orm::Select<E>,
) -> Result<std::collections::HashMap<uuid::Uuid, u64>, DbErr> {
    let rows: Vec<(uuid::Uuid, i64)> = query.into_tuple().all(db).await?;
    Ok(rows
        .into_iter()
        .map(|(id, n)| (id, u64::try_from(n).unwrap_or(0)))
        .collect())
}

/// Opens the pool. SQLite gets a single connection: it has one writer anyway, and a
/// single connection never fails a transaction with "database is locked". PostgreSQL gets
/// `postgres_pool` connections (`DATABASE_POOL_SIZE`): its queries here are short, and
/// more connections than the database server has cores to run them only queue inside it
/// and lengthen the slowest answers.
pub async fn connect(url: &str, postgres_pool: u32) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    let is_sqlite = url.starts_with("sqlite:");
    options
        .max_connections(if is_sqlite { 1 } else { postgres_pool.max(2) })
        .min_connections(if is_sqlite { 1 } else { 2 })
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(5))
        .sqlx_logging(false)
        // Every query here is short or a page of a bulk read. PostgreSQL compiles a query
        // whose estimated cost is high (as every query is before its tables are first
        // analysed), and at start-up on freshly written tables that compiling took longer
        // than the reading.
        .map_sqlx_postgres_opts(|options| options.options([("jit", "off")]));
    Database::connect(options).await
}

/// A pool for reads outside any transaction. On SQLite the database is put in WAL mode and
/// read through a few connections of their own, so that a read never queues behind the
/// writer, a background refresh or another read; an in-memory SQLite database and
/// PostgreSQL (whose pool already serves reads in parallel) read through `writer`.
pub async fn connect_readers(
    url: &str,
    writer: &DatabaseConnection,
) -> Result<DatabaseConnection, DbErr> {
    let in_memory = url.contains(":memory:") || url.contains("mode=memory");
    if !url.starts_with("sqlite:") || in_memory {
        return Ok(writer.clone());
    }
    use sea_orm::ConnectionTrait;
    writer.execute_unprepared("PRAGMA journal_mode=WAL").await?;
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(SQLITE_READERS)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(5))
        .sqlx_logging(false);
    Database::connect(options).await
}

/// Readers of an SQLite database: enough that requests on every core and the index's
/// refresh never wait for each other.
const SQLITE_READERS: u32 = 4;

pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    migration::Migrator::up(db, None).await
}

/// Begins a transaction that writes. On SQLite it is `BEGIN IMMEDIATE`: the write lock is
/// taken (waiting out another instance's writer) before the first read, so a transaction
/// that reads and then writes is never refused because another process wrote in between.
/// PostgreSQL ignores the mode.
pub async fn begin(db: &DatabaseConnection) -> Result<sea_orm::DatabaseTransaction, DbErr> {
    use sea_orm::{SqliteTransactionMode, TransactionOptions, TransactionTrait};
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

pub fn is_postgres(db: &impl sea_orm::ConnectionTrait) -> bool {
    db.get_database_backend() == DbBackend::Postgres
}

/// Takes the account's row lock (`FOR UPDATE` on PostgreSQL) until the transaction ends, so
/// that a per-account limit counted and then written in that transaction is counted one
/// request after another, on every instance. SQLite needs none: a transaction there is
/// serializable (one writer; a transaction that read before another's write cannot write).
pub async fn lock_account(
    db: &impl sea_orm::ConnectionTrait,
    user_id: uuid::Uuid,
) -> Result<(), DbErr> {
    use sea_orm::{EntityTrait, QuerySelect};
    if is_postgres(db) {
        entities::users::Entity::find_by_id(user_id)
            .lock(sea_orm::sea_query::LockType::Update)
            .one(db)
            .await?;
    }
    Ok(())
}

/// Inserts `row`: true when this call inserted it, false when a row with the same key was
/// there first (another instance won the race).
pub async fn insert_first<A>(db: &impl sea_orm::ConnectionTrait, row: A) -> Result<bool, DbErr>
where
    A: sea_orm::ActiveModelTrait + sea_orm::ActiveModelBehavior + Send,
    <A::Entity as sea_orm::EntityTrait>::Model: sea_orm::IntoActiveModel<A>,
{
    match row.insert(db).await {
        Ok(_) => Ok(true),
        Err(e)
            if matches!(
                e.sql_err(),
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
            ) =>
        {
            Ok(false)
        }
        Err(e) => Err(e),
    }
}

/// Inserts `row`, or, when a row with its primary key is there, sets every other column to
/// the row's values: one statement, so two callers at once never collide.
pub async fn upsert<A>(db: &impl sea_orm::ConnectionTrait, row: A) -> Result<(), DbErr>
where
    A: sea_orm::ActiveModelTrait,
{
    use sea_orm::{sea_query::OnConflict, EntityTrait, IdenStatic, Iterable, PrimaryKeyToColumn};
    type Entity<A> = <A as sea_orm::ActiveModelTrait>::Entity;
    let keys: Vec<_> = <Entity<A> as EntityTrait>::PrimaryKey::iter()
        .map(PrimaryKeyToColumn::into_column)
        .collect();
    let key_names: Vec<&str> = keys.iter().map(|k| k.as_str()).collect();
    let others =
        <Entity<A> as EntityTrait>::Column::iter().filter(|c| !key_names.contains(&c.as_str()));
    <Entity<A> as EntityTrait>::insert(row)
        .on_conflict(OnConflict::columns(keys).update_columns(others).to_owned())
        .exec_without_returning(db)
        .await
        .map(drop)
}
