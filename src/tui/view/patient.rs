//! The patient and course screen.

use super::panel_block;
use crate::domain::integration::IntegrationStatus;
use crate::domain::measures::{self, Instrument, MeasureRules};
use crate::tui::app::App;
use crate::tui::patient::PatientData;
use crate::tui::theme::{ALERT, OVERDUE};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::symbols::Marker;
use ratatui::text::Line;
use ratatui::widgets::{Axis, Chart, Dataset, GraphType, Paragraph, Wrap};

pub fn draw(app: &App, d: &PatientData, frame: &mut Frame<'_>, area: Rect) {
    let theme = &app.theme;
    let [top, trend] =
        Layout::vertical([Constraint::Percentage(55), Constraint::Min(8)]).areas(area);
    let [who, course_area] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(top);

    let p = &d.patient;
    let mut lines = vec![Line::styled(
        format!(
            "{}, {} · born {}",
            p.name,
            p.age_on(app.now.date_naive()),
            p.dob
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
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: true })
            .block(panel_block(app, " Patient ".into(), false)),
        who,
    );

    let (done, planned) = d.progress();
    let mut lines = vec![Line::styled(
        format!("dosing {done} of {planned}"),
        theme.title(),
    )];
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
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: true })
            .block(panel_block(app, " Course ".into(), false)),
        course_area,
    );
    draw_trends(app, d, frame, trend, &app.config.measures);
}

/// One chart per questionnaire: totals over the course with the band boundaries.
fn draw_trends(
    app: &App,
    d: &PatientData,
    frame: &mut Frame<'_>,
    area: Rect,
    rules: &MeasureRules,
) {
    let trends = measures::trends(&d.measures);
    if trends.is_empty() {
        frame.render_widget(
            Paragraph::new("No questionnaires yet: chart phq9 / gad7 / pcl5 answers in a session.")
                .block(panel_block(app, " Outcome trend ".into(), false)),
            area,
        );
        return;
    }
    let constraints = vec![Constraint::Ratio(1, trends.len() as u32); trends.len()];
    let areas = Layout::horizontal(constraints).split(area);
    let start = d.measures.first().map(|(at, _)| *at).unwrap_or(app.now);
    for (t, chart_area) in trends.iter().zip(areas.iter()) {
        let points: Vec<(f64, f64)> = t
            .points
            .iter()
            .map(|(at, v)| ((*at - start).num_hours() as f64 / 24.0, f64::from(*v)))
            .collect();
        let x_max = points.iter().map(|p| p.0).fold(1.0_f64, f64::max).ceil();
        let y_max = f64::from(t.instrument.max_total());
        let bands: Vec<(String, [(f64, f64); 2])> = measures::band_boundaries(t.instrument, rules)
            .into_iter()
            .filter(|(lower, _)| *lower > 0)
            .map(|(lower, name)| {
                (
                    format!("{lower} {name}"),
                    [(0.0, f64::from(lower)), (x_max, f64::from(lower))],
                )
            })
            .collect();
        let mut datasets: Vec<Dataset<'_>> = bands
            .iter()
            .map(|(name, line)| {
                Dataset::default()
                    .name(name.clone())
                    .marker(Marker::Dot)
                    .graph_type(GraphType::Line)
                    .style(app.theme.dim())
                    .data(line)
            })
            .collect();
        datasets.push(
            Dataset::default()
                .name(t.instrument.name())
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(app.theme.series(0))
                .data(&points),
        );
        let change = t
            .change
            .map(|c| format!(" change {c:+}"))
            .unwrap_or_default();
        // What the change means (published thresholds) on the box's lower edge: the title
        // keeps the scores, which must never be cut.
        let room = usize::from(chart_area.width.saturating_sub(4));
        let meaning = measures::change_meaning(t, &app.config.measures)
            .map(|m| {
                if m.chars().count() <= room {
                    m
                } else {
                    // "clinically meaningful, response (50%+ lower)" → "meaningful, response".
                    m.split(", ")
                        .map(|part| {
                            let word = part.split(" (").next().unwrap_or(part);
                            word.trim_start_matches("clinically ")
                        })
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            })
            .map(|m| format!(" {m} "))
            .unwrap_or_default();
        let (first, last) = (t.baseline.unwrap_or(0), t.latest.unwrap_or(0));
        let title = format!(
            " {}: {first} ({}) → {last} ({}){change} ",
            name(t.instrument),
            measures::band(t.instrument, first, rules),
            measures::band(t.instrument, last, rules)
        );
        let chart = Chart::new(datasets)
            .hidden_legend_constraints((Constraint::Percentage(0), Constraint::Percentage(0)))
            .block(panel_block(app, title, false).title_bottom(meaning))
            .x_axis(
                Axis::default()
                    .title("days")
                    .bounds([0.0, x_max])
                    .labels(["0".to_string(), format!("{x_max:.0}")]),
            )
            .y_axis(
                Axis::default()
                    .bounds([0.0, y_max])
                    .labels(["0".to_string(), format!("{y_max:.0}")]),
            );
        frame.render_widget(chart, *chart_area);
    }
}

fn name(i: Instrument) -> &'static str {
    i.name()
}
