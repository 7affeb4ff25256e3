//! The vitals flowsheet, newest first: BP, HR, SpO2, RR, temperature and MOAA/S, with the
//! CADSS-6 total and respiratory status once the session charts them. Every column is as
//! wide as its widest value with its `!` (never cut); the time carries the date when the
//! readings fall on two dates, or, where that does not fit, each day's readings are headed
//! by a row naming the date. Only if the values still do not fit is a column left off,
//! from the right, and the title names it (the timeline has every value).

use super::fit;
use super::panel_block;
use super::values::{self, VitalAlerts};
use super::when::{self, Dates};
use crate::domain::{ChartLine, EntryStatus, FlagCode, Payload};
use crate::tui::live::Live;
use crate::tui::state::App;
use chrono::{DateTime, FixedOffset};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::Span;
use ratatui::widgets::{Cell, Row, Table};

/// One row of the flowsheet: a vitals reading, with the MOAA/S, CADSS-6 total and
/// respiratory status charted alongside it (each value with whether it was flagged).
struct FlowRow<'a> {
    at: DateTime<FixedOffset>,
    vitals: Option<&'a ChartLine>,
    moaas: Option<(u8, bool)>,
    cadss: Option<(u16, bool)>,
    resp: Option<(&'static str, bool)>,
}

impl FlowRow<'_> {
    fn at(at: DateTime<FixedOffset>) -> Self {
        FlowRow {
            at,
            vitals: None,
            moaas: None,
            cadss: None,
            resp: None,
        }
    }
}

/// The row a score charted at `at` joins: the latest within 3 minutes whose `slot` is
/// free, else a new row of its own.
fn row_for<'r, 'a>(
    rows: &'r mut Vec<FlowRow<'a>>,
    at: DateTime<FixedOffset>,
    free: impl Fn(&FlowRow<'a>) -> bool,
) -> &'r mut FlowRow<'a> {
    let near = rows
        .iter()
        .rposition(|r| free(r) && (at - r.at).num_minutes().abs() <= 3);
    let i = match near {
        Some(i) => i,
        None => {
            rows.push(FlowRow::at(at));
            rows.len() - 1
        }
    };
    &mut rows[i]
}

fn flow_rows(live: &Live) -> Vec<FlowRow<'_>> {
    let mut rows: Vec<FlowRow<'_>> = Vec::new();
    for l in live
        .lines()
        .iter()
        .filter(|l| l.status == EntryStatus::Current)
    {
        let alert = |codes: &[FlagCode]| l.entry.flags.iter().any(|f| codes.contains(&f.code));
        match &l.entry.payload {
            Payload::Vitals(_) => rows.push(FlowRow {
                vitals: Some(l),
                ..FlowRow::at(l.entry.event_time)
            }),
            Payload::Dissociation(d) => {
                let flagged = alert(&[FlagCode::Dissociation]);
                row_for(&mut rows, l.entry.event_time, |r| r.cadss.is_none()).cadss =
                    Some((d.total(), flagged));
            }
            Payload::Respiration(resp) => {
                let flagged = alert(&[FlagCode::RespDepressed]);
                let word = if resp.depressed { "depr" } else { "ok" };
                row_for(&mut rows, l.entry.event_time, |r| r.resp.is_none()).resp =
                    Some((word, flagged));
            }
            Payload::Sedation(s) => {
                let flagged = alert(&[FlagCode::DeepSedation]);
                // A score within 3 minutes of a reading joins its row.
                row_for(&mut rows, l.entry.event_time, |r| r.moaas.is_none()).moaas =
                    Some((s.moaas, flagged));
            }
            _ => {}
        }
    }
    rows.sort_by_key(|r| r.at);
    rows
}

/// A cell's text and whether it carries an alert (None: nothing charted).
type Value = Option<(String, bool)>;

/// The flowsheet as text: its titles and each row's values, newest first.
struct Sheet {
    titles: Vec<&'static str>,
    /// (when, T+, values), newest first.
    rows: Vec<(DateTime<FixedOffset>, String, Vec<Value>)>,
    dates: bool,
}

fn sheet(live: &Live) -> Sheet {
    let first_dose = live.first_dose();
    let flow = flow_rows(live);
    // CADSS-6 and respiratory status columns appear once a session charts them (esketamine).
    let esketamine = flow.iter().any(|r| r.cadss.is_some() || r.resp.is_some());
    let mut titles = vec!["BP", "HR", "SpO2", "RR", "T°C", "MOAA/S"];
    if esketamine {
        titles.extend(["CADSS", "Resp"]);
    }
    let dates = when::spans_dates(flow.iter().map(|r| r.at));
    let rows = flow
        .iter()
        .rev()
        .map(|r| {
            let alerts = r.vitals.map(VitalAlerts::of).unwrap_or_default();
            let texts = r
                .vitals
                .and_then(|l| match &l.entry.payload {
                    Payload::Vitals(v) => Some(values::vital_texts(v)),
                    _ => None,
                })
                .unwrap_or_default();
            let [bp, hr, spo2, rr, temp] = texts;
            let mut cells: Vec<Value> = vec![
                bp.map(|t| (t, alerts.bp)),
                hr.map(|t| (t, alerts.hr)),
                spo2.map(|t| (t, alerts.spo2)),
                rr.map(|t| (t, alerts.rr)),
                temp.map(|t| (t, false)),
                r.moaas.map(|(m, f)| (m.to_string(), f)),
            ];
            if esketamine {
                cells.push(r.cadss.map(|(c, f)| (c.to_string(), f)));
                cells.push(r.resp.map(|(w, f)| (w.to_string(), f)));
            }
            (
                r.at,
                crate::domain::since_dose::t_plus_label(first_dose, r.at),
                cells,
            )
        })
        .collect();
    Sheet {
        titles,
        rows,
        dates,
    }
}

/// Each value column's width: its widest value with its mark, or its title.
fn value_widths(s: &Sheet) -> Vec<u16> {
    s.titles
        .iter()
        .enumerate()
        .map(|(i, title)| {
            s.rows
                .iter()
                .filter_map(|(_, _, cells)| cells[i].as_ref())
                .map(|(t, alert)| fit::width(t) + usize::from(*alert))
                .chain([fit::width(title)])
                .max()
                .unwrap_or(0) as u16
        })
        .collect()
}

/// How the flowsheet is laid out in the width it has.
struct Fitted {
    dates: Dates,
    /// How many value columns (from the left) are shown.
    shown: usize,
    t_width: u16,
    spacing: u16,
}

/// The roomiest layout that fits in `inner`: the time with its date (when the readings
/// fall on two dates) before rows naming the dates, two spaces between columns before one,
/// and every column before leaving one off.
fn layout(s: &Sheet, inner: u16) -> Fitted {
    let t_width = s
        .rows
        .iter()
        .map(|(_, t, _)| fit::width(t))
        .chain([2])
        .max()
        .unwrap_or(2) as u16;
    let values = value_widths(s);
    let total = |dates: Dates, n: usize, spacing: u16| {
        when::time_width(dates)
            + spacing
            + t_width
            + values.iter().take(n).map(|w| w + spacing).sum::<u16>()
    };
    let all = values.len();
    let tries: &[(Dates, u16)] = if s.dates {
        &[
            (Dates::InColumn, 2),
            (Dates::InColumn, 1),
            (Dates::InRows, 2),
            (Dates::InRows, 1),
        ]
    } else {
        &[(Dates::One, 2), (Dates::One, 1)]
    };
    let fitted = |dates, shown, spacing| Fitted {
        dates,
        shown,
        t_width,
        spacing,
    };
    for (dates, spacing) in tries {
        if total(*dates, all, *spacing) <= inner {
            return fitted(*dates, all, *spacing);
        }
    }
    let dates = if s.dates { Dates::InRows } else { Dates::One };
    let shown = (1..=all).rev().find(|n| total(dates, *n, 1) <= inner);
    fitted(dates, shown.unwrap_or(1), 1)
}

/// The width the flowsheet takes at its roomiest (every column, the date in the time
/// column, two spaces between columns), with its borders.
pub fn needed_width(live: &Live) -> u16 {
    let s = sheet(live);
    let dates = if s.dates { Dates::InColumn } else { Dates::One };
    let f = layout(&s, u16::MAX);
    when::time_width(dates)
        + 2
        + f.t_width
        + value_widths(&s).iter().map(|w| w + 2).sum::<u16>()
        + 2
}

pub fn draw(app: &App, live: &Live, frame: &mut Frame<'_>, area: Rect) {
    let theme = &app.theme;
    let s = sheet(live);
    let inner = area.width.saturating_sub(2);
    let Fitted {
        dates,
        shown,
        t_width,
        spacing,
    } = layout(&s, inner);
    let widths = value_widths(&s);
    let cell = |value: &Value| -> Cell<'_> {
        match value {
            Some((v, alert)) => Cell::from(values::value(v.clone(), *alert, theme, Style::new())),
            None => Cell::from(Span::styled("·", theme.dim())),
        }
    };
    // Only the rows that fit are built (newest first, so the latest reading is in view).
    let fits = usize::from(area.height.saturating_sub(3));
    let mut rows: Vec<Row<'_>> = Vec::new();
    let mut day = None;
    for (at, t, cells) in &s.rows {
        if rows.len() >= fits {
            break;
        }
        if dates == Dates::InRows && day != Some(at.date_naive()) {
            // A day's row only with a reading under it.
            if rows.len() + 1 >= fits {
                break;
            }
            day = Some(at.date_naive());
            rows.push(
                Row::new([Cell::from(when::day_label(at.date_naive()))]).style(theme.title()),
            );
        }
        let mut row = vec![
            Cell::from(when::time_cell(*at, dates)),
            Cell::from(t.clone()),
        ];
        row.extend(cells.iter().take(shown).map(cell));
        rows.push(Row::new(row));
    }
    let mut titles = vec!["Time", "T+"];
    titles.extend(s.titles.iter().take(shown));
    let mut constraints = vec![
        Constraint::Length(when::time_width(dates)),
        Constraint::Length(t_width),
    ];
    constraints.extend(widths.iter().take(shown).map(|w| Constraint::Length(*w)));
    let left_off: Vec<&str> = s.titles.iter().skip(shown).copied().collect();
    let title = if left_off.is_empty() {
        " Vitals (newest first) ".to_string()
    } else {
        format!(
            " Vitals (newest first; {} on the timeline) ",
            left_off.join(", ")
        )
    };
    let header = Row::new(titles).style(theme.title());
    frame.render_widget(
        Table::new(rows, constraints)
            .header(header)
            .column_spacing(spacing)
            .block(panel_block(app, title, false)),
        area,
    );
}
