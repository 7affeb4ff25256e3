//! The lock screen: it replaces every screen and shows no patient detail (no name, age,
//! values, notes or intention). Over a session it keeps what the person in the room needs:
//! the session clock and the next check with its countdown, asked of the same `SessionChart`
//! the live screen asks. Then who signs in, and their passphrase, masked.

use crate::domain::chart::SessionChart;
use crate::domain::protocol::{self, Check, CheckKind, CheckStatus};
use crate::tui::app::{App, Screen};
use crate::tui::lock::Lock;
use crate::tui::theme::OVERDUE;
use chrono::{DateTime, Duration, FixedOffset};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

pub fn draw(app: &App, lock: &Lock, frame: &mut Frame<'_>, area: Rect) {
    let theme = &app.theme;
    let mut lines = vec![Line::from(
        "The chart is locked: patient details are hidden.",
    )];
    if let Screen::Live(live) = &app.screen {
        lines.push(Line::from(""));
        lines.extend(session_lines(app, &live.data.chart, app.now));
    }
    lines.push(Line::from(""));
    lines.push(Line::from("Who is signing in (↑ ↓ to choose):"));
    if lock.team.is_empty() {
        lines.push(Line::styled("  (reading the team…)", theme.dim()));
    }
    for (i, who) in lock.team.iter().enumerate() {
        if i == lock.chosen {
            lines.push(Line::styled(format!("  ▸ {}", who.name), theme.title()));
        } else {
            lines.push(Line::from(format!("    {}", who.name)));
        }
    }
    lines.push(Line::from(""));
    let focus = lines.len();
    lines.push(Line::from(vec![
        Span::raw("Passphrase: "),
        Span::raw(masked(lock.passphrase.chars().count())),
        Span::styled("▏", theme.title()),
    ]));
    if lock.sending {
        lines.push(Line::styled("checking…", theme.dim()));
    }
    if let Some(e) = &lock.error {
        lines.push(Line::styled(format!("✗ {e}"), theme.alert()));
    }
    super::dialog::draw(
        app,
        frame,
        area,
        " kapchart: locked ".to_string(),
        lines,
        Some(focus),
        64,
    );
}

/// The session clock, the overdue checks and the next check, from the session's own chart.
fn session_lines<'a>(app: &App, chart: &SessionChart, now: DateTime<FixedOffset>) -> Vec<Line<'a>> {
    let theme = &app.theme;
    let session = chart.session();
    let end = session.ended.unwrap_or(now);
    let clock_text = match chart.first_dose() {
        Some(dose) => format!("T+{}", clock(end - dose)),
        None if chart.is_dosing() => {
            format!("no dose yet · started {} ago", clock(end - session.started))
        }
        None => format!("started {} ago", clock(end - session.started)),
    };
    let mut out = vec![Line::from(vec![
        Span::raw("Session clock: "),
        Span::styled(clock_text, theme.title()),
    ])];
    if session.ended.is_some() {
        out.push(Line::from("The session has ended."));
        return out;
    }
    let checks = chart.checks(now);
    let summary = protocol::summary(&checks);
    if let Some(oldest) = summary.overdue.first() {
        let late = oldest
            .due
            .map(|due| format!(", {} min late", (now - due).num_minutes()))
            .unwrap_or_default();
        let more = match summary.overdue.len() {
            1 => String::new(),
            n => format!(" (+{} more)", n - 1),
        };
        out.push(Line::styled(
            format!("{OVERDUE} OVERDUE: {}{late}{more}", short(oldest)),
            theme.overdue(),
        ));
    }
    match &summary.next {
        Some(c) if c.status == CheckStatus::Due => out.push(Line::styled(
            format!("{OVERDUE} Due now: {}", short(c)),
            theme.caution(),
        )),
        Some(c) => {
            let countdown = c
                .due
                .map(|due| format!(" in {}", clock(due - now)))
                .unwrap_or_default();
            out.push(Line::from(format!("Next check: {}{countdown}", short(c))));
        }
        None if summary.overdue.is_empty() && chart.is_dosing() => {
            out.push(Line::styled("Checks up to date.", theme.ok()));
        }
        None => {}
    }
    out
}

/// A dot per character typed; a long paste is counted instead, so the field stays one row.
fn masked(typed: usize) -> String {
    if typed > 40 {
        format!("{}… {typed} characters", "•".repeat(24))
    } else {
        "•".repeat(typed)
    }
}

/// "BP T+40", or the kind alone before the first dose.
fn short(c: &Check) -> String {
    match c.t_plus_min {
        Some(t) if c.kind != CheckKind::Baseline => format!("{} T+{t}", c.kind),
        _ => c.kind.to_string(),
    }
}

/// "mm:ss" (or "h:mm:ss") of a duration, never negative.
fn clock(d: Duration) -> String {
    let s = d.num_seconds().max(0);
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
    } else {
        format!("{:02}:{:02}", s / 60, s % 60)
    }
}
