//! The command line, through the built binary, on temporary charts.

mod common;

use common::{Home, PASSPHRASE, file_bytes};
use serde_json::Value;

fn entries(v: &Value) -> &Vec<Value> {
    v["entries"].as_array().expect("entries array")
}

fn flag_codes(entry: &Value) -> Vec<String> {
    entry["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn init_creates_a_private_chart_and_refuses_to_overwrite_it() {
    let home = Home::new();
    let out = home.ok(&["init", "--clinician", "Dr. Test"]);
    assert!(out.contains("created"), "{out}");
    let chart = home.chart();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&chart).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "chart file mode");
        let dir_mode = std::fs::metadata(chart.parent().unwrap())
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(dir_mode, 0o700, "chart folder mode");
    }
    let before = file_bytes(&chart);
    let err = home.fails(&["init", "--clinician", "Someone Else"], 1);
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(
        file_bytes(&chart),
        before,
        "second init left the chart alone"
    );
    assert_eq!(err.trim().lines().count(), 1, "one clear line: {err}");
}

#[test]
fn commands_without_a_chart_say_how_to_make_one() {
    let home = Home::new();
    let err = home.fails(&["patient", "list"], 1);
    assert!(
        err.contains("no chart at") && err.contains("kapchart init"),
        "{err}"
    );
    assert!(
        !home.chart().exists(),
        "a missing chart is not created by reading"
    );
}

#[test]
fn without_a_passphrase_and_no_terminal_the_error_says_what_to_set() {
    let home = Home::new();
    home.ok(&["init", "--clinician", "Dr. Test"]);
    let out = home
        .cmd(&["patient", "list"])
        .env_remove("KAPCHART_PASSPHRASE")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("KAPCHART_PASSPHRASE"), "{err}");
}

#[test]
fn wrong_passphrase_is_one_line_exit_1_and_leaves_the_file_alone() {
    let home = Home::new();
    home.with_dosing_session();
    let chart = home.chart();
    let before = file_bytes(&chart);
    let out = home
        .cmd(&["patient", "list"])
        .env("KAPCHART_PASSPHRASE", "not the passphrase")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.trim(),
        "kapchart: wrong passphrase, or not a kapchart chart"
    );
    assert_eq!(file_bytes(&chart), before);
}

#[test]
fn a_file_that_is_not_a_chart_is_refused_and_kept() {
    let home = Home::new();
    let chart = home.chart();
    std::fs::create_dir_all(chart.parent().unwrap()).unwrap();
    std::fs::write(&chart, b"my shopping list\n").unwrap();
    let err = home.fails(&["patient", "list"], 1);
    assert!(
        err.contains("wrong passphrase, or not a kapchart chart"),
        "{err}"
    );
    assert_eq!(file_bytes(&chart), b"my shopping list\n");
}

#[test]
fn patients_are_added_and_listed() {
    let home = Home::new();
    home.ok(&["init", "--clinician", "Dr. Test"]);
    let id = home.ok(&[
        "patient",
        "add",
        "--name",
        "Ada Byron",
        "--dob",
        "1990-12-10",
        "--mrn",
        "MRN-7",
        "--weight",
        "61.5",
    ]);
    assert_eq!(id, "1", "the new id alone");
    let id2 = home.ok(&["patient", "add", "--name", "Bo Chen", "--dob", "1975-02-01"]);
    assert_eq!(id2, "2");
    let list = home.ok(&["patient", "list"]);
    assert!(list.contains("Ada Byron") && list.contains("MRN-7") && list.contains("61.5 kg"));
    let json: Value = serde_json::from_str(&home.ok(&["patient", "list", "--json"])).unwrap();
    assert_eq!(json[0]["name"], "Ada Byron");
    assert_eq!(json[0]["dob"], "1990-12-10");
    assert_eq!(json[0]["weight_kg"], 61.5);
    assert_eq!(json[1]["mrn"], Value::Null);
}

#[test]
fn bad_patient_arguments_are_usage_errors_naming_the_value() {
    let home = Home::new();
    home.ok(&["init", "--clinician", "Dr. Test"]);
    let err = home.fails(&["patient", "add", "--name", "X", "--dob", "17/05/1980"], 2);
    assert!(
        err.contains("17/05/1980") && err.contains("YYYY-MM-DD"),
        "{err}"
    );
    let err = home.fails(
        &[
            "patient",
            "add",
            "--name",
            "X",
            "--dob",
            "1980-05-17",
            "--weight",
            "heavy",
        ],
        2,
    );
    assert!(err.contains("heavy") && err.contains("kilograms"), "{err}");
    let err = home.fails(
        &[
            "patient",
            "add",
            "--name",
            "X",
            "--dob",
            "1980-05-17",
            "--weight",
            "0",
        ],
        2,
    );
    assert!(err.contains("not plausible"), "{err}");
    let err = home.fails(&["patient", "add", "--name", "X", "--dob", "2999-01-01"], 1);
    assert!(err.contains("in the future"), "{err}");
    let err = home.fails(
        &["patient", "add", "--name", "  ", "--dob", "1980-01-01"],
        1,
    );
    assert!(err.contains("name"), "{err}");
    assert_eq!(home.ok(&["patient", "list"]), "", "nothing was added");
}

#[test]
fn sessions_start_end_and_list() {
    let home = Home::new();
    let (patient, session) = home.with_dosing_session();
    assert_eq!(session, "1");
    let list = home.ok(&["session", "list", "--patient", &patient]);
    assert!(list.contains("dosing") && list.contains("open"), "{list}");
    // Ending a dosing session with nothing charted: refused with what stands against it,
    // and nothing written.
    let err = home.fails(&["session", "end", &session], 1);
    for words in [
        "was not ended",
        "no ride home recorded",
        "no modified Aldrete score",
        "baseline vitals with BP",
        "--reason",
    ] {
        assert!(err.contains(words), "missing {words:?}: {err}");
    }
    let open = home.ok(&["session", "list", "--patient", &patient]);
    assert!(open.contains("open"), "{open}");
    let end_entry = home.ok(&[
        "session",
        "end",
        &session,
        "--reason",
        "patient declined the dose; left with partner",
    ]);
    assert!(end_entry.parse::<i64>().is_ok(), "{end_entry}");
    let shown = home.ok(&["session", "show", &session]);
    assert!(
        shown.contains("patient declined the dose; left with partner"),
        "{shown}"
    );
    let json: Value = serde_json::from_str(&home.ok(&["session", "list", "--json"])).unwrap();
    assert!(json[0]["ended"].is_string(), "{json}");
    assert_eq!(json[0]["intention"], "Let go of the old story");
    let err = home.fails(&["session", "end", &session], 1);
    assert!(err.contains("already ended"), "{err}");
}

#[test]
fn session_arguments_are_checked() {
    let home = Home::new();
    let (patient, session) = home.with_dosing_session();
    let err = home.fails(
        &["session", "start", "--patient", &patient, "--kind", "party"],
        2,
    );
    assert!(err.contains("party") && err.contains("follow-up"), "{err}");
    let err = home.fails(
        &["session", "start", "--patient", "99", "--kind", "intake"],
        1,
    );
    assert!(err.contains("patient 99 does not exist"), "{err}");
    let err = home.fails(
        &[
            "session",
            "start",
            "--patient",
            &patient,
            "--kind",
            "integration",
        ],
        1,
    );
    assert!(err.contains("--dosing"), "{err}");
    let integration = home.ok(&[
        "session",
        "start",
        "--patient",
        &patient,
        "--kind",
        "integration",
        "--dosing",
        &session,
    ]);
    let json = home.show_json(&integration);
    assert_eq!(
        json["session"]["dosing_session_id"].as_i64(),
        session.parse().ok()
    );
    let err = home.fails(
        &[
            "session",
            "start",
            "--patient",
            &patient,
            "--kind",
            "integration",
            "--dosing",
            &integration,
        ],
        1,
    );
    assert!(err.contains("not a dosing session"), "{err}");
    let err = home.fails(&["session", "show", "42"], 1);
    assert!(err.contains("session 42 does not exist"), "{err}");
}

#[test]
fn a_line_becomes_typed_entries_with_flags_and_times() {
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    let ids = home.ok(&[
        "log",
        "--session",
        &session,
        "bp 150/95 hr 74 spo2 97% obs calm, \"I'm ready\" #baseline",
    ]);
    assert_eq!(ids.split(' ').count(), 2, "vitals and observation: {ids}");
    home.ok(&[
        "log",
        "--session",
        &session,
        "dose ketamine 0.5mg/kg IV over 40m",
    ]);
    home.ok(&["log", "--session", &session, "bp 150/95"]);
    home.ok(&["log", "--session", &session, "bp 165/92 rr 7"]);
    home.ok(&["log", "--session", &session, "moaas 2"]);
    home.ok(&[
        "log",
        "--session",
        &session,
        "@-15m obs patient arrived #late-note",
    ]);

    let json = home.show_json(&session);
    let e = entries(&json);
    assert_eq!(e.len(), 7);
    // Event-time order: the back-dated observation comes first.
    assert_eq!(e[0]["kind"], "observation");
    assert_eq!(flag_codes(&e[0]), ["late"]);
    assert_eq!(e[1]["kind"], "vitals");
    assert_eq!(e[1]["payload"]["bp"]["systolic"], 150);
    assert_eq!(e[1]["summary"], "BP 150/95 · HR 74 · SpO2 97%");
    assert_eq!(flag_codes(&e[1]), ["bp-predose"], "before the first dose");
    assert_eq!(e[2]["payload"]["tags"][0], "baseline");
    assert_eq!(e[2]["payload"]["quotes"][0], "I'm ready");
    assert_eq!(e[3]["kind"], "dose");
    assert_eq!(e[3]["payload"]["total_mg"], 35.0, "0.5 mg/kg x 70 kg");
    assert_eq!(e[3]["payload"]["over_min"], 40);
    assert!(
        flag_codes(&e[4]).is_empty(),
        "after the dose, 150/95 is not flagged"
    );
    assert_eq!(flag_codes(&e[5]), ["bp-high", "rr-low"]);
    assert_eq!(flag_codes(&e[6]), ["deep-sedation"]);
    for entry in e {
        assert_eq!(entry["author"], "Dr. Test");
        assert_eq!(entry["status"], "current");
        let event =
            chrono::DateTime::parse_from_rfc3339(entry["event_time"].as_str().unwrap()).unwrap();
        assert_eq!(
            event.offset().local_minus_utc(),
            common::child_offset_at(&event),
            "the offset of the time zone kapchart ran in, at that moment, is kept"
        );
        assert!(entry["recorded_time"].is_string());
    }
}

#[test]
fn an_invalid_line_writes_nothing_and_names_the_bad_token() {
    let home = Home::new();
    let (patient, session) = home.with_dosing_session();
    home.ok(&["log", "--session", &session, "hr 70"]);
    for (line, token) in [
        ("bp 128/82 hr 400", "400"),
        ("bp 82/128", "82/128"),
        ("dose ketamin 35mg IM", "ketamin"),
        ("spo2 97 banana", "banana"),
        ("@99:00 hr 70", "@99:00"),
    ] {
        let err = home.fails(&["log", "--session", &session, line], 1);
        assert!(err.contains(token), "{line}: {err}");
        assert!(err.contains("example"), "{line}: shows an example: {err}");
    }
    // A time ahead of now is not a form the bar knows: it says which forms it does know.
    let err = home.fails(&["log", "--session", &session, "@+30m hr 70"], 1);
    assert!(
        err.contains("'@+30m'") && err.contains("@HH:MM") && err.contains("@-10m"),
        "{err}"
    );
    assert_eq!(
        entries(&home.show_json(&session)).len(),
        1,
        "nothing else written"
    );

    // mg/kg without a weight on record is refused.
    let light = home.ok(&[
        "patient",
        "add",
        "--name",
        "No Weight",
        "--dob",
        "1970-01-01",
    ]);
    let s2 = home.ok(&["session", "start", "--patient", &light, "--kind", "dosing"]);
    let err = home.fails(&["log", "--session", &s2, "dose ketamine 0.5mg/kg IV"], 1);
    assert!(err.contains("weight"), "{err}");
    let _ = patient;
}

/// A time typed after the readings (as a nurse may, reading off the monitor) is refused
/// saying where it goes, and nothing of the line is written.
#[test]
fn a_time_after_the_readings_is_refused_saying_where_it_goes() {
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    let out = home
        .cmd(&["log", "--session", &session, "bp 172/108 hr 131 @-5m"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("The time goes at the start of the line"),
        "{err}"
    );
    assert!(err.contains("@-5m"), "{err}");
    assert!(
        entries(&home.show_json(&session)).is_empty(),
        "nothing written"
    );
}

#[test]
fn a_future_time_is_refused() {
    use chrono::TimeZone;
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    // At 12:00, 12:30 today is still to come and yesterday's was 23 h 30 min ago: refused,
    // never taken for yesterday.
    let noon = chrono::Utc.from_utc_datetime(
        &common::child_now()
            .date_naive()
            .and_hms_opt(12, 0, 0)
            .unwrap(),
    );
    let out = home
        .cmd(&["log", "--session", &session, "@12:30 hr 70"])
        .env("TZ", "UTC")
        .envs([common::clock_at(&noon)])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("in the future"), "{err}");
    assert!(
        entries(&home.show_json(&session)).is_empty(),
        "nothing written"
    );
}

#[test]
fn a_time_of_day_just_before_midnight_typed_just_after_it_is_yesterdays() {
    use chrono::TimeZone;
    let home = Home::new();
    // A session started at 23:40, charted in Kolkata (+05:30) at 00:04 the next day.
    let tz = "IST-5:30";
    let zone = chrono::FixedOffset::east_opt(5 * 3600 + 1800).unwrap();
    let day = common::child_now().date_naive();
    let before = zone
        .from_local_datetime(&day.pred_opt().unwrap().and_hms_opt(23, 40, 0).unwrap())
        .unwrap();
    let after = zone
        .from_local_datetime(&day.and_hms_opt(0, 4, 0).unwrap())
        .unwrap();
    let run = |at: &chrono::DateTime<chrono::FixedOffset>, args: &[&str]| {
        let out = home
            .cmd(args)
            .env("TZ", tz)
            .envs([common::clock_at(at)])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(out.status.success(), "{args:?}: {err}");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    run(&before, &["init", "--clinician", "Dr. Test"]);
    let patient = run(
        &before,
        &[
            "patient",
            "add",
            "--name",
            "Late Patient",
            "--dob",
            "1980-05-17",
            "--weight",
            "70",
        ],
    );
    let session = run(
        &before,
        &[
            "session",
            "start",
            "--patient",
            &patient,
            "--kind",
            "dosing",
        ],
    );
    run(
        &after,
        &["log", "--session", &session, "@23:50 bp 128/82 hr 74"],
    );
    let shown: serde_json::Value =
        serde_json::from_str(&run(&after, &["session", "show", &session, "--json"])).unwrap();
    let times: Vec<String> = entries(&shown)
        .iter()
        .map(|e| e["event_time"].as_str().unwrap_or_default().to_string())
        .collect();
    let expected = format!("{}T23:50:00+05:30", day.pred_opt().unwrap());
    assert!(
        !times.is_empty() && times.iter().all(|t| *t == expected),
        "@23:50 at 00:04 is 14 minutes ago, yesterday: {times:?}"
    );
}

#[test]
fn stdin_mode_commits_each_line_and_reports_bad_ones_by_number() {
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    let input = "bp 120/80 hr 70\n\nobs settling in\nbp 120\nmoaas 5\n";
    let out = home.run_with_stdin(&["log", "--session", &session, "-"], input);
    assert_eq!(out.status.code(), Some(1), "a bad line makes the run fail");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let printed: Vec<&str> = stdout.lines().collect();
    assert_eq!(printed.len(), 3, "{stdout}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 4"), "{err}");
    let json = home.show_json(&session);
    let stored: Vec<String> = entries(&json).iter().map(|e| e["id"].to_string()).collect();
    for id in printed {
        assert!(
            stored.contains(&id.to_string()),
            "printed id {id} is in the chart"
        );
    }
    assert_eq!(stored.len(), 3);
}

#[test]
fn stdin_mode_with_good_lines_exits_0() {
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    let out = home.run_with_stdin(&["log", "--session", &session, "-"], "hr 70\nhr 72\n");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 2);
}

#[test]
fn amend_and_strike_keep_the_history() {
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    let first = home.ok(&["log", "--session", &session, "bp 128/82"]);
    let obs = home.ok(&["log", "--session", &session, "obs wrong patient's note"]);
    let err = home.fails(&["amend", &first, "--reason", " ", "bp 138/82"], 1);
    assert!(err.contains("reason"), "{err}");
    let amended = home.ok(&["amend", &first, "--reason", "misread the cuff", "bp 138/82"]);
    let struck = home.ok(&["strike", &obs, "--reason", "entered in the wrong chart"]);

    let json = home.show_json(&session);
    let by_id = |id: &str| {
        entries(&json)
            .iter()
            .find(|e| e["id"].as_i64() == id.parse().ok())
            .unwrap_or_else(|| panic!("entry {id}"))
            .clone()
    };
    let original = by_id(&first);
    assert_eq!(original["status"], "amended");
    assert_eq!(original["by"].to_string(), amended);
    assert_eq!(
        original["payload"]["bp"]["systolic"], 128,
        "the original is kept"
    );
    let replacement = by_id(&amended);
    assert_eq!(replacement["corrects"].to_string(), first);
    assert_eq!(replacement["correction"], "amend");
    assert_eq!(replacement["reason"], "misread the cuff");
    assert_eq!(
        replacement["event_time"], original["event_time"],
        "keeps the event time"
    );
    assert_eq!(by_id(&obs)["status"], "struck");
    assert_eq!(by_id(&struck)["kind"], "strike");
    assert_eq!(by_id(&struck)["reason"], "entered in the wrong chart");

    let err = home.fails(&["amend", &first, "--reason", "again", "bp 140/82"], 1);
    assert!(
        err.contains(&format!("already amended by entry {amended}")),
        "{err}"
    );
    let err = home.fails(&["strike", &obs, "--reason", "twice"], 1);
    assert!(err.contains("already struck"), "{err}");
    // A bad replacement line is refused with the part that was wrong and an example.
    let err = home.fails(&["amend", &amended, "--reason", "r", "bp 1/2 hr 3"], 1);
    assert!(
        err.contains("Systolic") && err.contains("'1/2'") && err.contains("example"),
        "{err}"
    );
    let err = home.fails(&["strike", "999", "--reason", "r"], 1);
    assert!(err.contains("entry 999 does not exist"), "{err}");
    // The human view shows the chain too.
    let show = home.ok(&["session", "show", &session]);
    assert!(
        show.contains(&format!("amended by entry {amended}")),
        "{show}"
    );
    assert!(show.contains("STRUCK"), "{show}");
    assert!(home.ok(&["verify"]).starts_with("ok"));
}

#[test]
fn verify_passes_on_a_sound_chart() {
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    home.ok(&["log", "--session", &session, "bp 120/80"]);
    let out = home.ok(&["verify"]);
    assert!(
        // The chain key's row, the clinician, their place on the team and its certificate,
        // patient, session and entry.
        out.contains("ok") && out.contains("audit trail of 7 rows"),
        "{out}"
    );
}

#[test]
fn paths_names_chart_config_and_log() {
    let home = Home::new();
    let out = home.ok(&["paths"]);
    assert!(out.contains(&home.chart().display().to_string()), "{out}");
    assert!(
        out.contains("xdg-config") && out.contains("config.toml"),
        "{out}"
    );
    assert!(out.contains("kapchart.log"), "{out}");
    let flag = home.ok(&["--db", "/tmp/elsewhere.db", "paths", "--json"]);
    let v: Value = serde_json::from_str(&flag).unwrap();
    assert_eq!(v["chart"], "/tmp/elsewhere.db", "--db beats KAPCHART_DB");
}

#[test]
fn completions_are_printed() {
    let home = Home::new();
    let out = home.ok(&["completions", "bash"]);
    assert!(out.contains("kapchart") && out.contains("session"), "{out}");
    let err = home.fails(&["completions", "cmd.exe"], 2);
    assert!(err.contains("cmd.exe"), "{err}");
}

#[test]
fn unknown_commands_are_usage_errors() {
    let home = Home::new();
    home.fails(&["frobnicate"], 2);
    home.fails(&["log", "--session", "x", "hr 70"], 2);
}

#[test]
fn a_bad_user_config_is_named() {
    let home = Home::new();
    let config = home.path().join("xdg-config/kapchart/config.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(&config, "[alerts]\nspo2_bellow = 90\n").unwrap();
    let err = home.fails(&["paths"], 1);
    assert!(
        err.contains("config.toml") && err.contains("spo2_bellow"),
        "{err}"
    );
}

#[test]
fn user_config_thresholds_change_the_flags() {
    let home = Home::new();
    let config = home.path().join("xdg-config/kapchart/config.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(&config, "[alerts]\nspo2_below = 95\n").unwrap();
    let (_, session) = home.with_dosing_session();
    home.ok(&["log", "--session", &session, "spo2 94"]);
    let json = home.show_json(&session);
    assert_eq!(flag_codes(&entries(&json)[0]), ["spo2-low"]);
}

#[test]
fn demo_creates_a_chart_once_and_reopens_it() {
    let home = Home::new();
    let demo = home.path().join("demo.db");
    let out = home
        .cmd(&["demo", "--db", demo.to_str().unwrap(), "--no-tui"])
        .env_remove("KAPCHART_PASSPHRASE")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("created") && stdout.contains("kapchart-demo"),
        "{stdout}"
    );
    let again = home
        .cmd(&["demo", "--db", demo.to_str().unwrap(), "--no-tui"])
        .env_remove("KAPCHART_PASSPHRASE")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&again.stdout).contains("reopened"));

    let demo_cmd = |args: &[&str]| {
        let out = home
            .cmd(args)
            .env("KAPCHART_DB", &demo)
            .env("KAPCHART_CLINICIAN", "Dr. Demo Clinician")
            .env("KAPCHART_PASSPHRASE", "kapchart-demo")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let patients: Value = serde_json::from_str(&demo_cmd(&["patient", "list", "--json"])).unwrap();
    assert_eq!(patients.as_array().unwrap().len(), 3);
    let sessions: Value = serde_json::from_str(&demo_cmd(&["session", "list", "--json"])).unwrap();
    let kinds: Vec<&str> = sessions
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    for kind in ["intake", "preparation", "dosing", "integration"] {
        assert!(kinds.contains(&kind), "demo has a {kind} session");
    }
    assert!(demo_cmd(&["verify"]).starts_with("ok"));
    let _ = PASSPHRASE;
}

/// The demo's doses draw from the clinic's stock, as a clinician's typed lines do: one
/// delivery (received before the first course, with its supplier's DEA number), the first
/// vial opened for the first ketamine session and kept between sessions, its rest wasted
/// and witnessed by the nurse at the end of the courses, whole devices for the esketamine
/// doses, and a fresh vial opened for today's session, which its dose names.
#[test]
fn the_demo_chart_keeps_the_stock_its_doses_drew_from() {
    let home = Home::new();
    let demo = home.path().join("demo.db");
    let run = |args: &[&str]| {
        let out = home
            .cmd(args)
            .env("KAPCHART_DB", &demo)
            .env("KAPCHART_CLINICIAN", "Dr. Demo Clinician")
            .env("KAPCHART_PASSPHRASE", "kapchart-demo")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(out.status.success(), "{args:?}: {err}");
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    run(&["demo", "--db", demo.to_str().unwrap(), "--no-tui"]);
    let log: Value = serde_json::from_str(&run(&["stock", "log", "--format", "json"])).unwrap();
    let containers = log["containers"].as_array().unwrap();
    let kinds = |c: &Value| -> Vec<String> {
        c["movements"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["kind"].as_str().unwrap().to_string())
            .collect()
    };
    let vial = |id: &str| {
        containers
            .iter()
            .find(|c| c["id"] == id)
            .unwrap_or_else(|| panic!("{id} in the log: {log}"))
    };
    let first = vial("V1");
    let k = kinds(first);
    assert_eq!(k.first().map(String::as_str), Some("received"), "{k:?}");
    assert_eq!(k.get(1).map(String::as_str), Some("opened"), "{k:?}");
    assert_eq!(
        k.iter().filter(|k| *k == "administered").count(),
        4,
        "{k:?}"
    );
    assert!(k.iter().any(|k| k == "kept"), "{k:?}");
    assert_eq!(k.last().map(String::as_str), Some("wasted"), "{k:?}");
    let waste = first["movements"].as_array().unwrap().last().unwrap();
    assert_eq!(waste["witness"], "Nia Nurse", "{waste}");
    assert_eq!(first["balance_mg"], 0.0, "{first}");
    // Each container's balance is its movements' sum, and no running balance falls below 0.
    for c in containers {
        let mut sum = 0.0;
        for m in c["movements"].as_array().unwrap() {
            sum += m["change_mg"].as_f64().unwrap();
            assert!(sum > -1e-6, "{c}");
        }
        assert!(
            (sum - c["balance_mg"].as_f64().unwrap()).abs() < 1e-6,
            "{c}"
        );
    }
    let devices: usize = containers
        .iter()
        .filter(|c| c["drug"] == "esketamine")
        .map(|c| kinds(c).iter().filter(|k| *k == "administered").count())
        .sum();
    assert_eq!(devices, 5, "two devices for 56 mg and three for 84 mg");

    // Today's open session draws from V2, opened for it; the stock on hand says so.
    let sessions: Value = serde_json::from_str(&run(&["session", "list", "--json"])).unwrap();
    let open = sessions
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["ended"].is_null())
        .unwrap()["id"]
        .to_string();
    let shown: Value = serde_json::from_str(&run(&["session", "show", &open, "--json"])).unwrap();
    let dose = entries(&shown)
        .iter()
        .find(|e| e["kind"] == "dose")
        .unwrap_or_else(|| panic!("today's dose: {shown}"));
    assert_eq!(dose["payload"]["drawn"][0]["container"], 2, "{dose}");
    assert!(
        dose["summary"].as_str().unwrap().contains("from V2"),
        "{dose}"
    );
    assert_eq!(kinds(vial("V2")), ["received", "opened", "administered"]);
    let on_hand = run(&["stock", "show"]);
    assert!(
        on_hand
            .lines()
            .any(|l| l.starts_with("V2 ") && l.contains("open") && l.contains("446 mg")),
        "{on_hand}"
    );
    assert!(run(&["verify"]).starts_with("ok"));
}

/// The demo charts its open session with `@HH:MM` lines from 52 minutes back, each typed
/// 40 seconds after it happened: at every moment of the first hour after midnight (and just
/// before it), some of those lines happened yesterday. It is created, its open session
/// holds every line, and it verifies.
#[test]
fn the_demo_is_created_at_any_minute_around_midnight() {
    use chrono::TimeZone;
    let home = Home::new();
    let zone = chrono::FixedOffset::east_opt(-(3 * 3600 + 1800)).unwrap();
    let day = common::child_now().date_naive();
    let clocks = [
        (23, 59, 50),
        (0, 0, 10),
        (0, 0, 45),
        (0, 13, 0),
        (0, 51, 30),
        (0, 52, 30),
    ];
    for (i, (h, m, sec)) in clocks.into_iter().enumerate() {
        let date = if h == 23 {
            day.pred_opt().unwrap()
        } else {
            day
        };
        let at = zone
            .from_local_datetime(&date.and_hms_opt(h, m, sec).unwrap())
            .unwrap();
        let demo = home.path().join(format!("demo-{i}.db"));
        let run = |args: &[&str]| {
            let out = home
                .cmd(args)
                .env("TZ", "NST3:30")
                .env("KAPCHART_DB", &demo)
                .env("KAPCHART_CLINICIAN", "Dr. Demo Clinician")
                .env("KAPCHART_PASSPHRASE", "kapchart-demo")
                .envs([common::clock_at(&at)])
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&out.stderr).to_string();
            assert!(out.status.success(), "{at}: {args:?}: {err}");
            String::from_utf8_lossy(&out.stdout).to_string()
        };
        let db = demo.to_str().unwrap();
        assert!(
            run(&["demo", "--db", db, "--no-tui"]).contains("created"),
            "{at}"
        );
        let open: Value = serde_json::from_str(&run(&["session", "list", "--json"])).unwrap();
        let open = open
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["ended"].is_null())
            .unwrap_or_else(|| panic!("{at}: the demo has an open session"))["id"]
            .to_string();
        let shown: Value =
            serde_json::from_str(&run(&["session", "show", &open, "--json"])).unwrap();
        let times: Vec<chrono::DateTime<chrono::FixedOffset>> = entries(&shown)
            .iter()
            .filter_map(|e| chrono::DateTime::parse_from_rfc3339(e["event_time"].as_str()?).ok())
            .collect();
        assert!(times.len() >= 8, "{at}: {times:?}");
        let first = times.iter().min().unwrap();
        assert!(
            (*first - (at - chrono::Duration::minutes(52)))
                .num_seconds()
                .abs()
                <= 120,
            "{at}: the open session began 52 minutes back, not {first}"
        );
        assert!(
            times.iter().all(|t| *t <= at),
            "{at}: nothing in the future"
        );
        // The vial opened for the open session, across midnight, holds what its dose left.
        let on_hand = run(&["stock", "show"]);
        assert!(
            on_hand
                .lines()
                .any(|l| l.starts_with("V2 ") && l.contains("open") && l.contains("446 mg")),
            "{at}: {on_hand}"
        );
        assert!(run(&["verify"]).starts_with("ok"), "{at}");
    }
}

#[test]
fn a_patient_already_in_the_chart_is_not_added_twice_unless_meant() {
    let home = Home::new();
    home.ok(&["init", "--clinician", "Dr. Test"]);
    let add = |name: &str, mrn: &str, extra: Option<&str>| {
        let mut args = vec![
            "patient",
            "add",
            "--name",
            name,
            "--dob",
            "1980-05-17",
            "--mrn",
            mrn,
        ];
        args.extend(extra);
        home.run(&args)
    };
    let first = add("Ada Byron", "M-42", None);
    assert!(first.status.success());
    let first = String::from_utf8_lossy(&first.stdout).trim().to_string();
    // Same name (any case), date of birth and MRN: refused, naming the patient and the way.
    let refused = add("ADA BYRON", "M-42", None);
    assert_eq!(refused.status.code(), Some(1));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains(&format!(
            "patient {first} (Ada Byron, born 1980-05-17, MRN M-42)"
        )) && err.contains("nothing was written")
            && err.contains("--second-record"),
        "{err}"
    );
    assert_eq!(home.ok(&["patient", "list"]).lines().count(), 1);
    // Another MRN is another record.
    assert!(add("Ada Byron", "M-43", None).status.success());
    // Said to be meant: a second record.
    let second = add("Ada Byron", "M-42", Some("--second-record"));
    assert!(second.status.success());
    assert_ne!(String::from_utf8_lossy(&second.stdout).trim(), first);
    assert_eq!(home.ok(&["patient", "list"]).lines().count(), 3);
}

#[test]
fn a_second_dosing_session_does_not_open_while_one_is_open_unless_meant() {
    let home = Home::new();
    let (patient, open) = home.with_dosing_session();
    let start = [
        "session",
        "start",
        "--patient",
        &patient,
        "--kind",
        "dosing",
    ];
    let err = home.fails(&start, 1);
    assert!(
        err.contains(&format!("already has dosing session {open} open"))
            && err.contains(&format!("kapchart session end {open}"))
            && err.contains("--second-dosing-session"),
        "{err}"
    );
    // Other kinds of session may open beside it.
    home.ok(&[
        "session",
        "start",
        "--patient",
        &patient,
        "--kind",
        "follow-up",
    ]);
    let mut meant = start.to_vec();
    meant.push("--second-dosing-session");
    let second = home.ok(&meant);
    let reason = "opened to test the refusal; no dose given";
    home.ok(&["session", "end", &second, "--reason", reason]);
    home.ok(&["session", "end", &open, "--reason", reason]);
    // Once ended, the next dosing session opens.
    home.ok(&start);
}

#[test]
fn doses_beyond_their_ceiling_are_refused_and_above_the_alert_level_flagged() {
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    for (line, named) in [
        (
            "dose ketamine 10000mg IM",
            "ketamine 10000 mg IM is above the 1500 mg IM ceiling",
        ),
        (
            "dose ketamine 10mg/kg IV",
            "ketamine 10 mg/kg IV is above the 5 mg/kg IV ceiling",
        ),
        (
            "dose midazolam 500mg IV",
            "midazolam 500 mg IV is above the 50 mg IV ceiling",
        ),
    ] {
        let err = home.fails(&["log", "--session", &session, line], 1);
        assert!(err.contains(named) && err.contains("typo"), "{line}: {err}");
    }
    assert!(
        entries(&home.show_json(&session)).is_empty(),
        "nothing written"
    );

    // Above the alert level, below the ceiling: charted, flagged, and said.
    let out = home.run(&[
        "log",
        "--session",
        &session,
        "dose ketamine 1.2mg/kg IV over 40m",
    ]);
    assert!(out.status.success());
    home.ok(&["log", "--session", &session, "dose midazolam 2mg IV"]);
    let json = home.show_json(&session);
    let e = entries(&json);
    assert_eq!(flag_codes(&e[0]), ["dose-high"]);
    assert_eq!(
        e[0]["flags"][0]["text"],
        "ketamine 1.2 mg/kg IV above the alert level of 1 mg/kg IV"
    );
    assert!(
        flag_codes(&e[1]).is_empty(),
        "2 mg midazolam is within its level"
    );
    // The note draft lists it with the session's alerts.
    let draft = home.ok(&["note", "draft", "--session", &session]);
    assert!(
        draft.contains("ketamine 1.2 mg/kg IV above the alert level of 1 mg/kg IV given at"),
        "{draft}"
    );

    // A clinic that means higher doses sets its own levels.
    let config = home.path().join("xdg-config").join("kapchart");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        config.join("config.toml"),
        "[alerts.doses.midazolam.IV]\nrefuse_above_mg = 600\nalert_above_mg = 400\n",
    )
    .unwrap();
    home.ok(&["log", "--session", &session, "dose midazolam 500mg IV"]);
}

/// Runs kapchart with `input` (any bytes, not only text) on stdin.
fn run_with_bytes(home: &Home, args: &[&str], input: &[u8]) -> std::process::Output {
    use std::io::Write;
    let mut child = home
        .cmd(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn kapchart");
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

/// A line of `log -` that is not UTF-8 is refused by its number and stops the run (exit 1);
/// the lines before it are charted, the ones after it are not, and the message says so.
#[test]
fn stdin_mode_stops_at_a_line_that_is_not_text_and_names_it() {
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    let input = b"hr 70\nobs caf\xe9 au lait\nhr 72\n";
    let out = run_with_bytes(&home, &["log", "--session", &session, "-"], input);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 2: not UTF-8 text"), "{err}");
    assert!(err.contains("stopped at line 2"), "{err}");
    assert!(!err.contains("stream did not contain"), "{err}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        stdout.lines().count(),
        1,
        "only line 1 was charted: {stdout}"
    );
    let json = home.show_json(&session);
    let stored: Vec<&str> = entries(&json)
        .iter()
        .map(|e| e["summary"].as_str().unwrap())
        .collect();
    assert_eq!(stored, ["HR 70"]);
}

/// Drafts saved from a script: an empty file, an empty pipe or a file that is not text is
/// refused with the reason, and the draft (and every earlier draft) stays as it was.
#[test]
fn an_empty_or_unreadable_note_save_is_refused_and_the_draft_kept() {
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    home.ok(&["log", "--session", &session, "obs settled"]);
    let note: Value =
        serde_json::from_str(&home.ok(&["note", "draft", "--session", &session, "--json"]))
            .unwrap();
    let id = note["id"].as_i64().unwrap().to_string();
    let text = home.path().join("note.md");
    std::fs::write(&text, "Assessment: settled.\n").unwrap();
    home.ok(&["note", "save", &id, text.to_str().unwrap()]);
    let drafts = || -> i64 {
        let conn =
            kapchart::store::Chart::open_raw_connection(&home.chart(), "", PASSPHRASE).unwrap();
        conn.query_row("SELECT count(*) FROM note_drafts", [], |r| r.get(0))
            .unwrap()
    };
    let saved = drafts();
    let blank = home.path().join("blank.md");
    std::fs::write(&blank, " \n\n").unwrap();
    let latin1 = home.path().join("latin1.md");
    std::fs::write(&latin1, b"caf\xe9\n").unwrap();
    for (args, input, says) in [
        (
            vec!["note", "save", &id, "/dev/null"],
            &b""[..],
            "/dev/null holds no text",
        ),
        (
            vec!["note", "save", &id, blank.to_str().unwrap()],
            b"",
            "holds no text",
        ),
        (vec!["note", "save", &id, "-"], b"", "stdin holds no text"),
        (
            vec!["note", "save", &id, latin1.to_str().unwrap()],
            b"",
            "is not UTF-8 text",
        ),
        (
            vec!["note", "save", &id, "-"],
            b"\xff\xfe",
            "stdin is not UTF-8 text",
        ),
    ] {
        let out = run_with_bytes(&home, &args, input);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(err.contains("was not changed"), "{err}");
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    }
    assert_eq!(drafts(), saved, "no draft was added");
    let shown: Value = serde_json::from_str(&home.ok(&["note", "show", &id, "--json"])).unwrap();
    assert_eq!(shown["text"], "Assessment: settled.\n");
}

/// `kapchart ack` goes by the chart's one rule for acknowledgements: an entry with nothing
/// waiting is refused as nothing to acknowledge, a note with no words (only a time) is
/// refused asking what was decided, and neither writes anything.
#[test]
fn ack_refuses_nothing_to_acknowledge_and_a_note_without_words_writing_nothing() {
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    let calm = home.ok(&["log", "--session", &session, "@-20m hr 74"]);
    let high = home.ok(&["log", "--session", &session, "@-10m bp 172/108"]);
    let entries = |home: &Home| {
        home.show_json(&session)["entries"]
            .as_array()
            .unwrap()
            .len()
    };
    let before = entries(&home);
    let err = home.fails(&["ack", &calm, "--note", "seen"], 1);
    assert!(
        err.contains(&format!(
            "entry {calm} has no alert waiting for acknowledgement"
        )),
        "{err}"
    );
    for empty in ["", "   ", "@-3m", "@-3m  "] {
        let err = home.fails(&["ack", &high, "--note", empty], 1);
        assert!(err.contains("says what was decided"), "{empty:?}: {err}");
        assert!(err.contains("--note"), "the CLI names its option: {err}");
    }
    assert_eq!(entries(&home), before, "nothing was written");
    home.ok(&["ack", &high, "--note", "rechecked 150/92; proceeding"]);
    assert_eq!(entries(&home), before + 1);
}
