//! The service under load and faults at once: two instances that must agree while both are
//! busy, and a PostgreSQL that goes away and comes back while requests keep arriving.

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use serde_json::json;
use tests::{on_both_engines, profile_body, Practitioner, TestApp};

/// What one request of a load saw: when it started, its status (`None`: no answer at all)
/// and how long it took.
struct Seen {
    started: Instant,
    status: Option<u16>,
    took: Duration,
}

/// The peer suggestions, served from memory.
const SUGGESTIONS: &str = "/api/v1/me/suggestions?kind=peer";

/// `clients` loops asking `app` for `path` as `who` until `stop`.
fn load(
    app: &TestApp,
    who: &Practitioner,
    path: &str,
    clients: usize,
    stop: &Arc<AtomicBool>,
) -> Vec<tokio::task::JoinHandle<Vec<Seen>>> {
    (0..clients)
        .map(|_| {
            let client = app.client.clone();
            let url = app.url(path);
            let token = who.access_token.clone();
            let stop = stop.clone();
            tokio::spawn(async move {
                let mut seen = Vec::new();
                while !stop.load(Ordering::SeqCst) {
                    let started = Instant::now();
                    let status = client
                        .get(&url)
                        .bearer_auth(&token)
                        .timeout(Duration::from_secs(10))
                        .send()
                        .await
                        .ok()
                        .map(|r| r.status().as_u16());
                    seen.push(Seen {
                        started,
                        status,
                        took: started.elapsed(),
                    });
                }
                seen
            })
        })
        .collect()
}

async fn finish(stop: &AtomicBool, tasks: Vec<tokio::task::JoinHandle<Vec<Seen>>>) -> Vec<Seen> {
    stop.store(true, Ordering::SeqCst);
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.expect("a load task"));
    }
    all
}

/// While both instances answer a steady load, a profile saved through one shows in the
/// other's suggestions within 5 s, and no request of the load fails.
#[on_both_engines]
async fn two_busy_instances_agree_within_five_seconds(app: &TestApp) {
    let other = app.another_instance().await;
    let ana = app.practitioner("Ana").at("Dubbo").await;
    let ben = app.practitioner("Ben").at("Dubbo").await;
    tests::eventually(
        "Ben suggested to Ana on the other instance",
        Duration::from_secs(5),
        || other.suggests(&ana, "peer", &ben),
    )
    .await;

    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = load(app, &ana, SUGGESTIONS, 4, &stop);
    tasks.extend(load(&other, &ana, SUGGESTIONS, 4, &stop));
    tokio::time::sleep(Duration::from_millis(500)).await;

    let renamed = profile_body(json!({"display_name": "Ben Renamed"}));
    assert_eq!(app.put_profile(&ben, &renamed).await.status(), 200);
    let saved = Instant::now();
    tests::eventually(
        "the new name on the other instance",
        Duration::from_secs(5),
        || async {
            other.suggestions(&ana, "peer").await.items.iter().any(|s| {
                s.profile.user_id == ben.user_id && s.profile.display_name == "Ben Renamed"
            })
        },
    )
    .await;
    assert!(saved.elapsed() < Duration::from_secs(5));

    let seen = finish(&stop, tasks).await;
    assert!(
        seen.len() > 20,
        "the load made only {} requests",
        seen.len()
    );
    let failed = seen.iter().filter(|s| s.status != Some(200)).count();
    assert_eq!(
        failed,
        0,
        "{failed} of {} requests failed under load",
        seen.len()
    );
    other.teardown().await;
}

/// PostgreSQL goes away for two seconds under load: requests that need it meanwhile fail
/// fast with 503 (none hangs), and within 5 s of its return they succeed again, with no
/// restart. Suggestions, served from memory, keep answering throughout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_outage_under_load_fails_fast_and_recovers_within_five_seconds() {
    let Some((app, proxy)) = TestApp::spawn_behind_pg_proxy_or_skip().await else {
        return;
    };
    let ana = app.practitioner("Ana").at("Dubbo").await;
    app.practitioner("Ben").at("Dubbo").await;

    let stop = Arc::new(AtomicBool::new(false));
    // `GET /me` reads the caller's account from storage on every request.
    let tasks = load(&app, &ana, "/api/v1/me", 4, &stop);
    let from_memory = load(&app, &ana, SUGGESTIONS, 1, &stop);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let cut = Instant::now();
    proxy.cut();
    tokio::time::sleep(Duration::from_secs(2)).await;
    // Requests that start from here on may find the database back.
    let restored = Instant::now();
    proxy.restore();
    tokio::time::sleep(Duration::from_secs(6)).await;
    let seen = finish(&stop, tasks).await;
    let suggested = finish(&stop, from_memory).await;
    let unanswered = suggested.iter().filter(|s| s.status != Some(200)).count();
    assert!(
        !suggested.is_empty() && unanswered == 0,
        "{unanswered} of {} suggestions went unanswered through the outage",
        suggested.len()
    );

    for s in &seen {
        assert!(
            matches!(s.status, Some(200 | 503)),
            "a request answered {:?} around the outage",
            s.status
        );
        assert!(
            s.took < Duration::from_secs(2),
            "a request took {:?}: it hung instead of failing fast",
            s.took
        );
    }
    let during = seen
        .iter()
        .filter(|s| s.started > cut + Duration::from_millis(100) && s.started + s.took < restored)
        .collect::<Vec<_>>();
    let answered_503 = during.iter().filter(|s| s.status == Some(503)).count();
    assert!(
        !during.is_empty() && answered_503 == during.len(),
        "requests while the database was away should answer 503: {answered_503} of {} did; the others: {:?}",
        during.len(),
        during
            .iter()
            .filter(|s| s.status != Some(503))
            .map(|s| (s.status, s.started - cut, s.took))
            .collect::<Vec<_>>()
    );
    let late: Vec<&Seen> = seen
        .iter()
        .filter(|s| s.started > restored + Duration::from_secs(5))
        .collect();
    assert!(!late.is_empty(), "no requests after the database returned");
    assert!(
        late.iter().all(|s| s.status == Some(200)),
        "requests still failed 5 s after the database returned"
    );
    app.teardown().await;
}
