//! Opening to the first frame, at a ten-year clinic's scale (2,000 patients, or
//! `KAPCHART_BENCH_PATIENTS`) against a chart with one patient.
//!
//! - `home/*`: what the home screen reads (patients, recent and open sessions, the
//!   integrations still to do, the selected patient's sessions) and one frame of it drawn at
//!   160x48; `home_reading_every_session/*` the same frame read as it was before (every
//!   session of the chart).
//! - `live/*`: `app::views::live_data` for a dosing session and one frame of the live screen.
//! - `unlock/*`: `Chart::open` (SQLCipher key derivation, the schema check), on its own.
//!
//! Both sides show the same patient (the generator's first, the same person for one seed)
//! and the same session, so the ratio is what the rest of the chart costs. The chart is opened
//! once outside the timed loop: key derivation is not in the frame figures.

mod common;

use criterion::{Criterion, criterion_group, criterion_main};
use kapchart::app::patient_list::{self, PageRead, PatientList};
use kapchart::app::views;
use kapchart::config::Config;
use kapchart::domain::Session;
use kapchart::domain::SessionKind;
use kapchart::domain::patient_filter::PatientFilter;
use kapchart::store::{Chart, HomeScan};
use kapchart::tui::app::{Action, App, Effect, Screen, update};
use kapchart::tui::home::HomeData;
use kapchart::tui::keymap::Keymap;
use kapchart::tui::sign_in::{Purpose, SignIn};
use kapchart::tui::theme::Theme;
use kapchart::tui::view;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::collections::HashMap;
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
        Screen::SignIn(Box::new(SignIn::new(Purpose::Open, None))),
        common::now(),
        Keymap::default(),
        config.clone(),
    );
    app.theme = Theme { color: true };
    app
}

/// The home screen's first frame as the runtime makes it: the screen's loader
/// (`views::home_data`), the sessions of the patients it selects (`Effect::LoadPatientSessions`),
/// then one frame drawn.
fn home_frame(chart: &Chart, config: &Arc<Config>, term: &mut Terminal<TestBackend>) {
    let mut app = app(config);
    let data = views::home_data(chart, config, common::now()).expect("home data");
    let mut effect = update(&mut app, Action::HomeLoaded(Ok(data)));
    while let Some(Effect::LoadPatientSessions(p)) = effect {
        let sessions = views::patient_sessions(chart, p).expect("patient sessions");
        effect = update(&mut app, Action::PatientSessions(p, Ok(sessions)));
    }
    term.draw(|f| view::draw(&app, f)).expect("draw");
}

/// The home screen's data as it was read before it read only what it shows: every session
/// of the chart, filtered in memory (the "before" side of BENCHMARKS.md section 2).
fn home_data_reading_every_session(chart: &Chart, config: &Config) -> HomeData {
    let now = common::now();
    let sessions = chart.sessions(None).expect("sessions");
    let integrations = kapchart::domain::integration::pending(&sessions, &config.integration, now);
    let mut patient_sessions: HashMap<i64, Vec<Session>> = HashMap::new();
    for s in &sessions {
        patient_sessions
            .entry(s.patient_id)
            .or_default()
            .push(s.clone());
    }
    let patients = chart.patients().expect("patients");
    HomeData {
        patient_count: patients.len(),
        names: patients.iter().map(|p| (p.id, p.name.clone())).collect(),
        patients: PatientList {
            filter: PatientFilter::All,
            rows: patients,
            complete: true,
        },
        sessions,
        patient_sessions,
        integrations,
        today: now.date_naive(),
        rems_due: kapchart::app::rems::forms_due(chart, config).expect("REMS forms due"),
    }
}

fn home_frame_reading_every_session(
    chart: &Chart,
    config: &Arc<Config>,
    term: &mut Terminal<TestBackend>,
) {
    let mut app = app(config);
    update(
        &mut app,
        Action::HomeLoaded(Ok(home_data_reading_every_session(chart, config))),
    );
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
        let h = views::home_data(&s.chart, &config, common::now()).expect("home data");
        let read = t.elapsed();
        let t = Instant::now();
        let sessions = s.chart.sessions(None).expect("sessions").len();
        let all_sessions = t.elapsed();
        eprintln!(
            "{}: {} patients, {} sessions ({} read for home), {} entries, {} pending integrations, \
             {:.1} MB; home read {read:?} (sessions(None) {all_sessions:?})",
            s.label,
            h.patient_count,
            sessions,
            h.sessions.len(),
            s.chart.entry_count().expect("count"),
            h.integrations.len(),
            std::fs::metadata(&s.path).map(|m| m.len()).unwrap_or(0) as f64 / 1e6,
        );
    }

    let mut term = Terminal::new(TestBackend::new(160, 48)).expect("terminal");
    let mut g = c.benchmark_group("home");
    g.sample_size(20);
    for s in &sides {
        g.bench_function(s.label, |b| {
            b.iter(|| home_frame(&s.chart, &config, &mut term))
        });
    }
    g.finish();

    // The same frame read the way it was before (every session): ten samples, it is slow.
    let mut g = c.benchmark_group("home_reading_every_session");
    g.sample_size(10);
    for s in &sides {
        g.bench_function(s.label, |b| {
            b.iter(|| home_frame_reading_every_session(&s.chart, &config, &mut term))
        });
    }
    g.finish();

    // Where the clinic's home frame goes.
    let clinic = &sides[1];
    let mut g = c.benchmark_group("home_parts_clinic");
    g.sample_size(10);
    g.bench_function("recent_sessions", |b| {
        b.iter(|| black_box(views::recent_sessions(&clinic.chart, common::now()).expect("recent")))
    });
    g.bench_function("pending_integrations", |b| {
        b.iter(|| {
            black_box(
                views::pending_integrations(&clinic.chart, &config, common::now())
                    .expect("integrations"),
            )
        })
    });
    // The same two reads as before migration `HOME_SCAN_INDEXES` (every session's row read),
    // side by side with the above in one run.
    let since = common::now() - chrono::Duration::days(views::RECENT_DAYS + 3);
    g.bench_function("recent_sessions_reading_every_row", |b| {
        b.iter(|| {
            black_box(
                clinic
                    .chart
                    .sessions_since_or_open_by(since, HomeScan::ReadingEverySessionRow)
                    .expect("recent"),
            )
        })
    });
    g.bench_function("dosing_without_integration", |b| {
        b.iter(|| {
            black_box(
                clinic
                    .chart
                    .dosing_sessions_without_integration_by(HomeScan::ByIndex)
                    .expect("dosing"),
            )
        })
    });
    g.bench_function("dosing_without_integration_reading_every_row", |b| {
        b.iter(|| {
            black_box(
                clinic
                    .chart
                    .dosing_sessions_without_integration_by(HomeScan::ReadingEverySessionRow)
                    .expect("dosing"),
            )
        })
    });
    g.bench_function("rems_forms_due", |b| {
        b.iter(|| black_box(kapchart::app::rems::forms_due(&clinic.chart, &config).expect("rems")))
    });
    g.bench_function("patients", |b| {
        b.iter(|| black_box(clinic.chart.patients().expect("patients")))
    });
    // The home screen's patient list as it now reads: a page, the page from the middle of
    // the list (keyset: no patient before it read), and the first page under a filter of
    // three characters or more (trigram index) and of two (name and MRN indexes).
    g.bench_function("patients_page", |b| {
        b.iter(|| {
            black_box(patient_list::first_page(&clinic.chart, PatientFilter::All).expect("page"))
        })
    });
    let everyone = clinic.chart.patients().expect("patients");
    let middle = everyone.get(everyone.len() / 2).cloned();
    g.bench_function("patients_page_from_the_middle", |b| {
        b.iter(|| {
            black_box(
                patient_list::read(
                    &clinic.chart,
                    PageRead {
                        filter: PatientFilter::All,
                        after: middle.clone(),
                    },
                )
                .expect("page"),
            )
        })
    });
    g.bench_function("patients_filtered", |b| {
        b.iter(|| {
            black_box(
                patient_list::first_page(&clinic.chart, PatientFilter::typed("kowal"))
                    .expect("filtered"),
            )
        })
    });
    g.bench_function("patients_filtered_two_characters", |b| {
        b.iter(|| {
            black_box(
                patient_list::first_page(&clinic.chart, PatientFilter::typed("ma"))
                    .expect("filtered"),
            )
        })
    });
    g.bench_function("sessions_all", |b| {
        b.iter(|| black_box(clinic.chart.sessions(None).expect("sessions")))
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

    let mut g = c.benchmark_group("unlock");
    g.sample_size(10);
    for s in &sides {
        g.bench_function(s.label, |b| b.iter(|| black_box(common::open(&s.path))));
    }
    g.finish();
}

criterion_group!(benches, first_frame);
criterion_main!(benches);
