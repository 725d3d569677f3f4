//! Meetings of the two sides of a connection. Every change of state is one conditional
//! update, so two people (or two instances) acting at once change a meeting once.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    sea_query::{Expr, Query},
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::entities::{connection_meetings as meetings, connections};
use crate::domain::{
    connection::{ConnectionKind, ConnectionStatus},
    follow_through::MeetingStatus,
};

pub type Meeting = meetings::Model;

/// How many meetings of one connection a list shows, newest first.
pub const LISTED: u64 = 100;

pub async fn insert(
    db: &impl ConnectionTrait,
    row: meetings::ActiveModel,
) -> Result<Meeting, sea_orm::DbErr> {
    row.insert(db).await
}

pub async fn find(
    db: &impl ConnectionTrait,
    connection_id: Uuid,
    id: Uuid,
) -> Result<Option<Meeting>, sea_orm::DbErr> {
    meetings::Entity::find_by_id(id)
        .filter(meetings::Column::ConnectionId.eq(connection_id))
        .one(db)
        .await
}

/// The connection's meetings, newest first.
pub async fn of_connection(
    db: &impl ConnectionTrait,
    connection_id: Uuid,
) -> Result<Vec<Meeting>, sea_orm::DbErr> {
    meetings::Entity::find()
        .filter(meetings::Column::ConnectionId.eq(connection_id))
        .order_by_desc(meetings::Column::CreatedAt)
        .limit(LISTED)
        .all(db)
        .await
}

/// Every meeting of the connections `user_id` is party to (for their data export).
pub async fn of_party(
    db: &impl ConnectionTrait,
    user_id: Uuid,
) -> Result<Vec<Meeting>, sea_orm::DbErr> {
    meetings::Entity::find()
        .filter(
            meetings::Column::ConnectionId.in_subquery(
                Query::select()
                    .column(connections::Column::Id)
                    .from(connections::Entity)
                    .cond_where(
                        Condition::any()
                            .add(connections::Column::RequesterId.eq(user_id))
                            .add(connections::Column::RecipientId.eq(user_id)),
                    )
                    .to_owned(),
            ),
        )
        .order_by_asc(meetings::Column::CreatedAt)
        .all(db)
        .await
}

/// Applies `change` to the meeting as it was read (same status and sequence); false when
/// someone changed it meanwhile.
pub async fn update_if_unchanged(
    db: &impl ConnectionTrait,
    seen: &Meeting,
    change: meetings::ActiveModel,
) -> Result<bool, sea_orm::DbErr> {
    let done = meetings::Entity::update_many()
        .set(change)
        .filter(meetings::Column::Id.eq(seen.id))
        .filter(meetings::Column::Status.eq(seen.status))
        .filter(meetings::Column::Sequence.eq(seen.sequence))
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

/// Records when the meeting was first said to have taken place; false when it was already.
pub async fn mark_held(
    db: &impl ConnectionTrait,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, sea_orm::DbErr> {
    let done = meetings::Entity::update_many()
        .col_expr(meetings::Column::HeldAt, Expr::value(now))
        .filter(meetings::Column::Id.eq(id))
        .filter(meetings::Column::Status.eq(MeetingStatus::Scheduled))
        .filter(meetings::Column::HeldAt.is_null())
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

/// Scheduled meetings of accepted connections that start within `lead`, not yet reminded,
/// each claimed by one conditional update so that one instance sends its reminder.
pub async fn claim_reminders(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    lead: Duration,
) -> Result<Vec<Meeting>, sea_orm::DbErr> {
    let due = meetings::Entity::find()
        .filter(meetings::Column::Status.eq(MeetingStatus::Scheduled))
        .filter(meetings::Column::RemindedAt.is_null())
        .filter(meetings::Column::StartsAt.gt(now))
        .filter(meetings::Column::StartsAt.lte(now + lead))
        .filter(
            meetings::Column::ConnectionId.in_subquery(
                Query::select()
                    .column(connections::Column::Id)
                    .from(connections::Entity)
                    .and_where(connections::Column::Status.eq(ConnectionStatus::Accepted))
                    .to_owned(),
            ),
        )
        .limit(100)
        .all(db)
        .await?;
    let mut claimed = Vec::new();
    for meeting in due {
        let taken = meetings::Entity::update_many()
            .col_expr(meetings::Column::RemindedAt, Expr::value(now))
            .filter(meetings::Column::Id.eq(meeting.id))
            .filter(meetings::Column::RemindedAt.is_null())
            .exec(db)
            .await?;
        if taken.rows_affected == 1 {
            claimed.push(meeting);
        }
    }
    Ok(claimed)
}

/// Accepted mentorships, accepted before `since`, with no meeting held or scheduled to start
/// after `since`: the ones administrators should look at.
pub async fn quiet_mentorships(
    db: &impl ConnectionTrait,
    since: DateTime<Utc>,
) -> Result<Vec<connections::Model>, sea_orm::DbErr> {
    let recent = Query::select()
        .column(meetings::Column::ConnectionId)
        .from(meetings::Entity)
        .cond_where(
            Condition::any()
                .add(meetings::Column::HeldAt.gte(since))
                .add(
                    Condition::all()
                        .add(meetings::Column::Status.eq(MeetingStatus::Scheduled))
                        .add(meetings::Column::StartsAt.gte(since)),
                ),
        )
        .to_owned();
    connections::Entity::find()
        .filter(connections::Column::Kind.eq(ConnectionKind::Mentorship))
        .filter(connections::Column::Status.eq(ConnectionStatus::Accepted))
        .filter(connections::Column::RespondedAt.lt(since))
        .filter(connections::Column::Id.not_in_subquery(recent))
        .order_by_asc(connections::Column::RespondedAt)
        .limit(500)
        .all(db)
        .await
}

/// How many meetings were said to have taken place.
pub async fn held_count(db: &impl ConnectionTrait) -> Result<u64, sea_orm::DbErr> {
    use sea_orm::PaginatorTrait;
    meetings::Entity::find()
        .filter(meetings::Column::HeldAt.is_not_null())
        .count(db)
        .await
}
