//! Emails about connections, each queued in the caller's transaction, and which optional
//! emails each person wants.

use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::{
    auth::JwtKeys,
    email::templates::{self, Rendered},
    error::ApiError,
    service::profiles::public_profiles,
    store::{
        connections::{self, Connection},
        outbox::{self, NewEmail},
        profiles,
        users::{self, User},
    },
};

/// What building links needs.
pub struct Mailing<'a> {
    pub public_url: &'a str,
    pub jwt: &'a JwtKeys,
    /// The service's own address, named as the organiser of meeting invitations.
    pub from: &'a str,
}

impl Mailing<'_> {
    fn connection_link(&self, id: Uuid) -> String {
        format!("{}/connections/{id}", self.public_url)
    }
}

fn email(
    to: &User,
    kind: &'static str,
    rendered: Rendered,
    headers: Vec<(String, String)>,
) -> NewEmail {
    NewEmail {
        user_id: Some(to.id),
        kind,
        to_address: to.email.clone(),
        subject: rendered.subject,
        text_body: rendered.text,
        html_body: rendered.html,
        headers,
        calendar: None,
    }
}

async fn user(db: &impl ConnectionTrait, id: Uuid) -> anyhow::Result<User> {
    users::find_by_id(db, id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("user {id} vanished"))
}

/// `whom`'s public profile as `viewer` sees it, in a sentence.
async fn summary(db: &impl ConnectionTrait, whom: Uuid, viewer: Uuid) -> anyhow::Result<String> {
    let Some(stored) = profiles::load(db, whom).await? else {
        return Ok(String::new());
    };
    let viewer = profiles::load(db, viewer).await?;
    let public = public_profiles(
        db,
        &[stored],
        viewer
            .as_ref()
            .map(crate::store::profiles::StoredProfile::location),
    )
    .await?;
    Ok(public
        .first()
        .map(templates::profile_summary)
        .unwrap_or_default())
}

fn reason_labels(connection: &Connection) -> Vec<String> {
    connection
        .reasons
        .as_array()
        .map(|reasons| {
            reasons
                .iter()
                .filter_map(|r| r["label"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Headers of a non-transactional email: one-click unsubscribe (RFC 8058).
fn unsubscribe_headers(mailing: &Mailing<'_>, to: Uuid) -> anyhow::Result<Vec<(String, String)>> {
    let token = mailing.jwt.issue_unsubscribe(to)?;
    Ok(vec![
        (
            "List-Unsubscribe".into(),
            format!("<{}/unsubscribe?token={token}>", mailing.public_url),
        ),
        (
            "List-Unsubscribe-Post".into(),
            "List-Unsubscribe=One-Click".into(),
        ),
    ])
}

/// Emails the recipient of a request about it, unless they turned request emails off;
/// `render` is given their name and what they see of the requester.
async fn to_recipient(
    db: &impl ConnectionTrait,
    mailing: &Mailing<'_>,
    connection: &Connection,
    kind: &'static str,
    render: impl FnOnce(&str, &str) -> Rendered,
) -> anyhow::Result<()> {
    let recipient = user(db, connection.recipient_id).await?;
    if !connections::preferences(db, recipient.id)
        .await?
        .connection_requests
    {
        return Ok(());
    }
    let requester = summary(db, connection.requester_id, recipient.id).await?;
    let rendered = render(&recipient.display_name, &requester);
    enqueue_optional(db, mailing, &recipient, kind, rendered).await
}

/// Queues an optional email about a request, with one-click unsubscribe headers.
async fn enqueue_optional(
    db: &impl ConnectionTrait,
    mailing: &Mailing<'_>,
    to: &User,
    kind: &'static str,
    rendered: Rendered,
) -> anyhow::Result<()> {
    let headers = unsubscribe_headers(mailing, to.id)?;
    outbox::enqueue(db, email(to, kind, rendered, headers)).await?;
    Ok(())
}

/// Tells the recipient about a new request, unless they turned such emails off.
#[tracing::instrument(skip_all, fields(connection_id = %connection.id))]
pub async fn connection_request(
    db: &impl ConnectionTrait,
    mailing: &Mailing<'_>,
    connection: &Connection,
) -> anyhow::Result<()> {
    let reasons = reason_labels(connection);
    let link = mailing.connection_link(connection.id);
    to_recipient(
        db,
        mailing,
        connection,
        "connection_request",
        |name, requester| {
            templates::connection_request(
                name,
                requester,
                connection.kind.as_str(),
                connection.message.as_deref(),
                &reasons,
                &link,
                connection.round_id.is_some(),
            )
        },
    )
    .await
}

/// Reminds the recipient of a request still waiting at half its time.
#[tracing::instrument(skip_all, fields(connection_id = %connection.id))]
pub async fn reminder(
    db: &impl ConnectionTrait,
    mailing: &Mailing<'_>,
    connection: &Connection,
) -> anyhow::Result<()> {
    let link = mailing.connection_link(connection.id);
    to_recipient(
        db,
        mailing,
        connection,
        "connection_reminder",
        |name, requester| templates::reminder(name, requester, &link),
    )
    .await
}

/// Introduces the two people to each other, each with the other's email.
#[tracing::instrument(skip_all, fields(connection_id = %connection.id))]
pub async fn introduction(
    db: &impl ConnectionTrait,
    connection: &Connection,
) -> anyhow::Result<()> {
    let a = user(db, connection.requester_id).await?;
    let b = user(db, connection.recipient_id).await?;
    for (to, other) in [(&a, &b), (&b, &a)] {
        let rendered = templates::introduction(
            &to.display_name,
            &summary(db, other.id, to.id).await?,
            &other.display_name,
            &other.email,
            connection.kind.as_str(),
        );
        outbox::enqueue(db, email(to, "introduction", rendered, Vec::new())).await?;
    }
    Ok(())
}

#[tracing::instrument(skip_all, fields(connection_id = %connection.id))]
pub async fn declined(db: &impl ConnectionTrait, connection: &Connection) -> anyhow::Result<()> {
    let requester = user(db, connection.requester_id).await?;
    let recipient = user(db, connection.recipient_id).await?;
    let rendered = templates::declined(&requester.display_name, &recipient.display_name);
    outbox::enqueue(db, email(&requester, "declined", rendered, Vec::new())).await?;
    Ok(())
}

#[tracing::instrument(skip_all, fields(connection_id = %connection.id))]
pub async fn expired(db: &impl ConnectionTrait, connection: &Connection) -> anyhow::Result<()> {
    let requester = user(db, connection.requester_id).await?;
    let recipient = user(db, connection.recipient_id).await?;
    let rendered = templates::expired(&requester.display_name, &recipient.display_name);
    outbox::enqueue(db, email(&requester, "expired", rendered, Vec::new())).await?;
    Ok(())
}

/// Tells the other side of a pending request that it closed because `gone`'s account is no
/// longer active.
#[tracing::instrument(skip_all, fields(connection_id = %connection.id, %gone))]
pub async fn request_closed(
    db: &impl ConnectionTrait,
    connection: &Connection,
    gone: Uuid,
) -> anyhow::Result<()> {
    let other = user(db, connection.other_side(gone)).await?;
    let gone = user(db, gone).await?;
    let rendered = templates::request_closed(&other.display_name, &gone.display_name);
    outbox::enqueue(db, email(&other, "request_closed", rendered, Vec::new())).await?;
    Ok(())
}

/// Which optional emails `user_id` receives.
#[tracing::instrument(skip(db))]
pub async fn preferences(
    db: &impl ConnectionTrait,
    user_id: Uuid,
) -> Result<connections::Preferences, ApiError> {
    Ok(connections::preferences(db, user_id).await?)
}

#[tracing::instrument(skip(db))]
pub async fn set_preferences(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    prefs: connections::Preferences,
) -> Result<(), ApiError> {
    Ok(connections::set_preferences(db, user_id, prefs).await?)
}

/// Stops every optional email for the owner of a valid unsubscribe link; false when the
/// link is not valid.
#[tracing::instrument(skip_all)]
pub async fn unsubscribe(core: &crate::service::Core, token: &str) -> Result<bool, ApiError> {
    let Some(user_id) = core.jwt.verify_unsubscribe(token).await else {
        return Ok(false);
    };
    if users::find_by_id(&core.db, user_id).await?.is_some() {
        connections::set_preferences(&core.db, user_id, connections::Preferences::NONE).await?;
        tracing::info!(%user_id, "unsubscribed from optional emails");
    }
    Ok(true)
}

impl Mailing<'_> {
    pub fn circle_link(&self, id: Uuid) -> String {
        format!("{}/circles/{id}", self.public_url)
    }
}

/// Whether `user_id` keeps circle emails (introductions, invitations, reminders) on.
/// Check-ins, meeting proposals and reminders of a person's connections.
async fn wants_follow_through(db: &impl ConnectionTrait, user_id: Uuid) -> anyhow::Result<bool> {
    Ok(connections::preferences(db, user_id).await?.follow_through)
}

async fn wants_circle_updates(db: &impl ConnectionTrait, user_id: Uuid) -> anyhow::Result<bool> {
    Ok(connections::preferences(db, user_id).await?.circle_updates)
}

/// Introduces the members of a new circle to each other, each as the others see them.
#[tracing::instrument(skip_all, fields(%circle_id))]
pub async fn circle_formed(
    db: &impl ConnectionTrait,
    mailing: &Mailing<'_>,
    circle_id: Uuid,
    domain: &str,
    members: &[Uuid],
) -> anyhow::Result<()> {
    for &to_id in members {
        if !wants_circle_updates(db, to_id).await? {
            continue;
        }
        let to = user(db, to_id).await?;
        let mut others = Vec::new();
        for &other in members.iter().filter(|m| **m != to_id) {
            others.push(summary(db, other, to_id).await?);
        }
        let rendered = templates::circle_formed(
            &to.display_name,
            domain,
            &others,
            &mailing.circle_link(circle_id),
        );
        let headers = unsubscribe_headers(mailing, to.id)?;
        outbox::enqueue(db, email(&to, "circle_formed", rendered, headers)).await?;
    }
    Ok(())
}

/// Tells whoever may answer that someone asked to join their circle.
#[tracing::instrument(skip_all, fields(%circle_id))]
pub async fn circle_join_request(
    db: &impl ConnectionTrait,
    mailing: &Mailing<'_>,
    circle_id: Uuid,
    domain: &str,
    who: &str,
    answerers: &[Uuid],
) -> anyhow::Result<()> {
    for &to_id in answerers {
        if !wants_circle_updates(db, to_id).await? {
            continue;
        }
        let to = user(db, to_id).await?;
        let rendered = templates::circle_join_request(
            &to.display_name,
            who,
            domain,
            &mailing.circle_link(circle_id),
        );
        let headers = unsubscribe_headers(mailing, to.id)?;
        outbox::enqueue(db, email(&to, "circle_join_request", rendered, headers)).await?;
    }
    Ok(())
}

/// Which meeting email to send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MeetingMail {
    Invitation,
    /// The same invitation again, changed (its `SEQUENCE` one higher).
    Change,
    Cancellation,
    Reminder,
}

/// One meeting (or series) and what its emails say.
pub struct MeetingFacts<'a> {
    pub circle: &'a crate::store::circles::Circle,
    pub meeting: &'a crate::store::circles::Meeting,
    /// The series, when the invitation is for all of it.
    pub repeat: Option<crate::email::calendar::Weekly>,
}

/// The bare address of `Name <address>` (or of a bare address).
/// A calendar `UID` that stays the same for every change of one meeting or series.
fn calendar_uid(mailing: &Mailing<'_>, id: Uuid) -> String {
    let host = url::Url::parse(mailing.public_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| "alongside".to_owned());
    format!("{id}@{host}")
}

fn address_of(from: &str) -> &str {
    from.rsplit_once('<')
        .and_then(|(_, rest)| rest.split_once('>'))
        .map_or(from.trim(), |(address, _)| address.trim())
}

/// `at` in the reader's time zone, in words.
fn when_for(at: chrono::DateTime<chrono::Utc>, timezone: &str) -> String {
    let tz: chrono_tz::Tz = timezone.parse().unwrap_or(chrono_tz::UTC);
    format!(
        "{} ({})",
        at.with_timezone(&tz).format("%A %-d %B %Y, %H:%M"),
        tz.name()
    )
}

/// Emails a meeting's invitation, cancellation or reminder to each of `to` who keeps
/// circle emails on, with the calendar invitation for invitations and cancellations.
#[tracing::instrument(skip_all, fields(meeting_id = %facts.meeting.id, ?mail))]
pub async fn meeting(
    db: &impl ConnectionTrait,
    mailing: &Mailing<'_>,
    facts: &MeetingFacts<'_>,
    mail: MeetingMail,
    to: &[Uuid],
) -> anyhow::Result<()> {
    use crate::email::calendar::{self, Invitation, Method};
    let meeting = facts.meeting;
    let tz: chrono_tz::Tz = meeting.timezone.parse().unwrap_or(chrono_tz::UTC);
    let local_start = meeting.starts_at.with_timezone(&tz).naive_local();
    let uid = calendar_uid(mailing, meeting.series_id.unwrap_or(meeting.id));
    let link = mailing.circle_link(facts.circle.id);
    for &to_id in to {
        if !wants_circle_updates(db, to_id).await? {
            continue;
        }
        let reader = user(db, to_id).await?;
        let timezone = profiles::load(db, to_id)
            .await?
            .map_or_else(|| meeting.timezone.clone(), |p| p.row.timezone);
        let when = when_for(meeting.starts_at, &timezone);
        let words = templates::MeetingFacts {
            domain: &facts.circle.domain,
            title: &meeting.title,
            when: &when,
            minutes: meeting.duration_minutes,
            location: meeting.location.as_deref(),
            link: &link,
        };
        let (kind, rendered, method) = match mail {
            MeetingMail::Invitation => (
                "circle_meeting",
                templates::meeting_invitation(&reader.display_name, &words),
                Some(Method::Request),
            ),
            MeetingMail::Change => (
                "circle_meeting_changed",
                templates::meeting_changed(&reader.display_name, &words),
                Some(Method::Request),
            ),
            MeetingMail::Cancellation => (
                "circle_meeting_cancelled",
                templates::meeting_cancelled(&reader.display_name, &words),
                Some(Method::Cancel),
            ),
            MeetingMail::Reminder => (
                "circle_meeting_reminder",
                templates::meeting_reminder(&reader.display_name, &words),
                None,
            ),
        };
        let invitation = method.map(|method| {
            calendar::render(&Invitation {
                method,
                uid: &uid,
                sequence: meeting.sequence,
                title: &meeting.title,
                description: &format!("{} — {link}", facts.circle.domain),
                location: meeting.location.as_deref(),
                url: &link,
                organiser: ("Alongside", address_of(mailing.from)),
                attendee: &reader.email,
                tz,
                start: local_start,
                minutes: i64::from(meeting.duration_minutes),
                repeat: facts.repeat,
                occurrence: (facts.repeat.is_none() && meeting.series_id.is_some())
                    .then_some(local_start),
                stamp: chrono::Utc::now(),
            })
        });
        let headers = unsubscribe_headers(mailing, reader.id)?;
        let mut queued = email(&reader, kind, rendered, headers);
        queued.calendar = invitation;
        outbox::enqueue(db, queued).await?;
    }
    Ok(())
}

/// Offers a free seat in a circle to each of `to`.
#[tracing::instrument(skip_all, fields(%circle_id))]
pub async fn seat_offer(
    db: &impl ConnectionTrait,
    mailing: &Mailing<'_>,
    circle_id: Uuid,
    domain: &str,
    to: &[Uuid],
) -> anyhow::Result<()> {
    for &to_id in to {
        if !wants_circle_updates(db, to_id).await? {
            continue;
        }
        let reader = user(db, to_id).await?;
        let rendered = templates::seat_offer(
            &reader.display_name,
            domain,
            &mailing.circle_link(circle_id),
        );
        let headers = unsubscribe_headers(mailing, reader.id)?;
        outbox::enqueue(db, email(&reader, "circle_seat_offer", rendered, headers)).await?;
    }
    Ok(())
}

/// The digest of new posts in `to`'s circles, when they keep it on; false when they do not.
#[tracing::instrument(skip_all, fields(user_id = %to))]
pub async fn circle_digest(
    db: &impl ConnectionTrait,
    mailing: &Mailing<'_>,
    to: Uuid,
    sections: &[templates::DigestSection],
) -> anyhow::Result<bool> {
    if !connections::preferences(db, to).await?.circle_digest {
        return Ok(false);
    }
    let reader = user(db, to).await?;
    let link = format!("{}/circles", mailing.public_url);
    let rendered = templates::circle_digest(&reader.display_name, sections, &link);
    let headers = unsubscribe_headers(mailing, reader.id)?;
    outbox::enqueue(db, email(&reader, "circle_digest", rendered, headers)).await?;
    Ok(true)
}

/// The weekly digest of new suggestions to `to`, each named with what they see of them and
/// why; false when they turned it off.
#[tracing::instrument(skip_all, fields(user_id = %to))]
pub async fn match_digest(
    db: &impl ConnectionTrait,
    mailing: &Mailing<'_>,
    to: Uuid,
    people: &[(Uuid, Vec<String>)],
) -> anyhow::Result<bool> {
    if !connections::preferences(db, to).await?.match_digest {
        return Ok(false);
    }
    let reader = user(db, to).await?;
    let (named, link) = digest_people(db, mailing, to, people).await?;
    let rendered = templates::match_digest(&reader.display_name, &named, &link);
    let headers = unsubscribe_headers(mailing, reader.id)?;
    outbox::enqueue(db, email(&reader, "match_digest", rendered, headers)).await?;
    Ok(true)
}

/// Asks one side of a connection how it is going, with a signed one-click link per answer.
#[tracing::instrument(skip_all, fields(check_in_id = %check_in, %to))]
pub async fn check_in(
    db: &impl ConnectionTrait,
    mailing: &Mailing<'_>,
    check_in: Uuid,
    to: Uuid,
    other: Uuid,
) -> anyhow::Result<()> {
    if !wants_follow_through(db, to).await? {
        return Ok(());
    }
    let reader = user(db, to).await?;
    let other = user(db, other).await?;
    let mut answers = Vec::new();
    for answer in crate::domain::follow_through::CheckInAnswer::ALL {
        let token = mailing.jwt.issue_check_in(check_in, answer.code())?;
        answers.push((
            answer.label(),
            format!("{}/check-in?token={token}", mailing.public_url),
        ));
    }
    let link = format!("{}/connections", mailing.public_url);
    let rendered = templates::check_in(&reader.display_name, &other.display_name, &answers, &link);
    let headers = unsubscribe_headers(mailing, reader.id)?;
    outbox::enqueue(db, email(&reader, "check_in", rendered, headers)).await?;
    Ok(())
}

/// Tells `to` that `ended_by` ended their connection, with no reason and no blame.
pub async fn connection_ended(
    db: &impl ConnectionTrait,
    to: Uuid,
    ended_by: Uuid,
) -> anyhow::Result<()> {
    let reader = user(db, to).await?;
    let other = user(db, ended_by).await?;
    let rendered = templates::connection_ended(&reader.display_name, &other.display_name);
    outbox::enqueue(db, email(&reader, "connection_ended", rendered, Vec::new())).await?;
    Ok(())
}

/// Each person as `to` sees them, with their reasons and a link; and the suggestions link.
async fn digest_people(
    db: &impl ConnectionTrait,
    mailing: &Mailing<'_>,
    to: Uuid,
    people: &[(Uuid, Vec<String>)],
) -> anyhow::Result<(Vec<templates::DigestPerson>, String)> {
    let mut named = Vec::new();
    for (id, reasons) in people {
        named.push(templates::DigestPerson {
            summary: summary(db, *id, to).await?,
            reasons: reasons.clone(),
            link: format!("{}/people/{id}", mailing.public_url),
        });
    }
    Ok((named, format!("{}/suggestions", mailing.public_url)))
}

/// Offers `to`, whose connection with `other` just ended, the next-best people to ask.
pub async fn next_suggestions(
    db: &impl ConnectionTrait,
    mailing: &Mailing<'_>,
    to: Uuid,
    other: Uuid,
    people: &[(Uuid, Vec<String>)],
) -> anyhow::Result<()> {
    let reader = user(db, to).await?;
    let other = user(db, other).await?;
    let (named, link) = digest_people(db, mailing, to, people).await?;
    let rendered =
        templates::next_suggestions(&reader.display_name, &other.display_name, &named, &link);
    outbox::enqueue(db, email(&reader, "next_suggestions", rendered, Vec::new())).await?;
    Ok(())
}

/// Tells `to` that `from` proposed an agreement (or an edit of one).
pub async fn agreement_proposed(
    db: &impl ConnectionTrait,
    mailing: &Mailing<'_>,
    to: Uuid,
    from: Uuid,
    edit: bool,
) -> anyhow::Result<()> {
    let reader = user(db, to).await?;
    let other = user(db, from).await?;
    let link = format!("{}/connections", mailing.public_url);
    let rendered =
        templates::agreement_proposed(&reader.display_name, &other.display_name, edit, &link);
    outbox::enqueue(
        db,
        email(&reader, "agreement_proposed", rendered, Vec::new()),
    )
    .await?;
    Ok(())
}

/// A meeting of a connection's two sides, scheduled, changed, cancelled or due tomorrow:
/// each side is told in their own time zone and, but for the reminder, sent the invitation
/// (`REQUEST`, or `CANCEL`) written in the proposer's time zone with the meeting's
/// `SEQUENCE`.
#[tracing::instrument(skip_all, fields(meeting_id = %meeting.id))]
pub async fn pair_meeting(
    db: &impl ConnectionTrait,
    mailing: &Mailing<'_>,
    connection: &crate::store::connections::Connection,
    meeting: &crate::store::connection_meetings::Meeting,
    what: templates::PairMeeting,
) -> anyhow::Result<()> {
    use crate::email::calendar::{self, Invitation, Method};
    use templates::PairMeeting;
    let Some(starts_at) = meeting.starts_at else {
        return Ok(());
    };
    let tz: chrono_tz::Tz = meeting.timezone.parse().unwrap_or(chrono_tz::UTC);
    let uid = calendar_uid(mailing, meeting.id);
    let link = mailing.connection_link(connection.id);
    let (kind, method) = match what {
        PairMeeting::Scheduled => ("meeting_scheduled", Some(Method::Request)),
        PairMeeting::Changed => ("meeting_changed", Some(Method::Request)),
        PairMeeting::Cancelled => ("meeting_cancelled", Some(Method::Cancel)),
        PairMeeting::Reminder => ("meeting_reminder", None),
    };
    for to_id in [connection.requester_id, connection.recipient_id] {
        // A reminder is optional; an invitation to what they agreed is not.
        let optional = what == PairMeeting::Reminder;
        if optional && !wants_follow_through(db, to_id).await? {
            continue;
        }
        let reader = user(db, to_id).await?;
        let other = user(db, connection.other_side(to_id)).await?;
        let timezone = profiles::load(db, to_id)
            .await?
            .map_or_else(|| meeting.timezone.clone(), |p| p.row.timezone);
        let when = when_for(starts_at, &timezone);
        let words = templates::MeetingFacts {
            domain: "",
            title: &meeting.title,
            when: &when,
            minutes: meeting.duration_minutes,
            location: meeting.location.as_deref(),
            link: &link,
        };
        let rendered =
            templates::pair_meeting(&reader.display_name, &other.display_name, what, &words);
        let headers = if optional {
            unsubscribe_headers(mailing, reader.id)?
        } else {
            Vec::new()
        };
        let mut queued = email(&reader, kind, rendered, headers);
        queued.calendar = method.map(|method| {
            calendar::render(&Invitation {
                method,
                uid: &uid,
                sequence: meeting.sequence,
                title: &meeting.title,
                description: &format!(
                    "{} and {} — {link}",
                    reader.display_name, other.display_name
                ),
                location: meeting.location.as_deref(),
                url: &link,
                organiser: ("Alongside", address_of(mailing.from)),
                attendee: &reader.email,
                tz,
                start: starts_at.with_timezone(&tz).naive_local(),
                minutes: i64::from(meeting.duration_minutes),
                repeat: None,
                occurrence: None,
                stamp: chrono::Utc::now(),
            })
        });
        outbox::enqueue(db, queued).await?;
    }
    Ok(())
}

/// Tells `to` the times the other side proposed, in `to`'s own time zone.
pub async fn meeting_proposed(
    db: &impl ConnectionTrait,
    mailing: &Mailing<'_>,
    to: Uuid,
    from: Uuid,
    meeting: &crate::store::connection_meetings::Meeting,
    times: &[chrono::DateTime<chrono::Utc>],
) -> anyhow::Result<()> {
    if !wants_follow_through(db, to).await? {
        return Ok(());
    }
    let reader = user(db, to).await?;
    let other = user(db, from).await?;
    let timezone = profiles::load(db, to)
        .await?
        .map_or_else(|| meeting.timezone.clone(), |p| p.row.timezone);
    let times: Vec<String> = times.iter().map(|t| when_for(*t, &timezone)).collect();
    let rendered = templates::meeting_proposed(
        &reader.display_name,
        &other.display_name,
        &meeting.title,
        &times,
        &mailing.connection_link(meeting.connection_id),
    );
    let headers = unsubscribe_headers(mailing, reader.id)?;
    outbox::enqueue(db, email(&reader, "meeting_proposed", rendered, headers)).await?;
    Ok(())
}

/// A mentor paused after requests went unanswered, told how to resume.
pub async fn mentoring_paused(
    db: &impl ConnectionTrait,
    mailing: &Mailing<'_>,
    to: Uuid,
    until: chrono::NaiveDate,
) -> anyhow::Result<()> {
    let reader = user(db, to).await?;
    let rendered = templates::mentoring_paused(
        &reader.display_name,
        &until.format("%-d %B %Y").to_string(),
        &format!("{}/profile", mailing.public_url),
    );
    outbox::enqueue(db, email(&reader, "mentoring_paused", rendered, Vec::new())).await?;
    Ok(())
}
