//! Reads are audited too. Opening a patient's record, showing a session, exporting and
//! backing up write one audit row each: who (the signed-in clinician), what, when, and
//! which object. ASTM E2147-18 asks audit logs to record create, change, view and export,
//! with user, time and object (clinical.md section 5); HIPAA 45 CFR 164.312(b) asks for
//! audit controls (security.md). The rows join the same keyed chain as every write, so
//! `verify` finds one removed like any other.
//!
//! Sign-ins are audited the same way, since they say who was at the keyboard from when: the
//! chart opened at the sign-in, a hand-over, an unlock, and every refused try at an open
//! chart (HIPAA 45 CFR 164.312(b) and (d): who was authenticated, and who tried). A wrong
//! passphrase at the first sign-in cannot be recorded: the chart does not open without it.
//! The rows hold ids only, never a name, a passphrase or anything of a patient.
//!
//! The rule lives here, once: a front end says what was opened when a screen or command
//! opens it (not on every redraw or poll), and gets back whether the row was written.
//!
//! When the row cannot be written (a chart on read-only media, a chart whose writes stopped
//! after `verify` found damage, a full disk), the record is still shown: a clinician with
//! a patient in the room needs the record more than the trail needs the row, and the
//! chart file itself could be read outside kapchart anyway. The front end says, on the
//! status line or on stderr, that this view was not recorded and why.

use super::Chart;
use crate::domain::course::NoteId;
use crate::domain::{ClinicianId, PatientId, SessionId};
use crate::store::StoreError;
use crate::store::audit::{Head, ObjectKind};
use chrono::{DateTime, FixedOffset};

/// The export formats, as the audit trail names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Fhir,
    Html,
    Markdown,
    Csv,
    /// The Spravato REMS monitoring form (`--format rems-html`).
    RemsForm,
}

impl ExportFormat {
    fn action(self) -> &'static str {
        match self {
            ExportFormat::Fhir => "export.fhir",
            ExportFormat::Html => "export.html",
            ExportFormat::Markdown => "export.md",
            ExportFormat::Csv => "export.csv",
            ExportFormat::RemsForm => "export.rems-html",
        }
    }
}

/// What was exported: one session, or a patient's whole course.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exported {
    Session(SessionId),
    Course(PatientId),
}

/// How a clinician signs in at a screen of an open chart (or opens it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInKind {
    /// The chart opened: at the sign-in screen, or with the passphrase given at start.
    Open,
    /// Another clinician took the screen over.
    HandOver,
    /// The lock screen was unlocked.
    Unlock,
    /// A second clinician signed in to witness a dose (a success is the witness entry).
    Witness,
}

/// A look at the record that changes nothing in it, or a sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// The patient's record opened (the patient screen, `patient show`, `course show`,
    /// `measure list`).
    ViewPatient(PatientId),
    /// A session shown (the live screen opening it, `session show`, `session checks`).
    ViewSession(SessionId),
    /// An integration note shown (`note show`).
    ViewNote(NoteId),
    Export(ExportFormat, Exported),
    /// A backup written: it copies the chart up to `head`.
    Backup(Head),
    /// A session's Spravato REMS monitoring form shown (`rems show`): it holds the
    /// patient's name, date of birth and medications.
    ViewRemsForm(SessionId),
    /// The clinician signed in.
    SignIn(SignInKind, ClinicianId),
    /// A try to sign in was refused at an open chart: the clinician it named (or, when it
    /// named no one of the team, the clinician signed in at the time).
    SignInRefused(SignInKind, ClinicianId),
    /// A search by words whose results show these patients' entries, notes or addenda (or
    /// that looked through this one patient's and found nothing): one row per patient, so
    /// that each patient's trail says who saw what of theirs. The words are not recorded.
    Searched(Vec<PatientId>),
    /// A search of the whole chart that found nothing: one row, for the chart as it stood
    /// (its head).
    SearchedChart(Head),
    /// The controlled-substance log read (`stock log`, in any format): it names the patients
    /// doses were given to. One row, for the chart as it stood (its head).
    ViewStockLog(Head),
    /// The chart sent to a clinic's FHIR server (`kapchart sync`): one row per sync that
    /// sent anything, for the chart as it stood (its head).
    Synced(Head),
}

/// Whether an audit row's action is one an [`Access`] records (a look at the record, a
/// sign-in, a search, a backup, a sync) rather than a write.
pub fn is_look(action: &str) -> bool {
    action.starts_with("export.")
        || action.starts_with("signin.")
        || matches!(
            action,
            "patient.view"
                | "session.view"
                | "note.view"
                | "rems.view"
                | "patient.search"
                | "chart.search"
                | "chart.backup"
                | "stock.log"
                | "chart.sync"
        )
}

impl Access {
    /// The actions, kinds of object and ids, as the audit rows hold them.
    fn rows(&self) -> Vec<(&'static str, ObjectKind, i64)> {
        match self {
            Access::Searched(patients) => patients
                .iter()
                .map(|p| ("patient.search", ObjectKind::Patient, *p))
                .collect(),
            Access::SearchedChart(head) => vec![("chart.search", ObjectKind::Chart, head.seq)],
            one => vec![one.row()],
        }
    }

    /// The action, the kind of object and its id of an access that writes one row.
    fn row(&self) -> (&'static str, ObjectKind, i64) {
        match self {
            Access::Searched(_) | Access::SearchedChart(_) => self
                .rows()
                .first()
                .copied()
                .unwrap_or(("search", ObjectKind::Chart, 0)),
            Access::ViewPatient(id) => ("patient.view", ObjectKind::Patient, *id),
            Access::ViewSession(id) => ("session.view", ObjectKind::Session, *id),
            Access::ViewNote(id) => ("note.view", ObjectKind::Note, *id),
            Access::Export(format, Exported::Session(id)) => {
                (format.action(), ObjectKind::Session, *id)
            }
            Access::Export(format, Exported::Course(id)) => {
                (format.action(), ObjectKind::Patient, *id)
            }
            Access::Backup(head) => ("chart.backup", ObjectKind::Chart, head.seq),
            Access::ViewStockLog(head) => ("stock.log", ObjectKind::Chart, head.seq),
            Access::Synced(head) => ("chart.sync", ObjectKind::Chart, head.seq),
            Access::ViewRemsForm(id) => ("rems.view", ObjectKind::Session, *id),
            Access::SignIn(kind, id) => {
                let action = match kind {
                    SignInKind::Open => "signin.open",
                    SignInKind::HandOver => "signin.handover",
                    SignInKind::Unlock => "signin.unlock",
                    SignInKind::Witness => "signin.witness",
                };
                (action, ObjectKind::Clinician, *id)
            }
            Access::SignInRefused(kind, id) => {
                let action = match kind {
                    SignInKind::Open => "signin.refused.open",
                    SignInKind::HandOver => "signin.refused.handover",
                    SignInKind::Unlock => "signin.refused.unlock",
                    SignInKind::Witness => "signin.refused.witness",
                };
                (action, ObjectKind::Clinician, *id)
            }
        }
    }

    /// What was done, for a message: "patient.view of patient 3", "patient.search of
    /// patients 3, 5".
    pub fn describe(&self) -> String {
        match self {
            Access::Searched(patients) if patients.len() != 1 => {
                let ids: Vec<String> = patients.iter().map(i64::to_string).collect();
                format!("patient.search of patients {}", ids.join(", "))
            }
            _ => {
                let (action, kind, id) = self.row();
                format!("{action} of {} {id}", kind.as_str())
            }
        }
    }
}

/// Whether an access made its audit row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audited {
    Recorded,
    /// The row could not be written; the record was shown anyway.
    NotRecorded {
        /// What was done: "patient.view of patient 3".
        access: String,
        /// Why, in a few words for a status line: "the chart is read-only".
        short: String,
        /// Why, in full: the store's message.
        why: String,
    },
}

impl Audited {
    /// One line for stderr, when the row was not written.
    pub fn warning(&self) -> Option<String> {
        match self {
            Audited::Recorded => None,
            Audited::NotRecorded { access, why, .. } => Some(format!(
                "{access} was shown but is not in the audit trail: {why}"
            )),
        }
    }

    /// A few words for a screen's status line, when the row was not written.
    pub fn status(&self) -> Option<String> {
        match self {
            Audited::Recorded => None,
            Audited::NotRecorded { short, .. } => {
                Some(format!("this view is not in the audit trail: {short}"))
            }
        }
    }
}

/// Writes the audit row for `access` by the signed-in clinician. Call it once per screen
/// or command that opens the record, after what it shows was read (so that an object that
/// does not exist is refused by the read, with its own message).
pub fn record(chart: &mut Chart, access: &Access, now: DateTime<FixedOffset>) -> Audited {
    match chart.store.record_accesses(&access.rows(), now) {
        Ok(()) => Audited::Recorded,
        Err(e) => Audited::NotRecorded {
            access: access.describe(),
            short: match e {
                StoreError::ReadOnly(_) => "the chart is read-only".into(),
                StoreError::DiskFull(_) => "the disk is full".into(),
                StoreError::Damaged { .. } => "writes are stopped (verify found damage)".into(),
                _ => "it could not be written".into(),
            },
            why: e.to_string(),
        },
    }
}

/// Records a refused sign-in at an open chart: `named` is who the try named (an id or a
/// name, as typed or chosen from the team's list); the row names that clinician when the
/// team has exactly one such, else the clinician signed in at the time. What was typed is
/// never written.
pub fn record_refused_sign_in(
    chart: &mut Chart,
    kind: SignInKind,
    named: &str,
    now: DateTime<FixedOffset>,
) -> Audited {
    let team = crate::store::team(chart.store.path()).unwrap_or_default();
    let signed_in = chart.store.clinician().id;
    let id = match crate::domain::team::matching(&team, named).as_slice() {
        [one] => one.id,
        _ => signed_in,
    };
    match record(chart, &Access::SignInRefused(kind, id), now) {
        // A keyring naming someone the chart does not hold: the row names who was signed in.
        Audited::NotRecorded { .. } if id != signed_in => {
            record(chart, &Access::SignInRefused(kind, signed_in), now)
        }
        audited => audited,
    }
}

/// A look at the record when no chart is open to record it in (never expected: a screen
/// opens only on an open chart).
pub fn not_recorded(access: &Access, why: &str) -> Audited {
    Audited::NotRecorded {
        access: access.describe(),
        short: why.to_string(),
        why: why.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_access_is_a_look_and_no_write_is() {
        let head = Head {
            seq: 9,
            hash: "ab".into(),
        };
        let formats = [
            ExportFormat::Fhir,
            ExportFormat::Html,
            ExportFormat::Markdown,
            ExportFormat::Csv,
            ExportFormat::RemsForm,
        ];
        let kinds = [
            SignInKind::Open,
            SignInKind::HandOver,
            SignInKind::Unlock,
            SignInKind::Witness,
        ];
        let mut all = vec![
            Access::ViewPatient(1),
            Access::ViewSession(1),
            Access::ViewNote(1),
            Access::Backup(head.clone()),
            Access::ViewRemsForm(1),
            Access::Searched(vec![1, 2]),
            Access::SearchedChart(head.clone()),
            Access::ViewStockLog(head.clone()),
            Access::Synced(head),
        ];
        for f in formats {
            all.push(Access::Export(f, Exported::Session(1)));
            all.push(Access::Export(f, Exported::Course(1)));
        }
        for k in kinds {
            all.push(Access::SignIn(k, 1));
            all.push(Access::SignInRefused(k, 1));
        }
        for a in &all {
            for (action, _, _) in a.rows() {
                assert!(is_look(action), "{action}");
            }
        }
        for write in [
            "session.start",
            "session.end",
            "entry.add",
            "entry.amend",
            "entry.strike",
            "entry.witness",
            "note.create",
            "note.draft",
            "note.sign",
            "note.addendum",
        ] {
            assert!(!is_look(write), "{write}");
        }
    }
}
