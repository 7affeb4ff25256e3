//! `kapchart sync` at a clinic's scale: the release binary sends the generated chart of
//! 2,000 patients (or `KAPCHART_BENCH_PATIENTS`), and beside it one of a tenth of that
//! (`KAPCHART_BENCH_SYNC_SMALL`, 200 by default), to the local FHIR R4 server the sync tests
//! use (Medplum's router in memory, `tests/fhir-server`, started as `tests/common/fhir_server`
//! starts it), each chart a fresh copy of the cached generated one with its own server.
//!
//! For each chart, timed by the wall clock, with the kapchart process's peak memory (VmHWM
//! from `/proc/PID/status`, read every 5 ms while it runs) and the CPU time (user + system,
//! `/proc/PID/stat`) of the kapchart process and of the server's, so that the time of a sync
//! splits into what kapchart spent and what the server did:
//! - `first`: the first sync (every resource sent; resources per second);
//! - `unchanged`: a second sync with nothing changed;
//! - `one entry`: a sync after one new session with one entry for one patient;
//! - `unchanged, --full`: a sync of the unchanged chart building every patient's record, as
//!   every second sync did before (the baseline the two above are measured against).
//!
//! During the first sync, every `KAPCHART_BENCH_SYNC_TRACE_SECS` (30 by default) it prints
//! how many resources the server holds and the CPU time each side spent since the last line:
//! whether a resource costs more as the server's repository grows.
//!
//! The ratio clinic / small is what the bench is for: the first sync's rate and the peak
//! memory flat with the chart's size, the second syncs costing what changed, not the chart.
//! Not criterion: one sync of the clinic takes minutes; run it once
//! (`cargo bench --locked --bench sync`), never in a loop.

mod common;

#[path = "../tests/common/fhir_server.rs"]
#[allow(dead_code)]
mod fhir_server;

use fhir_server::FhirServer;
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

/// One run of the binary: wall time, peak resident memory (kB), CPU time (s) of kapchart and
/// of the server while it ran, and what it printed.
struct Run {
    secs: f64,
    peak_kb: u64,
    cpu: f64,
    server_cpu: f64,
    out: Value,
}

/// The resource types kapchart sends (what the server is asked to count while a first sync
/// runs).
const TYPES: [&str; 17] = [
    "Patient",
    "Practitioner",
    "Encounter",
    "Observation",
    "MedicationAdministration",
    "QuestionnaireResponse",
    "DocumentReference",
    "Provenance",
    "Medication",
    "Organization",
    "SupplyDelivery",
    "Communication",
    "List",
    "MedicationStatement",
    "Flag",
    "RiskAssessment",
    "Consent",
];

/// Clock ticks per second of `/proc/PID/stat`'s times (`getconf CLK_TCK`; 100 on Linux).
fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

/// A process's CPU time so far (user + system, fields 14 and 15 of `/proc/PID/stat`, counted
/// after the command name, which may hold spaces), in seconds. A process that exited but is
/// not yet waited for still shows its whole time, so the last reading before `try_wait`
/// reaps it is exact or at most one poll short.
fn cpu(pid: u32, ticks: f64) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / ticks)
}

/// Where a first sync stood at one line of its trace.
struct Mark {
    at: Instant,
    kapchart_cpu: f64,
    server_cpu: f64,
    held: usize,
}

/// A process's resident memory now, in kB.
fn rss(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// The peak resident memory of a running process so far, in kB.
fn hwm(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

struct Clinic {
    chart: PathBuf,
    config: PathBuf,
    home: PathBuf,
}

impl Clinic {
    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_kapchart"));
        c.arg("--db")
            .arg(&self.chart)
            .args(args)
            .env("KAPCHART_CONFIG", &self.config)
            .env("KAPCHART_PASSPHRASE", common::PASSPHRASE)
            .env("KAPCHART_CLINICIAN", common::CLINICIAN)
            .env("HOME", &self.home)
            .env("XDG_STATE_HOME", self.home.join("state"))
            .env("XDG_DATA_HOME", self.home.join("data"))
            .env_remove("KAPCHART_SYNC_TOKEN")
            .env_remove("KAPCHART_DB");
        c
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.cmd(args).output().expect("run kapchart");
        assert!(
            out.status.success(),
            "kapchart {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// `kapchart sync --json` (and `extra`) to `server`, timed, its peak memory and both
    /// sides' CPU time watched; with `trace`, the server's growth printed as it goes.
    fn sync(&self, server: &FhirServer, trace: bool) -> Run {
        self.sync_with(server, &[], trace)
    }

    fn sync_with(&self, server: &FhirServer, extra: &[&str], trace: bool) -> Run {
        let ticks = clock_ticks();
        let server_pid = server.pid().expect("the local FHIR server");
        let server_cpu = || cpu(server_pid, ticks).unwrap_or(0.0);
        let held = || TYPES.iter().map(|t| server.count(t)).sum::<usize>();
        let every = Duration::from_secs_f64(
            std::env::var("KAPCHART_BENCH_SYNC_TRACE_SECS")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(30.0),
        );
        let mut mark = Mark {
            at: Instant::now(),
            kapchart_cpu: 0.0,
            server_cpu: server_cpu(),
            held: if trace { held() } else { 0 },
        };
        let server_before = mark.server_cpu;
        let started = Instant::now();
        let mut args = vec!["sync", "--json"];
        args.extend_from_slice(extra);
        let mut child = self
            .cmd(&args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run kapchart sync");
        let pid = child.id();
        let mut peak = 0;
        let mut spent = 0.0;
        let status = loop {
            if let Some(kb) = hwm(pid) {
                peak = peak.max(kb);
            }
            if let Some(s) = cpu(pid, ticks) {
                spent = s;
            }
            if let Some(status) = child.try_wait().expect("wait for kapchart") {
                break status;
            }
            if trace && mark.at.elapsed() >= every {
                let (now, held, server_now) = (Instant::now(), held(), server_cpu());
                let sent = held.saturating_sub(mark.held);
                let (mine, theirs) = (spent - mark.kapchart_cpu, server_now - mark.server_cpu);
                // Per resource only once some arrived: before that kapchart is still planning.
                let each = |cpu: f64| match sent {
                    0 => String::new(),
                    n => format!(" ({:.2} ms each)", cpu * 1000.0 / n as f64),
                };
                eprintln!(
                    "  {:.0} s: the server holds {held} (+{sent}, {:.0}/s); CPU since: kapchart {mine:.1} s{}, server {theirs:.1} s{}, server RSS {:.0} MB",
                    started.elapsed().as_secs_f64(),
                    sent as f64 / (now - mark.at).as_secs_f64(),
                    each(mine),
                    each(theirs),
                    mb(rss(server_pid).unwrap_or(0)),
                );
                mark = Mark {
                    at: now,
                    kapchart_cpu: spent,
                    server_cpu: server_now,
                    held,
                };
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let secs = started.elapsed().as_secs_f64();
        let server_spent = server_cpu() - server_before;
        let out = child.wait_with_output().expect("kapchart's output");
        assert!(
            status.success(),
            "kapchart sync: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out: Value = serde_json::from_slice(&out.stdout).expect("sync --json is JSON");
        Run {
            secs,
            peak_kb: peak,
            cpu: spent,
            server_cpu: server_spent,
            out,
        }
    }
}

/// A fresh copy of the cached generated chart of `patients` patients (and the files kept
/// beside it), with a config naming `server`.
fn clinic(patients: usize, server: &FhirServer) -> Clinic {
    let cached = common::clinic_chart(patients);
    let dir = common::data_dir().join(format!("sync-p{patients}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("home")).expect("the bench's folder");
    let chart = dir.join("chart.db");
    let name = cached
        .file_name()
        .expect("a file")
        .to_string_lossy()
        .to_string();
    for entry in std::fs::read_dir(cached.parent().expect("a folder"))
        .expect("target/bench-data")
        .flatten()
    {
        let file = entry.file_name().to_string_lossy().to_string();
        if let Some(rest) = file.strip_prefix(&name)
            && (rest.is_empty() || rest.starts_with('.') || rest.starts_with('-'))
            && !rest.starts_with(".partial")
        {
            std::fs::copy(entry.path(), dir.join(format!("chart.db{rest}")))
                .expect("copy the chart");
        }
    }
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[clinic]\nmrn_system = \"urn:oid:1.2.840.99999.1\"\n\n[sync]\nserver = \"{}\"\ntimeout_seconds = 600\n",
            server.base()
        ),
    )
    .expect("write the config");
    Clinic {
        chart,
        config,
        home: dir.join("home"),
    }
}

fn mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

/// The three syncs of one chart.
fn measure(label: &str, patients: usize) -> [Run; 4] {
    let server = FhirServer::start_with(&[("NODE_OPTIONS", "--max-old-space-size=16384")]);
    let clinic = clinic(patients, &server);
    let first = clinic.sync(&server, true);
    let unchanged = clinic.sync(&server, false);
    let patient = clinic.ok(&["patient", "list", "--json"]);
    let patient: Value = serde_json::from_str(&patient).expect("patient list --json");
    let first_id = patient
        .as_array()
        .and_then(|l| l.first())
        .map(|p| p["id"].to_string())
        .expect("a patient");
    let session = clinic.ok(&[
        "session",
        "start",
        "--patient",
        &first_id,
        "--kind",
        "follow-up",
    ]);
    clinic.ok(&["log", "--session", &session, "obs sleeping better"]);
    let one = clinic.sync(&server, false);
    // The baseline: what every second sync cost before, building every patient's record.
    let full = clinic.sync_with(&server, &["--full"], false);
    for (what, run) in [
        ("first", &first),
        ("unchanged", &unchanged),
        ("one entry", &one),
        ("unchanged, --full", &full),
    ] {
        eprintln!(
            "{label} ({patients} patients) {what}: {:.2} s (CPU: kapchart {:.2} s, server {:.2} s), peak {:.1} MB, sent {} in {} bundles, {} patients built, {:.0} resources/s",
            run.secs,
            run.cpu,
            run.server_cpu,
            mb(run.peak_kb),
            run.out["sent"],
            run.out["bundles"],
            run.out["patients_built"],
            run.out["sent"].as_u64().unwrap_or(0) as f64 / run.secs
        );
    }
    eprintln!(
        "{label}: the server holds {} Patient, {} Encounter, {} Observation, {} MedicationAdministration",
        server.count("Patient"),
        server.count("Encounter"),
        server.count("Observation"),
        server.count("MedicationAdministration")
    );
    [first, unchanged, one, full]
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs it to check it starts:
    // nothing is synced then.
    if !std::env::args().any(|a| a == "--bench") {
        eprintln!("benches/sync.rs: run with `cargo bench --locked --bench sync`");
        return;
    }
    let big = common::clinic_patients();
    let small = std::env::var("KAPCHART_BENCH_SYNC_SMALL")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or((big / 10).max(1));
    let loadavg = || std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    eprintln!("load before: {}", loadavg().trim());
    let s = measure("small", small);
    let b = measure("clinic", big);
    eprintln!("load after: {}", loadavg().trim());
    eprintln!("\n| sync | {small} patients | {big} patients | ratio |");
    eprintln!("|---|---|---|---|");
    let names = [
        "first",
        "second, unchanged",
        "after one new entry",
        "unchanged, --full (every record built)",
    ];
    for (i, name) in names.iter().enumerate() {
        eprintln!(
            "| {name}: time | {:.2} s | {:.2} s | {:.1} |",
            s[i].secs,
            b[i].secs,
            b[i].secs / s[i].secs
        );
        eprintln!(
            "| {name}: CPU, kapchart / server | {:.2} / {:.2} s | {:.2} / {:.2} s | {:.1} / {:.1} |",
            s[i].cpu,
            s[i].server_cpu,
            b[i].cpu,
            b[i].server_cpu,
            b[i].cpu / s[i].cpu.max(f64::MIN_POSITIVE),
            b[i].server_cpu / s[i].server_cpu.max(f64::MIN_POSITIVE)
        );
        eprintln!(
            "| {name}: sent | {} | {} | |",
            s[i].out["sent"], b[i].out["sent"]
        );
        eprintln!(
            "| {name}: peak memory | {:.1} MB | {:.1} MB | {:.2} |",
            mb(s[i].peak_kb),
            mb(b[i].peak_kb),
            b[i].peak_kb as f64 / s[i].peak_kb.max(1) as f64
        );
    }
    let rate = |r: &Run| r.out["sent"].as_u64().unwrap_or(0) as f64 / r.secs;
    eprintln!(
        "| first: resources/s | {:.0} | {:.0} | {:.2} |",
        rate(&s[0]),
        rate(&b[0]),
        rate(&b[0]) / rate(&s[0]).max(f64::MIN_POSITIVE)
    );
}
