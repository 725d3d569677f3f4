//! The calls the tests make most, as a practitioner would make them.

use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use crate::{
    wire::{Connection, Page, RoundResult, Suggestion},
    Practitioner, TestApp,
};

/// Polls `check` until it holds, failing after `within`.
pub async fn eventually<F, Fut>(what: &str, within: std::time::Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = std::time::Instant::now();
    while !check().await {
        assert!(started.elapsed() < within, "not within {within:?}: {what}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// The body of a successful response; on failure, the status and body in the message.
pub async fn body_of<T: DeserializeOwned>(response: reqwest::Response) -> T {
    let status = response.status();
    let text = response.text().await.expect("a body");
    assert!(status.is_success(), "{status}: {text}");
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("{error}: {text}"))
}

impl TestApp {
    /// `POST path` with a body sent as it is, labelled `content_type`.
    pub async fn post_raw(
        &self,
        path: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("request failed")
    }

    /// `GET path` as `who`.
    pub async fn get_as(&self, who: &Practitioner, path: &str) -> reqwest::Response {
        self.get(path, Some(&who.access_token)).await
    }

    /// `POST path` with `body` as `who`.
    pub async fn post_as(&self, who: &Practitioner, path: &str, body: Value) -> reqwest::Response {
        self.post(path, &body, Some(&who.access_token)).await
    }

    /// The status of `GET /me` with `token`: whether the token opens the API.
    pub async fn me_status(&self, token: &str) -> u16 {
        self.get("/api/v1/me", Some(token)).await.status().as_u16()
    }

    /// `GET /me` as `who`.
    pub async fn me(&self, who: &Practitioner) -> Value {
        body_of(self.get_as(who, "/api/v1/me").await).await
    }

    /// `from` asks `to` for a connection of `kind` (`peer` or `mentorship`).
    pub async fn ask(
        &self,
        from: &Practitioner,
        to: &Practitioner,
        kind: &str,
    ) -> reqwest::Response {
        let body = json!({"recipient_id": to.user_id, "kind": kind, "message": "Hello from Dubbo"});
        self.post_as(from, "/api/v1/connections", body).await
    }

    /// `from` asks `to` for a connection of `kind`, which must be created.
    pub async fn connect(&self, from: &Practitioner, to: &Practitioner, kind: &str) -> Connection {
        let response = self.ask(from, to, kind).await;
        assert_eq!(response.status(), 201, "the request was not created");
        body_of(response).await
    }

    /// `who` takes `action` (accept, decline, withdraw, end) on connection `id`.
    pub async fn act(&self, who: &Practitioner, id: &str, action: &str) -> reqwest::Response {
        self.act_with(who, id, action, json!({})).await
    }

    /// Like `act`, with a body (a decline's reason).
    pub async fn act_with(
        &self,
        who: &Practitioner,
        id: &str,
        action: &str,
        body: Value,
    ) -> reqwest::Response {
        self.post_as(who, &format!("/api/v1/connections/{id}/{action}"), body)
            .await
    }

    /// Connection `id` as `who` sees it.
    pub async fn connection(&self, who: &Practitioner, id: &str) -> Connection {
        body_of(self.get_as(who, &format!("/api/v1/connections/{id}")).await).await
    }

    /// `who`'s connections, filtered by `query` (such as `direction=incoming`).
    pub async fn connections(&self, who: &Practitioner, query: &str) -> Page<Connection> {
        body_of(
            self.get_as(who, &format!("/api/v1/connections?{query}"))
                .await,
        )
        .await
    }

    /// Up to fifty suggestions of `kind` (`peer` or `mentor`) for `who`.
    pub async fn suggestions(&self, who: &Practitioner, kind: &str) -> Page<Suggestion> {
        let path = format!("/api/v1/me/suggestions?kind={kind}&limit=50");
        body_of(self.get_as(who, &path).await).await
    }

    /// The ids of the people suggested to `who`.
    pub async fn suggested_ids(&self, who: &Practitioner, kind: &str) -> Vec<String> {
        let page = self.suggestions(who, kind).await;
        page.items.into_iter().map(|s| s.profile.user_id).collect()
    }

    /// Whether `whom` is among the `kind` suggestions for `who`.
    pub async fn suggests(&self, who: &Practitioner, kind: &str, whom: &Practitioner) -> bool {
        self.suggested_ids(who, kind).await.contains(&whom.user_id)
    }

    /// The directory as `who` sees it with `query` (such as `kind=mentor&limit=100`).
    pub async fn directory(&self, who: &Practitioner, query: &str) -> Page<Value> {
        body_of(
            self.get_as(who, &format!("/api/v1/directory?{query}"))
                .await,
        )
        .await
    }

    /// Whether `whom` is listed in the directory `who` sees with `query`.
    pub async fn lists(&self, who: &Practitioner, query: &str, whom: &Practitioner) -> bool {
        let page = self.directory(who, query).await;
        page.items
            .iter()
            .any(|p| p["user_id"] == json!(whom.user_id))
    }

    /// `whom`'s public profile as `viewer` asks for it.
    pub async fn public_profile(
        &self,
        viewer: &Practitioner,
        whom: &Practitioner,
    ) -> reqwest::Response {
        self.get_as(viewer, &format!("/api/v1/profiles/{}", whom.user_id))
            .await
    }

    /// `who` blocks `whom`.
    pub async fn block(&self, who: &Practitioner, whom: &Practitioner) {
        let body = json!({"user_id": whom.user_id});
        let blocked = self.post_as(who, "/api/v1/me/blocks", body).await;
        assert_eq!(blocked.status(), 204, "the block failed");
    }

    /// The administrator `admin` suspends `whom`.
    pub async fn suspend(&self, admin: &Practitioner, whom: &Practitioner) {
        let path = format!("/api/v1/admin/users/{}/suspend", whom.user_id);
        let done = self.post_as(admin, &path, json!({})).await;
        assert_eq!(done.status(), 200, "the suspension failed");
    }

    /// A mentorship round run by `admin`.
    pub async fn run_round(&self, admin: &Practitioner, dry_run: bool) -> RoundResult {
        let body = json!({"kind": "mentorship", "dry_run": dry_run});
        let response = self
            .post_as(admin, "/api/v1/admin/matching-rounds", body)
            .await;
        assert_eq!(response.status(), 200, "the round failed");
        body_of(response).await
    }

    /// The programme's numbers, as `admin` sees them.
    pub async fn stats(&self, admin: &Practitioner) -> Value {
        body_of(self.get_as(admin, "/api/v1/admin/stats").await).await
    }

    /// `who` erases their account, confirming with `password`.
    pub async fn erase(&self, who: &Practitioner, password: &str) -> reqwest::Response {
        let body = json!({"password": password});
        let token = Some(who.access_token.as_str());
        self.send(reqwest::Method::DELETE, "/api/v1/me", &body, token)
            .await
    }

    /// `POST /auth/refresh` with `refresh_token`.
    pub async fn refresh(&self, refresh_token: &str) -> reqwest::Response {
        let body = json!({"refresh_token": refresh_token});
        self.post("/api/v1/auth/refresh", &body, None).await
    }

    /// Asks for a password-reset link to `email`.
    pub async fn forgot_password(&self, email: &str) -> reqwest::Response {
        let body = json!({"email": email});
        self.post("/api/v1/auth/password-reset", &body, None).await
    }

    /// Sets `new_password` with the reset link's `token`.
    pub async fn reset_password(&self, token: &str, new_password: &str) -> reqwest::Response {
        let body = json!({"token": token, "new_password": new_password});
        self.post("/api/v1/auth/password-reset/confirm", &body, None)
            .await
    }
}

/// The statuses of responses that were asked for at the same moment.
#[derive(Debug)]
pub struct Statuses(pub Vec<u16>);

impl Statuses {
    /// Sends every request at once and waits for all the answers.
    pub async fn of<F>(requests: impl IntoIterator<Item = F>) -> Self
    where
        F: std::future::Future<Output = reqwest::Response>,
    {
        let responses = futures_util::future::join_all(requests).await;
        Self(responses.iter().map(|r| r.status().as_u16()).collect())
    }

    /// How many answers had `status`.
    pub fn count(&self, status: u16) -> usize {
        self.0.iter().filter(|s| **s == status).count()
    }
}

/// The seconds a refusal asks the client to wait, which must be some but under 15 minutes.
pub fn retry_after(response: &reqwest::Response) -> u64 {
    let header = response.headers()["retry-after"].to_str().expect("ascii");
    let seconds: u64 = header.parse().expect("whole seconds");
    assert!(seconds > 0 && seconds <= 900, "retry after {seconds} s");
    seconds
}
