//! Acknowledging an alert: what the clinician weighed, recorded against the alert's entry.

use super::{PanelOutcome, edit};
use super::{PanelView, field};
use crate::domain::{EntryId, FlagCode};
use crate::tui::input::InputLine;
use crate::tui::keymap::{Command, Key};
use crate::tui::state::App;
use crate::tui::state::Effect;
use ratatui::text::Line;

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

    /// The form as the live screen's dialog shows it.
    pub fn view(&self, app: &App) -> PanelView {
        PanelView {
            title: format!(" Acknowledge {} ", self.flag.noun()),
            lines: vec![
                Line::styled(self.caution.clone(), app.theme.caution()),
                Line::from(""),
                field(app, "Decision", &self.note, true),
                self.error
                    .as_ref()
                    .map(|e| Line::styled(format!("✗ {e}"), app.theme.alert()))
                    .unwrap_or_default(),
                Line::styled(
                    format!(
                        "Record what you weighed (empty: \"{}\"; start with @10:45 or @-5m for an earlier time). Enter records · Esc cancel",
                        self.flag.default_acknowledgement()
                    ),
                    app.theme.dim(),
                ),
            ],
            focus: Some(2),
        }
    }
}
