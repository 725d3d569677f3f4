use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use tests::{expect_problem, on_both_backends, Practitioner, TestApp};

/// Profiles that suit each other: an early-career community OT in Dubbo seeking a mentor,
/// and an experienced one in Orange offering two places.
fn mentee_profile() -> Value {
    json!({"years_experience": 2, "seeking": {"peers": true, "mentor": true}})
}

fn mentor_profile(capacity: u32) -> Value {
    json!({
        "years_experience": 14,
        "location": {"latitude": -33.2839, "longitude": 149.1007},
        "seeking": {"peers": true, "mentor": false},
        "mentoring": {"offering": true, "capacity": capacity}
    })
}

async fn suggestions(app: &TestApp, who: &Practitioner, kind: &str) -> Value {
    let response = app
        .get(
            &format!("/api/v1/me/suggestions?kind={kind}&limit=10"),
            Some(&who.access_token),
        )
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

fn suggested_ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["profile"]["user_id"].as_str().unwrap().to_owned())
        .collect()
}

async fn request(
    app: &TestApp,
    from: &Practitioner,
    to: &Practitioner,
    kind: &str,
) -> reqwest::Response {
    app.post(
        "/api/v1/connections",
        &json!({"recipient_id": to.user_id, "kind": kind, "message": "Hello from Dubbo"}),
        Some(&from.access_token),
    )
    .await
}

async fn act(
    app: &TestApp,
    who: &Practitioner,
    id: &str,
    action: &str,
    body: Value,
) -> reqwest::Response {
    app.post(
        &format!("/api/v1/connections/{id}/{action}"),
        &body,
        Some(&who.access_token),
    )
    .await
}

on_both_backends! {
    async fn a_mentee_finds_asks_and_is_introduced_to_a_mentor(app) {
        let mentee = app.practitioner_with_profile("Mentee Mia", mentee_profile()).await;
        let mentor = app.practitioner_with_profile("Mentor Max", mentor_profile(2)).await;

        let found = suggestions(app, &mentee, "mentor").await;
        let first = &found["items"][0];
        assert_eq!(first["profile"]["user_id"], json!(mentor.user_id));
        assert!(first["score"].as_f64().unwrap() > 0.0 && first["score"].as_f64().unwrap() <= 1.0);
        let reasons = first["reasons"].as_array().unwrap();
        assert!(!reasons.is_empty());
        assert!(reasons.iter().all(|r| r["label"].as_str().is_some_and(|l| !l.is_empty())));
        assert!(first["profile"].get("email").is_none());

        let created = request(app, &mentee, &mentor, "mentorship").await;
        assert_eq!(created.status(), 201);
        let connection: Value = created.json().await.unwrap();
        assert_eq!(connection["status"], "pending");
        assert!(connection["contact_email"].is_null());
        let id = connection["id"].as_str().unwrap();

        let request_email = app.smtp.wait_for(|m| m.is_to(&mentor.email) && m.subject().contains("would like to connect")).await;
        assert!(request_email.data.contains("Mentee Mia"));
        assert!(!request_email.data.contains(&mentee.email), "contact stays private until accepted");
        assert!(request_email.header("list-unsubscribe").is_some());
        assert_eq!(request_email.header("list-unsubscribe-post").as_deref(), Some("List-Unsubscribe=One-Click"));

        let accepted = act(app, &mentor, id, "accept", json!({})).await;
        assert_eq!(accepted.status(), 200);
        let accepted: Value = accepted.json().await.unwrap();
        assert_eq!(accepted["status"], "accepted");
        assert_eq!(accepted["contact_email"], json!(mentee.email));

        let to_mentee = app.smtp.wait_for(|m| m.is_to(&mentee.email) && m.subject().starts_with("Meet")).await;
        let to_mentor = app.smtp.wait_for(|m| m.is_to(&mentor.email) && m.subject().starts_with("Meet")).await;
        assert!(to_mentee.data.contains(&mentor.email) && to_mentee.data.contains("Mentor Max"));
        assert!(to_mentor.data.contains(&mentee.email) && to_mentor.data.contains("Mentee Mia"));
        tokio::time::sleep(Duration::from_millis(700)).await;
        for who in [&mentee, &mentor] {
            let intros = app.smtp.messages_to(&who.email).into_iter().filter(|m| m.subject().starts_with("Meet")).count();
            assert_eq!(intros, 1, "exactly one introduction to {}", who.email);
        }
        let seen_by_mentee: Value = app.get(&format!("/api/v1/connections/{id}"), Some(&mentee.access_token)).await.json().await.unwrap();
        assert_eq!(seen_by_mentee["contact_email"], json!(mentor.email));
        assert_eq!(seen_by_mentee["recipient"]["mentoring"]["available_slots"], 1);
    }

    async fn the_hard_rules_hold_through_the_api(app) {
        let mentee = app.practitioner_with_profile("Mentee", mentee_profile()).await;
        let mentor = app.practitioner_with_profile("Mentor", mentor_profile(1)).await;
        let peer = app.practitioner_with_profile("Peer", json!({})).await;

        let own = app.post("/api/v1/connections", &json!({"recipient_id": mentee.user_id, "kind": "peer"}), Some(&mentee.access_token)).await;
        expect_problem(own, 422).await;

        assert_eq!(request(app, &mentee, &peer, "peer").await.status(), 201);
        expect_problem(request(app, &mentee, &peer, "peer").await, 409).await;
        expect_problem(request(app, &peer, &mentee, "peer").await, 409).await;
        assert!(!suggested_ids(&suggestions(app, &mentee, "peer").await).contains(&peer.user_id));

        // Unverified practitioners can neither ask nor be found.
        app.register("unverified@example.org", tests::PASSWORD, "Unverified").await;
        let tokens: Value = app.login("unverified@example.org", tests::PASSWORD).await.json().await.unwrap();
        let unverified_token = tokens["access_token"].as_str().unwrap().to_owned();
        let saved: Value = app.send(Method::PUT, "/api/v1/me/profile", &tests::profile_body(json!({})), Some(&unverified_token)).await.json().await.unwrap();
        let unverified_id = saved["user_id"].as_str().unwrap().to_owned();
        let asked = app.post("/api/v1/connections", &json!({"recipient_id": mentor.user_id, "kind": "peer"}), Some(&unverified_token)).await;
        let problem = expect_problem(asked, 403).await;
        assert_eq!(problem["type"], "/problems/email-not-verified");
        assert!(!suggested_ids(&suggestions(app, &peer, "peer").await).contains(&unverified_id));
        let to_unverified = app.post("/api/v1/connections", &json!({"recipient_id": unverified_id, "kind": "peer"}), Some(&peer.access_token)).await;
        expect_problem(to_unverified, 404).await;

        // A mentor without a free slot is neither suggested nor can be asked.
        let other_mentee = app.practitioner_with_profile("Other Mentee", mentee_profile()).await;
        let first: Value = request(app, &other_mentee, &mentor, "mentorship").await.json().await.unwrap();
        assert_eq!(act(app, &mentor, first["id"].as_str().unwrap(), "accept", json!({})).await.status(), 200);
        assert!(!suggested_ids(&suggestions(app, &mentee, "mentor").await).contains(&mentor.user_id));
        let listed: Value = app.get("/api/v1/directory?kind=mentor", Some(&mentee.access_token)).await.json().await.unwrap();
        assert!(listed["items"].as_array().unwrap().iter().all(|p| p["user_id"] != json!(mentor.user_id)), "a full mentor is not listed");
        let full = expect_problem(request(app, &mentee, &mentor, "mentorship").await, 409).await;
        assert_eq!(full["type"], "/problems/mentor-unavailable");

        // Suspended practitioners are never suggested and cannot sign in.
        let admin = app.create_verified_practitioner("Admin").await;
        app.make_admin(&admin).await;
        let suspended = app.practitioner_with_profile("Suspended", json!({})).await;
        assert!(suggested_ids(&suggestions(app, &peer, "peer").await).contains(&suspended.user_id));
        let done = app.post(&format!("/api/v1/admin/users/{}/suspend", suspended.user_id), &json!({}), Some(&admin.access_token)).await;
        assert_eq!(done.status(), 200);
        assert!(!suggested_ids(&suggestions(app, &peer, "peer").await).contains(&suspended.user_id));
        expect_problem(app.login(&suspended.email, tests::PASSWORD).await, 403).await;
        expect_problem(request(app, &peer, &suspended, "peer").await, 404).await;

        // A declined pair is not suggested again.
        let asker = app.practitioner_with_profile("Asker", json!({})).await;
        assert!(suggested_ids(&suggestions(app, &asker, "peer").await).contains(&peer.user_id));
        let asked: Value = request(app, &asker, &peer, "peer").await.json().await.unwrap();
        let declined = act(app, &peer, asked["id"].as_str().unwrap(), "decline", json!({"reason_code": "not_a_good_fit", "note": "private note"})).await;
        assert_eq!(declined.status(), 200);
        assert!(!suggested_ids(&suggestions(app, &asker, "peer").await).contains(&peer.user_id));
        let kind_email = app.smtp.wait_for(|m| m.is_to(&asker.email) && m.subject().contains("About your connection request")).await;
        assert!(!kind_email.data.contains("private note"));

        // Blocks work both ways.
        let blocker = app.practitioner_with_profile("Blocker", json!({})).await;
        assert!(suggested_ids(&suggestions(app, &asker, "peer").await).contains(&blocker.user_id));
        let blocked = app.post("/api/v1/me/blocks", &json!({"user_id": asker.user_id}), Some(&blocker.access_token)).await;
        assert_eq!(blocked.status(), 204);
        assert!(!suggested_ids(&suggestions(app, &asker, "peer").await).contains(&blocker.user_id));
        expect_problem(request(app, &asker, &blocker, "peer").await, 404).await;
    }

    async fn only_the_two_parties_see_or_touch_a_connection(app) {
        let a = app.practitioner_with_profile("Party A", json!({})).await;
        let b = app.practitioner_with_profile("Party B", json!({})).await;
        let outsider = app.practitioner_with_profile("Outsider", json!({})).await;
        let created: Value = request(app, &a, &b, "peer").await.json().await.unwrap();
        let id = created["id"].as_str().unwrap();
        expect_problem(app.get(&format!("/api/v1/connections/{id}"), Some(&outsider.access_token)).await, 404).await;
        for action in ["accept", "decline", "withdraw", "end"] {
            expect_problem(act(app, &outsider, id, action, json!({})).await, 404).await;
        }
        expect_problem(act(app, &a, id, "accept", json!({})).await, 403).await;
        expect_problem(act(app, &b, id, "withdraw", json!({})).await, 403).await;
        expect_problem(act(app, &a, id, "end", json!({})).await, 409).await;
        let listed: Value = app.get("/api/v1/connections?direction=incoming&status=pending", Some(&b.access_token)).await.json().await.unwrap();
        assert_eq!(listed["items"].as_array().unwrap().len(), 1);
        let none: Value = app.get("/api/v1/connections", Some(&outsider.access_token)).await.json().await.unwrap();
        assert!(none["items"].as_array().unwrap().is_empty());
        let withdrawn = act(app, &a, id, "withdraw", json!({})).await;
        assert_eq!(withdrawn.json::<Value>().await.unwrap()["status"], "withdrawn");
        expect_problem(act(app, &b, id, "accept", json!({})).await, 409).await;

        let practitioner_on_admin = app.get("/api/v1/admin/stats", Some(&a.access_token)).await;
        expect_problem(practitioner_on_admin, 403).await;
    }

    async fn one_click_unsubscribe_stops_request_emails(app) {
        let asker = app.practitioner_with_profile("Asker", json!({})).await;
        let quiet = app.practitioner_with_profile("Quiet", json!({})).await;
        let other = app.practitioner_with_profile("Other", json!({})).await;
        request(app, &asker, &quiet, "peer").await;
        let email = app.smtp.wait_for(|m| m.is_to(&quiet.email) && m.subject().contains("would like to connect")).await;
        let header = email.header("list-unsubscribe").unwrap();
        let url = header.trim_matches(|c| c == '<' || c == '>');
        let path = url.strip_prefix("http://localhost:8080").unwrap();

        let page = app.get(path, None).await;
        assert_eq!(page.status(), 200);
        let prefs: Value = app.get("/api/v1/me/notifications", Some(&quiet.access_token)).await.json().await.unwrap();
        assert_eq!(prefs["connection_requests"], true, "GET changes nothing");

        let unsubscribed = app.client.post(app.url(path)).body("List-Unsubscribe=One-Click").send().await.unwrap();
        assert_eq!(unsubscribed.status(), 200);
        let prefs: Value = app.get("/api/v1/me/notifications", Some(&quiet.access_token)).await.json().await.unwrap();
        assert_eq!(prefs["connection_requests"], false);

        request(app, &other, &quiet, "peer").await;
        tokio::time::sleep(Duration::from_millis(800)).await;
        let requests = app.smtp.messages_to(&quiet.email).into_iter().filter(|m| m.subject().contains("would like to connect")).count();
        assert_eq!(requests, 1, "no request email after unsubscribing");
        let bad = app.client.post(app.url("/unsubscribe?token=forged")).send().await.unwrap();
        expect_problem(bad, 400).await;
    }

    async fn export_lists_connections(app) {
        let a = app.practitioner_with_profile("Exporter", json!({})).await;
        let b = app.practitioner_with_profile("Friend", json!({})).await;
        request(app, &a, &b, "peer").await;
        let export: Value = app.get("/api/v1/me/export", Some(&a.access_token)).await.json().await.unwrap();
        assert_eq!(export["connections"].as_array().unwrap().len(), 1);
    }
}

on_both_backends! {
    async fn reminders_and_expiry_follow_the_ttl(app, |c| c.request_ttl = Duration::from_secs(4)) {
        let a = app.practitioner_with_profile("Waiting", json!({})).await;
        let b = app.practitioner_with_profile("Slow", json!({})).await;
        let started = std::time::Instant::now();
        let created: Value = request(app, &a, &b, "peer").await.json().await.unwrap();
        let id = created["id"].as_str().unwrap().to_owned();

        app.smtp
            .wait_for(|m| m.is_to(&b.email) && m.subject().contains("is waiting for you"))
            .await;
        let reminded_after = started.elapsed();
        assert!(
            reminded_after >= Duration::from_secs(2),
            "reminder came too early: {reminded_after:?}"
        );
        let still: Value = app
            .get(&format!("/api/v1/connections/{id}"), Some(&a.access_token))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(still["status"], "pending");

        app.smtp
            .wait_for(|m| m.is_to(&a.email) && m.subject().contains("has expired"))
            .await;
        assert!(started.elapsed() >= Duration::from_secs(4));
        let expired: Value = app
            .get(&format!("/api/v1/connections/{id}"), Some(&a.access_token))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(expired["status"], "expired");
        let reminders = app
            .smtp
            .messages_to(&b.email)
            .into_iter()
            .filter(|m| m.subject().contains("is waiting"))
            .count();
        assert_eq!(reminders, 1);
    }

    async fn the_daily_request_limit_is_enforced(app, |c| c.requests_per_day = 2) {
        let asker = app.practitioner_with_profile("Eager", json!({})).await;
        for n in 0..2 {
            let other = app
                .practitioner_with_profile(&format!("Other {n}"), json!({}))
                .await;
            assert_eq!(request(app, &asker, &other, "peer").await.status(), 201);
        }
        let third = app.practitioner_with_profile("Third", json!({})).await;
        expect_problem(request(app, &asker, &third, "peer").await, 429).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_concurrent_accepts_on_two_instances_respect_capacity() {
    let Some(a) = TestApp::spawn_postgres_configured_or_skip(|c| c.requests_per_day = 100).await
    else {
        return;
    };
    let b = a.another_instance().await;
    let mentor = a
        .practitioner_with_profile("Busy Mentor", mentor_profile(3))
        .await;
    let mut ids = Vec::new();
    for n in 0..30 {
        let mentee = a
            .practitioner_with_profile(&format!("Mentee {n}"), mentee_profile())
            .await;
        let created: Value = request(&a, &mentee, &mentor, "mentorship")
            .await
            .json()
            .await
            .unwrap();
        ids.push(created["id"].as_str().unwrap().to_owned());
    }
    let accepts = ids.iter().enumerate().map(|(n, id)| {
        let app = if n % 2 == 0 { &a } else { &b };
        act(app, &mentor, id, "accept", json!({}))
    });
    let statuses: Vec<u16> = futures_util::future::join_all(accepts)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        3,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        27,
        "{statuses:?}"
    );
    let accepted: Value = a
        .get(
            "/api/v1/connections?status=accepted&direction=incoming",
            Some(&mentor.access_token),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(accepted["items"].as_array().unwrap().len(), 3);
    b.teardown().await;
    a.teardown().await;
}

on_both_backends! {
    async fn changes_on_one_instance_reach_the_other(a) {
        let b = a.another_instance().await;
        let seeker = a.practitioner_with_profile("Seeker", json!({})).await;
        let changer = a
            .practitioner_with_profile(
                "Changer",
                json!({"seeking": {"peers": false, "mentor": false}}),
            )
            .await;
        let before = suggestions(&b, &seeker, "peer").await;
        assert!(!suggested_ids(&before).contains(&changer.user_id));

        let changed = a
            .send(
                Method::PATCH,
                "/api/v1/me/profile",
                &json!({"seeking": {"peers": true}}),
                Some(&changer.access_token),
            )
            .await;
        assert_eq!(changed.status(), 200);
        let started = std::time::Instant::now();
        loop {
            let page = suggestions(&b, &seeker, "peer").await;
            if suggested_ids(&page).contains(&changer.user_id) {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "instance B did not see the change within 5 s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        b.teardown().await;
    }
}

/// The daily limit holds when the requests arrive at the same moment.
mod simultaneous_requests {
    use futures_util::future::join_all;

    use super::*;

    on_both_backends! {
        async fn thirty_at_once_never_pass_the_daily_limit(app, |c| c.requests_per_day = 5) {
            let asker = app.practitioner_with_profile("Eager", json!({})).await;
            let mut others = Vec::new();
            for n in 0..30 {
                others.push(app.practitioner_with_profile(&format!("Other {n}"), json!({})).await);
            }
            let requests = others.iter().map(|other| request(app, &asker, other, "peer"));
            let statuses: Vec<u16> = join_all(requests).await.iter().map(|r| r.status().as_u16()).collect();
            assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 5, "{statuses:?}");
            assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 25, "{statuses:?}");
        }
    }
}
