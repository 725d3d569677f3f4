//! What one person can learn about another, and what every instance hides: no secret in an
//! export, positions only as coarse as the grid, blocks, erasure and suspension on every
//! read path and every instance, and retries that do nothing twice.

use std::{collections::HashSet, time::Duration};

use reqwest::Method;
use serde_json::{json, Value};
use tests::{
    body_of, eventually, expect_problem, on_both_engines, position, wire::Page, Practitioner,
    TestApp,
};

/// Two exact positions, a few kilometres apart, inside one grid cell near Dubbo.
fn one_cell() -> ((f64, f64), (f64, f64)) {
    let centre = api::privacy::snap(-32.2569, 148.6011);
    let a = (centre.lat - 0.015, centre.lon - 0.015);
    let b = (centre.lat + 0.015, centre.lon + 0.015);
    assert_eq!(api::privacy::snap(a.0, a.1), api::privacy::snap(b.0, b.1));
    let apart = matcher::LatLon::new(a.0, a.1).distance_km(matcher::LatLon::new(b.0, b.1));
    assert!(apart > 3.0);
    (a, b)
}

/// Suggestions as they come, to compare what they say about two people.
async fn raw_suggestions(app: &TestApp, who: &Practitioner, kind: &str) -> Page<Value> {
    let path = format!("/api/v1/me/suggestions?kind={kind}&limit=50");
    body_of(app.get_as(who, &path).await).await
}

/// The item about `who` in a page of suggestions or of the directory.
fn item_for<'a>(page: &'a Page<Value>, who: &Practitioner) -> Option<&'a Value> {
    let id = json!(who.user_id);
    page.items
        .iter()
        .find(|i| i["profile"]["user_id"] == id || i["user_id"] == id)
}

/// What a suggestion says about a person, apart from who they are.
fn suggestion_facts(item: &Value) -> Value {
    json!({
        "score": item["score"],
        "reasons": item["reasons"],
        "distance_km": item["profile"]["distance_km"],
        "place": item["profile"]["place"],
    })
}

fn profile_facts(profile: &Value) -> Value {
    json!({"distance_km": profile["distance_km"], "place": profile["place"]})
}

/// What a connection says about its recipient and the pair.
fn connection_facts(view: &Value) -> Value {
    json!({
        "score": view["score"],
        "reasons": view["reasons"],
        "distance_km": view["recipient"]["distance_km"],
        "place": view["recipient"]["place"],
    })
}

async fn public_facts(app: &TestApp, viewer: &Practitioner, whom: &Practitioner) -> Value {
    profile_facts(&body_of(app.public_profile(viewer, whom).await).await)
}

async fn patch_profile(app: &TestApp, who: &Practitioner, patch: Value) {
    let token = Some(who.access_token.as_str());
    let response = app
        .send(Method::PATCH, "/api/v1/me/profile", &patch, token)
        .await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
}

async fn peers_nearby(app: &TestApp, who: &Practitioner) -> u64 {
    let me = app.me(who).await;
    me["isolation"]["peers_within_50km"].as_u64().unwrap()
}

/// An access token alone must not be enough to take an account over: the export lists
/// emails without the links they carry.
#[on_both_engines]
async fn the_export_holds_no_emailed_token(app: &TestApp) {
    let who = app.create_verified_practitioner("Exporting Erin").await;
    let verification = app.token_from_email(&who.email, "/verify-email").await;
    assert_eq!(app.forgot_password(&who.email).await.status(), 202);
    let reset = app.token_from_email(&who.email, "/reset-password").await;

    let export = app.get_as(&who, "/api/v1/me/export").await;
    let export = export.text().await.unwrap();
    assert!(
        !export.contains(&reset),
        "the export carries the live reset token"
    );
    assert!(
        !export.contains(&verification),
        "the export carries the verification token"
    );
    assert!(
        !export.contains("token="),
        "the export carries an emailed link: {export}"
    );
    let export: Value = serde_json::from_str(&export).unwrap();
    let emails = export["emails"].as_array().unwrap();
    let kinds: Vec<&str> = emails.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"verify_email"), "{kinds:?}");
    assert!(kinds.contains(&"password_reset"), "{kinds:?}");
    assert!(emails[0]["subject"].is_string());
}

/// The rule of positions: two people at different exact places in one grid cell look
/// the same to everyone else, in every response.
#[on_both_engines]
async fn two_people_in_one_cell_are_indistinguishable(app: &TestApp) {
    let (a_at, b_at) = one_cell();
    let ana = app.practitioner("Ana").located(a_at).await;
    let bea = app.practitioner("Bea").located(b_at).await;
    // An observer about 30 km away who has set a short travel limit.
    let observer = app
        .practitioner("Olive")
        .located((-32.52, 148.72))
        .with(json!({"max_travel_km": 40, "meeting_modes": ["in_person"]}))
        .await;

    for travel in [10, 20, 30, 40, 50, 60, 100] {
        patch_profile(app, &observer, json!({"max_travel_km": travel})).await;
        let page = raw_suggestions(app, &observer, "peer").await;
        let (a, b) = (item_for(&page, &ana), item_for(&page, &bea));
        assert_eq!(
            a.is_some(),
            b.is_some(),
            "travel limit {travel} tells them apart: {page:?}"
        );
        if let (Some(a), Some(b)) = (a, b) {
            assert_eq!(
                suggestion_facts(a),
                suggestion_facts(b),
                "travel limit {travel}"
            );
        }
    }
    for km in (10..=100).step_by(10) {
        let page = app
            .directory(&observer, &format!("within_km={km}&limit=100"))
            .await;
        let (a, b) = (item_for(&page, &ana), item_for(&page, &bea));
        assert_eq!(
            a.is_some(),
            b.is_some(),
            "within_km={km} tells them apart: {page:?}"
        );
        if let (Some(a), Some(b)) = (a, b) {
            assert_eq!(profile_facts(a), profile_facts(b), "within_km={km}");
        }
    }
    assert_eq!(
        public_facts(app, &observer, &ana).await,
        public_facts(app, &observer, &bea).await,
    );

    // Connections carry the score and reasons of the pair.
    let mut views = Vec::new();
    for whom in [&ana, &bea] {
        let view: Value = body_of(app.ask(&observer, whom, "peer").await).await;
        views.push(connection_facts(&view));
    }
    assert_eq!(views[0], views[1]);
}

/// An observer who moves in 100 m steps sees another person's distance and score
/// change only when the observer's own grid cell changes.
#[on_both_engines(config = |c| c.location_changes_per_hour = 1000)]
async fn small_steps_change_nothing_inside_a_cell(app: &TestApp) {
    let (a_at, _) = one_cell();
    let ana = app.practitioner("Ana").located(a_at).await;
    let start = (-32.40, 148.70);
    let observer = app
        .practitioner("Olive")
        .located(start)
        .with(json!({"max_travel_km": 100}))
        .await;
    let mut seen: Vec<(matcher::LatLon, Value)> = Vec::new();
    for step in 0..40 {
        // 100 m of latitude a step.
        let here = (start.0 - f64::from(step) * 0.0009, start.1);
        patch_profile(app, &observer, json!({"location": position(here)})).await;
        let page = raw_suggestions(app, &observer, "peer").await;
        let suggestion = item_for(&page, &ana).map(suggestion_facts);
        let profile = public_facts(app, &observer, &ana).await;
        seen.push((
            api::privacy::snap(here.0, here.1),
            json!([suggestion, profile]),
        ));
    }
    let cells: HashSet<String> = seen.iter().map(|(c, _)| format!("{c:?}")).collect();
    assert!(cells.len() >= 2, "the walk should cross a cell boundary");
    for pair in seen.windows(2) {
        if pair[0].0 == pair[1].0 {
            let what = "a step inside one cell changed what the observer sees";
            assert_eq!(pair[0].1, pair[1].1, "{what}");
        }
    }
}

/// A block hides two people from each other everywhere: directory, suggestions,
/// profiles and rounds.
#[on_both_engines]
async fn a_block_hides_both_people_from_each_other(app: &TestApp) {
    let mia = app.practitioner("Mia").seeking_a_mentor().await;
    let max = app.practitioner("Max").mentoring(2).at("Orange").await;
    let admin = app.admin().await;
    assert!(app.lists(&mia, "limit=100", &max).await);
    assert!(app.suggests(&mia, "mentor", &max).await);

    app.block(&max, &mia).await;

    for (viewer, other) in [(&mia, &max), (&max, &mia)] {
        for query in [
            "limit=100",
            "within_km=2000&limit=100",
            "kind=mentor",
            "kind=peer",
        ] {
            assert!(!app.lists(viewer, query, other).await, "{query}");
        }
        for kind in ["peer", "mentor"] {
            assert!(!app.suggests(viewer, kind, other).await, "{kind}");
        }
        expect_problem(app.public_profile(viewer, other).await, 404).await;
    }
    let round = app.run_round(&admin, true).await;
    assert!(round.proposals.is_empty(), "{round:?}");
}

#[on_both_engines]
async fn lifting_a_block_brings_both_back(app: &TestApp) {
    let mia = app.practitioner("Mia").seeking_a_mentor().await;
    let max = app.practitioner("Max").mentoring(2).at("Orange").await;
    app.block(&max, &mia).await;

    let path = format!("/api/v1/me/blocks/{}", mia.user_id);
    let token = Some(max.access_token.as_str());
    let lifted = app.send(Method::DELETE, &path, &json!({}), token).await;
    assert_eq!(lifted.status(), 204);
    assert!(app.lists(&mia, "limit=100", &max).await);
    let profile: Value = body_of(app.public_profile(&mia, &max).await).await;
    assert_eq!(profile["user_id"], json!(max.user_id));
}

/// The directory pages through a radius in order of shown distance, each person once.
#[on_both_engines]
async fn the_directory_pages_by_distance_without_repeats(app: &TestApp) {
    let observer = app.practitioner("Olive").await;
    let places = [
        (-32.25, 148.60),
        (-32.5, 148.9),
        (-33.28, 149.10),
        (-31.95, 149.6),
        (-32.1, 148.2),
        (-30.3, 149.8),
        (-33.9, 151.2),
    ];
    let mut everyone = Vec::new();
    for (n, at) in places.into_iter().enumerate() {
        everyone.push(app.practitioner(&format!("P{n}")).located(at).await.user_id);
    }
    let mut seen = Vec::new();
    let mut distances = Vec::new();
    let mut query = "within_km=300&limit=2".to_owned();
    loop {
        let page = app.directory(&observer, &query).await;
        for item in &page.items {
            seen.push(item["user_id"].as_str().unwrap().to_owned());
            distances.push(item["distance_km"].as_u64().unwrap());
        }
        match page.next_cursor {
            Some(cursor) => query = format!("within_km=300&limit=2&cursor={cursor}"),
            None => break,
        }
    }
    let mut sorted = distances.clone();
    sorted.sort_unstable();
    assert_eq!(distances, sorted, "nearest first");
    assert!(distances.iter().all(|d| *d <= 300));
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "someone appeared twice");
    // Sydney is about 300 km or more away; everyone else is nearer.
    assert!(seen.len() >= 6, "{seen:?}");
    for id in &everyone[..6] {
        assert!(seen.contains(id), "{id} missing");
    }
}

const FIVE_SECONDS: Duration = Duration::from_secs(5);

/// Erasure, suspension and blocks made on one instance reach another instance's index
/// within 5 s, and a round there never proposes, or fails on, someone who has gone.
#[on_both_engines]
async fn erasure_suspension_and_blocks_reach_every_instance(app: &TestApp) {
    let other = app.another_instance().await;
    let wendy = app.practitioner("Wendy").seeking_a_mentor().await;
    let leo = app.practitioner("Leo").located((-32.3, 148.65)).await;
    let sid = app.practitioner("Sid").located((-32.2, 148.55)).await;
    let max = app.practitioner("Max").mentoring(2).at("Orange").await;
    let admin = app.admin().await;
    let peers_seen_by_wendy = |count| {
        let other = &other;
        let wendy = &wendy;
        move || async move { peers_nearby(other, wendy).await == count }
    };
    eventually(
        "the other instance sees both peers",
        FIVE_SECONDS,
        peers_seen_by_wendy(2),
    )
    .await;

    assert_eq!(app.erase(&leo, &leo.password).await.status(), 204);
    let erasure = "the erasure reaches the other index";
    eventually(erasure, FIVE_SECONDS, peers_seen_by_wendy(1)).await;

    app.suspend(&admin, &sid).await;
    let suspension = "the suspension reaches the other index";
    eventually(suspension, FIVE_SECONDS, peers_seen_by_wendy(0)).await;

    app.block(&max, &wendy).await;
    eventually(
        "the block reaches the other instance",
        FIVE_SECONDS,
        || async {
            !other.lists(&wendy, "limit=100", &max).await
                && !other.suggests(&wendy, "mentor", &max).await
        },
    )
    .await;

    let round = other.run_round(&admin, false).await;
    for proposal in &round.proposals {
        for gone in [&leo.user_id, &sid.user_id] {
            assert_ne!(&proposal.mentee_id, gone);
            assert_ne!(&proposal.mentor_id, gone);
        }
    }
    other.teardown().await;
}

/// The read paths served from memory (suggestions, the directory) refuse a suspended
/// caller at once on the instance that suspended them, and within 5 s on another.
#[on_both_engines]
async fn a_suspended_caller_is_refused_suggestions_and_the_directory_on_every_instance(
    app: &TestApp,
) {
    let other = app.another_instance().await;
    let sid = app.practitioner("Sid").await;
    let admin = app.admin().await;
    let paths = [
        "/api/v1/me/suggestions?kind=peer",
        "/api/v1/directory?limit=5",
    ];
    for path in paths {
        assert_eq!(app.get_as(&sid, path).await.status(), 200);
    }
    eventually("the other instance holds Sid", FIVE_SECONDS, || async {
        other.get_as(&sid, paths[0]).await.status() == 200
    })
    .await;
    app.suspend(&admin, &sid).await;
    for path in paths {
        expect_problem(app.get_as(&sid, path).await, 401).await;
    }
    eventually("the other instance refuses Sid", FIVE_SECONDS, || async {
        other.get_as(&sid, paths[0]).await.status() == 401
            && other.get_as(&sid, paths[1]).await.status() == 401
    })
    .await;
    other.teardown().await;
}

/// Suspending someone ends their pending requests and tells the other side.
#[on_both_engines]
async fn a_suspension_ends_pending_requests_with_an_email(app: &TestApp) {
    let sid = app.practitioner("Sid").await;
    let tess = app.practitioner("Tess").located((-32.3, 148.65)).await;
    let admin = app.admin().await;
    let sent = app.connect(&sid, &tess, "peer").await;
    app.suspend(&admin, &sid).await;

    let seen = app.connection(&tess, &sent.id).await;
    assert_eq!(seen.status, "withdrawn", "{seen:?}");
    let email = app
        .smtp
        .wait_for_subject(&tess.email, "request is closed")
        .await;
    assert!(email.data.contains("Sid"));
    assert!(
        !email.data.contains("suspend"),
        "the email says nothing about why"
    );
}

/// `POST /connections` as `asking` with an Idempotency-Key.
async fn ask_with_key(
    app: &TestApp,
    asking: &Practitioner,
    body: &Value,
    key: &str,
) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/connections"))
        .bearer_auth(&asking.access_token)
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .unwrap()
}

fn asking_for(whom: &Practitioner) -> Value {
    json!({"recipient_id": whom.user_id, "kind": "peer", "message": "Hello"})
}

/// A retried request with the same Idempotency-Key returns the first response and
/// creates nothing twice.
#[on_both_engines]
async fn a_retried_request_creates_one_connection(app: &TestApp) {
    let ria = app.practitioner("Ria").await;
    let una = app.practitioner("Una").located((-32.3, 148.65)).await;
    let body = asking_for(&una);

    // Thirty at once with one key: one connection, and every 201 is the same one.
    let attempts = (0..30).map(|_| ask_with_key(app, &ria, &body, "retry-1"));
    let answers = futures_util::future::join_all(attempts).await;
    let mut created = HashSet::new();
    for answer in answers {
        match answer.status().as_u16() {
            201 => {
                let view: tests::wire::Connection = body_of(answer).await;
                created.insert(view.id);
            }
            409 => {
                expect_problem(answer, 409).await;
            }
            other => panic!("unexpected {other}: {}", answer.text().await.unwrap()),
        }
    }
    assert_eq!(created.len(), 1, "{created:?}");

    let again = ask_with_key(app, &ria, &body, "retry-1").await;
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: tests::wire::Connection = body_of(again).await;
    assert!(created.contains(&again.id));
    let outgoing = app.connections(&ria, "direction=outgoing").await;
    assert_eq!(outgoing.items.len(), 1, "{outgoing:?}");
}

/// The same key with another body is refused and does nothing; a new key asks.
#[on_both_engines]
async fn a_key_reused_for_another_request_is_refused(app: &TestApp) {
    let ria = app.practitioner("Ria").await;
    let una = app.practitioner("Una").located((-32.3, 148.65)).await;
    let vic = app.practitioner("Vic").located((-32.2, 148.55)).await;
    let first = ask_with_key(app, &ria, &asking_for(&una), "retry-1").await;
    assert_eq!(first.status(), 201);

    let other_body = json!({"recipient_id": vic.user_id, "kind": "peer"});
    let reused = ask_with_key(app, &ria, &other_body, "retry-1").await;
    let problem = expect_problem(reused, 422).await;
    assert!(problem.to_string().contains("Idempotency-Key"), "{problem}");
    let outgoing = app.connections(&ria, "direction=outgoing").await;
    assert_eq!(outgoing.items.len(), 1, "{outgoing:?}");

    let fresh = ask_with_key(app, &ria, &other_body, "retry-2").await;
    assert_eq!(fresh.status(), 201);
}

#[on_both_engines]
async fn an_empty_idempotency_key_is_422(app: &TestApp) {
    let ria = app.practitioner("Ria").await;
    let una = app.practitioner("Una").located((-32.3, 148.65)).await;
    let empty = ask_with_key(app, &ria, &asking_for(&una), "").await;
    expect_problem(empty, 422).await;
}

/// A retried round returns the first round and proposes nothing twice.
#[on_both_engines]
async fn a_retried_round_runs_once(app: &TestApp) {
    app.practitioner("Mia").seeking_a_mentor().await;
    app.practitioner("Max").mentoring(2).at("Orange").await;
    let admin = app.admin().await;
    let run = || {
        app.client
            .post(app.url("/api/v1/admin/matching-rounds"))
            .bearer_auth(&admin.access_token)
            .header("Idempotency-Key", "round-2026-12")
            .json(&json!({"kind": "mentorship", "dry_run": false}))
            .send()
    };
    let first: tests::wire::RoundResult = body_of(run().await.unwrap()).await;
    let second = run().await.unwrap();
    assert_eq!(second.headers()["idempotent-replayed"], "true");
    let second: tests::wire::RoundResult = body_of(second).await;
    assert_eq!(first.round_id, second.round_id);
    assert_eq!(first.proposals.len(), 1);
    let stats = app.stats(&admin).await;
    assert_eq!(stats["connections"]["pending"], 1, "{stats}");
}
