//! What the live preview shows is what is written: a corpus of lines is typed into the live
//! screen's bar (its preview read), then charted the way the runtime charts it, and the flags
//! of the entries written must be the flags the preview showed. Both go through the session
//! chart's one planning call; this test fails if a second copy of a rule appears.

mod common;

use common::fixture::{Fixture, at, dosing_session};
use kapchart::app::charting;
use kapchart::domain::FlagCode;
use kapchart::tui::keymap::{Key, KeyName, Keymap};
use kapchart::tui::sign_in::{Purpose, SignIn};
use kapchart::tui::state::{Action, App, Effect, Screen, update};
use std::sync::Arc;

/// Lines a bedside session meets: pre-dose, the antiemetic, the dose, alerts, late entries,
/// several entries on one line, questionnaires.
const CORPUS: &[&str] = &[
    "bp 150/95 hr 82",
    "@-20m bp 146/92 hr 80 spo2 98",
    "dose ondansetron 4mg PO",
    "bp 148/94 dose ketamine 0.5mg/kg IM",
    "bp 172/104 hr 128 spo2 90 rr 7",
    "moaas 2",
    "@-30m moaas 1",
    "obs calm, \"I am safe\" #insight",
    "bp 120/80 moaas 4 obs settling",
    "phq9 1 1 1 1 1 1 1 1 2",
    "temp 101.5F hr 45",
];

fn type_line(app: &mut App, text: &str) {
    for c in text.chars() {
        let key = Key {
            code: KeyName::Char(c),
            ctrl: false,
            alt: false,
        };
        update(app, Action::Key(key));
    }
}

fn open(f: &Fixture, minute: i64) -> App {
    let mut app = App::new(
        Screen::SignIn(Box::new(SignIn::new(Purpose::Open, None))),
        at(minute),
        Keymap::default(),
        Arc::new(f.config.clone()),
    );
    update(&mut app, Action::Opened(Ok(f.live_data())));
    app
}

fn preview_flags(app: &App) -> Vec<Vec<FlagCode>> {
    let Screen::Live(l) = &app.screen else {
        panic!("not on the live screen")
    };
    match &l.preview {
        Some(Ok(planned)) => planned
            .iter()
            .map(|p| p.flags.iter().map(|f| f.code).collect())
            .collect(),
        other => panic!("no preview: {other:?}"),
    }
}

#[test]
fn every_line_is_written_with_the_flags_its_preview_showed() {
    // A session charted to its baseline only: no dose yet, so pre-dose rules apply first.
    let mut f = dosing_session(3);
    let mut minute = 4;
    let mut compared = 0;
    for line in CORPUS {
        let mut app = open(&f, minute);
        type_line(&mut app, line);
        let shown = preview_flags(&app);
        let effect = update(&mut app, Action::Key(Key::parse("enter").unwrap()))
            .unwrap_or_else(|| panic!("{line}: Enter charted nothing"));
        assert!(matches!(effect, Effect::Commit { .. }), "{effect:?}");
        let newest = f.lines_now().iter().map(|l| l.entry.id).max().unwrap_or(0);
        let (_, result) =
            kapchart::tui::write(&mut f.chart, &f.config, effect, &at(minute)).expect("a write");
        let charted = result.unwrap_or_else(|e| panic!("{line}: {e}"));
        let mut new: Vec<_> = f
            .lines_now()
            .into_iter()
            .filter(|l| l.entry.id > newest)
            .collect();
        new.sort_by_key(|l| l.entry.id);
        let written: Vec<Vec<FlagCode>> = new
            .iter()
            .map(|l| l.entry.flags.iter().map(|f| f.code).collect())
            .collect();
        assert_eq!(written.len(), charted, "{line}");
        // Entry ids follow the line's order, as the preview does.
        assert_eq!(shown, written, "{line}");
        compared += 1;
        minute += 7;
    }
    assert_eq!(compared, CORPUS.len());
}

#[test]
fn the_corpus_meets_the_rules_it_is_meant_to_meet() {
    // The corpus is only worth something if its lines earn the flags: check a few.
    let f = dosing_session(3);
    let mut app = open(&f, 4);
    type_line(&mut app, "bp 150/95 hr 82");
    assert_eq!(preview_flags(&app), [[FlagCode::BpPredose]]);
    let mut app = open(&f, 4);
    type_line(&mut app, "bp 148/94 dose ketamine 0.5mg/kg IM");
    assert_eq!(preview_flags(&app), [vec![FlagCode::BpPredose], vec![]]);
    let mut app = open(&f, 4);
    type_line(&mut app, "@-20m bp 120/80");
    assert_eq!(preview_flags(&app), [[FlagCode::Late]]);
}

/// Types `line` into the live screen's bar at `minute`, charts it as the runtime does, and
/// returns the flags the preview showed (planned against the whole session) and the flags
/// written (the write plans against the session's doses and corrections only).
fn shown_and_written(
    f: &mut Fixture,
    minute: i64,
    line: &str,
) -> (Vec<Vec<FlagCode>>, Vec<Vec<FlagCode>>) {
    let mut app = open(f, minute);
    type_line(&mut app, line);
    let shown = preview_flags(&app);
    let effect = update(&mut app, Action::Key(Key::parse("enter").unwrap()))
        .unwrap_or_else(|| panic!("{line}: Enter charted nothing"));
    let newest = f.lines_now().iter().map(|l| l.entry.id).max().unwrap_or(0);
    let (_, result) =
        kapchart::tui::write(&mut f.chart, &f.config, effect, &at(minute)).expect("a write");
    result.unwrap_or_else(|e| panic!("{line}: {e}"));
    let mut new: Vec<_> = f
        .lines_now()
        .into_iter()
        .filter(|l| l.entry.id > newest)
        .collect();
    new.sort_by_key(|l| l.entry.id);
    let written = new
        .iter()
        .map(|l| l.entry.flags.iter().map(|f| f.code).collect())
        .collect();
    (shown, written)
}

fn newest_id(f: &Fixture) -> i64 {
    f.lines_now().iter().map(|l| l.entry.id).max().unwrap()
}

#[test]
fn lines_after_a_struck_or_amended_dose_and_between_devices_are_written_as_previewed() {
    // The write reads only the session's doses and its corrections; the preview reads the
    // whole session. Strikes, amendments and devices are where the two could part.
    let mut f = dosing_session(3);
    let (shown, written) = shown_and_written(&mut f, 4, "dose ketamine 35mg IM");
    assert_eq!(shown, written);
    let dose = newest_id(&f);
    charting::strike_entry(&mut f.chart, dose, "charted in the wrong session", &at(5)).unwrap();
    // The struck dose does not stand: a BP after it is pre-dose again.
    let (shown, written) = shown_and_written(&mut f, 6, "bp 150/95 hr 82");
    assert_eq!(shown, [[FlagCode::BpPredose]]);
    assert_eq!(shown, written, "after a struck dose");

    let (shown, written) = shown_and_written(&mut f, 8, "dose ketamine 35mg IM");
    assert_eq!(shown, written);
    let dose = newest_id(&f);
    charting::amend_entry(
        &mut f.chart,
        &f.config,
        dose,
        "was a reading, not a dose",
        "bp 140/90",
        &at(9),
    )
    .unwrap();
    // Amended into a reading, no dose stands: still pre-dose.
    let (shown, written) = shown_and_written(&mut f, 10, "bp 152/96");
    assert_eq!(shown, [[FlagCode::BpPredose]]);
    assert_eq!(shown, written, "after a dose amended away");

    // Two esketamine devices two minutes apart: the second is marked for the rest between
    // devices, and the BP after the first device is no longer pre-dose.
    let (shown, written) = shown_and_written(&mut f, 12, "dose esketamine 28mg IN lot A1");
    assert_eq!(shown, written);
    let (shown, written) = shown_and_written(&mut f, 14, "dose esketamine 28mg IN lot A1");
    assert_eq!(shown, [[FlagCode::DeviceRest]]);
    assert_eq!(shown, written, "the second device");
    let (shown, written) = shown_and_written(&mut f, 15, "bp 152/96");
    assert_eq!(shown, [Vec::<FlagCode>::new()]);
    assert_eq!(shown, written, "after the devices");
}
