//! The forms that open over the live screen, one file each: a form owns what is typed in it
//! and its keys ([`Panel::handle_key`]), and tells the live screen what follows as a
//! [`PanelOutcome`]: stay open, close, give way to another form, or ask for a write whose
//! result comes back to the screen.
//!
//! To add a form: a file here with its state and `handle_key`, a variant of [`Panel`] and
//! its arm in each `match` below (its keys and its `view`), and the key that opens it in
//! `live.rs`. `view/panels.rs` draws whatever form is open as the live screen's dialog.

mod acknowledge;
mod correction;
mod discharge;
mod end_reason;
mod questionnaire;

pub use acknowledge::AcknowledgeForm;
pub use correction::CorrectionForm;
pub use discharge::{DISCHARGE_FIELDS, DischargeForm};
pub use end_reason::EndReasonForm;
pub use questionnaire::{QuestionnaireForm, answers_line};

use super::input::InputLine;
use super::keymap::{Command, Key};
use super::live::Live;
use super::state::{App, Effect};
use crate::config::Config;
use crate::domain::chart::SessionChart;
use chrono::{DateTime, FixedOffset};
use ratatui::text::{Line, Span};

#[derive(Debug, Clone, PartialEq)]
pub enum Panel {
    Correction(CorrectionForm),
    Discharge(DischargeForm),
    /// Ending: against a discharge reminder (the reminders and the reason asked for), or a
    /// session without a discharge panel (intake, preparation, integration, follow-up),
    /// asked to confirm.
    EndReason(EndReasonForm),
    Acknowledge(AcknowledgeForm),
    /// A questionnaire (or the CADSS-6) answered item by item; it is charted as its
    /// quick-entry line.
    Questionnaire(QuestionnaireForm),
}

/// What a key in a form leads to.
#[derive(Debug, Clone, PartialEq)]
pub enum PanelOutcome {
    /// The form stays open (the key was used, or refused with the form's own error).
    Stay,
    /// The form closes with nothing to write.
    Close,
    /// The form gives way to another (the discharge panel to the end dialog).
    Replace(Panel),
    /// The form asks for a write; it stays open until the result comes back.
    Send(Effect),
    /// Refused, said on the screen's bar; the form stays open.
    Refuse(String),
}

/// What a form may read of the session it is open on.
pub struct PanelContext<'a> {
    pub session: i64,
    pub chart: &'a SessionChart,
    pub now: DateTime<FixedOffset>,
    pub config: &'a Config,
}

impl Panel {
    /// A key while this form is open (Esc is the live screen's: it sets the form aside).
    pub fn handle_key(
        &mut self,
        command: Option<Command>,
        key: &Key,
        cx: &PanelContext<'_>,
    ) -> PanelOutcome {
        match self {
            Panel::Correction(f) => f.handle_key(command, key),
            Panel::Discharge(f) => f.handle_key(command, key, cx),
            Panel::EndReason(f) => f.handle_key(command, key, cx),
            Panel::Acknowledge(f) => f.handle_key(command, key),
            Panel::Questionnaire(f) => f.handle_key(command, key, cx),
        }
    }

    /// What was typed in the form and not charted.
    pub fn typed_text(&self) -> Option<String> {
        match self {
            Panel::Correction(f) => Some(f.typed_text()),
            Panel::Discharge(f) => f.typed_text(),
            Panel::EndReason(f) => Some(f.typed_text()),
            Panel::Acknowledge(f) => Some(f.note.text().to_string()),
            Panel::Questionnaire(f) => f.typed_text(),
        }
    }

    /// Where the form shows the refusal of its own write, for the forms that show one.
    pub fn error_mut(&mut self) -> Option<&mut Option<String>> {
        match self {
            Panel::Correction(f) => Some(&mut f.error),
            Panel::Discharge(f) => Some(&mut f.error),
            Panel::Acknowledge(f) => Some(&mut f.error),
            Panel::EndReason(_) | Panel::Questionnaire(_) => None,
        }
    }
}

/// The text-editing keys of a one-line field (a live-screen form's or a home screen form's);
/// true when the key was one.
pub(crate) fn edit(field: &mut InputLine, command: Option<Command>, key: &Key) -> bool {
    if let Some(c) = key.printable() {
        field.insert(c);
        return true;
    }
    match command {
        Some(Command::DeleteBack) => field.delete_back(),
        Some(Command::ClearLine) => field.clear(),
        Some(Command::Decrease) => field.left(),
        Some(Command::Increase) => field.right(),
        _ => return false,
    }
    true
}

/// What a form shows in the live screen's dialog: its title, its lines, and the line that
/// must stay in view (the field being typed in).
pub struct PanelView {
    pub title: String,
    pub lines: Vec<Line<'static>>,
    pub focus: Option<usize>,
}

impl Panel {
    /// The open form as the dialog shows it.
    pub fn view(&self, app: &App, live: &Live) -> PanelView {
        match self {
            Panel::Correction(f) => f.view(app),
            Panel::Acknowledge(f) => f.view(app),
            Panel::Discharge(f) => f.view(app, live),
            Panel::Questionnaire(f) => f.view(app),
            Panel::EndReason(f) => f.view(app, live),
        }
    }
}

/// A labelled one-line field, marked and highlighted when it has the cursor.
pub(crate) fn field<'a>(app: &App, label: &str, input: &InputLine, focused: bool) -> Line<'a> {
    let marker = if focused { "▏" } else { "" };
    let style = if focused {
        app.theme.selected()
    } else {
        ratatui::style::Style::new()
    };
    Line::from(vec![
        Span::raw(format!("{label:>10}: ")),
        Span::styled(format!("{}{marker}", input.text()), style),
    ])
}
