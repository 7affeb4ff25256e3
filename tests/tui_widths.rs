//! What the bedside screens show at every width and hour (README, "How each screen
//! shortens"): a session that crosses midnight with readings back-dated before it was
//! opened, full of values that earned an alert, drawn at every width from 60 to 200
//! columns. No value is cut inside a number and no alert mark is lost; the flowsheet (with
//! a 172/108 and the CADSS-6 and respiration columns) and the patient screen are held to
//! snapshots at 60x18, 80x24, 120x40 and 160x48.

mod common;

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, TimeZone};
use kapchart::app::Chart;
use kapchart::app::{charting, views};
use kapchart::config::Config;
use kapchart::domain::SessionKind;
use kapchart::domain::team::Role;
use kapchart::store::{NewPatient, NewSession};
use kapchart::tui::keymap::{Key, Keymap};
use kapchart::tui::note::NoteEditor;
use kapchart::tui::sign_in::{Purpose, SignIn};
use kapchart::tui::state::{Action, App, Effect, NOTICE_FOR, Screen, update};
use kapchart::tui::theme::Theme;
use kapchart::tui::view;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::collections::BTreeSet;
use std::sync::Arc;

/// 22:50 on 5 Dec 2026 at UTC+01:00 (when the session was opened), plus `minutes`.
fn at(minutes: i64) -> DateTime<FixedOffset> {
    FixedOffset::east_opt(3600)
        .unwrap()
        .with_ymd_and_hms(2026, 12, 5, 22, 50, 0)
        .unwrap()
        + Duration::minutes(minutes)
}

/// The screens are looked at 30 min after midnight.
const NOW: i64 = 100;

struct Midnight {
    _dir: tempfile::TempDir,
    chart: Chart,
    config: Config,
    session: i64,
}

impl Midnight {
    /// Charts `line` as typed half a minute after `minute`, with its time of day
    /// (`@23:25`, or `@00:05` after midnight: the most recent such time).
    fn log(&mut self, minute: i64, line: &str) {
        let typed = at(minute) + Duration::seconds(30);
        let line = format!("{} {line}", at(minute).format("@%H:%M"));
        charting::record_line(&mut self.chart, &self.config, self.session, &line, &typed)
            .unwrap_or_else(|e| panic!("{line}: {e}"));
    }
}

/// A ketamine session opened at 22:50 that crosses midnight: a baseline back-dated to 22:35,
/// before it was opened (a pre-dose 146/94, and an HR, SpO2 and RR that alert), a dose above
/// the alert level witnessed by a nurse, then readings, sedation scores, CADSS-6 totals and
/// respiratory depression that alert at every check, on both dates; and the questionnaires
/// of the patient's course.
fn midnight() -> Midnight {
    // One chart at a time: SQLCipher's key setup has failed now and then for charts created
    // at the same moment of one process (see tests/witness_exports.rs).
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let mut chart = Chart::create(
        &dir.path().join("c.db"),
        "pw",
        "Dr. Mara Quinn",
        2000,
        at(-600),
    )
    .unwrap();
    let mut config = Config::default();
    // A clinic that flags dissociation (no level is shipped: assets/config.toml).
    config.alerts.cadss6_total_at_or_above = Some(4);
    let patient = chart
        .behind_the_door()
        .add_patient(
            &NewPatient {
                name: "Alex Rivera".into(),
                dob: NaiveDate::from_ymd_opt(1986, 4, 12).unwrap(),
                mrn: Some("DEMO-1001".into()),
                weight_kg: Some(70.0),
            },
            at(-600),
        )
        .unwrap();
    let session = chart
        .behind_the_door()
        .start_session(
            &NewSession {
                patient_id: patient,
                kind: SessionKind::Dosing,
                started: at(0),
                intention: Some("To meet my grief with less fear".into()),
                dosing_session_id: None,
            },
            at(0),
        )
        .unwrap();
    let mut m = Midnight {
        _dir: dir,
        chart,
        config,
        session,
    };
    let nurse = m
        .chart
        .add_team_member(
            "Nia Nurse",
            Role::Nurse,
            Some("RN"),
            "tidal meadow lantern",
            at(-60),
        )
        .unwrap();
    m.log(-15, "bp 146/94 hr 48 spo2 91 rr 7 temp 36.9");
    m.log(-10, "moaas 5");
    m.log(-8, "phq9 2 2 2 2 2 2 2 1 0");
    m.log(-7, "gad7 2 2 2 2 2 2 1");
    m.log(-6, "pcl5 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2");
    m.log(5, "dose ketamine 2mg/kg IM");
    let dose = views::live_data(&m.chart, &m.config, session)
        .unwrap()
        .chart
        .lines()
        .iter()
        .find(|l| matches!(l.entry.payload, kapchart::domain::Payload::Dose(_)))
        .unwrap()
        .entry
        .id;
    m.chart
        .behind_the_door()
        .record_as_witness(dose, &nurse.to_string(), "tidal meadow lantern", at(6))
        .unwrap();
    m.log(20, "bp 158/99 hr 118 spo2 95 rr 12");
    m.log(21, "moaas 2");
    m.log(35, "bp 172/108 hr 131 spo2 86 rr 6 temp 37.9");
    m.log(36, "cadss 3 3 3 3 2 0");
    m.log(36, "resp depressed");
    m.log(
        50,
        "obs tearful, holding hands on chest; says the room is breathing and counts 100 to 1; partner called at 00:12, home cuff read 150/95 #distress \"it's like warm water over my chest\"",
    );
    m.log(75, "bp 181/112 hr 126 spo2 88 rr 5");
    m.log(76, "moaas 1");
    m.log(76, "cadss 4 4 4 4 4 4");
    m.log(77, "resp depressed slow shallow breaths");
    m.log(95, "bp 176/104 hr 122 spo2 89 rr 6");
    m.log(96, "moaas 2");
    m
}

fn new_app(config: &Config, screen: Screen) -> App {
    let mut app = App::new(screen, at(NOW), Keymap::default(), Arc::new(config.clone()));
    app.theme = Theme { color: false };
    app
}

fn live_app(m: &Midnight) -> App {
    let mut app = new_app(
        &m.config,
        Screen::SignIn(Box::new(SignIn::new(Purpose::Open, None))),
    );
    let data = views::live_data(&m.chart, &m.config, m.session).unwrap();
    update(&mut app, Action::Opened(Ok(data)));
    app
}

fn key(app: &mut App, k: &str) -> Option<Effect> {
    update(app, Action::Key(Key::parse(k).unwrap()))
}

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        update(
            app,
            Action::Key(Key {
                code: kapchart::tui::keymap::KeyName::Char(c),
                ctrl: false,
                alt: false,
            }),
        );
    }
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

/// Every screen a clinician reaches with this session, by name: the sign-in, the live
/// screen and its forms, help, the lock, the patient, home, note and integration screens.
fn screens(m: &mut Midnight) -> Vec<(&'static str, App)> {
    let mut out = vec![(
        "sign in",
        new_app(
            &m.config,
            Screen::SignIn(Box::new(SignIn::new(Purpose::Open, None))),
        ),
    )];
    let live = live_app(m);
    out.push(("live, charting", live.clone()));
    let mut typed = live.clone();
    type_text(&mut typed, "bp 190/118 hr 140 spo2 84 rr 4");
    out.push(("live, a line typed", typed));
    let mut timeline = live.clone();
    key(&mut timeline, "esc");
    for _ in 0..9 {
        key(&mut timeline, "up");
    }
    out.push(("live, timeline focused", timeline));
    let mut discharge = live.clone();
    key(&mut discharge, "ctrl-d");
    out.push(("live, discharge", discharge));
    let mut ack = live.clone();
    key(&mut ack, "ctrl-a");
    out.push(("live, acknowledge", ack));
    let mut help = live.clone();
    key(&mut help, "f1");
    out.push(("help", help));
    let mut locked = live.clone();
    key(&mut locked, "ctrl-l");
    out.push(("lock", locked));

    let patient = views::live_data(&m.chart, &m.config, m.session)
        .unwrap()
        .patient
        .id;
    let data = views::patient_data(&m.chart, &m.config, patient, at(NOW)).unwrap();
    let mut p = live.clone();
    update(&mut p, Action::PatientOpened(Ok(Box::new(data))));
    out.push(("patient", p));

    let mut home = live.clone();
    let data = views::home_data(&m.chart, &m.config, at(NOW)).unwrap();
    let mut effect = update(&mut home, Action::HomeLoaded(Ok(data)));
    while let Some(Effect::LoadPatientSessions(p)) = effect {
        let sessions = views::patient_sessions(&m.chart, p).unwrap();
        effect = update(&mut home, Action::PatientSessions(p, Ok(sessions)));
    }
    out.push(("home", home));

    let note =
        kapchart::app::course::open_note(&mut m.chart, &m.config, m.session, at(NOW)).unwrap();
    out.push((
        "note",
        new_app(&m.config, Screen::Note(Box::new(NoteEditor::new(note)))),
    ));

    let integration = m
        .chart
        .behind_the_door()
        .start_session(
            &NewSession {
                patient_id: patient,
                kind: SessionKind::Integration,
                started: at(NOW + 5),
                intention: None,
                dosing_session_id: Some(m.session),
            },
            at(NOW + 5),
        )
        .unwrap();
    let mut i = new_app(
        &m.config,
        Screen::SignIn(Box::new(SignIn::new(Purpose::Open, None))),
    );
    i.now = at(NOW + 10);
    let data = views::live_data(&m.chart, &m.config, integration).unwrap();
    update(&mut i, Action::Opened(Ok(data)));
    out.push(("integration", i));
    out
}

/// The text of the screen's columns `from..to`, its box lines taken out and its rows joined
/// by single spaces: what a panel says, however it wrapped.
fn panel_text(screen: &str, from: u16, to: u16) -> String {
    let rows: Vec<String> = screen
        .lines()
        .map(|l| {
            l.chars()
                .skip(usize::from(from))
                .take(usize::from(to - from))
                .map(|c| {
                    if "│┌┐└┘─".contains(c) {
                        ' '
                    } else {
                        c
                    }
                })
                .collect::<String>()
        })
        .collect();
    rows.join(" ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Drops what says how the screen is paged or scrolled (its numbers follow the size).
fn without_paging(screen: &str) -> String {
    screen
        .lines()
        .map(|l| {
            let mut l = l.to_string();
            for marker in ["Page ", "↑ ", "↓ "] {
                if let Some(i) = l.find(marker)
                    && (marker == "Page " || l[i..].contains(" more "))
                {
                    l.truncate(i);
                }
            }
            l
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The words of `screen`, each with what is part of a value (`172/108!`, `T+150`, `23:25`,
/// `86%!`, `#12`, `DEMO-1001`, `depr!`).
fn words(screen: &str) -> Vec<String> {
    let part = |c: char| c.is_ascii_alphanumeric() || "/:.%+-#!".contains(c);
    without_paging(screen)
        .split(|c: char| !part(c))
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

fn is_value(word: &str) -> bool {
    word.chars().any(|c| c.is_ascii_digit())
}

#[test]
fn at_every_width_no_value_is_cut_and_no_alert_mark_is_lost() {
    let mut m = midnight();
    let screens = screens(&mut m);
    // Drawn where nothing needs to shorten: every value whole, with its mark (a value one
    // screen's dialog covers is whole on another).
    let wholes: Vec<String> = screens
        .iter()
        .map(|(_, app)| render(app, 400, 160))
        .collect();
    let all_values: BTreeSet<String> = wholes.iter().flat_map(|w| words(w)).collect();
    for ((name, app), whole) in screens.iter().zip(&wholes) {
        let whole_values: BTreeSet<String> = words(whole).into_iter().collect();
        // The values shown with `!` and nowhere without it.
        let alerting: BTreeSet<&str> = whole_values
            .iter()
            .filter(|v| v.ends_with('!'))
            .map(|v| v.trim_end_matches('!'))
            .filter(|v| !whole_values.contains(*v))
            .collect();
        if name.starts_with("live") {
            for v in ["172/108!", "146/94!", "86%!", "131!", "depr!", "14!", "1!"] {
                assert!(
                    whole_values.contains(v),
                    "{name}: the fixture shows {v}:\n{whole}"
                );
            }
            assert!(alerting.len() >= 15, "{name}: {alerting:?}");
            for v in ["172/108", "181/112", "86%", "131", "depr", "24"] {
                assert!(alerting.contains(v), "{name}: {v} is marked: {alerting:?}");
            }
        }
        // Every width at the smallest height (where most is shortened), every other width
        // at 40 rows, and 24 and 48 rows every seventh.
        for width in 60..=200 {
            let mut heights = vec![18];
            if width % 2 == 0 {
                heights.push(40);
            }
            if width % 7 == 0 {
                heights.extend([24, 48]);
            }
            for height in heights {
                let screen = render(app, width, height);
                for v in words(&screen) {
                    assert!(
                        !is_value(&v) || all_values.contains(&v),
                        "{name} at {width}x{height}: {v:?} is not a whole value of the screen:\n{screen}"
                    );
                    assert!(
                        !alerting.contains(v.as_str()),
                        "{name} at {width}x{height}: {v:?} without its alert mark:\n{screen}"
                    );
                }
            }
        }
    }
}

#[test]
fn the_flowsheet_with_a_172_over_108_on_two_dates_at_four_sizes() {
    let m = midnight();
    let app = live_app(&m);
    for (w, h) in [(60, 18), (80, 24), (120, 40), (160, 48)] {
        let shown = render(&app, w, h);
        let flow: Vec<&str> = shown
            .lines()
            .skip_while(|l| !l.contains("Vitals (newest first"))
            .take_while(|l| !l.contains("Chart:"))
            .collect();
        let flow = flow.join("\n");
        assert!(flow.contains("CADSS") && flow.contains("Resp"), "{shown}");
        // The newest reading in view with every value and mark; its time never replaced by
        // the date.
        for v in ["00:25", "176/104!", "122!", "89%!", "6!", "2!"] {
            assert!(flow.contains(v), "{w}x{h} lacks {v}:\n{shown}");
        }
        if h >= 24 {
            for v in ["172/108!", "131!", "86%!", "14!", "depr!"] {
                assert!(flow.contains(v), "{w}x{h} lacks {v}:\n{shown}");
            }
        }
        if h >= 40 {
            assert!(flow.contains("146/94!"), "the pre-dose BP:\n{shown}");
        }
        insta::assert_snapshot!(format!("flowsheet_two_dates_{w}x{h}"), shown);
    }
}

#[test]
fn the_patient_screen_at_four_sizes() {
    let m = midnight();
    let mut app = live_app(&m);
    let patient = views::live_data(&m.chart, &m.config, m.session)
        .unwrap()
        .patient
        .id;
    let data = views::patient_data(&m.chart, &m.config, patient, at(NOW)).unwrap();
    update(&mut app, Action::PatientOpened(Ok(Box::new(data))));
    for (w, h) in [(60, 18), (80, 24), (120, 40), (160, 48)] {
        let shown = render(&app, w, h);
        let (left, right) = (panel_text(&shown, 0, w / 2), panel_text(&shown, w / 2, w));
        assert!(left.contains("sex not recorded"), "{w}x{h}:\n{shown}");
        // The dosing session under way counts as such.
        assert!(
            right.contains("dosing 0 of 6 done · dosing 1 open (session #1)"),
            "{w}x{h}:\n{shown}"
        );
        // Bands are never cut (the PHQ-9 is on the left, the PCL-5 in the last third); from 80x24
        // each chart marks the totals and labels its bands.
        assert!(
            panel_text(&shown, 0, w / 3).contains("15 (moderately severe)"),
            "{w}x{h}:\n{shown}"
        );
        assert!(
            panel_text(&shown, w * 2 / 3, w).contains("40 (at or above provisional cut-off)"),
            "{w}x{h}:\n{shown}"
        );
        if h >= 24 {
            assert!(shown.contains('●'), "{w}x{h}: no data-point mark:\n{shown}");
            assert!(
                shown.contains("10 moderate"),
                "{w}x{h}: no band label:\n{shown}"
            );
        }
        insta::assert_snapshot!(format!("patient_{w}x{h}"), shown);
    }
}

#[test]
fn help_is_one_page_at_160x48() {
    let m = midnight();
    let mut app = live_app(&m);
    update(&mut app, Action::Resize(160, 48));
    key(&mut app, "f1");
    let shown = render(&app, 160, 48);
    assert!(shown.contains("Any key closes this help."), "{shown}");
    assert!(!shown.contains("Page 1 of"), "{shown}");
    assert_eq!(kapchart::tui::view::help_pages(&app, 160, 48), 1);
}

#[test]
fn overdue_rows_keep_their_time_and_the_header_says_every_part_at_80x24_and_120x40() {
    let mut m = midnight();
    // Nothing charted after 00:26: the T+120 vitals fall due at 00:55 and are overdue by
    // 01:10, on the second date.
    let mut app = live_app(&m);
    update(&mut app, Action::Tick(at(140)));
    m.log(130, "obs resting, eyes closed");
    let data = views::live_data(&m.chart, &m.config, m.session).unwrap();
    update(&mut app, Action::Refreshed(Ok(Some(data))));
    for (w, h) in [(80, 24), (120, 40)] {
        let shown = render(&app, w, h);
        let row = shown
            .lines()
            .find(|l| l.contains("⚠ check OVERDUE"))
            .unwrap_or_else(|| panic!("{w}x{h}: no overdue row:\n{shown}"));
        assert!(
            row.contains("00:55") && row.contains("T+120"),
            "{w}x{h}: {row}"
        );
        // The header's parts whole: the countdown with its words, how many were missed.
        for part in [
            "⚠ OVERDUE: vitals T+120 15 min late",
            "next: vitals T+150 in 15 min",
            "1 missed",
        ] {
            assert!(shown.contains(part), "{w}x{h} lacks {part}:\n{shown}");
        }
    }
}

#[test]
fn a_notice_says_what_just_happened_and_goes() {
    // The session of tests/common/fixture.rs: its pre-dose caution acknowledged, its MOAA/S 2
    // standing in the header's third line, the notice after it.
    let mut f = common::fixture::dosing_session(46);
    let now = common::fixture::at(57);
    let mut app = new_app(
        &f.config,
        Screen::SignIn(Box::new(SignIn::new(Purpose::Open, None))),
    );
    app.now = now;
    update(&mut app, Action::Opened(Ok(f.live_data())));
    type_text(&mut app, "hr 96");
    let commit = key(&mut app, "enter").expect("a commit");
    let written = kapchart::tui::write_for_screen(&mut f.chart, &f.config, commit, &now)
        .unwrap()
        .unwrap();
    update(&mut app, Action::Written(Ok(written)));
    assert!(render(&app, 80, 24).contains("charted 1 entry"));
    update(
        &mut app,
        Action::Tick(now + NOTICE_FOR - Duration::seconds(1)),
    );
    assert!(render(&app, 80, 24).contains("charted 1 entry"));
    update(&mut app, Action::Tick(now + NOTICE_FOR));
    let later = render(&app, 80, 24);
    assert!(!later.contains("charted 1 entry"), "{later}");
    // What stands is alone again: the MOAA/S 2 at T+31 nobody acknowledged.
    assert!(
        later.contains("⚠ open alert T+31: MOAA/S 2 (alert at <= 2) · Ctrl-A acknowledge"),
        "{later}"
    );
}

#[test]
fn durations_beside_clock_times_are_in_words() {
    let mut m = midnight();
    let patient = views::live_data(&m.chart, &m.config, m.session)
        .unwrap()
        .patient
        .id;
    let prep = m
        .chart
        .behind_the_door()
        .start_session(
            &NewSession {
                patient_id: patient,
                kind: SessionKind::Preparation,
                started: at(NOW),
                intention: None,
                dosing_session_id: None,
            },
            at(NOW),
        )
        .unwrap();
    charting::record_line(
        &mut m.chart,
        &m.config,
        prep,
        "intention to meet my grief with less fear",
        &at(NOW + 1),
    )
    .unwrap();
    let mut app = new_app(
        &m.config,
        Screen::SignIn(Box::new(SignIn::new(Purpose::Open, None))),
    );
    app.now = at(NOW + 23) + Duration::seconds(40);
    let data = views::live_data(&m.chart, &m.config, prep).unwrap();
    update(&mut app, Action::Opened(Ok(data)));
    let shown = render(&app, 80, 24);
    assert!(shown.contains("started 23 min ago"), "{shown}");
    assert!(!shown.contains("00:23"), "{shown}");
    // The payload names itself: no doubled label.
    assert!(shown.contains("│Intention: to meet my grief"), "{shown}");
    assert!(!shown.contains("intention: Intention:"), "{shown}");
}

#[test]
fn a_time_of_the_day_before_is_previewed_with_its_date() {
    let m = midnight();
    let mut app = live_app(&m);
    // At 00:30 `@23:50` is yesterday's: the preview says so.
    type_text(&mut app, "@23:50 hr 80");
    let shown = render(&app, 80, 24);
    assert!(shown.contains("→ @05 Dec 23:50 HR 80"), "{shown}");
    let mut app = live_app(&m);
    type_text(&mut app, "@00:20 hr 80");
    let shown = render(&app, 80, 24);
    assert!(shown.contains("→ @00:20 HR 80"), "{shown}");
}

#[test]
fn a_refusal_under_the_bar_wraps_and_is_not_cut() {
    let m = midnight();
    let mut app = live_app(&m);
    type_text(
        &mut app,
        "bp 120/80 nothing-like-a-word-kapchart-knows hr 70",
    );
    let under_the_bar = |shown: &str| {
        shown
            .lines()
            .skip_while(|l| !l.contains("nothing-like"))
            .skip(2)
            .collect::<Vec<_>>()
            .join(" ")
    };
    // Whole at 80x24, on as many rows as it takes.
    let shown = render(&app, 80, 24);
    let text = under_the_bar(&shown);
    assert!(
        text.contains("✗ Not a measurement, score or dose; to add a note after them, start it with  obs: 'nothing-like-a-word-kapchart-knows' (example: bp 128/82 obs calm)"),
        "{shown}"
    );
    // At 60x18 the rows left are counted: the last one kept says it was shortened.
    let shown = render(&app, 60, 18);
    let text = under_the_bar(&shown);
    assert!(
        text.contains("✗ Not a measurement") && text.contains(" …"),
        "{shown}"
    );
}

#[test]
fn the_safety_flag_says_what_to_do_at_80x24_and_120x40() {
    let mut f = common::fixture::dosing_session(46);
    // PHQ-9 item 9 answered 1: a structured risk assessment is needed.
    f.log_at(50, "phq9 2 2 2 2 1 2 1 1 1");
    let mut app = new_app(
        &f.config,
        Screen::SignIn(Box::new(SignIn::new(Purpose::Open, None))),
    );
    app.now = common::fixture::at(57);
    update(&mut app, Action::Opened(Ok(f.live_data())));
    for (w, h) in [(80, 24), (120, 40)] {
        let shown = render(&app, w, h);
        let header: Vec<&str> = shown.lines().take_while(|l| !l.starts_with('┌')).collect();
        let header = header.join(" ");
        assert!(
            header.contains("⚠ SAFETY: PHQ-9 item 9 answered 1")
                && header
                    .contains("structured suicide risk assessment needed (risk-assessment ...)"),
            "{w}x{h}:\n{shown}"
        );
    }
}
