//! The live screen's timeline: every entry in event-time order, with the overdue and missed
//! checks at their due time. The time, T+, kind and author columns are as wide as what they
//! hold; the content takes the rest and wraps onto more rows (at most three, the last
//! ending ` …`, unless the row carries an alert or is the one selected); so a value, its
//! alert mark and a witness's name are never cut.

use super::fit;
use super::panel_block;
use super::values;
use super::when::{self, Dates};
use crate::domain::protocol::{Check, CheckStatus};
use crate::domain::{ChartLine, EntryStatus, Payload};
use crate::tui::live::{Focus, Live};
use crate::tui::state::App;
use crate::tui::theme::{OVERDUE, Theme};
use chrono::{DateTime, FixedOffset, NaiveDate};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Cell, Row, Table, TableState};

/// From this width the timeline shows each entry's id.
const IDS_FROM: u16 = 90;
/// Rows a shortened entry keeps.
const MAX_ROWS: usize = 3;
/// The content column keeps at least this much beside a time column that carries the
/// date; narrower, the date moves to a row of its own.
const CONTENT_WITH_DATES: u16 = 40;

/// The widest kind label ("measure", "aldrete", "⚠ check").
const KIND_WIDTH: u16 = 7;

/// What a row of the timeline is.
enum Item<'a> {
    Entry(usize, &'a ChartLine),
    Check(&'a Check),
    Day(NaiveDate),
}

pub fn draw(app: &App, live: &Live, checks: &[Check], frame: &mut Frame<'_>, area: Rect) {
    let theme = &app.theme;
    let first_dose = live.first_dose();
    let focused = live.focus == Focus::Timeline && live.panel.is_none();
    // Under a find (`/`), only the entries that hold its words, the words marked.
    let words = live.find_words();
    let mut items: Vec<(DateTime<FixedOffset>, Item<'_>)> = live
        .lines()
        .iter()
        .enumerate()
        .filter(|(i, _)| words.is_none() || live.shows(*i))
        .map(|(i, l)| (l.entry.event_time, Item::Entry(i, l)))
        .collect();
    for c in checks
        .iter()
        .filter(|c| matches!(c.status, CheckStatus::Overdue | CheckStatus::Missed))
        .filter(|_| words.is_none())
    {
        if let Some(due) = c.due {
            items.push((due, Item::Check(c)));
        }
    }
    items.sort_by_key(|(at, item)| (*at, matches!(item, Item::Entry(..))));
    let authors = super::authors::labels(live.lines().iter().map(|l| l.entry.author.as_str()));

    // Column widths from what they hold.
    let with_ids = area.width >= IDS_FROM;
    let id_width = if with_ids {
        let newest = live.lines().iter().map(|l| l.entry.id).max().unwrap_or(0);
        fit::width(&format!("#{newest}")) as u16
    } else {
        0
    };
    // The widest T+ is the earliest's or the latest's (the rows are in time order).
    let t_width = [items.first(), items.last()]
        .into_iter()
        .flatten()
        .map(|(at, _)| fit::width(&crate::domain::since_dose::t_plus_label(first_dose, *at)))
        .max()
        .unwrap_or(0) as u16;
    // The kind column keeps one width, so that the content does not move as kinds come.
    let kind_width = KIND_WIDTH;
    let author_width = authors.values().map(|a| fit::width(a)).max().unwrap_or(0) as u16;
    let inner = area.width.saturating_sub(2);
    let fixed = |time: u16| {
        let columns = [id_width, time, t_width, kind_width, author_width];
        let shown = columns.iter().filter(|w| **w > 0).count() as u16;
        columns.iter().sum::<u16>() + shown
    };
    let ends = [items.first(), items.last()].into_iter().flatten();
    let dates = if !when::spans_dates(ends.map(|(at, _)| *at)) {
        Dates::One
    } else if inner.saturating_sub(fixed(when::time_width(Dates::InColumn))) >= CONTENT_WITH_DATES {
        Dates::InColumn
    } else {
        Dates::InRows
    };
    if dates == Dates::InRows {
        items = with_day_rows(items);
    }
    let time_width = when::time_width(dates);
    let content_width = usize::from(inner.saturating_sub(fixed(time_width)).max(10));

    // Keep the newest rows in view while charting; follow the selection in the timeline.
    let target = if focused {
        items
            .iter()
            .position(|(_, item)| matches!(item, Item::Entry(i, _) if *i == live.selected))
    } else {
        items.len().checked_sub(1)
    };
    let avail = area.height.saturating_sub(2).max(1);
    let content = |i: usize| -> Vec<Line<'_>> {
        let item = &items[i].1;
        let selected = focused && Some(i) == target;
        row_content(app, live, checks, item, content_width, selected, avail)
    };
    // Only the rows that fit are built, where the table would scroll to show the target row
    // (inside the panel's borders): a frame costs the same at 40 entries as at 500
    // (BENCHMARKS.md section 4).
    let mut built: Vec<(usize, Vec<Line<'_>>)> = Vec::new();
    let start = if windowed() {
        let mut start = target.unwrap_or(0);
        let mut used = 0;
        if let Some(t) = target {
            let lines = content(t);
            used = lines.len() as u16;
            built.push((t, lines));
            while start > 0 {
                let lines = content(start - 1);
                if used + lines.len() as u16 > avail {
                    break;
                }
                used += lines.len() as u16;
                start -= 1;
                built.insert(0, (start, lines));
            }
        }
        // As the table scrolls: from the top, the rows after the target while they fit and
        // one more drawn in part; scrolled down to the target, one more row at most.
        let mut next = target.map_or(0, |t| t + 1);
        while used < avail && next < items.len() {
            let lines = content(next);
            used += lines.len() as u16;
            built.push((next, lines));
            next += 1;
            if start > 0 {
                break;
            }
        }
        start
    } else {
        built = (0..items.len()).map(|i| (i, content(i))).collect();
        0
    };
    let rows: Vec<Row<'_>> = built
        .into_iter()
        .map(|(i, lines)| {
            let (at, item) = &items[i];
            let height = lines.len() as u16;
            let (time, style) = match item {
                Item::Day(day) => (when::day_label(*day), theme.title()),
                Item::Check(_) => (when::time_cell(*at, dates), theme.overdue()),
                Item::Entry(..) => (when::time_cell(*at, dates), Style::new()),
            };
            let mut cells = Vec::new();
            if with_ids {
                cells.push(Cell::from(match item {
                    Item::Entry(_, l) => format!("#{}", l.entry.id),
                    _ => String::new(),
                }));
            }
            cells.push(Cell::from(time));
            let t = match item {
                Item::Day(_) => String::new(),
                _ => crate::domain::since_dose::t_plus_label(first_dose, *at),
            };
            if t_width > 0 {
                cells.push(Cell::from(t));
            }
            cells.push(Cell::from(match item {
                Item::Entry(_, l) => kind_label(&l.entry.payload).to_string(),
                Item::Check(_) => check_label(),
                Item::Day(_) => String::new(),
            }));
            cells.push(Cell::from(Text::from(lines)));
            if author_width > 0 {
                cells.push(Cell::from(match item {
                    Item::Entry(_, l) => authors
                        .get(l.entry.author.as_str())
                        .cloned()
                        .unwrap_or_default(),
                    _ => String::new(),
                }));
            }
            Row::new(cells).height(height).style(style)
        })
        .collect();
    let mut widths = Vec::new();
    if with_ids {
        widths.push(Constraint::Length(id_width));
    }
    widths.push(Constraint::Length(time_width));
    if t_width > 0 {
        widths.push(Constraint::Length(t_width));
    }
    widths.push(Constraint::Length(kind_width));
    widths.push(Constraint::Min(10));
    if author_width > 0 {
        widths.push(Constraint::Length(author_width));
    }
    let mut state = TableState::default();
    state.select(target.map(|t| t - start));
    let table = Table::new(rows, widths)
        .column_spacing(1)
        .block(panel_block(app, title(live), focused))
        .row_highlight_style(if focused {
            theme.selected()
        } else {
            Style::new()
        });
    frame.render_stateful_widget(table, area, &mut state);
}

/// The timeline's title: how many entries, and under a find its words and what it shows.
fn title(live: &Live) -> String {
    let all = live.lines().len();
    let entries = |n: usize| format!("{n} entr{}", if n == 1 { "y" } else { "ies" });
    match &live.find {
        None => format!(" Timeline ({}) ", entries(all)),
        Some(f) => {
            let typed: String = f.typed.chars().take(40).collect();
            let typed = crate::domain::text::escape_controls(&typed, false);
            let cursor = if f.editing { "▏" } else { "" };
            let shown = if live.find_words().is_some() {
                live.shown_count()
            } else {
                all
            };
            format!(
                " Find: {typed}{cursor} · {shown} of {} · Esc: all ",
                entries(all)
            )
        }
    }
}

/// `items` with a row naming the date before each day's first row.
fn with_day_rows<'a>(
    items: Vec<(DateTime<FixedOffset>, Item<'a>)>,
) -> Vec<(DateTime<FixedOffset>, Item<'a>)> {
    let mut out = Vec::with_capacity(items.len() + 2);
    let mut day = None;
    for (at, item) in items {
        if day != Some(at.date_naive()) {
            day = Some(at.date_naive());
            out.push((at, Item::Day(at.date_naive())));
        }
        out.push((at, item));
    }
    out
}

fn check_label() -> String {
    format!("{OVERDUE} check")
}

/// The content of a row in rows of `width`: whole when it carries an alert or is selected
/// (up to the panel's `height`), else at most three rows.
#[allow(clippy::too_many_arguments)]
fn row_content<'a>(
    app: &App,
    live: &'a Live,
    checks: &[Check],
    item: &Item<'a>,
    width: usize,
    selected: bool,
    height: u16,
) -> Vec<Line<'a>> {
    let theme = &app.theme;
    match item {
        Item::Day(_) => vec![Line::default()],
        Item::Check(c) => {
            let what = if c.status == CheckStatus::Missed {
                "MISSED"
            } else {
                "OVERDUE"
            };
            // A round charted in part says what it misses.
            let text = match c.missing_text() {
                Some(m) => format!("{what}: {c}, {m}"),
                None => format!("{what}: {c} not charted"),
            };
            let rows = fit::wrap(Line::from(text), width);
            fit::limit(rows, usize::from(height), width)
        }
        Item::Entry(_, l) => {
            let e = &l.entry;
            let (style, status) = match l.status {
                EntryStatus::Current => (Style::new(), String::new()),
                EntryStatus::Amended { by } => (theme.struck(), format!("amended → #{by} ")),
                EntryStatus::Struck { by } => (theme.struck(), format!("✗ struck by #{by} ")),
            };
            let mut spans = vec![Span::styled(status, theme.dim())];
            if let Some(words) = live.find_words() {
                // Under a find, the line as the search reads it (`domain::search::line_text`),
                // the words it was found by marked.
                let content = crate::domain::search::line_text(e);
                let found = words.marks(&content);
                spans.extend(super::marked_spans(&content, &found, style, theme.found()));
            } else if let (Some(target), Some(reason)) = (e.corrects, &e.reason) {
                if matches!(e.payload, Payload::Strike) {
                    spans.push(Span::styled(format!("strikes #{target}: {reason}"), style));
                } else {
                    spans.extend(entry_content(live, l, theme, style));
                    spans.push(Span::styled(
                        format!(" (amends #{target}: {reason})"),
                        style,
                    ));
                }
            } else {
                spans.extend(entry_content(live, l, theme, style));
            }
            if let Some(w) = crate::domain::witness::witness_of(live.lines(), e.id) {
                spans.push(Span::styled(
                    format!(" · witnessed by {}", w.entry.author),
                    style,
                ));
            }
            let mut marks = values::other_marks(l);
            // An alert someone acknowledged says so on its own row.
            if e.flags.iter().any(|f| f.code.is_alert())
                && live.data.chart.acknowledged_by(e.id).is_some()
            {
                if !marks.is_empty() {
                    marks.push(' ');
                }
                marks.push_str("acknowledged");
            }
            // A reading that closed an overdue check says so: the lapse is on the record.
            for c in checks {
                if let CheckStatus::DoneLate { by, late_min } = c.status
                    && by == e.id
                {
                    let t = c
                        .t_plus_min
                        .map(|t| {
                            format!(
                                " {}",
                                crate::domain::since_dose::t_plus_minutes(i64::from(t))
                            )
                        })
                        .unwrap_or_default();
                    if !marks.is_empty() {
                        marks.push(' ');
                    }
                    marks.push_str(&format!("({}{t} {late_min} min late)", c.kind));
                }
            }
            let alert = e.flags.iter().any(|f| f.code.is_alert());
            if !marks.is_empty() {
                spans.push(Span::raw(" "));
                spans.push(Span::styled(
                    marks,
                    if alert { theme.alert() } else { theme.dim() },
                ));
            }
            let rows = fit::wrap(Line::from(spans), width);
            let max = if selected {
                usize::from(height)
            } else if alert {
                usize::MAX
            } else {
                MAX_ROWS
            };
            // No row is taller than the panel: what is left out is marked.
            fit::limit(rows, max.min(usize::from(height)), width)
        }
    }
}

/// An entry's content: its values with their alert marks, or for an acknowledgement and a
/// witness what they point at (the alert's words, the dose and its drug), as every listing of
/// the session gives them.
fn entry_content<'a>(live: &Live, l: &ChartLine, theme: &Theme, style: Style) -> Vec<Span<'a>> {
    match l.entry.payload {
        Payload::Acknowledgement(_) | Payload::Witness(_) => {
            vec![Span::styled(live.data.chart.summary(&l.entry), style)]
        }
        _ => values::content(l, theme, style),
    }
}

pub(super) fn kind_label(p: &Payload) -> &'static str {
    match p {
        Payload::Vitals(_) => "vitals",
        Payload::Sedation(_) => "sedat",
        Payload::Dissociation(_) => "cadss",
        Payload::Respiration(_) => "resp",
        Payload::Dose(_) => "DOSE",
        Payload::Observation(_) => "obs",
        Payload::Strike => "strike",
        Payload::Unreadable(_) => "DAMAGED",
        Payload::Acknowledgement(_) => "ack",
        Payload::Aldrete(_) => "aldrete",
        Payload::RideHome(_) => "ride",
        Payload::PatientReady => "ready",
        Payload::SessionEnd(_) => "end",
        Payload::RemsSubmitted(_) => "REMS",
        Payload::Measure(_) => "measure",
        Payload::RiskAssessment(_) => "risk",
        Payload::Screening(_) => "screen",
        Payload::Eligibility(_) => "eligib",
        Payload::Intention(_) => "intent",
        Payload::Setting(_) => "setting",
        Payload::Consent(_) => "consent",
        Payload::Witness(_) => "witness",
        Payload::Waste(_) => "WASTE",
    }
}

/// Whether the timeline builds only the rows that fit; the tests also draw it whole, to hold
/// the window to the whole table's picture.
fn windowed() -> bool {
    #[cfg(test)]
    {
        !WHOLE_TIMELINE.with(std::cell::Cell::get)
    }
    #[cfg(not(test))]
    {
        true
    }
}

#[cfg(test)]
thread_local! {
    pub(super) static WHOLE_TIMELINE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}
