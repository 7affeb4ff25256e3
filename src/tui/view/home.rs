//! The home screen: today's and recent sessions, patients with a filter, the selected
//! patient's sessions, and the new-session form.

use super::{fit, panel_block};
use crate::domain::Session;
use crate::tui::home::{Focus, Home};
use crate::tui::state::App;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Text};
use ratatui::widgets::{List, ListItem, ListState, Paragraph};

/// Below this width the integrations panel goes under the recent sessions instead of
/// beside them, so that a recent session's row keeps its time.
const SIDE_BY_SIDE_FROM: u16 = 80;

pub fn draw(app: &App, h: &Home, frame: &mut Frame<'_>, area: Rect) {
    let [top, lower] =
        Layout::vertical([Constraint::Percentage(40), Constraint::Min(6)]).areas(area);
    let (recent_area, integrations_area) = if area.width >= SIDE_BY_SIDE_FROM {
        let [recent, integrations] =
            Layout::horizontal([Constraint::Percentage(58), Constraint::Min(20)]).areas(top);
        (recent, integrations)
    } else {
        // The integrations take the rows they need (at most three), the recent sessions
        // the rest.
        let wanted = h.data.integrations.len().clamp(1, 3) as u16 + 2;
        let [recent, integrations] =
            Layout::vertical([Constraint::Min(3), Constraint::Length(wanted)]).areas(top);
        (recent, integrations)
    };
    draw_integrations(app, h, frame, integrations_area);
    let [patients_area, sessions_area] =
        Layout::horizontal([Constraint::Percentage(42), Constraint::Min(20)]).areas(lower);

    let sessions = h.recent();
    // Inside the border and the selection marker.
    let width = usize::from(recent_area.width.saturating_sub(4));
    let longest = sessions
        .iter()
        .map(|s| h.patient_name(s.patient_id).chars().count())
        .max()
        .unwrap_or(0);
    let id_width = sessions
        .iter()
        .map(|s| s.id.to_string().len())
        .max()
        .unwrap_or(1);
    let recent: Vec<ListItem<'_>> = sessions
        .iter()
        .map(|s| {
            let name = h.patient_name(s.patient_id);
            ListItem::new(recent_row(s, name, (longest, id_width), width))
        })
        .collect();
    let empty_recent = recent.is_empty();
    list(
        app,
        frame,
        recent_area,
        format!(" Today and recent ({}) ", recent.len()),
        recent,
        h.recent,
        h.focus == Focus::Recent,
    );
    if empty_recent {
        frame.render_widget(
            Paragraph::new("  No sessions this week."),
            inner(recent_area),
        );
    }

    let patients: Vec<ListItem<'_>> = h
        .visible_patients()
        .iter()
        .map(|p| {
            let mut text = format!("{} ({})", p.name, p.age_on(h.data.today));
            if let Some(m) = &p.mrn {
                text.push_str(&format!(" {m}"));
            }
            ListItem::new(fit::shorten(Line::from(text), list_width(patients_area)))
        })
        .collect();
    let filter = if h.filtering || !h.filter.is_empty() {
        format!(
            " Patients /{}{} ",
            h.filter,
            if h.filtering { "▏" } else { "" }
        )
    } else {
        format!(" Patients ({}) ", h.data.patient_count)
    };
    list(
        app,
        frame,
        patients_area,
        filter,
        patients,
        h.patient,
        h.focus == Focus::Patients,
    );

    let sessions: Vec<ListItem<'_>> = h
        .patient_sessions()
        .iter()
        .map(|s| ListItem::new(session_row(s, list_width(sessions_area))))
        .collect();
    let title = h
        .selected_patient()
        .map(|p| format!(" Sessions: {} ", p.name))
        .unwrap_or_else(|| " Sessions ".into());
    list(
        app,
        frame,
        sessions_area,
        title,
        sessions,
        h.session,
        h.focus == Focus::Sessions,
    );

    let [_, bottom] = Layout::vertical([Constraint::Min(0), Constraint::Length(1)]).areas(area);
    if let Some(e) = &h.error {
        // Over the lists' lower edge, wrapped (at most three rows, the last marked ` …`).
        let width = usize::from(area.width);
        let rows = fit::limit(
            fit::wrap(Line::styled(format!(" {e}"), app.theme.alert()), width),
            3,
            width,
        );
        let [_, bottom] =
            Layout::vertical([Constraint::Min(0), Constraint::Length(rows.len() as u16)])
                .areas(area);
        frame.render_widget(ratatui::widgets::Clear, bottom);
        frame.render_widget(Paragraph::new(rows), bottom);
    } else if let Some(n) = &h.notice {
        frame.render_widget(Line::styled(format!(" {n}"), app.theme.ok()), bottom);
    }
    if let Some(form) = &h.form {
        super::home_forms::draw(app, h, form, frame, area);
    }
}

/// Integrations due 48-72 h after each dosing session: overdue, due, upcoming.
fn draw_integrations(app: &App, h: &Home, frame: &mut Frame<'_>, area: Rect) {
    use crate::domain::integration::IntegrationStatus;
    let items: Vec<ListItem<'_>> = h
        .data
        .integrations
        .iter()
        .map(|d| {
            let name = h.patient_name(d.patient);
            let (text, style) = match d.status {
                IntegrationStatus::Overdue { since } => (
                    format!(
                        "⚠ OVERDUE {name} (dosing #{}) since {}",
                        d.dosing,
                        since.format("%a %H:%M")
                    ),
                    app.theme.overdue(),
                ),
                IntegrationStatus::Due { until } => (
                    format!(
                        "⚠ due {name} (dosing #{}) until {}",
                        d.dosing,
                        until.format("%a %H:%M")
                    ),
                    app.theme.caution(),
                ),
                IntegrationStatus::Upcoming { from } => (
                    format!(
                        "  {name} (dosing #{}) from {}",
                        d.dosing,
                        from.format("%a %H:%M")
                    ),
                    ratatui::style::Style::new(),
                ),
                IntegrationStatus::Done { .. } => (String::new(), ratatui::style::Style::new()),
            };
            // Wrapped, never cut: the time is what the row is for.
            ListItem::new(Text::from(fit::wrap(
                Line::styled(text, style),
                usize::from(area.width.saturating_sub(2)),
            )))
        })
        .collect();
    let title = format!(" Integrations ({}) ", items.len());
    let mut block = panel_block(app, title, false);
    if let Some(rems) = rems_line(app, h, area.width) {
        block = block.title_bottom(rems);
    }
    if items.is_empty() {
        frame.render_widget(Paragraph::new("  None due.").block(block), area);
    } else {
        frame.render_widget(List::new(items).block(block), area);
    }
}

/// The Spravato REMS forms still to submit, on the integrations panel's lower border (only
/// when there is one): how many, and the oldest deadline, overdue once it has passed. The
/// long words go first when the panel is narrow.
fn rems_line(app: &App, h: &Home, width: u16) -> Option<Line<'static>> {
    use crate::domain::rems::FormState;
    let due = h.data.rems_due?;
    let n = due.count;
    // The oldest form's state, as `rems list` says it: due by its deadline, overdue since
    // the day after.
    let state = FormState::unsubmitted(due.oldest_deadline, h.data.today);
    let overdue = matches!(state, FormState::OverdueSince(_));
    // The count is of every form still to submit and the deadline the oldest's alone: on a
    // narrow panel the count goes before the two could read as "all of them overdue".
    let day = |d: chrono::NaiveDate| d.format("%d %b").to_string();
    let (mark, said) = match state {
        FormState::OverdueSince(d) => ("⚠ ", format!("overdue since {}", day(d))),
        _ => ("", format!("due by {}", day(due.oldest_deadline))),
    };
    let texts = [
        format!(" {mark}REMS forms to submit: {n}, oldest {said} "),
        if n == 1 {
            format!(" {mark}REMS 1 {said} ")
        } else {
            format!(" {mark}REMS {n}, oldest {said} ")
        },
        format!(" {mark}REMS {said} "),
    ];
    let room = usize::from(width.saturating_sub(2));
    let text = texts
        .iter()
        .find(|t| t.chars().count() <= room)
        .unwrap_or(&texts[2])
        .clone();
    let style = if overdue {
        app.theme.overdue()
    } else {
        app.theme.caution()
    };
    Some(Line::styled(text, style))
}

fn inner(area: Rect) -> Rect {
    Rect {
        x: area.x + 1,
        y: area.y + 1,
        width: area.width.saturating_sub(2),
        height: area.height.saturating_sub(2),
    }
}

/// Inside a list's border and its selection marker.
fn list_width(area: Rect) -> usize {
    usize::from(area.width.saturating_sub(4))
}

/// A row of a patient's sessions in `width` columns: the weekday goes first when the row
/// is too wide, then "ended" (OPEN always stays), then the time of day; what still does
/// not fit is marked ` …`.
fn session_row(s: &Session, width: usize) -> Line<'static> {
    let row = |date: &str, state: &str| {
        format!(
            "#{:<4} {} {:<12} {state}",
            s.id,
            s.started.format(date),
            s.kind.as_str()
        )
        .trim_end()
        .to_string()
    };
    let mut text = row("%a %d %b %H:%M", status(s));
    for (date, state) in [
        ("%d %b %H:%M", status(s)),
        ("%d %b %H:%M", if s.ended.is_some() { "" } else { "OPEN" }),
        ("%d %b", if s.ended.is_some() { "" } else { "OPEN" }),
    ] {
        if fit::width(&text) > width {
            text = row(date, state);
        }
    }
    fit::shorten(Line::from(text), width)
}

fn status(s: &Session) -> &'static str {
    if s.ended.is_some() { "ended" } else { "OPEN" }
}

/// A row of "Today and recent" in `width` columns: the patient's name first, since it is
/// what tells the sessions apart. When the row is too wide the date shrinks to weekday and
/// time (the list covers one week), then "ended" is left out (OPEN always stays), and only
/// then is the name shortened.
fn recent_row(
    s: &Session,
    name: &str,
    (longest, id_width): (usize, usize),
    width: usize,
) -> String {
    const KIND: usize = 11;
    let id = format!("#{:<id_width$}", s.id);
    let open = s.ended.is_none();
    let mut when = s.started.format("%a %d %b %H:%M").to_string();
    let mut state = status(s);
    // Everything but the name, with a space before each part.
    let rest = |when: &str, state: &str| {
        id.chars().count() + 1 + 1 + KIND + 1 + when.chars().count() + 1 + state.len().max(4)
    };
    if rest(&when, state) + longest > width {
        when = s.started.format("%a %H:%M").to_string();
    }
    if rest(&when, state) + longest > width && !open {
        state = "";
    }
    let name_width = longest.min(width.saturating_sub(rest(&when, state))).max(4);
    let shown: String = if name.chars().count() > name_width {
        let mut cut: String = name.chars().take(name_width - 1).collect();
        cut.push('…');
        cut
    } else {
        name.to_string()
    };
    let row = format!(
        "{id} {shown:<name_width$} {:<KIND$} {when} {state}",
        s.kind.as_str()
    )
    .trim_end()
    .to_string();
    fit::shorten(Line::from(row), width).to_string()
}

fn list(
    app: &App,
    frame: &mut Frame<'_>,
    area: Rect,
    title: String,
    items: Vec<ListItem<'_>>,
    selected: usize,
    focused: bool,
) {
    let mut state = ListState::default().with_selected((!items.is_empty()).then_some(selected));
    let widget = List::new(items)
        .block(panel_block(app, title, focused))
        .highlight_symbol(if focused { "> " } else { "  " })
        .highlight_style(if focused {
            app.theme.selected()
        } else {
            app.theme.dim()
        });
    frame.render_stateful_widget(widget, area, &mut state);
}
