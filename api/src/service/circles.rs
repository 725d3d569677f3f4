//! Circles: small communities of practice of four to eight practitioners. Who may join,
//! answer, remove, close and read is decided here; every change of membership takes the
//! circle's lock first, so a seat is never given twice, on any instance.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, Set};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    domain::{
        circle::{
            Admission, CircleState, MemberRole, MemberStatus, Standing, CAP_RANGE,
            CIRCLES_PER_PERSON,
        },
        codes::utc_offset_minutes,
        role::Role,
    },
    error::{ApiError, ProblemCode},
    privacy,
    service::{notifications, profiles, Core},
    store::{
        self,
        circles::{self as rows, Circle, Member, NewMember},
        entities::circles as circle_rows,
        profiles::{self as stored_profiles, StoredProfile},
        users::User,
    },
    views::PublicProfile,
};

/// The `profession` of a circle whose members may be of different professions.
pub const INTERPROFESSIONAL: &str = "interprofessional";

/// The rules every circle keeps: working hours of every pair of members overlap by at least
/// two hours, members share a profession unless the circle is interprofessional.
pub fn rules() -> matcher::circles::CircleRules {
    matcher::circles::CircleRules::default()
}

/// The caller's place in a circle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MyPlace {
    Pending,
    Member,
    Facilitator,
}

/// A circle as anyone who may find it sees it: no names, no content.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct CircleSummary {
    pub id: Uuid,
    /// What the circle is about, in plain words.
    #[schema(example = "Home modifications for older adults, rural")]
    pub domain: String,
    pub state: CircleState,
    pub admission: Admission,
    /// The members' profession, or `interprofessional`.
    #[schema(example = "occupational_therapy")]
    pub profession: String,
    #[schema(minimum = 4, maximum = 8)]
    pub cap: i32,
    pub members: u32,
    pub open_seats: u32,
    pub has_facilitator: bool,
    /// The time zone band members' working hours overlap in, as an offset from UTC.
    #[schema(example = "UTC+10:00")]
    pub utc_offset: String,
    /// From the caller to the circle's area, in whole tens of kilometres, computed from
    /// grid cells only; null when the caller has no profile.
    pub distance_km: Option<u32>,
    /// The caller's place in it; null when they are not in it.
    pub my_place: Option<MyPlace>,
    pub closed_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_activity_at: DateTime<Utc>,
}

/// A member, or someone who asked to join, as other members see them.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct CircleMember {
    pub profile: PublicProfile,
    pub role: MemberRole,
    pub status: MemberStatus,
    /// The note sent with a request to join.
    pub note: Option<String>,
    pub joined_at: Option<DateTime<Utc>>,
}

/// A circle with its members, as the caller may see it: members see each other and the
/// requests to join; anyone else sees the summary only.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct CircleView {
    pub circle: CircleSummary,
    pub members: Vec<CircleMember>,
    pub pending: Vec<CircleMember>,
}

fn offset_label(minutes: i32) -> String {
    let sign = if minutes < 0 { '-' } else { '+' };
    let m = minutes.unsigned_abs();
    format!("UTC{sign}{:02}:{:02}", m / 60, m % 60)
}

/// What one circle's summary needs beyond its row.
struct Facts<'a> {
    members: &'a [Member],
    viewer: Uuid,
    at: Option<(f64, f64)>,
}

fn summary(circle: &Circle, facts: &Facts<'_>) -> CircleSummary {
    let active = facts
        .members
        .iter()
        .filter(|m| m.status == MemberStatus::Active)
        .count();
    let active = u32::try_from(active).unwrap_or(u32::MAX);
    let cap = u32::try_from(circle.cap).unwrap_or(0);
    let mine = facts.members.iter().find(|m| m.user_id == facts.viewer);
    CircleSummary {
        id: circle.id,
        domain: circle.domain.clone(),
        state: circle.state,
        admission: circle.admission,
        profession: circle.profession.clone(),
        cap: circle.cap,
        members: active,
        open_seats: if circle.state.is_open() {
            cap.saturating_sub(active)
        } else {
            0
        },
        has_facilitator: facts
            .members
            .iter()
            .any(|m| m.role == MemberRole::Facilitator && m.status == MemberStatus::Active),
        utc_offset: offset_label(circle.utc_offset_minutes),
        distance_km: facts.at.map(|at| {
            privacy::public_distance_km(at, (circle.anchor_latitude, circle.anchor_longitude))
        }),
        my_place: mine.map(|m| match (m.status, m.role) {
            (MemberStatus::Pending, _) => MyPlace::Pending,
            (MemberStatus::Active, MemberRole::Facilitator) => MyPlace::Facilitator,
            (MemberStatus::Active, MemberRole::Member) => MyPlace::Member,
        }),
        closed_reason: circle.closed_reason.clone(),
        created_at: circle.created_at,
        last_activity_at: circle.last_activity_at,
    }
}

fn standing(user: &User, members: &[Member]) -> Standing {
    match members.iter().find(|m| m.user_id == user.id) {
        Some(m) if m.status == MemberStatus::Pending => Standing::Pending,
        Some(m) if m.role == MemberRole::Facilitator => Standing::Facilitator,
        Some(_) => Standing::Member,
        None if user.role == Role::Admin => Standing::Admin,
        None => Standing::Outsider,
    }
}

fn has_facilitator(members: &[Member]) -> bool {
    members
        .iter()
        .any(|m| m.role == MemberRole::Facilitator && m.status == MemberStatus::Active)
}

pub(crate) fn not_a_moderator() -> ApiError {
    ApiError::refused(
        ProblemCode::NotAModerator,
        "Only the circle's facilitator or an administrator can do this.",
    )
}

fn already_in() -> ApiError {
    ApiError::refused(
        ProblemCode::AlreadyInCircle,
        "You are already in this circle or have asked to join.",
    )
}

/// Takes the circle's lock (see `store::circles::lock`) and reads it; refused when it is
/// closed.
async fn lock_open(db: &impl ConnectionTrait, id: Uuid) -> Result<Circle, ApiError> {
    let circle = rows::lock(db, id).await?.ok_or(ApiError::NotFound)?;
    if !circle.state.is_open() {
        return Err(closed());
    }
    Ok(circle)
}

/// Counts one more active member of a circle whose lock the transaction holds: refused
/// when every seat is taken; a forming circle becomes active at its minimum.
async fn take_seat(db: &impl ConnectionTrait, circle: &Circle) -> Result<(), ApiError> {
    let taken = rows::active_count(db, circle.id).await?;
    if taken >= u64::try_from(circle.cap).unwrap_or(0) {
        return Err(full());
    }
    let state = circle.state.after_membership(taken + 1);
    if state != circle.state {
        rows::set_state(db, circle.id, state, None).await?;
    }
    Ok(())
}

pub(crate) fn closed() -> ApiError {
    ApiError::refused(ProblemCode::CircleClosed, "The circle is closed.")
}

fn full() -> ApiError {
    ApiError::refused(
        ProblemCode::CircleFull,
        "Every seat in this circle is taken.",
    )
}

async fn own_location(core: &Core, id: Uuid) -> Result<Option<(f64, f64)>, ApiError> {
    if let Some(card) = core.index.card(id) {
        return Ok(Some(card.location()));
    }
    Ok(stored_profiles::load(&core.reads, id)
        .await?
        .map(|p| p.location()))
}

fn require_verified(me: &User) -> Result<(), ApiError> {
    if me.email_verified {
        Ok(())
    } else {
        Err(ApiError::refused(
            ProblemCode::EmailNotVerified,
            "Verify your email address before joining or starting a circle.",
        ))
    }
}

async fn own_profile(core: &Core, me: &User) -> Result<StoredProfile, ApiError> {
    stored_profiles::load(&core.db, me.id)
        .await?
        .ok_or_else(profiles::no_profile)
}

/// A circle and everyone in it, if `viewer` may know it exists: nobody finds a circle
/// where someone on either side of a block with them is a member (unless they are in it).
async fn visible(core: &Core, viewer: &User, id: Uuid) -> Result<(Circle, Vec<Member>), ApiError> {
    let circle = rows::find(&core.reads, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let members = rows::members_of(&core.reads, &[id]).await?;
    let inside = members.iter().any(|m| m.user_id == viewer.id);
    if !inside && viewer.role != Role::Admin {
        let blocked = rows::blocked_with(&core.reads, viewer.id).await?;
        if members.iter().any(|m| blocked.contains(&m.user_id)) {
            return Err(ApiError::NotFound);
        }
    }
    Ok((circle, members))
}

/// What `viewer` sees of a circle.
async fn view(
    core: &Core,
    viewer: &User,
    circle: &Circle,
    members: &[Member],
) -> Result<CircleView, ApiError> {
    let at = own_location(core, viewer.id).await?;
    let facts = Facts {
        members,
        viewer: viewer.id,
        at,
    };
    let circle_summary = summary(circle, &facts);
    if !standing(viewer, members).sees_content() {
        return Ok(CircleView {
            circle: circle_summary,
            members: Vec::new(),
            pending: Vec::new(),
        });
    }
    let ids: Vec<Uuid> = members.iter().map(|m| m.user_id).collect();
    let shown: HashMap<Uuid, PublicProfile> = profiles::visible_to(core, viewer.id, &ids, at)
        .await?
        .into_iter()
        .map(|p| (p.user_id, p))
        .collect();
    let (mut listed, mut pending) = (Vec::new(), Vec::new());
    for m in members {
        let Some(profile) = shown.get(&m.user_id) else {
            continue;
        };
        let entry = CircleMember {
            profile: profile.clone(),
            role: m.role,
            status: m.status,
            note: m.note.clone(),
            joined_at: m.joined_at,
        };
        match m.status {
            MemberStatus::Active => listed.push(entry),
            MemberStatus::Pending => pending.push(entry),
        }
    }
    Ok(CircleView {
        circle: circle_summary,
        members: listed,
        pending,
    })
}

async fn reload(core: &Core, viewer: &User, id: Uuid) -> Result<CircleView, ApiError> {
    let circle = rows::find(&core.db, id).await?.ok_or(ApiError::NotFound)?;
    let members = rows::members_of(&core.db, &[id]).await?;
    view(core, viewer, &circle, &members).await
}

/// What a practitioner starts a circle with.
pub struct NewCircle {
    pub domain: String,
    pub cap: i32,
    pub admission: Admission,
    /// The starter facilitates (five or more years of experience, or offering mentoring).
    pub facilitate: bool,
}

fn check_domain(domain: &str) -> Result<String, ApiError> {
    let domain = domain.trim();
    let length = domain.chars().count();
    if !(3..=120).contains(&length) {
        return Err(ApiError::field("domain", "must be 3 to 120 characters"));
    }
    Ok(domain.to_owned())
}

/// Refuses a practitioner who already belongs to (or asked to join) as many open circles
/// as one person may. Counted under their account's lock, in the write that adds them.
async fn check_circle_limit(db: &impl ConnectionTrait, user_id: Uuid) -> Result<(), ApiError> {
    if rows::open_memberships(db, user_id).await? >= CIRCLES_PER_PERSON {
        return Err(ApiError::refused(
            ProblemCode::CircleLimit,
            format!("You can be in at most {CIRCLES_PER_PERSON} circles at once."),
        ));
    }
    Ok(())
}

/// Starts an open circle, with the starter as its first member.
#[tracing::instrument(skip_all, fields(user_id = %me.id))]
pub async fn create(core: &Core, me: &User, new: NewCircle) -> Result<CircleView, ApiError> {
    require_verified(me)?;
    let domain = check_domain(&new.domain)?;
    if !CAP_RANGE.contains(&new.cap) {
        return Err(ApiError::field("cap", "must be a whole number from 4 to 8"));
    }
    let profile = own_profile(core, me).await?;
    if new.facilitate && profile.row.years_experience < 5 && !profile.row.mentoring_offering {
        return Err(ApiError::field(
            "facilitate",
            "facilitators have five or more years of experience or offer mentoring",
        ));
    }
    let now = Utc::now();
    let anchor = privacy::snap(profile.row.latitude, profile.row.longitude);
    let id = Uuid::now_v7();
    let write = core.write().await?;
    store::lock_account(write.db(), me.id).await?;
    check_circle_limit(write.db(), me.id).await?;
    rows::insert(
        write.db(),
        circle_rows::ActiveModel {
            id: Set(id),
            domain: Set(domain),
            cap: Set(new.cap),
            state: Set(CircleState::Forming),
            admission: Set(new.admission),
            closed_reason: Set(None),
            profession: Set(profile.row.profession.clone()),
            utc_offset_minutes: Set(utc_offset_minutes(&profile.row.timezone, now)),
            anchor_latitude: Set(anchor.lat),
            anchor_longitude: Set(anchor.lon),
            round_id: Set(None),
            version: Set(0),
            created_at: Set(now),
            last_activity_at: Set(now),
            updated_at: Set(now),
        },
    )
    .await?;
    rows::add_member(
        write.db(),
        NewMember {
            circle_id: id,
            user_id: me.id,
            role: if new.facilitate {
                MemberRole::Facilitator
            } else {
                MemberRole::Member
            },
            status: MemberStatus::Active,
            note: None,
        },
    )
    .await?;
    write.commit().await?;
    reload(core, me, id).await
}

/// Which circles to list in the directory.
#[derive(Default)]
pub struct DirectoryFilter {
    pub profession: Option<String>,
    /// Words that must all appear in the domain.
    pub words: Option<String>,
    /// Only circles whose area is this close (grid cells, tens of kilometres).
    pub within_km: Option<u32>,
    /// Only circles with a free seat.
    pub open_seats: bool,
    pub offset: usize,
    pub limit: usize,
}

/// Circles that are not closed, most recently active first, that the caller may find.
#[tracing::instrument(skip_all, fields(user_id = %me.id))]
pub async fn directory(
    core: &Core,
    me: &User,
    filter: DirectoryFilter,
) -> Result<(Vec<CircleSummary>, bool), ApiError> {
    let db = &core.reads;
    let circles = rows::open_circles(db).await?;
    let ids: Vec<Uuid> = circles.iter().map(|c| c.id).collect();
    let mut members: HashMap<Uuid, Vec<Member>> = HashMap::new();
    for m in rows::members_of(db, &ids).await? {
        members.entry(m.circle_id).or_default().push(m);
    }
    let blocked = rows::blocked_with(db, me.id).await?;
    let at = own_location(core, me.id).await?;
    let words: Vec<String> = filter
        .words
        .as_deref()
        .unwrap_or("")
        .split_whitespace()
        .map(str::to_lowercase)
        .collect();
    let mut found = Vec::new();
    for circle in &circles {
        let of_circle = members.get(&circle.id).map_or(&[][..], Vec::as_slice);
        let inside = of_circle.iter().any(|m| m.user_id == me.id);
        if !inside && of_circle.iter().any(|m| blocked.contains(&m.user_id)) {
            continue;
        }
        if filter
            .profession
            .as_deref()
            .is_some_and(|p| p != circle.profession)
        {
            continue;
        }
        let domain = circle.domain.to_lowercase();
        if !words.iter().all(|w| domain.contains(w.as_str())) {
            continue;
        }
        let shown = summary(
            circle,
            &Facts {
                members: of_circle,
                viewer: me.id,
                at,
            },
        );
        if filter.open_seats && shown.open_seats == 0 {
            continue;
        }
        if let Some(within) = filter.within_km {
            if shown.distance_km.is_none_or(|d| d > within) {
                continue;
            }
        }
        found.push(shown);
    }
    let more = found.len() > filter.offset + filter.limit;
    Ok((
        found
            .into_iter()
            .skip(filter.offset)
            .take(filter.limit)
            .collect(),
        more,
    ))
}

/// The circles the caller is in or asked to join, most recently active first.
#[tracing::instrument(skip_all, fields(user_id = %me.id))]
pub async fn mine(core: &Core, me: &User) -> Result<Vec<CircleSummary>, ApiError> {
    let db = &core.reads;
    let ids: Vec<Uuid> = rows::memberships(db, me.id)
        .await?
        .into_iter()
        .map(|m| m.circle_id)
        .collect();
    let circles = rows::by_ids(db, &ids).await?;
    let mut members: HashMap<Uuid, Vec<Member>> = HashMap::new();
    for m in rows::members_of(db, &ids).await? {
        members.entry(m.circle_id).or_default().push(m);
    }
    let at = own_location(core, me.id).await?;
    Ok(circles
        .iter()
        .map(|c| {
            summary(
                c,
                &Facts {
                    members: members.get(&c.id).map_or(&[][..], Vec::as_slice),
                    viewer: me.id,
                    at,
                },
            )
        })
        .collect())
}

/// One circle: its summary for anyone who may find it, its members for its members.
#[tracing::instrument(skip_all, fields(user_id = %me.id, %id))]
pub async fn get(core: &Core, me: &User, id: Uuid) -> Result<CircleView, ApiError> {
    let (circle, members) = visible(core, me, id).await?;
    view(core, me, &circle, &members).await
}

/// Whether working hours at `offset` overlap every member's by the rules' minimum.
fn hours_overlap(core: &Core, offset: i32, members: &[Member]) -> bool {
    let gap = rules().max_offset_gap();
    let now = Utc::now();
    members
        .iter()
        .filter(|m| m.status == MemberStatus::Active)
        .filter_map(|m| core.index.card(m.user_id))
        .all(|card| (utc_offset_minutes(&card.timezone, now) - offset).abs() <= gap)
}

/// Asks to join. In an open circle the seat is taken at once while one is free; in a
/// circle that admits by approval the request waits for an answer.
#[tracing::instrument(skip_all, fields(user_id = %me.id, %id))]
pub async fn join(
    core: &Core,
    me: &User,
    id: Uuid,
    note: Option<String>,
) -> Result<CircleView, ApiError> {
    require_verified(me)?;
    if note.as_ref().is_some_and(|n| n.chars().count() > 500) {
        return Err(ApiError::field("note", "must be at most 500 characters"));
    }
    let profile = own_profile(core, me).await?;
    let (circle, members) = visible(core, me, id).await?;
    if !circle.state.is_open() {
        return Err(closed());
    }
    if members.iter().any(|m| m.user_id == me.id) {
        return Err(already_in());
    }
    let offset = utc_offset_minutes(&profile.row.timezone, Utc::now());
    if !hours_overlap(core, offset, &members) {
        return Err(ApiError::refused(
            ProblemCode::HoursDoNotOverlap,
            "Your working hours overlap this circle's by less than two hours.",
        ));
    }
    let write = core.write().await?;
    // The circle's lock comes first: the seats counted below cannot change before commit.
    let circle = lock_open(write.db(), id).await?;
    if rows::member(write.db(), id, me.id).await?.is_some() {
        return Err(already_in());
    }
    store::lock_account(write.db(), me.id).await?;
    check_circle_limit(write.db(), me.id).await?;
    // A seat offered to the caller is taken like a seat in an open circle.
    let offered = rows::take_offer(write.db(), id, me.id).await?;
    let admission = if offered {
        Admission::Open
    } else {
        circle.admission
    };
    let status = match admission {
        Admission::Open => {
            take_seat(write.db(), &circle).await?;
            MemberStatus::Active
        }
        Admission::Approval => MemberStatus::Pending,
    };
    rows::add_member(
        write.db(),
        NewMember {
            circle_id: id,
            user_id: me.id,
            role: MemberRole::Member,
            status,
            note: note.filter(|n| !n.trim().is_empty()),
        },
    )
    .await?;
    if status == MemberStatus::Pending {
        let with_facilitator = has_facilitator(&members);
        let answerers: Vec<Uuid> = members
            .iter()
            .filter(|m| m.status == MemberStatus::Active)
            .filter(|m| !with_facilitator || m.role == MemberRole::Facilitator)
            .map(|m| m.user_id)
            .collect();
        notifications::circle_join_request(
            write.db(),
            &core.mailing(),
            id,
            &circle.domain,
            &me.display_name,
            &answerers,
        )
        .await?;
    }
    rows::touch(write.db(), id).await?;
    write.commit().await?;
    reload(core, me, id).await
}

/// Accepts a request to join, while a seat is free.
#[tracing::instrument(skip_all, fields(user_id = %me.id, %id, %who))]
pub async fn admit(core: &Core, me: &User, id: Uuid, who: Uuid) -> Result<CircleView, ApiError> {
    let (_, members) = visible(core, me, id).await?;
    if !standing(me, &members).admits(has_facilitator(&members)) {
        return Err(ApiError::refused(
            ProblemCode::NotAModerator,
            "Only the facilitator, or any member of a circle without one, can accept a request to join.",
        ));
    }
    let write = core.write().await?;
    let circle = lock_open(write.db(), id).await?;
    rows::member(write.db(), id, who)
        .await?
        .filter(|m| m.status == MemberStatus::Pending)
        .ok_or(ApiError::NotFound)?;
    take_seat(write.db(), &circle).await?;
    rows::activate(write.db(), id, who).await?;
    rows::touch(write.db(), id).await?;
    write.commit().await?;
    reload(core, me, id).await
}

/// Leaves a circle (or withdraws a request to join), or, for its facilitator or an
/// administrator, removes someone else from it.
#[tracing::instrument(skip_all, fields(user_id = %me.id, %id, %who))]
pub async fn remove(core: &Core, me: &User, id: Uuid, who: Uuid) -> Result<(), ApiError> {
    let (_, members) = visible(core, me, id).await?;
    let target = members
        .iter()
        .find(|m| m.user_id == who)
        .ok_or(ApiError::NotFound)?;
    let caller = standing(me, &members);
    let allowed = who == me.id
        || caller.moderates()
        || (target.status == MemberStatus::Pending && caller.admits(has_facilitator(&members)));
    if !allowed {
        return Err(not_a_moderator());
    }
    let write = core.write().await?;
    let circle = rows::lock(write.db(), id)
        .await?
        .ok_or(ApiError::NotFound)?;
    rows::remove_member(write.db(), id, who).await?;
    if target.status == MemberStatus::Active && circle.state.is_open() {
        offer_seat(core, &write, &circle, &members, who).await?;
    }
    write.commit().await?;
    Ok(())
}

/// Seats offered at once when one opens.
const OFFERS_PER_SEAT: usize = 3;

/// Offers a seat that `left` freed to the waiting practitioners who fit the circle best.
async fn offer_seat(
    core: &Core,
    write: &crate::service::Write<'_>,
    circle: &Circle,
    members: &[Member],
    left: Uuid,
) -> Result<(), ApiError> {
    let staying: Vec<Uuid> = members
        .iter()
        .filter(|m| m.status == MemberStatus::Active && m.user_id != left)
        .map(|m| m.user_id)
        .collect();
    let everyone: Vec<Uuid> = members.iter().map(|m| m.user_id).collect();
    let waiting: Vec<Uuid> = rows::seekers(write.db())
        .await?
        .into_iter()
        .filter(|id| !everyone.contains(id))
        .collect();
    if staying.is_empty() || waiting.is_empty() {
        return Ok(());
    }
    let rules = matcher::circles::CircleRules {
        interprofessional: circle.profession == INTERPROFESSIONAL,
        ..rules()
    };
    let best = core
        .index
        .best_for_circle(&staying, &waiting, &rules, OFFERS_PER_SEAT);
    for &user_id in &best {
        rows::offer(write.db(), circle.id, user_id).await?;
    }
    notifications::seat_offer(
        write.db(),
        &core.mailing(),
        circle.id,
        &circle.domain,
        &best,
    )
    .await?;
    Ok(())
}

/// Closes a circle for good, with the reason its members will see.
#[tracing::instrument(skip_all, fields(user_id = %me.id, %id))]
pub async fn close(
    core: &Core,
    me: &User,
    id: Uuid,
    reason: String,
) -> Result<CircleView, ApiError> {
    let reason = reason.trim().to_owned();
    if !(1..=500).contains(&reason.chars().count()) {
        return Err(ApiError::field("reason", "must be 1 to 500 characters"));
    }
    let (circle, members) = visible(core, me, id).await?;
    if !standing(me, &members).moderates() {
        return Err(not_a_moderator());
    }
    if !circle.state.is_open() {
        return Err(closed());
    }
    let write = core.write().await?;
    rows::lock(write.db(), id)
        .await?
        .ok_or(ApiError::NotFound)?;
    rows::set_state(write.db(), id, CircleState::Closed, Some(reason)).await?;
    write.commit().await?;
    reload(core, me, id).await
}

/// Whether the caller waits for the next formation round.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct CircleInterest {
    pub seeking: bool,
    pub since: Option<DateTime<Utc>>,
}

pub async fn interest(core: &Core, me: &User) -> Result<CircleInterest, ApiError> {
    let since = rows::is_seeking(&core.reads, me.id).await?;
    Ok(CircleInterest {
        seeking: since.is_some(),
        since,
    })
}

/// Asks to be placed in a circle by the next formation round, or stops asking.
#[tracing::instrument(skip_all, fields(user_id = %me.id, seeking))]
pub async fn set_interest(
    core: &Core,
    me: &User,
    seeking: bool,
) -> Result<CircleInterest, ApiError> {
    if seeking {
        require_verified(me)?;
        own_profile(core, me).await?;
    }
    let write = core.write().await?;
    rows::set_seeking(write.db(), me.id, seeking).await?;
    write.commit().await?;
    interest(core, me).await
}

/// The ids of `members` that `viewer` may not see: gone, suspended, or on either side of a
/// block with them.
pub(crate) async fn hidden_from(
    core: &Core,
    viewer: Uuid,
    ids: &[Uuid],
) -> Result<HashSet<Uuid>, ApiError> {
    let shown = store::users::visible_to(&core.reads, viewer, ids).await?;
    Ok(ids
        .iter()
        .copied()
        .filter(|id| !shown.contains(id))
        .collect())
}

/// The caller's standing in a circle they may find, with its members.
pub(crate) async fn standing_in(
    core: &Core,
    me: &User,
    id: Uuid,
) -> Result<(Circle, Vec<Member>, Standing), ApiError> {
    let (circle, members) = visible(core, me, id).await?;
    let standing = standing(me, &members);
    Ok((circle, members, standing))
}
