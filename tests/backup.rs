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

fn kept_charts(home: &Home) -> Vec<std::path::PathBuf> {
    let mut kept: Vec<_> = std::fs::read_dir(home.chart().parent().unwrap())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            name.contains(".replaced-")
                && !name.ends_with(".lock")
                && !name.ends_with(".keyring")
                && !name.ends_with("-wal")
                && !name.ends_with("-shm")
        })
        .collect();
    kept.sort();
    kept
}

/// Two restores within one second, and a name for the replaced chart that is already
/// taken: the replaced chart gets a name of its own every time, nothing is overwritten, and
/// every chart that was replaced can still be opened with its entries.
#[test]
fn restores_in_the_same_second_never_overwrite_a_kept_chart() {
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    let backup = home.path().join("b.db");
    home.ok(&["backup", "--to", backup.to_str().unwrap()]);
    // Whatever second the restores land in, its `.replaced-STAMP` name is taken already.
    let now = common::child_now();
    let mut decoys = Vec::new();
    for s in 0..120 {
        let stamp = (now + chrono::Duration::seconds(s)).format("%Y%m%d-%H%M%S");
        let path = home
            .chart()
            .with_file_name(format!("chart.db.replaced-{stamp}"));
        std::fs::write(&path, format!("not a chart {s}")).unwrap();
        decoys.push(path);
    }
    let first = home.ok(&["log", "--session", &session, "obs first chart"]);
    home.ok(&["restore", backup.to_str().unwrap(), "--replace"]);
    let second = home.ok(&["log", "--session", &session, "obs second chart"]);
    home.ok(&["restore", backup.to_str().unwrap(), "--replace"]);
    for (s, path) in decoys.iter().enumerate() {
        assert_eq!(
            std::fs::read_to_string(path).unwrap(),
            format!("not a chart {s}"),
            "{} untouched",
            path.display()
        );
    }
    let kept: Vec<_> = kept_charts(&home)
        .into_iter()
        .filter(|p| !decoys.contains(p))
        .collect();
    assert_eq!(kept.len(), 2, "{kept:?}");
    for k in &kept {
        assert!(
            k.to_string_lossy().ends_with("-2") || k.to_string_lossy().ends_with("-3"),
            "a numbered name beside the taken one: {}",
            k.display()
        );
    }
    let mut found: Vec<i64> = kept
        .iter()
        .flat_map(|k| ids_in(&home, &session, k))
        .collect();
    found.sort();
    assert_eq!(
        found,
        vec![first.parse::<i64>().unwrap(), second.parse().unwrap()],
        "each replaced chart is kept whole"
    );
    assert!(ids_in(&home, &session, &home.chart()).is_empty());
}

/// A backup from an older kapchart, with loose mode bits: the restore updates a copy, never
/// the backup (its bytes stay the same, and nothing is created beside it), and the
/// restored chart is private (0600) whatever the backup's mode was.
#[cfg(unix)]
#[test]
fn restore_never_writes_the_backup_and_the_chart_is_private() {
    use kapchart::store::schema;
    use std::os::unix::fs::PermissionsExt;
    let home = Home::new();
    let dir = home.path().join("old");
    std::fs::create_dir_all(&dir).unwrap();
    let backup = dir.join("v1.db");
    {
        let conn = rusqlite::Connection::open(&backup).unwrap();
        conn.pragma_update(None, "key", common::PASSPHRASE).unwrap();
        conn.pragma_update(None, "application_id", schema::APPLICATION_ID)
            .unwrap();
        conn.execute_batch(schema::MIGRATIONS[0]).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
    }
    std::fs::set_permissions(&backup, std::fs::Permissions::from_mode(0o666)).unwrap();
    let before = std::fs::read(&backup).unwrap();
    let out = home.ok(&["restore", backup.to_str().unwrap()]);
    assert!(out.contains("restored"), "{out}");
    assert_eq!(std::fs::read(&backup).unwrap(), before, "backup unchanged");
    let beside: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(beside, ["v1.db"], "nothing created beside the backup");
    let mode = std::fs::metadata(home.chart())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "the chart is private");
    let verify = home.ok(&["verify"]);
    assert!(
        verify.contains(&format!("schema v{}", schema::LATEST)),
        "the copy was updated: {verify}"
    );
}

/// A backup path that does not exist is named as the backup, not as a missing chart.
#[test]
fn restoring_a_missing_backup_says_which_file_is_missing() {
    let home = Home::new();
    let missing = home.path().join("missing.db");
    let err = home.fails(&["restore", missing.to_str().unwrap()], 1);
    assert!(
        err.contains(&format!("no backup at {}", missing.display())),
        "{err}"
    );
    assert!(!err.contains("kapchart init"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(!home.chart().exists());
}
