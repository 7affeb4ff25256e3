//! Opening the live screen's forms (as they were left, when one was set aside), handing
//! them their keys, and setting them aside with Esc: what was typed is kept for the next
//! time the same form opens.

use super::input::InputLine;
use super::keymap::{Command, Key};
use super::live::{
    AcknowledgeForm, CorrectionForm, DischargeForm, EndReasonForm, Live, Panel, PanelContext,
    PanelOutcome, QuestionnaireForm, Sent,
};
use super::state::Effect;
use crate::config::Config;
use crate::domain::grammar::format_payload;
use crate::domain::{ChartLine, EntryId, EntryStatus, Payload};
use chrono::{DateTime, FixedOffset};

impl Live {
    pub(super) fn open_questionnaire(&mut self) {
        let (instrument, answers) = match self.kept.questionnaire.take() {
            Some(kept) => {
                self.notice = Some(AS_LEFT.into());
                kept
            }
            None => (crate::domain::item_forms::FormScale::ALL[0], Vec::new()),
        };
        self.panel = Some(Panel::Questionnaire(QuestionnaireForm {
            instrument,
            answers,
            error: None,
        }));
    }

    pub(super) fn open_correction(&mut self, strike: bool) {
        let Some(line) = self.lines().get(self.selected) else {
            return;
        };
        let e = &line.entry;
        let refusal = match (line.status, &e.payload) {
            (EntryStatus::Amended { by }, _) => Some(format!(
                "entry {} was amended by entry {by}; correct that one",
                e.id
            )),
            (EntryStatus::Struck { by }, _) => {
                Some(format!("entry {} was struck by entry {by}", e.id))
            }
            (_, Payload::Strike) => {
                Some("a strike cannot be corrected; chart the entry again".into())
            }
            (_, Payload::SessionEnd(_)) if !strike => {
                Some("strike the end to reopen the session".into())
            }
            _ => None,
        };
        if let Some(r) = refusal {
            self.error = Some(r);
            return;
        }
        if !strike && format_payload(&e.payload).is_none() {
            self.error = Some(format!(
                "a {} entry is corrected by striking it and recording it again",
                e.payload.kind()
            ));
            return;
        }
        let target = e.id;
        let kept = self
            .kept
            .corrections
            .iter()
            .position(|f| f.target == target && f.strike == strike);
        let form = match kept {
            Some(i) => {
                self.notice = Some(AS_LEFT.into());
                self.kept.corrections.remove(i)
            }
            None => CorrectionForm {
                target,
                summary: e.payload.to_string(),
                strike,
                reason: InputLine::default(),
                line: InputLine::with_text(&format_payload(&e.payload).unwrap_or_default()),
                field: 0,
                error: None,
            },
        };
        self.panel = Some(Panel::Correction(form));
    }

    /// The discharge panel of a dosing session (as it was left, when it was set aside), or
    /// the plain end of a session of another kind.
    pub(super) fn open_discharge(&mut self, now: DateTime<FixedOffset>) {
        let before = self.data.chart.discharge_state();
        if !self.is_dosing() {
            let concerns = self.data.chart.end_concerns(&before, now);
            let reason = self.kept.end_reason.take().unwrap_or_default();
            self.panel = Some(Panel::EndReason(EndReasonForm {
                concerns: concerns.iter().map(ToString::to_string).collect(),
                reason,
                payloads: Vec::new(),
                from: None,
            }));
            return;
        }
        if let Some(mut form) = self.kept.discharge.take() {
            // As typed; what the chart holds now is what its entries are weighed against.
            form.before = before;
            form.error = None;
            self.notice = Some(AS_LEFT.into());
            self.panel = Some(Panel::Discharge(form));
            return;
        }
        let scores = match before.aldrete {
            Some((_, a)) => [
                Some(a.activity),
                Some(a.respiration),
                Some(a.circulation),
                Some(a.consciousness),
                Some(a.spo2),
            ],
            None => [None; 5],
        };
        self.panel = Some(Panel::Discharge(DischargeForm {
            scores,
            // Nothing charted yet: the patient's usual ride is offered, to confirm or change.
            ride: InputLine::with_text(
                before
                    .ride
                    .as_deref()
                    .or(self.data.usual_ride.as_deref())
                    .unwrap_or(""),
            ),
            ready: before.ready_at.is_some(),
            field: 0,
            error: None,
            before,
            end_reason: InputLine::default(),
            touched: false,
        }));
    }

    /// The entry selected on the timeline.
    pub(super) fn selected_entry(&self) -> Option<EntryId> {
        self.selected_line().map(|l| l.entry.id)
    }

    /// Acknowledges an alert: of `entry` (the timeline's selection), or else the one the
    /// header keeps in view (the newest pre-dose caution, else the newest alert still open).
    pub(super) fn open_acknowledge(&mut self, entry: Option<EntryId>) {
        let chart = &self.data.chart;
        let alert = match entry {
            Some(id) => chart.open_alert_of(id),
            None => chart.alert_in_view().map(|a| a.alert),
        };
        let Some(alert) = alert else {
            self.notice = Some(match entry {
                Some(id) => format!("entry {id} has no alert waiting for acknowledgement"),
                None => "no alert waits for acknowledgement".into(),
            });
            return;
        };
        let entry = alert.line.entry.id;
        let (flag, caution) = (
            alert.flag.code,
            format!(
                "#{} at {}: {}",
                entry,
                alert.line.entry.event_time.format("%H:%M"),
                alert.flag.text
            ),
        );
        let kept = self
            .kept
            .acknowledgements
            .iter()
            .position(|(e, _)| *e == entry);
        let note = match kept {
            Some(i) => {
                self.notice = Some(AS_LEFT.into());
                self.kept.acknowledgements.remove(i).1
            }
            None => InputLine::default(),
        };
        self.panel = Some(Panel::Acknowledge(AcknowledgeForm {
            entry,
            flag,
            caution,
            note,
            error: None,
        }));
    }

    /// A key while a form is open: Esc sets it aside; any other key is the form's own.
    pub(super) fn on_panel_key(
        &mut self,
        command: Option<Command>,
        key: &Key,
        now: DateTime<FixedOffset>,
        config: &Config,
    ) -> Option<Effect> {
        if command == Some(Command::Cancel) {
            self.cancel_panel();
            return None;
        }
        let cx = PanelContext {
            session: self.data.session().id,
            chart: &self.data.chart,
            now,
            config,
        };
        match self.panel.as_mut()?.handle_key(command, key, &cx) {
            PanelOutcome::Stay => None,
            PanelOutcome::Close => {
                self.panel = None;
                None
            }
            PanelOutcome::Replace(panel) => {
                self.panel = Some(panel);
                None
            }
            PanelOutcome::Refuse(why) => {
                self.error = Some(why);
                None
            }
            PanelOutcome::Send(effect) => {
                self.sent = Some(Sent::Panel);
                Some(effect)
            }
        }
    }

    /// Esc on a form: it closes, and what was typed in it is kept for the next time the same
    /// form opens. The end dialog goes back to the discharge panel it was asked from, with
    /// the scores as typed and the reason kept for the next time the end is asked.
    pub(super) fn cancel_panel(&mut self) {
        let Some(panel) = self.panel.take() else {
            return;
        };
        // A refusal of the form's own write goes with the form: under the header it would
        // read as standing, and hide the alert that does.
        let own_error = match &panel {
            Panel::Correction(f) => f.error.as_ref(),
            Panel::Discharge(f) => f.error.as_ref(),
            Panel::Acknowledge(f) => f.error.as_ref(),
            _ => None,
        };
        if own_error.is_some() && own_error == self.error.as_ref() {
            self.error = None;
        }
        let kept = match panel {
            Panel::Correction(f) => {
                let original = format_payload_of(self.lines(), f.target);
                let typed = !f.reason.is_blank() || Some(f.line.text()) != original.as_deref();
                if typed {
                    self.kept.corrections.push(f);
                }
                typed
            }
            Panel::Discharge(f) => {
                let typed = f.touched;
                if typed {
                    self.kept.discharge = Some(f);
                }
                typed
            }
            Panel::EndReason(EndReasonForm {
                reason,
                from: Some(mut form),
                ..
            }) => {
                form.touched |= !reason.is_blank();
                form.end_reason = reason;
                self.panel = Some(Panel::Discharge(*form));
                return;
            }
            Panel::EndReason(EndReasonForm {
                reason, from: None, ..
            }) => {
                let typed = !reason.is_blank();
                if typed {
                    self.kept.end_reason = Some(reason);
                }
                typed
            }
            Panel::Acknowledge(AcknowledgeForm { entry, note, .. }) => {
                let typed = !note.is_blank();
                if typed {
                    self.kept.acknowledgements.push((entry, note));
                }
                typed
            }
            Panel::Questionnaire(QuestionnaireForm {
                instrument,
                answers,
                ..
            }) => {
                let typed = !answers.is_empty();
                if typed {
                    self.kept.questionnaire = Some((instrument, answers));
                }
                typed
            }
        };
        if kept {
            self.notice = Some("kept as typed: the same form opens with it again".into());
        }
    }
}

/// Said when a form set aside opens again.
const AS_LEFT: &str = "as it was left: what was typed is kept until it is charted";

/// The quick-entry line of an entry on the timeline, as a correction form starts with it.
fn format_payload_of(lines: &[ChartLine], entry: EntryId) -> Option<String> {
    lines
        .iter()
        .find(|l| l.entry.id == entry)
        .and_then(|l| format_payload(&l.entry.payload))
}
