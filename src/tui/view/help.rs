//! The help screen, generated from the keymap: it cannot go stale. Two columns, so that
//! every key fits on a laptop screen.

use super::centered;
use crate::tui::app::App;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

pub fn draw(app: &App, frame: &mut Frame<'_>, area: Rect) {
    let mut sections: Vec<Vec<Line<'_>>> = Vec::new();
    for (ctx, rows) in app.keymap.help() {
        if rows.is_empty() {
            continue;
        }
        let mut lines = vec![Line::styled(ctx.title(), app.theme.title())];
        for (keys, what) in rows {
            lines.push(Line::from(vec![
                Span::raw(format!("  {keys:<16}")),
                Span::raw(what),
            ]));
        }
        sections.push(lines);
    }
    sections.push(vec![
        Line::styled("Quick entry", app.theme.title()),
        Line::raw("  bp 128/82 hr 74 spo2 97 rr 14 temp 36.8"),
        Line::raw("  moaas 4 · dose ketamine 35mg IM"),
        Line::raw("  obs text #tag \"quote\" · phq9 1 2 1 0 3 2 1 0 1"),
        Line::raw("  @14:05 or @-5m sets the time"),
        Line::raw("  Keys can be changed: [keys] in config.toml"),
        Line::styled("Any key closes this help.", app.theme.dim()),
    ]);
    // Fill the left column to about half the lines, the rest on the right.
    let total: usize = sections.iter().map(Vec::len).sum();
    let mut left = Vec::new();
    let mut right = Vec::new();
    for section in sections {
        if left.len() < total / 2 {
            left.extend(section);
        } else {
            right.extend(section);
        }
    }
    let popup = centered(area, 120, area.height.saturating_sub(2));
    frame.render_widget(Clear, popup);
    let block = Block::bordered()
        .title(" Help: keys ")
        .border_style(app.theme.focus_border());
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    let [l, r] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(inner);
    frame.render_widget(Paragraph::new(left).wrap(Wrap { trim: false }), l);
    frame.render_widget(Paragraph::new(right).wrap(Wrap { trim: false }), r);
}
