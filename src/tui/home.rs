//! The home screen: today's and recent sessions, patients (filter as you type), and
//! starting a new session for a patient.

use super::app::Effect;
use super::keymap::{Command, Context, Key};
use crate::app::patient_list::{Page, PageRead};
use crate::domain::patient_filter::PatientFilter;
use crate::domain::{Patient, PatientId, Session, SessionKind};
use chrono::Duration;

/// Rows `PgUp` and `PgDn` move the selection by.
pub const PAGE_STEP: isize = 10;

pub use crate::app::views::HomeData;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Recent,
    Patients,
    Sessions,
}

/// The new-session form.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSessionForm {
    pub patient: PatientId,
    pub kind: SessionKind,
    pub intention: String,
    /// For an integration: the patient's latest dosing session.
    pub dosing: Option<Session>,
    pub error: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Home {
    pub data: HomeData,
    pub focus: Focus,
    pub filter: String,
    pub filtering: bool,
    /// Index into `visible_patients()`.
    pub patient: usize,
    /// Where the selection in the patient list was asked to go past the rows read so far
    /// (`End`, `PgDn`, `Down` on the last row): it goes there as the pages arrive.
    pub patient_wanted: Option<usize>,
    /// Index into the selected patient's sessions.
    pub session: usize,
    /// Index into `recent()`.
    pub recent: usize,
    pub form: Option<NewSessionForm>,
    pub error: Option<String>,
}

use crate::app::views::RECENT_DAYS;

impl Home {
    pub fn new(data: HomeData) -> Home {
        let focus = if data.sessions.is_empty() {
            Focus::Patients
        } else {
            Focus::Recent
        };
        Home {
            data,
            focus,
            filter: String::new(),
            filtering: false,
            patient: 0,
            patient_wanted: None,
            session: 0,
            recent: 0,
            form: None,
            error: None,
        }
    }

    pub fn context(&self) -> Context {
        if self.filtering || self.form.is_some() {
            Context::Panel
        } else {
            Context::Home
        }
    }

    /// The patients of the list read so far under the filter as typed (none while the
    /// filter's first page is still to read: rows of an earlier filter would mislead).
    pub fn visible_patients(&self) -> Vec<&Patient> {
        let list = &self.data.patients;
        if list.filter != PatientFilter::typed(&self.filter) {
            return Vec::new();
        }
        list.rows.iter().collect()
    }

    /// The page the patient list needs read: the first under a filter just typed, or the
    /// next when the selection was moved past the rows read so far.
    pub fn patients_needed(&self) -> Option<PageRead> {
        let typed = PatientFilter::typed(&self.filter);
        let list = &self.data.patients;
        if list.filter != typed {
            return Some(PageRead {
                filter: typed,
                after: None,
            });
        }
        match self.patient_wanted {
            Some(wanted) if wanted >= list.rows.len() => list.next_read(),
            _ => None,
        }
    }

    /// A page of the patient list as read from the chart: kept when it answers the filter
    /// as typed now, and the selection moved on to where it was asked to go.
    pub fn patients_read(&mut self, page: Page) {
        if page.read.filter != PatientFilter::typed(&self.filter) || !self.data.patients.take(page)
        {
            return;
        }
        let list = &self.data.patients;
        if let Some(wanted) = self.patient_wanted {
            self.patient = wanted.min(list.rows.len().saturating_sub(1));
            if wanted < list.rows.len() || list.complete {
                self.patient_wanted = None;
            }
        }
    }

    pub fn selected_patient(&self) -> Option<&Patient> {
        self.visible_patients().get(self.patient).copied()
    }

    pub fn patient_sessions(&self) -> Vec<&Session> {
        match self.selected_patient() {
            Some(p) => self.sessions_of(p.id).iter().collect(),
            None => Vec::new(),
        }
    }

    /// A patient's sessions, newest first, once read (empty until then).
    pub fn sessions_of(&self, patient: PatientId) -> &[Session] {
        self.data
            .patient_sessions
            .get(&patient)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// A patient whose sessions the screen needs and has not read yet: the selected
    /// patient's (the sessions panel), then the selected recent session's patient's (`n`
    /// offers their latest dosing session).
    pub fn sessions_needed(&self) -> Option<PatientId> {
        let selected = self.selected_patient().map(|p| p.id);
        let recent = self.recent().get(self.recent).map(|s| s.patient_id);
        [selected, recent]
            .into_iter()
            .flatten()
            .find(|p| !self.data.patient_sessions.contains_key(p))
    }

    /// A patient's sessions as read from the chart.
    pub fn sessions_read(&mut self, patient: PatientId, sessions: Vec<Session>) {
        self.data.patient_sessions.insert(patient, sessions);
    }

    /// Sessions started today or in the last week, newest first, and every open session.
    pub fn recent(&self) -> Vec<&Session> {
        let since = self.data.today - Duration::days(RECENT_DAYS);
        self.data
            .sessions
            .iter()
            .filter(|s| s.ended.is_none() || s.started.date_naive() >= since)
            .collect()
    }

    /// A patient's name: from the list's rows, or from the names read for the recent
    /// sessions and integrations.
    pub fn patient_name(&self, id: PatientId) -> &str {
        self.data
            .patients
            .rows
            .iter()
            .find(|p| p.id == id)
            .map(|p| p.name.as_str())
            .or_else(|| self.data.names.get(&id).map(String::as_str))
            .unwrap_or("?")
    }

    pub fn on_key(&mut self, command: Option<Command>, key: &Key) -> Option<Effect> {
        if self.form.is_some() {
            return self.on_form_key(command, key);
        }
        if self.filtering {
            match (command, key.printable()) {
                (Some(Command::Confirm | Command::Cancel), _) => self.filtering = false,
                (Some(Command::DeleteBack), _) => {
                    self.filter.pop();
                    self.patient = 0;
                    self.patient_wanted = None;
                }
                (_, Some(c)) => {
                    self.filter.push(c);
                    self.patient = 0;
                    self.patient_wanted = None;
                }
                _ => {}
            }
            return None;
        }
        match command? {
            Command::FocusFilter => {
                self.filtering = true;
                self.focus = Focus::Patients;
            }
            Command::NextField => {
                self.focus = match self.focus {
                    Focus::Recent => Focus::Patients,
                    Focus::Patients => Focus::Sessions,
                    Focus::Sessions => Focus::Recent,
                }
            }
            Command::Up => self.step(-1),
            Command::Down => self.step(1),
            Command::PageUp => self.step(-PAGE_STEP),
            Command::PageDown => self.step(PAGE_STEP),
            Command::ListStart => self.move_to(0),
            Command::ListEnd => self.move_to(usize::MAX),
            Command::Open => return self.open(),
            Command::NewSession => self.start_form(),
            Command::Note => return self.open_note(),
            Command::Patient => {
                let patient = match self.focus {
                    Focus::Recent => self.recent().get(self.recent).map(|s| s.patient_id),
                    _ => self.selected_patient().map(|p| p.id),
                };
                return patient.map(Effect::OpenPatient);
            }
            _ => {}
        }
        None
    }

    fn step(&mut self, by: isize) {
        let at = match self.focus {
            Focus::Recent => self.recent,
            Focus::Patients => self.patient_wanted.unwrap_or(self.patient),
            Focus::Sessions => self.session,
        };
        self.move_to(at.saturating_add_signed(by));
    }

    /// Moves the focused list's selection to `target`, or its last row. In the patient list,
    /// a target past the rows read so far is kept until the pages up to it are read.
    fn move_to(&mut self, target: usize) {
        let len = match self.focus {
            Focus::Recent => self.recent().len(),
            Focus::Patients => self.visible_patients().len(),
            Focus::Sessions => self.patient_sessions().len(),
        };
        let last = len.saturating_sub(1);
        match self.focus {
            Focus::Recent => self.recent = target.min(last),
            Focus::Sessions => self.session = target.min(last),
            Focus::Patients => {
                let more = !self.data.patients.complete && len > 0;
                self.patient_wanted = (target > last && more).then_some(target);
                self.patient = target.min(last);
                self.session = 0;
            }
        }
    }

    fn open(&mut self) -> Option<Effect> {
        let session = match self.focus {
            Focus::Recent => self.recent().get(self.recent).map(|s| s.id),
            Focus::Sessions => self.patient_sessions().get(self.session).map(|s| s.id),
            Focus::Patients => {
                // Enter on a patient moves to their sessions.
                self.focus = Focus::Sessions;
                self.session = 0;
                return None;
            }
        };
        session.map(Effect::OpenSession)
    }

    /// The integration note of the selected dosing session (an integration session opens
    /// the note of the dosing session it integrates).
    fn open_note(&mut self) -> Option<Effect> {
        let session = match self.focus {
            Focus::Recent => self.recent().get(self.recent).copied(),
            Focus::Sessions => self.patient_sessions().get(self.session).copied(),
            Focus::Patients => None,
        };
        match session {
            Some(s) if s.kind == SessionKind::Dosing => Some(Effect::OpenNote { dosing: s.id }),
            Some(s) if s.dosing_session_id.is_some() => Some(Effect::OpenNote {
                dosing: s.dosing_session_id.unwrap_or(s.id),
            }),
            _ => {
                self.error = Some("select a dosing or integration session to open its note".into());
                None
            }
        }
    }

    fn start_form(&mut self) {
        let patient = match self.focus {
            Focus::Recent => self.recent().get(self.recent).map(|s| s.patient_id),
            _ => self.selected_patient().map(|p| p.id),
        };
        let Some(patient) = patient else {
            self.error = Some("no patient selected; add one with `kapchart patient add`".into());
            return;
        };
        let dosing = self
            .sessions_of(patient)
            .iter()
            .find(|s| s.kind == SessionKind::Dosing)
            .cloned();
        // Left empty, the new dosing session carries the patient's latest intention from the
        // record (set in preparation, or the previous dosing session's): the application
        // layer reads it when the session starts.
        self.form = Some(NewSessionForm {
            patient,
            kind: SessionKind::Dosing,
            intention: String::new(),
            dosing,
            error: None,
        });
    }

    fn on_form_key(&mut self, command: Option<Command>, key: &Key) -> Option<Effect> {
        let form = self.form.as_mut()?;
        let kinds = SessionKind::ALL;
        let at = kinds.iter().position(|k| *k == form.kind).unwrap_or(0);
        match (command, key.printable()) {
            (Some(Command::Cancel), _) => self.form = None,
            (Some(Command::Increase | Command::NextField), _) => {
                form.kind = kinds[(at + 1) % kinds.len()];
            }
            (Some(Command::Decrease | Command::PreviousField), _) => {
                form.kind = kinds[(at + kinds.len() - 1) % kinds.len()];
            }
            (Some(Command::DeleteBack), _) if form.kind == SessionKind::Dosing => {
                form.intention.pop();
            }
            (Some(Command::Confirm), _) => {
                let dosing = match (form.kind, &form.dosing) {
                    (SessionKind::Integration, None) => {
                        form.error = Some(
                            "an integration follows a dosing session; this patient has none yet"
                                .into(),
                        );
                        return None;
                    }
                    (SessionKind::Integration, Some(d)) => Some(d.id),
                    _ => None,
                };
                let intention = (form.kind == SessionKind::Dosing)
                    .then(|| form.intention.trim().to_string())
                    .filter(|i| !i.is_empty());
                let effect = Effect::StartSession {
                    patient: form.patient,
                    kind: form.kind,
                    intention,
                    dosing,
                };
                self.form = None;
                return Some(effect);
            }
            (_, Some(c)) if form.kind == SessionKind::Dosing => form.intention.push(c),
            _ => {}
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::patient_list::PatientList;
    use chrono::{FixedOffset, NaiveDate, TimeZone};

    fn key(s: &str) -> Key {
        Key::parse(s).unwrap()
    }

    fn data() -> HomeData {
        let p = |id, name: &str| Patient {
            id,
            name: name.into(),
            dob: NaiveDate::from_ymd_opt(1980, 1, 1).unwrap(),
            mrn: Some(format!("M{id}")),
            weight_kg: None,
        };
        let at = |d| {
            FixedOffset::east_opt(0)
                .unwrap()
                .with_ymd_and_hms(2026, 11, d, 10, 0, 0)
                .unwrap()
        };
        let s = |id, patient, kind, day, intention: Option<&str>| Session {
            id,
            patient_id: patient,
            kind,
            started: at(day),
            ended: Some(at(day)),
            clinician: "Dr".into(),
            intention: intention.map(str::to_string),
            dosing_session_id: None,
        };
        let sessions = vec![
            s(3, 2, SessionKind::Dosing, 25, Some("Feel safe")),
            s(2, 1, SessionKind::Intake, 10, None),
            s(1, 2, SessionKind::Intake, 1, None),
        ];
        let mut patient_sessions = std::collections::HashMap::new();
        for session in &sessions {
            patient_sessions
                .entry(session.patient_id)
                .or_insert_with(Vec::new)
                .push(session.clone());
        }
        HomeData {
            patients: PatientList {
                filter: PatientFilter::All,
                rows: vec![p(1, "Ada Byron"), p(2, "Bo Chen")],
                complete: true,
            },
            patient_count: 2,
            names: std::collections::HashMap::new(),
            sessions,
            patient_sessions,
            integrations: Vec::new(),
            today: NaiveDate::from_ymd_opt(2026, 11, 26).unwrap(),
            rems_due: None,
        }
    }

    fn press(h: &mut Home, k: &str, cmd: Option<Command>) -> Option<Effect> {
        h.on_key(cmd, &key(k))
    }

    #[test]
    fn recent_shows_the_last_week_only() {
        let h = Home::new(data());
        let ids: Vec<_> = h.recent().iter().map(|s| s.id).collect();
        assert_eq!(ids, [3]);
        assert_eq!(h.focus, Focus::Recent);
    }

    #[test]
    fn enter_on_a_recent_session_opens_it() {
        let mut h = Home::new(data());
        assert_eq!(
            press(&mut h, "enter", Some(Command::Open)),
            Some(Effect::OpenSession(3))
        );
    }

    fn page(
        filter: PatientFilter,
        after: Option<&Patient>,
        rows: Vec<Patient>,
        last: bool,
    ) -> Page {
        Page {
            read: PageRead {
                filter,
                after: after.cloned(),
            },
            rows,
            last,
        }
    }

    /// The filter asks the chart for its first page as it is typed; rows of an earlier
    /// filter are never shown for a later one (tests/patient_list.rs types into a chart).
    #[test]
    fn filter_as_you_type_reads_the_filters_first_page() {
        let mut h = Home::new(data());
        let bo = h.data.patients.rows[1].clone();
        press(&mut h, "/", Some(Command::FocusFilter));
        assert_eq!(h.context(), Context::Panel);
        press(&mut h, "b", None);
        let b = PatientFilter::Begins("b".into());
        assert_eq!(
            h.patients_needed(),
            Some(PageRead {
                filter: b.clone(),
                after: None
            })
        );
        press(&mut h, "o", None);
        assert!(h.visible_patients().is_empty(), "no rows of another filter");
        // The page for "b" arrives after "o" was typed: left out.
        h.patients_read(page(b, None, vec![bo.clone()], true));
        assert!(h.visible_patients().is_empty());
        let bo_filter = PatientFilter::Begins("bo".into());
        assert_eq!(h.patients_needed().unwrap().filter, bo_filter);
        h.patients_read(page(bo_filter, None, vec![bo], true));
        let names: Vec<_> = h
            .visible_patients()
            .iter()
            .map(|p| p.name.clone())
            .collect();
        assert_eq!(names, ["Bo Chen"]);
        assert_eq!(h.patients_needed(), None);
        press(&mut h, "enter", Some(Command::Confirm));
        assert_eq!(h.context(), Context::Home);
        assert_eq!(h.filter, "bo", "the typed filter stays");
    }

    /// Moving past the rows read asks for the page after the last one; the selection goes
    /// on to where it was asked once the page is in.
    #[test]
    fn moving_past_the_rows_read_asks_for_the_next_page() {
        let mut d = data();
        d.patients.complete = false;
        let mut h = Home::new(d);
        press(&mut h, "tab", Some(Command::NextField));
        press(&mut h, "down", Some(Command::Down));
        assert_eq!(h.patients_needed(), None, "Bo is read");
        press(&mut h, "pagedown", Some(Command::PageDown));
        assert_eq!(h.patient, 1, "on the last row read until more arrive");
        let bo = h.data.patients.rows[1].clone();
        let read = h.patients_needed().expect("the next page");
        assert_eq!(read.after.as_ref(), Some(&bo));
        let more: Vec<Patient> = (3..20)
            .map(|id| Patient {
                id,
                name: format!("Cy {id:02}"),
                ..bo.clone()
            })
            .collect();
        h.patients_read(page(PatientFilter::All, Some(&bo), more, true));
        assert_eq!(h.patient, 11, "ten rows down from Bo");
        assert_eq!(h.selected_patient().unwrap().name, "Cy 12");
        assert_eq!(h.patients_needed(), None);
        press(&mut h, "end", Some(Command::ListEnd));
        assert_eq!(h.selected_patient().unwrap().name, "Cy 19");
        press(&mut h, "home", Some(Command::ListStart));
        assert_eq!(h.patient, 0);
    }

    #[test]
    fn patients_then_their_sessions() {
        let mut h = Home::new(data());
        press(&mut h, "tab", Some(Command::NextField));
        press(&mut h, "down", Some(Command::Down));
        press(&mut h, "down", Some(Command::Down));
        assert_eq!(
            h.selected_patient().unwrap().name,
            "Bo Chen",
            "stops at the end"
        );
        press(&mut h, "enter", Some(Command::Open));
        assert_eq!(h.focus, Focus::Sessions);
        press(&mut h, "down", Some(Command::Down));
        assert_eq!(
            press(&mut h, "enter", Some(Command::Open)),
            Some(Effect::OpenSession(1))
        );
    }

    #[test]
    fn new_dosing_session_leaves_the_intention_to_the_record_unless_typed() {
        let mut h = Home::new(data());
        press(&mut h, "n", Some(Command::NewSession));
        assert_eq!(h.form.as_ref().unwrap().intention, "");
        assert_eq!(
            press(&mut h, "enter", Some(Command::Confirm)),
            Some(Effect::StartSession {
                patient: 2,
                kind: SessionKind::Dosing,
                intention: None,
                dosing: None,
            })
        );
        press(&mut h, "n", Some(Command::NewSession));
        for c in "Rest".chars() {
            press(&mut h, &c.to_string(), None);
        }
        assert_eq!(
            press(&mut h, "enter", Some(Command::Confirm)),
            Some(Effect::StartSession {
                patient: 2,
                kind: SessionKind::Dosing,
                intention: Some("Rest".into()),
                dosing: None,
            })
        );
    }

    #[test]
    fn new_integration_links_the_latest_dosing_or_explains() {
        let mut h = Home::new(data());
        press(&mut h, "n", Some(Command::NewSession));
        press(&mut h, "right", Some(Command::Increase));
        assert_eq!(
            press(&mut h, "enter", Some(Command::Confirm)),
            Some(Effect::StartSession {
                patient: 2,
                kind: SessionKind::Integration,
                intention: None,
                dosing: Some(3),
            })
        );
        // Ada has no dosing session yet.
        h.focus = Focus::Patients;
        h.patient = 0;
        press(&mut h, "n", Some(Command::NewSession));
        press(&mut h, "right", Some(Command::Increase));
        assert_eq!(press(&mut h, "enter", Some(Command::Confirm)), None);
        assert!(
            h.form
                .as_ref()
                .unwrap()
                .error
                .as_ref()
                .unwrap()
                .contains("has none")
        );
        press(&mut h, "esc", Some(Command::Cancel));
        assert!(h.form.is_none());
    }
}
