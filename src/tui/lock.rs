//! The lock screen's state (HIPAA 45 CFR 164.312(a)(2)(iii), automatic logoff): it covers
//! whatever screen was open after `[lock] after_idle` without a key, or on Ctrl-L. The screen
//! underneath keeps its state (typed text, an open form) and goes on receiving the chart's
//! changes; keys reach only the lock's own fields: who signs in, and their passphrase.

use super::app::Effect;
use super::keymap::{Command, Key};
use chrono::{DateTime, FixedOffset};
use zeroize::Zeroize;

/// Longer than any passphrase anyone types: a paste of a whole document stops here.
pub const LONGEST_PASSPHRASE: usize = 1024;

/// A clinician the lock screen offers to sign in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Who {
    pub id: i64,
    pub name: String,
}

/// Why a sign-in was refused; `wrong_passphrase` covers an unknown clinician too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub why: String,
    pub wrong_passphrase: bool,
}

/// The lock screen's fields.
#[derive(Debug, Clone, Default)]
pub struct Lock {
    /// The sign-in list; the clinician signed in when it locked comes first when the team
    /// list did not hold them.
    pub team: Vec<Who>,
    /// Index into `team` of who is signing in.
    pub chosen: usize,
    /// Who was signed in when the screen locked.
    pub was_signed_in: Option<Who>,
    /// The passphrase typed so far (shown masked, wiped once sent or refused).
    pub passphrase: String,
    pub error: Option<String>,
    /// Wrong passphrases since the screen locked: each waits longer before the next try.
    pub wrong: u32,
    /// No try before this time (after a wrong passphrase).
    pub not_before: Option<DateTime<FixedOffset>>,
    /// A sign-in is under way.
    pub sending: bool,
}

impl Lock {
    /// The team list arrived: the clinician who was signed in is chosen.
    pub fn team_loaded(&mut self, team: Result<Vec<Who>, String>, signed_in: Option<Who>) {
        let mut list = match team {
            Ok(list) => list,
            Err(e) => {
                self.error = Some(format!("the team list could not be read: {e}"));
                Vec::new()
            }
        };
        if let Some(me) = &signed_in
            && !list.iter().any(|w| w.id == me.id)
        {
            list.insert(0, me.clone());
        }
        self.chosen = signed_in
            .as_ref()
            .and_then(|me| list.iter().position(|w| w.id == me.id))
            .unwrap_or(0);
        self.team = list;
        self.was_signed_in = signed_in;
    }

    pub fn chosen(&self) -> Option<&Who> {
        self.team.get(self.chosen)
    }

    /// A key on the lock screen; Enter asks to sign in the chosen clinician.
    pub fn on_key(
        &mut self,
        command: Option<Command>,
        key: &Key,
        now: DateTime<FixedOffset>,
    ) -> Option<Effect> {
        if let Some(c) = key.printable() {
            if self.passphrase.chars().count() >= LONGEST_PASSPHRASE {
                self.error = Some(format!(
                    "a passphrase is at most {LONGEST_PASSPHRASE} characters; Ctrl-U clears it"
                ));
            } else if !c.is_control() {
                self.passphrase.push(c);
            }
            return None;
        }
        match command? {
            Command::Up => self.chosen = self.chosen.saturating_sub(1),
            Command::Down => {
                self.chosen = (self.chosen + 1).min(self.team.len().saturating_sub(1));
            }
            Command::DeleteBack => {
                self.passphrase.pop();
            }
            Command::ClearLine => self.passphrase.zeroize(),
            Command::Unlock => return self.unlock(now),
            _ => {}
        }
        None
    }

    fn unlock(&mut self, now: DateTime<FixedOffset>) -> Option<Effect> {
        if self.sending || self.passphrase.is_empty() {
            return None;
        }
        if let Some(at) = self.not_before.filter(|at| now < *at) {
            let secs = (at - now).num_seconds().max(1);
            self.error = Some(format!(
                "wait {secs} s before the next try (each wrong passphrase waits longer)"
            ));
            return None;
        }
        let who = self.chosen()?.id.to_string();
        self.error = None;
        self.sending = true;
        Some(Effect::SignIn {
            who,
            passphrase: std::mem::take(&mut self.passphrase),
        })
    }

    /// A sign-in was refused: the passphrase is wiped and the next try waits longer. The
    /// message never says whether the clinician or the passphrase was wrong.
    pub fn refused(&mut self, why: String, wrong_passphrase: bool, now: DateTime<FixedOffset>) {
        self.sending = false;
        self.passphrase.zeroize();
        if !wrong_passphrase {
            self.error = Some(why);
            return;
        }
        self.wrong += 1;
        let wait = crate::hardening::wrong_passphrase_wait(self.wrong);
        self.not_before = chrono::Duration::from_std(wait)
            .ok()
            .map(|w| now + w)
            .filter(|_| !wait.is_zero());
        self.error = Some(if wait.is_zero() {
            format!("{why} (wrong try {})", self.wrong)
        } else {
            format!(
                "{why} (wrong try {}; the next try waits {} s)",
                self.wrong,
                wait.as_secs()
            )
        });
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        self.passphrase.zeroize();
    }
}
