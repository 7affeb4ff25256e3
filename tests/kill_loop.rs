//! "Nothing typed is ever lost", measured: a `kapchart log --session ID -` child charts
//! lines from stdin and prints each entry id once its commit returned; the test kills it
//! with SIGKILL at random moments (a fixed seed; kills land during start-up, between
//! commits, and after a commit but before its printed id), then reopens the chart (while the
//! next child charts): `kapchart verify` must pass, and every printed id must be in the
//! chart, holding the line it was printed for.
//!
//! 50 kills by default; 100 at `KAPCHART_TEST_DEPTH=ci` (CI) and 1,000 long
//! (`KAPCHART_TEST_DEPTH=long` or `KAPCHART_LONG_TESTS=1`), where the run must also have seen
//! lines committed and killed before their id was printed (the kill landed inside the
//! commit's fsync or between the commit and the print), so that window is known to be hit.
//! `KAPCHART_KILL_SEED` replays another seed. The counts are printed
//! (`cargo test --test kill_loop -- --nocapture`).

mod common;

use common::Home;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Lines queued for each child: more than it can chart before it is killed.
const BATCH: usize = 400;
/// A new session after this many kills, so that no session grows without bound.
const KILLS_PER_SESSION: usize = 25;
/// A child that has printed nothing after this long is hung, not slow.
const HANG: Duration = Duration::from_secs(600);

/// SplitMix64: small, deterministic, good enough to spread the kills.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// What the kills left behind.
#[derive(Default)]
struct Tally {
    kills: usize,
    /// Killed before it printed any id (start-up, key derivation, WAL recovery, open).
    early: usize,
    /// Killed while charting.
    while_logging: usize,
    printed: usize,
    /// Printed ids looked up in the chart after the kill and found holding their line.
    found: usize,
    /// Committed, and killed before its id was printed (inside the commit's fsync, or
    /// between the commit and the print): in the chart, never on stdout. Not lost.
    committed_unprinted: usize,
}

/// One killed child: what it was given and what it printed.
struct Killed {
    k: usize,
    session: String,
    lines: Vec<String>,
    ids: Vec<i64>,
    /// Every id printed in this session so far, with its line.
    printed_in_session: Vec<(i64, String)>,
}

fn spawn_logger(home: &Home, session: &str) -> Child {
    home.cmd(&["log", "--session", session, "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn kapchart log -")
}

type Lines = Arc<Mutex<Vec<String>>>;

/// Collects every line the child prints, as it prints it, until the pipe closes.
fn collect(reader: impl std::io::Read + Send + 'static) -> (Lines, std::thread::JoinHandle<()>) {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&lines);
    let handle = std::thread::spawn(move || {
        for line in BufReader::new(reader).lines() {
            let Ok(line) = line else { break };
            sink.lock().unwrap().push(line);
        }
    });
    (lines, handle)
}

fn run_command(mut cmd: Command) -> std::process::Output {
    cmd.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("run kapchart")
}

/// Starts a logger, feeds it lines and kills it at a moment drawn from `rng`.
fn kill_one(
    home: &Home,
    k: usize,
    session: &str,
    rng: &mut Rng,
    tally: &mut Tally,
) -> (Vec<String>, Vec<i64>) {
    let mut child = spawn_logger(home, session);
    let mut stdin = child.stdin.take().unwrap();
    let (stdout, out_thread) = collect(child.stdout.take().unwrap());
    let (stderr, err_thread) = collect(child.stderr.take().unwrap());
    let lines: Vec<String> = (0..BATCH).map(|n| format!("kill {k} line {n}")).collect();
    let input: String = lines.iter().map(|l| format!("obs {l}\n")).collect();
    // Short lines that fit in the pipe's buffer: this does not block. Stdin stays open until
    // the kill, so the child never ends on its own.
    stdin.write_all(input.as_bytes()).unwrap();

    let spawned = Instant::now();
    if rng.below(100) < 15 {
        // Anywhere from exec to the first commits: key derivation, WAL recovery, open.
        std::thread::sleep(Duration::from_micros(rng.below(600_000)));
    } else {
        while stdout.lock().unwrap().is_empty() {
            if let Some(status) = child.try_wait().unwrap() {
                panic!(
                    "kill {k}: kapchart exited ({status}) before charting: {}",
                    stderr.lock().unwrap().join("\n")
                );
            }
            // Not a speed check: only a guard against a child that hangs, far beyond
            // any machine's start-up time.
            assert!(
                spawned.elapsed() < HANG,
                "kill {k}: no id printed within {HANG:?}; kapchart hangs"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        // Microsecond steps over a window of many commits.
        std::thread::sleep(Duration::from_micros(rng.below(150_000)));
    }
    let printed_before_kill = !stdout.lock().unwrap().is_empty();
    child.kill().expect("SIGKILL");
    let status = child.wait().unwrap();
    drop(stdin);
    out_thread.join().unwrap();
    err_thread.join().unwrap();
    assert!(
        status.code().is_none(),
        "kill {k}: the child ended on its own ({status}): {}",
        stderr.lock().unwrap().join("\n")
    );
    let errors = stderr.lock().unwrap().clone();
    assert!(
        errors.is_empty(),
        "kill {k}: kapchart reported errors before the kill: {errors:?}"
    );
    tally.kills += 1;
    if printed_before_kill {
        tally.while_logging += 1;
    } else {
        tally.early += 1;
    }
    let ids: Vec<i64> = stdout
        .lock()
        .unwrap()
        .iter()
        .map(|l| {
            l.parse()
                .unwrap_or_else(|_| panic!("kill {k}: printed {l:?}"))
        })
        .collect();
    tally.printed += ids.len();
    (lines, ids)
}

/// Reopens the chart after a kill: `kapchart verify` and `kapchart session show`, both at
/// once (one of them recovers the WAL, the other waits for it). Returns how many of the
/// child's lines are in the chart, and how many of the ids it printed were found there
/// holding their line.
fn check(home: &Home, killed: &Killed) -> (usize, usize) {
    let k = killed.k;
    let (verified, shown) = std::thread::scope(|s| {
        let v = s.spawn(|| run_command(home.cmd(&["verify"])));
        let sh = s.spawn(|| run_command(home.cmd(&["session", "show", &killed.session, "--json"])));
        (v.join().unwrap(), sh.join().unwrap())
    });
    assert!(
        verified.status.success(),
        "kill {k}: verify failed: {}",
        String::from_utf8_lossy(&verified.stderr)
    );
    assert!(
        shown.status.success(),
        "kill {k}: session show failed: {}",
        String::from_utf8_lossy(&shown.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    let stored: HashMap<i64, String> = json["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["id"].as_i64().unwrap(),
                e["summary"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    // This child's printed ids, counted one by one in what the chart holds.
    let found = killed
        .ids
        .iter()
        .enumerate()
        .filter(|(n, id)| stored.get(*id) == Some(&killed.lines[*n]))
        .count();
    // Every id printed so far in this session holds the line it was printed for.
    for (id, text) in &killed.printed_in_session {
        assert_eq!(
            stored.get(id),
            Some(text),
            "kill {k}: printed id {id} lost or changed"
        );
    }
    // This child's lines in the chart are a prefix of what it was given, at least as long
    // as what it printed and at most one longer (committed, killed before the print).
    let prefix = format!("kill {k} line ");
    let mut mine: Vec<(i64, &String)> = stored
        .iter()
        .filter(|(_, t)| t.starts_with(&prefix))
        .map(|(id, t)| (*id, t))
        .collect();
    mine.sort();
    for (n, (_, text)) in mine.iter().enumerate() {
        assert_eq!(
            **text, killed.lines[n],
            "kill {k}: lines charted in order, no gaps"
        );
    }
    assert!(
        mine.len() >= killed.ids.len() && mine.len() <= killed.ids.len() + 1,
        "kill {k}: {} printed, {} in the chart",
        killed.ids.len(),
        mine.len()
    );
    (mine.len(), found)
}

fn kill_loop(kills: usize, seed: u64) -> Tally {
    let home = Home::new();
    let (patient, mut session) = home.with_dosing_session();
    let mut rng = Rng(seed);
    let mut tally = Tally::default();
    // Every id ever printed: (session, id) -> the line it was printed for.
    let mut printed_all: HashMap<(String, i64), String> = HashMap::new();
    let started = Instant::now();
    let mut pending: Option<Killed> = None;

    // The check after kill k runs while child k+1 charts: both reopen the chart at once.
    for k in 0..=kills {
        if k > 0 && k < kills && k % KILLS_PER_SESSION == 0 {
            // A fresh session beside the killed one, which is left open as it was.
            session = home.ok(&[
                "session",
                "start",
                "--patient",
                &patient,
                "--kind",
                "dosing",
                "--second-dosing-session",
            ]);
        }
        let previous = pending.take();
        let (checked, next) = std::thread::scope(|s| {
            let checking = previous.as_ref().map(|p| s.spawn(|| check(&home, p)));
            let next = (k < kills).then(|| kill_one(&home, k, &session, &mut rng, &mut tally));
            (checking.map(|c| c.join().unwrap()), next)
        });
        if let (Some(p), Some((in_chart, found))) = (&previous, checked) {
            tally.found += found;
            tally.committed_unprinted += in_chart - p.ids.len();
            if (p.k + 1) % 100 == 0 {
                println!(
                    "{} kills, {} ids printed, {} found ({:.0?})",
                    p.k + 1,
                    tally.printed,
                    tally.found,
                    started.elapsed()
                );
            }
        }
        if let Some((lines, ids)) = next {
            for (n, id) in ids.iter().enumerate() {
                printed_all.insert((session.clone(), *id), lines[n].clone());
            }
            let printed_in_session = printed_all
                .iter()
                .filter(|((s, _), _)| *s == session)
                .map(|((_, id), text)| (*id, text.clone()))
                .collect();
            pending = Some(Killed {
                k,
                session: session.clone(),
                lines,
                ids,
                printed_in_session,
            });
        }
    }

    // At the end, every id ever printed, across every session.
    let sessions: serde_json::Value =
        serde_json::from_str(&home.ok(&["session", "list", "--json"])).unwrap();
    let mut stored: HashMap<(String, i64), String> = HashMap::new();
    for s in sessions.as_array().unwrap() {
        let id = s["id"].to_string();
        for e in home.show_json(&id)["entries"].as_array().unwrap() {
            stored.insert(
                (id.clone(), e["id"].as_i64().unwrap()),
                e["summary"].as_str().unwrap().to_string(),
            );
        }
    }
    let lost: Vec<_> = printed_all
        .iter()
        .filter(|(key, text)| stored.get(*key) != Some(*text))
        .collect();
    assert!(lost.is_empty(), "printed but lost: {lost:?}");
    assert!(home.ok(&["verify"]).starts_with("ok"));
    println!(
        "kill loop (seed {seed:#x}): {} kills in {:.1?} ({} during start-up, {} while \
         logging), {} ids printed, {} found, {} more committed and killed before the print, \
         lost {}",
        tally.kills,
        started.elapsed(),
        tally.early,
        tally.while_logging,
        tally.printed,
        printed_all.len() - lost.len(),
        tally.committed_unprinted,
        lost.len()
    );
    tally
}

#[test]
fn sigkill_at_random_moments_never_loses_a_printed_entry() {
    let depth = common::depth();
    let kills = common::by_depth(50, 100, 1000);
    let seed = std::env::var("KAPCHART_KILL_SEED")
        .ok()
        .and_then(|s| u64::from_str_radix(s.trim_start_matches("0x"), 16).ok())
        .unwrap_or(0x6b61_7063_6861_7274);
    let tally = kill_loop(kills, seed);
    assert_eq!(tally.kills, kills);
    assert_eq!(
        tally.found, tally.printed,
        "every printed id was found: lost = 0"
    );
    assert!(
        tally.while_logging > 0 && tally.printed > 0,
        "the kills hit a child at work"
    );
    if depth != common::Depth::Default {
        assert!(
            tally.committed_unprinted > 0,
            "in {kills} kills none landed between a commit and its printed id"
        );
    }
}
