//! Opening to the first frame, at a ten-year clinic's scale (2,000 patients, or
//! `KAPCHART_BENCH_PATIENTS`) against a chart with one patient.
//!
//! - `home/*`: what the home screen reads (patients, recent and open sessions, the
//!   integrations still to do, the selected patient's sessions) and one frame of it drawn at
//!   160x48; `home_reading_every_session/*` the same frame read as it was before (every
//!   session of the chart).
//! - `live/*`: `app::views::live_data` for a dosing session and one frame of the live screen.
//! - `unlock/*`: `Chart::open` (SQLCipher key derivation, the schema check), on its own.
//! - `live_after_write/*`: charting one line from the live screen, then the screen's state:
//!   the session read again (as before) against the write's entries taken in, on copies of
//!   the two charts, in a new patient's session of 500 to 600 lines.
//!
//! Both sides show the same patient (the generator's first, the same person for one seed)
//! and the same session, so the ratio is what the rest of the chart costs. The chart is opened
//! once outside the timed loop: key derivation is not in the frame figures.

mod common;

use criterion::{Criterion, criterion_group, criterion_main};
use kapchart::app::Chart;
use kapchart::app::patient_list::{self, PageRead, PatientList};
use kapchart::app::views;
use kapchart::config::Config;
use kapchart::domain::Session;
use kapchart::domain::SessionKind;
use kapchart::domain::patient_filter::PatientFilter;
use kapchart::store::{HomeScan, RemsScan};
use kapchart::tui::home::HomeData;
use kapchart::tui::keymap::Keymap;
use kapchart::tui::sign_in::{Purpose, SignIn};
use kapchart::tui::state::{Action, App, Effect, Screen, update};
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
    let doses = views::first_doses(chart, config, &sessions).expect("first doses");
    let integrations =
        kapchart::domain::integration::pending(&sessions, &doses, &config.integration, now);
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

/// The home screen's data as the second pass of issue 13 read it (BENCHMARKS.md): open
/// sessions and integrations awaited by walking indexes of every session, and the REMS count
/// reading every esketamine dose's row. The "before" side of the third pass.
fn home_data_second_pass(chart: &Chart, config: &Config) -> HomeData {
    let now = common::now();
    let since = now - chrono::Duration::days(views::RECENT_DAYS + 3);
    let candidates = chart
        .behind_the_door_ref()
        .dosing_sessions_without_integration_by(HomeScan::ByIndex)
        .expect("dosing");
    let due = chart
        .behind_the_door_ref()
        .rems_outstanding_by(&config.rems.drugs, RemsScan::ReadingEveryDose)
        .expect("rems");
    let patients = chart.patients().expect("patients");
    HomeData {
        patient_count: patients.len(),
        names: patients.iter().map(|p| (p.id, p.name.clone())).collect(),
        patients: PatientList {
            filter: PatientFilter::All,
            rows: patients,
            complete: true,
        },
        sessions: chart
            .behind_the_door_ref()
            .sessions_since_or_open_by(since, HomeScan::ByIndex)
            .expect("recent"),
        patient_sessions: HashMap::new(),
        integrations: kapchart::domain::integration::pending(
            &candidates,
            &views::first_doses(chart, config, &candidates).expect("first doses"),
            &config.integration,
            now,
        ),
        today: now.date_naive(),
        rems_due: due
            .earliest_treatment
            .filter(|_| due.count > 0)
            .map(|treated| kapchart::app::rems::FormsDue {
                count: due.count,
                oldest_deadline: config.rems.deadline(treated),
            }),
    }
}

fn home_frame_second_pass(chart: &Chart, config: &Arc<Config>, term: &mut Terminal<TestBackend>) {
    let mut app = app(config);
    let data = home_data_second_pass(chart, config);
    let mut effect = update(&mut app, Action::HomeLoaded(Ok(data)));
    while let Some(Effect::LoadPatientSessions(p)) = effect {
        let sessions = views::patient_sessions(chart, p).expect("patient sessions");
        effect = update(&mut app, Action::PatientSessions(p, Ok(sessions)));
    }
    term.draw(|f| view::draw(&app, f)).expect("draw");
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
        let before = home_data_second_pass(&s.chart, &config);
        // The same screen both ways: the sessions, integrations and REMS count equal, and the
        // page of patients is the head of the whole list the second pass read.
        assert_eq!(
            (&h.sessions, &h.integrations, &h.rems_due, h.patient_count),
            (
                &before.sessions,
                &before.integrations,
                &before.rems_due,
                before.patient_count
            ),
            "{}: the home data read both ways",
            s.label
        );
        assert_eq!(
            h.patients.rows[..],
            before.patients.rows[..h.patients.rows.len()],
            "{}: the first page of patients",
            s.label
        );
        for (id, name) in &h.names {
            assert_eq!(before.names.get(id), Some(name), "{}: names", s.label);
        }
        let rems_sessions = s
            .chart
            .behind_the_door_ref()
            .rems_sessions(&config.rems.drugs)
            .expect("REMS sessions")
            .len();
        eprintln!(
            "{}: {} patients, {} sessions ({} read for home), {} entries, {} pending integrations, \
             {rems_sessions} esketamine sessions ({} forms due), \
             {:.1} MB; home read {read:?} (sessions(None) {all_sessions:?})",
            s.label,
            h.patient_count,
            sessions,
            h.sessions.len(),
            s.chart.behind_the_door_ref().entry_count().expect("count"),
            h.integrations.len(),
            h.rems_due.map_or(0, |d| d.count),
            std::fs::metadata(&s.path).map(|m| m.len()).unwrap_or(0) as f64 / 1e6,
        );
    }

    let mut term = Terminal::new(TestBackend::new(160, 48)).expect("terminal");
    // The frame as the screen reads it, then read as the second pass read it (indexes walked
    // over every session, every REMS dose's row read), then as before (every session; ten
    // samples, it is slow): side by side in one run.
    type Frame = fn(&Chart, &Arc<Config>, &mut Terminal<TestBackend>);
    let ways: [(&str, Frame, usize); 3] = [
        ("home", home_frame, 20),
        ("home_second_pass", home_frame_second_pass, 20),
        (
            "home_reading_every_session",
            home_frame_reading_every_session,
            10,
        ),
    ];
    for (group, frame, samples) in ways {
        let mut g = c.benchmark_group(group);
        g.sample_size(samples);
        for s in &sides {
            g.bench_function(s.label, |b| b.iter(|| frame(&s.chart, &config, &mut term)));
        }
        g.finish();
    }

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
    // The same reads as the second pass (indexes walked over every session, every REMS
    // dose's row read) and as before migration `HOME_SCAN_INDEXES` (every session's row
    // read), side by side with the above in one run.
    let since = common::now() - chrono::Duration::days(views::RECENT_DAYS + 3);
    for (name, scan) in [
        ("recent_sessions_by_index", HomeScan::ByIndex),
        (
            "recent_sessions_reading_every_row",
            HomeScan::ReadingEverySessionRow,
        ),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| {
                black_box(
                    clinic
                        .chart
                        .behind_the_door_ref()
                        .sessions_since_or_open_by(since, scan)
                        .expect("recent"),
                )
            })
        });
    }
    for (name, scan) in [
        ("dosing_without_integration", HomeScan::FromKeptLists),
        ("dosing_without_integration_by_index", HomeScan::ByIndex),
        (
            "dosing_without_integration_reading_every_row",
            HomeScan::ReadingEverySessionRow,
        ),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| {
                black_box(
                    clinic
                        .chart
                        .behind_the_door_ref()
                        .dosing_sessions_without_integration_by(scan)
                        .expect("dosing"),
                )
            })
        });
    }
    g.bench_function("rems_forms_due", |b| {
        b.iter(|| black_box(kapchart::app::rems::forms_due(&clinic.chart, &config).expect("rems")))
    });
    g.bench_function("rems_forms_due_reading_every_dose", |b| {
        b.iter(|| {
            black_box(
                clinic
                    .chart
                    .behind_the_door_ref()
                    .rems_outstanding_by(&config.rems.drugs, RemsScan::ReadingEveryDose)
                    .expect("rems"),
            )
        })
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
        b.iter(|| {
            black_box(
                clinic
                    .chart
                    .behind_the_door_ref()
                    .entries(clinic.session)
                    .expect("entries"),
            )
        })
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

/// Lines in a session the live screen is charting in when the write is timed: a new session
/// of this many is started when one has grown by [`GROWTH`].
const SESSION_LINES: usize = 500;
const GROWTH: usize = 100;

/// A copy of a cached chart with its keyring, so the cached chart stays as generated.
fn copy_of(chart: &std::path::Path, name: &str) -> Chart {
    let path = common::data_dir().join(name);
    common::remove_chart(&path);
    for suffix in ["", ".keyring", ".checked"] {
        let with = |p: &std::path::Path| {
            let mut p = p.as_os_str().to_owned();
            p.push(suffix);
            PathBuf::from(p)
        };
        std::fs::copy(with(chart), with(&path)).expect("copy the chart");
    }
    common::open(&path)
}

fn remove_copy(chart: Chart) {
    let path = chart.path().to_path_buf();
    drop(chart);
    common::remove_chart(&path);
    let _ = std::fs::remove_file(path.with_extension("db.keyring"));
}

/// The live screen after its own writes, in a session of [`SESSION_LINES`] to
/// `SESSION_LINES + GROWTH` lines: each session is a new patient's (whose history is only
/// that session, so the old path's read of the patient's entries is at its cheapest), its
/// lines written in one transaction outside the timing.
struct Bedside {
    chart: Chart,
    config: Config,
    session: i64,
    /// The screen's state, for the side that takes its writes in.
    state: Option<views::LiveData>,
    charted: usize,
    patients: usize,
}

impl Bedside {
    fn new(chart: Chart, keep_state: bool) -> Bedside {
        let mut bed = Bedside {
            chart,
            config: Config::default(),
            session: 0,
            state: None,
            charted: 0,
            patients: 0,
        };
        bed.next_session(keep_state);
        bed
    }

    fn next_session(&mut self, keep_state: bool) {
        self.patients += 1;
        let start = common::now() - chrono::Duration::hours(3);
        let patient = self
            .chart
            .behind_the_door()
            .add_patient(
                &kapchart::store::NewPatient {
                    name: format!("Bedside Bench {}", self.patients),
                    dob: chrono::NaiveDate::from_ymd_opt(1986, 4, 12).expect("date"),
                    mrn: Some(format!("BENCH-AW-{}", self.patients)),
                    weight_kg: Some(70.0),
                },
                start,
            )
            .expect("patient");
        let session = self
            .chart
            .behind_the_door()
            .start_session(
                &kapchart::store::NewSession {
                    patient_id: patient,
                    kind: SessionKind::Dosing,
                    started: start,
                    intention: None,
                    dosing_session_id: None,
                },
                start,
            )
            .expect("session");
        let planner = kapchart::domain::chart::SessionChart::new(
            self.chart.session(session).expect("session"),
            Vec::new(),
            self.config.session_rules(),
        );
        let person = self.chart.patient(patient).expect("patient");
        let mut entries = Vec::new();
        for n in 0..SESSION_LINES {
            let line = match n {
                1 => "dose ketamine 0.5mg/kg IM".to_string(),
                n if n % 3 == 0 => {
                    format!(
                        "bp {}/{} hr {} spo2 98",
                        120 + n % 25,
                        80 + n % 9,
                        70 + n % 20
                    )
                }
                n if n % 3 == 1 => format!("moaas {}", 3 + n % 3),
                n => format!("obs \"floating\" #somatic, observation number {n}"),
            };
            let at = start + chrono::Duration::seconds(20 * n as i64);
            let preview =
                kapchart::app::charting::plan(&planner, &person, &self.config, &line, &at)
                    .expect("line");
            entries.extend(
                preview
                    .entries
                    .into_iter()
                    .map(|p| kapchart::store::NewEntry {
                        payload: p.payload,
                        event_time: p.event_time,
                        recorded_time: at,
                        flags: p.flags,
                        corrects: None,
                    }),
            );
        }
        self.chart
            .behind_the_door()
            .append(session, &entries)
            .expect("lines");
        self.session = session;
        self.charted = 0;
        self.state = keep_state
            .then(|| views::live_data(&self.chart, &self.config, session).expect("live data"));
    }

    /// Charts one line (`hr 72 spo2 97`) as the screen does, and has the screen's state
    /// after it: read again, or the write taken in. Only this is timed.
    fn chart_a_line(&mut self) -> std::time::Duration {
        if self.charted == GROWTH {
            let keep = self.state.is_some();
            self.next_session(keep);
        }
        self.charted += 1;
        let at = common::now() + chrono::Duration::seconds(self.charted as i64);
        let effect = Effect::Commit {
            session: self.session,
            line: "hr 72 spo2 97".into(),
        };
        let t = Instant::now();
        match &mut self.state {
            Some(state) => {
                let written =
                    kapchart::tui::write_for_screen(&mut self.chart, &self.config, effect, &at)
                        .expect("a write")
                        .expect("charted");
                state.take_in(written.write);
                black_box(state.chart.lines().len());
            }
            None => {
                let (_, r) =
                    kapchart::tui::write_charted(&mut self.chart, &self.config, effect, &at)
                        .expect("a write");
                r.expect("charted");
                black_box(
                    views::live_data(&self.chart, &self.config, self.session).expect("live data"),
                );
            }
        }
        t.elapsed()
    }
}

/// Charting one line from the live screen, then having the screen's state: as before
/// (`write_then_reload`: the write, then `live_data` reads the session, the patient's sessions
/// and entries again) and as now (`write_then_append`: the write hands back its entries and
/// the state takes them in), side by side on copies of the one-patient and the clinic chart,
/// in sessions of 500 to 600 lines.
fn live_after_write(c: &mut Criterion) {
    let charts = [
        ("one_patient", common::clinic_chart(1)),
        ("clinic", common::clinic_chart(common::clinic_patients())),
    ];
    let mut g = c.benchmark_group("live_after_write");
    g.sample_size(10);
    for (label, path) in &charts {
        for (side, keep_state) in [("write_then_reload", false), ("write_then_append", true)] {
            let mut bed = Bedside::new(copy_of(path, "live-after-write.db"), keep_state);
            g.bench_function(format!("{label}/{side}"), |b| {
                b.iter_custom(|iters| (0..iters).map(|_| bed.chart_a_line()).sum())
            });
            if let Some(state) = &bed.state {
                assert_eq!(
                    state,
                    &views::live_data(&bed.chart, &bed.config, bed.session).expect("live data"),
                    "the state taken in is the state read afresh"
                );
            }
            remove_copy(bed.chart);
        }
    }
    g.finish();
}

/// The check every open makes (`Chart::check_written`, as `Chart::open_as` runs it): what
/// was written since the last head checked is walked (chain, content, signatures) and the
/// team's certificates are checked. Timed alone, after one line charted by another write
/// (the usual case: the last command charted a line), on copies of the one-patient and the
/// clinic chart side by side. The whole process to the first frame includes it too
/// (`benches/first_frame.rs`).
fn check_on_open(c: &mut Criterion) {
    let charts = [
        ("one_patient", common::clinic_chart(1)),
        ("clinic", common::clinic_chart(common::clinic_patients())),
    ];
    let mut g = c.benchmark_group("check_on_open");
    g.sample_size(20);
    for (label, path) in &charts {
        let mut bed = Bedside::new(copy_of(path, "check-on-open.db"), false);
        bed.chart.check_written().expect("the first check");
        g.bench_function(format!("{label}/after_one_line"), |b| {
            b.iter_custom(|iters| {
                let mut total = std::time::Duration::ZERO;
                for _ in 0..iters {
                    bed.chart_a_line();
                    let t = Instant::now();
                    bed.chart.check_written().expect("the check");
                    total += t.elapsed();
                }
                total
            })
        });
        remove_copy(bed.chart);
    }
    g.finish();
}

/// `verify` in-process on the cached one-patient and clinic charts (`KAPCHART_BENCH_PATIENTS`
/// sets the clinic's size): the whole chain with every author's signature, the team's
/// certificates, and every other check. Ten samples each.
fn verify_chart(c: &mut Criterion) {
    let charts = [
        ("one_patient", common::clinic_chart(1)),
        ("clinic", common::clinic_chart(common::clinic_patients())),
    ];
    let mut g = c.benchmark_group("verify");
    g.sample_size(10);
    for (label, path) in &charts {
        let chart = common::open(path);
        let report = chart.verify().expect("verify");
        assert!(report.is_ok(), "{:?}", report.problems());
        eprintln!(
            "{label}: {} audit rows, {} signatures checked",
            report.audit_rows, report.signed_rows
        );
        g.bench_function(*label, |b| {
            b.iter(|| black_box(chart.verify().expect("verify")))
        });
    }
    g.finish();
}

criterion_group!(
    benches,
    first_frame,
    live_after_write,
    check_on_open,
    verify_chart
);
criterion_main!(benches);
