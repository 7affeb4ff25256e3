//! Dialogs and forms drawn over a screen. The text is wrapped here, so the box is as tall as
//! what it holds; when the screen is too small the box scrolls to keep the focused line in
//! view, and its border says what is above or below.

use super::{centered, panel_block};
use crate::tui::state::App;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

/// Draws `lines` in a box of at most `width` columns in the middle of `area`; `focus` is the
/// index of the line that must stay visible (the field being typed in).
pub fn draw<'a>(
    app: &App,
    frame: &mut Frame<'_>,
    area: Rect,
    title: String,
    lines: Vec<Line<'a>>,
    focus: Option<usize>,
    width: u16,
) {
    let inner_width = usize::from(width.min(area.width).saturating_sub(2)).max(1);
    let mut rows: Vec<Line<'a>> = Vec::new();
    let mut focused = None;
    for (i, line) in lines.into_iter().enumerate() {
        let start = rows.len();
        rows.extend(wrap(line, inner_width));
        if focus == Some(i) {
            focused = Some((start, rows.len()));
        }
    }
    let height = (rows.len() as u16 + 2).min(area.height);
    let visible = usize::from(height.saturating_sub(2));
    let hidden = rows.len().saturating_sub(visible);
    // The fewest rows scrolled that still show the whole focused line.
    let offset = match focused {
        Some((start, end)) => end.saturating_sub(visible).min(start).min(hidden),
        None => 0,
    };
    let popup = centered(area, width, height);
    let mut block = panel_block(app, title, true);
    if hidden > 0 {
        let above = offset;
        let below = hidden - offset;
        let mut more = Vec::new();
        if above > 0 {
            more.push(format!("↑ {above} more above"));
        }
        if below > 0 {
            more.push(format!("↓ {below} more below"));
        }
        block = block.title_bottom(Line::styled(
            format!(" {} ", more.join(" · ")),
            app.theme.caution(),
        ));
    }
    let shown: Vec<Line<'a>> = rows.into_iter().skip(offset).take(visible).collect();
    super::clear_rows(frame, area, popup);
    frame.render_widget(Paragraph::new(shown).block(block), popup);
}

/// One line broken into rows of at most `width` columns, at spaces, keeping each span's
/// style (the README's rule, `fit::wrap`).
pub fn wrap<'a>(line: Line<'a>, width: usize) -> Vec<Line<'a>> {
    super::fit::wrap(line, width)
}
