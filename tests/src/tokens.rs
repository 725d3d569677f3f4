//! Access tokens made by hand, to see that forged and misused ones are refused.

use jsonwebtoken::{EncodingKey, Header};
use serde_json::{json, Value};

/// The claims of a valid access token for `user_id`, with `changes` merged in.
pub fn access_claims(user_id: &str, changes: Value) -> Value {
    let now = chrono::Utc::now().timestamp();
    let mut claims = json!({
        "sub": user_id,
        "iss": "alongside",
        "aud": "alongside-api",
        "exp": now + 600,
        "nbf": now,
        "iat": now,
        "typ": "access",
        "role": "practitioner",
    });
    for (key, value) in changes.as_object().expect("an object of claims") {
        claims[key] = value.clone();
    }
    claims
}

/// `claims` signed with HS256 and `secret`, naming the key `kid` if given.
pub fn sign(claims: &Value, kid: Option<&str>, secret: &[u8]) -> String {
    let header = Header {
        kid: kid.map(str::to_owned),
        ..Header::default()
    };
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(secret)).expect("a JWT")
}

/// A valid access token for `user_id`, naming the key `kid` if given, signed with `secret`.
pub fn forge_access(user_id: &str, kid: Option<&str>, secret: &[u8]) -> String {
    sign(&access_claims(user_id, json!({})), kid, secret)
}
