//! Signing in over the screens: at start (the chart is not open yet), at the lock screen,
//! handing the screen
//! over to another clinician (the screen beneath keeps its state: the bar's text, the
//! selection, an open form), and a witness signing in for one dose or waste. `state::update` routes
//! keys, team lists and sign-in results here.

use super::keymap::{Context, Key};
use super::sign_in::{Attempt, Outcome, Purpose, Refused, SignIn};
use super::state::{App, Effect, Screen};
use super::witness::WitnessPanel;
use crate::domain::Clinician;
use crate::domain::team::TeamMember;

/// A sign-in that the runtime accepted: who, and for a witness the session as it stands.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub clinician: Clinician,
    pub data: Option<super::live::LiveData>,
    /// Why the sign-in is not in the audit trail, when its row could not be written.
    pub unaudited: Option<String>,
}

/// The sign-in widget taking keys now, if any: the lock's (over everything), a witness's,
/// a hand-over's, or the start's.
pub fn active(app: &mut App) -> Option<&mut SignIn> {
    if let Some(l) = &mut app.lock {
        return Some(l);
    }
    if let Some(w) = &mut app.witness {
        return Some(&mut w.sign_in);
    }
    if let Some(h) = &mut app.hand_over {
        return Some(h);
    }
    match &mut app.screen {
        Screen::SignIn(s) => Some(s),
        _ => None,
    }
}

pub fn is_open(app: &App) -> bool {
    app.witness.is_some() || app.hand_over.is_some() || matches!(app.screen, Screen::SignIn(_))
}

/// The hand-over key: the sign-in opens over the screen, which stays as it is.
pub fn open_hand_over(app: &mut App) -> Option<Effect> {
    if is_open(app) {
        return None;
    }
    app.hand_over = Some(SignIn::new(
        Purpose::HandOver,
        app.signed_in.as_ref().map(|c| c.id),
    ));
    Some(Effect::ReadTeam)
}

/// The witness panel for the dose or waste `dose` of the session on screen.
pub fn open_witness(app: &mut App, dose: crate::domain::EntryId) -> Option<Effect> {
    let signed_in = app.signed_in.as_ref().map(|c| c.id);
    let Screen::Live(l) = &mut app.screen else {
        return None;
    };
    match WitnessPanel::for_dose(l.lines(), dose, signed_in) {
        Ok(panel) => {
            app.witness = Some(panel);
            Some(Effect::ReadTeam)
        }
        Err(e) => {
            l.error = Some(e);
            None
        }
    }
}

/// The witness key on the timeline: the selected entry.
pub fn witness_selected(app: &mut App) -> Option<Effect> {
    let Screen::Live(l) = &app.screen else {
        return None;
    };
    let dose = l.selected_line().map(|line| line.entry.id)?;
    open_witness(app, dose)
}

/// A key while a sign-in is open; behind the lock, only the lock's own keys.
pub fn on_key(app: &mut App, key: &Key) -> Option<Effect> {
    let command = if app.lock.is_some() {
        super::lock::command(app, key)
    } else {
        app.keymap.command(Context::Panel, key)
    };
    let now = app.now;
    let guard = app.sign_in_guard.clone();
    let outcome = active(app)?.on_key(command, key, &guard, now);
    match outcome {
        Outcome::Nothing => None,
        Outcome::Try(attempt) => Some(authenticate(app, attempt)),
        Outcome::Cancel => cancel(app),
    }
}

/// Esc: a witness or a hand-over closes with nothing changed; at start, kapchart quits.
/// The lock has no way out but a sign-in.
fn cancel(app: &mut App) -> Option<Effect> {
    if app.lock.is_some() {
        return None;
    }
    if let Some(w) = app.witness.take() {
        if let Screen::Live(l) = &mut app.screen {
            l.notice = Some(format!("the {} stays unwitnessed", w.what));
        }
        return None;
    }
    if app.hand_over.take().is_some() {
        return None;
    }
    if matches!(app.screen, Screen::SignIn(_)) {
        app.quit = true;
    }
    None
}

fn authenticate(app: &mut App, attempt: Attempt) -> Effect {
    let purpose = active(app).map_or(Purpose::Open, |s| s.purpose);
    Effect::Authenticate { purpose, attempt }
}

/// The clock moved on: a queued try goes once its wait is over.
pub fn tick(app: &mut App) -> Option<Effect> {
    let now = app.now;
    let guard = app.sign_in_guard.clone();
    let attempt = active(app)?.tick(&guard, now)?;
    Some(authenticate(app, attempt))
}

pub fn team_read(app: &mut App, team: Result<Vec<TeamMember>, String>) {
    if let Some(s) = active(app) {
        s.team_read(team);
    }
}

/// The runtime checked a sign-in.
pub fn authenticated(
    app: &mut App,
    purpose: Purpose,
    result: Result<Authenticated, Refused>,
) -> Option<Effect> {
    let now = app.now;
    match result {
        Err(refused) => {
            let held = refused.wrong_pair;
            let why = if held {
                app.sign_in_guard.wrong_pair(&refused.why, now)
            } else {
                refused.why
            };
            if let Some(s) = active(app).filter(|s| s.purpose == purpose) {
                s.refused(why, held);
            }
            None
        }
        Ok(done) => {
            app.sign_in_guard = Default::default();
            if let Some(why) = &done.unaudited {
                match &mut app.screen {
                    Screen::Live(l) => l.notice = Some(format!("⚠ {why}")),
                    Screen::Note(n) => n.status = Some(format!("⚠ {why}")),
                    Screen::Home(h) => h.error = Some(why.clone()),
                    _ => {}
                }
            }
            match purpose {
                Purpose::Open => {
                    app.signed_in = Some(done.clinician);
                    Some(Effect::FirstScreen)
                }
                Purpose::Unlock => {
                    // The status line names whoever signed in; the screen beneath is as it was.
                    app.lock = None;
                    app.signed_in = Some(done.clinician);
                    None
                }
                Purpose::HandOver => {
                    app.hand_over = None;
                    if let Screen::Live(l) = &mut app.screen {
                        l.notice = Some(format!("{} is signed in", done.clinician.name));
                    }
                    app.signed_in = Some(done.clinician);
                    None
                }
                Purpose::Witness(dose) => {
                    let what = app.witness.take().map_or("dose", |w| w.what);
                    if let Some(data) = done.data {
                        let config = app.config.clone();
                        let now = app.now;
                        if let Screen::Live(l) = &mut app.screen {
                            l.witnessed(data, now, &config);
                            l.notice = Some(format!(
                                "{what} #{dose} witnessed by {}",
                                done.clinician.name
                            ));
                        }
                    }
                    None
                }
            }
        }
    }
}

/// Opens the witness panel after a line that asked for one was charted.
pub fn after_write(app: &mut App, witness: Option<crate::domain::EntryId>) -> Option<Effect> {
    open_witness(app, witness?)
}
