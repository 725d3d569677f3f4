//! A real SMTP server process (aiosmtpd) on loopback, and the messages it received.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::{Duration, Instant},
};

use serde::Deserialize;
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
    sync::Mutex,
};

#[derive(Clone, Debug, Deserialize)]
pub struct Email {
    pub mail_from: String,
    pub rcpt_tos: Vec<String>,
    pub data: String,
}

impl Email {
    pub fn is_to(&self, address: &str) -> bool {
        self.rcpt_tos
            .iter()
            .any(|r| r.eq_ignore_ascii_case(address))
    }

    pub fn header(&self, name: &str) -> Option<String> {
        let prefix = format!("{}:", name.to_lowercase());
        self.data
            .lines()
            .take_while(|l| !l.is_empty())
            .find(|l| l.to_lowercase().starts_with(&prefix))
            .map(|l| l[prefix.len()..].trim().to_owned())
    }

    pub fn subject(&self) -> String {
        self.header("subject").unwrap_or_default()
    }

    /// The decoded text of the first MIME part of type `text/calendar` (an `.ics`), with
    /// its folded lines unfolded (RFC 5545 §3.1).
    pub fn calendar(&self) -> Option<String> {
        let parsed = mailparse::parse_mail(self.data.as_bytes()).ok()?;
        let mut parts = vec![&parsed];
        while let Some(part) = parts.pop() {
            if part.ctype.mimetype == "text/calendar" {
                return part.get_body().ok().map(|ics| ics.replace("\r\n ", ""));
            }
            parts.extend(part.subparts.iter());
        }
        None
    }

    /// The decoded plain-text part.
    pub fn text(&self) -> String {
        let Ok(parsed) = mailparse::parse_mail(self.data.as_bytes()) else {
            return String::new();
        };
        let mut parts = vec![&parsed];
        while let Some(part) = parts.pop() {
            if part.ctype.mimetype == "text/plain" {
                return part.get_body().unwrap_or_default();
            }
            parts.extend(part.subparts.iter());
        }
        String::new()
    }

    /// The token of the first `{PUBLIC_URL}{path}?token=...` link in the plain-text part.
    pub fn link_token(&self, path: &str) -> Option<String> {
        let marker = format!("{path}?token=");
        let start = self.data.find(&marker)? + marker.len();
        let token: String = self.data[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect();
        (!token.is_empty()).then_some(token)
    }
}

fn python() -> String {
    if let Ok(python) = std::env::var("ALONGSIDE_TEST_PYTHON") {
        return python;
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python");
    if venv.exists() {
        return venv.display().to_string();
    }
    "python3".into()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free port")
}

pub struct SmtpSink {
    port: u16,
    dir: PathBuf,
    child: Mutex<Option<Child>>,
}

impl SmtpSink {
    pub async fn start(dir: PathBuf) -> Self {
        std::fs::create_dir_all(&dir).expect("mail folder");
        let sink = Self {
            port: free_port(),
            dir,
            child: Mutex::new(None),
        };
        sink.resume().await;
        sink
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Starts the server process (again) on the same port.
    pub async fn resume(&self) {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("support/smtp_sink.py");
        let mut child = Command::new(python())
            .arg(script)
            .arg("--port")
            .arg(self.port.to_string())
            .arg("--dir")
            .arg(&self.dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("cannot start the SMTP server (python3 with aiosmtpd; see README)");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let ready = tokio::time::timeout(Duration::from_secs(20), lines.next_line()).await;
        assert!(
            matches!(ready, Ok(Ok(Some(ref line))) if line == "ready"),
            "the SMTP server did not start; is aiosmtpd installed? ({ready:?})"
        );
        *self.child.lock().await = Some(child);
    }

    /// Stops the server process; mail sent meanwhile is refused. The server is asked to stop
    /// (SIGTERM), so a message it has already stored has also been acknowledged: a message
    /// stored but never acknowledged would be sent again by any correct client.
    pub async fn stop(&self) {
        if let Some(mut child) = self.child.lock().await.take() {
            if let Some(pid) = child.id() {
                let _ = Command::new("kill")
                    .arg("-TERM")
                    .arg(pid.to_string())
                    .status()
                    .await;
                if tokio::time::timeout(Duration::from_secs(5), child.wait())
                    .await
                    .is_ok()
                {
                    return;
                }
            }
            let _ = child.kill().await;
        }
    }

    pub fn messages(&self) -> Vec<Email> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut names: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        names.sort();
        names
            .iter()
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .filter_map(|s| serde_json::from_str(&s).ok())
            .collect()
    }

    pub fn messages_to(&self, address: &str) -> Vec<Email> {
        self.messages()
            .into_iter()
            .filter(|m| m.is_to(address))
            .collect()
    }

    /// Waits up to 20 seconds for a message matching `predicate`.
    pub async fn wait_for(&self, predicate: impl Fn(&Email) -> bool) -> Email {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(found) = self.messages().into_iter().find(|m| predicate(m)) {
                return found;
            }
            assert!(
                Instant::now() < deadline,
                "the expected email did not arrive"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits up to 20 seconds for a message to `to` whose subject contains `subject`.
    pub async fn wait_for_subject(&self, to: &str, subject: &str) -> Email {
        self.wait_for(|m| m.is_to(to) && m.subject().contains(subject))
            .await
    }

    /// How many messages to `to` have a subject that contains `subject`.
    pub fn count_subject(&self, to: &str, subject: &str) -> usize {
        self.messages_to(to)
            .iter()
            .filter(|m| m.subject().contains(subject))
            .count()
    }
}
