//! What a session is, said the same way everywhere, through the real binary: one period from
//! its first entry to its end (report, note, REMS form, integration window), the note's
//! clinician, acknowledgements that say what they acknowledge and take their own time, the
//! witness and the CADSS-6 course in the draft note, and the command line's own words.

mod common;

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, TimeZone};
use common::{Home, PASSPHRASE};
use serde_json::Value;
use std::process::Output;

const NURSE: &str = "Nia Nurse";
const NURSE_PASS: &str = "tidal meadow lantern quartz";
const PRESCRIBER: &str = "Dr. Priya Prescriber";
const PRESCRIBER_PASS: &str = "violet harbor compass ember";

/// 00:08 on 6 Dec 2026 in the binary's zone: the session is opened just after midnight.
fn just_after_midnight() -> DateTime<FixedOffset> {
    let local = NaiveDate::from_ymd_opt(2026, 12, 6)
        .unwrap()
        .and_hms_opt(0, 8, 0)
        .unwrap();
    let offset = common::child_offset_at(&chrono::Utc.from_utc_datetime(&local));
    FixedOffset::east_opt(offset)
        .unwrap()
        .from_local_datetime(&local)
        .unwrap()
}

/// Runs the binary as `who`, at the clock `clock` (when given).
fn run(home: &Home, who: (&str, &str), clock: Option<&(&str, String)>, args: &[&str]) -> Output {
    let mut cmd = home.cmd(args);
    cmd.env("KAPCHART_CLINICIAN", who.0)
        .env("KAPCHART_PASSPHRASE", who.1);
    if let Some((var, value)) = clock {
        cmd.env(var, value);
    }
    cmd.output().unwrap()
}

fn ok(home: &Home, who: (&str, &str), clock: Option<&(&str, String)>, args: &[&str]) -> String {
    let out = run(home, who, clock, args);
    assert!(
        out.status.success(),
        "kapchart {args:?} as {}: {}",
        who.0,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn time(v: &Value) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(v.as_str().unwrap_or_else(|| panic!("{v}")))
        .unwrap_or_else(|e| panic!("{v}: {e}"))
}

fn add(home: &Home, clock: Option<&(&str, String)>, name: &str, role: &str, pass: &str) {
    let mut cmd = home.cmd(&["clinician", "add", "--name", name, "--role", role]);
    cmd.env("KAPCHART_CLINICIAN", "Dr. Test")
        .env("KAPCHART_NEW_PASSPHRASE", pass);
    if let Some((var, value)) = clock {
        cmd.env(var, value);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn one_session_has_one_period_from_its_first_entry_everywhere() {
    let home = Home::new();
    let clock = common::clock_at(&just_after_midnight());
    let admin = ("Dr. Test", PASSPHRASE);
    let c = Some(&clock);
    ok(&home, admin, c, &["init", "--clinician", "Dr. Test"]);
    let patient = ok(
        &home,
        admin,
        c,
        &[
            "patient",
            "add",
            "--name",
            "Ana Noor",
            "--dob",
            "1979-02-03",
        ],
    );
    let session = ok(
        &home,
        admin,
        c,
        &[
            "session",
            "start",
            "--patient",
            &patient,
            "--kind",
            "dosing",
        ],
    );
    // Charted from paper after the session was opened at 00:08: the baseline at 21:58 and
    // the devices at 22:08 the evening before.
    for line in [
        "@-130m bp 128/82 hr 74 spo2 98",
        "@-120m dose esketamine 56mg IN lot ABC123",
        "@-80m bp 150/92 hr 82 spo2 96",
        "@-60m bp 132/84 hr 76 spo2 97 moaas 5 cadss 0 0 0 0 0 0 resp ok",
        "@-20m ready-to-leave",
    ] {
        ok(&home, admin, c, &["log", "--session", &session, line]);
    }
    ok(
        &home,
        admin,
        c,
        &["session", "end", &session, "--reason", "discharge on paper"],
    );
    let shown = json(&ok(
        &home,
        admin,
        c,
        &["session", "show", &session, "--json"],
    ));
    let entries = shown["entries"].as_array().unwrap();
    let first = time(&entries[0]["event_time"]);
    let dose = entries
        .iter()
        .find(|e| e["kind"] == "dose")
        .map(|e| time(&e["event_time"]))
        .unwrap();
    let ended = time(&shown["session"]["ended"]);
    assert_eq!(
        first.date_naive(),
        NaiveDate::from_ymd_opt(2026, 12, 5).unwrap()
    );
    assert!(time(&shown["session"]["started"]) > first);

    // The report: from the first entry to the end.
    let md = ok(
        &home,
        admin,
        c,
        &["export", "--session", &session, "--format", "md"],
    );
    let from = first.format("%H:%M").to_string();
    assert!(
        md.contains(&format!("{from}–6 Dec 2026 {}", ended.format("%H:%M"))),
        "{from}: {md}"
    );
    assert!(
        md.contains("record: Ana Noor, 5 Dec 2026") && md.contains("Sat 5 Dec 2026"),
        "{md}"
    );
    // The FHIR Encounter's period starts there too.
    let fhir = json(&ok(
        &home,
        admin,
        c,
        &["export", "--session", &session, "--format", "fhir"],
    ));
    let encounter = fhir["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .find(|r| r["resourceType"] == "Encounter")
        .unwrap();
    // (FHIR instants are given to the second.)
    assert_eq!(
        time(&encounter["period"]["start"]).timestamp(),
        first.timestamp()
    );

    // The note: dated the day the session began.
    let note = json(&ok(
        &home,
        admin,
        c,
        &["note", "draft", "--session", &session, "--json"],
    ));
    let text = note["text"].as_str().unwrap();
    assert!(text.contains("- Date: 05 Dec 2026"), "{text}");
    assert!(text.contains("dosing session 1 (05 Dec 2026)"), "{text}");

    // The REMS form: the treatment date and the minutes from the first device to the end.
    let form = json(&ok(
        &home,
        admin,
        c,
        &["rems", "show", "--session", &session, "--json"],
    ));
    assert_eq!(form["treatment_date"], "2026-12-05");
    let total = form["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == "total_minutes")
        .unwrap()["value"]
        .clone();
    assert_eq!(total, (ended - dose).num_minutes());

    // The integration window counts from the dose, 48 to 72 hours after it.
    let list = json(&ok(&home, admin, c, &["integrations", "--json"]));
    assert_eq!(list[0]["dosing_session"].to_string(), session);
    assert_eq!(time(&list[0]["from"]), dose + Duration::hours(48));
    assert_eq!(time(&list[0]["until"]), dose + Duration::hours(72));
}

#[test]
fn the_note_names_who_wrote_it_who_charted_the_witness_and_the_cadss6_course() {
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    add(&home, None, NURSE, "nurse", NURSE_PASS);
    add(&home, None, PRESCRIBER, "prescriber", PRESCRIBER_PASS);
    let nurse = (NURSE, NURSE_PASS);
    let prescriber = (PRESCRIBER, PRESCRIBER_PASS);
    // Dr. Test opened the session; the nurse charts, the prescriber witnesses the dose.
    ok(
        &home,
        nurse,
        None,
        &[
            "log",
            "--session",
            &session,
            "@-40m bp 128/82 hr 74 spo2 98",
        ],
    );
    let dose = ok(
        &home,
        nurse,
        None,
        &["log", "--session", &session, "@-30m dose ketamine 35mg IM"],
    );
    ok(&home, prescriber, None, &["witness", &dose]);
    for line in ["@-15m cadss 2 1 2 1 1 1", "@-1m cadss 0 0 1 0 0 0"] {
        ok(&home, nurse, None, &["log", "--session", &session, line]);
    }
    ok(
        &home,
        prescriber,
        None,
        &[
            "log",
            "--session",
            &session,
            "obs settled, talking #insight",
        ],
    );
    // The witness entry names the drug it witnessed.
    let shown = ok(&home, prescriber, None, &["session", "show", &session]);
    assert!(
        shown.contains(&format!("Witnessed dose #{dose}: ketamine 35 mg IM")),
        "{shown}"
    );

    // The prescriber drafts the note and signs it.
    let note = json(&ok(
        &home,
        prescriber,
        None,
        &["note", "draft", "--session", &session, "--json"],
    ));
    let id = note["id"].to_string();
    let text = note["text"].as_str().unwrap();
    for said in [
        "- Clinician: Dr. Priya Prescriber",
        "- Charted by: Nia Nurse and Dr. Priya Prescriber",
        "ketamine 35 mg IM, witnessed by Dr. Priya Prescriber",
        "- CADSS-6 (dissociation): 8 at T+15",
        ", 1 at T+29",
    ] {
        assert!(text.contains(said), "missing {said:?} in\n{text}");
    }
    // Dr. Test only opened the session.
    assert!(!text.contains("Clinician: Dr. Test"), "{text}");
    let complete: String = text
        .lines()
        .map(|l| match l.trim_end() {
            "Assessment:" => "Assessment: steady, settled.".to_string(),
            "Plan:" => "Plan: continue the course.".to_string(),
            t if t.starts_with("Patient's account") => format!("{t} slept well."),
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    let file = home.path().join("note.md");
    std::fs::write(&file, complete + "\n").unwrap();
    ok(
        &home,
        prescriber,
        None,
        &["note", "save", &id, file.to_str().unwrap()],
    );
    ok(
        &home,
        prescriber,
        None,
        &["note", "sign", &id, "--reason", "checks to T+30 on paper"],
    );
    let signed = json(&ok(
        &home,
        prescriber,
        None,
        &["note", "show", &id, "--json"],
    ));
    assert_eq!(signed["signature"]["signer"], PRESCRIBER);
    assert!(
        signed["text"]
            .as_str()
            .unwrap()
            .contains("- Clinician: Dr. Priya Prescriber"),
        "{signed}"
    );
}

#[test]
fn an_acknowledgement_says_what_it_acknowledges_and_may_take_its_own_time() {
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    home.ok(&[
        "log",
        "--session",
        &session,
        "@-40m bp 128/82 hr 74 spo2 98",
    ]);
    home.ok(&["log", "--session", &session, "@-30m dose ketamine 35mg IM"]);
    let high = home.ok(&[
        "log",
        "--session",
        &session,
        "@-6m bp 172/108 hr 92 spo2 97",
    ]);
    // Not before the alert it acknowledges.
    let err = home.fails(&["ack", &high, "--note", "@-10m rechecked 150/92"], 1);
    assert!(
        err.contains("an acknowledgement comes after what it acknowledges"),
        "{err}"
    );
    let err = home.fails(&["ack", &high, "--note", "@-3m"], 1);
    assert!(err.contains("says what was decided"), "{err}");
    // Given its own time: three minutes ago.
    let ack = home.ok(&[
        "ack",
        &high,
        "--note",
        "@-3m rechecked 150/92; prescriber informed",
    ]);
    let shown = home.show_json(&session);
    let entry = |id: &str| {
        shown["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["id"].as_i64() == id.parse::<i64>().ok())
            .unwrap()
            .clone()
    };
    let a = entry(&ack);
    let alert_at = time(&entry(&high)["event_time"]);
    let at = time(&a["event_time"]);
    assert_eq!((at - alert_at).num_minutes(), 3, "{a}");
    assert_eq!(
        a["summary"],
        format!(
            "Acknowledged #{high} [BP 172/108 high (alert at >= 160/100)]: rechecked 150/92; prescriber informed"
        )
    );
    // The acknowledged row says so.
    assert_eq!(entry(&high)["acknowledged_by"].to_string(), ack);
    let text = home.ok(&["session", "show", &session]);
    let row = text
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("{high} ")))
        .unwrap();
    assert!(
        row.contains(&format!("(acknowledged by entry {ack})")),
        "{row}"
    );
    // Nothing is left to acknowledge on it.
    let err = home.fails(&["ack", &high, "--note", "again"], 1);
    assert!(
        err.contains("has no alert waiting for acknowledgement"),
        "{err}"
    );
}

#[test]
fn the_command_line_names_the_patient_and_prints_a_refusal_on_its_own_lines() {
    let home = Home::new();
    let (patient, session) = home.with_dosing_session();
    let list = home.ok(&["session", "list"]);
    assert!(
        list.contains(&format!("Test Patient (patient {patient})")),
        "{list}"
    );
    home.ok(&["log", "--session", &session, "@-10m dose ketamine 35mg IM"]);
    let err = home.fails(&["session", "end", &session], 1);
    assert!(!err.contains("\\u{a}"), "{err}");
    assert!(
        err.contains("these stand against ending it now:\n  - ")
            && err.contains("\n  - no ride home recorded"),
        "{err}"
    );
}
