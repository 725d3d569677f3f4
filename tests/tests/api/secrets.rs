//! Secrets shared by instances (signing keys in the database, rotation), revocation on a
//! password reset, and the headers every response carries.

mod headers;

use std::time::{Duration, Instant};

use api::{
    auth::{key_id, JwtKeys},
    store::{entities::signing_keys, signing_keys as keys},
};
use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, Set};
use serde_json::json;
use tests::{
    expect_problem, on_both_engines,
    tokens::{forge_access, sign},
    Config, Practitioner, TestApp, JWT_SECRET, PASSWORD,
};

/// Signing keys kept in the database rather than given in `JWT_SECRET`.
fn no_jwt_secret(config: &mut Config) {
    config.jwt_secret = None;
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

/// The key id of a fresh access token from signing in on `app`.
async fn signing_kid(app: &TestApp, who: &Practitioner) -> Option<String> {
    kid_of(&app.sign_in(&who.email, PASSWORD).await.access_token)
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

/// An unsubscribe link for `who` signed with `secret`.
fn unsubscribe_link(who: &Practitioner, secret: &str) -> String {
    let user_id = who.user_id.parse().expect("a uuid");
    JwtKeys::new(secret.as_bytes())
        .issue_unsubscribe(user_id)
        .expect("a link")
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

#[on_both_engines]
async fn with_jwt_secret_that_secret_signs_and_no_key_is_stored(app: &TestApp) {
    let user = app.create_verified_practitioner("Fixed Key").await;
    assert_eq!(kid_of(&user.access_token), Some(key_id(JWT_SECRET)));
    let stored = stored_keys(app).await;
    assert!(
        stored.is_empty(),
        "the secret is never written to the database"
    );
    // Tokens from before tokens named their key (no kid) still verify.
    let without_kid = forge_access(&user.user_id, None, JWT_SECRET);
    assert_eq!(app.me_status(&without_kid).await, 200);
}

#[on_both_engines(config = no_jwt_secret)]
async fn two_instances_without_jwt_secret_accept_each_others_tokens(app: &TestApp) {
    let other = app.another_instance_configured(no_jwt_secret).await;
    let stored = stored_keys(app).await;
    assert_eq!(stored.len(), 1, "one key for both instances");
    let kid = Some(stored[0].kid.clone());

    let user = app.create_verified_practitioner("Shared Key").await;
    assert_eq!(kid_of(&user.access_token), kid);
    let on_the_second = other.me_status(&user.access_token).await;
    assert_eq!(on_the_second, 200, "first instance's token on the second");
    let from_other = other.sign_in(&user.email, PASSWORD).await.access_token;
    assert_eq!(kid_of(&from_other), kid);
    let on_the_first = app.me_status(&from_other).await;
    assert_eq!(on_the_first, 200, "second instance's token on the first");
    other.teardown().await;
}

#[on_both_engines(config = no_jwt_secret)]
async fn instances_creating_the_first_key_at_once_settle_on_one(app: &TestApp) {
    for round in 0..5 {
        signing_keys::Entity::delete_many()
            .exec(&app.db)
            .await
            .unwrap();
        let attempts = (0..8).map(|_| keys::ensure_current(&app.db, None));
        let created = futures_util::future::join_all(attempts).await;
        let kids: Vec<String> = created.into_iter().map(|k| k.unwrap().kid).collect();
        assert!(
            kids.iter().all(|k| *k == kids[0]),
            "round {round}: {kids:?}"
        );
        let stored = stored_keys(app).await;
        assert_eq!(stored.len(), 1, "round {round}");
        assert_eq!(stored[0].kid, kids[0]);
        assert_eq!(stored[0].kid, key_id(stored[0].secret.as_bytes()));
    }
}

/// A practitioner whose token was signed by the first key, and that key and the one that
/// replaced it in a rotation without revoking.
async fn rotated(app: &TestApp) -> (Practitioner, signing_keys::Model, signing_keys::Model) {
    let user = app.create_verified_practitioner("Rotation").await;
    let old = stored_keys(app).await.remove(0);
    assert_eq!(kid_of(&user.access_token), Some(old.kid.clone()));
    let rotated = keys::rotate(&app.db, false).await.unwrap();
    assert_ne!(rotated.current.kid, old.kid);
    assert_eq!(rotated.previous, vec![old.kid.clone()]);
    (user, old, rotated.current)
}

#[on_both_engines(config = no_jwt_secret)]
async fn after_a_rotation_the_new_key_signs_and_is_accepted_at_once(app: &TestApp) {
    let (user, _, new) = rotated(app).await;
    // A token naming the new key works at once, even before this instance polls.
    let new_token = JwtKeys::new(new.secret.as_bytes())
        .issue_access(user.user_id.parse().unwrap(), "practitioner")
        .unwrap();
    assert_eq!(kid_of(&new_token), Some(new.kid.clone()));
    assert_eq!(app.me_status(&new_token).await, 200);
    // And this instance now signs with the new key.
    assert_eq!(signing_kid(app, &user).await, Some(new.kid));
}

#[on_both_engines(config = no_jwt_secret)]
async fn a_token_naming_an_unknown_or_another_key_is_refused(app: &TestApp) {
    let (user, old, new) = rotated(app).await;
    let forged =
        |kid: &str, secret: &str| forge_access(&user.user_id, Some(kid), secret.as_bytes());
    // A key id nobody has, with either real secret: refused.
    let unknown = "00000000000000ff";
    assert_eq!(app.me_status(&forged(unknown, &new.secret)).await, 401);
    assert_eq!(app.me_status(&forged(unknown, &old.secret)).await, 401);
    // A real key id on a token signed with another secret: refused.
    assert_eq!(app.me_status(&forged(&new.kid, &old.secret)).await, 401);
}

#[on_both_engines(config = no_jwt_secret)]
async fn a_rotated_out_key_works_for_one_access_token_lifetime(app: &TestApp) {
    let (user, old, new) = rotated(app).await;
    let old_link = unsubscribe_link(&user, &old.secret);
    let new_token = forge_access(&user.user_id, Some(&new.kid), new.secret.as_bytes());
    // The old key is retired but still inside its window.
    assert_eq!(app.me_status(&user.access_token).await, 200);

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
    let fresh = app.another_instance_configured(no_jwt_secret).await;
    let old_token_status = fresh.me_status(&user.access_token).await;
    assert_eq!(old_token_status, 401, "key retired 16 minutes ago");
    assert_eq!(fresh.me_status(&new_token).await, 200);
    let link_status = unsubscribe_status(&fresh, &old_link).await;
    assert_eq!(link_status, 200, "unsubscribe links outlive a rotation");
    fresh.teardown().await;
}

#[on_both_engines(config = no_jwt_secret)]
async fn rotating_with_revoke_stops_everything_the_old_key_signed(app: &TestApp) {
    let user = app.create_verified_practitioner("Leaked Key").await;
    let old = stored_keys(app).await.remove(0);
    let old_link = unsubscribe_link(&user, &old.secret);
    let rotated = keys::rotate(&app.db, true).await.unwrap();
    let stored = stored_keys(app).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].kid, rotated.current.kid);

    let fresh = app.another_instance_configured(no_jwt_secret).await;
    assert_eq!(fresh.me_status(&user.access_token).await, 401);
    assert_eq!(unsubscribe_status(&fresh, &old_link).await, 400);
    assert_eq!(signing_kid(&fresh, &user).await, Some(rotated.current.kid));
    fresh.teardown().await;
}

/// No `JWT_SECRET`, and a secret in `data/jwt_secret` as an older version kept it.
fn legacy_secret_file(config: &mut Config) {
    config.jwt_secret = None;
    let file = config.data_dir.join("jwt_secret");
    std::fs::write(file, format!("{LEGACY_SECRET}\n")).unwrap();
}

#[on_both_engines(config = legacy_secret_file)]
async fn a_secret_left_in_the_data_folder_becomes_the_first_key(app: &TestApp) {
    let stored = stored_keys(app).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].kid, key_id(LEGACY_SECRET.as_bytes()));
    let user = app.create_verified_practitioner("Upgrader").await;
    // A token and a link as the older version signed them (no kid) still verify.
    let token = forge_access(&user.user_id, None, LEGACY_SECRET.as_bytes());
    assert_eq!(app.me_status(&token).await, 200);
    let now = chrono::Utc::now().timestamp();
    let claims = json!({
        "sub": user.user_id, "iss": "alongside", "aud": "alongside-unsubscribe",
        "exp": now + 3600, "iat": now, "typ": "unsubscribe"
    });
    let link = sign(&claims, None, LEGACY_SECRET.as_bytes());
    assert_eq!(unsubscribe_status(app, &link).await, 200);
}

#[on_both_engines]
async fn a_password_reset_revokes_every_session_and_every_other_reset_link(app: &TestApp) {
    let user = app.create_verified_practitioner("Twice Forgetful").await;
    let second_session = app.sign_in(&user.email, PASSWORD).await;
    for _ in 0..2 {
        assert_eq!(app.forgot_password(&user.email).await.status(), 202);
    }
    let links = reset_tokens(app, &user.email, 2).await;
    assert_eq!(links.len(), 2);

    let new_password = "an entirely new password";
    let done = app.reset_password(&links[1], new_password).await;
    assert_eq!(done.status(), 200);

    let other = app
        .reset_password(&links[0], "what an attacker would set")
        .await;
    let problem = expect_problem(other, 400).await;
    let kind = problem["type"].as_str().unwrap();
    assert!(kind.ends_with("invalid-token"), "{problem}");
    let first = app.refresh(&user.refresh_token).await.status();
    assert_eq!(first, 401, "first sign-in");
    let second = app.refresh(&second_session.refresh_token).await.status();
    assert_eq!(second, 401, "second sign-in");
    assert_eq!(app.login(&user.email, new_password).await.status(), 200);

    // A reset requested afterwards works as usual.
    app.forgot_password(&user.email).await;
    let later = reset_tokens(app, &user.email, 3).await;
    let again = app.reset_password(&later[2], "a third new password").await;
    assert_eq!(again.status(), 200);
}
