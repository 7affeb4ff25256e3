//! The terminal interface. State changes go through [`state::update`]; [`view::draw`] is a
//! pure function of the state; this module owns the terminal, the clock and the chart, and
//! turns each [`state::Effect`] into a write or a read whose result comes back as an action.

pub mod action;
#[cfg(test)]
mod appended_tests;
#[cfg(test)]
mod audited_tests;
#[cfg(test)]
mod bedside_fixture;
pub mod handover;
pub mod home;
pub mod home_forms;
#[cfg(test)]
mod home_tests;
pub mod input;
pub mod keymap;
pub mod live;
mod live_forms;
pub mod lock;
pub mod note;
pub mod panels;
pub mod patient;
pub mod questionnaires;
pub mod search;
pub mod sign_in;
pub mod state;
pub mod stock;
pub mod terminal;
pub mod theme;
pub mod view;
pub mod witness;
pub mod wording;
mod writes;

use wording::form_refusal;
use writes::second_if;
pub use writes::write_for_screen;
#[cfg(any(test, feature = "testing"))]
pub use writes::{WriteResult, write, write_charted};

use crate::app::access::{Access, SignInKind};
use crate::app::{AppError, Chart, ChartingError, ErrorKind, NewSession, Second};
use crate::app::{course, patient_list, views};
use crate::config::Config;
use crate::domain::SessionId;
use home::HomeData;
use keymap::{Key, Keymap};
use live::LiveData;
use ratatui::crossterm::event::{self, Event, KeyEventKind};
use state::{Action, App, Effect, Screen};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Which screen the TUI opens on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    Home,
    /// A session's live screen, with the quick-entry bar focused.
    Session(SessionId),
    /// An integration note in the editor.
    Note(crate::domain::course::NoteId),
}

/// How the TUI starts.
pub struct Launch {
    /// The chart, when the passphrase was already known; otherwise the TUI asks for it.
    pub chart: Option<Chart>,
    pub path: PathBuf,
    pub start: Start,
}

/// What the user left behind when quitting.
#[derive(Debug, Default)]
pub struct Exit {
    /// Text typed and not charted, to show on the terminal after it is restored.
    pub unsent: Option<String>,
}

/// Runs the TUI until the user quits.
pub fn run(launch: Launch, config: Config) -> Result<Exit, String> {
    let keymap = Keymap::with_overrides(&config.keys).map_err(|e| format!("config: {e}"))?;
    let config = Arc::new(config);
    let mut rt = Runtime {
        chart: launch.chart,
        path: launch.path,
        config: config.clone(),
        start: Some(launch.start),
        seen_version: None,
    };
    let now = crate::clock::now();
    // Who signs in, and their passphrase, unless both were known at start.
    let sign_in = match std::env::var("KAPCHART_CLINICIAN")
        .ok()
        .filter(|w| !w.trim().is_empty())
    {
        Some(who) => sign_in::SignIn::for_given(sign_in::Purpose::Open, &who),
        None => sign_in::SignIn::new(sign_in::Purpose::Open, None),
    };
    let screen = Screen::SignIn(Box::new(sign_in));
    let mut app = App::new(screen, now, keymap, config);
    app.theme = theme::Theme::from_env();
    if let Some(chart) = &rt.chart {
        // Already signed in: go straight to the first screen.
        let who = chart.clinician().clone();
        app.signed_in = Some(who.clone());
        // The passphrase given at start opened the chart: a sign-in like the screen's.
        let signed_in = Effect::RecordAccess(Access::SignIn(SignInKind::Open, who.id));
        let audited = rt.perform(signed_in);
        dispatch(&mut app, &mut rt, audited, None)?;
        let first = rt.first_screen();
        dispatch(&mut app, &mut rt, first, None)?;
    } else {
        let team = rt.perform(Effect::ReadTeam);
        dispatch(&mut app, &mut rt, team, None)?;
    }
    let stop = terminal::termination_flag().map_err(|e| e.to_string())?;
    let mut term = terminal::enter().map_err(|e| e.to_string())?;
    if let Ok(size) = term.size() {
        dispatch(
            &mut app,
            &mut rt,
            Action::Resize(size.width, size.height),
            None,
        )?;
    }
    let result = event_loop(&mut app, &mut rt, &mut term, &stop);
    terminal::restore();
    result?;
    Ok(Exit { unsent: app.unsent })
}

fn event_loop(
    app: &mut App,
    rt: &mut Runtime,
    term: &mut terminal::Tui,
    stop: &std::sync::atomic::AtomicBool,
) -> Result<(), String> {
    let io = |e: std::io::Error| e.to_string();
    // The clock ticks four times a second: the session clock and the note autosave follow it.
    let tick = Duration::from_millis(250);
    let mut last_tick = std::time::Instant::now();
    // The last key, on the monotonic clock and on the wall clock: a laptop that slept does
    // not count its sleep on the first, so the lock takes whichever says longer.
    let mut last_key = (std::time::Instant::now(), crate::clock::now_local());
    while !app.quit {
        term.draw(|f| view::draw(app, f)).map_err(io)?;
        let wait = tick.saturating_sub(last_tick.elapsed());
        let action = if event::poll(wait).map_err(io)? {
            match event::read().map_err(io)? {
                Event::Key(k) if k.kind != KeyEventKind::Release => {
                    Key::from_event(&k).map(Action::Key)
                }
                // A resize redraws on the next pass; help pages by the new size.
                Event::Resize(width, height) => Some(Action::Resize(width, height)),
                _ => None,
            }
        } else {
            None
        };
        if terminal::terminated(stop) {
            // A quit may still have a note draft to write.
            dispatch(app, rt, Action::Terminate, None)?;
            break;
        }
        if matches!(action, Some(Action::Key(_))) {
            last_key = (std::time::Instant::now(), crate::clock::now_local());
        }
        if last_tick.elapsed() >= tick {
            last_tick = std::time::Instant::now();
            dispatch(app, rt, Action::Tick(crate::clock::now()), Some(term))?;
            let wall = (crate::clock::now_local() - last_key.1)
                .to_std()
                .unwrap_or_default();
            let idle = last_key.0.elapsed().max(wall);
            dispatch(app, rt, Action::Idle(idle), Some(term))?;
        }
        if let Some(action) = action {
            #[cfg(debug_assertions)]
            panic_if_asked(&action);
            dispatch(app, rt, action, Some(term))?;
        }
    }
    Ok(())
}

/// Test hook, absent from release builds: with `KAPCHART_TEST_PANIC_ON_KEY=1`, the first key
/// pressed panics, so that tests/tui.rs can check the terminal is restored on a panic.
#[cfg(debug_assertions)]
fn panic_if_asked(action: &Action) {
    if matches!(action, Action::Key(_))
        && std::env::var_os("KAPCHART_TEST_PANIC_ON_KEY").is_some_and(|v| v == "1")
    {
        panic!("KAPCHART_TEST_PANIC_ON_KEY: a panic asked for by a test");
    }
}

/// Feeds an action to the state and carries out the effects that follow, until none is left.
fn dispatch(
    app: &mut App,
    rt: &mut Runtime,
    action: Action,
    mut term: Option<&mut terminal::Tui>,
) -> Result<(), String> {
    let mut next = Some(action);
    while let Some(action) = next.take() {
        let Some(effect) = state::update(app, action) else {
            break;
        };
        if effect == Effect::Suspend {
            if let Some(t) = term.as_deref_mut() {
                terminal::suspend(t).map_err(|e| e.to_string())?;
            }
            continue;
        }
        next = Some(rt.perform(effect));
    }
    Ok(())
}

/// The chart and what it takes to act on it.
struct Runtime {
    chart: Option<Chart>,
    path: PathBuf,
    config: Arc<Config>,
    start: Option<Start>,
    /// The chart's data version at the last look (see `Chart::data_version`).
    seen_version: Option<i64>,
}

impl Runtime {
    fn first_screen(&mut self) -> Action {
        match self.start.take() {
            Some(Start::Session(id)) => Action::Opened(self.live(id)),
            Some(Start::Note(id)) => {
                let config = self.config.clone();
                let now = crate::clock::now();
                note_opened(
                    self.chart
                        .as_ref()
                        .ok_or_else(wording::locked)
                        .and_then(|c| {
                            course::note_data(c, &config, id, now).map_err(ChartingError::from)
                        }),
                )
            }
            Some(Start::Home) | None => Action::HomeLoaded(self.home()),
        }
    }

    fn perform(&mut self, effect: Effect) -> Action {
        let now = crate::clock::now_local();
        match effect {
            Effect::ReadTeam => Action::TeamRead(
                crate::app::sign_in::team(&self.path)
                    .map(|team| team.into_iter().filter(|m| !m.name.is_empty()).collect())
                    .map_err(ChartingError::from),
            ),
            Effect::Authenticate { purpose, attempt } => {
                let result = self.authenticate(purpose, attempt, now.fixed_offset());
                Action::Authenticated { purpose, result }
            }
            Effect::FirstScreen => self.first_screen(),
            Effect::LoadHome => Action::HomeLoaded(self.home()),
            Effect::RefreshHome {
                filter,
                rows,
                changed_only,
            } => Action::HomeRefreshed(self.refresh_home(filter, rows, changed_only)),
            Effect::ReadCarriedIntention(patient) => Action::CarriedIntention(
                patient,
                self.chart
                    .as_ref()
                    .ok_or_else(wording::locked)
                    .and_then(|c| {
                        course::carried_intention(c, patient).map_err(ChartingError::from)
                    }),
            ),
            Effect::AddPatient { patient, second } => Action::PatientAdded(
                self.chart_mut()
                    .map_err(|e| home::Refused {
                        why: wording::problem(&e),
                        exists: false,
                    })
                    .and_then(|c| {
                        course::add_patient(c, &patient, second_if(second), now.fixed_offset())
                            .map_err(|e| form_refusal(&e))
                    }),
            ),
            Effect::StartCourse {
                patient,
                planned,
                goals,
                new_course,
            } => Action::CourseStarted(
                patient,
                self.chart_mut()
                    .map_err(|e| home::Refused {
                        why: wording::problem(&e),
                        exists: false,
                    })
                    .and_then(|c| {
                        course::start_course(
                            c,
                            patient,
                            planned,
                            &goals,
                            second_if(new_course),
                            now.fixed_offset(),
                        )
                        .map_err(|e| form_refusal(&e))
                    }),
            ),
            Effect::CheckSign { note, text } => {
                let config = self.config.clone();
                Action::SignChecked(
                    self.chart
                        .as_ref()
                        .ok_or_else(wording::locked)
                        .and_then(|c| {
                            course::sign_readiness(
                                c,
                                &config,
                                note,
                                Some(&text),
                                now.fixed_offset(),
                            )
                        }),
                )
            }
            Effect::LoadPatientSessions(patient) => Action::PatientSessions(
                patient,
                self.chart
                    .as_ref()
                    .ok_or_else(wording::locked)
                    .and_then(|c| views::patient_sessions(c, patient).map_err(ChartingError::from)),
            ),
            Effect::LoadPatients(read) => Action::PatientsRead(
                self.chart
                    .as_ref()
                    .ok_or_else(wording::locked)
                    .and_then(|c| patient_list::read(c, read).map_err(ChartingError::from)),
            ),
            Effect::OpenSession(id) => Action::Opened(self.live(id)),
            Effect::StartSession {
                patient,
                kind,
                intention,
                dosing,
            } => {
                let config = self.config.clone();
                let started = self.chart_mut().and_then(|c| {
                    course::start_session_with_intention(
                        c,
                        &config,
                        NewSession {
                            patient_id: patient,
                            kind,
                            started: now.fixed_offset(),
                            intention,
                            dosing_session_id: dosing,
                        },
                        Second::Refuse,
                        now.fixed_offset(),
                    )
                    .map_err(ChartingError::from)
                });
                match started {
                    Ok(started) => Action::Started(self.live(started.id), started.uncharted),
                    Err(e) => Action::Started(Err(e), None),
                }
            }
            Effect::Commit { .. }
            | Effect::Amend { .. }
            | Effect::Strike { .. }
            | Effect::Record { .. }
            | Effect::Acknowledge { .. }
            | Effect::EndSession { .. } => {
                let config = self.config.clone();
                let Ok(chart) = self.chart_mut() else {
                    return Action::Written(Err(wording::locked()));
                };
                Action::Written(
                    write_for_screen(chart, &config, effect, &now)
                        .unwrap_or_else(|| Err(ChartingError::Invalid("nothing to write".into()))),
                )
            }
            Effect::Poll { session } => Action::Refreshed(self.poll(session)),
            Effect::OpenNote { dosing } => {
                let config = self.config.clone();
                let opened = self
                    .chart_mut()
                    .and_then(|c| course::open_note(c, &config, dosing, now.fixed_offset()));
                note_opened(opened)
            }
            Effect::SaveDraft { note, text } => {
                Action::DraftSaved(self.chart_mut().and_then(|c| {
                    course::save_draft(c, note, &text, now.fixed_offset())
                        .map(|_| ())
                        .map_err(ChartingError::from)
                }))
            }
            Effect::SignNote { note, text, reason } => {
                let config = self.config.clone();
                note_opened(self.chart_mut().and_then(|c| {
                    course::sign_note(
                        c,
                        &config,
                        note,
                        Some(&text),
                        reason.as_deref(),
                        now.fixed_offset(),
                    )?;
                    course::note_data(c, &config, note, now.fixed_offset())
                        .map_err(ChartingError::from)
                }))
            }
            Effect::AddAddendum { note, text } => {
                let config = self.config.clone();
                note_opened(self.chart_mut().and_then(|c| {
                    course::add_addendum(c, note, &text, now.fixed_offset())
                        .map_err(ChartingError::from)?;
                    course::note_data(c, &config, note, now.fixed_offset())
                        .map_err(ChartingError::from)
                }))
            }
            Effect::OpenPatient(id) => Action::PatientOpened(
                self.chart
                    .as_ref()
                    .ok_or_else(wording::locked)
                    .and_then(|c| {
                        views::patient_data(c, &self.config, id, now.fixed_offset())
                            .map_err(ChartingError::from)
                    })
                    .map(Box::new),
            ),
            Effect::RecordAccess(access) => Action::AccessRecorded(match self.chart_mut() {
                Ok(c) => crate::app::access::record(c, &access, now.fixed_offset()),
                Err(e) => crate::app::access::not_recorded(&access, &wording::problem(&e)),
            }),
            Effect::Suspend => Action::Tick(now.fixed_offset()),
            Effect::Search { words, patient } => {
                let Ok(chart) = self.chart_mut() else {
                    return Action::Searched(Err(wording::locked()));
                };
                let found =
                    crate::app::search::search(chart, &words, patient, crate::app::search::LIMIT)
                        .map_err(ChartingError::from);
                Action::Searched(found.map(|results| {
                    let audited = crate::app::search::record(chart, &results, now.fixed_offset());
                    (results, audited)
                }))
            }
            Effect::OpenStock => Action::StockOpened(
                self.chart
                    .as_ref()
                    .ok_or_else(wording::locked)
                    .and_then(|c| stock::read(c, now.fixed_offset()))
                    .map(Box::new),
            ),
        }
    }

    /// Checks a sign-in: opens the chart as the clinician, switches the signed-in clinician
    /// (a hand-over), or records them as a dose's witness. A pair that does not go together
    /// is `wrong_pair`, without saying which of the two was wrong.
    fn authenticate(
        &mut self,
        purpose: sign_in::Purpose,
        attempt: sign_in::Attempt,
        now: chrono::DateTime<chrono::FixedOffset>,
    ) -> Result<handover::Authenticated, sign_in::Refused> {
        use sign_in::Purpose;
        let passphrase = zeroize::Zeroizing::new(attempt.passphrase);
        let refused = |e: AppError| sign_in::Refused {
            wrong_pair: matches!(
                e.kind(),
                ErrorKind::WrongPassphrase | ErrorKind::WrongSignIn
            ),
            why: e.to_string(),
        };
        let locked = || sign_in::Refused {
            why: "the chart is locked".into(),
            wrong_pair: false,
        };
        let clinician = match purpose {
            Purpose::Open => {
                let chart = Chart::open_as(
                    &self.path,
                    &attempt.who,
                    &passphrase,
                    self.config.chart.busy_timeout_ms,
                )
                .map_err(refused)?;
                let who = chart.clinician().clone();
                self.chart = Some(chart);
                who
            }
            Purpose::HandOver => {
                let chart = self.chart.as_mut().ok_or_else(locked)?;
                crate::app::sign_in::sign_in(
                    chart,
                    SignInKind::HandOver,
                    &attempt.who,
                    &passphrase,
                    now,
                )
                .map_err(refused)?
            }
            Purpose::Unlock => {
                let chart = self.chart.as_mut().ok_or_else(locked)?;
                // Whatever the chart calls it, a refusal here is a wrong pair (it waits longer
                // next time), and it never says whether the clinician or the passphrase was wrong.
                crate::app::sign_in::sign_in(
                    chart,
                    SignInKind::Unlock,
                    &attempt.who,
                    &passphrase,
                    now,
                )
                .map_err(|e| {
                    if e.is_wrong_sign_in() {
                        sign_in::Refused {
                            why: "that clinician and passphrase do not unlock the chart".into(),
                            wrong_pair: true,
                        }
                    } else {
                        refused(e)
                    }
                })?
            }
            Purpose::Witness(dose) => {
                let chart = self.chart.as_mut().ok_or_else(locked)?;
                let (who, session) =
                    crate::app::sign_in::witness(chart, dose, &attempt.who, &passphrase, now)
                        .map_err(refused)?;
                let data = self.live(session).ok();
                return Ok(handover::Authenticated {
                    clinician: who,
                    data,
                    unaudited: None,
                });
            }
        };
        // Who signed in, from when: one audit row (the witness's is their witness entry).
        let kind = match purpose {
            Purpose::Open => SignInKind::Open,
            Purpose::HandOver => SignInKind::HandOver,
            _ => SignInKind::Unlock,
        };
        let unaudited = self
            .chart
            .as_mut()
            .map(|c| crate::app::access::record(c, &Access::SignIn(kind, clinician.id), now))
            .and_then(|audited| match audited {
                crate::app::access::Audited::Recorded => None,
                crate::app::access::Audited::NotRecorded { short, .. } => {
                    Some(format!("this sign-in is not in the audit trail: {short}"))
                }
            });
        Ok(handover::Authenticated {
            clinician,
            data: None,
            unaudited,
        })
    }

    fn chart_mut(&mut self) -> Result<&mut Chart, ChartingError> {
        self.chart.as_mut().ok_or_else(wording::locked)
    }

    /// The session again when another process committed to the chart since the last look.
    fn poll(&mut self, session: SessionId) -> Result<Option<LiveData>, ChartingError> {
        let chart = self.chart.as_ref().ok_or_else(wording::locked)?;
        let version = chart.data_version().map_err(ChartingError::from)?;
        if self.seen_version.replace(version) == Some(version) {
            return Ok(None);
        }
        self.live(session).map(Some)
    }

    fn home(&mut self) -> Result<HomeData, ChartingError> {
        let chart = self.chart.as_ref().ok_or_else(wording::locked)?;
        // What the home screen shows from here is as of this version of the chart.
        self.seen_version = chart.data_version().ok();
        views::home_data(chart, &self.config, crate::clock::now()).map_err(ChartingError::from)
    }

    /// The home screen read again as shown; with `changed_only`, only when another process
    /// committed to the chart since the last look (None otherwise).
    fn refresh_home(
        &mut self,
        filter: crate::domain::patient_filter::PatientFilter,
        rows: usize,
        changed_only: bool,
    ) -> Result<Option<HomeData>, ChartingError> {
        let chart = self.chart.as_ref().ok_or_else(wording::locked)?;
        let version = chart.data_version().map_err(ChartingError::from)?;
        if self.seen_version.replace(version) == Some(version) && changed_only {
            return Ok(None);
        }
        views::home_data_as_shown(chart, &self.config, crate::clock::now(), filter, rows)
            .map(Some)
            .map_err(ChartingError::from)
    }

    fn live(&self, id: SessionId) -> Result<LiveData, ChartingError> {
        let chart = self.chart.as_ref().ok_or_else(wording::locked)?;
        views::live_data(chart, &self.config, id).map_err(ChartingError::from)
    }
}

fn note_opened(result: Result<note::NoteData, ChartingError>) -> Action {
    Action::NoteOpened(result.map(Box::new))
}
