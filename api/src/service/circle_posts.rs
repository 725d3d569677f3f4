//! A circle's discussion: posts and case studies, replies, edits and deletions by their
//! authors, pins and hiding by the facilitator, reports by any member, and the shared list
//! of resources. Only members read any of it.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::Set;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    domain::circle::{PostKind, Standing},
    error::ApiError,
    service::{
        circles::{closed, hidden_from, not_a_moderator, standing_in},
        notifications, Core,
    },
    store::{
        circles::{self as rows, Post},
        entities::{circle_posts, circle_resources},
        users::User,
    },
};

pub const TITLE_MAX: usize = 140;
pub const BODY_MAX: usize = 5000;
pub const QUESTIONS_MAX: usize = 8;
pub const QUESTION_MAX: usize = 300;
/// Replies shown with a thread.
pub const REPLIES_SHOWN: u64 = 500;

/// Who wrote a post, as members see them; null once their account is erased.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Author {
    pub user_id: Uuid,
    pub display_name: String,
}

/// A post, a case study or a reply, as a member sees it.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct PostView {
    pub id: Uuid,
    pub circle_id: Uuid,
    /// The thread a reply belongs to.
    pub parent_id: Option<Uuid>,
    pub kind: PostKind,
    pub title: Option<String>,
    /// Plain text; links are shown as links. Empty once deleted.
    pub body: String,
    /// A case study's guiding questions.
    pub questions: Vec<String>,
    pub author: Option<Author>,
    pub pinned: bool,
    /// Hidden by the facilitator: only they (and the author) still see it.
    pub hidden: bool,
    /// Deleted by its author, or its author's account was erased; replies stay.
    pub removed: bool,
    pub replies: i32,
    /// Reports by members (shown to the facilitator only).
    pub reports: Option<u64>,
    pub created_at: DateTime<Utc>,
    pub edited_at: Option<DateTime<Utc>>,
    pub last_activity_at: DateTime<Utc>,
}

/// A thread with its replies, oldest first.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ThreadView {
    pub post: PostView,
    pub replies: Vec<PostView>,
}

/// A shared link.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ResourceView {
    pub id: Uuid,
    pub title: String,
    pub url: String,
    pub note: Option<String>,
    pub added_by: Option<Author>,
    pub created_at: DateTime<Utc>,
}

/// A member's standing, or not found for anyone who is not a member.
async fn as_member(core: &Core, me: &User, circle_id: Uuid) -> Result<(bool, Standing), ApiError> {
    let (circle, _, standing) = standing_in(core, me, circle_id).await?;
    if !standing.sees_content() {
        return Err(ApiError::NotFound);
    }
    Ok((circle.state.is_open(), standing))
}

/// What `viewer` sees of these posts, in the order given: posts by people they may not
/// see are left out, and hidden posts are shown only to moderators and their authors.
async fn shown(
    core: &Core,
    viewer: &User,
    standing: Standing,
    posts: Vec<Post>,
) -> Result<Vec<PostView>, ApiError> {
    let mut authors: Vec<Uuid> = posts.iter().filter_map(|p| p.author_id).collect();
    authors.sort();
    authors.dedup();
    let hidden = hidden_from(core, viewer.id, &authors).await?;
    let names = crate::service::profiles::names(&core.reads, authors).await?;
    let reports = if standing.moderates() {
        let ids: Vec<Uuid> = posts.iter().map(|p| p.id).collect();
        Some(rows::report_counts(&core.reads, &ids).await?)
    } else {
        None
    };
    Ok(posts
        .into_iter()
        .filter(|p| p.author_id.is_none_or(|a| !hidden.contains(&a)))
        .filter(|p| !p.hidden || standing.moderates() || p.author_id == Some(viewer.id))
        .map(|p| view(p, &names, reports.as_ref()))
        .collect())
}

fn view(p: Post, names: &HashMap<Uuid, String>, reports: Option<&HashMap<Uuid, u64>>) -> PostView {
    let questions = serde_json::from_value(p.questions).unwrap_or_default();
    PostView {
        id: p.id,
        circle_id: p.circle_id,
        parent_id: p.parent_id,
        kind: p.kind,
        title: p.title,
        body: p.body,
        questions,
        author: p.author_id.map(|id| Author {
            user_id: id,
            display_name: names.get(&id).cloned().unwrap_or_default(),
        }),
        pinned: p.pinned,
        hidden: p.hidden,
        removed: p.removed,
        replies: p.replies,
        reports: reports.map(|r| r.get(&p.id).copied().unwrap_or(0)),
        created_at: p.created_at,
        edited_at: p.edited_at,
        last_activity_at: p.last_activity_at,
    }
}

fn text(field: &str, raw: &str, max: usize) -> Result<String, ApiError> {
    let trimmed = raw.trim();
    let length = trimmed.chars().count();
    if length == 0 || length > max {
        return Err(ApiError::field(
            field,
            format!("must be 1 to {max} characters"),
        ));
    }
    Ok(trimmed.to_owned())
}

/// What a member writes to start a thread.
pub struct NewPost {
    pub kind: PostKind,
    pub title: Option<String>,
    pub body: String,
    pub questions: Vec<String>,
}

struct Checked {
    title: Option<String>,
    body: String,
    questions: Vec<String>,
}

fn check(
    kind: PostKind,
    title: Option<&str>,
    body: &str,
    questions: &[String],
) -> Result<Checked, ApiError> {
    let title = title
        .filter(|t| !t.trim().is_empty())
        .map(|t| text("title", t, TITLE_MAX))
        .transpose()?;
    if kind == PostKind::Case && title.is_none() {
        return Err(ApiError::field("title", "a case study needs a title"));
    }
    let body = text("body", body, BODY_MAX)?;
    if kind != PostKind::Case && !questions.is_empty() {
        return Err(ApiError::field(
            "questions",
            "only a case study has guiding questions",
        ));
    }
    if questions.len() > QUESTIONS_MAX {
        return Err(ApiError::field(
            "questions",
            format!("at most {QUESTIONS_MAX} questions"),
        ));
    }
    let questions = questions
        .iter()
        .map(|q| text("questions", q, QUESTION_MAX))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Checked {
        title,
        body,
        questions,
    })
}

/// Starts a thread: a discussion post or a case study.
#[tracing::instrument(skip_all, fields(user_id = %me.id, %circle_id))]
pub async fn create(
    core: &Core,
    me: &User,
    circle_id: Uuid,
    new: NewPost,
) -> Result<PostView, ApiError> {
    if new.kind == PostKind::Reply {
        return Err(ApiError::field("kind", "must be discussion or case"));
    }
    let checked = check(new.kind, new.title.as_deref(), &new.body, &new.questions)?;
    let (open, standing) = as_member(core, me, circle_id).await?;
    if !open {
        return Err(closed());
    }
    let now = Utc::now();
    let write = core.write().await?;
    let post = rows::insert_post(
        write.db(),
        rows::NewPost {
            circle_id,
            parent_id: None,
            author_id: me.id,
            kind: new.kind,
            title: checked.title,
            body: checked.body,
            questions: checked.questions,
            at: now,
        },
    )
    .await?;
    rows::touch(write.db(), circle_id).await?;
    write.commit().await?;
    one(core, me, standing, post).await
}

async fn one(core: &Core, me: &User, standing: Standing, post: Post) -> Result<PostView, ApiError> {
    shown(core, me, standing, vec![post])
        .await?
        .pop()
        .ok_or(ApiError::NotFound)
}

/// Replies to a thread.
#[tracing::instrument(skip_all, fields(user_id = %me.id, %circle_id, %post_id))]
pub async fn reply(
    core: &Core,
    me: &User,
    circle_id: Uuid,
    post_id: Uuid,
    body: String,
) -> Result<PostView, ApiError> {
    let body = text("body", &body, BODY_MAX)?;
    let (open, standing) = as_member(core, me, circle_id).await?;
    if !open {
        return Err(closed());
    }
    let parent = thread_post(core, me, standing, circle_id, post_id).await?;
    if parent.removed {
        return Err(ApiError::NotFound);
    }
    let now = Utc::now();
    let write = core.write().await?;
    let post = rows::insert_post(
        write.db(),
        rows::NewPost {
            circle_id,
            parent_id: Some(parent.id),
            author_id: me.id,
            kind: PostKind::Reply,
            title: None,
            body,
            questions: Vec::new(),
            at: now,
        },
    )
    .await?;
    rows::replied(write.db(), parent.id, now).await?;
    rows::touch(write.db(), circle_id).await?;
    write.commit().await?;
    one(core, me, standing, post).await
}

/// A top-level post of the circle that the caller may see.
async fn thread_post(
    core: &Core,
    me: &User,
    standing: Standing,
    circle_id: Uuid,
    post_id: Uuid,
) -> Result<PostView, ApiError> {
    let post = rows::find_post(&core.reads, circle_id, post_id)
        .await?
        .filter(|p| p.parent_id.is_none())
        .ok_or(ApiError::NotFound)?;
    one(core, me, standing, post).await
}

/// A page of threads: pinned first, then the most recently active.
#[tracing::instrument(skip_all, fields(user_id = %me.id, %circle_id))]
pub async fn threads(
    core: &Core,
    me: &User,
    circle_id: Uuid,
    after: Option<Uuid>,
    limit: u64,
) -> Result<(Vec<PostView>, Option<Uuid>), ApiError> {
    let (_, standing) = as_member(core, me, circle_id).await?;
    let after = match after {
        Some(id) => Some(
            rows::find_post(&core.reads, circle_id, id)
                .await?
                .filter(|p| p.parent_id.is_none())
                .ok_or_else(|| ApiError::field("cursor", "is not from this circle's list"))?,
        ),
        None => None,
    };
    let page = rows::threads(&core.reads, circle_id, after.as_ref(), limit + 1).await?;
    let more = page.len() as u64 > limit;
    let page: Vec<Post> = page
        .into_iter()
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .collect();
    let next = if more {
        page.last().map(|p| p.id)
    } else {
        None
    };
    Ok((shown(core, me, standing, page).await?, next))
}

/// One thread with its replies.
#[tracing::instrument(skip_all, fields(user_id = %me.id, %circle_id, %post_id))]
pub async fn thread(
    core: &Core,
    me: &User,
    circle_id: Uuid,
    post_id: Uuid,
) -> Result<ThreadView, ApiError> {
    let (_, standing) = as_member(core, me, circle_id).await?;
    let post = thread_post(core, me, standing, circle_id, post_id).await?;
    let replies = rows::replies(&core.reads, post_id, REPLIES_SHOWN).await?;
    Ok(ThreadView {
        post,
        replies: shown(core, me, standing, replies).await?,
    })
}

/// A post (or reply) of the circle that the caller wrote.
async fn own_post(
    core: &Core,
    me: &User,
    circle_id: Uuid,
    post_id: Uuid,
) -> Result<(Post, Standing), ApiError> {
    let (open, standing) = as_member(core, me, circle_id).await?;
    if !open {
        return Err(closed());
    }
    let post = rows::find_post(&core.db, circle_id, post_id)
        .await?
        .filter(|p| p.author_id == Some(me.id) && !p.removed)
        .ok_or(ApiError::NotFound)?;
    Ok((post, standing))
}

/// What an author changes of their post.
#[derive(Default)]
pub struct Edit {
    pub title: Option<String>,
    pub body: Option<String>,
    pub questions: Option<Vec<String>>,
}

/// Edits the caller's own post or reply.
#[tracing::instrument(skip_all, fields(user_id = %me.id, %circle_id, %post_id))]
pub async fn edit(
    core: &Core,
    me: &User,
    circle_id: Uuid,
    post_id: Uuid,
    edit: Edit,
) -> Result<PostView, ApiError> {
    let (post, standing) = own_post(core, me, circle_id, post_id).await?;
    let questions: Vec<String> = match edit.questions {
        Some(q) => q,
        None => serde_json::from_value(post.questions.clone()).unwrap_or_default(),
    };
    let checked = check(
        post.kind,
        edit.title.as_deref().or(post.title.as_deref()),
        edit.body.as_deref().unwrap_or(&post.body),
        &questions,
    )?;
    let write = core.write().await?;
    let updated = rows::update_post(
        write.db(),
        circle_posts::ActiveModel {
            id: Set(post.id),
            title: Set(checked.title),
            body: Set(checked.body),
            questions: Set(serde_json::json!(checked.questions)),
            edited_at: Set(Some(Utc::now())),
            ..Default::default()
        },
    )
    .await?;
    write.commit().await?;
    one(core, me, standing, updated).await
}

/// Deletes the caller's own post: its text goes, its replies stay.
#[tracing::instrument(skip_all, fields(user_id = %me.id, %circle_id, %post_id))]
pub async fn delete(
    core: &Core,
    me: &User,
    circle_id: Uuid,
    post_id: Uuid,
) -> Result<(), ApiError> {
    let (post, _) = own_post(core, me, circle_id, post_id).await?;
    let write = core.write().await?;
    rows::update_post(
        write.db(),
        circle_posts::ActiveModel {
            id: Set(post.id),
            title: Set(None),
            body: Set(String::new()),
            questions: Set(serde_json::json!([])),
            removed: Set(true),
            pinned: Set(false),
            ..Default::default()
        },
    )
    .await?;
    write.commit().await?;
    Ok(())
}

/// What a facilitator changes of a post.
#[derive(Clone, Copy)]
pub enum Moderation {
    Pin(bool),
    Hide(bool),
}

/// Pins or hides a post, for the circle's facilitator.
#[tracing::instrument(skip_all, fields(user_id = %me.id, %circle_id, %post_id))]
pub async fn moderate(
    core: &Core,
    me: &User,
    circle_id: Uuid,
    post_id: Uuid,
    moderation: Moderation,
) -> Result<PostView, ApiError> {
    let (open, standing) = as_member(core, me, circle_id).await?;
    if !standing.moderates() {
        return Err(not_a_moderator());
    }
    if !open {
        return Err(closed());
    }
    let post = rows::find_post(&core.db, circle_id, post_id)
        .await?
        .filter(|p| !p.removed)
        .ok_or(ApiError::NotFound)?;
    let mut change = circle_posts::ActiveModel {
        id: Set(post.id),
        ..Default::default()
    };
    match moderation {
        Moderation::Pin(pinned) if post.parent_id.is_none() => change.pinned = Set(pinned),
        Moderation::Pin(_) => return Err(ApiError::field("pinned", "only a thread can be pinned")),
        Moderation::Hide(hidden) => change.hidden = Set(hidden),
    }
    let write = core.write().await?;
    let updated = rows::update_post(write.db(), change).await?;
    write.commit().await?;
    one(core, me, standing, updated).await
}

/// Reports a post to the facilitator and the programme's administrators.
#[tracing::instrument(skip_all, fields(user_id = %me.id, %circle_id, %post_id))]
pub async fn report(
    core: &Core,
    me: &User,
    circle_id: Uuid,
    post_id: Uuid,
    reason: String,
) -> Result<(), ApiError> {
    let reason = text("reason", &reason, 500)?;
    let (_, standing) = as_member(core, me, circle_id).await?;
    let post = rows::find_post(&core.reads, circle_id, post_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    one(core, me, standing, post).await?;
    let write = core.write().await?;
    rows::report(write.db(), post_id, me.id, reason).await?;
    write.commit().await?;
    Ok(())
}

/// The circle's shared links, newest first.
#[tracing::instrument(skip_all, fields(user_id = %me.id, %circle_id))]
pub async fn resources(
    core: &Core,
    me: &User,
    circle_id: Uuid,
) -> Result<Vec<ResourceView>, ApiError> {
    as_member(core, me, circle_id).await?;
    let rows = rows::resources_of(&core.reads, circle_id).await?;
    let mut by: Vec<Uuid> = rows.iter().filter_map(|r| r.added_by).collect();
    by.sort();
    by.dedup();
    let hidden = hidden_from(core, me.id, &by).await?;
    let names = crate::service::profiles::names(&core.reads, by).await?;
    Ok(rows
        .into_iter()
        .filter(|r| r.added_by.is_none_or(|a| !hidden.contains(&a)))
        .map(|r| ResourceView {
            id: r.id,
            title: r.title,
            url: r.url,
            note: r.note,
            added_by: r.added_by.map(|id| Author {
                user_id: id,
                display_name: names.get(&id).cloned().unwrap_or_default(),
            }),
            created_at: r.created_at,
        })
        .collect())
}

/// What a member shares.
pub struct NewResource {
    pub title: String,
    pub url: String,
    pub note: Option<String>,
}

/// Adds a link to the circle's shared list.
#[tracing::instrument(skip_all, fields(user_id = %me.id, %circle_id))]
pub async fn add_resource(
    core: &Core,
    me: &User,
    circle_id: Uuid,
    new: NewResource,
) -> Result<ResourceView, ApiError> {
    let title = text("title", &new.title, TITLE_MAX)?;
    let url = new.url.trim().to_owned();
    let parsed = url::Url::parse(&url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"));
    if parsed.is_none() || url.len() > 2000 {
        return Err(ApiError::field(
            "url",
            "must be an http or https link of at most 2000 characters",
        ));
    }
    let note = new
        .note
        .filter(|n| !n.trim().is_empty())
        .map(|n| text("note", &n, 500))
        .transpose()?;
    let (open, _) = as_member(core, me, circle_id).await?;
    if !open {
        return Err(closed());
    }
    let write = core.write().await?;
    let row = rows::add_resource(
        write.db(),
        circle_resources::ActiveModel {
            id: Set(Uuid::now_v7()),
            circle_id: Set(circle_id),
            added_by: Set(Some(me.id)),
            title: Set(title),
            url: Set(url),
            note: Set(note),
            created_at: Set(Utc::now()),
        },
    )
    .await?;
    rows::touch(write.db(), circle_id).await?;
    write.commit().await?;
    Ok(ResourceView {
        id: row.id,
        title: row.title,
        url: row.url,
        note: row.note,
        added_by: Some(Author {
            user_id: me.id,
            display_name: me.display_name.clone(),
        }),
        created_at: row.created_at,
    })
}

/// Everything a practitioner wrote in circles (for their data export).
pub async fn written_by(core: &Core, user_id: Uuid) -> Result<Vec<PostView>, ApiError> {
    let posts = rows::posts_by(&core.reads, user_id).await?;
    let names = crate::service::profiles::names(&core.reads, vec![user_id]).await?;
    Ok(posts.into_iter().map(|p| view(p, &names, None)).collect())
}

/// The first words of a post, for the digest.
fn gist(post: &Post) -> String {
    let text = post.title.as_deref().unwrap_or(&post.body);
    let words: String = text.chars().take(100).collect();
    if text.chars().count() > 100 {
        format!("{}…", words.trim_end())
    } else {
        words
    }
}

/// Sends each member of a circle with new posts, at most once per `circle_digest_every`,
/// the posts and replies by others since their last digest.
pub async fn send_digests(core: &Core, now: DateTime<Utc>) -> Result<(), ApiError> {
    let every = chrono::Duration::from_std(core.config.circle_digest_every)
        .unwrap_or_else(|_| chrono::Duration::days(1));
    let db = &core.db;
    // A digest is due an interval after the first post it carries: the circles to look at
    // are those with posts in the last two intervals.
    let busy = rows::circles_with_posts_since(db, now - every * 2).await?;
    if busy.is_empty() {
        return Ok(());
    }
    let mut people: Vec<Uuid> = rows::members_of(db, &busy)
        .await?
        .into_iter()
        .filter(|m| m.status == crate::domain::circle::MemberStatus::Active)
        .map(|m| m.user_id)
        .collect();
    people.sort();
    people.dedup();
    for person in people {
        let last = rows::digest_sent_at(db, person).await?;
        if last.is_some_and(|at| at > now - every) {
            continue;
        }
        let since = last.unwrap_or(now - every);
        let circle_ids: Vec<Uuid> = rows::memberships(db, person)
            .await?
            .into_iter()
            .filter(|m| m.status == crate::domain::circle::MemberStatus::Active)
            .map(|m| m.circle_id)
            .collect();
        let posts: Vec<Post> = rows::posts_since(db, &circle_ids, since)
            .await?
            .into_iter()
            .filter(|p| p.author_id.is_some_and(|a| a != person))
            .collect();
        let mut authors: Vec<Uuid> = posts.iter().filter_map(|p| p.author_id).collect();
        authors.sort();
        authors.dedup();
        let hidden = hidden_from(core, person, &authors).await?;
        let names = crate::service::profiles::names(db, authors).await?;
        let circles = rows::by_ids(db, &circle_ids).await?;
        let sections: Vec<crate::email::templates::DigestSection> = circles
            .iter()
            .filter(|c| c.state.is_open())
            .filter_map(|c| {
                let lines: Vec<String> = posts
                    .iter()
                    .filter(|p| p.circle_id == c.id)
                    .filter_map(|p| {
                        let author = p.author_id.filter(|a| !hidden.contains(a))?;
                        let name = names.get(&author).cloned().unwrap_or_default();
                        let verb = if p.parent_id.is_some() {
                            " replied"
                        } else {
                            ""
                        };
                        Some(format!("{name}{verb}: {}", gist(p)))
                    })
                    .collect();
                (!lines.is_empty()).then(|| crate::email::templates::DigestSection {
                    domain: c.domain.clone(),
                    lines,
                })
            })
            .collect();
        if sections.is_empty() {
            continue;
        }
        let write = core.write().await?;
        let Some(last) = last else {
            // Their clock starts just before the first post they have not had: the digest
            // goes a full interval after it, with everything new by then.
            let start =
                posts.first().map_or(now, |p| p.created_at) - chrono::Duration::milliseconds(1);
            rows::claim_digest(write.db(), person, None, start).await?;
            write.commit().await?;
            continue;
        };
        if !rows::claim_digest(write.db(), person, Some(last), now).await? {
            continue;
        }
        notifications::circle_digest(write.db(), &core.mailing(), person, &sections).await?;
        write.commit().await?;
    }
    Ok(())
}
