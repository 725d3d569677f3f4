use std::time::Duration;

use api::{
    config::Config,
    service::check_ins::{CheckInOutcome, CheckInView},
};
use serde_json::json;
use tests::{body_of, expect_problem, on_both_engines, Practitioner, TestApp};

/// Check-ins a second after acceptance, then every four seconds.
fn quick_check_ins(c: &mut Config) {
    c.check_in_first = Duration::from_secs(1);
    c.check_in_every = Duration::from_secs(4);
}

/// Ana asked Cleo to mentor her, and Cleo accepted; Dan mentors too, with room.
async fn mentorship(app: &TestApp) -> (Practitioner, Practitioner, Practitioner, String) {
    let ana = app.practitioner("Ana").seeking_a_mentor().at("Dubbo").await;
    let cleo = app.practitioner("Cleo").mentoring(2).at("Dubbo").await;
    let dan = app.practitioner("Dan").mentoring(2).at("Orange").await;
    let asked = app.connect(&ana, &cleo, "mentorship").await;
    assert_eq!(app.act(&cleo, &asked.id, "accept").await.status(), 200);
    (ana, cleo, dan, asked.id)
}

const ASKED: &str = "How is it going with";

/// The link of one answer in a check-in email.
fn answer_link(app: &TestApp, to: &str, answer: &str) -> String {
    let email = app
        .smtp
        .messages_to(to)
        .into_iter()
        .find(|m| m.subject().contains(ASKED))
        .expect("a check-in");
    let text = email.text();
    let line = text
        .lines()
        .find(|l| l.starts_with(&format!("{answer}: ")))
        .expect("the answer's link");
    let token = line.split("token=").nth(1).expect("a token");
    token.trim().to_owned()
}

async fn open_check_ins(app: &TestApp, who: &Practitioner) -> Vec<CheckInView> {
    body_of(app.get_as(who, "/api/v1/me/check-ins").await).await
}

#[on_both_engines(config = quick_check_ins)]
async fn both_sides_are_asked_after_the_first_interval_and_again_every_interval(app: &TestApp) {
    let (ana, cleo, _, connection) = mentorship(app).await;
    app.smtp
        .wait_for_subject(&ana.email, "How is it going with Cleo?")
        .await;
    app.smtp
        .wait_for_subject(&cleo.email, "How is it going with Ana?")
        .await;
    let open = open_check_ins(app, &ana).await;
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].connection_id.to_string(), connection);
    assert_eq!(open[0].seq, 1);
    assert_eq!(open[0].with_name.as_deref(), Some("Cleo"));
    // Scheduler passes in between ask nobody again.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(app.smtp.count_subject(&ana.email, ASKED), 1);
    tests::eventually("a second check-in", Duration::from_secs(8), || async {
        app.smtp.count_subject(&ana.email, ASKED) == 2
    })
    .await;
    let open = open_check_ins(app, &ana).await;
    assert_eq!(open.iter().map(|c| c.seq).collect::<Vec<_>>(), [2, 1]);
}

#[on_both_engines(config = quick_check_ins)]
async fn a_one_click_not_a_good_fit_ends_the_mentorship_kindly_and_offers_the_next_best(
    app: &TestApp,
) {
    let (ana, cleo, _dan, connection) = mentorship(app).await;
    app.smtp.wait_for_subject(&cleo.email, ASKED).await;
    let token = answer_link(app, &cleo.email, "Not a good fit");
    let link = json!({ "token": token });
    let answered = app.post("/api/v1/check-ins/answer", &link, None).await;
    assert_eq!(answered.status(), 200);
    let outcome: CheckInOutcome = body_of(answered).await;
    assert!(outcome.ended);
    assert!(
        outcome.suggestions.is_empty(),
        "a link shows no one's suggestions"
    );
    assert_eq!(app.connection(&ana, &connection).await.status, "ended");

    // Ana is told kindly, without a reason, and offered other mentors at once.
    let told = app
        .smtp
        .wait_for_subject(&ana.email, "Your connection with Cleo has ended")
        .await;
    assert!(!told.text().contains("good fit"), "{}", told.text());
    let offered = app
        .smtp
        .wait_for_subject(&ana.email, "People who may fit you better")
        .await;
    assert!(offered.text().contains("Dan"), "{}", offered.text());
    assert!(
        !offered.text().contains("Cleo,"),
        "not the mentor who ended it"
    );

    let again = app.post("/api/v1/check-ins/answer", &link, None).await;
    assert_eq!(
        expect_problem(again, 409).await["type"],
        "/problems/invalid-status"
    );
    let forged = json!({"token": format!("{token}x")});
    let refused = app.post("/api/v1/check-ins/answer", &forged, None).await;
    assert_eq!(
        expect_problem(refused, 400).await["type"],
        "/problems/invalid-token"
    );
    assert!(
        open_check_ins(app, &ana).await.is_empty(),
        "nothing left to ask about"
    );
}

#[on_both_engines(config = quick_check_ins)]
async fn a_mentee_who_answers_not_a_good_fit_in_the_app_sees_the_next_best_at_once(app: &TestApp) {
    let (ana, cleo, dan, connection) = mentorship(app).await;
    app.smtp.wait_for_subject(&ana.email, ASKED).await;
    let mine = open_check_ins(app, &ana).await.remove(0);
    let path = format!("/api/v1/me/check-ins/{}", mine.id);
    let answer = json!({"answer": "not_a_good_fit"});
    expect_problem(app.post_as(&cleo, &path, answer.clone()).await, 404).await;
    let outcome: CheckInOutcome = body_of(app.post_as(&ana, &path, answer).await).await;
    assert!(outcome.ended);
    let next: Vec<String> = outcome
        .suggestions
        .iter()
        .map(|s| s.profile.user_id.to_string())
        .collect();
    assert!(next.contains(&dan.user_id), "{next:?}");
    assert!(!next.contains(&cleo.user_id));
    assert_eq!(app.connection(&cleo, &connection).await.status, "ended");
    app.smtp
        .wait_for_subject(&cleo.email, "Your connection with Ana has ended")
        .await;
}

#[on_both_engines(config = quick_check_ins)]
async fn going_well_keeps_the_connection_and_the_answer_is_in_the_export(app: &TestApp) {
    let (ana, _, _, connection) = mentorship(app).await;
    app.smtp.wait_for_subject(&ana.email, ASKED).await;
    let token = answer_link(app, &ana.email, "Going well");
    let outcome: CheckInOutcome = body_of(
        app.post("/api/v1/check-ins/answer", &json!({"token": token}), None)
            .await,
    )
    .await;
    assert!(!outcome.ended);
    assert_eq!(app.connection(&ana, &connection).await.status, "accepted");
    let bad = json!({"answer": "maybe"});
    let path = format!("/api/v1/me/check-ins/{}", outcome.check_in.id);
    expect_problem(app.post_as(&ana, &path, bad).await, 422).await;
    let export: serde_json::Value = body_of(app.get_as(&ana, "/api/v1/me/export").await).await;
    assert_eq!(export["check_ins"][0]["answer"], "going_well");
}

mod agreements {
    use super::*;
    use api::service::agreements::{AgreementStatus, AgreementView};
    use reqwest::Method;
    use serde_json::Value;

    fn terms(cadence: &str, goals: &[&str]) -> Value {
        json!({
            "goals": goals,
            "cadence": cadence,
            "duration_months": 6,
            "mode": "video",
            "confidentiality": "What we discuss about clients stays between us.",
        })
    }

    async fn put(app: &TestApp, who: &Practitioner, id: &str, body: Value) -> reqwest::Response {
        let path = format!("/api/v1/connections/{id}/agreement");
        app.send(Method::PUT, &path, &body, Some(&who.access_token))
            .await
    }

    async fn peers(app: &TestApp) -> (Practitioner, Practitioner, String) {
        let ana = app.practitioner("Ana").at("Dubbo").await;
        let ben = app.practitioner("Ben").at("Dubbo").await;
        let asked = app.connect(&ana, &ben, "peer").await;
        assert_eq!(app.act(&ben, &asked.id, "accept").await.status(), 200);
        (ana, ben, asked.id)
    }

    #[on_both_engines]
    async fn one_side_proposes_the_other_edits_or_accepts_and_nobody_else_reads_it(app: &TestApp) {
        let (ana, ben, id) = peers(app).await;
        let goals = ["Plan home visits so that no week has more than three"];
        let proposed: AgreementView =
            body_of(put(app, &ana, &id, terms("Every two weeks", &goals)).await).await;
        assert_eq!(proposed.status, AgreementStatus::Proposed);
        assert!(!proposed.awaiting_me);
        app.smtp
            .wait_for_subject(&ben.email, "Ana proposed an agreement")
            .await;
        let accept = format!("/api/v1/connections/{id}/agreement/accept");
        let own = app.post_as(&ana, &accept, json!({})).await;
        assert_eq!(
            expect_problem(own, 403).await["type"],
            "/problems/not-your-move"
        );

        let seen: AgreementView = body_of(
            app.get_as(&ben, &format!("/api/v1/connections/{id}/agreement"))
                .await,
        )
        .await;
        assert!(seen.awaiting_me);
        let edited: AgreementView =
            body_of(put(app, &ben, &id, terms("Every week, half an hour", &goals)).await).await;
        assert!(!edited.awaiting_me);
        app.smtp
            .wait_for_subject(&ana.email, "Ben proposed an edit of your agreement")
            .await;
        let accepted: AgreementView = body_of(app.post_as(&ana, &accept, json!({})).await).await;
        assert_eq!(accepted.status, AgreementStatus::Accepted);
        assert_eq!(accepted.cadence, "Every week, half an hour");

        let cleo = app.practitioner("Cleo").await;
        let path = format!("/api/v1/connections/{id}/agreement");
        expect_problem(app.get_as(&cleo, &path).await, 404).await;
        expect_problem(put(app, &cleo, &id, terms("Daily", &goals)).await, 404).await;
        let admin = app.practitioner("Ada").await;
        app.make_admin(&admin).await;
        expect_problem(app.get_as(&admin, &path).await, 404).await;
        let stats = app
            .get_as(&admin, "/api/v1/admin/stats")
            .await
            .text()
            .await
            .unwrap();
        let figures: Value = serde_json::from_str(&stats).unwrap();
        assert_eq!(figures["follow_through"]["agreements_accepted"], 1);
        assert!(!stats.contains("home visits") && !stats.contains("half an hour"));

        let export: Value = body_of(app.get_as(&ben, "/api/v1/me/export").await).await;
        assert_eq!(export["agreements"][0]["goals"][0]["text"], goals[0]);
    }

    #[on_both_engines]
    async fn goals_are_marked_done_and_stay_done_through_an_edit_that_keeps_them(app: &TestApp) {
        let (ana, ben, id) = peers(app).await;
        put(app, &ana, &id, terms("Monthly", &["Write a caseload plan"])).await;
        let goal = |n: u32| format!("/api/v1/connections/{id}/agreement/goals/{n}");
        let marked: AgreementView = body_of(
            app.send(
                Method::PUT,
                &goal(0),
                &json!({"done": true}),
                Some(&ben.access_token),
            )
            .await,
        )
        .await;
        assert!(marked.goals[0].done);
        let missing = app
            .send(
                Method::PUT,
                &goal(5),
                &json!({"done": true}),
                Some(&ben.access_token),
            )
            .await;
        expect_problem(missing, 404).await;
        let edited: AgreementView = body_of(
            put(
                app,
                &ana,
                &id,
                terms("Monthly", &["Write a caseload plan", "Present a case"]),
            )
            .await,
        )
        .await;
        assert_eq!(
            edited.goals.iter().map(|g| g.done).collect::<Vec<_>>(),
            [true, false]
        );
    }

    #[on_both_engines]
    async fn bad_terms_are_refused_naming_every_field_and_only_accepted_connections_agree(
        app: &TestApp,
    ) {
        let (ana, _, id) = peers(app).await;
        let bad = json!({
            "goals": [],
            "cadence": " ",
            "duration_months": 0,
            "mode": "video",
            "confidentiality": "x".repeat(1001),
        });
        let problem = expect_problem(put(app, &ana, &id, bad).await, 422).await;
        for field in ["goals", "cadence", "duration_months", "confidentiality"] {
            assert!(problem["errors"][field].is_array(), "{field}: {problem}");
        }
        let path = format!("/api/v1/connections/{id}/agreement");
        expect_problem(app.get_as(&ana, &path).await, 404).await;

        let cleo = app.practitioner("Cleo").at("Dubbo").await;
        let pending = app.connect(&ana, &cleo, "peer").await;
        let early = put(app, &ana, &pending.id, terms("Monthly", &["A goal"])).await;
        assert_eq!(
            expect_problem(early, 409).await["type"],
            "/problems/invalid-status"
        );
    }
}
