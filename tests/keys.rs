//! Keys through the real binary: no core dumps, `kapchart rekey` and its passphrase policy,
//! backups keeping their passphrase, and wrong passphrases at the chart screen waiting longer.

mod common;

use common::pty::{Key, Tty};
use common::{Home, PASSPHRASE};
use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(20);
const NEW: &str = "violet tractor mumbles quietly";

/// A `kapchart log -` child that holds the chart open until its stdin closes.
fn open_logger(home: &Home, session: &str) -> (std::process::Child, std::process::ChildStdin) {
    let mut child = home
        .cmd(&["log", "--session", session, "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // Once it printed an id, the chart is open and keyed.
    stdin.write_all(b"hr 70\n").unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.trim().parse::<i64>().is_ok(), "{line}");
    (child, stdin)
}

fn field(status: &str, name: &str) -> Option<String> {
    status
        .lines()
        .find(|l| l.starts_with(name))
        .map(|l| l[name.len()..].trim().to_string())
}

#[cfg(target_os = "linux")]
#[test]
fn a_running_kapchart_writes_no_core_file() {
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    let (mut child, stdin) = open_logger(&home, &session);
    let pid = child.id();
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let core = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .expect(&limits);
    let numbers: Vec<&str> = core.split_whitespace().skip(4).take(2).collect();
    assert_eq!(numbers, ["0", "0"], "soft and hard limit: {core}");
    // Not dumpable: /proc/PID then belongs to root. (Seen only when the test is not root.)
    let me = std::fs::read_to_string("/proc/self/status").unwrap();
    let my_uid = field(&me, "Uid:").unwrap();
    if !my_uid.starts_with("0\t") && !my_uid.starts_with("0 ") {
        let theirs = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        use std::os::unix::fs::MetadataExt;
        let owner = std::fs::metadata(format!("/proc/{pid}/status"))
            .unwrap()
            .uid();
        assert_eq!(owner, 0, "{theirs}");
    }
    drop(stdin);
    assert!(child.wait().unwrap().success());
}

#[test]
fn rekey_changes_the_passphrase_and_backups_keep_theirs() {
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    home.ok(&["log", "--session", &session, "bp 120/80"]);
    let backup = home.path().join("before.db");
    home.ok(&["backup", "--to", backup.to_str().unwrap()]);
    let out = home
        .cmd(&["rekey"])
        .env("KAPCHART_NEW_PASSPHRASE", NEW)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("passphrase changed"));
    // The old passphrase no longer opens the chart; the new one does, and it verifies.
    let err = home.fails(&["session", "show", &session], 1);
    assert!(err.contains("wrong passphrase"), "{err}");
    let with_new = |args: &[&str]| {
        home.cmd(args)
            .env("KAPCHART_PASSPHRASE", NEW)
            .output()
            .unwrap()
    };
    let out = with_new(&["verify"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = with_new(&["log", "--session", &session, "hr 72"]);
    assert!(out.status.success());
    // The backup keeps the passphrase it was made with.
    let b = backup.to_str().unwrap();
    assert!(home.ok(&["--db", b, "verify"]).starts_with("ok"));
    assert!(!with_new(&["--db", b, "verify"]).status.success());
    // Comparing with it names the passphrase, not damage.
    let out = with_new(&["verify", "--against", b]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("keeps the passphrase it was made with"));
}

#[test]
fn weak_or_unchanged_new_passphrases_are_refused_with_the_reason() {
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    for (new, expected) in [
        ("password1", "too weak"),
        (PASSPHRASE, "the same as the old one"),
        ("x'00112233'", "raw key"),
    ] {
        let out = home
            .cmd(&["rekey"])
            .env("KAPCHART_NEW_PASSPHRASE", new)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{new}: {err}");
        assert!(
            err.contains(expected) && err.contains("nothing was changed"),
            "{new}: {err}"
        );
    }
    // The old passphrase still opens it.
    home.ok(&["session", "show", &session]);
    // init refuses a weak passphrase too, and creates nothing.
    let fresh = Home::new();
    let out = fresh
        .cmd(&["init", "--clinician", "Dr. New"])
        .env("KAPCHART_PASSPHRASE", "letmein")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("too weak") && err.contains("no chart was created"),
        "{err}"
    );
    assert!(!fresh.chart().exists());
}

/// `rekey` changes the signed-in clinician's own passphrase in the keyring; the chart key
/// stays, so a kapchart holding the chart open goes on charting undisturbed.
#[test]
fn rekey_goes_through_while_another_kapchart_has_the_chart_open() {
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    let (child, mut stdin) = open_logger(&home, &session);
    let out = home
        .cmd(&["rekey"])
        .env("KAPCHART_NEW_PASSPHRASE", NEW)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The one holding it open goes on charting.
    stdin.write_all(b"hr 71\n").unwrap();
    drop(stdin);
    let rest = child.wait_with_output().unwrap();
    assert!(rest.status.success());
    assert_eq!(String::from_utf8_lossy(&rest.stdout).lines().count(), 1);
    let out = home
        .cmd(&["verify"])
        .env("KAPCHART_PASSPHRASE", NEW)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn rekey_at_a_terminal_asks_for_the_new_passphrase_twice() {
    let home = Home::new();
    home.with_dosing_session();
    let mut cmd = home.cmd(&["rekey"]);
    let mut tty = Tty::spawn(&cmd, 80, 24);
    tty.wait_for("New passphrase:", TIMEOUT);
    tty.send(NEW);
    tty.key(Key::Enter);
    tty.wait_for("Same new passphrase again:", TIMEOUT);
    tty.send("something else entirely");
    tty.key(Key::Enter);
    tty.wait_for("differ", TIMEOUT);
    assert!(!tty.wait_exit(TIMEOUT).success());
    cmd = home.cmd(&["rekey"]);
    let mut tty = Tty::spawn(&cmd, 80, 24);
    tty.wait_for("New passphrase:", TIMEOUT);
    tty.send(NEW);
    tty.key(Key::Enter);
    tty.wait_for("Same new passphrase again:", TIMEOUT);
    tty.send(NEW);
    tty.key(Key::Enter);
    tty.wait_for("passphrase changed", TIMEOUT);
    assert!(tty.wait_exit(TIMEOUT).success());
}

#[test]
fn wrong_passphrases_at_the_chart_screen_wait_longer_each_time() {
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    let mut cmd = home.cmd(&["chart", "--session", &session]);
    cmd.env_remove("KAPCHART_PASSPHRASE");
    let mut tty = Tty::spawn(&cmd, 100, 24);
    tty.wait_for("Passphrase:", TIMEOUT);
    for (n, waited) in [(1, 0), (2, 1), (3, 2)] {
        tty.send("wrong");
        tty.key(Key::Enter);
        // The message may wrap in the panel: read it as one line.
        let expected = format!("wrong try {n}; each waits longer: this one {waited} s");
        tty.wait_until(TIMEOUT, |screen| {
            let flat = screen.replace(['│', '\n'], " ");
            flat.split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .contains(&expected)
        });
    }
    tty.send(PASSPHRASE);
    tty.key(Key::Enter);
    tty.wait_for("Chart: bp 128/82", TIMEOUT);
    tty.key(Key::CtrlC);
    assert!(tty.wait_exit(TIMEOUT).success());
}

/// A rekey killed at any moment (SIGKILL) leaves a chart that opens with exactly one of the
/// two passphrases and holds every row: SQLCipher rewrites the pages in one transaction.
#[test]
fn a_rekey_killed_at_any_moment_leaves_a_whole_chart_under_one_passphrase() {
    let home = Home::new();
    let chart = home.chart();
    let db = chart.to_str().unwrap();
    std::fs::create_dir_all(chart.parent().unwrap()).unwrap();
    home.ok(&["--db", db, "demo", "--patients", "4", "--no-tui"]);
    // The generated chart's team: its admin, and the nurse who witnessed its wastes.
    const ADMIN: &str = "Dr. Demo Clinician";
    let head = |pass: &str| -> Option<String> {
        let out = home
            .cmd(&["verify", "--json"])
            .env("KAPCHART_CLINICIAN", ADMIN)
            .env("KAPCHART_PASSPHRASE", pass)
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
        (v["ok"] == true).then(|| v["head"].to_string())
    };
    let before = head(PASSPHRASE).expect("the demo chart verifies");
    let (mut current, mut other) = (PASSPHRASE, NEW);
    let mut killed_before_done = 0;
    let mut changed = 0;
    for i in 0..16u64 {
        let mut child = home
            .cmd(&["rekey"])
            .env("KAPCHART_CLINICIAN", ADMIN)
            .env("KAPCHART_PASSPHRASE", current)
            .env("KAPCHART_NEW_PASSPHRASE", other)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Spread the kills over the open, the rekey and the switch back to WAL.
        std::thread::sleep(Duration::from_millis((i * 97) % 900));
        if child.try_wait().unwrap().is_none() {
            killed_before_done += 1;
        }
        let _ = child.kill();
        let _ = child.wait();
        match (head(current), head(other)) {
            (Some(h), None) => assert_eq!(h, before, "kill {i}: rows kept"),
            (None, Some(h)) => {
                assert_eq!(h, before, "kill {i}: rows kept");
                std::mem::swap(&mut current, &mut other);
                changed += 1;
            }
            (a, b) => panic!("kill {i}: the old passphrase gave {a:?}, the new {b:?}"),
        }
    }
    eprintln!(
        "rekey killed before it finished {killed_before_done} of 16 times; passphrase changed {changed} times"
    );
}
