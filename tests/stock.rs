//! The controlled-substance log through the `kapchart` binary, as a clinic uses it: a
//! delivery received, a vial opened, doses drawn from it, a witnessed waste, a session ended
//! with a remainder, counts that balance and one that does not, an inventory, the log in
//! each format, and `verify` checking every signed row.

mod common;

use common::{Home, PASSPHRASE};
use std::process::Output;

const NURSE_PASS: &str = "tidal meadow lantern quartz";

fn as_who(home: &Home, who: &str, pass: &str, args: &[&str]) -> Output {
    home.cmd(args)
        .env("KAPCHART_CLINICIAN", who)
        .env("KAPCHART_PASSPHRASE", pass)
        .output()
        .unwrap()
}

fn ok(home: &Home, args: &[&str]) -> String {
    let out = as_who(home, "Dr. Test", PASSPHRASE, args);
    assert!(
        out.status.success(),
        "kapchart {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn refused(home: &Home, who: &str, pass: &str, args: &[&str]) -> String {
    let out = as_who(home, who, pass, args);
    assert_eq!(
        out.status.code(),
        Some(1),
        "kapchart {args:?} should be refused; stdout {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).to_string()
}

/// Dr. Test (admin) and a nurse; one open dosing session; five 50 mg/mL 10 mL vials.
fn stocked() -> (Home, String) {
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    let out = home
        .cmd(&["clinician", "add", "--name", "Nia Nurse", "--role", "nurse"])
        .env("KAPCHART_CLINICIAN", "Dr. Test")
        .env("KAPCHART_NEW_PASSPHRASE", NURSE_PASS)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let receipt = ok(&home, RECEIVE);
    assert_eq!(receipt, "receipt 1: V1 V2");
    (home, session)
}

/// Two 50 mg/mL 10 mL vials of lot L123.
const RECEIVE: &[&str] = &[
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
    "1 Main St, Springfield",
    "--supplier-dea",
    "RA1234567",
    "--invoice",
    "INV-9",
];

fn balance(home: &Home, container: &str) -> f64 {
    let json = ok(home, &["stock", "show", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == container)
        .map_or(0.0, |c| c["balance_mg"].as_f64().unwrap())
}

#[test]
fn a_vial_from_receipt_to_doses_waste_and_the_end_of_its_session() {
    let (home, session) = stocked();
    assert_eq!(balance(&home, "V1"), 500.0);
    let opened = ok(&home, &["stock", "open", "V1"]);
    assert!(opened.starts_with("V1 opened (stock record "), "{opened}");
    // Three doses: named, then the one open vial taken without naming it.
    let d1 = ok(
        &home,
        &[
            "log",
            "--session",
            &session,
            "dose ketamine 35mg IM vial V1",
        ],
    );
    ok(
        &home,
        &["log", "--session", &session, "dose ketamine 0.5mg/kg IM"],
    );
    ok(
        &home,
        &[
            "log",
            "--session",
            &session,
            "dose ketamine 20mg IM vial V1",
        ],
    );
    assert_eq!(balance(&home, "V1"), 500.0 - 35.0 - 35.0 - 20.0);
    // A dose above the balance is refused, naming it; nothing moves.
    let e = refused(
        &home,
        "Dr. Test",
        PASSPHRASE,
        &[
            "log",
            "--session",
            &session,
            "dose ketamine 450mg IM vial V1",
        ],
    );
    assert!(
        e.contains("V1 holds 410 mg, less than the 450 mg asked"),
        "{e}"
    );
    assert_eq!(balance(&home, "V1"), 410.0);
    // The dose entry and the container's log point at each other.
    let shown = ok(&home, &["session", "show", &session]);
    assert!(shown.contains("from V1"), "{shown}");
    let log = ok(&home, &["stock", "log", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&log).unwrap();
    let moves = v["containers"][0]["movements"].as_array().unwrap();
    assert!(
        moves
            .iter()
            .any(|m| m["entry"] == d1.parse::<i64>().unwrap()
                && m["kind"] == "administered"
                && m["patient"] == "Test Patient"),
        "{log}"
    );
    // A waste asks for its witness: it stays flagged until a second clinician signs.
    let waste = ok(
        &home,
        &[
            "log",
            "--session",
            &session,
            "waste ketamine 10mg vial V1 witness",
        ],
    );
    assert_eq!(balance(&home, "V1"), 400.0);
    let e = refused(
        &home,
        "Dr. Test",
        PASSPHRASE,
        &["session", "end", &session, "--keep", "V1"],
    );
    assert!(
        e.contains(&format!("waste not witnessed: entry {waste}")),
        "{e}"
    );
    let e = refused(&home, "Dr. Test", PASSPHRASE, &["witness", &waste]);
    assert!(e.contains("someone else signs in"), "{e}");
    let e = refused(
        &home,
        "Nia Nurse",
        "wrong passphrase entirely",
        &["witness", &waste],
    );
    assert!(e.contains("do not open the chart"), "{e}");
    let out = as_who(&home, "Nia Nurse", NURSE_PASS, &["witness", &waste]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The log names the patient's address beside each administration once it is recorded
    // (21 CFR 1304.22(c)).
    ok(
        &home,
        &[
            "patient",
            "update",
            "1",
            "--address",
            "5 Birch Road, Springfield",
        ],
    );
    assert!(ok(&home, &["patient", "show", "1"]).contains("address: 5 Birch Road, Springfield"));
    let log = ok(&home, &["stock", "log", "--format", "csv"]);
    assert!(
        log.lines()
            .any(|l| l.contains(",wasted,-10,-0.2,400,Dr. Test,Nia Nurse,")),
        "{log}"
    );
    let given: Vec<&str> = log
        .lines()
        .filter(|l| l.contains(",administered,"))
        .collect();
    assert_eq!(given.len(), 3, "{log}");
    for l in given {
        assert!(
            l.contains("\"Test Patient, 5 Birch Road, Springfield\""),
            "{l}"
        );
    }
    // Ending with the vial's rest unanswered asks what happens to it.
    let e = refused(
        &home,
        "Dr. Test",
        PASSPHRASE,
        &["session", "end", &session, "--reason", "test"],
    );
    assert!(
        e.contains("V1 holds 400 mg") && e.contains("--waste V1") && e.contains("--keep V1"),
        "{e}"
    );
    ok(
        &home,
        &[
            "session", "end", &session, "--reason", "test", "--keep", "V1",
        ],
    );
    let shown = ok(&home, &["stock", "show"]);
    assert!(
        shown.contains("V1") && shown.contains("kept until") && shown.contains("400 mg (8 mL)"),
        "{shown}"
    );
    assert!(ok(&home, &["verify"]).contains("ok"));
}

#[test]
fn the_rest_wasted_at_the_end_is_a_waste_awaiting_its_witness() {
    let (home, session) = stocked();
    ok(
        &home,
        &[
            "log",
            "--session",
            &session,
            "dose ketamine 35mg IM vial V2",
        ],
    );
    ok(
        &home,
        &[
            "session", "end", &session, "--reason", "test", "--waste", "V2",
        ],
    );
    assert_eq!(balance(&home, "V2"), 0.0);
    let shown = ok(&home, &["session", "show", &session]);
    assert!(shown.contains("Wasted ketamine 465 mg, from V2"), "{shown}");
    let log = ok(&home, &["stock", "log", "--format", "text"]);
    assert!(log.contains("wasted") && log.contains("-465 mg"), "{log}");
}

#[test]
fn counts_balance_or_need_a_reason_and_a_loss_reminds_of_the_dea_notice() {
    let (home, session) = stocked();
    ok(
        &home,
        &[
            "log",
            "--session",
            &session,
            "dose ketamine 35mg IM vial V1",
        ],
    );
    let out = ok(
        &home,
        &["stock", "count", "V1~465", "V2=500", "--taken", "opening"],
    );
    assert!(
        out.contains("balances") && !out.contains("DIFFERS"),
        "{out}"
    );
    let e = refused(
        &home,
        "Dr. Test",
        PASSPHRASE,
        &["stock", "count", "V1=460", "V2=500"],
    );
    assert!(
        e.contains("V1 expected 465 mg, counted 460 mg") && e.contains("--reason"),
        "{e}"
    );
    assert_eq!(balance(&home, "V1"), 465.0);
    let out = ok(
        &home,
        &[
            "stock",
            "count",
            "V1=460",
            "V2=500",
            "--reason",
            "spill while drawing",
        ],
    );
    assert!(out.contains("DIFFERS by -5 mg"), "{out}");
    assert!(
        out.contains("5 mg missing") && out.contains("Form 106"),
        "{out}"
    );
    assert_eq!(balance(&home, "V1"), 460.0);
    // Striking the count gives its adjustment back.
    let count_id = out.split_whitespace().nth(1).unwrap().to_string();
    let strike = ok(
        &home,
        &[
            "stock",
            "strike",
            &count_id,
            "--reason",
            "counted the wrong vial",
        ],
    );
    assert_eq!(balance(&home, "V1"), 465.0);
    let e = refused(
        &home,
        "Dr. Test",
        PASSPHRASE,
        &["stock", "strike", &count_id, "--reason", "again"],
    );
    assert!(
        e.contains(&format!(
            "stock record {count_id} was already struck by record {strike}"
        )),
        "{e}"
    );
    let inv = ok(
        &home,
        &[
            "stock",
            "inventory",
            "--kind",
            "biennial",
            "--taken",
            "close",
        ],
    );
    assert!(
        inv.contains("biennial at close of business")
            && inv.contains("V1")
            && inv.contains("estimated"),
        "{inv}"
    );
    assert!(ok(&home, &["verify"]).contains("ok"));
}

#[test]
fn bad_stock_input_is_refused_naming_what_is_expected() {
    let (home, session) = stocked();
    for (args, words) in [
        (vec!["stock", "open", "V9"], "no container V9"),
        (vec!["stock", "open", "X"], "expected one like V12"),
        (vec!["stock", "count", "V1:3"], "like V12=465"),
        (
            vec!["stock", "inventory", "--kind", "weekly"],
            "initial, biennial or on-demand",
        ),
        (
            vec![
                "stock",
                "receive",
                "ketamine",
                "--strength",
                "50",
                "--volume",
                "10mL",
                "--containers",
                "1",
                "--lot",
                "L",
                "--expires",
                "2027-06",
                "--supplier",
                "S",
                "--supplier-address",
                "A",
                "--supplier-dea",
                "D",
            ],
            "50mg/mL",
        ),
        (
            vec![
                "stock",
                "receive",
                "aspirin",
                "--strength",
                "50mg/mL",
                "--volume",
                "10mL",
                "--containers",
                "1",
                "--lot",
                "L",
                "--expires",
                "2027-06",
                "--supplier",
                "S",
                "--supplier-address",
                "A",
                "--supplier-dea",
                "D",
            ],
            "not a drug this clinic charts",
        ),
    ] {
        let out = as_who(&home, "Dr. Test", PASSPHRASE, &args);
        assert!(!out.status.success(), "{args:?}");
        let e = String::from_utf8_lossy(&out.stderr);
        assert!(e.contains(words), "{args:?}: {e}");
    }
    ok(&home, &["stock", "open", "V1"]);
    let e = refused(&home, "Dr. Test", PASSPHRASE, &["stock", "open", "V1"]);
    assert!(
        e.contains("V1 is open: only a sealed container is opened"),
        "{e}"
    );
    ok(&home, &["stock", "open", "V2"]);
    let e = refused(
        &home,
        "Dr. Test",
        PASSPHRASE,
        &["log", "--session", &session, "dose ketamine 35mg IM"],
    );
    assert!(e.contains("2 ketamine containers are open (V1, V2)"), "{e}");
    let e = refused(
        &home,
        "Dr. Test",
        PASSPHRASE,
        &["stock", "count", "V1=400", "V1=400", "--reason", "x"],
    );
    assert!(e.contains("V1 is named twice in this count"), "{e}");
    // Striking a receipt whose vials are in use is refused.
    let e = refused(
        &home,
        "Dr. Test",
        PASSPHRASE,
        &["stock", "strike", "1", "--reason", "typo"],
    );
    assert!(e.contains("opened or drawn from (V1, V2)"), "{e}");
}

#[test]
fn a_struck_or_amended_dose_gives_back_what_it_drew() {
    let (home, session) = stocked();
    let dose = ok(
        &home,
        &[
            "log",
            "--session",
            &session,
            "dose ketamine 35mg IM vial V1",
        ],
    );
    assert_eq!(balance(&home, "V1"), 465.0);
    let amended = ok(
        &home,
        &[
            "amend",
            &dose,
            "--reason",
            "was 30",
            "dose ketamine 30mg IM vial V1",
        ],
    );
    assert_eq!(balance(&home, "V1"), 470.0);
    ok(&home, &["strike", &amended, "--reason", "not given"]);
    assert_eq!(balance(&home, "V1"), 500.0);
    let log = ok(&home, &["stock", "log"]);
    assert!(
        log.contains("given back") && log.contains("not given"),
        "{log}"
    );
    assert!(ok(&home, &["verify"]).contains("ok"));
}

/// A dose charted late with its own time (`@14:33`) from a vial received at 14:40 is
/// refused naming when the vial came in, and nothing is drawn; charted at a time the vial
/// was in the stock, it is drawn there.
#[test]
fn a_dose_timed_before_its_vial_was_received_is_refused_naming_when_it_came_in() {
    use chrono::TimeZone;
    let home = Home::new();
    let day = common::child_now().date_naive();
    // Half a minute past each minute: the clock shift is whole seconds.
    let at = |h, m| chrono::Utc.from_utc_datetime(&day.and_hms_opt(h, m, 30).unwrap());
    let run = |when: chrono::DateTime<chrono::Utc>, args: &[&str]| {
        home.cmd(args)
            .env("TZ", "UTC")
            .envs([common::clock_at(&when)])
            .output()
            .unwrap()
    };
    let ok_at = |when, args: &[&str]| {
        let out = run(when, args);
        assert!(
            out.status.success(),
            "kapchart {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    ok_at(at(14, 0), &["init", "--clinician", "Dr. Test"]);
    let patient = ok_at(
        at(14, 0),
        &[
            "patient",
            "add",
            "--name",
            "Test Patient",
            "--dob",
            "1980-05-17",
            "--weight",
            "70",
        ],
    );
    let session = ok_at(
        at(14, 1),
        &[
            "session",
            "start",
            "--patient",
            &patient,
            "--kind",
            "dosing",
        ],
    );
    assert_eq!(ok_at(at(14, 40), RECEIVE), "receipt 1: V1 V2");
    let line = "@14:33 dose ketamine 35mg IM vial V1";
    let out = run(at(14, 45), &["log", "--session", &session, line]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{line}: {err}");
    assert!(
        err.contains("V1 held nothing at 14:33: it was received at 14:40"),
        "{err}"
    );
    assert!(
        err.contains("start the line with the time it was (@HH:MM)"),
        "{err}"
    );
    let charted = home.show_json(&session);
    let entries = charted["entries"].as_array().expect("entries array");
    assert!(
        entries.iter().all(|x| x["kind"] != "dose"),
        "nothing charted: {entries:?}"
    );
    let show = |when| -> serde_json::Value {
        serde_json::from_str(&ok_at(when, &["stock", "show", "--json"])).unwrap()
    };
    let v1 = |v: &serde_json::Value| v["containers"][0]["balance_mg"].as_f64().unwrap();
    assert_eq!(v1(&show(at(14, 46))), 500.0, "nothing drawn");
    // At 14:41 the vial was in: drawn, and its ledger runs 500, 465.
    ok_at(
        at(14, 47),
        &[
            "log",
            "--session",
            &session,
            "@14:41 dose ketamine 35mg IM vial V1",
        ],
    );
    assert_eq!(v1(&show(at(14, 48))), 465.0);
    let log = ok_at(at(14, 48), &["stock", "log", "--format", "json"]);
    assert!(!log.contains("\"balance_mg\":-"), "{log}");
    assert!(ok_at(at(14, 49), &["verify"]).contains("ok"));
}
