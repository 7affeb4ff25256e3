//! `kapchart verify` through the real binary: signatures, schema, payloads, the keyed audit
//! chain, the head anchored outside the file, writes refused once damage is found, and charts
//! written before the chain was keyed.

mod common;

use common::{Home, PASSPHRASE};
use kapchart::store::audit::{self, AuditFields, ObjectKind};
use kapchart::store::schema;
use serde_json::Value;

/// Opens the chart behind kapchart's back, as another program would.
fn raw(home: &Home) -> rusqlite::Connection {
    kapchart::store::Chart::open_raw_connection(&home.chart(), "", PASSPHRASE).expect("open chart")
}

fn verify_json(home: &Home, extra: &[&str]) -> (bool, Value) {
    let mut args = vec!["verify", "--json"];
    args.extend_from_slice(extra);
    let out = home.run(&args);
    let v: Value = serde_json::from_slice(&out.stdout).expect("verify --json is JSON");
    (out.status.success(), v)
}

/// A chart with a session, three entries and a signed note: (session, note id).
fn chart_with_signed_note(home: &Home) -> (String, String) {
    let (_, session) = home.with_dosing_session();
    for line in ["bp 120/80", "dose ketamine 35mg IM", "obs calm"] {
        home.ok(&["log", "--session", &session, line]);
    }
    let out = home.ok(&["note", "draft", "--session", &session, "--json"]);
    let note: Value = serde_json::from_str(&out).unwrap();
    let id = note["id"].to_string();
    home.complete_note(&id);
    home.ok(&["note", "sign", &id, "--reason", "session still open"]);
    (session, id)
}

#[test]
fn verify_prints_the_head_and_json_gives_ok_head_and_problems() {
    let home = Home::new();
    chart_with_signed_note(&home);
    let out = home.ok(&["verify"]);
    let head_line = out.lines().find(|l| l.starts_with("head ")).expect(&out);
    let (ok, v) = verify_json(&home, &[]);
    assert!(ok, "{v}");
    assert_eq!(v["ok"], true);
    assert_eq!(v["problems"], serde_json::json!([]));
    let seq = v["head"]["seq"].as_i64().unwrap();
    let hash = v["head"]["hash"].as_str().unwrap();
    assert_eq!(hash.len(), 64);
    assert_eq!(head_line, format!("head {seq}:{hash}"));
    let newest: (i64, String) = raw(&home)
        .query_row(
            "SELECT max(seq), (SELECT hash FROM audit ORDER BY seq DESC LIMIT 1) FROM audit",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((seq, hash.to_string()), newest);
    // A chart that cannot be read at all still answers in JSON.
    let out = home
        .cmd(&["verify", "--json"])
        .env("KAPCHART_PASSPHRASE", "not the passphrase")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ok"], false);
    assert!(v["head"].is_null());
    assert!(
        v["problems"][0]
            .as_str()
            .unwrap()
            .contains("wrong passphrase"),
        "{v}"
    );
    // The head a backup was made at is printed with it.
    let backup = home.path().join("b.db");
    let said = home.ok(&["backup", "--to", backup.to_str().unwrap()]);
    assert!(said.contains(&format!("head {seq}:{hash}")), "{said}");
}

#[test]
fn a_changed_signed_note_fails_verify_and_then_writes_are_refused_until_restored() {
    let home = Home::new();
    let (session, note) = chart_with_signed_note(&home);
    let backup = home.path().join("before.db");
    home.ok(&["backup", "--to", backup.to_str().unwrap()]);
    {
        // Change the signed text and keep its SHA-256; put the triggers back as they were.
        let conn = raw(&home);
        let sql: String = conn
            .query_row(
                "SELECT sql FROM sqlite_master WHERE name = 'note_signatures_no_update'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        conn.execute_batch("DROP TRIGGER note_signatures_no_update")
            .unwrap();
        conn.execute(
            "UPDATE note_signatures SET text = text || ' Patient denied all symptoms.'",
            [],
        )
        .unwrap();
        conn.execute_batch(&sql).unwrap();
    }
    let err = home.fails(&["verify"], 1);
    assert!(err.contains(&format!("signed note {note}")), "{err}");
    assert!(err.contains("signature"), "{err}");
    let (ok, v) = verify_json(&home, &[]);
    assert!(!ok);
    assert_eq!(v["ok"], false);
    let problems = v["problems"].as_array().unwrap();
    assert!(
        problems
            .iter()
            .any(|p| p.as_str().unwrap().contains(&format!("signed note {note}"))),
        "{v}"
    );
    // From now on nothing is written into the damaged chart, and the line is named.
    let err = home.fails(&["log", "--session", &session, "hr 80"], 1);
    assert!(err.contains("failed verification"), "{err}");
    assert!(err.contains("restore"), "{err}");
    let out = home.run_with_stdin(&["log", "--session", &session, "-"], "hr 81\nhr 82\n");
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "no id printed");
    assert!(String::from_utf8_lossy(&out.stderr).contains("stopped at line 1"));
    // Restored from the backup, the chart verifies and takes writes again.
    home.ok(&["restore", backup.to_str().unwrap(), "--replace"]);
    let id = home.ok(&["log", "--session", &session, "hr 80"]);
    assert!(id.parse::<i64>().is_ok(), "{id}");
    assert!(home.ok(&["verify"]).starts_with("ok"));
}

#[test]
fn a_dropped_changed_or_added_trigger_fails_verify() {
    let home = Home::new();
    let (session, _) = chart_with_signed_note(&home);
    let cases: [(&str, &str); 3] = [
        (
            "DROP TRIGGER entries_no_delete",
            "trigger entries_no_delete is missing",
        ),
        (
            "DROP TRIGGER audit_no_update; CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit WHEN 0 BEGIN SELECT 1; END;",
            "trigger audit_no_update was changed",
        ),
        (
            "CREATE TRIGGER entries_forget AFTER INSERT ON entries BEGIN SELECT 1; END;",
            "trigger entries_forget is not kapchart's",
        ),
    ];
    // Each change on a copy of the chart: the damage it is marked with stays (in the keyring
    // too), so the sound chart is not reused after one.
    for (sql, expected) in cases {
        let copy = common::signing::copy_of(&home);
        raw(&copy).execute_batch(sql).unwrap();
        let err = copy.fails(&["verify"], 1);
        assert!(err.contains(expected), "{sql}: {err}");
    }
    assert!(home.ok(&["verify"]).starts_with("ok"));
    home.ok(&["log", "--session", &session, "hr 70"]);
}

/// The home screen's kept lists (open sessions, integrations awaited) are derived from the
/// record by triggers; changed behind kapchart's back, `verify` finds them disagreeing with
/// the record and names the session.
#[test]
fn a_home_screen_list_changed_behind_kapcharts_back_fails_verify() {
    let home = Home::new();
    let (patient, open) = home.with_dosing_session();
    let ended = home.ok(&[
        "session",
        "start",
        "--patient",
        &patient,
        "--kind",
        "follow-up",
    ]);
    home.ok(&["session", "end", &ended]);
    assert!(home.ok(&["verify"]).starts_with("ok"));
    let cases = [
        (
            format!("DELETE FROM open_sessions WHERE session_id = {open}"),
            format!("session {open} is open in the record but not in the open sessions list"),
        ),
        (
            format!("INSERT INTO open_sessions (session_id) VALUES ({ended})"),
            format!("session {ended} is in the open sessions list but the record has it ended"),
        ),
        (
            format!("DELETE FROM integrations_awaited WHERE dosing_session_id = {open}"),
            format!(
                "dosing session {open} awaits its integration in the record but is not in the list"
            ),
        ),
        (
            format!("INSERT INTO integrations_awaited (dosing_session_id) VALUES ({ended})"),
            format!(
                "session {ended} is in the list of integrations awaited but the record has it not a dosing session"
            ),
        ),
    ];
    let pristine = std::fs::read(home.chart()).unwrap();
    for (sql, expected) in cases {
        std::fs::write(home.chart(), &pristine).unwrap();
        raw(&home).execute_batch(&sql).unwrap();
        let err = home.fails(&["verify"], 1);
        assert!(err.contains(&expected), "{sql}: {err}");
        std::fs::remove_file(kapchart::store::damage_mark(&home.chart())).unwrap();
    }
    std::fs::write(home.chart(), &pristine).unwrap();
    assert!(home.ok(&["verify"]).starts_with("ok"));
}

/// The chain key is a secret of each chart, drawn at random when the chart is made: two
/// charts made the same way never share it, and it is not a constant anyone could guess
/// (all zeros, all one byte), so a copy of the rows alone cannot re-chain them.
#[test]
fn every_chart_draws_its_own_random_chain_key() {
    let keys: Vec<Vec<u8>> = (0..2)
        .map(|_| {
            let home = Home::new();
            home.ok(&["init", "--clinician", "Dr. Test"]);
            raw(&home)
                .query_row("SELECT secret FROM chain_key", [], |r| r.get(0))
                .unwrap()
        })
        .collect();
    for key in &keys {
        assert_eq!(key.len(), 32, "256 bits");
        assert!(
            key.iter().any(|b| *b != key[0]),
            "not one byte repeated: {key:02x?}"
        );
    }
    assert_ne!(keys[0], keys[1], "each chart its own key");
}

/// Rows changed and re-chained with plain SHA-256 (all a copy of the rows allows) no longer
/// pass: the chain is keyed with a secret only the chart holds.
#[test]
fn rows_rechained_without_the_chain_key_fail_verify() {
    let home = Home::new();
    let (session, _) = chart_with_signed_note(&home);
    let conn = raw(&home);
    let target: i64 = conn
        .query_row("SELECT min(id) FROM entries", [], |r| r.get(0))
        .unwrap();
    conn.execute_batch("DROP TRIGGER entries_no_update; DROP TRIGGER audit_no_update")
        .unwrap();
    conn.execute(
        "UPDATE entries SET payload = ?1 WHERE id = ?2",
        (r#"{"kind":"observation","text":"rewritten"}"#, target),
    )
    .unwrap();
    // Re-chain every audit row from scratch, as someone holding the rows would.
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
            .unwrap();
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
        .hash(None);
        conn.execute(
            "UPDATE audit SET content_hash = ?1, prev_hash = ?2, hash = ?3 WHERE seq = ?4",
            (&content, &prev, &hash, seq),
        )
        .unwrap();
        prev = hash;
    }
    // The triggers put back exactly, so the schema alone would pass.
    let v1 = schema::MIGRATIONS[0];
    for name in ["entries_no_update", "audit_no_update"] {
        let start = v1.find(&format!("CREATE TRIGGER {name} ")).unwrap();
        let end = start + v1[start..].find("END;").unwrap() + 4;
        conn.execute_batch(&v1[start..end]).unwrap();
    }
    drop(conn);
    let err = home.fails(&["verify"], 1);
    assert!(
        err.contains("audit trail broken at sequence number 1"),
        "{err}"
    );
    assert!(!err.contains("schema"), "{err}");
    home.fails(&["log", "--session", &session, "hr 80"], 1);
}

/// Deleting the newest rows with their audit rows leaves a trail that holds by itself; the
/// head recorded before (by verify, or in a backup) shows they are gone.
#[test]
fn removed_newest_rows_fail_against_an_earlier_head_and_backup() {
    let home = Home::new();
    let (session, _) = chart_with_signed_note(&home);
    home.ok(&["log", "--session", &session, "hr 70"]);
    let backup = home.path().join("b.db");
    home.ok(&["backup", "--to", backup.to_str().unwrap()]);
    let (_, v) = verify_json(&home, &[]);
    let head = format!(
        "{}:{}",
        v["head"]["seq"],
        v["head"]["hash"].as_str().unwrap()
    );
    assert!(home.ok(&["verify", "--head", &head]).starts_with("ok"));
    assert!(
        home.ok(&["verify", "--against", backup.to_str().unwrap()])
            .starts_with("ok")
    );
    // A later write keeps the earlier head.
    home.ok(&["log", "--session", &session, "hr 71"]);
    assert!(home.ok(&["verify", "--head", &head]).starts_with("ok"));
    {
        let conn = raw(&home);
        let v1 = schema::MIGRATIONS[0];
        let mut restore_sql = String::new();
        for name in ["entries_no_delete", "audit_no_delete"] {
            let start = v1.find(&format!("CREATE TRIGGER {name} ")).unwrap();
            let end = start + v1[start..].find("END;").unwrap() + 4;
            restore_sql.push_str(&v1[start..end]);
            conn.execute_batch(&format!("DROP TRIGGER {name}")).unwrap();
        }
        conn.execute_batch(
            "DELETE FROM audit WHERE seq >= (SELECT seq FROM audit WHERE object_kind = 'entry' ORDER BY seq DESC LIMIT 1 OFFSET 1);
             DELETE FROM entries WHERE id NOT IN (SELECT object_id FROM audit WHERE object_kind = 'entry');
             DELETE FROM entry_search WHERE rowid NOT IN (SELECT id FROM entries);",
        )
        .unwrap();
        // The entries "hr 70" and "hr 71" are gone, with every audit row from the first of
        // them on (the backup's own row between them too), and their words from the search
        // index (which would otherwise still list them).
        conn.execute_batch(&restore_sql).unwrap();
    }
    // By itself the shortened trail holds...
    assert!(home.ok(&["verify"]).starts_with("ok"));
    // ...but not against the head printed earlier, nor against the backup.
    let err = home.fails(&["verify", "--head", &head], 1);
    assert!(err.contains("no longer holds"), "{err}");
    let (ok, v) = verify_json(&home, &["--against", backup.to_str().unwrap()]);
    assert!(!ok);
    assert!(
        v["problems"][0]
            .as_str()
            .unwrap()
            .contains("no longer holds"),
        "{v}"
    );
    // Found against a backup, it is damage: writes stop.
    let err = home.fails(&["log", "--session", &session, "hr 80"], 1);
    assert!(err.contains("failed verification"), "{err}");
    // A malformed head is a usage error naming what is expected.
    let err = home.fails(&["verify", "--head", "12"], 2);
    assert!(err.contains("SEQ:HASH"), "{err}");
}

#[test]
fn an_undecodable_payload_is_named() {
    let home = Home::new();
    chart_with_signed_note(&home);
    let conn = raw(&home);
    conn.execute_batch("DROP TRIGGER entries_no_update")
        .unwrap();
    let id: i64 = conn
        .query_row("SELECT max(id) FROM entries", [], |r| r.get(0))
        .unwrap();
    conn.execute(
        "UPDATE entries SET payload = '{\"kind\":\"nonsense\"}' WHERE id = ?1",
        [id],
    )
    .unwrap();
    drop(conn);
    let err = home.fails(&["verify"], 1);
    assert!(
        err.contains(&format!("entry {id}: its content does not decode")),
        "{err}"
    );
}

/// A chart written before the chain was keyed (schema v3, plain SHA-256 rows) keeps
/// verifying: the migration adds the key as the first keyed row, and tampering with the
/// plain rows before it is still found.
#[test]
fn a_chart_from_before_the_keyed_chain_migrates_and_keeps_verifying() {
    let home = Home::new();
    std::fs::create_dir_all(home.chart().parent().unwrap()).unwrap();
    {
        let mut conn = rusqlite::Connection::open(home.chart()).unwrap();
        conn.pragma_update(None, "key", PASSPHRASE).unwrap();
        conn.pragma_update(None, "application_id", schema::APPLICATION_ID)
            .unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        for sql in &schema::MIGRATIONS[..3] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 3).unwrap();
        let tx = conn.transaction().unwrap();
        tx.execute(
            "INSERT INTO clinicians (name, created_at) VALUES ('Dr. Old', 1000)",
            [],
        )
        .unwrap();
        audit::record_unsigned(&tx, 1000, None, "clinician.add", ObjectKind::Clinician, 1).unwrap();
        tx.execute(
            "INSERT INTO patients (name, dob, created_at, created_by) VALUES ('Old Patient', '1970-01-01', 2000, 1)",
            [],
        )
        .unwrap();
        audit::record_unsigned(&tx, 2000, Some(1), "patient.add", ObjectKind::Patient, 1).unwrap();
        tx.commit().unwrap();
    }
    let out = home.ok(&["verify"]);
    // Two plain rows, the chain key, and the upgrade to a keyring making Dr. Old the team's
    // first admin, with the certificate of their keys.
    assert!(out.contains("audit trail of 5 rows"), "{out}");
    assert!(
        out.contains(&format!("schema v{}", schema::LATEST)),
        "{out}"
    );
    let conn = raw(&home);
    let (kind, plain): (String, String) = conn
        .query_row(
            "SELECT object_kind, hash FROM audit WHERE seq = 3",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(kind, "chain-key");
    let keyed_from: i64 = conn
        .query_row("SELECT keyed_from FROM chain_key", [], |r| r.get(0))
        .unwrap();
    assert_eq!(keyed_from, 3);
    assert_eq!(plain.len(), 64);
    let patient = home.ok(&["patient", "list", "--json"]);
    assert!(patient.contains("Old Patient"), "{patient}");
    let session = home.ok(&["session", "start", "--patient", "1", "--kind", "dosing"]);
    home.ok(&["log", "--session", &session, "bp 120/80"]);
    assert!(home.ok(&["verify"]).starts_with("ok"));
    // A plain row from before the key, changed behind kapchart's back, is still found.
    conn.execute_batch(
        "DROP TRIGGER patients_no_update; UPDATE patients SET name = 'Someone Else'",
    )
    .unwrap();
    drop(conn);
    let err = home.fails(&["verify"], 1);
    assert!(
        err.contains("audit trail broken at sequence number 2"),
        "{err}"
    );
}

/// Every export records the head it was made at: inside FHIR (a meta tag), HTML and
/// Markdown, and in what the command says when it writes a file.
#[test]
fn exports_record_the_head_they_were_made_at() {
    let home = Home::new();
    let (session, _) = chart_with_signed_note(&home);
    let (_, v) = verify_json(&home, &[]);
    let head = format!(
        "{}:{}",
        v["head"]["seq"],
        v["head"]["hash"].as_str().unwrap()
    );
    let fhir: Value =
        serde_json::from_str(&home.ok(&["export", "--session", &session, "--format", "fhir"]))
            .unwrap();
    assert_eq!(fhir["meta"]["tag"][0]["system"], "urn:kapchart:audit-head");
    assert_eq!(fhir["meta"]["tag"][0]["code"], head.as_str());
    // Each export adds its own audit row after the head it states (tests/audit.rs), so the
    // next export states the head the last one left.
    let head_now = |home: &Home| {
        let (_, v) = verify_json(home, &[]);
        format!(
            "{}:{}",
            v["head"]["seq"],
            v["head"]["hash"].as_str().unwrap()
        )
    };
    for format in ["html", "md"] {
        let head = head_now(&home);
        let out = home.ok(&["export", "--session", &session, "--format", format]);
        assert!(
            out.contains(&format!("audit head {head}"))
                || out.contains(&format!("audit head `{head}`")),
            "{format}: {out}"
        );
    }
    let head = head_now(&home);
    let csv = home.path().join("flow.csv");
    let said = home.ok(&[
        "export",
        "--session",
        &session,
        "--format",
        "csv",
        "-o",
        csv.to_str().unwrap(),
    ]);
    assert!(said.contains(&format!("chart audit head {head}")), "{said}");
    // The head an export names holds until rows are removed.
    assert!(home.ok(&["verify", "--head", &head]).starts_with("ok"));
}
