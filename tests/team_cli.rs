//! A clinic's team through the `kapchart` binary: clinicians added, listed and removed,
//! signing in with KAPCHART_CLINICIAN, the upgrade of a chart from before keyrings, and
//! backups that carry their keyring.

mod common;

use common::{Home, PASSPHRASE, file_bytes};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;

const NURSE_PASS: &str = "tidal meadow lantern quartz";
const THERAPIST_PASS: &str = "violet harbor compass ember";

fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Runs kapchart signed in as `who` with `pass`.
fn as_who(home: &Home, who: &str, pass: &str, args: &[&str]) -> Output {
    home.cmd(args)
        .env("KAPCHART_CLINICIAN", who)
        .env("KAPCHART_PASSPHRASE", pass)
        .output()
        .unwrap()
}

fn ok_as(home: &Home, who: &str, pass: &str, args: &[&str]) -> String {
    let out = as_who(home, who, pass, args);
    assert!(
        out.status.success(),
        "kapchart {args:?} as {who}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn add(home: &Home, name: &str, role: &str, credentials: Option<&str>, pass: &str) -> String {
    let mut args = vec!["clinician", "add", "--name", name, "--role", role];
    if let Some(c) = credentials {
        args.extend(["--credentials", c]);
    }
    let out = home
        .cmd(&args)
        .env("KAPCHART_CLINICIAN", "Dr. Test")
        .env("KAPCHART_NEW_PASSPHRASE", pass)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "clinician add {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Dr. Test (admin, from init), a nurse and a therapist; one open dosing session.
fn team_home() -> (Home, String) {
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    assert_eq!(
        add(&home, "Nia Nurse", "nurse", Some("RN"), NURSE_PASS),
        "2"
    );
    assert_eq!(
        add(&home, "Theo Therapist", "therapist", None, THERAPIST_PASS),
        "3"
    );
    (home, session)
}

#[test]
fn two_clinicians_chart_into_one_session_and_each_entry_is_theirs() {
    let (home, session) = team_home();
    ok_as(
        &home,
        "Dr. Test",
        PASSPHRASE,
        &["log", "--session", &session, "bp 128/82 hr 74"],
    );
    ok_as(
        &home,
        "nia nurse",
        NURSE_PASS,
        &["log", "--session", &session, "moaas 4"],
    );
    ok_as(
        &home,
        "2",
        NURSE_PASS,
        &["log", "--session", &session, "obs eyes closed"],
    );
    let show: Value = serde_json::from_str(&ok_as(
        &home,
        "3",
        THERAPIST_PASS,
        &["session", "show", &session, "--json"],
    ))
    .unwrap();
    let authors: Vec<&str> = show["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["author"].as_str().unwrap_or("?"))
        .collect();
    assert_eq!(authors, ["Dr. Test", "Nia Nurse", "Nia Nurse"], "{show}");
    // Without KAPCHART_CLINICIAN a team of three is refused, naming who is on it.
    let err = home.fails(&["patient", "list"], 1);
    assert!(
        err.contains("3 clinicians")
            && err.contains("KAPCHART_CLINICIAN")
            && err.contains("Nia Nurse"),
        "{err}"
    );
}

#[test]
fn the_team_is_listed_with_roles_credentials_and_who_is_signed_in() {
    let (home, _) = team_home();
    let list = ok_as(
        &home,
        "Theo Therapist",
        THERAPIST_PASS,
        &["clinician", "list"],
    );
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 3, "{list}");
    assert!(
        lines[0].contains("Dr. Test") && lines[0].contains("admin"),
        "{list}"
    );
    assert!(
        lines[1].contains("Nia Nurse, RN") && lines[1].contains("nurse"),
        "{list}"
    );
    assert!(
        lines[2].contains("Theo Therapist") && lines[2].contains("(you)"),
        "{list}"
    );
    let json: Value = serde_json::from_str(&ok_as(
        &home,
        "1",
        PASSPHRASE,
        &["clinician", "list", "--json"],
    ))
    .unwrap();
    assert_eq!(json[1]["role"], "nurse");
    assert_eq!(json[1]["credentials"], "RN");
    assert!(json[1]["removed"].is_null());
}

#[test]
fn only_an_admin_adds_and_a_weak_or_missing_passphrase_adds_nobody() {
    let (home, _) = team_home();
    let out = home
        .cmd(&[
            "clinician",
            "add",
            "--name",
            "Mo Monitor",
            "--role",
            "monitor",
        ])
        .env("KAPCHART_CLINICIAN", "Nia Nurse")
        .env("KAPCHART_PASSPHRASE", NURSE_PASS)
        .env("KAPCHART_NEW_PASSPHRASE", "sunlit granite orchard fable")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("only an admin"));
    let out = home
        .cmd(&[
            "clinician",
            "add",
            "--name",
            "Mo Monitor",
            "--role",
            "monitor",
        ])
        .env("KAPCHART_CLINICIAN", "Dr. Test")
        .env("KAPCHART_NEW_PASSPHRASE", "password")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("nobody was added"), "{err}");
    let err = home.fails(
        &[
            "clinician",
            "add",
            "--name",
            "Mo Monitor",
            "--role",
            "doctor",
        ],
        2,
    );
    assert!(
        err.contains("prescriber, therapist, nurse, monitor, admin"),
        "{err}"
    );
    let list = ok_as(&home, "1", PASSPHRASE, &["clinician", "list"]);
    assert!(!list.contains("Mo Monitor"), "{list}");
}

#[test]
fn a_wrong_clinician_and_passphrase_pair_is_refused_and_changes_nothing() {
    let (home, session) = team_home();
    let chart = home.chart();
    let ring = beside(&chart, ".keyring");
    let (chart_before, ring_before) = (file_bytes(&chart), file_bytes(&ring));
    for (who, pass) in [("Nia Nurse", THERAPIST_PASS), ("Dr. Test", NURSE_PASS)] {
        let out = as_who(&home, who, pass, &["log", "--session", &session, "hr 90"]);
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            err.trim(),
            "kapchart: this clinician and passphrase do not open the chart; nothing was changed"
        );
    }
    assert_eq!(file_bytes(&chart), chart_before);
    assert_eq!(file_bytes(&ring), ring_before);
}

#[test]
fn a_removed_clinicians_passphrase_is_refused_and_their_entries_keep_their_name() {
    let (home, session) = team_home();
    ok_as(
        &home,
        "Nia Nurse",
        NURSE_PASS,
        &["log", "--session", &session, "hr 70"],
    );
    let err = String::from_utf8_lossy(
        &as_who(&home, "Dr. Test", PASSPHRASE, &["clinician", "remove", "2"]).stderr,
    )
    .to_string();
    assert!(err.contains("--reason"), "a reason is required: {err}");
    let out = ok_as(
        &home,
        "Dr. Test",
        PASSPHRASE,
        &["clinician", "remove", "2", "--reason", "left the clinic"],
    );
    assert!(out.contains("re-keyed"), "{out}");
    let refused = as_who(&home, "Nia Nurse", NURSE_PASS, &["patient", "list"]);
    assert_eq!(refused.status.code(), Some(1));
    ok_as(
        &home,
        "Theo Therapist",
        THERAPIST_PASS,
        &["patient", "list"],
    );
    let show = ok_as(
        &home,
        "Dr. Test",
        PASSPHRASE,
        &["session", "show", &session],
    );
    assert!(show.contains("Nia Nurse"), "{show}");
    let json: Value = serde_json::from_str(&ok_as(
        &home,
        "1",
        PASSPHRASE,
        &["clinician", "list", "--json"],
    ))
    .unwrap();
    assert!(
        json[1]["removal"]
            .as_str()
            .unwrap()
            .contains("left the clinic")
    );
    assert!(ok_as(&home, "1", PASSPHRASE, &["verify"]).starts_with("ok"));
    // The last admin stays.
    let out = as_who(
        &home,
        "Dr. Test",
        PASSPHRASE,
        &["clinician", "remove", "1", "--reason", "leaving"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("only admin"));
}

#[test]
fn rekey_changes_only_the_signed_in_clinicians_passphrase() {
    let (home, _) = team_home();
    let out = home
        .cmd(&["rekey"])
        .env("KAPCHART_CLINICIAN", "Nia Nurse")
        .env("KAPCHART_PASSPHRASE", NURSE_PASS)
        .env("KAPCHART_NEW_PASSPHRASE", "amber falcon meadow lattice")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Nia Nurse"));
    assert_eq!(
        as_who(&home, "Nia Nurse", NURSE_PASS, &["patient", "list"])
            .status
            .code(),
        Some(1)
    );
    ok_as(
        &home,
        "Nia Nurse",
        "amber falcon meadow lattice",
        &["patient", "list"],
    );
    ok_as(
        &home,
        "Theo Therapist",
        THERAPIST_PASS,
        &["patient", "list"],
    );
}

#[test]
fn a_chart_from_before_keyrings_is_upgraded_on_open_and_keeps_its_passphrase() {
    let home = Home::new();
    let chart = home.chart();
    std::fs::create_dir_all(chart.parent().unwrap()).unwrap();
    kapchart::store::Chart::create_without_keyring(
        &chart,
        PASSPHRASE,
        "Dr. Early",
        2000,
        kapchart::clock::now(),
    )
    .unwrap();
    let passphrase_keyed = || {
        let conn = rusqlite::Connection::open(&chart).unwrap();
        conn.pragma_update(None, "key", PASSPHRASE).unwrap();
        conn.query_row("SELECT count(*) FROM clinicians", [], |r| {
            r.get::<_, i64>(0)
        })
        .is_ok()
    };
    assert!(passphrase_keyed());
    assert!(home.ok(&["patient", "list"]).is_empty());
    assert!(beside(&chart, ".keyring").exists());
    assert!(
        !passphrase_keyed(),
        "the passphrase no longer keys the chart itself"
    );
    let list = home.ok(&["clinician", "list"]);
    assert!(
        list.contains("Dr. Early") && list.contains("admin"),
        "{list}"
    );
    let patient = home.ok(&[
        "patient",
        "add",
        "--name",
        "Pat Early",
        "--dob",
        "1970-01-01",
    ]);
    assert_eq!(patient, "1");
    assert!(home.ok(&["verify"]).starts_with("ok"));
}

#[test]
fn a_backup_carries_its_keyring_and_restores_with_the_team_it_was_made_with() {
    let (home, session) = team_home();
    ok_as(
        &home,
        "Nia Nurse",
        NURSE_PASS,
        &["log", "--session", &session, "hr 70"],
    );
    let backup = home.path().join("backup.db");
    let out = ok_as(
        &home,
        "1",
        PASSPHRASE,
        &["backup", "--to", backup.to_str().unwrap()],
    );
    assert!(out.contains("verified"), "{out}");
    assert!(beside(&backup, ".keyring").exists());
    // After the backup the nurse leaves; the backup still opens with her passphrase.
    ok_as(
        &home,
        "1",
        PASSPHRASE,
        &["clinician", "remove", "2", "--reason", "left the clinic"],
    );
    ok_as(
        &home,
        "3",
        THERAPIST_PASS,
        &["log", "--session", &session, "hr 72"],
    );
    let verified = ok_as(
        &home,
        "3",
        THERAPIST_PASS,
        &["verify", "--against", backup.to_str().unwrap()],
    );
    assert!(verified.starts_with("ok"), "{verified}");
    // A restore needs an admin of the chart (the removed nurse cannot restore herself), and
    // a reason, since the backup's team includes her: she is then removed again.
    let restored = ok_as(
        &home,
        "1",
        PASSPHRASE,
        &[
            "restore",
            backup.to_str().unwrap(),
            "--replace",
            "--reason",
            "the chart's disk failed",
        ],
    );
    assert!(
        restored.contains("restored")
            && restored.contains("removed again")
            && restored.contains("Nia Nurse"),
        "{restored}"
    );
    let show: Value = serde_json::from_str(&ok_as(
        &home,
        "1",
        PASSPHRASE,
        &["session", "show", &session, "--json"],
    ))
    .unwrap();
    assert_eq!(
        show["entries"].as_array().unwrap().len(),
        1,
        "as at the backup"
    );
    ok_as(&home, "1", PASSPHRASE, &["patient", "list"]);
    assert!(!beside(&home.chart(), ".keyring.new").exists());
    // The replaced chart kept its keyring beside it.
    let kept: Vec<String> = std::fs::read_dir(home.chart().parent().unwrap())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".replaced-"))
        .collect();
    assert!(kept.iter().any(|n| n.ends_with(".keyring")), "{kept:?}");
    // A pair the backup does not know is refused, the chart untouched.
    let before = file_bytes(&home.chart());
    let out = home
        .cmd(&["restore", backup.to_str().unwrap(), "--replace"])
        .env("KAPCHART_CLINICIAN", "1")
        .env("KAPCHART_BACKUP_PASSPHRASE", THERAPIST_PASS)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("do not open the backup"));
    assert_eq!(file_bytes(&home.chart()), before);
}

#[test]
fn a_restore_killed_between_the_chart_and_the_keyring_still_opens() {
    let (home, session) = team_home();
    let backup = home.path().join("backup.db");
    ok_as(
        &home,
        "1",
        PASSPHRASE,
        &["backup", "--to", backup.to_str().unwrap()],
    );
    // Re-keyed after the backup: the chart's keyring no longer opens the backup's chart.
    ok_as(
        &home,
        "1",
        PASSPHRASE,
        &["clinician", "remove", "3", "--reason", "moved away"],
    );
    ok_as(
        &home,
        "1",
        PASSPHRASE,
        &["log", "--session", &session, "hr 72"],
    );
    // As a restore leaves things when killed after the chart was swapped in: the backup's
    // chart in place, the old keyring, and the backup's keyring as the `.new` journal.
    let chart = home.chart();
    std::fs::copy(&backup, &chart).unwrap();
    for s in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(beside(&chart, s));
    }
    std::fs::copy(beside(&backup, ".keyring"), beside(&chart, ".keyring.new")).unwrap();
    for (who, pass) in [("1", PASSPHRASE), ("3", THERAPIST_PASS), ("2", NURSE_PASS)] {
        let show: Value = serde_json::from_str(&ok_as(
            &home,
            who,
            pass,
            &["session", "show", &session, "--json"],
        ))
        .unwrap();
        assert_eq!(
            show["entries"].as_array().unwrap().len(),
            0,
            "as at the backup"
        );
    }
    assert!(
        !beside(&chart, ".keyring.new").exists(),
        "the journal took its place"
    );
}

#[test]
fn a_backup_from_before_keyrings_still_restores_with_its_passphrase() {
    let (home, _) = team_home();
    let old = home.path().join("old").join("legacy.db");
    std::fs::create_dir_all(old.parent().unwrap()).unwrap();
    kapchart::store::Chart::create_without_keyring(
        &old,
        PASSPHRASE,
        "Dr. Early",
        2000,
        kapchart::clock::now(),
    )
    .unwrap();
    let _ = std::fs::remove_file(beside(&old, ".lock"));
    let out = home
        .cmd(&["restore", old.to_str().unwrap(), "--replace"])
        .env("KAPCHART_CLINICIAN", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Opened with the passphrase, then upgraded: Dr. Early is its admin.
    let list = home.ok(&["clinician", "list"]);
    assert!(
        list.contains("Dr. Early") && !list.contains("Nia Nurse"),
        "{list}"
    );
    assert!(home.ok(&["verify"]).starts_with("ok"));
}

#[test]
fn at_a_terminal_who_is_asked_from_the_team_list_before_the_passphrase() {
    use common::pty::{Key, Tty};
    use std::time::Duration;
    let (home, _) = team_home();
    let mut cmd = home.cmd(&["patient", "list"]);
    cmd.env("KAPCHART_PASSPHRASE", NURSE_PASS);
    let mut tty = Tty::spawn(&cmd, 80, 24);
    tty.wait_for_all(
        &["Clinician (id or name):", "2  Nia Nurse (nurse)"],
        Duration::from_secs(20),
    );
    tty.send("NIA NURSE");
    tty.key(Key::Enter);
    assert!(tty.wait_exit(Duration::from_secs(20)).success());
    // An unknown name is said at once, with the team; no passphrase is asked for.
    let mut cmd = home.cmd(&["patient", "list"]);
    cmd.env_remove("KAPCHART_PASSPHRASE");
    let mut tty = Tty::spawn(&cmd, 80, 24);
    tty.wait_for("Clinician (id or name):", Duration::from_secs(20));
    tty.send("Nobody");
    tty.key(Key::Enter);
    tty.wait_for("no clinician 'Nobody'", Duration::from_secs(20));
    assert!(!tty.wait_exit(Duration::from_secs(20)).success());
}

#[test]
fn a_chart_whose_keyring_went_missing_says_so() {
    let (home, _) = team_home();
    let ring = beside(&home.chart(), ".keyring");
    let aside = home.path().join("keyring-aside");
    std::fs::rename(&ring, &aside).unwrap();
    let before = file_bytes(&home.chart());
    let err = home.fails(&["patient", "list"], 1);
    assert!(
        err.contains("wrong passphrase") && err.contains("keyring") && err.contains("is missing"),
        "{err}"
    );
    assert_eq!(file_bytes(&home.chart()), before);
    std::fs::rename(&aside, &ring).unwrap();
    ok_as(&home, "2", NURSE_PASS, &["patient", "list"]);
}

/// `clinician remove` killed at spread moments (SIGKILL: over the open, the removal's row,
/// the `.new` keyring, the re-key of every page and the rename): every time, the chart
/// opens and verifies for the admin and for the clinician who stays; asking again finishes
/// the removal, after which the removed passphrase is refused.
#[test]
fn a_removal_killed_at_any_moment_leaves_a_chart_the_remaining_team_opens() {
    use std::process::Stdio;
    use std::time::Duration;
    let home = Home::new();
    let chart = home.chart();
    let db = chart.to_str().unwrap();
    std::fs::create_dir_all(chart.parent().unwrap()).unwrap();
    home.ok(&["--db", db, "demo", "--patients", "4", "--no-tui"]);
    const ADMIN: &str = "Dr. Demo Clinician";
    let add_as_admin = |name: &str, pass: &str| {
        let out = home
            .cmd(&["clinician", "add", "--name", name, "--role", "nurse"])
            .env("KAPCHART_CLINICIAN", ADMIN)
            .env("KAPCHART_NEW_PASSPHRASE", pass)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    add_as_admin("Theo Stays", THERAPIST_PASS);
    let patients = ok_as(&home, ADMIN, PASSPHRASE, &["patient", "list"]);
    let mut killed_before_done = 0;
    for i in 0..8u64 {
        let name = format!("Nurse Number {i}");
        let id = add_as_admin(&name, NURSE_PASS);
        let mut child = home
            .cmd(&["clinician", "remove", &id, "--reason", "left the clinic"])
            .env("KAPCHART_CLINICIAN", ADMIN)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis((i * 61) % 480));
        if child.try_wait().unwrap().is_none() {
            killed_before_done += 1;
        }
        let _ = child.kill();
        let _ = child.wait();
        let verified = ok_as(&home, ADMIN, PASSPHRASE, &["verify"]);
        assert!(verified.starts_with("ok"), "kill {i}: {verified}");
        assert_eq!(
            ok_as(&home, "Theo Stays", THERAPIST_PASS, &["patient", "list"]),
            patients,
            "kill {i}: every row kept"
        );
        // Asking again finishes what the kill interrupted (or says it is done).
        let again = as_who(
            &home,
            ADMIN,
            PASSPHRASE,
            &["clinician", "remove", &id, "--reason", "left the clinic"],
        );
        let err = String::from_utf8_lossy(&again.stderr);
        assert!(
            again.status.success() || err.contains("already removed"),
            "kill {i}: {err}"
        );
        let refused = as_who(&home, &id, NURSE_PASS, &["patient", "list"]);
        assert_eq!(refused.status.code(), Some(1), "kill {i}");
        assert!(!beside(&chart, ".keyring.new").exists(), "kill {i}");
    }
    eprintln!("clinician remove killed before it finished {killed_before_done} of 8 times");
}

/// Until the lock screen asks who, the chart screen signs in the clinician
/// KAPCHART_CLINICIAN names, with the passphrase typed there; what they chart is theirs.
#[test]
fn the_chart_screen_signs_in_the_clinician_kapchart_clinician_names() {
    use common::pty::{Key, Tty};
    use std::time::Duration;
    let timeout = Duration::from_secs(20);
    let (home, session) = team_home();
    let mut cmd = home.cmd(&["chart", "--session", &session]);
    cmd.env_remove("KAPCHART_PASSPHRASE")
        .env("KAPCHART_CLINICIAN", "Nia Nurse");
    let mut tty = Tty::spawn(&cmd, 80, 24);
    tty.wait_for("Passphrase:", timeout);
    tty.send(PASSPHRASE);
    tty.key(Key::Enter);
    tty.wait_for("clinician and passphrase do not open", timeout);
    tty.send(NURSE_PASS);
    tty.key(Key::Enter);
    tty.wait_for("Chart:", timeout);
    tty.send("hr 66");
    tty.key(Key::Enter);
    tty.wait_for("HR 66", timeout);
    tty.key(Key::CtrlC);
    assert!(tty.wait_exit(timeout).success());
    let show: Value = serde_json::from_str(&ok_as(
        &home,
        "1",
        PASSPHRASE,
        &["session", "show", &session, "--json"],
    ))
    .unwrap();
    assert_eq!(show["entries"][0]["author"], "Nia Nurse", "{show}");
}

/// A removal whose re-key was cut short (as a kill leaves it) while another kapchart has the
/// chart open, so that no open can finish it: `clinician list` says the removal is not
/// finished (text and JSON) rather than "removed", and a write is refused saying what to do.
/// Once nothing else has the chart open, the next command finishes the removal: the list says
/// "removed", the removed nurse's passphrase no longer opens the chart and writes go on.
#[test]
fn an_unfinished_removal_is_named_by_the_list_and_holds_writes_until_kapchart_runs_alone() {
    use kapchart::store::{Chart, RekeyStop};
    let (home, session) = team_home();
    let chart = home.chart();
    let mut admin = Chart::open_alone_as(&chart, "1", PASSPHRASE, 2000).unwrap();
    admin
        .remove_team_member_until(
            2,
            "left the clinic",
            kapchart::clock::now(),
            RekeyStop::AfterJournal,
        )
        .unwrap();
    drop(admin);
    // The lock every kapchart holds while it has the chart open.
    let other = std::fs::File::open(beside(&chart, ".lock")).unwrap();
    rustix::fs::flock(&other, rustix::fs::FlockOperation::LockShared).unwrap();

    let list = ok_as(
        &home,
        "Theo Therapist",
        THERAPIST_PASS,
        &["clinician", "list"],
    );
    let nurse = list.lines().find(|l| l.contains("Nia Nurse")).unwrap();
    assert!(
        nurse.contains("NOT FINISHED") && !nurse.contains("removed"),
        "{list}"
    );
    let json: Value = serde_json::from_str(&ok_as(
        &home,
        "Theo Therapist",
        THERAPIST_PASS,
        &["clinician", "list", "--json"],
    ))
    .unwrap();
    assert_eq!(json[1]["removal_finished"], Value::Bool(false), "{json}");
    assert!(
        json[2]["removal_finished"].is_null(),
        "the therapist stands: {json}"
    );
    let refused = as_who(
        &home,
        "Theo Therapist",
        THERAPIST_PASS,
        &["log", "--session", &session, "hr 88"],
    );
    let err = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{err}");
    assert!(
        err.contains("removal of Nia Nurse")
            && err.contains("not finished")
            && err.contains("close it there, then run kapchart again")
            && err.contains("nothing was written"),
        "{err}"
    );

    drop(other);
    let list = ok_as(
        &home,
        "Theo Therapist",
        THERAPIST_PASS,
        &["clinician", "list"],
    );
    let nurse = list.lines().find(|l| l.contains("Nia Nurse")).unwrap();
    assert!(
        nurse.contains("removed") && !nurse.contains("NOT FINISHED"),
        "{list}"
    );
    let json: Value = serde_json::from_str(&ok_as(
        &home,
        "Theo Therapist",
        THERAPIST_PASS,
        &["clinician", "list", "--json"],
    ))
    .unwrap();
    assert_eq!(json[1]["removal_finished"], Value::Bool(true), "{json}");
    assert!(Chart::unwrap_chart_key_only(&chart, "2", NURSE_PASS).is_err());
    let refused = as_who(&home, "Nia Nurse", NURSE_PASS, &["patient", "list"]);
    assert_eq!(refused.status.code(), Some(1));
    ok_as(
        &home,
        "Theo Therapist",
        THERAPIST_PASS,
        &["log", "--session", &session, "hr 88"],
    );
}

/// A chart a team already charted in before kapchart signed its rows (its schema as the
/// previous kapchart left it, with its keyring, and no certificates): the next kapchart
/// takes on the signed chain, verifies it, and each clinician signs in and charts as before,
/// their new rows signed; a removal still seals the chart key to those who stand.
#[test]
fn a_team_chart_from_before_signed_rows_upgrades_and_goes_on() {
    let (home, session) = team_home();
    ok_as(
        &home,
        "Nia Nurse",
        NURSE_PASS,
        &["log", "--session", &session, "hr 70"],
    );
    let chart = home.chart();
    let conn = kapchart::store::Chart::open_raw_connection(&chart, "1", PASSPHRASE).unwrap();
    common::rewind_before(&conn, kapchart::store::schema::SIGNED_CHAIN);
    // That kapchart had no certificates at all, nor audit rows of them: theirs are taken
    // out, the rows after them numbered on, and the chain computed again with the chart's
    // chain key, as that kapchart would have left it.
    conn.execute_batch(
        "DROP TABLE kept_certificates;
         DROP TRIGGER audit_no_delete;
         DROP TRIGGER audit_no_update;
         DELETE FROM audit WHERE object_kind = 'team-certificate';
         UPDATE audit SET seq = (SELECT count(*) FROM audit b WHERE b.seq <= audit.seq);",
    )
    .unwrap();
    drop(conn);
    let (no_update, no_delete) = {
        let mem = rusqlite::Connection::open_in_memory().unwrap();
        for m in kapchart::store::schema::MIGRATIONS {
            mem.execute_batch(m).unwrap();
        }
        let sql = |name: &str| -> String {
            mem.query_row(
                "SELECT sql FROM sqlite_master WHERE name = ?1",
                [name],
                |r| r.get(0),
            )
            .unwrap()
        };
        (sql("audit_no_update"), sql("audit_no_delete"))
    };
    let conn = kapchart::store::Chart::open_raw_connection(&chart, "1", PASSPHRASE).unwrap();
    conn.execute_batch(&format!("{no_update}; {no_delete};"))
        .unwrap();
    drop(conn);
    common::signing::rechain_with_the_chain_key(&home);
    let _ = std::fs::remove_file(beside(&chart, ".checked"));

    let verified = ok_as(&home, "Theo Therapist", THERAPIST_PASS, &["verify"]);
    assert!(verified.starts_with("ok"), "{verified}");
    assert!(
        verified.contains("from before kapchart signed them"),
        "{verified}"
    );
    ok_as(
        &home,
        "Nia Nurse",
        NURSE_PASS,
        &["log", "--session", &session, "hr 72"],
    );
    ok_as(
        &home,
        "Dr. Test",
        PASSPHRASE,
        &["clinician", "remove", "2", "--reason", "left the clinic"],
    );
    let refused = as_who(&home, "Nia Nurse", NURSE_PASS, &["patient", "list"]);
    assert_eq!(refused.status.code(), Some(1));
    ok_as(
        &home,
        "Theo Therapist",
        THERAPIST_PASS,
        &["log", "--session", &session, "hr 74"],
    );
    let json: Value =
        serde_json::from_str(&ok_as(&home, "1", PASSPHRASE, &["verify", "--json"])).unwrap();
    assert_eq!(json["ok"], true, "{json}");
    assert!(json["signed_rows"].as_u64().unwrap() >= 3, "{json}");
}
