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
async fn who_turns_follow_through_emails_off_is_asked_in_the_app_only(app: &TestApp) {
    let ana = app.practitioner("Ana").seeking_a_mentor().at("Dubbo").await;
    let cleo = app.practitioner("Cleo").mentoring(2).at("Dubbo").await;
    let off = json!({"connection_requests": true, "match_digest": true, "follow_through": false});
    let saved = app
        .send(
            reqwest::Method::PUT,
            "/api/v1/me/notifications",
            &off,
            Some(&ana.access_token),
        )
        .await;
    let saved: serde_json::Value = body_of(saved).await;
    assert_eq!(saved["follow_through"], false);
    let asked = app.connect(&ana, &cleo, "mentorship").await;
    assert_eq!(app.act(&cleo, &asked.id, "accept").await.status(), 200);
    let email = app.smtp.wait_for_subject(&cleo.email, ASKED).await;
    assert_eq!(
        email.header("List-Unsubscribe-Post").as_deref(),
        Some("List-Unsubscribe=One-Click")
    );
    tests::eventually(
        "Ana's check-in in the app",
        Duration::from_secs(5),
        || async { open_check_ins(app, &ana).await.len() == 1 },
    )
    .await;
    assert_eq!(
        app.smtp.count_subject(&ana.email, ASKED),
        0,
        "no email for Ana"
    );
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

mod meetings {
    use super::*;
    use api::{
        domain::follow_through::MeetingStatus,
        service::{connection_meetings::ConnectionMeetingView, log::LogEntry},
        store::entities::connection_meetings,
    };
    use chrono::{Datelike, NaiveDate, Utc};
    use reqwest::Method;
    use sea_orm::{ActiveModelTrait, Set};
    use serde_json::Value;
    use tests::wire::Page;

    /// Ana (Sydney time) is mentored by Cleo, who works on Brisbane time.
    async fn pair(app: &TestApp) -> (Practitioner, Practitioner, String) {
        let ana = app.practitioner("Ana").seeking_a_mentor().at("Dubbo").await;
        let cleo = app
            .practitioner("Cleo")
            .mentoring(2)
            .with(json!({"timezone": "Australia/Brisbane"}))
            .at("Brisbane")
            .await;
        let asked = app.connect(&ana, &cleo, "mentorship").await;
        assert_eq!(app.act(&cleo, &asked.id, "accept").await.status(), 200);
        (ana, cleo, asked.id)
    }

    /// A day in January, when Sydney keeps daylight time (UTC+11) and Brisbane does not
    /// (UTC+10).
    fn january() -> NaiveDate {
        let year = Utc::now().year() + 1;
        NaiveDate::from_ymd_opt(year, 1, 14).expect("a day")
    }

    fn meetings_path(connection: &str, rest: &str) -> String {
        format!("/api/v1/connections/{connection}/meetings{rest}")
    }

    async fn propose(
        app: &TestApp,
        who: &Practitioner,
        connection: &str,
        times: &[String],
    ) -> ConnectionMeetingView {
        let body = json!({"title": "Caseload planning", "times": times, "duration_minutes": 45, "location": "https://meet.example.org/ana-cleo"});
        let response = app.post_as(who, &meetings_path(connection, ""), body).await;
        assert_eq!(response.status(), 201);
        body_of(response).await
    }

    async fn listed(
        app: &TestApp,
        who: &Practitioner,
        connection: &str,
    ) -> Vec<ConnectionMeetingView> {
        body_of(app.get_as(who, &meetings_path(connection, "")).await).await
    }

    async fn choose(
        app: &TestApp,
        who: &Practitioner,
        connection: &str,
        meeting: &ConnectionMeetingView,
        at: Value,
    ) -> reqwest::Response {
        let path = meetings_path(connection, &format!("/{}/choose", meeting.id));
        app.post_as(who, &path, json!({"starts_at": at})).await
    }

    /// Proposed by Ana at two times in January, and Cleo picked the second.
    async fn scheduled(
        app: &TestApp,
    ) -> (Practitioner, Practitioner, String, ConnectionMeetingView) {
        let (ana, cleo, connection) = pair(app).await;
        let day = january();
        let proposed = propose(
            app,
            &ana,
            &connection,
            &[
                format!("{day}T18:00"),
                format!("{}T07:30", day.succ_opt().expect("a day")),
            ],
        )
        .await;
        let at = json!(proposed.options[0].starts_at);
        let response = choose(app, &cleo, &connection, &proposed, at).await;
        assert_eq!(response.status(), 200);
        (ana, cleo, connection, body_of(response).await)
    }

    #[on_both_engines]
    async fn the_other_side_picks_a_proposed_time_and_both_get_the_invitation_in_their_own_time(
        app: &TestApp,
    ) {
        let (ana, cleo, connection) = pair(app).await;
        let day = january();
        let next = day.succ_opt().expect("a day");
        let proposed = propose(
            app,
            &ana,
            &connection,
            &[format!("{next}T07:30"), format!("{day}T18:00")],
        )
        .await;
        assert_eq!(proposed.status, MeetingStatus::Proposed);
        assert!(proposed.proposed_by_me && !proposed.awaiting_me);
        assert_eq!(proposed.timezone, "Australia/Sydney");

        let proposal = app
            .smtp
            .wait_for_subject(&cleo.email, "Ana proposed a meeting")
            .await;
        assert!(
            proposal.text().contains("17:00 (Australia/Brisbane)"),
            "times in Cleo's own zone: {}",
            proposal.text()
        );
        let seen = listed(app, &cleo, &connection).await;
        assert!(seen[0].awaiting_me);
        let local: Vec<&str> = seen[0]
            .options
            .iter()
            .map(|o| o.local_start.as_str())
            .collect();
        assert_eq!(
            local,
            [format!("{day}T17:00"), format!("{next}T06:30")],
            "soonest first, on Brisbane time"
        );

        let outsider = app.practitioner("Olga").await;
        expect_problem(
            app.get_as(&outsider, &meetings_path(&connection, "")).await,
            404,
        )
        .await;
        let first = json!(seen[0].options[0].starts_at);
        expect_problem(
            choose(app, &outsider, &connection, &seen[0], first.clone()).await,
            404,
        )
        .await;
        let own = expect_problem(
            choose(app, &ana, &connection, &seen[0], first.clone()).await,
            403,
        )
        .await;
        assert_eq!(own["type"], "/problems/not-your-move");
        let elsewhere = json!(format!("{day}T03:00:00Z"));
        expect_problem(
            choose(app, &cleo, &connection, &seen[0], elsewhere).await,
            422,
        )
        .await;

        let picked: ConnectionMeetingView =
            body_of(choose(app, &cleo, &connection, &seen[0], first.clone()).await).await;
        assert_eq!(picked.status, MeetingStatus::Scheduled);
        assert_eq!(
            picked.scheduled.as_ref().map(|t| t.local_start.clone()),
            Some(format!("{day}T17:00"))
        );
        expect_problem(choose(app, &cleo, &connection, &seen[0], first).await, 409).await;

        let compact = day.format("%Y%m%d");
        for (who, local) in [
            (&ana, "18:00 (Australia/Sydney)"),
            (&cleo, "17:00 (Australia/Brisbane)"),
        ] {
            let email = app.smtp.wait_for_subject(&who.email, "Meeting with").await;
            assert!(email.text().contains(local), "{}", email.text());
            let ics = email.calendar().expect("an invitation");
            assert!(ics.contains("METHOD:REQUEST\r\n"), "{ics}");
            assert!(ics.contains(&format!("UID:{}@", picked.id)), "{ics}");
            assert!(ics.contains("SEQUENCE:0\r\n"), "{ics}");
            assert!(
                ics.contains(&format!("DTSTART;TZID=Australia/Sydney:{compact}T180000")),
                "written in the proposer's zone: {ics}"
            );
            assert!(ics.contains("TZOFFSETTO:+1100"), "{ics}");
            assert!(ics.contains(&format!("mailto:{}", who.email)), "{ics}");
        }
    }

    #[on_both_engines]
    async fn a_change_keeps_the_uid_with_the_next_sequence_and_a_cancel_reaches_both_calendars(
        app: &TestApp,
    ) {
        let (ana, cleo, connection, meeting) = scheduled(app).await;
        app.smtp.wait_for_subject(&ana.email, "Meeting with").await;
        let path = meetings_path(&connection, &format!("/{}", meeting.id));
        let day = january();
        let change =
            json!({"starts_at": format!("{day}T19:00"), "location": "Phone: Cleo calls Ana"});
        let changed: ConnectionMeetingView = body_of(
            app.send(Method::PATCH, &path, &change, Some(&cleo.access_token))
                .await,
        )
        .await;
        assert_eq!(changed.sequence, 1);
        assert_eq!(changed.location.as_deref(), Some("Phone: Cleo calls Ana"));
        for who in [&ana, &cleo] {
            let email = app.smtp.wait_for_subject(&who.email, "Changed:").await;
            let ics = email.calendar().expect("an updated invitation");
            assert!(
                ics.contains(&format!("UID:{}@", meeting.id)) && ics.contains("SEQUENCE:1\r\n"),
                "{ics}"
            );
            assert!(
                ics.contains(&format!(
                    "DTSTART;TZID=Australia/Sydney:{}T190000",
                    day.format("%Y%m%d")
                )),
                "{ics}"
            );
        }
        let bad = json!({"duration_minutes": 5});
        expect_problem(
            app.send(Method::PATCH, &path, &bad, Some(&ana.access_token))
                .await,
            422,
        )
        .await;

        let cancel = format!("{path}/cancel");
        let cancelled: ConnectionMeetingView =
            body_of(app.post_as(&ana, &cancel, json!({})).await).await;
        assert_eq!(
            (cancelled.status, cancelled.sequence),
            (MeetingStatus::Cancelled, 2)
        );
        for who in [&ana, &cleo] {
            let email = app.smtp.wait_for_subject(&who.email, "Cancelled:").await;
            let ics = email.calendar().expect("a cancellation");
            assert!(
                ics.contains("METHOD:CANCEL\r\n")
                    && ics.contains("SEQUENCE:2\r\n")
                    && ics.contains("STATUS:CANCELLED"),
                "{ics}"
            );
            assert!(ics.contains(&format!("UID:{}@", meeting.id)), "{ics}");
        }
        expect_problem(app.post_as(&cleo, &cancel, json!({})).await, 409).await;
        expect_problem(
            app.send(Method::PATCH, &path, &change, Some(&cleo.access_token))
                .await,
            409,
        )
        .await;
    }

    #[on_both_engines]
    async fn bad_proposals_are_refused_and_only_accepted_connections_meet(app: &TestApp) {
        let (ana, _cleo, connection) = pair(app).await;
        let path = meetings_path(&connection, "");
        let day = january();
        for times in [
            json!([]),
            json!(["tomorrow evening"]),
            json!(["2020-01-01T10:00"]),
            json!((0..6).map(|h| format!("{day}T1{h}:00")).collect::<Vec<_>>()),
        ] {
            let body = json!({"title": "Catch-up", "times": times, "duration_minutes": 30});
            let problem = expect_problem(app.post_as(&ana, &path, body).await, 422).await;
            assert!(problem["errors"]["times"].is_array(), "{problem}");
        }
        let body =
            json!({"title": " ", "times": [format!("{day}T10:00")], "duration_minutes": 300});
        expect_problem(app.post_as(&ana, &path, body).await, 422).await;
        assert!(
            listed(app, &ana, &connection).await.is_empty(),
            "nothing was made"
        );

        let ben = app.practitioner("Ben").at("Dubbo").await;
        let pending = app.connect(&ana, &ben, "peer").await;
        let body =
            json!({"title": "Catch-up", "times": [format!("{day}T10:00")], "duration_minutes": 30});
        let refused = expect_problem(
            app.post_as(&ana, &meetings_path(&pending.id, ""), body)
                .await,
            409,
        )
        .await;
        assert_eq!(refused["type"], "/problems/invalid-status");
    }

    #[on_both_engines]
    async fn a_meeting_tomorrow_is_reminded_once_and_once_held_drafts_both_logs(app: &TestApp) {
        let (ana, cleo, connection) = pair(app).await;
        let soon = (Utc::now() + chrono::Duration::hours(3))
            .with_timezone(&chrono_tz::Australia::Sydney)
            .format("%Y-%m-%dT%H:%M")
            .to_string();
        let proposed = propose(app, &ana, &connection, &[soon]).await;
        let picked = choose(
            app,
            &cleo,
            &connection,
            &proposed,
            json!(proposed.options[0].starts_at),
        )
        .await;
        assert_eq!(picked.status(), 200);
        for who in [&ana, &cleo] {
            let email = app
                .smtp
                .wait_for_subject(&who.email, "Tomorrow: Caseload planning")
                .await;
            assert!(email.calendar().is_none());
        }
        tokio::time::sleep(Duration::from_millis(800)).await;
        assert_eq!(
            app.smtp.count_subject(&ana.email, "Tomorrow:"),
            1,
            "reminded once"
        );

        let held = meetings_path(&connection, &format!("/{}/held", proposed.id));
        let early = expect_problem(app.post_as(&ana, &held, json!({})).await, 409).await;
        assert_eq!(early["type"], "/problems/invalid-status");
        connection_meetings::ActiveModel {
            id: Set(proposed.id),
            starts_at: Set(Some(Utc::now() - chrono::Duration::hours(1))),
            ..Default::default()
        }
        .update(&app.db)
        .await
        .expect("the meeting took place");
        for _ in 0..2 {
            let view: ConnectionMeetingView =
                body_of(app.post_as(&cleo, &held, json!({})).await).await;
            assert!(view.held_at.is_some());
        }
        for (who, kind) in [(&ana, "mentoring_received"), (&cleo, "mentoring_given")] {
            let page: Page<LogEntry> = body_of(app.get_as(who, "/api/v1/me/log").await).await;
            assert_eq!(
                page.items.len(),
                1,
                "one draft however often it is marked held"
            );
            let draft = &page.items[0];
            assert!(draft.draft);
            assert_eq!((draft.kind.code(), draft.minutes), (kind, 45));
            assert_eq!(
                draft.connection_id.map(|c| c.to_string()),
                Some(connection.clone())
            );
        }
        let export: Value = body_of(app.get_as(&ana, "/api/v1/me/export").await).await;
        assert_eq!(export["connection_meetings"][0]["id"], json!(proposed.id));
    }

    #[on_both_engines]
    async fn a_meeting_said_not_to_have_happened_drafts_nothing_and_cannot_be_held(app: &TestApp) {
        let (ana, cleo, connection, meeting) = scheduled(app).await;
        let missed = meetings_path(&connection, &format!("/{}/missed", meeting.id));
        let early = expect_problem(app.post_as(&cleo, &missed, json!({})).await, 409).await;
        assert_eq!(early["type"], "/problems/invalid-status");
        connection_meetings::ActiveModel {
            id: Set(meeting.id),
            starts_at: Set(Some(Utc::now() - chrono::Duration::hours(1))),
            ..Default::default()
        }
        .update(&app.db)
        .await
        .expect("the time passed");
        let view: ConnectionMeetingView =
            body_of(app.post_as(&cleo, &missed, json!({})).await).await;
        assert_eq!(view.status, MeetingStatus::Missed);
        let held = meetings_path(&connection, &format!("/{}/held", meeting.id));
        expect_problem(app.post_as(&ana, &held, json!({})).await, 409).await;
        expect_problem(app.post_as(&ana, &missed, json!({})).await, 409).await;
        let page: Page<LogEntry> = body_of(app.get_as(&ana, "/api/v1/me/log").await).await;
        assert!(page.items.is_empty(), "nothing to log");
    }

    #[on_both_engines]
    async fn erasing_one_side_removes_their_meetings_and_agreement_for_both(app: &TestApp) {
        use api::store::entities::{agreements, connection_meetings as rows};
        use sea_orm::{EntityTrait, PaginatorTrait};
        let (ana, cleo, connection, _) = scheduled(app).await;
        let terms = json!({"goals": ["Plan the week"], "cadence": "Weekly", "duration_months": 3, "mode": "video"});
        let path = format!("/api/v1/connections/{connection}/agreement");
        let agreed = app
            .send(Method::PUT, &path, &terms, Some(&ana.access_token))
            .await;
        assert_eq!(agreed.status(), 200);
        assert_eq!(rows::Entity::find().count(&app.db).await.expect("count"), 1);
        assert_eq!(app.erase(&ana, tests::PASSWORD).await.status(), 204);
        assert_eq!(rows::Entity::find().count(&app.db).await.expect("count"), 0);
        assert_eq!(
            agreements::Entity::find()
                .count(&app.db)
                .await
                .expect("count"),
            0
        );
        expect_problem(
            app.get_as(&cleo, &meetings_path(&connection, "")).await,
            404,
        )
        .await;
    }

    #[on_both_engines]
    async fn admins_see_mentorships_with_no_meeting_in_thirty_days_and_the_outcomes(app: &TestApp) {
        use api::store::entities::connections;
        let (ana, cleo, connection) = pair(app).await;
        let admin = app.admin().await;
        let read = || async {
            let stats: Value = body_of(app.get_as(&admin, "/api/v1/admin/stats").await).await;
            stats["outcomes"].clone()
        };
        let outcomes = read().await;
        assert_eq!(
            outcomes["quiet_mentorships"],
            json!([]),
            "accepted just now"
        );
        assert_eq!(outcomes["days_to_first_connection"]["count"], 2);
        assert!(outcomes["days_to_first_connection"]["median"]
            .as_f64()
            .is_some_and(|d| d < 0.01));

        connections::ActiveModel {
            id: Set(uuid::Uuid::parse_str(&connection).expect("an id")),
            responded_at: Set(Some(Utc::now() - chrono::Duration::days(31))),
            ..Default::default()
        }
        .update(&app.db)
        .await
        .expect("accepted a month ago");
        let outcomes = read().await;
        assert_eq!(
            outcomes["quiet_mentorships"][0]["connection_id"],
            json!(connection)
        );
        assert_eq!(
            outcomes["quiet_mentorships"][0]["mentor_id"],
            json!(cleo.user_id)
        );
        assert_eq!(
            outcomes["quiet_mentorships"][0]["mentee_id"],
            json!(ana.user_id)
        );

        // A meeting planned again takes it off the list.
        let day = january();
        let proposed = propose(app, &ana, &connection, &[format!("{day}T18:00")]).await;
        choose(
            app,
            &cleo,
            &connection,
            &proposed,
            json!(proposed.options[0].starts_at),
        )
        .await;
        let outcomes = read().await;
        assert_eq!(outcomes["quiet_mentorships"], json!([]));
        let practitioner = expect_problem(app.get_as(&ana, "/api/v1/admin/stats").await, 403).await;
        assert_eq!(practitioner["type"], "/problems/admin-only");
    }
}

mod mentors {
    use super::*;
    use serde_json::Value;

    fn quick_expiry(c: &mut Config) {
        c.request_ttl = Duration::from_secs(2);
    }

    #[on_both_engines(config = quick_expiry)]
    async fn a_mentor_who_lets_two_requests_expire_is_paused_and_told_how_to_resume(app: &TestApp) {
        let cleo = app.practitioner("Cleo").mentoring(3).at("Dubbo").await;
        let ana = app.practitioner("Ana").seeking_a_mentor().at("Dubbo").await;
        let bea = app
            .practitioner("Bea")
            .seeking_a_mentor()
            .at("Orange")
            .await;
        let eve = app
            .practitioner("Eve")
            .seeking_a_mentor()
            .at("Orange")
            .await;
        assert!(app.suggests(&eve, "mentor", &cleo).await);
        app.connect(&ana, &cleo, "mentorship").await;
        app.smtp.wait_for_subject(&ana.email, "expired").await;
        assert!(
            app.smtp
                .messages_to(&cleo.email)
                .iter()
                .all(|m| !m.subject().contains("paused")),
            "one expiry does not pause"
        );
        app.connect(&bea, &cleo, "mentorship").await;
        let told = app
            .smtp
            .wait_for_subject(&cleo.email, "Your mentoring is paused")
            .await;
        assert!(told.text().contains("clear the pause"), "{}", told.text());

        let me: Value = body_of(app.get_as(&cleo, "/api/v1/me").await).await;
        assert!(
            me["profile"]["mentoring"]["paused_until"].is_string(),
            "{me}"
        );
        tests::eventually(
            "Cleo out of suggestions",
            Duration::from_secs(5),
            || async { !app.suggests(&eve, "mentor", &cleo).await },
        )
        .await;

        // Clearing the pause brings her back.
        let body = tests::profile_body(json!({
            "years_experience": 14,
            "seeking": {"peers": true, "mentor": false},
            "mentoring": {"offering": true, "capacity": 3, "paused_until": null},
            "display_name": "Cleo",
        }));
        assert_eq!(app.put_profile(&cleo, &body).await.status(), 200);
        tests::eventually(
            "Cleo back in suggestions",
            Duration::from_secs(5),
            || async { app.suggests(&eve, "mentor", &cleo).await },
        )
        .await;
    }

    fn quick_dormancy(c: &mut Config) {
        c.mentor_dormant_after = Duration::from_secs(3);
    }

    #[on_both_engines(config = quick_dormancy)]
    async fn a_mentor_away_too_long_drops_out_of_suggestions_until_they_sign_in(app: &TestApp) {
        let cleo = app.practitioner("Cleo").mentoring(2).at("Dubbo").await;
        let ana = app.practitioner("Ana").seeking_a_mentor().at("Dubbo").await;
        assert!(app.suggests(&ana, "mentor", &cleo).await);
        tests::eventually("Cleo dormant", Duration::from_secs(8), || async {
            !app.suggests(&ana, "mentor", &cleo).await
        })
        .await;
        app.sign_in(&cleo.email, tests::PASSWORD).await;
        assert!(app.suggests(&ana, "mentor", &cleo).await, "back at once");
    }
}
