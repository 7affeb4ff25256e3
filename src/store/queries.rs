//! Reading and appending patients, sessions and entries.

mod home;

pub use home::HomeScan;

use super::audit::ObjectKind;
use super::existing::{self, Second};
use super::{Chart, Result, StoreError, WriteError, from_stored, to_stored};
use crate::domain::text;
use crate::domain::{
    Correction, Entry, EntryId, Flag, Patient, PatientId, Payload, Session, SessionId, SessionKind,
};
use chrono::{DateTime, FixedOffset, NaiveDate};
use rusqlite::{OptionalExtension, Row, params};

#[derive(Debug, Clone, PartialEq)]
pub struct NewPatient {
    pub name: String,
    pub dob: NaiveDate,
    pub mrn: Option<String>,
    pub weight_kg: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewSession {
    pub patient_id: PatientId,
    pub kind: SessionKind,
    pub started: DateTime<FixedOffset>,
    pub intention: Option<String>,
    pub dosing_session_id: Option<SessionId>,
}

/// An entry about to be written. Its author is the chart's clinician.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEntry {
    pub payload: Payload,
    pub event_time: DateTime<FixedOffset>,
    pub recorded_time: DateTime<FixedOffset>,
    pub flags: Vec<Flag>,
    /// The entry this one amends or strikes, how, and why.
    pub corrects: Option<(EntryId, Correction, String)>,
}

const SESSION_COLUMNS: &str = "s.id, s.patient_id, s.kind, s.started_at, s.started_offset, c.name, \
     s.intention, s.dosing_session_id, \
     (SELECT e.event_at || ' ' || e.event_offset FROM entries e \
        WHERE e.session_id = s.id AND e.kind = 'session-end' \
          AND NOT EXISTS (SELECT 1 FROM entries x WHERE x.corrects = e.id) \
        ORDER BY e.event_at DESC LIMIT 1)";

/// Whether a write reads back the entries it stored, for a screen to take in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReadBack {
    Yes,
    No,
}

const ENTRY_COLUMNS: &str = "e.id, e.session_id, e.payload, e.event_at, e.event_offset, \
     e.recorded_at, e.recorded_offset, c.name, e.flags, e.corrects, e.correction, e.reason";

fn session_from_row(r: &Row<'_>) -> rusqlite::Result<Session> {
    let kind: String = r.get(2)?;
    let ended: Option<String> = r.get(8)?;
    Ok(Session {
        id: r.get(0)?,
        patient_id: r.get(1)?,
        kind: kind.parse().map_err(|e: String| {
            rusqlite::Error::FromSqlConversionFailure(2, rusqlite::types::Type::Text, e.into())
        })?,
        started: from_stored(r.get(3)?, r.get(4)?),
        ended: ended.and_then(|s| {
            let (ms, off) = s.split_once(' ')?;
            Some(from_stored(ms.parse().ok()?, off.parse().ok()?))
        }),
        clinician: r.get(5)?,
        intention: r.get(6)?,
        dosing_session_id: r.get(7)?,
    })
}

fn entry_from_row(r: &Row<'_>) -> rusqlite::Result<Entry> {
    let payload: String = r.get(2)?;
    let flags: String = r.get(8)?;
    let correction: Option<String> = r.get(10)?;
    let id = r.get(0)?;
    Ok(Entry {
        id,
        session_id: r.get(1)?,
        // A payload that no longer decodes is shown as such, with the rest of its session
        // (`verify` names it): it does not make the whole session unreadable.
        payload: serde_json::from_str(&payload).unwrap_or(Payload::Unreadable(id)),
        event_time: from_stored(r.get(3)?, r.get(4)?),
        recorded_time: from_stored(r.get(5)?, r.get(6)?),
        author: r.get(7)?,
        flags: serde_json::from_str(&flags).unwrap_or_default(),
        corrects: r.get(9)?,
        correction: correction.as_deref().map(|c| match c {
            "strike" => Correction::Strike,
            _ => Correction::Amend,
        }),
        reason: r.get(11)?,
    })
}

impl Chart {
    /// Adds a patient; refused with the patient who exists when one has the same name,
    /// date of birth and MRN (`Second::Meant` adds a second record for them anyway).
    pub fn add_patient(&mut self, p: &NewPatient, now: DateTime<FixedOffset>) -> Result<PatientId> {
        self.add_patient_record(p, Second::Refuse, now)
    }

    pub fn add_patient_record(
        &mut self,
        p: &NewPatient,
        second: Second,
        now: DateTime<FixedOffset>,
    ) -> Result<PatientId> {
        if p.name.trim().is_empty() {
            return Err(StoreError::Invalid(
                "the patient's name must not be empty".into(),
            ));
        }
        let name = super::clean_name(&p.name)?;
        if let Some(mrn) = &p.mrn {
            super::check_text(text::MRN, mrn)?;
        }
        if let Some(w) = p.weight_kg
            && !(w.is_finite() && w > 0.0 && w < 700.0)
        {
            return Err(StoreError::Invalid(format!(
                "weight {w} kg is not plausible; expected kilograms between 0 and 700, e.g. --weight 72.5"
            )));
        }
        let clinician = self.clinician.id;
        let mrn = p.mrn.as_deref().map(str::trim).filter(|m| !m.is_empty());
        self.write(|tx| {
            if second == Second::Refuse {
                existing::same_patient(tx, &name, p.dob, mrn)?;
            }
            tx.execute(
                "INSERT INTO patients (id, name, dob, mrn, weight_kg, created_at, created_by)
                 VALUES ((SELECT max(coalesce((SELECT max(id) FROM patients), 0), coalesce((SELECT max(CAST(json_extract(id_floors, '$.patients') AS INTEGER)) FROM restores), 0)) + 1), ?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    name,
                    p.dob.format("%Y-%m-%d").to_string(),
                    mrn,
                    p.weight_kg,
                    now.timestamp_millis(),
                    clinician
                ],
            )?;
            let id = tx.last_insert_rowid();
            tx.record(
                now.timestamp_millis(),
                clinician,
                "patient.add",
                ObjectKind::Patient,
                id,
            )?;
            Ok(id)
        })
    }

    pub fn patients(&self) -> Result<Vec<Patient>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, name, dob, mrn, weight_kg FROM patients ORDER BY name COLLATE NOCASE, id")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], patient_from_row)
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(|e| self.err(e))?;
        Ok(rows)
    }

    /// A patient as they stand now: the weight is the latest one recorded.
    pub fn patient(&self, id: PatientId) -> Result<Patient> {
        let mut patient = self
            .conn
            .prepare_cached("SELECT id, name, dob, mrn, weight_kg FROM patients WHERE id = ?1")
            .and_then(|mut stmt| stmt.query_row([id], patient_from_row).optional())
            .map_err(|e| self.err(e))?
            .ok_or(StoreError::NotFound {
                what: "patient",
                id,
            })?;
        let latest: Option<Option<f64>> = self
            .conn
            .prepare_cached(
                "SELECT json_extract(details, '$.weight_kg') FROM patient_details
                 WHERE patient_id = ?1 ORDER BY id DESC LIMIT 1",
            )
            .and_then(|mut stmt| stmt.query_row([id], |r| r.get(0)).optional())
            .map_err(|e| self.err(e))?;
        if let Some(weight) = latest {
            patient.weight_kg = weight;
        }
        Ok(patient)
    }

    /// Starts a session; a dosing session is refused while the patient has one open
    /// (`Second::Meant` opens a second one anyway).
    pub fn start_session(
        &mut self,
        s: &NewSession,
        now: DateTime<FixedOffset>,
    ) -> Result<SessionId> {
        self.start_session_record(s, Second::Refuse, now)
    }

    pub fn start_session_record(
        &mut self,
        s: &NewSession,
        second: Second,
        now: DateTime<FixedOffset>,
    ) -> Result<SessionId> {
        if let Some(intention) = &s.intention {
            super::check_text(text::INTENTION, intention)?;
        }
        self.patient(s.patient_id)?;
        match (s.kind, s.dosing_session_id) {
            (SessionKind::Integration, None) => {
                return Err(StoreError::Invalid(
                    "an integration session needs the dosing session it integrates, e.g. --dosing 12".into(),
                ));
            }
            (SessionKind::Integration, Some(d)) => {
                let dosing = self.session(d)?;
                if dosing.kind != SessionKind::Dosing || dosing.patient_id != s.patient_id {
                    return Err(StoreError::Invalid(format!(
                        "session {d} is not a dosing session of patient {}",
                        s.patient_id
                    )));
                }
            }
            (_, Some(_)) => {
                return Err(StoreError::Invalid(
                    "only an integration session links to a dosing session (--dosing)".into(),
                ));
            }
            (_, None) => {}
        }
        if s.intention.is_some() && s.kind != SessionKind::Dosing {
            return Err(StoreError::Invalid(format!(
                "an intention belongs to a dosing session, not a {} session",
                s.kind
            )));
        }
        let clinician = self.clinician.id;
        let (at, offset) = to_stored(s.started);
        self.write(|tx| {
            if s.kind == SessionKind::Dosing && second == Second::Refuse {
                existing::open_dosing_session(tx, s.patient_id)?;
            }
            tx.execute(
                "INSERT INTO sessions (id, patient_id, kind, started_at, started_offset, clinician_id, intention, dosing_session_id)
                 VALUES ((SELECT max(coalesce((SELECT max(id) FROM sessions), 0), coalesce((SELECT max(CAST(json_extract(id_floors, '$.sessions') AS INTEGER)) FROM restores), 0)) + 1), ?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    s.patient_id,
                    s.kind.as_str(),
                    at,
                    offset,
                    clinician,
                    s.intention.as_deref().map(str::trim).filter(|i| !i.is_empty()),
                    s.dosing_session_id
                ],
            )?;
            let id = tx.last_insert_rowid();
            tx.record(now.timestamp_millis(), clinician, "session.start", ObjectKind::Session, id)?;
            Ok(id)
        })
    }

    pub fn session(&self, id: SessionId) -> Result<Session> {
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM sessions s JOIN clinicians c ON c.id = s.clinician_id WHERE s.id = ?1"
        );
        self.conn
            .prepare_cached(&sql)
            .and_then(|mut stmt| stmt.query_row([id], session_from_row).optional())
            .map_err(|e| self.err(e))?
            .ok_or(StoreError::NotFound {
                what: "session",
                id,
            })
    }

    /// Sessions, newest first; all, or one patient's.
    pub fn sessions(&self, patient: Option<PatientId>) -> Result<Vec<Session>> {
        // Two statements, not `?1 IS NULL OR ...`: SQLite cannot use the patient index
        // through that OR, and one patient's list would scan every session in the chart.
        let filter = if patient.is_some() {
            "WHERE s.patient_id = ?1"
        } else {
            "WHERE ?1 IS NULL"
        };
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM sessions s JOIN clinicians c ON c.id = s.clinician_id
             {filter} ORDER BY s.started_at DESC, s.id DESC"
        );
        let mut stmt = self.conn.prepare_cached(&sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([patient], session_from_row)
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(|e| self.err(e))?;
        Ok(rows)
    }

    /// Refused with `NotFound` unless the session exists (an index lookup, without reading
    /// the session's end).
    fn require_session(&self, id: SessionId) -> Result<()> {
        let exists: bool = self
            .conn
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM sessions WHERE id = ?1)")
            .and_then(|mut stmt| stmt.query_row([id], |r| r.get(0)))
            .map_err(|e| self.err(e))?;
        if exists {
            Ok(())
        } else {
            Err(StoreError::NotFound {
                what: "session",
                id,
            })
        }
    }

    /// Every entry of a session, history included, in event-time order.
    pub fn entries(&self, session: SessionId) -> Result<Vec<Entry>> {
        #[cfg(test)]
        super::reads::count_session_read();
        entries_in(&self.conn, session).map_err(|e| self.err(e))
    }

    /// The entries of a session of the given kinds, with every correction among its entries
    /// (amendments and strikes, whatever their kind), in event-time order: what
    /// `SessionChart::for_planning` needs to plan a line, without decoding the rest.
    pub fn entries_of_kinds(&self, session: SessionId, kinds: &[&str]) -> Result<Vec<Entry>> {
        let mut listed = String::new();
        for kind in kinds {
            if kind.is_empty() || !kind.bytes().all(|b| b.is_ascii_lowercase() || b == b'-') {
                return Err(StoreError::Invalid(format!(
                    "'{kind}' is not an entry kind"
                )));
            }
            if !listed.is_empty() {
                listed.push_str(", ");
            }
            listed.push_str(&format!("'{kind}'"));
        }
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM entries e JOIN clinicians c ON c.id = e.author_id
             WHERE e.session_id = ?1 AND (e.corrects IS NOT NULL OR e.kind IN ({listed}))
             ORDER BY e.event_at, e.id"
        );
        let mut stmt = self.conn.prepare_cached(&sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([session], entry_from_row)
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(|e| self.err(e))?;
        Ok(rows)
    }

    /// [`Chart::entries_of_kinds`] for several sessions in one statement, by session (a
    /// session with none of them is left out).
    pub fn entries_of_kinds_in(
        &self,
        sessions: &[SessionId],
        kinds: &[&str],
    ) -> Result<std::collections::HashMap<SessionId, Vec<Entry>>> {
        let mut out: std::collections::HashMap<SessionId, Vec<Entry>> =
            std::collections::HashMap::new();
        if sessions.is_empty() {
            return Ok(out);
        }
        for kind in kinds {
            if kind.is_empty() || !kind.bytes().all(|b| b.is_ascii_lowercase() || b == b'-') {
                return Err(StoreError::Invalid(format!(
                    "'{kind}' is not an entry kind"
                )));
            }
        }
        let listed = kinds
            .iter()
            .map(|k| format!("'{k}'"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM entries e JOIN clinicians c ON c.id = e.author_id
             WHERE e.session_id IN (SELECT value FROM json_each(?1))
               AND (e.corrects IS NOT NULL OR e.kind IN ({listed}))
             ORDER BY e.event_at, e.id"
        );
        let ids = serde_json::Value::from(sessions.to_vec()).to_string();
        let mut stmt = self.conn.prepare_cached(&sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([ids], entry_from_row)
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(|e| self.err(e))?;
        for e in rows {
            out.entry(e.session_id).or_default().push(e);
        }
        Ok(out)
    }

    /// Every entry of every session of a patient, history included, in event-time order.
    pub fn entries_of_patient(&self, patient: PatientId) -> Result<Vec<Entry>> {
        #[cfg(test)]
        super::reads::count_patient_read();
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM entries e JOIN clinicians c ON c.id = e.author_id
             JOIN sessions s ON s.id = e.session_id
             WHERE s.patient_id = ?1 ORDER BY e.event_at, e.id"
        );
        let mut stmt = self.conn.prepare_cached(&sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([patient], entry_from_row)
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(|e| self.err(e))?;
        Ok(rows)
    }

    pub fn entry(&self, id: EntryId) -> Result<Entry> {
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM entries e JOIN clinicians c ON c.id = e.author_id WHERE e.id = ?1"
        );
        self.conn
            .prepare_cached(&sql)
            .and_then(|mut stmt| stmt.query_row([id], entry_from_row).optional())
            .map_err(|e| self.err(e))?
            .ok_or(StoreError::NotFound { what: "entry", id })
    }

    /// Appends entries to a session in one durable transaction, with an audit row each.
    /// Corrections are checked against the chart inside the same transaction.
    pub fn append(&mut self, session: SessionId, entries: &[NewEntry]) -> Result<Vec<EntryId>> {
        // No read-back: a line charted from the command line (or the commit bench) has no
        // screen to hand the stored entries to, and each read-back costs a statement.
        self.append_entries(session, entries, ReadBack::No)
            .map(|(ids, _)| ids)
    }

    /// [`Chart::append`], handing back the entries as the chart now holds them (ids, author,
    /// times, flags, corrections), read back by id in the same transaction: what a screen
    /// takes in after its own write instead of reading the whole session again.
    pub fn append_stored(
        &mut self,
        session: SessionId,
        entries: &[NewEntry],
    ) -> Result<Vec<Entry>> {
        self.append_entries(session, entries, ReadBack::Yes)
            .map(|(_, stored)| stored)
    }

    fn append_entries(
        &mut self,
        session: SessionId,
        entries: &[NewEntry],
        read_back: ReadBack,
    ) -> Result<(Vec<EntryId>, Vec<Entry>)> {
        for e in entries {
            if matches!(e.payload, Payload::Witness(_)) {
                return Err(StoreError::Invalid(
                    "a witness is recorded by the witness signing in (kapchart witness ENTRY, or w on the timeline), not as a line".into(),
                ));
            }
            if let Some((_, _, reason)) = &e.corrects {
                super::check_text(text::REASON, reason)?;
            }
            let payload = serde_json::to_value(&e.payload)
                .map_err(|err| StoreError::Invalid(format!("cannot store entry: {err}")))?;
            text::check_all_strings(text::ENTRY_TEXT, &payload)
                .map_err(|err| StoreError::Invalid(err.to_string()))?;
        }
        self.require_session(session)?;
        let author = self.clinician.id;
        self.write(|tx| {
            let mut ids = Vec::with_capacity(entries.len());
            for e in entries {
                if let Some((target, how, _)) = &e.corrects {
                    check_correctable(tx, session, *target, *how)?;
                }
                let (event_at, event_offset) = to_stored(e.event_time);
                let (recorded_at, recorded_offset) = to_stored(e.recorded_time);
                let payload = serde_json::to_string(&e.payload)
                    .map_err(|err| StoreError::Invalid(format!("cannot store entry: {err}")))?;
                let flags = serde_json::to_string(&e.flags)
                    .map_err(|err| StoreError::Invalid(format!("cannot store flags: {err}")))?;
                let (corrects, correction, reason) = match &e.corrects {
                    Some((id, how, reason)) => (Some(*id), Some(how.as_str()), Some(reason.trim())),
                    None => (None, None, None),
                };
                tx.prepare_cached(
                    "INSERT INTO entries (id, session_id, kind, payload, event_at, event_offset, recorded_at,
                        recorded_offset, author_id, flags, corrects, correction, reason)
                     VALUES ((SELECT max(coalesce((SELECT max(id) FROM entries), 0), coalesce((SELECT max(CAST(json_extract(id_floors, '$.entries') AS INTEGER)) FROM restores), 0)) + 1), ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                )?
                .execute(params![
                        session,
                        e.payload.kind(),
                        payload,
                        event_at,
                        event_offset,
                        recorded_at,
                        recorded_offset,
                        author,
                        flags,
                        corrects,
                        correction,
                        reason
                    ],
                )?;
                let id = tx.last_insert_rowid();
                super::stock::draw_for_entry(
                    tx,
                    id,
                    &e.payload,
                    corrects.zip(reason),
                    e.event_time,
                    author,
                    recorded_at,
                )?;
                super::search_index::index_entry(
                    tx,
                    id,
                    &e.payload,
                    corrects.zip(reason),
                )?;
                let action = match correction {
                    Some("amend") => "entry.amend",
                    Some(_) => "entry.strike",
                    None if matches!(e.payload, Payload::SessionEnd(_)) => "session.end",
                    None => "entry.add",
                };
                tx.record(recorded_at, author, action, ObjectKind::Entry, id)?;
                ids.push(id);
            }
            if read_back == ReadBack::No {
                return Ok((ids, Vec::new()));
            }
            let sql = format!(
                "SELECT {ENTRY_COLUMNS} FROM entries e JOIN clinicians c ON c.id = e.author_id WHERE e.id = ?1"
            );
            let mut read = tx.prepare_cached(&sql)?;
            let stored = ids
                .iter()
                .map(|id| read.query_row([id], entry_from_row))
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok((ids, stored))
        })
    }

    /// How many entries the chart holds, corrections included.
    pub fn entry_count(&self) -> Result<i64> {
        self.conn
            .query_row("SELECT count(*) FROM entries", [], |r| r.get(0))
            .map_err(|e| self.err(e))
    }
}

/// Every entry of a session, history included, in event-time order (also inside a write).
pub(super) fn entries_in(
    conn: &rusqlite::Connection,
    session: SessionId,
) -> rusqlite::Result<Vec<Entry>> {
    let sql = format!(
        "SELECT {ENTRY_COLUMNS} FROM entries e JOIN clinicians c ON c.id = e.author_id
         WHERE e.session_id = ?1 ORDER BY e.event_at, e.id"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    stmt.query_map([session], entry_from_row)?.collect()
}

pub(super) fn patient_from_row(r: &Row<'_>) -> rusqlite::Result<Patient> {
    let dob: String = r.get(2)?;
    Ok(Patient {
        id: r.get(0)?,
        name: r.get(1)?,
        dob: NaiveDate::parse_from_str(&dob, "%Y-%m-%d").map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(2, rusqlite::types::Type::Text, Box::new(e))
        })?,
        mrn: r.get(3)?,
        weight_kg: r.get(4)?,
    })
}

/// A correction may only target a current entry of the same session that can be corrected.
fn check_correctable(
    tx: &rusqlite::Transaction<'_>,
    session: SessionId,
    target: EntryId,
    how: Correction,
) -> std::result::Result<(), WriteError> {
    let found: Option<(SessionId, String)> = tx
        .query_row(
            "SELECT session_id, kind FROM entries WHERE id = ?1",
            [target],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((target_session, kind)) = found else {
        return Err(StoreError::NotFound {
            what: "entry",
            id: target,
        }
        .into());
    };
    if target_session != session {
        return Err(StoreError::Invalid(format!(
            "entry {target} belongs to session {target_session}, not session {session}"
        ))
        .into());
    }
    let corrected: Option<(EntryId, String)> = tx
        .query_row(
            "SELECT id, correction FROM entries WHERE corrects = ?1",
            [target],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    if let Some((by, how_before)) = corrected {
        let verb = if how_before == "strike" {
            "struck"
        } else {
            "amended"
        };
        return Err(StoreError::Invalid(format!(
            "entry {target} was already {verb} by entry {by}; correct entry {by} instead"
        ))
        .into());
    }
    match (kind.as_str(), how) {
        ("strike", _) => Err(StoreError::Invalid(format!(
            "entry {target} is a strike; to restore what it withdrew, enter it again"
        ))
        .into()),
        ("session-end", Correction::Amend) => Err(StoreError::Invalid(format!(
            "entry {target} ends the session; strike it to reopen the session"
        ))
        .into()),
        _ => Ok(()),
    }
}
