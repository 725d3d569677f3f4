//! What one person can learn about another, and what every instance hides: no secret in an
//! export, positions only as coarse as the grid, blocks, erasure and suspension on every
//! read path and every instance, and retries that do nothing twice.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};
use tests::{expect_problem, on_both_backends, Practitioner, TestApp};

/// Two exact positions, a few kilometres apart, inside one grid cell near Dubbo.
fn one_cell() -> ((f64, f64), (f64, f64)) {
    let centre = api::privacy::snap(-32.2569, 148.6011);
    let a = (centre.lat - 0.015, centre.lon - 0.015);
    let b = (centre.lat + 0.015, centre.lon + 0.015);
    assert_eq!(api::privacy::snap(a.0, a.1), api::privacy::snap(b.0, b.1));
    assert!(matcher::LatLon::new(a.0, a.1).distance_km(matcher::LatLon::new(b.0, b.1)) > 3.0);
    (a, b)
}

fn at((latitude, longitude): (f64, f64)) -> Value {
    json!({"latitude": latitude, "longitude": longitude})
}

async fn json_of(response: reqwest::Response) -> Value {
    let status = response.status();
    let text = response.text().await.unwrap();
    assert!(status.is_success(), "{status}: {text}");
    serde_json::from_str(&text).unwrap()
}

async fn suggestions(app: &TestApp, who: &Practitioner, kind: &str) -> Value {
    json_of(
        app.get(
            &format!("/api/v1/me/suggestions?kind={kind}&limit=50"),
            Some(&who.access_token),
        )
        .await,
    )
    .await
}

fn item_for<'a>(page: &'a Value, who: &Practitioner) -> Option<&'a Value> {
    page["items"].as_array().unwrap().iter().find(|i| {
        i["profile"]["user_id"] == json!(who.user_id) || i["user_id"] == json!(who.user_id)
    })
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            i["profile"]["user_id"]
                .as_str()
                .or(i["user_id"].as_str())
                .unwrap()
                .to_owned()
        })
        .collect()
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

async fn directory(app: &TestApp, who: &Practitioner, query: &str) -> Value {
    json_of(
        app.get(
            &format!("/api/v1/directory?{query}"),
            Some(&who.access_token),
        )
        .await,
    )
    .await
}

async fn public_profile(app: &TestApp, viewer: &Practitioner, whom: &Practitioner) -> Value {
    json_of(
        app.get(
            &format!("/api/v1/profiles/{}", whom.user_id),
            Some(&viewer.access_token),
        )
        .await,
    )
    .await
}

async fn patch_profile(app: &TestApp, who: &Practitioner, patch: Value) {
    let response = app
        .send(
            Method::PATCH,
            "/api/v1/me/profile",
            &patch,
            Some(&who.access_token),
        )
        .await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
}

async fn admin(app: &TestApp) -> Practitioner {
    let admin = app.create_verified_practitioner("Programme Admin").await;
    app.make_admin(&admin).await;
    admin
}

fn mentor_in_orange() -> Value {
    json!({
        "years_experience": 14,
        "location": {"latitude": -33.2839, "longitude": 149.1007},
        "seeking": {"peers": true, "mentor": false},
        "mentoring": {"offering": true, "capacity": 2}
    })
}

/// Polls `check` until it holds, for at most five seconds (the promise across instances).
async fn within_five_seconds<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if check().await {
            return;
        }
        assert!(Instant::now() < deadline, "not within 5 s: {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn peers_nearby(app: &TestApp, who: &Practitioner) -> u64 {
    json_of(app.get("/api/v1/me", Some(&who.access_token)).await).await["isolation"]
        ["peers_within_50km"]
        .as_u64()
        .unwrap()
}

on_both_backends! {
    /// An access token alone must not be enough to take an account over: the export lists
    /// emails without the links they carry.
    async fn the_export_holds_no_emailed_token(app) {
        let who = app.create_verified_practitioner("Exporting Erin").await;
        let verification = app.token_from_email(&who.email, "/verify-email").await;
        let asked = app.post("/api/v1/auth/password-reset", &json!({"email": who.email}), None).await;
        assert_eq!(asked.status(), 202);
        let reset = app.token_from_email(&who.email, "/reset-password").await;

        let export = app.get("/api/v1/me/export", Some(&who.access_token)).await.text().await.unwrap();
        assert!(!export.contains(&reset), "the export carries the live reset token");
        assert!(!export.contains(&verification), "the export carries the verification token");
        assert!(!export.contains("token="), "the export carries an emailed link: {export}");
        let export: Value = serde_json::from_str(&export).unwrap();
        let kinds: Vec<&str> = export["emails"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
        assert!(kinds.contains(&"verify_email") && kinds.contains(&"password_reset"), "{kinds:?}");
        assert!(export["emails"][0]["subject"].is_string());
    }

    /// The rule of positions: two people at different exact places in one grid cell look
    /// the same to everyone else, in every response.
    async fn two_people_in_one_cell_are_indistinguishable(app) {
        let (a_at, b_at) = one_cell();
        let ana = app.practitioner_with_profile("Ana", json!({"location": at(a_at)})).await;
        let bea = app.practitioner_with_profile("Bea", json!({"location": at(b_at)})).await;
        // An observer about 30 km away who has set a short travel limit, and a mentor.
        let observer = app.practitioner_with_profile("Olive", json!({
            "location": {"latitude": -32.52, "longitude": 148.72},
            "max_travel_km": 40,
            "meeting_modes": ["in_person"],
        })).await;

        for travel in [10, 20, 30, 40, 50, 60, 100] {
            patch_profile(app, &observer, json!({"max_travel_km": travel})).await;
            let page = suggestions(app, &observer, "peer").await;
            let (a, b) = (item_for(&page, &ana), item_for(&page, &bea));
            assert_eq!(a.is_some(), b.is_some(), "travel limit {travel} tells them apart: {page}");
            if let (Some(a), Some(b)) = (a, b) {
                assert_eq!(suggestion_facts(a), suggestion_facts(b), "travel limit {travel}");
            }
        }
        for km in (10..=100).step_by(10) {
            let page = directory(app, &observer, &format!("within_km={km}&limit=100")).await;
            let (a, b) = (item_for(&page, &ana), item_for(&page, &bea));
            assert_eq!(a.is_some(), b.is_some(), "within_km={km} tells them apart: {page}");
            if let (Some(a), Some(b)) = (a, b) {
                assert_eq!(profile_facts(a), profile_facts(b), "within_km={km}");
            }
        }
        assert_eq!(
            profile_facts(&public_profile(app, &observer, &ana).await),
            profile_facts(&public_profile(app, &observer, &bea).await),
        );

        // Connections carry the score and reasons of the pair.
        let mut views = Vec::new();
        for whom in [&ana, &bea] {
            let sent = app.post("/api/v1/connections", &json!({"recipient_id": whom.user_id, "kind": "peer"}), Some(&observer.access_token)).await;
            let view = json_of(sent).await;
            views.push(json!({"score": view["score"], "reasons": view["reasons"], "distance_km": view["recipient"]["distance_km"], "place": view["recipient"]["place"]}));
        }
        assert_eq!(views[0], views[1]);
    }

    /// An observer who moves in 100 m steps sees another person's distance and score
    /// change only when the observer's own grid cell changes.
    async fn small_steps_change_nothing_inside_a_cell(app, |c| c.location_changes_per_hour = 1000) {
        let (a_at, _) = one_cell();
        let ana = app.practitioner_with_profile("Ana", json!({"location": at(a_at)})).await;
        let start = (-32.40, 148.70);
        let observer = app.practitioner_with_profile("Olive", json!({"location": at(start), "max_travel_km": 100})).await;
        let mut seen: Vec<(matcher::LatLon, Value)> = Vec::new();
        for step in 0..40 {
            // 100 m of latitude a step.
            let here = (start.0 - f64::from(step) * 0.0009, start.1);
            patch_profile(app, &observer, json!({"location": at(here)})).await;
            let page = suggestions(app, &observer, "peer").await;
            let suggestion = item_for(&page, &ana).map(suggestion_facts);
            let profile = profile_facts(&public_profile(app, &observer, &ana).await);
            seen.push((api::privacy::snap(here.0, here.1), json!([suggestion, profile])));
        }
        let cells: std::collections::HashSet<String> = seen.iter().map(|(c, _)| format!("{c:?}")).collect();
        assert!(cells.len() >= 2, "the walk should cross a cell boundary");
        for pair in seen.windows(2) {
            if pair[0].0 == pair[1].0 {
                assert_eq!(pair[0].1, pair[1].1, "a step inside one cell changed what the observer sees");
            }
        }
    }

    /// A block hides two people from each other everywhere: directory, suggestions,
    /// profiles and rounds.
    async fn a_block_hides_both_people_from_each_other(app) {
        let mentee = app.practitioner_with_profile("Mia", json!({"years_experience": 2, "seeking": {"peers": true, "mentor": true}})).await;
        let mentor = app.practitioner_with_profile("Max", mentor_in_orange()).await;
        let admin = admin(app).await;
        assert!(ids(&directory(app, &mentee, "limit=100").await).contains(&mentor.user_id));
        assert!(ids(&suggestions(app, &mentee, "mentor").await).contains(&mentor.user_id));

        let blocked = app.post("/api/v1/me/blocks", &json!({"user_id": mentee.user_id}), Some(&mentor.access_token)).await;
        assert_eq!(blocked.status(), 204);

        for (viewer, other) in [(&mentee, &mentor), (&mentor, &mentee)] {
            for query in ["limit=100", "within_km=2000&limit=100", "kind=mentor", "kind=peer"] {
                let page = directory(app, viewer, query).await;
                assert!(!ids(&page).contains(&other.user_id), "{query}: {page}");
            }
            for kind in ["peer", "mentor"] {
                assert!(!ids(&suggestions(app, viewer, kind).await).contains(&other.user_id), "{kind}");
            }
            let profile = app.get(&format!("/api/v1/profiles/{}", other.user_id), Some(&viewer.access_token)).await;
            expect_problem(profile, 404).await;
        }
        let round = json_of(app.post("/api/v1/admin/matching-rounds", &json!({"kind": "mentorship", "dry_run": true}), Some(&admin.access_token)).await).await;
        assert!(round["proposals"].as_array().unwrap().is_empty(), "{round}");

        // Lifting the block brings them back.
        let lifted = app.send(Method::DELETE, &format!("/api/v1/me/blocks/{}", mentee.user_id), &json!({}), Some(&mentor.access_token)).await;
        assert_eq!(lifted.status(), 204);
        assert!(ids(&directory(app, &mentee, "limit=100").await).contains(&mentor.user_id));
        assert_eq!(public_profile(app, &mentee, &mentor).await["user_id"], json!(mentor.user_id));
    }

    /// The directory pages through a radius in order of shown distance, each person once.
    async fn the_directory_pages_by_distance_without_repeats(app) {
        let observer = app.practitioner_with_profile("Olive", json!({})).await;
        let mut everyone = Vec::new();
        for (n, (lat, lon)) in [(-32.25, 148.60), (-32.5, 148.9), (-33.28, 149.10), (-31.95, 149.6), (-32.1, 148.2), (-30.3, 149.8), (-33.9, 151.2)].into_iter().enumerate() {
            everyone.push(app.practitioner_with_profile(&format!("P{n}"), json!({"location": at((lat, lon))})).await.user_id);
        }
        let mut seen = Vec::new();
        let mut distances = Vec::new();
        let mut query = "within_km=300&limit=2".to_owned();
        loop {
            let page = directory(app, &observer, &query).await;
            for item in page["items"].as_array().unwrap() {
                seen.push(item["user_id"].as_str().unwrap().to_owned());
                distances.push(item["distance_km"].as_u64().unwrap());
            }
            match page["next_cursor"].as_str() {
                Some(cursor) => query = format!("within_km=300&limit=2&cursor={cursor}"),
                None => break,
            }
        }
        let mut sorted = distances.clone();
        sorted.sort_unstable();
        assert_eq!(distances, sorted, "nearest first");
        assert!(distances.iter().all(|d| *d <= 300));
        let unique: std::collections::HashSet<&String> = seen.iter().collect();
        assert_eq!(unique.len(), seen.len(), "someone appeared twice");
        // Sydney is about 300 km or more away; everyone else is nearer.
        assert!(seen.len() >= 6, "{seen:?}");
        for id in &everyone[..6] {
            assert!(seen.contains(id), "{id} missing");
        }
    }

    /// Erasure, suspension and blocks made on one instance reach another instance's index
    /// within 5 s, and a round there never proposes, or fails on, someone who has gone.
    async fn erasure_suspension_and_blocks_reach_every_instance(app) {
        let other = app.another_instance().await;
        let watcher = app.practitioner_with_profile("Wendy", json!({"years_experience": 2, "seeking": {"peers": true, "mentor": true}})).await;
        let leaving = app.practitioner_with_profile("Leo", json!({"location": {"latitude": -32.3, "longitude": 148.65}})).await;
        let suspended = app.practitioner_with_profile("Sid", json!({"location": {"latitude": -32.2, "longitude": 148.55}})).await;
        let mentor = app.practitioner_with_profile("Max", mentor_in_orange()).await;
        let admin = admin(app).await;
        within_five_seconds("the other instance sees both peers", || async { peers_nearby(&other, &watcher).await == 2 }).await;

        let erased = app.send(Method::DELETE, "/api/v1/me", &json!({"password": leaving.password}), Some(&leaving.access_token)).await;
        assert_eq!(erased.status(), 204);
        within_five_seconds("the erasure reaches the other index", || async { peers_nearby(&other, &watcher).await == 1 }).await;

        let suspending = app.post(&format!("/api/v1/admin/users/{}/suspend", suspended.user_id), &json!({}), Some(&admin.access_token)).await;
        assert_eq!(suspending.status(), 200);
        within_five_seconds("the suspension reaches the other index", || async { peers_nearby(&other, &watcher).await == 0 }).await;

        let blocked = app.post("/api/v1/me/blocks", &json!({"user_id": watcher.user_id}), Some(&mentor.access_token)).await;
        assert_eq!(blocked.status(), 204);
        within_five_seconds("the block reaches the other instance", || async {
            !ids(&directory(&other, &watcher, "limit=100").await).contains(&mentor.user_id)
                && !ids(&suggestions(&other, &watcher, "mentor").await).contains(&mentor.user_id)
        }).await;

        let round = other.post("/api/v1/admin/matching-rounds", &json!({"kind": "mentorship", "dry_run": false}), Some(&admin.access_token)).await;
        let round = json_of(round).await;
        for proposal in round["proposals"].as_array().unwrap() {
            for gone in [&leaving.user_id, &suspended.user_id] {
                assert_ne!(proposal["mentee_id"], json!(gone));
                assert_ne!(proposal["mentor_id"], json!(gone));
            }
        }
        other.teardown().await;
    }

    /// Suspending someone ends their pending requests and tells the other side.
    async fn a_suspension_ends_pending_requests_with_an_email(app) {
        let asking = app.practitioner_with_profile("Sid", json!({})).await;
        let asked = app.practitioner_with_profile("Tess", json!({"location": {"latitude": -32.3, "longitude": 148.65}})).await;
        let admin = admin(app).await;
        let sent = json_of(app.post("/api/v1/connections", &json!({"recipient_id": asked.user_id, "kind": "peer"}), Some(&asking.access_token)).await).await;
        let suspending = app.post(&format!("/api/v1/admin/users/{}/suspend", asking.user_id), &json!({}), Some(&admin.access_token)).await;
        assert_eq!(suspending.status(), 200);

        let seen = json_of(app.get(&format!("/api/v1/connections/{}", sent["id"].as_str().unwrap()), Some(&asked.access_token)).await).await;
        assert_eq!(seen["status"], "withdrawn", "{seen}");
        let email = app.smtp.wait_for(|m| m.is_to(&asked.email) && m.subject().contains("request is closed")).await;
        assert!(email.data.contains("Sid"));
        assert!(!email.data.contains("suspend"), "the email says nothing about why");
    }

    /// A retried request with the same Idempotency-Key returns the first response and
    /// creates nothing twice; the same key with another body is refused.
    async fn a_retried_request_creates_one_connection(app) {
        let asking = app.practitioner_with_profile("Ria", json!({})).await;
        let first = app.practitioner_with_profile("Una", json!({"location": {"latitude": -32.3, "longitude": 148.65}})).await;
        let second = app.practitioner_with_profile("Vic", json!({"location": {"latitude": -32.2, "longitude": 148.55}})).await;
        let body = json!({"recipient_id": first.user_id, "kind": "peer", "message": "Hello"});
        let send = |body: Value, key: &'static str| {
            app.client.post(app.url("/api/v1/connections")).bearer_auth(&asking.access_token).header("Idempotency-Key", key).json(&body).send()
        };

        // Thirty at once with one key: one connection, and every 201 is the same one.
        let answers = futures_util::future::join_all((0..30).map(|_| send(body.clone(), "retry-1"))).await;
        let mut created = std::collections::HashSet::new();
        for answer in answers {
            let answer = answer.unwrap();
            match answer.status().as_u16() {
                201 => { created.insert(answer.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned()); }
                409 => { expect_problem(answer, 409).await; }
                other => panic!("unexpected {other}: {}", answer.text().await.unwrap()),
            }
        }
        assert_eq!(created.len(), 1, "{created:?}");

        let again = send(body.clone(), "retry-1").await.unwrap();
        assert_eq!(again.status(), 201);
        assert_eq!(again.headers()["idempotent-replayed"], "true");
        assert!(created.contains(again.json::<Value>().await.unwrap()["id"].as_str().unwrap()));

        let other_body = json!({"recipient_id": second.user_id, "kind": "peer"});
        let reused = send(other_body.clone(), "retry-1").await.unwrap();
        let problem = expect_problem(reused, 422).await;
        assert!(problem.to_string().contains("Idempotency-Key"), "{problem}");

        let outgoing = json_of(app.get("/api/v1/connections?direction=outgoing", Some(&asking.access_token)).await).await;
        assert_eq!(outgoing["items"].as_array().unwrap().len(), 1, "{outgoing}");

        // Without a key, a second identical request is the usual 409; with a new key the
        // second recipient is asked once.
        let fresh = send(other_body, "retry-2").await.unwrap();
        assert_eq!(fresh.status(), 201);
        let bad = app.client.post(app.url("/api/v1/connections")).bearer_auth(&asking.access_token).header("Idempotency-Key", "").json(&body).send().await.unwrap();
        expect_problem(bad, 422).await;
    }

    /// A retried round returns the first round and proposes nothing twice.
    async fn a_retried_round_runs_once(app) {
        app.practitioner_with_profile("Mia", json!({"years_experience": 2, "seeking": {"peers": true, "mentor": true}})).await;
        app.practitioner_with_profile("Max", mentor_in_orange()).await;
        let admin = admin(app).await;
        let run = || app.client.post(app.url("/api/v1/admin/matching-rounds")).bearer_auth(&admin.access_token).header("Idempotency-Key", "round-2026-12").json(&json!({"kind": "mentorship", "dry_run": false})).send();
        let first = json_of(run().await.unwrap()).await;
        let second = run().await.unwrap();
        assert_eq!(second.headers()["idempotent-replayed"], "true");
        let second = json_of(second).await;
        assert_eq!(first["round_id"], second["round_id"]);
        assert_eq!(first["proposals"].as_array().unwrap().len(), 1);
        let stats = json_of(app.get("/api/v1/admin/stats", Some(&admin.access_token)).await).await;
        assert_eq!(stats["connections"]["pending"], 1, "{stats}");
    }
}
