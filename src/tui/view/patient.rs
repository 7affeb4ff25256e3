//! The patient and course screen.

use super::{fit, panel_block};
use crate::domain::SessionKind;
use crate::domain::integration::IntegrationStatus;
use crate::domain::measures::{self, MeasureRules};
use crate::tui::patient::PatientData;
use crate::tui::state::App;
use crate::tui::theme::{ALERT, OVERDUE};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

pub fn draw(app: &App, d: &PatientData, frame: &mut Frame<'_>, area: Rect) {
    let theme = &app.theme;
    let [top, trend] =
        Layout::vertical([Constraint::Percentage(50), Constraint::Min(8)]).areas(area);
    let [who, course_area] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(top);

    let p = &d.patient;
    let mut lines = vec![Line::styled(
        format!(
            "{}, {} · born {} · sex {}",
            p.name,
            p.age_on(app.now.date_naive()),
            p.dob,
            d.details.sex.as_deref().unwrap_or("not recorded")
        ),
        theme.title(),
    )];
    if let Some(f) = &d.safety {
        lines.push(Line::styled(
            format!("{OVERDUE} SAFETY: {f}"),
            theme.overdue(),
        ));
    }
    if let Some(why) = &app.unaudited {
        lines.push(Line::styled(format!("{OVERDUE} {why}"), theme.caution()));
    }
    lines.push(Line::raw(format!(
        "MRN {} · weight {}",
        p.mrn.as_deref().unwrap_or("—"),
        p.weight_kg
            .map(|w| format!("{w} kg"))
            .unwrap_or_else(|| "not recorded".into())
    )));
    lines.push(Line::raw(format!(
        "emergency contact: {}",
        d.details.emergency_contact.as_deref().unwrap_or("—")
    )));
    lines.push(Line::raw(format!(
        "usual ride home: {}",
        d.details.ride_contact.as_deref().unwrap_or("—")
    )));
    if d.medications.is_empty() {
        lines.push(Line::raw("medications: none recorded"));
    }
    for m in &d.medications {
        lines.push(match m.class {
            Some(c) => Line::styled(
                format!("{ALERT} {} ({}: {})", m.name, c.label(), c.why_it_matters()),
                theme.caution(),
            ),
            None => Line::raw(format!("  {}", m.name)),
        });
    }
    boxed(frame, app, " Patient ", lines, who);

    let (done, planned) = d.progress();
    // A dosing session under way is counted as such: its number in the course follows the
    // ones that ended.
    let mut dosing: Vec<&crate::domain::Session> = d
        .sessions
        .iter()
        .filter(|s| s.kind == SessionKind::Dosing)
        .collect();
    dosing.sort_by_key(|s| (s.started, s.id));
    let open: Vec<String> = dosing
        .iter()
        .enumerate()
        .filter(|(_, s)| s.ended.is_none())
        .map(|(i, s)| format!("dosing {} open (session #{})", i + 1, s.id))
        .collect();
    let mut count = format!("dosing {done} of {planned} done");
    for o in open {
        count.push_str(&format!(" · {o}"));
    }
    let mut lines = vec![Line::styled(count, theme.title())];
    for g in d.course.iter().flat_map(|c| &c.goals) {
        lines.push(Line::raw(format!("goal: {g}")));
    }
    for i in &d.integrations {
        let (text, style) = match i.status {
            IntegrationStatus::Overdue { .. } => {
                (format!("{OVERDUE} {}", i.status), theme.overdue())
            }
            IntegrationStatus::Due { .. } => (format!("{OVERDUE} {}", i.status), theme.caution()),
            _ => (format!("  {}", i.status), ratatui::style::Style::new()),
        };
        lines.push(Line::styled(
            format!("{text} (dosing #{})", i.dosing),
            style,
        ));
    }
    // The intake: the clinician's decision, then a summary of the screening answers with
    // every answer that was not "no" spelled out; before the session list, which the home
    // screen also shows.
    lines.push(match &d.eligibility {
        Some(e) => {
            let style = match e.decision {
                crate::domain::screening::Decision::Eligible => theme.ok(),
                _ => theme.caution(),
            };
            let text = crate::domain::Payload::Eligibility(e.clone()).to_string();
            let text = text
                .strip_prefix("Eligibility (clinician's decision): ")
                .unwrap_or(&text)
                .to_string();
            Line::styled(format!("eligibility (clinician's decision): {text}"), style)
        }
        None => Line::styled("eligibility: no decision recorded", theme.caution()),
    });
    let not_no: Vec<String> = d
        .screening
        .iter()
        .filter(|a| a.answer != crate::domain::screening::Answer::No)
        .map(|a| {
            let text = crate::domain::Payload::Screening(a.clone()).to_string();
            text.strip_prefix("Screening ").unwrap_or(&text).to_string()
        })
        .collect();
    lines.push(match (d.screening.len(), not_no.is_empty()) {
        (0, _) => Line::raw("screening: no answers recorded"),
        (n, true) => Line::raw(format!("screening: {n} answered, all no")),
        (n, false) => Line::styled(
            format!("screening: {n} answered; {}", not_no.join(" · ")),
            theme.caution(),
        ),
    });
    for s in d.sessions.iter().rev() {
        lines.push(Line::raw(format!(
            "#{:<4} {} {:<12} {}",
            s.id,
            s.started.format("%d %b %H:%M"),
            s.kind.as_str(),
            if s.ended.is_some() { "ended" } else { "OPEN" }
        )));
    }
    boxed(frame, app, " Course ", lines, course_area);
    draw_trends(app, d, frame, trend, &app.config.measures);
}

/// `lines` in a titled box, wrapped; what does not fit is marked ` …`.
fn boxed(frame: &mut Frame<'_>, app: &App, title: &str, lines: Vec<Line<'_>>, area: Rect) {
    let block = panel_block(app, title.into(), false);
    let inner = block.inner(area);
    let rows = fit::block(
        lines.into_iter().map(|l| (l, false)).collect(),
        usize::from(inner.width),
        usize::from(inner.height),
    );
    frame.render_widget(Paragraph::new(rows).block(block), area);
}

/// One chart per questionnaire: the first and latest totals with their bands and what the
/// change means, written out (never cut: they wrap), then the totals over the course drawn
/// in text.
fn draw_trends(
    app: &App,
    d: &PatientData,
    frame: &mut Frame<'_>,
    area: Rect,
    rules: &MeasureRules,
) {
    let trends = measures::trends(&d.measures);
    if trends.is_empty() {
        let block = panel_block(app, " Outcome trend ".into(), false);
        let inner = block.inner(area);
        let rows = fit::block(
            vec![(
                Line::raw("No questionnaires yet: chart phq9 / gad7 / pcl5 answers in a session."),
                false,
            )],
            usize::from(inner.width),
            usize::from(inner.height),
        );
        frame.render_widget(Paragraph::new(rows).block(block), area);
        return;
    }
    let constraints = vec![Constraint::Ratio(1, trends.len() as u32); trends.len()];
    let areas = Layout::horizontal(constraints).split(area);
    let start = d.measures.first().map(|(at, _)| *at).unwrap_or(app.now);
    for (t, chart_area) in trends.iter().zip(areas.iter()) {
        let block = panel_block(app, format!(" {} ", t.instrument.name()), false);
        let inner = block.inner(*chart_area);
        let width = usize::from(inner.width);
        let (first, last) = (t.baseline.unwrap_or(0), t.latest.unwrap_or(0));
        let mut summary = format!(
            "{first} ({}) → {last} ({})",
            measures::band(t.instrument, first, rules),
            measures::band(t.instrument, last, rules)
        );
        if let Some(c) = t.change {
            summary.push_str(&format!(" · change {c:+}"));
        }
        if let Some(m) = measures::change_meaning(t, rules) {
            summary.push_str(&format!(": {m}"));
        }
        let mut rows = fit::wrap(Line::styled(summary, app.theme.title()), width);
        let room = usize::from(inner.height).saturating_sub(rows.len());
        rows.extend(plot(app, t, rules, start, width, room));
        frame.render_widget(Paragraph::new(rows).block(block), *chart_area);
    }
}

/// The mark of a questionnaire's total on the chart.
const POINT: char = '●';

/// A trend drawn in `width` x `height` cells of text: the scale's top and 0 on the left,
/// each band's lower boundary as a dotted line labelled with its score and name, a `●` at
/// each total, and the days since the first questionnaire below. Nothing when there is no
/// room for it.
fn plot<'a>(
    app: &App,
    t: &measures::Trend,
    rules: &MeasureRules,
    start: chrono::DateTime<chrono::FixedOffset>,
    width: usize,
    height: usize,
) -> Vec<Line<'a>> {
    let y_max = t.instrument.max_total();
    let gutter = y_max.to_string().len();
    // The plot, its x axis and the axis labels.
    let plot_h = height.saturating_sub(2);
    let plot_w = width.saturating_sub(gutter + 1);
    if plot_h < 4 || plot_w < 12 {
        return Vec::new();
    }
    let row_of = |y: u16| {
        let from_top = f64::from(y_max - y.min(y_max)) / f64::from(y_max) * (plot_h - 1) as f64;
        from_top.round() as usize
    };
    let days: Vec<f64> = t
        .points
        .iter()
        .map(|(at, _)| (*at - start).num_minutes() as f64 / (24.0 * 60.0))
        .collect();
    let x_max = days.iter().copied().fold(1.0_f64, f64::max).ceil();
    let col_of = |day: f64| ((day / x_max) * (plot_w - 1) as f64).round() as usize;
    // Each row's boundary labels (score and name) and the totals' columns.
    let mut bands: Vec<Vec<(u16, &str)>> = vec![Vec::new(); plot_h];
    for (lower, name) in measures::band_boundaries(t.instrument, rules) {
        if lower > 0 && lower < y_max {
            bands[row_of(lower)].push((lower, name));
        }
    }
    // A total sits on or above the line of every band it is in, and below the line of
    // every band it is not: rows that share values never put it in the wrong band.
    let lines: Vec<(u16, usize)> = measures::band_boundaries(t.instrument, rules)
        .into_iter()
        .filter(|(lower, _)| *lower > 0 && *lower < y_max)
        .map(|(lower, _)| (lower, row_of(lower)))
        .collect();
    let mut points: Vec<Vec<usize>> = vec![Vec::new(); plot_h];
    for ((_, total), day) in t.points.iter().zip(&days) {
        let mut row = row_of(*total);
        for (lower, line) in &lines {
            if total < lower {
                row = row.max(line + 1);
            }
        }
        for (lower, line) in &lines {
            if total >= lower {
                row = row.min(*line);
            }
        }
        points[row.min(plot_h - 1)].push(col_of(*day));
    }
    let theme = &app.theme;
    let mut out = Vec::new();
    for row in 0..plot_h {
        let label = match bands[row].as_slice() {
            _ if row == 0 => y_max.to_string(),
            [] if row == plot_h - 1 => "0".to_string(),
            [(lower, _)] => lower.to_string(),
            _ => String::new(),
        };
        let mut cells: Vec<(char, bool)> = if bands[row].is_empty() {
            vec![(' ', false); plot_w]
        } else {
            vec![('┄', false); plot_w]
        };
        // The band's name on its line, at the end where no total stands.
        if !bands[row].is_empty() {
            let names: Vec<String> = bands[row]
                .iter()
                .map(|(lower, n)| format!("{lower} {n}"))
                .collect();
            let short = fit::shorten(Line::from(names.join(" · ")), plot_w.saturating_sub(4));
            let name: Vec<char> = format!(" {short} ").chars().collect();
            let right = plot_w - name.len();
            let clear = |from: usize| {
                points[row]
                    .iter()
                    .all(|c| *c < from || *c >= from + name.len())
            };
            let at = if clear(right) {
                Some(right)
            } else if clear(1) {
                Some(1)
            } else {
                None
            };
            if let Some(at) = at {
                for (i, c) in name.iter().enumerate() {
                    cells[at + i] = (*c, false);
                }
            }
        }
        for c in &points[row] {
            cells[(*c).min(plot_w - 1)] = (POINT, true);
        }
        let mut spans = vec![
            Span::styled(format!("{label:>gutter$}"), theme.dim()),
            Span::styled("│", theme.dim()),
        ];
        for (c, point) in cells {
            spans.push(if point {
                Span::styled(c.to_string(), theme.series(0))
            } else {
                Span::styled(c.to_string(), theme.dim())
            });
        }
        out.push(Line::from(spans));
    }
    out.push(Line::styled(
        format!("{}└{}", " ".repeat(gutter), "─".repeat(plot_w)),
        theme.dim(),
    ));
    let right = if x_max <= 1.0 {
        "1 day".to_string()
    } else {
        format!("{x_max:.0} days")
    };
    let pad = plot_w.saturating_sub(1 + right.len());
    out.push(Line::styled(
        format!("{} 0{}{right}", " ".repeat(gutter), " ".repeat(pad)),
        theme.dim(),
    ));
    out
}
