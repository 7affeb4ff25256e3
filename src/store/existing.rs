//! No silent duplicates or replacements: adding a patient who is already in the chart,
//! opening a second dosing session while one is open, or starting a course over the
//! patient's course is refused with what exists, unless the caller says a second record is
//! meant. The checks run inside the write's transaction, so two kapchart processes cannot
//! both slip past them.

use super::{StoreError, WriteError, from_stored};
use crate::domain::{PatientId, SessionId, SessionKind, name};
use chrono::{DateTime, FixedOffset, NaiveDate};
use rusqlite::{OptionalExtension, Transaction, params};
use std::fmt;

/// What already stands in the chart. Each front end words the way out (a CLI flag, a key).
#[derive(Debug, Clone, PartialEq)]
pub enum Existing {
    /// A patient with the same name, date of birth and MRN.
    Patient {
        id: PatientId,
        name: String,
        dob: NaiveDate,
        mrn: Option<String>,
    },
    /// The patient's dosing session that has not ended.
    OpenDosingSession {
        id: SessionId,
        patient: PatientId,
        started: DateTime<FixedOffset>,
    },
    /// The patient's course as it stands.
    Course {
        id: i64,
        patient: PatientId,
        started: DateTime<FixedOffset>,
        planned_dosing: u32,
        goals: Vec<String>,
    },
}

impl fmt::Display for Existing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Existing::Patient { id, name, dob, mrn } => {
                write!(f, "patient {id} ({name}, born {dob}")?;
                match mrn {
                    Some(m) => write!(f, ", MRN {m}) has the same name, date of birth and MRN"),
                    None => write!(
                        f,
                        ", no MRN) has the same name and date of birth, and no MRN either"
                    ),
                }
            }
            Existing::OpenDosingSession {
                id,
                patient,
                started,
            } => write!(
                f,
                "patient {patient} already has dosing session {id} open, started {}",
                started.format("%Y-%m-%d %H:%M")
            ),
            Existing::Course {
                id,
                patient,
                started,
                planned_dosing,
                goals,
            } => {
                write!(
                    f,
                    "patient {patient} already has course {id}, started {}, {planned_dosing} dosing sessions planned",
                    started.format("%Y-%m-%d")
                )?;
                if !goals.is_empty() {
                    write!(f, ", goals: {}", goals.join("; "))?;
                }
                Ok(())
            }
        }
    }
}

/// Whether a second record is meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Second {
    /// Refuse when one exists (the default of every front end).
    Refuse,
    /// The user said a second record is meant.
    Meant,
}

fn refuse(existing: Option<Existing>) -> std::result::Result<(), WriteError> {
    match existing {
        Some(e) => Err(WriteError::Store(StoreError::Exists(e))),
        None => Ok(()),
    }
}

pub(super) fn same_patient(
    tx: &Transaction<'_>,
    name: &str,
    dob: NaiveDate,
    mrn: Option<&str>,
) -> std::result::Result<(), WriteError> {
    // Names are compared by their confusable skeletons (`domain::name`), so a name with a
    // look-alike letter or other case is the same name; the patients born that day with the
    // same MRN are few, and read by id.
    let wanted = name::skeleton(name);
    let mut stmt = tx.prepare_cached(
        "SELECT id, name, dob, mrn FROM patients WHERE dob = ?1 AND mrn IS ?2 ORDER BY id",
    )?;
    let mut rows = stmt.query(params![dob.format("%Y-%m-%d").to_string(), mrn])?;
    while let Some(r) = rows.next()? {
        let found: String = r.get(1)?;
        if name::skeleton(&found) == wanted {
            return refuse(Some(Existing::Patient {
                id: r.get(0)?,
                name: found,
                dob: NaiveDate::parse_from_str(&r.get::<_, String>(2)?, "%Y-%m-%d").unwrap_or(dob),
                mrn: r.get(3)?,
            }));
        }
    }
    refuse(None)
}

pub(super) fn open_dosing_session(
    tx: &Transaction<'_>,
    patient: PatientId,
) -> std::result::Result<(), WriteError> {
    let found = tx
        .query_row(
            "SELECT s.id, s.started_at, s.started_offset FROM sessions s
             WHERE s.patient_id = ?1 AND s.kind = ?2
               AND NOT EXISTS (SELECT 1 FROM entries e
                   WHERE e.session_id = s.id AND e.kind = 'session-end'
                     AND NOT EXISTS (SELECT 1 FROM entries x WHERE x.corrects = e.id))
             ORDER BY s.started_at DESC, s.id DESC LIMIT 1",
            params![patient, SessionKind::Dosing.as_str()],
            |r| {
                Ok(Existing::OpenDosingSession {
                    id: r.get(0)?,
                    patient,
                    started: from_stored(r.get(1)?, r.get(2)?),
                })
            },
        )
        .optional()?;
    refuse(found)
}

pub(super) fn course(
    tx: &Transaction<'_>,
    patient: PatientId,
) -> std::result::Result<(), WriteError> {
    let found = tx
        .query_row(
            "SELECT id, planned_dosing, goals, started_at FROM courses
             WHERE patient_id = ?1 ORDER BY id DESC LIMIT 1",
            [patient],
            |r| {
                let goals: String = r.get(2)?;
                Ok(Existing::Course {
                    id: r.get(0)?,
                    patient,
                    planned_dosing: r.get(1)?,
                    goals: serde_json::from_str(&goals).unwrap_or_default(),
                    started: from_stored(r.get(3)?, 0),
                })
            },
        )
        .optional()?;
    refuse(found)
}
