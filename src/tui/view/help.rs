//! The help screen, generated from the keymap: it cannot go stale. Sections flow into
//! columns (two when the screen is wide enough) and the columns into pages, so every key
//! can be read at 80x24; PgDn and PgUp turn the pages.

use super::centered;
use crate::tui::app::App;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

/// Below this inner width the help is one column.
const TWO_COLUMNS_FROM: u16 = 70;

/// The help's sections: a title line, then one line per command.
fn sections<'a>(app: &App) -> Vec<Vec<Line<'a>>> {
    let mut sections: Vec<Vec<Line<'a>>> = Vec::new();
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
    sections.push(
        [
            "  bp 128/82 hr 74 spo2 97",
            "  rr 14 temp 36.8 · moaas 4",
            "  dose ketamine 35mg IM",
            "  obs text #tag \"quote\"",
            "  phq9 1 2 1 0 3 2 1 0 1",
            "  @14:05 or @-5m sets the time",
            "  Keys: [keys] in config.toml",
        ]
        .into_iter()
        .map(Line::raw)
        .fold(
            vec![Line::styled("Quick entry", app.theme.title())],
            |mut v, l| {
                v.push(l);
                v
            },
        ),
    );
    sections
}

/// Where the help is drawn in a frame of `area`, its column count and rows per column.
fn geometry(area: Rect) -> (Rect, usize, usize) {
    let popup = centered(area, 120, area.height.saturating_sub(2));
    let inner_width = popup.width.saturating_sub(2);
    let columns = if inner_width >= TWO_COLUMNS_FROM {
        2
    } else {
        1
    };
    // One row of the inner area is the page line.
    let rows = usize::from(popup.height.saturating_sub(3)).max(1);
    (popup, columns, rows)
}

/// The sections flowed into columns of `rows` lines: a section starts a new column when it
/// does not fit in what is left, and only a section taller than a column is split.
fn columns<'a>(sections: Vec<Vec<Line<'a>>>, rows: usize) -> Vec<Vec<Line<'a>>> {
    let mut out: Vec<Vec<Line<'a>>> = vec![Vec::new()];
    for section in sections {
        let current = out.last().map(Vec::len).unwrap_or(0);
        if current > 0 && current + section.len() > rows {
            out.push(Vec::new());
        }
        for line in section {
            if out.last().map(Vec::len).unwrap_or(0) >= rows {
                out.push(Vec::new());
            }
            if let Some(column) = out.last_mut() {
                column.push(line);
            }
        }
    }
    out
}

/// How many pages the help takes in a frame of `width` x `height`.
pub fn pages(app: &App, width: u16, height: u16) -> usize {
    let (_, per_page, rows) = geometry(Rect::new(0, 0, width, height));
    columns(sections(app), rows).len().div_ceil(per_page).max(1)
}

pub fn draw(app: &App, frame: &mut Frame<'_>, area: Rect) {
    let (popup, per_page, rows) = geometry(area);
    let columns = columns(sections(app), rows);
    let pages = columns.len().div_ceil(per_page).max(1);
    let page = app.help_page.min(pages - 1);
    frame.render_widget(Clear, popup);
    let block = Block::bordered()
        .title(" Help: keys ")
        .border_style(app.theme.focus_border());
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    let [body, footer] = Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(inner);
    let areas =
        Layout::horizontal(vec![Constraint::Ratio(1, per_page as u32); per_page]).split(body);
    for (column, area) in columns
        .into_iter()
        .skip(page * per_page)
        .take(per_page)
        .zip(areas.iter())
    {
        frame.render_widget(Paragraph::new(column), *area);
    }
    let footer_text = if pages > 1 {
        format!(
            "Page {} of {pages} · PgDn/Space/↓ next · PgUp/↑ back · any other key closes",
            page + 1
        )
    } else {
        "Any key closes this help.".to_string()
    };
    frame.render_widget(Line::styled(footer_text, app.theme.dim()), footer);
}
