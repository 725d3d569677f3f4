//! Mentors who go quiet. Every sign-in, session refresh and answer to a request counts as
//! activity. A mentor who lets two mentorship requests in a row expire unanswered is paused
//! for a while (and emailed how to resume); a mentor away longer than
//! `mentor_dormant_after` drops out of suggestions and rounds until they are active again.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{
    domain::connection::ConnectionKind,
    error::ApiError,
    service::{notifications, Core, Write},
    store::{connections::Connection, profiles, users},
};

/// How many requests in a row may expire unanswered before a mentor is paused.
pub const UNANSWERED_BEFORE_PAUSE: i32 = 2;
/// How long an automatic pause lasts, unless the mentor clears it sooner.
pub const AUTOMATIC_PAUSE_DAYS: i64 = 90;
/// Mentors marked dormant per scheduler pass.
const DORMANT_PER_PASS: u64 = 500;

/// Notes activity of `user_id`, in the write's transaction; a dormant mentor is back in
/// suggestions once it commits.
pub async fn seen(write: &mut Write<'_>, user_id: Uuid) -> Result<(), ApiError> {
    if users::seen(write.db(), user_id, Utc::now()).await? {
        write.users_changed(&[user_id]);
    }
    Ok(())
}

/// The mentor answered a request: activity, and their count of unanswered ones starts again.
pub async fn answered(write: &mut Write<'_>, user_id: Uuid) -> Result<(), ApiError> {
    users::reset_unanswered(write.db(), user_id).await?;
    seen(write, user_id).await
}

/// A request expired unanswered: a mentor's second in a row pauses their mentoring.
pub async fn request_expired(
    write: &mut Write<'_>,
    core: &Core,
    connection: &Connection,
) -> Result<(), ApiError> {
    if connection.kind != ConnectionKind::Mentorship {
        return Ok(());
    }
    let mentor = connection.recipient_id;
    let unanswered = users::count_unanswered_expiry(write.db(), mentor).await?;
    if unanswered < UNANSWERED_BEFORE_PAUSE {
        return Ok(());
    }
    let now = Utc::now();
    let until = now.date_naive() + chrono::Days::new(AUTOMATIC_PAUSE_DAYS.unsigned_abs());
    users::reset_unanswered(write.db(), mentor).await?;
    if profiles::pause_mentoring(write.db(), mentor, until, now).await? {
        notifications::mentoring_paused(write.db(), &core.mailing(), mentor, until)
            .await
            .map_err(ApiError::unexpected)?;
        write.users_changed(&[mentor]);
        tracing::info!(user_id = %mentor, "mentoring paused after unanswered requests");
    }
    Ok(())
}

/// Marks mentors away longer than `mentor_dormant_after` as dormant: the index leaves them
/// out as mentors until they are active again. Returns how many it marked.
pub async fn mark_dormant(core: &Core, now: DateTime<Utc>) -> Result<usize, ApiError> {
    let away = chrono::Duration::from_std(core.config.mentor_dormant_after)
        .map_err(ApiError::unexpected)?;
    let mut write = core.write().await?;
    let marked = users::mark_dormant_mentors(write.db(), now - away, now, DORMANT_PER_PASS).await?;
    if !marked.is_empty() {
        write.users_changed(&marked);
    }
    write.commit().await?;
    Ok(marked.len())
}
