//! Email: templates rendered into the outbox, and the worker that delivers them.

pub mod calendar;
pub mod templates;
pub mod transport;
pub mod worker;
