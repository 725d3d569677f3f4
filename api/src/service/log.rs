//! The professional development log: each practitioner's own record of what they did, for
//! how long and what they took from it, their progress against the requirement they report
//! to, and the record as files for an audit. Only its owner ever reads it.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::Set;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    domain::{
        connection::ConnectionStatus,
        log::{current_period, requirement, ActivityKind, Period, Requirement},
    },
    error::ApiError,
    service::{circles::standing_in, Core},
    store::{
        circles as circle_rows, connections as connection_rows,
        entities::{log_entries, log_requirements},
        log::{self as rows, Entry},
        users::User,
    },
};

pub const TITLE_MAX: usize = 200;
pub const REFLECTION_MAX: usize = 4000;
/// A day, the longest one entry may be.
pub const MINUTES_MAX: i32 = 24 * 60;

/// One entry as its owner sees it.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct LogEntry {
    pub id: Uuid,
    /// The day it took place.
    #[schema(value_type = String, format = Date, example = "2027-02-03")]
    pub occurred_on: NaiveDate,
    #[schema(example = 60)]
    pub minutes: i32,
    pub kind: ActivityKind,
    #[schema(example = "Case review with my mentor: home modifications after a fall")]
    pub title: String,
    /// What I learned, and how I will apply it.
    pub reflection: Option<String>,
    /// The connection it came from.
    pub connection_id: Option<Uuid>,
    /// The circle it came from.
    pub circle_id: Option<Uuid>,
    /// The circle meeting it records.
    pub circle_meeting_id: Option<Uuid>,
    /// Made from a meeting marked as held; it counts once confirmed.
    pub draft: bool,
    pub created_at: chrono::DateTime<Utc>,
    pub updated_at: chrono::DateTime<Utc>,
}

impl LogEntry {
    fn new(row: Entry) -> Self {
        Self {
            id: row.id,
            occurred_on: row.occurred_on,
            minutes: row.minutes,
            kind: row.kind,
            title: row.title,
            reflection: row.reflection,
            connection_id: row.connection_id,
            circle_id: row.circle_id,
            circle_meeting_id: row.circle_meeting_id,
            draft: row.draft,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// What a practitioner logs.
pub struct NewEntry {
    pub occurred_on: NaiveDate,
    pub minutes: i32,
    pub kind: ActivityKind,
    pub title: String,
    pub reflection: Option<String>,
    pub connection_id: Option<Uuid>,
    pub circle_id: Option<Uuid>,
    pub circle_meeting_id: Option<Uuid>,
}

/// What an edit changes; what is left out stays. An empty reflection removes it.
#[derive(Default)]
pub struct EntryChange {
    pub occurred_on: Option<NaiveDate>,
    pub minutes: Option<i32>,
    pub kind: Option<ActivityKind>,
    pub title: Option<String>,
    pub reflection: Option<String>,
    /// Confirms a draft.
    pub confirm: bool,
}

/// A day an entry may carry: not before 2000, not after tomorrow (a day ahead of UTC is
/// already today somewhere).
pub fn check_day(day: NaiveDate) -> Result<NaiveDate, String> {
    let latest = Utc::now().date_naive().succ_opt().unwrap_or(day);
    let earliest = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or(day);
    if day < earliest || day > latest {
        return Err("must be a day from 2000-01-01 to today".into());
    }
    Ok(day)
}

pub fn check_minutes(minutes: i32) -> Result<i32, String> {
    if (1..=MINUTES_MAX).contains(&minutes) {
        Ok(minutes)
    } else {
        Err(format!("must be from 1 to {MINUTES_MAX}"))
    }
}

pub fn check_title(raw: &str) -> Result<String, String> {
    let title = raw.trim();
    if title.is_empty() {
        return Err("must not be blank".into());
    }
    if title.chars().count() > TITLE_MAX {
        return Err(format!("must be at most {TITLE_MAX} characters"));
    }
    if title.chars().any(char::is_control) {
        return Err("must be one line".into());
    }
    Ok(title.to_owned())
}

/// `None` for an empty reflection.
pub fn check_reflection(raw: &str) -> Result<Option<String>, String> {
    let text = raw.trim();
    if text.chars().count() > REFLECTION_MAX {
        return Err(format!("must be at most {REFLECTION_MAX} characters"));
    }
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err("must be plain text".into());
    }
    Ok((!text.is_empty()).then(|| text.to_owned()))
}

/// Refuses links to what is not the caller's: a connection they are not a party to (or
/// that never started), a circle they are not in, a meeting of another circle.
async fn check_links(core: &Core, me: &User, new: &NewEntry) -> Result<(), ApiError> {
    if let Some(id) = new.connection_id {
        let theirs = connection_rows::find(&core.reads, id)
            .await?
            .is_some_and(|c| {
                (c.requester_id == me.id || c.recipient_id == me.id)
                    && matches!(
                        c.status,
                        ConnectionStatus::Accepted | ConnectionStatus::Ended
                    )
            });
        if !theirs {
            return Err(ApiError::field(
                "connection_id",
                "is not a connection of yours",
            ));
        }
    }
    if let Some(id) = new.circle_id {
        let member = match standing_in(core, me, id).await {
            Ok((_, _, standing)) => standing.sees_content(),
            Err(ApiError::NotFound) => false,
            Err(other) => return Err(other),
        };
        if !member {
            return Err(ApiError::field("circle_id", "is not a circle of yours"));
        }
    }
    if let Some(meeting) = new.circle_meeting_id {
        let Some(circle) = new.circle_id else {
            return Err(ApiError::field(
                "circle_meeting_id",
                "needs the meeting's circle_id",
            ));
        };
        if circle_rows::find_meeting(&core.reads, circle, meeting)
            .await?
            .is_none()
        {
            return Err(ApiError::field(
                "circle_meeting_id",
                "is not a meeting of that circle",
            ));
        }
    }
    Ok(())
}

/// Logs an activity.
#[tracing::instrument(skip_all, fields(user_id = %me.id))]
pub async fn add(core: &Core, me: &User, new: NewEntry) -> Result<LogEntry, ApiError> {
    check_links(core, me, &new).await?;
    let now = Utc::now();
    let write = core.write().await?;
    let row = rows::insert(
        write.db(),
        log_entries::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(me.id),
            occurred_on: Set(new.occurred_on),
            minutes: Set(new.minutes),
            kind: Set(new.kind),
            title: Set(new.title),
            reflection: Set(new.reflection),
            connection_id: Set(new.connection_id),
            circle_id: Set(new.circle_id),
            circle_meeting_id: Set(new.circle_meeting_id),
            draft: Set(false),
            created_at: Set(now),
            updated_at: Set(now),
        },
    )
    .await?;
    write.commit().await?;
    Ok(LogEntry::new(row))
}

/// Changes one of the caller's entries, or confirms a draft.
#[tracing::instrument(skip_all, fields(user_id = %me.id, %id))]
pub async fn change(
    core: &Core,
    me: &User,
    id: Uuid,
    change: EntryChange,
) -> Result<LogEntry, ApiError> {
    let write = core.write().await?;
    let row = rows::find(write.db(), me.id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let mut edit: log_entries::ActiveModel = row.into();
    if let Some(day) = change.occurred_on {
        edit.occurred_on = Set(day);
    }
    if let Some(minutes) = change.minutes {
        edit.minutes = Set(minutes);
    }
    if let Some(kind) = change.kind {
        edit.kind = Set(kind);
    }
    if let Some(title) = change.title {
        edit.title = Set(title);
    }
    if let Some(reflection) = change.reflection {
        edit.reflection = Set((!reflection.is_empty()).then_some(reflection));
    }
    if change.confirm {
        edit.draft = Set(false);
    }
    edit.updated_at = Set(Utc::now());
    let row = rows::update(write.db(), edit).await?;
    write.commit().await?;
    Ok(LogEntry::new(row))
}

#[tracing::instrument(skip_all, fields(user_id = %me.id, %id))]
pub async fn remove(core: &Core, me: &User, id: Uuid) -> Result<(), ApiError> {
    let write = core.write().await?;
    if !rows::delete(write.db(), me.id, id).await? {
        return Err(ApiError::NotFound);
    }
    write.commit().await
}

/// A page of the caller's entries between two days (either may be open), newest first.
pub async fn page(
    core: &Core,
    me: &User,
    range: (Option<NaiveDate>, Option<NaiveDate>),
    offset: u64,
    limit: u64,
) -> Result<(Vec<LogEntry>, Option<u64>), ApiError> {
    let mut found = rows::page(&core.reads, me.id, range, offset, limit + 1).await?;
    let more = found.len() as u64 > limit;
    found.truncate(limit as usize);
    Ok((
        found.into_iter().map(LogEntry::new).collect(),
        more.then_some(offset + limit),
    ))
}

/// Minutes logged of one kind.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct KindTotal {
    pub kind: ActivityKind,
    pub entries: u32,
    pub minutes: i64,
}

/// Progress against the chosen requirement over its current period.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct LogSummary {
    /// The requirement chosen, if any.
    pub requirement: Option<Requirement>,
    /// Where the practitioner's own cycle starts (for requirements without a fixed start).
    #[schema(value_type = Option<String>, format = Date)]
    pub cycle_start: Option<NaiveDate>,
    /// The period counted: the requirement's current one, or this calendar year.
    #[schema(value_type = String, format = Date, example = "2026-12-01")]
    pub period_from: NaiveDate,
    #[schema(value_type = String, format = Date, example = "2027-11-30")]
    pub period_to: NaiveDate,
    /// Confirmed minutes in the period.
    pub logged_minutes: i64,
    /// What the requirement asks for in a period, if a number of hours.
    pub required_minutes: Option<i64>,
    pub by_kind: Vec<KindTotal>,
    /// Drafts in the period that wait to be confirmed.
    pub drafts: u32,
    /// Confirmed entries in the period without a reflection.
    pub without_reflection: u32,
    /// What is missing, in plain words (empty when nothing is).
    pub gaps: Vec<String>,
}

/// Which requirement the caller reports to.
pub struct Choice {
    pub code: Option<String>,
    pub cycle_start: Option<NaiveDate>,
}

/// Chooses (or, with no code, clears) the requirement the caller reports to.
#[tracing::instrument(skip_all, fields(user_id = %me.id))]
pub async fn choose(core: &Core, me: &User, choice: Choice) -> Result<LogSummary, ApiError> {
    let write = core.write().await?;
    match choice.code {
        Some(code) => {
            if requirement(&code).is_none() {
                return Err(ApiError::field(
                    "code",
                    "is not a requirement the service knows (see /api/v1/log/requirements)",
                ));
            }
            rows::choose(
                write.db(),
                log_requirements::ActiveModel {
                    user_id: Set(me.id),
                    code: Set(code),
                    cycle_start: Set(choice.cycle_start),
                    updated_at: Set(Utc::now()),
                },
            )
            .await?;
        }
        None => rows::unchoose(write.db(), me.id).await?,
    }
    write.commit().await?;
    summary(core, me, Utc::now().date_naive()).await
}

/// The caller's chosen requirement and the period it counts now.
async fn period_of(
    core: &Core,
    user_id: Uuid,
    today: NaiveDate,
) -> Result<(Option<&'static Requirement>, Option<NaiveDate>, Period), ApiError> {
    let chosen = rows::requirement_of(&core.reads, user_id).await?;
    let cycle_start = chosen.as_ref().and_then(|c| c.cycle_start);
    let requirement = chosen.and_then(|c| requirement(&c.code));
    let period = match requirement {
        Some(r) => current_period(r, cycle_start, today),
        None => {
            let year = chrono::Datelike::year(&today);
            Period {
                from: NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(today),
                to: NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(today),
            }
        }
    };
    Ok((requirement, cycle_start, period))
}

fn hours(minutes: i64) -> String {
    let h = minutes as f64 / 60.0;
    if (h - h.round()).abs() < 1e-9 {
        format!("{h:.0}")
    } else {
        format!("{h:.1}")
    }
}

/// Totals of `entries` (confirmed only) by kind, in the kinds' order.
pub fn totals(entries: &[Entry]) -> Vec<KindTotal> {
    let mut by: BTreeMap<ActivityKind, (u32, i64)> = BTreeMap::new();
    for e in entries.iter().filter(|e| !e.draft) {
        let kind = e.kind;
        let t = by.entry(kind).or_default();
        t.0 += 1;
        t.1 += i64::from(e.minutes);
    }
    by.into_iter()
        .map(|(kind, (entries, minutes))| KindTotal {
            kind,
            entries,
            minutes,
        })
        .collect()
}

/// Progress over the current period, and what is missing.
pub async fn summary(core: &Core, me: &User, today: NaiveDate) -> Result<LogSummary, ApiError> {
    let (requirement, cycle_start, period) = period_of(core, me.id, today).await?;
    let entries =
        rows::chronological(&core.reads, me.id, (Some(period.from), Some(period.to))).await?;
    let by_kind = totals(&entries);
    let logged_minutes: i64 = by_kind.iter().map(|t| t.minutes).sum();
    let drafts = entries.iter().filter(|e| e.draft).count() as u32;
    let without_reflection = entries
        .iter()
        .filter(|e| !e.draft && e.reflection.is_none())
        .count() as u32;
    let required_minutes = requirement.and_then(|r| r.hours).map(|h| i64::from(h) * 60);
    let mut gaps = Vec::new();
    match requirement {
        None => gaps.push(
            "Choose the requirement you report to, to see your progress against it.".to_owned(),
        ),
        Some(r) => {
            if let Some(required) = required_minutes {
                if logged_minutes < required {
                    gaps.push(format!(
                        "{} more hours to log by {} ({} of {} so far).",
                        hours(required - logged_minutes),
                        period.to.format("%-d %B %Y"),
                        hours(logged_minutes),
                        hours(required)
                    ));
                }
            }
            if r.reflection_expected && without_reflection > 0 {
                gaps.push(format!(
                    "{without_reflection} {} no reflection: {} expects what you learned and how you apply it.",
                    if without_reflection == 1 { "entry has" } else { "entries have" },
                    r.name
                ));
            }
            if entries.iter().all(|e| e.draft) {
                gaps.push("Nothing logged in this period yet.".to_owned());
            }
        }
    }
    if drafts > 0 {
        gaps.push(format!(
            "{drafts} {} from held meetings to confirm.",
            if drafts == 1 { "draft" } else { "drafts" }
        ));
    }
    Ok(LogSummary {
        requirement: requirement.cloned(),
        cycle_start,
        period_from: period.from,
        period_to: period.to,
        logged_minutes,
        required_minutes,
        by_kind,
        drafts,
        without_reflection,
        gaps,
    })
}

/// What an audit file holds: the owner, the entries between two days (oldest first), and
/// the requirement they report to.
pub struct AuditRecord {
    pub name: String,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub requirement: Option<&'static Requirement>,
    pub entries: Vec<Entry>,
}

/// The caller's entries between two days for an audit; with neither day, the current
/// period of their requirement when they chose one, else everything.
pub async fn audit_record(
    core: &Core,
    me: &User,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<AuditRecord, ApiError> {
    let (requirement, _, period) = period_of(core, me.id, Utc::now().date_naive()).await?;
    let (from, to) = match (from, to, requirement) {
        (None, None, Some(_)) => (Some(period.from), Some(period.to)),
        other => (other.0, other.1),
    };
    let entries = rows::chronological(&core.reads, me.id, (from, to)).await?;
    Ok(AuditRecord {
        name: me.display_name.clone(),
        from,
        to,
        requirement,
        entries,
    })
}

/// The log in a data export.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ExportedLog {
    pub requirement: Option<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub cycle_start: Option<NaiveDate>,
    pub entries: Vec<LogEntry>,
}

pub async fn exported(core: &Core, user_id: Uuid) -> Result<ExportedLog, ApiError> {
    let chosen = rows::requirement_of(&core.reads, user_id).await?;
    let entries = rows::chronological(&core.reads, user_id, (None, None)).await?;
    Ok(ExportedLog {
        requirement: chosen.as_ref().map(|c| c.code.clone()),
        cycle_start: chosen.and_then(|c| c.cycle_start),
        entries: entries.into_iter().map(LogEntry::new).collect(),
    })
}

/// Draft entries for a held circle meeting: one for each member who said they would come
/// and for whoever marks it held, each in the meeting's local day. A person who already
/// has one for the meeting keeps theirs.
pub async fn drafts_for_meeting(
    db: &impl sea_orm::ConnectionTrait,
    meeting: &circle_rows::Meeting,
    people: &[Uuid],
) -> Result<(), ApiError> {
    let draft = Draft {
        timezone: &meeting.timezone,
        starts_at: meeting.starts_at,
        minutes: meeting.duration_minutes,
        title: &meeting.title,
        connection_id: None,
        circle: Some((meeting.circle_id, meeting.id)),
    };
    let rows = people
        .iter()
        .map(|&user_id| draft.row(user_id, ActivityKind::CommunityOfPractice))
        .collect();
    rows::add_drafts(db, rows).await?;
    Ok(())
}

/// Draft entries for both sides of a connection's meeting that took place, each of its own
/// kind (mentoring given or received, or peer supervision).
pub async fn drafts_for_pair_meeting(
    db: &impl sea_orm::ConnectionTrait,
    meeting: &crate::store::connection_meetings::Meeting,
    sides: &[(Uuid, ActivityKind)],
) -> Result<(), ApiError> {
    let Some(starts_at) = meeting.starts_at else {
        return Ok(());
    };
    let draft = Draft {
        timezone: &meeting.timezone,
        starts_at,
        minutes: meeting.duration_minutes,
        title: &meeting.title,
        connection_id: Some(meeting.connection_id),
        circle: None,
    };
    let rows = sides
        .iter()
        .map(|&(user_id, kind)| draft.row(user_id, kind))
        .collect();
    rows::add_drafts(db, rows).await?;
    Ok(())
}

/// What a meeting that took place puts in a draft entry.
struct Draft<'a> {
    timezone: &'a str,
    starts_at: DateTime<Utc>,
    minutes: i32,
    title: &'a str,
    connection_id: Option<Uuid>,
    /// The circle and its meeting.
    circle: Option<(Uuid, Uuid)>,
}

impl Draft<'_> {
    /// The draft for one person, dated by the meeting's own time zone.
    fn row(&self, user_id: Uuid, kind: ActivityKind) -> log_entries::ActiveModel {
        let tz: chrono_tz::Tz = self.timezone.parse().unwrap_or(chrono_tz::UTC);
        let now = Utc::now();
        log_entries::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(user_id),
            occurred_on: Set(self.starts_at.with_timezone(&tz).date_naive()),
            minutes: Set(self.minutes.clamp(1, MINUTES_MAX)),
            kind: Set(kind),
            title: Set(self.title.to_owned()),
            reflection: Set(None),
            connection_id: Set(self.connection_id),
            circle_id: Set(self.circle.map(|(circle, _)| circle)),
            circle_meeting_id: Set(self.circle.map(|(_, meeting)| meeting)),
            draft: Set(true),
            created_at: Set(now),
            updated_at: Set(now),
        }
    }
}
