//! Opening to the first frame, at a ten-year clinic's scale (2,000 patients, or
//! `KAPCHART_BENCH_PATIENTS`) against a chart with one patient.
//!
//! - `home/*`: what the home screen reads (patients, all sessions, pending integrations) and
//!   one frame of it drawn at 160x48.
//! - `live/*`: `app::views::live_data` for a dosing session and one frame of the live screen.
//! - `unlock/*`: `Chart::open` (SQLCipher key derivation, the schema check), on its own.
//!
//! Both sides show the same patient (the generator's first, the same person for one seed)
//! and the same session, so the ratio is what the rest of the chart costs. The chart is opened
//! once outside the timed loop: key derivation is not in the frame figures.

mod common;

use criterion::{Criterion, criterion_group, criterion_main};
use kapchart::config::Config;
use kapchart::domain::SessionKind;
use kapchart::store::Chart;
use kapchart::tui::app::{Action, App, Screen, update};
use kapchart::tui::home::HomeData;
use kapchart::tui::keymap::Keymap;
use kapchart::tui::theme::Theme;
use kapchart::tui::view;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

struct Side {
    label: &'static str,
    path: PathBuf,
    chart: Chart,
    session: i64,
}

fn side(label: &'static str, path: PathBuf) -> Side {
    let chart = common::open(&path);
    let patient = common::first_patient(&chart);
    let session = chart
        .sessions(Some(patient))
        .expect("sessions")
        .into_iter()
        .find(|s| s.kind == SessionKind::Dosing)
        .expect("a dosing session")
        .id;
    Side {
        label,
        path,
        chart,
        session,
    }
}

fn app(config: &Arc<Config>) -> App {
    let mut app = App::new(
        Screen::Locked {
            passphrase: String::new(),
            error: None,
        },
        common::now(),
        Keymap::default(),
        config.clone(),
    );
    app.theme = Theme { color: true };
    app
}

/// What `tui::Runtime::home` reads.
fn home_data(chart: &Chart, config: &Config) -> HomeData {
    let now = common::now();
    let sessions = chart.sessions(None).expect("sessions");
    let integrations = kapchart::domain::integration::pending(&sessions, &config.integration, now);
    HomeData {
        patients: chart.patients().expect("patients"),
        sessions,
        integrations,
        today: now.date_naive(),
        rems_due: kapchart::app::rems::forms_due(chart, config).expect("REMS forms due"),
    }
}

fn home_frame(chart: &Chart, config: &Arc<Config>, term: &mut Terminal<TestBackend>) {
    let mut app = app(config);
    update(&mut app, Action::HomeLoaded(Ok(home_data(chart, config))));
    term.draw(|f| view::draw(&app, f)).expect("draw");
}

fn live_frame(chart: &Chart, session: i64, config: &Arc<Config>, term: &mut Terminal<TestBackend>) {
    let mut app = app(config);
    let data =
        kapchart::app::views::live_data(chart, &kapchart::config::Config::default(), session)
            .expect("live data");
    update(&mut app, Action::Opened(Ok(data)));
    term.draw(|f| view::draw(&app, f)).expect("draw");
}

fn first_frame(c: &mut Criterion) {
    let patients = common::clinic_patients();
    let sides = [
        side("one_patient", common::clinic_chart(1)),
        side("clinic", common::clinic_chart(patients)),
    ];
    let config = Arc::new(Config::default());
    for s in &sides {
        let t = Instant::now();
        let h = home_data(&s.chart, &config);
        let read = t.elapsed();
        let t = Instant::now();
        let sessions = s.chart.sessions(None).expect("sessions").len();
        let all_sessions = t.elapsed();
        let t = Instant::now();
        let p = s.chart.patients().expect("patients").len();
        let all_patients = t.elapsed();
        eprintln!(
            "{}: {} patients, {} sessions, {} entries, {} pending integrations, {:.1} MB; \
             home read {read:?} (sessions(None) {all_sessions:?} for {sessions}, patients() {all_patients:?} for {p})",
            s.label,
            h.patients.len(),
            h.sessions.len(),
            s.chart.entry_count().expect("count"),
            h.integrations.len(),
            std::fs::metadata(&s.path).map(|m| m.len()).unwrap_or(0) as f64 / 1e6,
        );
    }

    let mut term = Terminal::new(TestBackend::new(160, 48)).expect("terminal");
    // At ten years a home frame takes seconds (see BENCHMARKS.md): ten samples.
    let mut g = c.benchmark_group("home");
    g.sample_size(10);
    for s in &sides {
        g.bench_function(s.label, |b| {
            b.iter(|| home_frame(&s.chart, &config, &mut term))
        });
    }
    g.finish();

    // Where the clinic's home frame goes.
    let clinic = &sides[1];
    let sessions = clinic.chart.sessions(None).expect("sessions");
    let mut g = c.benchmark_group("home_parts_clinic");
    g.sample_size(10);
    g.bench_function("sessions_all", |b| {
        b.iter(|| black_box(clinic.chart.sessions(None).expect("sessions")))
    });
    g.bench_function("patients", |b| {
        b.iter(|| black_box(clinic.chart.patients().expect("patients")))
    });
    g.bench_function("pending_integrations", |b| {
        b.iter(|| {
            black_box(kapchart::domain::integration::pending(
                &sessions,
                &config.integration,
                common::now(),
            ))
        })
    });
    let data = home_data(&clinic.chart, &config);
    g.bench_function("draw_only", |b| {
        b.iter(|| {
            let mut app = app(&config);
            update(&mut app, Action::HomeLoaded(Ok(data.clone())));
            term.draw(|f| view::draw(&app, f)).expect("draw");
        })
    });
    g.finish();

    let mut g = c.benchmark_group("live");
    for s in &sides {
        g.bench_function(s.label, |b| {
            b.iter(|| live_frame(&s.chart, s.session, &config, &mut term))
        });
    }
    g.finish();

    let mut g = c.benchmark_group("live_read");
    for s in &sides {
        g.bench_function(s.label, |b| {
            b.iter(|| {
                black_box(
                    kapchart::app::views::live_data(
                        &s.chart,
                        &kapchart::config::Config::default(),
                        s.session,
                    )
                    .expect("live data"),
                )
            })
        });
    }
    g.finish();

    // Where the clinic's live frame goes.
    let patient = common::first_patient(&clinic.chart);
    let mut g = c.benchmark_group("live_parts_clinic");
    g.bench_function("sessions_of_patient", |b| {
        b.iter(|| black_box(clinic.chart.sessions(Some(patient)).expect("sessions")))
    });
    g.bench_function("session_entries", |b| {
        b.iter(|| black_box(clinic.chart.entries(clinic.session).expect("entries")))
    });
    g.bench_function("safety_flag", |b| {
        b.iter(|| {
            black_box(kapchart::app::course::safety_flag(&clinic.chart, patient).expect("flag"))
        })
    });
    let data = kapchart::app::views::live_data(
        &clinic.chart,
        &kapchart::config::Config::default(),
        clinic.session,
    )
    .expect("live data");
    g.bench_function("draw_only", |b| {
        b.iter(|| {
            let mut app = app(&config);
            update(&mut app, Action::Opened(Ok(data.clone())));
            term.draw(|f| view::draw(&app, f)).expect("draw");
        })
    });
    g.finish();

    suggested(c, clinic);

    let mut g = c.benchmark_group("unlock");
    g.sample_size(10);
    for s in &sides {
        g.bench_function(s.label, |b| b.iter(|| black_box(common::open(&s.path))));
    }
    g.finish();
}

/// The columns `Chart::sessions` reads (its end time from the session's end entry).
const SESSION_SQL: &str = "SELECT s.id, s.patient_id, s.kind, s.started_at, s.started_offset, c.name, \
     s.intention, s.dosing_session_id, \
     (SELECT e.event_at || ' ' || e.event_offset FROM entries e \
        WHERE e.session_id = s.id AND e.kind = 'session-end' \
          AND NOT EXISTS (SELECT 1 FROM entries x WHERE x.corrects = e.id) \
        ORDER BY e.event_at DESC LIMIT 1) \
     FROM sessions s JOIN clinicians c ON c.id = s.clinician_id";

fn plan(chart: &Chart, sql: &str) -> String {
    let mut stmt = chart
        .raw_connection()
        .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
        .expect("explain");
    let rows = stmt
        .query_map([], |r| r.get::<_, String>(3))
        .expect("plan")
        .collect::<Result<Vec<_>, _>>()
        .expect("plan rows");
    rows.join(" | ")
}

/// What the slow parts would cost with the fixes suggested in BENCHMARKS.md, measured on the
/// same data: a covering partial index for session ends (on a copy of the clinic chart), and
/// the one-patient session query without `?1 IS NULL OR`.
fn suggested(c: &mut Criterion, clinic: &Side) {
    let all = format!(
        "{SESSION_SQL} WHERE ?1 IS NULL OR s.patient_id = ?1 ORDER BY s.started_at DESC, s.id DESC"
    );
    let one =
        format!("{SESSION_SQL} WHERE s.patient_id = ?1 ORDER BY s.started_at DESC, s.id DESC");
    eprintln!(
        "plan sessions(None/Some): {}",
        plan(&clinic.chart, &all.replace("?1", "NULL"))
    );
    eprintln!(
        "plan by patient only:      {}",
        plan(&clinic.chart, &one.replace("?1", "1"))
    );

    let copy = clinic.path.with_extension("indexed.db");
    if !copy.exists() {
        std::fs::copy(&clinic.path, &copy).expect("copy the clinic chart");
    }
    let indexed = common::open(&copy);
    indexed
        .raw_connection()
        .execute_batch(
            "CREATE INDEX IF NOT EXISTS bench_entries_session_end \
             ON entries(session_id, event_at, event_offset) WHERE kind = 'session-end'",
        )
        .expect("index");
    eprintln!(
        "plan with a covering index: {}",
        plan(&indexed, &all.replace("?1", "NULL"))
    );

    let patient = common::first_patient(&clinic.chart);
    let mut g = c.benchmark_group("suggested_clinic");
    g.sample_size(10);
    g.bench_function("sessions_all_with_covering_end_index", |b| {
        b.iter(|| black_box(indexed.sessions(None).expect("sessions")))
    });
    // Is the rest of the live read's gap page-cache churn? The same read on a connection
    // with a 64 MB page cache instead of SQLCipher's default 2 MB.
    let big_cache = common::open(&clinic.path);
    big_cache
        .raw_connection()
        .pragma_update(None, "cache_size", -65536)
        .expect("cache_size");
    g.bench_function("live_read_with_64mb_page_cache", |b| {
        b.iter(|| {
            black_box(
                kapchart::app::views::live_data(
                    &big_cache,
                    &kapchart::config::Config::default(),
                    clinic.session,
                )
                .expect("live data"),
            )
        })
    });
    g.bench_function("sessions_of_patient_by_index", |b| {
        let mut stmt = clinic
            .chart
            .raw_connection()
            .prepare(&one)
            .expect("prepare");
        b.iter(|| {
            let n = stmt
                .query_map([patient], |r| r.get::<_, i64>(0))
                .expect("query")
                .count();
            black_box(n)
        })
    });
    g.finish();
}

criterion_group!(benches, first_frame);
criterion_main!(benches);
