use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};
use tests::{body_of, expect_problem, on_both_engines, Practitioner, Statuses, TestApp, PASSWORD};

const ASKED: &str = "would like to connect";

/// An early-career community OT in Dubbo, seeking a mentor.
async fn mentee(app: &TestApp, name: &str) -> Practitioner {
    app.practitioner(name).seeking_a_mentor().await
}

/// An experienced OT in Orange, offering `capacity` places.
async fn mentor(app: &TestApp, name: &str, capacity: u32) -> Practitioner {
    app.practitioner(name)
        .mentoring(capacity)
        .at("Orange")
        .await
}

#[on_both_engines]
async fn a_mentee_is_suggested_a_suitable_mentor_with_reasons(app: &TestApp) {
    let mia = mentee(app, "Mentee Mia").await;
    let max = mentor(app, "Mentor Max", 2).await;

    let found = app.suggestions(&mia, "mentor").await;
    let first = &found.items[0];
    assert_eq!(first.profile.user_id, max.user_id);
    assert!(first.score > 0.0 && first.score <= 1.0, "{}", first.score);
    assert!(!first.reasons.is_empty());
    assert!(first.reasons.iter().all(|r| !r.label.is_empty()));

    let raw: Value = body_of(app.get_as(&mia, "/api/v1/me/suggestions?kind=mentor").await).await;
    assert!(raw["items"][0]["profile"].get("email").is_none());
}

#[on_both_engines]
async fn a_request_emails_the_mentor_without_the_mentees_address(app: &TestApp) {
    let mia = mentee(app, "Mentee Mia").await;
    let max = mentor(app, "Mentor Max", 2).await;

    let asked = app.connect(&mia, &max, "mentorship").await;
    assert_eq!(asked.status, "pending");
    assert_eq!(asked.contact_email, None);

    let email = app.smtp.wait_for_subject(&max.email, ASKED).await;
    assert!(email.data.contains("Mentee Mia"));
    assert!(
        !email.data.contains(&mia.email),
        "contact stays private until accepted"
    );
    assert!(email.header("list-unsubscribe").is_some());
    assert_eq!(
        email.header("list-unsubscribe-post").as_deref(),
        Some("List-Unsubscribe=One-Click")
    );
}

#[on_both_engines]
async fn accepting_introduces_both_once_and_takes_a_place(app: &TestApp) {
    let mia = mentee(app, "Mentee Mia").await;
    let max = mentor(app, "Mentor Max", 2).await;
    let asked = app.connect(&mia, &max, "mentorship").await;

    let accepted = app.act(&max, &asked.id, "accept").await;
    assert_eq!(accepted.status(), 200);
    let accepted: tests::wire::Connection = body_of(accepted).await;
    assert_eq!(accepted.status, "accepted");
    assert_eq!(accepted.contact_email.as_ref(), Some(&mia.email));

    let is_intro_to = |who: &Practitioner| {
        let address = who.email.clone();
        move |m: &tests::Email| m.is_to(&address) && m.subject().starts_with("Meet")
    };
    let to_mia = app.smtp.wait_for(is_intro_to(&mia)).await;
    let to_max = app.smtp.wait_for(is_intro_to(&max)).await;
    assert!(to_mia.data.contains(&max.email) && to_mia.data.contains("Mentor Max"));
    assert!(to_max.data.contains(&mia.email) && to_max.data.contains("Mentee Mia"));
    tokio::time::sleep(Duration::from_millis(700)).await;
    for who in [&mia, &max] {
        let intros = app
            .smtp
            .messages()
            .into_iter()
            .filter(is_intro_to(who))
            .count();
        assert_eq!(intros, 1, "exactly one introduction to {}", who.email);
    }

    let seen_by_mia = app.connection(&mia, &asked.id).await;
    assert_eq!(seen_by_mia.contact_email.as_ref(), Some(&max.email));
    assert_eq!(seen_by_mia.recipient.mentoring.available_slots, 1);

    // A new instance counts the place taken too: start-up counts every mentor's mentees.
    let restarted = app.another_instance().await;
    let path = format!("/api/v1/connections/{}", asked.id);
    let seen_after_start: tests::wire::Connection =
        body_of(restarted.get(&path, Some(&mia.access_token)).await).await;
    assert_eq!(seen_after_start.recipient.mentoring.available_slots, 1);
    restarted.teardown().await;
}

#[on_both_engines]
async fn nobody_can_ask_themselves(app: &TestApp) {
    let ana = app.practitioner("Ana").await;
    expect_problem(app.ask(&ana, &ana, "peer").await, 422).await;
}

#[on_both_engines]
async fn a_pair_has_one_open_request_whoever_asks(app: &TestApp) {
    let ana = app.practitioner("Ana").await;
    let bea = app.practitioner("Bea").await;
    app.connect(&ana, &bea, "peer").await;
    expect_problem(app.ask(&ana, &bea, "peer").await, 409).await;
    expect_problem(app.ask(&bea, &ana, "peer").await, 409).await;
}

#[on_both_engines]
async fn a_pair_with_an_open_request_is_not_suggested(app: &TestApp) {
    let ana = app.practitioner("Ana").await;
    let bea = app.practitioner("Bea").await;
    app.connect(&ana, &bea, "peer").await;
    assert!(!app.suggests(&ana, "peer", &bea).await);
}

#[on_both_engines]
async fn an_unverified_practitioner_cannot_ask(app: &TestApp) {
    let una = app.practitioner("Una").unverified().await;
    let bea = app.practitioner("Bea").await;
    let problem = expect_problem(app.ask(&una, &bea, "peer").await, 403).await;
    assert_eq!(problem["type"], "/problems/email-not-verified");
}

#[on_both_engines]
async fn an_unverified_practitioner_is_neither_suggested_nor_asked(app: &TestApp) {
    let una = app.practitioner("Una").unverified().await;
    let bea = app.practitioner("Bea").await;
    assert!(!app.suggests(&bea, "peer", &una).await);
    expect_problem(app.ask(&bea, &una, "peer").await, 404).await;
}

#[on_both_engines]
async fn a_mentor_without_a_free_place_is_neither_suggested_listed_nor_asked(app: &TestApp) {
    let mia = mentee(app, "Mia").await;
    let max = mentor(app, "Max", 1).await;
    let first = mentee(app, "First Mentee").await;
    let taken = app.connect(&first, &max, "mentorship").await;
    assert_eq!(app.act(&max, &taken.id, "accept").await.status(), 200);

    assert!(!app.suggests(&mia, "mentor", &max).await);
    assert!(
        !app.lists(&mia, "kind=mentor", &max).await,
        "a full mentor is not listed"
    );
    let full = expect_problem(app.ask(&mia, &max, "mentorship").await, 409).await;
    assert_eq!(full["type"], "/problems/mentor-unavailable");
}

#[on_both_engines]
async fn a_suspended_practitioner_is_not_suggested_signed_in_or_asked(app: &TestApp) {
    let admin = app.admin().await;
    let bea = app.practitioner("Bea").await;
    let sid = app.practitioner("Sid").await;
    assert!(app.suggests(&bea, "peer", &sid).await);

    app.suspend(&admin, &sid).await;
    assert!(!app.suggests(&bea, "peer", &sid).await);
    expect_problem(app.login(&sid.email, PASSWORD).await, 403).await;
    expect_problem(app.ask(&bea, &sid, "peer").await, 404).await;
}

#[on_both_engines]
async fn a_declined_pair_is_not_suggested_again(app: &TestApp) {
    let ana = app.practitioner("Ana").await;
    let bea = app.practitioner("Bea").await;
    assert!(app.suggests(&ana, "peer", &bea).await);
    let asked = app.connect(&ana, &bea, "peer").await;
    let reason = json!({"reason_code": "not_a_good_fit"});
    assert_eq!(
        app.act_with(&bea, &asked.id, "decline", reason)
            .await
            .status(),
        200
    );
    assert!(!app.suggests(&ana, "peer", &bea).await);
}

#[on_both_engines]
async fn a_decline_tells_the_asker_kindly_without_the_private_note(app: &TestApp) {
    let ana = app.practitioner("Ana").await;
    let bea = app.practitioner("Bea").await;
    let asked = app.connect(&ana, &bea, "peer").await;
    let reason = json!({"reason_code": "not_a_good_fit", "note": "private note"});
    assert_eq!(
        app.act_with(&bea, &asked.id, "decline", reason)
            .await
            .status(),
        200
    );
    let email = app
        .smtp
        .wait_for_subject(&ana.email, "About your connection request")
        .await;
    assert!(!email.data.contains("private note"));
}

#[on_both_engines]
async fn a_block_hides_the_blocker_and_refuses_requests(app: &TestApp) {
    let ana = app.practitioner("Ana").await;
    let bea = app.practitioner("Bea").await;
    assert!(app.suggests(&ana, "peer", &bea).await);
    app.block(&bea, &ana).await;
    assert!(!app.suggests(&ana, "peer", &bea).await);
    expect_problem(app.ask(&ana, &bea, "peer").await, 404).await;
}

#[on_both_engines]
async fn only_the_two_parties_see_or_touch_a_connection(app: &TestApp) {
    let ana = app.practitioner("Party A").await;
    let bea = app.practitioner("Party B").await;
    let outsider = app.practitioner("Outsider").await;
    let id = app.connect(&ana, &bea, "peer").await.id;

    let path = format!("/api/v1/connections/{id}");
    expect_problem(app.get_as(&outsider, &path).await, 404).await;
    for action in ["accept", "decline", "withdraw", "end"] {
        expect_problem(app.act(&outsider, &id, action).await, 404).await;
    }
    let incoming = app
        .connections(&bea, "direction=incoming&status=pending")
        .await;
    assert_eq!(incoming.items.len(), 1);
    assert!(app.connections(&outsider, "").await.items.is_empty());
}

#[on_both_engines]
async fn each_party_may_only_take_its_own_actions(app: &TestApp) {
    let ana = app.practitioner("Party A").await;
    let bea = app.practitioner("Party B").await;
    let id = app.connect(&ana, &bea, "peer").await.id;
    expect_problem(app.act(&ana, &id, "accept").await, 403).await;
    expect_problem(app.act(&bea, &id, "withdraw").await, 403).await;
    expect_problem(app.act(&ana, &id, "end").await, 409).await;

    let withdrawn: tests::wire::Connection = body_of(app.act(&ana, &id, "withdraw").await).await;
    assert_eq!(withdrawn.status, "withdrawn");
    expect_problem(app.act(&bea, &id, "accept").await, 409).await;
}

#[on_both_engines]
async fn a_practitioner_is_refused_the_admin_api(app: &TestApp) {
    let ana = app.practitioner("Ana").await;
    expect_problem(app.get_as(&ana, "/api/v1/admin/stats").await, 403).await;
}

async fn notification_preferences(app: &TestApp, who: &Practitioner) -> Value {
    body_of(app.get_as(who, "/api/v1/me/notifications").await).await
}

#[on_both_engines]
async fn one_click_unsubscribe_stops_request_emails(app: &TestApp) {
    let asker = app.practitioner("Asker").await;
    let quiet = app.practitioner("Quiet").await;
    let other = app.practitioner("Other").await;
    app.connect(&asker, &quiet, "peer").await;
    let email = app.smtp.wait_for_subject(&quiet.email, ASKED).await;
    let header = email.header("list-unsubscribe").unwrap();
    let url = header.trim_matches(|c| c == '<' || c == '>');
    let path = url.strip_prefix("http://localhost:8080").unwrap();

    assert_eq!(app.get(path, None).await.status(), 200);
    let preferences = notification_preferences(app, &quiet).await;
    assert_eq!(
        preferences["connection_requests"], true,
        "GET changes nothing"
    );

    let one_click = app
        .client
        .post(app.url(path))
        .body("List-Unsubscribe=One-Click");
    assert_eq!(one_click.send().await.unwrap().status(), 200);
    let preferences = notification_preferences(app, &quiet).await;
    assert_eq!(preferences["connection_requests"], false);

    app.connect(&other, &quiet, "peer").await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let requests = app.smtp.count_subject(&quiet.email, ASKED);
    assert_eq!(requests, 1, "no request email after unsubscribing");
}

#[on_both_engines]
async fn a_forged_unsubscribe_link_is_400(app: &TestApp) {
    let forged = app.client.post(app.url("/unsubscribe?token=forged"));
    expect_problem(forged.send().await.unwrap(), 400).await;
}

#[on_both_engines]
async fn export_lists_connections(app: &TestApp) {
    let ana = app.practitioner("Exporter").await;
    let bea = app.practitioner("Friend").await;
    app.connect(&ana, &bea, "peer").await;
    let export: Value = body_of(app.get_as(&ana, "/api/v1/me/export").await).await;
    assert_eq!(export["connections"].as_array().unwrap().len(), 1);
}

fn four_second_requests(config: &mut tests::Config) {
    config.request_ttl = Duration::from_secs(4);
}

#[on_both_engines(config = four_second_requests)]
async fn reminders_and_expiry_follow_the_ttl(app: &TestApp) {
    let waiting = app.practitioner("Waiting").await;
    let slow = app.practitioner("Slow").await;
    let started = Instant::now();
    let id = app.connect(&waiting, &slow, "peer").await.id;

    app.smtp
        .wait_for_subject(&slow.email, "is waiting for you")
        .await;
    let reminded_after = started.elapsed();
    assert!(
        reminded_after >= Duration::from_secs(2),
        "reminder came too early: {reminded_after:?}"
    );
    assert_eq!(app.connection(&waiting, &id).await.status, "pending");

    app.smtp
        .wait_for_subject(&waiting.email, "has expired")
        .await;
    assert!(started.elapsed() >= Duration::from_secs(4));
    assert_eq!(app.connection(&waiting, &id).await.status, "expired");
    assert_eq!(app.smtp.count_subject(&slow.email, "is waiting"), 1);
}

#[on_both_engines(config = |c| c.requests_per_day = 2)]
async fn the_daily_request_limit_is_enforced(app: &TestApp) {
    let eager = app.practitioner("Eager").await;
    for n in 0..2 {
        let other = app.practitioner(&format!("Other {n}")).await;
        app.connect(&eager, &other, "peer").await;
    }
    let third = app.practitioner("Third").await;
    expect_problem(app.ask(&eager, &third, "peer").await, 429).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_concurrent_accepts_on_two_instances_respect_capacity() {
    let Some(a) = TestApp::spawn_postgres_configured_or_skip(|c| c.requests_per_day = 100).await
    else {
        return;
    };
    let b = a.another_instance().await;
    let busy = mentor(&a, "Busy Mentor", 3).await;
    let mut ids = Vec::new();
    for n in 0..30 {
        let asking = mentee(&a, &format!("Mentee {n}")).await;
        ids.push(a.connect(&asking, &busy, "mentorship").await.id);
    }
    let accepts = ids.iter().enumerate().map(|(n, id)| {
        let app = if n % 2 == 0 { &a } else { &b };
        app.act(&busy, id, "accept")
    });
    let statuses = Statuses::of(accepts).await;
    assert_eq!(statuses.count(200), 3, "{statuses:?}");
    assert_eq!(statuses.count(409), 27, "{statuses:?}");
    let accepted = a
        .connections(&busy, "status=accepted&direction=incoming")
        .await;
    assert_eq!(accepted.items.len(), 3);
    b.teardown().await;
    a.teardown().await;
}

#[on_both_engines]
async fn changes_on_one_instance_reach_the_other(a: &TestApp) {
    let b = a.another_instance().await;
    let seeker = a.practitioner("Seeker").await;
    let changer = a
        .practitioner("Changer")
        .with(json!({"seeking": {"peers": false, "mentor": false}}))
        .await;
    assert!(!b.suggests(&seeker, "peer", &changer).await);

    let seeking_peers = json!({"seeking": {"peers": true}});
    let token = Some(changer.access_token.as_str());
    let changed = a
        .send(Method::PATCH, "/api/v1/me/profile", &seeking_peers, token)
        .await;
    assert_eq!(changed.status(), 200);
    let started = Instant::now();
    while !b.suggests(&seeker, "peer", &changer).await {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "instance B did not see the change within 5 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    b.teardown().await;
}

/// The daily limit holds when the requests arrive at the same moment.
mod simultaneous_requests {
    use super::*;

    #[on_both_engines(config = |c| c.requests_per_day = 5)]
    async fn thirty_at_once_never_pass_the_daily_limit(app: &TestApp) {
        let eager = app.practitioner("Eager").await;
        let mut others = Vec::new();
        for n in 0..30 {
            others.push(app.practitioner(&format!("Other {n}")).await);
        }
        let requests = others.iter().map(|other| app.ask(&eager, other, "peer"));
        let statuses = Statuses::of(requests).await;
        assert_eq!(statuses.count(201), 5, "{statuses:?}");
        assert_eq!(statuses.count(429), 25, "{statuses:?}");
    }
}

/// The weekly digest of suggestions, with weeks of two seconds.
mod match_digest {
    use super::*;

    fn subject() -> &'static str {
        "People you may like to know"
    }

    #[on_both_engines(config = |c| c.match_digest_every = Duration::from_secs(2))]
    async fn names_three_with_reasons_and_never_the_same_person_twice_in_a_row(app: &TestApp) {
        let ana = app.practitioner("Ana").await;
        let quiet = app.practitioner("Quiet").await;
        let off = json!({"connection_requests": true, "match_digest": false});
        let saved = app
            .send(
                Method::PUT,
                "/api/v1/me/notifications",
                &off,
                Some(&quiet.access_token),
            )
            .await;
        assert_eq!(saved.status(), 200);
        for n in 0..6 {
            app.practitioner(&format!("Peer {n}")).at("Orange").await;
        }
        let first = app.smtp.wait_for_subject(&ana.email, subject()).await;
        let text = first.text();
        assert!(text.contains("Why: "), "{text}");
        assert!(first.header("list-unsubscribe").is_some());
        let named = |text: &str| -> Vec<String> {
            (0..6)
                .map(|n| format!("Peer {n}:"))
                .chain(["Quiet:".to_owned()])
                .filter(|name| text.contains(name.as_str()))
                .collect()
        };
        let first_named = named(&text);
        assert!(
            !first_named.is_empty() && first_named.len() <= 3,
            "{first_named:?}"
        );

        let started = Instant::now();
        while app.smtp.count_subject(&ana.email, subject()) < 2 {
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "no second digest"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let second = app
            .smtp
            .messages_to(&ana.email)
            .into_iter()
            .filter(|m| m.subject().starts_with(subject()))
            .nth(1)
            .map(|m| m.text())
            .unwrap_or_default();
        let second_named = named(&second);
        assert!(!second_named.is_empty(), "{second}");
        assert!(
            second_named.iter().all(|n| !first_named.contains(n)),
            "{first_named:?} then {second_named:?}"
        );
        assert_eq!(app.smtp.count_subject(&quiet.email, subject()), 0);
    }
}

#[on_both_engines]
async fn a_mentor_sees_who_asked_the_most_isolated_first(app: &TestApp) {
    let max = mentor(app, "Mentor Max", 3).await;
    let remote = app
        .practitioner("Remote Rae")
        .seeking_a_mentor()
        .at("Brisbane")
        .await;
    app.connect(&remote, &max, "mentorship").await;
    for n in 0..3 {
        app.practitioner(&format!("Dubbo peer {n}")).await;
    }
    let town = mentee(app, "Town Tom").await;
    app.connect(&town, &max, "mentorship").await;

    let ids = |page: &tests::wire::Page<tests::wire::Connection>| -> Vec<String> {
        page.items
            .iter()
            .map(|c| c.requester.user_id.clone())
            .collect()
    };
    let newest = app.connections(&max, "direction=incoming").await;
    assert_eq!(
        ids(&newest),
        vec![town.user_id.clone(), remote.user_id.clone()]
    );
    tests::eventually(
        "the index sees Tom's peers",
        Duration::from_secs(5),
        || async {
            let isolated = app
                .connections(&max, "direction=incoming&order=isolation")
                .await;
            ids(&isolated) == vec![remote.user_id.clone(), town.user_id.clone()]
        },
    )
    .await;
    let first = app
        .connections(&max, "direction=incoming&order=isolation&limit=1")
        .await;
    assert_eq!(ids(&first), vec![remote.user_id.clone()]);
    let cursor = first.next_cursor.expect("a second page");
    let second = app
        .connections(
            &max,
            &format!("direction=incoming&order=isolation&limit=1&cursor={cursor}"),
        )
        .await;
    assert_eq!(ids(&second), vec![town.user_id.clone()]);
    let bad = app
        .get_as(
            &max,
            "/api/v1/connections?order=isolation&cursor=not-a-number",
        )
        .await;
    expect_problem(bad, 422).await;
}
