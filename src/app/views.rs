//! What each screen shows, read from the chart in one place: the home screen, a session's
//! live screen and the patient's course screen.

use super::AppError;
use super::Chart;
use super::charting::session_chart;
use super::course::{patient_measures, safety_flag};
use super::patient_list::{PatientList, read_again};
use crate::config::Config;
use crate::domain::chart::PLANNING_KINDS;
use crate::domain::chart::SessionChart;
use crate::domain::course::{Course, Note, PatientDetails};
use crate::domain::integration::{FirstDoses, IntegrationDue};
use crate::domain::measures::{MeasureResponse, SafetyFlag};
use crate::domain::medications::Medication;
use crate::domain::patient_filter::PatientFilter;
use crate::domain::screening::{EligibilityDecision, ScreeningAnswer};
use crate::domain::stock::ContainerId;
use crate::domain::stock::at_hand::{AtHand, at_hand};
use crate::domain::stock::ledger::ContainerLedger;
use crate::domain::{
    Entry, EntryStatus, Patient, PatientId, Payload, Session, SessionId, SessionKind,
};
use chrono::{DateTime, Duration, FixedOffset, NaiveDate};
use std::collections::HashMap;

/// Sessions started within this many days show under "today and recent".
pub const RECENT_DAYS: i64 = 7;

/// What the home screen shows, read from the chart: only what it shows, so that opening it
/// costs the same in a ten-year chart as in a new one (BENCHMARKS.md section 2).
#[derive(Debug, Clone, PartialEq)]
pub struct HomeData {
    /// The patient list as read so far: its first page, then each page the selection needs
    /// (`patient_list`).
    pub patients: PatientList,
    /// How many patients the chart holds, for the list's title.
    pub patient_count: usize,
    /// The names of the patients the recent sessions and the integrations name, which may be
    /// on no page of the list read yet.
    pub names: HashMap<PatientId, String>,
    /// The sessions of the last [`RECENT_DAYS`] (read with a few days' margin) and every
    /// open session, newest first.
    pub sessions: Vec<Session>,
    /// Patients' sessions, newest first, read as the screen needs them ([`patient_sessions`]):
    /// the selected patient's, and the patient's of the selected recent session.
    pub patient_sessions: HashMap<PatientId, Vec<Session>>,
    /// Integrations not yet done: overdue first, then due, then upcoming.
    pub integrations: Vec<IntegrationDue>,
    pub today: NaiveDate,
    /// Spravato REMS forms not yet submitted, and the oldest deadline (None when there are
    /// none, or the clinic is inpatient). Loaded by its own indexed statement.
    pub rems_due: Option<super::rems::FormsDue>,
}

/// A session as read from the chart for the live screen.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveData {
    /// The session with its lines and the clinic's rules.
    pub chart: SessionChart,
    pub patient: Patient,
    /// This session's number among the patient's sessions of its kind ("dosing 3").
    pub number_in_course: u32,
    /// The patient's open PHQ-9 item 9 safety flag: shown until a risk assessment is charted.
    pub safety: Option<SafetyFlag>,
    /// For an integration session: the dosing session it integrates.
    pub integrates: Option<Integrated>,
    /// Who usually takes the patient home (the patient's contacts), to offer in discharge.
    pub usual_ride: Option<String>,
    /// The ledgers of the containers the session drew from (or, before it drew, those open
    /// on the shelf), for the container at hand ([`LiveData::at_hand`]).
    pub stock: Vec<ContainerLedger>,
}

/// The dosing session an integration session looks back on, with its note.
#[derive(Debug, Clone, PartialEq)]
pub struct Integrated {
    pub chart: SessionChart,
    /// "dosing 3" in the patient's course.
    pub number_in_course: u32,
    /// The dosing session's integration note, once opened.
    pub note: Option<Note>,
}

impl LiveData {
    pub fn session(&self) -> &Session {
        self.chart.session()
    }

    /// Takes in what this screen's own write left in the chart, without reading the session
    /// again: the entries join the session's chart (which derives the rest from its lines,
    /// as after a fresh read), and the safety flag is replaced when the write read it again.
    /// The rest cannot change by a write from the live screen: the patient, the session's
    /// number in the course and the usual ride are not charted there, and an integration
    /// session's screen writes only to itself, not to the dosing session or its note.
    /// Another process's entries come by the poll, which reads the session again.
    pub fn take_in(&mut self, write: SessionWrite) {
        // The screen's writes are to its own session (a correction's target is on its
        // timeline); an entry of another session is never shown here.
        let id = self.session().id;
        let entries = write.entries.into_iter().filter(|e| e.session_id == id);
        self.chart.extend(entries.collect());
        if let Some(safety) = write.safety {
            self.safety = safety;
        }
        for ledger in write.stock {
            self.stock.retain(|l| l.container.id != ledger.container.id);
            self.stock.push(ledger);
        }
    }

    /// The container at hand, its balance, and whether it holds less than the next dose.
    pub fn at_hand(&self) -> Option<AtHand> {
        at_hand(&self.chart, &self.stock)
    }
}

/// What a write from a session's live screen left in the chart, for [`LiveData::take_in`].
#[derive(Debug, Clone, PartialEq)]
pub struct SessionWrite {
    /// The entries written, as the chart stores them.
    pub entries: Vec<Entry>,
    /// The patient's safety flag read again (Some), when the write may have changed it.
    pub safety: Option<Option<SafetyFlag>>,
    /// The ledgers read again of the containers the write drew from or gave back to.
    pub stock: Vec<ContainerLedger>,
}

/// The write's entries with what else the live screen needs from the chart after it: the
/// patient's safety flag, read again only when an entry written, or the entry it corrects,
/// is a questionnaire that raises the flag or a risk assessment (the only entries the flag
/// is derived from, `measures::safety_flag`). Other writes read nothing.
pub fn session_write(chart: &Chart, entries: Vec<Entry>) -> Result<SessionWrite, AppError> {
    use crate::domain::measures::bears_on_safety;
    let mut reread = false;
    let mut moved: Vec<ContainerId> = Vec::new();
    for e in &entries {
        reread |= bears_on_safety(&e.payload);
        moved.extend(e.payload.drawn().iter().map(|d| d.container));
        if let Some(target) = e.corrects {
            let target = chart.store.entry(target)?.payload;
            reread |= bears_on_safety(&target);
            moved.extend(target.drawn().iter().map(|d| d.container));
        }
    }
    moved.sort();
    moved.dedup();
    let safety = match (reread, entries.first()) {
        (true, Some(e)) => {
            let patient = chart.store.session(e.session_id)?.patient_id;
            Some(safety_flag(chart, patient)?)
        }
        _ => None,
    };
    Ok(SessionWrite {
        stock: super::stock::of_containers(chart, &moved)?,
        entries,
        safety,
    })
}

#[derive(Debug, Clone, PartialEq)]
pub struct PatientData {
    pub patient: Patient,
    pub details: PatientDetails,
    pub medications: Vec<Medication>,
    pub safety: Option<SafetyFlag>,
    pub course: Option<Course>,
    /// Oldest first.
    pub sessions: Vec<Session>,
    /// The questionnaires that stand, oldest first.
    pub measures: Vec<(DateTime<FixedOffset>, MeasureResponse)>,
    pub integrations: Vec<IntegrationDue>,
    /// The intake screening answers that stand, oldest first.
    pub screening: Vec<ScreeningAnswer>,
    /// The clinician's latest eligibility decision, when one was recorded.
    pub eligibility: Option<EligibilityDecision>,
}

impl PatientData {
    /// Dosing sessions ended, and planned (6 unless the course says otherwise).
    pub fn progress(&self) -> (usize, u32) {
        let done = self
            .sessions
            .iter()
            .filter(|s| s.kind == SessionKind::Dosing && s.ended.is_some())
            .count();
        let planned = self
            .course
            .as_ref()
            .map(|c| c.planned_dosing)
            .unwrap_or(crate::domain::course::DEFAULT_PLANNED_DOSING);
        (done, planned)
    }
}

/// Reads what the home screen shows, one loader per part.
pub fn home_data(
    chart: &Chart,
    config: &Config,
    now: DateTime<FixedOffset>,
) -> Result<HomeData, AppError> {
    home_data_as_shown(chart, config, now, PatientFilter::All, 0)
}

/// What the home screen shows, read again for a screen whose patient list is under `filter`
/// and was read as far as `rows` rows: after another process (a second terminal, a
/// script's `kapchart patient add`) changed the chart.
pub fn home_data_as_shown(
    chart: &Chart,
    config: &Config,
    now: DateTime<FixedOffset>,
    filter: PatientFilter,
    rows: usize,
) -> Result<HomeData, AppError> {
    let sessions = recent_sessions(chart, now)?;
    let integrations = pending_integrations(chart, config, now)?;
    let named: Vec<PatientId> = sessions
        .iter()
        .map(|s| s.patient_id)
        .chain(integrations.iter().map(|d| d.patient))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    Ok(HomeData {
        patients: read_again(chart, filter, rows)?,
        patient_count: chart.store.patient_count()?,
        names: chart
            .store
            .patients_with_ids(&named)?
            .into_iter()
            .map(|p| (p.id, p.name))
            .collect(),
        sessions,
        patient_sessions: HashMap::new(),
        integrations,
        today: now.date_naive(),
        rems_due: super::rems::forms_due(chart, config)?,
    })
}

/// The sessions the "today and recent" list is drawn from: started within [`RECENT_DAYS`]
/// of `now` (with three days' margin, so a session's own offset never leaves one out; the
/// screen keeps those of the last [`RECENT_DAYS`] days), and every open session.
pub fn recent_sessions(
    chart: &Chart,
    now: DateTime<FixedOffset>,
) -> Result<Vec<Session>, AppError> {
    Ok(chart
        .store
        .sessions_since_or_open(now - Duration::days(RECENT_DAYS + 3))?)
}

/// The integrations still to do, by the rule of `integration::pending`, read from the dosing
/// sessions no integration session names (the others are done whatever their dates).
pub fn pending_integrations(
    chart: &Chart,
    config: &Config,
    now: DateTime<FixedOffset>,
) -> Result<Vec<IntegrationDue>, AppError> {
    let candidates = chart.store.dosing_sessions_without_integration()?;
    Ok(crate::domain::integration::pending(
        &candidates,
        &first_doses(chart, config, &candidates)?,
        &config.integration,
        now,
    ))
}

/// The first dose of each dosing session among `sessions` that has one, as each session's
/// chart derives it (its doses and corrections read, in one statement for all of them): what
/// the integration window counts from.
pub fn first_doses(
    chart: &Chart,
    config: &Config,
    sessions: &[Session],
) -> Result<FirstDoses, AppError> {
    let dosing: Vec<&Session> = sessions
        .iter()
        .filter(|s| s.kind == SessionKind::Dosing)
        .collect();
    let ids: Vec<SessionId> = dosing.iter().map(|s| s.id).collect();
    let mut entries = chart.store.entries_of_kinds_in(&ids, PLANNING_KINDS)?;
    let rules = config.session_rules();
    Ok(dosing
        .into_iter()
        .filter_map(|s| {
            let doses = entries.remove(&s.id)?;
            SessionChart::for_planning(s.clone(), doses, rules.clone())
                .first_dose()
                .map(|d| (s.id, d))
        })
        .collect())
}

/// One patient's sessions, newest first (by the `sessions_patient` index).
pub fn patient_sessions(chart: &Chart, patient: PatientId) -> Result<Vec<Session>, AppError> {
    Ok(chart.store.sessions(Some(patient))?)
}

/// The session's number among the patient's sessions of its kind, counting from 1.
pub fn number_in_course(sessions: &[Session], session: &Session) -> u32 {
    sessions
        .iter()
        .filter(|s| s.kind == session.kind && (s.started, s.id) <= (session.started, session.id))
        .count() as u32
}

/// Reads what the live screen shows for one session.
pub fn live_data(chart: &Chart, config: &Config, id: SessionId) -> Result<LiveData, AppError> {
    let session = session_chart(chart, config, id)?;
    let patient = chart.store.patient(session.session().patient_id)?;
    let sessions = chart.store.sessions(Some(patient.id))?;
    let number = number_in_course(&sessions, session.session());
    let integrates = match session.session().dosing_session_id {
        Some(dosing) if session.session().kind == SessionKind::Integration => {
            let dosing_chart = session_chart(chart, config, dosing)?;
            let note = match chart.store.note_id_for(dosing)? {
                Some(id) => Some(chart.store.note(id)?),
                None => None,
            };
            Some(Integrated {
                number_in_course: number_in_course(&sessions, dosing_chart.session()),
                chart: dosing_chart,
                note,
            })
        }
        _ => None,
    };
    Ok(LiveData {
        stock: super::stock::of_session(chart, &session)?,
        safety: safety_flag(chart, patient.id)?,
        usual_ride: chart.store.patient_details(patient.id)?.ride_contact,
        integrates,
        chart: session,
        patient,
        number_in_course: number,
    })
}

/// Reads what the patient and course screen shows.
pub fn patient_data(
    chart: &Chart,
    config: &Config,
    id: PatientId,
    now: DateTime<FixedOffset>,
) -> Result<PatientData, AppError> {
    let details = chart.store.patient_details(id)?;
    let mut sessions = chart.store.sessions(Some(id))?;
    let integrations = crate::domain::integration::integrations(
        &sessions,
        &first_doses(chart, config, &sessions)?,
        &config.integration,
        now,
    )
    .into_iter()
    .filter(|d| !d.status.is_done())
    .collect();
    sessions.sort_by_key(|s| (s.started, s.id));
    let mut screening = Vec::new();
    let mut eligibility = None;
    for line in super::course::patient_lines(chart, id)? {
        if line.status != EntryStatus::Current {
            continue;
        }
        match line.entry.payload {
            Payload::Screening(a) => screening.push(a),
            Payload::Eligibility(e) => eligibility = Some(e),
            _ => {}
        }
    }
    Ok(PatientData {
        screening,
        eligibility,
        patient: chart.store.patient(id)?,
        medications: details
            .medications
            .iter()
            .map(|m| Medication::new(m.as_str()))
            .collect(),
        details,
        safety: safety_flag(chart, id)?,
        course: chart.store.course(id)?,
        sessions,
        measures: patient_measures(chart, id)?
            .into_iter()
            .map(|(_, at, m)| (at, m))
            .collect(),
        integrations,
    })
}
