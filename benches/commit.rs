//! Durable commit: one quick-entry line charted the real way (`charting::record_line`: parsed,
//! planned, written with its audit row, committed with synchronous=FULL) against a bare
//! rusqlite INSERT of the same payload JSON into a plain table of the SAME encrypted chart,
//! with the same pragmas. Both commit once, so both pay one WAL fsync: the ratio is what
//! kapchart adds on top of the cheapest durable write SQLCipher can do.

mod common;

use chrono::Duration;
use criterion::{Criterion, criterion_group, criterion_main};
use kapchart::charting;
use kapchart::config::Config;
use kapchart::domain::SessionKind;
use kapchart::domain::grammar::{ParseContext, parse_line};
use kapchart::store::{Chart, NewPatient, NewSession};
use std::hint::black_box;
use std::time::Instant;

const LINE: &str = "bp 128/82 hr 74 spo2 97";
/// A dosing session holds about forty entries; a new one is started (untimed) after this
/// many, so the session read by `record_line` stays the size of a real one.
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
    fn new() -> Bed {
        let (_, mut chart) = common::fresh_chart("commit.db");
        let clock = common::now();
        let patient = chart
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

    /// A new dosing session with its baseline and dose, when the current one is full.
    fn next_session_if_full(&mut self) {
        if self.in_session < PER_SESSION {
            return;
        }
        self.clock += Duration::minutes(1);
        self.session = self
            .chart
            .start_session(
                &NewSession {
                    patient_id: self.patient,
                    kind: SessionKind::Dosing,
                    started: self.clock,
                    intention: None,
                    dosing_session_id: None,
                },
                self.clock,
            )
            .expect("session");
        for line in ["bp 124/80 hr 72 spo2 98", "dose ketamine 0.5mg/kg IM"] {
            charting::record_line(
                &mut self.chart,
                &self.config,
                self.session,
                line,
                &self.clock,
            )
            .expect("line");
        }
        self.in_session = 2;
    }
}

fn durable_commit(c: &mut Criterion) {
    let mut bed = Bed::new();
    bed.chart
        .raw_connection()
        .execute_batch(
            "CREATE TABLE IF NOT EXISTS bench_baseline (id INTEGER PRIMARY KEY, payload TEXT)",
        )
        .expect("baseline table");
    // The same bytes kapchart stores for the line.
    let parsed = parse_line(
        LINE,
        &ParseContext {
            now: bed.clock,
            weight_kg: Some(70.0),
            drugs: &bed.config.drugs.known,
            measures: &bed.config.measures,
        },
    )
    .expect("line parses");
    let payload = serde_json::to_string(&parsed.entries[0]).expect("payload json");
    let sync: String = bed
        .chart
        .raw_connection()
        .query_row("PRAGMA synchronous", [], |r| r.get::<_, i64>(0))
        .map(|v| v.to_string())
        .expect("synchronous");
    eprintln!(
        "synchronous = {sync} (2 = FULL); payload {} bytes",
        payload.len()
    );

    let mut g = c.benchmark_group("durable_commit");
    g.bench_function("record_line", |b| {
        b.iter_custom(|iters| {
            let mut total = std::time::Duration::ZERO;
            for _ in 0..iters {
                bed.next_session_if_full();
                bed.clock += Duration::seconds(20);
                let now = bed.clock;
                let started = Instant::now();
                let ids =
                    charting::record_line(&mut bed.chart, &bed.config, bed.session, LINE, &now)
                        .expect("record_line");
                total += started.elapsed();
                black_box(ids);
                bed.in_session += 1;
            }
            total
        })
    });
    g.bench_function("bare_insert", |b| {
        let conn = bed.chart.raw_connection();
        let mut stmt = conn
            .prepare("INSERT INTO bench_baseline (payload) VALUES (?1)")
            .expect("prepare");
        b.iter(|| black_box(stmt.execute([payload.as_str()]).expect("insert")))
    });
    g.finish();
}

criterion_group!(benches, durable_commit);
criterion_main!(benches);
