use std::collections::HashSet;

use reqwest::Method;
use serde_json::{json, Value};
use tests::{expect_problem, on_both_backends, profile_body, TestApp, PASSWORD};

async fn me(app: &TestApp, token: &str) -> Value {
    app.get("/api/v1/me", Some(token))
        .await
        .json()
        .await
        .unwrap()
}

async fn patch(app: &TestApp, token: &str, body: Value) -> reqwest::Response {
    app.send(Method::PATCH, "/api/v1/me/profile", &body, Some(token))
        .await
}

/// Generates one test per field of ProfileInput: an out-of-bounds value gives a 422 that
/// names exactly that field.
macro_rules! bound_tests {
    ($($name:ident: $field:expr => $value:expr;)*) => {
        on_both_backends! {$(
            async fn $name(app) {
                let who = app.create_verified_practitioner("Bounds").await;
                let mut body = profile_body(json!({}));
                let path: Vec<&str> = $field.split('.').collect();
                match path.as_slice() {
                    [field] => body[*field] = $value,
                    [outer, inner] => body[*outer][*inner] = $value,
                    _ => unreachable!(),
                }
                let problem = expect_problem(app.put_profile(&who, &body).await, 422).await;
                let fields: Vec<&String> = problem["errors"].as_object().unwrap().keys().collect();
                assert_eq!(fields, [$field], "{problem}");
                let stored = me(app, &who.access_token).await;
                assert!(stored["profile"].is_null(), "nothing was saved");
            }
        )*}
    };
}

bound_tests! {
    display_name_must_not_be_blank: "display_name" => json!("   ");
    display_name_is_at_most_80_characters: "display_name" => json!("x".repeat(81));
    profession_must_be_a_vocabulary_code: "profession" => json!("astrology");
    populations_need_at_least_one: "populations" => json!([]);
    populations_are_at_most_ten: "populations" => json!(["paediatrics", "adolescents", "adults", "older_adults", "mental_health", "neurology", "musculoskeletal", "developmental_disability", "acquired_brain_injury", "palliative_care", "hand_therapy"]);
    populations_have_no_duplicates: "populations" => json!(["adults", "adults"]);
    settings_need_at_least_one: "settings" => json!([]);
    settings_must_be_vocabulary_codes: "settings" => json!(["moon_base"]);
    latitude_is_within_90_degrees: "location" => json!({"latitude": 90.5, "longitude": 10.0});
    longitude_is_within_180_degrees: "location" => json!({"latitude": 10.0, "longitude": -180.5});
    years_experience_is_at_most_60: "years_experience" => json!(61);
    years_experience_is_not_negative: "years_experience" => json!(-1);
    languages_are_iso_639_1_codes: "languages" => json!(["english"]);
    languages_need_at_least_one: "languages" => json!([]);
    interests_are_at_most_twenty: "interests" => json!((0..21).map(|i| format!("tag {i}")).collect::<Vec<_>>());
    interests_are_at_most_40_characters: "interests" => json!(["x".repeat(41)]);
    bio_is_at_most_1000_characters: "bio" => json!("x".repeat(1001));
    timezone_is_an_iana_name: "timezone" => json!("Middle/Earth");
    meeting_modes_are_virtual_or_in_person: "meeting_modes" => json!(["telepathy"]);
    meeting_modes_need_at_least_one: "meeting_modes" => json!([]);
    max_travel_km_is_at_most_1000: "max_travel_km" => json!(1001);
    works_alone_is_a_boolean: "works_alone" => json!("yes");
    seeking_peers_is_a_boolean: "seeking.peers" => json!("sometimes");
    mentoring_capacity_is_at_most_20: "mentoring.capacity" => json!(21);
    mentoring_paused_until_is_a_date: "mentoring.paused_until" => json!("next tuesday");
}

on_both_backends! {
    async fn a_full_profile_round_trips(app) {
        let who = app.create_verified_practitioner("Round Trip").await;
        let body = profile_body(json!({"mentoring": {"offering": true, "capacity": 3, "paused_until": "2030-02-28"}}));
        let response = app.put_profile(&who, &body).await;
        assert_eq!(response.status(), 200);
        let saved: Value = response.json().await.unwrap();
        let fetched = me(app, &who.access_token).await;
        assert_eq!(fetched["profile"], saved);
        for (key, value) in body.as_object().unwrap() {
            assert_eq!(&saved[key], value, "{key}");
        }
        assert_eq!(saved["user_id"], json!(who.user_id));
        assert!(saved["updated_at"].is_string());
        assert_eq!(fetched["display_name"], "Sam Rivera");
    }

    async fn a_profile_at_dubbo_is_placed_in_dubbo(app) {
        let who = app.create_verified_practitioner("Dubbo OT").await;
        let saved: Value = app.put_profile(&who, &profile_body(json!({}))).await.json().await.unwrap();
        assert_eq!(saved["place"]["name"], "Dubbo");
        assert_eq!(saved["place"]["country_code"], "AU");
        assert_eq!(saved["place"]["region"], "New South Wales");
    }

    async fn patch_changes_only_what_it_names(app) {
        let who = app.create_verified_practitioner("Patcher").await;
        let before: Value = app.put_profile(&who, &profile_body(json!({}))).await.json().await.unwrap();
        let response = patch(app, &who.access_token, json!({
            "bio": null,
            "mentoring": {"capacity": 2, "offering": true},
            "interests": ["Vestibular", "vestibular "]
        })).await;
        assert_eq!(response.status(), 200);
        let after: Value = response.json().await.unwrap();
        assert!(after["bio"].is_null());
        assert_eq!(after["mentoring"], json!({"offering": true, "capacity": 2}));
        assert_eq!(after["interests"], json!(["Vestibular"]));
        for key in ["display_name", "profession", "populations", "settings", "location", "years_experience",
                    "languages", "timezone", "meeting_modes", "max_travel_km", "works_alone", "seeking", "place"] {
            assert_eq!(after[key], before[key], "{key} changed");
        }
        let bad = patch(app, &who.access_token, json!({"years_experience": 99})).await;
        let problem = expect_problem(bad, 422).await;
        assert!(problem["errors"]["years_experience"].is_array());
    }

    async fn patch_without_a_profile_is_409(app) {
        let who = app.create_verified_practitioner("No Profile").await;
        expect_problem(patch(app, &who.access_token, json!({"bio": "x"})).await, 409).await;
    }

    async fn unknown_codes_list_the_allowed_codes(app) {
        let who = app.create_verified_practitioner("Coder").await;
        let body = profile_body(json!({"profession": "alchemy", "populations": ["dragons"]}));
        let problem = expect_problem(app.put_profile(&who, &body).await, 422).await;
        let message = problem["errors"]["profession"][0].as_str().unwrap();
        assert!(message.contains("occupational_therapy") && message.contains("physiotherapy"), "{message}");
        let message = problem["errors"]["populations"][0].as_str().unwrap();
        assert!(message.contains("older_adults"), "{message}");
    }

    async fn role_and_user_id_in_the_body_change_nothing(app) {
        let who = app.create_verified_practitioner("Sneaky").await;
        let other = uuid::Uuid::new_v4();
        let body = profile_body(json!({"role": "admin", "user_id": other, "email_verified": false}));
        let saved: Value = app.put_profile(&who, &body).await.json().await.unwrap();
        assert_eq!(saved["user_id"], json!(who.user_id));
        let account = me(app, &who.access_token).await;
        assert_eq!(account["role"], "practitioner");
        assert_eq!(account["email_verified"], true);
        let admin = app.get("/api/v1/admin/stats", Some(&who.access_token)).await;
        assert_ne!(admin.status(), 200);
    }

    async fn the_vocabulary_is_public(app) {
        let response = app.get("/api/v1/vocabulary", None).await;
        assert_eq!(response.status(), 200);
        let lists: Value = response.json().await.unwrap();
        for list in ["professions", "populations", "settings", "meeting_modes"] {
            let entries = lists[list].as_array().unwrap();
            assert!(!entries.is_empty());
            assert!(entries.iter().all(|e| e["code"].is_string() && e["label"].is_string()));
        }
        assert!(lists["professions"].as_array().unwrap().iter().any(|e| e["code"] == "occupational_therapy"));
    }

    async fn others_see_no_email_coordinates_or_exact_distance(app) {
        let target = app.practitioner_with_profile("Target", json!({})).await;
        let viewer = app.practitioner_with_profile("Viewer", json!({"location": {"latitude": -33.2839, "longitude": 149.1007}})).await;
        let response = app.get(&format!("/api/v1/profiles/{}", target.user_id), Some(&viewer.access_token)).await;
        assert_eq!(response.status(), 200);
        let public: Value = response.json().await.unwrap();
        let text = public.to_string();
        assert!(!text.contains(&target.email));
        assert!(!text.contains("148.60") && !text.contains("-32.25"));
        for hidden in ["email", "location", "max_travel_km", "role", "email_verified"] {
            assert!(public.get(hidden).is_none(), "{hidden} is visible");
        }
        let distance = public["distance_km"].as_u64().unwrap();
        assert_eq!(distance % 10, 0);
        assert!((100..=150).contains(&distance), "{distance}");
        assert!(public["mentoring"].get("capacity").is_none());
        assert!(public["mentoring"]["available_slots"].is_number());
    }

    async fn unverified_practitioners_are_not_found_by_others(app) {
        let viewer = app.practitioner_with_profile("Viewer", json!({})).await;
        app.register("unverified@example.org", PASSWORD, "Unverified").await;
        let tokens: Value = app.login("unverified@example.org", PASSWORD).await.json().await.unwrap();
        let token = tokens["access_token"].as_str().unwrap();
        let saved: Value = app
            .send(Method::PUT, "/api/v1/me/profile", &profile_body(json!({})), Some(token))
            .await
            .json()
            .await
            .unwrap();
        let id = saved["user_id"].as_str().unwrap();
        expect_problem(app.get(&format!("/api/v1/profiles/{id}"), Some(&viewer.access_token)).await, 404).await;
        assert_eq!(app.get(&format!("/api/v1/profiles/{id}"), Some(token)).await.status(), 200);
        let listed: Value = app.get("/api/v1/directory", Some(&viewer.access_token)).await.json().await.unwrap();
        assert!(listed["items"].as_array().unwrap().iter().all(|p| p["user_id"] != id));
        expect_problem(app.get(&format!("/api/v1/profiles/{}", uuid::Uuid::new_v4()), Some(token)).await, 404).await;
    }

    async fn moving_the_location_too_often_is_429(app) {
        let who = app.practitioner_with_profile("Mover", json!({})).await;
        for step in 1..=4 {
            let moved = profile_body(json!({"location": {"latitude": -32.2569 + f64::from(step) * 0.01, "longitude": 148.6011}}));
            assert_eq!(app.put_profile(&who, &moved).await.status(), 200, "move {step}");
        }
        let same = patch(app, &who.access_token, json!({"bio": "unchanged location"})).await;
        assert_eq!(same.status(), 200, "edits that keep the location are not limited");
        let too_many = profile_body(json!({"location": {"latitude": -31.0, "longitude": 148.6011}}));
        let limited = app.put_profile(&who, &too_many).await;
        assert!(limited.headers().contains_key("retry-after"));
        expect_problem(limited, 429).await;
    }

    async fn isolation_counts_nearby_peers_who_share_a_population(app) {
        let me_ = app.practitioner_with_profile("Isolated", json!({"works_alone": false})).await;
        let account = me(app, &me_.access_token).await;
        assert_eq!(account["isolation"], json!({"score": 1.0, "peers_within_50km": 0}));

        // Near and alike: counts. Near but another population, far, or another profession: not.
        app.practitioner_with_profile("Near Peer", json!({"location": {"latitude": -32.30, "longitude": 148.70}})).await;
        app.practitioner_with_profile("Other Population", json!({"populations": ["paediatrics"]})).await;
        app.practitioner_with_profile("Far Peer", json!({"location": {"latitude": -33.8688, "longitude": 151.2093}})).await;
        app.practitioner_with_profile("Physio", json!({"profession": "physiotherapy"})).await;
        let account = me(app, &me_.access_token).await;
        assert_eq!(account["isolation"], json!({"score": 0.5, "peers_within_50km": 1}));

        patch(app, &me_.access_token, json!({"works_alone": true})).await;
        let account = me(app, &me_.access_token).await;
        assert_eq!(account["isolation"]["score"], 0.7);
    }

    async fn export_holds_everything_and_erasure_removes_it(app) {
        let who = app.practitioner_with_profile("Leaving", json!({})).await;
        let viewer = app.practitioner_with_profile("Viewer", json!({})).await;
        let export = app.get("/api/v1/me/export", Some(&who.access_token)).await.text().await.unwrap();
        let export: Value = serde_json::from_str(&export).unwrap_or_else(|_| panic!("{export}"));
        assert_eq!(export["account"]["email"], json!(who.email), "{export}");
        assert_eq!(export["profile"]["display_name"], "Leaving");
        assert_eq!(export["profile"]["place"]["name"], "Dubbo");
        assert!(!export["emails"].as_array().unwrap().is_empty(), "the verification email is listed");
        assert!(!export["sessions"].as_array().unwrap().is_empty());

        let wrong = app.send(Method::DELETE, "/api/v1/me", &json!({"password": "not my password"}), Some(&who.access_token)).await;
        expect_problem(wrong, 403).await;
        let erased = app.send(Method::DELETE, "/api/v1/me", &json!({"password": PASSWORD}), Some(&who.access_token)).await;
        assert_eq!(erased.status(), 204);

        expect_problem(app.login(&who.email, PASSWORD).await, 401).await;
        expect_problem(app.get("/api/v1/me", Some(&who.access_token)).await, 401).await;
        let gone = app.get(&format!("/api/v1/profiles/{}", who.user_id), Some(&viewer.access_token)).await;
        expect_problem(gone, 404).await;
        // The address can be used again.
        assert_eq!(app.register(&who.email, PASSWORD, "Back Again").await.status(), 201);
    }
}

/// Seeds a small population around Dubbo and Sydney for the directory tests.
async fn seed_directory(app: &TestApp) -> (tests::Practitioner, Vec<String>) {
    let viewer = app.practitioner_with_profile("Viewer", json!({})).await;
    let mut ids = Vec::new();
    let people = [
        (
            "Near OT Peer",
            json!({"location": {"latitude": -32.30, "longitude": 148.65}}),
        ),
        (
            "Mid OT Mentor",
            json!({"location": {"latitude": -33.28, "longitude": 149.10}, "years_experience": 20, "mentoring": {"offering": true, "capacity": 2}}),
        ),
        (
            "Paused Mentor",
            json!({"location": {"latitude": -32.25, "longitude": 148.60}, "mentoring": {"offering": true, "capacity": 2, "paused_until": "2999-01-01"}}),
        ),
        (
            "Full Mentor",
            json!({"location": {"latitude": -32.25, "longitude": 148.60}, "mentoring": {"offering": true, "capacity": 0}}),
        ),
        (
            "Sydney Physio",
            json!({"profession": "physiotherapy", "location": {"latitude": -33.87, "longitude": 151.21}, "populations": ["paediatrics"], "settings": ["school"]}),
        ),
        (
            "Sydney Speechie",
            json!({"profession": "speech_pathology", "location": {"latitude": -33.80, "longitude": 151.00}, "languages": ["en", "vi"], "seeking": {"peers": false, "mentor": true}}),
        ),
        (
            "Bathurst OT",
            json!({"location": {"latitude": -33.42, "longitude": 149.58}, "populations": ["paediatrics"]}),
        ),
    ];
    for (name, overrides) in people {
        ids.push(app.practitioner_with_profile(name, overrides).await.user_id);
    }
    (viewer, ids)
}

async fn names(app: &TestApp, token: &str, query: &str) -> Vec<String> {
    let response = app
        .get(&format!("/api/v1/directory{query}"), Some(token))
        .await;
    assert_eq!(response.status(), 200, "{query}");
    let page: Value = response.json().await.unwrap();
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["display_name"].as_str().unwrap().to_owned())
        .collect()
}

on_both_backends! {
    async fn directory_filters_combine(app) {
        let (viewer, _) = seed_directory(app).await;
        let token = &viewer.access_token;
        let mut all = names(app, token, "?limit=100").await;
        all.sort();
        assert_eq!(all.len(), 7, "everyone but the caller: {all:?}");

        let mut ots = names(app, token, "?profession=occupational_therapy").await;
        ots.sort();
        assert_eq!(ots, ["Bathurst OT", "Full Mentor", "Mid OT Mentor", "Near OT Peer", "Paused Mentor"]);
        assert_eq!(names(app, token, "?profession=occupational_therapy&population=paediatrics").await, ["Bathurst OT"]);
        assert_eq!(names(app, token, "?population=paediatrics&setting=school").await, ["Sydney Physio"]);
        assert_eq!(names(app, token, "?language=vi").await, ["Sydney Speechie"]);
        assert_eq!(names(app, token, "?kind=mentor").await, ["Mid OT Mentor"], "only unpaused mentors with a free slot");
        assert!(!names(app, token, "?kind=peer").await.contains(&"Sydney Speechie".to_owned()));
        assert!(names(app, token, "?profession=physiotherapy&language=vi").await.is_empty());

        let problem = expect_problem(app.get("/api/v1/directory?population=dragons", Some(token)).await, 422).await;
        assert!(problem["errors"]["population"][0].as_str().unwrap().contains("older_adults"));
        expect_problem(app.get("/api/v1/directory?limit=100000", Some(token)).await, 422).await;
        expect_problem(app.get("/api/v1/directory?cursor=garbage", Some(token)).await, 422).await;
    }

    async fn directory_within_km_is_nearest_first(app) {
        let (viewer, _) = seed_directory(app).await;
        let response = app.get("/api/v1/directory?within_km=200", Some(&viewer.access_token)).await;
        let page: Value = response.json().await.unwrap();
        let items = page["items"].as_array().unwrap();
        let distances: Vec<u64> = items.iter().map(|p| p["distance_km"].as_u64().unwrap()).collect();
        assert!(distances.windows(2).all(|w| w[0] <= w[1]), "{distances:?}");
        assert!(distances.iter().all(|d| *d <= 200 && d % 10 == 0));
        let listed: Vec<&str> = items.iter().map(|p| p["display_name"].as_str().unwrap()).collect();
        assert!(!listed.contains(&"Sydney Physio"), "Sydney is over 300 km from Dubbo");
        assert!(listed.contains(&"Bathurst OT"));
        assert_eq!(listed.len(), 5, "{listed:?}");
    }

    async fn directory_pages_have_no_duplicates_or_gaps(app) {
        let (viewer, ids) = seed_directory(app).await;
        for query in ["?limit=2", "?limit=3&within_km=2000"] {
            let mut seen = Vec::new();
            let mut cursor: Option<String> = None;
            loop {
                let url = match &cursor {
                    Some(c) => format!("/api/v1/directory{query}&cursor={c}"),
                    None => format!("/api/v1/directory{query}"),
                };
                let page: Value = app.get(&url, Some(&viewer.access_token)).await.json().await.unwrap();
                for item in page["items"].as_array().unwrap() {
                    seen.push(item["user_id"].as_str().unwrap().to_owned());
                }
                match page["next_cursor"].as_str() {
                    Some(next) => cursor = Some(next.to_owned()),
                    None => break,
                }
            }
            let unique: HashSet<&String> = seen.iter().collect();
            assert_eq!(unique.len(), seen.len(), "duplicates with {query}");
            let expected: HashSet<&String> = ids.iter().collect();
            assert_eq!(unique, expected, "gaps with {query}");
        }
    }
}

on_both_backends! {
    /// Walks one observer south in 100 m steps past a fixed target: the distance shown is a
    /// multiple of 10 km and changes only where a ~5 km grid cell ends, never step by step.
    async fn walking_in_100_m_steps_reveals_no_finer_distance(app, |c| c.location_changes_per_hour = 1000) {
        let target = app.practitioner_with_profile("Target", json!({})).await;
        let walker = app
            .practitioner_with_profile(
                "Walker",
                json!({"location": {"latitude": -32.8, "longitude": 148.6}}),
            )
            .await;
        let mut seen = Vec::new();
        for step in 0..60 {
            let lat = -32.8 - f64::from(step) * 0.0009;
            let moved = patch(
                app,
                &walker.access_token,
                json!({"location": {"latitude": lat, "longitude": 148.6}}),
            )
            .await;
            assert_eq!(moved.status(), 200);
            let public: Value = app
                .get(
                    &format!("/api/v1/profiles/{}", target.user_id),
                    Some(&walker.access_token),
                )
                .await
                .json()
                .await
                .unwrap();
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
}

/// The hourly location limit holds when the moves arrive at the same moment.
mod simultaneous_moves {
    use futures_util::future::join_all;

    use super::*;

    on_both_backends! {
        async fn thirty_at_once_never_pass_the_hourly_limit(app, |c| c.location_changes_per_hour = 6) {
            // Creating the profile is the first of the six.
            let who = app.practitioner_with_profile("Restless", json!({})).await;
            let moves: Vec<Value> = (1..=30)
                .map(|n| profile_body(json!({"location": {"latitude": -32.2569 + f64::from(n) * 0.01, "longitude": 148.6011}})))
                .collect();
            let statuses: Vec<u16> = join_all(moves.iter().map(|body| app.put_profile(&who, body)))
                .await
                .iter()
                .map(|r| r.status().as_u16())
                .collect();
            assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 5, "{statuses:?}");
            assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 25, "{statuses:?}");
            let account = me(app, &who.access_token).await;
            let latitude = account["profile"]["location"]["latitude"].as_f64().unwrap();
            assert!(latitude > -32.2569, "the profile holds one of the moves");
        }
    }
}
