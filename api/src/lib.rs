//! Alongside: connects allied-health practitioners who work alone with peers and mentors.
//!
//! The layers, each depending only on those below it (see ARCHITECTURE.md):
//! `http` (actix handlers, wire types) → `service` (each capability's rules) → `store`,
//! `index`, `email` (storage, the live matching index, delivery) → `domain` (pure types).

pub mod audit;
pub mod auth;
pub mod cards;
pub mod cli;
pub mod config;
pub mod domain;
pub mod email;
pub mod error;
pub mod http;
pub mod index;
pub mod isolation;
pub mod metrics;
pub mod privacy;
pub mod scheduler;
pub mod seed;
pub mod service;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod views;
pub mod vocabulary;
