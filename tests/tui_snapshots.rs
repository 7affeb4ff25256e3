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

#[test]
fn a_late_reading_closes_its_check_and_the_timeline_says_so_80x24() {
    // The fixture doses at minute 10; the T+40 BP is due at minute 50. A BP at T+46.
    let mut f = dosing_session(46);
    f.log_at(56, "bp 150/94 hr 90 spo2 97");
    let app = app_on_session(&f, 57);
    let screen = render(&app, 80, 24);
    assert!(screen.contains("(BP T+40 6 min late)"), "{screen}");
    // The header no longer says the T+40 BP is overdue, and shows the next check.
    let header: String = screen.lines().take(3).collect::<Vec<_>>().join("\n");
    assert!(!header.contains("OVERDUE"), "{header}");
    assert!(header.contains("next: vitals T+60"), "{header}");
}

#[test]
fn the_trend_chart_goes_below_the_timeline_on_a_tall_narrow_terminal() {
    let f = dosing_session(46);
    let app = app_on_session(&f, 57);
    let tall = render(&app, 100, 44);
    let line_of = |screen: &str, needle: &str| screen.lines().position(|l| l.contains(needle));
    let timeline = line_of(&tall, "Timeline").expect("timeline");
    let trend = line_of(&tall, "BP and HR trend").unwrap_or_else(|| panic!("{tall}"));
    assert!(trend > timeline, "the trend is below the timeline:\n{tall}");
    // At 80x24 there is no room for it.
    assert!(line_of(&render(&app, 80, 24), "BP and HR trend").is_none());
}
