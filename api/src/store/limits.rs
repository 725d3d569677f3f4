//! Counters in fixed windows, each checked and incremented by one statement, so that any
//! number of simultaneous requests on any number of instances never get past a limit: the
//! statement returns the count including this request, and the caller refuses when it is
//! over the limit.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, DbErr, Statement, Value};

/// One table of counters: the primary key, the count column, and the window length.
#[derive(Clone, Copy, Debug)]
pub enum Counter {
    /// Authentication requests per client address (`address_limits`).
    Address,
    /// Sign-in attempts per account from clients it does not know (`login_failures`).
    Account,
}

impl Counter {
    /// The one statement that counts a hit: a new window starts when the stored one has
    /// passed (`$3` is its earliest start still open).
    fn upsert(self) -> String {
        let (table, key, count) = match self {
            Self::Address => ("address_limits", "address_key", "hits"),
            Self::Account => ("login_failures", "email_key", "failures"),
        };
        format!(
            "INSERT INTO {table} ({key}, window_start, {count}) VALUES ($1, $2, 1) \
             ON CONFLICT ({key}) DO UPDATE SET \
             {count} = CASE WHEN {table}.window_start <= $3 THEN 1 ELSE {table}.{count} + 1 END, \
             window_start = CASE WHEN {table}.window_start <= $3 THEN $2 \
                    ELSE {table}.window_start END \
             RETURNING {count} AS count, window_start"
        )
    }

    fn sweep(self) -> &'static str {
        match self {
            Self::Address => "DELETE FROM address_limits WHERE window_start <= $1",
            Self::Account => "DELETE FROM login_failures WHERE window_start <= $1",
        }
    }
}

/// A count in its window, this request included.
#[derive(Clone, Copy, Debug)]
pub struct Count {
    pub count: i64,
    pub window_start: DateTime<Utc>,
}

impl Count {
    /// Seconds until the window ends (at least one).
    pub fn retry_after_secs(&self, window: Duration) -> u64 {
        let left = (self.window_start + window - Utc::now())
            .num_seconds()
            .max(1);
        u64::try_from(left).unwrap_or(1)
    }
}

fn statement(db: &impl ConnectionTrait, sql: &str, values: Vec<Value>) -> Statement {
    Statement::from_sql_and_values(db.get_database_backend(), sql, values)
}

/// Counts one more for `key` in a window of `window`, starting a new window when the
/// last one has ended, and returns the count.
pub async fn hit(
    db: &impl ConnectionTrait,
    counter: Counter,
    key: &str,
    window: Duration,
) -> Result<Count, DbErr> {
    let now = Utc::now();
    let row = db
        .query_one_raw(statement(
            db,
            &counter.upsert(),
            vec![key.into(), now.into(), (now - window).into()],
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("no counter row for {counter:?}")))?;
    Ok(Count {
        count: i64::from(row.try_get::<i32>("", "count")?),
        window_start: row.try_get("", "window_start")?,
    })
}

/// Removes counters whose window ended before `before`.
pub async fn sweep(
    db: &impl ConnectionTrait,
    counter: Counter,
    before: DateTime<Utc>,
) -> Result<u64, DbErr> {
    Ok(db
        .execute_raw(statement(db, counter.sweep(), vec![before.into()]))
        .await?
        .rows_affected())
}
