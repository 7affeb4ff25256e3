//! Acknowledging an alert: what the clinician weighed, recorded against the alert's entry.

use super::{PanelOutcome, edit};
use crate::domain::{EntryId, FlagCode};
use crate::tui::input::InputLine;
use crate::tui::keymap::{Command, Key};
use crate::tui::state::Effect;

#[derive(Debug, Clone, PartialEq)]
pub struct AcknowledgeForm {
    pub entry: EntryId,
    pub flag: FlagCode,
    pub caution: String,
    pub note: InputLine,
    /// Why the last try was refused (a time before the alert), kept in view.
    pub error: Option<String>,
}

impl AcknowledgeForm {
    pub fn handle_key(&mut self, command: Option<Command>, key: &Key) -> PanelOutcome {
        if edit(&mut self.note, command, key) {
            return PanelOutcome::Stay;
        }
        if command == Some(Command::Confirm) {
            return PanelOutcome::Send(Effect::Acknowledge {
                entry: self.entry,
                flag: self.flag,
                note: self.note.text().trim().to_string(),
            });
        }
        PanelOutcome::Stay
    }
}
