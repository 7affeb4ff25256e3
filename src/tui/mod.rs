//! The terminal interface. State changes go through [`app::update`]; [`view::draw`] is a
//! pure function of the state; this module owns the terminal and the event loop.

pub mod app;
pub mod view;

use crate::config::Config;
use crate::store::Chart;
use app::{Action, App};
use ratatui::crossterm::event::{self, Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// Opens the home screen on `chart` and runs until the user quits.
pub fn run(chart: Chart, _config: &Config) -> std::io::Result<()> {
    let mut app = App::load(&chart, chrono::Local::now().date_naive())
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    let mut terminal = ratatui::init();
    let result = (|| {
        while !app.quit {
            terminal.draw(|f| view::draw(&app, f))?;
            if let Event::Key(key) = event::read()?
                && let Some(action) = action_for(key)
            {
                app::update(&mut app, action);
            }
        }
        Ok(())
    })();
    ratatui::restore();
    result
}

/// The home screen's keys.
pub fn action_for(key: KeyEvent) -> Option<Action> {
    if key.kind != KeyEventKind::Press {
        return None;
    }
    match (key.code, key.modifiers) {
        (KeyCode::Char('c'), KeyModifiers::CONTROL) => Some(Action::Quit),
        (KeyCode::Char('q'), _) | (KeyCode::Esc, _) => Some(Action::Quit),
        (KeyCode::Down, _) | (KeyCode::Char('j'), _) => Some(Action::Next),
        (KeyCode::Up, _) | (KeyCode::Char('k'), _) => Some(Action::Previous),
        _ => None,
    }
}
