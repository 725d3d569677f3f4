use serde_json::json;
use tests::{expect_problem, on_both_backends};

on_both_backends! {
    async fn unknown_routes_are_problem_documents(app) {
        let body = expect_problem(app.get("/api/v1/nothing-here", None).await, 404).await;
        assert_eq!(body["type"], "/problems/not-found");
    }

    async fn wrong_methods_are_405(app) {
        let response = app.client.delete(app.url("/healthz")).send().await.unwrap();
        expect_problem(response, 405).await;
    }

    async fn malformed_json_is_400(app) {
        let response = app
            .client
            .post(app.url("/api/v1/auth/login"))
            .header("content-type", "application/json")
            .body(r#"{"email": "a@b.org", "password": "#)
            .send()
            .await
            .unwrap();
        let body = expect_problem(response, 400).await;
        assert_eq!(body["type"], "/problems/malformed-json");
    }

    async fn a_non_json_content_type_is_415(app) {
        let response = app
            .client
            .post(app.url("/api/v1/auth/login"))
            .header("content-type", "text/plain")
            .body("{}")
            .send()
            .await
            .unwrap();
        expect_problem(response, 415).await;
    }

    async fn a_three_megabyte_body_is_413(app) {
        let big = format!(r#"{{"email": "{}"}}"#, "a".repeat(3 * 1024 * 1024));
        let response = app
            .client
            .post(app.url("/api/v1/auth/register"))
            .header("content-type", "application/json")
            .body(big)
            .send()
            .await
            .unwrap();
        expect_problem(response, 413).await;
    }

    async fn a_long_display_name_is_422_naming_the_field(app) {
        let response = app.register("long@example.org", "a long enough password", &"x".repeat(200)).await;
        let body = expect_problem(response, 422).await;
        assert!(body["errors"]["display_name"].is_array(), "{body}");
        assert_eq!(body["errors"].as_object().unwrap().len(), 1);
    }

    async fn every_bad_field_is_listed_at_once(app) {
        let response = app
            .post("/api/v1/auth/register", &json!({"email": "not-an-email", "password": "short"}), None)
            .await;
        let body = expect_problem(response, 422).await;
        let errors = body["errors"].as_object().unwrap();
        for field in ["email", "password", "display_name"] {
            assert!(errors.contains_key(field), "{field} missing from {body}");
        }
    }

    async fn wrong_types_are_422_naming_the_field(app) {
        let response = app
            .post("/api/v1/auth/register", &json!({"email": 5, "password": "x", "display_name": "y"}), None)
            .await;
        let body = expect_problem(response, 422).await;
        assert!(body["errors"]["email"].is_array(), "{body}");
    }

    async fn a_body_that_is_not_an_object_is_422(app) {
        let response = app.post("/api/v1/auth/login", &json!(["a@b.org", "password"]), None).await;
        expect_problem(response, 422).await;
    }
}
