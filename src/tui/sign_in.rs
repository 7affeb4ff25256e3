//! Signing a clinician in: who (the team's list: Up/Down, or type the start of a name to
//! jump) and their passphrase (masked). The same widget opens the chart, unlocks the lock
//! screen, hands the screen over to another clinician, and signs a witness in for one dose. It asks; the runtime
//! checks (`Effect::Authenticate`). A wrong pair never says which of the two was wrong, and
//! each wrong pair waits longer before its refusal shows and the next try may go
//! (`domain::passphrase::wrong_passphrase_wait`), without stopping the clock.

use super::keymap::{Command, Key};
use crate::domain::team::TeamMember;
use crate::domain::{Clinician, EntryId};
use chrono::{DateTime, FixedOffset};
use zeroize::{Zeroize, Zeroizing};

/// Longer than any passphrase anyone types: a paste of a whole document stops here.
pub const LONGEST_PASSPHRASE: usize = 1024;

/// What a sign-in is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Opening the chart at start.
    Open,
    /// Unlocking the lock screen: whoever signs in is signed in, the screen beneath stays.
    Unlock,
    /// Handing the screen over: the signed-in clinician changes, the screen stays.
    HandOver,
    /// A second clinician witnesses this dose; who is signed in does not change.
    Witness(EntryId),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Who,
    Passphrase,
}

/// A sign-in the runtime is asked to check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// The clinician's id, or empty for a chart whose team is not listed (one clinician).
    pub who: String,
    pub passphrase: String,
}

/// Why a sign-in was refused; `wrong_pair` when the clinician and passphrase do not go
/// together (an unknown clinician counts as that too).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub why: String,
    pub wrong_pair: bool,
}

/// Wrong pairs typed at this terminal so far, across every sign-in: closing the widget
/// does not start the count again.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Guard {
    pub wrong: u32,
    /// No try is checked, and no refusal shown, before this moment.
    pub not_before: Option<DateTime<FixedOffset>>,
}

impl Guard {
    /// Counts a wrong pair at `now`: how long it waits, and the words for it.
    pub fn wrong_pair(&mut self, why: &str, now: DateTime<FixedOffset>) -> String {
        self.wrong += 1;
        let wait = crate::domain::passphrase::wrong_passphrase_wait(self.wrong);
        self.not_before = chrono::Duration::from_std(wait).ok().map(|w| now + w);
        format!(
            "{why} (wrong try {}; each waits longer: this one {} s)",
            self.wrong,
            wait.as_secs()
        )
    }

    pub fn ready(&self, now: DateTime<FixedOffset>) -> bool {
        self.not_before.is_none_or(|at| now >= at)
    }
}

/// What a key did to the widget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Nothing,
    Cancel,
    Try(Attempt),
}

#[derive(Debug, Clone)]
pub struct SignIn {
    pub purpose: Purpose,
    /// The team's list (empty until read, and for a chart without a team list).
    pub team: Vec<TeamMember>,
    /// Whether `team` was read (an empty list then means: the passphrase only).
    pub team_read: bool,
    /// Index into `team` of who is signing in.
    pub chosen: usize,
    pub field: Field,
    /// Letters typed on the list to jump to a name.
    pub jump: String,
    pub passphrase: Zeroizing<String>,
    pub error: Option<String>,
    /// A try is with the runtime.
    pub sending: bool,
    /// A try that waits for the guard's time before it goes.
    pub queued: Option<Attempt>,
    /// A refusal held back until the guard's time.
    pub held: Option<String>,
    /// Who not to offer first (the clinician signed in, for a hand-over or a witness).
    pub not_first: Option<i64>,
    /// Who to offer first, with only their passphrase left to type (the clinician signed
    /// in when the screen locked).
    pub first: Option<i64>,
    /// Who was named at start (KAPCHART_CLINICIAN): only their passphrase is asked.
    pub given_who: Option<String>,
}

impl SignIn {
    pub fn new(purpose: Purpose, not_first: Option<i64>) -> SignIn {
        SignIn {
            purpose,
            team: Vec::new(),
            team_read: false,
            chosen: 0,
            field: Field::Who,
            jump: String::new(),
            passphrase: Zeroizing::new(String::new()),
            error: None,
            sending: false,
            queued: None,
            held: None,
            not_first,
            first: None,
            given_who: None,
        }
    }

    /// The lock screen's sign-in: the clinician signed in when it locked is offered first.
    pub fn to_unlock(signed_in: Option<i64>) -> SignIn {
        let mut s = SignIn::new(Purpose::Unlock, None);
        s.first = signed_in;
        s
    }

    /// A sign-in for the clinician `who` names (an id or a name), as KAPCHART_CLINICIAN does.
    pub fn for_given(purpose: Purpose, who: &str) -> SignIn {
        let mut s = SignIn::new(purpose, None);
        s.given_who = Some(who.trim().to_string());
        s.field = Field::Passphrase;
        s
    }

    /// The team's list arrived. With one clinician (or none listed) only the passphrase is
    /// asked. Someone other than `not_first` is chosen first.
    pub fn team_read(&mut self, team: Result<Vec<TeamMember>, String>) {
        self.team_read = true;
        match team {
            Ok(t) => self.team = t,
            Err(e) => self.error = Some(format!("the team list could not be read: {e}")),
        }
        if let Some(who) = &self.given_who {
            self.team = crate::domain::team::matching(&self.team, who)
                .into_iter()
                .cloned()
                .collect();
        }
        let first = self
            .first
            .and_then(|id| self.team.iter().position(|m| m.id == id));
        self.chosen = first
            .or_else(|| self.team.iter().position(|m| Some(m.id) != self.not_first))
            .unwrap_or(0);
        if !self.asks_who() || first.is_some() {
            self.field = Field::Passphrase;
        }
    }

    pub fn chosen(&self) -> Option<&TeamMember> {
        self.team.get(self.chosen)
    }

    /// Whether the list of who is shown and asked.
    pub fn asks_who(&self) -> bool {
        self.team.len() > 1 && self.given_who.is_none()
    }

    pub fn on_key(
        &mut self,
        command: Option<Command>,
        key: &Key,
        guard: &Guard,
        now: DateTime<FixedOffset>,
    ) -> Outcome {
        if command == Some(Command::Cancel) {
            return Outcome::Cancel;
        }
        match self.field {
            Field::Who => self.on_who_key(command, key),
            Field::Passphrase => return self.on_passphrase_key(command, key, guard, now),
        }
        Outcome::Nothing
    }

    fn on_who_key(&mut self, command: Option<Command>, key: &Key) {
        let last = self.team.len().saturating_sub(1);
        if let Some(c) = key.printable() {
            self.jump.push(c);
            if !self.jump_to() {
                // A new start: the letter alone.
                self.jump = c.to_string();
                self.jump_to();
            }
            return;
        }
        match command {
            Some(Command::PreviousField) => {
                self.chosen = self.chosen.saturating_sub(1);
                self.jump.clear();
            }
            Some(Command::NextField) => {
                self.chosen = (self.chosen + 1).min(last);
                self.jump.clear();
            }
            Some(Command::DeleteBack) => {
                self.jump.pop();
            }
            Some(Command::Confirm) if self.chosen().is_some() => {
                self.field = Field::Passphrase;
                self.jump.clear();
            }
            _ => {}
        }
    }

    /// Chooses the first clinician whose name (or a word of it) starts with what was typed.
    fn jump_to(&mut self) -> bool {
        let typed = self.jump.to_lowercase();
        let starts = |m: &TeamMember| {
            let name = m.name.to_lowercase();
            name.starts_with(&typed) || name.split_whitespace().any(|w| w.starts_with(&typed))
        };
        match self.team.iter().position(starts) {
            Some(i) => {
                self.chosen = i;
                true
            }
            None => false,
        }
    }

    fn on_passphrase_key(
        &mut self,
        command: Option<Command>,
        key: &Key,
        guard: &Guard,
        now: DateTime<FixedOffset>,
    ) -> Outcome {
        if let Some(c) = key.printable() {
            if self.passphrase.chars().count() >= LONGEST_PASSPHRASE {
                self.error = Some(format!(
                    "a passphrase is at most {LONGEST_PASSPHRASE} characters; Ctrl-U clears it"
                ));
            } else if !c.is_control() {
                self.passphrase.push(c);
            }
            return Outcome::Nothing;
        }
        match command {
            Some(Command::DeleteBack) => {
                self.passphrase.pop();
            }
            Some(Command::ClearLine) => self.passphrase.zeroize(),
            Some(Command::PreviousField) if self.asks_who() => self.field = Field::Who,
            Some(Command::Confirm)
                if !self.sending && self.queued.is_none() && !self.passphrase.is_empty() =>
            {
                let who = if let Some(given) = &self.given_who {
                    given.clone()
                } else if self.asks_who() {
                    match self.chosen() {
                        Some(m) => m.id.to_string(),
                        None => return Outcome::Nothing,
                    }
                } else {
                    // A team of one: nobody named, so only the passphrase can be wrong.
                    String::new()
                };
                let attempt = Attempt {
                    who,
                    passphrase: std::mem::take(&mut *self.passphrase),
                };
                if guard.ready(now) && self.held.is_none() {
                    self.error = None;
                    self.sending = true;
                    return Outcome::Try(attempt);
                }
                // It goes once the wait after a wrong pair is over (see `tick`).
                self.queued = Some(attempt);
            }
            _ => {}
        }
        Outcome::Nothing
    }

    /// The clock moved on: a held refusal shows, a queued try goes, once the guard allows.
    pub fn tick(&mut self, guard: &Guard, now: DateTime<FixedOffset>) -> Option<Attempt> {
        if !guard.ready(now) {
            return None;
        }
        if let Some(why) = self.held.take() {
            self.error = Some(why);
        }
        let attempt = self.queued.take()?;
        self.sending = true;
        Some(attempt)
    }

    /// Whether a try is with the runtime or waiting for its turn ("checking…").
    pub fn waiting(&self) -> bool {
        self.sending || self.held.is_some() || self.queued.is_some()
    }

    /// The runtime refused the try: the passphrase is wiped; a wrong pair's refusal shows
    /// once its wait is over.
    pub fn refused(&mut self, why: String, held: bool) {
        self.passphrase.zeroize();
        self.sending = false;
        if held {
            self.held = Some(why);
        } else {
            self.error = Some(why);
        }
    }
}

/// Who signed in, for the status line.
pub fn signed_in_label(c: &Clinician) -> String {
    format!("signed in: {}", c.name)
}
