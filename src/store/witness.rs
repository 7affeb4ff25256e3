//! Recording a witness to a dose: an entry authored by the witness, pointing at the dose,
//! written in one transaction with its audit row. The witness is either the signed-in
//! clinician (`witness_dose`) or a second clinician who signs in for this one write
//! (`record_as_witness`) without changing who is signed in.

use super::audit::ObjectKind;
use super::keyring;
use super::{Chart, ChartSecret, Result, StoreError, to_stored};
use crate::domain::entry::{Payload, Witness};
use crate::domain::witness;
use crate::domain::{Clinician, EntryId, chart_lines};
use chrono::{DateTime, FixedOffset};
use rusqlite::{OptionalExtension, params};

/// A second clinician signed in for a run of witness entries ([`Chart::witness_sign_in`]).
pub(crate) struct WitnessSignIn {
    clinician: Clinician,
    key: ed25519_dalek::SigningKey,
}

impl Chart {
    /// The signed-in clinician witnesses the dose `dose` (`kapchart witness ENTRY`).
    pub fn witness_dose(&mut self, dose: EntryId, now: DateTime<FixedOffset>) -> Result<EntryId> {
        let me = self.clinician.clone();
        self.write_witness(&me, None, dose, now)
    }

    /// `who` (an id or a name) witnesses the dose `dose`, after their passphrase is checked
    /// against the keyring: it must open their keys, and those the chart key of this chart.
    /// The signed-in clinician stays as they were. A wrong pair is refused without saying
    /// which of the two was wrong; the chart is not touched.
    pub fn record_as_witness(
        &mut self,
        dose: EntryId,
        who: &str,
        passphrase: &str,
        now: DateTime<FixedOffset>,
    ) -> Result<(Clinician, EntryId)> {
        let (witness, keys) = self.authenticate(who, passphrase)?;
        let id = self.write_witness(&witness, Some(&keys.signing), dose, now)?;
        Ok((witness, id))
    }

    /// A second clinician signs in once to witness a run of entries (the scale generator's
    /// wastes at the end of each session, thousands of them): their pair is checked as for
    /// [`Chart::record_as_witness`], and the keys are kept only by the caller's value.
    pub(crate) fn witness_sign_in(&self, who: &str, passphrase: &str) -> Result<WitnessSignIn> {
        let (clinician, keys) = self.authenticate(who, passphrase)?;
        Ok(WitnessSignIn {
            clinician,
            key: keys.signing.clone(),
        })
    }

    /// The clinician of `by` witnesses `entry` (a dose or a waste), signed with their keys.
    pub(crate) fn record_witness_as(
        &mut self,
        by: &WitnessSignIn,
        entry: EntryId,
        now: DateTime<FixedOffset>,
    ) -> Result<EntryId> {
        self.write_witness(&by.clinician, Some(&by.key), entry, now)
    }

    /// Checks that `who` and `passphrase` go together and open this chart; the clinician
    /// they name, as the chart records them (on the team, not removed).
    fn authenticate(
        &self,
        who: &str,
        passphrase: &str,
    ) -> Result<(Clinician, super::keyring::crypto::PrivateKeys)> {
        let ChartSecret::Raw(current) = &self.secret else {
            return Err(StoreError::SignIn(
                "this chart has no team yet: it is upgraded the next time it is opened while no other kapchart has it open".into(),
            ));
        };
        let ring = keyring::read(&keyring::path_of(&self.path))?.unwrap_or_default();
        let entry = ring.find(who).map_err(|_| StoreError::WrongSignIn)?;
        let unlocked = entry.unlock(passphrase)?.ok_or(StoreError::WrongSignIn)?;
        if unlocked.chart_key.as_ref() != current.as_ref() {
            return Err(StoreError::WrongSignIn);
        }
        let member = self.member(entry.id)?.ok_or(StoreError::WrongSignIn)?;
        if let Some(removal) = &member.removed {
            return Err(StoreError::SignIn(format!(
                "{} was removed from this chart's team ({removal}); nothing was changed",
                member.name
            )));
        }
        if member.signing_public != unlocked.keys.signing_public() {
            return Err(StoreError::Invalid(format!(
                "the keys of {} in the keyring differ from those the chart recorded; restore the keyring with its chart from a backup",
                member.name
            )));
        }
        Ok((
            Clinician {
                id: member.id,
                name: member.name,
            },
            unlocked.keys,
        ))
    }

    /// Writes the witness entry, signed by `key` (the witness's, when they signed in for
    /// this write) or by the signed-in clinician's.
    fn write_witness(
        &mut self,
        by: &Clinician,
        key: Option<&ed25519_dalek::SigningKey>,
        dose: EntryId,
        now: DateTime<FixedOffset>,
    ) -> Result<EntryId> {
        let target = self.entry(dose)?;
        let session = target.session_id;
        let payload = Payload::Witness(Witness { entry: dose });
        let json = serde_json::to_string(&payload)
            .map_err(|e| StoreError::Invalid(format!("cannot store entry: {e}")))?;
        let (at, offset) = to_stored(now);
        let witness_id = by.id;
        let write = |tx: &super::Tx<'_>| -> std::result::Result<EntryId, super::WriteError> {
            // The rules are checked inside the write, so that two witnesses at once cannot
            // both be recorded.
            let author_id: i64 = tx
                .query_row("SELECT author_id FROM entries WHERE id = ?1", [dose], |r| {
                    r.get(0)
                })
                .optional()?
                .ok_or(StoreError::NotFound {
                    what: "entry",
                    id: dose,
                })?;
            let lines = chart_lines(super::queries::entries_in(tx, session)?);
            let line = lines
                .iter()
                .find(|l| l.entry.id == dose)
                .ok_or(StoreError::NotFound {
                    what: "entry",
                    id: dose,
                })?;
            witness::check(&lines, line, author_id, witness_id)
                .map_err(|r| StoreError::Invalid(r.to_string()))?;
            tx.execute(
                "INSERT INTO entries (id, session_id, kind, payload, event_at, event_offset, recorded_at,
                    recorded_offset, author_id, flags)
                 VALUES ((SELECT max(coalesce((SELECT max(id) FROM entries), 0), coalesce((SELECT max(CAST(json_extract(id_floors, '$.entries') AS INTEGER)) FROM restores), 0)) + 1), ?1, ?2, ?3, ?4, ?5, ?4, ?5, ?6, '[]')",
                params![session, payload.kind(), json, at, offset, witness_id],
            )?;
            let id = tx.last_insert_rowid();
            super::search_index::index_entry(tx, id, &payload, None)?;
            tx.record(
                now.timestamp_millis(),
                witness_id,
                "entry.witness",
                ObjectKind::Entry,
                id,
            )?;
            Ok(id)
        };
        match key {
            Some(key) => self.write_signed_by(key, write),
            None => self.write(write),
        }
    }
}
