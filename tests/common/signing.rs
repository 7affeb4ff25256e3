//! Two clinicians signing notes through the real binary, and charts changed behind
//! kapchart's back, for tests/signatures.rs.

use super::{Home, PASSPHRASE};
use kapchart::store::audit::{self, ObjectKind};
use kapchart::store::schema;
use serde_json::Value;
use std::process::Output;

pub const THERAPIST: &str = "Theo Therapist";
pub const THERAPIST_PASS: &str = "quiet river under the old stone bridge";

pub fn run_as(home: &Home, who: &str, pass: &str, args: &[&str]) -> Output {
    home.cmd(args)
        .env("KAPCHART_CLINICIAN", who)
        .env("KAPCHART_PASSPHRASE", pass)
        .output()
        .expect("run kapchart")
}

pub fn ok_as(home: &Home, who: &str, pass: &str, args: &[&str]) -> String {
    let out = run_as(home, who, pass, args);
    assert!(
        out.status.success(),
        "kapchart {args:?} as {who} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

pub fn fails_as(home: &Home, args: &[&str]) -> String {
    let out = run_as(home, "1", PASSPHRASE, args);
    assert_eq!(
        out.status.code(),
        Some(1),
        "kapchart {args:?}: expected exit 1; stdout {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).to_string()
}

/// A chart with Dr. Test (admin, 1) and Theo Therapist (2), a dosing session, a note signed
/// by Dr. Test with a reason and an addendum by Theo: (session, note id, addendum id).
pub fn signed_by_two(home: &Home) -> (String, String, String) {
    let (_, session) = home.with_dosing_session();
    let added = home
        .cmd(&[
            "clinician",
            "add",
            "--name",
            THERAPIST,
            "--role",
            "therapist",
        ])
        .env("KAPCHART_NEW_PASSPHRASE", THERAPIST_PASS)
        .output()
        .unwrap();
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&added.stdout).trim(), "2");
    for line in ["bp 120/80", "dose ketamine 35mg IM", "obs calm"] {
        ok_as(home, "1", PASSPHRASE, &["log", "--session", &session, line]);
    }
    let out = ok_as(
        home,
        "1",
        PASSPHRASE,
        &["note", "draft", "--session", &session, "--json"],
    );
    let note = serde_json::from_str::<Value>(&out).unwrap()["id"].to_string();
    // complete_note runs as the team's only clinician would: name Dr. Test for it.
    let shown: Value = serde_json::from_str(&ok_as(
        home,
        "1",
        PASSPHRASE,
        &["note", "show", &note, "--json"],
    ))
    .unwrap();
    let text: String = shown["text"]
        .as_str()
        .unwrap()
        .lines()
        .map(|l| match l.trim_end() {
            "Assessment:" => "Assessment: steady, settled.".to_string(),
            "Plan:" => "Plan: continue the course.".to_string(),
            t if t.starts_with("Patient's account") => format!("{t} slept well."),
            _ => l.to_string(),
        })
        .map(|l| l + "\n")
        .collect();
    let file = home.path().join("note.md");
    std::fs::write(&file, text).unwrap();
    ok_as(
        home,
        "1",
        PASSPHRASE,
        &["note", "save", &note, file.to_str().unwrap()],
    );
    ok_as(
        home,
        "Dr. Test",
        PASSPHRASE,
        &["note", "sign", &note, "--reason", "session still open"],
    );
    let addendum = ok_as(
        home,
        THERAPIST,
        THERAPIST_PASS,
        &[
            "note",
            "addend",
            &note,
            "Called the next day: slept well, no nausea.",
        ],
    );
    (session, note, addendum)
}

pub fn raw(home: &Home) -> rusqlite::Connection {
    kapchart::store::Chart::open_raw_connection(&home.chart(), "1", PASSPHRASE).expect("raw")
}

/// Runs `sql` behind kapchart's back with the append-only triggers of `tables` dropped,
/// then puts the triggers back exactly as they were (so only the signature checks and the
/// audit trail can find the change).
pub fn tamper(home: &Home, tables: &[&str], sql: &str) {
    let conn = raw(home);
    let mut triggers = Vec::new();
    for t in tables {
        let name = format!("{t}_no_update");
        let trigger: String = conn
            .query_row(
                "SELECT sql FROM sqlite_master WHERE name = ?1",
                [&name],
                |r| r.get(0),
            )
            .unwrap();
        let delete = format!("{t}_no_delete");
        let delete_sql: String = conn
            .query_row(
                "SELECT sql FROM sqlite_master WHERE name = ?1",
                [&delete],
                |r| r.get(0),
            )
            .unwrap();
        conn.execute_batch(&format!("DROP TRIGGER {name}; DROP TRIGGER {delete};"))
            .unwrap();
        triggers.push(trigger);
        triggers.push(delete_sql);
    }
    conn.execute_batch(sql).unwrap();
    for t in triggers {
        conn.execute_batch(&t).unwrap();
    }
}

/// A copy of `home`'s chart and keyring in a new home, to tamper with one at a time.
pub fn copy_of(home: &Home) -> Home {
    let copy = Home::new();
    let to = copy.chart().parent().unwrap().to_path_buf();
    std::fs::create_dir_all(&to).unwrap();
    for file in std::fs::read_dir(home.chart().parent().unwrap()).unwrap() {
        let file = file.unwrap().path();
        let name = file.file_name().unwrap().to_str().unwrap().to_string();
        if name.starts_with("chart.db") && !name.ends_with(".lock") {
            std::fs::copy(&file, to.join(&name)).unwrap();
        }
    }
    copy
}

pub fn verify_problems(home: &Home) -> Vec<String> {
    let out = run_as(home, "1", PASSPHRASE, &["verify", "--json"]);
    assert_eq!(out.status.code(), Some(1), "verify should fail");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_string())
        .collect()
}

/// A chart at schema v5 (before Ed25519 signatures) with a note signed and an addendum, both
/// SHA-256 only, written the way that kapchart wrote them.
pub fn chart_signed_before(home: &Home) {
    std::fs::create_dir_all(home.chart().parent().unwrap()).unwrap();
    let mut conn = rusqlite::Connection::open(home.chart()).unwrap();
    conn.pragma_update(None, "key", PASSPHRASE).unwrap();
    conn.pragma_update(None, "application_id", schema::APPLICATION_ID)
        .unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    let tx = conn.transaction().unwrap();
    for (i, sql) in schema::MIGRATIONS[..5].iter().enumerate() {
        tx.execute_batch(sql).unwrap();
        if i + 1 == schema::CHAIN_KEY_VERSION as usize {
            audit::install_chain_key(&tx, 500).unwrap();
        }
    }
    tx.pragma_update(None, "user_version", 5).unwrap();
    let text = "## Data\nKetamine 35 mg IM.\n";
    let addendum = "Called the next day.";
    let rows: [(&str, ObjectKind, &str); 7] = [
        (
            "INSERT INTO clinicians (name, created_at) VALUES ('Dr. Old', 1000)",
            ObjectKind::Clinician,
            "clinician.add",
        ),
        (
            "INSERT INTO patients (name, dob, created_at, created_by) VALUES ('Old Patient', '1970-01-01', 2000, 1)",
            ObjectKind::Patient,
            "patient.add",
        ),
        (
            "INSERT INTO sessions (patient_id, kind, started_at, started_offset, clinician_id) VALUES (1, 'dosing', 3000, 0, 1)",
            ObjectKind::Session,
            "session.start",
        ),
        (
            "INSERT INTO notes (dosing_session_id, format, created_at, author_id) VALUES (1, 'dap', 4000, 1)",
            ObjectKind::Note,
            "note.create",
        ),
        (
            "INSERT INTO note_drafts (note_id, text, saved_at, author_id) VALUES (1, ?1, 5000, 1)",
            ObjectKind::NoteDraft,
            "note.draft",
        ),
        (
            "INSERT INTO note_signatures (note_id, text, sha256, signer_id, signed_at, signed_offset) VALUES (1, ?1, ?2, 1, 6000, 0)",
            ObjectKind::NoteSignature,
            "note.sign",
        ),
        (
            "INSERT INTO note_addenda (note_id, text, sha256, author_id, at, at_offset) VALUES (1, ?3, ?4, 1, 7000, 0)",
            ObjectKind::NoteAddendum,
            "note.addendum",
        ),
    ];
    for (i, (sql, kind, action)) in rows.iter().enumerate() {
        let mut stmt = tx.prepare(sql).unwrap();
        let wanted = stmt.parameter_count();
        let all: [&dyn rusqlite::ToSql; 4] = [
            &text,
            &audit::sha256_hex(text.as_bytes()),
            &addendum,
            &audit::sha256_hex(addendum.as_bytes()),
        ];
        stmt.execute(&all[..wanted]).unwrap();
        let at = 1000 * (i as i64 + 1);
        audit::record_unsigned(&tx, at, Some(1), action, *kind, tx.last_insert_rowid()).unwrap();
    }
    tx.commit().unwrap();
}

/// `path` with `suffix` appended to its file name.
pub fn beside(path: &std::path::Path, suffix: &str) -> std::path::PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    std::path::PathBuf::from(s)
}

/// Recomputes every audit row's content hash and chained hash with the chart's own chain key,
/// as an insider who can open the chart can (the key is chart data), with the audit table's
/// update trigger dropped and put back exactly as it was. The signatures stay as they were:
/// an insider cannot make another clinician's.
pub fn rechain_with_the_chain_key(home: &Home) {
    use kapchart::store::audit::AuditFields;
    let conn = raw(home);
    let trigger: String = conn
        .query_row(
            "SELECT sql FROM sqlite_master WHERE name = 'audit_no_update'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    conn.execute_batch("DROP TRIGGER audit_no_update").unwrap();
    let key = audit::chain_key(&conn).unwrap();
    let rows: Vec<(i64, i64, Option<i64>, String, String, i64)> = conn
        .prepare(
            "SELECT seq, at, clinician_id, action, object_kind, object_id FROM audit ORDER BY seq",
        )
        .unwrap()
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    let mut prev = audit::GENESIS.to_string();
    for (seq, at, clinician, action, kind, id) in rows {
        let kind_ = ObjectKind::ALL
            .into_iter()
            .find(|k| k.as_str() == kind)
            .unwrap_or(ObjectKind::Chart);
        let content = audit::content_hash(&conn, kind_, id).unwrap().unwrap();
        let hash = AuditFields {
            seq,
            at_ms: at,
            clinician_id: clinician,
            action: &action,
            object_kind: &kind,
            object_id: id,
            content_hash: &content,
            prev_hash: &prev,
        }
        .hash(key.as_ref());
        conn.execute(
            "UPDATE audit SET content_hash = ?1, prev_hash = ?2, hash = ?3 WHERE seq = ?4",
            (&content, &prev, &hash, seq),
        )
        .unwrap();
        prev = hash;
    }
    conn.execute_batch(&trigger).unwrap();
}
