//! Opening to the first frame, at a ten-year clinic's scale (2,000 patients, or
//! `KAPCHART_BENCH_PATIENTS`) against a chart with one patient.
//!
//! - `home/*`: what the home screen reads (patients, all sessions, pending integrations) and
//!   one frame of it drawn at 160x48.
//! - `live/*`: `tui::live_data` for a dosing session and one frame of the live screen.
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
    }
}

fn home_frame(chart: &Chart, config: &Arc<Config>, term: &mut Terminal<TestBackend>) {
    let mut app = app(config);
    update(&mut app, Action::HomeLoaded(Ok(home_data(chart, config))));
    term.draw(|f| view::draw(&app, f)).expect("draw");
}

fn live_frame(chart: &Chart, session: i64, config: &Arc<Config>, term: &mut Terminal<TestBackend>) {
    let mut app = app(config);
    let data = kapchart::tui::live_data(chart, session).expect("live data");
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
    let mut g = c.benchmark_group("home");
    for s in &sides {
        g.bench_function(s.label, |b| {
            b.iter(|| home_frame(&s.chart, &config, &mut term))
        });
    }
    g.finish();
    let mut g = c.benchmark_group("home_read");
    for s in &sides {
        g.bench_function(s.label, |b| {
            b.iter(|| black_box(home_data(&s.chart, &config)))
        });
    }
    g.finish();

    let mut g = c.benchmark_group("live");
    for s in &sides {
        g.bench_function(s.label, |b| {
            b.iter(|| live_frame(&s.chart, s.session, &config, &mut term))
        });
    }
    g.finish();

    let mut g = c.benchmark_group("unlock");
    g.sample_size(10);
    for s in &sides {
        g.bench_function(s.label, |b| b.iter(|| black_box(common::open(&s.path))));
    }
    g.finish();
}

criterion_group!(benches, first_frame);
criterion_main!(benches);
