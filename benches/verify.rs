//! `verify` of the clinic chart (2,000 patients, or `KAPCHART_BENCH_PATIENTS`) with every
//! Ed25519 signature checked, beside the same `verify` with no signature checked (the chain
//! walk, the content of every row, the coverage, the payloads, the search index: what
//! `verify` did before kapchart signed its rows), alternating on the same open chart so that
//! load changes hit both sides. Then the check on open after one line charted, on a copy of
//! the same chart.
//!
//! `cargo bench --bench verify` (release build). `KAPCHART_BENCH_RUNS` (default 2) pairs of
//! verify; `KAPCHART_BENCH_CHECKS` (default 30) checks on open (0: none, and no copy of the chart). Prints each time, the
//! ratios, the medians, and the process's peak memory (VmHWM) before and after the verifies.

#[path = "common/mod.rs"]
mod common;

use kapchart::app::charting;
use kapchart::config::Config;
use kapchart::domain::SessionKind;
use kapchart::store::{NewPatient, NewSession};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// The process's peak resident memory so far, as the kernel counts it.
fn peak_kb() -> String {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmHWM"))
        .map(|l| l.split_whitespace().nth(1).unwrap_or("?").to_string())
        .unwrap_or_else(|| "?".into())
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn copy_chart(from: &Path, name: &str) -> PathBuf {
    let to = common::data_dir().join(name);
    common::remove_chart(&to);
    for suffix in ["", ".keyring", ".checked"] {
        let with = |p: &Path| {
            let mut p = p.as_os_str().to_owned();
            p.push(suffix);
            PathBuf::from(p)
        };
        if with(from).exists() {
            std::fs::copy(with(from), with(&to)).expect("copy the chart");
        }
    }
    to
}

fn main() {
    let runs = env_usize("KAPCHART_BENCH_RUNS", 2);
    let checks = env_usize("KAPCHART_BENCH_CHECKS", 30);
    let patients = common::clinic_patients();
    let path = common::clinic_chart(patients);
    println!("chart: {} ({patients} patients)", path.display());
    println!("load before: {}", loadavg());

    let chart = common::open(&path);
    let peak_before = peak_kb();
    let mut with = Vec::new();
    let mut without = Vec::new();
    for run in 0..runs {
        // Alternate which side goes first.
        for side in [run % 2 == 0, run % 2 != 0] {
            let t = Instant::now();
            let report = if side {
                chart.behind_the_door_ref().verify()
            } else {
                chart.behind_the_door_ref().verify_without_signatures()
            }
            .expect("verify");
            let took = t.elapsed();
            assert!(report.is_ok(), "{:?}", report.problems());
            let label = if side {
                "verify/with_signatures"
            } else {
                "verify/without_signatures"
            };
            println!(
                "{label:<30} {:>10.0} ms  ({} audit rows, {} row signatures checked; load {})",
                ms(took),
                report.audit_rows,
                report.signed_rows,
                loadavg()
            );
            if side { &mut with } else { &mut without }.push(took);
        }
    }
    for (w, wo) in with.iter().zip(&without) {
        println!(
            "verify pair: with / without = {:.2}",
            w.as_secs_f64() / wo.as_secs_f64()
        );
    }
    let (mw, mwo) = (median(with), median(without));
    println!(
        "verify medians: with {:.0} ms, without {:.0} ms, ratio {:.2}",
        ms(mw),
        ms(mwo),
        mw.as_secs_f64() / mwo.as_secs_f64()
    );
    println!(
        "peak resident memory (VmHWM): {peak_before} kB after open, {} kB after the verifies",
        peak_kb()
    );
    drop(chart);
    if checks == 0 {
        println!("load after: {}", loadavg());
        return;
    }

    // The check on open after one line charted, on a copy of the clinic chart.
    let copy = copy_chart(&path, "verify-check-on-open.db");
    let mut chart = common::open(&copy);
    chart.check_written().expect("the first check");
    let config = Config::default();
    let now = common::now();
    let patient = chart
        .behind_the_door()
        .add_patient(
            &NewPatient {
                name: "Check Bench".into(),
                dob: chrono::NaiveDate::from_ymd_opt(1986, 4, 12).expect("date"),
                mrn: Some("BENCH-CHECK-1".into()),
                weight_kg: Some(70.0),
            },
            now,
        )
        .expect("patient");
    let session = chart
        .behind_the_door()
        .start_session(
            &NewSession {
                patient_id: patient,
                kind: SessionKind::Dosing,
                started: now,
                intention: None,
                dosing_session_id: None,
            },
            now,
        )
        .expect("session");
    let mut times = Vec::new();
    for n in 0..checks {
        let at = now + chrono::Duration::seconds(20 * (n as i64 + 1));
        charting::record_line(&mut chart, &config, session, "bp 128/82 hr 74 spo2 97", &at)
            .expect("line");
        let t = Instant::now();
        chart.check_written().expect("the check");
        times.push(t.elapsed());
    }
    let mut sorted = times.clone();
    sorted.sort();
    println!(
        "check_on_open/after_one_line: median {:.2} ms, min {:.2} ms, max {:.2} ms (n = {checks})",
        ms(median(times)),
        ms(sorted[0]),
        ms(*sorted.last().expect("checks"))
    );
    let copy_path = chart.path().to_path_buf();
    drop(chart);
    common::remove_chart(&copy_path);
    println!("load after: {}", loadavg());
}
