//! The chart as the front ends hold it: opened, created and signed in to through here, and
//! read or written only through the use cases of `app`. The store's chart is inside, out of
//! the front ends' reach, so that nothing the door does not offer (raw SQL, writes that skip
//! the record's rules) can be called from a screen or a command.

use super::AppError;
use crate::domain::course::{Course, Note, NoteId, PatientDetails};
use crate::domain::team::Role;
use crate::domain::{Clinician, Entry, EntryId, Patient, PatientId, Session, SessionId};
use crate::store::MemberRecord;
use crate::store::audit::{Head, TrailOf, TrailRow};
use chrono::{DateTime, FixedOffset};
use std::path::Path;

/// An open chart, with the clinician signed in to it.
pub struct Chart {
    pub(in crate::app) store: crate::store::Chart,
}

impl From<crate::store::Chart> for Chart {
    fn from(store: crate::store::Chart) -> Chart {
        Chart { store }
    }
}

impl Chart {
    /// Creates a new chart at `path` for `clinician`, who founds its team. Refuses to touch
    /// an existing file.
    pub fn create(
        path: &Path,
        passphrase: &str,
        clinician: &str,
        busy_timeout_ms: u32,
        now: DateTime<FixedOffset>,
    ) -> Result<Chart, AppError> {
        Ok(crate::store::Chart::create(path, passphrase, clinician, busy_timeout_ms, now)?.into())
    }

    /// The chart's UUID, which names every record of it outside the laptop
    /// (`domain::identity`).
    pub fn uuid(&self) -> Result<crate::domain::identity::ChartUuid, AppError> {
        Ok(self.store.chart_uuid()?)
    }

    /// Opens a chart whose team has one clinician, signing them in.
    pub fn open(path: &Path, passphrase: &str, busy_timeout_ms: u32) -> Result<Chart, AppError> {
        Ok(crate::store::Chart::open(path, passphrase, busy_timeout_ms)?.into())
    }

    /// Opens a chart signing in `who` (a name or id of the team; empty for a team of one).
    pub fn open_as(
        path: &Path,
        who: &str,
        passphrase: &str,
        busy_timeout_ms: u32,
    ) -> Result<Chart, AppError> {
        Ok(crate::store::Chart::open_as(path, who, passphrase, busy_timeout_ms)?.into())
    }

    /// [`Chart::open_as`], refused while any other kapchart has the chart open (for what
    /// replaces or re-keys it).
    pub fn open_alone_as(
        path: &Path,
        who: &str,
        passphrase: &str,
        busy_timeout_ms: u32,
    ) -> Result<Chart, AppError> {
        Ok(crate::store::Chart::open_alone_as(path, who, passphrase, busy_timeout_ms)?.into())
    }

    /// Where the chart is.
    pub fn path(&self) -> &Path {
        self.store.path()
    }

    /// The clinician signed in.
    pub fn clinician(&self) -> &Clinician {
        self.store.clinician()
    }

    /// Whether the chart can be read but not written (read-only media or file).
    pub fn is_read_only(&self) -> bool {
        self.store.is_read_only()
    }

    /// A number that changes whenever another process commits to the chart: a screen reads
    /// again when it has changed since its last look.
    pub fn data_version(&self) -> Result<i64, AppError> {
        Ok(self.store.data_version()?)
    }
}

/// What the front ends read of the chart as it stands: each a read the door offers, with
/// the chart's own words when it is refused.
impl Chart {
    /// A patient of the chart.
    pub fn patient(&self, id: PatientId) -> Result<Patient, AppError> {
        Ok(self.store.patient(id)?)
    }

    /// Every patient, by name.
    pub fn patients(&self) -> Result<Vec<Patient>, AppError> {
        Ok(self.store.patients()?)
    }

    /// The patients with these ids (those that exist).
    pub fn patients_with_ids(&self, ids: &[PatientId]) -> Result<Vec<Patient>, AppError> {
        Ok(self.store.patients_with_ids(ids)?)
    }

    /// A patient's details as they stand (the latest of each).
    pub fn patient_details(&self, patient: PatientId) -> Result<PatientDetails, AppError> {
        Ok(self.store.patient_details(patient)?)
    }

    /// The patient's course as it stands.
    pub fn course(&self, patient: PatientId) -> Result<Option<Course>, AppError> {
        Ok(self.store.course(patient)?)
    }

    /// A session.
    pub fn session(&self, id: SessionId) -> Result<Session, AppError> {
        Ok(self.store.session(id)?)
    }

    /// The sessions of a patient, or of the whole chart.
    pub fn sessions(&self, patient: Option<PatientId>) -> Result<Vec<Session>, AppError> {
        Ok(self.store.sessions(patient)?)
    }

    /// An entry as the chart stores it.
    pub fn entry(&self, id: EntryId) -> Result<Entry, AppError> {
        Ok(self.store.entry(id)?)
    }

    /// A note, with its draft, signature and addenda.
    pub fn note(&self, id: NoteId) -> Result<Note, AppError> {
        Ok(self.store.note(id)?)
    }

    /// The signed-in clinician's role on the team (None for a chart from before teams).
    pub fn role(&self) -> Result<Option<Role>, AppError> {
        Ok(self.store.role()?)
    }

    /// The team as the chart records it, removed members included.
    pub fn team_members(&self) -> Result<Vec<MemberRecord>, AppError> {
        Ok(self.store.team_members()?)
    }

    /// The clinicians' identifiers that stand (NPI, staff id), by clinician id.
    pub fn clinician_identifiers(
        &self,
    ) -> Result<Vec<(i64, crate::domain::npi::IdentifierKind, String)>, AppError> {
        Ok(self.store.clinician_identifiers()?)
    }

    /// Members whose removal did not finish (the keyring still holds them).
    pub fn unfinished_removals(&self) -> Result<Vec<MemberRecord>, AppError> {
        Ok(self.store.unfinished_removals()?)
    }

    /// The audit trail's head: what a verify, backup or export prints, to anchor outside.
    pub fn head(&self) -> Result<Option<Head>, AppError> {
        Ok(self.store.head()?)
    }

    /// Whether the chart's audit trail still holds `head`.
    pub fn holds_head(&self, head: &Head) -> Result<bool, AppError> {
        Ok(self.store.holds_head(head)?)
    }

    /// The fingerprint of the chart's root (its first admin's key), when it has a team.
    pub fn root(&self) -> Result<Option<String>, AppError> {
        Ok(self.store.root()?)
    }

    /// The chart's schema version.
    pub fn schema_version(&self) -> Result<i64, AppError> {
        Ok(self.store.schema_version()?)
    }

    /// Damage an earlier verify found and no admin has acknowledged (writes stop while any
    /// stands).
    pub fn damage_found(&self) -> Vec<String> {
        self.store.damage_found()
    }

    /// The audit trail, newest first: of the chart, a patient or a session.
    pub fn audit_trail(&self, of: TrailOf, limit: Option<u32>) -> Result<Vec<TrailRow>, AppError> {
        Ok(self.store.audit_trail(of, limit)?)
    }
}

impl Chart {
    /// The store's chart inside, for what writes behind the record's use cases on purpose:
    /// the demo and scale generators (years of history at once, bulk pragmas) and tests that
    /// act behind kapchart's back. A front end never calls it (`tests/layers.rs` refuses it).
    #[doc(hidden)]
    pub fn behind_the_door(&mut self) -> &mut crate::store::Chart {
        &mut self.store
    }

    /// [`Chart::behind_the_door`], to read.
    #[doc(hidden)]
    pub fn behind_the_door_ref(&self) -> &crate::store::Chart {
        &self.store
    }
}
