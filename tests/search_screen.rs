//! The search screen (from home, `s`) and the timeline's find (`/`), through the TUI's
//! `update` and `view` as the runtime drives them, rendered at 60x18, 80x24 and 120x40:
//! patient, session, time and author of each find, the words underlined and bold (not colour
//! alone), struck and amended entries said to be so, Enter opening what was found.

mod common;

use common::fixture::{Fixture, at, dosing_session};
use kapchart::app::{access, charting, search, views};
use kapchart::tui::keymap::{Key, KeyName, Keymap};
use kapchart::tui::sign_in::{Purpose, SignIn};
use kapchart::tui::state::{Action, App, Effect, Screen, update};
use kapchart::tui::theme::Theme;
use kapchart::tui::view;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Modifier;
use std::sync::Arc;

fn new_app(f: &Fixture, minute: i64) -> App {
    let mut app = App::new(
        Screen::SignIn(Box::new(SignIn::new(Purpose::Open, None))),
        at(minute),
        Keymap::default(),
        Arc::new(f.config.clone()),
    );
    app.theme = Theme { color: false };
    app
}

/// Carries out what the screens ask for, as the runtime does.
fn perform(f: &mut Fixture, app: &mut App, mut effect: Option<Effect>) {
    while let Some(e) = effect {
        let action = match e {
            Effect::LoadHome => {
                Action::HomeLoaded(Ok(views::home_data(&f.chart, &f.config, app.now).unwrap()))
            }
            Effect::LoadPatients(read) => Action::PatientsRead(Ok(
                kapchart::app::patient_list::read(&f.chart, read).unwrap(),
            )),
            Effect::LoadPatientSessions(p) => {
                Action::PatientSessions(p, Ok(views::patient_sessions(&f.chart, p).unwrap()))
            }
            Effect::Search { words, patient } => {
                let results = search::search(&f.chart, &words, patient, search::LIMIT).unwrap();
                let audited = search::record(&mut f.chart, &results, app.now);
                Action::Searched(Ok((results, audited)))
            }
            Effect::OpenSession(id) => {
                Action::Opened(Ok(views::live_data(&f.chart, &f.config, id).unwrap()))
            }
            Effect::OpenNote { dosing } => Action::NoteOpened(
                kapchart::app::course::open_note(&mut f.chart, &f.config, dosing, app.now)
                    .map(Box::new),
            ),
            Effect::RecordAccess(a) => {
                Action::AccessRecorded(access::record(&mut f.chart, &a, app.now))
            }
            other => panic!("unexpected effect {other:?}"),
        };
        effect = update(app, action);
    }
}

fn key(f: &mut Fixture, app: &mut App, k: &str) {
    let effect = update(app, Action::Key(Key::parse(k).unwrap()));
    perform(f, app, effect);
}

fn type_text(f: &mut Fixture, app: &mut App, text: &str) {
    for c in text.chars() {
        let effect = update(
            app,
            Action::Key(Key {
                code: KeyName::Char(c),
                ctrl: false,
                alt: false,
            }),
        );
        perform(f, app, effect);
    }
}

/// The screen as text, and each cell's modifiers.
fn draw(app: &App, width: u16, height: u16) -> (String, Vec<Vec<(String, Modifier)>>) {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| view::draw(app, frame)).unwrap();
    let buffer = terminal.backend().buffer();
    let mut text = String::new();
    let mut cells = Vec::new();
    for y in 0..height {
        let mut line = String::new();
        let mut row = Vec::new();
        for x in 0..width {
            let cell = &buffer[(x, y)];
            line.push_str(cell.symbol());
            row.push((cell.symbol().to_string(), cell.modifier));
        }
        text.push_str(line.trim_end());
        text.push('\n');
        cells.push(row);
    }
    (text, cells)
}

fn render(app: &App, width: u16, height: u16) -> String {
    draw(app, width, height).0
}

/// The words drawn underlined and bold, in screen order.
fn marked_words(app: &App, width: u16, height: u16) -> Vec<String> {
    let (_, cells) = draw(app, width, height);
    let mut words = Vec::new();
    for row in cells {
        let mut word = String::new();
        for (symbol, m) in row {
            if m.contains(Modifier::UNDERLINED | Modifier::BOLD) {
                word.push_str(&symbol);
            } else if !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
        }
        if !word.is_empty() {
            words.push(word);
        }
    }
    words
}

/// The fixture's session (an amended SpO2, tearful and "chest" observations) with one more
/// line struck, on the home screen.
fn on_home() -> (Fixture, App) {
    let mut f = dosing_session(46);
    f.log_at(45, "obs chest pain? patient points to sternum");
    let struck = f.lines_now().last().unwrap().entry.id;
    charting::strike_entry(
        &mut f.chart,
        struck,
        "misheard: patient said 'chess'",
        &at(46),
    )
    .unwrap();
    let mut app = new_app(&f, 57);
    perform(&mut f, &mut app, Some(Effect::LoadHome));
    assert!(matches!(app.screen, Screen::Home(_)));
    (f, app)
}

fn search_screen(app: &App) -> &kapchart::tui::search::SearchScreen {
    match &app.screen {
        Screen::Search(s) => s,
        _ => panic!("not the search screen"),
    }
}

#[test]
fn s_on_home_opens_the_search_screen_which_finds_and_opens_entries() {
    let (mut f, mut app) = on_home();
    key(&mut f, &mut app, "s");
    let empty = render(&app, 80, 24);
    assert!(empty.contains("type words; Enter searches"), "{empty}");
    type_text(&mut f, &mut app, "chest");
    key(&mut f, &mut app, "enter");
    let s = search_screen(&app);
    let hits = s.hits().to_vec();
    assert_eq!(hits.len(), 3, "{hits:#?}");
    for (w, h) in [(60, 18), (80, 24), (120, 40)] {
        let screen = render(&app, w, h);
        assert!(screen.contains("3 found"), "{w}x{h}\n{screen}");
        assert!(screen.contains("Alex Rivera"), "{w}x{h}\n{screen}");
        assert!(screen.contains("dosing #1"), "{w}x{h}\n{screen}");
        assert!(screen.contains("26 Nov 2026 10:4"), "{w}x{h}\n{screen}");
        assert!(screen.contains("Dr. Mara Quinn"), "{w}x{h}\n{screen}");
        // The words found are underlined and bold, on the selected row too.
        let marked = marked_words(&app, w, h);
        assert!(
            marked.iter().filter(|m| *m == "chest").count() >= 2,
            "{w}x{h} {marked:?}"
        );
        insta::assert_snapshot!(format!("search_screen_{w}x{h}"), screen);
    }
    let screen = render(&app, 120, 40);
    // The struck entry says so, in words.
    assert!(screen.contains("STRUCK by entry"), "{screen}");
    assert!(screen.contains("✗ chest pain?"), "{screen}");
    // Audited: one read of the patient whose entries were shown.
    let trail = f
        .chart
        .audit_trail(kapchart::store::audit::TrailOf::Chart, Some(1))
        .unwrap();
    assert_eq!(trail[0].action, "patient.search");

    // Enter opens the selected entry's session, its timeline showing what was found.
    let newest = hits[0].clone();
    let kapchart::domain::search::Found::Entry { id, .. } = newest.found else {
        panic!("an entry first: {newest:?}")
    };
    key(&mut f, &mut app, "enter");
    let Screen::Live(l) = &app.screen else {
        panic!("not the live screen")
    };
    assert_eq!(l.data.session().id, newest.session);
    assert_eq!(l.selected_line().map(|l| l.entry.id), Some(id));
    assert_eq!(l.shown_count(), 3);
    let screen = render(&app, 80, 24);
    assert!(screen.contains("Find: chest · 3 of "), "{screen}");

    // Esc on the search screen's words goes back to its results, then home.
    key(&mut f, &mut app, "esc");
    key(&mut f, &mut app, "esc");
    assert!(matches!(app.screen, Screen::Home(_)));
    key(&mut f, &mut app, "s");
    key(&mut f, &mut app, "esc");
    assert!(matches!(app.screen, Screen::Home(_)));
}

#[test]
fn the_search_screen_says_what_nothing_found_means_and_keeps_the_words() {
    let (mut f, mut app) = on_home();
    key(&mut f, &mut app, "s");
    key(&mut f, &mut app, "enter");
    assert!(render(&app, 80, 24).contains("type the words to find"));
    type_text(&mut f, &mut app, "zebra");
    key(&mut f, &mut app, "enter");
    assert!(render(&app, 80, 24).contains("nothing found"));
    // `/` changes the words; what was typed stays.
    key(&mut f, &mut app, "/");
    type_text(&mut f, &mut app, " \"*\" OR NEAR(");
    assert_eq!(search_screen(&app).typed, "zebra \"*\" OR NEAR(");
    key(&mut f, &mut app, "enter");
    assert!(search_screen(&app).hits().is_empty());
    assert_eq!(search_screen(&app).error, None);
    // A long paste is kept whole and finds nothing, without an error.
    key(&mut f, &mut app, "/");
    type_text(&mut f, &mut app, &"w".repeat(3000));
    key(&mut f, &mut app, "enter");
    assert!(search_screen(&app).hits().is_empty());
    let screen = render(&app, 60, 18);
    assert!(screen.contains("nothing found"), "{screen}");
}

/// `/` on the timeline shows only the entries that hold every word, the words marked; the
/// selection moves among them, amend acts on the one selected, Esc shows every entry again.
#[test]
fn slash_on_the_timeline_finds_its_entries_by_words() {
    let mut f = dosing_session(46);
    let mut app = new_app(&f, 57);
    let session = f.session;
    perform(&mut f, &mut app, Some(Effect::OpenSession(session)));
    key(&mut f, &mut app, "esc");
    key(&mut f, &mut app, "/");
    type_text(&mut f, &mut app, "CHEST");
    let Screen::Live(l) = &app.screen else {
        panic!()
    };
    assert_eq!(l.shown_count(), 2);
    let screen = render(&app, 80, 24);
    assert!(
        screen.contains("Find: CHEST▏ · 2 of 12 entries"),
        "{screen}"
    );
    assert!(screen.contains("warm water over my"), "{screen}");
    assert!(screen.contains("holding hands on"), "{screen}");
    assert!(!screen.contains("moaas"), "{screen}");
    assert!(
        !screen.contains("check"),
        "no missed-check rows under a find: {screen}"
    );
    assert_eq!(marked_words(&app, 120, 40), ["chest", "chest"]);
    insta::assert_snapshot!("timeline_find_80x24", screen);
    key(&mut f, &mut app, "enter");
    // The selection is on the newest find; up goes to the other, not to the lines between.
    let selected = |app: &App| match &app.screen {
        Screen::Live(l) => l.selected_line().map(|l| l.entry.payload.to_string()),
        _ => None,
    };
    assert!(selected(&app).unwrap().starts_with("tearful"));
    key(&mut f, &mut app, "up");
    assert!(selected(&app).unwrap().contains("warm water"));
    key(&mut f, &mut app, "up");
    assert!(selected(&app).unwrap().contains("warm water"));
    key(&mut f, &mut app, "down");
    assert!(selected(&app).unwrap().starts_with("tearful"));
    // Amend opens on the entry found.
    key(&mut f, &mut app, "a");
    let screen = render(&app, 80, 24);
    assert!(screen.contains("tearful"), "{screen}");
    key(&mut f, &mut app, "esc");
    // Esc shows every entry again; a second Esc goes home.
    key(&mut f, &mut app, "esc");
    let screen = render(&app, 80, 24);
    assert!(screen.contains("Timeline (12 entries)"), "{screen}");
    // An amended reading and its amendment are both found, the first marked as amended.
    key(&mut f, &mut app, "/");
    type_text(&mut f, &mut app, "164");
    key(&mut f, &mut app, "enter");
    let screen = render(&app, 200, 48);
    assert!(screen.contains("amended → #"), "{screen}");
    assert!(screen.contains("amends #"), "{screen}");
    assert!(screen.contains("Find: 164 · 2 of 12 entries"), "{screen}");
    // Words that match nothing: nothing to act on.
    key(&mut f, &mut app, "/");
    type_text(&mut f, &mut app, "zz");
    key(&mut f, &mut app, "enter");
    key(&mut f, &mut app, "s");
    let Screen::Live(l) = &app.screen else {
        panic!()
    };
    assert!(l.panel.is_none());
    assert!(
        l.error
            .as_deref()
            .unwrap()
            .contains("nothing found to act on")
    );
    // Typing in the bar shows every entry again.
    key(&mut f, &mut app, "i");
    let Screen::Live(l) = &app.screen else {
        panic!()
    };
    assert!(l.find.is_none());
}

#[test]
fn help_lists_the_search_keys() {
    let f = dosing_session(46);
    let help = Keymap::default().help();
    let home = &help
        .iter()
        .find(|(c, _)| *c == kapchart::tui::keymap::Context::Home)
        .unwrap()
        .1;
    assert!(home.contains(&("s".to_string(), "search the chart")));
    let timeline = &help
        .iter()
        .find(|(c, _)| *c == kapchart::tui::keymap::Context::Timeline)
        .unwrap()
        .1;
    assert!(timeline.contains(&("/".to_string(), "find words")));
    let mut app = new_app(&f, 57);
    update(&mut app, Action::Resize(160, 48));
    update(&mut app, Action::Key(Key::parse("f1").unwrap()));
    let mut pages = render(&app, 160, 48);
    update(&mut app, Action::Key(Key::parse("pagedown").unwrap()));
    pages.push_str(&render(&app, 160, 48));
    assert!(pages.contains("Search the chart"), "{pages}");
    assert!(pages.contains("search the chart"), "{pages}");
}

/// A note found on the search screen opens in the note editor; so does an addendum's note.
#[test]
fn enter_on_a_note_found_opens_the_note() {
    let (mut f, mut app) = on_home();
    let session = f.session;
    let note = kapchart::app::course::open_note(&mut f.chart, &f.config, session, at(50)).unwrap();
    f.chart
        .behind_the_door()
        .save_draft(
            note.note.id,
            "Integration plan: journal about the warm water",
            at(51),
        )
        .unwrap();
    key(&mut f, &mut app, "s");
    type_text(&mut f, &mut app, "journal warm");
    key(&mut f, &mut app, "enter");
    let s = search_screen(&app);
    assert_eq!(s.hits().len(), 1);
    let screen = render(&app, 80, 24);
    assert!(screen.contains("draft (not signed)"), "{screen}");
    assert_eq!(marked_words(&app, 80, 24), ["journal", "warm"]);
    key(&mut f, &mut app, "enter");
    let Screen::Note(n) = &app.screen else {
        panic!("not the note editor")
    };
    assert_eq!(n.data.note.id, note.note.id);
}
