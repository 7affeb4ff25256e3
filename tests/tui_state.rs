//! The live screen's state, driven through `update` with keys and results, as the runtime
//! does, with an injected clock. No terminal.

mod common;

use common::fixture::{Fixture, at, dosing_session};
use kapchart::domain::{EntryStatus, Payload};
use kapchart::tui::keymap::{Key, KeyName, Keymap};
use kapchart::tui::live::{AcknowledgeForm, EndReasonForm, Focus, Live, Panel, QuestionnaireForm};
use kapchart::tui::sign_in::{Purpose, SignIn};
use kapchart::tui::state::{Action, App, Effect, Screen, update};
use std::sync::Arc;

fn open(f: &Fixture, minute: i64) -> App {
    let config = Arc::new(f.config.clone());
    let mut app = App::new(
        Screen::SignIn(Box::new(SignIn::new(Purpose::Open, None))),
        at(minute),
        Keymap::default(),
        config,
    );
    update(&mut app, Action::Opened(Ok(f.live_data())));
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
        assert_eq!(update(app, Action::Key(key)), None);
    }
}

/// Carries out `Effect::CheckSign` the way the runtime does, against the fixture's chart.
fn check_sign(f: &Fixture, app: &mut App, effect: Effect, minute: i64) {
    let Effect::CheckSign { note, text } = effect else {
        panic!("expected the check before signing, got {effect:?}")
    };
    let check =
        kapchart::app::course::sign_readiness(&f.chart, &f.config, note, Some(&text), at(minute));
    assert_eq!(update(app, Action::SignChecked(check)), None);
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

/// Carries out an effect the way the runtime does (`tui::write_for_screen`), against the
/// fixture's chart.
fn perform(f: &mut Fixture, app: &mut App, effect: Effect, minute: i64) {
    let now = at(minute);
    let written = kapchart::tui::write_for_screen(&mut f.chart, &f.config, effect.clone(), &now)
        .unwrap_or_else(|| panic!("unexpected effect {effect:?}"));
    update(app, Action::Written(written));
}

#[test]
fn opens_with_the_bar_focused_and_nothing_pending() {
    let f = dosing_session(44);
    let app = open(&f, 45);
    let l = live(&app);
    assert_eq!(l.focus, Focus::Entry);
    assert!(l.pending_text().is_none());
    assert_eq!(l.data.number_in_course, 1);
}

#[test]
fn typing_shows_a_live_preview_or_the_error() {
    let f = dosing_session(44);
    let mut app = open(&f, 45);
    type_text(&mut app, "bp 128/82 hr 74");
    let preview = live(&app).preview.clone().unwrap().unwrap();
    assert_eq!(preview.len(), 1);
    assert_eq!(preview[0].payload.to_string(), "BP 128/82 · HR 74");
    type_text(&mut app, "0");
    let err = live(&app).preview.clone().unwrap().unwrap_err();
    // The refusal keeps its span: the screen underlines "740" in the bar.
    assert_eq!(err.span(), Some(13..16), "{err:?}");
    let err = kapchart::tui::wording::line_problem(&err);
    assert!(err.contains("740"), "{err}");
    key(&mut app, "backspace");
    assert!(live(&app).preview.clone().unwrap().is_ok());
    // The preview shows flags before anything is written.
    key(&mut app, "ctrl-u");
    type_text(&mut app, "spo2 90");
    let preview = live(&app).preview.clone().unwrap().unwrap();
    assert_eq!(
        preview[0].flags[0].code,
        kapchart::domain::FlagCode::Spo2Low
    );
}

#[test]
fn enter_commits_and_clears_the_bar_when_the_write_returns() {
    let mut f = dosing_session(44);
    let mut app = open(&f, 45);
    type_text(&mut app, "bp 150/96 hr 90 obs restless #somatic");
    let effect = key(&mut app, "enter").expect("a commit");
    assert_eq!(
        effect,
        Effect::Commit {
            session: f.session,
            line: "bp 150/96 hr 90 obs restless #somatic".into()
        }
    );
    assert_eq!(
        live(&app).input.text(),
        "bp 150/96 hr 90 obs restless #somatic",
        "kept until written"
    );
    perform(&mut f, &mut app, effect, 45);
    let l = live(&app);
    assert_eq!(l.input.text(), "");
    assert!(l.preview.is_none());
    assert!(
        l.data
            .chart
            .lines()
            .iter()
            .any(|x| x.entry.payload.to_string() == "restless #somatic")
    );
}

#[test]
fn a_failed_write_keeps_the_text_and_shows_why() {
    let f = dosing_session(44);
    let mut app = open(&f, 45);
    type_text(&mut app, "obs patient asleep");
    key(&mut app, "enter").expect("commit");
    update(
        &mut app,
        Action::Written(Err(kapchart::app::ChartingError::Invalid(
            "the disk holding chart.db is full; nothing was written".into(),
        ))),
    );
    let l = live(&app);
    assert_eq!(l.input.text(), "obs patient asleep");
    assert!(l.error.as_deref().unwrap().contains("disk"));
    // Enter again retries the same text.
    assert!(matches!(
        key(&mut app, "enter"),
        Some(Effect::Commit { .. })
    ));
}

#[test]
fn an_invalid_line_is_not_sent() {
    let f = dosing_session(44);
    let mut app = open(&f, 45);
    type_text(&mut app, "bp 300/400");
    assert_eq!(key(&mut app, "enter"), None);
    assert!(live(&app).error.is_some());
    assert_eq!(live(&app).input.text(), "bp 300/400");
}

#[test]
fn up_and_down_recall_earlier_lines_and_the_draft() {
    let f = dosing_session(44);
    let mut app = open(&f, 45);
    type_text(&mut app, "obs half");
    key(&mut app, "up");
    assert_eq!(
        live(&app).input.text(),
        "obs tearful, holding hands on chest #distress"
    );
    key(&mut app, "up");
    assert_eq!(live(&app).input.text(), "moaas 2");
    key(&mut app, "down");
    key(&mut app, "down");
    assert_eq!(live(&app).input.text(), "obs half", "the draft comes back");
}

#[test]
fn time_prefixes_work_in_the_bar() {
    let f = dosing_session(44);
    let mut app = open(&f, 45);
    type_text(&mut app, "@-5m hr 88");
    let preview = live(&app).preview.clone().unwrap().unwrap();
    assert_eq!(preview[0].event_time, at(40));
    key(&mut app, "ctrl-u");
    type_text(&mut app, "@10:30 hr 88");
    let preview = live(&app).preview.clone().unwrap().unwrap();
    assert_eq!(preview[0].event_time, at(30));
}

#[test]
fn amend_from_the_timeline_with_a_reason() {
    let mut f = dosing_session(44);
    let mut app = open(&f, 45);
    key(&mut app, "esc");
    assert_eq!(live(&app).focus, Focus::Timeline);
    // Select the T+15 vitals (10:25).
    let index = live(&app)
        .data
        .chart
        .lines()
        .iter()
        .position(|l| l.entry.event_time == at(25))
        .unwrap();
    while live(&app).selected > index {
        key(&mut app, "up");
    }
    key(&mut app, "a");
    assert!(matches!(live(&app).panel, Some(Panel::Correction(_))));
    // No reason: refused in the form.
    key(&mut app, "tab");
    key(&mut app, "enter");
    let Some(Panel::Correction(form)) = &live(&app).panel else {
        panic!()
    };
    assert!(form.error.as_deref().unwrap().contains("reason"));
    type_text(&mut app, "wrong arm");
    key(&mut app, "tab");
    key(&mut app, "ctrl-u");
    type_text(&mut app, "bp 136/88 hr 86 spo2 97 rr 14");
    let effect = key(&mut app, "enter").expect("amend");
    let Effect::Amend { reason, line, .. } = &effect else {
        panic!("{effect:?}")
    };
    assert_eq!(
        (reason.as_str(), line.as_str()),
        ("wrong arm", "bp 136/88 hr 86 spo2 97 rr 14")
    );
    perform(&mut f, &mut app, effect, 46);
    let l = live(&app);
    assert!(l.panel.is_none());
    assert!(matches!(
        l.data.chart.lines()[index].status,
        EntryStatus::Amended { .. }
    ));
}

#[test]
fn strike_from_the_timeline() {
    let mut f = dosing_session(44);
    let mut app = open(&f, 45);
    key(&mut app, "esc");
    key(&mut app, "s");
    type_text(&mut app, "wrong patient");
    let effect = key(&mut app, "enter").expect("strike");
    assert!(matches!(effect, Effect::Strike { .. }));
    perform(&mut f, &mut app, effect, 46);
    let struck = live(&app)
        .data
        .chart
        .lines()
        .iter()
        .filter(|l| matches!(l.status, EntryStatus::Struck { .. }))
        .count();
    assert_eq!(struck, 1);
}

#[test]
fn esc_closes_a_panel_and_keeps_the_screen() {
    let f = dosing_session(44);
    let mut app = open(&f, 45);
    key(&mut app, "ctrl-d");
    assert!(matches!(live(&app).panel, Some(Panel::Discharge(_))));
    key(&mut app, "esc");
    assert!(live(&app).panel.is_none());
    assert!(!app.quit);
}

#[test]
fn the_clock_moves_with_ticks() {
    // A relative time in the bar is read against the clock: a tick moves what the preview
    // says the line will become.
    let f = dosing_session(44);
    let mut app = open(&f, 45);
    type_text(&mut app, "@-5m hr 70");
    let event_time = |app: &App| live(app).preview.clone().unwrap().unwrap()[0].event_time;
    assert_eq!(event_time(&app), at(40));
    update(&mut app, Action::Tick(at(50)));
    assert_eq!(event_time(&app), at(45), "the preview follows the tick");
    update(&mut app, Action::Tick(at(52)));
    assert_eq!(event_time(&app), at(47));
}

#[test]
fn predose_caution_is_acknowledged_with_an_entry() {
    let mut f = dosing_session(0);
    // The fixture acknowledges its caution; a second, unacknowledged one follows.
    f.log_at(5, "bp 150/94");
    let mut app = open(&f, 6);
    let caution = live(&app)
        .unacknowledged_caution()
        .map(|l| l.line.entry.id)
        .expect("a caution waits");
    key(&mut app, "ctrl-a");
    type_text(&mut app, "discussed; proceeding");
    let effect = key(&mut app, "enter").expect("record");
    let Effect::Acknowledge { entry, note, .. } = &effect else {
        panic!("{effect:?}")
    };
    assert_eq!((*entry, note.as_str()), (caution, "discussed; proceeding"));
    perform(&mut f, &mut app, effect, 7);
    assert!(live(&app).unacknowledged_caution().is_none());
    let ack = live(&app).lines().last().unwrap().entry.clone();
    assert!(
        matches!(&ack.payload, Payload::Acknowledgement(a) if a.entry == caution && a.note == "discussed; proceeding"),
        "{ack:?}"
    );
}

#[test]
fn an_acknowledgement_confirmed_empty_records_the_words_the_panel_showed() {
    // The panel shows what an empty note records; confirming it records those words.
    let mut f = dosing_session(0);
    f.log_at(5, "bp 150/94");
    let mut app = open(&f, 6);
    let caution = live(&app)
        .unacknowledged_caution()
        .map(|l| l.line.entry.id)
        .expect("a caution waits");
    key(&mut app, "ctrl-a");
    let effect = key(&mut app, "enter").expect("record");
    let Effect::Acknowledge { entry, note, .. } = &effect else {
        panic!("{effect:?}")
    };
    assert_eq!((*entry, note.as_str()), (caution, ""));
    perform(&mut f, &mut app, effect, 7);
    let ack = live(&app).lines().last().unwrap().entry.clone();
    assert!(
        matches!(&ack.payload, Payload::Acknowledgement(a) if a.entry == caution && a.note == "caution weighed; proceeding"),
        "{ack:?}"
    );
}

#[test]
fn an_acknowledgement_of_what_another_screen_acknowledged_meanwhile_is_nothing_to_acknowledge() {
    let mut f = dosing_session(0);
    f.log_at(5, "bp 150/94");
    let mut app = open(&f, 6);
    let caution = live(&app)
        .unacknowledged_caution()
        .map(|l| l.line.entry.id)
        .expect("a caution waits");
    key(&mut app, "ctrl-a");
    type_text(&mut app, "discussed; proceeding");
    let effect = key(&mut app, "enter").expect("record");
    // Another clinician's screen acknowledged it first.
    kapchart::app::charting::acknowledge(
        &mut f.chart,
        &f.config,
        caution,
        None,
        "rechecked",
        kapchart::app::charting::Unworded::Refused,
        &at(6),
    )
    .unwrap();
    let written = kapchart::tui::write_for_screen(&mut f.chart, &f.config, effect, &at(7)).unwrap();
    let Err(why) = &written else {
        panic!("{written:?}")
    };
    // The refusal stays typed to the screen, which words it.
    assert!(
        matches!(
            why,
            kapchart::app::ChartingError::Refused(
                kapchart::app::Refusal::NothingToAcknowledge { .. }
            )
        ),
        "{why:?}"
    );
    assert_eq!(
        kapchart::tui::wording::problem(why),
        format!("entry {caution} has no alert waiting for acknowledgement")
    );
    update(&mut app, Action::Written(written));
    let Some(Panel::Acknowledge(AcknowledgeForm { note, error, .. })) = &live(&app).panel else {
        panic!("the panel stays open with what was typed")
    };
    assert_eq!(note.text(), "discussed; proceeding");
    assert!(
        error
            .as_deref()
            .is_some_and(|e| e.contains("has no alert waiting")),
        "{error:?}"
    );
}

#[test]
fn discharge_records_aldrete_ride_and_ready_as_entries() {
    let mut f = dosing_session(44);
    let mut app = open(&f, 135);
    key(&mut app, "ctrl-d");
    type_text(&mut app, "22222");
    type_text(&mut app, "partner");
    key(&mut app, "down");
    key(&mut app, "right");
    let effect = key(&mut app, "enter").expect("record");
    let Effect::Record { payloads, .. } = &effect else {
        panic!("{effect:?}")
    };
    let kinds: Vec<&str> = payloads.iter().map(|p| p.kind()).collect();
    assert_eq!(kinds, ["aldrete", "ride-home", "patient-ready"]);
    perform(&mut f, &mut app, effect, 135);
    assert!(live(&app).panel.is_none());
}

#[test]
fn ending_early_without_ride_or_aldrete_asks_for_a_reason() {
    let mut f = dosing_session(44);
    // T+35: well before the 120-minute minimum.
    let mut app = open(&f, 45);
    key(&mut app, "ctrl-d");
    assert_eq!(key(&mut app, "ctrl-e"), None, "reminders first");
    let Some(Panel::EndReason(EndReasonForm { concerns, .. })) = &live(&app).panel else {
        panic!()
    };
    let text = concerns.join("\n");
    assert!(text.contains("minimum observation"), "{text}");
    assert!(text.contains("ride home"), "{text}");
    assert!(text.contains("Aldrete"), "{text}");
    assert_eq!(key(&mut app, "enter"), None, "no reason, no end");
    type_text(&mut app, "patient transferred to ED");
    let effect = key(&mut app, "enter").expect("end");
    let Effect::EndSession {
        payloads, reason, ..
    } = &effect
    else {
        panic!("{effect:?}")
    };
    assert!(payloads.is_empty(), "{payloads:?}");
    assert_eq!(reason.as_deref(), Some("patient transferred to ED"));
    perform(&mut f, &mut app, effect, 45);
    assert!(live(&app).data.session().ended.is_some());
}

#[test]
fn ending_after_the_minimum_with_everything_recorded_asks_nothing() {
    let mut f = dosing_session(44);
    f.complete_monitoring(131);
    f.discharge_at(128);
    let mut app = open(&f, 131);
    key(&mut app, "ctrl-d");
    let effect = key(&mut app, "ctrl-e").expect("ends without asking");
    let Effect::EndSession {
        payloads, reason, ..
    } = &effect
    else {
        panic!("{effect:?}")
    };
    assert!(payloads.is_empty() && reason.is_none(), "{effect:?}");
    perform(&mut f, &mut app, effect, 131);
    assert!(live(&app).data.session().ended.is_some());
}

#[test]
fn ending_with_open_alerts_and_missed_checks_asks_for_a_reason() {
    // Everything for discharge is there, but the T+40 BP and later checks have no reading and
    // the 164/98 alert was never acknowledged: the discharge panel says so, as the CLI does.
    let mut f = dosing_session(44);
    f.discharge_at(128);
    let mut app = open(&f, 131);
    key(&mut app, "ctrl-d");
    assert_eq!(key(&mut app, "ctrl-e"), None, "reminders first");
    let Some(Panel::EndReason(EndReasonForm { concerns, .. })) = &live(&app).panel else {
        panic!("{:?}", live(&app).panel)
    };
    let text = concerns.join("\n");
    assert!(text.contains("alert not acknowledged: BP 164/98"), "{text}");
    assert!(
        text.contains("protocol check without a reading: BP T+40"),
        "{text}"
    );
    assert!(!text.contains("ride home"), "{text}");
}

#[test]
fn a_low_aldrete_in_the_form_is_a_reminder() {
    let mut f = dosing_session(44);
    f.complete_monitoring(131);
    let mut app = open(&f, 131);
    key(&mut app, "ctrl-d");
    type_text(&mut app, "21112");
    type_text(&mut app, "sister");
    key(&mut app, "ctrl-e");
    let Some(Panel::EndReason(EndReasonForm {
        concerns, payloads, ..
    })) = &live(&app).panel
    else {
        panic!()
    };
    assert_eq!(concerns.len(), 1, "{concerns:?}");
    assert!(concerns[0].contains("7/10"), "{concerns:?}");
    assert_eq!(
        payloads.len(),
        2,
        "the form's entries are written with the end"
    );
}

/// The suggested discharge level is an Aldrete of 9 or more (README, Discharge): at 8 the end
/// asks for a reason, at 9 it does not, through the discharge panel.
#[test]
fn an_aldrete_of_8_asks_for_a_reason_and_one_of_9_does_not() {
    for (items, total, asks) in [("22211", 8, true), ("22221", 9, false)] {
        let mut f = dosing_session(44);
        f.complete_monitoring(131);
        let mut app = open(&f, 131);
        key(&mut app, "ctrl-d");
        type_text(&mut app, items);
        type_text(&mut app, "sister");
        let effect = key(&mut app, "ctrl-e");
        if asks {
            assert_eq!(effect, None, "Aldrete {total}: a reason first");
            let Some(Panel::EndReason(EndReasonForm { concerns, .. })) = &live(&app).panel else {
                panic!("{:?}", live(&app).panel)
            };
            assert_eq!(concerns.len(), 1, "{concerns:?}");
            assert!(concerns[0].contains("8/10"), "{concerns:?}");
            assert_eq!(key(&mut app, "enter"), None, "no reason, no end");
        } else {
            let Some(Effect::EndSession { reason, .. }) = &effect else {
                panic!("Aldrete {total}: ends without asking, got {effect:?}")
            };
            assert_eq!(*reason, None);
            perform(&mut f, &mut app, effect.unwrap(), 131);
            assert!(live(&app).data.session().ended.is_some());
        }
    }
}

#[test]
fn q_goes_home_from_the_timeline_and_quits_only_from_home() {
    let f = dosing_session(44);
    let mut app = open(&f, 45);
    type_text(&mut app, "q");
    assert_eq!(live(&app).input.text(), "q", "q is text in the bar");
    key(&mut app, "esc");
    key(&mut app, "q");
    assert!(!app.quit);
    assert!(live(&app).error.is_some(), "uncharted text blocks leaving");
    key(&mut app, "ctrl-u");
    key(&mut app, "esc");
    assert_eq!(key(&mut app, "q"), Some(Effect::LoadHome));
}

#[test]
fn ctrl_c_quits_and_hands_back_uncharted_text() {
    let f = dosing_session(44);
    let mut app = open(&f, 45);
    type_text(&mut app, "obs not yet charted");
    key(&mut app, "ctrl-c");
    assert!(app.quit);
    assert_eq!(app.unsent.as_deref(), Some("obs not yet charted"));
}

#[test]
fn help_opens_from_f1_and_from_question_mark_on_an_empty_bar() {
    let f = dosing_session(44);
    let mut app = open(&f, 45);
    key(&mut app, "?");
    assert!(app.help_open);
    key(&mut app, "x");
    assert!(!app.help_open);
    assert_eq!(live(&app).input.text(), "", "the closing key is not typed");
    type_text(&mut app, "obs why");
    key(&mut app, "?");
    assert!(!app.help_open);
    assert_eq!(live(&app).input.text(), "obs why?");
    key(&mut app, "f1");
    assert!(app.help_open);
}

#[test]
fn help_turns_its_pages_within_the_terminal_and_closes_on_any_other_key() {
    let f = dosing_session(44);
    let mut app = open(&f, 45);
    update(&mut app, Action::Resize(80, 24));
    key(&mut app, "f1");
    assert_eq!(app.help_page, 0);
    key(&mut app, "pagedown");
    assert_eq!(app.help_page, 1);
    for _ in 0..10 {
        key(&mut app, "pagedown");
    }
    let last = app.help_page;
    assert!(
        (1..10).contains(&last),
        "paging stops at the last page: {last}"
    );
    key(&mut app, "pageup");
    assert_eq!(app.help_page, last - 1, "one PgUp goes back one page");
    assert!(app.help_open);
    key(&mut app, "x");
    assert!(!app.help_open);
    key(&mut app, "f1");
    assert_eq!(app.help_page, 0, "help opens on its first page");
    // On a screen where help fits on one page, the paging keys close it like any other.
    update(&mut app, Action::Resize(160, 48));
    key(&mut app, "pagedown");
    assert!(!app.help_open);
}

#[test]
fn sigterm_quits_cleanly() {
    let f = dosing_session(44);
    let mut app = open(&f, 45);
    update(&mut app, Action::Terminate);
    assert!(app.quit);
}

#[test]
fn a_questionnaire_item_by_item_is_charted_as_its_line() {
    let mut f = dosing_session(44);
    let mut app = open(&f, 45);
    key(&mut app, "f2");
    key(&mut app, "right");
    assert!(matches!(
        live(&app).panel,
        Some(Panel::Questionnaire(QuestionnaireForm {
            instrument: kapchart::domain::item_forms::FormScale::Measure(
                kapchart::domain::measures::Instrument::Gad7
            ),
            ..
        }))
    ));
    type_text(&mut app, "12345");
    let Some(Panel::Questionnaire(QuestionnaireForm { answers, error, .. })) = &live(&app).panel
    else {
        panic!()
    };
    assert_eq!(answers, &[1, 2, 3]);
    assert!(
        error.as_deref().unwrap().contains("item 4 is 5"),
        "{error:?}"
    );
    assert_eq!(key(&mut app, "enter"), None, "not all items answered");
    type_text(&mut app, "0000");
    let effect = key(&mut app, "enter").expect("commit");
    assert_eq!(
        effect,
        Effect::Commit {
            session: f.session,
            line: "gad7 1 2 3 0 0 0 0".into()
        }
    );
    perform(&mut f, &mut app, effect, 46);
    assert!(live(&app).panel.is_none());
    assert!(
        live(&app)
            .data
            .chart
            .lines()
            .iter()
            .any(|l| l.entry.payload.to_string() == "GAD-7 6 (mild)")
    );
}

#[test]
fn the_item_by_item_form_offers_cadss6_and_charts_it_as_its_line() {
    let mut f = dosing_session(44);
    let mut app = open(&f, 45);
    key(&mut app, "f2");
    // PHQ-9, GAD-7, PCL-5, then CADSS-6; left from the first wraps to it too.
    key(&mut app, "left");
    assert!(matches!(
        live(&app).panel,
        Some(Panel::Questionnaire(QuestionnaireForm {
            instrument: kapchart::domain::item_forms::FormScale::Cadss6,
            ..
        }))
    ));
    type_text(&mut app, "105");
    let Some(Panel::Questionnaire(QuestionnaireForm { answers, error, .. })) = &live(&app).panel
    else {
        panic!()
    };
    assert_eq!(answers, &[1, 0]);
    assert!(
        error
            .as_deref()
            .unwrap()
            .contains("item 3 is 5; answers run from 0 to 4"),
        "{error:?}"
    );
    type_text(&mut app, "2010");
    let effect = key(&mut app, "enter").expect("commit");
    assert_eq!(
        effect,
        Effect::Commit {
            session: f.session,
            line: "cadss 1 0 2 0 1 0".into()
        }
    );
    perform(&mut f, &mut app, effect, 46);
    assert!(live(&app).panel.is_none());
    assert!(
        live(&app)
            .data
            .chart
            .lines()
            .iter()
            .any(|l| l.entry.payload.to_string() == "CADSS-6 4 (items 1 0 2 0 1 0)")
    );
}

#[test]
fn the_home_screen_shows_why_a_second_dosing_session_does_not_open() {
    use kapchart::store::NewSession;
    use kapchart::tui::home::HomeData;
    let mut f = dosing_session(30);
    let open = f.session;
    let data: HomeData = kapchart::app::views::home_data(&f.chart, &f.config, at(30)).unwrap();
    let mut app = App::new(
        Screen::SignIn(Box::new(SignIn::new(Purpose::Open, None))),
        at(30),
        Keymap::default(),
        Arc::new(f.config.clone()),
    );
    // Loaded as the runtime loads it: the screen's data, then the selected patients' sessions.
    let mut effect = update(&mut app, Action::HomeLoaded(Ok(data)));
    while let Some(Effect::LoadPatientSessions(p)) = effect {
        let sessions = kapchart::app::views::patient_sessions(&f.chart, p).unwrap();
        effect = update(&mut app, Action::PatientSessions(p, Ok(sessions)));
    }
    assert_eq!(effect, None);
    assert!(matches!(&app.screen, Screen::Home(_)));
    let Some(Effect::ReadCarriedIntention(p)) = key(&mut app, "n") else {
        panic!("n opens the form and reads what an empty intention carries")
    };
    let carried = kapchart::app::course::carried_intention(&f.chart, p)
        .map_err(kapchart::app::ChartingError::from);
    assert_eq!(update(&mut app, Action::CarriedIntention(p, carried)), None);
    let Some(Effect::StartSession {
        patient,
        kind,
        intention,
        dosing,
    }) = key(&mut app, "enter")
    else {
        panic!("n then enter starts a session")
    };
    assert_eq!(kind, kapchart::domain::SessionKind::Dosing);
    // Carried out as the runtime does.
    let refused = kapchart::app::course::start_session(
        &mut f.chart,
        NewSession {
            patient_id: patient,
            kind,
            started: at(30),
            intention,
            dosing_session_id: dosing,
        },
        kapchart::app::Second::Refuse,
        at(30),
    )
    .map_err(kapchart::app::ChartingError::from)
    .unwrap_err();
    update(&mut app, Action::Started(Err(refused), None));
    let Screen::Home(home) = &app.screen else {
        panic!("still on the home screen")
    };
    // The form stays open as it was, with why.
    let Some(kapchart::tui::home::HomeForm::NewSession(form)) = &home.form else {
        panic!("the form stays open")
    };
    let shown = form.error.as_deref().unwrap_or("");
    assert!(
        shown.contains(&format!("already has dosing session {open} open"))
            && shown.contains("end it from its discharge panel first"),
        "{shown}"
    );
    assert_eq!(f.chart.sessions(None).unwrap().len(), 1);
}

#[test]
fn a_dose_above_its_alert_level_is_flagged_in_the_preview_and_a_typo_refused() {
    let f = dosing_session(44);
    let mut app = open(&f, 45);
    type_text(&mut app, "dose ketamine 200mg IM");
    let preview = live(&app).preview.clone().unwrap().unwrap();
    assert_eq!(
        preview[0].flags[0].code,
        kapchart::domain::FlagCode::DoseHigh
    );
    assert!(
        preview[0].flags[0]
            .text
            .contains("above the alert level of 150 mg IM"),
        "{:?}",
        preview[0].flags
    );
    // One more zero: beyond the ceiling, refused before anything is written.
    key(&mut app, "ctrl-u");
    type_text(&mut app, "dose ketamine 2000mg IM");
    let err =
        kapchart::tui::wording::line_problem(&live(&app).preview.clone().unwrap().unwrap_err());
    assert!(err.contains("1500 mg IM ceiling"), "{err}");
}

#[test]
fn signing_an_incomplete_note_shows_which_sections_are_empty_and_keeps_the_text() {
    use kapchart::tui::note::NoteEditor;
    let mut f = dosing_session(130);
    let data =
        kapchart::app::course::open_note(&mut f.chart, &f.config, f.session, at(131)).unwrap();
    let note = data.note.id;
    assert!(
        !data.check.needs_reason.is_empty(),
        "alerts and missed checks stand open: a reason would be asked"
    );
    let mut app = App::new(
        Screen::Note(Box::new(NoteEditor::new(data))),
        at(131),
        Keymap::default(),
        Arc::new(f.config.clone()),
    );
    // Ctrl-S checks first, with the text as typed, before asking any reason.
    let effect = key(&mut app, "ctrl-s").expect("the check");
    let Effect::CheckSign { note: id, text } = &effect else {
        panic!("{effect:?}")
    };
    assert_eq!(*id, note);
    check_sign(&f, &mut app, effect.clone(), 132);
    let Screen::Note(editor) = &app.screen else {
        panic!("still in the note")
    };
    assert!(
        editor.panel.is_none(),
        "no reason is asked for a note that cannot be signed"
    );
    let shown = editor.error.as_deref().unwrap_or("");
    assert!(
        shown.contains("cannot sign yet") && shown.contains("Assessment, Plan are empty"),
        "{shown}"
    );
    assert_eq!(&editor.text(), text, "the typed text stays");
    // The refusal is read whole at 80 columns.
    let screen = render(&app, 80, 24);
    assert!(
        screen.contains("✗ cannot sign yet: Integration session, Assessment, Plan are empty;")
            && screen.contains("then sign"),
        "{screen}"
    );
    assert!(!f.chart.note(note).unwrap().is_signed());
}

#[test]
fn a_signing_reason_survives_a_refusal_then_esc() {
    use kapchart::tui::note::{NoteEditor, NotePanel};
    let mut f = dosing_session(130);
    let data =
        kapchart::app::course::open_note(&mut f.chart, &f.config, f.session, at(131)).unwrap();
    let note = data.note.id;
    // The draft as the clinician completed it (the account, assessment and plan written).
    let completed = common::fixture::completed_note(data.note.text());
    f.chart
        .behind_the_door()
        .save_draft(note, &completed, at(131))
        .unwrap();
    let data = kapchart::app::course::note_data(&f.chart, &f.config, note, at(131)).unwrap();
    let mut app = App::new(
        Screen::Note(Box::new(NoteEditor::new(data))),
        at(131),
        Keymap::default(),
        Arc::new(f.config.clone()),
    );
    let effect = key(&mut app, "ctrl-s").expect("the check");
    check_sign(&f, &mut app, effect, 132);
    let Screen::Note(editor) = &app.screen else {
        panic!()
    };
    assert!(
        matches!(editor.panel, Some(NotePanel::Sign)),
        "{:?}",
        editor.error
    );
    type_text(&mut app, "BP rechecked at T+60, prescriber aware");
    let Some(Effect::SignNote { reason, .. }) = key(&mut app, "enter") else {
        panic!("enter signs")
    };
    assert_eq!(
        reason.as_deref(),
        Some("BP rechecked at T+60, prescriber aware")
    );
    // Refused (as the chart would refuse it on a read-only disk), then Esc.
    update(
        &mut app,
        Action::NoteOpened(Err(kapchart::app::ChartingError::Invalid(
            "the chart is read-only; nothing was signed".into(),
        ))),
    );
    key(&mut app, "esc");
    let Screen::Note(editor) = &app.screen else {
        panic!()
    };
    assert!(editor.panel.is_none());
    // Ctrl-S again: checked again, and the reason is there as typed.
    let effect = key(&mut app, "ctrl-s").expect("the check");
    check_sign(&f, &mut app, effect, 133);
    let screen = render(&app, 80, 24);
    assert!(
        screen.contains("Reason to sign now: BP rechecked at T+60, prescriber aware"),
        "{screen}"
    );
    let Some(Effect::SignNote { reason, text, .. }) = key(&mut app, "enter") else {
        panic!("enter signs")
    };
    kapchart::app::course::sign_note(
        &mut f.chart,
        &f.config,
        note,
        Some(&text),
        reason.as_deref(),
        at(133),
    )
    .unwrap();
    assert_eq!(
        f.chart
            .note(note)
            .unwrap()
            .signature
            .unwrap()
            .reason
            .as_deref(),
        Some("BP rechecked at T+60, prescriber aware")
    );
}

#[test]
fn the_usual_ride_offered_in_discharge_is_charted_only_when_confirmed() {
    let mut f = dosing_session(46);
    let patient = f.live_data().patient.id;
    let mut details = f.chart.patient_details(patient).unwrap();
    details.ride_contact = Some("Chris (partner)".into());
    f.chart
        .update_patient_details(patient, &details, at(-300))
        .unwrap();
    let mut app = open(&f, 131);
    assert_eq!(
        key(&mut app, "ctrl-d"),
        None,
        "opening the form writes nothing"
    );
    let Some(Effect::Record { payloads, .. }) = key(&mut app, "enter") else {
        panic!("Enter records the form")
    };
    assert!(
        payloads.iter().any(|p| matches!(
            p,
            Payload::RideHome(r) if r.who == "Chris (partner)"
        )),
        "{payloads:?}"
    );
}
