//! Sign-in limits: the password pool, device cookies, atomic counters and client addresses.

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use serde_json::json;
use tests::{expect_problem, on_both_engines, retry_after, Config, Statuses, TestApp, PASSWORD};

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

/// Floods take turns, so that one test's flood is not measured in another's.
static FLOOD: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[on_both_engines]
async fn health_answers_within_100_ms_during_200_bogus_sign_ins(app: &TestApp) {
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
        let body =
            json!({"email": format!("bogus{n}@example.org"), "password": "not the password"});
        tokio::spawn(raw_post(app.port, "/api/v1/auth/login", body))
    });
    let confirms = (0..20).map(|n| {
        let body =
            json!({"token": format!("made-up-token-{n}"), "new_password": "a brand new password"});
        tokio::spawn(raw_post(
            app.port,
            "/api/v1/auth/password-reset/confirm",
            body,
        ))
    });
    let (logins, confirms) = tokio::join!(join_all(logins), join_all(confirms));
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let polls = poller.join().unwrap();
    let logins = Statuses(logins.into_iter().map(Result::unwrap).collect());
    let confirms: Vec<u16> = confirms.into_iter().map(Result::unwrap).collect();
    assert!(polls.len() >= 5, "health was hardly asked: {polls:?}");
    // Every poll is answered, and within 100 ms, except at most the one poll whose connection
    // lands in the same instant as the flood's 220 (it waits its turn in the listen queue on
    // a machine of two cores); even that one within 250 ms. A flood that starved the service
    // would push many polls far past these.
    let mut times: Vec<Duration> = polls.iter().map(|(_, elapsed)| *elapsed).collect();
    times.sort();
    for (status, _) in &polls {
        assert_eq!(status, "HTTP/1.1 200 OK");
    }
    let slowest = times.pop().unwrap_or_default();
    let next = times.last().copied().unwrap_or_default();
    assert!(
        next < Duration::from_millis(100),
        "health took {next:?}: {polls:?}"
    );
    assert!(
        slowest < Duration::from_millis(250),
        "health took {slowest:?}: {polls:?}"
    );
    assert_eq!(logins.count(401) + logins.count(503), 200, "{logins:?}");
    assert!(logins.count(401) > 0, "{logins:?}");
    // A made-up reset token is refused before any password work, so never busy.
    assert!(confirms.iter().all(|s| *s == 400), "{confirms:?}");
}

#[on_both_engines(config = |c| c.password_hash_workers = 1)]
async fn a_busy_answer_is_a_problem_with_retry_after(app: &TestApp) {
    let _turn = FLOOD.lock().await;
    // One worker and its short queue fill up quickly under a burst.
    let emails: Vec<String> = (0..100).map(|n| format!("burst{n}@example.org")).collect();
    let responses = join_all(emails.iter().map(|e| app.login(e, "not the password"))).await;
    let busy: Vec<_> = responses
        .into_iter()
        .filter(|r| r.status() == 503)
        .collect();
    assert!(
        !busy.is_empty(),
        "a hundred sign-ins at once never filled one worker"
    );
    for response in busy {
        assert_eq!(response.headers()["retry-after"], "1");
        let problem = expect_problem(response, 503).await;
        assert_eq!(problem["type"], "/problems/busy");
    }
}

#[on_both_engines]
async fn the_device_cookie_is_http_only_strict_and_only_for_signing_in(app: &TestApp) {
    let owner = app.create_verified_practitioner("Owner").await;
    let signed_in = login_with(app, &owner.email, PASSWORD, None).await;
    assert_eq!(signed_in.status(), 200);
    let (_, header) = set_device_cookie(&signed_in);
    assert!(header.contains("HttpOnly"), "{header}");
    assert!(header.contains("SameSite=Strict"), "{header}");
    assert!(header.contains("Path=/api/v1/auth"), "{header}");
    let over_http = "the test service is served over http";
    assert!(!header.contains("Secure"), "{over_http}: {header}");
}

#[on_both_engines]
async fn a_strangers_failures_never_lock_out_the_owner_on_their_device(app: &TestApp) {
    let owner = app.create_verified_practitioner("Owner").await;
    let device = device_of(app, &owner.email).await;

    lock_out_strangers(app, &owner.email).await;
    expect_problem(app.login(&owner.email, "a stranger's guess").await, 429).await;
    // Without the cookie even the right password waits, as for any stranger.
    expect_problem(app.login(&owner.email, PASSWORD).await, 429).await;
    // With it, the owner signs in, and keeps the same device.
    let owner_in = login_with(app, &owner.email, PASSWORD, Some(&device)).await;
    assert_eq!(owner_in.status(), 200);
    assert_eq!(set_device_cookie(&owner_in).0, device);
    // A typo on the owner's device does not end it either.
    expect_problem(
        login_with(app, &owner.email, "a typo", Some(&device)).await,
        401,
    )
    .await;
    assert_eq!(
        login_with(app, &owner.email, PASSWORD, Some(&device))
            .await
            .status(),
        200
    );
    // Strangers stay locked out.
    expect_problem(app.login(&owner.email, PASSWORD).await, 429).await;
}

#[on_both_engines]
async fn a_device_cookie_has_its_own_small_budget_for_its_own_account(app: &TestApp) {
    let owner = app.create_verified_practitioner("Owner").await;
    let other = app.create_verified_practitioner("Other").await;
    let device = device_of(app, &owner.email).await;

    // Five failures on the device use up its budget, not the account's.
    for attempt in 1..=5 {
        let response = login_with(app, &owner.email, "a typo", Some(&device)).await;
        assert_eq!(response.status(), 401, "attempt {attempt}");
    }
    let refused = login_with(app, &owner.email, PASSWORD, Some(&device)).await;
    retry_after(&refused);
    expect_problem(refused, 429).await;
    assert_eq!(app.login(&owner.email, PASSWORD).await.status(), 200);

    // The owner's cookie is nobody else's: for another account it counts as a stranger.
    for attempt in 1..=10 {
        let response = login_with(app, &other.email, "a guess", Some(&device)).await;
        assert_eq!(response.status(), 401, "attempt {attempt}");
    }
    expect_problem(
        login_with(app, &other.email, PASSWORD, Some(&device)).await,
        429,
    )
    .await;
    // A made-up cookie is no cookie.
    expect_problem(
        login_with(app, &other.email, PASSWORD, Some("made-up")).await,
        429,
    )
    .await;
}

#[on_both_engines]
async fn password_reset_works_while_locked_out_and_ends_the_lock_out(app: &TestApp) {
    let owner = app.create_verified_practitioner("Locked Out").await;
    let old_device = device_of(app, &owner.email).await;
    lock_out_strangers(app, &owner.email).await;
    expect_problem(app.login(&owner.email, PASSWORD).await, 429).await;

    assert_eq!(app.forgot_password(&owner.email).await.status(), 202);
    let token = app.token_from_email(&owner.email, "/reset-password").await;
    let new_password = "a password after the lock-out";
    assert_eq!(app.reset_password(&token, new_password).await.status(), 200);
    assert_eq!(app.login(&owner.email, new_password).await.status(), 200);

    // The reset also retired the old device cookie.
    lock_out_strangers(app, &owner.email).await;
    expect_problem(
        login_with(app, &owner.email, new_password, Some(&old_device)).await,
        429,
    )
    .await;
}

#[on_both_engines(config = |c| c.password_hash_workers = 4)]
async fn thirty_simultaneous_wrong_passwords_are_judged_ten_times(app: &TestApp) {
    let registered = app.register("target@example.org", PASSWORD, "Target").await;
    assert_eq!(registered.status(), 201);
    let attempts = (0..30).map(|_| app.login("target@example.org", "wrong password!"));
    let statuses = Statuses::of(attempts).await;
    assert_eq!(statuses.count(401), 10, "{statuses:?}");
    assert_eq!(statuses.count(429), 20, "{statuses:?}");
}

#[on_both_engines(config = |c| c.auth_requests_per_ip_per_minute = 5)]
async fn thirty_simultaneous_requests_from_one_address_get_its_limit(app: &TestApp) {
    let statuses = Statuses(join_all((0..30).map(|_| reset_from(app, None))).await);
    assert_eq!(statuses.count(202), 5, "{statuses:?}");
    assert_eq!(statuses.count(429), 25, "{statuses:?}");
}

#[on_both_engines(config = |c| c.auth_requests_per_ip_per_minute = 3)]
async fn a_forwarded_address_from_an_untrusted_peer_is_ignored(app: &TestApp) {
    for n in 0..3 {
        assert_eq!(reset_from(app, Some(&format!("203.0.113.{n}"))).await, 202);
    }
    assert_eq!(reset_from(app, Some("203.0.113.99")).await, 429);
    assert_eq!(reset_from(app, None).await, 429);
}

/// Three requests a minute from one address, behind a proxy on this machine.
fn behind_a_local_proxy(config: &mut Config) {
    config.auth_requests_per_ip_per_minute = 3;
    config.trusted_proxies = "127.0.0.1".parse().unwrap();
}

#[on_both_engines(config = behind_a_local_proxy)]
async fn a_trusted_proxy_names_the_client(app: &TestApp) {
    for _ in 0..3 {
        assert_eq!(reset_from(app, Some("203.0.113.7")).await, 202);
    }
    assert_eq!(reset_from(app, Some("203.0.113.7")).await, 429);
    // Hops the client wrote itself, left of the proxy's, change nothing.
    assert_eq!(
        reset_from(app, Some("198.51.100.1, 203.0.113.7")).await,
        429
    );
    assert_eq!(reset_from(app, Some("203.0.113.8")).await, 202);
    // One IPv6 /64 is one client.
    for n in 1..=3 {
        assert_eq!(
            reset_from(app, Some(&format!("2001:db8:1:2::{n}"))).await,
            202
        );
    }
    assert_eq!(
        reset_from(app, Some("2001:db8:1:2:ffff:ffff:ffff:ffff")).await,
        429
    );
    assert_eq!(reset_from(app, Some("2001:db8:1:3::1")).await, 202);
    // Without the header, the proxy is the client.
    assert_eq!(reset_from(app, None).await, 202);
}

#[on_both_engines(config = |c| c.auth_requests_per_ip_per_minute = 4)]
async fn two_instances_share_one_address_budget(app: &TestApp) {
    let other = app
        .another_instance_configured(|c| c.auth_requests_per_ip_per_minute = 4)
        .await;
    for instance in [app, &other, app, &other] {
        assert_eq!(reset_from(instance, None).await, 202);
    }
    assert_eq!(reset_from(app, None).await, 429);
    assert_eq!(reset_from(&other, None).await, 429);
    other.teardown().await;
}
