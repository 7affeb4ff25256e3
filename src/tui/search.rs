//! The search screen: words typed at the top, the entries, notes and addenda of every patient
//! that hold them below (`app::search`), newest first. Enter on an entry opens its session
//! with the timeline showing what was found; on a note or an addendum, the note.

use super::keymap::{Command, Context, Key};
use super::state::Effect;
use crate::app::search::Results;
use crate::domain::EntryId;
use crate::domain::search::{Found, Hit, Words};

/// Rows `PgUp` and `PgDn` move the selection by.
pub const PAGE_STEP: usize = 5;

#[derive(Debug, Clone, PartialEq)]
pub struct SearchScreen {
    /// The words as typed.
    pub typed: String,
    /// The words are being typed (printable keys are text).
    pub editing: bool,
    /// The words the results answer, as they were typed then.
    pub searched: String,
    /// What the last search found; None before the first (or while it runs).
    pub results: Option<Results>,
    /// Index into the results.
    pub selected: usize,
    pub error: Option<String>,
    /// Why this search is not in the audit trail, when it is not.
    pub unaudited: Option<String>,
}

impl Default for SearchScreen {
    fn default() -> Self {
        SearchScreen::new()
    }
}

impl SearchScreen {
    pub fn new() -> SearchScreen {
        SearchScreen {
            typed: String::new(),
            editing: true,
            searched: String::new(),
            results: None,
            selected: 0,
            error: None,
            unaudited: None,
        }
    }

    pub fn context(&self) -> Context {
        if self.editing {
            Context::Panel
        } else {
            Context::Search
        }
    }

    /// The results' hits (none before a search).
    pub fn hits(&self) -> &[Hit] {
        self.results.as_ref().map_or(&[], |r| r.hits.as_slice())
    }

    pub fn selected_hit(&self) -> Option<&Hit> {
        self.hits().get(self.selected)
    }

    /// A search came back.
    pub fn found(&mut self, results: Result<Results, String>) {
        match results {
            Ok(r) => {
                self.results = Some(r);
                self.selected = 0;
                self.error = None;
            }
            Err(e) => self.error = Some(e),
        }
    }

    pub fn on_key(&mut self, command: Option<Command>, key: &Key) -> Option<Effect> {
        if self.editing {
            match (command, key.printable()) {
                (Some(Command::Confirm), _) => return self.search(),
                (Some(Command::Cancel), _) if self.results.is_some() => {
                    // Back to the results, with the words they answer.
                    self.typed = self.searched.clone();
                    self.editing = false;
                }
                (Some(Command::Cancel), _) => return Some(Effect::LoadHome),
                (Some(Command::DeleteBack), _) => {
                    self.typed.pop();
                }
                (Some(Command::ClearLine), _) => self.typed.clear(),
                (_, Some(c)) => self.typed.push(c),
                _ => {}
            }
            return None;
        }
        let last = self.hits().len().saturating_sub(1);
        match command? {
            Command::Up => self.selected = self.selected.saturating_sub(1),
            Command::Down => self.selected = (self.selected + 1).min(last),
            Command::PageUp => self.selected = self.selected.saturating_sub(PAGE_STEP),
            Command::PageDown => self.selected = (self.selected + PAGE_STEP).min(last),
            Command::Find => self.editing = true,
            Command::Open => return self.open(),
            Command::Home => return Some(Effect::LoadHome),
            _ => {}
        }
        None
    }

    fn search(&mut self) -> Option<Effect> {
        if matches!(Words::typed(&self.typed), Words::Empty) {
            self.error = Some("type the words to find (letters or digits)".into());
            return None;
        }
        self.editing = false;
        self.error = None;
        self.unaudited = None;
        self.searched = self.typed.clone();
        Some(Effect::Search {
            words: self.typed.clone(),
            patient: None,
        })
    }

    /// What is found opens where it was written: an entry's session, or a note.
    fn open(&mut self) -> Option<Effect> {
        let hit = self.selected_hit()?;
        Some(match hit.found {
            Found::Entry { .. } => Effect::OpenSession(hit.session),
            Found::Note { .. } | Found::Addendum { .. } => Effect::OpenNote {
                dosing: hit.session,
            },
        })
    }

    /// The words and the entry the live screen's timeline is to find, when Enter opened an
    /// entry's session.
    pub fn find_on_open(&self) -> Option<(String, EntryId)> {
        match self.selected_hit()?.found {
            Found::Entry { id, .. } => Some((self.searched.clone(), id)),
            _ => None,
        }
    }
}
