//! A write from the live screen is taken into the screen's state without reading the session
//! again, and the screen then shows what a fresh read of the chart shows: the same state and
//! the same frame, after every kind of entry the screen charts. Another process's entries
//! still come by the poll. The runtime and the pure update together, on a real chart, keys
//! pressed as a clinician presses them.

use super::dispatch;
use super::keymap::{Key, KeyName};
use super::live::Live;
use super::state::{Action, App, Screen};
use crate::app::Chart;
use crate::app::views::{LiveData, live_data};
use crate::config::Config;
use crate::domain::EntryStatus;
use crate::store::reads;
use chrono::Duration;

use super::bedside_fixture::{Bedside as Setup, bedside};

/// A dosing session started half an hour ago on a new chart, open on the live screen.
fn open_session() -> Setup {
    // The runtime writes at the wall clock, so the screen's clock is the wall clock too.
    let now = crate::clock::now();
    let mut s = bedside(now, now - Duration::minutes(30));
    let opened = s.rt.perform(super::state::Effect::OpenSession(s.session));
    dispatch(&mut s.app, &mut s.rt, opened, None).unwrap();
    s
}

fn live(app: &App) -> &Live {
    match &app.screen {
        Screen::Live(l) => l,
        _ => panic!("not on the live screen"),
    }
}

/// Presses keys as the terminal reports them: a name ("enter", "ctrl-d") or, with `type:`,
/// each character of the text.
fn press(s: &mut Setup, keys: &[&str]) {
    for k in keys {
        let keys: Vec<Key> = match k.strip_prefix("type:") {
            Some(text) => text
                .chars()
                .map(|c| Key {
                    code: KeyName::Char(c),
                    ctrl: false,
                    alt: false,
                })
                .collect(),
            None => vec![Key::parse(k).unwrap()],
        };
        for key in keys {
            dispatch(&mut s.app, &mut s.rt, Action::Key(key), None).unwrap();
        }
    }
}

fn fresh(s: &Setup) -> LiveData {
    live_data(s.rt.chart.as_ref().unwrap(), &s.rt.config, s.session).unwrap()
}

fn render(app: &App) -> String {
    let (w, h) = (100, 40);
    let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(w, h)).unwrap();
    terminal
        .draw(|frame| super::view::draw(app, frame))
        .unwrap();
    let buffer = terminal.backend().buffer();
    let mut out = String::new();
    for y in 0..h {
        for x in 0..w {
            out.push_str(buffer[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

/// The screen's state equals a fresh read of the session, and draws the same frame as the
/// screen with the fresh read in its place.
fn assert_as_read_afresh(s: &mut Setup, what: &str) {
    let fresh = fresh(s);
    assert_eq!(live(&s.app).data, fresh, "{what}: the state");
    let drawn = render(&s.app);
    let Screen::Live(l) = &mut s.app.screen else {
        panic!("{what}: not on the live screen")
    };
    let own = std::mem::replace(&mut l.data, fresh);
    let drawn_fresh = render(&s.app);
    let Screen::Live(l) = &mut s.app.screen else {
        unreachable!()
    };
    l.data = own;
    assert_eq!(drawn, drawn_fresh, "{what}: the frame");
}

/// What the screen charts, as keys, with the whole-session and whole-patient reads the
/// write itself needs: none for a line, a strike or a form; an amendment plans against the
/// whole session and an end weighs everything that stands against it (one read each); the
/// patient's entries are read only for the safety flag (a line that bears on it, a PHQ-9
/// with item 9 above 0 or a risk assessment, is read by the line's write, which says whether
/// the flag stands, and again for the screen; a strike of such an entry once).
const CORPUS: &[(&str, &[&str], u32, u32)] = &[
    ("vitals", &["type:bp 150/96 hr 80 spo2 98", "enter"], 0, 0),
    ("a dose", &["type:dose ketamine 0.5mg/kg IM", "enter"], 0, 0),
    (
        "a dose to witness",
        &["type:dose ondansetron 4mg IV witness", "enter", "esc"],
        0,
        0,
    ),
    (
        "sedation",
        &["type:moaas 2 cadss 1 0 2 0 1 0", "enter"],
        0,
        0,
    ),
    ("a note", &["type:obs eyes closed #somatic", "enter"], 0, 0),
    (
        "vitals with alerts",
        &["type:bp 172/104 hr 128 spo2 90 rr 7", "enter"],
        0,
        0,
    ),
    ("a PHQ-9", &["type:phq9 1 1 1 1 1 1 1 1 2", "enter"], 0, 2),
    (
        "a strike",
        &["esc", "type:s", "type:charted in error", "enter", "i"],
        0,
        1,
    ),
    (
        "an amendment",
        &[
            "esc",
            "up",
            "up",
            "type:a",
            "type:wrong arm",
            "tab",
            "ctrl-u",
            "type:bp 136/88 hr 86",
            "enter",
            "i",
        ],
        1,
        0,
    ),
    (
        "a risk assessment",
        &["type:risk-assessment C-SSRS negative", "enter"],
        0,
        2,
    ),
    (
        "an acknowledgement",
        &["ctrl-a", "type:discussed with the patient", "enter"],
        0,
        0,
    ),
    (
        "the discharge form",
        &[
            "ctrl-d",
            "type:22222",
            "type:partner",
            "down",
            "right",
            "enter",
        ],
        0,
        0,
    ),
    (
        "the end",
        &["ctrl-d", "ctrl-e", "type:patient transferred", "enter"],
        1,
        0,
    ),
    (
        "a strike of the end",
        &["esc", "type:s", "type:ended by mistake", "enter", "i"],
        0,
        0,
    ),
];

#[test]
fn every_kind_of_entry_charted_from_the_screen_shows_as_a_fresh_read_shows_it() {
    let mut s = open_session();
    assert_as_read_afresh(&mut s, "opened");
    for (what, keys, session_reads, patient_reads) in CORPUS {
        let lines = live(&s.app).lines().len();
        let before = reads::so_far();
        press(&mut s, keys);
        let after = reads::so_far();
        let l = live(&s.app);
        assert_eq!(l.error, None, "{what}");
        assert!(l.lines().len() > lines, "{what}: nothing charted");
        assert_eq!(
            (after.0 - before.0, after.1 - before.1),
            (*session_reads, *patient_reads),
            "{what}: (whole-session reads, whole-patient reads) while charting"
        );
        assert!(
            s.app.witness.is_none(),
            "{what}: the witness panel was left"
        );
        assert_as_read_afresh(&mut s, what);
    }
    // The corpus did what it says: the safety flag was raised and cleared, an entry struck
    // and one amended, and the session ended then reopened.
    let l = live(&s.app);
    let status = |f: fn(&EntryStatus) -> bool| l.lines().iter().filter(|x| f(&x.status)).count();
    assert_eq!(status(|s| matches!(s, EntryStatus::Struck { .. })), 2);
    assert_eq!(status(|s| matches!(s, EntryStatus::Amended { .. })), 1);
    assert!(l.data.safety.is_none());
    assert!(l.data.session().ended.is_none(), "the struck end reopens");
}

#[test]
fn the_safety_flag_a_phq9_raises_shows_at_once() {
    let mut s = open_session();
    press(&mut s, &["type:phq9 1 1 1 1 1 1 1 1 2", "enter"]);
    assert!(live(&s.app).data.safety.is_some());
    assert_as_read_afresh(&mut s, "raised");
}

#[test]
fn entries_another_process_charted_come_by_the_poll_after_a_write_of_the_screens_own() {
    let mut s = open_session();
    let tick = |s: &mut Setup, minutes: i64| {
        let at = s.app.now + Duration::minutes(minutes);
        dispatch(&mut s.app, &mut s.rt, Action::Tick(at), None).unwrap();
    };
    // The first look takes the chart's version.
    tick(&mut s, 0);
    // A second terminal charts in the same session.
    let mut other = Chart::open(&s.path, "pw", 2000).unwrap();
    crate::app::charting::record_line(
        &mut other,
        &Config::default(),
        s.session,
        "obs restless",
        &crate::clock::now_local(),
    )
    .unwrap();
    // This screen charts before its next poll: it takes in its own line only.
    press(&mut s, &["type:hr 72", "enter"]);
    assert_eq!(live(&s.app).lines().len(), 1);
    assert_eq!(fresh(&s).chart.lines().len(), 2);
    // The next poll brings the other terminal's line.
    tick(&mut s, 0);
    assert_eq!(live(&s.app).lines().len(), 2);
    assert_as_read_afresh(&mut s, "after the poll");
    // And its entries take this screen's later writes in as before.
    press(&mut s, &["type:bp 120/80", "enter"]);
    assert_as_read_afresh(&mut s, "a write after the poll");
}
