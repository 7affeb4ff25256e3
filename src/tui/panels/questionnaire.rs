//! A questionnaire (or the CADSS-6) answered item by item, charted as its quick-entry line.

use super::PanelView;
use super::{PanelContext, PanelOutcome};
use crate::domain::item_forms::FormScale;
use crate::domain::measures;
use crate::tui::keymap::{Command, Key};
use crate::tui::questionnaires;
use crate::tui::state::App;
use crate::tui::state::Effect;
use ratatui::text::{Line, Span};

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

    /// The form as the live screen's dialog shows it.
    pub fn view(&self, app: &App) -> PanelView {
        let (lines, focus) = lines(app, self.instrument, &self.answers, self.error.as_deref());
        PanelView {
            title: " Questionnaire, item by item ".to_string(),
            lines,
            focus: Some(focus),
        }
    }
}

/// A questionnaire's answers as its quick-entry line.
pub fn answers_line(instrument: FormScale, answers: &[u8]) -> String {
    let items: Vec<String> = answers.iter().map(u8::to_string).collect();
    format!("{} {}", instrument.keyword(), items.join(" "))
}

/// The questionnaire form: the item being asked in the instrument's own words, its answer
/// scale, and the running total; the band once every item is answered, before Enter charts
/// it. Returns the lines and the one that must stay in view.
fn lines<'a>(
    app: &App,
    form: FormScale,
    answers: &[u8],
    error: Option<&str>,
) -> (Vec<Line<'a>>, usize) {
    let n = form.item_count();
    let kinds: Vec<Span<'a>> = FormScale::ALL
        .iter()
        .map(|i| {
            let text = format!(" {} ", i.name());
            if *i == form {
                Span::styled(text, app.theme.selected())
            } else {
                Span::raw(text)
            }
        })
        .collect();
    let FormScale::Measure(instrument) = form else {
        return cadss6(app, kinds, answers, error);
    };
    let mut lines = vec![
        Line::from(kinds),
        Line::styled(questionnaires::stem(instrument), app.theme.dim()),
    ];
    lines.push(answer_chips(n, answers));
    let total: u16 = answers.iter().map(|a| u16::from(*a)).sum();
    let focus;
    if answers.len() < n {
        let item = answers.len();
        let text = questionnaires::items(instrument)
            .get(item)
            .copied()
            .unwrap_or("");
        focus = lines.len();
        lines.push(Line::styled(
            format!("Item {} of {n}: {text}", item + 1),
            app.theme.title(),
        ));
        let scale: Vec<String> = questionnaires::scale(instrument)
            .iter()
            .enumerate()
            .map(|(score, meaning)| format!("{score} {meaning}"))
            .collect();
        lines.push(Line::raw(format!("  {}", scale.join(" · "))));
        lines.push(Line::raw(format!(
            "Total so far {total} (of at most {}), {} of {n} answered",
            instrument.max_total(),
            answers.len()
        )));
    } else {
        // Bands and their sources: domain::measures::band.
        let band = measures::band(instrument, total, &app.config.measures);
        focus = lines.len();
        lines.push(Line::styled(
            format!(
                "Total {total} of {}: {band} · Enter charts it",
                instrument.max_total()
            ),
            app.theme.title(),
        ));
    }
    form_footer(app, &mut lines, error, "answer's number");
    (lines, focus)
}

/// The CADSS-6 form: six items (CADSS items 1, 2, 6, 7, 15, 22; Rodrigues et al., J Affect
/// Disord 2021;282:160), each 0 to `[measures] cadss6_item_max`. The CADSS wording is not
/// reproduced here: the clinician asks from the clinic's own copy.
fn cadss6<'a>(
    app: &App,
    kinds: Vec<Span<'a>>,
    answers: &[u8],
    error: Option<&str>,
) -> (Vec<Line<'a>>, usize) {
    let form = FormScale::Cadss6;
    let n = form.item_count();
    let max = form.max_item(&app.config.measures);
    let mut lines = vec![
        Line::from(kinds),
        Line::styled(
            "CADSS-6 (items 1, 2, 6, 7, 15, 22 of the CADSS), asked from the clinic's copy",
            app.theme.dim(),
        ),
    ];
    lines.push(answer_chips(n, answers));
    let total: u16 = answers.iter().map(|a| u16::from(*a)).sum();
    let focus = lines.len();
    lines.push(Line::styled(
        if answers.len() < n {
            format!(
                "Item {} of {n}: type its score (0-{max}) · total so far {total}",
                answers.len() + 1
            )
        } else {
            format!(
                "Total {total} of {} · Enter charts it",
                n as u16 * u16::from(max)
            )
        },
        app.theme.title(),
    ));
    form_footer(app, &mut lines, error, "score");
    (lines, focus)
}

/// "1:2 2:1 [3:_] 4:· …": the answers so far and the item being asked.
fn answer_chips<'a>(n: usize, answers: &[u8]) -> Line<'a> {
    let shown: Vec<String> = (0..n)
        .map(|i| match answers.get(i) {
            Some(a) => format!("{}:{a}", i + 1),
            None if i == answers.len() => format!("[{}:_]", i + 1),
            None => format!("{}:·", i + 1),
        })
        .collect();
    Line::from(shown.join(" "))
}

/// The form's error, if any, and its keys.
fn form_footer(app: &App, lines: &mut Vec<Line<'_>>, error: Option<&str>, typed: &str) {
    if let Some(e) = error {
        lines.push(Line::styled(format!("✗ {e}"), app.theme.alert()));
    }
    lines.push(Line::styled(
        format!(
            "type the {typed} · ←/→ questionnaire or CADSS-6 (before the first answer) · Backspace undo · Esc cancel"
        ),
        app.theme.dim(),
    ));
}
