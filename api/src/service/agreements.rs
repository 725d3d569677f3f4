//! Agreements: once a connection is accepted, either side proposes goals, how often and how
//! to meet, for how long, and a confidentiality note; the other accepts it or proposes an
//! edit (which the first then accepts). Goals are marked done as they are reached. Only the
//! two of them read it: administrators learn only how many agreements exist.

use chrono::{DateTime, Utc};
use sea_orm::Set;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    domain::{connection::ConnectionStatus, follow_through::MeetingMode},
    error::{ApiError, ProblemCode},
    service::{connections::of_party, notifications, Core},
    store::{agreements as rows, entities::agreements, users::User},
};

pub use crate::domain::follow_through::AgreementStatus;

pub const GOALS_MAX: usize = 8;
pub const GOAL_MAX: usize = 300;
pub const CADENCE_MAX: usize = 100;
pub const NOTE_MAX: usize = 1000;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Goal {
    #[schema(example = "Plan home visits so that no week has more than three")]
    pub text: String,
    pub done: bool,
}

/// The agreement, for the two sides of its connection only.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct AgreementView {
    pub connection_id: Uuid,
    pub goals: Vec<Goal>,
    /// How often they meet, in their words.
    #[schema(example = "Every two weeks, an hour")]
    pub cadence: String,
    /// For how long they agree to meet.
    #[schema(example = 6)]
    pub duration_months: i32,
    pub mode: MeetingMode,
    /// What stays between them.
    pub confidentiality: Option<String>,
    pub status: AgreementStatus,
    pub proposed_by: Uuid,
    /// Whether it waits for the caller to accept it.
    pub awaiting_me: bool,
    pub accepted_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What a side proposes.
pub struct Terms {
    pub goals: Vec<String>,
    pub cadence: String,
    pub duration_months: i32,
    pub mode: MeetingMode,
    pub confidentiality: Option<String>,
}

impl Terms {
    /// Checks every field, naming each bad one.
    pub fn check(&self, fields: &mut crate::domain::FieldParser) {
        if self.goals.is_empty() || self.goals.len() > GOALS_MAX {
            fields.error("goals", format!("must hold 1 to {GOALS_MAX} goals"));
        }
        if self
            .goals
            .iter()
            .any(|g| g.trim().is_empty() || g.chars().count() > GOAL_MAX || g.contains('\n'))
        {
            fields.error(
                "goals",
                format!("each goal is one line of 1 to {GOAL_MAX} characters"),
            );
        }
        let cadence = self.cadence.trim();
        if cadence.is_empty() || cadence.chars().count() > CADENCE_MAX {
            fields.error("cadence", format!("must be 1 to {CADENCE_MAX} characters"));
        }
        if !(1..=24).contains(&self.duration_months) {
            fields.error("duration_months", "must be from 1 to 24");
        }
        if self
            .confidentiality
            .as_ref()
            .is_some_and(|c| c.chars().count() > NOTE_MAX)
        {
            fields.error(
                "confidentiality",
                format!("must be at most {NOTE_MAX} characters"),
            );
        }
    }
}

fn goals_of(row: &agreements::Model) -> Vec<Goal> {
    serde_json::from_value(row.goals.clone()).unwrap_or_default()
}

fn view(row: agreements::Model, me: Uuid) -> AgreementView {
    let status = row.status;
    AgreementView {
        goals: goals_of(&row),
        connection_id: row.connection_id,
        cadence: row.cadence,
        duration_months: row.duration_months,
        mode: MeetingMode::parse(&row.mode).unwrap_or(MeetingMode::Video),
        confidentiality: row.confidentiality,
        awaiting_me: status == AgreementStatus::Proposed && row.proposed_by != me,
        status,
        proposed_by: row.proposed_by,
        accepted_at: row.accepted_at,
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}

fn not_accepted() -> ApiError {
    ApiError::refused(
        ProblemCode::InvalidStatus,
        "An agreement is made once the connection is accepted.",
    )
}

/// The connection's agreement (its two sides only).
pub async fn get(core: &Core, me: &User, connection_id: Uuid) -> Result<AgreementView, ApiError> {
    of_party(core, connection_id, me.id).await?;
    let row = rows::find(&core.reads, connection_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(view(row, me.id))
}

/// Proposes the terms, or an edit of them: either way it then waits for the other side. Goals
/// kept word for word keep whether they are done. The other side is emailed.
#[tracing::instrument(skip_all, fields(user_id = %me.id, %connection_id))]
pub async fn propose(
    core: &Core,
    me: &User,
    connection_id: Uuid,
    terms: Terms,
) -> Result<AgreementView, ApiError> {
    let connection = of_party(core, connection_id, me.id).await?;
    if connection.status != ConnectionStatus::Accepted {
        return Err(not_accepted());
    }
    let now = Utc::now();
    let write = core.write().await?;
    let before = rows::find(write.db(), connection_id).await?;
    let kept: Vec<Goal> = before.as_ref().map(goals_of).unwrap_or_default();
    let goals: Vec<Goal> = terms
        .goals
        .iter()
        .map(|text| {
            let text = text.trim().to_owned();
            let done = kept.iter().any(|g| g.text == text && g.done);
            Goal { text, done }
        })
        .collect();
    rows::save(
        write.db(),
        agreements::ActiveModel {
            connection_id: Set(connection_id),
            goals: Set(serde_json::to_value(&goals).map_err(ApiError::unexpected)?),
            cadence: Set(terms.cadence.trim().to_owned()),
            duration_months: Set(terms.duration_months),
            mode: Set(terms.mode.code().to_owned()),
            confidentiality: Set(terms
                .confidentiality
                .map(|c| c.trim().to_owned())
                .filter(|c| !c.is_empty())),
            status: Set(AgreementStatus::Proposed),
            proposed_by: Set(me.id),
            accepted_at: Set(None),
            created_at: Set(before.as_ref().map_or(now, |b| b.created_at)),
            updated_at: Set(now),
        },
    )
    .await?;
    notifications::agreement_proposed(
        write.db(),
        &core.mailing(),
        connection.other_side(me.id),
        me.id,
        before.is_some(),
    )
    .await?;
    write.commit().await?;
    get(core, me, connection_id).await
}

/// Accepts the agreement the other side proposed.
#[tracing::instrument(skip_all, fields(user_id = %me.id, %connection_id))]
pub async fn accept(
    core: &Core,
    me: &User,
    connection_id: Uuid,
) -> Result<AgreementView, ApiError> {
    let connection = of_party(core, connection_id, me.id).await?;
    if connection.status != ConnectionStatus::Accepted {
        return Err(not_accepted());
    }
    let write = core.write().await?;
    let row = rows::find(write.db(), connection_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    if row.status == AgreementStatus::Accepted || row.proposed_by == me.id {
        return Err(ApiError::refused(
            ProblemCode::NotYourMove,
            "Only the side that did not propose these terms can accept them.",
        ));
    }
    if !rows::accept(write.db(), connection_id, row.updated_at, Utc::now()).await? {
        return Err(ApiError::refused(
            ProblemCode::InvalidStatus,
            "The terms changed meanwhile; read them again.",
        ));
    }
    write.commit().await?;
    get(core, me, connection_id).await
}

/// Marks goal number `index` (from 0) done or not done.
#[tracing::instrument(skip_all, fields(user_id = %me.id, %connection_id, index))]
pub async fn mark_goal(
    core: &Core,
    me: &User,
    connection_id: Uuid,
    index: usize,
    done: bool,
) -> Result<AgreementView, ApiError> {
    of_party(core, connection_id, me.id).await?;
    let write = core.write().await?;
    let row = rows::find(write.db(), connection_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let mut goals = goals_of(&row);
    let goal = goals.get_mut(index).ok_or(ApiError::NotFound)?;
    goal.done = done;
    rows::set_goals(
        write.db(),
        connection_id,
        serde_json::to_value(&goals).map_err(ApiError::unexpected)?,
    )
    .await?;
    write.commit().await?;
    get(core, me, connection_id).await
}

/// The agreements of the caller's connections, for the data export.
pub async fn exported(core: &Core, me: Uuid) -> Result<Vec<AgreementView>, ApiError> {
    Ok(rows::of_party(&core.reads, me)
        .await?
        .into_iter()
        .map(|row| view(row, me))
        .collect())
}
