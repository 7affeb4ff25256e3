//! What a session that is not a dosing session is for, in place of the vitals flowsheet and
//! the BP chart: an integration session shows the dosing session it integrates (intention,
//! doses, quotes by tag, alerts) and its note; an intake shows the screening answers and the
//! eligibility decision; every kind shows the questionnaires charted in it.

use super::{fit, panel_block};
use crate::domain::chart::SessionChart;
use crate::domain::screening::{Answer, Decision};
use crate::domain::{EntryStatus, Payload, SessionKind};
use crate::tui::live::Live;
use crate::tui::state::App;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

pub fn draw(app: &App, live: &Live, frame: &mut Frame<'_>, area: Rect) {
    let d = &live.data;
    // Each line, and whether it may be cut to one row when the panel is short (the
    // answers that were "no", the quotes by tag): the questionnaires stay in view.
    let mut lines: Vec<(Line<'_>, bool)> = Vec::new();
    // What goes after the questionnaires: the quotes by tag, which the note also holds.
    let mut last: Vec<(Line<'_>, bool)> = Vec::new();
    let title = match d.session().kind {
        SessionKind::Integration => {
            let (mut first, mut by_tag) = (Vec::new(), Vec::new());
            integration(app, live, &mut first, &mut by_tag);
            lines.extend(first.into_iter().map(|l| (l, false)));
            last.extend(by_tag.into_iter().enumerate().map(|(i, l)| (l, i > 0)));
            " What this integration looks back on "
        }
        SessionKind::Intake => {
            intake(app, &d.chart, &mut lines);
            " Screening and eligibility "
        }
        _ => {
            preparation(&d.chart, &mut lines);
            " This session "
        }
    };
    let measures = measures(&d.chart);
    let mut questionnaires = vec![Line::styled("Questionnaires", app.theme.title())];
    if measures.is_empty() {
        questionnaires.push(Line::styled(
            "  none charted in this session",
            app.theme.dim(),
        ));
    } else {
        questionnaires.extend(measures.into_iter().map(Line::raw));
    }
    lines.extend(questionnaires.into_iter().map(|l| (l, false)));
    lines.extend(last);
    let block = panel_block(app, title.into(), false);
    let inner = block.inner(area);
    let rows = fit::block(lines, usize::from(inner.width), usize::from(inner.height));
    frame.render_widget(Paragraph::new(rows).block(block), area);
}

/// The lines that stand (not struck, not replaced by an amendment).
fn standing(chart: &SessionChart) -> impl Iterator<Item = &Payload> {
    chart
        .lines()
        .iter()
        .filter(|l| matches!(l.status, EntryStatus::Current))
        .map(|l| &l.entry.payload)
}

fn measures(chart: &SessionChart) -> Vec<String> {
    standing(chart)
        .filter_map(|p| match p {
            Payload::Measure(_) => Some(format!("  {p}")),
            _ => None,
        })
        .collect()
}

/// The dosing session an integration looks back on (`lines`), and what was said and seen
/// there by tag (`by_tag`, its heading first).
fn integration<'a>(app: &App, live: &Live, lines: &mut Vec<Line<'a>>, by_tag: &mut Vec<Line<'a>>) {
    let Some(i) = &live.data.integrates else {
        lines.push(Line::styled(
            "No dosing session linked to this integration session.",
            app.theme.caution(),
        ));
        return;
    };
    let dosing = i.chart.session();
    lines.push(Line::styled(
        format!(
            "Dosing {} · session #{} · {}",
            i.number_in_course,
            dosing.id,
            dosing.started.format("%a %d %b %H:%M")
        ),
        app.theme.title(),
    ));
    if let Some(intention) = &dosing.intention {
        lines.push(Line::raw(format!("  intention: “{intention}”")));
    }
    for p in standing(&i.chart) {
        if let Payload::Dose(_) = p {
            lines.push(Line::raw(format!("  {p}")));
        }
    }
    let alerts: Vec<String> = i
        .chart
        .lines()
        .iter()
        .filter(|l| matches!(l.status, EntryStatus::Current))
        .flat_map(|l| {
            l.entry
                .flags
                .iter()
                .filter(|f| f.code.is_alert())
                .map(move |f| {
                    let seen = if i.chart.is_acknowledged(l.entry.id) {
                        "acknowledged"
                    } else {
                        "not acknowledged"
                    };
                    format!(
                        "  {} {} ({seen})",
                        l.entry.event_time.format("%H:%M"),
                        f.text
                    )
                })
        })
        .collect();
    if alerts.is_empty() {
        lines.push(Line::raw("  alerts: none"));
    } else {
        lines.push(Line::styled(
            format!("  alerts ({}):", alerts.len()),
            app.theme.caution(),
        ));
        lines.extend(alerts.into_iter().map(Line::raw));
    }
    let note = match &i.note {
        Some(n) if n.is_signed() => format!("Note #{}: signed", n.id),
        Some(n) => format!("Note #{}: draft, not signed", n.id),
        None => "Note: not started".to_string(),
    };
    lines.push(Line::styled(note, app.theme.title()));
    // Quotes and observations by tag, in the order the tags first appear.
    let mut tags: Vec<(String, Vec<String>)> = Vec::new();
    for p in standing(&i.chart) {
        let Payload::Observation(o) = p else { continue };
        let said: Vec<String> = if o.quotes.is_empty() {
            // The tags are the heading: the text without them.
            let text: Vec<&str> = o
                .text
                .split_whitespace()
                .filter(|w| !w.starts_with('#'))
                .collect();
            vec![text.join(" ")]
        } else {
            o.quotes.iter().map(|q| format!("“{q}”")).collect()
        };
        for tag in &o.tags {
            match tags.iter_mut().find(|(t, _)| t == tag) {
                Some((_, items)) => items.extend(said.iter().cloned()),
                None => tags.push((tag.clone(), said.clone())),
            }
        }
    }
    if !tags.is_empty() {
        by_tag.push(Line::styled(
            "What was said and seen, by tag",
            app.theme.title(),
        ));
    }
    for (tag, items) in tags {
        by_tag.push(Line::raw(format!("  #{tag}: {}", items.join(" · "))));
    }
}

fn intake<'a>(app: &App, chart: &SessionChart, lines: &mut Vec<(Line<'a>, bool)>) {
    let answers: Vec<_> = standing(chart)
        .filter_map(|p| match p {
            Payload::Screening(a) => Some(a),
            _ => None,
        })
        .collect();
    // "Yes" answers each on a line of their own; the rest together.
    let mut others = Vec::new();
    let mut yes = Vec::new();
    for a in answers {
        let text = Payload::Screening(a.clone()).to_string();
        let text = text.strip_prefix("Screening ").unwrap_or(&text).to_string();
        match a.answer {
            Answer::Yes => yes.push(text),
            _ => others.push(text),
        }
    }
    let mut screening = vec![(Line::styled("Screening", app.theme.title()), false)];
    if yes.is_empty() && others.is_empty() {
        screening.push((
            Line::styled("  no answers charted yet", app.theme.dim()),
            false,
        ));
    }
    screening.extend(
        yes.into_iter()
            .map(|t| (Line::styled(format!("  {t}"), app.theme.caution()), false)),
    );
    if !others.is_empty() {
        screening.push((Line::raw(format!("  {}", others.join(" · "))), true));
    }
    // The latest decision stands; kapchart records it and never makes it.
    let decision = standing(chart)
        .filter_map(|p| match p {
            Payload::Eligibility(e) => Some(e),
            _ => None,
        })
        .last();
    lines.push((
        match decision {
            Some(e) => {
                let style = match e.decision {
                    Decision::Eligible => app.theme.ok(),
                    _ => app.theme.caution(),
                };
                Line::styled(Payload::Eligibility(e.clone()).to_string(), style)
            }
            None => Line::styled(
                "Eligibility: no decision recorded (the clinician decides)",
                app.theme.caution(),
            ),
        },
        false,
    ));
    // The decision first: it is what the intake is for.
    lines.extend(screening);
}

fn preparation<'a>(chart: &SessionChart, lines: &mut Vec<(Line<'a>, bool)>) {
    for p in standing(chart) {
        if matches!(
            p,
            Payload::Intention(_) | Payload::Setting(_) | Payload::Consent(_)
        ) {
            // The payload names itself ("Intention: ..."): no label in front.
            lines.push((Line::raw(p.to_string()), false));
        }
    }
}
