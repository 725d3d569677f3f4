//! Connections between two practitioners, blocks, and notification preferences.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    sea_query::{Expr, LockType},
    ActiveEnum, ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::entities::{
    blocks,
    connections::{self, Entity as Connections},
    notification_prefs, profiles,
};

pub use connections::Model as Connection;

use crate::domain::connection::{
    ConnectionKind, ConnectionStatus,
    ConnectionStatus::{Accepted, Declined, Pending},
    DeclineReason, Transition,
};

/// The same key for (a, b) and (b, a).
pub fn pair_key(a: Uuid, b: Uuid) -> String {
    if a < b {
        format!("{a}:{b}")
    } else {
        format!("{b}:{a}")
    }
}

pub struct NewConnection {
    pub kind: ConnectionKind,
    pub requester_id: Uuid,
    pub recipient_id: Uuid,
    pub message: Option<String>,
    pub score: Option<f64>,
    pub reasons: serde_json::Value,
    pub round_id: Option<Uuid>,
    pub ttl: Duration,
}

pub async fn insert(
    db: &impl ConnectionTrait,
    new: NewConnection,
) -> Result<Connection, sea_orm::DbErr> {
    let now = Utc::now();
    let key = pair_key(new.requester_id, new.recipient_id);
    connections::ActiveModel {
        id: Set(Uuid::now_v7()),
        kind: Set(new.kind),
        status: Set(Pending),
        requester_id: Set(new.requester_id),
        recipient_id: Set(new.recipient_id),
        active_pair: Set(Some(key.clone())),
        pair_key: Set(key),
        message: Set(new.message),
        score: Set(new.score),
        reasons: Set(new.reasons),
        decline_reason: Set(None),
        decline_note: Set(None),
        round_id: Set(new.round_id),
        created_at: Set(now),
        expires_at: Set(now + new.ttl),
        responded_at: Set(None),
        reminded_at: Set(None),
        updated_at: Set(now),
        next_check_in_at: Set(None),
    }
    .insert(db)
    .await
}

pub async fn find(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<Connection>, sea_orm::DbErr> {
    Connections::find_by_id(id).one(db).await
}

/// Makes a transition the state machine allowed; false when the connection was no longer
/// in its `from` status (someone else got there first).
pub async fn transition(
    db: &impl ConnectionTrait,
    id: Uuid,
    Transition { from, to }: Transition,
    decline: Option<(Option<DeclineReason>, Option<String>)>,
) -> Result<bool, sea_orm::DbErr> {
    let now = Utc::now();
    let live = to.is_live();
    let mut update = Connections::update_many()
        .col_expr(connections::Column::Status, Expr::value(to.as_str()))
        .col_expr(connections::Column::UpdatedAt, Expr::value(now));
    if !live {
        update = update.col_expr(
            connections::Column::ActivePair,
            Expr::value(Option::<String>::None),
        );
    }
    if from == Pending && (to == Accepted || to == Declined) {
        update = update.col_expr(connections::Column::RespondedAt, Expr::value(now));
    }
    if let Some((reason, note)) = decline {
        update = update
            .col_expr(
                connections::Column::DeclineReason,
                Expr::value(reason.map(|r| r.to_value())),
            )
            .col_expr(connections::Column::DeclineNote, Expr::value(note));
    }
    let result = update
        .filter(connections::Column::Id.eq(id))
        .filter(connections::Column::Status.eq(from.as_str()))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

pub async fn live_between(
    db: &impl ConnectionTrait,
    a: Uuid,
    b: Uuid,
) -> Result<Option<Connection>, sea_orm::DbErr> {
    Connections::find()
        .filter(connections::Column::ActivePair.eq(pair_key(a, b)))
        .one(db)
        .await
}

/// Accepted mentorships in which `mentor_id` is the mentor.
pub async fn accepted_mentees(
    db: &impl ConnectionTrait,
    mentor_id: Uuid,
) -> Result<u64, sea_orm::DbErr> {
    Connections::find()
        .filter(connections::Column::RecipientId.eq(mentor_id))
        .filter(connections::Column::Kind.eq(ConnectionKind::Mentorship.as_str()))
        .filter(connections::Column::Status.eq(Accepted.as_str()))
        .count(db)
        .await
}

/// Accepted mentorships of each of `mentors`, or of every mentor with `None`, in one query
/// (absent means none).
pub async fn accepted_counts(
    db: &impl ConnectionTrait,
    mentors: Option<&[Uuid]>,
) -> Result<std::collections::HashMap<Uuid, u64>, sea_orm::DbErr> {
    let mut query = Connections::find()
        .select_only()
        .column(connections::Column::RecipientId)
        .column_as(connections::Column::Id.count(), "accepted")
        .filter(connections::Column::Kind.eq(ConnectionKind::Mentorship.as_str()))
        .filter(connections::Column::Status.eq(Accepted.as_str()))
        .group_by(connections::Column::RecipientId);
    if let Some(mentors) = mentors {
        query = query.filter(connections::Column::RecipientId.is_in(mentors.to_vec()));
    }
    super::counts_by_id(db, query).await
}

/// Takes the mentor's profile row lock (PostgreSQL) so that concurrent accepts on any
/// instance are counted one after another; SQLite has a single writer anyway.
pub async fn lock_mentor(
    db: &impl ConnectionTrait,
    mentor_id: Uuid,
) -> Result<Option<profiles::Model>, sea_orm::DbErr> {
    let mut query = profiles::Entity::find_by_id(mentor_id);
    if super::is_postgres(db) {
        query = query.lock(LockType::Update);
    }
    query.one(db).await
}

pub async fn requests_since(
    db: &impl ConnectionTrait,
    requester_id: Uuid,
    since: DateTime<Utc>,
) -> Result<u64, sea_orm::DbErr> {
    Connections::find()
        .filter(connections::Column::RequesterId.eq(requester_id))
        .filter(connections::Column::RoundId.is_null())
        .filter(connections::Column::CreatedAt.gt(since))
        .count(db)
        .await
}

pub enum Direction {
    Incoming,
    Outgoing,
}

pub async fn list(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    direction: Option<Direction>,
    status: Option<ConnectionStatus>,
    before: Option<Uuid>,
    limit: Option<u64>,
) -> Result<Vec<Connection>, sea_orm::DbErr> {
    let parties = match direction {
        Some(Direction::Incoming) => {
            Condition::all().add(connections::Column::RecipientId.eq(user_id))
        }
        Some(Direction::Outgoing) => {
            Condition::all().add(connections::Column::RequesterId.eq(user_id))
        }
        None => Condition::any()
            .add(connections::Column::RecipientId.eq(user_id))
            .add(connections::Column::RequesterId.eq(user_id)),
    };
    let mut query = Connections::find()
        .filter(parties)
        .order_by_desc(connections::Column::Id);
    if let Some(status) = status {
        query = query.filter(connections::Column::Status.eq(status.as_str()));
    }
    if let Some(before) = before {
        query = query.filter(connections::Column::Id.lt(before));
    }
    if let Some(limit) = limit {
        query = query.limit(limit);
    }
    query.all(db).await
}

/// The connections with these ids (those that still exist).
pub async fn by_ids(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> Result<Vec<Connection>, sea_orm::DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Connections::find()
        .filter(connections::Column::Id.is_in(ids.to_vec()))
        .all(db)
        .await
}

pub async fn all_of(
    db: &impl ConnectionTrait,
    user_id: Uuid,
) -> Result<Vec<Connection>, sea_orm::DbErr> {
    list(db, user_id, None, None, None, None).await
}

pub async fn is_blocked_either_way(
    db: &impl ConnectionTrait,
    a: Uuid,
    b: Uuid,
) -> Result<bool, sea_orm::DbErr> {
    Ok(blocks::Entity::find()
        .filter(
            Condition::any()
                .add(
                    Condition::all()
                        .add(blocks::Column::BlockerId.eq(a))
                        .add(blocks::Column::BlockedId.eq(b)),
                )
                .add(
                    Condition::all()
                        .add(blocks::Column::BlockerId.eq(b))
                        .add(blocks::Column::BlockedId.eq(a)),
                ),
        )
        .count(db)
        .await?
        > 0)
}

pub async fn block(
    db: &impl ConnectionTrait,
    blocker: Uuid,
    blocked: Uuid,
) -> Result<(), sea_orm::DbErr> {
    if blocks::Entity::find_by_id((blocker, blocked))
        .one(db)
        .await?
        .is_some()
    {
        return Ok(());
    }
    blocks::ActiveModel {
        blocker_id: Set(blocker),
        blocked_id: Set(blocked),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await
    .map(drop)
}

/// The blocks `blocker` made, most recent first.
pub async fn blocked_by(
    db: &impl ConnectionTrait,
    blocker: Uuid,
) -> Result<Vec<blocks::Model>, sea_orm::DbErr> {
    blocks::Entity::find()
        .filter(blocks::Column::BlockerId.eq(blocker))
        .order_by_desc(blocks::Column::CreatedAt)
        .all(db)
        .await
}

pub async fn unblock(
    db: &impl ConnectionTrait,
    blocker: Uuid,
    blocked: Uuid,
) -> Result<(), sea_orm::DbErr> {
    blocks::Entity::delete_by_id((blocker, blocked))
        .exec(db)
        .await
        .map(drop)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Preferences {
    pub connection_requests: bool,
    pub match_digest: bool,
    /// A circle's introduction, meeting invitations and reminders.
    pub circle_updates: bool,
    /// The daily digest of new posts in the caller's circles.
    pub circle_digest: bool,
    /// Check-ins, meeting proposals and reminders of the caller's connections.
    pub follow_through: bool,
}

impl Preferences {
    /// No optional email at all (one-click unsubscribe).
    pub const NONE: Self = Self {
        connection_requests: false,
        match_digest: false,
        circle_updates: false,
        circle_digest: false,
        follow_through: false,
    };
}

impl Default for Preferences {
    fn default() -> Self {
        Self {
            connection_requests: true,
            match_digest: true,
            circle_updates: true,
            circle_digest: true,
            follow_through: true,
        }
    }
}

pub async fn preferences(
    db: &impl ConnectionTrait,
    user_id: Uuid,
) -> Result<Preferences, sea_orm::DbErr> {
    Ok(notification_prefs::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .map_or_else(Preferences::default, |p| Preferences {
            connection_requests: p.connection_requests,
            match_digest: p.match_digest,
            circle_updates: p.circle_updates,
            circle_digest: p.circle_digest,
            follow_through: p.follow_through,
        }))
}

pub async fn set_preferences(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    prefs: Preferences,
) -> Result<(), sea_orm::DbErr> {
    let row = notification_prefs::ActiveModel {
        user_id: Set(user_id),
        connection_requests: Set(prefs.connection_requests),
        match_digest: Set(prefs.match_digest),
        circle_updates: Set(prefs.circle_updates),
        circle_digest: Set(prefs.circle_digest),
        follow_through: Set(prefs.follow_through),
        updated_at: Set(Utc::now()),
    };
    super::upsert(db, row).await
}

/// Pending requests past half their time that have had no reminder; each is claimed by a
/// conditional update so that only one instance sends it.
pub async fn claim_reminders(
    db: &impl ConnectionTrait,
    ttl: Duration,
    now: DateTime<Utc>,
) -> Result<Vec<Connection>, sea_orm::DbErr> {
    let due = Connections::find()
        .filter(connections::Column::Status.eq(Pending.as_str()))
        .filter(connections::Column::RemindedAt.is_null())
        .filter(connections::Column::CreatedAt.lte(now - ttl / 2))
        .limit(100)
        .all(db)
        .await?;
    let mut claimed = Vec::new();
    for connection in due {
        let won = Connections::update_many()
            .col_expr(connections::Column::RemindedAt, Expr::value(now))
            .filter(connections::Column::Id.eq(connection.id))
            .filter(connections::Column::RemindedAt.is_null())
            .filter(connections::Column::Status.eq(Pending.as_str()))
            .exec(db)
            .await?
            .rows_affected
            == 1;
        if won {
            claimed.push(connection);
        }
    }
    Ok(claimed)
}

/// Pending requests at the end of their time, moved to `expired` one by one.
pub async fn claim_expired(
    db: &impl ConnectionTrait,
    expiry: Transition,
    now: DateTime<Utc>,
) -> Result<Vec<Connection>, sea_orm::DbErr> {
    let due = Connections::find()
        .filter(connections::Column::Status.eq(expiry.from.as_str()))
        .filter(connections::Column::ExpiresAt.lte(now))
        .limit(100)
        .all(db)
        .await?;
    let mut expired = Vec::new();
    for connection in due {
        if transition(db, connection.id, expiry, None).await? {
            expired.push(connection);
        }
    }
    Ok(expired)
}

pub async fn count_by_status(
    db: &impl ConnectionTrait,
    status: ConnectionStatus,
) -> Result<u64, sea_orm::DbErr> {
    Connections::find()
        .filter(connections::Column::Status.eq(status.as_str()))
        .count(db)
        .await
}
