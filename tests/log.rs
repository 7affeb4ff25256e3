//! "The log holds event names and counts only, never patient data": a canary text goes
//! into every field a clinician types (patient name, MRN, intention, observation, reasons,
//! note, addendum, export, backup, and a line typed in the chart screen), then the log file
//! is read: it exists, every line is a time, an event name and `key=number` fields, and the
//! canary is nowhere in it.

mod common;

use common::Home;
use common::pty::{Key, Tty};
use std::time::Duration;

/// Generous: a debug build, and opening a chart derives the SQLCipher key.
const TIMEOUT: Duration = Duration::from_secs(20);

const CANARY: &str = "CANARYwren4471";

/// Whether `line` is `TIME EVENT [key=integer]...`, with nothing else in it.
fn is_event_line(line: &str) -> bool {
    let mut words = line.split(' ');
    let time_ok = words
        .next()
        .is_some_and(|t| chrono::DateTime::parse_from_rfc3339(t).is_ok() && t.ends_with('Z'));
    let event_ok = words.next().is_some_and(|e| {
        !e.is_empty()
            && e.chars()
                .all(|c| c.is_ascii_lowercase() || c == '.' || c == '_')
    });
    let fields_ok = words.all(|f| {
        f.split_once('=').is_some_and(|(k, v)| {
            !k.is_empty()
                && k.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                && v.parse::<i64>().is_ok()
        })
    });
    time_ok && event_ok && fields_ok
}

#[test]
fn the_log_holds_event_names_and_counts_never_what_was_charted() {
    let home = Home::new();
    home.ok(&["init", "--clinician", &format!("Dr. {CANARY}")]);
    let patient = home.ok(&[
        "patient",
        "add",
        "--name",
        &format!("{CANARY} Patient"),
        "--dob",
        "1980-05-17",
        "--mrn",
        CANARY,
        "--weight",
        "70",
    ]);
    let session = home.ok(&[
        "session",
        "start",
        "--patient",
        &patient,
        "--kind",
        "dosing",
        "--intention",
        CANARY,
    ]);
    let first = home.ok(&[
        "log",
        "--session",
        &session,
        &format!("bp 128/82 obs \"{CANARY}\" #{CANARY}"),
    ]);
    let observation = first.split_whitespace().nth(1).unwrap().to_string();
    home.ok(&[
        "amend",
        &observation,
        "--reason",
        CANARY,
        &format!("obs {CANARY} amended"),
    ]);
    let out = home.run_with_stdin(
        &["log", "--session", &session, "-"],
        &format!("obs {CANARY}\nbp {CANARY}\n"),
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "the bad second line fails the run"
    );
    let note: serde_json::Value =
        serde_json::from_str(&home.ok(&["note", "draft", "--session", &session, "--json"]))
            .unwrap();
    let text = home.path().join("note.md");
    // The drafted note with the clinician's own sections written (with the canary), so that
    // it is complete and can be signed.
    let draft = note["text"].as_str().unwrap().to_string();
    let note = note["id"].to_string();
    let written: Vec<String> = draft
        .lines()
        .map(|l| match l.trim_end() {
            "Assessment:" | "Plan:" => format!("{l} {CANARY}"),
            t if t.starts_with("Patient's account") => format!("{t} {CANARY}"),
            _ => l.to_string(),
        })
        .collect();
    std::fs::write(&text, written.join("\n") + "\n").unwrap();
    home.ok(&["note", "save", &note, text.to_str().unwrap()]);
    home.ok(&["note", "sign", &note, "--reason", CANARY]);
    home.ok(&["note", "addend", &note, CANARY]);
    let export = home.ok(&["export", "--session", &session, "--format", "md"]);
    assert!(
        export.contains(CANARY),
        "the export itself holds the canary"
    );
    let backup = home.path().join("backup.db");
    home.ok(&["backup", "--to", backup.to_str().unwrap()]);

    // And a line typed in the chart screen.
    let mut tty = Tty::spawn(&home.cmd(&["chart", "--session", &session]), 100, 30);
    tty.wait_for("Chart:", TIMEOUT);
    tty.send(&format!("obs {CANARY} typed"));
    tty.key(Key::Enter);
    tty.wait_for("charted 1 entry", TIMEOUT);
    tty.key(Key::CtrlC);
    tty.wait_exit(TIMEOUT);
    let shown = home.ok(&["session", "show", &session]);
    assert!(shown.contains(&format!("{CANARY} typed")), "{shown}");

    let log_path = home.path().join("xdg-state/kapchart/kapchart.log");
    let log = std::fs::read_to_string(&log_path)
        .unwrap_or_else(|e| panic!("no log at {}: {e}", log_path.display()));
    assert!(
        log.lines().count() >= 10,
        "the commands above were logged:\n{log}"
    );
    for line in log.lines() {
        assert!(is_event_line(line), "not an event line: {line:?}");
    }
    assert!(!log.contains(CANARY), "the log holds the canary:\n{log}");
    // Nor the canary's lowercase form (tags are stored lowercased).
    assert!(!log.to_lowercase().contains(&CANARY.to_lowercase()));
}

#[test]
fn an_event_line_is_recognised_and_anything_else_is_not() {
    assert!(is_event_line(
        "2026-11-28T07:57:49.732Z entries.commit count=1"
    ));
    assert!(is_event_line("2026-11-28T07:57:49.144Z chart.create"));
    assert!(!is_event_line(
        "2026-11-28T07:57:49.732Z entries.commit text=hello"
    ));
    assert!(!is_event_line("2026-11-28T07:57:49.732Z obs CANARY"));
    assert!(!is_event_line("entries.commit count=1"));
}
