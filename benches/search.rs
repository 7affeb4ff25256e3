//! Searching the chart by words, at a ten-year clinic's scale (2,000 patients, or
//! `KAPCHART_BENCH_PATIENTS`: the chart `kapchart demo --patients N` makes, from the same
//! generator) beside a chart with one patient, and what the search index costs the write path.
//!
//! - `search/*`: `app::search::search` (the read the search screen and `kapchart search` do,
//!   without their audit row, which is one write like any other) for a word a few entries
//!   hold, a word thousands hold, two words, one letter (a prefix of many words), and one
//!   patient's record (a word some of their entries hold, and one most entries of the chart
//!   hold), on both charts. Printed first: how many each finds and the chart's size.
//! - `write/*`: one quick-entry line charted the real way (`charting::record_line`, committed
//!   with synchronous=FULL) on a chart that indexes it and on the same kind of chart whose
//!   index table is replaced by a view that drops what is written to it (the write path as it
//!   was before the index), alternating in pairs; then the same without the fsync
//!   (synchronous=OFF), where what is left is the CPU and the writes to the OS.
//! - once, timed by the clock: rebuilding the index from the record (what the migration and
//!   `kapchart search --rebuild-index` do) and verify's check of it, on the clinic chart.
//!
//! `KAPCHART_BENCH_DEMO_CHART=PATH` measures a chart `kapchart demo --patients 2000 --no-tui
//! --db PATH` made (passphrase `KAPCHART_PASSPHRASE`, else the demo's) instead of the cached
//! bench clinic.

mod common;

use chrono::Duration;
use criterion::{Criterion, criterion_group, criterion_main};
use kapchart::app::Chart;
use kapchart::app::{charting, search};
use kapchart::config::Config;
use kapchart::domain::SessionKind;
use kapchart::store::{NewPatient, NewSession};
use std::hint::black_box;
use std::time::Instant;

/// (label, words, one patient only): from the generator's observations.
const SEARCHES: [(&str, &str, bool); 6] = [
    ("rare_word", "kitchen", false),
    ("common_word", "nystagmus", false),
    ("two_words", "tingling feet", false),
    ("one_letter", "t", false),
    ("one_patient", "nystagmus", true),
    ("one_patient_common_word", "bp", true),
];

/// Who opens a chart (a generated chart's team has a second clinician, its wastes' witness):
/// the benches' clinician, or the admin of a chart `kapchart demo --patients` made.
fn signs_in(pass: &str) -> &'static str {
    if pass == common::PASSPHRASE {
        common::CLINICIAN
    } else {
        kapchart::demo::DEMO_ADMIN
    }
}

fn searches(c: &mut Criterion) {
    let demo = std::env::var_os("KAPCHART_BENCH_DEMO_CHART").map(std::path::PathBuf::from);
    let demo_pass = std::env::var("KAPCHART_PASSPHRASE")
        .unwrap_or_else(|_| kapchart::demo::DEMO_PASSPHRASE.to_string());
    let sides = [
        (
            "one_patient_chart",
            common::clinic_chart(1),
            common::PASSPHRASE.to_string(),
        ),
        match demo {
            Some(path) => ("clinic", path, demo_pass),
            None => (
                "clinic",
                common::clinic_chart(common::clinic_patients()),
                common::PASSPHRASE.to_string(),
            ),
        },
    ];
    let mut g = c.benchmark_group("search");
    for (label, path, pass) in &sides {
        let chart = Chart::open_as(path, signs_in(pass), pass, common::BUSY_TIMEOUT_MS)
            .expect("open the chart");
        let patient = common::first_patient(&chart);
        eprintln!(
            "{label}: {} patients, {} entries",
            chart
                .behind_the_door_ref()
                .patient_count()
                .expect("patients"),
            chart.behind_the_door_ref().entry_count().expect("entries")
        );
        for (what, words, one) in SEARCHES {
            let scope = one.then_some(patient);
            let found = search::search(&chart, words, scope, search::LIMIT).expect("search");
            eprintln!(
                "  {what} {words:?}: {} shown{}",
                found.hits.len(),
                if found.more { ", more found" } else { "" }
            );
            g.bench_function(format!("{label}/{what}"), |b| {
                b.iter(|| {
                    black_box(search::search(&chart, words, scope, search::LIMIT).expect("search"))
                })
            });
        }
    }
    g.finish();
    rebuild_and_verify(&sides[1].1, &sides[1].2);
}

/// The index rebuilt from the record, and verify's check of it, once each on a copy of the
/// clinic chart.
fn rebuild_and_verify(path: &std::path::Path, pass: &str) {
    let copy = common::data_dir().join("search-rebuild.db");
    common::remove_chart(&copy);
    std::fs::copy(path, &copy).expect("copy the chart");
    let mut keyring = path.as_os_str().to_owned();
    keyring.push(".keyring");
    let mut copy_ring = copy.as_os_str().to_owned();
    copy_ring.push(".keyring");
    let _ = std::fs::copy(&keyring, &copy_ring);
    let mut chart = Chart::open_as(&copy, signs_in(pass), pass, common::BUSY_TIMEOUT_MS)
        .expect("open the copy");
    let t = Instant::now();
    let rows = chart.rebuild_search_index(common::now()).expect("rebuild");
    eprintln!(
        "rebuild: {rows} entries, notes and addenda indexed in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let problems = chart
        .behind_the_door_ref()
        .search_index_problems(&[])
        .expect("check");
    eprintln!(
        "verify's check of the index: {:.1} s ({} problems)",
        t.elapsed().as_secs_f64(),
        problems.len()
    );
    drop(chart);
    common::remove_chart(&copy);
    let _ = std::fs::remove_file(std::path::PathBuf::from(copy_ring));
}

const LINE: &str = "obs eyes closed, breathing slow and even #somatic";
/// A dosing session holds about forty entries; a new one is started after this many.
const PER_SESSION: usize = 40;

struct Bed {
    chart: Chart,
    config: Config,
    patient: i64,
    session: i64,
    in_session: usize,
    clock: chrono::DateTime<chrono::FixedOffset>,
}

impl Bed {
    fn new(name: &str, indexed: bool) -> Bed {
        // A new chart each run: the last run's keyring goes with its chart.
        let _ = std::fs::remove_file(common::data_dir().join(format!("{name}.keyring")));
        let (_, mut chart) = common::fresh_chart(name);
        if !indexed {
            // What is written to the index goes nowhere: the write path without it.
            chart
                .behind_the_door_ref()
                .raw_connection()
                .execute_batch(
                    "DROP TABLE entry_search;
                     CREATE VIEW entry_search (rowid, text) AS SELECT 0, '';
                     CREATE TRIGGER entry_search_dropped INSTEAD OF INSERT ON entry_search
                     BEGIN SELECT 1; END;",
                )
                .expect("the index replaced");
        }
        let clock = common::now();
        let patient = chart
            .behind_the_door()
            .add_patient(
                &NewPatient {
                    name: "Bench Patient".into(),
                    dob: chrono::NaiveDate::from_ymd_opt(1980, 1, 1).expect("date"),
                    mrn: None,
                    weight_kg: Some(70.0),
                },
                clock,
            )
            .expect("patient");
        let mut bed = Bed {
            chart,
            config: Config::default(),
            patient,
            session: 0,
            in_session: PER_SESSION,
            clock,
        };
        bed.next_session_if_full();
        bed
    }

    fn next_session_if_full(&mut self) {
        if self.in_session < PER_SESSION {
            return;
        }
        self.clock += Duration::minutes(1);
        self.session = self
            .chart
            .behind_the_door()
            .start_session_record(
                &NewSession {
                    patient_id: self.patient,
                    kind: SessionKind::Dosing,
                    started: self.clock,
                    intention: None,
                    dosing_session_id: None,
                },
                kapchart::store::Second::Meant,
                self.clock,
            )
            .expect("session");
        self.in_session = 0;
    }

    /// `iters` lines charted the real way; only `record_line` is timed.
    fn record(&mut self, iters: u64) -> std::time::Duration {
        let mut total = std::time::Duration::ZERO;
        for _ in 0..iters {
            self.next_session_if_full();
            self.clock += Duration::seconds(20);
            let now = self.clock;
            let started = Instant::now();
            let ids =
                charting::record_line(&mut self.chart, &self.config, self.session, LINE, &now)
                    .expect("record_line");
            total += started.elapsed();
            black_box(ids);
            self.in_session += 1;
        }
        total
    }

    fn synchronous(&self, value: &str) {
        self.chart
            .behind_the_door_ref()
            .raw_connection()
            .pragma_update(None, "synchronous", value)
            .expect("synchronous");
    }
}

/// `n` pairs, alternating which side goes first; prints the medians and the median ratio.
fn paired(with: &mut Bed, without: &mut Bed, n: usize, what: &str) {
    let (mut a, mut b, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..n {
        let (x, y) = if i % 2 == 0 {
            let x = with.record(1).as_secs_f64();
            (x, without.record(1).as_secs_f64())
        } else {
            let y = without.record(1).as_secs_f64();
            (with.record(1).as_secs_f64(), y)
        };
        a.push(x);
        b.push(y);
        ratios.push(x / y);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(|p, q| p.total_cmp(q));
        v[v.len() / 2]
    };
    let (ma, mb, mr) = (median(&mut a), median(&mut b), median(&mut ratios));
    eprintln!(
        "{what}, paired x{n}: with the index median {:.0} us, without {:.0} us, ratio of medians {:.2}, median pair ratio {mr:.2}",
        ma * 1e6,
        mb * 1e6,
        ma / mb
    );
}

fn write_path(c: &mut Criterion) {
    let mut with = Bed::new("search-write-indexed.db", true);
    let mut without = Bed::new("search-write-unindexed.db", false);
    paired(&mut with, &mut without, 300, "synchronous=FULL");
    let mut g = c.benchmark_group("write");
    g.bench_function("with_index", |b| b.iter_custom(|n| with.record(n)));
    g.bench_function("without_index", |b| b.iter_custom(|n| without.record(n)));
    g.finish();
    with.synchronous("OFF");
    without.synchronous("OFF");
    paired(&mut with, &mut without, 300, "synchronous=OFF");
    let mut g = c.benchmark_group("write_without_fsync");
    g.bench_function("with_index", |b| b.iter_custom(|n| with.record(n)));
    g.bench_function("without_index", |b| b.iter_custom(|n| without.record(n)));
    g.finish();
}

criterion_group!(benches, write_path, searches);
criterion_main!(benches);
