//! One session, one truth: the rules the session chart derives, each through the path a user
//! takes (the real binary, its CLI and its live screen in a pseudo-terminal).

mod common;

use common::Home;
use common::pty::{Key, Tty};
use serde_json::Value;
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(20);

fn json(home: &Home, args: &[&str]) -> Value {
    serde_json::from_str(&home.ok(args)).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

fn entries(home: &Home, session: &str) -> Vec<Value> {
    home.show_json(session)["entries"]
        .as_array()
        .expect("entries")
        .clone()
}

fn flags_of(entry: &Value) -> Vec<String> {
    entry["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_session_clock_starts_at_ketamine_not_at_the_antiemetic() {
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    home.ok(&["log", "--session", &session, "@-60m bp 128/82 hr 74"]);
    home.ok(&[
        "log",
        "--session",
        &session,
        "@-45m dose ondansetron 4mg PO",
    ]);
    // Between the antiemetic and ketamine: still pre-dose, so the caution applies.
    home.ok(&["log", "--session", &session, "@-30m bp 150/95 hr 80"]);
    home.ok(&["log", "--session", &session, "@-15m dose ketamine 50mg IM"]);
    let all = entries(&home, &session);
    let predose = all
        .iter()
        .find(|e| e["summary"].as_str().unwrap().contains("150/95"))
        .unwrap();
    // (It is also a late entry: charted 30 minutes after the event.)
    assert!(
        flags_of(predose).contains(&"bp-predose".to_string()),
        "{predose}"
    );
    // The checks count from ketamine: T+15 is due now, the T+40 BP 25 minutes from now.
    let checks = json(&home, &["session", "checks", &session, "--json"]);
    let list = checks["checks"].as_array().unwrap();
    let baseline = &list[0];
    assert_eq!(baseline["check"], "baseline vitals with BP");
    assert_eq!(baseline["state"], "done");
    let ketamine = all
        .iter()
        .find(|e| e["summary"].as_str().unwrap().contains("ketamine"))
        .unwrap();
    let time = |v: &Value| {
        chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap())
            .unwrap_or_else(|e| panic!("{v}: {e}"))
    };
    assert_eq!(time(&baseline["due"]), time(&ketamine["event_time"]));
    let t15 = list.iter().find(|c| c["t_plus_min"] == 15).unwrap();
    assert!(
        ["due", "upcoming"].contains(&t15["state"].as_str().unwrap()),
        "{t15}"
    );
    // Ending now is refused: the 120-minute minimum counts from ketamine (105 min left).
    let err = home.fails(&["session", "end", &session], 1);
    assert!(err.contains("min before the 120-min minimum"), "{err}");
    let minutes: i64 = err
        .split("- ending ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{err}"));
    assert!((104..=106).contains(&minutes), "{err}");
}

#[test]
fn missed_and_late_checks_are_listed_with_the_entry_that_closed_them() {
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    home.ok(&[
        "log",
        "--session",
        &session,
        "@-70m bp 128/82 hr 74 spo2 98",
    ]);
    home.ok(&["log", "--session", &session, "@-65m dose ketamine 50mg IM"]);
    // T+15 on time; T+30 nothing (missed once the T+45 round fell due); the T+40 BP six
    // minutes late, which is the T+45 round on time too.
    let t15 = home.ok(&[
        "log",
        "--session",
        &session,
        "@-50m bp 130/84 hr 76 spo2 97",
    ]);
    let late = home.ok(&[
        "log",
        "--session",
        &session,
        "@-19m bp 134/86 hr 78 spo2 97",
    ]);
    let checks = json(&home, &["session", "checks", &session, "--json"]);
    let at = |t: u64| {
        checks["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["t_plus_min"] == t && c["check"] != "baseline vitals with BP")
            .unwrap_or_else(|| panic!("no T+{t} in {checks}"))
            .clone()
    };
    assert_eq!(at(15)["state"], "done");
    assert_eq!(at(15)["closed_by"].to_string(), t15);
    assert_eq!(at(30)["state"], "missed");
    assert_eq!(at(30)["closed_by"], Value::Null);
    assert_eq!(at(40)["state"], "done-late");
    assert_eq!(at(40)["late_min"], 6);
    assert_eq!(at(40)["closed_by"].to_string(), late);
    assert_eq!(at(45)["state"], "done");
    // The same in words, and in the exports.
    let text = home.ok(&["session", "checks", &session]);
    assert!(
        text.contains("missed") && text.contains("done late (6 min)"),
        "{text}"
    );
    let md = home.ok(&["export", "--session", &session, "--format", "md"]);
    assert!(md.contains("### Protocol checks"), "{md}");
    assert!(
        md.contains("**missed**") && md.contains("**done late (6 min)**"),
        "{md}"
    );
    let csv = home.ok(&["export", "--session", &session, "--format", "csv"]);
    assert!(csv.contains("Protocol check missed: vitals T+30"), "{csv}");
    let fhir = home.ok(&["export", "--session", &session, "--format", "fhir"]);
    assert!(fhir.contains("\"not-performed\""), "{fhir}");
    assert!(fhir.contains("protocol check BP T+40"), "{fhir}");
}

/// The T+40 check asks for a blood pressure: a reading without one (HR and SpO2 at T+41)
/// leaves it open, and the BP charted after it closes it, late.
#[test]
fn a_reading_without_a_bp_does_not_close_the_bp_check() {
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    home.ok(&["log", "--session", &session, "@-65m bp 128/82 hr 74"]);
    home.ok(&["log", "--session", &session, "@-60m dose ketamine 50mg IM"]);
    home.ok(&["log", "--session", &session, "@-19m hr 80 spo2 97"]);
    let bp_check = |home: &Home| {
        let checks = json(home, &["session", "checks", &session, "--json"]);
        checks["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["t_plus_min"] == 40 && c["check"].as_str().unwrap().contains("BP"))
            .unwrap_or_else(|| panic!("no BP T+40 in {checks}"))
            .clone()
    };
    let open = bp_check(&home);
    assert!(
        !open["state"].as_str().unwrap().starts_with("done") && open["closed_by"].is_null(),
        "HR and SpO2 alone do not close the BP check: {open}"
    );
    let bp = home.ok(&["log", "--session", &session, "@-15m bp 130/84"]);
    let closed = bp_check(&home);
    assert_eq!(closed["state"], "done-late", "{closed}");
    assert_eq!(closed["closed_by"].to_string(), bp);
}

#[test]
fn a_round_is_done_by_its_whole_set_and_one_reading_closes_one_round_of_a_kind() {
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    home.ok(&[
        "log",
        "--session",
        &session,
        "@-70m bp 128/82 hr 74 spo2 98",
    ]);
    home.ok(&["log", "--session", &session, "@-58m dose ketamine 50mg IM"]);
    home.ok(&[
        "log",
        "--session",
        &session,
        "@-45m bp 130/84 hr 76 spo2 97",
    ]);
    home.ok(&[
        "log",
        "--session",
        &session,
        "@-30m bp 132/84 hr 78 spo2 97",
    ]);
    // Nothing for the T+40 BP or the T+45 round; at T+57 a BP and an HR, no SpO2 (read at
    // T+58: the T+45 round is missed once T+60 falls due).
    let late = home.ok(&["log", "--session", &session, "@-1m bp 176/104 hr 92"]);
    let checks = json(&home, &["session", "checks", &session, "--json"]);
    let at = |t: u64, kind: &str| {
        checks["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["t_plus_min"] == t && c["check"] == kind)
            .unwrap_or_else(|| panic!("no {kind} T+{t} in {checks}"))
            .clone()
    };
    // It closes the overdue T+40 BP, late, and nothing else.
    assert_eq!(at(40, "BP")["state"], "done-late");
    assert_eq!(at(40, "BP")["closed_by"].to_string(), late);
    let t45 = at(45, "vitals");
    assert_eq!(t45["state"], "overdue", "{t45}");
    assert_eq!(t45["charted"], serde_json::json!(["bp", "hr"]));
    assert_eq!(t45["missing"], serde_json::json!(["spo2"]));
    assert_eq!(t45["needs"], serde_json::json!(["bp", "hr", "spo2"]));
    let t60 = at(60, "vitals");
    assert_eq!(t60["state"], "upcoming", "{t60}");
    assert_eq!(t60["closed_by"], Value::Null);
    let text = home.ok(&["session", "checks", &session]);
    assert!(text.contains("overdue, missing SpO2"), "{text}");

    // Another session, its rounds on time up to T+45: a lone SpO2 at T+61 is the T+60 round
    // charted in part, saying what it misses.
    let patient = home.ok(&[
        "patient",
        "add",
        "--name",
        "Second Patient",
        "--dob",
        "1970-01-02",
    ]);
    let session = home.ok(&[
        "session",
        "start",
        "--patient",
        &patient,
        "--kind",
        "dosing",
    ]);
    for line in [
        "@-70m bp 128/82 hr 74 spo2 98",
        "@-61m dose ketamine 50mg IM",
        "@-46m bp 130/84 hr 76 spo2 97",
        "@-31m bp 132/84 hr 78 spo2 97",
        "@-20m bp 134/86 hr 78 spo2 97",
        "@-16m bp 134/86 hr 78 spo2 97",
    ] {
        home.ok(&["log", "--session", &session, line]);
    }
    home.ok(&["log", "--session", &session, "spo2 97"]);
    let text = home.ok(&["session", "checks", &session]);
    let t60 = text
        .lines()
        .find(|l| l.contains("T+60"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        t60.contains("missing BP and HR") && !t60.contains("done"),
        "{text}"
    );
    // BP and HR complete it.
    let done = home.ok(&["log", "--session", &session, "bp 150/92 hr 84"]);
    let checks = json(&home, &["session", "checks", &session, "--json"]);
    let t60 = checks["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["t_plus_min"] == 60)
        .unwrap()
        .clone();
    assert!(t60["state"].as_str().unwrap().starts_with("done"), "{t60}");
    assert_eq!(t60["closed_by"].to_string(), done);
}

#[test]
fn ending_a_dosing_session_asks_the_same_questions_on_the_command_line() {
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    home.ok(&["log", "--session", &session, "@-150m bp 128/82 hr 74"]);
    home.ok(&["log", "--session", &session, "@-140m dose ketamine 50mg IM"]);
    home.ok(&["log", "--session", &session, "@-120m bp 172/104 hr 90"]);
    let err = home.fails(&["session", "end", &session], 1);
    for words in [
        "alert not acknowledged: BP 172/104",
        "protocol check without a reading: BP T+40",
        "no ride home recorded",
        "no modified Aldrete score recorded",
        "end it anyway with --reason TEXT",
    ] {
        assert!(err.contains(words), "missing {words:?}:\n{err}");
    }
    // Nothing was written: the session is still open.
    assert_eq!(home.show_json(&session)["session"]["ended"], Value::Null);
    home.ok(&[
        "session",
        "end",
        &session,
        "--reason",
        "transferred to the ED for BP management",
    ]);
    let shown = home.show_json(&session);
    assert!(shown["session"]["ended"].is_string(), "{shown}");
    let end = entries(&home, &session)
        .into_iter()
        .find(|e| e["kind"] == "session-end")
        .unwrap();
    assert!(
        end["summary"]
            .as_str()
            .unwrap()
            .contains("transferred to the ED for BP management"),
        "{end}"
    );
}

#[test]
fn the_preparation_intention_carries_into_the_next_dosing_session() {
    let home = Home::new();
    home.ok(&["init", "--clinician", "Dr. Test"]);
    let patient = home.ok(&["patient", "add", "--name", "Sam Lee", "--dob", "1979-02-03"]);
    let prep = home.ok(&[
        "session",
        "start",
        "--patient",
        &patient,
        "--kind",
        "preparation",
    ]);
    home.ok(&["log", "--session", &prep, "intention to forgive my brother"]);
    let dosing = home.ok(&[
        "session",
        "start",
        "--patient",
        &patient,
        "--kind",
        "dosing",
    ]);
    let shown = home.show_json(&dosing);
    assert_eq!(shown["session"]["intention"], "to forgive my brother");
    // The note drafted from that session says it too.
    let note = json(&home, &["note", "draft", "--session", &dosing, "--json"]);
    let text = note["text"].as_str().unwrap();
    assert!(text.contains("to forgive my brother"), "{text}");
    assert!(!text.contains("Intention: none recorded"), "{text}");
}

#[test]
fn a_safety_flag_from_a_logged_line_is_said_on_stderr() {
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    let out = home.run(&["log", "--session", &session, "phq9 1 1 1 1 1 1 1 1 2"]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("SAFETY: PHQ-9 item 9 answered 2"),
        "stderr: {stderr}"
    );
    // The batch path says it too, after the id.
    let out = home.run_with_stdin(
        &["log", "--session", &session, "-"],
        "bp 120/80\nphq9 0 0 0 0 0 0 0 0 1\n",
    );
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("SAFETY: PHQ-9 item 9 answered"), "{stderr}");
    // A line without a measure says nothing of it.
    let out = home.run(&["log", "--session", &session, "bp 118/76"]);
    assert!(String::from_utf8_lossy(&out.stderr).is_empty());
}

#[test]
fn the_live_screen_shows_what_another_process_charts() {
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    let tty = Tty::spawn(&home.cmd(&["chart", "--session", &session]), 100, 30);
    tty.wait_for("Chart: bp 128/82", TIMEOUT);
    // A second terminal (or a script) charts into the same session.
    home.ok(&[
        "log",
        "--session",
        &session,
        "obs charted from the second terminal",
    ]);
    tty.wait_for_all(
        &[
            "charted from the second terminal",
            "1 entry charted elsewhere",
        ],
        TIMEOUT,
    );
    drop(tty);
}

#[test]
fn any_flagged_entry_is_acknowledged_from_the_timeline() {
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    home.ok(&["log", "--session", &session, "@-30m dose ketamine 50mg IM"]);
    home.ok(&["log", "--session", &session, "@-1m bp 170/105 hr 88"]);
    let mut tty = Tty::spawn(&home.cmd(&["chart", "--session", &session]), 100, 30);
    tty.wait_for("Chart: bp 128/82", TIMEOUT);
    // Esc to the timeline (the newest entry, the 170/105, is selected), then c.
    tty.key(Key::Esc);
    // Wait for the timeline's keys: an Esc followed at once by c would read as Alt-c.
    tty.wait_for("strike", TIMEOUT);
    tty.send("c");
    tty.wait_for("BP 170/105 high", TIMEOUT);
    tty.send("rechecked, prescriber informed");
    tty.key(Key::Enter);
    tty.wait_for("recorded", TIMEOUT);
    let ack = entries(&home, &session)
        .into_iter()
        .find(|e| e["kind"] == "acknowledgement")
        .unwrap_or_else(|| panic!("no acknowledgement; screen:\n{}", tty.screen()));
    assert!(
        ack["summary"]
            .as_str()
            .unwrap()
            .contains("rechecked, prescriber informed"),
        "{ack}"
    );
    drop(tty);
}
