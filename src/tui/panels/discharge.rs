//! The discharge panel of a dosing session: the five Aldrete items, the ride home, the
//! patient ready; Enter charts what changed, the end key ends the session from it.

use super::{EndReasonForm, Panel, PanelContext, PanelOutcome, edit};
use crate::app::charting::state_with;
use crate::domain::Payload;
use crate::domain::discharge::DischargeState;
use crate::domain::entry::{AldreteScore, RideHome};
use crate::tui::input::InputLine;
use crate::tui::keymap::{Command, Key};
use crate::tui::state::Effect;

pub const DISCHARGE_FIELDS: usize = 7;

#[derive(Debug, Clone, PartialEq)]
pub struct DischargeForm {
    /// Aldrete items in the order of `discharge::ALDRETE_ITEMS`; None until scored.
    pub scores: [Option<u8>; 5],
    pub ride: InputLine,
    pub ready: bool,
    /// 0-4 Aldrete items, 5 ride home, 6 patient ready.
    pub field: usize,
    pub error: Option<String>,
    /// What the chart held when the form opened, so only changes become entries.
    pub before: DischargeState,
    /// The reason typed in the end dialog asked from this form: there again the next
    /// time the end is asked.
    pub end_reason: InputLine,
    /// Something was typed or changed in it since it opened.
    pub touched: bool,
}

impl DischargeForm {
    pub fn handle_key(
        &mut self,
        command: Option<Command>,
        key: &Key,
        cx: &PanelContext<'_>,
    ) -> PanelOutcome {
        if self.field == 5 && edit(&mut self.ride, command, key) {
            self.touched = true;
            return PanelOutcome::Stay;
        }
        if self.field == 6 && key.printable() == Some(' ') {
            self.ready = !self.ready;
            self.touched = true;
            return PanelOutcome::Stay;
        }
        if self.field < 5
            && let Some(d) = key.printable().and_then(|c| c.to_digit(10))
        {
            if d <= 2 {
                self.scores[self.field] = Some(d as u8);
                self.field += 1;
                self.touched = true;
            } else {
                self.error = Some("each Aldrete item scores 0, 1 or 2".into());
            }
            return PanelOutcome::Stay;
        }
        if matches!(
            command,
            Some(Command::Increase | Command::Decrease | Command::ClearLine)
        ) {
            self.touched = true;
        }
        let Some(command) = command else {
            return PanelOutcome::Stay;
        };
        match command {
            // An item's score cleared: "score all five, or none" can be met.
            Command::ClearLine | Command::DeleteBack if self.field < 5 => {
                self.scores[self.field] = None;
            }
            Command::NextField => self.field = (self.field + 1) % DISCHARGE_FIELDS,
            Command::PreviousField => {
                self.field = (self.field + DISCHARGE_FIELDS - 1) % DISCHARGE_FIELDS
            }
            Command::Increase | Command::Decrease if self.field < 5 => {
                let up = command == Command::Increase;
                let s = self.scores[self.field].unwrap_or(if up { 0 } else { 2 });
                self.scores[self.field] = Some(if up {
                    (s + 1).min(2)
                } else {
                    s.saturating_sub(1)
                });
            }
            Command::Increase | Command::Decrease if self.field == 6 => self.ready = !self.ready,
            Command::Confirm => {
                let payloads = match self.payloads() {
                    Ok(p) => p,
                    Err(e) => {
                        self.error = Some(e);
                        return PanelOutcome::Stay;
                    }
                };
                if payloads.is_empty() {
                    return PanelOutcome::Close;
                }
                return PanelOutcome::Send(Effect::Record {
                    session: cx.session,
                    payloads,
                });
            }
            Command::EndSession => {
                let payloads = match self.payloads() {
                    Ok(p) => p,
                    Err(e) => {
                        self.error = Some(e);
                        return PanelOutcome::Stay;
                    }
                };
                let state = state_with(self.before.clone(), &payloads, cx.now);
                let concerns = cx.chart.end_concerns(&state, cx.now);
                if concerns.is_empty() {
                    return PanelOutcome::Send(Effect::EndSession {
                        session: cx.session,
                        payloads,
                        reason: None,
                    });
                }
                return PanelOutcome::Replace(Panel::EndReason(EndReasonForm {
                    concerns: concerns.iter().map(ToString::to_string).collect(),
                    reason: self.end_reason.clone(),
                    payloads,
                    from: Some(Box::new(self.clone())),
                }));
            }
            _ => {}
        }
        PanelOutcome::Stay
    }

    /// What was typed in it and not charted, for the terminal after quitting.
    pub fn typed_text(&self) -> Option<String> {
        if !self.touched {
            return None;
        }
        let mut parts = Vec::new();
        if self.scores.iter().any(Option::is_some) {
            let scores: Vec<String> = self
                .scores
                .iter()
                .map(|s| s.map_or("·".to_string(), |s| s.to_string()))
                .collect();
            parts.push(format!("aldrete {}", scores.join(" ")));
        }
        if !self.ride.is_blank() {
            parts.push(format!("ride {}", self.ride.text().trim()));
        }
        if self.ready {
            parts.push("ready".into());
        }
        if !self.end_reason.is_blank() {
            parts.push(format!("reason to end: {}", self.end_reason.text().trim()));
        }
        (!parts.is_empty()).then(|| parts.join(" · "))
    }

    /// The entries the form adds: only what changed since it opened.
    fn payloads(&self) -> Result<Vec<Payload>, String> {
        let mut out = Vec::new();
        let scored = self.scores.iter().filter(|s| s.is_some()).count();
        if scored > 0 {
            if scored < 5 {
                return Err("score all five Aldrete items, or none".into());
            }
            let [a, r, c, co, s] = self.scores.map(|s| s.unwrap_or(0));
            let score = AldreteScore {
                activity: a,
                respiration: r,
                circulation: c,
                consciousness: co,
                spo2: s,
            };
            if self.before.aldrete.map(|(_, b)| b) != Some(score) {
                out.push(Payload::Aldrete(score));
            }
        }
        let ride = self.ride.text().trim();
        if !ride.is_empty() && self.before.ride.as_deref() != Some(ride) {
            out.push(Payload::RideHome(RideHome {
                who: ride.to_string(),
            }));
        }
        if self.ready && self.before.ready_at.is_none() {
            out.push(Payload::PatientReady);
        }
        Ok(out)
    }
}
