//! Nothing typed is thrown away: every form on the live screen and the note keeps what was
//! typed across Esc (and across leaving the screen), the end dialog goes back to the
//! discharge panel as it was; sessions without a discharge panel end plainly; Ctrl-N in an
//! integration session opens the note it integrates; the draft note offers no addendum.
//! Driven through `update` with keys, writes carried out as the runtime does, screens
//! rendered into a test backend.

mod common;

use common::fixture::{Fixture, at, dosing_session};
use kapchart::domain::{Payload, SessionKind};
use kapchart::store::NewSession;
use kapchart::tui::keymap::{Key, KeyName, Keymap};
use kapchart::tui::live::{AcknowledgeForm, EndReasonForm, Live, Panel, QuestionnaireForm};
use kapchart::tui::sign_in::{Purpose, SignIn};
use kapchart::tui::state::{Action, App, Effect, Screen, update};
use std::sync::Arc;

fn app_on(f: &Fixture, session: i64, minute: i64) -> App {
    let mut app = App::new(
        Screen::SignIn(Box::new(SignIn::new(Purpose::Open, None))),
        at(minute),
        Keymap::default(),
        Arc::new(f.config.clone()),
    );
    let data = kapchart::app::views::live_data(&f.chart, &f.config, session).unwrap();
    update(&mut app, Action::Opened(Ok(data)));
    app
}

fn live(app: &App) -> &Live {
    match &app.screen {
        Screen::Live(l) => l,
        other => panic!("not on the live screen: {other:?}"),
    }
}

fn key(app: &mut App, k: &str) -> Option<Effect> {
    update(app, Action::Key(Key::parse(k).unwrap()))
}

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        let key = Key {
            code: KeyName::Char(c),
            ctrl: false,
            alt: false,
        };
        assert_eq!(update(app, Action::Key(key)), None, "typing {c:?}");
    }
}

fn render(app: &App, width: u16, height: u16) -> String {
    let mut terminal =
        ratatui::Terminal::new(ratatui::backend::TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|frame| kapchart::tui::view::draw(app, frame))
        .unwrap();
    let buffer = terminal.backend().buffer();
    let mut out = String::new();
    for y in 0..height {
        for x in 0..width {
            out.push_str(buffer[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

fn perform(f: &mut Fixture, app: &mut App, effect: Effect, minute: i64) {
    let written =
        kapchart::tui::write_for_screen(&mut f.chart, &f.config, effect.clone(), &at(minute))
            .unwrap_or_else(|| panic!("unexpected effect {effect:?}"));
    update(app, Action::Written(written));
}

fn discharge_scores(app: &App) -> [Option<u8>; 5] {
    match &live(app).panel {
        Some(Panel::Discharge(f)) => f.scores,
        other => panic!("not the discharge panel: {other:?}"),
    }
}

fn session_of(f: &mut Fixture, kind: SessionKind, dosing: Option<i64>) -> i64 {
    let patient = f.live_data().patient.id;
    f.chart
        .behind_the_door()
        .start_session(
            &NewSession {
                patient_id: patient,
                kind,
                started: at(60),
                intention: None,
                dosing_session_id: dosing,
            },
            at(60),
        )
        .unwrap()
}

#[test]
fn esc_in_the_end_dialog_goes_back_to_the_discharge_panel_with_the_scores_typed() {
    let mut f = dosing_session(46);
    // T+61: before the minimum observation, so ending asks for a reason.
    let mut app = app_on(&f, f.session, 71);
    key(&mut app, "ctrl-d");
    type_text(&mut app, "22122");
    assert_eq!(key(&mut app, "ctrl-e"), None, "the end asks first");
    assert!(matches!(
        live(&app).panel,
        Some(Panel::EndReason(EndReasonForm { .. }))
    ));
    type_text(&mut app, "transferred to ED");
    key(&mut app, "esc");
    assert_eq!(
        discharge_scores(&app),
        [Some(2), Some(2), Some(1), Some(2), Some(2)],
        "Esc goes back to the panel as it was typed"
    );
    let screen = render(&app, 80, 24);
    assert!(screen.contains("total 9/10"), "{screen}");
    // The end asked again: the reason is there as typed.
    key(&mut app, "ctrl-e");
    assert!(
        render(&app, 80, 24).contains("Reason: transferred to ED"),
        "{}",
        render(&app, 80, 24)
    );
    let Some(effect @ Effect::EndSession { .. }) = key(&mut app, "enter") else {
        panic!("Enter ends with the reason")
    };
    let Effect::EndSession {
        payloads, reason, ..
    } = &effect
    else {
        unreachable!()
    };
    assert!(
        payloads
            .iter()
            .any(|p| matches!(p, Payload::Aldrete(a) if a.total() == 9))
    );
    assert_eq!(reason.as_deref(), Some("transferred to ED"));
    perform(&mut f, &mut app, effect, 72);
    assert!(live(&app).data.session().ended.is_some());
    assert!(live(&app).pending_text().is_none(), "all of it charted");
}

#[test]
fn esc_on_every_form_of_the_live_screen_keeps_what_was_typed_until_it_opens_again() {
    let f = dosing_session(46);
    let mut app = app_on(&f, f.session, 71);
    // Discharge: two items scored, then Esc.
    key(&mut app, "ctrl-d");
    type_text(&mut app, "21");
    key(&mut app, "esc");
    assert!(live(&app).panel.is_none());
    assert!(render(&app, 80, 24).contains("kept as typed"));
    // The pre-dose caution's acknowledgement, half written.
    key(&mut app, "ctrl-a");
    type_text(&mut app, "reviewed with prescriber");
    key(&mut app, "esc");
    // A questionnaire, two items in.
    key(&mut app, "f2");
    type_text(&mut app, "12");
    key(&mut app, "esc");
    // An amendment's reason.
    key(&mut app, "esc");
    key(&mut app, "a");
    type_text(&mut app, "cuff slipped");
    key(&mut app, "esc");
    assert!(live(&app).panel.is_none());
    // Each opens again as it was left.
    key(&mut app, "a");
    let Some(Panel::Correction(c)) = &live(&app).panel else {
        panic!("the amend form")
    };
    assert_eq!(c.reason.text(), "cuff slipped");
    key(&mut app, "esc");
    key(&mut app, "d");
    assert_eq!(discharge_scores(&app)[..2], [Some(2), Some(1)]);
    // Said after the alert that stands in the header, wrapped with it.
    let shown = render(&app, 80, 24);
    let words = shown.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(words.contains("as it was left"), "{shown}");
    key(&mut app, "esc");
    key(&mut app, "c");
    key(&mut app, "esc");
    key(&mut app, "enter");
    key(&mut app, "ctrl-a");
    let Some(Panel::Acknowledge(AcknowledgeForm { note, .. })) = &live(&app).panel else {
        panic!("the acknowledgement")
    };
    assert_eq!(note.text(), "reviewed with prescriber");
    key(&mut app, "esc");
    key(&mut app, "f2");
    let Some(Panel::Questionnaire(QuestionnaireForm { answers, .. })) = &live(&app).panel else {
        panic!("the questionnaire")
    };
    assert_eq!(answers, &[1, 2]);
    key(&mut app, "esc");

    // Home and back: still kept.
    key(&mut app, "esc");
    assert_eq!(key(&mut app, "q"), Some(Effect::LoadHome));
    let home = kapchart::app::views::home_data(&f.chart, &f.config, at(72)).unwrap();
    update(&mut app, Action::HomeLoaded(Ok(home)));
    assert!(matches!(app.screen, Screen::Home(_)));
    update(&mut app, Action::Opened(Ok(f.live_data())));
    key(&mut app, "ctrl-d");
    assert_eq!(discharge_scores(&app)[..2], [Some(2), Some(1)]);
    key(&mut app, "esc");

    // Quitting hands every one of them back to the terminal.
    key(&mut app, "ctrl-c");
    assert!(app.quit);
    let unsent = app.unsent.clone().unwrap_or_default();
    for typed in [
        "aldrete 2 1",
        "reviewed with prescriber",
        "phq9 1 2",
        "cuff slipped",
    ] {
        assert!(unsent.contains(typed), "{typed} in {unsent}");
    }
}

#[test]
fn an_aldrete_item_scored_by_mistake_can_be_cleared() {
    let f = dosing_session(46);
    let before = f.lines_now().len();
    let mut app = app_on(&f, f.session, 131);
    key(&mut app, "ctrl-d");
    type_text(&mut app, "2");
    // One of five scored: refused, naming the rule; the score stays.
    assert_eq!(key(&mut app, "enter"), None);
    let Some(Panel::Discharge(form)) = &live(&app).panel else {
        panic!("the panel stays")
    };
    assert_eq!(
        form.error.as_deref(),
        Some("score all five Aldrete items, or none")
    );
    // Back to the item, Ctrl-U: no score, and the form closes with nothing to record.
    key(&mut app, "up");
    key(&mut app, "ctrl-u");
    assert_eq!(discharge_scores(&app), [None; 5]);
    assert_eq!(key(&mut app, "enter"), None);
    assert!(live(&app).panel.is_none());
    assert_eq!(f.lines_now().len(), before, "nothing charted");
}

#[test]
fn intake_and_preparation_sessions_end_plainly_without_the_aldrete_and_ride_panel() {
    for kind in [SessionKind::Intake, SessionKind::Preparation] {
        let mut f = dosing_session(30);
        let session = session_of(&mut f, kind, None);
        let mut app = app_on(&f, session, 65);
        let screen = render(&app, 80, 24);
        let hints = screen.lines().last().unwrap();
        assert!(hints.contains("Ctrl-D end session"), "{kind}: {hints}");
        assert!(!hints.contains("integration note"), "{kind}: {hints}");
        key(&mut app, "ctrl-d");
        let screen = render(&app, 80, 24);
        assert!(
            screen.contains(&format!("End this {kind} session (#{session}) now?")),
            "{screen}"
        );
        assert!(
            !screen.contains("Aldrete") && !screen.contains("Ride home"),
            "{screen}"
        );
        let small = render(&app, 60, 18);
        assert!(
            small.contains("End this") && small.contains("Enter ends it"),
            "{small}"
        );
        let effect = key(&mut app, "enter").expect("Enter ends it");
        assert_eq!(
            effect,
            Effect::EndSession {
                session,
                payloads: Vec::new(),
                reason: None
            }
        );
        perform(&mut f, &mut app, effect, 66);
        assert!(live(&app).data.session().ended.is_some(), "{kind}");
    }
}

#[test]
fn ctrl_n_in_an_integration_session_opens_the_note_of_the_dosing_session_it_integrates() {
    let mut f = dosing_session(30);
    let dosing = f.session;
    let integration = session_of(&mut f, SessionKind::Integration, Some(dosing));
    let mut app = app_on(&f, integration, 65);
    let hints = render(&app, 80, 24).lines().last().unwrap().to_string();
    assert_eq!(
        key(&mut app, "ctrl-n"),
        Some(Effect::OpenNote { dosing: f.session })
    );
    let data =
        kapchart::app::course::open_note(&mut f.chart, &f.config, f.session, at(66)).unwrap();
    update(&mut app, Action::NoteOpened(Ok(Box::new(data))));
    let Screen::Note(n) = &app.screen else {
        panic!("the note opens")
    };
    assert_eq!(n.data.dosing.id, f.session);
    assert!(hints.contains("Ctrl-D end session"), "{hints}");
    // An intake has no note: it says where notes are.
    let intake = session_of(&mut f, SessionKind::Intake, None);
    let mut app = app_on(&f, intake, 65);
    assert_eq!(key(&mut app, "ctrl-n"), None);
    let error = live(&app).error.clone().unwrap();
    assert!(
        error.contains("An intake session has no integration note"),
        "{error}"
    );
}

fn note_app(f: &mut Fixture, signed: bool) -> App {
    let data =
        kapchart::app::course::open_note(&mut f.chart, &f.config, f.session, at(131)).unwrap();
    let note = data.note.id;
    let data = if signed {
        let completed = common::fixture::completed_note(data.note.text());
        kapchart::app::course::sign_note(
            &mut f.chart,
            &f.config,
            note,
            Some(&completed),
            Some("reviewed"),
            at(131),
        )
        .unwrap();
        kapchart::app::course::note_data(&f.chart, &f.config, note, at(131)).unwrap()
    } else {
        data
    };
    App::new(
        Screen::Note(Box::new(kapchart::tui::note::NoteEditor::new(data))),
        at(131),
        Keymap::default(),
        Arc::new(f.config.clone()),
    )
}

#[test]
fn the_draft_notes_footer_offers_no_addendum_and_the_signed_notes_does() {
    let mut f = dosing_session(130);
    let mut app = note_app(&mut f, false);
    for (w, h) in [(80, 24), (120, 40)] {
        let screen = render(&app, w, h);
        let footer = screen.lines().last().unwrap();
        assert!(footer.contains("Ctrl-S sign"), "{footer}");
        assert!(!footer.contains("addendum"), "{footer}");
    }
    key(&mut app, "ctrl-a");
    let Screen::Note(n) = &app.screen else {
        panic!()
    };
    assert!(n.panel.is_none(), "no addendum to a draft");

    let mut f = dosing_session(130);
    let app = note_app(&mut f, true);
    let screen = render(&app, 80, 24);
    assert!(
        screen.lines().last().unwrap().contains("addendum"),
        "{screen}"
    );
}

#[test]
fn an_addendum_closed_with_esc_opens_again_as_typed() {
    let mut f = dosing_session(130);
    let mut app = note_app(&mut f, true);
    key(&mut app, "a");
    type_text(&mut app, "Patient called: slept well.");
    key(&mut app, "esc");
    let Screen::Note(n) = &app.screen else {
        panic!()
    };
    assert!(n.panel.is_none());
    assert!(render(&app, 80, 24).contains("addendum kept as typed"));
    key(&mut app, "a");
    let Some(Effect::AddAddendum { text, .. }) = key(&mut app, "ctrl-s") else {
        panic!("Ctrl-S signs the addendum")
    };
    assert_eq!(text, "Patient called: slept well.");
}

#[test]
fn help_says_where_to_add_a_patient_and_start_a_course() {
    let f = dosing_session(30);
    let mut app = app_on(&f, f.session, 31);
    update(&mut app, Action::Resize(160, 48));
    key(&mut app, "f1");
    let screen = render(&app, 160, 48);
    let home = screen.find("Home screen").expect("the home screen's keys");
    for (key, what) in [("a", "add patient"), ("c", "start course")] {
        let row = screen[home..]
            .lines()
            .find(|l| l.contains(what))
            .unwrap_or_else(|| panic!("{what}:\n{screen}"));
        assert!(row.contains(&format!("  {key}  ")), "{row}");
    }
}
