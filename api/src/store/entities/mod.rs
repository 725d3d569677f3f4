//! sea-orm entities, one per table created in `migration/`.

pub mod blocks;
pub mod circle_digests;
pub mod circle_meetings;
pub mod circle_members;
pub mod circle_offers;
pub mod circle_posts;
pub mod circle_reports;
pub mod circle_resources;
pub mod circle_rounds;
pub mod circle_rsvps;
pub mod circle_seekers;
pub mod circles;
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
