//! Snapshots of the screens, rendered into a test backend from a realistic session charted
//! at fixed times: 80x24 (the minimum that must work), 160x48, and a tiny terminal.

mod common;

use common::fixture::{Fixture, at, dosing_session};
use kapchart::tui::home::HomeData;
use kapchart::tui::keymap::{Key, Keymap};
use kapchart::tui::sign_in::{Purpose, SignIn};
use kapchart::tui::state::{Action, App, Effect, Screen, update};
use kapchart::tui::theme::Theme;
use kapchart::tui::view;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::sync::Arc;

fn app_on_session(f: &Fixture, minute: i64) -> App {
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

/// Every page of help at `width` x `height`, turned with PgDn until the page line says last.
fn help_pages(app: &mut App, width: u16, height: u16) -> Vec<String> {
    update(app, Action::Resize(width, height));
    key(app, "f1");
    let mut pages = vec![render(app, width, height)];
    while !pages.last().unwrap().contains("Any key closes")
        && !pages
            .last()
            .unwrap()
            .contains(&format!("Page {n} of {n}", n = pages.len()))
    {
        assert!(pages.len() < 10, "help never reaches its last page");
        key(app, "pagedown");
        pages.push(render(app, width, height));
    }
    pages
}

#[test]
fn help_at_80x24_lists_every_command_of_the_keymap() {
    let f = dosing_session(46);
    let mut app = app_on_session(&f, 57);
    let pages = help_pages(&mut app, 80, 24);
    assert!(pages.len() > 1, "80x24 cannot hold every key on one page");
    let text = pages.join("\n");
    for (ctx, rows) in Keymap::default().help() {
        assert!(text.contains(ctx.title()), "{} missing", ctx.title());
        for (keys, what) in rows {
            let row = format!("{keys:<16}{what}");
            assert!(text.contains(&row), "help at 80x24 lacks \"{row}\"");
        }
    }
    insta::assert_snapshot!("help_80x24_page_1", pages[0]);
    insta::assert_snapshot!("help_80x24_page_2", pages[1]);
}

#[test]
fn help_at_120x40_lists_amend_strike_discharge_and_acknowledge() {
    let f = dosing_session(46);
    let mut app = app_on_session(&f, 57);
    let pages = help_pages(&mut app, 120, 40);
    let text = pages.join("\n");
    for what in ["amend entry", "strike entry", "discharge", "acknowledge"] {
        assert!(text.contains(what), "help at 120x40 lacks {what}");
    }
    insta::assert_snapshot!("help_120x40_page_1", pages[0]);
}

#[test]
fn help_is_generated_from_the_keymap_160x48() {
    let f = dosing_session(46);
    let mut app = app_on_session(&f, 57);
    update(&mut app, Action::Resize(160, 48));
    key(&mut app, "f1");
    insta::assert_snapshot!(render(&app, 160, 48));
}

/// The home screen loaded as the runtime loads it: the screen's data, then the sessions of
/// the patients it selects.
fn home_loaded(app: &mut App, chart: &kapchart::app::Chart, data: HomeData) {
    let mut effect = update(app, Action::HomeLoaded(Ok(data)));
    while let Some(Effect::LoadPatientSessions(p)) = effect {
        let sessions = kapchart::app::views::patient_sessions(chart, p).unwrap();
        effect = update(app, Action::PatientSessions(p, Ok(sessions)));
    }
    assert_eq!(effect, None);
}

#[test]
fn home_screen_80x24() {
    let f = dosing_session(46);
    let mut app = app_on_session(&f, 57);
    let data: HomeData = kapchart::app::views::home_data(&f.chart, &f.config, at(57)).unwrap();
    home_loaded(&mut app, &f.chart, data);
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

/// The note of a session with the longest list a real session gives before signing: every
/// alert left unacknowledged and every protocol check after T+40 missed.
fn sign_dialog_with_every_reason(width: u16, height: u16) -> (String, usize) {
    use kapchart::tui::note::NoteEditor;
    let mut f = dosing_session(130);
    f.log_at(55, "bp 172/104 hr 124 spo2 90 rr 9");
    f.log_at(70, "bp 168/102 hr 122 spo2 91 rr 10");
    let data =
        kapchart::app::course::open_note(&mut f.chart, &f.config, f.session, at(131)).unwrap();
    // Completed by the clinician: nothing but the open alerts and checks stands against it.
    let completed = common::fixture::completed_note(data.note.text());
    f.chart
        .behind_the_door()
        .save_draft(data.note.id, &completed, at(131))
        .unwrap();
    let data =
        kapchart::app::course::note_data(&f.chart, &f.config, data.note.id, at(131)).unwrap();
    assert!(
        data.check.needs_reason.len() >= 5,
        "{:?}",
        data.check.needs_reason
    );
    let reasons = data.check.needs_reason.len();
    let mut app = App::new(
        Screen::Note(Box::new(NoteEditor::new(data))),
        at(131),
        Keymap::default(),
        Arc::new(f.config.clone()),
    );
    app.theme = Theme { color: false };
    // Ctrl-S checks first (as the runtime carries it out), then asks the reason.
    let ctrl_s = Action::Key(Key::parse("ctrl-s").unwrap());
    let Some(Effect::CheckSign { note, text }) = update(&mut app, ctrl_s) else {
        panic!("Ctrl-S checks the note first")
    };
    let check =
        kapchart::app::course::sign_readiness(&f.chart, &f.config, note, Some(&text), at(131));
    update(&mut app, Action::SignChecked(check));
    type_text(&mut app, "BP rechecked at T+60, prescriber aware");
    (render(&app, width, height), reasons)
}

#[test]
fn sign_dialog_keeps_the_reason_field_in_view_80x24() {
    let (shown, reasons) = sign_dialog_with_every_reason(80, 24);
    assert!(
        shown.contains("Reason to sign now: BP rechecked at T+60, prescriber aware▏"),
        "{shown}"
    );
    assert_eq!(
        shown.matches('⚠').count(),
        reasons,
        "every reason fits: {shown}"
    );
    insta::assert_snapshot!(shown);
}

#[test]
fn sign_dialog_scrolls_to_the_reason_field_at_the_smallest_size() {
    let (shown, _) = sign_dialog_with_every_reason(60, 18);
    assert!(shown.contains("more above"), "{shown}");
    assert!(
        shown.contains("Reason to sign now: BP rechecked"),
        "{shown}"
    );
    insta::assert_snapshot!(shown);
}

#[test]
fn sign_dialog_shows_every_reason_and_the_field_120x40() {
    let (shown, reasons) = sign_dialog_with_every_reason(120, 40);
    assert_eq!(shown.matches('⚠').count(), reasons, "{shown}");
    assert!(shown.contains("protocol check missed"), "{shown}");
    assert!(
        shown.contains("Reason to sign now: BP rechecked at T+60, prescriber aware▏"),
        "{shown}"
    );
    assert!(shown.contains("Enter sign · Esc back"), "{shown}");
    insta::assert_snapshot!(shown);
}

/// Ending a session early, with everything that stands against it listed.
fn end_reason_form(width: u16, height: u16) -> String {
    let mut f = dosing_session(46);
    f.log_at(55, "bp 172/104 hr 124 spo2 90 rr 9");
    let mut app = app_on_session(&f, 71);
    key(&mut app, "ctrl-d");
    key(&mut app, "ctrl-e");
    type_text(&mut app, "transferred to ED by ambulance");
    render(&app, width, height)
}

#[test]
fn end_session_reason_stays_in_view_80x24_and_60x18() {
    for (w, h) in [(80, 24), (60, 18)] {
        let shown = end_reason_form(w, h);
        assert!(
            shown.contains("Reason: transferred to ED by ambulance▏"),
            "{w}x{h}: {shown}"
        );
        if w == 80 {
            insta::assert_snapshot!(shown);
        }
    }
}

/// The demo clinic (three patients with whole courses) on the home screen at a fixed time.
struct Demo {
    _dir: tempfile::TempDir,
    chart: kapchart::app::Chart,
    config: kapchart::config::Config,
    now: chrono::DateTime<chrono::FixedOffset>,
}

/// The demo clinic as `kapchart demo` creates it, at 08:00 on 28 Nov 2026.
fn demo() -> Demo {
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
    Demo {
        _dir: dir,
        chart,
        config,
        now: now.fixed_offset(),
    }
}

fn demo_home(width: u16, height: u16) -> (String, Vec<String>) {
    let Demo {
        _dir,
        chart,
        config,
        now,
    } = demo();
    let data = kapchart::app::views::home_data(&chart, &config, now).unwrap();
    let names = data.patients.rows.iter().map(|p| p.name.clone()).collect();
    let mut app = App::new(
        Screen::SignIn(Box::new(SignIn::new(Purpose::Open, None))),
        now,
        Keymap::default(),
        Arc::new(config),
    );
    app.theme = Theme { color: false };
    home_loaded(&mut app, &chart, data);
    (render(&app, width, height), names)
}

#[test]
fn home_names_every_recent_session_80x24_and_120x40() {
    for (w, h) in [(80, 24), (120, 40)] {
        let (shown, names) = demo_home(w, h);
        let recent_rows: Vec<&str> = shown
            .lines()
            .skip(1)
            .take_while(|l| l.starts_with("│"))
            .filter(|l| l.contains('#'))
            .collect();
        assert!(recent_rows.len() >= 5, "{shown}");
        for row in &recent_rows {
            assert!(
                names.iter().any(|n| row.contains(n.as_str())),
                "{w}x{h}: no patient name in {row}"
            );
        }
        match w {
            80 => insta::assert_snapshot!("home_demo_80x24", shown),
            _ => insta::assert_snapshot!("home_demo_120x40", shown),
        }
    }
}

/// The live screen of the demo's first session of `kind` for Alex Rivera.
fn demo_session(kind: kapchart::domain::SessionKind, width: u16, height: u16) -> String {
    let d = demo();
    let session = d
        .chart
        .sessions(None)
        .unwrap()
        .into_iter()
        .filter(|s| s.kind == kind && s.ended.is_some())
        .min_by_key(|s| s.id)
        .unwrap();
    let data = kapchart::app::views::live_data(&d.chart, &d.config, session.id).unwrap();
    let mut app = App::new(
        Screen::SignIn(Box::new(SignIn::new(Purpose::Open, None))),
        d.now,
        Keymap::default(),
        Arc::new(d.config.clone()),
    );
    app.theme = Theme { color: false };
    update(&mut app, Action::Opened(Ok(data)));
    render(&app, width, height)
}

#[test]
fn integration_session_shows_the_dosing_session_it_integrates() {
    use kapchart::domain::SessionKind;
    for (w, h) in [(80, 24), (120, 40)] {
        let shown = demo_session(SessionKind::Integration, w, h);
        for absent in ["no dose yet", "Vitals", "BP"] {
            assert!(!shown.contains(absent), "{w}x{h} shows {absent}: {shown}");
        }
        for present in [
            "integrates dosing 1",
            "Dosing 1 · session #",
            "intention:",
            "ketamine",
        ] {
            assert!(shown.contains(present), "{w}x{h} lacks {present}: {shown}");
        }
        if h == 40 {
            for present in ["alerts", "Note #", "Questionnaires"] {
                assert!(shown.contains(present), "{w}x{h} lacks {present}: {shown}");
            }
            insta::assert_snapshot!("integration_session_120x40", shown);
        } else {
            insta::assert_snapshot!("integration_session_80x24", shown);
        }
    }
}

#[test]
fn intake_session_shows_screening_and_eligibility() {
    use kapchart::domain::SessionKind;
    for (w, h) in [(80, 24), (120, 40)] {
        let shown = demo_session(SessionKind::Intake, w, h);
        for absent in ["no dose yet", "Vitals", "BP trend"] {
            assert!(!shown.contains(absent), "{w}x{h} shows {absent}: {shown}");
        }
        // The questionnaires of the intake stay in view, at 80x24 too.
        for present in [
            "Screening",
            "Eligibility (clinician's decision)",
            "│Questionnaires",
            "│  PHQ-9 13 (moderate)",
            "│  GAD-7 12 (moderate)",
        ] {
            assert!(shown.contains(present), "{w}x{h} lacks {present}: {shown}");
        }
        if h == 40 {
            insta::assert_snapshot!("intake_session_120x40", shown);
        } else {
            insta::assert_snapshot!("intake_session_80x24", shown);
        }
    }
}

#[test]
fn questionnaire_shows_each_item_in_its_words_with_the_scale_and_running_total() {
    use kapchart::domain::measures::Instrument;
    use kapchart::tui::questionnaires;
    let f = dosing_session(46);
    for instrument in Instrument::ALL {
        let mut app = app_on_session(&f, 57);
        key(&mut app, "f2");
        while !render(&app, 80, 24).contains(&format!(" {} ", instrument.name()))
            || live_instrument(&app) != kapchart::domain::item_forms::FormScale::Measure(instrument)
        {
            key(&mut app, "right");
        }
        let mut total = 0;
        for (i, text) in questionnaires::items(instrument).iter().enumerate() {
            let shown = render(&app, 80, 24);
            let flat = shown
                .replace(['│', '┘', '└', '┐', '┌', '\n'], " ")
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            let words = text.split_whitespace().collect::<Vec<_>>().join(" ");
            assert!(
                flat.contains(&format!("Item {} of", i + 1)) && flat.contains(&words),
                "{} item {} not shown in full at 80x24: {shown}",
                instrument.name(),
                i + 1
            );
            assert!(flat.contains(&format!("Total so far {total} ")), "{shown}");
            assert!(
                flat.contains(&format!("1 {}", questionnaires::scale(instrument)[1])),
                "{shown}"
            );
            key(&mut app, "1");
            total += 1;
        }
        let shown = render(&app, 80, 24);
        assert!(
            shown.contains(&format!("Total {total} of {}", instrument.max_total())),
            "{shown}"
        );
    }
}

fn live_instrument(app: &App) -> kapchart::domain::item_forms::FormScale {
    match &app.screen {
        Screen::Live(l) => match &l.panel {
            Some(kapchart::tui::live::Panel::Questionnaire(
                kapchart::tui::live::QuestionnaireForm { instrument, .. },
            )) => *instrument,
            _ => panic!("no questionnaire open"),
        },
        _ => panic!("not on the live screen"),
    }
}

#[test]
fn questionnaire_form_80x24_and_120x40() {
    let f = dosing_session(46);
    let mut app = app_on_session(&f, 57);
    key(&mut app, "f2");
    for k in ["2", "2", "1", "2", "1", "2", "1"] {
        key(&mut app, k);
    }
    insta::assert_snapshot!("questionnaire_phq9_item_8_80x24", render(&app, 80, 24));
    insta::assert_snapshot!("questionnaire_phq9_item_8_120x40", render(&app, 120, 40));
    key(&mut app, "1");
    key(&mut app, "0");
    let done = render(&app, 80, 24);
    assert!(
        done.contains("Total 12 of 27: moderate · Enter charts it"),
        "{done}"
    );
    insta::assert_snapshot!("questionnaire_phq9_done_80x24", done);
}

#[test]
fn trend_legend_sits_above_the_plot_and_marks_each_series_with_a_letter() {
    let f = dosing_session(46);
    let app = app_on_session(&f, 57);
    for (w, h) in [(160, 48), (120, 40)] {
        let shown = render(&app, w, h);
        let lines: Vec<&str> = shown.lines().collect();
        let legend = lines
            .iter()
            .position(|l| l.contains("s systolic  d diastolic  h HR  · alert at sys 160"))
            .unwrap_or_else(|| panic!("{w}x{h}: no legend: {shown}"));
        assert!(
            lines[legend - 1].contains("BP and HR trend"),
            "{w}x{h}: the legend is the first row under the title: {shown}"
        );
        let plot = &lines[legend + 1..];
        assert!(
            plot.iter()
                .all(|l| !l.contains("systolic") && !l.contains("alert")),
            "{w}x{h}: nothing of the legend inside the plot: {shown}"
        );
        // Each series is marked by its letter at its readings, colour or not. At 120x40 the
        // plot has nine rows and this patient's HR sits in the same cells as the diastolic,
        // where the BP mark is drawn; at 160x48 all three show.
        let marks: &[char] = if h == 48 {
            &['s', 'd', 'h']
        } else {
            &['s', 'd']
        };
        for &mark in marks {
            assert!(
                plot.iter()
                    .any(|l| l.split('│').nth(4).is_some_and(|p| p.contains(mark))),
                "{w}x{h}: no {mark} in the plot: {shown}"
            );
        }
    }
    insta::assert_snapshot!("live_screen_120x40_mid_session", render(&app, 120, 40));
}

#[test]
fn patient_screen_shows_the_eligibility_decision_and_screening_answers() {
    for (w, h) in [(80, 24), (120, 40)] {
        let d = demo();
        let patient = d.chart.patients().unwrap()[0].id;
        let data = kapchart::app::views::patient_data(&d.chart, &d.config, patient, d.now).unwrap();
        let mut app = App::new(
            Screen::SignIn(Box::new(SignIn::new(Purpose::Open, None))),
            d.now,
            Keymap::default(),
            Arc::new(d.config.clone()),
        );
        app.theme = Theme { color: false };
        update(&mut app, Action::PatientOpened(Ok(Box::new(data))));
        let shown = render(&app, w, h);
        assert!(
            shown.contains("eligibility (clinician's decision):"),
            "{w}x{h}: {shown}"
        );
        assert!(
            shown.contains("screening: 6 answered, all no"),
            "{w}x{h}: {shown}"
        );
        match w {
            80 => insta::assert_snapshot!("patient_demo_80x24", shown),
            _ => insta::assert_snapshot!("patient_demo_120x40", shown),
        }
    }
}

#[test]
fn discharge_offers_the_usual_ride_and_says_the_next_item_follows_80x24() {
    let mut f = dosing_session(46);
    let patient = f.live_data().patient.id;
    let mut details = f.chart.patient_details(patient).unwrap();
    details.ride_contact = Some("Chris (partner) 555-0101".into());
    f.chart
        .update_patient_details(patient, &details, at(-300))
        .unwrap();
    let mut app = app_on_session(&f, 131);
    key(&mut app, "ctrl-d");
    key(&mut app, "2");
    let shown = render(&app, 80, 24);
    assert!(
        shown.contains("a score typed moves to the next item") && shown.contains("› respiration"),
        "{shown}"
    );
    assert!(
        shown.contains("Ride home: Chris (partner) 555-0101"),
        "{shown}"
    );
    assert!(shown.contains("from the patient's contacts"), "{shown}");
    insta::assert_snapshot!(shown);
    // Changed by hand, it is no longer said to come from the contacts.
    for _ in 0..4 {
        key(&mut app, "down");
    }
    key(&mut app, "ctrl-u");
    type_text(&mut app, "taxi");
    let shown = render(&app, 80, 24);
    assert!(shown.contains("Ride home: taxi"), "{shown}");
    assert!(!shown.contains("from the patient's contacts"), "{shown}");
}

#[test]
fn note_editor_80x24_and_120x40() {
    use kapchart::tui::note::NoteEditor;
    let mut f = dosing_session(130);
    f.complete_monitoring(130);
    f.discharge_at(131);
    let data =
        kapchart::app::course::open_note(&mut f.chart, &f.config, f.session, at(132)).unwrap();
    let mut app = App::new(
        Screen::Note(Box::new(NoteEditor::new(data))),
        at(132),
        Keymap::default(),
        Arc::new(f.config.clone()),
    );
    app.theme = Theme { color: false };
    for (w, h) in [(80, 24), (120, 40)] {
        let shown = render(&app, w, h);
        assert!(
            shown.contains("Integration note #1 · Alex Rivera"),
            "{shown}"
        );
        assert!(shown.contains("Draft"), "{shown}");
        match w {
            80 => insta::assert_snapshot!("note_editor_80x24", shown),
            _ => insta::assert_snapshot!("note_editor_120x40", shown),
        }
    }
}

#[test]
fn discharge_panel_120x40() {
    let f = dosing_session(46);
    let mut app = app_on_session(&f, 131);
    key(&mut app, "ctrl-d");
    for k in ["2", "2", "1"] {
        key(&mut app, k);
    }
    let shown = render(&app, 120, 40);
    assert!(shown.contains("› consciousness"), "{shown}");
    insta::assert_snapshot!(shown);
}

#[test]
fn integration_session_lists_the_dosing_alerts_and_whether_they_were_acknowledged() {
    use kapchart::domain::SessionKind;
    use kapchart::store::NewSession;
    let mut f = dosing_session(46);
    let patient = f.live_data().patient.id;
    let integration = f
        .chart
        .behind_the_door()
        .start_session(
            &NewSession {
                patient_id: patient,
                kind: SessionKind::Integration,
                started: at(2 * 24 * 60),
                intention: None,
                dosing_session_id: Some(f.session),
            },
            at(2 * 24 * 60),
        )
        .unwrap();
    let data = kapchart::app::views::live_data(&f.chart, &f.config, integration).unwrap();
    let mut app = app_on_session(&f, 2 * 24 * 60 + 5);
    update(&mut app, Action::Opened(Ok(data)));
    let shown = render(&app, 160, 48);
    for present in [
        "integrates dosing 1 (session #1)",
        // The pre-dose caution was acknowledged; the amended SpO2 reading no longer stands.
        "alerts (3):",
        "BP 146/92 before dosing, above 140/90: consider delaying",
        "│  (acknowledged)",
        "BP 164/98 high (alert at >= 160/100) (not acknowledged)",
        "MOAA/S 2 (alert at <= 2) (not acknowledged)",
        "Note: not started",
        "#somatic: “it's like warm water over my chest”",
    ] {
        assert!(shown.contains(present), "lacks {present}: {shown}");
    }
    assert!(!shown.contains("no dose yet"), "{shown}");
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

/// Three clinicians in one session (a nurse takes the vitals, two prescribers share
/// initials): each timeline row names its author in three columns, two people never share
/// a label, and the selected entry's detail line gives the full name.
#[test]
fn the_timeline_names_each_author_80x24() {
    let f = dosing_session(46);
    let mut data = f.live_data();
    let entries: Vec<_> =
        data.chart
            .lines()
            .iter()
            .map(|l| {
                let mut e = l.entry.clone();
                e.author = match &e.payload {
                    kapchart::domain::Payload::Vitals(_)
                    | kapchart::domain::Payload::Sedation(_) => "Sam Okafor".into(),
                    kapchart::domain::Payload::Observation(_) if e.event_time == at(44) => {
                        "Dr. Max Quist".into()
                    }
                    _ => e.author,
                };
                e
            })
            .collect();
    data.chart = kapchart::domain::chart::SessionChart::new(
        data.chart.session().clone(),
        entries,
        data.chart.rules().clone(),
    );
    let mut app = App::new(
        Screen::SignIn(Box::new(SignIn::new(Purpose::Open, None))),
        at(57),
        Keymap::default(),
        Arc::new(f.config.clone()),
    );
    app.theme = Theme { color: false };
    update(&mut app, Action::Opened(Ok(data)));
    key(&mut app, "Esc");
    let screen = render(&app, 80, 24);
    assert!(
        screen.contains(" by Dr. Max Quist · written 10:44"),
        "{screen}"
    );
    insta::assert_snapshot!(screen);
}

/// A Spravato session: the baseline of `dosing_session`, then two esketamine devices with
/// their lot at 10:10 and 10:15, and the monitoring up to `upto` minutes.
fn esketamine_session(upto: i64) -> Fixture {
    let mut f = dosing_session(0);
    let script: &[(i64, &str)] = &[
        (10, "dose esketamine 28mg IN lot ABC123"),
        (15, "dose esketamine 28mg IN lot ABC123"),
        (25, "bp 138/88 hr 86 spo2 97 rr 14 moaas 4"),
        (
            40,
            "bp 140/86 hr 84 spo2 97 rr 14 cadss 1 0 2 0 1 0 resp ok",
        ),
        (50, "bp 150/92 hr 82 spo2 96 rr 14"),
    ];
    for (minute, line) in script.iter().filter(|(m, _)| *m <= upto) {
        f.log_at(*minute, line);
    }
    f
}

#[test]
fn an_esketamine_session_shows_its_devices_and_lot_and_the_rems_checks_80x24() {
    let f = esketamine_session(50);
    let mid = render(&app_on_session(&f, 57), 80, 24);
    assert!(mid.contains("2 devices, lot ABC123"), "{mid}");
    insta::assert_snapshot!("esketamine_mid_session_80x24", mid);
    // Past the minimum observation with nothing charted since T+40: the REMS checks before
    // discharge are overdue in the header, like any check.
    let late = render(&app_on_session(&f, 136), 80, 24);
    assert!(late.contains("OVERDUE"), "{late}");
    let checks = kapchart::app::charting::session_chart(&f.chart, &f.config, f.session)
        .unwrap()
        .checks(at(136));
    let rems: Vec<String> = checks
        .iter()
        .filter(|c| {
            c.t_plus_min == Some(120) && c.kind.needs_bp() == (c.to_string().starts_with("BP"))
        })
        .map(|c| format!("{c}: {}", c.status.as_str()))
        .collect();
    assert!(
        rems.iter()
            .any(|c| c.starts_with("sedation resolved") && c.ends_with("overdue")),
        "{rems:?}"
    );
    insta::assert_snapshot!("esketamine_rems_checks_overdue_80x24", late);
}

#[test]
fn home_screen_80x24_says_how_many_rems_forms_are_due() {
    let f = esketamine_session(50);
    let mut app = app_on_session(&f, 57);
    let data: HomeData = kapchart::app::views::home_data(&f.chart, &f.config, at(57)).unwrap();
    home_loaded(&mut app, &f.chart, data);
    let screen = render(&app, 80, 24);
    assert!(screen.contains("REMS"), "{screen}");
    assert!(screen.contains("03 Dec"), "{screen}");
    // The patients and sessions panels are still there.
    assert!(
        screen.contains("Alex Rivera") && screen.contains("Patients (1)"),
        "{screen}"
    );
    insta::assert_snapshot!(screen);
}

#[test]
fn the_discharge_panel_asks_for_the_rems_ready_time_in_an_esketamine_session_80x24() {
    let mut f = esketamine_session(50);
    f.log_at(95, "ready-to-leave");
    let mut app = app_on_session(&f, 131);
    key(&mut app, "ctrl-d");
    let shown = render(&app, 80, 24);
    assert!(
        shown.contains("REMS: ready as if there were no 2-h minimum"),
        "{shown}"
    );
    // Ready at 11:35, the first device at 10:10: T+85 on the form.
    assert!(shown.contains("T+85 min on the form"), "{shown}");
    insta::assert_snapshot!(shown);
}
