//! The help screen, generated from the keymap: it cannot go stale.

use super::centered;
use crate::tui::app::App;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

pub fn draw(app: &App, frame: &mut Frame<'_>, area: Rect) {
    let mut lines = Vec::new();
    for (ctx, rows) in app.keymap.help() {
        if rows.is_empty() {
            continue;
        }
        lines.push(Line::styled(ctx.title(), app.theme.title()));
        for (keys, what) in rows {
            lines.push(Line::from(vec![
                Span::raw(format!("  {keys:<22}")),
                Span::raw(what),
            ]));
        }
    }
    lines.push(Line::from(""));
    lines.push(Line::from(
        "Quick entry: bp 128/82 hr 74 spo2 97 rr 14 temp 36.8 · moaas 4 · dose ketamine 35mg IM",
    ));
    lines.push(Line::from(
        "  obs text #tag \"quote\" · @14:05 or @-5m sets the time · keys: [keys] in config.toml",
    ));
    lines.push(Line::styled("Any key closes this help.", app.theme.dim()));
    let popup = centered(area, 96, area.height.saturating_sub(2));
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(
            Block::bordered()
                .title(" Help: keys ")
                .border_style(app.theme.focus_border()),
        ),
        popup,
    );
}
