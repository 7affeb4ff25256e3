//! The chart under faults, through the real binary: a full disk, a read-only file system, a
//! chart locked by another process, damaged bytes, a wrong passphrase, a chart from a newer
//! kapchart, two kapchart processes at once and tampering. Each fault gets a message that
//! names it, nothing is half-written (the file's bytes are compared where that means
//! something), `kapchart verify` still passes afterwards, and in the terminal UI the typed
//! line stays in the bar.
//!
//! The disk and read-only faults are real: a small tmpfs is mounted for the test (this needs
//! root, as on the development machines and CI). A mount that fails makes the test fail with
//! the reason; every mount is undone by a guard, also when a test fails.

mod common;

use common::pty::{Key, Tty};
use common::{Home, PASSPHRASE, file_bytes};
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Generous: a debug build, and opening a chart derives the SQLCipher key.
const TIMEOUT: Duration = Duration::from_secs(20);

// ---------------------------------------------------------------------------------------
// Helpers

/// A tmpfs mounted over a folder for the length of a test; unmounted when dropped.
struct Tmpfs {
    dir: PathBuf,
}

impl Tmpfs {
    /// Mounts a tmpfs of `size` (e.g. "1m") at `dir`, creating the folder. Panics with the
    /// reason when the mount fails: these tests never skip silently.
    fn mount(dir: &Path, size: &str) -> Tmpfs {
        std::fs::create_dir_all(dir).expect("mount point");
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size},mode=0700")])
            .arg("tmpfs")
            .arg(dir)
            .output()
            .unwrap_or_else(|e| {
                panic!("cannot run `mount` (the fault tests mount a tmpfs and need root): {e}")
            });
        assert!(
            out.status.success(),
            "mount -t tmpfs at {} failed (the fault tests need root and permission to mount): {}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
        Tmpfs {
            dir: dir.to_path_buf(),
        }
    }

    fn remount(&self, mode: &str) {
        let out = Command::new("mount")
            .args(["-o", &format!("remount,{mode}")])
            .arg(&self.dir)
            .output()
            .expect("run mount");
        assert!(
            out.status.success(),
            "mount -o remount,{mode} {} failed: {}",
            self.dir.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }

    /// Fills the file system to the last page; returns the filler file.
    fn fill(&self) -> PathBuf {
        let path = self.dir.join("filler");
        let mut f = std::fs::File::create(&path).expect("create filler");
        let chunk = vec![0xA5u8; 4096];
        loop {
            match f.write(&chunk) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::StorageFull => break,
                Err(e) => panic!("filling {}: {e}", path.display()),
            }
        }
        path
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let ok = Command::new("umount")
            .arg(&self.dir)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            // Something still holds a file there (a child being reaped): detach it anyway.
            let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
        }
    }
}

/// A home whose chart folder is a fresh tmpfs of `size`. Drop order: the tmpfs is unmounted
/// before the home's temporary folder goes.
fn home_on_tmpfs(size: &str) -> (Home, Tmpfs) {
    let home = Home::new();
    let fs = Tmpfs::mount(home.chart().parent().unwrap(), size);
    (home, fs)
}

/// `restore BACKUP --replace` stopped at its pause point (test builds), once it holds the
/// chart's lock: seen there, and seen holding it.
struct PausedRestore {
    child: std::process::Child,
    pauses: tempfile::TempDir,
}

impl PausedRestore {
    fn start(home: &Home, backup: &Path) -> PausedRestore {
        let pauses = tempfile::tempdir().unwrap();
        let mut child = home
            .cmd(&["restore", backup.to_str().unwrap(), "--replace"])
            .env(
                "KAPCHART_TEST_PAUSE",
                format!("restore:{}", pauses.path().display()),
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        wait_until(TIMEOUT, "the restore to reach its pause", || {
            pauses.path().join("restore.paused").exists() || child.try_wait().unwrap().is_some()
        });
        if child.try_wait().unwrap().is_some() {
            let out = child.wait_with_output().unwrap();
            panic!(
                "the restore ended before its pause: {:?}\n{}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        assert!(
            holds_exclusive(child.id(), &sibling(&home.chart(), ".lock")),
            "the restore holds the chart's lock while it works"
        );
        PausedRestore { child, pauses }
    }

    /// Lets the restore go on, and waits for it to succeed.
    fn go(self) {
        std::fs::write(self.pauses.path().join("restore.go"), b"").unwrap();
        let out = self.child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "the restore: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// True when process `pid` has `path` open (Linux: /proc/PID/fd).
fn has_open(pid: u32, path: &Path) -> bool {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    fds.flatten()
        .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|target| target == path))
}

/// Polls `condition` until it holds; panics naming `what` after `timeout`.
fn wait_until(timeout: Duration, what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !condition() {
        assert!(Instant::now() < deadline, "waited {timeout:?} for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

fn entries(v: &Value) -> Vec<Value> {
    v["entries"].as_array().expect("entries array").clone()
}

/// The summaries of a session's entries, in event-time order.
fn summaries(home: &Home, session: &str) -> Vec<String> {
    entries(&home.show_json(session))
        .iter()
        .map(|e| e["summary"].as_str().unwrap().to_string())
        .collect()
}

fn assert_verifies(home: &Home) {
    let out = home.ok(&["verify"]);
    assert!(out.starts_with("ok"), "{out}");
}

/// Opens the chart behind kapchart's back, as another program would.
fn raw(home: &Home) -> rusqlite::Connection {
    kapchart::store::Chart::open_raw_connection(&home.chart(), "", PASSPHRASE).expect("open chart")
}

/// A `kapchart log --session ID -` child whose stdin the test feeds line by line.
struct Logger {
    child: std::process::Child,
    stdin: Option<std::process::ChildStdin>,
    stdout: BufReader<std::process::ChildStdout>,
}

impl Logger {
    fn spawn(cmd: &mut Command) -> Logger {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn kapchart log -");
        Logger {
            stdin: child.stdin.take(),
            stdout: BufReader::new(child.stdout.take().unwrap()),
            child,
        }
    }

    /// Sends a line; false once kapchart has gone (it refused to open, or ended).
    fn try_send(&mut self, line: &str) -> bool {
        let Some(stdin) = self.stdin.as_mut() else {
            return false;
        };
        writeln!(stdin, "{line}").is_ok() && stdin.flush().is_ok()
    }

    fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{line}").expect("write a line to kapchart");
        stdin.flush().unwrap();
    }

    /// The next id printed, or None at the end of its output.
    fn next_id(&mut self) -> Option<String> {
        let mut line = String::new();
        match self
            .stdout
            .read_line(&mut line)
            .expect("read kapchart's output")
        {
            0 => None,
            _ => Some(line.trim().to_string()),
        }
    }

    /// Closes stdin and waits: (exit code, the rest of stdout, stderr).
    fn finish(mut self) -> (Option<i32>, String, String) {
        drop(self.stdin.take());
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut self.stdout, &mut rest).unwrap();
        let mut stderr = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            std::io::Read::read_to_string(&mut e, &mut stderr).unwrap();
        }
        let status = self.child.wait().expect("wait for kapchart");
        (status.code(), rest, stderr)
    }
}

impl Drop for Logger {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------------------
// Disk full

const FULL: &str = "is full; nothing was written";

/// The disk fills while `kapchart log -` is charting: the line that cannot be written is
/// refused with a message about the disk, the run stops there, and what was committed
/// before stays. Once there is room again, the same line is charted.
#[test]
fn disk_full_while_logging_refuses_the_line_and_keeps_the_chart() {
    let (home, fs) = home_on_tmpfs("2m");
    let (_, session) = home.with_dosing_session();
    let mut logger = Logger::spawn(&mut home.cmd(&["log", "--session", &session, "-"]));
    logger.send("obs written before the disk filled");
    let first = logger.next_id().expect("the first line is charted");

    let filler = fs.fill();
    logger.send("obs typed while the disk was full");
    let (code, rest, stderr) = logger.finish();
    assert_eq!(code, Some(1), "stderr: {stderr}");
    assert_eq!(rest.trim(), "", "no id printed for the refused line");
    assert!(
        stderr.contains("line 2") && stderr.contains("disk holding") && stderr.contains(FULL),
        "names the disk being full: {stderr}"
    );
    assert!(stderr.contains("stopped at line 2"), "{stderr}");
    // The file's bytes are not compared here: as the process ends it folds the first,
    // committed line from the WAL into the file, as it should. What the chart holds is.
    std::fs::remove_file(filler).unwrap();
    assert_verifies(&home);
    assert_eq!(
        summaries(&home, &session),
        ["written before the disk filled"]
    );
    let again = home.ok(&[
        "log",
        "--session",
        &session,
        "obs typed while the disk was full",
    ]);
    assert_ne!(again, first);
    assert_eq!(summaries(&home, &session).len(), 2);
    assert_verifies(&home);
}

/// Attack 7 of the insider's list, without an insider: the disk fills during `clinician
/// add`. The clinician's row and their keyring entry are written both or neither: the add
/// is refused naming the disk, nobody new stands on the team or in the keyring, and once
/// there is room the same clinician is added and signs in with their passphrase.
#[test]
fn disk_full_during_clinician_add_adds_nobody_and_the_add_goes_through_later() {
    let (home, fs) = home_on_tmpfs("2m");
    let (_, session) = home.with_dosing_session();
    // A kapchart with the chart open keeps its -wal and -shm in place while the disk is full.
    let mut logger = Logger::spawn(&mut home.cmd(&["log", "--session", &session, "-"]));
    logger.send("obs before the disk filled");
    logger.next_id().expect("charted");
    let add = || {
        home.cmd(&["clinician", "add", "--name", "Nia Nurse", "--role", "nurse"])
            .env("KAPCHART_NEW_PASSPHRASE", "tidal meadow lantern quartz")
            .output()
            .unwrap()
    };
    let ring = sibling(&home.chart(), ".keyring");
    let ring_before = file_bytes(&ring);
    let filler = fs.fill();
    let out = add();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("full") || err.contains("No space"), "{err}");
    assert_eq!(file_bytes(&ring), ring_before, "the keyring is as it was");
    assert!(!sibling(&home.chart(), ".keyring.kept").exists());
    std::fs::remove_file(filler).unwrap();
    logger.finish();
    let team = home.ok(&["clinician", "list"]);
    assert!(!team.contains("Nia Nurse"), "{team}");
    assert_verifies(&home);
    let out = add();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let signed_in = home
        .cmd(&["patient", "list"])
        .env("KAPCHART_CLINICIAN", "Nia Nurse")
        .env("KAPCHART_PASSPHRASE", "tidal meadow lantern quartz")
        .output()
        .unwrap();
    assert!(
        signed_in.status.success(),
        "{}",
        String::from_utf8_lossy(&signed_in.stderr)
    );
}

/// A fresh `kapchart log` on a full disk: the message names the disk, and the chart file
/// is byte-for-byte what it was.
#[test]
fn disk_full_before_opening_refuses_the_write_and_leaves_the_file_alone() {
    let (home, fs) = home_on_tmpfs("2m");
    let (_, session) = home.with_dosing_session();
    home.ok(&["log", "--session", &session, "hr 70"]);
    let chart = home.chart();
    let before = file_bytes(&chart);

    let filler = fs.fill();
    let err = home.fails(&["log", "--session", &session, "hr 72"], 1);
    assert!(err.contains("disk holding") && err.contains(FULL), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    assert_eq!(file_bytes(&chart), before, "chart file unchanged");

    std::fs::remove_file(filler).unwrap();
    assert_verifies(&home);
    assert_eq!(summaries(&home, &session), ["HR 70"]);
    home.ok(&["log", "--session", &session, "hr 72"]);
    assert_eq!(summaries(&home, &session), ["HR 70", "HR 72"]);
}

/// In the terminal UI: the line that met a full disk stays in the bar with the error, and
/// Enter charts it once there is room again.
#[test]
fn disk_full_in_the_chart_screen_keeps_the_typed_line() {
    let (home, fs) = home_on_tmpfs("2m");
    let (_, session) = home.with_dosing_session();
    let mut tty = Tty::spawn(&home.cmd(&["chart", "--session", &session]), 160, 40);
    tty.wait_for("Chart: bp 128/82", TIMEOUT);
    tty.send("obs charted before the disk filled");
    tty.key(Key::Enter);
    tty.wait_for("charted 1 entry", TIMEOUT);

    let filler = fs.fill();
    let chart_before = file_bytes(&home.chart());
    let typed = "obs typed while the disk was full";
    tty.send(typed);
    tty.wait_for("→ typed while the disk was full", TIMEOUT);
    tty.key(Key::Enter);
    // The message and the bar, on one screen: the typed line stays in the bar.
    tty.wait_for_all(&[FULL, "disk holding", typed], TIMEOUT);
    assert_eq!(file_bytes(&home.chart()), chart_before);

    std::fs::remove_file(filler).unwrap();
    tty.key(Key::Enter);
    let screen = tty.wait_for("charted 1 entry", TIMEOUT);
    assert!(!screen.contains(FULL), "{screen}");
    tty.key(Key::CtrlC);
    assert!(tty.wait_exit(TIMEOUT).success());
    assert!(
        !tty.screen().contains("typed but not charted"),
        "nothing left over: {}",
        tty.screen()
    );
    assert_eq!(
        summaries(&home, &session),
        [
            "charted before the disk filled",
            "typed while the disk was full"
        ]
    );
    assert_verifies(&home);
    drop(tty);
    drop(fs);
}

// ---------------------------------------------------------------------------------------
// Read-only

/// A chart on a file system mounted read-only (root ignores file permission bits, so the
/// mount is the real mechanism): refused with a message that says read-only, the file
/// unchanged; writable again, everything works.
#[test]
fn a_read_only_chart_is_refused_with_a_message_that_says_so() {
    let (home, fs) = home_on_tmpfs("2m");
    let (_, session) = home.with_dosing_session();
    home.ok(&["log", "--session", &session, "hr 70"]);
    let chart = home.chart();
    let before = file_bytes(&chart);

    fs.remount("ro");
    let err = home.fails(&["log", "--session", &session, "hr 72"], 1);
    assert!(err.contains("read-only"), "{err}");
    assert!(err.contains(&chart.display().to_string()), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    let err = home.fails(&["log", "--session", &session, "-"], 1);
    assert!(err.contains("read-only"), "{err}");
    assert_eq!(file_bytes(&chart), before, "chart file unchanged");

    fs.remount("rw");
    assert_verifies(&home);
    assert_eq!(summaries(&home, &session), ["HR 70"]);
    home.ok(&["log", "--session", &session, "hr 72"]);
    assert_eq!(summaries(&home, &session), ["HR 70", "HR 72"]);
}

// ---------------------------------------------------------------------------------------
// Locked by another process

/// Another process holds the chart's write lock longer than the busy timeout (200 ms from
/// the user's config): the write is refused as busy, nothing is written; once the lock is
/// released the same command works. Reading is never blocked by a writer.
#[test]
fn a_chart_locked_by_another_process_is_busy_then_works() {
    let home = Home::new();
    let config = home.path().join("xdg-config/kapchart/config.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(&config, "[chart]\nbusy_timeout_ms = 200\n").unwrap();
    let (_, session) = home.with_dosing_session();
    home.ok(&["log", "--session", &session, "hr 70"]);

    let holder = raw(&home);
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let chart = home.chart();
    let before = (file_bytes(&chart), file_bytes(&sibling(&chart, "-wal")));

    let err = home.fails(&["log", "--session", &session, "hr 72"], 1);
    assert!(
        err.contains("busy") && err.contains("another kapchart process"),
        "{err}"
    );
    assert!(err.contains("nothing was written"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    // Reading goes on while another process writes.
    assert_eq!(summaries(&home, &session), ["HR 70"]);
    assert_eq!(
        (file_bytes(&chart), file_bytes(&sibling(&chart, "-wal"))),
        before,
        "nothing written"
    );

    holder.execute_batch("ROLLBACK").unwrap();
    drop(holder);
    home.ok(&["log", "--session", &session, "hr 72"]);
    assert_eq!(summaries(&home, &session), ["HR 70", "HR 72"]);
    assert_verifies(&home);
}

/// The busy timeout comes from the config, shown without timing anything: with 10 minutes
/// configured, a write waits out a lock held longer than the 5 s default and then lands.
/// (Had the default been used, the write would have been refused as busy.)
/// A write waits out another process's lock for as long as `busy_timeout_ms` says. The
/// logger has the chart open and has charted before the lock is taken, so its wait starts
/// when its next line reaches it, whatever its start-up cost; the lock is then held 7 s,
/// past SQLite's 5 s default: with the default the line is refused, with 600 s it waits
/// and is charted once the lock goes (the first half shows the hold is long enough to tell).
#[test]
fn a_configured_busy_timeout_waits_out_a_long_lock() {
    const HOLD: Duration = Duration::from_secs(7);
    let home = Home::new();
    let config = home.path().join("xdg-config/kapchart/config.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    let (_, session) = home.with_dosing_session();
    for (setting, waits) in [("", false), ("[chart]\nbusy_timeout_ms = 600000\n", true)] {
        std::fs::write(&config, setting).unwrap();
        let mut logger = Logger::spawn(&mut home.cmd(&["log", "--session", &session, "-"]));
        logger.send("hr 70");
        logger
            .next_id()
            .expect("the logger has the chart open and charts");
        let holder = raw(&home);
        holder.execute_batch("BEGIN IMMEDIATE").unwrap();
        logger.send("hr 72");
        std::thread::sleep(HOLD);
        holder.execute_batch("ROLLBACK").unwrap();
        drop(holder);
        let (code, printed, stderr) = logger.finish();
        if waits {
            assert!(
                printed.lines().count() == 1 && code == Some(0),
                "the write waited and was charted: {printed:?} {stderr}"
            );
        } else {
            assert!(
                printed.trim().is_empty(),
                "refused after the default 5 s, not charted: {printed:?}"
            );
            assert!(stderr.contains("another kapchart process"), "{stderr}");
        }
    }
    assert_eq!(summaries(&home, &session), ["HR 70", "HR 70", "HR 72"]);
}

/// The same in the chart screen: the line stays in the bar with the busy message and is
/// charted with Enter once the other process lets go.
#[test]
fn a_locked_chart_in_the_chart_screen_keeps_the_typed_line() {
    let home = Home::new();
    let config = home.path().join("xdg-config/kapchart/config.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(&config, "[chart]\nbusy_timeout_ms = 200\n").unwrap();
    let (_, session) = home.with_dosing_session();
    let mut tty = Tty::spawn(&home.cmd(&["chart", "--session", &session]), 160, 40);
    tty.wait_for("Chart: bp 128/82", TIMEOUT);

    let holder = raw(&home);
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let typed = "obs typed while another process wrote";
    tty.send(typed);
    tty.wait_for("→ typed while another process wrote", TIMEOUT);
    tty.key(Key::Enter);
    // Kept in the bar while the refusal is shown.
    tty.wait_for_all(&["another kapchart process", typed], TIMEOUT);

    holder.execute_batch("ROLLBACK").unwrap();
    drop(holder);
    tty.key(Key::Enter);
    tty.wait_for("charted 1 entry", TIMEOUT);
    tty.key(Key::CtrlC);
    assert!(tty.wait_exit(TIMEOUT).success());
    assert_eq!(
        summaries(&home, &session),
        ["typed while another process wrote"]
    );
    assert_verifies(&home);
}

// ---------------------------------------------------------------------------------------
// Damaged bytes

const PAGE: usize = 4096;

/// Flips bytes in the middle of page `page` (1-based) of the closed chart file.
fn damage_page(path: &Path, page: usize) {
    let mut bytes = std::fs::read(path).unwrap();
    let at = (page - 1) * PAGE + PAGE / 2;
    assert!(at + 8 <= bytes.len(), "page {page} exists");
    for b in &mut bytes[at..at + 8] {
        *b ^= 0x5A;
    }
    std::fs::write(path, bytes).unwrap();
}

/// The root pages of `tables`, read through SQLite.
fn root_pages(home: &Home, tables: &[&str]) -> Vec<usize> {
    let conn = raw(home);
    tables
        .iter()
        .map(|table| {
            let page: i64 = conn
                .query_row(
                    "SELECT rootpage FROM sqlite_master WHERE name = ?1",
                    [table],
                    |r| r.get(0),
                )
                .unwrap();
            usize::try_from(page).unwrap()
        })
        .collect()
}

/// A chart with some entries, closed (the WAL folded into the file), and its session id.
fn closed_chart(home: &Home) -> String {
    let (_, session) = home.with_dosing_session();
    for line in ["bp 128/82 hr 74", "obs settling in", "moaas 5"] {
        home.ok(&["log", "--session", &session, line]);
    }
    assert!(
        !sibling(&home.chart(), "-wal").exists()
            || file_bytes(&sibling(&home.chart(), "-wal")).is_empty(),
        "the chart is closed"
    );
    session
}

/// With the right passphrase and a damaged page after the first, kapchart says the file is
/// damaged (never that the passphrase is wrong), and the damaged file is left exactly as
/// it was: not repaired, not overwritten, not deleted.
#[test]
fn a_damaged_page_is_named_as_damage_not_as_a_wrong_passphrase() {
    let home = Home::new();
    let session = closed_chart(&home);
    let chart = home.chart();
    let pages = file_bytes(&chart).len() / PAGE;
    let roots = root_pages(&home, &["sessions", "entries", "audit"]);
    let (sessions, entries, audit) = (roots[0], roots[1], roots[2]);
    // The pages each command must read, and the last page of the file.
    let mut cases = vec![
        (sessions, vec!["session", "show", session.as_str()]),
        (entries, vec!["log", "--session", session.as_str(), "hr 80"]),
        (audit, vec!["verify"]),
        (pages, vec!["verify"]),
        (2, vec!["verify"]),
    ];
    cases.dedup_by_key(|(page, _)| *page);
    let pristine = file_bytes(&chart);
    for (page, args) in cases {
        std::fs::write(&chart, &pristine).unwrap();
        damage_page(&chart, page);
        let damaged = file_bytes(&chart);
        let err = home.fails(&args, 1);
        assert!(
            err.contains("damaged") && !err.contains("passphrase"),
            "page {page} of {pages}, kapchart {args:?}: {err}"
        );
        assert!(err.contains("backup"), "says what to do: {err}");
        assert_eq!(
            file_bytes(&chart),
            damaged,
            "page {page}: file left as it was"
        );
        assert!(chart.exists());
        // And `verify` says the same about every damaged page.
        let err = home.fails(&["verify"], 1);
        assert!(
            err.contains("damaged") && !err.contains("passphrase"),
            "page {page}: {err}"
        );
        assert_eq!(file_bytes(&chart), damaged);
    }
    std::fs::write(&chart, &pristine).unwrap();
    assert_verifies(&home);
}

/// Damage to the first page (what the passphrase is checked against) is told apart from a
/// wrong passphrase: with the right one, every other page still passes its checksum. The
/// message says the file is damaged; a wrong passphrase on the same damaged file still
/// says so; the file is never touched.
#[test]
fn a_damaged_first_page_is_named_as_damage_and_kept() {
    let home = Home::new();
    let session = closed_chart(&home);
    let chart = home.chart();
    damage_page(&chart, 1);
    let damaged = file_bytes(&chart);
    let err = home.fails(&["session", "show", &session], 1);
    assert!(
        err.contains("is damaged (its first page no longer matches its checksum")
            && err.contains(&chart.display().to_string())
            && err.contains("restore it from a backup"),
        "{err}"
    );
    assert!(!err.contains("wrong passphrase"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    home.fails(&["log", "--session", &session, "hr 80"], 1);
    home.fails(&["verify"], 1);
    let out = home
        .cmd(&["verify"])
        .env("KAPCHART_PASSPHRASE", "not the passphrase")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.trim(),
        "kapchart: wrong passphrase, or not a kapchart chart"
    );
    assert_eq!(file_bytes(&chart), damaged, "left exactly as it was");
}

/// Damage found while the chart is open (in the library, as the chart screen holds it):
/// SQLCipher then refuses every later page, answers "not a database" once the first page is
/// read again, and marks the connection read-only. None of that is a wrong passphrase or a
/// read-only disk: every message says the file is damaged.
#[test]
fn damage_found_while_the_chart_is_open_is_named_as_damage_from_then_on() {
    let home = Home::new();
    let session = closed_chart(&home);
    let chart_path = home.chart();
    let session: i64 = session.parse().unwrap();
    let entries_page = root_pages(&home, &["entries"])[0];
    let chart = kapchart::store::Chart::open(&chart_path, PASSPHRASE, 2000).unwrap();
    damage_page(&chart_path, entries_page);
    let damaged = |what: &str, err: String| {
        assert!(
            err.contains("damaged") && !err.contains("passphrase") && !err.contains("read-only"),
            "{what}: {err}"
        );
    };
    // Another process writes (its check on open walks only what was written since the last
    // head checked, which does not reach the damaged page), so this connection reads its
    // pages again: the check on open had read them into its cache before the damage.
    home.ok(&[
        "patient",
        "add",
        "--name",
        "Other Patient",
        "--dob",
        "1970-01-01",
    ]);
    damaged(
        "reading the entries",
        chart.entries(session).unwrap_err().to_string(),
    );
    damaged(
        "reading the session again",
        chart.session(session).unwrap_err().to_string(),
    );
    let mut chart = kapchart::app::Chart::from(chart);
    let write = kapchart::app::charting::record_line(
        &mut chart,
        &kapchart::config::Config::default(),
        session,
        "hr 80",
        &kapchart::clock::now_local(),
    );
    damaged("writing", write.unwrap_err().to_string());
    let add = chart.behind_the_door().add_patient(
        &kapchart::store::NewPatient {
            name: "Third Patient".into(),
            dob: chrono::NaiveDate::from_ymd_opt(1990, 1, 1).unwrap(),
            mrn: None,
            weight_kg: None,
        },
        kapchart::clock::now(),
    );
    damaged("adding a patient", add.unwrap_err().to_string());
}

// ---------------------------------------------------------------------------------------
// A line that fails inside the store

/// "Nothing is written when any part of a line is wrong", past the grammar: a line of three
/// entries whose second one the chart itself refuses (a trigger added behind kapchart's
/// back stands in for a write that fails half-way) lands not at all: no entry, no audit row,
/// the file's bytes unchanged. Without the trigger the same line charts all three.
#[test]
fn a_line_that_fails_on_its_second_entry_writes_none_of_it() {
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    home.ok(&["log", "--session", &session, "hr 70"]);
    const REFUSAL: &str = "injected: the second entry cannot be written";
    {
        let conn = raw(&home);
        conn.execute_batch(&format!(
            "CREATE TRIGGER fail_second_entry BEFORE INSERT ON entries \
             WHEN NEW.kind = 'sedation' BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
        ))
        .unwrap();
    }
    let chart = home.chart();
    let before = (file_bytes(&chart), file_bytes(&sibling(&chart, "-wal")));
    let audit_rows = |home: &Home| -> i64 {
        raw(home)
            .query_row("SELECT count(*) FROM audit", [], |r| r.get(0))
            .unwrap()
    };
    let audit_before = audit_rows(&home);
    let line = "bp 128/82 hr 74 moaas 4 obs settling in";
    let err = home.fails(&["log", "--session", &session, line], 1);
    assert!(err.contains(REFUSAL), "the store's reason is shown: {err}");
    assert_eq!(audit_rows(&home), audit_before, "no audit row either");
    assert_eq!(
        (file_bytes(&chart), file_bytes(&sibling(&chart, "-wal"))),
        before,
        "the file's bytes are unchanged"
    );
    // Looked at after the bytes: showing the session adds its own audit row.
    assert_eq!(
        summaries(&home, &session),
        ["HR 70"],
        "none of the line landed"
    );

    raw(&home)
        .execute_batch("DROP TRIGGER fail_second_entry")
        .unwrap();
    assert_verifies(&home);
    home.ok(&["log", "--session", &session, line]);
    assert_eq!(
        summaries(&home, &session),
        ["HR 70", "BP 128/82 · HR 74", "MOAA/S 4", "settling in"]
    );
}

// ---------------------------------------------------------------------------------------
// Wrong passphrase, newer schema (the library's tests cover the store; these the CLI)

#[test]
fn a_chart_from_a_newer_kapchart_is_refused_by_the_cli_untouched() {
    let home = Home::new();
    let session = closed_chart(&home);
    {
        let conn = raw(&home);
        conn.pragma_update(None, "user_version", 99).unwrap();
    }
    let chart = home.chart();
    let before = file_bytes(&chart);
    for args in [
        vec!["session", "show", session.as_str()],
        vec!["log", "--session", session.as_str(), "hr 80"],
        vec!["verify"],
    ] {
        let err = home.fails(&args, 1);
        assert!(
            err.contains("newer kapchart") && err.contains("v99") && err.contains("not changed"),
            "{args:?}: {err}"
        );
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
        assert_eq!(file_bytes(&chart), before, "{args:?} left the file alone");
    }
}

#[test]
fn a_wrong_passphrase_writes_nothing_through_log() {
    let home = Home::new();
    let session = closed_chart(&home);
    let chart = home.chart();
    let before = file_bytes(&chart);
    let out = home
        .cmd(&["log", "--session", &session, "hr 80"])
        .env("KAPCHART_PASSPHRASE", "not the passphrase")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "kapchart: wrong passphrase, or not a kapchart chart"
    );
    assert_eq!(file_bytes(&chart), before);
    assert_eq!(summaries(&home, &session).len(), 3);
}

// ---------------------------------------------------------------------------------------
// Two processes

/// Two `kapchart log -` processes write to one chart at the same time. Both finish; every
/// id either printed is in the chart with the line it was printed for, and the audit trail
/// verifies.
#[test]
fn two_processes_logging_at_once_lose_nothing() {
    const LINES: usize = 40;
    let home = Home::new();
    let (patient, first) = home.with_dosing_session();
    let second = home.ok(&[
        "session",
        "start",
        "--patient",
        &patient,
        "--kind",
        "follow-up",
    ]);

    let run = |session: String, name: &'static str| {
        let mut cmd = home.cmd(&["log", "--session", &session, "-"]);
        let input: String = (0..LINES).map(|n| format!("obs {name} {n}\n")).collect();
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn kapchart");
        let mut stdin = child.stdin.take().unwrap();
        std::thread::spawn(move || {
            let _ = stdin.write_all(input.as_bytes());
        });
        child
    };
    let a = run(first.clone(), "alpha");
    let b = run(first.clone(), "beta");
    let c = run(second.clone(), "gamma");
    let mut printed: Vec<(String, String)> = Vec::new();
    for (child, name) in [(a, "alpha"), (b, "beta"), (c, "gamma")] {
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "{name}: exit {:?}: {stderr}",
            out.status.code()
        );
        let ids: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect();
        assert_eq!(ids.len(), LINES, "{name}: every line charted");
        for (n, id) in ids.into_iter().enumerate() {
            printed.push((id, format!("{name} {n}")));
        }
    }
    let mut stored = entries(&home.show_json(&first));
    stored.extend(entries(&home.show_json(&second)));
    for (id, text) in &printed {
        let found = stored
            .iter()
            .find(|e| e["id"].as_i64() == id.parse().ok())
            .unwrap_or_else(|| panic!("printed id {id} ({text}) is in the chart"));
        assert_eq!(found["summary"], text.as_str(), "entry {id}");
    }
    assert_eq!(stored.len(), printed.len(), "nothing else written");
    assert_verifies(&home);
    println!(
        "two processes: {} ids printed, {} found, 0 lost",
        printed.len(),
        printed.len()
    );
}

// ---------------------------------------------------------------------------------------
// Tampering

/// Triggers dropped by hand and an entry edited with raw SQL: `kapchart verify` exits 1 and
/// names the first broken sequence number.
#[test]
fn verify_names_the_first_broken_sequence_number_after_raw_tampering() {
    let home = Home::new();
    let session = closed_chart(&home);
    let target = entries(&home.show_json(&session))[1]["id"]
        .as_i64()
        .unwrap();
    assert_verifies(&home);
    let seq: i64 = {
        let conn = raw(&home);
        conn.execute_batch("DROP TRIGGER entries_no_update")
            .unwrap();
        conn.execute(
            "UPDATE entries SET payload = ?1 WHERE id = ?2",
            (r#"{"kind":"observation","text":"rewritten"}"#, target),
        )
        .unwrap();
        conn.query_row(
            "SELECT seq FROM audit WHERE object_kind = 'entry' AND object_id = ?1",
            [target],
            |r| r.get(0),
        )
        .unwrap()
    };
    let err = home.fails(&["verify"], 1);
    assert!(
        err.contains(&format!("audit trail broken at sequence number {seq}")),
        "{err}"
    );
    assert!(
        err.contains(&format!("entry {target} was changed")),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
}

// ---------------------------------------------------------------------------------------
// Restore and backup while the chart is in use, and killed on the way

/// SplitMix64, seeded: the same delays on every run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % n.max(1)
    }
}

/// The ids and summaries of a session's entries in the chart at `db`.
fn entries_in(home: &Home, session: &str, db: &Path) -> Vec<(i64, String)> {
    let out = home
        .cmd(&["session", "show", session, "--json"])
        .env("KAPCHART_DB", db)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{}: {stderr}", db.display());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    entries(&v)
        .iter()
        .map(|e| {
            let summary = e["summary"].as_str().unwrap().to_string();
            (e["id"].as_i64().unwrap(), summary)
        })
        .collect()
}

fn run_out(cmd: &mut Command) -> (Option<i32>, String, String) {
    let out = cmd.output().expect("run kapchart");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A restore while a `log -` has the chart open is refused, naming that process; the
/// logger goes on charting and every id it printed is in the chart. A restore holding the
/// chart makes a new `log` wait for it (and then chart into the restored chart), or, past
/// the busy timeout, say so. Once the logger has ended, the restore goes ahead.
#[test]
fn a_restore_is_refused_while_another_kapchart_has_the_chart_open() {
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    let backup = home.path().join("backup.db");
    home.ok(&["backup", "--to", backup.to_str().unwrap()]);
    let mut logger = Logger::spawn(&mut home.cmd(&["log", "--session", &session, "-"]));
    let mut printed = Vec::new();
    for n in 0..3 {
        logger.send(&format!("obs before {n}"));
        printed.push(logger.next_id().expect("an id"));
    }
    let chart = home.chart();
    let before = file_bytes(&chart);
    let err = home.fails(&["restore", backup.to_str().unwrap(), "--replace"], 1);
    let pid = logger.child.id();
    assert!(
        err.contains("open in another kapchart")
            && err.contains(&format!("pid {pid}: kapchart log")),
        "names the logger: {err}"
    );
    assert!(err.contains("nothing was changed"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    for n in 0..3 {
        logger.send(&format!("obs after {n}"));
        printed.push(logger.next_id().expect("an id"));
    }
    let (code, _, stderr) = logger.finish();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(file_bytes(&chart).len() >= before.len());
    let stored = entries_in(&home, &session, &chart);
    for id in &printed {
        assert!(
            stored.iter().any(|(s, _)| s.to_string() == *id),
            "printed id {id} is in the chart"
        );
    }
    let no_kept = std::fs::read_dir(chart.parent().unwrap())
        .unwrap()
        .flatten()
        .all(|e| !e.file_name().to_string_lossy().contains(".replaced-"));
    assert!(no_kept, "the refused restore set nothing aside");

    // A restore stopped once it holds the chart's lock: a `log` started then waits for it
    // (seen waiting: it has the lock file open and holds no lock) and charts into the
    // restored chart once the restore ends; past the busy timeout it says a restore is
    // under way and writes nothing.
    let lock = sibling(&chart, ".lock");
    let restore = PausedRestore::start(&home, &backup);
    let mut log = home
        .cmd(&["log", "--session", &session, "hr 71"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = log.id();
    wait_until(TIMEOUT, "the log waiting for the restore's lock", || {
        has_open(pid, &lock) && !holds_any_flock(pid, &lock)
    });
    assert!(log.try_wait().unwrap().is_none(), "still waiting");
    restore.go();
    let out = log.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        summaries(&home, &session).last().map(String::as_str),
        Some("HR 71"),
        "charted into the restored chart"
    );
    let config = home.path().join("xdg-config/kapchart/config.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(&config, "[chart]\nbusy_timeout_ms = 200\n").unwrap();
    let restore = PausedRestore::start(&home, &backup);
    let err = home.fails(&["log", "--session", &session, "hr 72"], 1);
    assert!(err.contains("a restore is replacing the chart"), "{err}");
    assert!(err.contains("nothing was written"), "{err}");
    restore.go();
    assert!(
        !summaries(&home, &session).contains(&"HR 72".to_string()),
        "hr 72 not charted"
    );

    let out = home.ok(&["restore", backup.to_str().unwrap(), "--replace"]);
    assert!(out.contains("kept at"), "{out}");
    assert_verifies(&home);
}

/// `restore --replace` and a `log -` against each other, one started a random moment after
/// the other (a fixed seed), the logger charting until well after the restore has ended.
/// When the logger is first (seen charting), the restore is refused while it has the chart
/// open; when the restore is first (seen holding the chart's lock, or done), the logger
/// waits for it and charts into the restored chart. Each round's outcome is asserted, so a
/// restore that let go of its lock early fails the first round the logger came first.
/// Either way, every id the logger printed is in the chart the user opens next, holding its
/// line. 12 rounds; 40 at `KAPCHART_TEST_DEPTH=ci`; 100 long.
#[test]
fn a_restore_racing_a_logger_never_loses_a_printed_id() {
    let rounds = common::by_depth(12, 40, 100);
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    let backup = home.path().join("backup.db");
    home.ok(&["backup", "--to", backup.to_str().unwrap()]);
    let lock = sibling(&home.chart(), ".lock");
    let mut rng = Rng(0x5EED_0001);
    let (mut printed_total, mut refused, mut restored) = (0, 0, 0);
    for round in 0..rounds {
        let restore_first = rng.below(2) == 0;
        let pause = Duration::from_millis(rng.below(400));
        let start_restore = || {
            home.cmd(&["restore", backup.to_str().unwrap(), "--replace"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        };
        let start_logger = || Logger::spawn(&mut home.cmd(&["log", "--session", &session, "-"]));
        let mut printed: Vec<(String, String)> = Vec::new();
        let (mut logger, mut restore) = if restore_first {
            // The restore stops once it holds the chart's lock (a pause point of test
            // builds); a logger started then waits for it, seen waiting: the lock file open,
            // no lock held, over several of its 20 ms tries. The restore goes on a random
            // moment later.
            let restore = PausedRestore::start(&home, &backup);
            let mut logger = start_logger();
            logger.send(&format!("obs round {round} line during the restore"));
            let logger_pid = logger.child.id();
            let mut seen = 0;
            wait_until(TIMEOUT, "the logger waiting for the restore", || {
                let waiting = has_open(logger_pid, &lock) && !holds_any_flock(logger_pid, &lock);
                seen = if waiting { seen + 1 } else { 0 };
                if waiting {
                    std::thread::sleep(Duration::from_millis(20));
                }
                seen >= 3
            });
            std::thread::sleep(pause);
            std::fs::write(restore.pauses.path().join("restore.go"), b"").unwrap();
            let text = format!("round {round} line during the restore");
            printed.push((logger.next_id().expect("charted after the restore"), text));
            (logger, restore.child)
        } else {
            let mut logger = start_logger();
            let text = format!("round {round} first line");
            logger.send(&format!("obs {text}"));
            printed.push((logger.next_id().expect("the logger charts"), text));
            std::thread::sleep(pause);
            (logger, start_restore())
        };
        let mut after_restore = 0;
        for n in 0.. {
            let text = format!("round {round} line {n}");
            if !logger.try_send(&format!("obs {text}")) {
                break;
            }
            match logger.next_id() {
                Some(id) => printed.push((id, text)),
                None => break,
            }
            if restore.try_wait().unwrap().is_some() {
                after_restore += 1;
                if after_restore >= 5 {
                    break;
                }
            }
        }
        let (code, rest, stderr) = logger.finish();
        assert!(rest.trim().is_empty(), "round {round}: {rest}");
        assert!(
            code == Some(0) || stderr.contains("a restore is replacing the chart"),
            "round {round}: logger exit {code:?}: {stderr}"
        );
        let out = restore.wait_with_output().unwrap();
        let (said, err) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        if restore_first {
            assert!(out.status.success(), "round {round}: {err}");
            assert!(said.contains("restored"), "{said}");
            restored += 1;
        } else {
            assert!(
                !out.status.success() && err.contains("open in another kapchart"),
                "round {round}: the logger had the chart open, yet the restore said: {said} {err}"
            );
            refused += 1;
        }
        let stored = entries_in(&home, &session, &home.chart());
        for (id, text) in &printed {
            let found = stored.iter().find(|(s, _)| s.to_string() == *id);
            assert_eq!(
                found.map(|(_, summary)| summary.as_str()),
                Some(text.as_str()),
                "round {round}: printed id {id} ({text}) is in the chart opened next"
            );
        }
        printed_total += printed.len();
    }
    assert_verifies(&home);
    assert!(
        restored > 0 && refused > 0,
        "{restored} restored, {refused} refused"
    );
    println!(
        "restore race: {rounds} rounds, {restored} restores done, {refused} refused while the \
         logger had the chart open; {printed_total} ids printed, all found"
    );
}

/// True when process `pid` holds any `flock(2)` on `path`.
fn holds_any_flock(pid: u32, path: &Path) -> bool {
    flocks_on(path).iter().any(|(p, _)| *p == pid)
}

/// The `flock(2)` locks on `path`: (pid that took it, exclusive). Linux: /proc/locks lists
/// each lock with its kind, the pid that took it and the file's inode
/// ("1: FLOCK  ADVISORY  WRITE 1234 00:2a:5678 0 EOF").
fn flocks_on(path: &Path) -> Vec<(u32, bool)> {
    use std::os::unix::fs::MetadataExt;
    let Ok(inode) = std::fs::metadata(path).map(|m| m.ino()) else {
        return Vec::new();
    };
    let locks = std::fs::read_to_string("/proc/locks").unwrap_or_default();
    locks
        .lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            (f.len() >= 6
                && f[1] == "FLOCK"
                && f[5].rsplit(':').next() == Some(inode.to_string().as_str()))
            .then(|| Some((f[4].parse().ok()?, f[3] == "WRITE")))
            .flatten()
        })
        .collect()
}

/// True when process `pid` holds an exclusive `flock(2)` on `path`.
fn holds_exclusive(pid: u32, path: &Path) -> bool {
    flocks_on(path).contains(&(pid, true))
}

/// Names in `dir` that contain `part`.
fn names_with(dir: &Path, part: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(part))
        .collect();
    names.sort();
    names
}

/// `kapchart backup` and `kapchart restore` killed with SIGKILL at random moments (a fixed
/// seed, spread over one unkilled run's length). After a killed backup, the destination is
/// either absent, and the same backup then succeeds (no "already exists", no stale
/// temporary in the way), or a whole backup that verifies. After a killed restore, the
/// chart verifies and is either the chart as it was (the line charted just before is
/// there) or the backup, with the chart it replaced kept; the next run clears the
/// restore's temporaries.
#[test]
fn killed_backups_and_restores_leave_whole_files_and_no_stale_temporaries() {
    let kills = common::by_depth(12, 12, 100);
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    let lines: String = (0..300).map(|n| format!("obs filler line {n}\n")).collect();
    let out = home.run_with_stdin(&["log", "--session", &session, "-"], &lines);
    assert!(out.status.success());
    let dir = home.path().join("backups");
    std::fs::create_dir_all(&dir).unwrap();
    let backup = dir.join("for-restore.db");
    let started = Instant::now();
    home.ok(&["backup", "--to", backup.to_str().unwrap()]);
    let backup_ms = started.elapsed().as_millis() as u64 + 50;
    let from_backup = entries_in(&home, &session, &backup);
    let mut rng = Rng(0x5EED_0002);

    let (mut absent_then_retried, mut whole) = (0, 0);
    for k in 0..kills {
        let dest = dir.join(format!("b{k}.db"));
        let mut child = home
            .cmd(&["backup", "--to", dest.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(rng.below(backup_ms)));
        let _ = child.kill();
        child.wait().unwrap();
        if dest.exists() {
            let (code, out, err) = run_out(home.cmd(&["verify"]).env("KAPCHART_DB", &dest));
            assert_eq!(
                code,
                Some(0),
                "kill {k}: {} is whole: {out}{err}",
                dest.display()
            );
            whole += 1;
        } else {
            let out = home.ok(&["backup", "--to", dest.to_str().unwrap()]);
            assert!(out.contains("verified"), "kill {k}: {out}");
            absent_then_retried += 1;
        }
    }
    home.ok(&["backup", "--to", dir.join("last.db").to_str().unwrap()]);
    assert_eq!(
        names_with(&dir, "kapchart-partial"),
        Vec::<String>::new(),
        "no unfinished copy is left once a backup has run"
    );

    let data = home.chart().parent().unwrap().to_path_buf();
    let started = Instant::now();
    home.ok(&["restore", backup.to_str().unwrap(), "--replace"]);
    let restore_ms = started.elapsed().as_millis() as u64 + 50;
    let (mut before_swap, mut after_swap) = (0, 0);
    for k in 0..kills {
        let marker = home.ok(&["log", "--session", &session, &format!("obs marker {k}")]);
        let kept_before = names_with(&data, ".replaced-");
        let mut child = home
            .cmd(&["restore", backup.to_str().unwrap(), "--replace"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(rng.below(restore_ms)));
        let _ = child.kill();
        child.wait().unwrap();
        assert_verifies(&home);
        assert_eq!(
            names_with(&data, ".restoring"),
            Vec::<String>::new(),
            "kill {k}: the next run cleared the killed restore's copy"
        );
        let now = entries_in(&home, &session, &home.chart());
        if now.iter().any(|(id, _)| id.to_string() == marker) {
            before_swap += 1;
            continue;
        }
        assert_eq!(now, from_backup, "kill {k}: the chart is the backup");
        after_swap += 1;
        let kept: Vec<String> = names_with(&data, ".replaced-")
            .into_iter()
            .filter(|n| !kept_before.contains(n) && !n.ends_with(".lock"))
            .filter(|n| !n.ends_with("-wal") && !n.ends_with("-shm"))
            .collect();
        let holds_marker = kept.iter().any(|name| {
            entries_in(&home, &session, &data.join(name))
                .iter()
                .any(|(id, _)| id.to_string() == marker)
        });
        assert!(
            holds_marker,
            "kill {k}: the replaced chart is kept: {kept:?}"
        );
    }
    println!(
        "kills during backup: {kills} ({absent_then_retried} left no file and the retry succeeded, {whole} left a whole backup); \
         kills during restore: {kills} ({before_swap} left the chart as it was, {after_swap} left the backup restored and the old chart kept)"
    );
}

// ---------------------------------------------------------------------------------------
// Read-only media and messages that name the file

/// A chart on a read-only mount (a write-protected stick, an archive): every command that
/// only reads works (list, show, export, verify, backup from it), a restore from a backup
/// on read-only media works, and only writes are refused, with the medium named. Nothing
/// is created or changed on the read-only mount.
#[test]
fn a_chart_on_read_only_media_is_read_and_only_writes_are_refused() {
    let (home, fs) = home_on_tmpfs("2m");
    let (patient, session) = home.with_dosing_session();
    home.ok(&["log", "--session", &session, "bp 128/82 hr 70"]);
    home.ok(&["backup", "--to", fs.dir.join("backup.db").to_str().unwrap()]);
    let data = fs.dir.clone();
    let listing = || names_with(&data, "");
    fs.remount("ro");
    let (before, files) = (file_bytes(&home.chart()), listing());

    assert!(home.ok(&["patient", "list"]).contains("Test Patient"));
    assert_eq!(summaries(&home, &session), ["BP 128/82 · HR 70"]);
    let md = home.ok(&["export", "--session", &session, "--format", "md"]);
    assert!(md.contains("Test Patient"), "{md}");
    assert_verifies(&home);
    let copy = home.path().join("copy.db");
    let out = home.ok(&["backup", "--to", copy.to_str().unwrap()]);
    assert!(out.contains("verified"), "{out}");
    let elsewhere = home.path().join("elsewhere").join("chart.db");
    let (code, out, err) = run_out(
        home.cmd(&["restore", data.join("backup.db").to_str().unwrap()])
            .env("KAPCHART_DB", &elsewhere),
    );
    assert_eq!(code, Some(0), "restore from read-only media: {out}{err}");
    assert_eq!(entries_in(&home, &session, &elsewhere).len(), 1);

    for args in [
        vec!["log", "--session", session.as_str(), "hr 72"],
        vec!["log", "--session", session.as_str(), "-"],
        vec!["patient", "add", "--name", "New One", "--dob", "1990-01-01"],
        vec![
            "session",
            "start",
            "--patient",
            patient.as_str(),
            "--kind",
            "intake",
        ],
    ] {
        let err = home.fails(&args, 1);
        assert!(
            err.contains("read-only file system") && err.contains("nothing was written"),
            "{args:?}: {err}"
        );
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    }
    assert_eq!(file_bytes(&home.chart()), before, "chart unchanged");
    assert_eq!(listing(), files, "nothing created on the read-only mount");
    fs.remount("rw");
    home.ok(&["log", "--session", &session, "hr 72"]);
}

/// On read-only media a view cannot be audited: the record is shown all the same (a
/// clinician with a patient in the room needs it), and stderr or the status line says that
/// this view is not in the audit trail and why. The chart is not touched.
#[test]
fn a_view_on_read_only_media_is_shown_and_says_it_is_not_in_the_audit_trail() {
    let (home, fs) = home_on_tmpfs("2m");
    let (patient, session) = home.with_dosing_session();
    home.ok(&["log", "--session", &session, "bp 128/82 hr 70"]);
    fs.remount("ro");
    let before = file_bytes(&home.chart());
    for (args, shows, what) in [
        (
            vec!["patient", "show", patient.as_str()],
            "Test Patient",
            format!("patient.view of patient {patient}"),
        ),
        (
            vec!["session", "show", session.as_str()],
            "BP 128/82",
            format!("session.view of session {session}"),
        ),
        (
            vec!["export", "--session", session.as_str(), "--format", "md"],
            "Test Patient",
            format!("export.md of session {session}"),
        ),
    ] {
        let (code, out, err) = run_out(&mut home.cmd(&args));
        assert_eq!(code, Some(0), "{args:?}: {err}");
        assert!(out.contains(shows), "{args:?} shows the record: {out}");
        assert!(
            err.contains(&format!(
                "warning: {what} was shown but is not in the audit trail"
            )) && err.contains("read-only file system"),
            "{args:?}: {err}"
        );
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    }
    let mut tty = Tty::spawn(&home.cmd(&["chart", "--session", &session]), 80, 24);
    // The warning, its cause and the record shown, on one screen.
    tty.wait_for_all(
        &[
            "this view is not in the audit trail",
            "the chart is read-only",
            "BP 128/82",
        ],
        TIMEOUT,
    );
    tty.key(Key::CtrlC);
    assert!(tty.wait_exit(TIMEOUT).success());
    drop(tty);
    assert_eq!(file_bytes(&home.chart()), before, "chart unchanged");
    fs.remount("rw");
    // Back on writable storage, the next view is recorded again.
    let (_, _, err) = run_out(&mut home.cmd(&["session", "show", &session]));
    assert!(err.is_empty(), "{err}");
    let rows: Value =
        serde_json::from_str(&home.ok(&["audit", "--session", &session, "--json"])).unwrap();
    let views = rows
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["action"] == "session.view")
        .count();
    assert_eq!(views, 1, "only the view made on writable storage: {rows}");
}

/// A migration that fails (here: a table in the way of the index version 3 creates) is said
/// in one line that names the file and the versions and says the chart was left as it
/// was, instead of SQLite's error with the migration's SQL in it.
#[test]
fn a_failed_migration_is_one_line_that_names_the_file_and_what_was_kept() {
    let home = Home::new();
    let session = closed_chart(&home);
    {
        let conn = raw(&home);
        conn.execute_batch(
            "DROP INDEX entries_session_end;
             CREATE TABLE entries_session_end (x);
             PRAGMA user_version = 2;",
        )
        .unwrap();
    }
    let before = file_bytes(&home.chart());
    let err = home.fails(&["session", "show", &session], 1);
    let chart = home.chart().display().to_string();
    assert!(
        err.contains(&format!(
            "updating the chart {chart} from schema v2 to v3 failed"
        )) && err.contains("left unchanged at v2"),
        "{err}"
    );
    assert!(!err.contains("CREATE"), "no SQL: {err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    let version: i64 = raw(&home)
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 2);
    assert_eq!(file_bytes(&home.chart()).len(), before.len());
}

/// An export onto a full disk names the file and the cause, and leaves no empty or
/// partial export behind.
#[test]
fn an_export_onto_a_full_disk_names_the_file_and_leaves_nothing() {
    let home = Home::new();
    let (patient, session) = home.with_dosing_session();
    home.ok(&[
        "log",
        "--session",
        &session,
        "obs a line with some words in it",
    ]);
    let out_dir = home.path().join("usb");
    let fs = Tmpfs::mount(&out_dir, "64k");
    fs.fill();
    let file = out_dir.join("course.html");
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
    assert!(
        err.contains(&file.display().to_string()) && err.contains("full"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    assert!(!file.exists(), "no partial export left");
}

/// Runs kapchart as the unprivileged user `nobody` (setpriv(1)): root ignores file
/// permissions, so this is how a folder or file kapchart may not write is tried for real.
fn as_nobody(home: &Home, args: &[&str]) -> (Option<i32>, String, String) {
    let template = home.cmd(args);
    let mut cmd = Command::new("setpriv");
    cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(template.get_program())
        .args(template.get_args())
        .env_clear()
        .stdin(Stdio::null());
    for (key, value) in template.get_envs() {
        if let Some(value) = value {
            cmd.env(key, value);
        }
    }
    run_out(&mut cmd)
}

/// A chart whose folder kapchart may not create files in (SQLite needs `-wal` and `-shm`
/// beside the chart), and a chart file whose permissions make it read-only: both are read,
/// and a write is refused with the cause named (the folder; the file's permissions), never
/// the one for the other.
#[cfg(unix)]
#[test]
fn a_folder_or_file_kapchart_may_not_write_is_named_as_such() {
    use std::os::unix::fs::{PermissionsExt, chown};
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    home.ok(&["log", "--session", &session, "hr 70"]);
    let chart = home.chart();
    let data = chart.parent().unwrap().to_path_buf();
    let open = std::fs::Permissions::from_mode(0o755);
    std::fs::set_permissions(home.path(), open.clone()).unwrap();
    std::fs::set_permissions(&data, open).unwrap();
    let nobody = Some(65534);
    chown(&chart, nobody, nobody).unwrap();
    chown(sibling(&chart, ".lock"), nobody, nobody).unwrap();
    // The keyring goes with the chart: readable by whoever may read the chart.
    chown(sibling(&chart, ".keyring"), nobody, nobody).unwrap();
    let before = file_bytes(&chart);

    // The file is nobody's, the folder root's.
    let (code, out, err) = as_nobody(&home, &["session", "show", &session]);
    assert_eq!(code, Some(0), "read: {err}");
    assert!(out.contains("HR 70"), "{out}");
    let (code, _, err) = as_nobody(&home, &["log", "--session", &session, "hr 72"]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains(&format!(
            "cannot create files in the folder {}",
            data.display()
        )) && err.contains("nothing was written")
            && !err.contains("chart file"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");

    // The folder is nobody's, the file root's and only readable.
    chown(&data, nobody, nobody).unwrap();
    chown(&chart, Some(0), Some(0)).unwrap();
    std::fs::set_permissions(&chart, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (code, out, err) = as_nobody(&home, &["session", "show", &session]);
    assert_eq!(code, Some(0), "read: {err}");
    assert!(out.contains("HR 70"), "{out}");
    let (code, _, err) = as_nobody(&home, &["log", "--session", &session, "hr 72"]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains(&format!(
            "the chart file {} is read-only (its permissions)",
            chart.display()
        )) && !err.contains("folder"),
        "{err}"
    );
    assert_eq!(file_bytes(&chart), before, "chart unchanged");
}

/// The chart screen holds the chart open too: a restore is refused while it is open,
/// naming it, and what was charted there stays in the chart; once it has quit, the restore
/// goes ahead.
#[test]
fn a_restore_is_refused_while_the_chart_screen_is_open() {
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    let backup = home.path().join("backup.db");
    home.ok(&["backup", "--to", backup.to_str().unwrap()]);
    let mut tty = Tty::spawn(&home.cmd(&["chart", "--session", &session]), 160, 40);
    tty.wait_for("Chart: bp 128/82", TIMEOUT);
    tty.send("obs charted in the chart screen");
    tty.key(Key::Enter);
    tty.wait_for("charted 1 entry", TIMEOUT);
    let err = home.fails(&["restore", backup.to_str().unwrap(), "--replace"], 1);
    assert!(
        err.contains("open in another kapchart") && err.contains("kapchart chart"),
        "names the chart screen: {err}"
    );
    tty.send("obs charted after the refused restore");
    tty.key(Key::Enter);
    tty.wait_for("charted 1 entry", TIMEOUT);
    tty.key(Key::CtrlC);
    assert!(tty.wait_exit(TIMEOUT).success());
    drop(tty);
    assert_eq!(
        summaries(&home, &session),
        [
            "charted in the chart screen",
            "charted after the refused restore"
        ]
    );
    home.ok(&["restore", backup.to_str().unwrap(), "--replace"]);
    assert!(summaries(&home, &session).is_empty());
}
