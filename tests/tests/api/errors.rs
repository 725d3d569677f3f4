use serde_json::json;
use tests::{expect_problem, on_both_engines, TestApp};

#[on_both_engines]
async fn unknown_routes_are_problem_documents(app: &TestApp) {
    let body = expect_problem(app.get("/api/v1/nothing-here", None).await, 404).await;
    assert_eq!(body["type"], "/problems/not-found");
}

#[on_both_engines]
async fn wrong_methods_are_405(app: &TestApp) {
    let response = app.client.delete(app.url("/healthz")).send().await.unwrap();
    expect_problem(response, 405).await;
}

#[on_both_engines]
async fn malformed_json_is_400(app: &TestApp) {
    let cut_short = r#"{"email": "a@b.org", "password": "#;
    let response = app
        .post_raw("/api/v1/auth/login", "application/json", cut_short)
        .await;
    let body = expect_problem(response, 400).await;
    assert_eq!(body["type"], "/problems/malformed-json");
}

#[on_both_engines]
async fn a_non_json_content_type_is_415(app: &TestApp) {
    let response = app.post_raw("/api/v1/auth/login", "text/plain", "{}").await;
    expect_problem(response, 415).await;
}

#[on_both_engines]
async fn a_three_megabyte_body_is_413(app: &TestApp) {
    let big = format!(r#"{{"email": "{}"}}"#, "a".repeat(3 * 1024 * 1024));
    let response = app
        .post_raw("/api/v1/auth/register", "application/json", big)
        .await;
    expect_problem(response, 413).await;
}

#[on_both_engines]
async fn a_long_display_name_is_422_naming_the_field(app: &TestApp) {
    let long_name = "x".repeat(200);
    let response = app
        .register("long@example.org", "a long enough password", &long_name)
        .await;
    let body = expect_problem(response, 422).await;
    assert!(body["errors"]["display_name"].is_array(), "{body}");
    assert_eq!(body["errors"].as_object().unwrap().len(), 1);
}

#[on_both_engines]
async fn every_bad_field_is_listed_at_once(app: &TestApp) {
    let body = json!({"email": "not-an-email", "password": "short"});
    let response = app.post("/api/v1/auth/register", &body, None).await;
    let problem = expect_problem(response, 422).await;
    let errors = problem["errors"].as_object().unwrap();
    for field in ["email", "password", "display_name"] {
        assert!(errors.contains_key(field), "{field} missing from {problem}");
    }
}

#[on_both_engines]
async fn wrong_types_are_422_naming_the_field(app: &TestApp) {
    let body = json!({"email": 5, "password": "x", "display_name": "y"});
    let response = app.post("/api/v1/auth/register", &body, None).await;
    let problem = expect_problem(response, 422).await;
    assert!(problem["errors"]["email"].is_array(), "{problem}");
}

#[on_both_engines]
async fn a_body_that_is_not_an_object_is_422(app: &TestApp) {
    let body = json!(["a@b.org", "password"]);
    let response = app.post("/api/v1/auth/login", &body, None).await;
    expect_problem(response, 422).await;
}
