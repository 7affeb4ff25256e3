//! A second `kapchart sync` builds only the patients changed since the server last held the
//! whole chart (and those whose record depends on the clock), and sends exactly what
//! building every patient (`sync --full`) would: after each kind of change a clinic makes,
//! the plan of `sync --dry-run --json` lists the same resources, with the same content, as
//! that of `sync --dry-run --full --json`, and after the sync a full plan finds nothing left.

mod common;

use common::Home;
use common::fhir_server::FhirServer;
use serde_json::Value;
use std::process::Output;

const MRN_SYSTEM: &str = "urn:oid:1.2.840.99999.1";
const NURSE: &str = "Nia Nurse";
const NURSE_PASS: &str = "nurse passphrase, long enough";

fn as_who(home: &Home, who: &str, pass: &str, args: &[&str], shift: Option<i64>) -> Output {
    let mut cmd = home.cmd(args);
    cmd.env("KAPCHART_CLINICIAN", who)
        .env("KAPCHART_PASSPHRASE", pass);
    if let Some(s) = shift {
        // On top of the suite's own shift (CI runs it at chosen hours).
        let suite: i64 = std::env::var(common::CLOCK_SHIFT)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        cmd.env(common::CLOCK_SHIFT, (suite + s).to_string());
    }
    cmd.output().unwrap()
}

fn ok(home: &Home, args: &[&str]) -> String {
    ok_at(home, args, None)
}

fn ok_at(home: &Home, args: &[&str], shift: Option<i64>) -> String {
    let out = as_who(home, "Dr. Test", common::PASSPHRASE, args, shift);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn json_at(home: &Home, args: &[&str], shift: Option<i64>) -> Value {
    serde_json::from_str(&ok_at(home, args, shift)).unwrap()
}

/// The resources a plan lists, sorted: (`Type/id`, SHA-256).
fn listed(plan: &Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = plan["resources"]
        .as_array()
        .unwrap_or_else(|| panic!("a dry run lists its resources: {plan}"))
        .iter()
        .map(|r| {
            (
                r["resource"].as_str().unwrap().to_string(),
                r["sha256"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

/// After a change: the incremental plan lists exactly what the full plan lists (and
/// something: the change shows), building `fewer` patients than the full one when asked;
/// then the sync sends it, and a full plan afterwards finds nothing left to send.
fn same_as_full(home: &Home, what: &str, shift: Option<i64>, fewer: bool) -> Vec<String> {
    let inc = json_at(home, &["sync", "--dry-run", "--json"], shift);
    let full = json_at(home, &["sync", "--dry-run", "--full", "--json"], shift);
    assert_eq!(full["full"], true, "{full}");
    assert_eq!(listed(&inc), listed(&full), "{what}: {inc}\n{full}");
    assert!(!listed(&inc).is_empty(), "{what}: the change shows: {inc}");
    assert_eq!(inc["by_type"], full["by_type"], "{what}");
    if fewer {
        assert_eq!(inc["full"], false, "{what}: {inc}");
        assert!(
            inc["patients_built"].as_u64().unwrap() < full["patients_built"].as_u64().unwrap(),
            "{what}: {inc}"
        );
    }
    let done = json_at(home, &["sync", "--json"], shift);
    assert_eq!(done["sent"], inc["would_send"], "{what}: {done}");
    let after = json_at(home, &["sync", "--dry-run", "--full", "--json"], shift);
    assert_eq!(after["would_send"], 0, "{what}: left behind: {after}");
    listed(&inc).into_iter().map(|(r, _)| r).collect()
}

/// A clinic's chart: three patients by MRN (two with a dosing session, one whose intake
/// session ended), two ketamine vials in stock, synced once.
fn clinic(server: &FhirServer) -> (Home, [String; 3], [String; 2]) {
    let home = Home::new();
    let dir = home.path().join("xdg-config").join("kapchart");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("config.toml"),
        format!(
            "[clinic]\nmrn_system = \"{MRN_SYSTEM}\"\n\n[sync]\nserver = \"{}\"\nbundle_size = 20\n",
            server.base()
        ),
    )
    .unwrap();
    ok(&home, &["init", "--clinician", "Dr. Test"]);
    ok(
        &home,
        &[
            "stock",
            "receive",
            "ketamine",
            "--strength",
            "50mg/mL",
            "--volume",
            "10mL",
            "--containers",
            "2",
            "--lot",
            "L123",
            "--expires",
            "2027-06",
            "--supplier",
            "Acme Pharma",
            "--supplier-address",
            "1 Main St",
            "--supplier-dea",
            "RA1234567",
        ],
    );
    let patient = |name: &str, mrn: &str| {
        ok(
            &home,
            &[
                "patient",
                "add",
                "--name",
                name,
                "--dob",
                "1980-05-17",
                "--mrn",
                mrn,
                "--weight",
                "70",
            ],
        )
    };
    let a = patient("Alex Rivera", "MRN-1");
    let b = patient("Blair Chen", "MRN-2");
    let c = patient("Casey Okafor", "MRN-3");
    let session =
        |p: &str, kind: &str| ok(&home, &["session", "start", "--patient", p, "--kind", kind]);
    let sa = session(&a, "dosing");
    ok(
        &home,
        &["log", "--session", &sa, "@-40m bp 124/80 hr 70 spo2 98"],
    );
    ok(
        &home,
        &["log", "--session", &sa, "dose ketamine 35mg IM vial V1"],
    );
    let sb = session(&b, "dosing");
    ok(&home, &["log", "--session", &sb, "@-20m bp 118/76 hr 66"]);
    let sc = session(&c, "intake");
    ok(&home, &["log", "--session", &sc, "obs first visit"]);
    ok(&home, &["session", "end", &sc]);
    let first = json_at(&home, &["sync", "--json"], None);
    assert_eq!(
        first["full"], true,
        "the first sync builds everyone: {first}"
    );
    (home, [a, b, c], [sa, sb])
}

#[test]
fn after_each_kind_of_change_the_second_sync_sends_exactly_what_a_full_rebuild_sends() {
    let server = FhirServer::start_local();
    let (home, [a, _, _], [sa, sb]) = clinic(&server);

    // Nothing changed: the open sessions' patients are built (their checks run on the
    // clock), the closed one is not, and nothing is sent.
    let again = json_at(&home, &["sync", "--json"], None);
    assert_eq!(again["sent"], 0, "{again}");
    assert_eq!(again["full"], false, "{again}");
    assert_eq!(again["patients_built"], 2, "{again}");

    // An entry.
    let hr = ok(&home, &["log", "--session", &sb, "hr 72"]);
    same_as_full(&home, "an entry", None, true);
    // A correction.
    let shown = home.show_json(&sa);
    let bp = shown["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "vitals")
        .map(|e| e["id"].to_string())
        .unwrap();
    ok(
        &home,
        &[
            "amend",
            &bp,
            "--reason",
            "misread",
            "bp 134/80 hr 70 spo2 98",
        ],
    );
    same_as_full(&home, "an amendment", None, true);
    // A strike.
    ok(&home, &["strike", &hr, "--reason", "wrong patient"]);
    same_as_full(&home, "a strike", None, true);
    // A stock draw: a dose from the second vial.
    ok(
        &home,
        &["log", "--session", &sa, "dose ketamine 15mg IM vial V2"],
    );
    let sent = same_as_full(&home, "a dose drawn from a vial", None, true);
    assert!(
        sent.iter()
            .any(|r| r.starts_with("MedicationAdministration/")),
        "the dose from the vial: {sent:?}"
    );
    // A team change: a nurse with credentials joins (every record may show the team).
    let out = home
        .cmd(&[
            "clinician",
            "add",
            "--name",
            NURSE,
            "--role",
            "nurse",
            "--credentials",
            "RN",
        ])
        .env("KAPCHART_CLINICIAN", "Dr. Test")
        .env("KAPCHART_PASSPHRASE", common::PASSPHRASE)
        .env("KAPCHART_NEW_PASSPHRASE", NURSE_PASS)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let plan = json_at(&home, &["sync", "--dry-run", "--json"], None);
    assert_eq!(plan["full"], true, "a team change builds everyone: {plan}");
    // A waste, and its witness: the nurse's name and credentials reach the record.
    let waste = ok(
        &home,
        &[
            "log",
            "--session",
            &sa,
            "waste ketamine 10mg vial V2 witness",
        ],
    );
    let out = as_who(&home, NURSE, NURSE_PASS, &["witness", &waste], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sent = same_as_full(&home, "a team change, a waste and its witness", None, false);
    assert!(
        sent.iter().any(|r| r.starts_with("Practitioner/")),
        "the nurse: {sent:?}"
    );
    // A note signed: the session ends, its note is drafted, completed and signed.
    ok(
        &home,
        &["session", "end", &sb, "--reason", "discharged on paper"],
    );
    let note: Value =
        serde_json::from_str(&ok(&home, &["note", "draft", "--session", &sb, "--json"])).unwrap();
    let id = note["id"].to_string();
    let draft = note["text"].as_str().unwrap();
    let complete: Vec<String> = draft
        .lines()
        .map(|l| match l.trim_end() {
            "Assessment:" => "Assessment: steady, settled.".to_string(),
            "Plan:" => "Plan: continue the course.".to_string(),
            t if t.starts_with("Patient's account") => format!("{t} slept well."),
            _ => l.to_string(),
        })
        .collect();
    let file = home.path().join("note.md");
    std::fs::write(&file, complete.join("\n") + "\n").unwrap();
    ok(&home, &["note", "save", &id, file.to_str().unwrap()]);
    ok(&home, &["note", "sign", &id]);
    let sent = same_as_full(&home, "a note signed", None, true);
    assert!(
        sent.iter().any(|r| r.starts_with("DocumentReference/")),
        "the signed note: {sent:?}"
    );
    // A patient's details.
    ok(&home, &["patient", "update", &a, "--sex", "female"]);
    let sent = same_as_full(&home, "a patient update", None, true);
    assert!(sent.iter().any(|r| r.starts_with("Patient/")), "{sent:?}");
}

#[test]
fn what_the_clock_changes_is_sent_as_a_full_rebuild_sends_it() {
    let server = FhirServer::start_local();
    let (home, _, [sa, sb]) = clinic(&server);
    // A dose in the session that stays open: its checks come due on the clock.
    ok(
        &home,
        &["log", "--session", &sb, "dose ketamine 35mg IM vial V1"],
    );
    // An infusion over 40 minutes, in progress when synced.
    ok(
        &home,
        &[
            "log",
            "--session",
            &sa,
            "dose ketamine 20mg IV over 40m vial V2",
        ],
    );
    // The session ends while it runs: the dose stays in progress until its 40 minutes are
    // over, in a session no longer open.
    ok(
        &home,
        &[
            "session",
            "end",
            &sa,
            "--reason",
            "moved to recovery",
            "--keep",
            "V1",
            "--keep",
            "V2",
        ],
    );
    same_as_full(&home, "an infusion", None, true);
    // Three hours on: the infusion is over and the other session, still open, has missed
    // its checks; the full plan and the incremental one agree on what that changes.
    let sent = same_as_full(&home, "three hours on", Some(3 * 3600), true);
    assert!(
        sent.iter()
            .any(|r| r.starts_with("MedicationAdministration/")),
        "the infusion over: {sent:?}"
    );
    assert!(
        sent.len() >= 2,
        "the open session's checks come due too: {sent:?}"
    );
    // And a day on, nothing more than a full rebuild finds.
    let inc = json_at(&home, &["sync", "--dry-run", "--json"], Some(26 * 3600));
    let full = json_at(
        &home,
        &["sync", "--dry-run", "--full", "--json"],
        Some(26 * 3600),
    );
    assert_eq!(listed(&inc), listed(&full));
}

#[test]
fn a_sync_cut_short_leaves_nothing_behind_for_the_next_incremental_sync() {
    let server = FhirServer::start_local();
    let (home, _, [sa, sb]) = clinic(&server);
    for i in 0..10 {
        ok(&home, &["log", "--session", &sa, &format!("hr {}", 60 + i)]);
        ok(&home, &["log", "--session", &sb, &format!("hr {}", 70 + i)]);
    }
    // The second bundle fails: the first is recorded, the base stays where it was.
    server.fault(serde_json::json!({ "next": 1, "after": 1, "status": 503 }));
    let out = as_who(&home, "Dr. Test", common::PASSPHRASE, &["sync"], None);
    assert!(!out.status.success());
    let inc = json_at(&home, &["sync", "--dry-run", "--json"], None);
    let full = json_at(&home, &["sync", "--dry-run", "--full", "--json"], None);
    assert_eq!(listed(&inc), listed(&full));
    assert!(!listed(&inc).is_empty());
    json_at(&home, &["sync", "--json"], None);
    let after = json_at(&home, &["sync", "--dry-run", "--full", "--json"], None);
    assert_eq!(after["would_send"], 0, "{after}");
}
