//! Amending or striking an entry: the reason, and for an amendment the corrected line.

use super::{PanelOutcome, edit};
use super::{PanelView, field};
use crate::domain::EntryId;
use crate::tui::input::InputLine;
use crate::tui::keymap::{Command, Key};
use crate::tui::state::App;
use crate::tui::state::Effect;
use ratatui::text::Line;

#[derive(Debug, Clone, PartialEq)]
pub struct CorrectionForm {
    pub target: EntryId,
    /// What the entry says now, for the form's title.
    pub summary: String,
    pub strike: bool,
    pub reason: InputLine,
    pub line: InputLine,
    /// 0: reason, 1: the corrected line (amend only).
    pub field: usize,
    pub error: Option<String>,
}

impl CorrectionForm {
    pub fn handle_key(&mut self, command: Option<Command>, key: &Key) -> PanelOutcome {
        let field = if self.field == 0 {
            &mut self.reason
        } else {
            &mut self.line
        };
        if edit(field, command, key) {
            return PanelOutcome::Stay;
        }
        let Some(command) = command else {
            return PanelOutcome::Stay;
        };
        match command {
            Command::NextField | Command::PreviousField if !self.strike => {
                self.field = 1 - self.field
            }
            Command::Confirm if self.field == 0 && !self.strike => self.field = 1,
            Command::Confirm => {
                if self.reason.is_blank() {
                    self.error = Some("a correction needs a reason".into());
                    self.field = 0;
                    return PanelOutcome::Stay;
                }
                let reason = self.reason.text().trim().to_string();
                return PanelOutcome::Send(if self.strike {
                    Effect::Strike {
                        target: self.target,
                        reason,
                    }
                } else {
                    Effect::Amend {
                        target: self.target,
                        reason,
                        line: self.line.text().trim().to_string(),
                    }
                });
            }
            _ => {}
        }
        PanelOutcome::Stay
    }

    /// The reason and the corrected line as typed.
    pub fn typed_text(&self) -> String {
        format!("{} {}", self.reason.text(), self.line.text())
    }

    /// The form as the live screen's dialog shows it.
    pub fn view(&self, app: &App) -> PanelView {
        let verb = if self.strike { "Strike" } else { "Amend" };
        let mut lines = vec![
            Line::from(format!("Entry #{}: {}", self.target, self.summary)),
            Line::from(""),
            field(app, "Reason", &self.reason, self.field == 0),
        ];
        if !self.strike {
            lines.push(field(app, "Corrected", &self.line, self.field == 1));
        }
        let focus = 2 + self.field;
        lines.push(Line::from(""));
        if let Some(e) = &self.error {
            lines.push(Line::styled(format!("✗ {e}"), app.theme.alert()));
        }
        lines.push(Line::styled(
            "The original stays in the record · Tab field · Enter confirm · Esc cancel",
            app.theme.dim(),
        ));
        PanelView {
            title: format!(" {verb} entry #{} ", self.target),
            lines,
            focus: Some(focus),
        }
    }
}
