//! Snapshots of the screens, rendered into a test backend from a realistic session charted
//! at fixed times: 80x24 (the minimum that must work), 160x48, and a tiny terminal.

mod common;

use common::fixture::{Fixture, at, dosing_session};
use kapchart::tui::app::{Action, App, Screen, update};
use kapchart::tui::home::HomeData;
use kapchart::tui::keymap::{Key, Keymap};
use kapchart::tui::theme::Theme;
use kapchart::tui::view;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::sync::Arc;

fn app_on_session(f: &Fixture, minute: i64) -> App {
    let mut app = App::new(
        Screen::Locked {
            passphrase: String::new(),
            error: None,
        },
        at(minute),
        Keymap::default(),
        Arc::new(f.config.clone()),
    );
    app.theme = Theme { color: false };
    update(&mut app, Action::Opened(Ok(f.live_data())));
    app
}

fn render(app: &App, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| view::draw(app, frame)).unwrap();
    let buffer = terminal.backend().buffer();
    let mut out = String::new();
    for y in 0..height {
        let mut line = String::new();
        for x in 0..width {
            line.push_str(buffer[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn key(app: &mut App, k: &str) {
    update(app, Action::Key(Key::parse(k).unwrap()));
}

#[test]
fn live_screen_80x24_mid_session() {
    let f = dosing_session(46);
    let mut app = app_on_session(&f, 57);
    for c in "bp 142/90 hr 88".chars() {
        update(
            &mut app,
            Action::Key(Key {
                code: kapchart::tui::keymap::KeyName::Char(c),
                ctrl: false,
                alt: false,
            }),
        );
    }
    insta::assert_snapshot!(render(&app, 80, 24));
}

#[test]
fn live_screen_160x48_mid_session() {
    let f = dosing_session(46);
    let app = app_on_session(&f, 57);
    insta::assert_snapshot!(render(&app, 160, 48));
}

#[test]
fn live_screen_tiny_terminal() {
    let f = dosing_session(46);
    let app = app_on_session(&f, 57);
    insta::assert_snapshot!(render(&app, 40, 10));
}

#[test]
fn timeline_focus_and_amend_form_80x24() {
    let f = dosing_session(46);
    let mut app = app_on_session(&f, 57);
    key(&mut app, "esc");
    key(&mut app, "up");
    key(&mut app, "a");
    insta::assert_snapshot!(render(&app, 80, 24));
}

#[test]
fn discharge_panel_80x24() {
    let f = dosing_session(46);
    let mut app = app_on_session(&f, 131);
    key(&mut app, "ctrl-d");
    for k in ["2", "2", "1", "2", "2"] {
        key(&mut app, k);
    }
    insta::assert_snapshot!(render(&app, 80, 24));
}

#[test]
fn help_is_generated_from_the_keymap_160x48() {
    let f = dosing_session(46);
    let mut app = app_on_session(&f, 57);
    key(&mut app, "f1");
    insta::assert_snapshot!(render(&app, 160, 48));
}

#[test]
fn home_screen_80x24() {
    let f = dosing_session(46);
    let mut app = app_on_session(&f, 57);
    let data = HomeData {
        patients: f.chart.patients().unwrap(),
        sessions: f.chart.sessions(None).unwrap(),
        integrations: kapchart::domain::integration::pending(
            &f.chart.sessions(None).unwrap(),
            &f.config.integration,
            at(57),
        ),
        today: at(57).date_naive(),
    };
    update(&mut app, Action::HomeLoaded(Ok(data)));
    insta::assert_snapshot!(render(&app, 80, 24));
}

#[test]
fn patient_and_course_screen_100x30() {
    let mut f = dosing_session(46);
    f.log_at(50, "phq9 2 2 2 2 1 2 1 1 1");
    f.log_at(52, "gad7 2 2 2 1 2 1 2");
    let mut app = app_on_session(&f, 57);
    let patient = f.live_data().patient.id;
    let data = kapchart::app::views::patient_data(&f.chart, &f.config, patient, at(57)).unwrap();
    update(&mut app, Action::PatientOpened(Ok(Box::new(data))));
    insta::assert_snapshot!(render(&app, 100, 30));
}

/// An esketamine session's CADSS-6 and respiratory status join the flowsheet rows beside the
/// readings, flagged values marked with `!`; sessions that chart neither keep the columns
/// they had (the snapshots above).
#[test]
fn the_flowsheet_shows_cadss6_and_respiratory_status_when_charted() {
    let mut f = dosing_session(40);
    f.log_at(41, "bp 130/84 hr 80 spo2 97 rr 14");
    f.log_at(42, "cadss 1 0 1 0 1 0 resp ok");
    f.log_at(44, "spo2 91 rr 7 resp depressed shallow breathing");
    let app = app_on_session(&f, 45);
    let screen = render(&app, 160, 48);
    // The flowsheet is the right-hand panel at this size.
    let flowsheet: Vec<&str> = screen
        .lines()
        .filter_map(|l| l.split("││").nth(1))
        .collect();
    let row = |needle: &str| -> Vec<String> {
        let line = flowsheet
            .iter()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no {needle} row:\n{screen}"));
        line.trim_matches('│')
            .split_whitespace()
            .map(str::to_string)
            .collect()
    };
    assert_eq!(
        row("MOAA/S"),
        [
            "Time", "T+", "BP", "HR", "SpO2", "RR", "T°C", "MOAA/S", "CADSS", "Resp"
        ]
    );
    // The CADSS-6 total (3) and "ok" charted a minute later join the 130/84 reading.
    assert_eq!(
        row("130/84"),
        [
            "10:41", "T+31", "130/84", "80", "97%", "14", "·", "·", "3", "ok"
        ]
    );
    assert_eq!(
        row("91%!"),
        [
            "10:44", "T+34", "·", "·", "91%!", "7!", "·", "·", "·", "depr!"
        ]
    );
}

/// The entry bar's preview says a required lot number is missing before Enter, and stops
/// saying so once the lot is typed.
#[test]
fn the_preview_says_when_a_required_lot_number_is_missing() {
    let f = dosing_session(10);
    let mut app = app_on_session(&f, 11);
    for c in "dose esketamine 56mg IN".chars() {
        type_char(&mut app, c);
    }
    let screen = render(&app, 160, 48);
    assert!(
        screen.contains("Dose esketamine 56 mg IN, 2 devices  [lot number missing: esketamine"),
        "{screen}"
    );
    for c in " lot ABC123".chars() {
        type_char(&mut app, c);
    }
    let screen = render(&app, 160, 48);
    assert!(
        screen.contains("Dose esketamine 56 mg IN, 2 devices, lot ABC123"),
        "{screen}"
    );
    assert!(!screen.contains("lot number missing"), "{screen}");
}

fn type_char(app: &mut App, c: char) {
    update(
        app,
        Action::Key(Key {
            code: kapchart::tui::keymap::KeyName::Char(c),
            ctrl: false,
            alt: false,
        }),
    );
}
