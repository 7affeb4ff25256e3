//! The live session screen: header with the session clock and the next protocol check,
//! timeline, vitals flowsheet, BP/HR trend chart and the quick-entry bar.

use super::{fit, panel_block, when};
use crate::domain::entry::trim_number;
use crate::domain::protocol::{self, Check, CheckKind, CheckStatus};
use crate::domain::stock::MG_EPSILON;
use crate::domain::stock::at_hand::AtHand;
use crate::domain::{EntryStatus, Payload, SessionKind};
use crate::tui::live::{Focus, Live};
use crate::tui::state::App;
use crate::tui::theme::OVERDUE;
use chrono::{DateTime, Duration, FixedOffset};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::style::Modifier;
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Chart, Dataset, GraphType, Paragraph};

/// At this width the flowsheet and the trend chart sit beside the timeline.
const WIDE: u16 = 120;

pub fn draw(app: &App, live: &Live, frame: &mut Frame<'_>, area: Rect) {
    let checks = session_checks(app, live);
    let width = usize::from(area.width);
    // What the header and the line under the bar need, fitted by the README's rule; the
    // rows they take beyond their first come out of the timeline's.
    let [first, second, third] = header(app, live, &checks, area.width);
    let clock_rows = fit::wrap_at(second, " · ", width);
    let status_rows = fit::wrap(third, width);
    let preview_rows = fit::wrap(preview_line(app, live), width);
    let spare = area.height.saturating_sub(3 + BODY_AT_LEAST + 4);
    let clock_rows = fit::limit(clock_rows, 1 + usize::from(spare), width);
    let spare = spare.saturating_sub(clock_rows.len() as u16 - 1);
    let status_rows = fit::limit(status_rows, 1 + usize::from(spare.min(2)), width);
    let spare = spare.saturating_sub(status_rows.len() as u16 - 1);
    let preview_rows = fit::limit(preview_rows, 1 + usize::from(spare.min(2)), width);
    let mut header_rows = vec![fit::shorten(first, width)];
    header_rows.extend(clock_rows);
    header_rows.extend(status_rows);
    let [header_area, body, entry] = Layout::vertical([
        Constraint::Length(header_rows.len() as u16),
        Constraint::Min(BODY_AT_LEAST),
        Constraint::Length(3 + preview_rows.len() as u16),
    ])
    .areas(area);
    frame.render_widget(Paragraph::new(header_rows), header_area);
    if area.width >= WIDE {
        let side_width = if live.data.chart.is_dosing() {
            // The flowsheet as wide as its values, the timeline the rest.
            super::flowsheet::needed_width(live).clamp(body.width * 45 / 100, body.width * 55 / 100)
        } else {
            body.width * 45 / 100
        };
        let [timeline, side] =
            Layout::horizontal([Constraint::Min(10), Constraint::Length(side_width)]).areas(body);
        let [flow, trend] =
            Layout::vertical([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(side);
        super::timeline::draw(app, live, &checks, frame, timeline);
        if live.data.chart.is_dosing() {
            super::flowsheet::draw(app, live, frame, flow);
            draw_trend(app, live, frame, trend);
        } else {
            super::purpose::draw(app, live, frame, side);
        }
    } else if !live.data.chart.is_dosing() {
        // No vitals protocol outside dosing: what the session is for takes the lower half.
        let [timeline, purpose] =
            Layout::vertical([Constraint::Min(4), Constraint::Percentage(55)]).areas(body);
        super::timeline::draw(app, live, &checks, frame, timeline);
        super::purpose::draw(app, live, frame, purpose);
    } else {
        let tall = body.height >= 30;
        // The flowsheet keeps its title and a reading however short the screen; the
        // timeline takes the rest.
        let flow_height = (if tall { 9 } else { 6 })
            .min(body.height.saturating_sub(4))
            .max(4.min(body.height));
        let [timeline, flow, trend] = Layout::vertical([
            Constraint::Min(0),
            Constraint::Length(flow_height),
            Constraint::Length(if tall { 12 } else { 0 }),
        ])
        .areas(body);
        super::timeline::draw(app, live, &checks, frame, timeline);
        super::flowsheet::draw(app, live, frame, flow);
        if tall {
            draw_trend(app, live, frame, trend);
        }
    }
    draw_entry_bar(app, live, frame, entry, preview_rows);
    super::panels::draw(app, live, frame, area);
}

/// The body (timeline, flowsheet) keeps at least this many rows when the header and the
/// line under the bar grow.
const BODY_AT_LEAST: u16 = 8;

/// The protocol's checks for a dosing session; none for other kinds.
fn session_checks(app: &App, live: &Live) -> Vec<Check> {
    live.data.chart.checks(app.now)
}

/// "BP T+40", or the kind alone before the first dose.
pub(super) fn short(c: &Check) -> String {
    match c.t_plus_min {
        Some(t) if c.kind != CheckKind::Baseline => {
            format!(
                "{} {}",
                c.kind,
                crate::domain::since_dose::t_plus_minutes(i64::from(t))
            )
        }
        _ => c.kind.to_string(),
    }
}

/// What a round charted in part still misses, " (missing BP and HR)"; "" for any other check.
pub(super) fn missing(c: &Check) -> String {
    c.missing_text()
        .map(|m| format!(" ({m})"))
        .unwrap_or_default()
}

/// "mm:ss" (or "h:mm:ss") of a duration, never negative.
pub(super) fn clock(d: Duration) -> String {
    let s = d.num_seconds().max(0);
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
    } else {
        format!("{:02}:{:02}", s / 60, s % 60)
    }
}

/// The header's three lines before they are fitted: who and which session; the session
/// clock and the checks; and what needs saying now (an error, the safety flag, a caution
/// to acknowledge, a notice, the minimum observation).
fn header<'a>(app: &App, live: &Live, checks: &[Check], width: u16) -> [Line<'a>; 3] {
    let d = &live.data;
    let theme = &app.theme;
    let age = d.patient.age_on(app.now.date_naive());
    let mut first = vec![
        Span::styled(format!("{}, {age}", d.patient.name), theme.title()),
        Span::raw(format!(
            " · {} {} · session #{}",
            d.session().kind,
            d.number_in_course,
            d.session().id
        )),
    ];
    if let Some(i) = &d.session().intention {
        first.push(Span::raw(format!(" · intention: “{i}”")));
    }

    let first_dose = live.first_dose();
    let end = d.session().ended.unwrap_or(app.now);
    // At 80 columns the clock and the checks must fit on one line: the dose time is on the
    // timeline, so it goes first when space is short.
    let wide = width >= 100;
    let mut second = match first_dose {
        Some(dose) => vec![
            Span::raw(if wide {
                format!("first dose {} · ", dose.format("%H:%M"))
            } else {
                String::new()
            }),
            Span::styled(format!("T+{}", clock(end - dose)), theme.title()),
            // A Spravato session: the devices given so far and their lot (REMS form).
            Span::raw(
                crate::domain::rems::devices_and_lots(&d.chart, &d.chart.rules().rems)
                    .map(|s| format!(" · {s}"))
                    .unwrap_or_default(),
            ),
        ],
        None => vec![
            Span::raw(if d.chart.is_dosing() {
                format!("{} · ", d.chart.no_clock_dose_words())
            } else {
                String::new()
            }),
            Span::styled(
                match d.session().ended {
                    Some(_) => format!("ran {}", when::minutes(end - d.chart.period().start)),
                    None => format!(
                        "started {} ago",
                        when::minutes(end - d.chart.period().start)
                    ),
                },
                theme.title(),
            ),
        ],
    };
    if let Some(i) = &d.integrates {
        second.push(Span::raw(format!(
            " · integrates dosing {} (session #{})",
            i.number_in_course,
            i.chart.session().id
        )));
    }
    if let Some(ended) = d.session().ended {
        second.push(Span::raw(format!(" · ended {}", ended.format("%H:%M"))));
    }
    // The overdue checks (the oldest named, the others counted), then the next check to come,
    // always in view; the missed ones last (they are on the timeline too).
    let summary = protocol::summary(checks);
    if let Some(oldest) = summary.overdue.first() {
        let late = oldest
            .due
            .map(|due| format!(" {} min late", (app.now - due).num_minutes()))
            .unwrap_or_default();
        let more = match summary.overdue.len() {
            1 => String::new(),
            n => format!(" (+{} more)", n - 1),
        };
        second.push(Span::raw(" · "));
        second.push(Span::styled(
            format!(
                "{OVERDUE} OVERDUE: {}{late}{}{more}",
                short(oldest),
                missing(oldest)
            ),
            theme.overdue(),
        ));
    }
    match &summary.next {
        Some(c) if c.status == CheckStatus::Due => {
            second.push(Span::raw(" · "));
            second.push(Span::styled(
                format!("{OVERDUE} due now: {}{}", short(c), missing(c)),
                theme.caution(),
            ));
        }
        Some(c) => {
            let countdown = c
                .due
                .map(|due| format!(" in {}", when::minutes_up(due - app.now)))
                .unwrap_or_default();
            second.push(Span::raw(format!(
                " · next: {}{}{countdown}",
                short(c),
                missing(c)
            )));
        }
        None if summary.overdue.is_empty()
            && d.session().kind == SessionKind::Dosing
            && d.session().ended.is_none() =>
        {
            second.push(Span::styled(" · checks up to date", theme.ok()));
        }
        None => {}
    }
    if summary.missed > 0 {
        second.push(Span::raw(" · "));
        second.push(Span::styled(
            format!("{} missed", summary.missed),
            theme.overdue(),
        ));
    }
    // The vial at hand and what it holds, after the checks (they come first at 80 columns).
    if let Some(a) = d.at_hand().filter(|_| d.session().ended.is_none()) {
        second.push(Span::raw(" · "));
        second.push(at_hand(app, &a));
    }
    let observation = d
        .chart
        .observe_until()
        .filter(|_| d.session().ended.is_none())
        .map(|until| {
            if app.now < until {
                Line::raw(format!(
                    "observe until {} ({} min minimum after the first dose)",
                    until.format("%H:%M"),
                    app.config.protocol.minimum_observation_min
                ))
            } else {
                Line::styled("minimum observation met", theme.ok())
            }
        });

    let third = if let Some(e) = &live.error {
        Line::styled(format!("✗ {e}"), theme.alert())
    } else if let Some(flag) = &d.safety {
        Line::styled(
            format!("{OVERDUE} SAFETY: {flag} (risk-assessment ...)"),
            theme.overdue(),
        )
    } else {
        // What stands until it is acknowledged: the pre-dose caution, else the newest alert
        // nobody acknowledged after it. A notice of what just happened follows it, never in
        // its place (a warning that the read was not audited stays while the screen is
        // open, and would otherwise hide the alert).
        let standing = standing_alert(app, live);
        let notice = live
            .notice
            .as_ref()
            .map(|n| Span::styled(n.clone(), theme.dim()));
        match (standing, notice) {
            (Some(mut line), Some(n)) => {
                line.spans.push(Span::raw(" · "));
                line.spans.push(n);
                line
            }
            (Some(line), None) => line,
            (None, Some(n)) => Line::from(n),
            (None, None) => observation.unwrap_or_default(),
        }
    };
    [Line::from(first), Line::from(second), third]
}

/// "V2 430 mg (8.6 mL) left", "V2 empty", or, when it holds less than the session's last
/// dose of its drug, "⚠ V2 25 mg left, less than the 35 mg dose" in the caution style.
fn at_hand(app: &App, a: &AtHand) -> Span<'static> {
    if a.balance_mg <= MG_EPSILON {
        return Span::raw(format!("{} empty", a.container));
    }
    let ml = a
        .balance_ml
        .map(|ml| format!(" ({} mL)", trim_number(ml, 2)))
        .unwrap_or_default();
    let left = format!(
        "{} {} mg{ml} left",
        a.container,
        trim_number(a.balance_mg, 3)
    );
    match a.short_of {
        Some(dose) => Span::styled(
            format!(
                "{OVERDUE} {left}, less than the {} mg dose",
                trim_number(dose, 3)
            ),
            app.theme.caution(),
        ),
        None => Span::raw(left),
    }
}

/// The alert the header keeps in view with the key that acknowledges it: the pre-dose
/// caution (`⚠ BP 146/94 ... · Ctrl-A acknowledge`), else the newest alert nobody
/// acknowledged (`⚠ open alert T+31: MOAA/S 2 ...`), with how many others wait.
fn standing_alert(app: &App, live: &Live) -> Option<Line<'static>> {
    let theme = &app.theme;
    let chart = &live.data.chart;
    let keys = app.keymap.keys_for(
        crate::tui::keymap::Context::EntryBar,
        crate::tui::keymap::Command::Acknowledge,
    );
    let key = keys.first().map(ToString::to_string).unwrap_or_default();
    let v = chart.alert_in_view()?;
    let more = match v.others {
        0 => String::new(),
        n => format!(" (+{n} more)"),
    };
    let text = v.alert.flag.text.as_str();
    if v.alert.flag.code == crate::domain::FlagCode::BpPredose {
        return Some(Line::styled(
            format!("{OVERDUE} {text} · {key} acknowledge{more}"),
            theme.caution(),
        ));
    }
    let at = v.alert.line.entry.event_time;
    let when = crate::domain::since_dose::t_plus_after(live.first_dose(), at)
        .unwrap_or_else(|| at.format("%H:%M").to_string());
    Some(Line::styled(
        format!("{OVERDUE} open alert {when}: {text} · {key} acknowledge{more}"),
        theme.alert(),
    ))
}

fn draw_trend(app: &App, live: &Live, frame: &mut Frame<'_>, area: Rect) {
    if area.height < 6 {
        return;
    }
    let theme = &app.theme;
    let origin = live.first_dose().unwrap_or(live.data.session().started);
    let minutes = |at: DateTime<FixedOffset>| (at - origin).num_seconds() as f64 / 60.0;
    let mut systolic = Vec::new();
    let mut diastolic = Vec::new();
    let mut hr = Vec::new();
    for l in live
        .lines()
        .iter()
        .filter(|l| l.status == EntryStatus::Current)
    {
        if let Payload::Vitals(v) = &l.entry.payload {
            let x = minutes(l.entry.event_time);
            if let Some(bp) = v.bp {
                systolic.push((x, f64::from(bp.systolic)));
                diastolic.push((x, f64::from(bp.diastolic)));
            }
            if let Some(h) = v.hr {
                hr.push((x, f64::from(h)));
            }
        }
    }
    let end = live.data.session().ended.unwrap_or(app.now);
    let x_min = systolic
        .iter()
        .chain(&hr)
        .map(|p| p.0)
        .fold(0.0_f64, f64::min)
        .floor();
    let x_max = minutes(end).max(x_min + 30.0).ceil();
    let alerts = &app.config.alerts;
    let sys_line = [
        (x_min, f64::from(alerts.systolic_at_or_above)),
        (x_max, f64::from(alerts.systolic_at_or_above)),
    ];
    let dia_line = [
        (x_min, f64::from(alerts.diastolic_at_or_above)),
        (x_max, f64::from(alerts.diastolic_at_or_above)),
    ];
    let hr_line = [
        (x_min, f64::from(alerts.hr_above)),
        (x_max, f64::from(alerts.hr_above)),
    ];
    let y_max = systolic
        .iter()
        .chain(&hr)
        .map(|p| p.1)
        .fold(f64::from(alerts.systolic_at_or_above) + 20.0, f64::max)
        .ceil();
    // Each series has its own mark so that they stay apart without colour; the legend sits
    // above the plot, never over the newest readings.
    let level = |data| {
        Dataset::default()
            .marker(Marker::Custom(ALERT_LEVEL))
            .graph_type(GraphType::Line)
            .style(theme.dim())
            .data(data)
    };
    // A fine line between readings, and the series' letter at each reading on top of it.
    let line = |n, data| {
        Dataset::default()
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(theme.series(n))
            .data(data)
    };
    let readings = |mark, n, data| {
        Dataset::default()
            .marker(Marker::Custom(mark))
            .graph_type(GraphType::Scatter)
            .style(theme.series(n))
            .data(data)
    };
    let datasets = vec![
        level(&sys_line),
        level(&dia_line),
        level(&hr_line),
        line(0, &systolic),
        line(1, &diastolic),
        line(2, &hr),
        // Drawn last wins a shared cell: BP over HR.
        readings(HEART_RATE, 2, &hr),
        readings(DIASTOLIC, 1, &diastolic),
        readings(SYSTOLIC, 0, &systolic),
    ];
    let label = if live.first_dose().is_some() {
        "min after dose"
    } else {
        "min"
    };
    let block = panel_block(app, " BP and HR trend ".into(), false);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let legend = Line::from(vec![
        Span::styled(format!("{SYSTOLIC} systolic  "), theme.series(0)),
        Span::styled(format!("{DIASTOLIC} diastolic  "), theme.series(1)),
        Span::styled(format!("{HEART_RATE} HR  "), theme.series(2)),
        Span::styled(
            format!(
                "{ALERT_LEVEL} alert at sys {} dia {} HR {}",
                alerts.systolic_at_or_above, alerts.diastolic_at_or_above, alerts.hr_above
            ),
            theme.dim(),
        ),
    ]);
    let [legend_area, plot] = Layout::vertical([
        Constraint::Length(legend_rows(&legend, inner.width)),
        Constraint::Min(1),
    ])
    .areas(inner);
    frame.render_widget(
        Paragraph::new(legend).wrap(ratatui::widgets::Wrap { trim: true }),
        legend_area,
    );
    let chart = Chart::new(datasets)
        .legend_position(None)
        .x_axis(Axis::default().title(label).bounds([x_min, x_max]).labels([
            format!("{x_min:.0}"),
            format!("{:.0}", (x_min + x_max) / 2.0),
            format!("{x_max:.0}"),
        ]))
        .y_axis(Axis::default().bounds([40.0, y_max]).labels([
            "40".to_string(),
            format!("{:.0}", (40.0 + y_max) / 2.0),
            format!("{y_max:.0}"),
        ]));
    frame.render_widget(chart, plot);
}

/// The marks of the trend chart's series.
const SYSTOLIC: char = 's';
const DIASTOLIC: char = 'd';
const HEART_RATE: char = 'h';
const ALERT_LEVEL: char = '·';

/// Rows the legend takes at `width`: one, or two when it wraps.
fn legend_rows(legend: &Line<'_>, width: u16) -> u16 {
    if legend.width() <= usize::from(width) {
        1
    } else {
        2
    }
}

fn draw_entry_bar(
    app: &App,
    live: &Live,
    frame: &mut Frame<'_>,
    area: Rect,
    preview_rows: Vec<Line<'_>>,
) {
    let [bar, preview] = Layout::vertical([Constraint::Length(3), Constraint::Min(1)]).areas(area);
    let focused = live.focus == Focus::Entry && live.panel.is_none();
    let title = if live.data.session().ended.is_some() {
        " Chart (session ended: entries are late entries) "
    } else {
        " Chart: bp 128/82 hr 74 · dose … · obs … · @14:05 "
    };
    let text = live.input.text();
    // Scroll so the cursor stays visible in a narrow bar.
    let inner_width = bar.width.saturating_sub(2) as usize;
    let cursor = live.input.cursor();
    let skip = cursor.saturating_sub(inner_width.saturating_sub(1));
    let wrong = match &live.preview {
        Some(Err(problem)) => problem.span(),
        _ => None,
    };
    frame.render_widget(
        Paragraph::new(bar_line(app, text, skip, inner_width, wrong)).block(panel_block(
            app,
            title.into(),
            focused,
        )),
        bar,
    );
    if focused {
        frame.set_cursor_position(Position::new(bar.x + 1 + (cursor - skip) as u16, bar.y + 1));
    }
    frame.render_widget(Paragraph::new(preview_rows), preview);
}

/// The bar's visible text, from character `skip`, `width` characters at most, with the
/// characters of `wrong` (a byte range of `text`: the token the grammar refused) underlined
/// in the alert style, so the clinician sees where the line goes wrong as well as why.
fn bar_line<'a>(
    app: &App,
    text: &str,
    skip: usize,
    width: usize,
    wrong: Option<std::ops::Range<usize>>,
) -> Line<'a> {
    let wrong = wrong.filter(|r| {
        r.end <= text.len() && text.is_char_boundary(r.start) && text.is_char_boundary(r.end)
    });
    let mut spans: Vec<Span<'a>> = Vec::new();
    let mut run = String::new();
    let mut run_wrong = false;
    for (i, c) in text.char_indices().skip(skip).take(width) {
        let is_wrong = wrong.as_ref().is_some_and(|r| r.contains(&i));
        if is_wrong != run_wrong && !run.is_empty() {
            spans.push(bar_span(app, std::mem::take(&mut run), run_wrong));
        }
        run_wrong = is_wrong;
        run.push(c);
    }
    if !run.is_empty() {
        spans.push(bar_span(app, run, run_wrong));
    }
    Line::from(spans)
}

fn bar_span<'a>(app: &App, text: String, wrong: bool) -> Span<'a> {
    if wrong {
        Span::styled(text, app.theme.alert().add_modifier(Modifier::UNDERLINED))
    } else {
        Span::raw(text)
    }
}

/// The line under the bar: what the typed line will chart, with its flags, or why it
/// cannot; with the timeline focused, the selected entry's author and when it was written.
fn preview_line<'a>(app: &App, live: &Live) -> Line<'a> {
    let theme = &app.theme;
    let on_timeline = live.focus == Focus::Timeline && live.panel.is_none();
    match &live.preview {
        // The selected entry's author in full, and when it was written.
        _ if on_timeline => live
            .selected_line()
            .map(|l| Line::styled(super::authors::detail(l), theme.dim()))
            .unwrap_or_default(),
        None => Line::styled(" type a line; Enter charts it", theme.dim()),
        Some(Err(e)) => Line::styled(
            format!(" ✗ {}", crate::tui::wording::line_problem(e)),
            theme.alert(),
        ),
        Some(Ok(entries)) => {
            let mut spans = vec![Span::raw(" → ")];
            if let Some(first) = entries.first() {
                if (app.now - first.event_time).num_seconds() > 59 {
                    // Another day's time says its date: `@23:50` typed at 00:04 is yesterday's.
                    let format = if first.event_time.date_naive() == app.now.date_naive() {
                        "@%H:%M "
                    } else {
                        "@%d %b %H:%M "
                    };
                    spans.push(Span::styled(
                        first.event_time.format(format).to_string(),
                        theme.title(),
                    ));
                }
            }
            for (i, e) in entries.iter().enumerate() {
                if i > 0 {
                    spans.push(Span::raw(" + "));
                }
                spans.push(Span::raw(e.payload.to_string()));
                for f in &e.flags {
                    let style = if f.code.is_alert() {
                        theme.alert()
                    } else {
                        theme.caution()
                    };
                    spans.push(Span::styled(format!("  [{f}]"), style));
                }
            }
            Line::from(spans)
        }
    }
}

#[cfg(test)]
#[path = "live_window_tests.rs"]
mod window_tests;
