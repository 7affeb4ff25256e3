//! Drawing the home screen: a pure function of the state.

use super::app::App;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, List, ListItem, ListState, Paragraph};

pub fn draw(app: &App, frame: &mut Frame<'_>) {
    let [main, hints] =
        Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(frame.area());
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(40), Constraint::Percentage(60)]).areas(main);

    let patients: Vec<ListItem<'_>> = app
        .patients
        .iter()
        .map(|p| ListItem::new(format!("{} ({}), #{}", p.name, p.age_on(app.today), p.id)))
        .collect();
    let mut state = ListState::default().with_selected(Some(app.selected));
    frame.render_stateful_widget(
        List::new(patients)
            .block(Block::bordered().title(format!(" Patients ({}) ", app.patients.len())))
            .highlight_symbol("> ")
            .highlight_style(Style::new().add_modifier(Modifier::REVERSED)),
        left,
        &mut state,
    );

    let sessions: Vec<ListItem<'_>> = app
        .selected_sessions()
        .map(|s| {
            let status = match s.ended {
                Some(_) => "ended",
                None => "open",
            };
            ListItem::new(format!(
                "#{:<4} {}  {:<12} {}",
                s.id,
                s.started.format("%Y-%m-%d %H:%M"),
                s.kind.as_str(),
                status
            ))
        })
        .collect();
    let title = app
        .selected_patient()
        .map(|p| format!(" Sessions of {} ", p.name))
        .unwrap_or_else(|| " Sessions ".into());
    if sessions.is_empty() {
        frame.render_widget(
            Paragraph::new("No sessions yet.").block(Block::bordered().title(title)),
            right,
        );
    } else {
        frame.render_widget(
            List::new(sessions).block(Block::bordered().title(title)),
            right,
        );
    }
    frame.render_widget(Line::from(" ↑/↓ select patient   q quit"), hints);
}
