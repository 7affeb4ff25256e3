//! The course around the sessions, from the chart: measures and the safety flag, the
//! integration note's lifecycle (open with a pre-filled draft, sign, addenda), and the
//! course overview. The CLI and the TUI both go through here.

use super::AppError;
use super::Chart;
use super::charting::session_chart;
use super::error::ChartingError;
use super::views::number_in_course;
use crate::config::Config;
use crate::domain::course::{Note, NoteId};
use crate::domain::measures::{self, MeasureResponse, SafetyFlag};
use crate::domain::notes::{self, NoteFormat};
use crate::domain::protocol::CheckStatus;
use crate::domain::{
    ChartLine, EntryId, EntryStatus, Patient, PatientId, Payload, Session, SessionId, chart_lines,
};
use crate::store::{NewSession, Second};

/// A new patient as the front ends fill it in: the screens and the command line name it
/// here, through the use case that adds it, not in the store.
pub use crate::store::NewPatient;
use chrono::{DateTime, FixedOffset, NaiveDate};

/// A note with what its screen needs to know.
#[derive(Debug, Clone, PartialEq)]
pub struct NoteData {
    pub note: Note,
    pub patient: Patient,
    pub dosing: Session,
    pub dosing_number: u32,
    pub check: SignCheck,
}

/// Whether the note may be signed now.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SignCheck {
    /// Signing is not possible (e.g. an open PHQ-9 item 9 safety flag without a risk
    /// assessment).
    pub blocked: Option<String>,
    /// Signing needs a reason: alerts not acknowledged, checks missed.
    pub needs_reason: Vec<String>,
    /// The template's sections the text leaves empty (`notes::complete`): none is signed
    /// until each is written. Filled by [`sign_readiness`], which reads the text.
    pub empty: Vec<String>,
}

impl SignCheck {
    /// Why the note cannot be signed now, whatever reason is given: the safety flag, then
    /// the sections left empty. The one wording for every front end.
    pub fn refusal(&self) -> Option<String> {
        if let Some(b) = &self.blocked {
            return Some(b.clone());
        }
        let one = self.empty.len() == 1;
        (!self.empty.is_empty()).then(|| {
            format!(
                "{} {} empty; write {}, then sign",
                self.empty.join(", "),
                if one { "is" } else { "are" },
                if one { "it" } else { "them" },
            )
        })
    }
}

/// Every chart line of a patient, across sessions, in event-time order.
pub fn patient_lines(chart: &Chart, patient: PatientId) -> Result<Vec<ChartLine>, AppError> {
    Ok(chart_lines(chart.store.entries_of_patient(patient)?))
}

/// The patient's questionnaires that stand (not struck, not amended away), oldest first.
pub fn patient_measures(
    chart: &Chart,
    patient: PatientId,
) -> Result<Vec<(EntryId, DateTime<FixedOffset>, MeasureResponse)>, AppError> {
    Ok(standing_measures(&patient_lines(chart, patient)?))
}

/// The questionnaires that stand among `lines`, in their order.
pub(super) fn standing_measures(
    lines: &[ChartLine],
) -> Vec<(EntryId, DateTime<FixedOffset>, MeasureResponse)> {
    lines
        .iter()
        .filter(|l| l.status == EntryStatus::Current)
        .filter_map(|l| match &l.entry.payload {
            Payload::Measure(m) => Some((l.entry.id, l.entry.event_time, m.clone())),
            _ => None,
        })
        .collect()
}

/// The patient's open PHQ-9 item 9 safety flag, if any.
pub fn safety_flag(chart: &Chart, patient: PatientId) -> Result<Option<SafetyFlag>, AppError> {
    Ok(measures::safety_flag(&patient_lines(chart, patient)?))
}

/// What stands between a dosing session's note and its signature.
pub fn sign_check(
    chart: &Chart,
    config: &Config,
    dosing: SessionId,
    now: DateTime<FixedOffset>,
) -> Result<SignCheck, AppError> {
    let session = chart.store.session(dosing)?;
    let blocked = safety_flag(chart, session.patient_id)?
        .map(|f| format!("{f}; record it (risk-assessment ...) before signing"));
    let s = session_chart(chart, config, dosing)?;
    let mut needs_reason: Vec<String> = s
        .open_alerts()
        .iter()
        .map(|a| {
            format!(
                "alert not acknowledged: {} at {} (entry {})",
                a.flag.text,
                a.line.entry.event_time.format("%H:%M"),
                a.line.entry.id
            )
        })
        .collect();
    needs_reason.extend(
        s.checks(now)
            .iter()
            .filter(|c| matches!(c.status, CheckStatus::Missed | CheckStatus::Overdue))
            .map(|c| format!("protocol check missed: {c}")),
    );
    Ok(SignCheck {
        blocked,
        needs_reason,
        empty: Vec::new(),
    })
}

/// What stands against signing `note` now with `text` as its final draft (the saved draft
/// when None): [`sign_check`], and the template's sections the text leaves empty. Asked
/// before a signing reason is, so that a note that cannot be signed says so first.
pub fn sign_readiness(
    chart: &Chart,
    config: &Config,
    note: NoteId,
    text: Option<&str>,
    now: DateTime<FixedOffset>,
) -> Result<SignCheck, ChartingError> {
    let current = chart.store.note(note)?;
    let mut check = sign_check(chart, config, current.dosing_session_id, now)?;
    if !current.is_signed() {
        let draft = text.or(current.draft.as_ref().map(|d| d.text.as_str()));
        let final_text = notes::complete::without_draft_banner(draft.unwrap_or(""));
        let format: NoteFormat = current.format.parse().map_err(ChartingError::Invalid)?;
        check.empty = notes::complete::empty_sections(&template(config, format)?, &final_text)
            .map_err(ChartingError::Invalid)?;
    }
    Ok(check)
}

/// The note with everything its screen needs.
pub fn note_data(
    chart: &Chart,
    config: &Config,
    note: NoteId,
    now: DateTime<FixedOffset>,
) -> Result<NoteData, AppError> {
    let note = chart.store.note(note)?;
    let dosing = chart.store.session(note.dosing_session_id)?;
    let patient = chart.store.patient(dosing.patient_id)?;
    let dosing_number = number_in_course(&chart.store.sessions(Some(patient.id))?, &dosing);
    let check = sign_check(chart, config, dosing.id, now)?;
    Ok(NoteData {
        note,
        patient,
        dosing,
        dosing_number,
        check,
    })
}

/// Opens the integration note of a dosing session; a new one starts with a draft
/// pre-filled from the record.
pub fn open_note(
    chart: &mut Chart,
    config: &Config,
    dosing: SessionId,
    now: DateTime<FixedOffset>,
) -> Result<NoteData, ChartingError> {
    let format = config.notes.format.clone();
    let (note, created) = chart.store.note_for_dosing(dosing, &format, now)?;
    if created || note.draft.is_none() && !note.is_signed() {
        let text = draft_text(chart, config, &note)?;
        chart.store.save_draft(note.id, &text, now)?;
    }
    Ok(note_data(chart, config, note.id, now)?)
}

/// The template for a note format: the clinic's own file when there is one (checked), else
/// the shipped one.
pub fn template(config: &Config, format: NoteFormat) -> Result<String, ChartingError> {
    let own = config
        .templates_dir
        .as_ref()
        .map(|d| d.join(format.file_name()))
        .filter(|p| p.exists());
    match own {
        Some(path) => {
            let text = std::fs::read_to_string(&path).map_err(|e| {
                ChartingError::Invalid(format!("cannot read note template {}: {e}", path.display()))
            })?;
            notes::validate_template(&text)
                .map_err(|e| ChartingError::Invalid(format!("{}: {e}", path.display())))?;
            Ok(text)
        }
        None => Ok(notes::template_text(format).to_string()),
    }
}

/// The pre-filled draft for a note, from the dosing session's record: the dose, vitals
/// summary, alerts and how they resolved, the intention, tagged observations and quotes,
/// and the measures since the patient's previous note.
pub fn draft_text(chart: &Chart, config: &Config, note: &Note) -> Result<String, ChartingError> {
    let dosing = chart.store.session(note.dosing_session_id)?;
    let patient = chart.store.patient(dosing.patient_id)?;
    let sessions = chart.store.sessions(Some(patient.id))?;
    let dosing_number = number_in_course(&sessions, &dosing);
    let integration = sessions
        .iter()
        .filter(|s| s.dosing_session_id == Some(dosing.id))
        .min_by_key(|s| (s.started, s.id));
    let previous_note = chart
        .store
        .notes_of_patient(patient.id)?
        .into_iter()
        .filter(|n| n.id != note.id && n.created < note.created)
        .map(|n| n.created)
        .max();
    let measures: Vec<(DateTime<FixedOffset>, MeasureResponse)> =
        patient_measures(chart, patient.id)?
            .into_iter()
            .filter(|(_, at, _)| previous_note.is_none_or(|p| *at > p))
            .map(|(_, at, m)| (at, m))
            .collect();
    let session = session_chart(chart, config, dosing.id)?;
    let checks = session.checks(note.created);
    let integration_period = match integration {
        Some(i) => Some(session_chart(chart, config, i.id)?.period()),
        None => None,
    };
    let format: NoteFormat = note.format.parse().map_err(ChartingError::Invalid)?;
    let source = notes::NoteSource {
        patient: &patient,
        author: &note.author,
        dosing: &dosing,
        dosing_period: session.period(),
        dosing_number,
        lines: session.lines(),
        first_dose: session.first_dose(),
        checks: &checks,
        integration,
        integration_period,
        measures: &measures,
        drafted_on: note.created.date_naive(),
    };
    notes::draft(&source, &template(config, format)?).map_err(ChartingError::Invalid)
}

/// Signs a note: `text`, when given, is the final draft. Refused while the patient has an
/// open safety flag or a section of the template is empty (`notes::complete`), and without
/// a reason while alerts are unacknowledged or protocol checks were missed. What is signed
/// is the text without its draft banner.
pub fn sign_note(
    chart: &mut Chart,
    config: &Config,
    note: NoteId,
    text: Option<&str>,
    reason: Option<&str>,
    now: DateTime<FixedOffset>,
) -> Result<(), ChartingError> {
    let current = chart.store.note(note)?;
    if !current.is_signed() {
        // Without the signed-in clinician's keys nothing is signed, and the draft is left
        // as it was.
        chart.store.signing_key()?;
    }
    // The safety flag and the empty sections first: no reason signs past them.
    let check = sign_readiness(chart, config, note, text, now)?;
    if let Some(why) = check.refusal() {
        return Err(ChartingError::Invalid(format!(
            "note {note} cannot be signed: {why}"
        )));
    }
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    if !check.needs_reason.is_empty() && reason.is_none() {
        return Err(ChartingError::Invalid(format!(
            "note {note} needs a reason to be signed with these open: {}; give --reason TEXT",
            check.needs_reason.join("; ")
        )));
    }
    if !current.is_signed() {
        // What is signed is the draft without its "DRAFT ... then sign" banner.
        let draft = text.or(current.draft.as_ref().map(|d| d.text.as_str()));
        let final_text = notes::complete::without_draft_banner(draft.unwrap_or(""));
        if current.draft.as_ref().map(|d| d.text.as_str()) != Some(final_text.as_str()) {
            chart.store.save_draft(note, &final_text, now)?;
        }
    }
    chart.store.sign_note(note, reason, now)?;
    Ok(())
}

/// The intention a new dosing session carries: the newest of the latest `intention` entry
/// that stands (charted in preparation, or anywhere in the course) and the previous dosing
/// session's intention.
pub fn carried_intention(chart: &Chart, patient: PatientId) -> Result<Option<String>, AppError> {
    let from_entry = patient_lines(chart, patient)?
        .into_iter()
        .filter(|l| l.status == EntryStatus::Current)
        .filter_map(|l| match l.entry.payload {
            Payload::Intention(t) => Some((l.entry.event_time, t.text)),
            _ => None,
        })
        .max_by_key(|(at, _)| *at);
    let from_dosing = chart
        .store
        .sessions(Some(patient))?
        .into_iter()
        .filter(|s| s.kind == crate::domain::SessionKind::Dosing)
        .filter_map(|s| s.intention.map(|i| (s.started, i)))
        .max_by_key(|(at, _)| *at);
    Ok([from_entry, from_dosing]
        .into_iter()
        .flatten()
        .filter(|(_, text)| !text.trim().is_empty())
        .max_by_key(|(at, _)| *at)
        .map(|(_, text)| text))
}

/// Starts a session. A dosing session given no intention carries the patient's latest one
/// (see [`carried_intention`]); a second open dosing session is refused unless `second`
/// says it is meant.
pub fn start_session(
    chart: &mut Chart,
    session: NewSession,
    second: Second,
    now: DateTime<FixedOffset>,
) -> Result<SessionId, AppError> {
    let mut session = session;
    let blank = session
        .intention
        .as_deref()
        .is_none_or(|i| i.trim().is_empty());
    if session.kind == crate::domain::SessionKind::Dosing && blank {
        session.intention = carried_intention(chart, session.patient_id)?;
    }
    Ok(chart.store.start_session_record(&session, second, now)?)
}

/// A session started from a screen, and the intention typed for it that could not be
/// charted (the line, and why), to be left in the entry bar rather than lost.
#[derive(Debug, Clone, PartialEq)]
pub struct Started {
    pub id: SessionId,
    pub uncharted: Option<(String, String)>,
}

/// Starts a session as [`start_session`] does; an intention given for a preparation session
/// (where the course's intention is set) is charted in it as its `intention` entry, which
/// the dosing sessions then carry. When that entry cannot be written the session stands
/// and the line comes back in [`Started::uncharted`].
pub fn start_session_with_intention(
    chart: &mut Chart,
    config: &Config,
    session: NewSession,
    second: Second,
    now: DateTime<FixedOffset>,
) -> Result<Started, AppError> {
    let mut session = session;
    let prepared = match session.kind {
        crate::domain::SessionKind::Preparation => session
            .intention
            .take()
            .map(|i| i.trim().to_string())
            .filter(|i| !i.is_empty()),
        _ => None,
    };
    let id = start_session(chart, session, second, now)?;
    let uncharted = prepared.and_then(|intention| {
        let line = format!("intention {intention}");
        match super::charting::record_line(chart, config, id, &line, &now) {
            Ok(_) => None,
            Err(e) => Some((line, e.to_string())),
        }
    });
    Ok(Started { id, uncharted })
}

/// Refuses a date of birth after `today`: the one rule for every front end.
pub fn check_birth_date(dob: NaiveDate, today: NaiveDate) -> Result<(), AppError> {
    if dob > today {
        return Err(AppError::invalid(format!(
            "date of birth {dob} is in the future; expected YYYY-MM-DD in the past"
        )));
    }
    Ok(())
}

/// Adds a patient (refused, naming them, when one with the same name, date of birth and MRN
/// exists, unless `second` says another record is meant).
pub fn add_patient(
    chart: &mut Chart,
    patient: &NewPatient,
    second: Second,
    now: DateTime<FixedOffset>,
) -> Result<PatientId, AppError> {
    check_birth_date(patient.dob, now.date_naive())?;
    Ok(chart.store.add_patient_record(patient, second, now)?)
}

/// Starts a patient's course of `planned` dosing sessions with its goals (refused, naming
/// the course that stands, unless `second` says a new course is meant).
pub fn start_course(
    chart: &mut Chart,
    patient: PatientId,
    planned: u32,
    goals: &[String],
    second: Second,
    now: DateTime<FixedOffset>,
) -> Result<i64, AppError> {
    Ok(chart
        .store
        .start_course_record(patient, planned, goals, second, now)?)
}

/// Saves `text` as the draft of an unsigned note (refused once the note is signed: a signed
/// note never changes); gives back the draft's revision.
pub fn save_draft(
    chart: &mut Chart,
    note: NoteId,
    text: &str,
    now: DateTime<FixedOffset>,
) -> Result<i64, AppError> {
    Ok(chart.store.save_draft(note, text, now)?)
}

/// Adds an addendum to a signed note: the note stays as signed, the addendum is signed in
/// its own right and points at it.
pub fn add_addendum(
    chart: &mut Chart,
    note: NoteId,
    text: &str,
    now: DateTime<FixedOffset>,
) -> Result<crate::domain::course::Addendum, AppError> {
    Ok(chart.store.add_addendum(note, text, now)?)
}
