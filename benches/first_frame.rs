//! What a user waits for: the whole `kapchart` process, from spawn in a pseudo-terminal to its
//! first frame on screen, key derivation included, for the home screen and a session's live
//! screen, on the one-patient and the clinic chart (issue 13, target 4). Then the key
//! derivation alone (the keyring's Argon2id unwrap and the chart key's unseal), and the whole
//! open in-process (unwrap, then SQLCipher keyed with the raw key, then kapchart's checks).
//!
//! `cargo bench --bench first_frame` (release build). `KAPCHART_BENCH_RUNS` (default 15)
//! spawns per case, alternating the two charts so that load changes hit both;
//! `KAPCHART_BENCH_PATIENTS` as in the other benches. Prints the median, minimum and maximum
//! of each case, and the ratio of the clinic's median to the one patient's.
//!
//! The screen is read by a thread that feeds everything the child writes into a `vt100`
//! parser and looks for the case's marker after each read, so the time is taken when the
//! frame that shows the marker has arrived (not at a polling interval).

#[path = "common/mod.rs"]
mod common;

use kapchart::domain::SessionKind;
use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const COLS: u16 = 160;
const ROWS: u16 = 48;
const TIMEOUT: Duration = Duration::from_secs(60);

struct Case {
    label: String,
    chart: PathBuf,
    args: Vec<String>,
    marker: String,
}

/// Spawns kapchart in a pty and returns the time until `marker` is on the parsed screen.
fn first_frame(case: &Case, home: &Path) -> Duration {
    let pair = native_pty_system()
        .openpty(PtySize {
            rows: ROWS,
            cols: COLS,
            pixel_width: 0,
            pixel_height: 0,
        })
        .expect("open a pty");
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_kapchart"));
    cmd.arg("--db");
    cmd.arg(&case.chart);
    cmd.args(&case.args);
    cmd.env_clear();
    cmd.env("HOME", home);
    cmd.env("XDG_CONFIG_HOME", home.join("config"));
    cmd.env("XDG_DATA_HOME", home.join("data"));
    cmd.env("XDG_STATE_HOME", home.join("state"));
    cmd.env("TERM", "xterm-256color");
    cmd.env("KAPCHART_CLINICIAN", common::CLINICIAN);
    cmd.env("KAPCHART_PASSPHRASE", common::PASSPHRASE);
    let mut reader = pair.master.try_clone_reader().expect("pty reader");
    let mut writer = pair.master.take_writer().expect("pty writer");
    let (tx, rx) = mpsc::channel();
    let marker = case.marker.clone();
    let started = Instant::now();
    let mut child = pair.slave.spawn_command(cmd).expect("spawn kapchart");
    drop(pair.slave);
    let thread = std::thread::spawn(move || {
        let mut parser = vt100::Parser::new(
            std::num::NonZeroU16::new(ROWS).expect("rows"),
            std::num::NonZeroU16::new(COLS).expect("cols"),
            0,
        );
        let mut buf = [0u8; 16384];
        let mut sent = false;
        let mut transcript = Vec::new();
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let chunk = &buf[..n];
            // A terminal answers a cursor position query; kapchart may ask one.
            if chunk.windows(4).any(|w| w == b"\x1b[6n") {
                let _ = writer.write_all(b"\x1b[1;1R");
            }
            parser.process(chunk);
            if !sent {
                transcript.extend_from_slice(chunk);
                if parser.screen().contents().contains(&marker) {
                    sent = true;
                    let _ = tx.send(Ok(started.elapsed()));
                    // Quit: Ctrl-C, as a user leaving would.
                    let _ = writer.write_all(b"\x03");
                }
            }
        }
        if !sent {
            let _ = tx.send(Err(String::from_utf8_lossy(&transcript).into_owned()));
        }
    });
    let took = match rx.recv_timeout(TIMEOUT) {
        Ok(Ok(t)) => t,
        Ok(Err(screen)) => panic!(
            "{}: kapchart ended without '{}':\n{screen}",
            case.label, case.marker
        ),
        Err(_) => panic!("{}: no '{}' within {TIMEOUT:?}", case.label, case.marker),
    };
    // Ctrl-C may be taken as a key on this screen; the child is ours to end either way.
    std::thread::sleep(Duration::from_millis(50));
    if child.try_wait().ok().flatten().is_none() {
        let _ = child.kill();
    }
    let _ = child.wait();
    drop(pair.master);
    let _ = thread.join();
    took
}

fn stats(label: &str, mut times: Vec<Duration>) -> Duration {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let median = times[times.len() / 2];
    println!(
        "{label:<34} median {:>8.1} ms  min {:>8.1} ms  max {:>8.1} ms  (n = {})",
        ms(median),
        ms(times[0]),
        ms(*times.last().expect("runs")),
        times.len()
    );
    median
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .trim()
        .to_string()
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is taken.
    let runs: usize = std::env::var("KAPCHART_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(15);
    let patients = common::clinic_patients();
    let charts = [
        ("one_patient", common::clinic_chart(1)),
        ("clinic", common::clinic_chart(patients)),
    ];
    let home = tempfile::tempdir().expect("a home for the runs");
    let mut cases = Vec::new();
    for (label, path) in &charts {
        let chart = common::open(path);
        let patient = common::first_patient(&chart);
        let name = chart.patient(patient).expect("patient").name;
        let session = chart
            .sessions(Some(patient))
            .expect("sessions")
            .into_iter()
            .find(|s| s.kind == SessionKind::Dosing)
            .expect("a dosing session")
            .id;
        drop(chart);
        cases.push(Case {
            label: format!("home/{label}"),
            chart: path.clone(),
            args: Vec::new(),
            marker: " Integrations (".into(),
        });
        cases.push(Case {
            label: format!("live/{label}"),
            chart: path.clone(),
            args: vec!["chart".into(), "--session".into(), session.to_string()],
            marker: format!("{name}, "),
        });
    }
    println!("load before: {}", loadavg());
    // One unmeasured run of each, so the binary and the charts' first pages are in the cache.
    for case in &cases {
        first_frame(case, home.path());
    }
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); cases.len()];
    for _ in 0..runs {
        for (i, case) in cases.iter().enumerate() {
            times[i].push(first_frame(case, home.path()));
        }
    }
    let mut medians = Vec::new();
    for (case, t) in cases.iter().zip(times) {
        medians.push(stats(&format!("first_frame/{}", case.label), t));
    }
    for (i, what) in [(0, "home"), (1, "live")] {
        println!(
            "first_frame/{what}: clinic / one patient = {:.2}",
            medians[i + 2].as_secs_f64() / medians[i].as_secs_f64()
        );
    }

    // The key derivation alone, and the whole open in-process.
    for (label, path) in &charts {
        let mut unwrap = Vec::new();
        let mut open = Vec::new();
        let mut check = Vec::new();
        for _ in 0..runs.max(5) {
            let t = Instant::now();
            assert!(
                kapchart::store::Chart::unwrap_chart_key_only(
                    path,
                    common::CLINICIAN,
                    common::PASSPHRASE
                )
                .expect("keyring")
            );
            unwrap.push(t.elapsed());
            let t = Instant::now();
            let mut chart = std::hint::black_box(common::open(path));
            open.push(t.elapsed());
            // The check on open again, on the chart just opened: its cost when nothing was
            // written since (the heads, the team's certificates, the walk's setup).
            let t = Instant::now();
            chart.check_written().expect("the check on open");
            check.push(t.elapsed());
        }
        stats(&format!("key_unwrap_only/{label}"), unwrap);
        stats(&format!("open_in_process/{label}"), open);
        stats(&format!("check_on_open_alone/{label}"), check);
    }
    println!("load after: {}", loadavg());
}
