//! The API's responses as the tests read them: only the fields they look at, named as in
//! `openapi.yaml`.

use serde::Deserialize;

#[derive(Clone, Debug, Deserialize)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: String,
    pub expires_in: u64,
}

/// A page of a list; `next_cursor` is absent on the last page.
#[derive(Clone, Debug, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    #[serde(default)]
    pub next_cursor: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Suggestion {
    pub profile: PublicProfile,
    pub score: f64,
    pub reasons: Vec<Reason>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Reason {
    pub code: String,
    pub label: String,
}

#[derive(Clone, Debug, Deserialize)]
pub struct PublicProfile {
    pub user_id: String,
    pub display_name: String,
    pub distance_km: Option<u64>,
    pub mentoring: PublicMentoring,
}

#[derive(Clone, Debug, Deserialize)]
pub struct PublicMentoring {
    pub offering: bool,
    pub available_slots: i64,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Connection {
    pub id: String,
    pub status: String,
    pub contact_email: Option<String>,
    pub proposed_by_round: bool,
    pub requester: PublicProfile,
    pub recipient: PublicProfile,
}

#[derive(Clone, Debug, Deserialize)]
pub struct RoundResult {
    pub round_id: String,
    pub solver: String,
    pub blocking_pairs: u64,
    pub total_score: f64,
    pub proposals: Vec<Proposal>,
    pub unmatched_mentee_ids: Vec<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Proposal {
    pub mentee_id: String,
    pub mentor_id: String,
    pub score: f64,
}
