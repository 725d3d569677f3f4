use api::service::{
    circle_meetings::MeetingView,
    circles::CircleView,
    log::{LogEntry, LogSummary},
};
use chrono::{Datelike, Duration, NaiveDate, Utc};
use reqwest::Method;
use serde_json::{json, Value};
use tests::{body_of, expect_problem, on_both_engines, wire::Page, Practitioner, TestApp};

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

fn entry(day: NaiveDate, minutes: i32, kind: &str, title: &str) -> Value {
    json!({"occurred_on": day.to_string(), "minutes": minutes, "kind": kind, "title": title})
}

async fn log(app: &TestApp, who: &Practitioner, body: Value) -> LogEntry {
    let response = app.post_as(who, "/api/v1/me/log", body).await;
    assert_eq!(response.status(), 201);
    body_of(response).await
}

async fn send(
    app: &TestApp,
    who: &Practitioner,
    method: Method,
    path: &str,
    body: Value,
) -> reqwest::Response {
    app.send(method, path, &body, Some(&who.access_token)).await
}

async fn choose(app: &TestApp, who: &Practitioner, body: Value) -> reqwest::Response {
    send(app, who, Method::PUT, "/api/v1/me/log/requirement", body).await
}

async fn summary(app: &TestApp, who: &Practitioner) -> LogSummary {
    body_of(app.get_as(who, "/api/v1/me/log/summary").await).await
}

async fn entries(app: &TestApp, who: &Practitioner) -> Vec<LogEntry> {
    let page: Page<LogEntry> = body_of(app.get_as(who, "/api/v1/me/log").await).await;
    page.items
}

#[on_both_engines]
async fn only_its_owner_reads_edits_or_deletes_an_entry(app: &TestApp) {
    let ana = app.practitioner("Ana").await;
    let ben = app.practitioner("Ben").await;
    let mut body = entry(today(), 90, "course", "Falls prevention webinar");
    body["reflection"] = json!("Check footwear at every first visit.");
    let made = log(app, &ana, body).await;
    assert_eq!(made.minutes, 90);
    assert!(!made.draft);

    assert!(entries(app, &ben).await.is_empty());
    let path = format!("/api/v1/me/log/{}", made.id);
    let patch = json!({"title": "Not mine"});
    expect_problem(send(app, &ben, Method::PATCH, &path, patch).await, 404).await;
    expect_problem(send(app, &ben, Method::DELETE, &path, json!({})).await, 404).await;

    let changed: LogEntry = body_of(
        send(
            app,
            &ana,
            Method::PATCH,
            &path,
            json!({"minutes": 60, "reflection": ""}),
        )
        .await,
    )
    .await;
    assert_eq!(changed.minutes, 60);
    assert_eq!(changed.reflection, None);
    assert_eq!(changed.title, "Falls prevention webinar");
    assert_eq!(entries(app, &ana).await.len(), 1);
    let gone = send(app, &ana, Method::DELETE, &path, json!({})).await;
    assert_eq!(gone.status(), 204);
    assert!(entries(app, &ana).await.is_empty());
}

#[on_both_engines]
async fn a_bad_entry_is_refused_naming_every_field_and_nothing_is_stored(app: &TestApp) {
    let ana = app.practitioner("Ana").await;
    let future = today() + Duration::days(5);
    let body = json!({
        "occurred_on": future.to_string(),
        "minutes": 0,
        "kind": "course",
        "title": "   ",
        "reflection": "x".repeat(4001),
    });
    let problem = expect_problem(app.post_as(&ana, "/api/v1/me/log", body).await, 422).await;
    for field in ["occurred_on", "minutes", "title", "reflection"] {
        assert!(problem["errors"][field].is_array(), "{field}: {problem}");
    }
    let unknown = entry(today(), 30, "gardening", "Weeding");
    expect_problem(app.post_as(&ana, "/api/v1/me/log", unknown).await, 422).await;
    let garbled = json!({"occurred_on": "last tuesday", "minutes": 30, "kind": "reading", "title": "A paper"});
    let problem = expect_problem(app.post_as(&ana, "/api/v1/me/log", garbled).await, 422).await;
    assert!(problem["errors"]["occurred_on"].is_array());
    assert!(entries(app, &ana).await.is_empty());

    let made = log(app, &ana, entry(today(), 30, "reading", "A paper")).await;
    let path = format!("/api/v1/me/log/{}", made.id);
    let problem = expect_problem(
        send(
            app,
            &ana,
            Method::PATCH,
            &path,
            json!({"draft": true, "minutes": 5000}),
        )
        .await,
        422,
    )
    .await;
    assert!(problem["errors"]["draft"].is_array() && problem["errors"]["minutes"].is_array());
    assert_eq!(entries(app, &ana).await[0].minutes, 30);
}

#[on_both_engines]
async fn an_entry_links_only_to_the_callers_own_connections_and_circles(app: &TestApp) {
    let ana = app.practitioner("Ana").await;
    let ben = app.practitioner("Ben").await;
    let cleo = app.practitioner("Cleo").await;
    let theirs = app.connect(&ben, &cleo, "peer").await;
    assert_eq!(app.act(&cleo, &theirs.id, "accept").await.status(), 200);
    let mut body = entry(today(), 60, "peer_supervision", "Peer supervision");
    body["connection_id"] = json!(theirs.id);
    let problem =
        expect_problem(app.post_as(&ana, "/api/v1/me/log", body.clone()).await, 422).await;
    assert!(problem["errors"]["connection_id"].is_array());

    let ours = app.connect(&ana, &ben, "peer").await;
    body["connection_id"] = json!(ours.id);
    // Not yet accepted: nothing took place in it.
    expect_problem(app.post_as(&ana, "/api/v1/me/log", body.clone()).await, 422).await;
    assert_eq!(app.act(&ben, &ours.id, "accept").await.status(), 200);
    let made = log(app, &ana, body).await;
    assert_eq!(made.connection_id.map(|id| id.to_string()), Some(ours.id));

    let circle: CircleView = body_of(
        app.post_as(
            &ben,
            "/api/v1/circles",
            json!({"domain": "Hand therapy, rural", "cap": 4}),
        )
        .await,
    )
    .await;
    let mut body = entry(today(), 60, "community_of_practice", "Circle meeting");
    body["circle_id"] = json!(circle.circle.id);
    let problem =
        expect_problem(app.post_as(&ana, "/api/v1/me/log", body.clone()).await, 422).await;
    assert!(problem["errors"]["circle_id"].is_array());
    log(app, &ben, body).await;
}

#[on_both_engines]
async fn progress_counts_confirmed_hours_in_the_registration_year_and_names_the_gaps(
    app: &TestApp,
) {
    let ana = app.practitioner("Ana").await;
    let unknown = choose(app, &ana, json!({"code": "nope"})).await;
    expect_problem(unknown, 422).await;
    let before = summary(app, &ana).await;
    assert!(before.requirement.is_none());
    assert!(before.gaps[0].contains("Choose the requirement"));

    let chosen: LogSummary = body_of(choose(app, &ana, json!({"code": "otba"})).await).await;
    // The Occupational Therapy Board of Australia's registration year starts on 1 December.
    let t = today();
    let start_year = if t.month() == 12 {
        t.year()
    } else {
        t.year() - 1
    };
    assert_eq!(
        chosen.period_from,
        NaiveDate::from_ymd_opt(start_year, 12, 1).unwrap()
    );
    assert_eq!(
        chosen.period_to,
        NaiveDate::from_ymd_opt(start_year + 1, 11, 30).unwrap()
    );
    assert_eq!(chosen.required_minutes, Some(20 * 60));

    let mut reflected = entry(t, 240, "course", "Splinting course");
    reflected["reflection"] = json!("Thermoplastic for night splints.");
    log(app, &ana, reflected).await;
    let mut mentoring = entry(t, 120, "mentoring_received", "Mentoring");
    mentoring["reflection"] = json!("Plan for complex discharges.");
    log(app, &ana, mentoring).await;
    log(app, &ana, entry(t, 240, "reading", "Three papers on falls")).await;
    // Before the period: not counted.
    log(
        app,
        &ana,
        entry(
            chosen.period_from - Duration::days(1),
            600,
            "course",
            "Last year's course",
        ),
    )
    .await;

    let now = summary(app, &ana).await;
    assert_eq!(now.logged_minutes, 600);
    assert_eq!(now.without_reflection, 1);
    let reading = now
        .by_kind
        .iter()
        .find(|k| k.kind == api::domain::log::ActivityKind::Reading);
    assert_eq!(reading.map(|k| k.minutes), Some(240));
    assert!(
        now.gaps
            .iter()
            .any(|g| g.starts_with("10 more hours to log by")),
        "{:?}",
        now.gaps
    );
    assert!(
        now.gaps
            .iter()
            .any(|g| g.starts_with("1 entry has no reflection")),
        "{:?}",
        now.gaps
    );

    let cleared: LogSummary = body_of(choose(app, &ana, json!({"code": null})).await).await;
    assert!(cleared.requirement.is_none());
}

#[on_both_engines]
async fn the_log_pages_newest_first_and_filters_by_day(app: &TestApp) {
    let ana = app.practitioner("Ana").await;
    let t = today();
    for n in 0..3 {
        log(
            app,
            &ana,
            entry(t - Duration::days(n), 30, "reading", &format!("Paper {n}")),
        )
        .await;
    }
    let first: Page<LogEntry> = body_of(app.get_as(&ana, "/api/v1/me/log?limit=2").await).await;
    assert_eq!(
        first
            .items
            .iter()
            .map(|e| e.title.as_str())
            .collect::<Vec<_>>(),
        ["Paper 0", "Paper 1"]
    );
    let cursor = first.next_cursor.expect("a second page");
    let second: Page<LogEntry> = body_of(
        app.get_as(&ana, &format!("/api/v1/me/log?limit=2&cursor={cursor}"))
            .await,
    )
    .await;
    assert_eq!(second.items.len(), 1);
    assert!(second.next_cursor.is_none());
    let day = (t - Duration::days(1)).to_string();
    let one: Page<LogEntry> = body_of(
        app.get_as(&ana, &format!("/api/v1/me/log?from={day}&to={day}"))
            .await,
    )
    .await;
    assert_eq!(one.items.len(), 1);
    let backwards = format!("/api/v1/me/log?from={t}&to={day}");
    expect_problem(app.get_as(&ana, &backwards).await, 422).await;
}

#[on_both_engines]
async fn the_log_exports_as_csv_and_pdf_for_an_audit(app: &TestApp) {
    let ana = app.practitioner("Ana").await;
    choose(app, &ana, json!({"code": "otba"})).await;
    let t = today();
    let mut course = entry(t, 90, "course", "Seating, \"pressure\" care, and you");
    course["reflection"] = json!("Line one.\nLine two, with a comma.");
    log(app, &ana, course).await;
    log(
        app,
        &ana,
        entry(t, 45, "peer_supervision", "Peer supervision with Ben"),
    )
    .await;

    let csv = app.get_as(&ana, "/api/v1/me/log/export.csv").await;
    assert_eq!(csv.status(), 200);
    assert!(csv.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    assert!(csv.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("attachment"));
    assert_eq!(csv.headers()["cache-control"], "no-store");
    let text = csv.text().await.unwrap();
    let mut rows = csv_rows(&text);
    assert_eq!(
        rows.remove(0)[..6],
        ["date", "hours", "minutes", "kind", "title", "reflection"]
    );
    assert_eq!(rows.len(), 2);
    let seating = rows
        .iter()
        .find(|r| r[4].starts_with("Seating"))
        .expect("the course");
    assert_eq!(seating[4], "Seating, \"pressure\" care, and you");
    assert_eq!(seating[5], "Line one.\nLine two, with a comma.");
    assert_eq!(seating[1], "1.50");
    assert_eq!(seating[3], "Course");

    let pdf = app.get_as(&ana, "/api/v1/me/log/export.pdf").await;
    assert_eq!(pdf.status(), 200);
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    let bytes = pdf.bytes().await.unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    assert!(bytes.trim_ascii_end().ends_with(b"%%EOF"));
    let body = String::from_utf8_lossy(&bytes);
    for shown in [
        "(Professional development log)",
        "(Seating, \"pressure\" care, and you)",
        "(Peer supervision with Ben)",
        "(Reflection: Line one.)",
        "(Course: 1.50 h in 1 activity)",
        "(All kinds: 2.25 h)",
        "(Required in the period: 20 h; 17.75 h to go)",
        "(Reported to: Occupational Therapy Board of Australia)",
    ] {
        assert!(body.contains(shown), "{shown} is not in the PDF");
    }

    let ben = app.practitioner("Ben").await;
    let theirs = app
        .get_as(&ben, "/api/v1/me/log/export.csv")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(csv_rows(&theirs).len(), 1, "Ben's log is his own");
    assert_eq!(
        app.get("/api/v1/me/log/export.pdf", None).await.status(),
        401
    );
}

/// The CSV's records, read the way a spreadsheet would (quoted fields may hold commas,
/// quotes and line breaks).
fn csv_rows(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let (mut row, mut field, mut quoted) = (Vec::new(), String::new(), false);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => row.push(std::mem::take(&mut field)),
            ('\n', false) => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            ('\r', false) => {}
            (c, _) => field.push(c),
        }
    }
    rows
}

#[on_both_engines]
async fn a_held_circle_meeting_leaves_drafts_to_confirm_for_those_who_came(app: &TestApp) {
    use api::store::entities::circle_meetings;
    use sea_orm::{ActiveModelTrait, Set};

    let mia = app.practitioner("Mia").await;
    let sam = app.practitioner("Sam").await;
    let zoe = app.practitioner("Zoe").await;
    let circle: CircleView = body_of(
        app.post_as(
            &mia,
            "/api/v1/circles",
            json!({"domain": "Falls prevention at home", "cap": 6, "admission": "open"}),
        )
        .await,
    )
    .await;
    let path = |rest: &str| format!("/api/v1/circles/{}{rest}", circle.circle.id);
    for who in [&sam, &zoe] {
        assert_eq!(
            app.post_as(who, &path("/join"), json!({})).await.status(),
            200
        );
    }
    let day = today() + Duration::days(3);
    let made: Vec<MeetingView> = body_of(
        app.post_as(
            &mia,
            &path("/meetings"),
            json!({"title": "Case discussion", "starts_at": format!("{day}T18:00"), "duration_minutes": 75}),
        )
        .await,
    )
    .await;
    let meeting = &made[0];
    let rsvp = path(&format!("/meetings/{}/rsvp", meeting.id));
    send(app, &sam, Method::PUT, &rsvp, json!({"attending": true})).await;
    send(app, &zoe, Method::PUT, &rsvp, json!({"attending": false})).await;
    let held = path(&format!("/meetings/{}/held", meeting.id));
    let early = expect_problem(app.post_as(&mia, &held, json!({})).await, 409).await;
    assert_eq!(early["type"], "/problems/invalid-status");

    // The meeting takes place.
    circle_meetings::ActiveModel {
        id: Set(meeting.id),
        starts_at: Set(Utc::now() - Duration::hours(2)),
        ..Default::default()
    }
    .update(&app.db)
    .await
    .unwrap();
    let outsider = app.practitioner("Olga").await;
    expect_problem(app.post_as(&outsider, &held, json!({})).await, 404).await;
    for _ in 0..2 {
        assert_eq!(app.post_as(&mia, &held, json!({})).await.status(), 204);
    }

    let drafts = entries(app, &sam).await;
    assert_eq!(drafts.len(), 1, "one draft however often it is marked held");
    let draft = &drafts[0];
    assert!(draft.draft);
    assert_eq!(draft.minutes, 75);
    assert_eq!(draft.title, "Case discussion");
    assert_eq!(draft.circle_meeting_id, Some(meeting.id));
    assert_eq!(entries(app, &mia).await.len(), 1, "whoever marked it held");
    assert!(
        entries(app, &zoe).await.is_empty(),
        "not who said they would not come"
    );

    let before = summary(app, &sam).await;
    assert_eq!((before.drafts, before.logged_minutes), (1, 0));
    let confirm = send(
        app,
        &sam,
        Method::PATCH,
        &format!("/api/v1/me/log/{}", draft.id),
        json!({"draft": false, "reflection": "Two new ideas for bathroom rails."}),
    )
    .await;
    assert_eq!(confirm.status(), 200);
    let after = summary(app, &sam).await;
    assert_eq!((after.drafts, after.logged_minutes), (0, 75));
}

#[on_both_engines]
async fn the_export_carries_the_log_and_erasure_removes_it(app: &TestApp) {
    use api::store::entities::log_entries;
    use sea_orm::{EntityTrait, PaginatorTrait};

    let ana = app.practitioner("Ana").await;
    choose(
        app,
        &ana,
        json!({"code": "hcpc", "cycle_start": "2025-09-01"}),
    )
    .await;
    log(
        app,
        &ana,
        entry(today(), 60, "reading", "A paper on pressure care"),
    )
    .await;
    let export: Value = body_of(app.get_as(&ana, "/api/v1/me/export").await).await;
    assert_eq!(export["development_log"]["requirement"], "hcpc");
    assert_eq!(export["development_log"]["cycle_start"], "2025-09-01");
    assert_eq!(
        export["development_log"]["entries"][0]["title"],
        "A paper on pressure care"
    );

    assert_eq!(app.erase(&ana, &ana.password).await.status(), 204);
    assert_eq!(log_entries::Entity::find().count(&app.db).await.unwrap(), 0);
}

#[on_both_engines]
async fn requirements_are_listed_with_their_sources(app: &TestApp) {
    let all: Vec<Value> = body_of(app.get("/api/v1/log/requirements", None).await).await;
    let codes: Vec<&str> = all.iter().filter_map(|r| r["code"].as_str()).collect();
    for code in ["otba", "pba", "hcpc", "nbcot"] {
        assert!(codes.contains(&code), "{code}");
    }
    assert!(all.iter().all(|r| r["source"]
        .as_str()
        .is_some_and(|s| s.starts_with("https://"))));
}
