//! Circles: the directory, starting and joining one, members and requests to join, the
//! discussion and the shared resources.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::{
    domain::circle::{Admission, PostKind},
    error::ApiError,
    http::problem::{failures, Fails},
    http::{
        extract::{number, offset_cursor, AuthUser, Valid},
        state::AppState,
    },
    service::{
        circle_meetings::{self as meetings, MeetingChange, MeetingView, NewMeeting},
        circle_posts::{
            self as posts, Edit, Moderation, NewPost, NewResource, PostView, ResourceView,
            ThreadView,
        },
        circles::{
            self as service, CircleInterest, CircleSummary, CircleView, DirectoryFilter, NewCircle,
        },
    },
};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/circles")
            .wrap(actix_web::middleware::from_fn(
                crate::http::idempotency::keyed,
            ))
            .get(circle_directory)
            .post(create_circle),
    )
    .service(web::resource("/me/circles").get(my_circles))
    .service(
        web::resource("/me/circle-interest")
            .get(get_circle_interest)
            .put(put_circle_interest),
    )
    .service(web::resource("/circles/{id}").get(get_circle))
    .service(web::resource("/circles/{id}/join").post(join_circle))
    .service(web::resource("/circles/{id}/close").post(close_circle))
    .service(web::resource("/circles/{id}/members/{user_id}").delete(remove_member))
    .service(web::resource("/circles/{id}/members/{user_id}/accept").post(accept_member))
    .service(
        web::resource("/circles/{id}/posts")
            .get(list_posts)
            .post(create_post),
    )
    .service(
        web::resource("/circles/{id}/posts/{post_id}")
            .get(get_post)
            .patch(edit_post)
            .delete(delete_post),
    )
    .service(web::resource("/circles/{id}/posts/{post_id}/replies").post(reply_to_post))
    .service(web::resource("/circles/{id}/posts/{post_id}/pin").post(pin_post))
    .service(web::resource("/circles/{id}/posts/{post_id}/hide").post(hide_post))
    .service(web::resource("/circles/{id}/posts/{post_id}/report").post(report_post))
    .service(
        web::resource("/circles/{id}/resources")
            .get(list_resources)
            .post(add_resource),
    )
    .service(
        web::resource("/circles/{id}/meetings")
            .get(list_meetings)
            .post(schedule_meeting),
    )
    .service(
        web::resource("/circles/{id}/meetings/{meeting_id}")
            .patch(change_meeting)
            .delete(cancel_meeting),
    )
    .service(web::resource("/circles/{id}/meetings/{meeting_id}/rsvp").put(answer_meeting));
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DirectoryQuery {
    /// Only circles of this profession (or `interprofessional`).
    #[param(max_length = 60)]
    profession: Option<String>,
    /// Words that must all appear in the circle's domain.
    #[param(max_length = 100)]
    q: Option<String>,
    /// Only circles whose area is this close, in kilometres (computed from grid cells).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 20000)]
    within_km: Option<String>,
    /// Only circles with a free seat.
    open_seats: Option<bool>,
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    /// From `next_cursor` of the previous page.
    #[param(max_length = 9, pattern = "^[0-9]+$")]
    cursor: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct CirclePage {
    pub items: Vec<CircleSummary>,
    pub next_cursor: Option<String>,
}

failures!(DirectoryFailures {
    ValidationError: "A parameter is invalid",
});

/// Circles the caller may find and join, most recently active first. Circles where
/// someone on either side of a block with the caller is a member are not listed.
#[utoipa::path(
    get, path = "/api/v1/circles", tag = "circles",
    security(("bearer" = [])),
    params(DirectoryQuery),
    responses(
        (status = 200, description = "A page of circles", body = CirclePage),
        DirectoryFailures,
    )
)]
pub async fn circle_directory(
    state: web::Data<AppState>,
    user: AuthUser,
    query: web::Query<DirectoryQuery>,
) -> Result<HttpResponse, Fails<DirectoryFailures>> {
    let limit = number("limit", query.limit.as_deref(), 100, 20)?;
    for (field, value, max) in [("q", &query.q, 100), ("profession", &query.profession, 60)] {
        if value.as_ref().is_some_and(|v| v.chars().count() > max) {
            return Err(ApiError::field(field, format!("must be at most {max} characters")).into());
        }
    }
    let within_km = query
        .within_km
        .as_deref()
        .map(|raw| number("within_km", Some(raw), 20_000, 0))
        .transpose()?;
    let offset = offset_cursor(query.cursor.as_deref())? as usize;
    let filter = DirectoryFilter {
        profession: query.profession.clone(),
        words: query.q.clone(),
        within_km,
        open_seats: query.open_seats.unwrap_or(false),
        offset,
        limit: limit as usize,
    };
    let (items, more) = service::directory(&state, &user.0, filter).await?;
    let next_cursor = more.then(|| (offset + limit as usize).to_string());
    Ok(HttpResponse::Ok().json(CirclePage { items, next_cursor }))
}

fn default_admission() -> Admission {
    Admission::Approval
}

#[derive(Deserialize, ToSchema)]
pub struct CreateCircle {
    /// What the circle is about, in plain words (3 to 120 characters).
    #[schema(
        example = "Home modifications for older adults, rural",
        min_length = 3,
        max_length = 120
    )]
    pub domain: String,
    /// Most members, 4 to 8.
    #[schema(minimum = 4, maximum = 8, example = 6)]
    pub cap: i32,
    /// `approval` (the default): requests to join wait for an answer; `open`: a free seat
    /// is taken at once.
    #[serde(default = "default_admission")]
    pub admission: Admission,
    /// The starter facilitates (five or more years of experience, or offering mentoring).
    #[serde(default)]
    pub facilitate: bool,
}

crate::http::extract::opaque_body!(CreateCircle);

failures!(CreateFailures {
    EmailNotVerified: "The caller's email is not verified yet",
    ProfileRequired | CircleLimit | IdempotencyKeyInUse: "The caller has no profile, is already in as many circles as one person may be, or a request with the same Idempotency-Key is still being served",
    ValidationError: "The body or the Idempotency-Key is invalid",
});

/// Starts an open circle, with the caller as its first member.
#[utoipa::path(
    post, path = "/api/v1/circles", tag = "circles",
    security(("bearer" = [])),
    params(crate::http::idempotency::IdempotencyKey),
    request_body = CreateCircle,
    responses(
        (status = 201, description = "The circle", body = CircleView),
        CreateFailures,
    )
)]
pub async fn create_circle(
    state: web::Data<AppState>,
    user: AuthUser,
    Valid(body): Valid<CreateCircle>,
) -> Result<HttpResponse, Fails<CreateFailures>> {
    let new = NewCircle {
        domain: body.domain,
        cap: body.cap,
        admission: body.admission,
        facilitate: body.facilitate,
    };
    let view = service::create(&state, &user.0, new).await?;
    Ok(HttpResponse::Created().json(view))
}

/// The circles the caller is in or has asked to join.
#[utoipa::path(
    get, path = "/api/v1/me/circles", tag = "circles",
    security(("bearer" = [])),
    responses((status = 200, description = "The caller's circles", body = Vec<CircleSummary>))
)]
pub async fn my_circles(
    state: web::Data<AppState>,
    user: AuthUser,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(service::mine(&state, &user.0).await?))
}

/// Whether the caller waits to be placed in a circle by the next formation round.
#[utoipa::path(
    get, path = "/api/v1/me/circle-interest", tag = "circles",
    security(("bearer" = [])),
    responses((status = 200, description = "The caller's interest", body = CircleInterest))
)]
pub async fn get_circle_interest(
    state: web::Data<AppState>,
    user: AuthUser,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(service::interest(&state, &user.0).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct InterestRequest {
    pub seeking: bool,
}

crate::http::extract::opaque_body!(InterestRequest);

failures!(InterestFailures {
    EmailNotVerified: "The caller's email is not verified yet",
    ProfileRequired: "The caller has no profile yet",
});

/// Asks to be placed in a circle by the next formation round, or stops asking.
#[utoipa::path(
    put, path = "/api/v1/me/circle-interest", tag = "circles",
    security(("bearer" = [])),
    request_body = InterestRequest,
    responses(
        (status = 200, description = "The caller's interest", body = CircleInterest),
        InterestFailures,
    )
)]
pub async fn put_circle_interest(
    state: web::Data<AppState>,
    user: AuthUser,
    Valid(body): Valid<InterestRequest>,
) -> Result<HttpResponse, Fails<InterestFailures>> {
    Ok(HttpResponse::Ok().json(service::set_interest(&state, &user.0, body.seeking).await?))
}

failures!(GetFailures {
    NotFound: "No such circle the caller may see",
});

/// One circle: its summary for anyone who may find it; its members and requests to join
/// for its members only.
#[utoipa::path(
    get, path = "/api/v1/circles/{id}", tag = "circles",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The circle id")),
    responses(
        (status = 200, description = "The circle", body = CircleView),
        GetFailures,
    )
)]
pub async fn get_circle(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, Fails<GetFailures>> {
    Ok(HttpResponse::Ok().json(service::get(&state, &user.0, path.into_inner()).await?))
}

#[derive(Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct JoinRequest {
    /// A note to the circle's members.
    #[schema(max_length = 500)]
    pub note: Option<String>,
}

crate::http::extract::opaque_body!(JoinRequest);

failures!(JoinFailures {
    EmailNotVerified: "The caller's email is not verified yet",
    NotFound: "No such circle the caller may see",
    ProfileRequired | CircleFull | CircleLimit | AlreadyInCircle | CircleClosed | HoursDoNotOverlap: "The caller has no profile, no seat is free, the caller is in as many circles as one may be, is already in this one, it is closed, or working hours do not overlap",
});

/// Asks to join: in an `open` circle a free seat is taken at once; otherwise the request
/// waits for the facilitator (or, without one, any member).
#[utoipa::path(
    post, path = "/api/v1/circles/{id}/join", tag = "circles",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The circle id")),
    request_body = JoinRequest,
    responses(
        (status = 200, description = "The circle, with the caller's place in it", body = CircleView),
        JoinFailures,
    )
)]
pub async fn join_circle(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
    Valid(body): Valid<JoinRequest>,
) -> Result<HttpResponse, Fails<JoinFailures>> {
    let view = service::join(&state, &user.0, path.into_inner(), body.note).await?;
    Ok(HttpResponse::Ok().json(view))
}

failures!(AdmitFailures {
    NotAModerator: "Only the facilitator, or any member of a circle without one",
    NotFound: "No such circle, or no such request to join",
    CircleFull | CircleClosed: "No seat is free, or the circle is closed",
});

/// Accepts a request to join while a seat is free.
#[utoipa::path(
    post, path = "/api/v1/circles/{id}/members/{user_id}/accept", tag = "circles",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The circle id"),
        ("user_id" = Uuid, Path, description = "Who asked to join"),
    ),
    responses(
        (status = 200, description = "The circle", body = CircleView),
        AdmitFailures,
    )
)]
pub async fn accept_member(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, Fails<AdmitFailures>> {
    let (id, who) = path.into_inner();
    Ok(HttpResponse::Ok().json(service::admit(&state, &user.0, id, who).await?))
}

failures!(RemoveFailures {
    NotAModerator: "Only the facilitator or an administrator can remove someone else",
    NotFound: "No such circle, or no such member",
});

/// Leaves a circle (or withdraws a request to join); the facilitator or an administrator
/// can remove anyone, and whoever may accept a request may turn it down.
#[utoipa::path(
    delete, path = "/api/v1/circles/{id}/members/{user_id}", tag = "circles",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The circle id"),
        ("user_id" = Uuid, Path, description = "The member (the caller's own id to leave)"),
    ),
    responses(
        (status = 204, description = "They are no longer in the circle"),
        RemoveFailures,
    )
)]
pub async fn remove_member(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, Fails<RemoveFailures>> {
    let (id, who) = path.into_inner();
    service::remove(&state, &user.0, id, who).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, ToSchema)]
pub struct CloseRequest {
    /// Why, for the members (1 to 500 characters).
    #[schema(
        min_length = 1,
        max_length = 500,
        example = "We met our goals for the year"
    )]
    pub reason: String,
}

crate::http::extract::opaque_body!(CloseRequest);

failures!(CloseFailures {
    NotAModerator: "Only the facilitator or an administrator",
    NotFound: "No such circle the caller may see",
    CircleClosed: "The circle is already closed",
});

/// Closes a circle for good (facilitator or administrator), with the reason.
#[utoipa::path(
    post, path = "/api/v1/circles/{id}/close", tag = "circles",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The circle id")),
    request_body = CloseRequest,
    responses(
        (status = 200, description = "The closed circle", body = CircleView),
        CloseFailures,
    )
)]
pub async fn close_circle(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
    Valid(body): Valid<CloseRequest>,
) -> Result<HttpResponse, Fails<CloseFailures>> {
    let view = service::close(&state, &user.0, path.into_inner(), body.reason).await?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PostsQuery {
    #[param(value_type = Option<u32>, minimum = 1, maximum = 50)]
    limit: Option<String>,
    /// From `next_cursor` of the previous page.
    #[param(value_type = Option<Uuid>)]
    cursor: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct PostPage {
    pub items: Vec<PostView>,
    pub next_cursor: Option<String>,
}

failures!(ListPostsFailures {
    NotFound: "No such circle of the caller's",
    ValidationError: "A parameter is invalid",
});

/// The circle's threads (members only): pinned first, then the most recently active.
#[utoipa::path(
    get, path = "/api/v1/circles/{id}/posts", tag = "circles",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The circle id"), PostsQuery),
    responses(
        (status = 200, description = "A page of threads", body = PostPage),
        ListPostsFailures,
    )
)]
pub async fn list_posts(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
    query: web::Query<PostsQuery>,
) -> Result<HttpResponse, Fails<ListPostsFailures>> {
    let limit = number("limit", query.limit.as_deref(), 50, 20)?;
    let after = match &query.cursor {
        Some(raw) => Some(
            Uuid::parse_str(raw)
                .map_err(|_| ApiError::field("cursor", "is not a cursor this API issued"))?,
        ),
        None => None,
    };
    let (items, next) =
        posts::threads(&state, &user.0, path.into_inner(), after, u64::from(limit)).await?;
    Ok(HttpResponse::Ok().json(PostPage {
        items,
        next_cursor: next.map(|id| id.to_string()),
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct CreatePost {
    /// `discussion` or `case` (a case study with guiding questions).
    pub kind: PostKind,
    /// Up to 140 characters; required for a case study.
    #[schema(max_length = 140, example = "Bathroom access after a hip replacement")]
    pub title: Option<String>,
    /// Plain text with links, 1 to 5000 characters. No identifying client information.
    #[schema(min_length = 1, max_length = 5000)]
    pub body: String,
    /// A case study's guiding questions (at most 8, each up to 300 characters).
    #[serde(default)]
    pub questions: Vec<String>,
}

crate::http::extract::opaque_body!(CreatePost);

failures!(CreatePostFailures {
    NotFound: "No such circle of the caller's",
    CircleClosed: "The circle is closed",
});

/// Starts a thread: a discussion post or a case study (members only).
#[utoipa::path(
    post, path = "/api/v1/circles/{id}/posts", tag = "circles",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The circle id")),
    request_body = CreatePost,
    responses(
        (status = 201, description = "The post", body = PostView),
        CreatePostFailures,
    )
)]
pub async fn create_post(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
    Valid(body): Valid<CreatePost>,
) -> Result<HttpResponse, Fails<CreatePostFailures>> {
    let new = NewPost {
        kind: body.kind,
        title: body.title,
        body: body.body,
        questions: body.questions,
    };
    let post = posts::create(&state, &user.0, path.into_inner(), new).await?;
    Ok(HttpResponse::Created().json(post))
}

failures!(GetPostFailures {
    NotFound: "No such thread in a circle of the caller's",
});

/// A thread with its replies, oldest first (members only).
#[utoipa::path(
    get, path = "/api/v1/circles/{id}/posts/{post_id}", tag = "circles",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The circle id"),
        ("post_id" = Uuid, Path, description = "The thread's first post"),
    ),
    responses(
        (status = 200, description = "The thread", body = ThreadView),
        GetPostFailures,
    )
)]
pub async fn get_post(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, Fails<GetPostFailures>> {
    let (id, post_id) = path.into_inner();
    Ok(HttpResponse::Ok().json(posts::thread(&state, &user.0, id, post_id).await?))
}

#[derive(Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct EditPost {
    #[schema(max_length = 140)]
    pub title: Option<String>,
    #[schema(min_length = 1, max_length = 5000)]
    pub body: Option<String>,
    pub questions: Option<Vec<String>>,
}

crate::http::extract::opaque_body!(EditPost);

failures!(EditPostFailures {
    NotFound: "No such post of the caller's",
    CircleClosed: "The circle is closed",
});

/// Edits the caller's own post or reply.
#[utoipa::path(
    patch, path = "/api/v1/circles/{id}/posts/{post_id}", tag = "circles",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The circle id"),
        ("post_id" = Uuid, Path, description = "The post or reply"),
    ),
    request_body = EditPost,
    responses(
        (status = 200, description = "The post", body = PostView),
        EditPostFailures,
    )
)]
pub async fn edit_post(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
    Valid(body): Valid<EditPost>,
) -> Result<HttpResponse, Fails<EditPostFailures>> {
    let (id, post_id) = path.into_inner();
    let edit = Edit {
        title: body.title,
        body: body.body,
        questions: body.questions,
    };
    Ok(HttpResponse::Ok().json(posts::edit(&state, &user.0, id, post_id, edit).await?))
}

/// Deletes the caller's own post or reply: its text goes; replies to it stay.
#[utoipa::path(
    delete, path = "/api/v1/circles/{id}/posts/{post_id}", tag = "circles",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The circle id"),
        ("post_id" = Uuid, Path, description = "The post or reply"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        EditPostFailures,
    )
)]
pub async fn delete_post(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, Fails<EditPostFailures>> {
    let (id, post_id) = path.into_inner();
    posts::delete(&state, &user.0, id, post_id).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, ToSchema)]
pub struct ReplyRequest {
    /// Plain text with links, 1 to 5000 characters.
    #[schema(min_length = 1, max_length = 5000)]
    pub body: String,
}

crate::http::extract::opaque_body!(ReplyRequest);

/// Replies to a thread (members only).
#[utoipa::path(
    post, path = "/api/v1/circles/{id}/posts/{post_id}/replies", tag = "circles",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The circle id"),
        ("post_id" = Uuid, Path, description = "The thread's first post"),
    ),
    request_body = ReplyRequest,
    responses(
        (status = 201, description = "The reply", body = PostView),
        CreatePostFailures,
    )
)]
pub async fn reply_to_post(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
    Valid(body): Valid<ReplyRequest>,
) -> Result<HttpResponse, Fails<CreatePostFailures>> {
    let (id, post_id) = path.into_inner();
    let post = posts::reply(&state, &user.0, id, post_id, body.body).await?;
    Ok(HttpResponse::Created().json(post))
}

#[derive(Deserialize, ToSchema)]
pub struct PinRequest {
    pub pinned: bool,
}

crate::http::extract::opaque_body!(PinRequest);

#[derive(Deserialize, ToSchema)]
pub struct HideRequest {
    pub hidden: bool,
}

crate::http::extract::opaque_body!(HideRequest);

failures!(ModerateFailures {
    NotAModerator: "Only the facilitator or an administrator",
    NotFound: "No such post in a circle of the caller's",
    CircleClosed: "The circle is closed",
});

/// Pins or unpins a thread (facilitator).
#[utoipa::path(
    post, path = "/api/v1/circles/{id}/posts/{post_id}/pin", tag = "circles",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The circle id"),
        ("post_id" = Uuid, Path, description = "The thread's first post"),
    ),
    request_body = PinRequest,
    responses(
        (status = 200, description = "The post", body = PostView),
        ModerateFailures,
    )
)]
pub async fn pin_post(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
    Valid(body): Valid<PinRequest>,
) -> Result<HttpResponse, Fails<ModerateFailures>> {
    let (id, post_id) = path.into_inner();
    let moderation = Moderation::Pin(body.pinned);
    Ok(HttpResponse::Ok().json(posts::moderate(&state, &user.0, id, post_id, moderation).await?))
}

/// Hides or shows a post (facilitator): a hidden post is seen only by the facilitator and
/// its author.
#[utoipa::path(
    post, path = "/api/v1/circles/{id}/posts/{post_id}/hide", tag = "circles",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The circle id"),
        ("post_id" = Uuid, Path, description = "The post or reply"),
    ),
    request_body = HideRequest,
    responses(
        (status = 200, description = "The post", body = PostView),
        ModerateFailures,
    )
)]
pub async fn hide_post(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
    Valid(body): Valid<HideRequest>,
) -> Result<HttpResponse, Fails<ModerateFailures>> {
    let (id, post_id) = path.into_inner();
    let moderation = Moderation::Hide(body.hidden);
    Ok(HttpResponse::Ok().json(posts::moderate(&state, &user.0, id, post_id, moderation).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct ReportRequest {
    /// What is wrong with the post (1 to 500 characters).
    #[schema(min_length = 1, max_length = 500, example = "It names a client")]
    pub reason: String,
}

crate::http::extract::opaque_body!(ReportRequest);

failures!(ReportFailures {
    NotFound: "No such post in a circle of the caller's",
});

/// Reports a post to the facilitator and the programme's administrators (members only).
#[utoipa::path(
    post, path = "/api/v1/circles/{id}/posts/{post_id}/report", tag = "circles",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The circle id"),
        ("post_id" = Uuid, Path, description = "The post or reply"),
    ),
    request_body = ReportRequest,
    responses(
        (status = 204, description = "Reported"),
        ReportFailures,
    )
)]
pub async fn report_post(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
    Valid(body): Valid<ReportRequest>,
) -> Result<HttpResponse, Fails<ReportFailures>> {
    let (id, post_id) = path.into_inner();
    posts::report(&state, &user.0, id, post_id, body.reason).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The circle's shared links, newest first (members only).
#[utoipa::path(
    get, path = "/api/v1/circles/{id}/resources", tag = "circles",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The circle id")),
    responses(
        (status = 200, description = "The links", body = Vec<ResourceView>),
        ListPostsFailures,
    )
)]
pub async fn list_resources(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, Fails<ListPostsFailures>> {
    Ok(HttpResponse::Ok().json(posts::resources(&state, &user.0, path.into_inner()).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct AddResource {
    #[schema(
        min_length = 1,
        max_length = 140,
        example = "Home modification checklist"
    )]
    pub title: String,
    /// An http or https link.
    #[schema(
        max_length = 2000,
        pattern = "^https?://",
        example = "https://example.org/checklist.pdf"
    )]
    pub url: String,
    #[schema(max_length = 500)]
    pub note: Option<String>,
}

crate::http::extract::opaque_body!(AddResource);

/// Shares a link with the circle (members only).
#[utoipa::path(
    post, path = "/api/v1/circles/{id}/resources", tag = "circles",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The circle id")),
    request_body = AddResource,
    responses(
        (status = 201, description = "The link", body = ResourceView),
        CreatePostFailures,
    )
)]
pub async fn add_resource(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
    Valid(body): Valid<AddResource>,
) -> Result<HttpResponse, Fails<CreatePostFailures>> {
    let new = NewResource {
        title: body.title,
        url: body.url,
        note: body.note,
    };
    let resource = posts::add_resource(&state, &user.0, path.into_inner(), new).await?;
    Ok(HttpResponse::Created().json(resource))
}

/// The circle's meetings that have not ended, soonest first (members only).
#[utoipa::path(
    get, path = "/api/v1/circles/{id}/meetings", tag = "circles",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The circle id")),
    responses(
        (status = 200, description = "The meetings", body = Vec<MeetingView>),
        ListPostsFailures,
    )
)]
pub async fn list_meetings(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, Fails<ListPostsFailures>> {
    Ok(HttpResponse::Ok().json(meetings::list(&state, &user.0, path.into_inner()).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct Repeat {
    /// Every 1 to 4 weeks.
    #[schema(minimum = 1, maximum = 4, example = 2)]
    pub every_weeks: u32,
    /// 2 to 12 meetings in all.
    #[schema(minimum = 2, maximum = 12, example = 6)]
    pub count: u32,
}

#[derive(Deserialize, ToSchema)]
pub struct ScheduleMeeting {
    #[schema(min_length = 1, max_length = 140, example = "Case discussion")]
    pub title: String,
    /// The (first) start in `timezone`'s local time, `YYYY-MM-DDTHH:MM`, within the coming
    /// year.
    #[schema(value_type = String, example = "2027-01-14T18:00", pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}$")]
    pub starts_at: String,
    /// An IANA time zone; the caller's own when absent.
    #[schema(example = "Australia/Sydney")]
    pub timezone: Option<String>,
    #[schema(minimum = 15, maximum = 240, example = 60)]
    pub duration_minutes: i32,
    /// Where, or the video link (free text, up to 300 characters).
    #[schema(max_length = 300, example = "https://meet.example.org/circle")]
    pub location: Option<String>,
    /// A weekly series instead of one meeting.
    pub repeat: Option<Repeat>,
}

crate::http::extract::opaque_body!(ScheduleMeeting);

/// Schedules a meeting or a weekly series (members only). Each member is emailed a
/// calendar invitation (`invite.ics`, METHOD:REQUEST, in the organiser's time zone) and a
/// reminder the day before.
#[utoipa::path(
    post, path = "/api/v1/circles/{id}/meetings", tag = "circles",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The circle id")),
    request_body = ScheduleMeeting,
    responses(
        (status = 201, description = "The meeting, or each meeting of the series", body = Vec<MeetingView>),
        CreatePostFailures,
    )
)]
pub async fn schedule_meeting(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<Uuid>,
    Valid(body): Valid<ScheduleMeeting>,
) -> Result<HttpResponse, Fails<CreatePostFailures>> {
    let starts_local = crate::http::extract::local_time("starts_at", &body.starts_at)?;
    let new = NewMeeting {
        title: body.title,
        starts_local,
        timezone: body.timezone,
        minutes: body.duration_minutes,
        location: body.location,
        repeat: body.repeat.map(|r| crate::email::calendar::Weekly {
            every_weeks: r.every_weeks,
            count: r.count,
        }),
    };
    let created = meetings::schedule(&state, &user.0, path.into_inner(), new).await?;
    Ok(HttpResponse::Created().json(created))
}

#[derive(Deserialize, ToSchema)]
pub struct RsvpRequest {
    /// Whether the caller will come.
    pub attending: bool,
}

crate::http::extract::opaque_body!(RsvpRequest);

failures!(MeetingFailures {
    NotFound: "No such meeting in a circle of the caller's",
});

/// Says whether the caller will come (members only).
#[utoipa::path(
    put, path = "/api/v1/circles/{id}/meetings/{meeting_id}/rsvp", tag = "circles",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The circle id"),
        ("meeting_id" = Uuid, Path, description = "The meeting"),
    ),
    request_body = RsvpRequest,
    responses(
        (status = 200, description = "The meeting", body = MeetingView),
        MeetingFailures,
    )
)]
pub async fn answer_meeting(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
    Valid(body): Valid<RsvpRequest>,
) -> Result<HttpResponse, Fails<MeetingFailures>> {
    let (id, meeting_id) = path.into_inner();
    let view = meetings::answer(&state, &user.0, id, meeting_id, body.attending).await?;
    Ok(HttpResponse::Ok().json(view))
}

failures!(CancelMeetingFailures {
    NotAModerator: "Only the organiser, the facilitator or an administrator",
    NotFound: "No such meeting in a circle of the caller's",
});

/// Cancels a meeting (its organiser, the facilitator or an administrator); members are
/// sent the cancellation (METHOD:CANCEL) for their calendars.
#[utoipa::path(
    delete, path = "/api/v1/circles/{id}/meetings/{meeting_id}", tag = "circles",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The circle id"),
        ("meeting_id" = Uuid, Path, description = "The meeting"),
    ),
    responses(
        (status = 204, description = "Cancelled"),
        CancelMeetingFailures,
    )
)]
pub async fn cancel_meeting(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, Fails<CancelMeetingFailures>> {
    let (id, meeting_id) = path.into_inner();
    meetings::cancel(&state, &user.0, id, meeting_id).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct ChangeMeeting {
    #[schema(min_length = 1, max_length = 140)]
    pub title: Option<String>,
    /// The new start in the meeting's own time zone, `YYYY-MM-DDTHH:MM` (not for a meeting
    /// of a series).
    #[schema(value_type = Option<String>, example = "2027-01-21T18:00", pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}$")]
    pub starts_at: Option<String>,
    #[schema(minimum = 15, maximum = 240)]
    pub duration_minutes: Option<i32>,
    /// Where, or the video link; empty to clear it.
    #[schema(max_length = 300)]
    pub location: Option<String>,
}

crate::http::extract::opaque_body!(ChangeMeeting);

failures!(ChangeMeetingFailures {
    NotAModerator: "Only the organiser, the facilitator or an administrator",
    NotFound: "No such meeting in a circle of the caller's",
    CircleClosed: "The circle is closed",
});

/// Changes a meeting (its organiser or the facilitator); members are sent the updated
/// invitation (the same `UID`, the next `SEQUENCE`) and a reminder the day before the new time.
#[utoipa::path(
    patch, path = "/api/v1/circles/{id}/meetings/{meeting_id}", tag = "circles",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The circle id"),
        ("meeting_id" = Uuid, Path, description = "The meeting"),
    ),
    request_body = ChangeMeeting,
    responses(
        (status = 200, description = "The meeting", body = MeetingView),
        ChangeMeetingFailures,
    )
)]
pub async fn change_meeting(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
    Valid(body): Valid<ChangeMeeting>,
) -> Result<HttpResponse, Fails<ChangeMeetingFailures>> {
    let (id, meeting_id) = path.into_inner();
    let starts_local = body
        .starts_at
        .as_deref()
        .map(|raw| crate::http::extract::local_time("starts_at", raw))
        .transpose()?;
    let change = MeetingChange {
        title: body.title,
        starts_local,
        minutes: body.duration_minutes,
        location: body.location,
    };
    let view = meetings::change(&state, &user.0, id, meeting_id, change).await?;
    Ok(HttpResponse::Ok().json(view))
}
