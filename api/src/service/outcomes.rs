//! Whether the programme works, in figures for administrators: how soon people find their
//! first connection, how often requests are accepted, whether connections meet, what
//! check-ins say, how many are re-matched after a poor fit, and the measure that matters
//! most: the share of practitioners who work alone with at least one active connection.
//! Only counts and durations: never who said what.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    domain::connection::ConnectionStatus,
    error::ApiError,
    store::{
        connection_meetings,
        entities::{check_ins, connections, profiles, users},
    },
};

/// A mentorship with no meeting held or planned in the last `QUIET_DAYS` days.
pub const QUIET_DAYS: i64 = 30;

#[derive(Serialize, Deserialize, ToSchema)]
pub struct Outcomes {
    /// Days from signing up to the first accepted connection, over those who have one.
    pub days_to_first_connection: Distribution,
    /// Meetings said to have taken place, per connection ever accepted.
    pub meetings_per_connection: Option<f64>,
    /// Meetings said to have taken place.
    pub meetings_held: u64,
    /// People whose connection ended as "not a good fit" who have been connected again
    /// since.
    pub re_matched: u64,
    /// People whose connection ended as "not a good fit".
    pub ended_as_poor_fit: u64,
    /// Practitioners who work alone (not suspended).
    pub working_alone: u64,
    /// Of those, with at least one accepted connection now.
    pub working_alone_connected: u64,
    /// `working_alone_connected / working_alone`: whether the service reduces isolation.
    pub working_alone_connected_share: Option<f64>,
    /// Mentorships accepted more than 30 days ago with no meeting held or planned in the
    /// last 30 days, oldest first: worth a word from the programme.
    pub quiet_mentorships: Vec<QuietMentorship>,
    /// Mentors paused now (by themselves, or after requests went unanswered).
    pub mentors_paused: u64,
    /// Mentors away long enough to be left out of suggestions and rounds.
    pub mentors_dormant: u64,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct Distribution {
    /// How many values.
    pub count: u64,
    pub median: Option<f64>,
    pub p90: Option<f64>,
}

impl Distribution {
    fn of(mut values: Vec<f64>) -> Self {
        values.sort_by(f64::total_cmp);
        let at = |q: f64| {
            let last = values.len().checked_sub(1)?;
            let rank = q * last as f64;
            let (lo, hi) = (rank.floor() as usize, rank.ceil() as usize);
            let (a, b) = (*values.get(lo)?, *values.get(hi)?);
            Some(a + (b - a) * (rank - lo as f64))
        };
        Distribution {
            count: values.len() as u64,
            median: at(0.5),
            p90: at(0.9),
        }
    }
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct QuietMentorship {
    pub connection_id: Uuid,
    pub mentee_id: Uuid,
    pub mentor_id: Uuid,
    pub accepted_at: Option<DateTime<Utc>>,
}

pub async fn outcomes(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<Outcomes, ApiError> {
    let ever_accepted: Vec<(Uuid, Uuid, Option<DateTime<Utc>>)> = connections::Entity::find()
        .select_only()
        .column(connections::Column::RequesterId)
        .column(connections::Column::RecipientId)
        .column(connections::Column::RespondedAt)
        .filter(
            connections::Column::Status
                .is_in([ConnectionStatus::Accepted, ConnectionStatus::Ended]),
        )
        .filter(connections::Column::RespondedAt.is_not_null())
        .into_tuple()
        .all(db)
        .await?;
    // Each person's first accepted connection, and every acceptance (for re-matches).
    let mut first: HashMap<Uuid, DateTime<Utc>> = HashMap::new();
    let mut accepted_at: HashMap<Uuid, Vec<DateTime<Utc>>> = HashMap::new();
    for &(requester, recipient, responded) in &ever_accepted {
        let Some(at) = responded else { continue };
        for person in [requester, recipient] {
            first
                .entry(person)
                .and_modify(|t| *t = (*t).min(at))
                .or_insert(at);
            accepted_at.entry(person).or_default().push(at);
        }
    }
    // When each of them signed up: only those with a connection, a chunk of ids at a time.
    let connected: Vec<Uuid> = first.keys().copied().collect();
    let mut signed_up: HashMap<Uuid, DateTime<Utc>> = HashMap::with_capacity(connected.len());
    for chunk in connected.chunks(crate::store::profiles::ID_CHUNK) {
        signed_up.extend(
            users::Entity::find()
                .select_only()
                .column(users::Column::Id)
                .column(users::Column::CreatedAt)
                .filter(users::Column::Id.is_in(chunk.to_vec()))
                .into_tuple::<(Uuid, DateTime<Utc>)>()
                .all(db)
                .await?,
        );
    }
    let days: Vec<f64> = first
        .iter()
        .filter_map(|(id, at)| {
            let joined = signed_up.get(id)?;
            Some(((*at - *joined).num_seconds().max(0) as f64) / 86_400.0)
        })
        .collect();

    // Poor fits: the connection's check-in answered "not a good fit"; re-matched when that
    // person was accepted into another connection afterwards.
    let poor_fits: Vec<(Uuid, Option<DateTime<Utc>>)> = check_ins::Entity::find()
        .select_only()
        .column(check_ins::Column::UserId)
        .column(check_ins::Column::AnsweredAt)
        .filter(
            check_ins::Column::Answer.eq(crate::domain::follow_through::CheckInAnswer::NotAGoodFit),
        )
        .into_tuple()
        .all(db)
        .await?;
    let re_matched = poor_fits
        .iter()
        .filter(|(person, ended)| {
            let (Some(ended), Some(times)) = (ended, accepted_at.get(person)) else {
                return false;
            };
            times.iter().any(|t| t > ended)
        })
        .count() as u64;

    let lone: Vec<Uuid> = profiles::Entity::find()
        .select_only()
        .column(profiles::Column::UserId)
        .filter(profiles::Column::WorksAlone.eq(true))
        .filter(
            profiles::Column::UserId.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(users::Column::Id)
                    .from(users::Entity)
                    .and_where(users::Column::Suspended.eq(false))
                    .to_owned(),
            ),
        )
        .into_tuple()
        .all(db)
        .await?;
    let mut active: std::collections::HashSet<Uuid> = std::collections::HashSet::new();
    let accepted_now: Vec<(Uuid, Uuid)> = connections::Entity::find()
        .select_only()
        .column(connections::Column::RequesterId)
        .column(connections::Column::RecipientId)
        .filter(connections::Column::Status.eq(ConnectionStatus::Accepted))
        .into_tuple()
        .all(db)
        .await?;
    for (a, b) in accepted_now {
        active.insert(a);
        active.insert(b);
    }
    let working_alone = lone.len() as u64;
    let working_alone_connected = lone.iter().filter(|id| active.contains(id)).count() as u64;

    let meetings_held = connection_meetings::held_count(db).await?;
    let quiet = connection_meetings::quiet_mentorships(db, now - Duration::days(QUIET_DAYS))
        .await?
        .into_iter()
        .map(|c| QuietMentorship {
            connection_id: c.id,
            mentee_id: c.requester_id,
            mentor_id: c.recipient_id,
            accepted_at: c.responded_at,
        })
        .collect();
    let today = now.date_naive();
    let mentors_paused = {
        use sea_orm::PaginatorTrait;
        profiles::Entity::find()
            .filter(profiles::Column::MentoringOffering.eq(true))
            .filter(profiles::Column::MentoringPausedUntil.gt(today))
            .count(db)
            .await?
    };
    let mentors_dormant = {
        use sea_orm::PaginatorTrait;
        users::Entity::find()
            .filter(users::Column::Dormant.eq(true))
            .count(db)
            .await?
    };
    let ratio = |a: u64, b: u64| (b > 0).then(|| a as f64 / b as f64);
    Ok(Outcomes {
        days_to_first_connection: Distribution::of(days),
        meetings_per_connection: ratio(meetings_held, ever_accepted.len() as u64),
        meetings_held,
        re_matched,
        ended_as_poor_fit: poor_fits.len() as u64,
        working_alone,
        working_alone_connected,
        working_alone_connected_share: ratio(working_alone_connected, working_alone),
        quiet_mentorships: quiet,
        mentors_paused,
        mentors_dormant,
    })
}

#[cfg(test)]
mod tests {
    use super::Distribution;

    #[test]
    fn the_median_and_p90_interpolate_between_ranks() {
        let d = Distribution::of((1..=11).map(f64::from).collect());
        assert_eq!((d.count, d.median, d.p90), (11, Some(6.0), Some(10.0)));
        let d = Distribution::of(vec![4.0, 1.0]);
        assert_eq!(d.median, Some(2.5));
        assert_eq!(Distribution::of(Vec::new()).median, None);
    }
}
