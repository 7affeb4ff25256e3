//! Ending a session: against a discharge reminder (the reminders, and the reason that is
//! recorded with the end), or a session without a discharge panel, asked to confirm.

use super::{DischargeForm, PanelContext, PanelOutcome, edit};
use super::{PanelView, field};
use crate::domain::Payload;
use crate::tui::input::InputLine;
use crate::tui::keymap::{Command, Key};
use crate::tui::live::Live;
use crate::tui::state::App;
use crate::tui::state::Effect;
use ratatui::text::Line;

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

    /// The form as the live screen's dialog shows it: a plain end with an optional note, or
    /// what stands against ending now and the reason asked for.
    pub fn view(&self, app: &App, live: &Live) -> PanelView {
        if self.concerns.is_empty() {
            let session = live.data.session();
            let mut lines = vec![
                Line::from(format!(
                    "End this {} session (#{}) now?",
                    session.kind, session.id
                )),
                Line::from(""),
            ];
            let focus = lines.len();
            lines.push(field(app, "Note", &self.reason, true));
            lines.push(Line::from(""));
            lines.push(Line::styled(
                "A note is optional, recorded with the end · Enter ends it · Esc back",
                app.theme.dim(),
            ));
            return PanelView {
                title: " End session ".to_string(),
                lines,
                focus: Some(focus),
            };
        }
        let mut lines = vec![Line::styled(
            "Before ending this session:",
            app.theme.caution(),
        )];
        for c in &self.concerns {
            lines.push(Line::styled(
                format!("{} {c}", crate::tui::theme::OVERDUE),
                app.theme.caution(),
            ));
        }
        lines.push(Line::from(""));
        let focus = lines.len();
        lines.push(field(app, "Reason", &self.reason, true));
        lines.push(Line::from(""));
        lines.push(Line::styled(
            "kapchart does not decide: give the reason to end now, or Esc to go back.",
            app.theme.dim(),
        ));
        PanelView {
            title: " End session ".to_string(),
            lines,
            focus: Some(focus),
        }
    }
}
