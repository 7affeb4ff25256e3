//! The discharge panel of a dosing session: the five Aldrete items, the ride home, the
//! patient ready; Enter charts what changed, the end key ends the session from it.

use super::{EndReasonForm, Panel, PanelContext, PanelOutcome, edit};
use super::{PanelView, field};
use crate::app::charting::state_with;
use crate::domain::Payload;
use crate::domain::discharge::ALDRETE_ITEMS;
use crate::domain::discharge::DischargeState;
use crate::domain::entry::{AldreteScore, RideHome};
use crate::tui::input::InputLine;
use crate::tui::keymap::{Command, Key};
use crate::tui::live::Live;
use crate::tui::state::App;
use crate::tui::state::Effect;
use ratatui::text::Line;

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

    /// The form as the live screen's dialog shows it: the Aldrete items, the total, the ride
    /// home and ready.
    pub fn view(&self, app: &App, live: &Live) -> PanelView {
        let usual = live.data.usual_ride.as_deref();
        let lines = lines(app, self, usual, rems_ready_note(live));
        // The Aldrete items are lines 1-5, then the total, the ride, where it came from
        // when offered, and ready.
        let offered = usize::from(offered_ride(self, usual));
        let focus = match self.field {
            0..5 => 1 + self.field,
            5 => 7,
            _ => 8 + offered,
        };
        PanelView {
            title: " Discharge ".to_string(),
            lines,
            focus: Some(focus),
        }
    }
}

/// The ride home shown is the patient's usual one, offered because none is charted yet.
fn offered_ride(f: &DischargeForm, usual: Option<&str>) -> bool {
    f.before.ride.is_none() && usual.is_some_and(|u| !u.is_empty() && f.ride.text() == u)
}

/// In a Spravato session, what the REMS form asks of "ready": when the patient would have
/// been ready to leave without the 2-hour minimum (clinical.md section 2).
fn rems_ready_note(live: &crate::tui::live::Live) -> Option<String> {
    let chart = &live.data.chart;
    if !crate::domain::rems::is_rems_session(chart, &chart.rules().rems) {
        return None;
    }
    let t = chart
        .discharge_state()
        .ready_at
        .and_then(|r| chart.t_plus_min(r))
        .map(|t| {
            format!(
                ": {} min on the form",
                crate::domain::since_dose::t_plus_minutes(t)
            )
        })
        .unwrap_or_default();
    Some(format!(
        "   REMS: ready as if there were no 2-h minimum (bar: @HH:MM ready-to-leave){t}"
    ))
}

fn lines<'a>(
    app: &App,
    f: &DischargeForm,
    usual: Option<&str>,
    rems_note: Option<String>,
) -> Vec<Line<'a>> {
    let mut lines = vec![Line::styled(
        "Modified Aldrete, each 0-2: a score typed moves to the next item (or ←/→)",
        app.theme.title(),
    )];
    for (i, item) in ALDRETE_ITEMS.iter().enumerate() {
        let score = f.scores[i];
        let meaning = score.and_then(|s| item.describe(s)).unwrap_or("not scored");
        // The item a typed score goes to is marked, colour or not.
        let text = format!(
            "{} {:<14} {}  {meaning}",
            if f.field == i { "›" } else { " " },
            item.name,
            score.map(|s| s.to_string()).unwrap_or_else(|| "·".into())
        );
        lines.push(if f.field == i {
            Line::styled(text, app.theme.selected())
        } else {
            Line::from(text)
        });
    }
    let scored: Vec<u8> = f.scores.iter().flatten().copied().collect();
    let total = if scored.len() == 5 {
        let t: u8 = scored.iter().sum();
        let suggested = app.config.discharge.aldrete_at_least;
        let verdict = if t >= suggested {
            format!("(>= {suggested} suggested: met)")
        } else {
            format!(
                "(>= {suggested} suggested: {} BELOW)",
                crate::tui::theme::ALERT
            )
        };
        let style = if t >= suggested {
            app.theme.ok()
        } else {
            app.theme.alert()
        };
        Line::styled(format!("  total {t}/10 {verdict}"), style)
    } else {
        Line::styled(
            format!("  total: {} of 5 items scored", scored.len()),
            app.theme.dim(),
        )
    };
    lines.push(total);
    lines.push(field(app, "Ride home", &f.ride, f.field == 5));
    if offered_ride(f, usual) {
        lines.push(Line::styled(
            "            ↑ the usual ride, from the patient's contacts: charted on Enter",
            app.theme.dim(),
        ));
    }
    let ready = format!(
        "{:>10}: [{}] patient ready to leave{}",
        "Ready",
        if f.ready { "x" } else { " " },
        f.before
            .ready_at
            .map(|t| format!(" (recorded {})", t.format("%H:%M")))
            .unwrap_or_default()
    );
    lines.push(if f.field == 6 {
        Line::styled(ready, app.theme.selected())
    } else {
        Line::from(ready)
    });
    if let Some(note) = rems_note {
        lines.push(Line::styled(note, app.theme.dim()));
    }
    if let Some(e) = &f.error {
        lines.push(Line::styled(format!("✗ {e}"), app.theme.alert()));
    }
    lines.push(Line::styled(
        "↑/↓ field · Space ready · Enter record · Ctrl-E end session · Esc sets aside",
        app.theme.dim(),
    ));
    lines
}
