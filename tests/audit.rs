//! Reads are audited too, through the real binary: opening a patient's record, showing a
//! session, exporting and backing up each add one audit row (who, what, which object) to
//! the keyed chain; `kapchart audit` lists them newest first, without patient data.

mod common;

use common::{Home, PASSPHRASE};
use serde_json::Value;

/// Opens the chart behind kapchart's back, as another program would.
fn raw(home: &Home) -> rusqlite::Connection {
    // Behind kapchart's back, keyed as the team's one clinician would open it.
    kapchart::store::Chart::open_raw_connection(&home.chart(), "", PASSPHRASE).expect("open chart")
}

fn trail(home: &Home, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["audit", "--json"];
    all.extend_from_slice(args);
    let v: Value = serde_json::from_str(&home.ok(&all)).expect("audit --json is JSON");
    v.as_array().expect("an array").clone()
}

/// The newest audit row: (action, object kind, object id, clinician).
fn newest(home: &Home) -> (String, String, i64, String) {
    let rows = trail(home, &["--limit", "1"]);
    assert_eq!(rows.len(), 1, "{rows:?}");
    let r = &rows[0];
    (
        r["action"].as_str().unwrap().to_string(),
        r["object_kind"].as_str().unwrap().to_string(),
        r["object_id"].as_i64().unwrap(),
        r["clinician"].as_str().unwrap_or("").to_string(),
    )
}

fn rows_in(home: &Home) -> i64 {
    raw(home)
        .query_row("SELECT count(*) FROM audit", [], |r| r.get(0))
        .unwrap()
}

/// Runs `args`, expects success, and returns the one audit row it added.
fn one_row_from(home: &Home, args: &[&str]) -> (String, String, i64, String) {
    let before = rows_in(home);
    home.ok(args);
    assert_eq!(
        rows_in(home),
        before + 1,
        "{args:?} adds exactly one audit row"
    );
    newest(home)
}

#[test]
fn showing_and_exporting_each_add_one_audit_row_naming_who_what_and_which_object() {
    let home = Home::new();
    let (patient, session) = home.with_dosing_session();
    home.ok(&["log", "--session", &session, "bp 128/82 hr 74"]);
    // Each entry line of `session show` names its author.
    let shown = home.ok(&["session", "show", &session]);
    let entry = shown.lines().find(|l| l.contains("BP 128/82")).unwrap();
    assert!(entry.contains("by Dr. Test"), "{entry}");
    let p: i64 = patient.parse().unwrap();
    let s: i64 = session.parse().unwrap();
    let who = "Dr. Test".to_string();

    let row =
        |action: &str, kind: &str, id| (action.to_string(), kind.to_string(), id, who.clone());
    assert_eq!(
        one_row_from(&home, &["patient", "show", &patient]),
        row("patient.view", "patient", p)
    );
    assert_eq!(
        one_row_from(&home, &["patient", "show", &patient, "--json"]),
        row("patient.view", "patient", p)
    );
    assert_eq!(
        one_row_from(&home, &["session", "show", &session]),
        row("session.view", "session", s)
    );
    assert_eq!(
        one_row_from(&home, &["session", "checks", &session]),
        row("session.view", "session", s)
    );
    for (format, action) in [
        ("fhir", "export.fhir"),
        ("html", "export.html"),
        ("md", "export.md"),
        ("csv", "export.csv"),
    ] {
        let args = ["export", "--session", &session, "--format", format];
        assert_eq!(
            one_row_from(&home, &args),
            row(action, "session", s),
            "{format}"
        );
        let args = ["export", "--patient", &patient, "--format", format];
        assert_eq!(
            one_row_from(&home, &args),
            row(action, "patient", p),
            "{format}"
        );
    }
    assert_eq!(
        one_row_from(&home, &["course", "show", "--patient", &patient]),
        row("patient.view", "patient", p)
    );
    assert_eq!(
        one_row_from(&home, &["measure", "list", "--patient", &patient]),
        row("patient.view", "patient", p)
    );
    let note: Value =
        serde_json::from_str(&home.ok(&["note", "draft", "--session", &session, "--json"]))
            .unwrap();
    let note_id = note["id"].as_i64().unwrap();
    assert_eq!(
        one_row_from(&home, &["note", "show", &note_id.to_string()]),
        row("note.view", "note", note_id)
    );
    // An export refused because its file exists exports nothing, and records nothing.
    let file = home.path().join("taken.md");
    std::fs::write(&file, "mine").unwrap();
    let before = rows_in(&home);
    let args = [
        "export",
        "--session",
        &session,
        "--format",
        "md",
        "-o",
        file.to_str().unwrap(),
    ];
    let err = home.fails(&args, 1);
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(rows_in(&home), before);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "mine");
    // A listing is not a look at one record; the audit trail itself holds no patient data.
    let before = rows_in(&home);
    home.ok(&["patient", "list"]);
    home.ok(&["session", "list"]);
    home.ok(&["audit"]);
    assert_eq!(rows_in(&home), before);
    // Asking for what does not exist is refused by the read, and nothing is recorded.
    let err = home.fails(&["session", "show", "999"], 1);
    assert!(err.contains("999"), "{err}");
    assert_eq!(rows_in(&home), before);

    let out = home.ok(&["verify"]);
    assert!(out.starts_with("ok"), "{out}");
}

#[test]
fn audit_lists_a_patients_rows_newest_first_without_patient_data() {
    let home = Home::new();
    let (patient, session) = home.with_dosing_session();
    home.ok(&[
        "log",
        "--session",
        &session,
        "obs tearful, \"my mother\" #grief",
    ]);
    // A second patient, whose rows must not show in the first one's trail.
    let other = home.ok(&[
        "patient",
        "add",
        "--name",
        "Other Person",
        "--dob",
        "1970-01-01",
    ]);
    home.ok(&["patient", "show", &other]);
    home.ok(&["patient", "show", &patient]);
    home.ok(&["session", "show", &session]);
    home.ok(&["export", "--patient", &patient, "--format", "md"]);

    let rows = trail(&home, &["--patient", &patient]);
    let seqs: Vec<i64> = rows.iter().map(|r| r["seq"].as_i64().unwrap()).collect();
    let mut sorted = seqs.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(seqs, sorted, "newest first");
    let actions: Vec<&str> = rows.iter().map(|r| r["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        [
            "export.md",
            "session.view",
            "patient.view",
            "entry.add",
            "session.start",
            "patient.add"
        ]
    );
    for r in &rows {
        let keys: Vec<&String> = r.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            [
                "action",
                "at",
                "clinician",
                "clinician_id",
                "object_id",
                "object_kind",
                "seq"
            ]
        );
        assert_eq!(r["clinician"], "Dr. Test");
        assert_ne!(r["object_id"].as_str(), Some(other.as_str()));
    }
    // --session: that session's rows only; --limit keeps the newest.
    let rows = trail(&home, &["--session", &session, "--limit", "2"]);
    let actions: Vec<&str> = rows.iter().map(|r| r["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["session.view", "entry.add"]);

    // The text listing: time, clinician, action, object; never a name or what was charted.
    let text = home.ok(&["audit", "--patient", &patient]);
    let first = text.lines().next().unwrap();
    assert!(
        first.contains("Dr. Test") && first.contains("export.md"),
        "{first}"
    );
    assert!(first.ends_with(&format!("patient {patient}")), "{first}");
    let whole = home.ok(&["audit"]);
    for secret in [
        "Test Patient",
        "Other Person",
        "tearful",
        "mother",
        "1980-05-17",
    ] {
        assert!(!whole.contains(secret), "{secret} in {whole}");
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    assert!(
        whole
            .lines()
            .any(|l| l.contains(&format!("patient.view    patient {other}")))
    );

    // Bad input is named.
    let err = home.fails(&["audit", "--patient", "999"], 1);
    assert!(err.contains("patient 999"), "{err}");
    let err = home.fails(&["audit", "--limit", "none"], 2);
    assert!(err.contains("'none' is not a number of rows"), "{err}");
    let err = home.fails(&["audit", "--patient", &patient, "--session", &session], 2);
    assert!(err.contains("cannot be used with"), "{err}");
}

#[test]
fn a_backup_is_audited_with_the_row_its_copy_ends_at() {
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    home.ok(&["log", "--session", &session, "hr 70"]);
    let head_before: Value = serde_json::from_str(&home.ok(&["verify", "--json"])).unwrap();
    let backup = home.path().join("b.db");
    home.ok(&["backup", "--to", backup.to_str().unwrap()]);
    let seq = head_before["head"]["seq"].as_i64().unwrap();
    assert_eq!(
        newest(&home),
        (
            "chart.backup".to_string(),
            "chart".to_string(),
            seq,
            "Dr. Test".to_string()
        )
    );
    let out = home.ok(&["verify"]);
    assert!(out.starts_with("ok"), "{out}");
    assert!(
        home.ok(&["verify", "--against", backup.to_str().unwrap()])
            .starts_with("ok")
    );
}

#[test]
fn a_read_row_removed_behind_kapcharts_back_breaks_the_chain() {
    let home = Home::new();
    let (patient, session) = home.with_dosing_session();
    home.ok(&["patient", "show", &patient]);
    home.ok(&["session", "show", &session]);
    home.ok(&["log", "--session", &session, "hr 70"]);
    let out = home.ok(&["verify"]);
    assert!(out.starts_with("ok"), "{out}");
    let seq: i64 = {
        let conn = raw(&home);
        let seq = conn
            .query_row(
                "SELECT seq FROM audit WHERE action = 'patient.view'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        conn.execute_batch(
            "DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE action = 'patient.view';",
        )
        .unwrap();
        seq
    };
    let err = home.fails(&["verify"], 1);
    assert!(
        err.contains(&format!(
            "audit trail broken at sequence number {}: expected audit row {seq} here",
            seq + 1
        )),
        "{err}"
    );
}

/// `rems show` prints the patient's name, date of birth and medications: one row, like
/// `session show`; a session that has no form shows nothing and records nothing.
#[test]
fn rems_show_is_audited_as_a_look_at_the_record() {
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    let s: i64 = session.parse().unwrap();
    let before = rows_in(&home);
    let err = home.fails(&["rems", "show", "--session", &session], 1);
    assert!(err.contains("no esketamine dose"), "{err}");
    assert_eq!(rows_in(&home), before, "nothing shown, nothing recorded");
    home.ok(&[
        "log",
        "--session",
        &session,
        "dose esketamine 56mg IN lot ABC123",
    ]);
    let row = (
        "rems.view".to_string(),
        "session".to_string(),
        s,
        "Dr. Test".to_string(),
    );
    assert_eq!(
        one_row_from(&home, &["rems", "show", "--session", &session]),
        row
    );
    assert_eq!(
        one_row_from(&home, &["rems", "show", "--session", &session, "--json"]),
        row
    );
    let out = home.ok(&["verify"]);
    assert!(out.starts_with("ok"), "{out}");
}

#[test]
fn the_stock_log_names_patients_so_each_read_of_it_is_one_audit_row() {
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    home.receive_one_vial();
    home.ok(&[
        "log",
        "--session",
        &session,
        "dose ketamine 35mg IM vial V1",
    ]);
    for format in ["text", "csv", "html", "json", "fhir"] {
        let (action, kind, _, who) = one_row_from(&home, &["stock", "log", "--format", format]);
        assert_eq!(
            (action.as_str(), kind.as_str(), who.as_str()),
            ("stock.log", "chart", "Dr. Test"),
            "{format}"
        );
    }
    // `stock show` names containers, not patients: no row.
    let before = rows_in(&home);
    home.ok(&["stock", "show"]);
    assert_eq!(rows_in(&home), before);
    let out = home.ok(&["verify"]);
    assert!(out.starts_with("ok"), "{out}");
}
