//! Schema changes, one file per change. Every change must run unchanged on SQLite and
//! PostgreSQL, so only portable column types and constraints are used.

pub use sea_orm_migration::prelude::*;

mod helpers;
mod m20261122_000001_accounts;
mod m20261122_000002_profiles;
mod m20261122_000003_connections;
mod m20261201_000001_outbox_leases;
mod m20261201_000002_limits;
mod m20261201_000003_signing_keys;
mod m20261201_000004_erasures_idempotency;
mod m20261205_000001_circles;
mod m20261205_000002_match_digests;
mod m20261206_000001_development_log;
mod m20261206_000002_follow_through;
mod m20261206_000003_connection_meetings;
mod m20261206_000004_one_updated_index;
mod m20261207_000001_profile_tag_list;
mod m20261207_000002_unread_indexes;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_accounts::Migration),
            Box::new(m20261122_000002_profiles::Migration),
            Box::new(m20261122_000003_connections::Migration),
            Box::new(m20261201_000001_outbox_leases::Migration),
            Box::new(m20261201_000002_limits::Migration),
            Box::new(m20261201_000003_signing_keys::Migration),
            Box::new(m20261201_000004_erasures_idempotency::Migration),
            Box::new(m20261205_000001_circles::Migration),
            Box::new(m20261205_000002_match_digests::Migration),
            Box::new(m20261206_000001_development_log::Migration),
            Box::new(m20261206_000002_follow_through::Migration),
            Box::new(m20261206_000003_connection_meetings::Migration),
            Box::new(m20261206_000004_one_updated_index::Migration),
            Box::new(m20261207_000001_profile_tag_list::Migration),
            Box::new(m20261207_000002_unread_indexes::Migration),
        ]
    }
}
