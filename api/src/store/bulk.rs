//! Bulk writes for PostgreSQL: rows of several tables in one transaction by `COPY … FROM
//! STDIN` (text format), several times faster than multi-row inserts. The text is made from
//! the same active models the inserts use, so both paths write the same values.

use std::fmt::Write as _;

use sea_orm::{
    sea_query::Value, sqlx, ActiveModelTrait, ActiveValue, DatabaseConnection, DbErr, EntityName,
    EntityTrait, IdenStatic, Iterable,
};

/// One table's part of a bulk write: the `COPY` statement and its rows as text.
pub struct CopyPart {
    statement: String,
    data: String,
}

/// The `COPY` of `rows` (every column set), as PostgreSQL's text format. The values are
/// moved out of the rows, not copied.
pub fn copy_part<A: ActiveModelTrait>(rows: Vec<A>) -> CopyPart {
    let columns: Vec<_> = <A::Entity as EntityTrait>::Column::iter().collect();
    let table = A::Entity::default().table_name().to_owned();
    let names: Vec<&str> = columns.iter().map(|c| c.as_str()).collect();
    let mut data = String::with_capacity(rows.len() * 128);
    for mut row in rows {
        for (n, column) in columns.iter().enumerate() {
            if n > 0 {
                data.push('\t');
            }
            match row.take(*column) {
                ActiveValue::Set(value) | ActiveValue::Unchanged(value) => field(&mut data, &value),
                ActiveValue::NotSet => data.push_str("\\N"),
            }
        }
        data.push('\n');
    }
    CopyPart {
        statement: format!("COPY {table} ({}) FROM STDIN", names.join(", ")),
        data,
    }
}

fn field(out: &mut String, value: &Value) {
    let written = match value {
        Value::Bool(Some(b)) => write!(out, "{}", if *b { "t" } else { "f" }),
        Value::SmallInt(Some(v)) => write!(out, "{v}"),
        Value::Int(Some(v)) => write!(out, "{v}"),
        Value::BigInt(Some(v)) => write!(out, "{v}"),
        Value::Float(Some(v)) => write!(out, "{v}"),
        Value::Double(Some(v)) => write!(out, "{v}"),
        Value::Uuid(Some(v)) => write!(out, "{v}"),
        Value::ChronoDate(Some(v)) => write!(out, "{v}"),
        Value::ChronoDateTimeUtc(Some(v)) => write!(out, "{}", v.to_rfc3339()),
        Value::String(Some(text)) if !text.contains(['\\', '\t', '\n', '\r']) => {
            out.push_str(text);
            Ok(())
        }
        Value::String(Some(text)) => {
            for c in text.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\t' => out.push_str("\\t"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    c => out.push(c),
                }
            }
            Ok(())
        }
        _ => {
            out.push_str("\\N");
            Ok(())
        }
    };
    debug_assert!(written.is_ok());
}

/// Whether this connection's role may turn off the foreign-key triggers for its own
/// transaction (PostgreSQL's superusers may), as `pg_restore --disable-triggers` does.
pub async fn may_skip_key_checks(db: &DatabaseConnection) -> Result<bool, DbErr> {
    let (superuser,): (bool,) = sqlx::query_as("SELECT current_setting('is_superuser') = 'on'")
        .fetch_one(db.get_postgres_connection_pool())
        .await
        .map_err(|e| DbErr::Custom(format!("bulk copy: {e}")))?;
    Ok(superuser)
}

/// Writes every part, in order, in one transaction. With `skip_key_checks` the transaction
/// runs without the per-row foreign-key triggers: only for rows that refer to rows written
/// before them in the same parts, which cannot break a key (see [`may_skip_key_checks`]).
pub async fn copy_in(
    db: &DatabaseConnection,
    parts: Vec<CopyPart>,
    skip_key_checks: bool,
) -> Result<(), DbErr> {
    use sqlx::Executor;
    let failed = |e: sqlx::Error| DbErr::Custom(format!("bulk copy: {e}"));
    let mut conn = db
        .get_postgres_connection_pool()
        .acquire()
        .await
        .map_err(failed)?;
    conn.execute("BEGIN").await.map_err(failed)?;
    let copied: Result<(), sqlx::Error> = async {
        if skip_key_checks {
            conn.execute("SET LOCAL session_replication_role = replica")
                .await?;
        }
        for part in parts {
            let mut copy = conn.copy_in_raw(&part.statement).await?;
            copy.send(part.data.as_bytes()).await?;
            copy.finish().await?;
        }
        Ok(())
    }
    .await;
    match copied {
        Ok(()) => conn.execute("COMMIT").await.map(drop).map_err(failed),
        Err(error) => {
            let _ = conn.execute("ROLLBACK").await;
            Err(failed(error))
        }
    }
}
