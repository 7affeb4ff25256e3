//! Ending a session: against a discharge reminder (the reminders, and the reason that is
//! recorded with the end), or a session without a discharge panel, asked to confirm.

use super::{DischargeForm, PanelContext, PanelOutcome, edit};
use crate::domain::Payload;
use crate::tui::input::InputLine;
use crate::tui::keymap::{Command, Key};
use crate::tui::state::Effect;

#[derive(Debug, Clone, PartialEq)]
pub struct EndReasonForm {
    pub concerns: Vec<String>,
    pub reason: InputLine,
    /// Discharge entries still to write with the end.
    pub payloads: Vec<Payload>,
    /// The discharge form the end was asked from: Esc goes back to it as it was.
    pub from: Option<Box<DischargeForm>>,
}

impl EndReasonForm {
    pub fn handle_key(
        &mut self,
        command: Option<Command>,
        key: &Key,
        cx: &PanelContext<'_>,
    ) -> PanelOutcome {
        if edit(&mut self.reason, command, key) {
            return PanelOutcome::Stay;
        }
        if command != Some(Command::Confirm) {
            return PanelOutcome::Stay;
        }
        if self.reason.is_blank() && !self.concerns.is_empty() {
            return PanelOutcome::Refuse(
                "give the reason to end it now (it is recorded with the end), or Esc to go back"
                    .into(),
            );
        }
        let reason = Some(self.reason.text().trim().to_string()).filter(|r| !r.is_empty());
        PanelOutcome::Send(Effect::EndSession {
            session: cx.session,
            payloads: self.payloads.clone(),
            reason,
        })
    }

    /// The discharge form it was asked from, as typed, and the reason.
    pub fn typed_text(&self) -> String {
        let form = self.from.as_ref().and_then(|f| f.typed_text());
        [form, Some(self.reason.text().to_string())]
            .into_iter()
            .flatten()
            .filter(|t| !t.trim().is_empty())
            .collect::<Vec<_>>()
            .join("\n")
    }
}
