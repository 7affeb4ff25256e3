//! What the benchmarks share: a fixed "now", where bench charts live, and the cached
//! ten-year clinic chart.

#![allow(dead_code)]

use chrono::{DateTime, FixedOffset, TimeZone};
use kapchart::app::Chart;
use kapchart::config::Config;
use kapchart::domain::PatientId;
use std::path::PathBuf;
use std::time::Instant;

pub const PASSPHRASE: &str = "kapchart-bench";
pub const CLINICIAN: &str = "Dr. Bench Clinician";
pub const BUSY_TIMEOUT_MS: u32 = 5000;
/// The seed of the cached clinic charts.
pub const SEED: u64 = 2026;
/// A ten-year clinic: about 2,000 patients (roughly 600,000 entries).
pub const CLINIC_PATIENTS: usize = 2000;

/// The benches' "now": fixed, so a cached chart means the same thing on every run.
pub fn now() -> DateTime<FixedOffset> {
    FixedOffset::east_opt(3600)
        .expect("offset")
        .with_ymd_and_hms(2026, 11, 26, 10, 0, 0)
        .single()
        .expect("time")
}

/// `target/bench-data/`, on the same disk as the build (so fsync is real).
pub fn data_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    let dir = target.join("bench-data");
    std::fs::create_dir_all(&dir).expect("create target/bench-data");
    dir
}

/// How many patients the "ten-year" chart has: 2,000, or `KAPCHART_BENCH_PATIENTS`.
pub fn clinic_patients() -> usize {
    std::env::var("KAPCHART_BENCH_PATIENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(CLINIC_PATIENTS)
}

/// A new, empty chart at `target/bench-data/NAME` (any old one removed).
pub fn fresh_chart(name: &str) -> (PathBuf, Chart) {
    let path = data_dir().join(name);
    remove_chart(&path);
    let chart = Chart::create(
        &path,
        PASSPHRASE,
        CLINICIAN,
        BUSY_TIMEOUT_MS,
        now() - chrono::Duration::days(3700),
    )
    .expect("create bench chart");
    (path, chart)
}

/// Removes the chart and every file kapchart keeps beside it (`-wal`, `-shm`, `.keyring`,
/// `.lock`, ...: the chart's name followed by `-` or `.`), so that the next run can create
/// it again: a keyring left alone makes `Chart::create` refuse, as it should for a user.
pub fn remove_chart(path: &std::path::Path) {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return;
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let file = entry.file_name();
        let (file, name) = (file.as_encoded_bytes(), name.as_encoded_bytes());
        let beside = file.strip_prefix(name).is_some_and(|rest| {
            rest.is_empty() || rest.starts_with(b"-") || rest.starts_with(b".")
        });
        if beside {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

pub fn open(path: &std::path::Path) -> Chart {
    // Signed in by name: a generated chart's team has a second clinician, the nurse who
    // witnesses its wastes.
    Chart::open_as(path, CLINICIAN, PASSPHRASE, BUSY_TIMEOUT_MS).expect("open bench chart")
}

/// The chart of a clinic with `patients` patients from `SEED`, generated once and cached
/// under `target/bench-data/` (a 2,000-patient chart takes minutes).
pub fn clinic_chart(patients: usize) -> PathBuf {
    let name = format!(
        "clinic-schema{}-gen{}-p{patients}-s{SEED}.db",
        kapchart::store::schema::LATEST,
        kapchart::demo::scale::VERSION
    );
    let path = data_dir().join(&name);
    if path.exists() {
        return path;
    }
    let partial = data_dir().join(format!("{name}.partial"));
    let (_, mut chart) = fresh_chart(&format!("{name}.partial"));
    eprintln!("generating {name}: {patients} patients (cached for later runs)");
    let started = Instant::now();
    let mut last = Instant::now();
    let report = kapchart::demo::scale::generate(
        &mut chart,
        &Config::default(),
        patients,
        SEED,
        now(),
        &mut |done, total| {
            if last.elapsed().as_secs() >= 10 {
                last = Instant::now();
                eprintln!(
                    "  {done} / ~{total} entries, {:.0} s",
                    started.elapsed().as_secs_f64()
                );
            }
        },
    )
    .expect("generate the clinic chart");
    // What was written is walked once, as `kapchart demo --patients` does, so that opening
    // the cached chart checks only what was written since.
    chart.check_written().expect("check what was generated");
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "generated {} patients, {} sessions, {} entries in {secs:.1} s ({:.1} s per 100,000 entries)",
        report.patients,
        report.sessions,
        report.entries,
        secs * 100_000.0 / report.entries.max(1) as f64
    );
    drop(chart);
    // The chart's keyring sits beside it (`NAME.keyring`) and moves with it.
    let keyring = |chart: &std::path::Path| {
        let mut name = chart.as_os_str().to_owned();
        name.push(".keyring");
        PathBuf::from(name)
    };
    if keyring(&partial).exists() {
        std::fs::rename(keyring(&partial), keyring(&path)).expect("move the chart's keyring");
    }
    // And the head it was last checked at (`NAME.checked`).
    let checked = |chart: &std::path::Path| {
        let mut name = chart.as_os_str().to_owned();
        name.push(".checked");
        PathBuf::from(name)
    };
    if checked(&partial).exists() {
        std::fs::rename(checked(&partial), checked(&path)).expect("move the checked head");
    }
    std::fs::rename(&partial, &path).expect("move the generated chart into place");
    path
}

/// The patient `SYN-000001` (the generator's first patient: the same person in every chart
/// made from `SEED`).
pub fn first_patient(chart: &Chart) -> PatientId {
    chart
        .patients()
        .expect("patients")
        .into_iter()
        .find(|p| p.mrn.as_deref() == Some("SYN-000001"))
        .expect("patient SYN-000001")
        .id
}
