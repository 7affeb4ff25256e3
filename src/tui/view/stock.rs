//! The controlled-substance stock screen: a title, the containers on hand, the last 24
//! hours' movements (newest first), their wastes awaiting a witness, and the last count. Each
//! row puts its numbers before its words, so a narrow screen cuts the words (marked ` …`,
//! after a whole word); a section that does not fit ends in a row saying how many more.

use super::fit;
use crate::domain::entry::trim_number;
use crate::domain::stock::StockRecord;
use crate::domain::stock::ledger::{ContainerState, MovementKind};
use crate::tui::state::App;
use crate::tui::stock::{Moved, StockData, StockScreen};
use crate::tui::theme::OVERDUE;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

pub fn draw(app: &App, s: &StockScreen, frame: &mut Frame<'_>, area: Rect) {
    let theme = &app.theme;
    let d = &s.data;
    let width = usize::from(area.width.saturating_sub(1)).max(1);
    let height = usize::from(area.height);
    let mut head = vec![fit::shorten(
        Line::styled(
            format!(
                "Controlled-substance stock · as read at {} on {}",
                d.read_at.format("%H:%M"),
                d.read_at.format("%-d %b %Y")
            ),
            theme.title(),
        ),
        width,
    )];
    if let Some(e) = &s.error {
        head.extend(fit::limit(
            fit::wrap(Line::styled(format!("✗ {e}"), theme.alert()), width),
            2,
            width,
        ));
    }
    let count = fit::limit(
        fit::wrap(Line::styled(last_count(d), theme.dim()), width),
        2,
        width,
    );
    let awaiting = d.awaiting_witness();
    let sections: [(String, Vec<Line<'static>>); 3] = [
        (
            format!(
                "On hand: {} container{}",
                d.on_hand.len(),
                plural(d.on_hand.len())
            ),
            on_hand_rows(d),
        ),
        (
            format!(
                "Last 24 hours: {} movement{}",
                d.recent.len(),
                plural(d.recent.len())
            ),
            movement_rows(app, &d.recent.iter().collect::<Vec<_>>()),
        ),
        (
            if awaiting.is_empty() {
                "Wastes of the last 24 hours awaiting a witness: none".to_string()
            } else {
                // A session's waste is witnessed on its timeline; one outside a session
                // by the second clinician's `kapchart stock witness RECORD`.
                let outside = awaiting
                    .iter()
                    .filter(|m| m.line.movement.stock.is_some())
                    .count();
                let how = match (outside, awaiting.len() - outside) {
                    (0, _) => "w on the session's timeline",
                    (_, 0) => "stock witness RECORD",
                    _ => "w on the session's timeline, or stock witness RECORD",
                };
                format!(
                    "{OVERDUE} Wastes of the last 24 hours awaiting a witness: {} ({how})",
                    awaiting.len()
                )
            },
            movement_rows(app, &awaiting),
        ),
    ];
    // Rows for the sections' lines, the longest giving way first.
    let budget = height.saturating_sub(head.len() + count.len() + sections.len());
    let mut shown: Vec<usize> = sections.iter().map(|(_, rows)| rows.len()).collect();
    while shown.iter().sum::<usize>() > budget {
        let Some((i, _)) = shown.iter().enumerate().max_by_key(|(_, n)| **n) else {
            break;
        };
        if shown[i] == 0 {
            break;
        }
        shown[i] -= 1;
    }
    let mut lines = head;
    for (((title, rows), n), i) in sections.into_iter().zip(shown).zip(0..) {
        let style = if i == 2 && !awaiting.is_empty() {
            theme.caution()
        } else {
            theme.title()
        };
        let total = rows.len();
        let title = if n == 0 && total > 0 {
            format!("{title} · {total} not shown: enlarge the window")
        } else {
            title
        };
        lines.push(fit::shorten(Line::styled(title, style), width));
        if n >= total {
            lines.extend(rows.into_iter().map(|r| fit::shorten(r, width)));
        } else if n > 0 {
            lines.extend(rows.into_iter().take(n - 1).map(|r| fit::shorten(r, width)));
            lines.push(Line::styled(
                format!("  {} {} more", fit::MORE, total - (n - 1)),
                theme.dim(),
            ));
        }
    }
    lines.extend(count);
    frame.render_widget(Paragraph::new(lines), area);
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// `text` padded on the right (`left`) or the left to `width` columns.
fn pad(text: &str, width: usize, left: bool) -> String {
    let room = width.saturating_sub(fit::width(text));
    if left {
        format!("{text}{}", " ".repeat(room))
    } else {
        format!("{}{text}", " ".repeat(room))
    }
}

/// "  V1  open    465 mg  9.3 mL  ketamine 50 mg/mL, 10 mL vial · lot L1".
fn on_hand_rows(d: &StockData) -> Vec<Line<'static>> {
    let cells: Vec<[String; 5]> = d
        .on_hand
        .iter()
        .map(|l| {
            let state = l.state();
            let kept = match state {
                ContainerState::Kept { beyond_use } => format!(" · kept until {beyond_use}"),
                _ => String::new(),
            };
            let r = &l.container.receipt;
            [
                l.container.id.to_string(),
                state.label().to_string(),
                format!("{} mg", trim_number(l.balance_mg(), 3)),
                l.balance_ml()
                    .map(|ml| format!("{} mL", trim_number(ml, 3)))
                    .unwrap_or_default(),
                format!(
                    "{} {} · lot {} · expires {}{kept}",
                    r.drug, r.presentation, r.lot, r.expires
                ),
            ]
        })
        .collect();
    let w = |i: usize| cells.iter().map(|c| fit::width(&c[i])).max().unwrap_or(0);
    let (idw, statew, mgw, mlw) = (w(0), w(1), w(2), w(3));
    cells
        .iter()
        .map(|[id, state, mg, ml, what]| {
            Line::raw(format!(
                "  {}  {}  {}  {}  {what}",
                pad(id, idw, true),
                pad(state, statew, true),
                pad(mg, mgw, false),
                pad(ml, mlw, false),
            ))
        })
        .collect()
}

/// "  10:10  V1  administered   -35 mg  Dr. Mara Quinn · witnessed by Nia Nurse".
fn movement_rows(app: &App, moved: &[&Moved]) -> Vec<Line<'static>> {
    let cells: Vec<([String; 4], String, bool)> = moved
        .iter()
        .map(|m| {
            let mv = &m.line.movement;
            let change = if mv.change_mg > 0.0 {
                format!("+{} mg", trim_number(mv.change_mg, 3))
            } else if mv.change_mg < 0.0 {
                format!("-{} mg", trim_number(-mv.change_mg, 3))
            } else {
                String::new()
            };
            // A waste outside a session names its stock record first: the second clinician
            // witnesses it by that number, and a narrow screen cuts the row's end.
            let record = match (&mv.kind, mv.stock) {
                (MovementKind::Wasted { .. }, Some(id)) => format!(" · stock record {id}"),
                _ => String::new(),
            };
            let mut rest = format!("{}{record} · by {}", m.drug, mv.who);
            let mut warn = false;
            match &mv.kind {
                MovementKind::Administered | MovementKind::Wasted { .. } => {
                    match (&mv.witness, m.given_back) {
                        (_, true) => rest.push_str(" · given back (corrected)"),
                        (Some(w), false) => rest.push_str(&format!(" · witnessed by {w}")),
                        (None, false) => {
                            warn = matches!(mv.kind, MovementKind::Wasted { .. });
                            rest.push_str(" · no witness");
                        }
                    }
                }
                MovementKind::Kept { beyond_use } => {
                    rest.push_str(&format!(" · until {beyond_use}"));
                }
                MovementKind::Counted { reason } | MovementKind::GivenBack { reason }
                    if !reason.is_empty() =>
                {
                    rest.push_str(&format!(" · {reason}"));
                }
                _ => {}
            }
            (
                [
                    mv.at.format("%H:%M").to_string(),
                    mv.container.to_string(),
                    mv.kind.label().to_string(),
                    change,
                ],
                rest,
                warn,
            )
        })
        .collect();
    let w = |i: usize| {
        cells
            .iter()
            .map(|(c, _, _)| fit::width(&c[i]))
            .max()
            .unwrap_or(0)
    };
    let (idw, whatw, mgw) = (w(1), w(2), w(3));
    cells
        .iter()
        .map(|([time, id, what, change], rest, warn)| {
            let text = format!(
                "  {time}  {}  {}  {}  {rest}",
                pad(id, idw, true),
                pad(what, whatw, true),
                pad(change, mgw, false),
            );
            if *warn {
                Line::styled(text, app.theme.caution())
            } else {
                Line::raw(text)
            }
        })
        .collect()
}

/// "Last count: 09:00 on 26 Nov 2026, opening, by Dr. Mara Quinn: V1 500 mg, V2 500 mg".
fn last_count(d: &StockData) -> String {
    let Some((row, struck)) = &d.last_count else {
        return "Last count: none recorded".into();
    };
    let StockRecord::Count(c) = &row.record else {
        return "Last count: none recorded".into();
    };
    let lines: Vec<String> = c
        .lines
        .iter()
        .map(|l| {
            let mut notes = Vec::new();
            if !l.balances() {
                notes.push(format!("ledger {} mg", trim_number(l.expected_mg, 3)));
            }
            if l.estimated {
                notes.push("estimated".to_string());
            }
            let notes = if notes.is_empty() {
                String::new()
            } else {
                format!(" ({})", notes.join(", "))
            };
            format!("{} {} mg{notes}", l.container, trim_number(l.counted_mg, 3))
        })
        .collect();
    let mut out = format!(
        "Last count: {} on {}, {}, by {}: {}",
        row.event_time.format("%H:%M"),
        row.event_time.format("%-d %b %Y"),
        c.taken.label(),
        row.author,
        lines.join(", ")
    );
    if let Some(reason) = &c.reason {
        out.push_str(&format!(" · reason: {reason}"));
    }
    if let Some(by) = struck {
        out.push_str(&format!(" · struck by record {by}"));
    }
    out
}
