//! The lock screen: it replaces every screen and shows no patient detail (no name, age,
//! values, notes or intention). Over a session it keeps what the person in the room needs:
//! the session clock and the next check with its countdown, asked of the same `SessionChart`
//! the live screen asks. Then who signs in, and their passphrase, masked: the same sign-in
//! as at start and at a hand-over.

use super::live::{clock, missing, short};
use super::when;
use crate::domain::chart::SessionChart;
use crate::domain::protocol::{self, CheckStatus};
use crate::tui::sign_in::SignIn;
use crate::tui::state::{App, Screen};
use crate::tui::theme::OVERDUE;
use chrono::{DateTime, FixedOffset};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

pub fn draw(app: &App, lock: &SignIn, frame: &mut Frame<'_>, area: Rect) {
    let mut intro = vec![Line::from(
        "The chart is locked: patient details are hidden.",
    )];
    if let Screen::Live(live) = &app.screen {
        intro.push(Line::from(""));
        intro.extend(session_lines(app, &live.data.chart, app.now));
    }
    super::sign_in::draw(app, lock, " kapchart: locked ".into(), intro, frame, area);
}

/// The session clock, the overdue checks and the next check, from the session's own chart.
fn session_lines<'a>(app: &App, chart: &SessionChart, now: DateTime<FixedOffset>) -> Vec<Line<'a>> {
    let theme = &app.theme;
    let session = chart.session();
    let end = session.ended.unwrap_or(now);
    let clock_text = match chart.first_dose() {
        Some(dose) => format!("T+{}", clock(end - dose)),
        None if chart.is_dosing() => format!(
            "{} · started {} ago",
            chart.no_clock_dose_words(),
            when::minutes(end - chart.period().start)
        ),
        None => format!("started {} ago", when::minutes(end - chart.period().start)),
    };
    let mut out = vec![Line::from(vec![
        Span::raw("Session clock: "),
        Span::styled(clock_text, theme.title()),
    ])];
    if session.ended.is_some() {
        out.push(Line::from("The session has ended."));
        return out;
    }
    // An alert nobody acknowledged stands here too, named by its kind only (no value).
    if let Some(v) = chart.alert_in_view() {
        let at = v.alert.line.entry.event_time;
        let when = crate::domain::since_dose::t_plus_after(chart.first_dose(), at)
            .unwrap_or_else(|| at.format("%H:%M").to_string());
        let more = match v.others {
            0 => String::new(),
            n => format!(" (+{n} more)"),
        };
        out.push(Line::styled(
            format!(
                "{OVERDUE} Not acknowledged: {} at {when}{more}",
                v.alert.flag.code.noun()
            ),
            theme.alert(),
        ));
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
            format!(
                "{OVERDUE} OVERDUE: {}{late}{}{more}",
                short(oldest),
                missing(oldest)
            ),
            theme.overdue(),
        ));
    }
    match &summary.next {
        Some(c) if c.status == CheckStatus::Due => out.push(Line::styled(
            format!("{OVERDUE} Due now: {}{}", short(c), missing(c)),
            theme.caution(),
        )),
        Some(c) => {
            let countdown = c
                .due
                .map(|due| format!(" in {}", when::minutes_up(due - now)))
                .unwrap_or_default();
            out.push(Line::from(format!(
                "Next check: {}{}{countdown}",
                short(c),
                missing(c)
            )));
        }
        None if summary.overdue.is_empty() && chart.is_dosing() => {
            out.push(Line::styled("Checks up to date.", theme.ok()));
        }
        None => {}
    }
    out
}
