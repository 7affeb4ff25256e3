//! A note's text as the note screen shows it: each line broken at spaces only (the README's
//! rule: `00:12`, `172/108` or `T+150` never split across rows, as a break at every word
//! boundary would), scrolled so that the cursor stays in view.

use super::fit;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use ratatui_textarea::TextArea;

/// A row of the wrapped text: which line, and the characters `start..end` of it.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Row {
    line: usize,
    start: usize,
    end: usize,
}

/// The rows `line` takes at `width`: broken before a word that does not fit (the spaces
/// before it end the row above); a word wider than a row is broken where the row ends.
fn rows_of(index: usize, line: &str, width: usize) -> Vec<Row> {
    let chars: Vec<char> = line.chars().collect();
    let w = |c: char| fit::width(c.encode_utf8(&mut [0; 4]));
    let mut rows = Vec::new();
    let mut start = 0;
    let mut used = 0;
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == ' ' {
            used += 1;
            i += 1;
            continue;
        }
        let word_end = (i..chars.len())
            .find(|j| chars[*j] == ' ')
            .unwrap_or(chars.len());
        let word: usize = chars[i..word_end].iter().map(|c| w(*c)).sum();
        if used + word <= width {
            used += word;
            i = word_end;
            continue;
        }
        if i > start && word <= width {
            rows.push(Row {
                line: index,
                start,
                end: i,
            });
            start = i;
            used = 0;
            continue;
        }
        // Wider than a row: as much of it as fits.
        let mut j = i;
        while j < word_end && used + w(chars[j]) <= width.max(1) {
            used += w(chars[j]);
            j += 1;
        }
        let j = j.max(i + 1);
        rows.push(Row {
            line: index,
            start,
            end: j,
        });
        start = j;
        used = 0;
        i = j;
    }
    rows.push(Row {
        line: index,
        start,
        end: chars.len(),
    });
    rows
}

pub fn draw(
    editor: &TextArea<'_>,
    block: Block<'_>,
    focused: bool,
    frame: &mut Frame<'_>,
    area: Rect,
) {
    let inner = block.inner(area);
    let width = usize::from(inner.width).max(1);
    let lines = editor.lines();
    let rows: Vec<Row> = lines
        .iter()
        .enumerate()
        .flat_map(|(i, l)| rows_of(i, l, width))
        .collect();
    let ratatui_textarea::DataCursor(cursor_line, cursor_col) = editor.cursor();
    // The cursor's row: the last one of its line that starts at or before it.
    let cursor_row = rows
        .iter()
        .rposition(|r| r.line == cursor_line && r.start <= cursor_col)
        .unwrap_or(0);
    let height = usize::from(inner.height).max(1);
    let top = (cursor_row + 1).saturating_sub(height);
    let shown: Vec<Line<'_>> = rows
        .iter()
        .skip(top)
        .take(height)
        .map(|r| {
            let text: String = lines[r.line]
                .chars()
                .skip(r.start)
                .take(r.end - r.start)
                .collect();
            Line::from(Span::raw(text))
        })
        .collect();
    frame.render_widget(Paragraph::new(shown).block(block), area);
    if focused {
        let row = &rows[cursor_row];
        let before: String = lines[row.line]
            .chars()
            .skip(row.start)
            .take(cursor_col.saturating_sub(row.start))
            .collect();
        let x = inner.x + (fit::width(&before) as u16).min(inner.width.saturating_sub(1));
        let y = inner.y + (cursor_row - top) as u16;
        frame.buffer_mut().set_style(
            Rect::new(x, y, 1, 1),
            Style::new().add_modifier(Modifier::REVERSED),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(line: &str, width: usize) -> Vec<String> {
        rows_of(0, line, width)
            .into_iter()
            .map(|r| line.chars().skip(r.start).take(r.end - r.start).collect())
            .collect()
    }

    #[test]
    fn a_time_or_a_reading_stays_on_one_row() {
        assert_eq!(
            texts("Chris called at 00:12 and BP was 172/108", 20),
            ["Chris called at ", "00:12 and BP was ", "172/108"]
        );
        assert_eq!(texts("", 10), [""]);
        assert_eq!(texts("abcdefghij", 4), ["abcd", "efgh", "ij"]);
    }
}
