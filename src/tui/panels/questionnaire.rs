//! A questionnaire (or the CADSS-6) answered item by item, charted as its quick-entry line.

use super::{PanelContext, PanelOutcome};
use crate::domain::item_forms::FormScale;
use crate::tui::keymap::{Command, Key};
use crate::tui::state::Effect;

#[derive(Debug, Clone, PartialEq)]
pub struct QuestionnaireForm {
    pub instrument: FormScale,
    pub answers: Vec<u8>,
    pub error: Option<String>,
}

impl QuestionnaireForm {
    pub fn handle_key(
        &mut self,
        command: Option<Command>,
        key: &Key,
        cx: &PanelContext<'_>,
    ) -> PanelOutcome {
        let all = FormScale::ALL;
        let max_item = self.instrument.max_item(&cx.config.measures);
        let at = all.iter().position(|i| *i == self.instrument).unwrap_or(0);
        let count = self.instrument.item_count();
        if let Some(d) = key.printable().and_then(|c| c.to_digit(10)) {
            self.error = None;
            if self.answers.len() >= count {
                self.error = Some(format!("all {count} items answered: Enter charts it"));
            } else if d > u32::from(max_item) {
                self.error = Some(format!(
                    "item {} is {d}; answers run from 0 to {max_item}",
                    self.answers.len() + 1,
                ));
            } else {
                self.answers.push(d as u8);
            }
            return PanelOutcome::Stay;
        }
        let Some(command) = command else {
            return PanelOutcome::Stay;
        };
        match command {
            Command::DeleteBack => {
                self.answers.pop();
            }
            Command::Increase | Command::NextField if self.answers.is_empty() => {
                self.instrument = all[(at + 1) % all.len()];
            }
            Command::Decrease | Command::PreviousField if self.answers.is_empty() => {
                self.instrument = all[(at + all.len() - 1) % all.len()];
            }
            Command::Confirm if self.answers.len() == count => {
                return PanelOutcome::Send(Effect::Commit {
                    session: cx.session,
                    line: answers_line(self.instrument, &self.answers),
                });
            }
            Command::Confirm => {
                self.error = Some(format!("{} of {count} items answered", self.answers.len()));
            }
            _ => {}
        }
        PanelOutcome::Stay
    }

    /// The answers as their quick-entry line, when any were given.
    pub fn typed_text(&self) -> Option<String> {
        (!self.answers.is_empty()).then(|| answers_line(self.instrument, &self.answers))
    }
}

/// A questionnaire's answers as its quick-entry line.
pub fn answers_line(instrument: FormScale, answers: &[u8]) -> String {
    let items: Vec<String> = answers.iter().map(u8::to_string).collect();
    format!("{} {}", instrument.keyword(), items.join(" "))
}
