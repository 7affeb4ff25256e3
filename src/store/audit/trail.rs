//! The trail read: the audit rows about the chart, a patient or a session, newest first,
//! and the rows a look at the record adds (views, exports, backups).

use super::ObjectKind;
use rusqlite::{Connection, params};

/// One row of the audit trail as `kapchart audit` lists it: who, when, what, and the kind
/// and id of the object. Ids and clinicians' names only, never what the record holds.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TrailRow {
    pub seq: i64,
    /// UTC milliseconds.
    pub at_ms: i64,
    /// None for rows kapchart writes itself (the first clinician, the chain key).
    pub clinician_id: Option<i64>,
    pub clinician: Option<String>,
    pub action: String,
    pub object_kind: String,
    pub object_id: i64,
}

/// Which part of the trail to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrailOf {
    /// Every row.
    Chart,
    /// Rows about a patient's record: the patient, details, courses, sessions, entries,
    /// notes with their drafts, signatures and addenda, and exports of any of them.
    Patient(i64),
    /// Rows about one session: the session, its entries, its note, and its exports.
    Session(i64),
}

/// The `objects(kind, id)` of the sessions `sessions` selects (and of the patient, when
/// `patient_rows` names their own rows): the session, its entries, its note with its drafts,
/// signatures and addenda.
fn objects(sessions: &str, patient_rows: &str) -> String {
    format!(
        "WITH s(id) AS ({sessions}),
              n(id) AS (SELECT id FROM notes WHERE dosing_session_id IN (SELECT id FROM s)),
              objects(kind, id) AS (
                {patient_rows}SELECT 'session', id FROM s
                UNION ALL SELECT 'entry', e.id FROM entries e
                    WHERE e.session_id IN (SELECT id FROM s)
                UNION ALL SELECT 'note', id FROM n
                UNION ALL SELECT 'note-draft', id FROM note_drafts
                    WHERE note_id IN (SELECT id FROM n)
                UNION ALL SELECT 'note-signature', id FROM note_signatures
                    WHERE note_id IN (SELECT id FROM n)
                UNION ALL SELECT 'note-addendum', id FROM note_addenda
                    WHERE note_id IN (SELECT id FROM n))"
    )
}

/// One signed audit row about a session, as its author signed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedTrailRow {
    pub seq: i64,
    pub at_ms: i64,
    pub clinician_id: i64,
    pub clinician: String,
    pub action: String,
    pub hash: String,
    /// The exact bytes the signature covers (`chain::row_message`).
    pub message: Vec<u8>,
    pub signature: Vec<u8>,
}

/// The query behind [`signed_trail`]: the session's objects first, each joined to its audit
/// rows through the `audit_object` index (CROSS JOIN keeps SQLite from starting at the audit
/// table, which read every row of the trail for each session: a sync of a 200-patient chart
/// spent most of its time there).
fn signed_trail_sql() -> String {
    format!(
        "{}
         SELECT a.seq, a.at, a.clinician_id, c.name, a.action, a.object_kind, a.object_id,
                a.content_hash, a.prev_hash, a.hash, a.signature
           FROM objects o
           CROSS JOIN audit a ON a.object_kind = o.kind AND a.object_id = o.id
           JOIN clinicians c ON c.id = a.clinician_id
          WHERE a.signature IS NOT NULL
          ORDER BY a.seq",
        objects("SELECT id FROM sessions WHERE id = ?1", "")
    )
}

/// The signed rows about `session` (its rows as [`trail`] lists them, that carry a
/// signature), oldest first.
pub fn signed_trail(conn: &Connection, session: i64) -> rusqlite::Result<Vec<SignedTrailRow>> {
    let sql = signed_trail_sql();
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params![session], |r| {
        let action: String = r.get(4)?;
        let kind: String = r.get(5)?;
        let content_hash: String = r.get(7)?;
        let prev_hash: String = r.get(8)?;
        let clinician_id: i64 = r.get(2)?;
        let fields = super::AuditFields {
            seq: r.get(0)?,
            at_ms: r.get(1)?,
            clinician_id: Some(clinician_id),
            action: &action,
            object_kind: &kind,
            object_id: r.get(6)?,
            content_hash: &content_hash,
            prev_hash: &prev_hash,
        };
        Ok(SignedTrailRow {
            seq: fields.seq,
            at_ms: fields.at_ms,
            clinician_id,
            clinician: r.get(3)?,
            message: crate::store::chain::row_message(&fields),
            hash: r.get(9)?,
            signature: r.get(10)?,
            action,
        })
    })?;
    rows.collect()
}

/// The query behind [`trail`].
fn trail_sql(of: TrailOf) -> String {
    const ROW: &str = "a.seq, a.at, a.clinician_id, c.name, a.action, a.object_kind, a.object_id";
    let sessions = match of {
        TrailOf::Chart => None,
        TrailOf::Patient(_) => Some("SELECT id FROM sessions WHERE patient_id = ?1"),
        TrailOf::Session(_) => Some("SELECT id FROM sessions WHERE id = ?1"),
    };
    match sessions {
        None => format!(
            "SELECT {ROW} FROM audit a LEFT JOIN clinicians c ON c.id = a.clinician_id
             ORDER BY a.seq DESC LIMIT ?1"
        ),
        Some(sessions) => {
            let patient_rows = if matches!(of, TrailOf::Patient(_)) {
                "SELECT 'patient', ?1
                 UNION ALL SELECT 'patient-details', id FROM patient_details WHERE patient_id = ?1
                 UNION ALL SELECT 'course', id FROM courses WHERE patient_id = ?1
                 UNION ALL "
            } else {
                ""
            };
            format!(
                "{}
                 SELECT {ROW} FROM objects o
                 CROSS JOIN audit a ON a.object_kind = o.kind AND a.object_id = o.id
                 LEFT JOIN clinicians c ON c.id = a.clinician_id
                 ORDER BY a.seq DESC LIMIT ?2",
                objects(sessions, patient_rows)
            )
        }
    }
}

/// The rows about `of`, newest first, at most `limit`. Each kind of object is joined to the
/// audit rows through the `audit_object` index (CROSS JOIN keeps that order, as in
/// [`signed_trail_sql`]), so a patient's trail reads only their rows.
pub fn trail(
    conn: &Connection,
    of: TrailOf,
    limit: Option<u32>,
) -> rusqlite::Result<Vec<TrailRow>> {
    let sql = trail_sql(of);
    let limit = limit.map_or(-1, i64::from);
    let mut stmt = conn.prepare(&sql)?;
    let map = |r: &rusqlite::Row<'_>| {
        Ok(TrailRow {
            seq: r.get(0)?,
            at_ms: r.get(1)?,
            clinician_id: r.get(2)?,
            clinician: r.get(3)?,
            action: r.get(4)?,
            object_kind: r.get(5)?,
            object_id: r.get(6)?,
        })
    };
    let rows = match of {
        TrailOf::Chart => stmt.query_map(params![limit], map)?,
        TrailOf::Patient(id) | TrailOf::Session(id) => stmt.query_map(params![id, limit], map)?,
    };
    rows.collect()
}

impl crate::store::Chart {
    /// Records that the signed-in clinician looked at, exported or backed up part of the
    /// chart without changing it: one row in the same keyed chain as every write, so
    /// `verify` finds one removed like any other (ASTM E2147-18 audits views and exports
    /// too, with user, time and object: clinical.md section 5). One transaction, like
    /// every write; refused like every write on a read-only or damaged chart.
    pub fn record_access(
        &mut self,
        action: &str,
        kind: ObjectKind,
        id: i64,
        at: chrono::DateTime<chrono::FixedOffset>,
    ) -> crate::store::Result<()> {
        let clinician = self.clinician().id;
        self.write(|tx| {
            tx.record(at.timestamp_millis(), clinician, action, kind, id)?;
            Ok(())
        })
    }

    /// Records several reads at once (a search that showed several patients' records), in
    /// one transaction: all the rows or none.
    pub fn record_accesses(
        &mut self,
        rows: &[(&str, ObjectKind, i64)],
        at: chrono::DateTime<chrono::FixedOffset>,
    ) -> crate::store::Result<()> {
        let clinician = self.clinician().id;
        self.write(|tx| {
            for (action, kind, id) in rows {
                tx.record(at.timestamp_millis(), clinician, action, *kind, *id)?;
            }
            Ok(())
        })
    }

    /// The signed audit rows about a session, oldest first (see [`signed_trail`]).
    pub fn signed_session_trail(&self, session: i64) -> crate::store::Result<Vec<SignedTrailRow>> {
        signed_trail(&self.conn, session).map_err(|e| self.err(e))
    }

    /// How SQLite runs [`Chart::audit_trail`] of `of`, one line per step (for the test that
    /// holds it to the `audit_object` index).
    #[cfg(any(test, feature = "testing"))]
    pub fn audit_trail_plan(&self, of: TrailOf) -> crate::store::Result<Vec<String>> {
        let sql = format!("EXPLAIN QUERY PLAN {}", trail_sql(of));
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let bound: Vec<i64> = match of {
            TrailOf::Chart => vec![-1],
            TrailOf::Patient(id) | TrailOf::Session(id) => vec![id, -1],
        };
        let rows = stmt
            .query_map(rusqlite::params_from_iter(bound), |r| r.get::<_, String>(3))
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(|e| self.err(e))?;
        Ok(rows)
    }

    /// How SQLite runs [`Chart::signed_session_trail`], one line per step (for the test that
    /// holds it to the `audit_object` index).
    #[cfg(any(test, feature = "testing"))]
    pub fn signed_session_trail_plan(&self, session: i64) -> crate::store::Result<Vec<String>> {
        let sql = format!("EXPLAIN QUERY PLAN {}", signed_trail_sql());
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![session], |r| r.get::<_, String>(3))
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(|e| self.err(e))?;
        Ok(rows)
    }

    /// The audit rows about `of`, newest first (see [`trail`]).
    pub fn audit_trail(
        &self,
        of: TrailOf,
        limit: Option<u32>,
    ) -> crate::store::Result<Vec<TrailRow>> {
        trail(&self.conn, of, limit).map_err(|e| self.err(e))
    }
}
