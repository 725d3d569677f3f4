//! sea-orm entities, one per table created in `migration/`.

pub mod blocks;
pub mod connections;
pub mod email_tokens;
pub mod erasures;
pub mod idempotency_keys;
pub mod location_changes;
pub mod login_failures;
pub mod matching_rounds;
pub mod notification_prefs;
pub mod outbox;
pub mod profile_tags;
pub mod profiles;
pub mod refresh_tokens;
pub mod signing_keys;
pub mod users;
