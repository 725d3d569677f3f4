use serde_json::Value;
use tests::{body_of, on_both_engines, TestApp};

#[on_both_engines]
async fn health_answers_ok(app: &TestApp) {
    let health: Value = body_of(app.get("/healthz", None).await).await;
    assert_eq!(health["status"], "ok");
}

#[on_both_engines]
async fn readiness_answers_while_the_database_is_up(app: &TestApp) {
    assert_eq!(app.get("/readyz", None).await.status(), 200);
}

#[on_both_engines]
async fn metrics_count_http_requests(app: &TestApp) {
    assert_eq!(app.get("/healthz", None).await.status(), 200);
    let metrics = app.get("/metrics", None).await;
    assert_eq!(metrics.status(), 200);
    let text = metrics.text().await.unwrap();
    assert!(text.contains("alongside_http_requests_total"), "{text}");
}

#[on_both_engines]
async fn the_served_openapi_is_the_committed_one(app: &TestApp) {
    let openapi = app.get("/openapi.yaml", None).await;
    assert_eq!(openapi.status(), 200);
    let served = openapi.text().await.unwrap();
    let committed_path = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi.yaml");
    let committed = std::fs::read_to_string(committed_path).unwrap();
    assert_eq!(served, committed);
}

#[on_both_engines]
async fn responses_carry_a_request_id_and_security_headers(app: &TestApp) {
    let response = app.get("/healthz", None).await;
    assert!(response.headers().contains_key("x-request-id"));
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_follows_the_database_without_a_restart() {
    let Some((app, proxy)) = TestApp::spawn_behind_pg_proxy_or_skip().await else {
        return;
    };

    assert_eq!(app.get("/readyz", None).await.status(), 200);
    proxy.cut();
    let down = app.get("/readyz", None).await;
    let body = tests::expect_problem(down, 503).await;
    assert!(
        !body.to_string().contains("5432"),
        "no internals in the body"
    );

    proxy.restore();
    let mut ready = false;
    for _ in 0..50 {
        if app.get("/readyz", None).await.status() == 200 {
            ready = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(
        ready,
        "readiness did not come back after the database returned"
    );
    app.teardown().await;
}
