//! Shared helpers for tests that run the real `kapchart` binary on a temporary chart.
#![allow(dead_code)]

pub mod fhir_server;
pub mod fhir_validator;
pub mod fixture;
pub mod pty;
pub mod signing;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub const PASSPHRASE: &str = "correct horse battery staple";

/// A temporary home with its own chart, config and log; removed when dropped.
pub struct Home {
    pub dir: tempfile::TempDir,
}

impl Home {
    pub fn new() -> Home {
        Home {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes this home's config.toml (where `kapchart paths` says it is) with `toml`.
    pub fn configure(&self, toml: &str) {
        let dir = self.path().join("xdg-config").join("kapchart");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("config.toml"), toml).unwrap();
    }

    /// A clinic laptop for the sync tests: config.toml with the clinic's MRN system, the
    /// FHIR server at `server` and `bundle_size` resources a bundle; a chart with one patient
    /// by `mrn` and a dosing session with `lines` charted: (patient, session).
    pub fn laptop(
        &self,
        server: &str,
        mrn: &str,
        bundle_size: u32,
        lines: &[&str],
    ) -> (String, String) {
        self.configure(&format!(
            "[clinic]\nmrn_system = \"{SYNC_MRN_SYSTEM}\"\n\n[sync]\nserver = \"{server}\"\nbundle_size = {bundle_size}\n"
        ));
        self.ok(&["init", "--clinician", "Dr. Test"]);
        let patient = self.ok(&[
            "patient",
            "add",
            "--name",
            "Alex Rivera",
            "--dob",
            "1986-04-12",
            "--mrn",
            mrn,
            "--weight",
            "70",
        ]);
        let session = self.ok(&[
            "session",
            "start",
            "--patient",
            &patient,
            "--kind",
            "dosing",
        ]);
        for line in lines {
            self.ok(&["log", "--session", &session, line]);
        }
        (patient, session)
    }

    pub fn chart(&self) -> PathBuf {
        self.path().join("data").join("chart.db")
    }

    /// A `kapchart` command with this home's chart, config and passphrase.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_kapchart"));
        c.args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.path())
            .env("XDG_DATA_HOME", self.path().join("xdg-data"))
            .env("XDG_CONFIG_HOME", self.path().join("xdg-config"))
            .env("XDG_STATE_HOME", self.path().join("xdg-state"))
            .env("KAPCHART_DB", self.chart())
            .env("KAPCHART_PASSPHRASE", PASSPHRASE)
            .env("TZ", child_tz())
            .stdin(Stdio::null());
        if let Some(shift) = std::env::var_os(CLOCK_SHIFT) {
            c.env(CLOCK_SHIFT, shift);
        }
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("run kapchart")
    }

    pub fn run_with_stdin(&self, args: &[&str], input: &str) -> Output {
        let mut child = self
            .cmd(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn kapchart");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write stdin");
        child.wait_with_output().expect("wait kapchart")
    }

    /// Runs and expects success; returns trimmed stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "kapchart {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Runs and expects failure with `code`; returns stderr.
    pub fn fails(&self, args: &[&str], code: i32) -> String {
        let out = self.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(
            out.status.code(),
            Some(code),
            "kapchart {args:?}: expected exit {code}; stdout {} stderr {stderr}",
            String::from_utf8_lossy(&out.stdout)
        );
        stderr
    }

    /// A chart with one patient (70 kg) and one open dosing session: (patient, session).
    pub fn with_dosing_session(&self) -> (String, String) {
        self.ok(&["init", "--clinician", "Dr. Test"]);
        let patient = self.ok(&[
            "patient",
            "add",
            "--name",
            "Test Patient",
            "--dob",
            "1980-05-17",
            "--weight",
            "70",
        ]);
        let session = self.ok(&[
            "session",
            "start",
            "--patient",
            &patient,
            "--kind",
            "dosing",
            "--intention",
            "Let go of the old story",
        ]);
        (patient, session)
    }

    /// Receives one 50 mg/mL, 10 mL ketamine vial (500 mg, lot L1) into the controlled-
    /// substance stock; returns what `stock receive` printed ("receipt N: V1").
    pub fn receive_one_vial(&self) -> String {
        self.ok(&[
            "stock",
            "receive",
            "ketamine",
            "--strength",
            "50mg/mL",
            "--volume",
            "10mL",
            "--containers",
            "1",
            "--lot",
            "L1",
            "--expires",
            "2027-06",
            "--supplier",
            "Acme Pharma",
            "--supplier-address",
            "1 Main St",
            "--supplier-dea",
            "RA1234567",
        ])
    }

    /// Writes the clinician's own sections of a drafted note (the patient's account, the
    /// assessment, the plan) and saves it, so that the note is complete and can be signed.
    #[allow(dead_code)]
    pub fn complete_note(&self, note: &str) {
        let shown: serde_json::Value =
            serde_json::from_str(&self.ok(&["note", "show", note, "--json"])).unwrap();
        let draft = shown["text"].as_str().expect("a draft").to_string();
        let complete: Vec<String> = draft
            .lines()
            .map(|l| match l.trim_end() {
                "Assessment:" => "Assessment: steady, settled.".to_string(),
                "Plan:" => "Plan: continue the course.".to_string(),
                t if t.starts_with("Patient's account") => format!("{t} slept well."),
                _ => l.to_string(),
            })
            .collect();
        let file = self.path().join(format!("note-{note}.md"));
        std::fs::write(&file, complete.join("\n") + "\n").unwrap();
        self.ok(&["note", "save", note, file.to_str().unwrap()]);
    }

    pub fn show_json(&self, session: &str) -> serde_json::Value {
        let out = self.ok(&["session", "show", session, "--json"]);
        serde_json::from_str(&out).expect("session show --json is JSON")
    }
}

/// How far the slow tests go (the kill loop, the restore race, the store property):
/// `KAPCHART_TEST_DEPTH=ci` (what CI runs: enough to assert that the rare windows were hit),
/// `long` (or `KAPCHART_LONG_TESTS=1`), and the default otherwise (a developer's run).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Depth {
    Default,
    Ci,
    Long,
}

/// The MRN system the sync tests' clinic issues MRNs under.
pub const SYNC_MRN_SYSTEM: &str = "urn:oid:1.2.840.99999.1";

/// The lines of a sync test's dosing session: two readings (BP, HR, SpO2; BP, HR, MOAA/S)
/// and a dose.
pub const SYNC_LINES: [&str; 3] = [
    "@-30m bp 128/82 hr 74 spo2 98",
    "@-20m dose ketamine 35mg IM",
    "@-10m bp 132/84 hr 80 moaas 4",
];

pub fn depth() -> Depth {
    if std::env::var("KAPCHART_LONG_TESTS").is_ok_and(|v| v == "1") {
        return Depth::Long;
    }
    match std::env::var("KAPCHART_TEST_DEPTH").as_deref() {
        Ok("long") => Depth::Long,
        Ok("ci") => Depth::Ci,
        Ok("") | Ok("default") | Err(_) => Depth::Default,
        Ok(other) => panic!("KAPCHART_TEST_DEPTH={other:?}: expected default, ci or long"),
    }
}

/// `default`, `ci` or `long`, by the depth the run asks for.
pub fn by_depth<T>(default: T, ci: T, long: T) -> T {
    match depth() {
        Depth::Default => default,
        Depth::Ci => ci,
        Depth::Long => long,
    }
}

/// The debug build's clock hook (`src/clock.rs`): seconds added to the system clock.
pub const CLOCK_SHIFT: &str = "KAPCHART_TEST_CLOCK_SHIFT";

/// The time zone the binary runs in under these tests: the suite's own `TZ` when it sets one
/// (CI runs the suite just after midnight and at a daylight-saving change), else UTC.
pub fn child_tz() -> String {
    std::env::var("TZ")
        .ok()
        .filter(|tz| !tz.is_empty())
        .unwrap_or_else(|| "UTC".to_string())
}

/// Now as the binary reads it (the suite's clock shift included), in the binary's zone.
pub fn child_now() -> chrono::DateTime<chrono::FixedOffset> {
    let now = kapchart::clock::now();
    if std::env::var("TZ").is_ok_and(|tz| !tz.is_empty()) {
        now
    } else {
        now.with_timezone(&chrono::Utc).fixed_offset()
    }
}

/// The offset from UTC, in seconds, of the binary's zone at `at`.
pub fn child_offset_at<Tz: chrono::TimeZone>(at: &chrono::DateTime<Tz>) -> i32 {
    use chrono::Offset;
    if std::env::var("TZ").is_ok_and(|tz| !tz.is_empty()) {
        at.with_timezone(&chrono::Local)
            .offset()
            .fix()
            .local_minus_utc()
    } else {
        0
    }
}

/// The binary's clock set to `at` (it runs on from there): the variable and its value.
pub fn clock_at<Tz: chrono::TimeZone>(at: &chrono::DateTime<Tz>) -> (&'static str, String) {
    let shift = at.with_timezone(&chrono::Utc) - chrono::Utc::now();
    (CLOCK_SHIFT, shift.num_seconds().to_string())
}

/// The binary's clock set to `day` at the time of day it reads now.
pub fn clock_on(day: chrono::NaiveDate) -> (&'static str, String) {
    let now = child_now();
    clock_at(&(now + (day - now.date_naive())))
}

pub fn file_bytes(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_default()
}

/// Takes a chart back to just before `migration` (one of `schema::MIGRATIONS`), as a chart of
/// an older kapchart was: the objects that migration and every later one created are dropped,
/// and the version set to the migration's. Opening it again runs them.
pub fn rewind_before(conn: &rusqlite::Connection, migration: &str) {
    use kapchart::store::schema::MIGRATIONS;
    let at = MIGRATIONS
        .iter()
        .position(|m| *m == migration)
        .expect("one of kapchart's migrations");
    let objects = |upto: usize| -> Vec<(String, String)> {
        let mem = rusqlite::Connection::open_in_memory().unwrap();
        for m in &MIGRATIONS[..upto] {
            mem.execute_batch(m).unwrap();
        }
        let mut stmt = mem
            .prepare("SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0).unwrap(), r.get(1).unwrap())))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let columns = |upto: usize, table: &str| -> Vec<String> {
        let mem = rusqlite::Connection::open_in_memory().unwrap();
        for m in &MIGRATIONS[..upto] {
            mem.execute_batch(m).unwrap();
        }
        let mut stmt = mem
            .prepare("SELECT name FROM pragma_table_info(?1)")
            .unwrap();
        stmt.query_map([table], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let before = objects(at);
    let later: Vec<(String, String)> = objects(MIGRATIONS.len())
        .into_iter()
        .filter(|o| !before.contains(o))
        .collect();
    // The team's certificates are signed by the admins' own keys, which a test cannot make
    // again: they are kept aside for `reopen_after_rewind` to put back.
    if later.iter().any(|(_, n)| n == "team_certificates") {
        conn.execute_batch("CREATE TABLE kept_certificates AS SELECT * FROM team_certificates")
            .unwrap();
    }
    for kind in ["trigger", "index", "table"] {
        for (_, name) in later.iter().filter(|(k, _)| k == kind) {
            conn.execute_batch(&format!("DROP {} IF EXISTS {name}", kind.to_uppercase()))
                .unwrap();
        }
    }
    // Columns a later migration added to a table that was there before it.
    for (_, table) in before.iter().filter(|(k, _)| k == "table") {
        let then = columns(at, table);
        for column in columns(MIGRATIONS.len(), table) {
            if !then.contains(&column) {
                conn.execute_batch(&format!("ALTER TABLE {table} DROP COLUMN {column}"))
                    .unwrap();
            }
        }
    }
    conn.pragma_update(None, "user_version", at as i64).unwrap();
}

/// Opens a chart `rewind_before` took back (which runs the migrations again) and puts back
/// the team's certificates it kept aside.
pub fn reopen_after_rewind(path: &std::path::Path, who: &str, pass: &str) {
    drop(kapchart::store::Chart::open_as(path, who, pass, 2000).unwrap());
    let conn = kapchart::store::Chart::open_raw_connection(path, who, pass).unwrap();
    let kept: bool = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name = 'kept_certificates'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    if kept {
        conn.execute_batch(
            "INSERT INTO team_certificates SELECT * FROM kept_certificates;
             DROP TABLE kept_certificates;",
        )
        .unwrap();
    }
}

/// The id a FHIR export gives the exporting chart's row `what` ("entry/42/dose",
/// "session/3"), from the chart's URN that every resource named from it carries as its
/// identifier's system.
pub fn named(bundle: &serde_json::Value, what: &str) -> String {
    use serde_json::Value;
    let urn = bundle["entry"]
        .as_array()
        .expect("a bundle")
        .iter()
        .flat_map(|e| match &e["resource"]["identifier"] {
            Value::Array(list) => list.clone(),
            one => vec![one.clone()],
        })
        .filter_map(|i| i["system"].as_str().map(str::to_string))
        .find(|s| s.starts_with("urn:uuid:"))
        .expect("a resource named from the chart");
    kapchart::domain::identity::ChartUuid::parse(&urn["urn:uuid:".len()..])
        .expect("the chart's URN holds a UUID")
        .name(what)
}
