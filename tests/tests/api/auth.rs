use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use jsonwebtoken::{EncodingKey, Header};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{json, Value};
use tests::{expect_problem, on_both_backends, TestApp, JWT_SECRET, PASSWORD};

fn claims(overrides: Value) -> Value {
    let now = chrono::Utc::now().timestamp();
    let mut claims = json!({
        "sub": uuid::Uuid::new_v4(),
        "iss": "alongside",
        "aud": "alongside-api",
        "exp": now + 600,
        "nbf": now,
        "iat": now,
        "typ": "access",
        "role": "practitioner",
    });
    for (k, v) in overrides.as_object().unwrap() {
        claims[k] = v.clone();
    }
    claims
}

fn sign(claims: &Value, secret: &[u8]) -> String {
    jsonwebtoken::encode(
        &Header::default(),
        claims,
        &EncodingKey::from_secret(secret),
    )
    .unwrap()
}

async fn me_status(app: &TestApp, token: &str) -> u16 {
    app.get("/api/v1/me", Some(token)).await.status().as_u16()
}

async fn refresh(app: &TestApp, token: &str) -> reqwest::Response {
    app.post(
        "/api/v1/auth/refresh",
        &json!({"refresh_token": token}),
        None,
    )
    .await
}

on_both_backends! {
    async fn a_new_practitioner_registers_verifies_and_signs_in(app) {
        let response = app.register("  Sam.Rivera@Example.org ", PASSWORD, "Sam Rivera").await;
        assert_eq!(response.status(), 201);
        let created: Value = response.json().await.unwrap();
        assert_eq!(created["email"], "Sam.Rivera@Example.org");
        assert_eq!(created["email_verified"], false);

        let email = app.smtp.wait_for(|m| m.is_to("Sam.Rivera@Example.org")).await;
        assert!(email.data.contains("Content-Type: text/plain"));
        assert!(email.data.contains("Content-Type: text/html"));
        let token = email.link_token("/verify-email").expect("a verification link");
        assert!(email.data.contains(&format!("http://localhost:8080/verify-email?token={token}")));

        // An unverified practitioner can already sign in and see their account.
        let tokens: Value = app.login("sam.rivera@example.org", PASSWORD).await.json().await.unwrap();
        let access = tokens["access_token"].as_str().unwrap();
        assert_eq!(tokens["token_type"], "Bearer");
        assert_eq!(tokens["expires_in"], 900);
        let me: Value = app.get("/api/v1/me", Some(access)).await.json().await.unwrap();
        assert_eq!(me["email_verified"], false);

        let verified = app.post("/api/v1/auth/verify-email", &json!({"token": token}), None).await;
        assert_eq!(verified.status(), 200);
        assert_eq!(verified.json::<Value>().await.unwrap(), json!({"email_verified": true}));
        let again = app.post("/api/v1/auth/verify-email", &json!({"token": token}), None).await;
        expect_problem(again, 400).await;

        let me: Value = app.get("/api/v1/me", Some(access)).await.json().await.unwrap();
        assert_eq!(me["user_id"], created["user_id"]);
        assert_eq!(me["email_verified"], true);
        assert_eq!(me["role"], "practitioner");
    }

    async fn a_duplicate_email_is_409_whatever_its_case(app) {
        assert_eq!(app.register("dup@example.org", PASSWORD, "First").await.status(), 201);
        expect_problem(app.register("dup@example.org", PASSWORD, "Second").await, 409).await;
        expect_problem(app.register("DUP@Example.ORG", PASSWORD, "Third").await, 409).await;
    }

    async fn stored_passwords_are_argon2id_hashes(app) {
        app.register("hash@example.org", PASSWORD, "Hash").await;
        let row = app
            .db
            .query_one_raw(Statement::from_string(
                app.db.get_database_backend(),
                "SELECT password_hash FROM users WHERE email_normalized = 'hash@example.org'",
            ))
            .await
            .unwrap()
            .unwrap();
        let hash: String = row.try_get("", "password_hash").unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(!hash.contains(PASSWORD));
    }

    async fn unknown_email_and_wrong_password_look_the_same(app) {
        app.register("known@example.org", PASSWORD, "Known").await;
        let unknown = app.login("nobody@example.org", PASSWORD).await;
        let unknown = expect_problem(unknown, 401).await;
        let wrong = app.login("known@example.org", "not the password").await;
        let wrong = expect_problem(wrong, 401).await;
        assert_eq!(unknown, wrong);
    }

    async fn forged_and_misused_access_tokens_are_rejected(app) {
        let user = app.create_verified_practitioner("Token Tester").await;
        assert_eq!(me_status(app, &user.access_token).await, 200);
        let sub = json!({"sub": user.user_id});
        let mut valid = claims(sub.clone());

        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(valid.to_string());
        assert_eq!(me_status(app, &format!("{header}.{payload}.")).await, 401, "alg none");

        assert_eq!(me_status(app, &sign(&valid, b"another-secret-of-at-least-32-bytes!!")).await, 401, "wrong key");

        let now = chrono::Utc::now().timestamp();
        valid["exp"] = json!(now - 120);
        valid["nbf"] = json!(now - 1200);
        assert_eq!(me_status(app, &sign(&valid, JWT_SECRET)).await, 401, "expired");

        let wrong_aud = claims(json!({"sub": user.user_id, "aud": "someone-else"}));
        assert_eq!(me_status(app, &sign(&wrong_aud, JWT_SECRET)).await, 401, "wrong audience");

        let wrong_iss = claims(json!({"sub": user.user_id, "iss": "elsewhere"}));
        assert_eq!(me_status(app, &sign(&wrong_iss, JWT_SECRET)).await, 401, "wrong issuer");

        let refresh_typ = claims(json!({"sub": user.user_id, "typ": "refresh"}));
        assert_eq!(me_status(app, &sign(&refresh_typ, JWT_SECRET)).await, 401, "refresh typ");

        assert_eq!(me_status(app, &user.refresh_token).await, 401, "refresh token as access token");

        let hs512 = jsonwebtoken::encode(
            &Header::new(jsonwebtoken::Algorithm::HS512),
            &claims(sub),
            &EncodingKey::from_secret(JWT_SECRET),
        )
        .unwrap();
        assert_eq!(me_status(app, &hs512).await, 401, "algorithm is pinned");

        let missing = app.get("/api/v1/me", None).await;
        expect_problem(missing, 401).await;
    }

    async fn refresh_rotates_and_reuse_revokes_the_family(app) {
        let user = app.create_verified_practitioner("Rotator").await;
        let first = refresh(app, &user.refresh_token).await;
        assert_eq!(first.status(), 200);
        let first: Value = first.json().await.unwrap();
        let second_token = first["refresh_token"].as_str().unwrap().to_owned();
        assert_ne!(second_token, user.refresh_token);
        assert_eq!(me_status(app, first["access_token"].as_str().unwrap()).await, 200);

        // The spent token comes back: refused, and the whole family with it.
        expect_problem(refresh(app, &user.refresh_token).await, 401).await;
        expect_problem(refresh(app, &second_token).await, 401).await;

        // A separate sign-in is a separate family and still works.
        let other: Value = app.login(&user.email, PASSWORD).await.json().await.unwrap();
        assert_eq!(refresh(app, other["refresh_token"].as_str().unwrap()).await.status(), 200);
    }

    async fn logout_ends_the_session(app) {
        let user = app.create_verified_practitioner("Leaver").await;
        let out = app
            .post("/api/v1/auth/logout", &json!({"refresh_token": user.refresh_token}), None)
            .await;
        assert_eq!(out.status(), 204);
        expect_problem(refresh(app, &user.refresh_token).await, 401).await;
    }

    async fn the_eleventh_failed_login_for_one_account_is_429(app) {
        app.register("target@example.org", PASSWORD, "Target").await;
        for attempt in 1..=10 {
            let response = app.login("target@example.org", "wrong password!").await;
            assert_eq!(response.status(), 401, "attempt {attempt}");
        }
        let limited = app.login("target@example.org", "wrong password!").await;
        assert!(limited.headers().contains_key("retry-after"));
        let retry: u64 = limited.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!(retry > 0 && retry <= 900);
        expect_problem(limited, 429).await;
        // Even the right password waits out the lockout.
        expect_problem(app.login("target@example.org", PASSWORD).await, 429).await;
    }

    async fn a_clinic_behind_one_address_signs_in_thirty_staff(app) {
        let mut emails = Vec::new();
        for n in 0..30 {
            let email = format!("staff{n}@clinic.example.org");
            assert_eq!(app.register(&email, PASSWORD, &format!("Staff {n}")).await.status(), 201);
            emails.push(email);
        }
        for email in &emails {
            assert_eq!(app.login(email, PASSWORD).await.status(), 200, "{email}");
        }
    }

    async fn password_reset_changes_the_password_and_revokes_sessions(app) {
        let user = app.create_verified_practitioner("Forgetful").await;
        let accepted = app
            .post("/api/v1/auth/password-reset", &json!({"email": user.email.to_uppercase()}), None)
            .await;
        assert_eq!(accepted.status(), 202);
        let token = app.token_from_email(&user.email, "/reset-password").await;

        let weak = app
            .post("/api/v1/auth/password-reset/confirm", &json!({"token": token, "new_password": "short"}), None)
            .await;
        let weak = expect_problem(weak, 422).await;
        assert!(weak["errors"]["new_password"].is_array());

        let new_password = "an entirely new password";
        let done = app
            .post("/api/v1/auth/password-reset/confirm", &json!({"token": token, "new_password": new_password}), None)
            .await;
        assert_eq!(done.status(), 200);

        expect_problem(refresh(app, &user.refresh_token).await, 401).await;
        expect_problem(app.login(&user.email, PASSWORD).await, 401).await;
        assert_eq!(app.login(&user.email, new_password).await.status(), 200);

        let reused = app
            .post("/api/v1/auth/password-reset/confirm", &json!({"token": token, "new_password": new_password}), None)
            .await;
        expect_problem(reused, 400).await;
    }

    async fn password_reset_for_an_unknown_email_answers_the_same_and_sends_nothing(app) {
        let response = app
            .post("/api/v1/auth/password-reset", &json!({"email": "ghost@example.org"}), None)
            .await;
        assert_eq!(response.status(), 202);
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        assert!(app.smtp.messages_to("ghost@example.org").is_empty());
    }
}
