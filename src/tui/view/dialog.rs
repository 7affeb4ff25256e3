//! Dialogs and forms drawn over a screen. The text is wrapped here, so the box is as tall as
//! what it holds; when the screen is too small the box scrolls to keep the focused line in
//! view, and its border says what is above or below.

use super::{centered, panel_block};
use crate::tui::app::App;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

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
    frame.render_widget(Clear, popup);
    frame.render_widget(Paragraph::new(shown).block(block), popup);
}

/// One line broken into rows of at most `width` columns, at spaces where it can be, keeping
/// each span's style. A word longer than a row is cut.
pub fn wrap<'a>(line: Line<'a>, width: usize) -> Vec<Line<'a>> {
    let style = line.style;
    let mut rows: Vec<Vec<Span<'a>>> = vec![Vec::new()];
    let mut used = 0;
    for span in line.spans {
        for word in words(&span.content) {
            let len = word.chars().count();
            if used + len > width && used > 0 {
                rows.push(Vec::new());
                used = 0;
                if word.trim().is_empty() {
                    continue;
                }
            }
            let mut rest: String = word;
            while rest.chars().count() > width {
                let head: String = rest.chars().take(width - used).collect();
                rest = rest.chars().skip(width - used).collect();
                push(&mut rows, Span::styled(head, span.style));
                rows.push(Vec::new());
                used = 0;
            }
            used += rest.chars().count();
            push(&mut rows, Span::styled(rest, span.style));
        }
    }
    rows.into_iter()
        .map(|spans| Line::from(spans).style(style))
        .collect()
}

fn push<'a>(rows: &mut [Vec<Span<'a>>], span: Span<'a>) {
    if let Some(row) = rows.last_mut() {
        row.push(span);
    }
}

/// Words with the spaces that follow them, so that joining them gives the text back.
fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut in_space = false;
    for c in text.chars() {
        if c == ' ' {
            in_space = true;
        } else if in_space {
            out.push(std::mem::take(&mut current));
            in_space = false;
        }
        current.push(c);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(rows: &[Line<'_>]) -> Vec<String> {
        rows.iter().map(|l| l.to_string()).collect()
    }

    #[test]
    fn long_lines_break_at_spaces_and_keep_every_character() {
        let rows = wrap(Line::from("⚠ protocol check missed at T+40 BP"), 16);
        assert_eq!(texts(&rows), ["⚠ protocol ", "check missed at ", "T+40 BP"]);
        let rows = wrap(Line::from("abcdefghij"), 4);
        assert_eq!(texts(&rows), ["abcd", "efgh", "ij"]);
        assert_eq!(texts(&wrap(Line::from(""), 10)), [""]);
    }
}
