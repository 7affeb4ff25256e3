//! The Spravato REMS Patient Monitoring Form from the chart: a session's form (derived by
//! `domain::rems` from the session's chart, the patient and the clinic's settings), the
//! deadline queue, the home screen's count, and recording a submission.
//!
//! A submission is a session entry (`rems-submitted`), not a table of its own: entries are
//! already append-only and audited, a correction is an amendment that points at the entry it
//! corrects with a reason (and never forks), backups, `verify` and the exports already carry
//! them, and a late entry to an ended session touches none of its checks, T+ or flowsheet.

use super::AppError;
use super::Chart;
use super::charting::session_chart;
use crate::config::Config;
use crate::domain::entry::RemsSubmission;
use crate::domain::rems::{self, ChangedField, FormInputs, FormState, NotRems, RemsForm};
use crate::domain::{Correction, EntryId, Patient, Payload, Session, SessionId};
use crate::store::{NewEntry, RemsOutstanding};
use chrono::{DateTime, FixedOffset, NaiveDate};
use std::fmt;

/// Why a REMS command could not be carried out.
#[derive(Debug)]
pub enum RemsError {
    Store(AppError),
    /// The session has no REMS form.
    NotRems {
        session: SessionId,
        why: NotRems,
    },
    /// A submission stands already; a second one is a correction and needs a reason.
    AlreadySubmitted {
        session: SessionId,
        entry: EntryId,
        submission: RemsSubmission,
    },
    /// A correction was asked for, and no submission stands to correct.
    NothingToCorrect {
        session: SessionId,
    },
    /// The form's submission cannot be recorded while the session is open.
    SessionOpen {
        session: SessionId,
    },
    /// The submission date is before the treatment or after today.
    BadDate {
        on: NaiveDate,
        treated: NaiveDate,
        today: NaiveDate,
    },
}

impl From<AppError> for RemsError {
    fn from(e: AppError) -> Self {
        RemsError::Store(e)
    }
}

impl From<crate::store::StoreError> for RemsError {
    fn from(e: crate::store::StoreError) -> Self {
        RemsError::Store(e.into())
    }
}

impl fmt::Display for RemsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RemsError::Store(e) => write!(f, "{e}"),
            RemsError::NotRems { session, why } => match why {
                NotRems::NotDosing => write!(
                    f,
                    "session {session} is not a dosing session: the REMS monitoring form is for esketamine dosing sessions"
                ),
                NotRems::NoRemsDose => write!(
                    f,
                    "session {session} has no esketamine dose charted: the REMS monitoring form is for esketamine dosing sessions (chart the dose, e.g. `dose esketamine 56mg IN lot ABC123`)"
                ),
            },
            RemsError::AlreadySubmitted {
                session,
                entry,
                submission,
            } => {
                write!(
                    f,
                    "session {session}'s form is already recorded as submitted on {}",
                    submission.on
                )?;
                if let Some(r) = &submission.reference {
                    write!(f, " (ref {r})")?;
                }
                write!(
                    f,
                    " (entry {entry}); to correct that record give --reason TEXT (the earlier record stays); nothing was written"
                )
            }
            RemsError::NothingToCorrect { session } => write!(
                f,
                "session {session} has no submission recorded to correct: leave out --reason to record the first; nothing was written"
            ),
            RemsError::SessionOpen { session } => write!(
                f,
                "session {session} has not ended: end it (the end of monitoring is on the form) before recording the form's submission; nothing was written"
            ),
            RemsError::BadDate { on, treated, today } if on < treated => write!(
                f,
                "--on {on} is before the treatment on {treated}; give the day the form was submitted (YYYY-MM-DD); nothing was written"
            ),
            RemsError::BadDate { on, today, .. } => write!(
                f,
                "--on {on} is after today ({today}); give the day the form was submitted (YYYY-MM-DD); nothing was written"
            ),
        }
    }
}

impl std::error::Error for RemsError {}

/// A session's form with what it was built from, and where it stands.
#[derive(Debug, Clone, PartialEq)]
pub struct RemsFormData {
    pub session: Session,
    pub patient: Patient,
    pub form: RemsForm,
    pub state: FormState,
    /// The submission that stands, and its entry.
    pub submission: Option<(EntryId, RemsSubmission)>,
    /// The fields whose answer changed since the submission was recorded (the form as the
    /// record stood then against the form now); empty when nothing changed or nothing was
    /// submitted.
    pub changed: Vec<ChangedField>,
}

/// The session's form, read on `today` at `now`.
pub fn form_of(
    chart: &Chart,
    config: &Config,
    session: SessionId,
    today: NaiveDate,
    now: DateTime<FixedOffset>,
) -> Result<RemsFormData, RemsError> {
    let s = session_chart(chart, config, session)?;
    let patient = chart.store.patient(s.session().patient_id)?;
    let details = chart.store.patient_details(patient.id)?;
    let earlier = earlier_treatments(chart, config, s.session())?;
    let inputs = FormInputs {
        patient: &patient,
        sex: details.sex.as_deref(),
        medications: &details.medications,
        earlier_treatments: earlier,
    };
    let form = rems::form(&s, &config.rems, inputs, now)
        .map_err(|why| RemsError::NotRems { session, why })?;
    let submitted = s
        .current()
        .filter(|l| matches!(l.entry.payload, Payload::RemsSubmitted(_)))
        .last();
    let submission = submitted.and_then(|l| match &l.entry.payload {
        Payload::RemsSubmitted(r) => Some((l.entry.id, r.clone())),
        _ => None,
    });
    // The form as the session's record stood when the submission was recorded (the patient's
    // details as they stand now), against the form now.
    let changed = match submitted {
        Some(l) => match rems::form(
            &s.as_recorded_by(l.entry.recorded_time),
            &config.rems,
            inputs,
            l.entry.recorded_time,
        ) {
            Ok(then) => rems::changed_since(&then, &form),
            // The record then had no form at all (no REMS dose stood): every field changed.
            Err(_) => rems::changed_since(
                &RemsForm {
                    fields: Vec::new(),
                    ..form.clone()
                },
                &form,
            ),
        },
        None => Vec::new(),
    };
    let state = FormState::of(
        &config.rems,
        form.treatment_date,
        s.session().ended.is_none(),
        submission.as_ref().map(|(_, r)| r),
        today,
    );
    Ok(RemsFormData {
        session: s.session().clone(),
        patient,
        form,
        state,
        submission,
        changed,
    })
}

/// The patient's REMS treatments before `session`.
fn earlier_treatments(
    chart: &Chart,
    config: &Config,
    session: &Session,
) -> Result<usize, AppError> {
    let rems = chart.store.rems_sessions(&config.rems.drugs)?;
    Ok(chart
        .store
        .sessions(Some(session.patient_id))?
        .iter()
        .filter(|s| (s.started, s.id) < (session.started, session.id) && rems.contains(&s.id))
        .count())
}

/// Every REMS session's form, oldest treatment first; none when the clinic is inpatient
/// (exempt from the form: clinical.md section 2).
pub fn queue(
    chart: &Chart,
    config: &Config,
    today: NaiveDate,
    now: DateTime<FixedOffset>,
) -> Result<Vec<RemsFormData>, RemsError> {
    if !config.rems.outpatient {
        return Ok(Vec::new());
    }
    chart
        .store
        .rems_sessions(&config.rems.drugs)?
        .into_iter()
        .map(|id| form_of(chart, config, id, today, now))
        .collect()
}

/// What the home screen says of the REMS forms: how many have no submission, and the
/// earliest deadline among them. One indexed statement, no session decoded; None for an
/// inpatient clinic or when none is outstanding.
pub fn forms_due(chart: &Chart, config: &Config) -> Result<Option<FormsDue>, AppError> {
    if !config.rems.outpatient {
        return Ok(None);
    }
    let RemsOutstanding {
        count,
        earliest_treatment,
    } = chart.store.rems_outstanding(&config.rems.drugs)?;
    Ok(earliest_treatment
        .filter(|_| count > 0)
        .map(|treated| FormsDue {
            count,
            oldest_deadline: config.rems.deadline(treated),
        }))
}

/// REMS forms without a submission, and the oldest deadline among them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FormsDue {
    pub count: usize,
    pub oldest_deadline: NaiveDate,
}

/// Records that the session's form was submitted on `on`, with the REMS reference. A second
/// submission for the session is refused unless `correction` gives a reason: it is then a
/// new entry amending the standing one, which stays in the record.
#[allow(clippy::too_many_arguments)]
pub fn record_submission(
    chart: &mut Chart,
    config: &Config,
    session: SessionId,
    on: NaiveDate,
    reference: Option<&str>,
    correction: Option<&str>,
    today: NaiveDate,
    now: DateTime<FixedOffset>,
) -> Result<EntryId, RemsError> {
    let data = form_of(chart, config, session, today, now)?;
    if data.session.ended.is_none() {
        return Err(RemsError::SessionOpen { session });
    }
    if on < data.form.treatment_date || on > today {
        return Err(RemsError::BadDate {
            on,
            treated: data.form.treatment_date,
            today,
        });
    }
    // The reference is checked as entry text by the store (printable, within its limit).
    let reference = reference.map(str::trim).filter(|r| !r.is_empty());
    let reason = correction.map(str::trim).filter(|r| !r.is_empty());
    let corrects = match (data.submission, reason) {
        (Some((entry, submission)), None) => {
            return Err(RemsError::AlreadySubmitted {
                session,
                entry,
                submission,
            });
        }
        (Some((entry, _)), Some(reason)) => Some((entry, Correction::Amend, reason.to_string())),
        (None, Some(_)) => return Err(RemsError::NothingToCorrect { session }),
        (None, None) => None,
    };
    let ids = chart.store.append(
        session,
        &[NewEntry {
            payload: Payload::RemsSubmitted(RemsSubmission {
                on,
                reference: reference.map(str::to_string),
            }),
            event_time: now,
            recorded_time: now,
            flags: Vec::new(),
            corrects,
        }],
    )?;
    Ok(ids[0])
}
