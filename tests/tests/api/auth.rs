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

/// Sign-in limits: the password pool, device cookies, atomic counters and client addresses.
mod limits {
    use std::time::{Duration, Instant};

    use futures_util::future::join_all;
    use serde_json::json;
    use tests::{expect_problem, on_both_backends, TestApp, PASSWORD};

    async fn login_with(
        app: &TestApp,
        email: &str,
        password: &str,
        device: Option<&str>,
    ) -> reqwest::Response {
        let mut request = app
            .client
            .post(app.url("/api/v1/auth/login"))
            .json(&json!({"email": email, "password": password}));
        if let Some(device) = device {
            request = request.header("cookie", format!("theme=dark; alongside_device={device}"));
        }
        request.send().await.unwrap()
    }

    /// The device cookie a response sets, with its attributes.
    fn set_device_cookie(response: &reqwest::Response) -> (String, String) {
        let header = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .find(|v| v.starts_with("alongside_device="))
            .expect("a device cookie");
        let value = header["alongside_device=".len()..]
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        (value, header)
    }

    async fn device_of(app: &TestApp, email: &str) -> String {
        let response = login_with(app, email, PASSWORD, None).await;
        assert_eq!(response.status(), 200);
        set_device_cookie(&response).0
    }

    async fn lock_out_strangers(app: &TestApp, email: &str) {
        for attempt in 1..=10 {
            let response = app.login(email, "a stranger's guess").await;
            assert_eq!(response.status(), 401, "attempt {attempt}");
        }
        expect_problem(app.login(email, "a stranger's guess").await, 429).await;
    }

    async fn reset_from(app: &TestApp, forwarded_for: Option<&str>) -> u16 {
        let mut request = app
            .client
            .post(app.url("/api/v1/auth/password-reset"))
            .json(&json!({"email": "nobody@example.org"}));
        if let Some(forwarded_for) = forwarded_for {
            request = request.header("x-forwarded-for", forwarded_for);
        }
        request.send().await.unwrap().status().as_u16()
    }

    /// `GET /healthz` on a fresh connection: the status line and how long the answer took.
    fn get_health(port: u16) -> (String, Duration) {
        use std::io::{Read, Write};
        let started = Instant::now();
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        let elapsed = started.elapsed();
        (
            answer.lines().next().unwrap_or_default().to_owned(),
            elapsed,
        )
    }

    /// A JSON `POST` on a plain socket; the response's status.
    async fn raw_post(port: u16, path: &'static str, body: serde_json::Value) -> u16 {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let body = body.to_string();
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.unwrap();
        let answer = String::from_utf8_lossy(&answer);
        answer
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or(0)
    }

    fn count(statuses: &[u16], status: u16) -> usize {
        statuses.iter().filter(|s| **s == status).count()
    }

    /// Floods take turns, so that one test's flood is not measured in another's.
    static FLOOD: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

    on_both_backends! {
        async fn health_answers_within_100_ms_during_200_bogus_sign_ins(app) {
            let _turn = FLOOD.lock().await;
            // Health is asked from a thread of its own, on a fresh connection each time as a
            // load balancer does, so that the time measured is the service's.
            let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
            let poller = {
                let done = done.clone();
                let port = app.port;
                std::thread::spawn(move || {
                    let mut polls = Vec::new();
                    while !done.load(std::sync::atomic::Ordering::SeqCst) {
                        polls.push(get_health(port));
                        std::thread::sleep(Duration::from_millis(10));
                    }
                    polls
                })
            };
            tokio::time::sleep(Duration::from_millis(50)).await;
            // The flood: plain sockets, so that the client itself costs next to nothing.
            let logins = (0..200).map(|n| {
                let body = json!({"email": format!("bogus{n}@example.org"), "password": "not the password"});
                tokio::spawn(raw_post(app.port, "/api/v1/auth/login", body))
            });
            let confirms = (0..20).map(|n| {
                let body = json!({"token": format!("made-up-token-{n}"), "new_password": "a brand new password"});
                tokio::spawn(raw_post(app.port, "/api/v1/auth/password-reset/confirm", body))
            });
            let (logins, confirms) = tokio::join!(join_all(logins), join_all(confirms));
            done.store(true, std::sync::atomic::Ordering::SeqCst);
            let polls = poller.join().unwrap();
            let logins: Vec<u16> = logins.into_iter().map(Result::unwrap).collect();
            let confirms: Vec<u16> = confirms.into_iter().map(Result::unwrap).collect();
            assert!(polls.len() >= 5, "health was hardly asked: {polls:?}");
            for (status, elapsed) in &polls {
                assert_eq!(status, "HTTP/1.1 200 OK");
                assert!(*elapsed < Duration::from_millis(100), "health took {elapsed:?}: {polls:?}");
            }
            assert_eq!(count(&logins, 401) + count(&logins, 503), 200, "{logins:?}");
            assert!(count(&logins, 401) > 0, "{logins:?}");
            // A made-up reset token is refused before any password work, so never busy.
            assert!(confirms.iter().all(|s| *s == 400), "{confirms:?}");
        }

        async fn a_busy_answer_is_a_problem_with_retry_after(app, |c| c.password_hash_workers = 1) {
            let _turn = FLOOD.lock().await;
            // One worker and its short queue fill up quickly under a burst.
            let emails: Vec<String> = (0..100).map(|n| format!("burst{n}@example.org")).collect();
            let responses = join_all(emails.iter().map(|e| app.login(e, "not the password"))).await;
            let busy: Vec<_> = responses.into_iter().filter(|r| r.status() == 503).collect();
            assert!(!busy.is_empty(), "a hundred sign-ins at once never filled one worker");
            for response in busy {
                assert_eq!(response.headers()["retry-after"], "1");
                let problem = expect_problem(response, 503).await;
                assert_eq!(problem["type"], "/problems/busy");
            }
        }

        async fn a_strangers_failures_never_lock_out_the_owner_on_their_device(app) {
            let owner = app.create_verified_practitioner("Owner").await;
            let signed_in = login_with(app, &owner.email, PASSWORD, None).await;
            assert_eq!(signed_in.status(), 200);
            let (device, header) = set_device_cookie(&signed_in);
            assert!(header.contains("HttpOnly"), "{header}");
            assert!(header.contains("SameSite=Strict"), "{header}");
            assert!(header.contains("Path=/api/v1/auth"), "{header}");
            assert!(!header.contains("Secure"), "the test service is served over http: {header}");

            lock_out_strangers(app, &owner.email).await;
            expect_problem(app.login(&owner.email, "a stranger's guess").await, 429).await;
            // Without the cookie even the right password waits, as for any stranger.
            expect_problem(app.login(&owner.email, PASSWORD).await, 429).await;
            // With it, the owner signs in, and keeps the same device.
            let owner_in = login_with(app, &owner.email, PASSWORD, Some(&device)).await;
            assert_eq!(owner_in.status(), 200);
            assert_eq!(set_device_cookie(&owner_in).0, device);
            // A typo on the owner's device does not end it either.
            expect_problem(login_with(app, &owner.email, "a typo", Some(&device)).await, 401).await;
            assert_eq!(login_with(app, &owner.email, PASSWORD, Some(&device)).await.status(), 200);
            // Strangers stay locked out.
            expect_problem(app.login(&owner.email, PASSWORD).await, 429).await;
        }

        async fn a_device_cookie_has_its_own_small_budget_for_its_own_account(app) {
            let owner = app.create_verified_practitioner("Owner").await;
            let other = app.create_verified_practitioner("Other").await;
            let device = device_of(app, &owner.email).await;

            // Five failures on the device use up its budget, not the account's.
            for attempt in 1..=5 {
                let response = login_with(app, &owner.email, "a typo", Some(&device)).await;
                assert_eq!(response.status(), 401, "attempt {attempt}");
            }
            let refused = login_with(app, &owner.email, PASSWORD, Some(&device)).await;
            let retry: u64 = refused.headers()["retry-after"].to_str().unwrap().parse().unwrap();
            assert!(retry > 0 && retry <= 900);
            expect_problem(refused, 429).await;
            assert_eq!(app.login(&owner.email, PASSWORD).await.status(), 200);

            // The owner's cookie is nobody else's: for another account it counts as a stranger.
            for attempt in 1..=10 {
                let response = login_with(app, &other.email, "a guess", Some(&device)).await;
                assert_eq!(response.status(), 401, "attempt {attempt}");
            }
            expect_problem(login_with(app, &other.email, PASSWORD, Some(&device)).await, 429).await;
            // A made-up cookie is no cookie.
            expect_problem(login_with(app, &other.email, PASSWORD, Some("made-up")).await, 429).await;
        }

        async fn password_reset_works_while_locked_out_and_ends_the_lock_out(app) {
            let owner = app.create_verified_practitioner("Locked Out").await;
            let old_device = device_of(app, &owner.email).await;
            lock_out_strangers(app, &owner.email).await;
            expect_problem(app.login(&owner.email, PASSWORD).await, 429).await;

            let accepted = app
                .post("/api/v1/auth/password-reset", &json!({"email": owner.email}), None)
                .await;
            assert_eq!(accepted.status(), 202);
            let token = app.token_from_email(&owner.email, "/reset-password").await;
            let new_password = "a password after the lock-out";
            let done = app
                .post(
                    "/api/v1/auth/password-reset/confirm",
                    &json!({"token": token, "new_password": new_password}),
                    None,
                )
                .await;
            assert_eq!(done.status(), 200);
            assert_eq!(app.login(&owner.email, new_password).await.status(), 200);

            // The reset also retired the old device cookie.
            lock_out_strangers(app, &owner.email).await;
            expect_problem(login_with(app, &owner.email, new_password, Some(&old_device)).await, 429)
                .await;
        }

        async fn thirty_simultaneous_wrong_passwords_are_judged_ten_times(app, |c| c.password_hash_workers = 4) {
            assert_eq!(app.register("target@example.org", PASSWORD, "Target").await.status(), 201);
            let attempts = (0..30).map(|_| app.login("target@example.org", "wrong password!"));
            let statuses: Vec<u16> = join_all(attempts).await.iter().map(|r| r.status().as_u16()).collect();
            assert_eq!(count(&statuses, 401), 10, "{statuses:?}");
            assert_eq!(count(&statuses, 429), 20, "{statuses:?}");
        }

        async fn thirty_simultaneous_requests_from_one_address_get_its_limit(app, |c| c.auth_requests_per_ip_per_minute = 5) {
            let statuses = join_all((0..30).map(|_| reset_from(app, None))).await;
            assert_eq!(count(&statuses, 202), 5, "{statuses:?}");
            assert_eq!(count(&statuses, 429), 25, "{statuses:?}");
        }

        async fn a_forwarded_address_from_an_untrusted_peer_is_ignored(app, |c| c.auth_requests_per_ip_per_minute = 3) {
            for n in 0..3 {
                assert_eq!(reset_from(app, Some(&format!("203.0.113.{n}"))).await, 202);
            }
            assert_eq!(reset_from(app, Some("203.0.113.99")).await, 429);
            assert_eq!(reset_from(app, None).await, 429);
        }

        async fn a_trusted_proxy_names_the_client(app, |c| {
            c.auth_requests_per_ip_per_minute = 3;
            c.trusted_proxies = "127.0.0.1".parse().unwrap();
        }) {
            for _ in 0..3 {
                assert_eq!(reset_from(app, Some("203.0.113.7")).await, 202);
            }
            assert_eq!(reset_from(app, Some("203.0.113.7")).await, 429);
            // Hops the client wrote itself, left of the proxy's, change nothing.
            assert_eq!(reset_from(app, Some("198.51.100.1, 203.0.113.7")).await, 429);
            assert_eq!(reset_from(app, Some("203.0.113.8")).await, 202);
            // One IPv6 /64 is one client.
            for n in 1..=3 {
                assert_eq!(reset_from(app, Some(&format!("2001:db8:1:2::{n}"))).await, 202);
            }
            assert_eq!(reset_from(app, Some("2001:db8:1:2:ffff:ffff:ffff:ffff")).await, 429);
            assert_eq!(reset_from(app, Some("2001:db8:1:3::1")).await, 202);
            // Without the header, the proxy is the client.
            assert_eq!(reset_from(app, None).await, 202);
        }

        async fn two_instances_share_one_address_budget(app, |c| c.auth_requests_per_ip_per_minute = 4) {
            let dir = std::env::temp_dir().join(format!("alongside-test-{}", uuid::Uuid::new_v4()));
            std::fs::create_dir_all(&dir).unwrap();
            let other = TestApp::spawn_with(
                app.backend,
                app.config.database_url.clone(),
                dir,
                None,
                |c| c.auth_requests_per_ip_per_minute = 4,
            )
            .await;
            for instance in [app, &other, app, &other] {
                assert_eq!(reset_from(instance, None).await, 202);
            }
            assert_eq!(reset_from(app, None).await, 429);
            assert_eq!(reset_from(&other, None).await, 429);
            other.teardown().await;
        }
    }
}
