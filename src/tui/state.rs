//! The TUI's state and the pure `update` that changes it. Nothing here touches the chart or
//! the terminal: a write is asked for as an [`Effect`], and its result comes back as an
//! [`Action`].

use super::home::{Home, HomeForm};
use super::keymap::{Command, Context, Key, Keymap};
use super::live::Live;
use super::note::{NoteEditor, NotePanel};
use super::patient::PatientData;
use super::search::SearchScreen;
use super::sign_in::{Guard, SignIn};
use super::stock::StockScreen;
use super::witness::WitnessPanel;
use super::wording;
use crate::app::access::Access;
use crate::config::Config;
use crate::domain::course::NoteId;
use crate::domain::{EntryId, SessionId};
use chrono::{DateTime, FixedOffset};
use std::sync::Arc;

pub use super::action::{Action, Effect};

#[derive(Debug, Clone)]
pub enum Screen {
    /// Who signs in, and their passphrase, before the chart is open.
    SignIn(Box<SignIn>),
    Home(Box<Home>),
    Live(Box<Live>),
    Note(Box<NoteEditor>),
    Patient(Box<PatientData>),
    Search(Box<SearchScreen>),
    Stock(Box<StockScreen>),
}

#[derive(Debug, Clone)]
pub struct App {
    pub screen: Screen,
    pub now: DateTime<FixedOffset>,
    pub keymap: Keymap,
    pub config: Arc<Config>,
    pub theme: super::theme::Theme,
    pub help_open: bool,
    /// The help page shown (0 first), kept within the pages the terminal size gives.
    pub help_page: usize,
    /// The terminal's size (columns, rows): help turns pages by it.
    pub size: (u16, u16),
    pub quit: bool,
    /// Typed text that was not charted when the app quit, shown after the terminal is back.
    pub unsent: Option<String>,
    /// Why the patient screen on show is not in the audit trail (a read-only chart).
    pub unaudited: Option<String>,
    /// The lock screen's sign-in, over whatever screen was open (which keeps its state
    /// beneath it).
    pub lock: Option<SignIn>,
    /// The clinician every write is authored by; the status line names them.
    pub signed_in: Option<crate::domain::Clinician>,
    /// Wrong clinician/passphrase pairs at this terminal: each waits longer.
    pub sign_in_guard: Guard,
    /// Handing over: the sign-in over the screen, which keeps its state beneath.
    pub hand_over: Option<SignIn>,
    /// A second clinician signing in to witness a dose.
    pub witness: Option<WitnessPanel>,
    /// The live screen's notice on show and since when: it says what just happened, so it
    /// goes after [`NOTICE_FOR`].
    notice_since: Option<(String, DateTime<FixedOffset>)>,
    /// Forms set aside with what was typed in them, while their screen is not on show.
    pub kept: Kept,
    /// The words the search screen found an entry by, and the entry, while its session
    /// opens: the timeline then shows what was found.
    pub find_on_open: Option<(String, EntryId)>,
}

/// What was typed in forms and set aside (Esc), kept while their screen is not on show:
/// the home screen's forms, each session's, each note's. A screen opened again takes its
/// own back.
#[derive(Debug, Clone, Default)]
pub struct Kept {
    pub home: Vec<HomeForm>,
    pub sessions: Vec<(SessionId, super::live::Kept)>,
    pub notes: Vec<(NoteId, super::note::Kept)>,
}

impl Kept {
    fn texts(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .home
            .iter()
            .filter_map(HomeForm::pending_text)
            .collect();
        out.extend(self.sessions.iter().flat_map(|(_, k)| k.texts()));
        out.extend(self.notes.iter().flat_map(|(_, k)| k.texts()));
        out
    }
}

/// Puts `screen` on show: what the screen it replaces set aside is kept, and the new screen
/// takes back what was kept for it.
pub fn set_screen(app: &mut App, screen: Screen) {
    let old = std::mem::replace(&mut app.screen, screen);
    let kept = &mut app.kept;
    match old {
        Screen::Home(mut h) => kept.home = std::mem::take(&mut h.kept),
        Screen::Live(mut l) => {
            let id = l.data.session().id;
            kept.sessions.retain(|(s, _)| *s != id);
            if !l.kept.is_empty() {
                kept.sessions.push((id, std::mem::take(&mut l.kept)));
            }
        }
        Screen::Note(mut n) => {
            let id = n.note_id();
            kept.notes.retain(|(s, _)| *s != id);
            if !n.kept.is_empty() {
                kept.notes.push((id, std::mem::take(&mut n.kept)));
            }
        }
        Screen::SignIn(_) | Screen::Patient(_) | Screen::Search(_) | Screen::Stock(_) => {}
    }
    match &mut app.screen {
        Screen::Home(h) => h.kept = std::mem::take(&mut kept.home),
        Screen::Live(l) => {
            let id = l.data.session().id;
            if let Some(i) = kept.sessions.iter().position(|(s, _)| *s == id) {
                l.kept = kept.sessions.remove(i).1;
            }
        }
        Screen::Note(n) => {
            let id = n.note_id();
            if let Some(i) = kept.notes.iter().position(|(s, _)| *s == id) {
                n.kept = kept.notes.remove(i).1;
            }
        }
        Screen::SignIn(_) | Screen::Patient(_) | Screen::Search(_) | Screen::Stock(_) => {}
    }
}

/// How long a notice ("charted 1 entry", "3 entries charted elsewhere") stays in the
/// header: long enough to be read at a glance, not so long that it reads as the present.
/// A warning (`⚠ ...`) stays while the screen is open.
pub const NOTICE_FOR: chrono::Duration = chrono::Duration::seconds(20);

impl App {
    pub fn new(
        screen: Screen,
        now: DateTime<FixedOffset>,
        keymap: Keymap,
        config: Arc<Config>,
    ) -> App {
        App {
            screen,
            now,
            keymap,
            config,
            theme: super::theme::Theme::default(),
            help_open: false,
            help_page: 0,
            // The smallest size the screens are made for, until the terminal says otherwise.
            size: (80, 24),
            quit: false,
            unsent: None,
            unaudited: None,
            lock: None,
            signed_in: None,
            sign_in_guard: Guard::default(),
            hand_over: None,
            witness: None,
            kept: Kept::default(),
            find_on_open: None,
            notice_since: None,
        }
    }

    /// The keyboard context right now.
    pub fn context(&self) -> Context {
        if self.lock.is_some() {
            return Context::Lock;
        }
        if super::handover::is_open(self) {
            return Context::Panel;
        }
        match &self.screen {
            Screen::SignIn(_) => Context::Panel,
            Screen::Home(h) => h.context(),
            Screen::Live(l) => l.context(),
            Screen::Note(n) => match n.panel {
                Some(NotePanel::Sign) => Context::Panel,
                Some(NotePanel::Addendum { .. }) => Context::Editor,
                None if n.is_signed() => Context::SignedNote,
                None => Context::Editor,
            },
            Screen::Patient(_) => Context::Patient,
            Screen::Search(s) => s.context(),
            Screen::Stock(s) => s.context(),
        }
    }

    fn pending_text(&self) -> Option<String> {
        let on_screen = match &self.screen {
            Screen::Live(l) => l.pending_text(),
            Screen::Note(n) => n.pending_text(),
            Screen::Home(h) => h.pending_text(),
            // Search words are not chart text: nothing is handed back for them.
            _ => None,
        };
        let texts: Vec<String> = on_screen.into_iter().chain(self.kept.texts()).collect();
        (!texts.is_empty()).then(|| texts.join("\n"))
    }
}

/// Applies one action to the state; returns what the runtime must do next, if anything.
pub fn update(app: &mut App, action: Action) -> Option<Effect> {
    let effect = apply(app, action);
    expire_notice(app);
    effect
}

/// Notes when the live screen's notice appeared, and takes it away once it has stood for
/// [`NOTICE_FOR`].
fn expire_notice(app: &mut App) {
    let now = app.now;
    let Screen::Live(l) = &mut app.screen else {
        app.notice_since = None;
        return;
    };
    match (&l.notice, &app.notice_since) {
        (None, _) => app.notice_since = None,
        (Some(n), Some((seen, since))) if n == seen => {
            if now - *since >= NOTICE_FOR && !n.starts_with(super::theme::OVERDUE) {
                l.notice = None;
                app.notice_since = None;
            }
        }
        (Some(n), _) => app.notice_since = Some((n.clone(), now)),
    }
}

fn apply(app: &mut App, action: Action) -> Option<Effect> {
    match action {
        Action::Tick(now) => {
            app.now = now;
            if let Some(effect) = super::handover::tick(app) {
                return Some(effect);
            }
            match &mut app.screen {
                Screen::Live(l) => {
                    l.refresh_preview(now, &app.config);
                    Some(Effect::Poll {
                        session: l.data.session().id,
                    })
                }
                Screen::Note(n) => n.tick(now),
                Screen::Home(h) => {
                    let (filter, rows) = h.as_shown();
                    Some(Effect::RefreshHome {
                        filter,
                        rows,
                        changed_only: true,
                    })
                }
                _ => None,
            }
        }
        Action::Terminate => quit(app),
        Action::Resize(width, height) => {
            app.size = (width, height);
            None
        }
        Action::NoteOpened(Ok(data)) => {
            let id = data.note.id;
            // Re-read after signing or an addendum: the same note, still on screen, keeps
            // what was set aside, but a reason it was signed with.
            let kept = match &mut app.screen {
                Screen::Note(n) if n.data.note.id == id => Some(std::mem::take(&mut n.kept)),
                _ => None,
            };
            let reread = kept.is_some();
            let mut editor = NoteEditor::new(*data);
            if let Some(mut kept) = kept {
                if editor.is_signed() {
                    kept.sign_reason = Default::default();
                }
                editor.kept = kept;
                app.screen = Screen::Note(Box::new(editor));
            } else {
                set_screen(app, Screen::Note(Box::new(editor)));
            }
            (!reread).then_some(Effect::RecordAccess(Access::ViewNote(id)))
        }
        Action::SignChecked(check) => {
            if let Screen::Note(n) = &mut app.screen {
                n.sign_checked(wording::said(check));
            }
            None
        }
        Action::NoteOpened(Err(e)) => {
            show_problem(app, &e);
            None
        }
        Action::PatientOpened(Ok(data)) => {
            let id = data.patient.id;
            set_screen(app, Screen::Patient(data));
            app.unaudited = None;
            Some(Effect::RecordAccess(Access::ViewPatient(id)))
        }
        Action::AccessRecorded(audited) => {
            if let Some(why) = audited.status() {
                match &mut app.screen {
                    Screen::Live(l) => l.notice = Some(format!("⚠ {why}")),
                    Screen::Note(n) => n.status = Some(format!("⚠ {why}")),
                    Screen::Patient(_) => app.unaudited = Some(why),
                    Screen::Search(s) => s.unaudited = Some(why),
                    _ => {}
                }
            }
            None
        }
        Action::PatientOpened(Err(e)) => {
            if let Screen::Home(h) = &mut app.screen {
                h.error = Some(wording::problem(&e));
            }
            None
        }
        Action::DraftSaved(result) => match &mut app.screen {
            Screen::Note(n) => n.saved(wording::said(result), app.now),
            _ => None,
        },
        Action::Key(key) => on_key(app, key),
        Action::HomeLoaded(Ok(data)) => {
            set_screen(app, Screen::Home(Box::new(Home::new(data))));
            match &app.screen {
                Screen::Home(h) => home_reads(h),
                _ => None,
            }
        }
        Action::HomeRefreshed(Ok(Some(data))) => match &mut app.screen {
            Screen::Home(h) => {
                h.refreshed(data);
                home_reads(h)
            }
            _ => None,
        },
        Action::HomeRefreshed(Ok(None)) => None,
        Action::HomeRefreshed(Err(e)) => {
            if let Screen::Home(h) = &mut app.screen {
                h.error = Some(wording::problem(&e));
            }
            None
        }
        Action::CarriedIntention(patient, carried) => {
            if let Screen::Home(h) = &mut app.screen {
                h.carried_read(patient, wording::said(carried));
            }
            None
        }
        Action::PatientAdded(result) => match &mut app.screen {
            Screen::Home(h) => h.patient_added(result).then(|| {
                let (filter, rows) = h.as_shown();
                Effect::RefreshHome {
                    filter,
                    rows,
                    changed_only: false,
                }
            }),
            _ => None,
        },
        Action::CourseStarted(patient, result) => {
            if let Screen::Home(h) = &mut app.screen {
                h.course_started(patient, result);
            }
            None
        }
        Action::Started(Err(e), _) => {
            match &mut app.screen {
                Screen::Home(h) => h.start_refused(wording::problem(&e)),
                Screen::Live(l) => l.error = Some(wording::problem(&e)),
                _ => {}
            }
            None
        }
        Action::Started(Ok(data), uncharted) => {
            if let Screen::Home(h) = &mut app.screen {
                h.session_started();
            }
            let effect = update(app, Action::Opened(Ok(data)));
            if let (Screen::Live(l), Some((line, why))) = (&mut app.screen, uncharted) {
                l.input = super::input::InputLine::with_text(&line);
                l.error = Some(format!("the intention was not charted: {why}"));
                l.refresh_preview(app.now, &app.config);
            }
            effect
        }
        Action::PatientSessions(patient, Ok(sessions)) => match &mut app.screen {
            Screen::Home(h) => {
                h.sessions_read(patient, sessions);
                home_reads(h)
            }
            _ => None,
        },
        Action::PatientsRead(Ok(page)) => match &mut app.screen {
            Screen::Home(h) => {
                h.patients_read(page);
                home_reads(h)
            }
            _ => None,
        },
        Action::PatientsRead(Err(e)) => {
            if let Screen::Home(h) = &mut app.screen {
                h.error = Some(wording::problem(&e));
            }
            None
        }
        Action::PatientSessions(_, Err(e)) => {
            if let Screen::Home(h) = &mut app.screen {
                h.error = Some(wording::problem(&e));
            }
            None
        }
        Action::HomeLoaded(Err(e)) | Action::Opened(Err(e)) => {
            app.find_on_open = None;
            show_problem(app, &e);
            None
        }
        Action::Opened(Ok(data)) => {
            let id = data.session().id;
            let mut live = Live::new(data, app.now, &app.config);
            if let Some((words, entry)) = app.find_on_open.take() {
                live.start_find(&words, entry);
            }
            set_screen(app, Screen::Live(Box::new(live)));
            Some(Effect::RecordAccess(Access::ViewSession(id)))
        }
        Action::Written(result) => {
            let witness = result.as_ref().ok().and_then(|w| w.witness);
            if let Screen::Live(l) = &mut app.screen {
                l.written(wording::said(result), app.now, &app.config);
            }
            // A dose line that asked for a witness: charted, now the witness signs in.
            super::handover::after_write(app, witness)
        }
        Action::Searched(result) => {
            if let Screen::Search(s) = &mut app.screen {
                let result = result.map(|(results, audited)| {
                    s.unaudited = audited.status();
                    results
                });
                s.found(wording::said(result));
            }
            None
        }
        Action::StockOpened(Ok(data)) => {
            set_screen(app, Screen::Stock(Box::new(StockScreen::new(*data))));
            None
        }
        Action::StockOpened(Err(e)) => {
            show_problem(app, &e);
            None
        }
        Action::TeamRead(team) => {
            super::handover::team_read(app, wording::said(team));
            None
        }
        Action::Authenticated { purpose, result } => {
            super::handover::authenticated(app, purpose, result)
        }
        Action::Refreshed(Ok(Some(data))) => {
            if let Screen::Live(l) = &mut app.screen
                && l.data.session().id == data.session().id
            {
                l.refreshed(data, app.now, &app.config);
            }
            None
        }
        Action::Refreshed(Ok(None)) => None,
        Action::Idle(idle) if idle >= app.config.lock.after_idle() => super::lock::lock(app),
        Action::Idle(_) => None,
        Action::Refreshed(Err(e)) => {
            if let Screen::Live(l) = &mut app.screen {
                l.error = Some(wording::problem(&e));
            }
            None
        }
    }
}

/// Quits; an unsaved note draft is written first. Behind the lock, typed text is not handed
/// back to the terminal: whoever is at it has not signed in.
fn quit(app: &mut App) -> Option<Effect> {
    app.unsent = app.pending_text().filter(|_| app.lock.is_none());
    app.quit = true;
    match &mut app.screen {
        Screen::Note(n) => n.flush(false),
        _ => None,
    }
}

fn on_key(app: &mut App, key: Key) -> Option<Effect> {
    // Behind the lock, keys reach only the lock screen's fields.
    if app.lock.is_some() {
        return super::handover::on_key(app, &key);
    }
    if app.keymap.command(Context::Global, &key) == Some(Command::Lock) {
        return super::lock::lock(app);
    }
    if app.help_open {
        return help_key(app, key);
    }
    let ctx = app.context();
    let command = app.keymap.command(ctx, &key);
    let global_quit = key_is_global_quit(app, &key);
    if super::handover::is_open(app) && !global_quit && command != Some(Command::Help) {
        return super::handover::on_key(app, &key);
    }
    if command == Some(Command::HandOver) {
        return super::handover::open_hand_over(app);
    }
    if command == Some(Command::Witness) && ctx == Context::Timeline {
        return super::handover::witness_selected(app);
    }
    if command == Some(Command::Search) && ctx == Context::Home {
        set_screen(app, Screen::Search(Box::default()));
        return None;
    }
    if command == Some(Command::Stock) && ctx == Context::Home {
        return Some(Effect::OpenStock);
    }
    match command {
        Some(Command::Quit) if ctx == Context::Home || key_is_global_quit(app, &key) => {
            return quit(app);
        }
        Some(Command::Help) if help_allowed(app, &key) => {
            app.help_open = true;
            app.help_page = 0;
            return None;
        }
        Some(Command::Suspend) => return Some(Effect::Suspend),
        _ => {}
    }
    let now = app.now;
    let config = app.config.clone();
    match &mut app.screen {
        Screen::SignIn(_) => None,
        Screen::Home(h) => h.on_key(command, &key).or_else(|| home_reads(h)),
        Screen::Live(l) => l.on_key(command, &key, now, &config),
        Screen::Note(n) => n.on_key(command, &key, now),
        Screen::Patient(_) => match command {
            Some(Command::Home) => Some(Effect::LoadHome),
            _ => None,
        },
        Screen::Search(s) => {
            let find = s.find_on_open();
            let effect = s.on_key(command, &key);
            if matches!(effect, Some(Effect::OpenSession(_))) {
                app.find_on_open = find;
            }
            effect
        }
        Screen::Stock(s) => s.on_key(command),
    }
}

/// A key while help is open: the paging keys turn its pages when it has more than one; any
/// other key closes it, and Ctrl-C still quits.
/// What the home screen needs read next: a page of the patient list, then a patient's
/// sessions.
fn home_reads(h: &Home) -> Option<Effect> {
    h.patients_needed()
        .map(Effect::LoadPatients)
        .or_else(|| h.sessions_needed().map(Effect::LoadPatientSessions))
}

fn help_key(app: &mut App, key: Key) -> Option<Effect> {
    use super::keymap::KeyName;
    if app.keymap.command(Context::Global, &key) == Some(Command::Quit) {
        app.help_open = false;
        return quit(app);
    }
    let (width, height) = app.size;
    let pages = super::view::help_pages(app, width, height);
    let plain = !key.ctrl && !key.alt;
    let last = pages.saturating_sub(1);
    match key.code {
        KeyName::PageDown | KeyName::Down | KeyName::Char(' ') if plain && pages > 1 => {
            app.help_page = (app.help_page + 1).min(last);
        }
        KeyName::PageUp | KeyName::Up if plain && pages > 1 => {
            app.help_page = app.help_page.min(last).saturating_sub(1);
        }
        _ => app.help_open = false,
    }
    None
}

fn key_is_global_quit(app: &App, key: &Key) -> bool {
    app.keymap.command(Context::Global, key) == Some(Command::Quit)
}

/// `?` is text in the entry bar while something is typed there; F1 always opens help.
fn help_allowed(app: &App, key: &Key) -> bool {
    match app.context() {
        Context::EntryBar => key.printable().is_none() || app.pending_text().is_none(),
        Context::Editor | Context::Panel => key.printable().is_none(),
        _ => true,
    }
}

/// Shows what went wrong on whatever screen is up, in the screen's words.
fn show_problem(app: &mut App, e: &crate::app::ChartingError) {
    let why = wording::problem(e);
    match &mut app.screen {
        Screen::Home(h) => h.error = Some(why),
        Screen::Live(l) => l.error = Some(why),
        Screen::Note(n) => n.error = Some(why),
        Screen::Patient(_) => {}
        Screen::SignIn(s) => s.error = Some(why),
        Screen::Search(s) => s.error = Some(why),
        Screen::Stock(s) => s.error = Some(why),
    }
}
