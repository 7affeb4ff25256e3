//! The chart store through kapchart's library: encryption, append-only rules, audit trail,
//! migrations.

use chrono::{DateTime, FixedOffset, NaiveDate};
use kapchart::app::Chart;
use kapchart::app::charting;
use kapchart::config::Config;
use kapchart::domain::SessionKind;
use kapchart::store::{NewPatient, NewSession, schema};
use std::path::{Path, PathBuf};

const PASS: &str = "test passphrase";

fn now() -> DateTime<FixedOffset> {
    kapchart::clock::now()
}

struct Fixture {
    _dir: tempfile::TempDir,
    path: PathBuf,
    chart: Chart,
    session: i64,
    config: Config,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chart.db");
    let mut chart = Chart::create(&path, PASS, "Dr. Store", 2000, now()).unwrap();
    let patient = chart
        .behind_the_door()
        .add_patient(
            &NewPatient {
                name: "Store Patient".into(),
                dob: NaiveDate::from_ymd_opt(1985, 3, 3).unwrap(),
                mrn: None,
                weight_kg: Some(80.0),
            },
            now(),
        )
        .unwrap();
    let session = chart
        .behind_the_door()
        .start_session(
            &NewSession {
                patient_id: patient,
                kind: SessionKind::Dosing,
                started: now(),
                intention: None,
                dosing_session_id: None,
            },
            now(),
        )
        .unwrap();
    Fixture {
        _dir: dir,
        path,
        chart,
        session,
        config: Config::default(),
    }
}

impl Fixture {
    fn log(&mut self, line: &str) -> Vec<i64> {
        charting::record_line(
            &mut self.chart,
            &self.config,
            self.session,
            line,
            &kapchart::clock::now_local(),
        )
        .unwrap()
        .ids
    }
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

#[test]
fn entries_and_audit_rows_cannot_be_updated_or_deleted() {
    let mut f = fixture();
    let id = f.log("bp 120/80")[0];
    let conn = f.chart.behind_the_door_ref().raw_connection();
    for sql in [
        format!("UPDATE entries SET payload = '{{}}' WHERE id = {id}"),
        format!("DELETE FROM entries WHERE id = {id}"),
        "UPDATE audit SET action = 'x' WHERE seq = 1".to_string(),
        "DELETE FROM audit WHERE seq = 1".to_string(),
        "UPDATE patients SET name = 'x'".to_string(),
        "DELETE FROM sessions".to_string(),
        "UPDATE clinicians SET name = 'x'".to_string(),
    ] {
        let err = conn.execute(&sql, []).unwrap_err().to_string();
        assert!(err.contains("append-only"), "{sql}: {err}");
    }
    assert!(f.chart.verify().unwrap().is_ok());
}

#[test]
fn a_correction_chain_never_forks() {
    let mut f = fixture();
    let id = f.log("hr 70")[0];
    let now = kapchart::clock::now_local();
    let a = charting::amend_entry(&mut f.chart, &f.config, id, "typo", "hr 71", &now)
        .unwrap()
        .id;
    let err = charting::strike_entry(&mut f.chart, id, "again", &now).unwrap_err();
    assert!(err.to_string().contains("already amended"), "{err}");
    // Even a raw insert cannot correct the same entry twice.
    let err = f
        .chart
        .behind_the_door_ref()
        .raw_connection()
        .execute(
            "INSERT INTO entries (session_id, kind, payload, event_at, event_offset, recorded_at,
               recorded_offset, author_id, corrects, correction, reason)
             VALUES (?1, 'strike', '{}', 0, 0, 0, 0, 1, ?2, 'strike', 'x')",
            [f.session, id],
        )
        .unwrap_err();
    assert!(err.to_string().contains("UNIQUE"), "{err}");
    // A correction always has a reason, even written by hand.
    let err = f
        .chart
        .behind_the_door_ref()
        .raw_connection()
        .execute(
            "INSERT INTO entries (session_id, kind, payload, event_at, event_offset, recorded_at,
               recorded_offset, author_id, corrects, correction, reason)
             VALUES (?1, 'strike', '{}', 0, 0, 0, 0, 1, ?2, 'strike', '  ')",
            [f.session, a],
        )
        .unwrap_err();
    assert!(err.to_string().contains("CHECK"), "{err}");
    let s = charting::strike_entry(&mut f.chart, a, "patient declined reading", &now)
        .unwrap()
        .id;
    let session = charting::session_chart(&f.chart, &f.config, f.session).unwrap();
    let lines = session.lines();
    let statuses: Vec<_> = lines.iter().map(|l| (l.entry.id, l.status)).collect();
    use kapchart::domain::EntryStatus::*;
    assert_eq!(
        statuses,
        [(id, Amended { by: a }), (a, Struck { by: s }), (s, Current)]
    );
}

#[test]
fn a_struck_session_end_reopens_the_session() {
    let mut f = fixture();
    let now = kapchart::clock::now_local();
    let end = charting::end_session(
        &mut f.chart,
        &f.config,
        f.session,
        Vec::new(),
        Some("ended in the wrong session"),
        &now,
    )
    .unwrap()
    .last()
    .unwrap()
    .id;
    assert!(f.chart.session(f.session).unwrap().ended.is_some());
    let err = charting::amend_entry(&mut f.chart, &f.config, end, "r", "hr 70", &now).unwrap_err();
    assert!(err.to_string().contains("strike it to reopen"), "{err}");
    charting::strike_entry(&mut f.chart, end, "ended the wrong session", &now).unwrap();
    assert!(f.chart.session(f.session).unwrap().ended.is_none());
}

#[test]
fn a_canary_logged_in_an_observation_never_reaches_the_disk_in_clear() {
    let mut f = fixture();
    let canary = "CANARY-zebra-7731-quartz";
    f.log(&format!("obs {canary} #insight"));
    let wal = sibling(&f.path, "-wal");
    assert!(wal.exists(), "WAL mode keeps a -wal file while open");
    for path in [&f.path, &wal] {
        let bytes = std::fs::read(path).unwrap();
        assert!(!bytes.is_empty());
        let found = bytes.windows(canary.len()).any(|w| w == canary.as_bytes());
        assert!(!found, "{} holds the canary in clear text", path.display());
    }
    let path = f.path.clone();
    drop(f.chart);
    let bytes = std::fs::read(&path).unwrap();
    assert!(!bytes.windows(canary.len()).any(|w| w == canary.as_bytes()));
    assert!(
        !bytes.starts_with(b"SQLite format 3"),
        "the header is encrypted too"
    );
}

#[test]
fn every_open_sets_the_durability_pragmas() {
    let f = fixture();
    let path = f.path.clone();
    drop(f.chart);
    let chart = Chart::open(&path, PASS, 2000).unwrap();
    let conn = chart.behind_the_door_ref().raw_connection();
    let get = |pragma: &str| -> String {
        conn.query_row(&format!("PRAGMA {pragma}"), [], |r| {
            r.get::<_, rusqlite::types::Value>(0)
        })
        .map(|v| match v {
            rusqlite::types::Value::Integer(i) => i.to_string(),
            rusqlite::types::Value::Text(t) => t,
            other => format!("{other:?}"),
        })
        .unwrap()
    };
    assert_eq!(get("journal_mode"), "wal");
    assert_eq!(get("synchronous"), "2", "FULL");
    assert_eq!(get("foreign_keys"), "1");
    assert_eq!(get("application_id"), schema::APPLICATION_ID.to_string());
    assert_eq!(get("user_version"), schema::LATEST.to_string());
}

#[test]
fn wrong_passphrase_is_refused_without_touching_the_file() {
    let f = fixture();
    let path = f.path.clone();
    drop(f.chart);
    let before = std::fs::read(&path).unwrap();
    let err = Chart::open(&path, "guess", 2000).err().expect("refused");
    assert!(
        matches!(err.kind(), kapchart::app::ErrorKind::WrongPassphrase),
        "{err}"
    );
    assert_eq!(err.to_string(), "wrong passphrase, or not a kapchart chart");
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn a_chart_from_a_newer_kapchart_is_refused_untouched() {
    let f = fixture();
    let path = f.path.clone();
    f.chart
        .behind_the_door_ref()
        .raw_connection()
        .pragma_update(None, "user_version", schema::LATEST + 7)
        .unwrap();
    drop(f.chart);
    let before = std::fs::read(&path).unwrap();
    let err = Chart::open(&path, PASS, 2000).err().expect("refused");
    let text = err.to_string();
    assert!(
        text.contains(&format!("v{}", schema::LATEST + 7))
            && text.contains(&format!("v{}", schema::LATEST)),
        "names both versions: {text}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), before, "not touched");
    assert!(
        !sibling(&path, "-wal").exists()
            || std::fs::read(sibling(&path, "-wal")).unwrap().is_empty()
    );
}

#[test]
fn an_older_chart_is_migrated_forward() {
    // A chart at version 0 (keyed, application id set, no tables) is brought to LATEST.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "key", PASS).unwrap();
        conn.pragma_update(None, "application_id", schema::APPLICATION_ID)
            .unwrap();
        conn.execute_batch("CREATE TABLE scratch(x); DROP TABLE scratch;")
            .unwrap();
    }
    let chart = Chart::open(&path, PASS, 2000).unwrap();
    assert_eq!(chart.schema_version().unwrap(), schema::LATEST);
    assert!(chart.patients().unwrap().is_empty());
}

#[test]
fn tampering_behind_kapcharts_back_is_found_at_the_first_bad_row() {
    let mut f = fixture();
    f.log("bp 120/80");
    let target = f.log("hr 70")[0];
    f.log("obs later entry");
    assert!(f.chart.verify().unwrap().is_ok());
    let audit_seq: i64 = f
        .chart
        .behind_the_door_ref()
        .raw_connection()
        .query_row(
            "SELECT seq FROM audit WHERE object_kind = 'entry' AND object_id = ?1",
            [target],
            |r| r.get(0),
        )
        .unwrap();
    let conn = f.chart.behind_the_door_ref().raw_connection();
    conn.execute_batch("DROP TRIGGER entries_no_update")
        .unwrap();
    conn.execute(
        "UPDATE entries SET payload = '{\"kind\":\"vitals\",\"hr\":60}' WHERE id = ?1",
        [target],
    )
    .unwrap();
    let report = f.chart.verify().unwrap();
    let brk = report.first_break.expect("tampering found");
    assert_eq!(brk.seq, audit_seq);
    assert!(
        brk.why.contains(&format!("entry {target} was changed")),
        "{}",
        brk.why
    );
}

#[test]
fn a_forged_audit_row_is_found() {
    let mut f = fixture();
    f.log("bp 120/80");
    let conn = f.chart.behind_the_door_ref().raw_connection();
    conn.execute_batch("DROP TRIGGER audit_no_update").unwrap();
    conn.execute("UPDATE audit SET clinician_id = 2 WHERE seq = 3", [])
        .unwrap();
    let brk = f.chart.verify().unwrap().first_break.unwrap();
    assert_eq!(brk.seq, 3);
}

#[test]
fn an_entry_slipped_in_without_an_audit_row_is_found() {
    let mut f = fixture();
    f.log("bp 120/80");
    f.chart
        .behind_the_door_ref().raw_connection()
        .execute(
            "INSERT INTO entries (session_id, kind, payload, event_at, event_offset, recorded_at,
               recorded_offset, author_id) VALUES (?1, 'vitals', '{\"kind\":\"vitals\",\"hr\":50}', 0, 0, 0, 0, 1)",
            [f.session],
        )
        .unwrap();
    let brk = f.chart.verify().unwrap().first_break.unwrap();
    assert!(brk.why.contains("not in the audit trail"), "{}", brk.why);
}

#[test]
fn a_line_is_all_or_nothing() {
    let mut f = fixture();
    let before = f.chart.behind_the_door_ref().entry_count().unwrap();
    let err = charting::record_line(
        &mut f.chart,
        &f.config,
        f.session,
        "bp 120/80 obs \"unclosed",
        &kapchart::clock::now_local(),
    );
    assert!(err.is_err());
    assert_eq!(f.chart.behind_the_door_ref().entry_count().unwrap(), before);
}
