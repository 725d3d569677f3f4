//! Secrets shared by instances (signing keys in the database, rotation), revocation on a
//! password reset, and the headers every response carries.

use std::time::{Duration, Instant};

use api::{
    auth::{key_id, JwtKeys},
    store::{entities::signing_keys, signing_keys as keys},
};
use jsonwebtoken::{EncodingKey, Header};
use reqwest::Method;
use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, Set};
use serde_json::{json, Value};
use tests::{expect_problem, on_both_backends, TestApp, JWT_SECRET, PASSWORD};

/// A second instance on the same database, without `JWT_SECRET`, delivering mail through the
/// first one's SMTP server.
async fn instance_without_jwt_secret(app: &TestApp) -> TestApp {
    let dir = std::env::temp_dir().join(format!("alongside-test-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("instance folder");
    let smtp_url = app.config.smtp_url.clone();
    let outbox = app.config.outbox.clone();
    TestApp::spawn_with(
        app.backend,
        app.config.database_url.clone(),
        dir,
        None,
        |c| {
            c.jwt_secret = None;
            c.smtp_url = smtp_url;
            c.outbox = outbox;
        },
    )
    .await
}

async fn stored_keys(app: &TestApp) -> Vec<signing_keys::Model> {
    let mut all = signing_keys::Entity::find()
        .all(&app.db)
        .await
        .expect("signing keys");
    all.sort_by_key(|k| k.generation);
    all
}

fn kid_of(token: &str) -> Option<String> {
    jsonwebtoken::decode_header(token).expect("a JWT").kid
}

/// An access token for `user_id` with any header `kid`, signed with `secret`.
fn forge_access(user_id: &str, kid: Option<&str>, secret: &[u8]) -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = json!({
        "sub": user_id,
        "iss": "alongside",
        "aud": "alongside-api",
        "exp": now + 600,
        "nbf": now,
        "iat": now,
        "typ": "access",
        "role": "practitioner",
    });
    let header = Header {
        kid: kid.map(str::to_owned),
        ..Header::default()
    };
    jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(secret)).expect("jwt")
}

async fn me_status(app: &TestApp, token: &str) -> u16 {
    app.get("/api/v1/me", Some(token)).await.status().as_u16()
}

async fn access_token(app: &TestApp, email: &str) -> String {
    let tokens: Value = app.login(email, PASSWORD).await.json().await.expect("json");
    tokens["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

async fn unsubscribe_status(app: &TestApp, token: &str) -> u16 {
    app.client
        .post(app.url(&format!("/unsubscribe?token={token}")))
        .send()
        .await
        .expect("request")
        .status()
        .as_u16()
}

async fn refresh_status(app: &TestApp, token: &str) -> u16 {
    app.post(
        "/api/v1/auth/refresh",
        &json!({"refresh_token": token}),
        None,
    )
    .await
    .status()
    .as_u16()
}

/// Waits up to 20 s for `count` distinct password-reset links to `to`, in arrival order.
async fn reset_tokens(app: &TestApp, to: &str, count: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let mut tokens: Vec<String> = Vec::new();
        for token in app
            .smtp
            .messages_to(to)
            .iter()
            .filter_map(|m| m.link_token("/reset-password"))
        {
            if !tokens.contains(&token) {
                tokens.push(token);
            }
        }
        if tokens.len() >= count {
            return tokens;
        }
        assert!(Instant::now() < deadline, "the reset emails did not arrive");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

const LEGACY_SECRET: &str = "a secret an older version kept in data/jwt_secret";

on_both_backends! {
    async fn with_jwt_secret_that_secret_signs_and_no_key_is_stored(app) {
        let user = app.create_verified_practitioner("Fixed Key").await;
        assert_eq!(kid_of(&user.access_token), Some(key_id(JWT_SECRET)));
        assert!(stored_keys(app).await.is_empty(), "the secret is never written to the database");
        // Tokens from before tokens named their key (no kid) still verify.
        assert_eq!(me_status(app, &forge_access(&user.user_id, None, JWT_SECRET)).await, 200);
    }

    async fn two_instances_without_jwt_secret_accept_each_others_tokens(app, |c| c.jwt_secret = None) {
        let other = instance_without_jwt_secret(app).await;
        let stored = stored_keys(app).await;
        assert_eq!(stored.len(), 1, "one key for both instances");

        let user = app.create_verified_practitioner("Shared Key").await;
        assert_eq!(kid_of(&user.access_token), Some(stored[0].kid.clone()));
        assert_eq!(me_status(&other, &user.access_token).await, 200, "first instance's token on the second");
        let from_other = access_token(&other, &user.email).await;
        assert_eq!(kid_of(&from_other), Some(stored[0].kid.clone()));
        assert_eq!(me_status(app, &from_other).await, 200, "second instance's token on the first");
        other.teardown().await;
    }

    async fn instances_creating_the_first_key_at_once_settle_on_one(app, |c| c.jwt_secret = None) {
        for round in 0..5 {
            signing_keys::Entity::delete_many().exec(&app.db).await.unwrap();
            let attempts = (0..8).map(|_| keys::ensure_current(&app.db, None));
            let created = futures_util::future::join_all(attempts).await;
            let kids: Vec<String> = created.into_iter().map(|k| k.unwrap().kid).collect();
            assert!(kids.iter().all(|k| *k == kids[0]), "round {round}: {kids:?}");
            let stored = stored_keys(app).await;
            assert_eq!(stored.len(), 1, "round {round}");
            assert_eq!(stored[0].kid, kids[0]);
            assert_eq!(stored[0].kid, key_id(stored[0].secret.as_bytes()));
        }
    }

    async fn a_rotated_out_key_works_for_one_access_token_lifetime(app, |c| c.jwt_secret = None) {
        let user = app.create_verified_practitioner("Rotation").await;
        let old = stored_keys(app).await.remove(0);
        let old_token = user.access_token.clone();
        assert_eq!(kid_of(&old_token), Some(old.kid.clone()));
        let old_link = JwtKeys::new(old.secret.as_bytes())
            .issue_unsubscribe(user.user_id.parse().unwrap())
            .unwrap();

        let rotated = keys::rotate(&app.db, false).await.unwrap();
        let new = rotated.current;
        assert_ne!(new.kid, old.kid);
        assert_eq!(rotated.previous, vec![old.kid.clone()]);

        // The old key is retired but still inside its window.
        assert_eq!(me_status(app, &old_token).await, 200);
        // A token naming the new key works at once, even before this instance polls.
        let new_token = JwtKeys::new(new.secret.as_bytes())
            .issue_access(user.user_id.parse().unwrap(), "practitioner")
            .unwrap();
        assert_eq!(kid_of(&new_token), Some(new.kid.clone()));
        assert_eq!(me_status(app, &new_token).await, 200);
        // And this instance now signs with the new key.
        assert_eq!(kid_of(&access_token(app, &user.email).await), Some(new.kid.clone()));

        // A key id nobody has, with either real secret: refused.
        let unknown = "00000000000000ff";
        assert_eq!(me_status(app, &forge_access(&user.user_id, Some(unknown), new.secret.as_bytes())).await, 401);
        assert_eq!(me_status(app, &forge_access(&user.user_id, Some(unknown), old.secret.as_bytes())).await, 401);
        // A real key id on a token signed with another secret: refused.
        assert_eq!(me_status(app, &forge_access(&user.user_id, Some(&new.kid), old.secret.as_bytes())).await, 401);

        // Retired more than an access-token lifetime ago: its access tokens are refused, its
        // unsubscribe links (which live a year) still work.
        let mut retired = signing_keys::Entity::find_by_id(old.kid.clone())
            .one(&app.db)
            .await
            .unwrap()
            .unwrap()
            .into_active_model();
        retired.retired_at = Set(Some(chrono::Utc::now() - chrono::Duration::minutes(16)));
        retired.update(&app.db).await.unwrap();
        let fresh = instance_without_jwt_secret(app).await;
        assert_eq!(me_status(&fresh, &old_token).await, 401, "key retired 16 minutes ago");
        assert_eq!(me_status(&fresh, &new_token).await, 200);
        assert_eq!(unsubscribe_status(&fresh, &old_link).await, 200, "unsubscribe links outlive a rotation");
        fresh.teardown().await;
    }

    async fn rotating_with_revoke_stops_everything_the_old_key_signed(app, |c| c.jwt_secret = None) {
        let user = app.create_verified_practitioner("Leaked Key").await;
        let old = stored_keys(app).await.remove(0);
        let old_link = JwtKeys::new(old.secret.as_bytes())
            .issue_unsubscribe(user.user_id.parse().unwrap())
            .unwrap();
        let rotated = keys::rotate(&app.db, true).await.unwrap();
        let stored = stored_keys(app).await;
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0].kid, rotated.current.kid);

        let fresh = instance_without_jwt_secret(app).await;
        assert_eq!(me_status(&fresh, &user.access_token).await, 401);
        assert_eq!(unsubscribe_status(&fresh, &old_link).await, 400);
        assert_eq!(kid_of(&access_token(&fresh, &user.email).await), Some(rotated.current.kid));
        fresh.teardown().await;
    }

    async fn a_secret_left_in_the_data_folder_becomes_the_first_key(app, |c| {
        c.jwt_secret = None;
        std::fs::write(c.data_dir.join("jwt_secret"), format!("{LEGACY_SECRET}\n")).unwrap();
    }) {
        let stored = stored_keys(app).await;
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0].kid, key_id(LEGACY_SECRET.as_bytes()));
        let user = app.create_verified_practitioner("Upgrader").await;
        // A token and a link as the older version signed them (no kid) still verify.
        assert_eq!(me_status(app, &forge_access(&user.user_id, None, LEGACY_SECRET.as_bytes())).await, 200);
        let now = chrono::Utc::now().timestamp();
        let link = jsonwebtoken::encode(
            &Header::default(),
            &json!({"sub": user.user_id, "iss": "alongside", "aud": "alongside-unsubscribe",
                    "exp": now + 3600, "iat": now, "typ": "unsubscribe"}),
            &EncodingKey::from_secret(LEGACY_SECRET.as_bytes()),
        )
        .unwrap();
        assert_eq!(unsubscribe_status(app, &link).await, 200);
    }

    async fn a_password_reset_revokes_every_session_and_every_other_reset_link(app) {
        let user = app.create_verified_practitioner("Twice Forgetful").await;
        let second_session: Value = app.login(&user.email, PASSWORD).await.json().await.unwrap();
        let second_refresh = second_session["refresh_token"].as_str().unwrap().to_owned();
        for _ in 0..2 {
            let accepted = app
                .post("/api/v1/auth/password-reset", &json!({"email": user.email}), None)
                .await;
            assert_eq!(accepted.status(), 202);
        }
        let links = reset_tokens(app, &user.email, 2).await;
        assert_eq!(links.len(), 2);

        let new_password = "an entirely new password";
        let done = app
            .post(
                "/api/v1/auth/password-reset/confirm",
                &json!({"token": links[1], "new_password": new_password}),
                None,
            )
            .await;
        assert_eq!(done.status(), 200);

        let other = app
            .post(
                "/api/v1/auth/password-reset/confirm",
                &json!({"token": links[0], "new_password": "what an attacker would set"}),
                None,
            )
            .await;
        let problem = expect_problem(other, 400).await;
        assert!(problem["type"].as_str().unwrap().ends_with("invalid-token"), "{problem}");
        assert_eq!(refresh_status(app, &user.refresh_token).await, 401, "first sign-in");
        assert_eq!(refresh_status(app, &second_refresh).await, 401, "second sign-in");
        assert_eq!(app.login(&user.email, new_password).await.status(), 200);

        // A reset requested afterwards works as usual.
        app.post("/api/v1/auth/password-reset", &json!({"email": user.email}), None).await;
        let later = reset_tokens(app, &user.email, 3).await;
        let again = app
            .post(
                "/api/v1/auth/password-reset/confirm",
                &json!({"token": later[2], "new_password": "a third new password"}),
                None,
            )
            .await;
        assert_eq!(again.status(), 200);
    }
}

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().expect("ascii header").to_owned())
}

/// One response of each kind: success, 404, 405, 401, 422, 400 and 413.
async fn sample_responses(app: &TestApp) -> Vec<(&'static str, reqwest::Response)> {
    vec![
        ("200", app.get("/healthz", None).await),
        ("404", app.get("/api/v1/no/such/path", None).await),
        (
            "405",
            app.send(Method::DELETE, "/api/v1/auth/login", &json!({}), None)
                .await,
        ),
        ("401", app.get("/api/v1/me", None).await),
        ("422", app.register("not an email", "short", "").await),
        (
            "400",
            app.client
                .post(app.url("/api/v1/auth/login"))
                .header("content-type", "application/json")
                .body("{not json")
                .send()
                .await
                .unwrap(),
        ),
        (
            "413",
            app.client
                .post(app.url("/api/v1/auth/login"))
                .header("content-type", "application/json")
                .body(vec![b' '; 3 * 1024 * 1024])
                .send()
                .await
                .unwrap(),
        ),
    ]
}

const ORIGIN: &str = "https://app.example.org";

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

on_both_backends! {
    async fn every_response_is_hardened_errors_included(app) {
        for (kind, response) in sample_responses(app).await {
            assert_eq!(response.status().as_str(), kind);
            assert_eq!(header(&response, "x-content-type-options").as_deref(), Some("nosniff"), "{kind}");
            assert_eq!(header(&response, "referrer-policy").as_deref(), Some("no-referrer"), "{kind}");
            assert_eq!(header(&response, "x-frame-options").as_deref(), Some("DENY"), "{kind}");
            let csp = header(&response, "content-security-policy").unwrap_or_default();
            assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"), "{kind}: {csp}");
            assert_eq!(header(&response, "strict-transport-security"), None, "{kind}: PUBLIC_URL is http");
            assert_eq!(header(&response, "access-control-allow-origin"), None, "{kind}");
        }
    }

    async fn html_pages_carry_a_strict_content_security_policy(app) {
        let page = app.get("/unsubscribe?token=abc", None).await;
        assert_eq!(page.status(), 200);
        assert!(header(&page, "content-type").unwrap().starts_with("text/html"));
        let csp = header(&page, "content-security-policy").expect("a CSP on HTML");
        let directives: Vec<&str> = csp.split(';').map(str::trim).collect();
        assert_eq!(directives[0], "default-src 'none'", "{csp}");
        assert!(directives.contains(&"frame-ancestors 'none'"), "{csp}");
        assert!(directives.contains(&"form-action 'self'"), "the page's own form still posts: {csp}");
        assert!(!csp.contains("unsafe"), "{csp}");
        assert_eq!(header(&page, "x-content-type-options").as_deref(), Some("nosniff"));
        assert_eq!(header(&page, "referrer-policy").as_deref(), Some("no-referrer"));
    }

    async fn an_https_public_url_turns_on_strict_transport_security(app, |c| {
        c.public_url = "https://alongside.example.org".into();
    }) {
        for (kind, response) in sample_responses(app).await {
            assert_eq!(
                header(&response, "strict-transport-security").as_deref(),
                Some("max-age=31536000; includeSubDomains"),
                "{kind}"
            );
        }
    }

    async fn without_cors_origins_no_origin_gets_cross_origin_access(app) {
        let answer = preflight(app, ORIGIN).await;
        assert!(answer.headers().keys().all(|name| !name.as_str().starts_with("access-control-")), "{:?}", answer.headers());
        let request = app.client.get(app.url("/healthz")).header("origin", ORIGIN).send().await.unwrap();
        assert_eq!(request.status(), 200);
        assert!(request.headers().keys().all(|name| !name.as_str().starts_with("access-control-")));
    }

    async fn cors_origins_is_an_allow_list(app, |c| {
        c.cors_origins = vec![ORIGIN.to_owned()];
    }) {
        let allowed = preflight(app, ORIGIN).await;
        assert_eq!(allowed.status(), 204);
        assert_eq!(header(&allowed, "access-control-allow-origin").as_deref(), Some(ORIGIN));
        let methods = header(&allowed, "access-control-allow-methods").unwrap();
        assert!(methods.contains("POST") && methods.contains("PATCH") && methods.contains("DELETE"), "{methods}");
        let headers = header(&allowed, "access-control-allow-headers").unwrap();
        assert!(headers.contains("authorization") && headers.contains("content-type"), "{headers}");
        assert!(header(&allowed, "access-control-max-age").is_some());
        assert_eq!(header(&allowed, "access-control-allow-credentials"), None);
        assert_eq!(header(&allowed, "x-content-type-options").as_deref(), Some("nosniff"));

        for stranger in ["https://evil.example.org", "http://app.example.org", "null"] {
            let refused = preflight(app, stranger).await;
            assert!(
                refused.headers().keys().all(|name| !name.as_str().starts_with("access-control-")),
                "{stranger}: {:?}", refused.headers()
            );
        }

        let user = app.create_verified_practitioner("Cross Origin").await;
        let from_app = app.client.get(app.url("/api/v1/me")).bearer_auth(&user.access_token)
            .header("origin", ORIGIN).send().await.unwrap();
        assert_eq!(from_app.status(), 200);
        assert_eq!(header(&from_app, "access-control-allow-origin").as_deref(), Some(ORIGIN));
        assert!(header(&from_app, "vary").unwrap().to_lowercase().contains("origin"));
        let from_elsewhere = app.client.get(app.url("/api/v1/me")).bearer_auth(&user.access_token)
            .header("origin", "https://evil.example.org").send().await.unwrap();
        assert_eq!(header(&from_elsewhere, "access-control-allow-origin"), None);
        let error = app.client.get(app.url("/api/v1/me")).header("origin", ORIGIN).send().await.unwrap();
        assert_eq!(error.status(), 401);
        assert_eq!(header(&error, "access-control-allow-origin").as_deref(), Some(ORIGIN), "errors are readable by the app too");
    }
}
