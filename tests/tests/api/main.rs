//! Black-box tests: each starts the real server with a fresh database and SMTP server.

mod auth;
mod circles;
mod connections;
mod email_delivery;
mod errors;
mod faults;
mod follow_through;
mod log;
mod operations;
mod profiles;
mod rounds;
mod secrets;
mod session;
mod trust;
