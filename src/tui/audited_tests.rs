//! Opening a screen writes one audit row; redraws, ticks and polls write none (the runtime
//! and the pure update together, on a real chart).

use super::state::{self, Action, App, Effect, Screen};
use super::{Runtime, dispatch};
use crate::app::Chart;
use crate::config::Config;
use chrono::{FixedOffset, TimeZone};

fn views(chart: &Chart, action: &str) -> i64 {
    chart
        .behind_the_door_ref()
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
    assert_eq!(state::update(&mut s.app, tick), None);
    assert_eq!(views(s.rt.chart.as_ref().unwrap(), "patient.view"), 1);
}

#[test]
fn a_screen_that_could_not_be_audited_says_so() {
    let mut s = setup();
    let opened = s.rt.perform(Effect::OpenPatient(s.patient));
    state::update(&mut s.app, opened);
    let not = crate::app::access::not_recorded(
        &crate::app::access::Access::ViewPatient(s.patient),
        "the chart is read-only",
    );
    state::update(&mut s.app, Action::AccessRecorded(not.clone()));
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
    state::update(&mut s.app, opened);
    state::update(&mut s.app, Action::AccessRecorded(not));
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
    assert_eq!(state::update(&mut s.app, reread), None);
    assert_eq!(views(chart(&s.rt), "note.view"), 1);
}

/// Who was signed in from when, in the audit trail: (action, clinician of the row, object).
fn sign_in_rows(chart: &Chart) -> Vec<(String, Option<i64>, i64)> {
    let mut stmt = chart
        .behind_the_door_ref()
        .raw_connection()
        .prepare(
            "SELECT action, clinician_id, object_id FROM audit
             WHERE action LIKE 'signin.%' ORDER BY seq",
        )
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn press(s: &mut Setup, key: &str) {
    let key = super::keymap::Key::parse(key).unwrap();
    dispatch(&mut s.app, &mut s.rt, Action::Key(key), None).unwrap();
}

fn type_in(s: &mut Setup, text: &str) {
    for c in text.chars() {
        let key = super::keymap::Key {
            code: super::keymap::KeyName::Char(c),
            ctrl: false,
            alt: false,
        };
        dispatch(&mut s.app, &mut s.rt, Action::Key(key), None).unwrap();
    }
}

/// The sign-in screen, a hand-over, a wrong try at the lock and the unlock each leave one
/// audit row naming who (ids only); what was typed is in none of them, and the trail
/// verifies.
#[test]
fn sign_in_hand_over_a_failed_unlock_and_the_unlock_each_leave_an_audit_row() {
    let mut s = setup();
    let nurse =
        s.rt.chart
            .as_mut()
            .unwrap()
            .add_team_member(
                "Nia Nurse",
                crate::domain::team::Role::Nurse,
                None,
                "tidal meadow lantern quartz",
                s.app.now,
            )
            .unwrap();
    let mara = s.rt.chart.as_ref().unwrap().clinician().id;
    // kapchart starts without the chart open: the sign-in screen, as KAPCHART_CLINICIAN
    // names who signs in.
    s.rt.chart = None;
    s.app.screen = Screen::SignIn(Box::new(super::sign_in::SignIn::for_given(
        super::sign_in::Purpose::Open,
        "Dr. Mara Quinn",
    )));
    s.rt.start = Some(super::Start::Home);
    let team = s.rt.perform(Effect::ReadTeam);
    dispatch(&mut s.app, &mut s.rt, team, None).unwrap();
    type_in(&mut s, "pw");
    press(&mut s, "enter");
    assert!(matches!(s.app.screen, Screen::Home(_)), "signed in");
    let open = ("signin.open".to_string(), Some(mara), mara);
    assert_eq!(sign_in_rows(chart(&s.rt)), std::slice::from_ref(&open));

    // F3: the nurse takes the screen over.
    press(&mut s, "f3");
    type_in(&mut s, "N");
    press(&mut s, "enter");
    type_in(&mut s, "tidal meadow lantern quartz");
    press(&mut s, "enter");
    assert_eq!(s.app.signed_in.as_ref().map(|c| c.id), Some(nurse));
    let handover = ("signin.handover".to_string(), Some(nurse), nurse);
    assert_eq!(sign_in_rows(chart(&s.rt)), [open.clone(), handover.clone()]);

    // Ctrl-L, a wrong passphrase for the nurse: refused, and recorded against her name.
    press(&mut s, "ctrl-l");
    assert!(s.app.lock.is_some());
    type_in(&mut s, "not her passphrase");
    press(&mut s, "enter");
    assert!(s.app.lock.is_some(), "still locked");
    // The refusal shows once its wait is over (none after the first wrong try).
    let now = s.app.now + chrono::Duration::seconds(1);
    dispatch(&mut s.app, &mut s.rt, Action::Tick(now), None).unwrap();
    let refused = ("signin.refused.unlock".to_string(), Some(nurse), nurse);
    assert_eq!(
        sign_in_rows(chart(&s.rt)),
        [open.clone(), handover.clone(), refused.clone()]
    );
    // Then her passphrase: unlocked, recorded.
    type_in(&mut s, "tidal meadow lantern quartz");
    press(&mut s, "enter");
    assert!(s.app.lock.is_none(), "unlocked");
    let unlock = ("signin.unlock".to_string(), Some(nurse), nurse);
    assert_eq!(
        sign_in_rows(chart(&s.rt)),
        [open, handover, refused, unlock]
    );

    // Ids and action names only: no passphrase, no name, in any column of the trail.
    let dump: String = chart(&s.rt)
        .behind_the_door_ref()
        .raw_connection()
        .prepare("SELECT * FROM audit")
        .unwrap()
        .query_map([], |r| {
            Ok((0..9)
                .map(|i| match r.get_ref(i).unwrap() {
                    rusqlite::types::ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
                    other => format!("{other:?}"),
                })
                .collect::<Vec<_>>()
                .join("|"))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect::<Vec<_>>()
        .join("\n");
    for secret in ["tidal", "not her", "Nia", "Mara", "Alex"] {
        assert!(!dump.contains(secret), "{secret} in the audit trail");
    }
    let report = chart(&s.rt).verify().unwrap();
    assert!(report.first_break.is_none(), "{:?}", report.problems());
    assert!(
        report.first_bad_signature.is_none(),
        "{:?}",
        report.problems()
    );
}

/// A wrong try that names no one of the team is recorded against who was signed in.
#[test]
fn a_refused_try_naming_no_one_is_recorded_against_the_clinician_signed_in() {
    let mut s = setup();
    let mara = s.rt.chart.as_ref().unwrap().clinician().id;
    let now = s.app.now;
    let chart = s.rt.chart.as_mut().unwrap();
    crate::app::access::record_refused_sign_in(
        chart,
        crate::app::access::SignInKind::HandOver,
        "Someone Else",
        now,
    );
    assert_eq!(
        sign_in_rows(chart),
        [("signin.refused.handover".to_string(), Some(mara), mara)]
    );
}
