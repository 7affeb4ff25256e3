//! A record gathered from the chart for export: one session or a patient's whole course,
//! each session read through its [`SessionChart`] so that the first dose and the protocol
//! checks (missed and late ones are part of the record) are the ones every screen shows.

use super::AppError;
use super::Chart;
use super::charting::session_chart;
use super::course::{patient_lines, standing_measures};
use super::views::number_in_course;
use crate::config::Config;
use crate::domain::chart::{Period, SessionChart};
use crate::domain::course::{Course, Note, PatientDetails};
use crate::domain::identity::ChartUuid;
use crate::domain::measures::{self, MeasureResponse, SafetyEpisode};
use crate::domain::medications::{self, Listed};
use crate::domain::npi::IdentifierKind;
use crate::domain::protocol::Check;
use crate::domain::stock::{Container, ContainerId};
use crate::domain::{ChartLine, EntryId, Patient, PatientId, Session, SessionId};
use chrono::{DateTime, FixedOffset};

/// One session as exported: the session, its chart lines (history included) and its note.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRecord {
    pub session: Session,
    /// Every entry with its status, in event-time order.
    pub lines: Vec<ChartLine>,
    /// The first dose of the drug that starts the session clock.
    pub first_dose: Option<DateTime<FixedOffset>>,
    /// When the session took place (from its first entry to its end), as the chart derives it.
    pub period: Period,
    /// The protocol's checks for a dosing session as they stand at export time.
    pub checks: Vec<Check>,
    /// The integration note, for a dosing session that has one.
    pub note: Option<Note>,
    /// "dosing 3": the session's number among the patient's sessions of its kind.
    pub number_in_course: u32,
    /// The session's signed audit rows, oldest first (`app::authorship`).
    pub signed: Vec<crate::domain::authorship::SignedRow>,
}

impl SessionRecord {
    /// From a session's chart, at `at` (what the checks are measured against).
    pub fn from_chart(
        chart: &SessionChart,
        note: Option<Note>,
        number_in_course: u32,
        at: DateTime<FixedOffset>,
    ) -> SessionRecord {
        SessionRecord {
            session: chart.session().clone(),
            lines: chart.lines().to_vec(),
            first_dose: chart.first_dose(),
            period: chart.period(),
            checks: chart.checks(at),
            note,
            number_in_course,
            signed: Vec::new(),
        }
    }
}

/// What an export covers: one session, or a patient's whole course.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub patient: Patient,
    pub details: PatientDetails,
    pub course: Option<Course>,
    /// The clinicians who wrote in the record (name), in order of appearance.
    pub clinicians: Vec<String>,
    pub sessions: Vec<SessionRecord>,
    /// The patient's questionnaires that stand, oldest first (for a session export: those
    /// charted in that session).
    pub measures: Vec<(EntryId, DateTime<FixedOffset>, MeasureResponse)>,
    /// When the export was made.
    pub exported: DateTime<FixedOffset>,
    /// The controlled-substance containers the record's doses and wastes drew from (their
    /// lot, expiry and presentation), by id.
    pub containers: Vec<Container>,
    /// The chart's UUID: the exports name every resource from it (`domain::identity`).
    pub chart: ChartUuid,
    /// The system the clinic's MRNs are issued under (`[clinic] mrn_system`), if set.
    pub mrn_system: Option<String>,
    /// The system of each resource's business identifier (`[sync] identifier_system`, else
    /// the chart's URN).
    pub identifier_system: String,
    /// The credentials the team records for each clinician (name, credentials: "RN").
    pub credentials: Vec<(String, String)>,
    /// The clinicians' identifiers outside the chart that stand (name, NPI or staff id).
    pub identifiers: Vec<(String, IdentifierKind, String)>,
    /// The system the clinic issues staff ids under (`[clinic] staff_id_system`), if set.
    pub staff_id_system: Option<String>,
    /// Each stretch of time a medication stood on the patient's list, in the order listed.
    pub medications: Vec<Listed>,
    /// Each stretch of time the patient's PHQ-9 item 9 safety flag stood, oldest first (from
    /// the patient's whole record, also in a one-session export).
    pub safety: Vec<SafetyEpisode>,
    /// The team's signing keys with their certificates, the first admin's first
    /// (`app::authorship`).
    pub team_keys: Vec<crate::domain::authorship::CertifiedKey>,
}

/// The system of every exported resource's business identifier: the clinic's
/// `[sync] identifier_system`, else the chart's URN.
pub fn identifier_system(chart: &Chart, config: &Config) -> Result<String, AppError> {
    Ok(match config.sync.identifier_system() {
        Some(system) => system.to_string(),
        None => chart.store.chart_uuid()?.urn(),
    })
}

fn session_record(
    chart: &Chart,
    config: &Config,
    session: &Session,
    all: &[Session],
    at: DateTime<FixedOffset>,
) -> Result<SessionRecord, AppError> {
    let note = match chart.store.note_id_for(session.id)? {
        Some(id) => Some(chart.store.note(id)?),
        None => None,
    };
    let sc = session_chart(chart, config, session.id)?;
    let mut record = SessionRecord::from_chart(&sc, note, number_in_course(all, session), at);
    record.signed = super::authorship::session_signed_rows(chart, session.id)?;
    Ok(record)
}

/// The containers the sessions' doses and wastes drew from, each once, by id.
fn drawn_containers(chart: &Chart, sessions: &[SessionRecord]) -> Result<Vec<Container>, AppError> {
    let mut ids: Vec<ContainerId> = sessions
        .iter()
        .flat_map(|s| s.lines.iter())
        .flat_map(|l| l.entry.payload.drawn())
        .map(|d| d.container)
        .collect();
    ids.sort();
    ids.dedup();
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(l) = chart.store.container_ledger(id)? {
            out.push(l.container);
        }
    }
    Ok(out)
}

/// Each clinician's identifiers that stand, by their name.
fn identifiers(chart: &Chart) -> Result<Vec<(String, IdentifierKind, String)>, AppError> {
    let team = chart.store.team_members()?;
    Ok(chart
        .store
        .clinician_identifiers()?
        .into_iter()
        .filter_map(|(id, kind, value)| {
            let m = team.iter().find(|m| m.id == id)?;
            Some((m.name.clone(), kind, value))
        })
        .collect())
}

/// Each clinician of the team with recorded credentials.
fn credentials(chart: &Chart) -> Result<Vec<(String, String)>, AppError> {
    Ok(chart
        .store
        .team_members()?
        .into_iter()
        .filter_map(|m| {
            let c = m.credentials?.trim().to_string();
            (!c.is_empty()).then_some((m.name, c))
        })
        .collect())
}

fn clinicians(sessions: &[SessionRecord]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let names = sessions.iter().flat_map(|s| {
        std::iter::once(s.session.clinician.clone())
            .chain(s.lines.iter().map(|l| l.entry.author.clone()))
            .chain(s.note.iter().flat_map(|n| {
                std::iter::once(n.author.clone())
                    .chain(n.signature.iter().map(|sig| sig.signer.clone()))
                    .chain(n.addenda.iter().map(|a| a.author.clone()))
            }))
            .chain(s.signed.iter().map(|r| r.clinician.clone()))
    });
    for name in names {
        if !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

/// Reads one session for export.
pub fn session_record_from(
    chart: &Chart,
    config: &Config,
    session: SessionId,
    exported: DateTime<FixedOffset>,
) -> Result<Record, AppError> {
    let s = chart.store.session(session)?;
    let all = chart.store.sessions(Some(s.patient_id))?;
    let record = session_record(chart, config, &s, &all, exported)?;
    let (measures, safety) = measures_and_safety(chart, s.patient_id)?;
    let measures = measures
        .into_iter()
        .filter(|(id, _, _)| record.lines.iter().any(|l| l.entry.id == *id))
        .collect();
    let sessions = vec![record];
    Ok(Record {
        chart: chart.store.chart_uuid()?,
        identifier_system: identifier_system(chart, config)?,
        mrn_system: config.clinic.mrn_system().map(str::to_string),
        credentials: credentials(chart)?,
        identifiers: identifiers(chart)?,
        staff_id_system: config.clinic.staff_id_system().map(str::to_string),
        team_keys: super::authorship::team_keys(chart)?,
        containers: drawn_containers(chart, &sessions)?,
        patient: chart.store.patient(s.patient_id)?,
        details: chart.store.patient_details(s.patient_id)?,
        course: chart.store.course(s.patient_id)?,
        clinicians: clinicians(&sessions),
        sessions,
        measures,
        medications: medications::listing(&chart.store.medication_versions(s.patient_id)?),
        safety,
        exported,
    })
}

/// Reads a patient's whole course (every session, oldest first) for export.
pub fn course_record_from(
    chart: &Chart,
    config: &Config,
    patient: PatientId,
    exported: DateTime<FixedOffset>,
) -> Result<Record, AppError> {
    let p = chart.store.patient(patient)?;
    let mut all = chart.store.sessions(Some(patient))?;
    all.sort_by_key(|s| (s.started, s.id));
    let sessions = all
        .iter()
        .map(|s| session_record(chart, config, s, &all, exported))
        .collect::<Result<Vec<_>, _>>()?;
    let (measures, safety) = measures_and_safety(chart, patient)?;
    Ok(Record {
        chart: chart.store.chart_uuid()?,
        identifier_system: identifier_system(chart, config)?,
        mrn_system: config.clinic.mrn_system().map(str::to_string),
        credentials: credentials(chart)?,
        identifiers: identifiers(chart)?,
        staff_id_system: config.clinic.staff_id_system().map(str::to_string),
        team_keys: super::authorship::team_keys(chart)?,
        containers: drawn_containers(chart, &sessions)?,
        details: chart.store.patient_details(patient)?,
        course: chart.store.course(patient)?,
        clinicians: clinicians(&sessions),
        sessions,
        measures,
        medications: medications::listing(&chart.store.medication_versions(patient)?),
        safety,
        exported,
        patient: p,
    })
}

/// The patient's questionnaires that stand and their safety flag's stretches, from one
/// reading of their record.
#[allow(clippy::type_complexity)]
fn measures_and_safety(
    chart: &Chart,
    patient: PatientId,
) -> Result<
    (
        Vec<(EntryId, DateTime<FixedOffset>, MeasureResponse)>,
        Vec<SafetyEpisode>,
    ),
    AppError,
> {
    let lines = patient_lines(chart, patient)?;
    Ok((standing_measures(&lines), measures::safety_episodes(&lines)))
}
