//! The headers every response carries: hardening, content security policy and CORS.

use reqwest::Method;
use serde_json::json;
use tests::{on_both_engines, Config, TestApp};

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().expect("ascii header").to_owned())
}

fn has_no_cors_headers(response: &reqwest::Response) -> bool {
    let names = response.headers().keys();
    names
        .into_iter()
        .all(|name| !name.as_str().starts_with("access-control-"))
}

/// One response of each kind: success, 404, 405, 401, 422, 400 and 413.
async fn sample_responses(app: &TestApp) -> Vec<(&'static str, reqwest::Response)> {
    const JSON: &str = "application/json";
    let login = "/api/v1/auth/login";
    vec![
        ("200", app.get("/healthz", None).await),
        ("404", app.get("/api/v1/no/such/path", None).await),
        (
            "405",
            app.send(Method::DELETE, login, &json!({}), None).await,
        ),
        ("401", app.get("/api/v1/me", None).await),
        ("422", app.register("not an email", "short", "").await),
        ("400", app.post_raw(login, JSON, "{not json").await),
        (
            "413",
            app.post_raw(login, JSON, vec![b' '; 3 * 1024 * 1024]).await,
        ),
    ]
}

#[on_both_engines]
async fn every_response_is_hardened_errors_included(app: &TestApp) {
    for (kind, response) in sample_responses(app).await {
        assert_eq!(response.status().as_str(), kind);
        let has = |name: &str, value: &str| header(&response, name).as_deref() == Some(value);
        assert!(has("x-content-type-options", "nosniff"), "{kind}");
        assert!(has("referrer-policy", "no-referrer"), "{kind}");
        assert!(has("x-frame-options", "DENY"), "{kind}");
        let csp = header(&response, "content-security-policy").unwrap_or_default();
        assert!(csp.contains("default-src 'none'"), "{kind}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{kind}: {csp}");
        let hsts = header(&response, "strict-transport-security");
        assert_eq!(hsts, None, "{kind}: PUBLIC_URL is http");
        assert_eq!(
            header(&response, "access-control-allow-origin"),
            None,
            "{kind}"
        );
    }
}

#[on_both_engines]
async fn html_pages_carry_a_strict_content_security_policy(app: &TestApp) {
    let page = app.get("/unsubscribe?token=abc", None).await;
    assert_eq!(page.status(), 200);
    assert!(header(&page, "content-type")
        .unwrap()
        .starts_with("text/html"));
    let csp = header(&page, "content-security-policy").expect("a CSP on HTML");
    let directives: Vec<&str> = csp.split(';').map(str::trim).collect();
    assert_eq!(directives[0], "default-src 'none'", "{csp}");
    assert!(directives.contains(&"frame-ancestors 'none'"), "{csp}");
    let posts = directives.contains(&"form-action 'self'");
    assert!(posts, "the page's own form still posts: {csp}");
    assert!(!csp.contains("unsafe"), "{csp}");
    let nosniff = header(&page, "x-content-type-options");
    assert_eq!(nosniff.as_deref(), Some("nosniff"));
    let referrer = header(&page, "referrer-policy");
    assert_eq!(referrer.as_deref(), Some("no-referrer"));
}

fn served_over_https(config: &mut Config) {
    config.public_url = "https://alongside.example.org".into();
}

#[on_both_engines(config = served_over_https)]
async fn an_https_public_url_turns_on_strict_transport_security(app: &TestApp) {
    for (kind, response) in sample_responses(app).await {
        assert_eq!(
            header(&response, "strict-transport-security").as_deref(),
            Some("max-age=31536000; includeSubDomains"),
            "{kind}"
        );
    }
}

const ORIGIN: &str = "https://app.example.org";

fn allowing_the_app(config: &mut Config) {
    config.cors_origins = vec![ORIGIN.to_owned()];
}

async fn preflight(app: &TestApp, origin: &str) -> reqwest::Response {
    app.client
        .request(Method::OPTIONS, app.url("/api/v1/auth/login"))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type, authorization",
        )
        .send()
        .await
        .unwrap()
}

/// `GET path` from a page at `origin`, with `token` if given.
async fn from_origin(
    app: &TestApp,
    path: &str,
    origin: &str,
    token: Option<&str>,
) -> reqwest::Response {
    let mut request = app.client.get(app.url(path)).header("origin", origin);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

#[on_both_engines]
async fn without_cors_origins_no_origin_gets_cross_origin_access(app: &TestApp) {
    let answer = preflight(app, ORIGIN).await;
    assert!(has_no_cors_headers(&answer), "{:?}", answer.headers());
    let request = from_origin(app, "/healthz", ORIGIN, None).await;
    assert_eq!(request.status(), 200);
    assert!(has_no_cors_headers(&request), "{:?}", request.headers());
}

#[on_both_engines(config = allowing_the_app)]
async fn cors_origins_allows_the_preflight_of_listed_origins_only(app: &TestApp) {
    let allowed = preflight(app, ORIGIN).await;
    assert_eq!(allowed.status(), 204);
    let origin = header(&allowed, "access-control-allow-origin");
    assert_eq!(origin.as_deref(), Some(ORIGIN));
    let methods = header(&allowed, "access-control-allow-methods").unwrap();
    for method in ["POST", "PATCH", "DELETE"] {
        assert!(methods.contains(method), "{methods}");
    }
    let headers = header(&allowed, "access-control-allow-headers").unwrap();
    assert!(headers.contains("authorization"), "{headers}");
    assert!(headers.contains("content-type"), "{headers}");
    assert!(header(&allowed, "access-control-max-age").is_some());
    assert_eq!(header(&allowed, "access-control-allow-credentials"), None);
    let nosniff = header(&allowed, "x-content-type-options");
    assert_eq!(nosniff.as_deref(), Some("nosniff"));

    for stranger in ["https://evil.example.org", "http://app.example.org", "null"] {
        let refused = preflight(app, stranger).await;
        assert!(
            has_no_cors_headers(&refused),
            "{stranger}: {:?}",
            refused.headers()
        );
    }
}

#[on_both_engines(config = allowing_the_app)]
async fn cors_origins_lets_listed_origins_read_answers_errors_included(app: &TestApp) {
    let user = app.create_verified_practitioner("Cross Origin").await;
    let token = Some(user.access_token.as_str());
    let from_app = from_origin(app, "/api/v1/me", ORIGIN, token).await;
    assert_eq!(from_app.status(), 200);
    let origin = header(&from_app, "access-control-allow-origin");
    assert_eq!(origin.as_deref(), Some(ORIGIN));
    let vary = header(&from_app, "vary").unwrap().to_lowercase();
    assert!(vary.contains("origin"), "{vary}");

    let from_elsewhere = from_origin(app, "/api/v1/me", "https://evil.example.org", token).await;
    assert_eq!(header(&from_elsewhere, "access-control-allow-origin"), None);

    let error = from_origin(app, "/api/v1/me", ORIGIN, None).await;
    assert_eq!(error.status(), 401);
    let origin = header(&error, "access-control-allow-origin");
    assert_eq!(
        origin.as_deref(),
        Some(ORIGIN),
        "errors are readable by the app too"
    );
}
