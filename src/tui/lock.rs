//! The lock screen (HIPAA 45 CFR 164.312(a)(2)(iii), automatic logoff): it covers whatever
//! screen was open after `[lock] after_idle` without a key, or on Ctrl-L. The screen
//! underneath keeps its state (typed text, an open form) and goes on receiving the chart's
//! changes; keys reach only the lock's sign-in: who signs in, and their passphrase. That
//! sign-in is the one the chart opens with and hands over with (`sign_in::SignIn`), so its
//! wrong tries count with theirs at this terminal.

use super::keymap::{Command, Context, Key};
use super::sign_in::SignIn;
use super::state::{App, Effect, Screen};
use zeroize::Zeroize;

/// Whether the lock key would lock: not when it is already locked, nor before the chart is
/// open (the sign-in then has nothing to hide).
pub fn can_lock(app: &App) -> bool {
    app.lock.is_none() && !matches!(app.screen, Screen::SignIn(_))
}

/// Covers the screen with the lock, when it can.
pub fn lock(app: &mut App) -> Option<Effect> {
    if !can_lock(app) {
        return None;
    }
    app.help_open = false;
    // A passphrase half typed into a hand-over or a witness's sign-in does not wait under
    // the lock for whoever comes next.
    if let Some(h) = &mut app.hand_over {
        h.passphrase.zeroize();
    }
    if let Some(w) = &mut app.witness {
        w.sign_in.passphrase.zeroize();
    }
    app.lock = Some(SignIn::to_unlock(app.signed_in.as_ref().map(|c| c.id)));
    Some(Effect::ReadTeam)
}

/// The sign-in's command for a key behind the lock: only the lock's own keys (`[keys.lock]`)
/// do anything; the global ones (quit, help, suspend) do not reach past it.
pub fn command(app: &App, key: &Key) -> Option<Command> {
    match app.keymap.command(Context::Lock, key)? {
        Command::Unlock => Some(Command::Confirm),
        Command::Up => Some(Command::PreviousField),
        Command::Down => Some(Command::NextField),
        c @ (Command::DeleteBack | Command::ClearLine) => Some(c),
        _ => None,
    }
}
