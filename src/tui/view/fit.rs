//! How text is fitted to the room a screen gives it, by one rule (README, "How each screen
//! shortens"): a line that does not fit breaks at a space onto the next row (a header line
//! breaks only at its ` · ` separators); where the rows are counted, the last row kept ends
//! in ` …` after a whole word. A word is never split: a value with its unit and its alert
//! mark (`172/108!`, `88%!`, `T+150`) stays whole. Only a word wider than a whole row (free
//! text) is broken, since nothing else can show it.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

/// What marks text left out.
pub const MORE: &str = "…";

/// Display width of `text` in terminal columns.
pub fn width(text: &str) -> usize {
    Span::raw(text).width()
}

/// A word: pieces of styled text with no space between them (a value and its alert mark
/// may differ in style and still be one word).
type Word<'a> = Vec<Span<'a>>;

fn word_width(w: &Word<'_>) -> usize {
    w.iter().map(Span::width).sum()
}

/// The line's leading spaces, and its words, each with how many spaces came before it.
fn words<'a>(spans: &[Span<'a>]) -> (usize, Vec<(usize, Word<'a>)>) {
    let mut out: Vec<(usize, Word<'a>)> = Vec::new();
    let mut spaces = 0;
    let mut indent = None;
    let mut current: Word<'a> = Vec::new();
    for span in spans {
        let mut piece = String::new();
        for c in span.content.chars() {
            if c == ' ' {
                if !piece.is_empty() {
                    current.push(Span::styled(std::mem::take(&mut piece), span.style));
                }
                if !current.is_empty() {
                    out.push((spaces, std::mem::take(&mut current)));
                    spaces = 0;
                }
                spaces += 1;
            } else {
                if indent.is_none() {
                    indent = Some(spaces);
                    spaces = 0;
                }
                piece.push(c);
            }
        }
        if !piece.is_empty() {
            current.push(Span::styled(piece, span.style));
        }
    }
    if !current.is_empty() {
        out.push((spaces, current));
    }
    (indent.unwrap_or(0), out)
}

/// Rows being filled, each a list of spans and its width.
struct Rows<'a> {
    rows: Vec<(Vec<Span<'a>>, usize)>,
    width: usize,
    indent: usize,
}

impl<'a> Rows<'a> {
    fn new(width: usize, indent: usize) -> Self {
        let indent = if indent * 2 >= width { 0 } else { indent };
        Rows {
            rows: vec![(vec![Span::raw(" ".repeat(indent))], indent)],
            width: width.max(1),
            indent,
        }
    }

    fn used(&self) -> usize {
        self.rows.last().map_or(0, |r| r.1)
    }

    fn at_start(&self) -> bool {
        self.used() <= self.indent
    }

    fn new_row(&mut self) {
        self.rows
            .push((vec![Span::raw(" ".repeat(self.indent))], self.indent));
    }

    fn push(&mut self, span: Span<'a>) {
        let w = span.width();
        if let Some(row) = self.rows.last_mut() {
            row.0.push(span);
            row.1 += w;
        }
    }

    /// Adds `word` after `gap` (a separator, dropped at the start of a row).
    fn add(&mut self, gap: Span<'a>, word: Word<'a>) {
        let w = word_width(&word);
        if !self.at_start() && self.used() + gap.width() + w > self.width {
            self.new_row();
        }
        if !self.at_start() {
            self.push(gap);
        }
        if self.used() + w <= self.width {
            for s in word {
                self.push(s);
            }
            return;
        }
        // Wider than a whole row: free text, broken where the row ends.
        for s in word {
            let mut piece = String::new();
            for c in s.content.chars() {
                let cw = width(c.encode_utf8(&mut [0; 4]));
                if self.used() + width(&piece) + cw > self.width && !piece.is_empty() {
                    self.push(Span::styled(std::mem::take(&mut piece), s.style));
                    self.new_row();
                } else if self.used() + cw > self.width && !self.at_start() {
                    self.new_row();
                }
                piece.push(c);
            }
            if !piece.is_empty() {
                self.push(Span::styled(piece, s.style));
            }
        }
    }

    fn lines(self, style: Style) -> Vec<Line<'a>> {
        self.rows
            .into_iter()
            .map(|(spans, _)| {
                let spans: Vec<Span<'a>> = spans
                    .into_iter()
                    .filter(|s| !s.content.is_empty())
                    .collect();
                Line::from(spans).style(style)
            })
            .collect()
    }
}

/// `line` in rows of at most `width` columns, broken at spaces; rows after the first keep
/// the line's indent.
pub fn wrap<'a>(line: Line<'a>, width: usize) -> Vec<Line<'a>> {
    let style = line.style;
    let (indent, words) = words(&line.spans);
    let mut rows = Rows::new(width, indent);
    for (spaces, word) in words {
        rows.add(Span::raw(" ".repeat(spaces.max(1))), word);
    }
    rows.lines(style)
}

/// `line` in rows of at most `width` columns, broken only at its `sep` separators (each
/// part between them stays on one row when it can).
pub fn wrap_at<'a>(line: Line<'a>, sep: &str, width: usize) -> Vec<Line<'a>> {
    let style = line.style;
    // The parts between separators, each as its spans.
    let mut parts: Vec<Vec<Span<'a>>> = vec![Vec::new()];
    for span in line.spans {
        for (i, text) in span.content.split(sep).enumerate() {
            if i > 0 {
                parts.push(Vec::new());
            }
            if !text.is_empty() {
                if let Some(part) = parts.last_mut() {
                    part.push(Span::styled(text.to_string(), span.style));
                }
            }
        }
    }
    parts.retain(|p| p.iter().any(|s| !s.content.trim().is_empty()));
    let mut rows = Rows::new(width, 0);
    for part in parts {
        let (_, words) = words(&part);
        let w: usize = words
            .iter()
            .enumerate()
            .map(|(i, (spaces, word))| word_width(word) + if i > 0 { *spaces } else { 0 })
            .sum();
        if !rows.at_start() && rows.used() + self::width(sep) + w > rows.width {
            rows.new_row();
        }
        let mut first = true;
        for (spaces, word) in words {
            let gap = if first {
                Span::raw(sep.to_string())
            } else {
                Span::raw(" ".repeat(spaces.max(1)))
            };
            first = false;
            rows.add(gap, word);
        }
    }
    rows.lines(style)
}

/// `lines` wrapped into a box of `width` x `height`: when they take more rows, the lines
/// marked as able to shrink (`shrink[i]`) are cut to one row each first, from the last;
/// then the rows that still do not fit are left off, and the last row kept ends in ` …`.
pub fn block<'a>(lines: Vec<(Line<'a>, bool)>, width: usize, height: usize) -> Vec<Line<'a>> {
    let mut wrapped: Vec<(Vec<Line<'a>>, bool)> = lines
        .into_iter()
        .map(|(l, shrink)| (wrap(l, width), shrink))
        .collect();
    let total = |w: &[(Vec<Line<'a>>, bool)]| w.iter().map(|(rows, _)| rows.len()).sum::<usize>();
    for i in (0..wrapped.len()).rev() {
        if total(&wrapped) <= height {
            break;
        }
        if wrapped[i].1 && wrapped[i].0.len() > 1 {
            let rows = std::mem::take(&mut wrapped[i].0);
            wrapped[i].0 = limit(rows, 1, width);
        }
    }
    let rows: Vec<Line<'a>> = wrapped.into_iter().flat_map(|(rows, _)| rows).collect();
    limit(rows, height, width)
}

/// At most `max` of `rows`; when some are left out, the last one kept ends in ` …` after
/// a whole word.
pub fn limit<'a>(mut rows: Vec<Line<'a>>, max: usize, width: usize) -> Vec<Line<'a>> {
    if rows.len() <= max {
        return rows;
    }
    rows.truncate(max.max(1));
    if let Some(last) = rows.pop() {
        rows.push(ellipsis(last, width));
    }
    rows
}

/// `line` in one row of `width` columns: whole when it fits, else cut after a whole word
/// and marked ` …`.
pub fn shorten<'a>(line: Line<'a>, width: usize) -> Line<'a> {
    limit(wrap(line, width), 1, width)
        .into_iter()
        .next()
        .unwrap_or_default()
}

/// `line` (which fits `width`) with ` …` at its end, words taken off to make room.
fn ellipsis<'a>(line: Line<'a>, width: usize) -> Line<'a> {
    let style = line.style;
    let (indent, mut words) = words(&line.spans);
    let mark = self::width(MORE) + 1;
    let total = |words: &[(usize, Word<'a>)]| -> usize {
        indent
            + words
                .iter()
                .enumerate()
                .map(|(i, (s, w))| word_width(w) + if i > 0 { *s } else { 0 })
                .sum::<usize>()
    };
    while words.len() > 1 && total(&words) + mark > width {
        words.pop();
    }
    let mut spans = vec![Span::raw(" ".repeat(indent))];
    for (i, (spaces, word)) in words.into_iter().enumerate() {
        if i > 0 {
            spans.push(Span::raw(" ".repeat(spaces)));
        }
        spans.extend(word);
    }
    spans.push(Span::raw(format!(" {MORE}")));
    let mut line = Line::from(spans).style(style);
    // A single word wider than the row: free text, cut to make room for the mark.
    if line.width() > width {
        let mut kept = String::new();
        for c in line.to_string().chars() {
            if self::width(&kept) + self::width(c.encode_utf8(&mut [0; 4])) + mark > width {
                break;
            }
            kept.push(c);
        }
        line = Line::from(format!("{kept} {MORE}")).style(style);
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(rows: &[Line<'_>]) -> Vec<String> {
        rows.iter().map(|l| l.to_string()).collect()
    }

    #[test]
    fn a_line_breaks_at_spaces_and_keeps_its_indent() {
        let rows = wrap(Line::from("  BP 172/108! · HR 131! · SpO2 86%!"), 16);
        assert_eq!(
            texts(&rows),
            ["  BP 172/108! ·", "  HR 131! · SpO2", "  86%!"]
        );
        assert_eq!(
            texts(&wrap(Line::from("abcdefghij"), 4)),
            ["abcd", "efgh", "ij"]
        );
        assert_eq!(texts(&wrap(Line::from(""), 10)), [""]);
    }

    #[test]
    fn a_value_and_its_mark_in_two_styles_stay_one_word() {
        let line = Line::from(vec![
            Span::raw("BP "),
            Span::raw("172/108"),
            Span::styled("!", Style::new().bold()),
            Span::raw(" late"),
        ]);
        let rows = wrap(line, 11);
        assert_eq!(texts(&rows), ["BP 172/108!", "late"]);
    }

    #[test]
    fn a_header_breaks_only_at_its_separators() {
        let line = Line::from("T+46:11 · ⚠ OVERDUE: BP T+40 6 min late · 1 missed");
        let rows = wrap_at(line.clone(), " · ", 30);
        assert_eq!(
            texts(&rows),
            ["T+46:11", "⚠ OVERDUE: BP T+40 6 min late", "1 missed"]
        );
        let rows = wrap_at(line, " · ", 40);
        assert_eq!(
            texts(&rows),
            ["T+46:11 · ⚠ OVERDUE: BP T+40 6 min late", "1 missed"]
        );
    }

    #[test]
    fn what_is_left_out_is_marked_after_a_whole_word() {
        let line = Line::from("obs tearful, holding hands on chest 172/108");
        assert_eq!(
            shorten(line.clone(), 30).to_string(),
            "obs tearful, holding hands …"
        );
        assert_eq!(
            shorten(line, 100).to_string(),
            "obs tearful, holding hands on chest 172/108"
        );
        let rows = limit(wrap(Line::from("one two three four five six"), 9), 2, 9);
        assert_eq!(texts(&rows), ["one two", "three …"]);
    }
}
