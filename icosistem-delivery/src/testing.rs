//! A real SMTP server for tests (feature `testing`): [`SmtpSink`] runs aiosmtpd (PyPI) through
//! `python3`, writing every accepted message to a directory, optionally answering DATA with a
//! fixed 4xx/5xx line or requiring STARTTLS. Shared by this crate's SMTP tests and the HTTP
//! journey of `icosistem-tests` (a verification email arriving at a real server).
//!
//! [`read_icalendar`] reads invites and feeds with the reference `icalendar` package (PyPI), so
//! the tests check what calendars will parse, not what our own renderer believes it wrote.
//!
//! Needs `python3` with `aiosmtpd` (`python3 -m pip install aiosmtpd`). Without it
//! [`smtp_sink_available`] prints one skip line and answers false, unless
//! `ICOSISTEM_REQUIRE_SERVICES=1`, where it panics so CI cannot pass by skipping.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The sink's Python program (embedded, so a test of any crate can start it).
const SCRIPT: &str = include_str!("testing/smtp_sink.py");

/// Whether `python3` with `aiosmtpd` is installed. Panics when it is not and
/// `ICOSISTEM_REQUIRE_SERVICES=1`.
pub fn smtp_sink_available() -> bool {
    python_module_available("aiosmtpd")
}

/// Whether `python3` can import `module` (the PyPI package of that name). Panics when it cannot
/// and `ICOSISTEM_REQUIRE_SERVICES=1`, so a missing peer fails CI instead of skipping.
pub fn python_module_available(module: &str) -> bool {
    let ok = std::process::Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var("ICOSISTEM_REQUIRE_SERVICES").as_deref() != Ok("1"),
            "python3 with {module} is required (python3 -m pip install {module})"
        );
        eprintln!("skipped: python3 with {module} not available");
    }
    ok
}

/// The checker of [`read_icalendar`] (embedded like the sink).
const ICS_CHECK: &str = include_str!("testing/ics_check.py");

/// Whether `python3` with the `icalendar` package is installed. Panics when it is not and
/// `ICOSISTEM_REQUIRE_SERVICES=1`.
pub fn icalendar_available() -> bool {
    python_module_available("icalendar")
}

/// Every calendar in `sources` — raw emails (their `text/calendar` parts) or bare iCalendar
/// texts — as Python's `icalendar.Calendar.from_ical` reads it: a JSON list of
/// `{source, content_type, method, timezone, events: [{uid, sequence, status, dtstart, dtend,
/// summary, organizer, attendees}]}` (times as ISO 8601 with their offset). Panics when the
/// package refuses one. Check [`icalendar_available`] first.
pub fn read_icalendar(sources: &[String]) -> serde_json::Value {
    let dir = std::env::temp_dir().join(format!("icosistem-ics-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).expect("mkdir");
    let paths: Vec<PathBuf> = sources
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let path = dir.join(format!("{i}.txt"));
            std::fs::write(&path, text).expect("write");
            path
        })
        .collect();
    let output = std::process::Command::new("python3")
        .arg("-c")
        .arg(ICS_CHECK)
        .args(&paths)
        .output()
        .expect("python3 ran");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        output.status.success(),
        "icalendar refused the calendar: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("the checker prints JSON")
}

/// A running aiosmtpd on 127.0.0.1; stopped (its process killed) when dropped.
#[derive(Debug)]
pub struct SmtpSink {
    _child: Child,
    port: u16,
    dir: PathBuf,
}

impl SmtpSink {
    /// Starts a sink accepting every message.
    pub async fn start() -> Self {
        Self::start_with(&[]).await
    }

    /// Starts a sink with extra arguments: `["--reply", "451 4.3.0 try later"]` answers DATA
    /// with that line; `["--tls", cert, key]` requires STARTTLS with that certificate.
    pub async fn start_with(extra: &[&str]) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("free port")
            .local_addr()
            .expect("addr")
            .port();
        let dir = std::env::temp_dir().join(format!("icosistem-smtp-{port}-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).expect("mkdir");
        let mut child = Command::new("python3")
            .arg("-c")
            .arg(SCRIPT)
            .arg(port.to_string())
            .arg(&dir)
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start the SMTP sink (python3)");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let ready = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
            .await
            .expect("sink ready in 20 s")
            .expect("read sink");
        assert_eq!(ready.as_deref(), Some("READY"));
        Self {
            _child: child,
            port,
            dir,
        }
    }

    /// The port it listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Every message received so far, raw (RFC 5322), in arrival order.
    pub fn received(&self) -> Vec<String> {
        let mut files: Vec<_> = std::fs::read_dir(&self.dir)
            .expect("read dir")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .collect();
        // `<n>.eml`: numeric order is arrival order.
        files.sort_by_key(|p| {
            p.file_stem()
                .and_then(|s| s.to_str())
                .and_then(|s| s.parse::<u64>().ok())
                .unwrap_or(u64::MAX)
        });
        files
            .iter()
            .map(|p| std::fs::read_to_string(p).expect("read eml"))
            .collect()
    }

    /// Waits (polling) until at least `count` messages arrived, at most `timeout`; returns them.
    pub async fn wait_for(&self, count: usize, timeout: Duration) -> Vec<String> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let received = self.received();
            if received.len() >= count || tokio::time::Instant::now() >= deadline {
                return received;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A raw message with its transfer encodings undone enough to search it: quoted-printable soft
/// line breaks and `=3D`, and the HTML escaper's `&#x2f;` (browsers read it back as `/`).
pub fn unfold(raw: &str) -> String {
    raw.replace("=\r\n", "")
        .replace("=\n", "")
        .replace("=3D", "=")
        .replace("&#x2f;", "/")
}
