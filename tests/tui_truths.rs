//! What the live screen says of a session, driven through `update` and drawn by `view` into
//! a test backend, as the runtime does: rounds that need their full set, the alert nobody
//! acknowledged standing in the header and on the lock screen, acknowledgements that say what
//! they acknowledge with words that fit and their own time, the clock before its drug, and a
//! refused word of the line underlined in the bar where it was typed.

mod common;

use common::fixture::{Fixture, at, dosing_session};
use kapchart::domain::Payload;
use kapchart::domain::entry::Acknowledgement;
use kapchart::tui::keymap::{Key, KeyName, Keymap};
use kapchart::tui::live::{AcknowledgeForm, Live, Panel};
use kapchart::tui::sign_in::{Purpose, SignIn};
use kapchart::tui::state::{Action, App, Effect, Screen, update};
use kapchart::tui::theme::Theme;
use kapchart::tui::view;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::sync::Arc;

fn open(f: &Fixture, minute: i64) -> App {
    let mut app = App::new(
        Screen::SignIn(Box::new(SignIn::new(Purpose::Open, None))),
        at(minute),
        Keymap::default(),
        Arc::new(f.config.clone()),
    );
    app.theme = Theme { color: false };
    update(&mut app, Action::Opened(Ok(f.live_data())));
    app
}

fn live(app: &App) -> &Live {
    match &app.screen {
        Screen::Live(l) => l,
        other => panic!("not on the live screen: {other:?}"),
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

/// The header: the screen's first three lines.
/// The rows above the first panel: the header, however many rows it wraps onto.
fn header(app: &App, width: u16, height: u16) -> String {
    render(app, width, height)
        .lines()
        .take_while(|l| !l.starts_with('┌'))
        .collect::<Vec<_>>()
        .join("\n")
}

fn key(app: &mut App, k: &str) -> Option<Effect> {
    update(app, Action::Key(Key::parse(k).unwrap()))
}

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        update(
            app,
            Action::Key(Key {
                code: KeyName::Char(c),
                ctrl: false,
                alt: false,
            }),
        );
    }
}

/// Carries out an effect as the runtime does, against the fixture's chart, at `minute`.
fn perform(f: &mut Fixture, app: &mut App, effect: Effect, minute: i64) {
    let now = at(minute);
    let written = kapchart::tui::write_for_screen(&mut f.chart, &f.config, effect.clone(), &now)
        .unwrap_or_else(|| panic!("unexpected effect {effect:?}"));
    update(app, Action::Written(written));
}

/// The fixture with its BP alert (T+30) acknowledged: only MOAA/S 2 at T+31 stays open.
fn with_moaas_open(upto: i64) -> Fixture {
    let mut f = dosing_session(upto);
    let bp = f
        .lines_now()
        .iter()
        .rev()
        .find(|l| {
            l.status == kapchart::domain::EntryStatus::Current && l.entry.event_time == at(40)
        })
        .unwrap()
        .entry
        .id;
    f.record_at(
        upto,
        vec![Payload::Acknowledgement(Acknowledgement {
            entry: bp,
            flag: kapchart::domain::FlagCode::BpHigh,
            note: "rechecked; prescriber informed".into(),
        })],
    );
    f
}

#[test]
fn the_header_keeps_an_open_post_dose_alert_in_view() {
    // Two alerts nobody acknowledged after the dose: the newest stands, the other counted.
    let f = dosing_session(46);
    let app = open(&f, 52);
    let head = header(&app, 120, 40);
    assert!(
        head.contains("⚠ open alert T+31: MOAA/S 2 (alert at <= 2) · Ctrl-A acknowledge (+1 more)"),
        "{head}"
    );
    // One left: it stands alone.
    let f = with_moaas_open(46);
    let app = open(&f, 52);
    for (w, h) in [(80, 24), (120, 40)] {
        let head = header(&app, w, h);
        assert!(
            head.contains("⚠ open alert T+31: MOAA/S 2 (alert at <= 2) · Ctrl-A acknowledge"),
            "{w}x{h}:\n{head}"
        );
        assert!(!head.contains("more"), "{head}");
        match w {
            80 => insta::assert_snapshot!("header_with_an_open_post_dose_alert_80x24", head),
            _ => insta::assert_snapshot!("header_with_an_open_post_dose_alert_120x40", head),
        }
    }
    // At the smallest size the alert wraps rather than loses its value; wide, it stays whole.
    for (w, h) in [(60, 18), (160, 48)] {
        let head = header(&app, w, h);
        let joined = head.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            joined.contains("open alert T+31: MOAA/S 2 (alert at <= 2)"),
            "{w}x{h}:\n{head}"
        );
        match w {
            60 => insta::assert_snapshot!("header_with_an_open_post_dose_alert_60x18", head),
            _ => insta::assert_snapshot!("header_with_an_open_post_dose_alert_160x48", head),
        }
    }
}

#[test]
fn an_alert_charted_from_the_bar_stands_in_the_header_at_once_beside_what_was_charted() {
    // Nothing waits after the dose until the nurse charts a MOAA/S of 1 from the bar.
    let mut f = dosing_session(38);
    let mut app = open(&f, 45);
    assert!(!header(&app, 80, 24).contains("open alert"));
    type_text(&mut app, "moaas 1");
    let effect = key(&mut app, "enter").expect("the line is charted");
    perform(&mut f, &mut app, effect, 45);
    for (w, h) in [(80, 24), (120, 40)] {
        let head = render(&app, w, h)
            .lines()
            .take(5)
            .collect::<Vec<_>>()
            .join(" ");
        // The alert leads; what was just charted follows it and never takes its place.
        let alert = head
            .find("⚠ open alert T+35: MOAA/S 1 (alert at <= 2)")
            .unwrap_or_else(|| panic!("{w}x{h}: no alert in\n{head}"));
        if let Some(notice) = head.find("charted 1 entry") {
            assert!(alert < notice, "{w}x{h}:\n{head}");
        }
    }
    // A warning that stays while the screen is open does not hide it either.
    if let Screen::Live(l) = &mut app.screen {
        l.notice = Some("⚠ this read of the session was not audited".into());
    }
    let head = header(&app, 120, 40);
    assert!(
        head.contains("⚠ open alert T+35: MOAA/S 1") && head.contains("not audited"),
        "{head}"
    );
}

#[test]
fn the_lock_screen_says_an_alert_waits_without_its_value() {
    let f = with_moaas_open(46);
    let mut app = open(&f, 52);
    update(&mut app, Action::Key(Key::parse("ctrl-l").unwrap()));
    let screen = render(&app, 80, 24);
    assert!(
        screen.contains("⚠ Not acknowledged: MOAA/S alert at T+31"),
        "{screen}"
    );
    assert!(
        !screen.contains("MOAA/S 2"),
        "no value on the lock:\n{screen}"
    );
}

#[test]
fn an_acknowledgement_fits_its_alert_takes_its_own_time_and_says_what_it_acknowledges() {
    let mut f = with_moaas_open(46);
    let mut app = open(&f, 57);
    key(&mut app, "ctrl-a");
    let Some(Panel::Acknowledge(AcknowledgeForm { caution, .. })) = &live(&app).panel else {
        panic!("no acknowledge panel: {:?}", live(&app).panel);
    };
    assert!(caution.contains("MOAA/S 2 (alert at <= 2)"), "{caution}");
    let screen = render(&app, 120, 40);
    assert!(screen.contains("Acknowledge MOAA/S alert"), "{screen}");
    assert!(
        screen.contains("empty: \"alert seen and weighed\""),
        "{screen}"
    );
    assert!(!screen.contains("caution weighed; proceeding"), "{screen}");
    // A time before the alert (10:41) is refused in the panel, and what was typed stays.
    type_text(&mut app, "@10:30 roused to voice");
    let effect = key(&mut app, "enter").expect("an acknowledgement");
    perform(&mut f, &mut app, effect, 57);
    let Some(Panel::Acknowledge(AcknowledgeForm { note, error, .. })) = &live(&app).panel else {
        panic!("the panel closed: {:?}", live(&app).panel);
    };
    assert_eq!(note.text(), "@10:30 roused to voice");
    assert!(
        error
            .as_deref()
            .is_some_and(|e| e.contains("an acknowledgement comes after what it acknowledges")),
        "{error:?}"
    );
    let screen = render(&app, 80, 24);
    assert!(
        screen.contains("✗ an acknowledgement comes after"),
        "{screen}"
    );
    // Set aside with Esc, the refusal goes with the panel and the alert stands again; the
    // panel opens with what was typed.
    key(&mut app, "esc");
    let head = header(&app, 80, 24);
    assert!(!head.contains('✗'), "{head}");
    assert!(head.contains("⚠ open alert T+31: MOAA/S 2"), "{head}");
    key(&mut app, "ctrl-a");
    let Some(Panel::Acknowledge(AcknowledgeForm { note, .. })) = &live(&app).panel else {
        panic!("the panel did not open again: {:?}", live(&app).panel);
    };
    assert_eq!(note.text(), "@10:30 roused to voice");
    key(&mut app, "ctrl-u");
    // Its own time: 10:50, seven minutes before it is written.
    type_text(&mut app, "@10:50 roused to voice, MOAA/S 4 on recheck");
    let effect = key(&mut app, "enter").expect("an acknowledgement");
    perform(&mut f, &mut app, effect, 57);
    let l = live(&app);
    assert_eq!(l.error, None);
    let ack = l.lines().last().unwrap();
    assert_eq!(ack.entry.event_time, at(50));
    let moaas = l
        .lines()
        .iter()
        .find(|x| x.entry.payload.to_string() == "MOAA/S 2")
        .unwrap()
        .entry
        .id;
    let timeline = render(&app, 160, 48);
    assert!(
        timeline.contains(&format!("Acknowledged #{moaas} [MOAA/S 2 (alert at <= 2)]")),
        "{timeline}"
    );
    let row = timeline
        .lines()
        .find(|r| r.contains("MOAA/S 2!"))
        .unwrap_or_else(|| panic!("{timeline}"));
    assert!(row.contains("acknowledged"), "{row}");
    // Nothing left open: the header goes back to the observation.
    assert!(!header(&app, 120, 40).contains("open alert"));

    // Left empty, an alert gets the words that fit it.
    let mut f = dosing_session(46);
    let mut app = open(&f, 57);
    key(&mut app, "ctrl-a");
    let effect = key(&mut app, "enter").expect("an acknowledgement");
    perform(&mut f, &mut app, effect, 57);
    let ack = live(&app).lines().last().unwrap().entry.clone();
    assert!(
        matches!(&ack.payload, Payload::Acknowledgement(a) if a.note == "alert seen and weighed"),
        "{ack:?}"
    );
    assert_eq!(ack.event_time, at(57));
}

#[test]
fn a_round_in_part_says_what_it_misses_and_one_reading_closes_one_round() {
    // Nothing for the T+40 BP (10:50) or the T+45 round (10:55); at T+57 a BP and an HR.
    let mut f = dosing_session(46);
    let app = open(&f, 67);
    let head = header(&app, 120, 40);
    assert!(
        head.contains("⚠ OVERDUE: BP T+40 17 min late (+1 more)"),
        "{head}"
    );
    f.log_at(67, "bp 176/104 hr 92");
    let app = open(&f, 67);
    let head = header(&app, 120, 40);
    assert!(
        head.contains("⚠ OVERDUE: vitals T+45 12 min late (missing SpO2)"),
        "{head}"
    );
    assert!(head.contains("next: vitals T+60 in 3 min"), "{head}");
    let screen = render(&app, 160, 48);
    assert!(
        screen.contains("OVERDUE: vitals T+45 (10:55), missing SpO2"),
        "{screen}"
    );
    assert!(screen.contains("(BP T+40 17 min late)"), "{screen}");
    // A lone SpO2 at T+60 leaves the round open, saying what it misses.
    f.log_at(70, "spo2 97");
    let app = open(&f, 71);
    let head = header(&app, 120, 40);
    assert!(
        head.contains("due now: vitals T+60 (missing BP and HR)"),
        "{head}"
    );
}

#[test]
fn before_its_drug_the_clock_says_no_clock_dose_yet() {
    let mut f = dosing_session(8);
    let app = open(&f, 9);
    assert!(header(&app, 120, 40).contains("no dose yet"));
    f.log_at(9, "dose ondansetron 4mg PO");
    let mut app = open(&f, 9);
    let head = header(&app, 120, 40);
    assert!(head.contains("no clock dose yet"), "{head}");
    update(&mut app, Action::Key(Key::parse("ctrl-l").unwrap()));
    let lock = render(&app, 80, 24);
    assert!(lock.contains("no clock dose yet"), "{lock}");
}

#[test]
fn a_rems_form_one_day_past_its_deadline_is_overdue_since_that_day_on_home_and_in_rems_list() {
    // The deadline is the last day (inclusive): the day after it, the home screen and the
    // form's state (`rems list`, the REMS screen, the exports) both say "overdue since" that
    // day, not the deadline.
    use chrono::TimeZone;
    let dir = tempfile::tempdir().unwrap();
    let config = kapchart::config::Config::default();
    let made = chrono::Local
        .with_ymd_and_hms(2026, 11, 28, 8, 0, 0)
        .earliest()
        .unwrap();
    let (chart, _) =
        kapchart::demo::open_or_create(&dir.path().join("demo.db"), "", "pw", &config, made)
            .unwrap();
    let made = made.fixed_offset();
    let queue = kapchart::app::rems::queue(&chart, &config, made.date_naive(), made).unwrap();
    let deadline = queue
        .iter()
        .filter(|d| {
            matches!(
                d.state,
                kapchart::domain::rems::FormState::DueBy(_)
                    | kapchart::domain::rems::FormState::OverdueSince(_)
            )
        })
        .map(|d| d.form.deadline)
        .min()
        .expect("the demo has forms to submit");
    let day_after = deadline.succ_opt().unwrap();
    let now = chrono::Local
        .from_local_datetime(&day_after.and_hms_opt(12, 0, 0).unwrap())
        .earliest()
        .unwrap()
        .fixed_offset();
    let queue = kapchart::app::rems::queue(&chart, &config, day_after, now).unwrap();
    let form = queue
        .iter()
        .find(|d| d.form.deadline == deadline)
        .expect("the form is still in the queue");
    assert_eq!(
        form.state,
        kapchart::domain::rems::FormState::OverdueSince(day_after),
        "the form's own state"
    );
    assert_eq!(form.state.to_string(), format!("overdue since {day_after}"));
    let mut app = App::new(
        Screen::SignIn(Box::new(SignIn::new(Purpose::Open, None))),
        now,
        Keymap::default(),
        Arc::new(config.clone()),
    );
    app.theme = Theme { color: false };
    let data = kapchart::app::views::home_data(&chart, &config, now).unwrap();
    let mut effect = update(&mut app, Action::HomeLoaded(Ok(data)));
    while let Some(Effect::LoadPatientSessions(p)) = effect {
        let sessions = kapchart::app::views::patient_sessions(&chart, p).unwrap();
        effect = update(&mut app, Action::PatientSessions(p, Ok(sessions)));
    }
    let screen = render(&app, 160, 48);
    assert!(
        screen.contains(&format!("overdue since {}", day_after.format("%d %b"))),
        "the home screen says what the form says:\n{screen}"
    );
    assert!(
        !screen.contains(&format!("overdue since {}", deadline.format("%d %b"))),
        "not the deadline itself:\n{screen}"
    );
}

#[test]
fn the_home_screen_says_a_rems_form_is_overdue_since_the_day_rems_list_says() {
    use chrono::TimeZone;
    let dir = tempfile::tempdir().unwrap();
    let config = kapchart::config::Config::default();
    let now = chrono::Local
        .with_ymd_and_hms(2026, 11, 28, 8, 0, 0)
        .earliest()
        .unwrap();
    let (chart, _) =
        kapchart::demo::open_or_create(&dir.path().join("demo.db"), "", "pw", &config, now)
            .unwrap();
    let now = now.fixed_offset();
    // The queue as `rems list` reads it: the oldest form not submitted, overdue.
    let queue = kapchart::app::rems::queue(&chart, &config, now.date_naive(), now).unwrap();
    let since = queue
        .iter()
        .filter_map(|d| match d.state {
            kapchart::domain::rems::FormState::OverdueSince(day) => Some(day),
            _ => None,
        })
        .min()
        .expect("the demo has an overdue form");
    let mut app = App::new(
        Screen::SignIn(Box::new(SignIn::new(Purpose::Open, None))),
        now,
        Keymap::default(),
        Arc::new(config.clone()),
    );
    app.theme = Theme { color: false };
    let data = kapchart::app::views::home_data(&chart, &config, now).unwrap();
    let mut effect = update(&mut app, Action::HomeLoaded(Ok(data)));
    while let Some(Effect::LoadPatientSessions(p)) = effect {
        let sessions = kapchart::app::views::patient_sessions(&chart, p).unwrap();
        effect = update(&mut app, Action::PatientSessions(p, Ok(sessions)));
    }
    // Forms still to submit and how many of them are overdue, as `rems list` has them.
    let waiting = queue
        .iter()
        .filter(|d| {
            matches!(
                d.state,
                kapchart::domain::rems::FormState::DueBy(_)
                    | kapchart::domain::rems::FormState::OverdueSince(_)
            )
        })
        .count();
    let overdue = queue
        .iter()
        .filter(|d| matches!(d.state, kapchart::domain::rems::FormState::OverdueSince(_)))
        .count();
    assert!(
        waiting > overdue,
        "the demo has a form due and one overdue: {queue:?}"
    );
    for (w, h) in [(60, 18), (80, 24), (120, 40), (160, 48)] {
        let screen = render(&app, w, h);
        assert!(
            screen.contains(&format!("overdue since {}", since.format("%d %b"))),
            "{w}x{h}: rems list says overdue since {since}:\n{screen}"
        );
        // The count is of every form to submit: it never reads as that many overdue.
        assert!(
            !screen.contains(&format!("REMS {waiting} overdue")),
            "{w}x{h}: {overdue} of {waiting} overdue:\n{screen}"
        );
    }
}

/// The bar's row on screen and, for each character of `typed` found there, whether its cell
/// is underlined.
fn underlined_in_bar(app: &App, width: u16, height: u16, typed: &str) -> Vec<(char, bool)> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| view::draw(app, frame)).unwrap();
    let buffer = terminal.backend().buffer();
    let row_text = |y: u16| -> String { (0..width).map(|x| buffer[(x, y)].symbol()).collect() };
    let (y, at) = (0..height)
        .find_map(|y| row_text(y).find(typed).map(|i| (y, i)))
        .unwrap_or_else(|| {
            panic!(
                "{typed:?} is not on screen:\n{}",
                render(app, width, height)
            )
        });
    // `at` is a byte offset of the row's text; every cell before it is one ASCII character
    // or a box-drawing one, so count characters.
    let x0 = row_text(y)[..at].chars().count() as u16;
    typed
        .chars()
        .enumerate()
        .map(|(i, c)| {
            let cell = &buffer[(x0 + i as u16, y)];
            (
                c,
                cell.modifier.contains(ratatui::style::Modifier::UNDERLINED),
            )
        })
        .collect()
}

#[test]
fn the_word_the_line_cannot_read_is_underlined_in_the_bar_and_nothing_else() {
    let f = dosing_session(44);
    for (width, height) in [(60, 18), (80, 24), (120, 40), (160, 48)] {
        let mut app = open(&f, 45);
        type_text(&mut app, "bp 172/108 hr 13x");
        let marks = underlined_in_bar(&app, width, height, "bp 172/108 hr 13x");
        let underlined: String = marks.iter().filter(|(_, u)| *u).map(|(c, _)| *c).collect();
        assert_eq!(underlined, "13x", "at {width}x{height}: {marks:?}");
        // Mended, nothing is underlined any more.
        key(&mut app, "backspace");
        key(&mut app, "backspace");
        type_text(&mut app, "30");
        let marks = underlined_in_bar(&app, width, height, "bp 172/108 hr 130");
        assert!(
            marks.iter().all(|(_, u)| !u),
            "at {width}x{height}: {marks:?}"
        );
    }
}
