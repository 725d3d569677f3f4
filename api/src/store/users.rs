use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, Set,
};
use uuid::Uuid;

use super::entities::{
    blocks,
    users::{self, Entity as Users},
};
use crate::domain::{DisplayName, Email};

pub use users::Model as User;

pub async fn find_by_email(
    db: &impl ConnectionTrait,
    email: &Email,
) -> Result<Option<User>, sea_orm::DbErr> {
    Users::find()
        .filter(users::Column::EmailNormalized.eq(email.normalized()))
        .one(db)
        .await
}

pub async fn find_by_id(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<User>, sea_orm::DbErr> {
    Users::find_by_id(id).one(db).await
}

pub struct NewUser<'a> {
    pub email: &'a Email,
    pub password_hash: String,
    pub display_name: &'a DisplayName,
    pub role: crate::domain::role::Role,
    pub email_verified: bool,
}

pub async fn insert(db: &impl ConnectionTrait, new: NewUser<'_>) -> Result<User, sea_orm::DbErr> {
    let now = Utc::now();
    users::ActiveModel {
        id: Set(Uuid::now_v7()),
        email: Set(new.email.as_str().to_owned()),
        email_normalized: Set(new.email.normalized().to_owned()),
        password_hash: Set(new.password_hash),
        display_name: Set(new.display_name.as_str().to_owned()),
        email_verified: Set(new.email_verified),
        role: Set(new.role),
        suspended: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
}

/// Writes the given columns of one user, and the time of the change.
async fn update(
    db: &impl ConnectionTrait,
    id: Uuid,
    change: users::ActiveModel,
) -> Result<(), sea_orm::DbErr> {
    let change = users::ActiveModel {
        id: Set(id),
        updated_at: Set(Utc::now()),
        ..change
    };
    change.update(db).await.map(drop)
}

pub async fn set_password(
    db: &impl ConnectionTrait,
    id: Uuid,
    password_hash: String,
) -> Result<(), sea_orm::DbErr> {
    let change = users::ActiveModel {
        password_hash: Set(password_hash),
        ..Default::default()
    };
    update(db, id, change).await
}

pub async fn mark_verified(db: &impl ConnectionTrait, id: Uuid) -> Result<(), sea_orm::DbErr> {
    let change = users::ActiveModel {
        email_verified: Set(true),
        ..Default::default()
    };
    update(db, id, change).await
}

pub async fn promote_to_admin(
    db: &impl ConnectionTrait,
    id: Uuid,
    password_hash: String,
) -> Result<(), sea_orm::DbErr> {
    let change = users::ActiveModel {
        role: Set(crate::domain::role::Role::Admin),
        email_verified: Set(true),
        password_hash: Set(password_hash),
        ..Default::default()
    };
    update(db, id, change).await
}

/// Those of `ids` that `viewer` may see, in one query: verified, not suspended, and with no
/// block between them either way. The read model chooses from memory; this has the last
/// word, so a change made on another instance a moment ago is already respected.
pub async fn visible_to(
    db: &impl ConnectionTrait,
    viewer: Uuid,
    ids: &[Uuid],
) -> Result<std::collections::HashSet<Uuid>, sea_orm::DbErr> {
    use sea_orm::{
        sea_query::{Expr, ExprTrait, Query},
        QuerySelect,
    };
    if ids.is_empty() {
        return Ok(std::collections::HashSet::new());
    }
    let block = |from: Expr, to: Expr| {
        Condition::all()
            .add(Expr::col((blocks::Entity, blocks::Column::BlockerId)).eq(from))
            .add(Expr::col((blocks::Entity, blocks::Column::BlockedId)).eq(to))
    };
    let user = || Expr::col((users::Entity, users::Column::Id));
    let blocked = Query::select()
        .expr(Expr::val(1))
        .from(blocks::Entity)
        .cond_where(
            Condition::any()
                .add(block(Expr::val(viewer), user()))
                .add(block(user(), Expr::val(viewer))),
        )
        .to_owned();
    Ok(Users::find()
        .select_only()
        .column(users::Column::Id)
        .filter(users::Column::Id.is_in(ids.to_vec()))
        .filter(users::Column::EmailVerified.eq(true))
        .filter(users::Column::Suspended.eq(false))
        .filter(Expr::exists(blocked).not())
        .into_tuple::<Uuid>()
        .all(db)
        .await?
        .into_iter()
        .collect())
}

/// True when the error is the unique index on the normalised email.
pub fn is_duplicate_email(error: &sea_orm::DbErr) -> bool {
    matches!(
        error.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}
