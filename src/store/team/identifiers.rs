//! Clinicians' identifiers outside the chart (NPI, the clinic's staff id), recorded by an
//! admin, each an audited, signed row; the newest of a kind stands, an empty value
//! withdraws it.

use super::super::audit::ObjectKind;
use super::super::{Chart, Result, StoreError};
use crate::domain::npi::IdentifierKind;
use chrono::{DateTime, FixedOffset};
use rusqlite::params;

impl Chart {
    /// Records `clinician`'s identifiers, each of its kind (already checked: `domain::npi`),
    /// all or none; an empty value withdraws the one recorded. Admins only.
    pub fn record_clinician_identifiers(
        &mut self,
        clinician: i64,
        identifiers: &[(IdentifierKind, String)],
        now: DateTime<FixedOffset>,
    ) -> Result<()> {
        self.require_admin("record a clinician's identifiers")?;
        if self.member(clinician)?.is_none() {
            return Err(StoreError::Invalid(format!(
                "no clinician {clinician} on this chart's team (kapchart clinician list); nothing was changed"
            )));
        }
        let author = self.clinician.id;
        self.write(|tx| {
            for (kind, value) in identifiers {
                tx.execute(
                    "INSERT INTO clinician_identifiers (clinician_id, kind, value, recorded_at, author_id) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![clinician, kind.as_str(), value, now.timestamp_millis(), author],
                )?;
                let id = tx.last_insert_rowid();
                tx.record(
                    now.timestamp_millis(),
                    author,
                    "team.identifier",
                    ObjectKind::ClinicianIdentifier,
                    id,
                )?;
            }
            Ok(())
        })
    }

    /// The identifiers that stand, by clinician id: the newest of each kind, unless withdrawn.
    pub fn clinician_identifiers(&self) -> Result<Vec<(i64, IdentifierKind, String)>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT clinician_id, kind, value FROM clinician_identifiers c
                  WHERE id = (SELECT max(id) FROM clinician_identifiers
                               WHERE clinician_id = c.clinician_id AND kind = c.kind)
                    AND value <> ''
                  ORDER BY clinician_id, kind",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(|e| self.err(e))?;
        Ok(rows
            .into_iter()
            .filter_map(|(c, k, v)| IdentifierKind::parse(&k).map(|k| (c, k, v)))
            .collect())
    }
}
