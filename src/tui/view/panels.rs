//! The forms over the live screen: amend/strike, acknowledge a caution, discharge, and the
//! reason for ending against a discharge reminder.

use super::{centered, panel_block};
use crate::domain::discharge::ALDRETE_ITEMS;
use crate::tui::app::App;
use crate::tui::input::InputLine;
use crate::tui::live::{DischargeForm, Live, Panel};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

pub fn draw(app: &App, live: &Live, frame: &mut Frame<'_>, area: Rect) {
    let Some(panel) = &live.panel else {
        return;
    };
    let (title, lines, height) = match panel {
        Panel::Correction(f) => {
            let verb = if f.strike { "Strike" } else { "Amend" };
            let mut lines = vec![
                Line::from(format!("Entry #{}: {}", f.target, f.summary)),
                Line::from(""),
                field(app, "Reason", &f.reason, f.field == 0),
            ];
            if !f.strike {
                lines.push(field(app, "Corrected", &f.line, f.field == 1));
            }
            lines.push(Line::from(""));
            if let Some(e) = &f.error {
                lines.push(Line::styled(format!("✗ {e}"), app.theme.alert()));
            }
            lines.push(Line::styled(
                "The original stays in the record · Tab field · Enter confirm · Esc cancel",
                app.theme.dim(),
            ));
            (format!(" {verb} entry #{} ", f.target), lines, 10)
        }
        Panel::Acknowledge { caution, note, .. } => (
            " Acknowledge caution ".to_string(),
            vec![
                Line::styled(caution.clone(), app.theme.caution()),
                Line::from(""),
                field(app, "Decision", note, true),
                Line::from(""),
                Line::styled(
                    "Record what you weighed (empty: \"caution weighed; proceeding\"). Enter records · Esc cancel",
                    app.theme.dim(),
                ),
            ],
            8,
        ),
        Panel::Discharge(f) => {
            let lines = discharge(app, f);
            let height = lines.len() as u16 + 2;
            (" Discharge ".to_string(), lines, height)
        }
        Panel::Questionnaire {
            instrument,
            answers,
            error,
        } => {
            let n = instrument.item_count();
            let kinds: Vec<Span<'_>> = crate::domain::item_forms::FormScale::ALL
                .iter()
                .map(|i| {
                    let text = format!(" {} ", i.name());
                    if i == instrument {
                        Span::styled(text, app.theme.selected())
                    } else {
                        Span::raw(text)
                    }
                })
                .collect();
            let mut lines = vec![Line::from(kinds), Line::from("")];
            let shown: Vec<String> = (0..n)
                .map(|i| match answers.get(i) {
                    Some(a) => format!("{}:{a}", i + 1),
                    None if i == answers.len() => format!("[{}:_]", i + 1),
                    None => format!("{}:·", i + 1),
                })
                .collect();
            lines.push(Line::from(shown.join(" ")));
            lines.push(Line::from(""));
            let status = if answers.len() == n {
                format!("all {n} answered · Enter charts it")
            } else {
                format!(
                    "item {} of {n}: type its answer (0-{})",
                    answers.len() + 1,
                    instrument.max_item(&app.config.measures)
                )
            };
            lines.push(Line::styled(status, app.theme.title()));
            if let Some(e) = error {
                lines.push(Line::styled(format!("✗ {e}"), app.theme.alert()));
            }
            lines.push(Line::styled(
                "←/→ questionnaire or CADSS-6 (before the first answer) · Backspace undo · Esc cancel",
                app.theme.dim(),
            ));
            let height = lines.len() as u16 + 2;
            (" Questionnaire, item by item ".to_string(), lines, height)
        }
        Panel::EndReason {
            concerns, reason, ..
        } => {
            let mut lines = vec![Line::styled(
                "Before ending this session:",
                app.theme.caution(),
            )];
            for c in concerns {
                lines.push(Line::styled(
                    format!("{} {c}", crate::tui::theme::OVERDUE),
                    app.theme.caution(),
                ));
            }
            lines.push(Line::from(""));
            lines.push(field(app, "Reason", reason, true));
            lines.push(Line::from(""));
            lines.push(Line::styled(
                "kapchart does not decide: give the reason to end now, or Esc to go back.",
                app.theme.dim(),
            ));
            (
                " End session ".to_string(),
                lines,
                8 + concerns.len() as u16,
            )
        }
    };
    let popup = centered(area, 78, height);
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(panel_block(app, title, true)),
        popup,
    );
}

fn field<'a>(app: &App, label: &str, input: &InputLine, focused: bool) -> Line<'a> {
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

fn discharge<'a>(app: &App, f: &DischargeForm) -> Vec<Line<'a>> {
    let mut lines = vec![Line::styled(
        "Modified Aldrete (each 0-2; type the score or ←/→)",
        app.theme.title(),
    )];
    for (i, item) in ALDRETE_ITEMS.iter().enumerate() {
        let score = f.scores[i];
        let meaning = score.and_then(|s| item.describe(s)).unwrap_or("not scored");
        let text = format!(
            "  {:<14} {}  {meaning}",
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
    if let Some(e) = &f.error {
        lines.push(Line::styled(format!("✗ {e}"), app.theme.alert()));
    }
    lines.push(Line::styled(
        "↑/↓ field · Space ready · Enter record · Ctrl-E end session · Esc cancel",
        app.theme.dim(),
    ));
    lines
}
