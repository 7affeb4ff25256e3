//! The timeline builds only the rows that fit: held to the picture of the whole table, at
//! the newest entry and wherever the selection moves.

use crate::app::Chart;
use crate::app::{charting, views};
use crate::config::Config;
use crate::store::{NewPatient, NewSession};
use crate::tui::keymap::{Key, Keymap};
use crate::tui::sign_in::{Purpose, SignIn};
use crate::tui::state::{Action, App, Screen, update};
use crate::tui::view::timeline::WHOLE_TIMELINE;
use chrono::{DateTime, Duration, FixedOffset, NaiveDate, TimeZone};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use std::sync::Arc;

fn at(minutes: i64) -> DateTime<FixedOffset> {
    FixedOffset::east_opt(3600)
        .unwrap()
        .with_ymd_and_hms(2026, 11, 26, 10, 0, 0)
        .unwrap()
        + Duration::minutes(minutes)
}

fn draw(app: &App, whole: bool) -> Buffer {
    draw_at(app, whole, 160, 48)
}

fn draw_at(app: &App, whole: bool, width: u16, height: u16) -> Buffer {
    WHOLE_TIMELINE.with(|w| w.set(whole));
    let mut term = Terminal::new(TestBackend::new(width, height)).unwrap();
    term.draw(|f| crate::tui::view::draw(app, f)).unwrap();
    WHOLE_TIMELINE.with(|w| w.set(false));
    term.backend().buffer().clone()
}

#[test]
fn the_windowed_timeline_draws_what_the_whole_timeline_draws() {
    let dir = tempfile::tempdir().unwrap();
    let mut chart =
        Chart::create(&dir.path().join("c.db"), "pw", "Dr. Window", 2000, at(-60)).unwrap();
    let config = Config::default();
    let patient = chart
        .behind_the_door()
        .add_patient(
            &NewPatient {
                name: "Sam Window".into(),
                dob: NaiveDate::from_ymd_opt(1980, 1, 1).unwrap(),
                mrn: None,
                weight_kg: Some(70.0),
            },
            at(-60),
        )
        .unwrap();
    let session = chart
        .behind_the_door()
        .start_session(
            &NewSession {
                patient_id: patient,
                kind: crate::domain::SessionKind::Dosing,
                started: at(-5),
                intention: None,
                dosing_session_id: None,
            },
            at(-5),
        )
        .unwrap();
    charting::record_line(
        &mut chart,
        &config,
        session,
        "dose ketamine 35mg IM",
        &at(0),
    )
    .unwrap();
    // Readings without a BP: overdue and missed checks join the entries in the timeline.
    for minute in 1..90 {
        let line = if minute % 3 == 0 {
            "obs resting"
        } else {
            "hr 72 spo2 97"
        };
        charting::record_line(&mut chart, &config, session, line, &at(minute)).unwrap();
    }
    let mut app = App::new(
        Screen::SignIn(Box::new(SignIn::new(Purpose::Open, None))),
        at(90),
        Keymap::default(),
        Arc::new(config.clone()),
    );
    update(&mut app, Action::Resize(160, 48));
    let data = views::live_data(&chart, &config, session).unwrap();
    update(&mut app, Action::Opened(Ok(data)));
    // Charting: the newest rows in view.
    assert_eq!(draw(&app, false), draw(&app, true));
    // The timeline focused, the selection moved up to the first entry and down again.
    update(&mut app, Action::Key(Key::parse("esc").unwrap()));
    assert_eq!(draw(&app, false), draw(&app, true));
    for step in 0..95 {
        update(&mut app, Action::Key(Key::parse("up").unwrap()));
        if step % 7 == 0 {
            assert_eq!(draw(&app, false), draw(&app, true), "{step} up");
        }
    }
    assert_eq!(draw(&app, false), draw(&app, true), "at the top");
    for step in 0..40 {
        update(&mut app, Action::Key(Key::parse("down").unwrap()));
        if step % 5 == 0 {
            assert_eq!(draw(&app, false), draw(&app, true), "{step} down");
        }
    }
}

/// Rows of one, two and three lines (and a selected one shown whole): the window holds to
/// the whole table's picture wherever the selection goes, at the sizes where rows wrap.
#[test]
fn the_windowed_timeline_draws_what_the_whole_timeline_draws_when_rows_wrap() {
    let dir = tempfile::tempdir().unwrap();
    let mut chart =
        Chart::create(&dir.path().join("c.db"), "pw", "Dr. Window", 2000, at(-60)).unwrap();
    let config = Config::default();
    let patient = chart
        .behind_the_door()
        .add_patient(
            &NewPatient {
                name: "Sam Window".into(),
                dob: NaiveDate::from_ymd_opt(1980, 1, 1).unwrap(),
                mrn: None,
                weight_kg: Some(70.0),
            },
            at(-60),
        )
        .unwrap();
    let session = chart
        .behind_the_door()
        .start_session(
            &NewSession {
                patient_id: patient,
                kind: crate::domain::SessionKind::Dosing,
                started: at(-5),
                intention: None,
                dosing_session_id: None,
            },
            at(-5),
        )
        .unwrap();
    let words = "the room is breathing and the light is warm over the chest";
    charting::record_line(
        &mut chart,
        &config,
        session,
        "dose ketamine 35mg IM",
        &at(0),
    )
    .unwrap();
    for minute in 1..60 {
        // Tall rows before runs of short ones: scrolled to a short one, the table leaves
        // room below it that only one more row may take.
        let line = match minute % 7 {
            0 => "bp 172/108 hr 131 spo2 86 rr 6 temp 37.9".to_string(),
            1 => format!("obs {}", &words[..(minute as usize * 7) % words.len()]),
            2 => format!("obs {words} {words} {words}"),
            _ => "hr 72".to_string(),
        };
        let line = if line.trim() == "obs" {
            "obs resting".into()
        } else {
            line
        };
        charting::record_line(&mut chart, &config, session, &line, &at(minute)).unwrap();
    }
    let mut app = App::new(
        Screen::SignIn(Box::new(SignIn::new(Purpose::Open, None))),
        at(60),
        Keymap::default(),
        Arc::new(config.clone()),
    );
    let data = views::live_data(&chart, &config, session).unwrap();
    update(&mut app, Action::Opened(Ok(data)));
    for (w, h) in [(60, 18), (80, 24), (120, 40)] {
        update(&mut app, Action::Resize(w, h));
        assert_eq!(
            draw_at(&app, false, w, h),
            draw_at(&app, true, w, h),
            "{w}x{h}"
        );
    }
    update(&mut app, Action::Key(Key::parse("esc").unwrap()));
    for step in 0..64 {
        update(&mut app, Action::Key(Key::parse("up").unwrap()));
        for (w, h) in [(60, 18), (80, 24), (120, 40)] {
            assert_eq!(
                draw_at(&app, false, w, h),
                draw_at(&app, true, w, h),
                "{step} up at {w}x{h}"
            );
        }
    }
    for step in 0..64 {
        update(&mut app, Action::Key(Key::parse("down").unwrap()));
        if step % 3 == 0 {
            for (w, h) in [(60, 18), (80, 24)] {
                assert_eq!(
                    draw_at(&app, false, w, h),
                    draw_at(&app, true, w, h),
                    "{step} down at {w}x{h}"
                );
            }
        }
    }
}
