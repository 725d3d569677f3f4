//! Circles, their members and seekers, discussion posts, reports, resources, meetings and
//! answers to them.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::{Expr, ExprTrait, Query},
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::entities::{
    blocks, circle_members as members, circle_posts as posts, circle_reports as reports,
    circle_resources as resources, circle_seekers as seekers, circles,
};
use crate::domain::circle::{CircleState, MemberRole, MemberStatus, PostKind};

pub use circle_members::Model as Member;
pub use circles::Model as Circle;
pub use posts::Model as Post;

use super::entities::circle_members;

/// Takes the circle's lock for the rest of the transaction and reads it. The lock is a
/// write (its `version` goes up), and must be the transaction's first statement: on
/// PostgreSQL it holds the row; on SQLite it makes this the one writer at once, so that
/// a count read after it cannot be stale.
pub async fn lock(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<Circle>, sea_orm::DbErr> {
    let updated = circles::Entity::update_many()
        .col_expr(
            circles::Column::Version,
            Expr::col(circles::Column::Version).add(1),
        )
        .filter(circles::Column::Id.eq(id))
        .exec(db)
        .await?;
    if updated.rows_affected == 0 {
        return Ok(None);
    }
    find(db, id).await
}

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<Circle>, sea_orm::DbErr> {
    circles::Entity::find_by_id(id).one(db).await
}

pub async fn insert(
    db: &impl ConnectionTrait,
    circle: circles::ActiveModel,
) -> Result<Circle, sea_orm::DbErr> {
    circle.insert(db).await
}

pub async fn set_state(
    db: &impl ConnectionTrait,
    id: Uuid,
    state: CircleState,
    closed_reason: Option<String>,
) -> Result<(), sea_orm::DbErr> {
    let now = Utc::now();
    circles::ActiveModel {
        id: Set(id),
        state: Set(state),
        closed_reason: Set(closed_reason),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(db)
    .await
    .map(drop)
}

/// Something happened in the circle (a post, a reply, a member): it moves up lists.
pub async fn touch(db: &impl ConnectionTrait, id: Uuid) -> Result<(), sea_orm::DbErr> {
    circles::Entity::update_many()
        .col_expr(circles::Column::LastActivityAt, Expr::value(Utc::now()))
        .filter(circles::Column::Id.eq(id))
        .exec(db)
        .await
        .map(drop)
}

pub async fn count_in_state(
    db: &impl ConnectionTrait,
    state: CircleState,
) -> Result<u64, sea_orm::DbErr> {
    circles::Entity::find()
        .filter(circles::Column::State.eq(state))
        .count(db)
        .await
}

/// Every circle that is not closed.
pub async fn open_circles(db: &impl ConnectionTrait) -> Result<Vec<Circle>, sea_orm::DbErr> {
    circles::Entity::find()
        .filter(circles::Column::State.ne(CircleState::Closed))
        .order_by_desc(circles::Column::LastActivityAt)
        .all(db)
        .await
}

pub async fn by_ids(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> Result<Vec<Circle>, sea_orm::DbErr> {
    circles::Entity::find()
        .filter(circles::Column::Id.is_in(ids.to_vec()))
        .order_by_desc(circles::Column::LastActivityAt)
        .all(db)
        .await
}

pub async fn member(
    db: &impl ConnectionTrait,
    circle_id: Uuid,
    user_id: Uuid,
) -> Result<Option<Member>, sea_orm::DbErr> {
    members::Entity::find_by_id((circle_id, user_id))
        .one(db)
        .await
}

/// Members and pending joins of these circles, in the order they joined or asked.
pub async fn members_of(
    db: &impl ConnectionTrait,
    circle_ids: &[Uuid],
) -> Result<Vec<Member>, sea_orm::DbErr> {
    members::Entity::find()
        .filter(members::Column::CircleId.is_in(circle_ids.to_vec()))
        .order_by_asc(members::Column::RequestedAt)
        .order_by_asc(members::Column::UserId)
        .all(db)
        .await
}

pub async fn active_count(
    db: &impl ConnectionTrait,
    circle_id: Uuid,
) -> Result<u64, sea_orm::DbErr> {
    members::Entity::find()
        .filter(members::Column::CircleId.eq(circle_id))
        .filter(members::Column::Status.eq(MemberStatus::Active))
        .count(db)
        .await
}

/// Every membership and pending join of one practitioner.
pub async fn memberships(
    db: &impl ConnectionTrait,
    user_id: Uuid,
) -> Result<Vec<Member>, sea_orm::DbErr> {
    members::Entity::find()
        .filter(members::Column::UserId.eq(user_id))
        .order_by_asc(members::Column::RequestedAt)
        .all(db)
        .await
}

/// How many open circles a practitioner belongs to or has asked to join.
pub async fn open_memberships(
    db: &impl ConnectionTrait,
    user_id: Uuid,
) -> Result<u64, sea_orm::DbErr> {
    let open = Query::select()
        .column(circles::Column::Id)
        .from(circles::Entity)
        .and_where(circles::Column::State.ne(CircleState::Closed))
        .to_owned();
    members::Entity::find()
        .filter(members::Column::UserId.eq(user_id))
        .filter(members::Column::CircleId.in_subquery(open))
        .count(db)
        .await
}

pub struct NewMember {
    pub circle_id: Uuid,
    pub user_id: Uuid,
    pub role: MemberRole,
    pub status: MemberStatus,
    pub note: Option<String>,
}

pub async fn add_member(
    db: &impl ConnectionTrait,
    new: NewMember,
) -> Result<Member, sea_orm::DbErr> {
    let now = Utc::now();
    members::ActiveModel {
        circle_id: Set(new.circle_id),
        user_id: Set(new.user_id),
        role: Set(new.role),
        status: Set(new.status),
        note: Set(new.note),
        requested_at: Set(now),
        joined_at: Set((new.status == MemberStatus::Active).then_some(now)),
    }
    .insert(db)
    .await
}

pub async fn activate(
    db: &impl ConnectionTrait,
    circle_id: Uuid,
    user_id: Uuid,
) -> Result<Member, sea_orm::DbErr> {
    members::ActiveModel {
        circle_id: Set(circle_id),
        user_id: Set(user_id),
        status: Set(MemberStatus::Active),
        joined_at: Set(Some(Utc::now())),
        ..Default::default()
    }
    .update(db)
    .await
}

pub async fn remove_member(
    db: &impl ConnectionTrait,
    circle_id: Uuid,
    user_id: Uuid,
) -> Result<(), sea_orm::DbErr> {
    members::Entity::delete_by_id((circle_id, user_id))
        .exec(db)
        .await
        .map(drop)
}

/// Everyone either side of a block with `user_id`.
pub async fn blocked_with(
    db: &impl ConnectionTrait,
    user_id: Uuid,
) -> Result<HashSet<Uuid>, sea_orm::DbErr> {
    Ok(blocks::Entity::find()
        .filter(
            Condition::any()
                .add(blocks::Column::BlockerId.eq(user_id))
                .add(blocks::Column::BlockedId.eq(user_id)),
        )
        .all(db)
        .await?
        .into_iter()
        .map(|b| {
            if b.blocker_id == user_id {
                b.blocked_id
            } else {
                b.blocker_id
            }
        })
        .collect())
}

pub async fn seekers(db: &impl ConnectionTrait) -> Result<Vec<Uuid>, sea_orm::DbErr> {
    seekers::Entity::find()
        .select_only()
        .column(seekers::Column::UserId)
        .order_by_asc(seekers::Column::Since)
        .into_tuple()
        .all(db)
        .await
}

pub async fn is_seeking(
    db: &impl ConnectionTrait,
    user_id: Uuid,
) -> Result<Option<DateTime<Utc>>, sea_orm::DbErr> {
    Ok(seekers::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .map(|s| s.since))
}

pub async fn set_seeking(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    seeking: bool,
) -> Result<(), sea_orm::DbErr> {
    if !seeking {
        return seekers::Entity::delete_by_id(user_id)
            .exec(db)
            .await
            .map(drop);
    }
    insert_unless_there(
        db,
        seekers::ActiveModel {
            user_id: Set(user_id),
            since: Set(Utc::now()),
        },
    )
    .await
}

/// Puts these practitioners on the waiting list (those on it already stay as they were),
/// many rows a statement, in one transaction.
pub async fn add_seekers(
    db: &sea_orm::DatabaseConnection,
    ids: &[Uuid],
) -> Result<(), sea_orm::DbErr> {
    let txn = crate::store::begin(db).await?;
    let since = Utc::now();
    for chunk in ids.chunks(1000) {
        seekers::Entity::insert_many(chunk.iter().map(|&user_id| seekers::ActiveModel {
            user_id: Set(user_id),
            since: Set(since),
        }))
        .on_conflict_do_nothing()
        .exec_without_returning(&txn)
        .await?;
    }
    txn.commit().await
}

/// Takes these practitioners off the waiting list; how many were on it.
pub async fn stop_seeking(db: &impl ConnectionTrait, ids: &[Uuid]) -> Result<u64, sea_orm::DbErr> {
    Ok(seekers::Entity::delete_many()
        .filter(seekers::Column::UserId.is_in(ids.to_vec()))
        .exec(db)
        .await?
        .rows_affected)
}

pub async fn find_post(
    db: &impl ConnectionTrait,
    circle_id: Uuid,
    id: Uuid,
) -> Result<Option<Post>, sea_orm::DbErr> {
    posts::Entity::find_by_id(id)
        .filter(posts::Column::CircleId.eq(circle_id))
        .one(db)
        .await
}

/// A page of a circle's threads: pinned first, then by latest activity, both newest first.
/// `after` is the last thread of the previous page.
pub async fn threads(
    db: &impl ConnectionTrait,
    circle_id: Uuid,
    after: Option<&Post>,
    limit: u64,
) -> Result<Vec<Post>, sea_orm::DbErr> {
    let mut query = posts::Entity::find()
        .filter(posts::Column::CircleId.eq(circle_id))
        .filter(posts::Column::ParentId.is_null());
    if let Some(last) = after {
        let older = Condition::all()
            .add(posts::Column::Pinned.eq(last.pinned))
            .add(
                Condition::any()
                    .add(posts::Column::LastActivityAt.lt(last.last_activity_at))
                    .add(
                        Condition::all()
                            .add(posts::Column::LastActivityAt.eq(last.last_activity_at))
                            .add(posts::Column::Id.lt(last.id)),
                    ),
            );
        // After the last pinned thread come every unpinned one.
        let later_in_order = if last.pinned {
            Condition::any()
                .add(older)
                .add(posts::Column::Pinned.eq(false))
        } else {
            older
        };
        query = query.filter(later_in_order);
    }
    query
        .order_by_desc(posts::Column::Pinned)
        .order_by_desc(posts::Column::LastActivityAt)
        .order_by_desc(posts::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// A thread's replies, oldest first.
pub async fn replies(
    db: &impl ConnectionTrait,
    parent_id: Uuid,
    limit: u64,
) -> Result<Vec<Post>, sea_orm::DbErr> {
    posts::Entity::find()
        .filter(posts::Column::ParentId.eq(parent_id))
        .order_by_asc(posts::Column::CreatedAt)
        .order_by_asc(posts::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// A post, case study or reply as written.
pub struct NewPost {
    pub circle_id: Uuid,
    /// The thread, for a reply.
    pub parent_id: Option<Uuid>,
    pub author_id: Uuid,
    pub kind: PostKind,
    pub title: Option<String>,
    pub body: String,
    pub questions: Vec<String>,
    pub at: DateTime<Utc>,
}

pub async fn insert_post(db: &impl ConnectionTrait, new: NewPost) -> Result<Post, sea_orm::DbErr> {
    posts::ActiveModel {
        id: Set(Uuid::now_v7()),
        circle_id: Set(new.circle_id),
        parent_id: Set(new.parent_id),
        author_id: Set(Some(new.author_id)),
        kind: Set(new.kind),
        title: Set(new.title),
        body: Set(new.body),
        questions: Set(serde_json::json!(new.questions)),
        pinned: Set(false),
        hidden: Set(false),
        removed: Set(false),
        replies: Set(0),
        created_at: Set(new.at),
        edited_at: Set(None),
        last_activity_at: Set(new.at),
    }
    .insert(db)
    .await
}

pub async fn update_post(
    db: &impl ConnectionTrait,
    post: posts::ActiveModel,
) -> Result<Post, sea_orm::DbErr> {
    post.update(db).await
}

/// A reply arrived: the thread counts it and moves up.
pub async fn replied(
    db: &impl ConnectionTrait,
    parent_id: Uuid,
    at: DateTime<Utc>,
) -> Result<(), sea_orm::DbErr> {
    posts::Entity::update_many()
        .col_expr(
            posts::Column::Replies,
            Expr::col(posts::Column::Replies).add(1),
        )
        .col_expr(posts::Column::LastActivityAt, Expr::value(at))
        .filter(posts::Column::Id.eq(parent_id))
        .exec(db)
        .await
        .map(drop)
}

/// Every post a practitioner wrote, oldest first (for their export).
pub async fn posts_by(
    db: &impl ConnectionTrait,
    author_id: Uuid,
) -> Result<Vec<Post>, sea_orm::DbErr> {
    posts::Entity::find()
        .filter(posts::Column::AuthorId.eq(author_id))
        .order_by_asc(posts::Column::CreatedAt)
        .all(db)
        .await
}

/// Before an account is erased: its posts lose their text and their author, and stay as
/// empty places in their threads so that others' replies keep their context.
pub async fn forget_author(
    db: &impl ConnectionTrait,
    author_id: Uuid,
) -> Result<(), sea_orm::DbErr> {
    posts::Entity::update_many()
        .col_expr(posts::Column::Body, Expr::value(""))
        .col_expr(posts::Column::Title, Expr::value(Option::<String>::None))
        .col_expr(posts::Column::Questions, Expr::value(serde_json::json!([])))
        .col_expr(posts::Column::Removed, Expr::value(true))
        .col_expr(posts::Column::AuthorId, Expr::value(Option::<Uuid>::None))
        .filter(posts::Column::AuthorId.eq(author_id))
        .exec(db)
        .await?;
    resources::Entity::delete_many()
        .filter(resources::Column::AddedBy.eq(author_id))
        .exec(db)
        .await
        .map(drop)
}

/// Records a report; reporting the same post twice counts once.
pub async fn report(
    db: &impl ConnectionTrait,
    post_id: Uuid,
    reporter_id: Uuid,
    reason: String,
) -> Result<(), sea_orm::DbErr> {
    insert_unless_there(
        db,
        reports::ActiveModel {
            post_id: Set(post_id),
            reporter_id: Set(reporter_id),
            reason: Set(reason),
            created_at: Set(Utc::now()),
        },
    )
    .await
}

/// Inserts a row unless one with the same primary key is already there (then changes
/// nothing), in one statement.
async fn insert_unless_there<A>(db: &impl ConnectionTrait, row: A) -> Result<(), sea_orm::DbErr>
where
    A: sea_orm::ActiveModelTrait,
{
    <A::Entity as EntityTrait>::insert(row)
        .on_conflict_do_nothing()
        .exec_without_returning(db)
        .await
        .map(drop)
}

/// Reports on posts that are still shown.
pub async fn open_reports(db: &impl ConnectionTrait) -> Result<u64, sea_orm::DbErr> {
    let shown = Query::select()
        .column(posts::Column::Id)
        .from(posts::Entity)
        .and_where(posts::Column::Hidden.eq(false))
        .and_where(posts::Column::Removed.eq(false))
        .to_owned();
    reports::Entity::find()
        .filter(reports::Column::PostId.in_subquery(shown))
        .count(db)
        .await
}

pub async fn report_counts(
    db: &impl ConnectionTrait,
    post_ids: &[Uuid],
) -> Result<HashMap<Uuid, u64>, sea_orm::DbErr> {
    let query = reports::Entity::find()
        .select_only()
        .column(reports::Column::PostId)
        .column_as(reports::Column::ReporterId.count(), "n")
        .filter(reports::Column::PostId.is_in(post_ids.to_vec()))
        .group_by(reports::Column::PostId);
    super::counts_by_id(db, query).await
}

pub async fn resources_of(
    db: &impl ConnectionTrait,
    circle_id: Uuid,
) -> Result<Vec<resources::Model>, sea_orm::DbErr> {
    resources::Entity::find()
        .filter(resources::Column::CircleId.eq(circle_id))
        .order_by_desc(resources::Column::CreatedAt)
        .all(db)
        .await
}

pub async fn add_resource(
    db: &impl ConnectionTrait,
    resource: resources::ActiveModel,
) -> Result<resources::Model, sea_orm::DbErr> {
    resource.insert(db).await
}

pub use super::entities::circle_meetings::Model as Meeting;
use super::entities::{
    circle_digests as digests, circle_meetings as meetings, circle_offers as offers,
    circle_rsvps as rsvps,
};

pub async fn insert_meeting(
    db: &impl ConnectionTrait,
    meeting: meetings::ActiveModel,
) -> Result<Meeting, sea_orm::DbErr> {
    meeting.insert(db).await
}

pub async fn find_meeting(
    db: &impl ConnectionTrait,
    circle_id: Uuid,
    id: Uuid,
) -> Result<Option<Meeting>, sea_orm::DbErr> {
    meetings::Entity::find_by_id(id)
        .filter(meetings::Column::CircleId.eq(circle_id))
        .one(db)
        .await
}

/// A circle's meetings that end after `after`, soonest first.
pub async fn meetings_of(
    db: &impl ConnectionTrait,
    circle_id: Uuid,
    after: DateTime<Utc>,
) -> Result<Vec<Meeting>, sea_orm::DbErr> {
    Ok(meetings::Entity::find()
        .filter(meetings::Column::CircleId.eq(circle_id))
        .filter(meetings::Column::StartsAt.gt(after - chrono::Duration::hours(24)))
        .order_by_asc(meetings::Column::StartsAt)
        .all(db)
        .await?
        .into_iter()
        .filter(|m| m.starts_at + chrono::Duration::minutes(i64::from(m.duration_minutes)) > after)
        .collect())
}

/// Meetings a practitioner organised (for their export).
pub async fn meetings_by(
    db: &impl ConnectionTrait,
    organiser_id: Uuid,
) -> Result<Vec<Meeting>, sea_orm::DbErr> {
    meetings::Entity::find()
        .filter(meetings::Column::OrganiserId.eq(organiser_id))
        .order_by_asc(meetings::Column::StartsAt)
        .all(db)
        .await
}

/// Changes a meeting's time, length, title or place: a change its invitation's `SEQUENCE`
/// counts, and the reminder is due again.
pub async fn change_meeting(
    db: &impl ConnectionTrait,
    meeting: &Meeting,
    changed: meetings::ActiveModel,
) -> Result<Meeting, sea_orm::DbErr> {
    let mut changed = changed;
    changed.id = Set(meeting.id);
    changed.sequence = Set(meeting.sequence + 1);
    changed.reminded_at = Set(None);
    changed.update(db).await
}

/// Cancels a meeting: a change its invitation's `SEQUENCE` counts.
pub async fn cancel_meeting(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Meeting, sea_orm::DbErr> {
    let row = meetings::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| sea_orm::DbErr::RecordNotFound(format!("meeting {id}")))?;
    meetings::ActiveModel {
        id: Set(id),
        cancelled: Set(true),
        sequence: Set(row.sequence + 1),
        ..Default::default()
    }
    .update(db)
    .await
}

/// Records when a meeting was first said to have taken place.
pub async fn mark_held(
    db: &impl ConnectionTrait,
    id: Uuid,
    at: DateTime<Utc>,
) -> Result<(), sea_orm::DbErr> {
    meetings::Entity::update_many()
        .col_expr(meetings::Column::HeldAt, Expr::value(at))
        .filter(meetings::Column::Id.eq(id))
        .filter(meetings::Column::HeldAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Meetings starting within `lead` of `now` that have had no reminder, each claimed by a
/// conditional update so that only one instance sends it.
pub async fn claim_meeting_reminders(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    lead: chrono::Duration,
) -> Result<Vec<Meeting>, sea_orm::DbErr> {
    let due = meetings::Entity::find()
        .filter(meetings::Column::Cancelled.eq(false))
        .filter(meetings::Column::RemindedAt.is_null())
        .filter(meetings::Column::StartsAt.gt(now))
        .filter(meetings::Column::StartsAt.lte(now + lead))
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

pub async fn rsvps_of(
    db: &impl ConnectionTrait,
    meeting_ids: &[Uuid],
) -> Result<Vec<rsvps::Model>, sea_orm::DbErr> {
    rsvps::Entity::find()
        .filter(rsvps::Column::MeetingId.is_in(meeting_ids.to_vec()))
        .order_by_asc(rsvps::Column::UpdatedAt)
        .all(db)
        .await
}

pub async fn answer(
    db: &impl ConnectionTrait,
    meeting_id: Uuid,
    user_id: Uuid,
    attending: bool,
) -> Result<(), sea_orm::DbErr> {
    super::upsert(
        db,
        rsvps::ActiveModel {
            meeting_id: Set(meeting_id),
            user_id: Set(user_id),
            attending: Set(attending),
            updated_at: Set(Utc::now()),
        },
    )
    .await
}

/// Every answer a practitioner gave (for their export).
pub async fn answers_by(
    db: &impl ConnectionTrait,
    user_id: Uuid,
) -> Result<Vec<rsvps::Model>, sea_orm::DbErr> {
    rsvps::Entity::find()
        .filter(rsvps::Column::UserId.eq(user_id))
        .all(db)
        .await
}

pub async fn offer(
    db: &impl ConnectionTrait,
    circle_id: Uuid,
    user_id: Uuid,
) -> Result<(), sea_orm::DbErr> {
    insert_unless_there(
        db,
        offers::ActiveModel {
            circle_id: Set(circle_id),
            user_id: Set(user_id),
            offered_at: Set(Utc::now()),
        },
    )
    .await
}

/// How long an offered seat waits for the person it was offered to.
pub const OFFER_DAYS: i64 = 7;

/// Takes up an offered seat: true when there was an offer, made in the last week.
pub async fn take_offer(
    db: &impl ConnectionTrait,
    circle_id: Uuid,
    user_id: Uuid,
) -> Result<bool, sea_orm::DbErr> {
    Ok(offers::Entity::delete_many()
        .filter(offers::Column::CircleId.eq(circle_id))
        .filter(offers::Column::UserId.eq(user_id))
        .filter(offers::Column::OfferedAt.gt(Utc::now() - chrono::Duration::days(OFFER_DAYS)))
        .exec(db)
        .await?
        .rows_affected
        == 1)
}

/// A suspended practitioner leaves every circle, request, offer and waiting list: their
/// seats are free again.
pub async fn forget_member(db: &impl ConnectionTrait, user_id: Uuid) -> Result<(), sea_orm::DbErr> {
    members::Entity::delete_many()
        .filter(members::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    offers::Entity::delete_many()
        .filter(offers::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    seekers::Entity::delete_by_id(user_id)
        .exec(db)
        .await
        .map(drop)
}

pub async fn offers_to(
    db: &impl ConnectionTrait,
    user_id: Uuid,
) -> Result<Vec<offers::Model>, sea_orm::DbErr> {
    offers::Entity::find()
        .filter(offers::Column::UserId.eq(user_id))
        .all(db)
        .await
}

/// When `user_id` was last sent the digest.
pub async fn digest_sent_at(
    db: &impl ConnectionTrait,
    user_id: Uuid,
) -> Result<Option<DateTime<Utc>>, sea_orm::DbErr> {
    Ok(digests::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .map(|d| d.sent_at))
}

/// Claims the next digest for `user_id`: true for exactly one caller per `last` value, on
/// every instance.
pub async fn claim_digest(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    last: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<bool, sea_orm::DbErr> {
    match last {
        Some(last) => Ok(digests::Entity::update_many()
            .col_expr(digests::Column::SentAt, Expr::value(now))
            .filter(digests::Column::UserId.eq(user_id))
            .filter(digests::Column::SentAt.eq(last))
            .exec(db)
            .await?
            .rows_affected
            == 1),
        None => {
            super::insert_first(
                db,
                digests::ActiveModel {
                    user_id: Set(user_id),
                    sent_at: Set(now),
                },
            )
            .await
        }
    }
}

/// Posts and replies in these circles since `since`, oldest first, that are shown.
pub async fn posts_since(
    db: &impl ConnectionTrait,
    circle_ids: &[Uuid],
    since: DateTime<Utc>,
) -> Result<Vec<Post>, sea_orm::DbErr> {
    posts::Entity::find()
        .filter(posts::Column::CircleId.is_in(circle_ids.to_vec()))
        .filter(posts::Column::CreatedAt.gt(since))
        .filter(posts::Column::Hidden.eq(false))
        .filter(posts::Column::Removed.eq(false))
        .order_by_asc(posts::Column::CreatedAt)
        .limit(500)
        .all(db)
        .await
}

/// Everyone who has a post or reply in any circle since `since`: the people a digest may
/// be for are their circles' members.
pub async fn circles_with_posts_since(
    db: &impl ConnectionTrait,
    since: DateTime<Utc>,
) -> Result<Vec<Uuid>, sea_orm::DbErr> {
    posts::Entity::find()
        .select_only()
        .column(posts::Column::CircleId)
        .distinct()
        .filter(posts::Column::CreatedAt.gt(since))
        .into_tuple()
        .all(db)
        .await
}
