//! Meetings of the two sides of a connection: one side proposes one or more times, the
//! other picks one, and both are emailed a calendar invitation (RFC 5545, written in the
//! proposer's time zone, the same `UID` for every change with its `SEQUENCE` one higher,
//! `METHOD:CANCEL` on cancelling), a reminder the day before, and can say afterwards that it
//! took place, which drafts an entry in both development logs.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use sea_orm::Set;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    domain::{
        codes::Timezone,
        connection::{ConnectionKind, ConnectionStatus},
        follow_through::MeetingStatus,
        log::ActivityKind,
    },
    email::{calendar::to_utc, templates::PairMeeting},
    error::{ApiError, ProblemCode},
    service::{connections::of_party, meeting_fields as fields, notifications, Core},
    store::{
        connection_meetings::{self as rows, Meeting},
        connections::Connection,
        entities::connection_meetings,
        profiles as stored_profiles,
        users::User,
    },
};

/// How long before a meeting its reminder goes out.
pub const REMINDER_LEAD_HOURS: i64 = 24;
/// How many times one proposal may offer.
pub const TIMES_MAX: usize = 5;

/// One time, as stored and in the caller's own time zone.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct MeetingTime {
    pub starts_at: DateTime<Utc>,
    /// The start in the caller's time zone, e.g. `2027-01-14T18:00`.
    #[schema(example = "2027-01-14T18:00")]
    pub local_start: String,
}

/// One meeting of a connection, as one of its two sides sees it.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ConnectionMeetingView {
    pub id: Uuid,
    pub connection_id: Uuid,
    #[schema(example = "Caseload planning")]
    pub title: String,
    pub status: MeetingStatus,
    pub proposed_by_me: bool,
    /// Whether the caller is the one to pick a time.
    pub awaiting_me: bool,
    /// The proposed times, soonest first.
    pub options: Vec<MeetingTime>,
    /// The time picked, once scheduled.
    pub scheduled: Option<MeetingTime>,
    pub duration_minutes: i32,
    /// The proposer's time zone, in which the invitation is written.
    #[schema(example = "Australia/Sydney")]
    pub timezone: String,
    /// The caller's own time zone, in which `local_start` is given.
    #[schema(example = "Australia/Perth")]
    pub local_timezone: String,
    /// Where, or the video link (free text).
    pub location: Option<String>,
    /// The invitation's `SEQUENCE`.
    pub sequence: i32,
    /// When one of them said it took place.
    pub held_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// What a side proposes.
pub struct Proposal {
    pub title: String,
    /// The times, in `timezone`'s local time.
    pub times: Vec<NaiveDateTime>,
    /// The proposer's time zone (their profile's when absent).
    pub timezone: Option<String>,
    pub minutes: i32,
    pub location: Option<String>,
}

/// What either side changes of a scheduled meeting; what is left out stays.
pub use crate::service::circle_meetings::MeetingChange as Change;

/// Whether a picked time has come: only then can the two say whether it took place.
fn has_started(meeting: &Meeting) -> bool {
    meeting.starts_at.is_some_and(|at| at <= Utc::now())
}

fn options_of(row: &Meeting) -> Vec<DateTime<Utc>> {
    serde_json::from_value(row.options.clone()).unwrap_or_default()
}

fn changed_meanwhile() -> ApiError {
    ApiError::refused(
        ProblemCode::InvalidStatus,
        "The meeting changed meanwhile; read it again.",
    )
}

fn not_accepted() -> ApiError {
    ApiError::refused(
        ProblemCode::InvalidStatus,
        "Meetings are planned once the connection is accepted.",
    )
}

async fn own_timezone(core: &Core, id: Uuid) -> Result<String, ApiError> {
    Ok(stored_profiles::load(&core.reads, id)
        .await?
        .map_or_else(|| "UTC".to_owned(), |p| p.row.timezone))
}

fn view(row: Meeting, me: Uuid, local_timezone: &str) -> ConnectionMeetingView {
    let tz: chrono_tz::Tz = local_timezone.parse().unwrap_or(chrono_tz::UTC);
    let time = |at: DateTime<Utc>| MeetingTime {
        starts_at: at,
        local_start: at.with_timezone(&tz).format("%Y-%m-%dT%H:%M").to_string(),
    };
    let mut options = options_of(&row);
    options.sort();
    ConnectionMeetingView {
        id: row.id,
        connection_id: row.connection_id,
        title: row.title,
        status: row.status,
        proposed_by_me: row.proposer_id == me,
        awaiting_me: row.status == MeetingStatus::Proposed && row.proposer_id != me,
        options: options.into_iter().map(time).collect(),
        scheduled: row.starts_at.map(time),
        duration_minutes: row.duration_minutes,
        timezone: row.timezone,
        local_timezone: local_timezone.to_owned(),
        location: row.location,
        sequence: row.sequence,
        held_at: row.held_at,
        created_at: row.created_at,
    }
}

async fn view_for(core: &Core, me: &User, row: Meeting) -> Result<ConnectionMeetingView, ApiError> {
    Ok(view(row, me.id, &own_timezone(core, me.id).await?))
}

/// The connection's meetings, newest first (its two sides only).
#[tracing::instrument(skip_all, fields(user_id = %me.id, %connection_id))]
pub async fn list(
    core: &Core,
    me: &User,
    connection_id: Uuid,
) -> Result<Vec<ConnectionMeetingView>, ApiError> {
    of_party(core, connection_id, me.id).await?;
    let local = own_timezone(core, me.id).await?;
    Ok(rows::of_connection(&core.reads, connection_id)
        .await?
        .into_iter()
        .map(|row| view(row, me.id, &local))
        .collect())
}

/// Proposes a meeting at one or more times; the other side is emailed them in their own
/// time zone and picks one.
#[tracing::instrument(skip_all, fields(user_id = %me.id, %connection_id))]
pub async fn propose(
    core: &Core,
    me: &User,
    connection_id: Uuid,
    proposal: Proposal,
) -> Result<ConnectionMeetingView, ApiError> {
    let title = fields::title(&proposal.title)?;
    let minutes = fields::minutes(proposal.minutes)?;
    let location = fields::location(proposal.location.as_deref().unwrap_or_default())?;
    if proposal.times.is_empty() || proposal.times.len() > TIMES_MAX {
        return Err(ApiError::field(
            "times",
            format!("must hold 1 to {TIMES_MAX} times"),
        ));
    }
    let timezone = match proposal.timezone {
        Some(name) => Timezone::parse(&name)
            .map_err(|e| ApiError::field("timezone", e))?
            .as_str()
            .to_owned(),
        None => own_timezone(core, me.id).await?,
    };
    let tz: chrono_tz::Tz = timezone.parse().unwrap_or(chrono_tz::UTC);
    let mut times = proposal
        .times
        .iter()
        .map(|local| fields::in_the_coming_year(to_utc(tz, *local), "times"))
        .collect::<Result<Vec<_>, _>>()?;
    times.sort();
    times.dedup();
    let connection = of_party(core, connection_id, me.id).await?;
    if connection.status != ConnectionStatus::Accepted {
        return Err(not_accepted());
    }
    let now = Utc::now();
    let write = core.write().await?;
    let row = rows::insert(
        write.db(),
        connection_meetings::ActiveModel {
            id: Set(Uuid::now_v7()),
            connection_id: Set(connection_id),
            proposer_id: Set(me.id),
            title: Set(title),
            options: Set(serde_json::to_value(&times).map_err(ApiError::unexpected)?),
            starts_at: Set(None),
            duration_minutes: Set(minutes),
            timezone: Set(timezone),
            location: Set(location),
            status: Set(MeetingStatus::Proposed),
            sequence: Set(0),
            reminded_at: Set(None),
            held_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        },
    )
    .await?;
    notifications::meeting_proposed(
        write.db(),
        &core.mailing(),
        connection.other_side(me.id),
        me.id,
        &row,
        &times,
    )
    .await
    .map_err(ApiError::unexpected)?;
    write.commit().await?;
    view_for(core, me, row).await
}

/// A meeting of a connection of the caller's.
async fn meeting_of(
    core: &Core,
    me: &User,
    connection_id: Uuid,
    meeting_id: Uuid,
) -> Result<(Connection, Meeting), ApiError> {
    let connection = of_party(core, connection_id, me.id).await?;
    let meeting = rows::find(&core.db, connection_id, meeting_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok((connection, meeting))
}

/// Picks one of the proposed times (the side that did not propose it): the meeting is
/// scheduled and both are sent the invitation.
#[tracing::instrument(skip_all, fields(user_id = %me.id, %connection_id, %meeting_id))]
pub async fn choose(
    core: &Core,
    me: &User,
    connection_id: Uuid,
    meeting_id: Uuid,
    starts_at: DateTime<Utc>,
) -> Result<ConnectionMeetingView, ApiError> {
    let (connection, meeting) = meeting_of(core, me, connection_id, meeting_id).await?;
    if connection.status != ConnectionStatus::Accepted {
        return Err(not_accepted());
    }
    if meeting.status != MeetingStatus::Proposed {
        return Err(ApiError::refused(
            ProblemCode::InvalidStatus,
            "A time was picked already, or the meeting is cancelled.",
        ));
    }
    if meeting.proposer_id == me.id {
        return Err(ApiError::refused(
            ProblemCode::NotYourMove,
            "The other side picks one of the times you proposed.",
        ));
    }
    if !options_of(&meeting).contains(&starts_at) {
        return Err(ApiError::field(
            "starts_at",
            "must be one of the proposed times",
        ));
    }
    if starts_at <= Utc::now() {
        return Err(ApiError::field("starts_at", "that time has passed"));
    }
    let scheduled = connection_meetings::ActiveModel {
        starts_at: Set(Some(starts_at)),
        status: Set(MeetingStatus::Scheduled),
        updated_at: Set(Utc::now()),
        ..Default::default()
    };
    apply(
        core,
        me,
        &connection,
        &meeting,
        scheduled,
        Some(PairMeeting::Scheduled),
    )
    .await
}

/// Applies `change` to the meeting as it was read, tells both sides with `mail`, and answers
/// the meeting as it is now; 409 when someone changed it meanwhile.
async fn apply(
    core: &Core,
    me: &User,
    connection: &Connection,
    seen: &Meeting,
    change: connection_meetings::ActiveModel,
    mail: Option<PairMeeting>,
) -> Result<ConnectionMeetingView, ApiError> {
    let write = core.write().await?;
    if !rows::update_if_unchanged(write.db(), seen, change).await? {
        return Err(changed_meanwhile());
    }
    let row = rows::find(write.db(), seen.connection_id, seen.id)
        .await?
        .ok_or(ApiError::NotFound)?;
    if let Some(mail) = mail {
        notifications::pair_meeting(write.db(), &core.mailing(), connection, &row, mail)
            .await
            .map_err(ApiError::unexpected)?;
    }
    write.commit().await?;
    view_for(core, me, row).await
}

/// Changes a scheduled meeting (either side): both are sent the updated invitation, the same
/// `UID` with the next `SEQUENCE`, and a new time makes the reminder due again.
#[tracing::instrument(skip_all, fields(user_id = %me.id, %connection_id, %meeting_id))]
pub async fn change(
    core: &Core,
    me: &User,
    connection_id: Uuid,
    meeting_id: Uuid,
    change: Change,
) -> Result<ConnectionMeetingView, ApiError> {
    let (connection, meeting) = meeting_of(core, me, connection_id, meeting_id).await?;
    let mut changed = connection_meetings::ActiveModel {
        sequence: Set(meeting.sequence + 1),
        updated_at: Set(Utc::now()),
        ..Default::default()
    };
    if let Some(title) = change.title {
        changed.title = Set(fields::title(&title)?);
    }
    if let Some(minutes) = change.minutes {
        changed.duration_minutes = Set(fields::minutes(minutes)?);
    }
    if let Some(location) = change.location {
        changed.location = Set(fields::location(&location)?);
    }
    if let Some(local) = change.starts_local {
        let tz: chrono_tz::Tz = meeting.timezone.parse().unwrap_or(chrono_tz::UTC);
        changed.starts_at = Set(Some(fields::in_the_coming_year(
            to_utc(tz, local),
            "starts_at",
        )?));
        changed.reminded_at = Set(None);
    }
    if connection.status != ConnectionStatus::Accepted {
        return Err(not_accepted());
    }
    if meeting.status != MeetingStatus::Scheduled || meeting.held_at.is_some() {
        return Err(ApiError::refused(
            ProblemCode::InvalidStatus,
            "Only a scheduled meeting that has not taken place can change.",
        ));
    }
    apply(
        core,
        me,
        &connection,
        &meeting,
        changed,
        Some(PairMeeting::Changed),
    )
    .await
}

/// Cancels a meeting (either side). A scheduled one is cancelled in both calendars:
/// `METHOD:CANCEL` with the next `SEQUENCE`.
#[tracing::instrument(skip_all, fields(user_id = %me.id, %connection_id, %meeting_id))]
pub async fn cancel(
    core: &Core,
    me: &User,
    connection_id: Uuid,
    meeting_id: Uuid,
) -> Result<ConnectionMeetingView, ApiError> {
    let (connection, meeting) = meeting_of(core, me, connection_id, meeting_id).await?;
    let over = matches!(
        meeting.status,
        MeetingStatus::Cancelled | MeetingStatus::Missed
    );
    if over || meeting.held_at.is_some() {
        return Err(ApiError::refused(
            ProblemCode::InvalidStatus,
            "The meeting is cancelled already, or took place, or was missed.",
        ));
    }
    let cancelled = connection_meetings::ActiveModel {
        status: Set(MeetingStatus::Cancelled),
        sequence: Set(meeting.sequence + 1),
        updated_at: Set(Utc::now()),
        ..Default::default()
    };
    // Only a scheduled meeting is in anyone's calendar.
    let mail = (meeting.status == MeetingStatus::Scheduled).then_some(PairMeeting::Cancelled);
    apply(core, me, &connection, &meeting, cancelled, mail).await
}

/// Says the meeting took place (either side, once it has started): each side gets a draft
/// entry in their development log to confirm (mentoring given or received, or peer
/// supervision).
#[tracing::instrument(skip_all, fields(user_id = %me.id, %connection_id, %meeting_id))]
pub async fn mark_held(
    core: &Core,
    me: &User,
    connection_id: Uuid,
    meeting_id: Uuid,
) -> Result<ConnectionMeetingView, ApiError> {
    let (connection, meeting) = meeting_of(core, me, connection_id, meeting_id).await?;
    let now = Utc::now();
    if meeting.status != MeetingStatus::Scheduled || !has_started(&meeting) {
        return Err(ApiError::refused(
            ProblemCode::InvalidStatus,
            "Only a scheduled meeting that has started can be marked as held.",
        ));
    }
    let write = core.write().await?;
    if rows::mark_held(write.db(), meeting.id, now).await? {
        let kind_for = |user_id: Uuid| match connection.kind {
            ConnectionKind::Mentorship if user_id == connection.recipient_id => {
                ActivityKind::MentoringGiven
            }
            ConnectionKind::Mentorship => ActivityKind::MentoringReceived,
            ConnectionKind::Peer => ActivityKind::PeerSupervision,
        };
        let sides = [connection.requester_id, connection.recipient_id];
        crate::service::log::drafts_for_pair_meeting(
            write.db(),
            &meeting,
            &sides.map(|id| (id, kind_for(id))),
        )
        .await?;
    }
    write.commit().await?;
    let row = rows::find(&core.db, connection_id, meeting_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    view_for(core, me, row).await
}

/// Says the meeting did not take place (either side, once it has started and unless it was
/// said to have been held).
#[tracing::instrument(skip_all, fields(user_id = %me.id, %connection_id, %meeting_id))]
pub async fn mark_missed(
    core: &Core,
    me: &User,
    connection_id: Uuid,
    meeting_id: Uuid,
) -> Result<ConnectionMeetingView, ApiError> {
    let (connection, meeting) = meeting_of(core, me, connection_id, meeting_id).await?;
    let scheduled = meeting.status == MeetingStatus::Scheduled;
    if !scheduled || meeting.held_at.is_some() || !has_started(&meeting) {
        return Err(ApiError::refused(
            ProblemCode::InvalidStatus,
            "Only a scheduled meeting that has started, and was not held, can be marked as missed.",
        ));
    }
    let missed = connection_meetings::ActiveModel {
        status: Set(MeetingStatus::Missed),
        updated_at: Set(Utc::now()),
        ..Default::default()
    };
    apply(core, me, &connection, &meeting, missed, None).await
}

/// Reminds both sides of each scheduled meeting the day before; each reminder is claimed by
/// one conditional update, so every instance may call it.
pub async fn send_reminders(core: &Core, now: DateTime<Utc>) -> Result<usize, ApiError> {
    let write = core.write().await?;
    let due = rows::claim_reminders(write.db(), now, Duration::hours(REMINDER_LEAD_HOURS)).await?;
    for meeting in &due {
        let Some(connection) =
            crate::store::connections::find(write.db(), meeting.connection_id).await?
        else {
            continue;
        };
        notifications::pair_meeting(
            write.db(),
            &core.mailing(),
            &connection,
            meeting,
            PairMeeting::Reminder,
        )
        .await
        .map_err(ApiError::unexpected)?;
    }
    write.commit().await?;
    Ok(due.len())
}

/// The meetings of a person's connections, for their data export.
pub async fn exported(core: &Core, user_id: Uuid) -> Result<Vec<ConnectionMeetingView>, ApiError> {
    let local = own_timezone(core, user_id).await?;
    Ok(rows::of_party(&core.reads, user_id)
        .await?
        .into_iter()
        .map(|row| view(row, user_id, &local))
        .collect())
}
