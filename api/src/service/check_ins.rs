//! Check-ins: two weeks after a connection is accepted and then every six weeks, each side
//! is asked "How is it going?" by email (one click answers, through a signed link that
//! answers once) or in the app. "Not a good fit" ends the connection kindly, without a
//! reason shown to the other side, and offers the mentee the next-best suggestions at once.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use matcher::Kind;
use sea_orm::Set;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    domain::{
        connection::{self, Action, Actor, ConnectionKind, ConnectionStatus},
        follow_through::CheckInAnswer,
    },
    error::{ApiError, ProblemCode},
    service::{
        matching::{self, SuggestionItem},
        notifications, Core,
    },
    store::{
        check_ins::{self as rows, CheckIn},
        connections::{self as connection_rows, Connection},
        entities::check_ins,
        users,
    },
};

/// Connections asked per scheduler pass, so that a backlog is spread over passes.
const PER_PASS: u64 = 50;

/// One check-in as the person asked sees it.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct CheckInView {
    pub id: Uuid,
    pub connection_id: Uuid,
    /// The first check-in of a connection is 1.
    pub seq: i32,
    /// The other side's name (absent when they are no longer shown to the caller).
    pub with_name: Option<String>,
    pub answer: Option<CheckInAnswer>,
    pub answered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// What answering did.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct CheckInOutcome {
    pub check_in: CheckInView,
    /// Whether the answer ended the connection.
    pub ended: bool,
    /// For someone whose connection just ended: the next-best people to ask.
    pub suggestions: Vec<SuggestionItem>,
}

/// The check-ins of `me`, each with the other side's name when `me` may still see them: two
/// queries however many there are.
async fn views(
    core: &Core,
    me: Uuid,
    asked: Vec<(CheckIn, Connection)>,
) -> Result<Vec<CheckInView>, ApiError> {
    let others: Vec<Uuid> = asked.iter().map(|(_, c)| c.other_side(me)).collect();
    let shown = users::visible_to(&core.reads, me, &others).await?;
    let names =
        crate::service::profiles::names(&core.reads, shown.iter().copied().collect()).await?;
    Ok(asked
        .into_iter()
        .map(|(row, connection)| CheckInView {
            id: row.id,
            connection_id: row.connection_id,
            seq: row.seq,
            with_name: names.get(&connection.other_side(me)).cloned(),
            answer: row.answer,
            answered_at: row.answered_at,
            created_at: row.created_at,
        })
        .collect())
}

/// Asks both sides of every connection whose check-in is due. Each connection's turn is
/// claimed by a conditional update, so two instances never ask twice.
pub async fn send_due(core: &Core, now: DateTime<Utc>) -> Result<usize, ApiError> {
    let days = |d: std::time::Duration, default: i64| {
        chrono::Duration::from_std(d).unwrap_or_else(|_| chrono::Duration::days(default))
    };
    let first = days(core.config.check_in_first, 14);
    let every = days(core.config.check_in_every, 42);
    let due = rows::due_connections(&core.db, now, first, PER_PASS).await?;
    let mut asked = 0;
    for connection in due {
        let write = core.write().await?;
        if !rows::claim(write.db(), &connection, now + every).await? {
            continue;
        }
        let seq = rows::next_seq(write.db(), connection.id).await?;
        for (to, other) in [
            (connection.requester_id, connection.recipient_id),
            (connection.recipient_id, connection.requester_id),
        ] {
            let row = rows::insert(
                write.db(),
                check_ins::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    connection_id: Set(connection.id),
                    user_id: Set(to),
                    seq: Set(seq),
                    answer: Set(None),
                    answered_at: Set(None),
                    created_at: Set(now),
                },
            )
            .await?;
            notifications::check_in(write.db(), &core.mailing(), row.id, to, other).await?;
        }
        write.commit().await?;
        asked += 1;
    }
    Ok(asked)
}

/// The caller's check-ins, newest first: those that wait for an answer when `open_only`
/// (the app's list), else all of them (the data export).
pub async fn of_user(core: &Core, me: Uuid, open_only: bool) -> Result<Vec<CheckInView>, ApiError> {
    let rows = rows::of_user(&core.reads, me, open_only).await?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.connection_id).collect();
    let connections: HashMap<Uuid, Connection> = connection_rows::by_ids(&core.reads, &ids)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let asked = rows
        .into_iter()
        .filter_map(|row| {
            let connection = connections.get(&row.connection_id)?.clone();
            Some((row, connection))
        })
        .collect();
    views(core, me, asked).await
}

/// Up to three people `who` could ask instead of `not`, with their reasons, among those
/// `who` may see (as every list of people is filtered).
async fn next_best(
    core: &Core,
    who: Uuid,
    kind: Kind,
    not: Uuid,
) -> Result<Vec<(Uuid, Vec<String>)>, ApiError> {
    let found = core.index.suggest(who, kind, 10);
    let ids: Vec<Uuid> = found.iter().map(|s| s.user_id).collect();
    let visible = users::visible_to(&core.reads, who, &ids).await?;
    Ok(found
        .into_iter()
        .filter(|s| s.user_id != not && visible.contains(&s.user_id))
        .take(3)
        .map(|s| {
            (
                s.user_id,
                s.reasons.iter().map(|r| r.label.clone()).collect(),
            )
        })
        .collect())
}

/// Answers a check-in: from the app (`owner` is the caller, who must be the one asked) or
/// from an email's link (`owner` is `None`; the signed link named the check-in). A check-in
/// takes one answer; a second is 409 `invalid-status`.
#[tracing::instrument(skip(core))]
pub async fn answer(
    core: &Core,
    id: Uuid,
    owner: Option<Uuid>,
    answer: CheckInAnswer,
) -> Result<CheckInOutcome, ApiError> {
    let row = rows::find(&core.db, id)
        .await?
        .filter(|r| owner.is_none_or(|o| o == r.user_id))
        .ok_or(ApiError::NotFound)?;
    let connection = connection_rows::find(&core.db, row.connection_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let me = row.user_id;
    let other = connection.other_side(me);
    let kind = match connection.kind {
        ConnectionKind::Mentorship => Kind::Mentor,
        ConnectionKind::Peer => Kind::Peer,
    };
    // Whoever looks for someone new: the mentee of a mentorship, either side of a peer one.
    let mentee = match connection.kind {
        ConnectionKind::Mentorship => connection.requester_id,
        ConnectionKind::Peer => me,
    };
    let now = Utc::now();
    let mut write = core.write().await?;
    if !rows::answer(write.db(), id, answer, now).await? {
        return Err(ApiError::refused(
            ProblemCode::InvalidStatus,
            "This check-in has already been answered.",
        ));
    }
    let mut ended = false;
    if answer == CheckInAnswer::NotAGoodFit && connection.status == ConnectionStatus::Accepted {
        let actor = if connection.requester_id == me {
            Actor::Requester
        } else {
            Actor::Recipient
        };
        let transition = connection::apply(connection.status, Action::End, actor)?;
        if connection_rows::transition(write.db(), connection.id, transition, None).await? {
            ended = true;
            notifications::connection_ended(write.db(), other, me).await?;
            // The mentee hears of the next-best people at once, by email as well (they may
            // have answered from a link, or not be the one who answered).
            let partner = if mentee == me { other } else { me };
            let people = next_best(core, mentee, kind, partner).await?;
            if !people.is_empty() {
                notifications::next_suggestions(
                    write.db(),
                    &core.mailing(),
                    mentee,
                    partner,
                    &people,
                )
                .await?;
            }
            write.connection_changed(connection.id);
        }
    }
    write.commit().await?;
    let suggestions = if ended && mentee == me {
        let found = matching::suggestions(core, me, kind, 4).await?;
        found
            .items
            .into_iter()
            .filter(|s| s.profile.user_id != other)
            .take(3)
            .collect()
    } else {
        Vec::new()
    };
    let row = rows::find(&core.db, id).await?.ok_or(ApiError::NotFound)?;
    let asked = row.user_id;
    let check_in = views(core, asked, vec![(row, connection)])
        .await?
        .pop()
        .ok_or(ApiError::NotFound)?;
    Ok(CheckInOutcome {
        check_in,
        ended,
        suggestions,
    })
}

/// Answers through an email's signed link.
pub async fn answer_by_link(core: &Core, token: &str) -> Result<CheckInOutcome, ApiError> {
    let Some((id, code)) = core.jwt.verify_check_in(token).await else {
        return Err(ApiError::refused(
            ProblemCode::InvalidToken,
            "This link is not valid any more. You can answer in the app.",
        ));
    };
    let answer = CheckInAnswer::parse(&code).ok_or(ApiError::NotFound)?;
    let mut outcome = self::answer(core, id, None, answer).await?;
    // The link proves who was asked, not who opens it: the suggestions went by email.
    outcome.suggestions.clear();
    Ok(outcome)
}
