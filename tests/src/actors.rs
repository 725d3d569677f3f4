//! The people in a test: `app.practitioner("Ana").at("Dubbo").await` registers Ana, verifies
//! her address through the emailed link, signs her in and saves her profile.

use std::{future::Future, future::IntoFuture, pin::Pin};

use serde_json::{json, Value};

use crate::{profile_body, wire::TokenPair, TestApp, PASSWORD};

/// A registered practitioner with fresh tokens.
#[derive(Clone, Debug)]
pub struct Practitioner {
    pub user_id: String,
    pub email: String,
    pub password: String,
    pub access_token: String,
    pub refresh_token: String,
}

/// Where the tests place people, by name.
pub fn place(name: &str) -> (f64, f64) {
    match name {
        "Dubbo" => (-32.2569, 148.6011),
        "Orange" => (-33.2839, 149.1007),
        "Bathurst" => (-33.42, 149.58),
        "Sydney" => (-33.8688, 151.2093),
        "Brisbane" => (-27.47, 153.03),
        other => panic!("no place called {other} in the tests"),
    }
}

/// The JSON of a position.
pub fn position((latitude, longitude): (f64, f64)) -> Value {
    json!({"latitude": latitude, "longitude": longitude})
}

/// A practitioner about to be created; `.await` creates them. By default a verified
/// community OT in Dubbo with four years' experience (see `profile_body`).
#[must_use = "a practitioner is created only when awaited"]
pub struct NewPractitioner<'a> {
    app: &'a TestApp,
    name: String,
    profile: Value,
    verified: bool,
}

impl TestApp {
    /// A practitioner with a profile; see `NewPractitioner` for the changes to it.
    pub fn practitioner(&self, name: &str) -> NewPractitioner<'_> {
        NewPractitioner {
            app: self,
            name: name.to_owned(),
            profile: json!({}),
            verified: true,
        }
    }

    /// A verified practitioner made an administrator, as `alongside create-admin` does.
    pub async fn admin(&self) -> Practitioner {
        let admin = self.create_verified_practitioner("Programme Admin").await;
        self.make_admin(&admin).await;
        admin
    }
}

impl NewPractitioner<'_> {
    /// At a named place (see `place`).
    pub fn at(self, name: &str) -> Self {
        self.located(place(name))
    }

    /// At an exact position.
    pub fn located(self, at: (f64, f64)) -> Self {
        self.with(json!({"location": position(at)}))
    }

    /// Early in their career and looking for a mentor as well as peers.
    pub fn seeking_a_mentor(self) -> Self {
        self.with(json!({"years_experience": 2, "seeking": {"peers": true, "mentor": true}}))
    }

    /// Experienced, offering `capacity` mentoring places, and not looking for a mentor.
    pub fn mentoring(self, capacity: u32) -> Self {
        self.with(json!({
            "years_experience": 14,
            "seeking": {"peers": true, "mentor": false},
            "mentoring": {"offering": true, "capacity": capacity}
        }))
    }

    /// Any other fields of the profile, replacing those named.
    pub fn with(mut self, fields: Value) -> Self {
        if let (Some(profile), Some(fields)) = (self.profile.as_object_mut(), fields.as_object()) {
            for (key, value) in fields {
                profile.insert(key.clone(), value.clone());
            }
        }
        self
    }

    /// Registered and signed in, with the emailed link never followed.
    pub fn unverified(mut self) -> Self {
        self.verified = false;
        self
    }

    async fn create(self) -> Practitioner {
        let app = self.app;
        let who = if self.verified {
            app.create_verified_practitioner(&self.name).await
        } else {
            app.create_unverified_practitioner(&self.name).await
        };
        let mut profile = self.profile;
        profile["display_name"] = json!(self.name);
        let response = app.put_profile(&who, &profile_body(profile)).await;
        assert_eq!(
            response.status(),
            200,
            "{}",
            response.text().await.unwrap_or_default()
        );
        who
    }
}

impl<'a> IntoFuture for NewPractitioner<'a> {
    type Output = Practitioner;
    type IntoFuture = Pin<Box<dyn Future<Output = Practitioner> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.create())
    }
}

impl TestApp {
    /// Registers and signs in, without verifying the address.
    pub async fn create_unverified_practitioner(&self, name: &str) -> Practitioner {
        let email = unique_email(name);
        let registered = self.register(&email, PASSWORD, name).await;
        assert_eq!(registered.status(), 201, "registration failed");
        let user: Value = registered.json().await.expect("json");
        self.signed_in(user, email).await
    }

    /// Registers, verifies through the emailed link, and signs in.
    pub async fn create_verified_practitioner(&self, name: &str) -> Practitioner {
        let email = unique_email(name);
        let registered = self.register(&email, PASSWORD, name).await;
        assert_eq!(registered.status(), 201, "registration failed");
        let user: Value = registered.json().await.expect("json");
        let token = self.token_from_email(&email, "/verify-email").await;
        let verified = self
            .post("/api/v1/auth/verify-email", &json!({"token": token}), None)
            .await;
        assert_eq!(verified.status(), 200, "verification failed");
        self.signed_in(user, email).await
    }

    async fn signed_in(&self, user: Value, email: String) -> Practitioner {
        let tokens = self.sign_in(&email, PASSWORD).await;
        Practitioner {
            user_id: user["user_id"].as_str().expect("user_id").to_owned(),
            email,
            password: PASSWORD.to_owned(),
            access_token: tokens.access_token,
            refresh_token: tokens.refresh_token,
        }
    }

    /// Signs in, expecting success, and returns the tokens.
    pub async fn sign_in(&self, email: &str, password: &str) -> TokenPair {
        let response = self.login(email, password).await;
        assert_eq!(response.status(), 200, "sign-in failed");
        response.json().await.expect("a token pair")
    }
}

fn unique_email(name: &str) -> String {
    format!(
        "{}-{}@example.org",
        name.to_lowercase().replace(' ', "."),
        uuid::Uuid::new_v4().simple()
    )
}
