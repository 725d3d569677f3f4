//! What the web app added to the API: sessions (the refresh token in an HttpOnly cookie),
//! sending the verification email again, the list of people one blocked, and the app itself
//! being served for every path that is not the API's.

use reqwest::{header, Method, Response};
use serde_json::{json, Value};
use tests::{expect_problem, on_both_engines, TestApp, PASSWORD};

const SESSION: &str = "/api/v1/auth/session";
const REFRESH: &str = "/api/v1/auth/session/refresh";

/// The value the response sets for the session cookie, and the whole `Set-Cookie` line.
fn session_cookie(response: &Response) -> (String, String) {
    let line = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("alongside_session="))
        .expect("a session cookie")
        .to_owned();
    let value = line["alongside_session=".len()..]
        .split(';')
        .next()
        .unwrap_or_default()
        .to_owned();
    (value, line)
}

async fn with_cookie(app: &TestApp, method: Method, path: &str, cookie: Option<&str>) -> Response {
    let mut request = app.client.request(method, app.url(path));
    if let Some(value) = cookie {
        request = request.header(header::COOKIE, format!("alongside_session={value}"));
    }
    request.send().await.expect("request failed")
}

async fn sign_in(app: &TestApp, email: &str) -> Response {
    app.post(
        SESSION,
        &json!({"email": email, "password": PASSWORD}),
        None,
    )
    .await
}

async fn me_status(app: &TestApp, token: &str) -> u16 {
    app.get("/api/v1/me", Some(token)).await.status().as_u16()
}

fn access_token(body: &Value) -> String {
    body["access_token"]
        .as_str()
        .expect("an access token")
        .to_owned()
}

#[on_both_engines]
async fn signing_in_keeps_the_refresh_token_in_an_http_only_cookie(app: &TestApp) {
    let sam = app.create_verified_practitioner("Sam Rivera").await;
    let response = sign_in(app, &sam.email).await;
    assert_eq!(response.status(), 200);
    let (value, line) = session_cookie(&response);
    assert!(!value.is_empty());
    for part in [
        "HttpOnly",
        "SameSite=Strict",
        "Path=/api/v1/auth/session",
        "Secure",
        "Max-Age=2592000",
    ] {
        assert!(line.contains(part), "{part} in {line}");
    }
    assert!(
        response
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .any(|v| v.to_str().is_ok_and(|v| v.starts_with("alongside_device="))),
        "the device cookie, as for /auth/login"
    );
    let body: Value = response.json().await.unwrap();
    assert!(
        body.get("refresh_token").is_none(),
        "page script never sees it: {body}"
    );
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["expires_in"].as_i64().unwrap() > 0);
    assert_eq!(me_status(app, &access_token(&body)).await, 200);

    let wrong = app
        .post(
            SESSION,
            &json!({"email": sam.email, "password": "not the password"}),
            None,
        )
        .await;
    assert!(wrong.headers().get(header::SET_COOKIE).is_none());
    expect_problem(wrong, 401).await;
    expect_problem(app.post(SESSION, &json!({"email": 3}), None).await, 422).await;
}

#[on_both_engines]
async fn refreshing_rotates_the_cookie_and_a_spent_one_ends_the_session(app: &TestApp) {
    let sam = app.create_verified_practitioner("Sam Rivera").await;
    let (first, _) = session_cookie(&sign_in(app, &sam.email).await);

    let refreshed = with_cookie(app, Method::POST, REFRESH, Some(&first)).await;
    assert_eq!(refreshed.status(), 200);
    let (second, _) = session_cookie(&refreshed);
    assert_ne!(first, second, "rotated");
    let body: Value = refreshed.json().await.unwrap();
    assert!(body.get("refresh_token").is_none());
    assert_eq!(me_status(app, &access_token(&body)).await, 200);

    // The spent cookie again: refused, cleared, and the whole sign-in revoked.
    let reused = with_cookie(app, Method::POST, REFRESH, Some(&first)).await;
    let (cleared, line) = session_cookie(&reused);
    assert!(cleared.is_empty() && line.contains("Max-Age=0"), "{line}");
    expect_problem(reused, 401).await;
    expect_problem(
        with_cookie(app, Method::POST, REFRESH, Some(&second)).await,
        401,
    )
    .await;

    let none = with_cookie(app, Method::POST, REFRESH, None).await;
    assert_eq!(session_cookie(&none).0, "");
    expect_problem(none, 401).await;
    expect_problem(
        with_cookie(app, Method::POST, REFRESH, Some("made-up")).await,
        401,
    )
    .await;
}

#[on_both_engines]
async fn signing_out_revokes_the_session_and_clears_the_cookie(app: &TestApp) {
    let sam = app.create_verified_practitioner("Sam Rivera").await;
    let (cookie, _) = session_cookie(&sign_in(app, &sam.email).await);
    let out = with_cookie(app, Method::DELETE, SESSION, Some(&cookie)).await;
    assert_eq!(out.status(), 204);
    let (cleared, line) = session_cookie(&out);
    assert!(cleared.is_empty() && line.contains("Max-Age=0"), "{line}");
    expect_problem(
        with_cookie(app, Method::POST, REFRESH, Some(&cookie)).await,
        401,
    )
    .await;
    // Without a cookie it answers the same.
    assert_eq!(
        with_cookie(app, Method::DELETE, SESSION, None)
            .await
            .status(),
        204
    );
}

#[on_both_engines]
async fn the_verification_email_can_be_sent_again(app: &TestApp) {
    let email = "new.person@example.org";
    assert_eq!(
        app.register(email, PASSWORD, "New Person").await.status(),
        201
    );
    let first = app.token_from_email(email, "/verify-email").await;
    let body: Value = sign_in(app, email).await.json().await.unwrap();
    let token = access_token(&body);

    expect_problem(
        app.post("/api/v1/me/verification-email", &json!({}), None)
            .await,
        401,
    )
    .await;
    let again = app
        .post("/api/v1/me/verification-email", &json!({}), Some(&token))
        .await;
    assert_eq!(again.status(), 202);
    let links = || {
        app.smtp
            .messages_to(email)
            .iter()
            .filter_map(|m| m.link_token("/verify-email"))
            .collect::<Vec<_>>()
    };
    for _ in 0..100 {
        if links().len() >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let second = links()
        .into_iter()
        .find(|t| *t != first)
        .expect("a second, different link");
    let verified = app
        .post("/api/v1/auth/verify-email", &json!({"token": second}), None)
        .await;
    assert_eq!(verified.status(), 200);
    let done = app
        .post("/api/v1/me/verification-email", &json!({}), Some(&token))
        .await;
    let problem = expect_problem(done, 409).await;
    assert!(
        problem["type"]
            .as_str()
            .unwrap()
            .contains("already-verified"),
        "{problem}"
    );
}

#[on_both_engines]
async fn the_app_answers_every_path_that_is_not_the_apis(app: &TestApp) {
    for path in [
        "/",
        "/verify-email?token=abc",
        "/reset-password?token=abc",
        "/connections/x/y",
    ] {
        let page = app.get(path, None).await;
        assert_eq!(page.status(), 200, "{path}");
        let headers = page.headers().clone();
        assert!(headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        assert_eq!(headers[header::CACHE_CONTROL], "no-cache");
        let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe"),
            "{csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"));
        let html = page.text().await.unwrap();
        assert!(html.contains("<div id=\"app\">") && !html.contains("<script>"));
    }
    let page = app.get("/", None).await.text().await.unwrap();
    let script = page
        .split("src=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a script");
    assert!(
        script.starts_with("/assets/") && script.ends_with("/app.js"),
        "{script}"
    );
    let asset = app.get(script, None).await;
    assert_eq!(asset.status(), 200);
    assert!(asset.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    assert!(asset.headers()[header::CACHE_CONTROL]
        .to_str()
        .unwrap()
        .contains("immutable"));
    let gzipped = app
        .client
        .get(app.url(script))
        .header(header::ACCEPT_ENCODING, "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(gzipped.headers()[header::CONTENT_ENCODING], "gzip");
    assert_eq!(gzipped.headers()[header::VARY], "Accept-Encoding");
    let manifest = app.get("/manifest.webmanifest", None).await;
    assert_eq!(
        manifest.headers()[header::CONTENT_TYPE],
        "application/manifest+json"
    );
    assert_eq!(manifest.headers()[header::CACHE_CONTROL], "no-cache");

    // The API's own paths keep their problems.
    expect_problem(app.get("/api/v1/no-such-thing", None).await, 404).await;
    expect_problem(app.get("/api", None).await, 404).await;
    expect_problem(app.get("/assets/0000/app.js", None).await, 404).await;
    expect_problem(app.get("/healthz/more", None).await, 404).await;
    expect_problem(app.post("/somewhere", &json!({}), None).await, 404).await;
    let health = app.get("/healthz", None).await;
    assert_eq!(health.status(), 200);
    assert!(health.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
}

#[on_both_engines]
async fn the_people_one_blocked_are_listed_for_them_alone(app: &TestApp) {
    let sam = app.create_verified_practitioner("Sam Rivera").await;
    let kai = app.create_verified_practitioner("Kai Tane").await;
    let ivy = app.create_verified_practitioner("Ivy Lee").await;
    expect_problem(app.get("/api/v1/me/blocks", None).await, 401).await;
    let list = |who: String| async move {
        let response = app.get("/api/v1/me/blocks", Some(&who)).await;
        assert_eq!(response.status(), 200);
        response.json::<Value>().await.unwrap()["items"]
            .as_array()
            .unwrap()
            .clone()
    };
    assert!(list(sam.access_token.clone()).await.is_empty());
    for who in [&kai, &ivy] {
        let blocked = app
            .post(
                "/api/v1/me/blocks",
                &json!({"user_id": who.user_id}),
                Some(&sam.access_token),
            )
            .await;
        assert_eq!(blocked.status(), 204);
    }
    let items = list(sam.access_token.clone()).await;
    let names: Vec<&str> = items
        .iter()
        .map(|i| i["display_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Ivy Lee", "Kai Tane"], "most recent first");
    assert_eq!(items[0]["user_id"], ivy.user_id.as_str());
    assert!(items[0]["blocked_at"].is_string());
    assert!(
        list(kai.access_token.clone()).await.is_empty(),
        "not those who blocked them"
    );
    let unblocked = app
        .send(
            Method::DELETE,
            &format!("/api/v1/me/blocks/{}", ivy.user_id),
            &json!({}),
            Some(&sam.access_token),
        )
        .await;
    assert_eq!(unblocked.status(), 204);
    assert_eq!(list(sam.access_token.clone()).await.len(), 1);
}
