//! Looking after the chart itself: verify it, acknowledge the damage found, back it up and
//! restore it, rebuild its search index, and keep the team (add, remove, a new passphrase).
//! Each is refused in the chart's own words; the reports are plain records to print.

use super::{AppError, Chart};
use crate::domain::EntryId;
use crate::domain::PatientId;
use crate::domain::course::PatientDetails;
use crate::domain::team::Role;
use chrono::{DateTime, FixedOffset};
use std::path::Path;

pub use crate::store::audit::{Head, TrailOf, TrailRow};
pub use crate::store::backup::{CopyReport, RestoreRequest, Restored};
pub use crate::store::{MemberRecord, SignatureCheck, VerifyReport};

/// The head of the audit trail of a copy of the chart (a backup), opened with the
/// passphrase its team had when it was made.
pub fn head_of_copy(path: &Path, who: &str, passphrase: &str) -> Result<Option<Head>, AppError> {
    Ok(crate::store::head_of_copy(path, who, passphrase)?)
}

/// Restores the chart from a verified backup (see [`RestoreRequest`]).
pub fn restore(request: &RestoreRequest<'_>) -> Result<Restored, AppError> {
    Ok(crate::store::backup::restore(request)?)
}

impl Chart {
    /// Verifies the chart: the file, the schema, the audit chain, signatures, payloads and
    /// the indexes.
    pub fn verify(&self) -> Result<VerifyReport, AppError> {
        Ok(self.store.verify()?)
    }

    /// The problems an admin acknowledged already.
    pub fn acknowledged_problems(&self) -> Result<std::collections::HashSet<String>, AppError> {
        Ok(self.store.acknowledged_problems()?)
    }

    /// An admin acknowledges `problems`, with a reason: recorded and signed; writes go on.
    pub fn acknowledge_damage(
        &mut self,
        problems: &[String],
        reason: &str,
        now: DateTime<FixedOffset>,
    ) -> Result<(), AppError> {
        Ok(self.store.acknowledge_damage(problems, reason, now)?)
    }

    /// Marks the chart damaged: writes stop until it is restored or the damage acknowledged.
    pub fn mark_damaged(&self, problems: &[String], lost: &[Head]) {
        self.store.mark_damaged(problems, lost)
    }

    /// A sound verify: the next open checks from this head on.
    pub fn keep_checked_head(&self) -> Result<(), AppError> {
        Ok(self.store.keep_checked_head()?)
    }

    /// Walks what was written since the last checked head, as the next open would.
    pub fn check_written(&mut self) -> Result<(), AppError> {
        Ok(self.store.check_written()?)
    }

    /// Backs the chart up to `dest` (a new file), verified; `progress` hears (done, total).
    pub fn backup_to(
        &self,
        dest: &Path,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<CopyReport, AppError> {
        Ok(self.store.backup_to(dest, progress)?)
    }

    /// Rebuilds the search index from the record; how many rows it holds.
    pub fn rebuild_search_index(&mut self, now: DateTime<FixedOffset>) -> Result<usize, AppError> {
        Ok(self.store.rebuild_search_index(now)?)
    }

    /// Adds a clinician to the team (an admin's act); their id.
    pub fn add_team_member(
        &mut self,
        name: &str,
        role: Role,
        credentials: Option<&str>,
        passphrase: &str,
        now: DateTime<FixedOffset>,
    ) -> Result<i64, AppError> {
        Ok(self
            .store
            .add_team_member(name, role, credentials, passphrase, now)?)
    }

    /// Removes a clinician from the team, with a reason (the chart is re-keyed).
    pub fn remove_team_member(
        &mut self,
        id: i64,
        reason: &str,
        now: DateTime<FixedOffset>,
    ) -> Result<(), AppError> {
        Ok(self.store.remove_team_member(id, reason, now)?)
    }

    /// Records a clinician's NPI and clinic staff id (an admin's act), each as typed and
    /// checked (`domain::npi`); an empty one withdraws what was recorded. Nothing is
    /// recorded when either is refused.
    pub fn record_clinician_identifiers(
        &mut self,
        clinician: i64,
        npi: Option<&str>,
        staff_id: Option<&str>,
        now: DateTime<FixedOffset>,
    ) -> Result<(), AppError> {
        use crate::domain::npi::{self, IdentifierKind};
        let check = |text: Option<&str>, parse: fn(&str) -> Result<String, String>| {
            text.map(|t| {
                if t.trim().is_empty() {
                    Ok(String::new())
                } else {
                    parse(t)
                }
            })
            .transpose()
            .map_err(|why| AppError::invalid(format!("{why}; nothing was changed")))
        };
        let npi = check(npi, npi::parse_npi)?;
        let staff = check(staff_id, npi::parse_staff_id)?;
        let identifiers: Vec<(IdentifierKind, String)> =
            [(IdentifierKind::Npi, npi), (IdentifierKind::Staff, staff)]
                .into_iter()
                .filter_map(|(kind, value)| value.map(|v| (kind, v)))
                .collect();
        if identifiers.is_empty() {
            return Err(AppError::invalid(
                "nothing to record: give --npi NUMBER or --staff-id ID (an empty value withdraws one)",
            ));
        }
        Ok(self
            .store
            .record_clinician_identifiers(clinician, &identifiers, now)?)
    }

    /// Changes the signed-in clinician's passphrase.
    pub fn change_passphrase(&mut self, new_passphrase: &str) -> Result<(), AppError> {
        Ok(self.store.change_passphrase(new_passphrase)?)
    }

    /// The signed-in clinician witnesses a dose another clinician charted.
    pub fn witness_dose(
        &mut self,
        dose: EntryId,
        now: DateTime<FixedOffset>,
    ) -> Result<EntryId, AppError> {
        Ok(self.store.witness_dose(dose, now)?)
    }

    /// Records a patient's details as they now stand; the new row's id.
    pub fn update_patient_details(
        &mut self,
        patient: PatientId,
        details: &PatientDetails,
        now: DateTime<FixedOffset>,
    ) -> Result<i64, AppError> {
        Ok(self.store.update_patient_details(patient, details, now)?)
    }
}
