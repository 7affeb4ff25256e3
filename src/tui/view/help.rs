//! The help screen, generated from the keymap: it cannot go stale. Sections flow into
//! columns (as many as the screen's width holds, up to four) and the columns into pages,
//! so every key can be read at 80x24 and all of them on one page from 120x40; PgDn and
//! PgUp turn the pages.

use super::{centered, fit};
use crate::tui::state::App;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

/// At most this many columns side by side.
const MAX_COLUMNS: usize = 4;

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

/// A column is at least this wide (a key and most of what it does on one row).
const COLUMN_AT_LEAST: usize = 34;

/// Where the help is drawn in a frame of `area`, its column count, rows per column and
/// the width of a column: as many columns as fit side by side.
fn geometry(area: Rect) -> (Rect, usize, usize, usize) {
    let popup = centered(
        area,
        area.width.saturating_sub(2).max(60),
        area.height.saturating_sub(2),
    );
    let inner_width = usize::from(popup.width.saturating_sub(2)).max(1);
    let columns = (inner_width / COLUMN_AT_LEAST).clamp(1, MAX_COLUMNS);
    // One row of the inner area is the page line.
    let rows = usize::from(popup.height.saturating_sub(3)).max(1);
    (popup, columns, rows, inner_width / columns)
}

/// The sections with every line wrapped to a column's width, what a key does continuing
/// under itself (a word is never cut).
fn fitted<'a>(sections: Vec<Vec<Line<'a>>>, width: usize) -> Vec<Vec<Line<'a>>> {
    sections
        .into_iter()
        .map(|s| {
            s.into_iter()
                .flat_map(|l| match l.spans.as_slice() {
                    [keys, what] if l.width() > width && keys.width() + 8 < width => {
                        let indent = keys.width();
                        let rows = fit::wrap(Line::from(what.clone()), width - indent);
                        rows.into_iter()
                            .enumerate()
                            .map(|(i, row)| {
                                let lead = if i == 0 {
                                    keys.clone()
                                } else {
                                    Span::raw(" ".repeat(indent))
                                };
                                let mut spans = vec![lead];
                                spans.extend(row.spans);
                                Line::from(spans)
                            })
                            .collect()
                    }
                    _ => fit::wrap(l, width),
                })
                .collect()
        })
        .collect()
}

/// The sections flowed into columns of `rows` lines: a section that fits a column starts
/// a new one when it does not fit in what is left; a taller one is split where the column
/// ends.
fn columns<'a>(sections: Vec<Vec<Line<'a>>>, rows: usize) -> Vec<Vec<Line<'a>>> {
    let mut out: Vec<Vec<Line<'a>>> = vec![Vec::new()];
    for section in sections {
        let current = out.last().map(Vec::len).unwrap_or(0);
        if current > 0 && current + section.len() > rows && section.len() <= rows {
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
    let sections = sections(app);
    let (_, per_page, rows, column) = geometry(Rect::new(0, 0, width, height));
    columns(fitted(sections, column), rows)
        .len()
        .div_ceil(per_page)
        .max(1)
}

pub fn draw(app: &App, frame: &mut Frame<'_>, area: Rect) {
    let sections = sections(app);
    let (popup, per_page, rows, column) = geometry(area);
    let columns = columns(fitted(sections, column), rows);
    let pages = columns.len().div_ceil(per_page).max(1);
    let page = app.help_page.min(pages - 1);
    super::clear_rows(frame, area, popup);
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
        let long = format!(
            "Page {} of {pages} · PgDn/Space/↓ next · PgUp/↑ back · any other key closes",
            page + 1
        );
        if fit::width(&long) <= usize::from(footer.width) {
            long
        } else {
            format!(
                "Page {} of {pages} · PgDn next · PgUp back · other keys close",
                page + 1
            )
        }
    } else {
        "Any key closes this help.".to_string()
    };
    frame.render_widget(Line::styled(footer_text, app.theme.dim()), footer);
}
