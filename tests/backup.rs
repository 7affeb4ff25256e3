//! Backups and restores through the built binary.

mod common;

use common::Home;
use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;

fn ids_in(home: &Home, session: &str, db: &std::path::Path) -> Vec<i64> {
    let out = home
        .cmd(&["session", "show", session, "--json"])
        .env("KAPCHART_DB", db)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect()
}

#[test]
fn a_backup_taken_during_writes_restores_every_committed_entry() {
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    let mut child = home
        .cmd(&["log", "--session", &session, "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut committed = Vec::new();
    let mut line = String::new();
    for i in 0..40 {
        writeln!(stdin, "hr {}", 60 + i % 40).unwrap();
        stdin.flush().unwrap();
        line.clear();
        stdout.read_line(&mut line).unwrap();
        committed.push(line.trim().parse::<i64>().unwrap());
    }
    // Keep writing while the backup runs.
    let writer = std::thread::spawn(move || {
        for i in 0..200 {
            if writeln!(stdin, "obs still charting {i}").is_err() {
                break;
            }
        }
        drop(stdin);
    });
    let backup = home.path().join("backup.db");
    let out = home.ok(&["backup", "--to", backup.to_str().unwrap()]);
    assert!(out.contains("verified"), "{out}");
    writer.join().unwrap();
    child.wait().unwrap();

    let restored = home.path().join("restored").join("chart.db");
    let out = home
        .cmd(&["restore", backup.to_str().unwrap()])
        .env("KAPCHART_DB", &restored)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ids = ids_in(&home, &session, &restored);
    for id in &committed {
        assert!(
            ids.contains(id),
            "entry {id} committed before the backup is in the restore"
        );
    }
    let verify = home
        .cmd(&["verify"])
        .env("KAPCHART_DB", &restored)
        .output()
        .unwrap();
    assert!(verify.status.success());
}

#[test]
fn backup_never_overwrites_and_restore_keeps_the_replaced_chart() {
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    home.ok(&["log", "--session", &session, "hr 70"]);
    let backup = home.path().join("b.db");
    home.ok(&["backup", "--to", backup.to_str().unwrap()]);
    let before = std::fs::read(&backup).unwrap();
    let err = home.fails(&["backup", "--to", backup.to_str().unwrap()], 1);
    assert!(err.contains("will not overwrite"), "{err}");
    assert_eq!(std::fs::read(&backup).unwrap(), before);

    home.ok(&["log", "--session", &session, "hr 72"]);
    let err = home.fails(&["restore", backup.to_str().unwrap()], 1);
    assert!(
        err.contains("already exists") && err.contains("--replace"),
        "{err}"
    );
    let out = home.ok(&["restore", backup.to_str().unwrap(), "--replace"]);
    assert!(out.contains("kept at"), "{out}");
    let kept: Vec<_> = std::fs::read_dir(home.chart().parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".replaced-"))
        .collect();
    assert!(!kept.is_empty(), "the replaced chart is kept");
    assert_eq!(
        ids_in(&home, &session, &home.chart()).len(),
        1,
        "back to the backup's one entry"
    );
}

#[test]
fn a_corrupted_backup_is_refused_and_the_chart_untouched() {
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    for i in 0..30 {
        home.ok(&[
            "log",
            "--session",
            &session,
            &format!("obs line {i} with some text to fill pages"),
        ]);
    }
    let backup = home.path().join("b.db");
    home.ok(&["backup", "--to", backup.to_str().unwrap()]);
    let mut bytes = std::fs::read(&backup).unwrap();
    let at = bytes.len() / 2;
    for b in &mut bytes[at..at + 16] {
        *b ^= 0xff;
    }
    std::fs::write(&backup, &bytes).unwrap();
    let chart_before = std::fs::read(home.chart()).unwrap();
    let err = home.fails(&["restore", backup.to_str().unwrap(), "--replace"], 1);
    assert!(err.contains("restore refused"), "{err}");
    assert_eq!(
        std::fs::read(home.chart()).unwrap(),
        chart_before,
        "the chart is untouched"
    );
    assert_eq!(
        std::fs::read(&backup).unwrap(),
        bytes,
        "the corrupt backup is left as it is"
    );
}

#[test]
fn export_writes_each_format_privately_and_never_overwrites() {
    let home = Home::new();
    let (patient, session) = home.with_dosing_session();
    home.ok(&["log", "--session", &session, "bp 128/82 hr 74 spo2 97"]);
    for (format, marker) in [
        ("fhir", "\"resourceType\": \"Bundle\""),
        ("html", "<html"),
        ("md", "# "),
        ("csv", "session,event_time"),
    ] {
        let out = home.ok(&["export", "--session", &session, "--format", format]);
        assert!(out.contains(marker), "{format}: {out}");
    }
    let file = home.path().join("course.html");
    home.ok(&[
        "export",
        "--patient",
        &patient,
        "--format",
        "html",
        "-o",
        file.to_str().unwrap(),
    ]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let err = home.fails(
        &[
            "export",
            "--patient",
            &patient,
            "--format",
            "html",
            "-o",
            file.to_str().unwrap(),
        ],
        1,
    );
    assert!(err.contains("will not overwrite"), "{err}");
    home.fails(&["export", "--format", "csv"], 2);
    home.fails(&["export", "--session", &session, "--format", "pdf"], 2);
}
