//! Bulk writes and reads for PostgreSQL. Writes: rows of several tables in one transaction
//! by `COPY … FROM STDIN` (text format), several times faster than multi-row inserts; the
//! text is made from the same active models the inserts use, so both paths write the same
//! values. Reads: `COPY … TO STDOUT` in the binary format, read by [`CopyRows`].

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

/// Everything `statement` (a `COPY (…) TO STDOUT (FORMAT binary)`) writes, in one buffer for
/// [`CopyRows`] to read.
pub async fn copy_out(db: &DatabaseConnection, statement: &str) -> Result<Vec<u8>, DbErr> {
    use futures_util::TryStreamExt;
    use sqlx::postgres::PgPoolCopyExt;
    let failed = |e: sqlx::Error| DbErr::Custom(format!("bulk copy: {e}"));
    let mut stream = db
        .get_postgres_connection_pool()
        .copy_out_raw(statement)
        .await
        .map_err(failed)?;
    let mut data = Vec::new();
    while let Some(chunk) = stream.try_next().await.map_err(failed)? {
        data.extend_from_slice(&chunk);
    }
    Ok(data)
}

/// PostgreSQL's binary `COPY` format, read a row at a time: a signature, flags and an
/// extension area, then each row as a field count and each field as a length (-1 for NULL)
/// and that many bytes, every number big-endian. Far cheaper to read than rows of a query:
/// no per-row message, no type checks, no copies of the bytes.
pub struct CopyRows<'a> {
    data: &'a [u8],
}

fn malformed(what: &str) -> DbErr {
    DbErr::Custom(format!("bulk copy: malformed binary data ({what})"))
}

impl<'a> CopyRows<'a> {
    pub fn new(data: &'a [u8]) -> Result<Self, DbErr> {
        const SIGNATURE: &[u8] = b"PGCOPY\n\xff\r\n\0";
        let data = data
            .strip_prefix(SIGNATURE)
            .ok_or_else(|| malformed("signature"))?;
        let mut rows = Self { data };
        rows.take(4)?;
        let extension = usize::try_from(rows.int()?).map_err(|_| malformed("header"))?;
        rows.take(extension)?;
        Ok(rows)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DbErr> {
        if self.data.len() < n {
            return Err(malformed("truncated"));
        }
        let (head, rest) = self.data.split_at(n);
        self.data = rest;
        Ok(head)
    }

    fn int(&mut self) -> Result<i32, DbErr> {
        let bytes = self.take(4)?;
        Ok(i32::from_be_bytes(
            bytes.try_into().map_err(|_| malformed("length"))?,
        ))
    }

    /// Starts the next row, which must have `fields` fields; `false` at the end.
    pub fn next_row(&mut self, fields: usize) -> Result<bool, DbErr> {
        let count = i16::from_be_bytes(
            self.take(2)?
                .try_into()
                .map_err(|_| malformed("field count"))?,
        );
        if count < 0 {
            return Ok(false);
        }
        if usize::try_from(count).ok() != Some(fields) {
            return Err(malformed("field count"));
        }
        Ok(true)
    }

    /// The next field of the row: `None` for NULL.
    fn field(&mut self) -> Result<Option<&'a [u8]>, DbErr> {
        match usize::try_from(self.int()?) {
            Ok(len) => self.take(len).map(Some),
            Err(_) => Ok(None),
        }
    }

    /// The next field as `T`.
    pub fn field_as<T: FromCopy>(&mut self) -> Result<T, DbErr> {
        T::from_copy(self.field()?)
    }

    /// Every row of `data`, each of `fields` fields, as `read` makes it of them.
    pub fn read_all<T>(
        data: &'a [u8],
        fields: usize,
        mut read: impl FnMut(&mut Self) -> Result<T, DbErr>,
    ) -> Result<Vec<T>, DbErr> {
        let mut rows = Self::new(data)?;
        let mut all = Vec::new();
        while rows.next_row(fields)? {
            all.push(read(&mut rows)?);
        }
        Ok(all)
    }
}

/// A value as the binary `COPY` format writes it.
pub trait FromCopy: Sized {
    fn from_copy(field: Option<&[u8]>) -> Result<Self, DbErr>;
}

fn fixed<const N: usize>(field: Option<&[u8]>, what: &str) -> Result<[u8; N], DbErr> {
    field
        .and_then(|f| f.try_into().ok())
        .ok_or_else(|| malformed(what))
}

/// Where PostgreSQL counts dates and times from.
fn postgres_epoch() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default()
}

impl<T: FromCopy> FromCopy for Option<T> {
    fn from_copy(field: Option<&[u8]>) -> Result<Self, DbErr> {
        field.map(|f| T::from_copy(Some(f))).transpose()
    }
}

impl FromCopy for uuid::Uuid {
    fn from_copy(field: Option<&[u8]>) -> Result<Self, DbErr> {
        fixed::<16>(field, "uuid").map(uuid::Uuid::from_bytes)
    }
}

impl FromCopy for String {
    fn from_copy(field: Option<&[u8]>) -> Result<Self, DbErr> {
        let bytes = field.ok_or_else(|| malformed("text"))?;
        std::str::from_utf8(bytes)
            .map(str::to_owned)
            .map_err(|_| malformed("text"))
    }
}

impl FromCopy for bool {
    fn from_copy(field: Option<&[u8]>) -> Result<Self, DbErr> {
        fixed::<1>(field, "boolean").map(|[b]| b != 0)
    }
}

impl FromCopy for i32 {
    fn from_copy(field: Option<&[u8]>) -> Result<Self, DbErr> {
        fixed::<4>(field, "integer").map(i32::from_be_bytes)
    }
}

impl FromCopy for i64 {
    fn from_copy(field: Option<&[u8]>) -> Result<Self, DbErr> {
        fixed::<8>(field, "bigint").map(i64::from_be_bytes)
    }
}

impl FromCopy for f64 {
    fn from_copy(field: Option<&[u8]>) -> Result<Self, DbErr> {
        fixed::<8>(field, "double").map(f64::from_be_bytes)
    }
}

impl FromCopy for chrono::NaiveDate {
    fn from_copy(field: Option<&[u8]>) -> Result<Self, DbErr> {
        let days = fixed::<4>(field, "date").map(i32::from_be_bytes)?;
        postgres_epoch()
            .checked_add_signed(chrono::Duration::days(days.into()))
            .ok_or_else(|| malformed("date"))
    }
}

impl FromCopy for chrono::DateTime<chrono::Utc> {
    fn from_copy(field: Option<&[u8]>) -> Result<Self, DbErr> {
        let micros = fixed::<8>(field, "timestamp").map(i64::from_be_bytes)?;
        postgres_epoch()
            .and_hms_opt(0, 0, 0)
            .and_then(|t| t.checked_add_signed(chrono::Duration::microseconds(micros)))
            .map(|t| t.and_utc())
            .ok_or_else(|| malformed("timestamp"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A copy as PostgreSQL writes it: signature, flags, an empty extension, the rows, -1.
    fn copy_of(rows: &[Vec<Option<Vec<u8>>>]) -> Vec<u8> {
        let mut data = b"PGCOPY\n\xff\r\n\0".to_vec();
        data.extend(0i32.to_be_bytes());
        data.extend(0i32.to_be_bytes());
        for row in rows {
            data.extend((row.len() as i16).to_be_bytes());
            for field in row {
                match field {
                    Some(bytes) => {
                        data.extend((bytes.len() as i32).to_be_bytes());
                        data.extend(bytes);
                    }
                    None => data.extend((-1i32).to_be_bytes()),
                }
            }
        }
        data.extend((-1i16).to_be_bytes());
        data
    }

    #[test]
    fn reads_each_type_as_postgresql_writes_it() {
        let id = uuid::Uuid::now_v7();
        let data = copy_of(&[vec![
            Some(id.as_bytes().to_vec()),
            Some("Zoë\t✓".as_bytes().to_vec()),
            None,
            Some(1.5f64.to_be_bytes().to_vec()),
            Some((-7i32).to_be_bytes().to_vec()),
            Some(vec![1]),
            Some(366i32.to_be_bytes().to_vec()),
            Some((86_400_000_001i64).to_be_bytes().to_vec()),
        ]]);
        let mut rows = CopyRows::new(&data).unwrap();
        assert!(rows.next_row(8).unwrap());
        assert_eq!(rows.field_as::<uuid::Uuid>().unwrap(), id);
        assert_eq!(rows.field_as::<String>().unwrap(), "Zoë\t✓");
        assert_eq!(rows.field_as::<Option<String>>().unwrap(), None);
        assert_eq!(rows.field_as::<f64>().unwrap(), 1.5);
        assert_eq!(rows.field_as::<i32>().unwrap(), -7);
        assert!(rows.field_as::<bool>().unwrap());
        assert_eq!(
            rows.field_as::<chrono::NaiveDate>().unwrap().to_string(),
            "2001-01-01"
        );
        assert_eq!(
            rows.field_as::<chrono::DateTime<chrono::Utc>>()
                .unwrap()
                .to_rfc3339(),
            "2000-01-02T00:00:00.000001+00:00"
        );
        assert!(!rows.next_row(8).unwrap());
    }

    #[test]
    fn refuses_what_is_not_such_a_copy() {
        assert!(CopyRows::new(b"COPY\n").is_err());
        let data = copy_of(&[vec![Some(vec![1, 2, 3])]]);
        let mut rows = CopyRows::new(&data).unwrap();
        assert!(rows.next_row(2).is_err(), "a row of another width");
        let mut rows = CopyRows::new(&data).unwrap();
        assert!(rows.next_row(1).unwrap());
        assert!(
            rows.field_as::<i32>().is_err(),
            "three bytes are no integer"
        );
        let mut rows = CopyRows::new(&data[..data.len() - 4]).unwrap();
        assert!(rows.next_row(1).unwrap());
        assert!(rows.field_as::<String>().is_err(), "cut short");
        let mut rows = CopyRows::new(&data).unwrap();
        assert!(rows.next_row(1).unwrap());
        assert!(rows.field_as::<String>().is_ok());
        assert!(rows.field_as::<String>().is_err(), "past the row's end");
    }
}
