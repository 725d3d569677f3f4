//! A circle's meetings: scheduled by any member, once or weekly, in the organiser's time
//! zone; each member is emailed a calendar invitation and a reminder the day before, and
//! says whether they will come.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use sea_orm::Set;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    domain::{circle::MemberStatus, codes::Timezone},
    email::calendar::{to_utc, Weekly},
    error::ApiError,
    service::{
        circle_posts::Author,
        circles::{closed, not_a_moderator, standing_in},
        meeting_fields as fields,
        notifications::{self, MeetingFacts, MeetingMail},
        Core,
    },
    store::{
        circles::{self as rows, Circle, Meeting, Member},
        entities::circle_meetings,
        profiles as stored_profiles,
        users::User,
    },
};

/// How long before a meeting its reminder goes out.
pub const REMINDER_LEAD_HOURS: i64 = 24;

/// One meeting as a member sees it.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct MeetingView {
    pub id: Uuid,
    pub circle_id: Uuid,
    /// Shared by the meetings of one weekly series.
    pub series_id: Option<Uuid>,
    #[schema(example = "Monthly case discussion")]
    pub title: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// The organiser's time zone, in which the invitation is written.
    #[schema(example = "Australia/Sydney")]
    pub timezone: String,
    /// The start in the caller's own time zone, e.g. `2027-01-14T18:00`.
    #[schema(example = "2027-01-14T18:00")]
    pub local_start: String,
    /// The caller's time zone.
    pub local_timezone: String,
    pub duration_minutes: i32,
    /// Where, or the video link (free text).
    pub location: Option<String>,
    pub organiser: Option<Author>,
    pub cancelled: bool,
    /// When a member said it took place.
    pub held_at: Option<DateTime<Utc>>,
    /// Who said they will come.
    pub coming: Vec<Author>,
    /// How many said they will not.
    pub not_coming: u32,
    /// The caller's answer, if any.
    pub my_answer: Option<bool>,
}

/// What a member schedules.
pub struct NewMeeting {
    pub title: String,
    /// The (first) start, in `timezone`'s local time.
    pub starts_local: NaiveDateTime,
    /// The organiser's time zone (their profile's when absent).
    pub timezone: Option<String>,
    pub minutes: i32,
    pub location: Option<String>,
    pub repeat: Option<Weekly>,
}

async fn member_of(
    core: &Core,
    me: &User,
    circle_id: Uuid,
) -> Result<(Circle, Vec<Member>, crate::domain::circle::Standing), ApiError> {
    let (circle, members, standing) = standing_in(core, me, circle_id).await?;
    if !standing.sees_content() {
        return Err(ApiError::NotFound);
    }
    Ok((circle, members, standing))
}

fn active_ids(members: &[Member]) -> Vec<Uuid> {
    members
        .iter()
        .filter(|m| m.status == MemberStatus::Active)
        .map(|m| m.user_id)
        .collect()
}

async fn own_timezone(core: &Core, id: Uuid) -> Result<String, ApiError> {
    Ok(stored_profiles::load(&core.reads, id)
        .await?
        .map_or_else(|| "UTC".to_owned(), |p| p.row.timezone))
}

/// Schedules a meeting, or a weekly series, and emails each member the invitation.
#[tracing::instrument(skip_all, fields(user_id = %me.id, %circle_id))]
pub async fn schedule(
    core: &Core,
    me: &User,
    circle_id: Uuid,
    new: NewMeeting,
) -> Result<Vec<MeetingView>, ApiError> {
    let title = fields::title(&new.title)?;
    fields::minutes(new.minutes)?;
    let location = fields::location(new.location.as_deref().unwrap_or_default())?;
    if let Some(repeat) = new.repeat {
        if !(1..=4).contains(&repeat.every_weeks) {
            return Err(ApiError::field("repeat.every_weeks", "must be from 1 to 4"));
        }
        if !(2..=12).contains(&repeat.count) {
            return Err(ApiError::field("repeat.count", "must be from 2 to 12"));
        }
    }
    let timezone = match new.timezone {
        Some(name) => Timezone::parse(&name)
            .map_err(|e| ApiError::field("timezone", e))?
            .as_str()
            .to_owned(),
        None => own_timezone(core, me.id).await?,
    };
    let tz: chrono_tz::Tz = timezone.parse().unwrap_or(chrono_tz::UTC);
    fields::in_the_coming_year(to_utc(tz, new.starts_local), "starts_at")?;
    let now = Utc::now();
    let (circle, members, _) = member_of(core, me, circle_id).await?;
    if !circle.state.is_open() {
        return Err(closed());
    }
    let series_id = new.repeat.map(|_| Uuid::now_v7());
    let count = new.repeat.map_or(1, |r| r.count);
    let every = new.repeat.map_or(1, |r| r.every_weeks);
    let write = core.write().await?;
    let mut created = Vec::new();
    for n in 0..count {
        let local = new.starts_local + Duration::weeks(i64::from(n * every));
        created.push(
            rows::insert_meeting(
                write.db(),
                circle_meetings::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    circle_id: Set(circle_id),
                    series_id: Set(series_id),
                    organiser_id: Set(Some(me.id)),
                    title: Set(title.clone()),
                    starts_at: Set(to_utc(tz, local)),
                    duration_minutes: Set(new.minutes),
                    timezone: Set(timezone.clone()),
                    location: Set(location.clone()),
                    sequence: Set(0),
                    cancelled: Set(false),
                    reminded_at: Set(None),
                    held_at: Set(None),
                    created_at: Set(now),
                },
            )
            .await?,
        );
    }
    if let Some(first) = created.first() {
        let facts = MeetingFacts {
            circle: &circle,
            meeting: first,
            repeat: new.repeat,
        };
        notifications::meeting(
            write.db(),
            &core.mailing(),
            &facts,
            MeetingMail::Invitation,
            &active_ids(&members),
        )
        .await?;
    }
    rows::touch(write.db(), circle_id).await?;
    write.commit().await?;
    views(core, me, created).await
}

async fn views(
    core: &Core,
    me: &User,
    meetings: Vec<Meeting>,
) -> Result<Vec<MeetingView>, ApiError> {
    let ids: Vec<Uuid> = meetings.iter().map(|m| m.id).collect();
    let answers = rows::rsvps_of(&core.reads, &ids).await?;
    let mut people: Vec<Uuid> = answers
        .iter()
        .map(|a| a.user_id)
        .chain(meetings.iter().filter_map(|m| m.organiser_id))
        .collect();
    people.sort();
    people.dedup();
    let hidden = crate::service::circles::hidden_from(core, me.id, &people).await?;
    let names = crate::service::profiles::names(&core.reads, people).await?;
    let author = |id: Uuid| {
        (!hidden.contains(&id)).then(|| Author {
            user_id: id,
            display_name: names.get(&id).cloned().unwrap_or_default(),
        })
    };
    let local_timezone = own_timezone(core, me.id).await?;
    let tz: chrono_tz::Tz = local_timezone.parse().unwrap_or(chrono_tz::UTC);
    Ok(meetings
        .into_iter()
        .map(|m| {
            let of_meeting = answers.iter().filter(|a| a.meeting_id == m.id);
            MeetingView {
                id: m.id,
                circle_id: m.circle_id,
                series_id: m.series_id,
                title: m.title,
                starts_at: m.starts_at,
                ends_at: m.starts_at + Duration::minutes(i64::from(m.duration_minutes)),
                timezone: m.timezone,
                local_start: m
                    .starts_at
                    .with_timezone(&tz)
                    .format("%Y-%m-%dT%H:%M")
                    .to_string(),
                local_timezone: local_timezone.clone(),
                duration_minutes: m.duration_minutes,
                location: m.location,
                organiser: m.organiser_id.and_then(author),
                cancelled: m.cancelled,
                held_at: m.held_at,
                coming: of_meeting
                    .clone()
                    .filter(|a| a.attending)
                    .filter_map(|a| author(a.user_id))
                    .collect(),
                not_coming: u32::try_from(of_meeting.clone().filter(|a| !a.attending).count())
                    .unwrap_or(0),
                my_answer: of_meeting
                    .clone()
                    .find(|a| a.user_id == me.id)
                    .map(|a| a.attending),
            }
        })
        .collect())
}

/// The circle's meetings that have not ended, soonest first.
#[tracing::instrument(skip_all, fields(user_id = %me.id, %circle_id))]
pub async fn list(core: &Core, me: &User, circle_id: Uuid) -> Result<Vec<MeetingView>, ApiError> {
    member_of(core, me, circle_id).await?;
    let meetings = rows::meetings_of(&core.reads, circle_id, Utc::now()).await?;
    views(core, me, meetings).await
}

/// Says whether the caller will come.
#[tracing::instrument(skip_all, fields(user_id = %me.id, %circle_id, %meeting_id))]
pub async fn answer(
    core: &Core,
    me: &User,
    circle_id: Uuid,
    meeting_id: Uuid,
    attending: bool,
) -> Result<MeetingView, ApiError> {
    member_of(core, me, circle_id).await?;
    let meeting = rows::find_meeting(&core.db, circle_id, meeting_id)
        .await?
        .filter(|m| !m.cancelled)
        .ok_or(ApiError::NotFound)?;
    let write = core.write().await?;
    rows::answer(write.db(), meeting.id, me.id, attending).await?;
    write.commit().await?;
    views(core, me, vec![meeting])
        .await?
        .pop()
        .ok_or(ApiError::NotFound)
}

/// Says a meeting took place (any member, once it has started). Whoever says so, and each
/// member who said they would come, gets a draft entry in their development log to confirm.
#[tracing::instrument(skip_all, fields(user_id = %me.id, %circle_id, %meeting_id))]
pub async fn mark_held(
    core: &Core,
    me: &User,
    circle_id: Uuid,
    meeting_id: Uuid,
) -> Result<(), ApiError> {
    let (_, members, _) = member_of(core, me, circle_id).await?;
    let meeting = rows::find_meeting(&core.db, circle_id, meeting_id)
        .await?
        .filter(|m| !m.cancelled)
        .ok_or(ApiError::NotFound)?;
    let now = Utc::now();
    if meeting.starts_at > now {
        return Err(ApiError::refused(
            crate::error::ProblemCode::InvalidStatus,
            "The meeting has not started yet.",
        ));
    }
    let active = active_ids(&members);
    let coming: Vec<Uuid> = rows::rsvps_of(&core.reads, &[meeting.id])
        .await?
        .into_iter()
        .filter(|r| r.attending && active.contains(&r.user_id))
        .map(|r| r.user_id)
        .chain(std::iter::once(me.id))
        .collect();
    let write = core.write().await?;
    rows::mark_held(write.db(), meeting.id, now).await?;
    crate::service::log::drafts_for_meeting(write.db(), &meeting, &coming).await?;
    write.commit().await
}

/// What the organiser changes of a meeting; what is left out stays.
#[derive(Default)]
pub struct MeetingChange {
    pub title: Option<String>,
    /// The new start, in the meeting's own time zone.
    pub starts_local: Option<NaiveDateTime>,
    pub minutes: Option<i32>,
    pub location: Option<String>,
}

/// Changes a meeting (its organiser or the facilitator): every member is sent the updated
/// invitation, the same `UID` with the next `SEQUENCE`, and the reminder is due again. A
/// meeting of a weekly series keeps its time (cancel it and plan another instead).
#[tracing::instrument(skip_all, fields(user_id = %me.id, %circle_id, %meeting_id))]
pub async fn change(
    core: &Core,
    me: &User,
    circle_id: Uuid,
    meeting_id: Uuid,
    change: MeetingChange,
) -> Result<MeetingView, ApiError> {
    let (circle, members, standing) = member_of(core, me, circle_id).await?;
    if !circle.state.is_open() {
        return Err(closed());
    }
    let meeting = rows::find_meeting(&core.db, circle_id, meeting_id)
        .await?
        .filter(|m| !m.cancelled)
        .ok_or(ApiError::NotFound)?;
    if meeting.organiser_id != Some(me.id) && !standing.moderates() {
        return Err(not_a_moderator());
    }
    let mut changed = circle_meetings::ActiveModel::default();
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
        if meeting.series_id.is_some() {
            return Err(ApiError::field(
                "starts_at",
                "a meeting of a series keeps its time; cancel it and plan another",
            ));
        }
        let tz: chrono_tz::Tz = meeting.timezone.parse().unwrap_or(chrono_tz::UTC);
        changed.starts_at = Set(fields::in_the_coming_year(to_utc(tz, local), "starts_at")?);
    }
    let write = core.write().await?;
    let updated = rows::change_meeting(write.db(), &meeting, changed).await?;
    let facts = MeetingFacts {
        circle: &circle,
        meeting: &updated,
        repeat: None,
    };
    notifications::meeting(
        write.db(),
        &core.mailing(),
        &facts,
        MeetingMail::Change,
        &active_ids(&members),
    )
    .await?;
    write.commit().await?;
    views(core, me, vec![updated])
        .await?
        .pop()
        .ok_or(ApiError::NotFound)
}

/// Cancels a meeting (its organiser, the facilitator or an administrator); every member is
/// sent the cancellation for their calendar.
#[tracing::instrument(skip_all, fields(user_id = %me.id, %circle_id, %meeting_id))]
pub async fn cancel(
    core: &Core,
    me: &User,
    circle_id: Uuid,
    meeting_id: Uuid,
) -> Result<(), ApiError> {
    let (circle, members, standing) = standing_in(core, me, circle_id).await?;
    let meeting = rows::find_meeting(&core.db, circle_id, meeting_id)
        .await?
        .filter(|m| !m.cancelled)
        .ok_or(ApiError::NotFound)?;
    if !standing.sees_content() && !standing.moderates() {
        return Err(ApiError::NotFound);
    }
    if meeting.organiser_id != Some(me.id) && !standing.moderates() {
        return Err(not_a_moderator());
    }
    let write = core.write().await?;
    let cancelled = rows::cancel_meeting(write.db(), meeting.id).await?;
    let facts = MeetingFacts {
        circle: &circle,
        meeting: &cancelled,
        repeat: None,
    };
    notifications::meeting(
        write.db(),
        &core.mailing(),
        &facts,
        MeetingMail::Cancellation,
        &active_ids(&members),
    )
    .await?;
    write.commit().await?;
    Ok(())
}

/// Reminds each member who has not said no, once, the day before each meeting.
pub async fn send_reminders(core: &Core, now: DateTime<Utc>) -> Result<(), ApiError> {
    let write = core.write().await?;
    let due = rows::claim_meeting_reminders(write.db(), now, Duration::hours(REMINDER_LEAD_HOURS))
        .await?;
    for meeting in &due {
        let Some(circle) = rows::find(write.db(), meeting.circle_id)
            .await?
            .filter(|c| c.state.is_open())
        else {
            continue;
        };
        let members = rows::members_of(write.db(), &[circle.id]).await?;
        let declined: Vec<Uuid> = rows::rsvps_of(write.db(), &[meeting.id])
            .await?
            .into_iter()
            .filter(|a| !a.attending)
            .map(|a| a.user_id)
            .collect();
        let to: Vec<Uuid> = active_ids(&members)
            .into_iter()
            .filter(|id| !declined.contains(id))
            .collect();
        let facts = MeetingFacts {
            circle: &circle,
            meeting,
            repeat: None,
        };
        notifications::meeting(
            write.db(),
            &core.mailing(),
            &facts,
            MeetingMail::Reminder,
            &to,
        )
        .await?;
    }
    write.commit().await?;
    Ok(())
}

/// Meetings a practitioner organised, and their answers (for their data export).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ExportedMeetings {
    pub organised: Vec<ExportedMeeting>,
    pub answers: Vec<ExportedAnswer>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ExportedMeeting {
    pub id: Uuid,
    pub circle_id: Uuid,
    pub title: String,
    pub starts_at: DateTime<Utc>,
    pub timezone: String,
    pub duration_minutes: i32,
    pub location: Option<String>,
    pub cancelled: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ExportedAnswer {
    pub meeting_id: Uuid,
    pub attending: bool,
    pub updated_at: DateTime<Utc>,
}

pub async fn exported(core: &Core, user_id: Uuid) -> Result<ExportedMeetings, ApiError> {
    Ok(ExportedMeetings {
        organised: rows::meetings_by(&core.reads, user_id)
            .await?
            .into_iter()
            .map(|m| ExportedMeeting {
                id: m.id,
                circle_id: m.circle_id,
                title: m.title,
                starts_at: m.starts_at,
                timezone: m.timezone,
                duration_minutes: m.duration_minutes,
                location: m.location,
                cancelled: m.cancelled,
            })
            .collect(),
        answers: rows::answers_by(&core.reads, user_id)
            .await?
            .into_iter()
            .map(|a| ExportedAnswer {
                meeting_id: a.meeting_id,
                attending: a.attending,
                updated_at: a.updated_at,
            })
            .collect(),
    })
}
