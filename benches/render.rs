//! Render: one frame of the live screen at 160x48 into a TestBackend, for a session of 500
//! entries against a typical one of 40 (same lines, cut short). Only `view::draw` is timed:
//! the state is built once, as the TUI does between key presses.

mod common;

use chrono::{DateTime, Duration, FixedOffset};
use criterion::{Criterion, criterion_group, criterion_main};
use kapchart::app::Chart;
use kapchart::config::Config;
use kapchart::domain::chart::SessionChart;
use kapchart::domain::grammar::parse_line;
use kapchart::domain::{Payload, SessionKind};
use kapchart::store::{NewEntry, NewPatient, NewSession};
use kapchart::tui::keymap::Keymap;
use kapchart::tui::sign_in::{Purpose, SignIn};
use kapchart::tui::state::{Action, App, Screen, update};
use kapchart::tui::theme::Theme;
use kapchart::tui::view;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::sync::Arc;

/// A long session's lines: vitals, MOAA/S and observations in turn, 20 seconds apart.
fn line(n: usize) -> String {
    match n {
        0 => "bp 132/84 hr 76 spo2 98 rr 14 temp 36.8".into(),
        1 => "dose ketamine 0.5mg/kg IV over 40m".into(),
        n if n % 3 == 0 => format!(
            "bp {}/{} hr {} spo2 {} rr 14",
            130 + n % 25,
            80 + n % 15,
            70 + n % 20,
            95 + n % 4
        ),
        n if n % 3 == 1 => format!("moaas {}", 3 + n % 3),
        n => format!(
            "obs \"{}\" #insight #somatic, observation number {n}",
            [
                "warm water over my chest",
                "floating above the house",
                "I can stay here"
            ][n % 3]
        ),
    }
}

/// A chart with one dosing session of `entries` entries, written in one transaction.
fn session_chart(name: &str, entries: usize) -> (Chart, i64, DateTime<FixedOffset>) {
    let (_, mut chart) = common::fresh_chart(name);
    let config = Config::default();
    let start = common::now() - Duration::hours(3);
    let patient = chart
        .behind_the_door()
        .add_patient(
            &NewPatient {
                name: "Alex Rivera".into(),
                dob: chrono::NaiveDate::from_ymd_opt(1986, 4, 12).expect("date"),
                mrn: Some("BENCH-1".into()),
                weight_kg: Some(70.0),
            },
            start,
        )
        .expect("patient");
    let session = chart
        .behind_the_door()
        .start_session(
            &NewSession {
                patient_id: patient,
                kind: SessionKind::Dosing,
                started: start,
                intention: Some("To meet my grief with less fear".into()),
                dosing_session_id: None,
            },
            start,
        )
        .expect("session");
    let mut batch = Vec::new();
    let mut planner = SessionChart::new(
        chart.session(session).expect("session"),
        Vec::new(),
        config.session_rules(),
    );
    let mut at = start;
    for n in 0..entries {
        at += Duration::seconds(20);
        let parsed = parse_line(&line(n), &config.parse_context(at, Some(70.0))).expect("line");
        let planned = planner.plan_line(&parsed, at);
        for e in planned {
            if matches!(e.payload, Payload::Dose(_)) {
                // Written in one batch below: the planner learns the dose as it is planned.
                planner.extend(vec![kapchart::domain::Entry {
                    id: -1,
                    session_id: session,
                    payload: e.payload.clone(),
                    event_time: e.event_time,
                    recorded_time: at,
                    author: String::new(),
                    flags: Vec::new(),
                    corrects: None,
                    correction: None,
                    reason: None,
                }]);
            }
            batch.push(NewEntry {
                payload: e.payload,
                event_time: e.event_time,
                recorded_time: at,
                flags: e.flags,
                corrects: None,
            });
        }
    }
    chart
        .behind_the_door()
        .append(session, &batch)
        .expect("append");
    (chart, session, at + Duration::minutes(1))
}

fn live_app(chart: &Chart, session: i64, now: DateTime<FixedOffset>) -> App {
    let mut app = App::new(
        Screen::SignIn(Box::new(SignIn::new(Purpose::Open, None))),
        now,
        Keymap::default(),
        Arc::new(Config::default()),
    );
    app.theme = Theme { color: true };
    let data =
        kapchart::app::views::live_data(chart, &Config::default(), session).expect("live data");
    assert!(!data.chart.lines().is_empty());
    update(&mut app, Action::Opened(Ok(data)));
    app
}

fn render(c: &mut Criterion) {
    let mut g = c.benchmark_group("render_live_160x48");
    for entries in [40, 500] {
        let (chart, session, now) = session_chart(&format!("render-{entries}.db"), entries);
        let app = live_app(&chart, session, now);
        let mut term = Terminal::new(TestBackend::new(160, 48)).expect("terminal");
        g.bench_function(format!("{entries}_entries"), |b| {
            b.iter(|| {
                term.draw(|f| view::draw(&app, f)).expect("draw");
            })
        });
    }
    g.finish();
}

criterion_group!(benches, render);
criterion_main!(benches);
