//! Durable commit: one quick-entry line charted the real way (`charting::record_line`: parsed,
//! planned, written with its audit row, committed with synchronous=FULL) against a bare
//! rusqlite INSERT of the same payload JSON into a plain table of the SAME encrypted chart,
//! with the same pragmas. Both commit once, so both pay one WAL fsync: the ratio is what
//! kapchart adds on top of the cheapest durable write SQLCipher can do.

mod common;

use chrono::Duration;
use criterion::{Criterion, criterion_group, criterion_main};
use kapchart::app::Chart;
use kapchart::app::charting;
use kapchart::config::Config;
use kapchart::domain::SessionKind;
use kapchart::domain::grammar::parse_line;
use kapchart::store::{NewPatient, NewSession};
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

    /// A new dosing session with its baseline and dose, when the current one is full.
    fn next_session_if_full(&mut self) {
        if self.in_session < PER_SESSION {
            return;
        }
        self.clock += Duration::minutes(1);
        // The full session stays open: a second open dosing session is meant here (the
        // bench only needs sessions of realistic size), so say so.
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
        .behind_the_door_ref()
        .raw_connection()
        .execute_batch(
            "CREATE TABLE IF NOT EXISTS bench_baseline (id INTEGER PRIMARY KEY, payload TEXT)",
        )
        .expect("baseline table");
    // The same bytes kapchart stores for the line.
    let parsed =
        parse_line(LINE, &bed.config.parse_context(bed.clock, Some(70.0))).expect("line parses");
    let payload = serde_json::to_string(&parsed.entries[0]).expect("payload json");
    let sync: String = bed
        .chart
        .behind_the_door_ref()
        .raw_connection()
        .query_row("PRAGMA synchronous", [], |r| r.get::<_, i64>(0))
        .map(|v| v.to_string())
        .expect("synchronous");
    eprintln!(
        "synchronous = {sync} (2 = FULL); payload {} bytes",
        payload.len()
    );

    frames_per_write(&mut bed, &payload, 200);

    // The floor under any design of a signed, chained line, beside the bare INSERT: what
    // would be left if a line were only its own row (payload, chain link, signature) with
    // the one index a session's screen needs.
    floor(&mut bed, &payload, 400, true);
    // And the same row unsigned: what the signature alone adds to the floor.
    floor(&mut bed, &payload, 400, false);

    // Alternating pairs first: fsync latency on a shared VM drifts from second to second,
    // and a pair sees the same disk and the same load on both sides.
    paired(&mut bed, &payload, 400);

    let mut g = c.benchmark_group("durable_commit");
    g.bench_function("record_line", |b| {
        b.iter_custom(|iters| record_lines(&mut bed, iters))
    });
    g.bench_function("bare_insert", |b| {
        b.iter(|| black_box(bare_insert(&bed.chart, &payload)))
    });
    g.finish();

    // The same two without the fsync (synchronous = OFF): what is left is the CPU and the
    // writes to the OS; FULL minus OFF is what durability costs each side.
    set_synchronous(&bed.chart, "OFF");
    let mut g = c.benchmark_group("commit_without_fsync");
    g.bench_function("record_line", |b| {
        b.iter_custom(|iters| record_lines(&mut bed, iters))
    });
    g.bench_function("bare_insert", |b| {
        b.iter(|| black_box(bare_insert(&bed.chart, &payload)))
    });
    g.finish();
    set_synchronous(&bed.chart, "FULL");

    // Last, as it changes the chart: the same count with the search index's table replaced
    // by a view that drops what is written to it (a line's pages without the index).
    bed.chart
        .behind_the_door_ref()
        .raw_connection()
        .execute_batch(
            "DROP TABLE entry_search;
             CREATE VIEW entry_search (rowid, text) AS SELECT 0, '';
             CREATE TRIGGER entry_search_dropped INSTEAD OF INSERT ON entry_search
             BEGIN SELECT 1; END;",
        )
        .expect("the index replaced");
    eprint!("without the search index: ");
    frames_per_write(&mut bed, &payload, 200);
}

/// The least a durable, signed line can be: one row in a table with one index, holding the
/// payload, an HMAC-SHA256 chain link over the previous link and the content, and an Ed25519
/// signature over both; no audit table, no search index, no session read. Timed in
/// alternating pairs with the bare INSERT (durable, then without the fsync), so the ratio
/// says how far below `record_line` any reshaping of the chart's tables could bring a line on
/// this disk. Prints its WAL pages per commit too.
fn floor(bed: &mut Bed, payload: &str, n: usize, signed: bool) {
    use ed25519_dalek::{Signer, SigningKey};
    use hmac::{Hmac, KeyInit, Mac};
    let conn = bed.chart.behind_the_door_ref().raw_connection();
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS bench_floor (id INTEGER PRIMARY KEY, session_id INTEGER,
           at TEXT, payload TEXT, link BLOB, signature BLOB);
         CREATE INDEX IF NOT EXISTS bench_floor_session ON bench_floor (session_id, at);",
    )
    .expect("floor table");
    let key = SigningKey::from_bytes(&[7; 32]);
    let mut link = [0u8; 32];
    let mut at = bed.clock;
    let mut line = |conn: &rusqlite::Connection| {
        at += Duration::seconds(20);
        let when = at.to_rfc3339();
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&[9; 32]).expect("hmac key");
        mac.update(&link);
        mac.update(when.as_bytes());
        mac.update(payload.as_bytes());
        link.copy_from_slice(&mac.finalize().into_bytes());
        let signature = if signed {
            key.sign(&[&link[..], payload.as_bytes()].concat())
                .to_bytes()
        } else {
            [0; 64]
        };
        conn.prepare_cached(
            "INSERT INTO bench_floor (session_id, at, payload, link, signature)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .expect("prepare")
        .execute(rusqlite::params![
            bed.session,
            when,
            payload,
            &link[..],
            &signature[..]
        ])
        .expect("floor insert")
    };
    let wal = {
        let mut p = bed.chart.path().as_os_str().to_owned();
        p.push("-wal");
        std::path::PathBuf::from(p)
    };
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA wal_autocheckpoint = 0;")
        .expect("checkpoint");
    let before = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    for _ in 0..200 {
        line(conn);
    }
    let after = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    eprintln!(
        "floor line ({}): WAL frames per commit (x200) {:.1}",
        if signed { "signed" } else { "unsigned" },
        (after - before) as f64 / 4120.0 / 200.0
    );
    conn.execute_batch("PRAGMA wal_autocheckpoint = 1000; PRAGMA wal_checkpoint(TRUNCATE);")
        .expect("checkpoint");
    for sync in ["FULL", "OFF"] {
        conn.pragma_update(None, "synchronous", sync)
            .expect("synchronous");
        let (mut fl, mut bare, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..n {
            let time = |f: &mut dyn FnMut()| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64()
            };
            let (f, b) = if i % 2 == 0 {
                let f = time(&mut || {
                    black_box(line(conn));
                });
                (
                    f,
                    time(&mut || {
                        black_box(bare_insert(&bed.chart, payload));
                    }),
                )
            } else {
                let b = time(&mut || {
                    black_box(bare_insert(&bed.chart, payload));
                });
                (
                    time(&mut || {
                        black_box(line(conn));
                    }),
                    b,
                )
            };
            fl.push(f);
            bare.push(b);
            ratios.push(f / b);
        }
        for v in [&mut fl, &mut bare, &mut ratios] {
            v.sort_by(|a, b| a.total_cmp(b));
        }
        let m = n / 2;
        eprintln!(
            "floor line ({}), synchronous = {sync}, paired x{n}: floor median {:.0} us, \
             bare_insert median {:.0} us, ratio of medians {:.2}, median pair ratio {:.2}",
            if signed { "signed" } else { "unsigned" },
            fl[m] * 1e6,
            bare[m] * 1e6,
            fl[m] / bare[m],
            ratios[m]
        );
    }
    conn.pragma_update(None, "synchronous", "FULL")
        .expect("synchronous");
}

/// `n` pairs of (record_line, bare insert), alternating which goes first; prints the medians
/// and the median of the per-pair ratios.
fn paired(bed: &mut Bed, payload: &str, n: usize) {
    let mut line = Vec::with_capacity(n);
    let mut bare = Vec::with_capacity(n);
    let mut ratios = Vec::with_capacity(n);
    for i in 0..n {
        let time_bare = |chart: &Chart| {
            let t = Instant::now();
            black_box(bare_insert(chart, payload));
            t.elapsed().as_secs_f64()
        };
        let (l, b) = if i % 2 == 0 {
            let l = record_lines(bed, 1).as_secs_f64();
            (l, time_bare(&bed.chart))
        } else {
            let b = time_bare(&bed.chart);
            (record_lines(bed, 1).as_secs_f64(), b)
        };
        line.push(l);
        bare.push(b);
        ratios.push(l / b);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.total_cmp(b));
        v[v.len() / 2]
    };
    let (ml, mb, mr) = (median(&mut line), median(&mut bare), median(&mut ratios));
    eprintln!(
        "paired x{n}: record_line median {:.0} us, bare_insert median {:.0} us, \
         ratio of medians {:.2}, median pair ratio {mr:.2}",
        ml * 1e6,
        mb * 1e6,
        ml / mb
    );
}

/// WAL frames (pages) each side writes per commit, counted from the WAL's growth with the
/// automatic checkpoint held off: what a line costs in pages, each encrypted, HMACed and
/// written before the fsync.
fn frames_per_write(bed: &mut Bed, payload: &str, n: u64) {
    let wal = {
        let mut p = bed.chart.path().as_os_str().to_owned();
        p.push("-wal");
        std::path::PathBuf::from(p)
    };
    // SQLCipher answers `PRAGMA page_size` as text.
    let page: i64 = bed
        .chart
        .behind_the_door_ref()
        .raw_connection()
        .query_row("PRAGMA page_size", [], |r| r.get::<_, String>(0))
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4096);
    bed.chart
        .behind_the_door_ref()
        .raw_connection()
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA wal_autocheckpoint = 0;")
        .expect("checkpoint");
    let size = || std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    let before = size();
    record_lines(bed, n);
    let lines = size() - before;
    let before = size();
    for _ in 0..n {
        bare_insert(&bed.chart, payload);
    }
    let bare = size() - before;
    let frame = (page + 24) as f64; // each frame: a 24-byte header and the page
    eprintln!(
        "WAL frames per commit (x{n}, page {page} bytes): record_line {:.1}, bare_insert {:.1}",
        lines as f64 / frame / n as f64,
        bare as f64 / frame / n as f64
    );
    bed.chart
        .behind_the_door_ref()
        .raw_connection()
        .execute_batch("PRAGMA wal_autocheckpoint = 1000; PRAGMA wal_checkpoint(TRUNCATE);")
        .expect("checkpoint");
}

fn set_synchronous(chart: &Chart, value: &str) {
    chart
        .behind_the_door_ref()
        .raw_connection()
        .pragma_update(None, "synchronous", value)
        .expect("synchronous");
}

/// `iters` lines charted the real way; only `record_line` is timed.
fn record_lines(bed: &mut Bed, iters: u64) -> std::time::Duration {
    let mut total = std::time::Duration::ZERO;
    for _ in 0..iters {
        bed.next_session_if_full();
        bed.clock += Duration::seconds(20);
        let now = bed.clock;
        let started = Instant::now();
        let ids = charting::record_line(&mut bed.chart, &bed.config, bed.session, LINE, &now)
            .expect("record_line");
        total += started.elapsed();
        black_box(ids);
        bed.in_session += 1;
    }
    total
}

/// The same payload bytes, inserted bare (one autocommit transaction).
fn bare_insert(chart: &Chart, payload: &str) -> usize {
    let mut stmt = chart
        .behind_the_door_ref()
        .raw_connection()
        .prepare_cached("INSERT INTO bench_baseline (payload) VALUES (?1)")
        .expect("prepare");
    stmt.execute([payload]).expect("insert")
}

criterion_group!(benches, durable_commit);
criterion_main!(benches);
