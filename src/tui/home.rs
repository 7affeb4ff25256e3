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

    fn form(h: &Home) -> &NewSessionForm {
        match &h.form {
            Some(HomeForm::NewSession(f)) => f,
            other => panic!("not the new-session form: {other:?}"),
        }
    }

    #[test]
    fn new_dosing_session_leaves_the_intention_to_the_record_unless_typed() {
        let mut h = Home::new(data());
        assert_eq!(
            press(&mut h, "n", Some(Command::NewSession)),
            Some(Effect::ReadCarriedIntention(2)),
            "the form reads what an empty intention carries"
        );
        assert_eq!(form(&h).intention, "");
        assert_eq!(
            press(&mut h, "enter", Some(Command::Confirm)),
            Some(Effect::StartSession {
                patient: 2,
                kind: SessionKind::Dosing,
                intention: None,
                dosing: None,
            })
        );
        h.session_started();
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
        h.session_started();
        // Ada has no dosing session yet.
        h.focus = Focus::Patients;
        h.patient = 0;
        press(&mut h, "n", Some(Command::NewSession));
        press(&mut h, "right", Some(Command::Increase));
        assert_eq!(press(&mut h, "enter", Some(Command::Confirm)), None);
        assert!(form(&h).error.as_ref().unwrap().contains("has none"));
        press(&mut h, "esc", Some(Command::Cancel));
        assert!(h.form.is_none());
        assert!(h.kept.is_empty(), "nothing typed, nothing kept");
    }
}
