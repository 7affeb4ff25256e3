//! Hostile input through the real binary: control characters refused at every input with
//! the field named, escaped on output as a second guard; size limits refused with the limit
//! named, before the input is read whole.

mod common;

use common::{Home, PASSPHRASE};
use serde_json::Value;
use std::io::Write;
use std::process::Stdio;

const ESC_TITLE: &str = "\u{1b}]0;owned\u{7}";

fn no_escape_bytes(bytes: &[u8]) -> bool {
    !bytes.contains(&0x1b) && !bytes.contains(&0x07)
}

#[test]
fn control_characters_are_refused_at_every_input_with_the_field_named() {
    let home = Home::new();
    let (patient, session) = home.with_dosing_session();
    let entry = home.ok(&["log", "--session", &session, "bp 120/80"]);
    let name = format!("Ann{ESC_TITLE}");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["patient", "add", "--name", &name, "--dob", "1980-01-01"],
            "A name may not contain an escape character (U+001B)",
        ),
        (
            vec![
                "patient",
                "add",
                "--name",
                "Ann",
                "--dob",
                "1980-01-01",
                "--mrn",
                "12\u{7}",
            ],
            "An MRN may not contain a bell character (U+0007)",
        ),
        (
            vec![
                "patient",
                "update",
                &patient,
                "--emergency-contact",
                "Bob \u{1b}[2J",
            ],
            "A contact may not contain an escape character",
        ),
        (
            vec![
                "course",
                "start",
                "--patient",
                &patient,
                "--goal",
                "sleep\u{202E}",
            ],
            "A goal may not contain a text-direction override",
        ),
        (
            vec![
                "session",
                "start",
                "--patient",
                &patient,
                "--kind",
                "preparation",
                "--intention",
                "be\u{1b}[8m",
            ],
            "An intention may not contain an escape character",
        ),
        (
            vec!["amend", &entry, "--reason", "typo\u{1b}[1A", "bp 122/80"],
            "A reason may not contain an escape character",
        ),
        (
            vec!["log", "--session", &session, "obs calm \u{1b}[2J"],
            "control character",
        ),
    ];
    for (args, expected) in cases {
        let err = home.fails(&args, 1);
        assert!(err.contains(expected), "{args:?}: {err}");
        assert!(
            no_escape_bytes(err.as_bytes()),
            "the message itself is escaped: {err:?}"
        );
    }
    // Nothing of it reached the chart.
    let patients = home.ok(&["patient", "list", "--json"]);
    assert!(
        !patients.contains("\\u001b") && !patients.contains("Ann"),
        "{patients}"
    );
    let shown = home.show_json(&session);
    assert_eq!(
        shown["entries"].as_array().map(Vec::len),
        Some(1),
        "{shown}"
    );
    assert!(home.ok(&["verify"]).starts_with("ok"));
}

/// Every text-direction override and isolate (U+202A-202E, U+2066-2069) and the C1 controls
/// a terminal acts on (CSI U+009B, NEL U+0085, OSC U+009D) are refused where a line, a name
/// and a reason enter, named by their code, and nothing is written.
#[test]
fn direction_overrides_isolates_and_c1_controls_are_refused_by_code() {
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    let entry = home.ok(&["log", "--session", &session, "bp 120/80"]);
    let directions = ('\u{202A}'..='\u{202E}').chain('\u{2066}'..='\u{2069}');
    let c1 = ['\u{9B}', '\u{85}', '\u{9D}'];
    for c in directions.clone().chain(c1) {
        let code = format!("U+{:04X}", u32::from(c));
        let what = if directions.clone().any(|d| d == c) {
            "a text-direction override"
        } else {
            "a control character"
        };
        let line = format!("obs calm{c}ly");
        let name = format!("Ann{c} Lee");
        let reason = format!("ty{c}po");
        // The line is refused by the grammar (naming the character as the bar shows it, or
        // by its code), the name and the reason by the text rules (by name and code).
        let err = home.fails(&["log", "--session", &session, &line], 1);
        let shown = format!("\\u{{{:x}}}", u32::from(c));
        assert!(
            ["control character", "text-direction override", "line break"]
                .iter()
                .any(|w| err.contains(w))
                && (err.contains(&code) || err.contains(&shown)),
            "{code} in a line: {err}"
        );
        let cases: [(Vec<&str>, &str); 2] = [
            (
                vec!["patient", "add", "--name", &name, "--dob", "1980-01-01"],
                "A name may not contain",
            ),
            (
                vec!["amend", &entry, "--reason", &reason, "bp 122/80"],
                "A reason may not contain",
            ),
        ];
        for (args, expected) in cases {
            let err = home.fails(&args, 1);
            assert!(err.contains(expected), "{code} {args:?}: {err}");
            assert!(err.contains(&code), "{code} named: {err}");
            assert!(err.contains(what), "{code}: {err}");
        }
    }
    assert_eq!(
        home.show_json(&session)["entries"].as_array().map(Vec::len),
        Some(1),
        "nothing written"
    );
    assert!(!home.ok(&["patient", "list"]).contains("Ann"));
}

#[test]
fn note_text_and_addenda_refuse_control_characters_and_keep_the_draft() {
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    let out = home.ok(&["note", "draft", "--session", &session, "--json"]);
    let note: Value = serde_json::from_str(&out).unwrap();
    let id = note["id"].to_string();
    let draft = note["text"].as_str().unwrap().to_string();
    let file = home.path().join("note.md");
    std::fs::write(&file, format!("{draft}\nAssessment: fine.\u{1b}[2J\n")).unwrap();
    let err = home.fails(&["note", "save", &id, file.to_str().unwrap()], 1);
    assert!(
        err.contains("A note may not contain an escape character"),
        "{err}"
    );
    assert!(err.contains("of line"), "names the line: {err}");
    let shown: Value = serde_json::from_str(&home.ok(&["note", "show", &id, "--json"])).unwrap();
    assert_eq!(
        shown["text"].as_str().unwrap(),
        draft,
        "the draft is as it was"
    );
    // Tabs and line breaks are fine in a note (here a complete one, so that it can be signed).
    let complete: Vec<String> = draft
        .lines()
        .map(|l| match l.trim_end() {
            "Assessment:" => "Assessment:\tsteady".to_string(),
            "Plan:" => "Plan:\t- rest".to_string(),
            t if t.starts_with("Patient's account") => format!("{t}\tslept well"),
            _ => l.to_string(),
        })
        .collect();
    std::fs::write(&file, complete.join("\n") + "\n").unwrap();
    home.ok(&["note", "save", &id, file.to_str().unwrap()]);
    home.ok(&["note", "sign", &id, "--reason", "session open"]);
    let err = home.fails(&["note", "addend", &id, "called\u{7} back"], 1);
    assert!(
        err.contains("An addendum may not contain a bell character"),
        "{err}"
    );
}

#[test]
fn a_huge_log_line_is_refused_with_its_limit_before_it_is_read_whole() {
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    let mut child = home
        .cmd(&["log", "--session", &session, "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || {
        let mut written = 0usize;
        if stdin.write_all(b"hr 70\nobs ").is_err() {
            return written;
        }
        // Up to 100 MB of one line, then a line that must never be charted.
        let chunk = vec![b'x'; 1 << 20];
        for _ in 0..100 {
            match stdin.write_all(&chunk) {
                Ok(()) => written += chunk.len(),
                Err(_) => return written,
            }
        }
        let _ = stdin.write_all(b"\nhr 99\n");
        written
    });
    let out = child.wait_with_output().unwrap();
    let written = feeder.join().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("line 2: A quick-entry line is limited to 4,000 characters"),
        "{stderr}"
    );
    assert!(stderr.contains("stopped at line 2"), "{stderr}");
    assert!(
        written < 10 << 20,
        "kapchart stopped reading soon after the limit ({written} bytes were taken)"
    );
    let printed = String::from_utf8_lossy(&out.stdout);
    assert_eq!(printed.lines().count(), 1, "only the first line: {printed}");
    let shown = home.show_json(&session);
    let entries = shown["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{shown}");
    // One line given as an argument is held to the same limit.
    let long = format!("obs {}", "y".repeat(5000));
    let err = home.fails(&["log", "--session", &session, &long], 1);
    assert!(
        err.contains("limited to 4,000 characters; this one has 5,004"),
        "{err}"
    );
}

#[test]
fn a_huge_note_file_is_refused_with_its_limit_and_the_draft_kept() {
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    let out = home.ok(&["note", "draft", "--session", &session, "--json"]);
    let note: Value = serde_json::from_str(&out).unwrap();
    let id = note["id"].to_string();
    let file = home.path().join("huge.md");
    std::fs::write(&file, "z".repeat(5 << 20)).unwrap();
    let err = home.fails(&["note", "save", &id, file.to_str().unwrap()], 1);
    assert!(
        err.contains("A note is limited to 200,000 characters"),
        "{err}"
    );
    assert!(err.contains("nothing was saved"), "{err}");
    let shown: Value = serde_json::from_str(&home.ok(&["note", "show", &id, "--json"])).unwrap();
    assert_eq!(shown["text"], note["text"]);
    let err = home.fails(
        &[
            "patient",
            "add",
            "--name",
            &"N".repeat(201),
            "--dob",
            "1980-01-01",
        ],
        1,
    );
    assert!(
        err.contains("A name is limited to 200 characters; this one has 201"),
        "{err}"
    );
}

/// A control character that reached the chart anyway (written behind kapchart's back, or by
/// an older kapchart) is shown as its escape by the command line and the Markdown export.
#[test]
fn control_characters_already_in_a_chart_are_escaped_on_output() {
    let home = Home::new();
    let (patient, session) = home.with_dosing_session();
    {
        let conn =
            kapchart::store::Chart::open_raw_connection(&home.chart(), "", PASSPHRASE).unwrap();
        conn.execute(
            "INSERT INTO entries (session_id, kind, payload, event_at, event_offset, recorded_at, recorded_offset, author_id)
             SELECT ?1, 'observation', ?2, started_at + 60000, 0, started_at + 60000, 0, 1 FROM sessions WHERE id = ?1",
            (
                session.parse::<i64>().unwrap(),
                serde_json::json!({"kind": "observation", "text": format!("calm{ESC_TITLE}\u{1b}[2J")})
                    .to_string(),
            ),
        )
        .unwrap();
    }
    let out = home.run(&["session", "show", &session]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        no_escape_bytes(&out.stdout),
        "{:?}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("calm\\u{1b}]0;owned\\u{7}"));
    let md = home.path().join("report.md");
    home.ok(&[
        "export",
        "--patient",
        &patient,
        "--format",
        "md",
        "-o",
        md.to_str().unwrap(),
    ]);
    let bytes = std::fs::read(&md).unwrap();
    assert!(no_escape_bytes(&bytes));
    assert!(String::from_utf8_lossy(&bytes).contains("\\u{1b}"));
    let out = home.run(&["export", "--patient", &patient, "--format", "md"]);
    assert!(no_escape_bytes(&out.stdout));
    let html = home.path().join("report.html");
    home.ok(&[
        "export",
        "--patient",
        &patient,
        "--format",
        "html",
        "-o",
        html.to_str().unwrap(),
    ]);
    let bytes = std::fs::read(&html).unwrap();
    assert!(no_escape_bytes(&bytes));
    assert!(String::from_utf8_lossy(&bytes).contains("calm\\u{1b}"));
}
