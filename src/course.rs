//! The course around the sessions, from the chart: measures and the safety flag, the
//! integration note's lifecycle (open with a pre-filled draft, sign, addenda), and the
//! course overview. The CLI and the TUI both go through here.

use crate::charting::{ChartingError, first_dose, session_lines};
use crate::config::Config;
use crate::domain::course::{Note, NoteId};
use crate::domain::measures::{self, MeasureResponse, SafetyFlag};
use crate::domain::notes::{self, NoteFormat};
use crate::domain::protocol::{self, CheckStatus};
use crate::domain::{
    ChartLine, EntryId, EntryStatus, FlagCode, PatientId, Payload, SessionId, SessionKind,
    chart_lines,
};
use crate::store::{Chart, StoreError};
use crate::tui::note::{NoteData, SignCheck};
use chrono::{DateTime, FixedOffset};

/// Every chart line of a patient, across sessions, in event-time order.
pub fn patient_lines(chart: &Chart, patient: PatientId) -> Result<Vec<ChartLine>, StoreError> {
    Ok(chart_lines(chart.entries_of_patient(patient)?))
}

/// The patient's questionnaires that stand (not struck, not amended away), oldest first.
pub fn patient_measures(
    chart: &Chart,
    patient: PatientId,
) -> Result<Vec<(EntryId, DateTime<FixedOffset>, MeasureResponse)>, StoreError> {
    Ok(patient_lines(chart, patient)?
        .into_iter()
        .filter(|l| l.status == EntryStatus::Current)
        .filter_map(|l| match l.entry.payload {
            Payload::Measure(m) => Some((l.entry.id, l.entry.event_time, m)),
            _ => None,
        })
        .collect())
}

/// The patient's open PHQ-9 item 9 safety flag, if any.
pub fn safety_flag(chart: &Chart, patient: PatientId) -> Result<Option<SafetyFlag>, StoreError> {
    Ok(measures::safety_flag(&patient_lines(chart, patient)?))
}

/// What stands between a dosing session's note and its signature.
pub fn sign_check(
    chart: &Chart,
    config: &Config,
    dosing: SessionId,
    now: DateTime<FixedOffset>,
) -> Result<SignCheck, StoreError> {
    let session = chart.session(dosing)?;
    let blocked = safety_flag(chart, session.patient_id)?
        .map(|f| format!("{f}; record it (risk-assessment ...) before signing"));
    let lines = session_lines(chart, dosing)?;
    let acknowledged: Vec<EntryId> = lines
        .iter()
        .filter(|l| l.status == EntryStatus::Current)
        .filter_map(|l| match &l.entry.payload {
            Payload::Acknowledgement(a) => Some(a.entry),
            _ => None,
        })
        .collect();
    let mut needs_reason: Vec<String> = lines
        .iter()
        .filter(|l| l.status == EntryStatus::Current && !acknowledged.contains(&l.entry.id))
        .flat_map(|l| {
            l.entry
                .flags
                .iter()
                .filter(|f| f.code.is_alert() && f.code != FlagCode::Late)
                .map(move |f| {
                    format!(
                        "alert not acknowledged: {} at {} (entry {})",
                        f.text,
                        l.entry.event_time.format("%H:%M"),
                        l.entry.id
                    )
                })
        })
        .collect();
    let checks = protocol::checks(
        &config.protocol,
        first_dose(&lines),
        session.ended,
        &protocol::readings_from(&lines),
        now,
    );
    needs_reason.extend(
        checks
            .iter()
            .filter(|c| c.status == CheckStatus::Overdue)
            .map(|c| format!("protocol check missed: {c}")),
    );
    Ok(SignCheck {
        blocked,
        needs_reason,
    })
}

/// The note with everything its screen needs.
pub fn note_data(
    chart: &Chart,
    config: &Config,
    note: NoteId,
    now: DateTime<FixedOffset>,
) -> Result<NoteData, StoreError> {
    let note = chart.note(note)?;
    let dosing = chart.session(note.dosing_session_id)?;
    let patient = chart.patient(dosing.patient_id)?;
    let dosing_number = chart
        .sessions(Some(patient.id))?
        .iter()
        .filter(|s| {
            s.kind == SessionKind::Dosing && (s.started, s.id) <= (dosing.started, dosing.id)
        })
        .count() as u32;
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
    let (note, created) = chart.note_for_dosing(dosing, &format, now)?;
    if created || note.draft.is_none() && !note.is_signed() {
        let text = draft_text(chart, config, &note)?;
        chart.save_draft(note.id, &text, now)?;
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
    let dosing = chart.session(note.dosing_session_id)?;
    let patient = chart.patient(dosing.patient_id)?;
    let sessions = chart.sessions(Some(patient.id))?;
    let dosing_number = sessions
        .iter()
        .filter(|s| {
            s.kind == SessionKind::Dosing && (s.started, s.id) <= (dosing.started, dosing.id)
        })
        .count() as u32;
    let integration = sessions
        .iter()
        .filter(|s| s.dosing_session_id == Some(dosing.id))
        .min_by_key(|s| (s.started, s.id));
    let previous_note = chart
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
    let lines = session_lines(chart, dosing.id)?;
    let format: NoteFormat = note.format.parse().map_err(ChartingError::Invalid)?;
    let source = notes::NoteSource {
        patient: &patient,
        dosing: &dosing,
        dosing_number,
        lines: &lines,
        integration,
        measures: &measures,
        drafted_on: note.created.date_naive(),
    };
    notes::draft(&source, &template(config, format)?).map_err(ChartingError::Invalid)
}

/// Signs a note: `text`, when given, is the final draft. Refused while the patient has an
/// open safety flag, without a reason while alerts are unacknowledged or protocol checks
/// were missed, and while a section of the template is empty (`notes::complete`). What is
/// signed is the text without its draft banner.
pub fn sign_note(
    chart: &mut Chart,
    config: &Config,
    note: NoteId,
    text: Option<&str>,
    reason: Option<&str>,
    now: DateTime<FixedOffset>,
) -> Result<(), ChartingError> {
    let current = chart.note(note)?;
    let check = sign_check(chart, config, current.dosing_session_id, now)?;
    if let Some(b) = check.blocked {
        return Err(ChartingError::Invalid(format!(
            "note {note} cannot be signed: {b}"
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
        // What is signed is the draft without its "DRAFT ... then sign" banner, and only
        // when every required section of the template has been written.
        let draft = text.or(current.draft.as_ref().map(|d| d.text.as_str()));
        let final_text = notes::complete::without_draft_banner(draft.unwrap_or(""));
        let format: NoteFormat = current.format.parse().map_err(ChartingError::Invalid)?;
        let empty = notes::complete::empty_sections(&template(config, format)?, &final_text)
            .map_err(ChartingError::Invalid)?;
        if !empty.is_empty() {
            return Err(ChartingError::Invalid(format!(
                "note {note} cannot be signed: {} {} empty; write {}, then sign",
                empty.join(", "),
                if empty.len() == 1 { "is" } else { "are" },
                if empty.len() == 1 { "it" } else { "them" },
            )));
        }
        if current.draft.as_ref().map(|d| d.text.as_str()) != Some(final_text.as_str()) {
            chart.save_draft(note, &final_text, now)?;
        }
    }
    chart.sign_note(note, reason, now)?;
    Ok(())
}
