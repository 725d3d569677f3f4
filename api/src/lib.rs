//! Alongside: connects allied-health practitioners who work alone with peers and mentors.

pub mod auth;
pub mod cli;
pub mod config;
pub mod domain;
pub mod email;
pub mod error;
pub mod extract;
pub mod headers;
pub mod idempotency;
pub mod isolation;
pub mod matching;
pub mod metrics;
pub mod notify;
pub mod openapi;
pub mod privacy;
pub mod ratelimit;
pub mod routes;
pub mod scheduler;
pub mod seed;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod views;
pub mod vocabulary;
pub mod web;
