mod directory;
mod places;

use reqwest::Method;
use serde_json::{json, Value};
use tests::{
    body_of, expect_problem, on_both_engines, place, position, profile_body, Practitioner,
    Statuses, TestApp, PASSWORD,
};

async fn patch(app: &TestApp, who: &Practitioner, body: Value) -> reqwest::Response {
    let token = Some(who.access_token.as_str());
    app.send(Method::PATCH, "/api/v1/me/profile", &body, token)
        .await
}

async fn saved_profile(app: &TestApp, who: &Practitioner, body: &Value) -> Value {
    body_of(app.put_profile(who, body).await).await
}

/// An out-of-bounds value for one field of ProfileInput gives a 422 that names exactly that
/// field, and saves nothing.
async fn only_this_field_is_refused(app: &TestApp, field: &str, value: Value) {
    let who = app.create_verified_practitioner("Bounds").await;
    let mut body = profile_body(json!({}));
    match field.split_once('.') {
        None => body[field] = value,
        Some((outer, inner)) => body[outer][inner] = value,
    }
    let problem = expect_problem(app.put_profile(&who, &body).await, 422).await;
    let fields: Vec<&String> = problem["errors"].as_object().unwrap().keys().collect();
    assert_eq!(fields, [field], "{problem}");
    let stored = app.me(&who).await;
    assert!(stored["profile"].is_null(), "nothing was saved");
}

#[on_both_engines]
async fn display_name_must_not_be_blank(app: &TestApp) {
    only_this_field_is_refused(app, "display_name", json!("   ")).await;
}

#[on_both_engines]
async fn display_name_is_at_most_80_characters(app: &TestApp) {
    only_this_field_is_refused(app, "display_name", json!("x".repeat(81))).await;
}

#[on_both_engines]
async fn profession_must_be_a_vocabulary_code(app: &TestApp) {
    only_this_field_is_refused(app, "profession", json!("astrology")).await;
}

#[on_both_engines]
async fn populations_need_at_least_one(app: &TestApp) {
    only_this_field_is_refused(app, "populations", json!([])).await;
}

#[on_both_engines]
async fn populations_are_at_most_ten(app: &TestApp) {
    only_this_field_is_refused(
        app,
        "populations",
        json!([
            "paediatrics",
            "adolescents",
            "adults",
            "older_adults",
            "mental_health",
            "neurology",
            "musculoskeletal",
            "developmental_disability",
            "acquired_brain_injury",
            "palliative_care",
            "hand_therapy"
        ]),
    )
    .await;
}

#[on_both_engines]
async fn populations_have_no_duplicates(app: &TestApp) {
    only_this_field_is_refused(app, "populations", json!(["adults", "adults"])).await;
}

#[on_both_engines]
async fn settings_need_at_least_one(app: &TestApp) {
    only_this_field_is_refused(app, "settings", json!([])).await;
}

#[on_both_engines]
async fn settings_must_be_vocabulary_codes(app: &TestApp) {
    only_this_field_is_refused(app, "settings", json!(["moon_base"])).await;
}

#[on_both_engines]
async fn latitude_is_within_90_degrees(app: &TestApp) {
    only_this_field_is_refused(
        app,
        "location",
        json!({"latitude": 90.5, "longitude": 10.0}),
    )
    .await;
}

#[on_both_engines]
async fn longitude_is_within_180_degrees(app: &TestApp) {
    only_this_field_is_refused(
        app,
        "location",
        json!({"latitude": 10.0, "longitude": -180.5}),
    )
    .await;
}

#[on_both_engines]
async fn years_experience_is_at_most_60(app: &TestApp) {
    only_this_field_is_refused(app, "years_experience", json!(61)).await;
}

#[on_both_engines]
async fn years_experience_is_not_negative(app: &TestApp) {
    only_this_field_is_refused(app, "years_experience", json!(-1)).await;
}

#[on_both_engines]
async fn languages_are_iso_639_1_codes(app: &TestApp) {
    only_this_field_is_refused(app, "languages", json!(["english"])).await;
}

#[on_both_engines]
async fn languages_need_at_least_one(app: &TestApp) {
    only_this_field_is_refused(app, "languages", json!([])).await;
}

#[on_both_engines]
async fn interests_are_at_most_twenty(app: &TestApp) {
    only_this_field_is_refused(
        app,
        "interests",
        json!((0..21).map(|i| format!("tag {i}")).collect::<Vec<_>>()),
    )
    .await;
}

#[on_both_engines]
async fn interests_are_at_most_40_characters(app: &TestApp) {
    only_this_field_is_refused(app, "interests", json!(["x".repeat(41)])).await;
}

#[on_both_engines]
async fn bio_is_at_most_1000_characters(app: &TestApp) {
    only_this_field_is_refused(app, "bio", json!("x".repeat(1001))).await;
}

#[on_both_engines]
async fn timezone_is_an_iana_name(app: &TestApp) {
    only_this_field_is_refused(app, "timezone", json!("Middle/Earth")).await;
}

#[on_both_engines]
async fn meeting_modes_are_virtual_or_in_person(app: &TestApp) {
    only_this_field_is_refused(app, "meeting_modes", json!(["telepathy"])).await;
}

#[on_both_engines]
async fn meeting_modes_need_at_least_one(app: &TestApp) {
    only_this_field_is_refused(app, "meeting_modes", json!([])).await;
}

#[on_both_engines]
async fn max_travel_km_is_at_most_1000(app: &TestApp) {
    only_this_field_is_refused(app, "max_travel_km", json!(1001)).await;
}

#[on_both_engines]
async fn works_alone_is_a_boolean(app: &TestApp) {
    only_this_field_is_refused(app, "works_alone", json!("yes")).await;
}

#[on_both_engines]
async fn seeking_peers_is_a_boolean(app: &TestApp) {
    only_this_field_is_refused(app, "seeking.peers", json!("sometimes")).await;
}

#[on_both_engines]
async fn mentoring_capacity_is_at_most_20(app: &TestApp) {
    only_this_field_is_refused(app, "mentoring.capacity", json!(21)).await;
}

#[on_both_engines]
async fn mentoring_paused_until_is_a_date(app: &TestApp) {
    only_this_field_is_refused(app, "mentoring.paused_until", json!("next tuesday")).await;
}

#[on_both_engines]
async fn a_full_profile_round_trips(app: &TestApp) {
    let who = app.create_verified_practitioner("Round Trip").await;
    let mentoring = json!({"offering": true, "capacity": 3, "paused_until": "2030-02-28"});
    let body = profile_body(json!({"mentoring": mentoring}));
    let saved = saved_profile(app, &who, &body).await;
    let fetched = app.me(&who).await;
    assert_eq!(fetched["profile"], saved);
    for (key, value) in body.as_object().unwrap() {
        assert_eq!(&saved[key], value, "{key}");
    }
    assert_eq!(saved["user_id"], json!(who.user_id));
    assert!(saved["updated_at"].is_string());
    assert_eq!(fetched["display_name"], "Sam Rivera");
}

#[on_both_engines]
async fn a_profile_at_dubbo_is_placed_in_dubbo(app: &TestApp) {
    let who = app.create_verified_practitioner("Dubbo OT").await;
    let saved = saved_profile(app, &who, &profile_body(json!({}))).await;
    assert_eq!(saved["place"]["name"], "Dubbo");
    assert_eq!(saved["place"]["country_code"], "AU");
    assert_eq!(saved["place"]["region"], "New South Wales");
}

#[on_both_engines]
async fn patch_changes_only_what_it_names(app: &TestApp) {
    let who = app.create_verified_practitioner("Patcher").await;
    let before = saved_profile(app, &who, &profile_body(json!({}))).await;
    let changes = json!({
        "bio": null,
        "mentoring": {"capacity": 2, "offering": true},
        "interests": ["Vestibular", "vestibular "]
    });
    let response = patch(app, &who, changes).await;
    assert_eq!(response.status(), 200);
    let after: Value = body_of(response).await;
    assert!(after["bio"].is_null());
    assert_eq!(after["mentoring"], json!({"offering": true, "capacity": 2}));
    assert_eq!(after["interests"], json!(["Vestibular"]));
    let unchanged = [
        "display_name",
        "profession",
        "populations",
        "settings",
        "location",
        "years_experience",
        "languages",
        "timezone",
        "meeting_modes",
        "max_travel_km",
        "works_alone",
        "seeking",
        "place",
    ];
    for key in unchanged {
        assert_eq!(after[key], before[key], "{key} changed");
    }
}

#[on_both_engines]
async fn patch_checks_bounds_as_put_does(app: &TestApp) {
    let who = app.practitioner("Patcher").await;
    let bad = patch(app, &who, json!({"years_experience": 99})).await;
    let problem = expect_problem(bad, 422).await;
    assert!(problem["errors"]["years_experience"].is_array());
}

#[on_both_engines]
async fn patch_without_a_profile_is_409(app: &TestApp) {
    let who = app.create_verified_practitioner("No Profile").await;
    expect_problem(patch(app, &who, json!({"bio": "x"})).await, 409).await;
}

#[on_both_engines]
async fn unknown_codes_list_the_allowed_codes(app: &TestApp) {
    let who = app.create_verified_practitioner("Coder").await;
    let body = profile_body(json!({"profession": "alchemy", "populations": ["dragons"]}));
    let problem = expect_problem(app.put_profile(&who, &body).await, 422).await;
    let message = problem["errors"]["profession"][0].as_str().unwrap();
    assert!(message.contains("occupational_therapy"), "{message}");
    assert!(message.contains("physiotherapy"), "{message}");
    let message = problem["errors"]["populations"][0].as_str().unwrap();
    assert!(message.contains("older_adults"), "{message}");
}

#[on_both_engines]
async fn role_and_user_id_in_the_body_change_nothing(app: &TestApp) {
    let who = app.create_verified_practitioner("Sneaky").await;
    let other = uuid::Uuid::new_v4();
    let sneaky = json!({"role": "admin", "user_id": other, "email_verified": false});
    let saved = saved_profile(app, &who, &profile_body(sneaky)).await;
    assert_eq!(saved["user_id"], json!(who.user_id));
    let account = app.me(&who).await;
    assert_eq!(account["role"], "practitioner");
    assert_eq!(account["email_verified"], true);
    let admin = app.get_as(&who, "/api/v1/admin/stats").await;
    assert_ne!(admin.status(), 200);
}

#[on_both_engines]
async fn the_vocabulary_is_public(app: &TestApp) {
    let lists: Value = body_of(app.get("/api/v1/vocabulary", None).await).await;
    for list in ["professions", "populations", "settings", "meeting_modes"] {
        let entries = lists[list].as_array().unwrap();
        assert!(!entries.is_empty());
        let well_formed = |e: &Value| e["code"].is_string() && e["label"].is_string();
        assert!(entries.iter().all(well_formed), "{list}");
    }
    let professions = lists["professions"].as_array().unwrap();
    assert!(professions
        .iter()
        .any(|e| e["code"] == "occupational_therapy"));
}

#[on_both_engines]
async fn others_see_no_email_coordinates_or_exact_distance(app: &TestApp) {
    let target = app.practitioner("Target").await;
    let viewer = app.practitioner("Viewer").at("Orange").await;
    let response = app.public_profile(&viewer, &target).await;
    assert_eq!(response.status(), 200);
    let public: Value = body_of(response).await;
    let text = public.to_string();
    assert!(!text.contains(&target.email));
    assert!(!text.contains("148.60") && !text.contains("-32.25"));
    for hidden in [
        "email",
        "location",
        "max_travel_km",
        "role",
        "email_verified",
    ] {
        assert!(public.get(hidden).is_none(), "{hidden} is visible");
    }
    let distance = public["distance_km"].as_u64().unwrap();
    assert_eq!(distance % 10, 0);
    assert!((100..=150).contains(&distance), "{distance}");
    assert!(public["mentoring"].get("capacity").is_none());
    assert!(public["mentoring"]["available_slots"].is_number());
}

#[on_both_engines]
async fn unverified_practitioners_are_not_found_by_others(app: &TestApp) {
    let viewer = app.practitioner("Viewer").await;
    let unverified = app.practitioner("Unverified").unverified().await;
    expect_problem(app.public_profile(&viewer, &unverified).await, 404).await;
    let own = app.public_profile(&unverified, &unverified).await;
    assert_eq!(own.status(), 200);
    assert!(!app.lists(&viewer, "", &unverified).await);
    let nobody = format!("/api/v1/profiles/{}", uuid::Uuid::new_v4());
    expect_problem(app.get_as(&unverified, &nobody).await, 404).await;
}

/// A profile like the default one, `step` hundredths of a degree north of Dubbo.
fn moved(step: u32) -> Value {
    let (latitude, longitude) = place("Dubbo");
    let at = (latitude + f64::from(step) * 0.01, longitude);
    profile_body(json!({"location": position(at)}))
}

#[on_both_engines]
async fn moving_the_location_too_often_is_429(app: &TestApp) {
    let who = app.practitioner("Mover").await;
    for step in 1..=4 {
        assert_eq!(
            app.put_profile(&who, &moved(step)).await.status(),
            200,
            "move {step}"
        );
    }
    let same = patch(app, &who, json!({"bio": "unchanged location"})).await;
    assert_eq!(
        same.status(),
        200,
        "edits that keep the location are not limited"
    );
    let limited = app.put_profile(&who, &moved(100)).await;
    assert!(limited.headers().contains_key("retry-after"));
    expect_problem(limited, 429).await;
}

async fn stored_isolation(app: &TestApp, who: &Practitioner) -> (f64, u32) {
    let id = uuid::Uuid::parse_str(&who.user_id).expect("uuid");
    let profile = api::store::profiles::load(&app.db, id)
        .await
        .expect("load")
        .expect("a profile");
    let found = api::isolation::for_profile(&app.db, &profile)
        .await
        .expect("isolation");
    (found.score, found.peers_within_50km)
}

#[on_both_engines]
async fn isolation_counts_nearby_peers_who_share_a_population(app: &TestApp) {
    let isolated = app
        .practitioner("Isolated")
        .with(json!({"works_alone": false}))
        .await;
    let account = app.me(&isolated).await;
    let alone = json!({"score": 1.0, "peers_within_50km": 0});
    assert_eq!(account["isolation"], alone);

    // Near and alike: counts. Near but another population, far, or another profession: not.
    app.practitioner("Near Peer")
        .located((-32.30, 148.70))
        .await;
    app.practitioner("Other Population")
        .with(json!({"populations": ["paediatrics"]}))
        .await;
    app.practitioner("Far Peer").at("Sydney").await;
    app.practitioner("Physio")
        .with(json!({"profession": "physiotherapy"}))
        .await;
    let account = app.me(&isolated).await;
    let one_peer = json!({"score": 0.5, "peers_within_50km": 1});
    assert_eq!(account["isolation"], one_peer);
    // Measured from storage (for someone the live index does not hold yet): the same.
    assert_eq!(stored_isolation(app, &isolated).await, (0.5, 1));

    patch(app, &isolated, json!({"works_alone": true})).await;
    let account = app.me(&isolated).await;
    assert_eq!(account["isolation"]["score"], 0.7);
}

#[on_both_engines]
async fn the_export_holds_the_account_profile_emails_and_sessions(app: &TestApp) {
    let who = app.practitioner("Leaving").await;
    let export: Value = body_of(app.get_as(&who, "/api/v1/me/export").await).await;
    assert_eq!(export["account"]["email"], json!(who.email), "{export}");
    assert_eq!(export["profile"]["display_name"], "Leaving");
    assert_eq!(export["profile"]["place"]["name"], "Dubbo");
    let emails = export["emails"].as_array().unwrap();
    assert!(!emails.is_empty(), "the verification email is listed");
    assert!(!export["sessions"].as_array().unwrap().is_empty());
}

#[on_both_engines]
async fn erasure_needs_the_password(app: &TestApp) {
    let who = app.practitioner("Leaving").await;
    expect_problem(app.erase(&who, "not my password").await, 403).await;
    assert_eq!(app.me_status(&who.access_token).await, 200);
}

#[on_both_engines]
async fn erasure_removes_the_account_and_frees_the_address(app: &TestApp) {
    let who = app.practitioner("Leaving").await;
    let viewer = app.practitioner("Viewer").await;
    assert_eq!(app.erase(&who, PASSWORD).await.status(), 204);

    expect_problem(app.login(&who.email, PASSWORD).await, 401).await;
    expect_problem(app.get_as(&who, "/api/v1/me").await, 401).await;
    expect_problem(app.public_profile(&viewer, &who).await, 404).await;
    // The address can be used again.
    let again = app.register(&who.email, PASSWORD, "Back Again").await;
    assert_eq!(again.status(), 201);
}

/// Walks one observer south in 100 m steps past a fixed target: the distance shown is a
/// multiple of 10 km and changes only where a ~5 km grid cell ends, never step by step.
#[on_both_engines(config = |c| c.location_changes_per_hour = 1000)]
async fn walking_in_100_m_steps_reveals_no_finer_distance(app: &TestApp) {
    let target = app.practitioner("Target").await;
    let walker = app.practitioner("Walker").located((-32.8, 148.6)).await;
    let mut seen = Vec::new();
    for step in 0..60 {
        let here = (-32.8 - f64::from(step) * 0.0009, 148.6);
        let moved = patch(app, &walker, json!({"location": position(here)})).await;
        assert_eq!(moved.status(), 200);
        let public: Value = body_of(app.public_profile(&walker, &target).await).await;
        seen.push(public["distance_km"].as_u64().unwrap());
    }
    assert!(seen.iter().all(|d| d % 10 == 0), "{seen:?}");
    let changes = seen.windows(2).filter(|w| w[0] != w[1]).count();
    assert!(
        changes <= 3,
        "6 km of walking changed the distance {changes} times: {seen:?}"
    );
    let longest_run = seen
        .chunk_by(|a, b| a == b)
        .map(<[u64]>::len)
        .max()
        .unwrap_or(0);
    assert!(longest_run >= 20, "distances flip too often: {seen:?}");
}

/// The hourly location limit holds when the moves arrive at the same moment.
mod simultaneous_moves {
    use super::*;

    #[on_both_engines(config = |c| c.location_changes_per_hour = 6)]
    async fn thirty_at_once_never_pass_the_hourly_limit(app: &TestApp) {
        // Creating the profile is the first of the six.
        let who = app.practitioner("Restless").await;
        let moves: Vec<Value> = (1..=30).map(moved).collect();
        let statuses = Statuses::of(moves.iter().map(|body| app.put_profile(&who, body))).await;
        assert_eq!(statuses.count(200), 5, "{statuses:?}");
        assert_eq!(statuses.count(429), 25, "{statuses:?}");
        let account = app.me(&who).await;
        let latitude = account["profile"]["location"]["latitude"].as_f64().unwrap();
        assert!(
            latitude > place("Dubbo").0,
            "the profile holds one of the moves"
        );
    }
}

/// A new instance reads every field back as it was saved, for the owner and for others:
/// text beyond ASCII with tabs and line breaks, empty and set optional fields, dates and the
/// mentoring settings (start-up reads profiles in bulk, apart from how one is read back).
#[on_both_engines]
async fn a_new_instance_reads_every_field_as_saved(app: &TestApp) {
    let viewer = app.practitioner("Viewer").await;
    let paused = (chrono::Utc::now() + chrono::Duration::days(40)).date_naive();
    let bodies = [
        json!({
            "display_name": "Zoë Ōtaki-Ngata",
            "bio": "Ergothérapeute à domicile.\tSolo\nsecond line; ünïcödé ✓",
            "mentoring": {"offering": true, "capacity": 3, "paused_until": paused.to_string()},
            "location": {"latitude": -45.87412345678901, "longitude": 170.5036123456789},
        }),
        json!({
            "bio": null,
            "meeting_modes": ["virtual"],
            "max_travel_km": null,
            "works_alone": false,
            "seeking": {"peers": false, "mentor": true},
        }),
    ];
    let mut people = Vec::new();
    for body in bodies {
        let who = app.create_verified_practitioner("Fields").await;
        saved_profile(app, &who, &profile_body(body)).await;
        people.push(who);
    }
    let restarted = app.another_instance().await;
    for who in &people {
        let token = Some(who.access_token.as_str());
        let before: Value = body_of(app.get("/api/v1/me", token).await).await;
        let after: Value = body_of(restarted.get("/api/v1/me", token).await).await;
        assert_eq!(after["profile"], before["profile"], "{after}");
        let path = format!("/api/v1/profiles/{}", who.user_id);
        let shown = Some(viewer.access_token.as_str());
        let before: Value = body_of(app.get(&path, shown).await).await;
        let after: Value = body_of(restarted.get(&path, shown).await).await;
        assert_eq!(after, before);
    }
    let first: Value = body_of(
        restarted
            .get("/api/v1/me", Some(people[0].access_token.as_str()))
            .await,
    )
    .await;
    assert_eq!(
        first["profile"]["bio"],
        json!("Ergothérapeute à domicile.\tSolo\nsecond line; ünïcödé ✓")
    );
    assert_eq!(
        first["profile"]["mentoring"]["paused_until"],
        json!(paused.to_string())
    );
    restarted.teardown().await;
}

/// A new instance reads every profile's tags back as they were last saved, each list in the
/// order given (start-up reads them from the profile row, not from the tag table).
#[on_both_engines]
async fn a_new_instance_reads_the_tags_as_last_saved(app: &TestApp) {
    let who = app.create_verified_practitioner("Tags").await;
    saved_profile(app, &who, &profile_body(json!({}))).await;
    let changed = json!({
        "populations": ["paediatrics", "older_adults", "mental_health"],
        "settings": ["private_practice"],
        "languages": ["fr", "en"],
        "interests": ["Sensory processing", "driving assessment", "Falls prevention"],
    });
    assert_eq!(patch(app, &who, changed.clone()).await.status(), 200);
    let restarted = app.another_instance().await;
    let token = Some(who.access_token.as_str());
    let me: Value = body_of(restarted.get("/api/v1/me", token).await).await;
    for field in ["populations", "settings", "languages", "interests"] {
        assert_eq!(me["profile"][field], changed[field], "{field}: {me}");
    }
    restarted.teardown().await;
}
