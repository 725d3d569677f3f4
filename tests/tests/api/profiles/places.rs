//! Picking a location by town name.

use serde_json::{json, Value};
use tests::{body_of, expect_problem, on_both_engines, profile_body, TestApp};

#[on_both_engines]
async fn towns_are_found_by_the_start_of_their_name_without_signing_in(app: &TestApp) {
    let found: Value = body_of(app.get("/api/v1/places?q=dubb&country=AU", None).await).await;
    let first = &found["items"][0];
    assert_eq!(first["name"], "Dubbo");
    assert_eq!(first["region"], "New South Wales");
    assert_eq!(first["country_code"], "AU");
    assert!(first["latitude"].is_f64() && first["longitude"].is_f64());
}

#[on_both_engines]
async fn the_preferred_country_comes_first_and_the_limit_holds(app: &TestApp) {
    let found: Value = body_of(
        app.get("/api/v1/places?q=Perth&country=GB&limit=3", None)
            .await,
    )
    .await;
    let items = found["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0]["country_code"], "GB", "{found}");
    let found: Value = body_of(
        app.get("/api/v1/places?q=Perth&country=AU&limit=1", None)
            .await,
    )
    .await;
    assert_eq!(found["items"][0]["country_code"], "AU", "{found}");
}

#[on_both_engines]
async fn a_town_picked_by_name_becomes_the_profiles_place(app: &TestApp) {
    let found: Value = body_of(app.get("/api/v1/places?q=wagga%20wagga", None).await).await;
    let town = &found["items"][0];
    let who = app.create_verified_practitioner("Picker").await;
    let location = json!({"latitude": town["latitude"], "longitude": town["longitude"]});
    let saved: Value = body_of(
        app.put_profile(&who, &profile_body(json!({ "location": location })))
            .await,
    )
    .await;
    assert_eq!(saved["place"]["name"], "Wagga Wagga");
}

#[on_both_engines]
async fn a_bad_query_names_each_bad_parameter(app: &TestApp) {
    let long = "a".repeat(101);
    for (query, field) in [
        ("", "q"),
        ("?q=%20%20", "q"),
        (&format!("?q={long}") as &str, "q"),
        ("?q=Dubbo&country=au", "country"),
        ("?q=Dubbo&limit=0", "limit"),
        ("?q=Dubbo&limit=21", "limit"),
        ("?q=Dubbo&limit=ten", "limit"),
    ] {
        let problem =
            expect_problem(app.get(&format!("/api/v1/places{query}"), None).await, 422).await;
        let fields: Vec<&String> = problem["errors"].as_object().unwrap().keys().collect();
        assert_eq!(fields, [field], "{query}");
    }
    let nothing: Value = body_of(app.get("/api/v1/places?q=zzzzqqq", None).await).await;
    assert_eq!(nothing["items"], json!([]));
}
