//! The TUI's state and the pure `update` that changes it.

use crate::domain::{Patient, Session};
use crate::store::{Chart, StoreError};
use chrono::NaiveDate;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Next,
    Previous,
    Quit,
}

/// The home screen: patients and their sessions.
#[derive(Debug, Clone)]
pub struct App {
    pub patients: Vec<Patient>,
    /// All sessions, newest first.
    pub sessions: Vec<Session>,
    pub selected: usize,
    pub today: NaiveDate,
    pub quit: bool,
}

impl App {
    pub fn load(chart: &Chart, today: NaiveDate) -> Result<App, StoreError> {
        Ok(App {
            patients: chart.patients()?,
            sessions: chart.sessions(None)?,
            selected: 0,
            today,
            quit: false,
        })
    }

    pub fn selected_patient(&self) -> Option<&Patient> {
        self.patients.get(self.selected)
    }

    /// The selected patient's sessions, newest first.
    pub fn selected_sessions(&self) -> impl Iterator<Item = &Session> {
        let id = self.selected_patient().map(|p| p.id);
        self.sessions
            .iter()
            .filter(move |s| Some(s.patient_id) == id)
    }
}

pub fn update(app: &mut App, action: Action) {
    match action {
        Action::Next => {
            if app.selected + 1 < app.patients.len() {
                app.selected += 1;
            }
        }
        Action::Previous => app.selected = app.selected.saturating_sub(1),
        Action::Quit => app.quit = true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(n: usize) -> App {
        App {
            patients: (0..n)
                .map(|i| Patient {
                    id: i as i64 + 1,
                    name: format!("P{i}"),
                    dob: NaiveDate::from_ymd_opt(1980, 1, 1).unwrap(),
                    mrn: None,
                    weight_kg: None,
                })
                .collect(),
            sessions: Vec::new(),
            selected: 0,
            today: NaiveDate::from_ymd_opt(2026, 11, 26).unwrap(),
            quit: false,
        }
    }

    #[test]
    fn selection_stays_within_the_list() {
        let mut a = app(2);
        update(&mut a, Action::Previous);
        assert_eq!(a.selected, 0);
        update(&mut a, Action::Next);
        update(&mut a, Action::Next);
        assert_eq!(a.selected, 1);
        let mut empty = app(0);
        update(&mut empty, Action::Next);
        assert_eq!(empty.selected, 0);
    }

    #[test]
    fn quit_quits() {
        let mut a = app(1);
        update(&mut a, Action::Quit);
        assert!(a.quit);
    }
}
