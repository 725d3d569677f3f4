mod limits;

use std::time::Duration;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{json, Value};
use tests::{
    body_of, expect_problem, on_both_engines, retry_after,
    tokens::{access_claims, sign},
    TestApp, JWT_SECRET, PASSWORD,
};

const SAM: &str = "Sam.Rivera@Example.org";

#[on_both_engines]
async fn registration_keeps_the_address_as_typed_and_emails_a_verification_link(app: &TestApp) {
    let response = app
        .register("  Sam.Rivera@Example.org ", PASSWORD, "Sam Rivera")
        .await;
    assert_eq!(response.status(), 201);
    let created: Value = body_of(response).await;
    assert_eq!(created["email"], SAM);
    assert_eq!(created["email_verified"], false);

    let email = app.smtp.wait_for(|m| m.is_to(SAM)).await;
    assert!(email.data.contains("Content-Type: text/plain"));
    assert!(email.data.contains("Content-Type: text/html"));
    let token = email
        .link_token("/verify-email")
        .expect("a verification link");
    let link = format!("http://localhost:8080/verify-email?token={token}");
    assert!(email.data.contains(&link));
}

#[on_both_engines]
async fn an_unverified_practitioner_signs_in_and_sees_their_account(app: &TestApp) {
    assert_eq!(
        app.register(SAM, PASSWORD, "Sam Rivera").await.status(),
        201
    );
    let tokens = app.sign_in("sam.rivera@example.org", PASSWORD).await;
    assert_eq!(tokens.token_type, "Bearer");
    assert_eq!(tokens.expires_in, 900);
    let me: Value = body_of(app.get("/api/v1/me", Some(&tokens.access_token)).await).await;
    assert_eq!(me["email_verified"], false);
}

#[on_both_engines]
async fn the_emailed_link_verifies_the_address_once(app: &TestApp) {
    let registered = app.register(SAM, PASSWORD, "Sam Rivera").await;
    let created: Value = body_of(registered).await;
    let token = app.token_from_email(SAM, "/verify-email").await;
    let access = app.sign_in(SAM, PASSWORD).await.access_token;

    let link = json!({"token": token});
    let verified = app.post("/api/v1/auth/verify-email", &link, None).await;
    let verified: Value = body_of(verified).await;
    assert_eq!(verified, json!({"email_verified": true}));
    let again = app.post("/api/v1/auth/verify-email", &link, None).await;
    expect_problem(again, 400).await;

    let me: Value = body_of(app.get("/api/v1/me", Some(&access)).await).await;
    assert_eq!(me["user_id"], created["user_id"]);
    assert_eq!(me["email_verified"], true);
    assert_eq!(me["role"], "practitioner");
}

#[on_both_engines]
async fn a_duplicate_email_is_409_whatever_its_case(app: &TestApp) {
    let first = app.register("dup@example.org", PASSWORD, "First").await;
    assert_eq!(first.status(), 201);
    let second = app.register("dup@example.org", PASSWORD, "Second").await;
    expect_problem(second, 409).await;
    let third = app.register("DUP@Example.ORG", PASSWORD, "Third").await;
    expect_problem(third, 409).await;
}

#[on_both_engines]
async fn stored_passwords_are_argon2id_hashes(app: &TestApp) {
    app.register("hash@example.org", PASSWORD, "Hash").await;
    let query = Statement::from_string(
        app.db.get_database_backend(),
        "SELECT password_hash FROM users WHERE email_normalized = 'hash@example.org'",
    );
    let row = app.db.query_one_raw(query).await.unwrap().unwrap();
    let hash: String = row.try_get("", "password_hash").unwrap();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(!hash.contains(PASSWORD));
}

#[on_both_engines]
async fn unknown_email_and_wrong_password_look_the_same(app: &TestApp) {
    app.register("known@example.org", PASSWORD, "Known").await;
    let unknown = app.login("nobody@example.org", PASSWORD).await;
    let unknown = expect_problem(unknown, 401).await;
    let wrong = app.login("known@example.org", "not the password").await;
    let wrong = expect_problem(wrong, 401).await;
    assert_eq!(unknown, wrong);
}

#[on_both_engines]
async fn forged_and_misused_access_tokens_are_rejected(app: &TestApp) {
    let user = app.create_verified_practitioner("Token Tester").await;
    assert_eq!(app.me_status(&user.access_token).await, 200);
    let valid = access_claims(&user.user_id, json!({}));
    let refused = |token: String, why: &'static str| async move {
        assert_eq!(app.me_status(&token).await, 401, "{why}");
    };

    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(valid.to_string());
    refused(format!("{header}.{payload}."), "alg none").await;

    let another_key = b"another-secret-of-at-least-32-bytes!!";
    refused(sign(&valid, None, another_key), "wrong key").await;

    let now = chrono::Utc::now().timestamp();
    let expired = access_claims(&user.user_id, json!({"exp": now - 120, "nbf": now - 1200}));
    refused(sign(&expired, None, JWT_SECRET), "expired").await;

    let wrong_aud = access_claims(&user.user_id, json!({"aud": "someone-else"}));
    refused(sign(&wrong_aud, None, JWT_SECRET), "wrong audience").await;

    let wrong_iss = access_claims(&user.user_id, json!({"iss": "elsewhere"}));
    refused(sign(&wrong_iss, None, JWT_SECRET), "wrong issuer").await;

    let refresh_typ = access_claims(&user.user_id, json!({"typ": "refresh"}));
    refused(sign(&refresh_typ, None, JWT_SECRET), "refresh typ").await;

    refused(user.refresh_token.clone(), "refresh token as access token").await;

    let hs512 = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS512),
        &valid,
        &jsonwebtoken::EncodingKey::from_secret(JWT_SECRET),
    )
    .unwrap();
    refused(hs512, "algorithm is pinned").await;
}

#[on_both_engines]
async fn a_request_without_a_token_is_401(app: &TestApp) {
    expect_problem(app.get("/api/v1/me", None).await, 401).await;
}

#[on_both_engines]
async fn refresh_rotates_and_reuse_revokes_the_family(app: &TestApp) {
    let user = app.create_verified_practitioner("Rotator").await;
    let first: tests::wire::TokenPair = body_of(app.refresh(&user.refresh_token).await).await;
    assert_ne!(first.refresh_token, user.refresh_token);
    assert_eq!(app.me_status(&first.access_token).await, 200);

    // The spent token comes back: refused, and the whole family with it.
    expect_problem(app.refresh(&user.refresh_token).await, 401).await;
    expect_problem(app.refresh(&first.refresh_token).await, 401).await;
}

#[on_both_engines]
async fn a_separate_sign_in_is_a_separate_refresh_family(app: &TestApp) {
    let user = app.create_verified_practitioner("Rotator").await;
    let other = app.sign_in(&user.email, PASSWORD).await;
    app.refresh(&user.refresh_token).await;
    expect_problem(app.refresh(&user.refresh_token).await, 401).await;
    assert_eq!(app.refresh(&other.refresh_token).await.status(), 200);
}

#[on_both_engines]
async fn logout_ends_the_session(app: &TestApp) {
    let user = app.create_verified_practitioner("Leaver").await;
    let session = json!({"refresh_token": user.refresh_token});
    let out = app.post("/api/v1/auth/logout", &session, None).await;
    assert_eq!(out.status(), 204);
    expect_problem(app.refresh(&user.refresh_token).await, 401).await;
}

#[on_both_engines]
async fn the_eleventh_failed_login_for_one_account_is_429(app: &TestApp) {
    app.register("target@example.org", PASSWORD, "Target").await;
    for attempt in 1..=10 {
        let response = app.login("target@example.org", "wrong password!").await;
        assert_eq!(response.status(), 401, "attempt {attempt}");
    }
    let limited = app.login("target@example.org", "wrong password!").await;
    retry_after(&limited);
    expect_problem(limited, 429).await;
    // Even the right password waits out the lockout.
    expect_problem(app.login("target@example.org", PASSWORD).await, 429).await;
}

#[on_both_engines]
async fn a_clinic_behind_one_address_signs_in_thirty_staff(app: &TestApp) {
    let emails: Vec<String> = (0..30)
        .map(|n| format!("staff{n}@clinic.example.org"))
        .collect();
    for (n, email) in emails.iter().enumerate() {
        let registered = app.register(email, PASSWORD, &format!("Staff {n}")).await;
        assert_eq!(registered.status(), 201);
    }
    for email in &emails {
        assert_eq!(app.login(email, PASSWORD).await.status(), 200, "{email}");
    }
}

const NEW_PASSWORD: &str = "an entirely new password";

/// The token of the reset link emailed to `email` after asking in capitals.
async fn reset_token(app: &TestApp, email: &str) -> String {
    let accepted = app.forgot_password(&email.to_uppercase()).await;
    assert_eq!(accepted.status(), 202);
    app.token_from_email(email, "/reset-password").await
}

#[on_both_engines]
async fn password_reset_changes_the_password_and_revokes_sessions(app: &TestApp) {
    let user = app.create_verified_practitioner("Forgetful").await;
    let token = reset_token(app, &user.email).await;
    assert_eq!(app.reset_password(&token, NEW_PASSWORD).await.status(), 200);

    expect_problem(app.refresh(&user.refresh_token).await, 401).await;
    expect_problem(app.login(&user.email, PASSWORD).await, 401).await;
    assert_eq!(app.login(&user.email, NEW_PASSWORD).await.status(), 200);
}

#[on_both_engines]
async fn password_reset_refuses_a_weak_password_and_keeps_the_link(app: &TestApp) {
    let user = app.create_verified_practitioner("Forgetful").await;
    let token = reset_token(app, &user.email).await;
    let weak = expect_problem(app.reset_password(&token, "short").await, 422).await;
    assert!(weak["errors"]["new_password"].is_array());
    assert_eq!(app.reset_password(&token, NEW_PASSWORD).await.status(), 200);
}

#[on_both_engines]
async fn a_password_reset_link_works_once(app: &TestApp) {
    let user = app.create_verified_practitioner("Forgetful").await;
    let token = reset_token(app, &user.email).await;
    assert_eq!(app.reset_password(&token, NEW_PASSWORD).await.status(), 200);
    expect_problem(app.reset_password(&token, NEW_PASSWORD).await, 400).await;
}

#[on_both_engines]
async fn password_reset_for_an_unknown_email_answers_the_same_and_sends_nothing(app: &TestApp) {
    assert_eq!(app.forgot_password("ghost@example.org").await.status(), 202);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(app.smtp.messages_to("ghost@example.org").is_empty());
}
