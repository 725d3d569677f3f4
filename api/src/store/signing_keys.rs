//! The signing keys shared by every instance on one database (used when `JWT_SECRET` is not
//! set). The newest key that is not retired signs; older keys stay for verification until
//! nothing they signed can still be valid.

use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use sea_orm::{
    sea_query::{Expr, ExprTrait, OnConflict, Query},
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

pub use super::entities::signing_keys::Model as SigningKey;
use super::entities::signing_keys::{self, Entity as SigningKeys};
use crate::auth::{key_id, UNSUBSCRIBE_TOKEN_TTL_SECS};

/// How long after its retirement a key is still loaded: nothing it signed can be valid later
/// (unsubscribe links, the longest-lived tokens, last a year).
pub fn kept_after_retirement() -> Duration {
    Duration::seconds(UNSUBSCRIBE_TOKEN_TTL_SECS)
}

/// A fresh random secret: 48 random bytes, hex-encoded (the key is the text's bytes).
pub fn new_secret() -> String {
    let mut bytes = [0u8; 48];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Every key that may still verify something: the current ones and those retired less than
/// a year ago, newest first.
pub async fn usable(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> Result<Vec<SigningKey>, DbErr> {
    SigningKeys::find()
        .filter(
            signing_keys::Column::RetiredAt
                .is_null()
                .or(signing_keys::Column::RetiredAt.gt(now - kept_after_retirement())),
        )
        .order_by_desc(signing_keys::Column::Generation)
        .all(db)
        .await
}

/// The key of the highest generation, retired or not.
async fn newest(db: &impl ConnectionTrait) -> Result<Option<SigningKey>, DbErr> {
    SigningKeys::find()
        .order_by_desc(signing_keys::Column::Generation)
        .limit(1)
        .one(db)
        .await
}

/// Inserts a key unless its generation (or kid) is taken; true when this call inserted it.
async fn insert_if_absent(
    db: &impl ConnectionTrait,
    generation: i32,
    secret: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let mut insert = Query::insert();
    insert
        .into_table(signing_keys::Entity)
        .columns([
            signing_keys::Column::Kid,
            signing_keys::Column::Generation,
            signing_keys::Column::Secret,
            signing_keys::Column::CreatedAt,
        ])
        .values([
            key_id(secret.as_bytes()).into(),
            generation.into(),
            secret.into(),
            now.into(),
        ])
        .map_err(|e| DbErr::Custom(e.to_string()))?
        .on_conflict(OnConflict::new().do_nothing().to_owned());
    Ok(db.execute(&insert).await?.rows_affected() == 1)
}

/// The key that signs: the newest one, created when there is none or it is retired. Instances
/// starting at the same moment all end up with the same key: each tries to insert the same
/// generation, one insert wins, and everyone re-reads. `first_secret` (the secret an older
/// version kept in the data folder) becomes the first key, so that what it signed still
/// verifies.
pub async fn ensure_current(
    db: &impl ConnectionTrait,
    first_secret: Option<&str>,
) -> Result<SigningKey, DbErr> {
    for _ in 0..5 {
        // One read decides both whether a key is current and which generation comes next,
        // so an instance can never add a second key after another's first.
        let newest = newest(db).await?;
        let generation = match newest {
            Some(key) if key.retired_at.is_none() => return Ok(key),
            Some(key) => key.generation.saturating_add(1),
            None => 1,
        };
        let secret = match first_secret {
            Some(secret) if generation == 1 => secret.to_owned(),
            _ => new_secret(),
        };
        if insert_if_absent(db, generation, &secret, Utc::now()).await? {
            tracing::info!(generation, "created a signing key");
        }
    }
    Err(DbErr::Custom(
        "could not settle on a signing key: keys kept changing".into(),
    ))
}

#[derive(Debug)]
pub struct Rotated {
    pub current: SigningKey,
    /// The keys the new one replaced (retired now, or deleted with `revoke`).
    pub previous: Vec<String>,
}

/// Adds a new signing key and retires the current one. A retired key still verifies access
/// tokens for one access-token lifetime and unsubscribe links for theirs; with `revoke`, the
/// previous keys are deleted instead, and nothing they signed verifies any more (for a key
/// that has leaked).
pub async fn rotate(db: &DatabaseConnection, revoke: bool) -> Result<Rotated, DbErr> {
    let txn = super::begin(db).await?;
    let now = Utc::now();
    let generation = newest(&txn)
        .await?
        .map_or(1, |key| key.generation.saturating_add(1));
    let secret = new_secret();
    if !insert_if_absent(&txn, generation, &secret, now).await? {
        return Err(DbErr::Custom(
            "another rotation happened at the same moment; try again".into(),
        ));
    }
    let kid = key_id(secret.as_bytes());
    let previous: Vec<String> = SigningKeys::find()
        .filter(signing_keys::Column::Generation.lt(generation))
        .filter(signing_keys::Column::RetiredAt.is_null())
        .all(&txn)
        .await?
        .into_iter()
        .map(|k| k.kid)
        .collect();
    if revoke {
        SigningKeys::delete_many()
            .filter(signing_keys::Column::Kid.ne(kid.as_str()))
            .exec(&txn)
            .await?;
    } else {
        SigningKeys::update_many()
            .col_expr(signing_keys::Column::RetiredAt, Expr::value(now))
            .filter(signing_keys::Column::Generation.lt(generation))
            .filter(signing_keys::Column::RetiredAt.is_null())
            .exec(&txn)
            .await?;
    }
    let current = SigningKeys::find_by_id(kid)
        .one(&txn)
        .await?
        .ok_or_else(|| DbErr::Custom("the new signing key is missing".into()))?;
    txn.commit().await?;
    Ok(Rotated { current, previous })
}
