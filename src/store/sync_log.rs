//! The sync log: what a clinic's FHIR server acknowledged (`domain::sync`), append-only.

use super::audit::Head;
use super::{Chart, Result};
use crate::domain::PatientId;
use crate::domain::sync::{Base, Sent, Touched};
use chrono::{DateTime, FixedOffset};
use rusqlite::{OptionalExtension, params};
use std::collections::HashMap;

/// The audit rows after a head, mapped to the patients whose exported record they can
/// change: the patient, its details and course, a session, an entry, a note with its drafts,
/// signature, addenda and Ed25519 signatures, and for the stock, the patients whose entries
/// drew from a container a stock record, container or movement touched (a strike's too).
const TOUCHED_PATIENTS: &str = "
WITH a AS (SELECT object_kind AS k, object_id AS id FROM audit WHERE seq > ?1),
 notes_touched(id) AS (
    SELECT id FROM a WHERE k = 'note'
    UNION SELECT note_id FROM note_drafts WHERE id IN (SELECT id FROM a WHERE k = 'note-draft')
    UNION SELECT note_id FROM note_signatures WHERE id IN (SELECT id FROM a WHERE k = 'note-signature')
    UNION SELECT note_id FROM note_addenda WHERE id IN (SELECT id FROM a WHERE k = 'note-addendum')
    UNION SELECT coalesce(g.note_id, d.note_id) FROM ed25519_signatures x
        LEFT JOIN note_signatures g ON g.id = x.note_signature_id
        LEFT JOIN note_addenda d ON d.id = x.addendum_id
        WHERE x.id IN (SELECT id FROM a WHERE k = 'ed25519-signature')),
 stock_touched(id) AS (
    SELECT id FROM a WHERE k = 'stock'
    UNION SELECT strikes FROM stock WHERE strikes IS NOT NULL AND id IN (SELECT id FROM a WHERE k = 'stock')),
 containers(id) AS (
    SELECT id FROM a WHERE k = 'stock-container'
    UNION SELECT container_id FROM stock_movements WHERE id IN (SELECT id FROM a WHERE k = 'stock-movement')
    UNION SELECT container_id FROM stock_movements WHERE stock_id IN (SELECT id FROM stock_touched)
    UNION SELECT id FROM stock_containers WHERE receipt_id IN (SELECT id FROM stock_touched))
SELECT id FROM a WHERE k = 'patient'
UNION SELECT patient_id FROM patient_details WHERE id IN (SELECT id FROM a WHERE k = 'patient-details')
UNION SELECT patient_id FROM courses WHERE id IN (SELECT id FROM a WHERE k = 'course')
UNION SELECT patient_id FROM sessions WHERE id IN (SELECT id FROM a WHERE k = 'session')
UNION SELECT s.patient_id FROM entries e JOIN sessions s ON s.id = e.session_id
    WHERE e.id IN (SELECT id FROM a WHERE k = 'entry')
UNION SELECT s.patient_id FROM notes n JOIN sessions s ON s.id = n.dosing_session_id
    WHERE n.id IN (SELECT id FROM notes_touched)
UNION SELECT s.patient_id FROM stock_movements m
    JOIN entries e ON e.id = m.entry_id JOIN sessions s ON s.id = e.session_id
    WHERE m.container_id IN (SELECT id FROM containers)
ORDER BY 1";

/// Whether an audit row after the head may change every patient's record: a clinician added
/// (not a sign-in), the team or its certificates, a restore, or a kind of row not mapped
/// above (so a kind added later rebuilds everything until it is).
const TOUCHED_EVERYTHING: &str = "
SELECT EXISTS (SELECT 1 FROM audit WHERE seq > ?1 AND (
    (object_kind = 'clinician' AND action NOT LIKE 'signin.%')
    OR object_kind NOT IN ('clinician', 'patient', 'patient-details', 'course', 'session',
        'entry', 'note', 'note-draft', 'note-signature', 'note-addendum', 'ed25519-signature',
        'stock', 'stock-container', 'stock-movement', 'chain-key', 'chart',
        'damage-acknowledgement')))";

/// A sync log row as `SELECT resource, sha256, server_id, version` reads it.
fn sent_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Sent> {
    Ok(Sent {
        resource: r.get(0)?,
        sha256: r.get(1)?,
        server_id: r.get(2)?,
        version: r.get(3)?,
    })
}

impl Chart {
    /// The newest acknowledgement of each resource by `server`, by `Type/id`.
    pub fn sync_sent(&self, server: &str) -> Result<HashMap<String, Sent>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT resource, sha256, server_id, version FROM sync_log s
                 WHERE server = ?1 AND id = (SELECT max(id) FROM sync_log t
                   WHERE t.server = s.server AND t.resource = s.resource)",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([server], sent_row)
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<Sent>>>())
            .map_err(|e| self.err(e))?;
        Ok(rows.into_iter().map(|s| (s.resource.clone(), s)).collect())
    }

    /// Records what `server` acknowledged, with the chart's audit head now, in one
    /// transaction: all of it or none (what is not recorded is sent again, and a PUT of the
    /// same content leaves one copy on the server).
    pub fn record_sync(
        &mut self,
        server: &str,
        sent: &[Sent],
        now: DateTime<FixedOffset>,
    ) -> Result<()> {
        let head = self.head()?.unwrap_or(super::audit::Head {
            seq: 0,
            hash: String::new(),
        });
        let author = self.clinician.id;
        self.write(|tx| {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO sync_log (server, resource, sha256, server_id, version, sent_at, head_seq, head_hash, author_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?;
            for s in sent {
                stmt.execute(params![
                    server,
                    s.resource,
                    s.sha256,
                    s.server_id,
                    s.version,
                    now.timestamp_millis(),
                    head.seq,
                    head.hash,
                    author
                ])?;
            }
            Ok(())
        })
    }

    /// One resource's newest acknowledgement by `server` (`Type/id`).
    pub fn sync_sent_one(&self, server: &str, resource: &str) -> Result<Option<Sent>> {
        self.conn
            .prepare_cached(
                "SELECT resource, sha256, server_id, version FROM sync_log
                 WHERE server = ?1 AND resource = ?2 ORDER BY id DESC LIMIT 1",
            )
            .and_then(|mut stmt| stmt.query_row([server, resource], sent_row).optional())
            .map_err(|e| self.err(e))
    }

    /// The newest acknowledgement of each Patient and Practitioner by `server`: where the
    /// server keeps them (one matched by an identifier may be another laptop's).
    pub fn sync_sent_people(&self, server: &str) -> Result<HashMap<String, Sent>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT resource, sha256, server_id, version FROM sync_log s
                 WHERE server = ?1
                   AND ((resource >= 'Patient/' AND resource < 'Patient0')
                     OR (resource >= 'Practitioner/' AND resource < 'Practitioner0'))
                   AND id = (SELECT max(id) FROM sync_log t
                     WHERE t.server = s.server AND t.resource = s.resource)",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([server], sent_row)
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<Sent>>>())
            .map_err(|e| self.err(e))?;
        Ok(rows.into_iter().map(|s| (s.resource.clone(), s)).collect())
    }

    /// The newest base recorded for `server`, if a sync ever left it holding the whole chart.
    pub fn sync_base(&self, server: &str) -> Result<Option<Base>> {
        self.conn
            .prepare_cached(
                "SELECT head_seq, head_hash, built_at, fingerprint FROM sync_base
                 WHERE server = ?1 ORDER BY id DESC LIMIT 1",
            )
            .and_then(|mut stmt| {
                stmt.query_row([server], |r| {
                    Ok(Base {
                        head_seq: r.get(0)?,
                        head_hash: r.get(1)?,
                        built_at_ms: r.get(2)?,
                        fingerprint: r.get(3)?,
                    })
                })
                .optional()
            })
            .map_err(|e| self.err(e))
    }

    /// Records that `server` now holds the whole chart as it stood at `head`, built at
    /// `built_at` under `fingerprint`.
    pub fn record_sync_base(
        &mut self,
        server: &str,
        head: &Head,
        built_at: DateTime<FixedOffset>,
        fingerprint: &str,
    ) -> Result<()> {
        let author = self.clinician.id;
        self.write(|tx| {
            tx.execute(
                "INSERT INTO sync_base (server, head_seq, head_hash, built_at, fingerprint, author_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    server,
                    head.seq,
                    head.hash,
                    built_at.timestamp_millis(),
                    fingerprint,
                    author
                ],
            )?;
            Ok(())
        })
    }

    /// The hash of the audit row `seq`, if the chart holds one: a base whose head the chart no
    /// longer holds as it was (a restore from an older backup) names no changes.
    pub fn audit_hash_at(&self, seq: i64) -> Result<Option<String>> {
        self.conn
            .prepare_cached("SELECT hash FROM audit WHERE seq = ?1")
            .and_then(|mut stmt| stmt.query_row([seq], |r| r.get(0)).optional())
            .map_err(|e| self.err(e))
    }

    /// The patients the audit rows after `seq` name (`TOUCHED_PATIENTS`), or everything.
    pub fn touched_since(&self, seq: i64) -> Result<Touched> {
        let everything: bool = self
            .conn
            .prepare_cached(TOUCHED_EVERYTHING)
            .and_then(|mut stmt| stmt.query_row([seq], |r| r.get(0)))
            .map_err(|e| self.err(e))?;
        if everything {
            return Ok(Touched {
                everything,
                patients: Vec::new(),
            });
        }
        let patients = self
            .conn
            .prepare_cached(TOUCHED_PATIENTS)
            .and_then(|mut stmt| {
                stmt.query_map([seq], |r| r.get::<_, PatientId>(0))?
                    .collect::<rusqlite::Result<Vec<PatientId>>>()
            })
            .map_err(|e| self.err(e))?;
        Ok(Touched {
            everything,
            patients,
        })
    }

    /// The patients whose exported record depends on the clock from `since_ms` on: those
    /// with a session still open (its checks are measured against now) and those with a dose
    /// given over minutes (`over N min`) not yet over at `since_ms` (in progress until then).
    pub fn patients_on_the_clock(&self, since_ms: i64) -> Result<Vec<PatientId>> {
        self.conn
            .prepare_cached(
                "SELECT s.patient_id FROM open_sessions o JOIN sessions s ON s.id = o.session_id
                 UNION
                 SELECT s.patient_id FROM entries e JOIN sessions s ON s.id = e.session_id
                  WHERE e.kind = 'dose' AND json_extract(e.payload, '$.over_min') IS NOT NULL
                    AND e.event_at + json_extract(e.payload, '$.over_min') * 60000 > ?1
                 ORDER BY 1",
            )
            .and_then(|mut stmt| {
                stmt.query_map([since_ms], |r| r.get::<_, PatientId>(0))?
                    .collect::<rusqlite::Result<Vec<PatientId>>>()
            })
            .map_err(|e| self.err(e))
    }
}
