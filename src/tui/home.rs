//! The home screen: today's and recent sessions, patients (filter as you type), and
//! starting a new session for a patient.

use super::keymap::{Command, Context, Key};
use super::state::Effect;
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

pub use super::home_forms::{
    CourseForm, FormOutcome, HomeForm, NewSessionForm, PatientForm, Refused,
};

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
    pub form: Option<HomeForm>,
    /// Forms closed with Esc with something typed in them: the same form opened again
    /// (for the same patient) comes back as it was left.
    pub kept: Vec<HomeForm>,
    /// The patient to select once the list holds them (one just added).
    pub select: Option<PatientId>,
    /// The session to select once the selected patient's sessions are read again.
    session_wanted: Option<crate::domain::SessionId>,
    pub error: Option<String>,
    /// What was just done ("patient 12 added"), until the next key.
    pub notice: Option<String>,
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
            kept: Vec::new(),
            select: None,
            session_wanted: None,
            error: None,
            notice: None,
        }
    }

    /// The home screen read again after the chart changed (another process's write, or a
    /// form's own): the filter, the focus, the selections (by what they select), an open
    /// form and the forms set aside all stay.
    pub fn refreshed(&mut self, data: HomeData) {
        let patient = self.selected_patient().map(|p| p.id);
        let recent = self.recent().get(self.recent).map(|s| s.id);
        let session = self.patient_sessions().get(self.session).map(|s| s.id);
        self.data = data;
        if let Some(id) = recent {
            self.recent = self
                .recent()
                .iter()
                .position(|s| s.id == id)
                .unwrap_or(self.recent.min(self.recent().len().saturating_sub(1)));
        }
        self.session_wanted = session;
        self.select = self.select.or(patient);
        self.reselect();
    }

    /// Moves the patient selection to the patient asked for, once the list holds them.
    fn reselect(&mut self) {
        let Some(id) = self.select else { return };
        let rows = self.visible_patients().len();
        if rows == 0 && self.patients_needed().is_some() {
            return;
        }
        if let Some(i) = self.visible_patients().iter().position(|p| p.id == id) {
            if self.patient != i {
                self.session = 0;
            }
            self.patient = i;
        } else {
            self.patient = self.patient.min(rows.saturating_sub(1));
        }
        self.select = None;
    }

    /// The filter and how far the patient list was read, for reading it again as shown.
    pub fn as_shown(&self) -> (PatientFilter, usize) {
        (
            PatientFilter::typed(&self.filter),
            self.data.patients.rows.len(),
        )
    }

    /// Text typed in a form, open or set aside, and not written.
    pub fn pending_text(&self) -> Option<String> {
        let texts: Vec<String> = self
            .form
            .iter()
            .chain(&self.kept)
            .filter_map(HomeForm::pending_text)
            .collect();
        (!texts.is_empty()).then(|| texts.join("\n"))
    }

    /// The intention on record that a new dosing session for `patient` would carry.
    pub fn carried_read(&mut self, patient: PatientId, carried: Result<Option<String>, String>) {
        if let Some(HomeForm::NewSession(f)) = &mut self.form
            && f.patient == patient
        {
            match carried {
                Ok(c) => f.carried = Some(c),
                Err(e) => f.error = Some(format!("the intention on record could not be read: {e}")),
            }
        }
    }

    /// A patient was added from the form, or refused.
    pub fn patient_added(&mut self, result: Result<PatientId, Refused>) -> bool {
        match result {
            Ok(id) => {
                self.form = None;
                self.select = Some(id);
                self.focus = Focus::Patients;
                self.notice = Some(format!("patient {id} added"));
                true
            }
            Err(refused) => {
                if let Some(HomeForm::Patient(f)) = &mut self.form {
                    f.refused(refused);
                } else {
                    self.error = Some(refused.why);
                }
                false
            }
        }
    }

    /// A course was started from the form, or refused.
    pub fn course_started(&mut self, patient: PatientId, result: Result<i64, Refused>) {
        match result {
            Ok(id) => {
                self.form = None;
                self.notice = Some(format!(
                    "course {id} started for {}",
                    self.patient_name(patient)
                ));
            }
            Err(refused) => {
                if let Some(HomeForm::Course(f)) = &mut self.form {
                    f.refused(refused);
                } else {
                    self.error = Some(refused.why);
                }
            }
        }
    }

    /// A session could not be started: the form stays as typed, with why.
    pub fn start_refused(&mut self, why: String) {
        match &mut self.form {
            Some(HomeForm::NewSession(f)) => f.error = Some(why),
            _ => self.error = Some(why),
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
        self.reselect();
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
        let selected = self.selected_patient().map(|p| p.id) == Some(patient);
        if let Some(id) = self.session_wanted.filter(|_| selected) {
            self.session = sessions
                .iter()
                .position(|s| s.id == id)
                .unwrap_or(self.session.min(sessions.len().saturating_sub(1)));
            self.session_wanted = None;
        }
        if let Some(HomeForm::NewSession(f)) = &mut self.form
            && f.patient == patient
        {
            // The latest dosing session, read again, is the one an integration links.
            f.dosing = sessions
                .iter()
                .find(|s| s.kind == SessionKind::Dosing)
                .cloned();
        }
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
        self.notice = None;
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
            Command::NewSession => return self.start_form(),
            Command::AddPatient => self.open_form(HomeForm::Patient(PatientForm::default())),
            Command::StartCourse => match self.chosen_patient() {
                Some(patient) => self.open_form(HomeForm::Course(CourseForm::new(patient))),
                None => self.error = Some(NO_PATIENT.into()),
            },
            Command::Note => return self.open_note(),
            Command::Patient => return self.chosen_patient().map(Effect::OpenPatient),
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

    /// The patient the keys act on: the selected recent session's, or the selected one in
    /// the patient list.
    fn chosen_patient(&self) -> Option<PatientId> {
        match self.focus {
            Focus::Recent => self.recent().get(self.recent).map(|s| s.patient_id),
            _ => self.selected_patient().map(|p| p.id),
        }
    }

    /// Opens `form`, or the same form as it was set aside.
    fn open_form(&mut self, form: HomeForm) {
        self.error = None;
        let kept = self.kept.iter().position(|k| k.same_as(&form));
        self.form = Some(match kept {
            Some(i) => {
                self.notice = Some("as it was left: what was typed is kept until written".into());
                self.kept.remove(i)
            }
            None => form,
        });
    }

    fn start_form(&mut self) -> Option<Effect> {
        let Some(patient) = self.chosen_patient() else {
            self.error = Some(NO_PATIENT.into());
            return None;
        };
        let dosing = self
            .sessions_of(patient)
            .iter()
            .find(|s| s.kind == SessionKind::Dosing)
            .cloned();
        self.open_form(HomeForm::NewSession(NewSessionForm::new(
            patient,
            dosing.clone(),
        )));
        if let Some(HomeForm::NewSession(f)) = &mut self.form {
            f.dosing = dosing.or(f.dosing.take());
            f.carried = None;
        }
        // Left empty, the new dosing session carries the patient's latest intention from the
        // record (set in preparation, or the previous dosing session's): the form shows it.
        Some(Effect::ReadCarriedIntention(patient))
    }

    fn on_form_key(&mut self, command: Option<Command>, key: &Key) -> Option<Effect> {
        let form = self.form.as_mut()?;
        match form.on_key(command, key) {
            FormOutcome::Stay => None,
            FormOutcome::Send(effect) => Some(effect),
            FormOutcome::Close => {
                if let Some(form) = self.form.take().filter(HomeForm::is_typed) {
                    self.kept.retain(|k| !k.same_as(&form));
                    self.kept.push(form);
                    self.notice = Some("kept as typed: the same form opens with it again".into());
                }
                None
            }
        }
    }

    /// A session was started from the new-session form: it is done with.
    pub fn session_started(&mut self) {
        if matches!(self.form, Some(HomeForm::NewSession(_))) {
            self.form = None;
        }
    }
}

/// What the keys that need a patient say when none is selected.
const NO_PATIENT: &str = "no patient selected; add one with a (or `kapchart patient add`)";

#[cfg(test)]
#[path = "home_keys_tests.rs"]
mod tests;
