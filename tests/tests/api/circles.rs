use api::service::{
    circle_posts::{PostView, ResourceView, ThreadView},
    circle_rounds::CircleRoundResult,
    circles::{CircleSummary, CircleView, MyPlace},
};
use reqwest::Method;
use serde_json::{json, Value};
use tests::{
    body_of, expect_problem, on_both_engines, wire::Page, Practitioner, Statuses, TestApp,
};

/// An experienced OT in Orange who may facilitate.
async fn facilitator(app: &TestApp, name: &str) -> Practitioner {
    app.practitioner(name).mentoring(1).at("Orange").await
}

async fn start(app: &TestApp, who: &Practitioner, body: Value) -> CircleView {
    let response = app.post_as(who, "/api/v1/circles", body).await;
    assert_eq!(response.status(), 201);
    body_of(response).await
}

/// A circle `who` facilitates, admitting by approval.
async fn facilitated(app: &TestApp, who: &Practitioner) -> CircleView {
    start(
        app,
        who,
        json!({"domain": "Home modifications for older adults, rural", "cap": 6, "facilitate": true}),
    )
    .await
}

/// A circle anyone may join while a seat is free.
async fn open_circle(app: &TestApp, who: &Practitioner, cap: u32) -> CircleView {
    start(
        app,
        who,
        json!({"domain": "Falls prevention at home", "cap": cap, "admission": "open"}),
    )
    .await
}

fn circle_path(circle: &CircleView, rest: &str) -> String {
    format!("/api/v1/circles/{}{rest}", circle.circle.id)
}

async fn join(app: &TestApp, who: &Practitioner, circle: &CircleView) -> reqwest::Response {
    app.post_as(
        who,
        &circle_path(circle, "/join"),
        json!({"note": "I work alone in Dubbo"}),
    )
    .await
}

async fn joined(app: &TestApp, who: &Practitioner, circle: &CircleView) -> CircleView {
    body_of(join(app, who, circle).await).await
}

async fn view(app: &TestApp, who: &Practitioner, circle: &CircleView) -> CircleView {
    body_of(app.get_as(who, &circle_path(circle, "")).await).await
}

async fn directory(app: &TestApp, who: &Practitioner, query: &str) -> Page<CircleSummary> {
    body_of(app.get_as(who, &format!("/api/v1/circles?{query}")).await).await
}

async fn post(app: &TestApp, who: &Practitioner, circle: &CircleView, body: Value) -> PostView {
    let response = app.post_as(who, &circle_path(circle, "/posts"), body).await;
    assert_eq!(response.status(), 201);
    body_of(response).await
}

async fn say(app: &TestApp, who: &Practitioner, circle: &CircleView, text: &str) -> PostView {
    post(
        app,
        who,
        circle,
        json!({"kind": "discussion", "body": text}),
    )
    .await
}

async fn reply(
    app: &TestApp,
    who: &Practitioner,
    circle: &CircleView,
    to: &PostView,
    text: &str,
) -> PostView {
    let path = circle_path(circle, &format!("/posts/{}/replies", to.id));
    body_of(app.post_as(who, &path, json!({"body": text})).await).await
}

async fn threads(app: &TestApp, who: &Practitioner, circle: &CircleView) -> Vec<PostView> {
    let page: Page<PostView> = body_of(app.get_as(who, &circle_path(circle, "/posts")).await).await;
    page.items
}

async fn thread(
    app: &TestApp,
    who: &Practitioner,
    circle: &CircleView,
    of: &PostView,
) -> ThreadView {
    body_of(
        app.get_as(who, &circle_path(circle, &format!("/posts/{}", of.id)))
            .await,
    )
    .await
}

fn ids(members: &[api::service::circles::CircleMember]) -> Vec<String> {
    members
        .iter()
        .map(|m| m.profile.user_id.to_string())
        .collect()
}

#[on_both_engines]
async fn a_practitioner_starts_a_circle_and_others_find_it_without_names(app: &TestApp) {
    let fay = facilitator(app, "Facilitator Fay").await;
    let started = facilitated(app, &fay).await;
    assert_eq!(started.circle.my_place, Some(MyPlace::Facilitator));
    assert_eq!(started.circle.members, 1);
    assert_eq!(started.circle.open_seats, 5);
    assert_eq!(started.circle.state.as_str(), "forming");
    assert_eq!(ids(&started.members), vec![fay.user_id.clone()]);

    let sam = app.practitioner("Sam").await;
    let found = directory(app, &sam, "q=older+rural").await;
    assert_eq!(found.items.len(), 1);
    assert_eq!(found.items[0].id, started.circle.id);
    assert_eq!(found.items[0].distance_km.map(|d| d % 10), Some(0));

    let raw: Value = body_of(app.get_as(&sam, &circle_path(&started, "")).await).await;
    assert_eq!(raw["members"], json!([]), "outsiders see no one");
    assert!(!raw.to_string().contains("Facilitator Fay"));
    assert!(directory(app, &sam, "q=paediatrics").await.items.is_empty());
}

#[on_both_engines]
async fn two_starters_in_one_grid_cell_are_indistinguishable(app: &TestApp) {
    let a = app
        .practitioner("Near A")
        .mentoring(1)
        .located((-33.2839, 149.1007))
        .await;
    let b = app
        .practitioner("Near B")
        .mentoring(1)
        .located((-33.2849, 149.1017))
        .await;
    let first = facilitated(app, &a).await;
    let second = facilitated(app, &b).await;
    for at in ["Dubbo", "Sydney", "Brisbane"] {
        let seeker = app.practitioner(&format!("Seeker in {at}")).at(at).await;
        let found = directory(app, &seeker, "").await.items;
        let distance = |id| {
            found
                .iter()
                .find(|c| c.id == id)
                .and_then(|c| c.distance_km)
        };
        assert_eq!(
            distance(first.circle.id),
            distance(second.circle.id),
            "from {at}"
        );
    }
}

#[on_both_engines]
async fn a_request_to_join_waits_for_the_facilitator_who_is_emailed(app: &TestApp) {
    let fay = facilitator(app, "Facilitator Fay").await;
    let circle = facilitated(app, &fay).await;
    let sam = app.practitioner("Sam").await;
    let asked = joined(app, &sam, &circle).await;
    assert_eq!(asked.circle.my_place, Some(MyPlace::Pending));
    assert!(asked.members.is_empty(), "a pending member sees no one yet");
    app.smtp
        .wait_for_subject(&fay.email, "would like to join")
        .await;

    let fay_sees = view(app, &fay, &circle).await;
    assert_eq!(ids(&fay_sees.pending), vec![sam.user_id.clone()]);
    assert_eq!(
        fay_sees.pending[0].note.as_deref(),
        Some("I work alone in Dubbo")
    );

    let accept = circle_path(&circle, &format!("/members/{}/accept", sam.user_id));
    let ana = app.practitioner("Ana").await;
    joined(app, &ana, &circle).await;
    let ana_accepts = app
        .post_as(
            &ana,
            &format!(
                "/api/v1/circles/{}/members/{}/accept",
                circle.circle.id, ana.user_id
            ),
            json!({}),
        )
        .await;
    expect_problem(ana_accepts, 403).await;
    let admitted: CircleView = body_of(app.post_as(&fay, &accept, json!({})).await).await;
    assert_eq!(admitted.circle.members, 2);
    assert_eq!(
        view(app, &sam, &circle).await.circle.my_place,
        Some(MyPlace::Member)
    );
}

#[on_both_engines]
async fn without_a_facilitator_any_member_answers_a_request(app: &TestApp) {
    let mia = app.practitioner("Mia").await;
    let circle = start(
        app,
        &mia,
        json!({"domain": "New graduates in solo practice", "cap": 4}),
    )
    .await;
    assert!(!circle.circle.has_facilitator);
    let sam = app.practitioner("Sam").await;
    joined(app, &sam, &circle).await;
    let accept = circle_path(&circle, &format!("/members/{}/accept", sam.user_id));
    let admitted: CircleView = body_of(app.post_as(&mia, &accept, json!({})).await).await;
    assert_eq!(
        ids(&admitted.members),
        vec![mia.user_id.clone(), sam.user_id.clone()]
    );
}

#[on_both_engines]
async fn an_open_circle_fills_to_its_cap_and_becomes_active_at_four(app: &TestApp) {
    let mia = app.practitioner("Mia").await;
    let circle = open_circle(app, &mia, 4).await;
    for n in 0..3 {
        let who = app.practitioner(&format!("Joiner {n}")).await;
        let now = joined(app, &who, &circle).await;
        assert_eq!(now.circle.my_place, Some(MyPlace::Member));
    }
    let full = view(app, &mia, &circle).await;
    assert_eq!(full.circle.state.as_str(), "active");
    assert_eq!(full.circle.open_seats, 0);
    let late = app.practitioner("Late").await;
    let refused = expect_problem(join(app, &late, &circle).await, 409).await;
    assert_eq!(refused["type"], "/problems/circle-full");
    assert!(directory(app, &late, "open_seats=true")
        .await
        .items
        .is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_concurrent_joins_on_two_instances_never_pass_the_cap_on_sqlite() {
    let a = TestApp::spawn(tests::Backend::Sqlite).await;
    thirty_concurrent_joins_never_pass_the_cap(&a).await;
    a.teardown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_concurrent_joins_on_two_instances_never_pass_the_cap_on_postgres() {
    let Some(a) = TestApp::spawn_postgres_or_skip().await else {
        return;
    };
    thirty_concurrent_joins_never_pass_the_cap(&a).await;
    a.teardown().await;
}

async fn thirty_concurrent_joins_never_pass_the_cap(a: &TestApp) {
    let b = a.another_instance().await;
    let mia = a.practitioner("Mia").await;
    let circle = open_circle(a, &mia, 6).await;
    let mut joiners = Vec::new();
    for n in 0..30 {
        joiners.push(a.practitioner(&format!("Joiner {n}")).await);
    }
    let joins = joiners.iter().enumerate().map(|(n, who)| {
        let app = if n % 2 == 0 { a } else { &b };
        join(app, who, &circle)
    });
    let statuses = Statuses::of(joins).await;
    assert_eq!(statuses.count(200), 5, "{statuses:?}");
    assert_eq!(statuses.count(409), 25, "{statuses:?}");
    let now = view(&b, &mia, &circle).await;
    assert_eq!(now.members.len(), 6);
    assert_eq!(now.circle.members, 6);
    b.teardown().await;
}

#[on_both_engines]
async fn nobody_belongs_to_more_than_three_circles(app: &TestApp) {
    let mia = app.practitioner("Mia").await;
    for n in 0..3 {
        start(
            app,
            &mia,
            json!({"domain": format!("Circle number {n}"), "cap": 4}),
        )
        .await;
    }
    let fourth = app
        .post_as(
            &mia,
            "/api/v1/circles",
            json!({"domain": "One too many", "cap": 4}),
        )
        .await;
    assert_eq!(
        expect_problem(fourth, 409).await["type"],
        "/problems/circle-limit"
    );
    let mine: Vec<CircleSummary> = body_of(app.get_as(&mia, "/api/v1/me/circles").await).await;
    assert_eq!(mine.len(), 3);
}

#[on_both_engines]
async fn working_hours_must_overlap_by_two_hours(app: &TestApp) {
    let mia = app.practitioner("Mia").await;
    let circle = open_circle(app, &mia, 6).await;
    let far = app
        .practitioner("Far Away")
        .with(json!({"timezone": "Europe/London", "location": {"latitude": 51.5, "longitude": -0.12}}))
        .await;
    let refused = expect_problem(join(app, &far, &circle).await, 409).await;
    assert_eq!(refused["type"], "/problems/hours-do-not-overlap");
}

#[on_both_engines]
async fn bad_circles_are_refused_and_change_nothing(app: &TestApp) {
    let mia = app.practitioner("Mia").await;
    for body in [
        json!({"domain": "OK domain", "cap": 9}),
        json!({"domain": "OK domain", "cap": 3}),
        json!({"domain": "x", "cap": 5}),
        json!({"domain": "OK domain", "cap": 5, "facilitate": true}),
        json!({"domain": "OK domain", "cap": 5, "admission": "anyone"}),
    ] {
        let response = app.post_as(&mia, "/api/v1/circles", body.clone()).await;
        assert_eq!(response.status(), 422, "{body}");
    }
    let mine: Vec<CircleSummary> = body_of(app.get_as(&mia, "/api/v1/me/circles").await).await;
    assert!(mine.is_empty());
}

#[on_both_engines]
async fn members_leave_and_the_facilitator_removes(app: &TestApp) {
    let mia = app.practitioner("Mia").await;
    let circle = open_circle(app, &mia, 6).await;
    let sam = app.practitioner("Sam").await;
    let ana = app.practitioner("Ana").await;
    joined(app, &sam, &circle).await;
    joined(app, &ana, &circle).await;

    let remove_ana = circle_path(&circle, &format!("/members/{}", ana.user_id));
    let by_sam = app
        .send(
            Method::DELETE,
            &remove_ana,
            &json!({}),
            Some(&sam.access_token),
        )
        .await;
    assert_eq!(
        expect_problem(by_sam, 403).await["type"],
        "/problems/not-a-moderator"
    );

    let leave = circle_path(&circle, &format!("/members/{}", sam.user_id));
    let left = app
        .send(Method::DELETE, &leave, &json!({}), Some(&sam.access_token))
        .await;
    assert_eq!(left.status(), 204);
    assert_eq!(view(app, &mia, &circle).await.members.len(), 2);
    expect_problem(app.get_as(&sam, &circle_path(&circle, "/posts")).await, 404).await;

    let admin = app.admin().await;
    let removed = app
        .send(
            Method::DELETE,
            &remove_ana,
            &json!({}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(removed.status(), 204);
    assert_eq!(
        ids(&view(app, &mia, &circle).await.members),
        vec![mia.user_id.clone()]
    );
}

#[on_both_engines]
async fn a_closed_circle_keeps_its_reason_and_takes_nothing_new(app: &TestApp) {
    let fay = facilitator(app, "Facilitator Fay").await;
    let circle = facilitated(app, &fay).await;
    let first = say(app, &fay, &circle, "Welcome").await;
    let closed: CircleView = body_of(
        app.post_as(
            &fay,
            &circle_path(&circle, "/close"),
            json!({"reason": "We met our goals"}),
        )
        .await,
    )
    .await;
    assert_eq!(closed.circle.state.as_str(), "closed");
    assert_eq!(
        closed.circle.closed_reason.as_deref(),
        Some("We met our goals")
    );
    let sam = app.practitioner("Sam").await;
    assert_eq!(
        expect_problem(join(app, &sam, &circle).await, 409).await["type"],
        "/problems/circle-closed"
    );
    let late = app
        .post_as(
            &fay,
            &circle_path(&circle, "/posts"),
            json!({"kind": "discussion", "body": "Anyone?"}),
        )
        .await;
    expect_problem(late, 409).await;
    assert_eq!(
        threads(app, &fay, &circle).await[0].id,
        first.id,
        "the discussion stays readable"
    );
    assert!(directory(app, &sam, "").await.items.is_empty());
}

#[on_both_engines]
async fn a_blocked_person_never_finds_or_joins_the_circle(app: &TestApp) {
    let mia = app.practitioner("Mia").await;
    let circle = open_circle(app, &mia, 6).await;
    let sam = app.practitioner("Sam").await;
    app.block(&mia, &sam).await;
    assert!(directory(app, &sam, "").await.items.is_empty());
    expect_problem(app.get_as(&sam, &circle_path(&circle, "")).await, 404).await;
    expect_problem(join(app, &sam, &circle).await, 404).await;
}

#[on_both_engines]
async fn only_members_read_the_discussion(app: &TestApp) {
    let mia = app.practitioner("Mia").await;
    let circle = open_circle(app, &mia, 6).await;
    let first = say(app, &mia, &circle, "Who has tips for bathroom rails?").await;
    let outsider = app.practitioner("Outsider").await;
    expect_problem(
        app.get_as(&outsider, &circle_path(&circle, "/posts")).await,
        404,
    )
    .await;
    let read_one = app
        .get_as(
            &outsider,
            &circle_path(&circle, &format!("/posts/{}", first.id)),
        )
        .await;
    expect_problem(read_one, 404).await;
    let reply_out = app
        .post_as(
            &outsider,
            &circle_path(&circle, &format!("/posts/{}/replies", first.id)),
            json!({"body": "hi"}),
        )
        .await;
    expect_problem(reply_out, 404).await;
    expect_problem(
        app.get_as(&outsider, &circle_path(&circle, "/resources"))
            .await,
        404,
    )
    .await;
}

#[on_both_engines]
async fn threads_come_pinned_first_then_by_latest_activity(app: &TestApp) {
    let fay = facilitator(app, "Facilitator Fay").await;
    let circle = facilitated(app, &fay).await;
    let older = say(app, &fay, &circle, "Older thread").await;
    let newer = say(app, &fay, &circle, "Newer thread").await;
    let rules = say(app, &fay, &circle, "Circle agreements").await;
    let order = |posts: Vec<PostView>| posts.iter().map(|p| p.id).collect::<Vec<_>>();
    assert_eq!(
        order(threads(app, &fay, &circle).await),
        vec![rules.id, newer.id, older.id]
    );

    reply(app, &fay, &circle, &older, "Bumping this one").await;
    assert_eq!(
        order(threads(app, &fay, &circle).await),
        vec![older.id, rules.id, newer.id]
    );

    let pin = circle_path(&circle, &format!("/posts/{}/pin", newer.id));
    let pinned: PostView = body_of(app.post_as(&fay, &pin, json!({"pinned": true})).await).await;
    assert!(pinned.pinned);
    assert_eq!(
        order(threads(app, &fay, &circle).await),
        vec![newer.id, older.id, rules.id]
    );

    let page: Page<PostView> = body_of(
        app.get_as(&fay, &circle_path(&circle, "/posts?limit=1"))
            .await,
    )
    .await;
    assert_eq!(page.items[0].id, newer.id);
    let cursor = page.next_cursor.expect("more");
    let rest: Page<PostView> = body_of(
        app.get_as(
            &fay,
            &circle_path(&circle, &format!("/posts?limit=5&cursor={cursor}")),
        )
        .await,
    )
    .await;
    assert_eq!(order(rest.items), vec![older.id, rules.id]);
}

#[on_both_engines]
async fn a_case_study_has_a_title_and_guiding_questions_answered_in_replies(app: &TestApp) {
    let mia = app.practitioner("Mia").await;
    let circle = open_circle(app, &mia, 6).await;
    let untitled = app
        .post_as(
            &mia,
            &circle_path(&circle, "/posts"),
            json!({"kind": "case", "body": "A case", "questions": ["What next?"]}),
        )
        .await;
    assert_eq!(untitled.status(), 422);
    let case = post(
        app,
        &mia,
        &circle,
        json!({
            "kind": "case",
            "title": "Bathroom access after a hip replacement",
            "body": "An older adult living alone, two steps at the entrance.",
            "questions": ["What would you assess first?", "Which funding applies?"]
        }),
    )
    .await;
    assert_eq!(case.questions.len(), 2);
    let sam = app.practitioner("Sam").await;
    joined(app, &sam, &circle).await;
    reply(
        app,
        &sam,
        &circle,
        &case,
        "Transfers first, then the entrance.",
    )
    .await;
    let read = thread(app, &mia, &circle, &case).await;
    assert_eq!(read.post.replies, 1);
    assert_eq!(
        read.replies[0]
            .author
            .as_ref()
            .map(|a| a.display_name.as_str()),
        Some("Sam")
    );
}

#[on_both_engines]
async fn authors_edit_and_delete_their_own_posts_only(app: &TestApp) {
    let mia = app.practitioner("Mia").await;
    let circle = open_circle(app, &mia, 6).await;
    let sam = app.practitioner("Sam").await;
    joined(app, &sam, &circle).await;
    let question = say(app, &mia, &circle, "Typo in this").await;
    let answer = reply(app, &sam, &circle, &question, "An answer").await;
    let path = circle_path(&circle, &format!("/posts/{}", question.id));

    let by_sam = app
        .send(
            Method::PATCH,
            &path,
            &json!({"body": "Hijacked"}),
            Some(&sam.access_token),
        )
        .await;
    expect_problem(by_sam, 404).await;
    let edited: PostView = body_of(
        app.send(
            Method::PATCH,
            &path,
            &json!({"body": "Fixed"}),
            Some(&mia.access_token),
        )
        .await,
    )
    .await;
    assert_eq!(edited.body, "Fixed");
    assert!(edited.edited_at.is_some());
    let too_long = "x".repeat(5001);
    let refused = app
        .send(
            Method::PATCH,
            &path,
            &json!({"body": too_long}),
            Some(&mia.access_token),
        )
        .await;
    assert_eq!(refused.status(), 422);

    let deleted = app
        .send(Method::DELETE, &path, &json!({}), Some(&mia.access_token))
        .await;
    assert_eq!(deleted.status(), 204);
    let read = thread(app, &sam, &circle, &question).await;
    assert!(read.post.removed && read.post.body.is_empty());
    assert_eq!(read.replies[0].id, answer.id, "replies stay");
}

#[on_both_engines]
async fn a_hidden_post_is_seen_only_by_the_facilitator_and_its_author(app: &TestApp) {
    let fay = facilitator(app, "Facilitator Fay").await;
    let circle = facilitated(app, &fay).await;
    let sam = app.practitioner("Sam").await;
    let ana = app.practitioner("Ana").await;
    for who in [&sam, &ana] {
        joined(app, who, &circle).await;
        let accept = circle_path(&circle, &format!("/members/{}/accept", who.user_id));
        assert_eq!(app.post_as(&fay, &accept, json!({})).await.status(), 200);
    }
    let bad = say(app, &sam, &circle, "Mrs Smith at 12 High St fell again").await;
    let report = circle_path(&circle, &format!("/posts/{}/report", bad.id));
    let reported = app
        .post_as(&ana, &report, json!({"reason": "It names a client"}))
        .await;
    assert_eq!(reported.status(), 204);
    let admin = app.admin().await;
    assert_eq!(app.stats(&admin).await["circles"]["open_reports"], 1);
    assert_eq!(threads(app, &fay, &circle).await[0].reports, Some(1));
    assert_eq!(threads(app, &ana, &circle).await[0].reports, None);

    let hide = circle_path(&circle, &format!("/posts/{}/hide", bad.id));
    let by_ana = app.post_as(&ana, &hide, json!({"hidden": true})).await;
    expect_problem(by_ana, 403).await;
    assert_eq!(
        app.post_as(&fay, &hide, json!({"hidden": true}))
            .await
            .status(),
        200
    );
    assert!(threads(app, &ana, &circle).await.is_empty());
    assert_eq!(threads(app, &sam, &circle).await.len(), 1);
    assert!(threads(app, &fay, &circle).await[0].hidden);
    assert_eq!(app.stats(&admin).await["circles"]["open_reports"], 0);
}

#[on_both_engines]
async fn a_suspended_or_blocked_authors_posts_disappear(app: &TestApp) {
    let mia = app.practitioner("Mia").await;
    let circle = open_circle(app, &mia, 6).await;
    let sam = app.practitioner("Sam").await;
    let ana = app.practitioner("Ana").await;
    joined(app, &sam, &circle).await;
    joined(app, &ana, &circle).await;
    say(app, &sam, &circle, "From Sam").await;
    say(app, &ana, &circle, "From Ana").await;
    app.block(&mia, &ana).await;
    let seen: Vec<String> = threads(app, &mia, &circle)
        .await
        .into_iter()
        .map(|p| p.body)
        .collect();
    assert_eq!(seen, vec!["From Sam".to_owned()]);
    assert!(!ids(&view(app, &mia, &circle).await.members).contains(&ana.user_id));

    let admin = app.admin().await;
    app.suspend(&admin, &sam).await;
    assert!(threads(app, &mia, &circle).await.is_empty());
}

#[on_both_engines]
async fn members_share_links(app: &TestApp) {
    let mia = app.practitioner("Mia").await;
    let circle = open_circle(app, &mia, 6).await;
    let path = circle_path(&circle, "/resources");
    let bad = app
        .post_as(
            &mia,
            &path,
            json!({"title": "Script", "url": "javascript:alert(1)"}),
        )
        .await;
    assert_eq!(bad.status(), 422);
    let added = app
        .post_as(
            &mia,
            &path,
            json!({"title": "Rail checklist", "url": "https://example.org/rails", "note": "Handy"}),
        )
        .await;
    assert_eq!(added.status(), 201);
    let listed: Vec<ResourceView> = body_of(app.get_as(&mia, &path).await).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].url, "https://example.org/rails");
}

#[on_both_engines]
async fn erasure_keeps_others_replies_but_not_the_erased_persons_words_or_name(app: &TestApp) {
    let mia = app.practitioner("Mia").await;
    let circle = open_circle(app, &mia, 6).await;
    let sam = app.practitioner("Sam Leaving").await;
    joined(app, &sam, &circle).await;
    let question = say(app, &sam, &circle, "My private question").await;
    reply(app, &mia, &circle, &question, "Mia's answer").await;
    let export: Value = body_of(app.get_as(&sam, "/api/v1/me/export").await).await;
    assert_eq!(export["circles"][0]["id"], json!(circle.circle.id));
    assert_eq!(export["circle_posts"][0]["body"], "My private question");

    assert_eq!(app.erase(&sam, &sam.password).await.status(), 204);
    let read = thread(app, &mia, &circle, &question).await;
    assert!(read.post.removed && read.post.body.is_empty() && read.post.author.is_none());
    assert_eq!(read.replies[0].body, "Mia's answer");
    let raw = app
        .get_as(
            &mia,
            &circle_path(&circle, &format!("/posts/{}", question.id)),
        )
        .await;
    let text = raw.text().await.unwrap_or_default();
    assert!(!text.contains("Sam Leaving") && !text.contains("My private question"));
    assert_eq!(view(app, &mia, &circle).await.members.len(), 1);
}

/// Four OTs near Dubbo and Orange who asked for a circle.
async fn seekers(app: &TestApp, names: &[&str]) -> Vec<Practitioner> {
    let mut all = Vec::new();
    for (n, name) in names.iter().enumerate() {
        let at = if n % 2 == 0 { "Dubbo" } else { "Orange" };
        let who = app.practitioner(name).at(at).await;
        let asked = app
            .send(
                Method::PUT,
                "/api/v1/me/circle-interest",
                &json!({"seeking": true}),
                Some(&who.access_token),
            )
            .await;
        assert_eq!(asked.status(), 200);
        all.push(who);
    }
    all
}

async fn circle_round(app: &TestApp, admin: &Practitioner, body: Value) -> CircleRoundResult {
    body_of(
        app.post_as(admin, "/api/v1/admin/circle-rounds", body)
            .await,
    )
    .await
}

#[on_both_engines]
async fn a_formation_round_dry_runs_then_forms_and_introduces(app: &TestApp) {
    let people = seekers(app, &["Ola", "Ben", "Cy", "Di", "Ed"]).await;
    let admin = app.admin().await;
    let refused = app
        .post_as(
            &people[0],
            "/api/v1/admin/circle-rounds",
            json!({"dry_run": true}),
        )
        .await;
    expect_problem(refused, 403).await;

    let dry = circle_round(
        app,
        &admin,
        json!({"dry_run": true, "cap": 6, "with_bound": true}),
    )
    .await;
    assert_eq!(dry.circles.len(), 1);
    assert_eq!(dry.circles[0].member_ids.len(), 5);
    assert!(dry.circles[0].circle_id.is_none());
    assert!(dry.objective >= dry.greedy_objective);
    assert!(dry.upper_bound.is_some_and(|b| b + 1e-6 >= dry.objective));
    let mine: Vec<CircleSummary> =
        body_of(app.get_as(&people[0], "/api/v1/me/circles").await).await;
    assert!(mine.is_empty(), "a dry run creates nothing");
    assert_eq!(
        app.smtp.count_subject(&people[0].email, "Your new circle"),
        0
    );

    let real = circle_round(app, &admin, json!({"dry_run": false})).await;
    assert_eq!(real.circles.len(), 1);
    let id = real.circles[0].circle_id.expect("created");
    let intro = app
        .smtp
        .wait_for_subject(&people[0].email, "Your new circle")
        .await;
    assert!(intro.data.contains("Ben") && intro.data.contains(&id.to_string()));
    assert!(intro.header("list-unsubscribe").is_some());
    let mine: Vec<CircleSummary> =
        body_of(app.get_as(&people[0], "/api/v1/me/circles").await).await;
    assert_eq!(mine[0].id, id);
    assert_eq!(mine[0].state.as_str(), "active");
    assert!(
        mine[0].domain.starts_with("Occupational therapy"),
        "{}",
        mine[0].domain
    );
    let interest: Value = body_of(app.get_as(&people[0], "/api/v1/me/circle-interest").await).await;
    assert_eq!(interest["seeking"], false);

    let again = circle_round(app, &admin, json!({"dry_run": false})).await;
    assert!(again.circles.is_empty(), "nobody is placed twice");
}

#[on_both_engines]
async fn a_round_never_places_a_blocked_pair_together_and_says_why(app: &TestApp) {
    let people = seekers(app, &["Ola", "Ben", "Cy", "Di"]).await;
    app.block(&people[0], &people[1]).await;
    let admin = app.admin().await;
    let dry = circle_round(app, &admin, json!({"dry_run": true, "min_size": 3})).await;
    for circle in &dry.circles {
        let has = |p: &Practitioner| circle.member_ids.iter().any(|m| m.to_string() == p.user_id);
        assert!(!(has(&people[0]) && has(&people[1])));
    }
    assert_eq!(dry.circles.len(), 1);
    assert_eq!(dry.unplaced.len(), 1);
    assert_eq!(dry.unplaced[0].reason, "too_few_similar");
    let bad = app
        .post_as(
            &admin,
            "/api/v1/admin/circle-rounds",
            json!({"dry_run": true, "cap": 9}),
        )
        .await;
    assert_eq!(bad.status(), 422);
}

#[on_both_engines]
async fn circle_emails_follow_the_preference_and_a_put_without_it_keeps_it(app: &TestApp) {
    let people = seekers(app, &["Ola", "Ben", "Cy", "Di"]).await;
    let quiet = &people[0];
    let off = app
        .send(
            Method::PUT,
            "/api/v1/me/notifications",
            &json!({"connection_requests": true, "match_digest": true, "circle_updates": false}),
            Some(&quiet.access_token),
        )
        .await;
    assert_eq!(off.status(), 200);
    let kept = app
        .send(
            Method::PUT,
            "/api/v1/me/notifications",
            &json!({"connection_requests": true, "match_digest": false}),
            Some(&quiet.access_token),
        )
        .await;
    let kept: Value = body_of(kept).await;
    assert_eq!(kept["circle_updates"], false);
    assert_eq!(kept["circle_digest"], true);
    let admin = app.admin().await;
    circle_round(app, &admin, json!({"dry_run": false})).await;
    app.smtp
        .wait_for_subject(&people[1].email, "Your new circle")
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(app.smtp.count_subject(&quiet.email, "Your new circle"), 0);
}

mod meetings {
    use super::*;
    use api::service::circle_meetings::MeetingView;
    use chrono::{Datelike, NaiveDate, Utc};

    /// The next `month`/`day` after today (always within a year).
    fn next(month: u32, day: u32) -> NaiveDate {
        let today = Utc::now().date_naive();
        let this_year = NaiveDate::from_ymd_opt(today.year(), month, day).expect("a date");
        if this_year > today + chrono::Duration::days(2) {
            this_year
        } else {
            NaiveDate::from_ymd_opt(today.year() + 1, month, day).expect("a date")
        }
    }

    async fn schedule(
        app: &TestApp,
        who: &Practitioner,
        circle: &CircleView,
        body: Value,
    ) -> Vec<MeetingView> {
        let response = app
            .post_as(who, &circle_path(circle, "/meetings"), body)
            .await;
        assert_eq!(response.status(), 201);
        body_of(response).await
    }

    /// A circle of Mia (Sydney time) and Sam (Brisbane time, no daylight saving).
    async fn two_members(app: &TestApp) -> (Practitioner, Practitioner, CircleView) {
        let mia = app.practitioner("Mia").await;
        let circle = open_circle(app, &mia, 6).await;
        let sam = app
            .practitioner("Sam")
            .with(json!({"timezone": "Australia/Brisbane"}))
            .at("Brisbane")
            .await;
        joined(app, &sam, &circle).await;
        (mia, sam, circle)
    }

    #[on_both_engines]
    async fn each_member_gets_an_invitation_in_the_organisers_zone_with_the_right_utc(
        app: &TestApp,
    ) {
        let (mia, sam, circle) = two_members(app).await;
        let day = next(1, 14);
        let made = schedule(
            app,
            &mia,
            &circle,
            json!({"title": "Case discussion", "starts_at": format!("{day}T18:00"), "duration_minutes": 60, "location": "https://meet.example.org/c"}),
        )
        .await;
        assert_eq!(made.len(), 1);
        // Sydney is on daylight time (UTC+11) in January.
        assert_eq!(
            made[0].starts_at.to_rfc3339(),
            format!("{day}T07:00:00+00:00")
        );
        assert_eq!(made[0].timezone, "Australia/Sydney");

        let sams: Vec<MeetingView> =
            body_of(app.get_as(&sam, &circle_path(&circle, "/meetings")).await).await;
        assert_eq!(
            sams[0].local_start,
            format!("{day}T17:00"),
            "Brisbane is UTC+10"
        );

        let email = app
            .smtp
            .wait_for_subject(&sam.email, "Circle meeting")
            .await;
        assert!(
            email.text().contains("17:00 (Australia/Brisbane)"),
            "{}",
            email.text()
        );
        let ics = email.calendar().expect("an invitation");
        let compact = day.format("%Y%m%d");
        assert!(ics.contains("METHOD:REQUEST"), "{ics}");
        assert!(
            ics.contains(&format!("DTSTART;TZID=Australia/Sydney:{compact}T180000")),
            "{ics}"
        );
        assert!(ics.contains("TZID:Australia/Sydney") && ics.contains("TZOFFSETTO:+1100"));
        let attendee = format!("RSVP=FALSE:mailto:{}", sam.email);
        assert!(
            ics.lines()
                .any(|l| l.starts_with("ATTENDEE;") && l.ends_with(&attendee)),
            "{ics}"
        );
        assert!(
            ics.contains("ORGANIZER;CN=Alongside:mailto:no-reply@alongside.test"),
            "{ics}"
        );
        assert!(!ics.contains(&mia.email), "no member's address is shared");
        app.smtp
            .wait_for_subject(&mia.email, "Circle meeting")
            .await;
    }

    #[on_both_engines]
    async fn a_weekly_series_keeps_its_local_time_across_the_change_of_clocks(app: &TestApp) {
        let (mia, _sam, circle) = two_members(app).await;
        let day = next(3, 18);
        let series = schedule(
            app,
            &mia,
            &circle,
            json!({"title": "Weekly check-in", "starts_at": format!("{day}T18:00"), "duration_minutes": 45, "repeat": {"every_weeks": 1, "count": 6}}),
        )
        .await;
        assert_eq!(series.len(), 6);
        assert!(series
            .iter()
            .all(|m| m.series_id == series[0].series_id && m.series_id.is_some()));
        // Daylight time ends in Sydney on the first Sunday of April.
        assert_eq!(series[0].starts_at.format("%H:%M").to_string(), "07:00");
        assert_eq!(series[5].starts_at.format("%H:%M").to_string(), "08:00");
        let email = app
            .smtp
            .wait_for_subject(&mia.email, "Circle meeting")
            .await;
        let ics = email.calendar().expect("an invitation");
        assert!(
            ics.contains("RRULE:FREQ=WEEKLY;INTERVAL=1;COUNT=6"),
            "{ics}"
        );
        assert!(
            ics.contains("TZOFFSETFROM:+1100") && ics.contains("TZOFFSETTO:+1000"),
            "{ics}"
        );
    }

    #[on_both_engines]
    async fn members_say_whether_they_will_come_and_a_cancellation_reaches_calendars(
        app: &TestApp,
    ) {
        let (mia, sam, circle) = two_members(app).await;
        let day = next(1, 14);
        let made = schedule(app, &mia, &circle, json!({"title": "Case discussion", "starts_at": format!("{day}T18:00"), "duration_minutes": 60})).await;
        let rsvp = circle_path(&circle, &format!("/meetings/{}/rsvp", made[0].id));
        let answered: MeetingView = body_of(
            app.send(
                Method::PUT,
                &rsvp,
                &json!({"attending": true}),
                Some(&sam.access_token),
            )
            .await,
        )
        .await;
        assert_eq!(answered.my_answer, Some(true));
        assert_eq!(answered.coming.len(), 1);
        let outsider = app.practitioner("Outsider").await;
        let theirs = app
            .send(
                Method::PUT,
                &rsvp,
                &json!({"attending": true}),
                Some(&outsider.access_token),
            )
            .await;
        expect_problem(theirs, 404).await;

        let path = circle_path(&circle, &format!("/meetings/{}", made[0].id));
        let by_sam = app
            .send(Method::DELETE, &path, &json!({}), Some(&sam.access_token))
            .await;
        expect_problem(by_sam, 403).await;
        let cancelled = app
            .send(Method::DELETE, &path, &json!({}), Some(&mia.access_token))
            .await;
        assert_eq!(cancelled.status(), 204);
        let email = app.smtp.wait_for_subject(&sam.email, "Cancelled").await;
        let ics = email.calendar().expect("a cancellation");
        assert!(
            ics.contains("METHOD:CANCEL")
                && ics.contains("SEQUENCE:1")
                && ics.contains("STATUS:CANCELLED"),
            "{ics}"
        );
        let invite = app
            .smtp
            .wait_for_subject(&sam.email, "Circle meeting")
            .await
            .calendar()
            .expect("ics");
        let uid = |ics: &str| {
            ics.lines()
                .find(|l| l.starts_with("UID:"))
                .map(str::to_owned)
        };
        assert_eq!(uid(&ics), uid(&invite), "the same UID");
    }

    #[on_both_engines]
    async fn a_moved_meeting_sends_the_same_invitation_with_the_next_sequence(app: &TestApp) {
        let (mia, sam, circle) = two_members(app).await;
        let day = next(1, 14);
        let made = schedule(app, &mia, &circle, json!({"title": "Case discussion", "starts_at": format!("{day}T18:00"), "duration_minutes": 60})).await;
        let path = circle_path(&circle, &format!("/meetings/{}", made[0].id));
        let by_sam = app
            .send(
                Method::PATCH,
                &path,
                &json!({"title": "Mine now"}),
                Some(&sam.access_token),
            )
            .await;
        expect_problem(by_sam, 403).await;
        let later = day + chrono::Duration::days(7);
        let moved: MeetingView = body_of(
            app.send(
                Method::PATCH,
                &path,
                &json!({"starts_at": format!("{later}T19:30"), "location": "The library"}),
                Some(&mia.access_token),
            )
            .await,
        )
        .await;
        assert_eq!(
            moved.starts_at.to_rfc3339(),
            format!("{later}T08:30:00+00:00")
        );
        assert_eq!(moved.title, "Case discussion");
        assert_eq!(moved.location.as_deref(), Some("The library"));
        let changed = app
            .smtp
            .wait_for_subject(&sam.email, "Changed: Case discussion")
            .await;
        let ics = changed.calendar().expect("an updated invitation");
        let first = app
            .smtp
            .wait_for_subject(&sam.email, "Circle meeting")
            .await
            .calendar()
            .expect("ics");
        let uid = |ics: &str| {
            ics.lines()
                .find(|l| l.starts_with("UID:"))
                .map(str::to_owned)
        };
        assert_eq!(uid(&ics), uid(&first));
        assert!(
            ics.contains("METHOD:REQUEST") && ics.contains("SEQUENCE:1"),
            "{ics}"
        );
        assert!(
            ics.contains(&format!(
                "DTSTART;TZID=Australia/Sydney:{}T193000",
                later.format("%Y%m%d")
            )),
            "{ics}"
        );
        let past = app
            .send(
                Method::PATCH,
                &path,
                &json!({"starts_at": "2020-01-01T10:00"}),
                Some(&mia.access_token),
            )
            .await;
        assert_eq!(past.status(), 422);
    }

    #[on_both_engines]
    async fn a_reminder_goes_the_day_before_to_those_who_have_not_said_no(app: &TestApp) {
        use api::store::entities::circle_meetings;
        use sea_orm::{ActiveModelTrait, Set};
        let (mia, sam, circle) = two_members(app).await;
        // Planned three days out, so no reminder is due before Sam answers.
        let later =
            (Utc::now() + chrono::Duration::days(3)).with_timezone(&chrono_tz::Australia::Sydney);
        let made = schedule(
            app,
            &mia,
            &circle,
            json!({"title": "Soon", "starts_at": later.format("%Y-%m-%dT%H:%M").to_string(), "duration_minutes": 30}),
        )
        .await;
        let rsvp = circle_path(&circle, &format!("/meetings/{}/rsvp", made[0].id));
        app.send(
            Method::PUT,
            &rsvp,
            &json!({"attending": false}),
            Some(&sam.access_token),
        )
        .await;
        // Then the day comes: it starts in three hours.
        circle_meetings::ActiveModel {
            id: Set(made[0].id),
            starts_at: Set(Utc::now() + chrono::Duration::hours(3)),
            ..Default::default()
        }
        .update(&app.db)
        .await
        .expect("the meeting is soon");
        app.smtp
            .wait_for_subject(&mia.email, "Tomorrow: Soon")
            .await;
        tokio::time::sleep(std::time::Duration::from_millis(800)).await;
        assert_eq!(
            app.smtp.count_subject(&mia.email, "Tomorrow: Soon"),
            1,
            "once"
        );
        assert_eq!(app.smtp.count_subject(&sam.email, "Tomorrow: Soon"), 0);
    }

    #[on_both_engines]
    async fn meetings_in_the_past_or_of_bad_length_are_refused(app: &TestApp) {
        let (mia, _sam, circle) = two_members(app).await;
        let path = circle_path(&circle, "/meetings");
        for body in [
            json!({"title": "Past", "starts_at": "2020-01-01T10:00", "duration_minutes": 60}),
            json!({"title": "Long", "starts_at": format!("{}T10:00", next(1, 14)), "duration_minutes": 600}),
            json!({"title": "Zone", "starts_at": format!("{}T10:00", next(1, 14)), "duration_minutes": 60, "timezone": "Mars/Olympus"}),
            json!({"title": "Garbled", "starts_at": "next tuesday", "duration_minutes": 60}),
        ] {
            assert_eq!(
                app.post_as(&mia, &path, body.clone()).await.status(),
                422,
                "{body}"
            );
        }
        let listed: Vec<MeetingView> = body_of(app.get_as(&mia, &path).await).await;
        assert!(listed.is_empty());
    }
}

#[on_both_engines]
async fn a_freed_seat_is_offered_to_the_best_fitting_waiting_practitioners(app: &TestApp) {
    let mia = app.practitioner("Mia").await;
    let circle = start(
        app,
        &mia,
        json!({"domain": "Older adults at home", "cap": 4}),
    )
    .await;
    let sam = app.practitioner("Sam").await;
    joined(app, &sam, &circle).await;
    let accept = circle_path(&circle, &format!("/members/{}/accept", sam.user_id));
    assert_eq!(app.post_as(&mia, &accept, json!({})).await.status(), 200);
    let waiting = seekers(app, &["Wendy Waiting"]).await;
    let blocked = seekers(app, &["Blocked Bo"]).await;
    app.block(&mia, &blocked[0]).await;

    let leave = circle_path(&circle, &format!("/members/{}", sam.user_id));
    let left = app
        .send(Method::DELETE, &leave, &json!({}), Some(&sam.access_token))
        .await;
    assert_eq!(left.status(), 204);
    let offer = app
        .smtp
        .wait_for_subject(&waiting[0].email, "A seat is open")
        .await;
    assert!(offer.text().contains(&circle.circle.id.to_string()));
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(
        app.smtp.count_subject(&blocked[0].email, "A seat is open"),
        0
    );

    // The offered seat is taken at once, without waiting for an answer.
    let took = joined(app, &waiting[0], &circle).await;
    assert_eq!(took.circle.my_place, Some(MyPlace::Member));
}

#[on_both_engines(config = |c| c.circle_digest_every = std::time::Duration::from_secs(2))]
async fn new_posts_arrive_in_one_digest_after_a_day_never_ones_own(app: &TestApp) {
    let mia = app.practitioner("Mia").await;
    let circle = open_circle(app, &mia, 6).await;
    let sam = app.practitioner("Sam").await;
    let quiet = app.practitioner("Quiet").await;
    joined(app, &sam, &circle).await;
    joined(app, &quiet, &circle).await;
    let off = json!({"connection_requests": true, "match_digest": true, "circle_digest": false});
    let saved = app
        .send(
            Method::PUT,
            "/api/v1/me/notifications",
            &off,
            Some(&quiet.access_token),
        )
        .await;
    assert_eq!(saved.status(), 200);

    let first = say(app, &mia, &circle, "Who uses the new falls screen?").await;
    reply(app, &mia, &circle, &first, "I tried it last week").await;
    let digest = app
        .smtp
        .wait_for_subject(&sam.email, "New in your circles")
        .await;
    let text = digest.text();
    assert!(
        text.contains("Mia: Who uses the new falls screen?"),
        "{text}"
    );
    assert!(text.contains("Mia replied: I tried it last week"), "{text}");
    assert!(digest.header("list-unsubscribe").is_some());
    assert_eq!(
        app.smtp.count_subject(&sam.email, "New in your circles"),
        1,
        "one digest for both"
    );
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_eq!(
        app.smtp.count_subject(&sam.email, "New in your circles"),
        1,
        "nothing new, nothing sent"
    );
    assert_eq!(
        app.smtp.count_subject(&mia.email, "New in your circles"),
        0,
        "not one's own posts"
    );
    assert_eq!(
        app.smtp.count_subject(&quiet.email, "New in your circles"),
        0
    );
}

#[on_both_engines]
async fn the_demo_has_circles_to_show_and_isolated_practitioners_waiting_for_one(app: &TestApp) {
    use sea_orm::{EntityTrait, PaginatorTrait};
    let seeded = api::seed::seed(&app.db, 1500, 5, 0.6).await.unwrap();
    let (as_made, now, lone) = seeded.isolated;
    assert!(
        as_made * 10 < lone * 6,
        "{as_made} of {lone} were alone before"
    );
    assert!(
        now * 10 >= lone * 6,
        "{now} of {lone} have no peer within 50 km"
    );
    assert!(seeded.circles >= 5, "{} circles", seeded.circles);
    let posts = api::store::entities::circle_posts::Entity::find()
        .count(&app.db)
        .await
        .unwrap();
    let meetings = api::store::entities::circle_meetings::Entity::find()
        .count(&app.db)
        .await
        .unwrap();
    assert!(posts >= 4 * seeded.circles as u64 && meetings == seeded.circles as u64);

    let admin = app.admin().await;
    let stats = app.stats(&admin).await;
    assert_eq!(stats["circles"]["active"], seeded.circles);
    assert_eq!(stats["circles"]["waiting"], seeded.waiting_for_a_circle);
    // Once the index has loaded the seeded people, a round places or explains everyone.
    tests::eventually(
        "the round sees everyone waiting",
        std::time::Duration::from_secs(10),
        || async {
            let dry = circle_round(app, &admin, json!({"dry_run": true})).await;
            let placed: usize = dry.circles.iter().map(|c| c.member_ids.len()).sum();
            placed + dry.unplaced.len() == seeded.waiting_for_a_circle && !dry.circles.is_empty()
        },
    )
    .await;
}

#[on_both_engines]
async fn a_suspended_member_frees_their_seat(app: &TestApp) {
    let mia = app.practitioner("Mia").await;
    let circle = open_circle(app, &mia, 4).await;
    let mut joiners = Vec::new();
    for n in 0..3 {
        let who = app.practitioner(&format!("Joiner {n}")).await;
        joined(app, &who, &circle).await;
        joiners.push(who);
    }
    let late = app.practitioner("Late").await;
    expect_problem(join(app, &late, &circle).await, 409).await;
    let admin = app.admin().await;
    app.suspend(&admin, &joiners[0]).await;
    let now = joined(app, &late, &circle).await;
    assert_eq!(now.circle.members, 4);
    assert!(!ids(&now.members).contains(&joiners[0].user_id));
}
