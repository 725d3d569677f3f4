use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::{Expr, ExprTrait},
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QuerySelect, Set,
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
        last_active_at: Set(Some(now)),
        dormant: Set(false),
        unanswered_expiries: Set(0),
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

/// Notes that the person was active now; true when they were dormant until now (their
/// entry in the index must change).
pub async fn seen(
    db: &impl ConnectionTrait,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, sea_orm::DbErr> {
    Users::update_many()
        .col_expr(users::Column::LastActiveAt, Expr::value(now))
        .filter(users::Column::Id.eq(id))
        .exec(db)
        .await?;
    let woke = Users::update_many()
        .col_expr(users::Column::Dormant, Expr::value(false))
        .col_expr(users::Column::UpdatedAt, Expr::value(now))
        .filter(users::Column::Id.eq(id))
        .filter(users::Column::Dormant.eq(true))
        .exec(db)
        .await?;
    Ok(woke.rows_affected == 1)
}

/// Not active since `before`: the condition on a user row.
fn away_since(before: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(users::Column::LastActiveAt.lt(before))
        .add(
            Condition::all()
                .add(users::Column::LastActiveAt.is_null())
                .add(users::Column::CreatedAt.lt(before)),
        )
}

/// Marks as dormant up to `limit` mentors (offering mentoring) not active since `before`;
/// returns the ones it marked, each once across instances.
pub async fn mark_dormant_mentors(
    db: &impl ConnectionTrait,
    before: DateTime<Utc>,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<Uuid>, sea_orm::DbErr> {
    use super::entities::profiles;
    use sea_orm::sea_query::Query;
    let candidates: Vec<Uuid> = Users::find()
        .select_only()
        .column(users::Column::Id)
        .filter(users::Column::Dormant.eq(false))
        .filter(away_since(before))
        .filter(
            users::Column::Id.in_subquery(
                Query::select()
                    .column(profiles::Column::UserId)
                    .from(profiles::Entity)
                    .and_where(profiles::Column::MentoringOffering.eq(true))
                    .to_owned(),
            ),
        )
        .limit(limit)
        .into_tuple()
        .all(db)
        .await?;
    let mut marked = Vec::new();
    for id in candidates {
        let done = Users::update_many()
            .col_expr(users::Column::Dormant, Expr::value(true))
            .col_expr(users::Column::UpdatedAt, Expr::value(now))
            .filter(users::Column::Id.eq(id))
            .filter(users::Column::Dormant.eq(false))
            .filter(away_since(before))
            .exec(db)
            .await?;
        if done.rows_affected == 1 {
            marked.push(id);
        }
    }
    Ok(marked)
}

/// Counts one more request to them that expired unanswered, and returns the count.
pub async fn count_unanswered_expiry(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<i32, sea_orm::DbErr> {
    Users::update_many()
        .col_expr(
            users::Column::UnansweredExpiries,
            Expr::col(users::Column::UnansweredExpiries).add(1),
        )
        .filter(users::Column::Id.eq(id))
        .exec(db)
        .await?;
    let count: Option<i32> = Users::find_by_id(id)
        .select_only()
        .column(users::Column::UnansweredExpiries)
        .into_tuple()
        .one(db)
        .await?;
    Ok(count.unwrap_or(0))
}

/// Starts their count of unanswered requests again (they answered one, or were paused).
pub async fn reset_unanswered(db: &impl ConnectionTrait, id: Uuid) -> Result<(), sea_orm::DbErr> {
    Users::update_many()
        .col_expr(users::Column::UnansweredExpiries, Expr::value(0))
        .filter(users::Column::Id.eq(id))
        .filter(users::Column::UnansweredExpiries.ne(0))
        .exec(db)
        .await
        .map(drop)
}
