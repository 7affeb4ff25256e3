//! Opening a screen writes one audit row; redraws, ticks and polls write none (the runtime
//! and the pure update together, on a real chart).

use super::app::{self, Action, App, Effect, Screen};
use super::{Runtime, dispatch};
use crate::config::Config;
use crate::store::Chart;
use chrono::{FixedOffset, TimeZone};

fn views(chart: &Chart, action: &str) -> i64 {
    chart
        .raw_connection()
        .query_row(
            "SELECT count(*) FROM audit WHERE action = ?1",
            [action],
            |r| r.get(0),
        )
        .unwrap()
}

fn chart(rt: &Runtime) -> &Chart {
    rt.chart.as_ref().unwrap()
}

use super::bedside_fixture::{Bedside as Setup, bedside};

fn setup() -> Setup {
    let now = FixedOffset::east_opt(3600)
        .unwrap()
        .with_ymd_and_hms(2026, 11, 26, 10, 0, 0)
        .unwrap();
    bedside(now, now)
}

#[test]
fn opening_a_session_writes_one_row_and_ticks_and_polls_write_none() {
    let mut s = setup();
    let before = views(chart(&s.rt), "session.view");
    let opened = s.rt.perform(Effect::OpenSession(s.session));
    dispatch(&mut s.app, &mut s.rt, opened, None).unwrap();
    assert!(matches!(s.app.screen, Screen::Live(_)));
    assert_eq!(views(chart(&s.rt), "session.view"), before + 1);

    // Another process charts in the session: the poll re-reads it, and records no view.
    let mut other = Chart::open(&s.path, "pw", 2000).unwrap();
    let config = Config::default();
    crate::app::charting::record_line(&mut other, &config, s.session, "obs settled", &s.app.now)
        .unwrap();
    for minute in 1..=5 {
        let tick = Action::Tick(s.app.now + chrono::Duration::minutes(minute));
        dispatch(&mut s.app, &mut s.rt, tick, None).unwrap();
    }
    let Screen::Live(live) = &s.app.screen else {
        panic!("still on the live screen");
    };
    assert_eq!(
        live.data.chart.lines().len(),
        1,
        "the poll saw the new entry"
    );
    assert_eq!(views(chart(&s.rt), "session.view"), before + 1);
    assert!(
        live.notice
            .as_deref()
            .is_none_or(|n| !n.contains("audit trail")),
        "{:?}",
        live.notice
    );

    // Opening it again is another look.
    let opened = s.rt.perform(Effect::OpenSession(s.session));
    dispatch(&mut s.app, &mut s.rt, opened, None).unwrap();
    assert_eq!(views(chart(&s.rt), "session.view"), before + 2);
}

#[test]
fn opening_the_patient_screen_writes_one_row() {
    let mut s = setup();
    let opened = s.rt.perform(Effect::OpenPatient(s.patient));
    dispatch(&mut s.app, &mut s.rt, opened, None).unwrap();
    assert!(matches!(s.app.screen, Screen::Patient(_)));
    assert_eq!(views(s.rt.chart.as_ref().unwrap(), "patient.view"), 1);
    assert_eq!(s.app.unaudited, None);
    // Its redraws and ticks write nothing more.
    let tick = Action::Tick(s.app.now + chrono::Duration::minutes(1));
    assert_eq!(app::update(&mut s.app, tick), None);
    assert_eq!(views(s.rt.chart.as_ref().unwrap(), "patient.view"), 1);
}

#[test]
fn a_screen_that_could_not_be_audited_says_so() {
    let mut s = setup();
    let opened = s.rt.perform(Effect::OpenPatient(s.patient));
    app::update(&mut s.app, opened);
    let not = crate::app::access::not_recorded(
        &crate::app::access::Access::ViewPatient(s.patient),
        "the chart is read-only",
    );
    app::update(&mut s.app, Action::AccessRecorded(not.clone()));
    let screen = render(&s.app);
    assert!(
        screen.contains("Alex Rivera"),
        "the record is shown: {screen}"
    );
    // The patient panel wraps it at 80 columns.
    assert!(
        screen.contains("this view is not in the audit trail:")
            && screen.contains("the chart is read-only"),
        "{screen}"
    );
    let opened = s.rt.perform(Effect::OpenSession(s.session));
    app::update(&mut s.app, opened);
    app::update(&mut s.app, Action::AccessRecorded(not));
    let screen = render(&s.app);
    assert!(
        screen.contains("this view is not in the audit trail: the chart is read-only"),
        "{screen}"
    );
}

fn render(app: &App) -> String {
    let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(80, 24)).unwrap();
    terminal
        .draw(|frame| super::view::draw(app, frame))
        .unwrap();
    let buffer = terminal.backend().buffer();
    let mut out = String::new();
    for y in 0..24 {
        for x in 0..80 {
            out.push_str(buffer[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

#[test]
fn opening_a_note_writes_one_row_and_its_re_read_none() {
    let mut s = setup();
    let opened = s.rt.perform(Effect::OpenNote { dosing: s.session });
    dispatch(&mut s.app, &mut s.rt, opened, None).unwrap();
    let Screen::Note(n) = &s.app.screen else {
        panic!("the note editor opens");
    };
    let note = n.data.note.id;
    assert_eq!(views(chart(&s.rt), "note.view"), 1);
    // The screen re-reads the same note after a write to it: not another look.
    let again = s.rt.perform(Effect::SaveDraft {
        note,
        text: "draft".into(),
    });
    dispatch(&mut s.app, &mut s.rt, again, None).unwrap();
    let reread = Action::NoteOpened(Ok(Box::new(
        crate::app::course::note_data(chart(&s.rt), &Config::default(), note, s.app.now).unwrap(),
    )));
    assert_eq!(app::update(&mut s.app, reread), None);
    assert_eq!(views(chart(&s.rt), "note.view"), 1);
}
