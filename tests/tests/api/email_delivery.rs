use std::{
    collections::{BTreeMap, HashMap, HashSet},
    time::{Duration, Instant},
};

use api::store::{
    entities::outbox as outbox_rows,
    outbox::{self, NewEmail},
};
use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::{json, Value};
use tests::{eventually, on_both_engines, Config, TestApp, PASSWORD};

#[on_both_engines]
async fn registration_survives_a_mail_outage_and_the_email_arrives_once(app: &TestApp) {
    app.smtp.stop().await;
    let response = app
        .register("patient@example.org", PASSWORD, "Patient")
        .await;
    assert_eq!(response.status(), 201);

    // Let the worker fail a few times against the closed port.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(app.smtp.messages_to("patient@example.org").is_empty());

    app.smtp.resume().await;
    let email = app.smtp.wait_for(|m| m.is_to("patient@example.org")).await;
    assert!(email.link_token("/verify-email").is_some());

    // Give any duplicate delivery the chance to show itself.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(app.smtp.messages_to("patient@example.org").len(), 1);
    let message_id = email.header("message-id").expect("a Message-ID");
    assert!(message_id.starts_with('<') && message_id.ends_with('>'));
}

/// Leases long enough that a slow send is never taken over, retries at least every second.
fn patient_outbox(config: &mut Config) {
    config.outbox.lease = Duration::from_secs(20);
    config.outbox.send_timeout = Duration::from_secs(5);
    config.outbox.backoff_max = Duration::from_secs(1);
}

#[on_both_engines(config = patient_outbox)]
async fn two_instances_deliver_two_hundred_emails_through_a_mail_outage_exactly_once(a: &TestApp) {
    let b = a.another_instance().await;
    let apps = [a, &b];
    let first: Vec<String> = (0..50).map(|n| format!("first-{n}@example.org")).collect();
    let second: Vec<String> = (0..50).map(|n| format!("second-{n}@example.org")).collect();

    // Fifty sign-ups; the mail server goes down once a few of their emails have arrived.
    let (_, outage) = tokio::join!(register_all(&apps, &first), async {
        eventually(
            "the first emails to arrive",
            Duration::from_secs(30),
            || std::future::ready(a.smtp.messages().len() >= 10),
        )
        .await;
        a.smtp.stop().await;
        Instant::now()
    });
    // During the outage: fifty more sign-ups and a password reset for each of the first.
    register_all(&apps, &second).await;
    reset_all(&apps, &first).await;
    while outage.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let retried = outbox_rows::Entity::find()
        .filter(outbox_rows::Column::Attempts.gt(0))
        .all(&a.db)
        .await
        .unwrap();
    assert!(!retried.is_empty(), "the outage went unnoticed");

    // The server is back: a reset for each of the second fifty while the backlog drains.
    a.smtp.resume().await;
    reset_all(&apps, &second).await;
    eventually(
        "every email to be sent",
        Duration::from_secs(30),
        || async { outbox::count_by_status(&a.db, "sent").await.unwrap() == 200 },
    )
    .await;
    // Give any second delivery the chance to show itself.
    tokio::time::sleep(Duration::from_secs(2)).await;

    let queued: HashSet<String> = outbox_rows::Entity::find()
        .all(&a.db)
        .await
        .unwrap()
        .iter()
        .map(|row| format!("<{}@localhost>", row.id))
        .collect();
    assert_eq!(queued.len(), 200);
    let received = a.smtp.messages();
    let mut per_message: HashMap<String, usize> = HashMap::new();
    let mut per_address: HashMap<String, Vec<String>> = HashMap::new();
    for email in &received {
        let id = email.header("message-id").expect("a Message-ID");
        *per_message.entry(id).or_default() += 1;
        for to in &email.rcpt_tos {
            per_address
                .entry(to.clone())
                .or_default()
                .push(email.subject());
        }
    }
    let twice: Vec<_> = per_message.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "sent more than once: {twice:?}");
    assert_eq!(per_message.keys().cloned().collect::<HashSet<_>>(), queued);
    assert_eq!(received.len(), 200);
    for address in first.iter().chain(&second) {
        let subjects = &per_address[address];
        assert_eq!(subjects.len(), 2, "{address}: {subjects:?}");
        assert_ne!(subjects[0], subjects[1], "{address}: {subjects:?}");
    }
    b.teardown().await;
}

#[on_both_engines]
async fn a_stale_lease_holder_cannot_record_after_another_instance_took_the_email_over(
    app: &TestApp,
) {
    // Due only tomorrow, so the running worker leaves it alone; the claims below act at
    // chosen moments after that.
    let tomorrow = Utc::now() + chrono::Duration::days(1);
    let id = uuid::Uuid::now_v7();
    outbox_rows::ActiveModel {
        id: Set(id),
        user_id: Set(None),
        kind: Set("introduction".into()),
        to_address: Set("sam@example.org".into()),
        subject: Set("Hello".into()),
        text_body: Set("Hello".into()),
        html_body: Set("<p>Hello</p>".into()),
        headers: Set(json!({})),
        status: Set("queued".into()),
        attempts: Set(0),
        next_attempt_at: Set(tomorrow),
        locked_until: Set(None),
        lease_token: Set(None),
        last_error: Set(None),
        created_at: Set(Utc::now()),
        sent_at: Set(None),
        calendar: Set(None),
    }
    .insert(&app.db)
    .await
    .unwrap();
    let lease = chrono::Duration::seconds(60);
    let at = |seconds| tomorrow + chrono::Duration::seconds(seconds);

    let first = outbox::claim_due(&app.db, 10, at(1), lease).await.unwrap();
    assert_eq!(first.len(), 1);
    let stale = first[0].lease_token.unwrap();
    assert!(outbox::claim_due(&app.db, 10, at(30), lease)
        .await
        .unwrap()
        .is_empty());

    // The first holder stalls past its lease; another instance takes the email over.
    let second = outbox::claim_due(&app.db, 10, at(62), lease).await.unwrap();
    assert_eq!(second.len(), 1);
    let current = second[0].lease_token.unwrap();
    assert_ne!(stale, current);

    assert!(!outbox::mark_sent(&app.db, id, stale).await.unwrap());
    assert!(!outbox::reschedule(&app.db, id, stale, "timeout", at(90))
        .await
        .unwrap());
    assert!(!outbox::mark_failed(&app.db, id, stale, "timeout", true)
        .await
        .unwrap());
    assert!(!outbox::release(&app.db, id, stale).await.unwrap());
    let row = outbox_rows::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.status, "queued");
    assert_eq!(row.attempts, 0);
    assert_eq!(row.lease_token, Some(current));
    assert!(outbox::claim_due(&app.db, 10, at(63), lease)
        .await
        .unwrap()
        .is_empty());

    assert!(outbox::mark_sent(&app.db, id, current).await.unwrap());
    let row = outbox_rows::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.status, "sent");
    assert!(row.sent_at.is_some());
    assert!(!outbox::mark_sent(&app.db, id, current).await.unwrap());
    assert!(outbox::claim_due(&app.db, 10, at(200), lease)
        .await
        .unwrap()
        .is_empty());
}

/// Retries every 200 ms at most, and gives mail other than verification a second.
fn short_mail_deadlines(config: &mut Config) {
    config.outbox.backoff_max = Duration::from_millis(200);
    config.outbox.retry_for = Duration::from_secs(1);
    config.outbox.password_reset_retry_for = Duration::from_secs(1);
}

#[on_both_engines(config = short_mail_deadlines)]
async fn mail_is_retried_until_its_deadline_then_shown_as_a_dead_letter(app: &TestApp) {
    let admin = app.admin().await;
    app.smtp.stop().await;

    // Sign-in mail lives as long as its link (here a verification link, 7 days; a reset
    // link, shortened to a second); other mail a day (shortened to a second).
    let registered = app
        .register("waiting@example.org", PASSWORD, "Waiting")
        .await;
    assert_eq!(registered.status(), 201);
    assert_eq!(app.forgot_password(&admin.email).await.status(), 202);
    outbox::enqueue(
        &app.db,
        NewEmail {
            user_id: None,
            kind: "introduction",
            to_address: "late@example.org".into(),
            subject: "Meet your peer".into(),
            text_body: "Hello".into(),
            html_body: "<p>Hello</p>".into(),
            headers: Vec::new(),
            calendar: None,
        },
    )
    .await
    .unwrap();

    eventually(
        "two dead letters in /metrics",
        Duration::from_secs(15),
        || async {
            let metrics = app.get("/metrics", None).await.text().await.unwrap();
            metrics
                .lines()
                .any(|l| l == "alongside_outbox_dead_letters 2")
        },
    )
    .await;
    let metrics = app.get("/metrics", None).await.text().await.unwrap();
    assert!(
        metrics
            .lines()
            .any(|l| l == "alongside_emails_failed_total 2"),
        "{metrics}"
    );

    // The verification email is still being retried, past the dozen tries after which
    // it used to be given up.
    eventually(
        "a dozen failed attempts",
        Duration::from_secs(15),
        || async {
            let rows = outbox_rows::Entity::find()
                .filter(outbox_rows::Column::ToAddress.eq("waiting@example.org"))
                .all(&app.db)
                .await
                .unwrap();
            rows[0].status == "queued" && rows[0].attempts > 12
        },
    )
    .await;

    let stats: Value = app
        .get("/api/v1/admin/stats", Some(&admin.access_token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stats["emails"]["failed"], 2, "{stats}");
    assert_eq!(stats["emails"]["queued"], 1, "{stats}");
    assert_eq!(
        stats["emails"]["dead_letters_by_kind"],
        json!({"introduction": 1, "password_reset": 1})
    );
    let dead: BTreeMap<String, i32> = outbox_rows::Entity::find()
        .filter(outbox_rows::Column::Status.eq("failed"))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|row| (row.kind, row.attempts))
        .collect();
    assert!(dead.values().all(|attempts| *attempts > 1), "{dead:?}");

    app.smtp.resume().await;
    app.smtp.wait_for(|m| m.is_to("waiting@example.org")).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(app.smtp.messages_to("late@example.org").is_empty());
    let to_admin = app.smtp.messages_to(&admin.email);
    assert_eq!(
        to_admin.len(),
        1,
        "only the verification email reached the admin"
    );
}

/// Sends one request per address, alternating between the instances, ten at a time.
async fn on_each<'a, F, Fut>(apps: &[&'a TestApp; 2], addresses: &'a [String], request: F)
where
    F: Fn(&'a TestApp, &'a str) -> Fut,
    Fut: std::future::Future<Output = reqwest::Response>,
{
    for (chunk_no, chunk) in addresses.chunks(10).enumerate() {
        let requests = chunk
            .iter()
            .enumerate()
            .map(|(n, address)| request(apps[(chunk_no + n) % 2], address));
        for response in futures_util::future::join_all(requests).await {
            assert!(response.status().is_success(), "{}", response.status());
        }
    }
}

async fn register_all(apps: &[&TestApp; 2], addresses: &[String]) {
    on_each(apps, addresses, |app, address| {
        app.register(address, PASSWORD, "Sam Rivera")
    })
    .await;
}

async fn reset_all(apps: &[&TestApp; 2], addresses: &[String]) {
    on_each(apps, addresses, |app, address| async move {
        app.forgot_password(address).await
    })
    .await;
}
