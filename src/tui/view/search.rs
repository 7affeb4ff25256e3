//! The search screen: the words, what was found (two lines each: where, then the text around
//! the words, which are underlined and bold), and whether the search is in the audit trail.

use super::{marked_spans, panel_block};
use crate::domain::search::Excerpt;
use crate::domain::text::escape_controls;
use crate::tui::search::SearchScreen;
use crate::tui::state::App;
use crate::tui::theme::OVERDUE;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{List, ListItem, ListState, Paragraph};

pub fn draw(app: &App, s: &SearchScreen, frame: &mut Frame<'_>, area: Rect) {
    let theme = &app.theme;
    let [words_area, status_area, results_area] = Layout::vertical([
        Constraint::Length(3),
        Constraint::Length(1),
        Constraint::Min(3),
    ])
    .areas(area);

    // The words, scrolled so that the end of what is typed stays in view.
    let inner = usize::from(words_area.width.saturating_sub(2)).max(1);
    let typed = escape_controls(&s.typed, false);
    let chars = typed.chars().count();
    let skip = (chars + 1).saturating_sub(inner);
    let visible: String = typed.chars().skip(skip).collect();
    frame.render_widget(
        Paragraph::new(visible).block(panel_block(
            app,
            " Search every patient's entries, notes and addenda by words ".into(),
            s.editing,
        )),
        words_area,
    );
    if s.editing {
        let x = words_area.x + 1 + u16::try_from(chars - skip).unwrap_or(0);
        frame.set_cursor_position(Position::new(
            x.min(words_area.right().saturating_sub(2)),
            words_area.y + 1,
        ));
    }

    let status = match (&s.error, &s.results, &s.unaudited) {
        (Some(e), _, _) => Line::styled(format!(" ✗ {e}"), theme.alert()),
        (None, _, Some(why)) => Line::styled(format!(" {OVERDUE} {why}"), theme.caution()),
        (None, None, None) => Line::styled(
            " type words; Enter searches every patient's record (audited as a read)",
            theme.dim(),
        ),
        (None, Some(r), None) if r.hits.is_empty() => {
            let why = r
                .why_nothing()
                .map(|w| format!(": {w}"))
                .unwrap_or_default();
            Line::styled(format!(" nothing found{why}"), theme.caution())
        }
        (None, Some(r), None) => {
            let more = if r.more {
                " (the most recently written; more was found: add words)"
            } else {
                ""
            };
            Line::styled(
                format!(
                    " {} found, newest first{more} · Enter opens · / changes the words",
                    r.hits.len()
                ),
                theme.dim(),
            )
        }
    };
    frame.render_widget(status, status_area);

    let text_width = usize::from(results_area.width.saturating_sub(6)).max(8);
    let words = s.results.as_ref().map(|r| &r.words);
    let items: Vec<ListItem<'_>> = s
        .hits()
        .iter()
        .map(|hit| {
            let corrected = hit.found.is_corrected();
            // Where, when, who and what: as many lines as the width needs, parted between
            // its pieces, so that none is cut (an entry's being struck least of all).
            let pieces = [
                hit.at.format("%d %b %Y %H:%M").to_string(),
                hit.patient_name.clone(),
                format!("{} #{}", hit.session_kind.as_str(), hit.session),
                hit.author.clone(),
                hit.found.describe(),
            ];
            let mut heading: Vec<String> = vec![String::new()];
            for piece in pieces {
                let piece = escape_controls(&piece, false).into_owned();
                let line = heading.last_mut().expect("a line");
                let needed = line.chars().count() + 3 + piece.chars().count();
                if line.is_empty() {
                    line.push_str(&piece);
                } else if needed <= text_width + 4 {
                    line.push_str(" · ");
                    line.push_str(&piece);
                } else {
                    heading.push(format!("  {piece}"));
                }
            }
            let heading_style = if corrected {
                theme.caution()
            } else {
                theme.title()
            };
            let excerpt = match words {
                Some(w) => Excerpt::of(&hit.text, w, text_width),
                None => Excerpt {
                    text: hit.text.clone(),
                    marks: Vec::new(),
                },
            };
            let text = escape_controls(&excerpt.text, false);
            // Escaping changes the text only where it held a control character kapchart
            // refuses: the marks are then left out rather than misplaced.
            let marks = if text.len() == excerpt.text.len() {
                excerpt.marks.clone()
            } else {
                Vec::new()
            };
            let style = if corrected {
                theme.struck()
            } else {
                Style::new()
            };
            let mut body = vec![Span::raw(if corrected { "  ✗ " } else { "    " })];
            body.extend(marked_spans(&text, &marks, style, theme.found()));
            let mut lines: Vec<Line<'_>> = heading
                .into_iter()
                .map(|h| Line::styled(h, heading_style))
                .collect();
            lines.push(Line::from(body));
            ListItem::new(lines)
        })
        .collect();
    let title = match &s.results {
        Some(_) => format!(
            " Found for \"{}\" ",
            escape_controls(&s.searched.chars().take(40).collect::<String>(), false)
        ),
        None => " Found ".to_string(),
    };
    let mut state = ListState::default().with_selected((!items.is_empty()).then_some(s.selected));
    let list = List::new(items)
        .block(panel_block(app, title, !s.editing))
        .highlight_style(if s.editing {
            Style::new()
        } else {
            theme.selected()
        });
    frame.render_stateful_widget(list, results_area, &mut state);
}
