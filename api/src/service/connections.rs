//! Connection requests and their answers, and blocks. Every change of a connection's
//! status goes through the state machine in `domain::connection`.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    domain::connection::{
        self, Action, Actor, ConnectionKind, ConnectionStatus, DeclineReason, Refusal,
    },
    error::{ApiError, ProblemCode},
    service::{
        matching::ReasonView,
        notifications,
        profiles::{self, public_profiles},
        Core,
    },
    store::{
        self,
        connections::{self as rows, Connection, Direction, NewConnection},
        entities::users as user_rows,
        profiles as stored_profiles,
        users::{self, User},
    },
    views::{round3, PublicProfile},
};

/// One connection as either party sees it.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ConnectionView {
    pub id: Uuid,
    #[schema(example = "mentorship")]
    pub kind: String,
    /// pending, accepted, declined, withdrawn, ended or expired.
    #[schema(example = "pending")]
    pub status: String,
    pub requester: PublicProfile,
    pub recipient: PublicProfile,
    pub message: Option<String>,
    pub score: Option<f64>,
    pub reasons: Vec<ReasonView>,
    /// Proposed by a matching round rather than asked for.
    pub proposed_by_round: bool,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub responded_at: Option<DateTime<Utc>>,
    /// The other party's email, once both have said yes.
    pub contact_email: Option<String>,
}

/// Each connection as `viewer` sees it.
async fn views(
    db: &impl ConnectionTrait,
    connections: &[Connection],
    viewer: Uuid,
) -> Result<Vec<ConnectionView>, ApiError> {
    let mut ids: Vec<Uuid> = connections
        .iter()
        .flat_map(|c| [c.requester_id, c.recipient_id])
        .collect();
    ids.sort();
    ids.dedup();
    let found = stored_profiles::find(
        db,
        sea_orm::Condition::all()
            .add(crate::store::entities::profiles::Column::UserId.is_in(ids.clone())),
        None,
        None,
    )
    .await?;
    let stored = stored_profiles::attach_tags(db, found).await?;
    let me = stored.iter().find(|p| p.row.user_id == viewer).cloned();
    let public: HashMap<Uuid, PublicProfile> = public_profiles(
        db,
        &stored,
        me.as_ref()
            .map(crate::store::profiles::StoredProfile::location),
    )
    .await?
    .into_iter()
    .map(|p| (p.user_id, p))
    .collect();
    let emails: HashMap<Uuid, String> = user_rows::Entity::find()
        .filter(user_rows::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.email))
        .collect();
    connections
        .iter()
        .map(|c| {
            let party = |id: Uuid| {
                public
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| ApiError::unexpected(anyhow::anyhow!("no profile for {id}")))
            };
            let other = if c.requester_id == viewer {
                c.recipient_id
            } else {
                c.requester_id
            };
            let reasons =
                serde_json::from_value::<Vec<ReasonView>>(c.reasons.clone()).unwrap_or_default();
            Ok(ConnectionView {
                id: c.id,
                kind: c.kind.as_str().to_owned(),
                status: c.status.as_str().to_owned(),
                requester: party(c.requester_id)?,
                recipient: party(c.recipient_id)?,
                message: c.message.clone(),
                score: c.score,
                reasons,
                proposed_by_round: c.round_id.is_some(),
                created_at: c.created_at,
                expires_at: c.expires_at,
                responded_at: c.responded_at,
                contact_email: (c.status == ConnectionStatus::Accepted)
                    .then(|| emails.get(&other).cloned())
                    .flatten(),
            })
        })
        .collect()
}

async fn view(
    db: &impl ConnectionTrait,
    connection: &Connection,
    viewer: Uuid,
) -> Result<ConnectionView, ApiError> {
    views(db, std::slice::from_ref(connection), viewer)
        .await?
        .pop()
        .ok_or(ApiError::NotFound)
}

/// Every connection of one practitioner, as they see it (for their data export).
#[tracing::instrument(skip(db))]
pub async fn all_views(
    db: &impl ConnectionTrait,
    user_id: Uuid,
) -> Result<Vec<ConnectionView>, ApiError> {
    let all = rows::all_of(db, user_id).await?;
    views(db, &all, user_id).await
}

fn exists() -> ApiError {
    ApiError::refused(
        ProblemCode::ConnectionExists,
        "There is already a pending or accepted connection between you.",
    )
}

fn wrong_status(status: Option<ConnectionStatus>) -> ApiError {
    ApiError::refused(
        ProblemCode::InvalidStatus,
        format!(
            "The connection is {}.",
            status.map_or("", ConnectionStatus::as_str)
        ),
    )
}

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::NotYourMove { only } => ApiError::refused(
                ProblemCode::NotYourMove,
                format!("Only the {only} can do this."),
            ),
            Refusal::WrongStatus(status) => wrong_status(Some(status)),
        }
    }
}

/// A mentor who offers, is not paused, and has a free slot.
async fn mentor_has_room(
    db: &impl ConnectionTrait,
    mentor: &stored_profiles::StoredProfile,
) -> Result<bool, ApiError> {
    let row = &mentor.row;
    let paused = row
        .mentoring_paused_until
        .is_some_and(|d| d > Utc::now().date_naive());
    let taken = rows::accepted_mentees(db, row.user_id).await?;
    Ok(row.mentoring_offering
        && !paused
        && taken < u64::try_from(row.mentoring_capacity.max(0)).unwrap_or(0))
}

/// Refuses a practitioner's own request beyond `CONNECTION_REQUESTS_PER_DAY` in the last
/// 24 hours (round proposals do not count).
async fn check_daily_requests(
    core: &Core,
    db: &impl ConnectionTrait,
    requester_id: Uuid,
) -> Result<(), ApiError> {
    let sent_today = rows::requests_since(db, requester_id, Utc::now() - Duration::days(1)).await?;
    if sent_today >= u64::from(core.config.requests_per_day) {
        return Err(ApiError::TooManyRequests {
            retry_after_secs: 3600,
        });
    }
    Ok(())
}

fn ttl(core: &Core) -> Duration {
    Duration::from_std(core.config.request_ttl).unwrap_or_else(|_| Duration::days(14))
}

/// What the matcher said about a pair, as stored with the request.
fn explained(explanation: Option<&matcher::Explanation>) -> (Option<f64>, serde_json::Value) {
    let reasons = explanation.map_or_else(Vec::new, |e| ReasonView::all(&e.reasons));
    (
        explanation.map(|e| round3(f64::from(e.score))),
        serde_json::to_value(reasons).unwrap_or_default(),
    )
}

/// Inserts a pending connection and queues the request email, in one write. A
/// practitioner's own request is counted against the daily limit under their account's row
/// lock in the same transaction, so simultaneous requests are counted one after another.
async fn open(core: &Core, new: NewConnection) -> Result<Connection, ApiError> {
    let mut write = core.write().await?;
    if new.round_id.is_none() {
        store::lock_account(write.db(), new.requester_id).await?;
        check_daily_requests(core, write.db(), new.requester_id).await?;
    }
    let row = rows::insert(write.db(), new)
        .await
        .map_err(|e| match e.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => exists(),
            _ => e.into(),
        })?;
    notifications::connection_request(write.db(), &core.mailing(), &row).await?;
    write.connection_changed(row.id);
    write.commit().await?;
    Ok(row)
}

/// What a practitioner asks for.
pub struct Request {
    pub recipient_id: Uuid,
    pub kind: ConnectionKind,
    pub message: Option<String>,
}

/// Asks another practitioner to connect, as peers or as the mentee of a mentorship.
#[tracing::instrument(skip_all, fields(user_id = %me.id, recipient_id = %request.recipient_id))]
pub async fn request(core: &Core, me: &User, request: Request) -> Result<ConnectionView, ApiError> {
    if !me.email_verified {
        return Err(ApiError::refused(
            ProblemCode::EmailNotVerified,
            "Verify your email address before asking anyone to connect.",
        ));
    }
    if request.recipient_id == me.id {
        return Err(ApiError::field(
            "recipient_id",
            "you cannot connect with yourself",
        ));
    }
    if request
        .message
        .as_ref()
        .is_some_and(|m| m.chars().count() > 1000)
    {
        return Err(ApiError::field(
            "message",
            "must be at most 1000 characters",
        ));
    }
    let db = &core.db;
    stored_profiles::load(db, me.id)
        .await?
        .ok_or_else(profiles::no_profile)?;
    let recipient = users::find_by_id(db, request.recipient_id)
        .await?
        .filter(|u| u.email_verified && !u.suspended)
        .ok_or(ApiError::NotFound)?;
    let recipient_profile = stored_profiles::load(db, recipient.id)
        .await?
        .ok_or(ApiError::NotFound)?;
    if rows::is_blocked_either_way(db, me.id, recipient.id).await? {
        return Err(ApiError::NotFound);
    }
    // A quick look first; the count that decides is taken again in the transaction that
    // writes the request.
    check_daily_requests(core, db, me.id).await?;
    if request.kind == ConnectionKind::Mentorship
        && !mentor_has_room(db, &recipient_profile).await?
    {
        return Err(ApiError::refused(
            ProblemCode::MentorUnavailable,
            "This practitioner is not taking mentees right now.",
        ));
    }
    if rows::live_between(db, me.id, recipient.id).await?.is_some() {
        return Err(exists());
    }
    let explanation = core
        .index
        .explain(me.id, recipient.id, request.kind.matcher_kind());
    let (score, reasons) = explained(explanation.as_ref());
    let row = open(
        core,
        NewConnection {
            kind: request.kind,
            requester_id: me.id,
            recipient_id: recipient.id,
            message: request.message.filter(|m| !m.trim().is_empty()),
            score,
            reasons,
            round_id: None,
            ttl: ttl(core),
        },
    )
    .await?;
    view(db, &row, me.id).await
}

/// The order of a list of connections.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ListOrder {
    /// Newest first.
    #[default]
    Newest,
    /// The most isolated other party first (ties newest first): how a mentor sees who
    /// asked them.
    Isolation,
}

/// Where a page starts: before a connection (newest first) or after so many (isolation).
pub enum Cursor {
    Before(Uuid),
    Offset(usize),
}

/// Which of a practitioner's connections to list, and in which order.
pub struct ListFilter {
    pub direction: Option<Direction>,
    pub status: Option<ConnectionStatus>,
    pub order: ListOrder,
    pub cursor: Option<Cursor>,
    pub limit: u64,
}

/// Connections ordered by isolation: the most this order sorts.
const ISOLATION_ORDER_MAX: u64 = 1000;

/// A page of the caller's connections, and the cursor of the next page.
#[tracing::instrument(skip(core, filter))]
pub async fn list(
    core: &Core,
    user_id: Uuid,
    filter: ListFilter,
) -> Result<(Vec<ConnectionView>, Option<String>), ApiError> {
    let limit = usize::try_from(filter.limit).unwrap_or(usize::MAX);
    let (page, next) = match filter.order {
        ListOrder::Newest => {
            let before = match filter.cursor {
                Some(Cursor::Before(id)) => Some(id),
                _ => None,
            };
            let mut page = rows::list(
                &core.reads,
                user_id,
                filter.direction,
                filter.status,
                before,
                Some(filter.limit + 1),
            )
            .await?;
            let more = page.len() > limit;
            page.truncate(limit);
            let next = more
                .then(|| page.last().map(|r| r.id.to_string()))
                .flatten();
            (page, next)
        }
        ListOrder::Isolation => {
            let offset = match filter.cursor {
                Some(Cursor::Offset(n)) => n,
                _ => 0,
            };
            let mut all = rows::list(
                &core.reads,
                user_id,
                filter.direction,
                filter.status,
                None,
                Some(ISOLATION_ORDER_MAX),
            )
            .await?;
            let isolation = |c: &Connection| {
                let other = if c.requester_id == user_id {
                    c.recipient_id
                } else {
                    c.requester_id
                };
                core.index.isolation(other).map_or(0.0, |i| i.score)
            };
            all.sort_by(|a, b| {
                isolation(b)
                    .total_cmp(&isolation(a))
                    .then(b.created_at.cmp(&a.created_at))
            });
            let more = all.len() > offset + limit;
            let page: Vec<Connection> = all.into_iter().skip(offset).take(limit).collect();
            (page, more.then(|| (offset + limit).to_string()))
        }
    };
    Ok((views(&core.reads, &page, user_id).await?, next))
}

/// A connection the caller is party to; anyone else is told it does not exist.
pub(crate) async fn of_party(core: &Core, id: Uuid, caller: Uuid) -> Result<Connection, ApiError> {
    rows::find(&core.db, id)
        .await?
        .filter(|c| c.requester_id == caller || c.recipient_id == caller)
        .ok_or(ApiError::NotFound)
}

/// One connection, for its two parties only.
#[tracing::instrument(skip(core))]
pub async fn get(core: &Core, id: Uuid, caller: Uuid) -> Result<ConnectionView, ApiError> {
    let row = of_party(core, id, caller).await?;
    view(&core.reads, &row, caller).await
}

/// Why the recipient declined; the note is kept for them and never sent to the requester.
#[derive(Default)]
pub struct Decline {
    pub reason: Option<DeclineReason>,
    pub note: Option<String>,
}

/// Accepts, declines, withdraws or ends a connection, as the state machine allows for the
/// caller's side. Accepting introduces the two by email (within the mentor's capacity);
/// declining tells the requester kindly and, for a round's proposal, proposes the mentee to
/// their next-best mentor.
#[tracing::instrument(skip(core, decline))]
pub async fn act(
    core: &Core,
    id: Uuid,
    caller: Uuid,
    action: Action,
    decline: Decline,
) -> Result<ConnectionView, ApiError> {
    let row = of_party(core, id, caller).await?;
    let actor = if row.requester_id == caller {
        Actor::Requester
    } else {
        Actor::Recipient
    };
    let transition = connection::apply(row.status, action, actor)?;
    let mut write = core.write().await?;
    if action == Action::Accept && row.kind == ConnectionKind::Mentorship {
        let mentor = rows::lock_mentor(write.db(), row.recipient_id)
            .await?
            .ok_or(ApiError::NotFound)?;
        let taken = rows::accepted_mentees(write.db(), row.recipient_id).await?;
        if taken >= u64::try_from(mentor.mentoring_capacity.max(0)).unwrap_or(0) {
            return Err(ApiError::refused(
                ProblemCode::MentorFull,
                "Accepting would take you past the number of mentees you offered.",
            ));
        }
    }
    let declined = (action == Action::Decline).then_some((decline.reason, decline.note));
    if !rows::transition(write.db(), row.id, transition, declined).await? {
        let current = rows::find(write.db(), row.id).await?.map(|c| c.status);
        return Err(wrong_status(current));
    }
    match action {
        Action::Accept => notifications::introduction(write.db(), &row).await?,
        Action::Decline => notifications::declined(write.db(), &row).await?,
        _ => {}
    }
    if actor == Actor::Recipient {
        crate::service::mentors::answered(&mut write, caller).await?;
    }
    write.connection_changed(row.id);
    write.commit().await?;
    let row = rows::find(&core.db, row.id)
        .await?
        .ok_or(ApiError::NotFound)?;
    if let (Action::Decline, Some(round_id), ConnectionKind::Mentorship) =
        (action, row.round_id, row.kind)
    {
        propose_next_mentor(core, row.requester_id, round_id).await?;
    }
    view(&core.db, &row, caller).await
}

/// A round's proposal: a pending mentorship from the mentee to the mentor, emailed to the
/// mentor. `Ok(false)` when the pair cannot be proposed (already connected, or the mentor
/// has no room left).
#[tracing::instrument(skip(core, explanation))]
pub async fn propose(
    core: &Core,
    mentee: Uuid,
    mentor: Uuid,
    round_id: Uuid,
    explanation: Option<&matcher::Explanation>,
) -> Result<bool, ApiError> {
    let (score, reasons) = explained(explanation);
    let proposed = open(
        core,
        NewConnection {
            kind: ConnectionKind::Mentorship,
            requester_id: mentee,
            recipient_id: mentor,
            message: None,
            score,
            reasons,
            round_id: Some(round_id),
            ttl: ttl(core),
        },
    )
    .await;
    match proposed {
        Ok(row) => {
            tracing::info!(connection_id = %row.id, "mentee proposed to a mentor");
            Ok(true)
        }
        Err(error) if error.code().status() == 409 => Ok(false),
        Err(other) => Err(other),
    }
}

/// After a round proposal is declined: the mentee's best remaining mentor with room.
async fn propose_next_mentor(core: &Core, mentee: Uuid, round_id: Uuid) -> Result<(), ApiError> {
    for candidate in core.index.suggest(mentee, matcher::Kind::Mentor, 5) {
        let explanation = matcher::Explanation {
            score: candidate.score,
            reasons: candidate.reasons,
        };
        if propose(
            core,
            mentee,
            candidate.user_id,
            round_id,
            Some(&explanation),
        )
        .await?
        {
            return Ok(());
        }
    }
    Ok(())
}

/// Blocks someone: neither is suggested to or can request the other; a pending request
/// between them is withdrawn.
#[tracing::instrument(skip(core))]
pub async fn block(core: &Core, blocker: Uuid, blocked: Uuid) -> Result<(), ApiError> {
    if blocked == blocker {
        return Err(ApiError::field("user_id", "you cannot block yourself"));
    }
    users::find_by_id(&core.db, blocked)
        .await?
        .ok_or(ApiError::NotFound)?;
    let mut write = core.write().await?;
    rows::block(write.db(), blocker, blocked).await?;
    if let Some(pending) = rows::live_between(write.db(), blocker, blocked)
        .await?
        .filter(|c| c.status == ConnectionStatus::Pending)
    {
        let close = connection::apply(pending.status, Action::Close, Actor::Service)?;
        if rows::transition(write.db(), pending.id, close, None).await? {
            write.connection_changed(pending.id);
        }
    }
    write.blocks_changed();
    write.commit().await
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct BlockedPerson {
    pub user_id: Uuid,
    pub display_name: String,
    pub blocked_at: DateTime<Utc>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct BlockList {
    /// Most recent first.
    pub items: Vec<BlockedPerson>,
}

/// The people `blocker` has blocked (not those who blocked them), most recent first; an
/// erased account leaves nothing to show.
#[tracing::instrument(skip(core))]
pub async fn blocked(core: &Core, blocker: Uuid) -> Result<BlockList, ApiError> {
    let blocks = rows::blocked_by(&core.reads, blocker).await?;
    let ids: Vec<Uuid> = blocks.iter().map(|b| b.blocked_id).collect();
    let names: HashMap<Uuid, String> = user_rows::Entity::find()
        .filter(user_rows::Column::Id.is_in(ids))
        .all(&core.reads)
        .await?
        .into_iter()
        .map(|u| (u.id, u.display_name))
        .collect();
    let items = blocks
        .into_iter()
        .filter_map(|b| {
            Some(BlockedPerson {
                display_name: names.get(&b.blocked_id)?.clone(),
                user_id: b.blocked_id,
                blocked_at: b.created_at,
            })
        })
        .collect();
    Ok(BlockList { items })
}

/// Lifts a block (or does nothing when there was none).
#[tracing::instrument(skip(core))]
pub async fn unblock(core: &Core, blocker: Uuid, blocked: Uuid) -> Result<(), ApiError> {
    let mut write = core.write().await?;
    rows::unblock(write.db(), blocker, blocked).await?;
    write.blocks_changed();
    write.commit().await
}

/// Reminds each recipient once of a request still waiting at half its time; returns how
/// many were reminded. Every instance may call it: claiming a reminder is one conditional
/// update, so each is sent once.
pub async fn send_reminders(core: &Core, now: DateTime<Utc>) -> Result<usize, ApiError> {
    let write = core.write().await?;
    let due = rows::claim_reminders(write.db(), ttl(core), now).await?;
    for connection in &due {
        notifications::reminder(write.db(), &core.mailing(), connection)
            .await
            .map_err(ApiError::unexpected)?;
    }
    write.commit().await?;
    Ok(due.len())
}

/// Expires the requests past their time and tells each requester; returns how many
/// expired. Like reminders, each expiry happens once across instances.
pub async fn expire_overdue(core: &Core, now: DateTime<Utc>) -> Result<usize, ApiError> {
    let expiry = connection::apply(ConnectionStatus::Pending, Action::Expire, Actor::Service)
        .map_err(|refusal| ApiError::unexpected(anyhow::anyhow!("expiry refused: {refusal:?}")))?;
    let mut write = core.write().await?;
    let expired = rows::claim_expired(write.db(), expiry, now).await?;
    for connection in &expired {
        notifications::expired(write.db(), connection)
            .await
            .map_err(ApiError::unexpected)?;
        crate::service::mentors::request_expired(&mut write, core, connection).await?;
        write.connection_changed(connection.id);
        tracing::info!(connection_id = %connection.id, "connection request expired");
    }
    write.commit().await?;
    Ok(expired.len())
}
