//! The real binary with bad settings: one line on stderr naming the variable, a non-zero
//! exit, and never a panic.

#![allow(clippy::expect_used, clippy::panic)]

use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

fn start_with(vars: &[(&str, &str)]) -> (Option<i32>, String) {
    let dir = std::env::temp_dir().join(format!("alongside-settings-{}", std::process::id()));
    let mut command = Command::new(env!("CARGO_BIN_EXE_alongside"));
    command
        .env_clear()
        .env("DATA_DIR", &dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (name, value) in vars {
        command.env(name, value);
    }
    let mut child = command.spawn().expect("the binary runs");
    // A setting that slipped through would start a server: give up on it after a while.
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            let _ = std::fs::remove_dir_all(&dir);
            panic!("{vars:?} did not stop start-up");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().expect("output");
    let _ = std::fs::remove_dir_all(&dir);
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn assert_refused(name: &str, value: &str) {
    let (code, stderr) = start_with(&[(name, value)]);
    assert!(
        code.is_some_and(|c| c != 0),
        "{name}={value}: exit {code:?}"
    );
    assert!(!stderr.contains("panicked"), "{name}={value}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{name}={value}: {stderr:?}");
    assert!(
        stderr.starts_with(&format!("error: {name} is not valid: ")),
        "{name}={value}: {stderr:?}"
    );
}

#[test]
fn a_huge_request_ttl_stops_start_up_with_one_line() {
    assert_refused("REQUEST_TTL_DAYS", "99999999999");
    assert_refused("REQUEST_TTL_DAYS", "4000000000");
}

#[test]
fn other_bad_settings_stop_start_up_with_one_line() {
    for (name, value) in [
        ("PORT", "99999"),
        ("PUBLIC_URL", "localhost:8080"),
        ("CORS_ORIGINS", "https://app.example.org/path"),
        ("MAIL_FROM", "nobody"),
        ("DATABASE_URL", "mysql://db/app"),
        ("HOST", "not a host"),
        ("JWT_SECRET", "short"),
        ("SMTP_URL", "mail.example.org"),
        ("LOG_FORMAT", "xml"),
        ("RUST_LOG", "info,api=loud"),
        ("AUTH_RATE_LIMIT_PER_MINUTE", "0"),
        ("LOCATION_CHANGES_PER_HOUR", "-3"),
        ("CONNECTION_REQUESTS_PER_DAY", "many"),
    ] {
        assert_refused(name, value);
    }
}
