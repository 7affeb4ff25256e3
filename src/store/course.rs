//! Patient details, courses and integration notes in the chart.

use super::audit::{ObjectKind, sha256_hex};
use super::signatures::{self, SealOf};
use super::{Chart, Result, Second, StoreError, from_stored, to_stored};
use crate::domain::course::{Addendum, Course, Draft, Note, NoteId, PatientDetails, Signature};
use crate::domain::signature::{Signed, Statement};
use crate::domain::{PatientId, SessionId, SessionKind, text};
use chrono::{DateTime, FixedOffset, Utc};
use rusqlite::{OptionalExtension, params};

impl Chart {
    /// Records a new version of a patient's details (the whole set, as it now stands).
    pub fn update_patient_details(
        &mut self,
        patient: PatientId,
        details: &PatientDetails,
        now: DateTime<FixedOffset>,
    ) -> Result<i64> {
        self.patient(patient)?;
        if let Some(w) = details.weight_kg
            && !(w.is_finite() && w > 0.0 && w < 700.0)
        {
            return Err(StoreError::Invalid(format!(
                "weight {w} kg is not plausible; expected kilograms between 0 and 700"
            )));
        }
        for contact in [&details.emergency_contact, &details.ride_contact]
            .into_iter()
            .flatten()
        {
            super::check_text(text::CONTACT, contact)?;
        }
        if let Some(address) = &details.address {
            super::check_text(text::ADDRESS, address)?;
        }
        for medication in &details.medications {
            super::check_text(text::MEDICATION, medication)?;
        }
        let json = serde_json::to_string(details)
            .map_err(|e| StoreError::Invalid(format!("cannot store details: {e}")))?;
        let author = self.clinician.id;
        self.write(|tx| {
            tx.execute(
                "INSERT INTO patient_details (id, patient_id, details, recorded_at, author_id) VALUES ((SELECT max(coalesce((SELECT max(id) FROM patient_details), 0), coalesce((SELECT max(CAST(json_extract(id_floors, '$.patient_details') AS INTEGER)) FROM restores), 0)) + 1), ?1, ?2, ?3, ?4)",
                params![patient, json, now.timestamp_millis(), author],
            )?;
            let id = tx.last_insert_rowid();
            tx.record(now.timestamp_millis(), author, "patient.details", ObjectKind::PatientDetails, id)?;
            Ok(id)
        })
    }

    /// A patient's details as they stand: the latest version, or what intake recorded.
    pub fn patient_details(&self, patient: PatientId) -> Result<PatientDetails> {
        let p = self.patient(patient)?;
        let latest: Option<String> = self
            .conn
            .query_row(
                "SELECT details FROM patient_details WHERE patient_id = ?1 ORDER BY id DESC LIMIT 1",
                [patient],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        match latest {
            Some(json) => serde_json::from_str(&json).map_err(|e| {
                StoreError::Invalid(format!("patient {patient} details unreadable: {e}"))
            }),
            None => Ok(PatientDetails {
                weight_kg: p.weight_kg,
                ..Default::default()
            }),
        }
    }

    /// Every version of a patient's medication list, oldest first, each with when it was
    /// recorded (UTC): what the list was after each change of their details.
    pub fn medication_versions(
        &self,
        patient: PatientId,
    ) -> Result<Vec<(DateTime<FixedOffset>, Vec<String>)>> {
        self.patient(patient)?;
        let mut stmt = self
            .conn
            .prepare(
                "SELECT recorded_at, details FROM patient_details WHERE patient_id = ?1 ORDER BY id",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([patient], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (ms, json) = row.map_err(|e| self.err(e))?;
            let details: PatientDetails = serde_json::from_str(&json).map_err(|e| {
                StoreError::Invalid(format!("patient {patient} details unreadable: {e}"))
            })?;
            out.push((super::from_stored(ms, 0), details.medications));
        }
        Ok(out)
    }

    /// Starts the patient's course; refused with the course that stands when there is one
    /// (`Second::Meant` starts a new course in its place; the earlier one stays in the chart).
    pub fn start_course(
        &mut self,
        patient: PatientId,
        planned_dosing: u32,
        goals: &[String],
        now: DateTime<FixedOffset>,
    ) -> Result<i64> {
        self.start_course_record(patient, planned_dosing, goals, Second::Refuse, now)
    }

    pub fn start_course_record(
        &mut self,
        patient: PatientId,
        planned_dosing: u32,
        goals: &[String],
        second: Second,
        now: DateTime<FixedOffset>,
    ) -> Result<i64> {
        self.patient(patient)?;
        if planned_dosing == 0 || planned_dosing > 50 {
            return Err(StoreError::Invalid(format!(
                "{planned_dosing} planned dosing sessions is not plausible; expected 1 to 50 (usually about 6)"
            )));
        }
        for goal in goals {
            super::check_text(text::GOAL, goal)?;
        }
        let goals: Vec<&str> = goals
            .iter()
            .map(|g| g.trim())
            .filter(|g| !g.is_empty())
            .collect();
        let goals = serde_json::to_string(&goals).unwrap_or_else(|_| "[]".into());
        let author = self.clinician.id;
        self.write(|tx| {
            if second == Second::Refuse {
                super::existing::course(tx, patient)?;
            }
            tx.execute(
                "INSERT INTO courses (id, patient_id, planned_dosing, goals, started_at, author_id) VALUES ((SELECT max(coalesce((SELECT max(id) FROM courses), 0), coalesce((SELECT max(CAST(json_extract(id_floors, '$.courses') AS INTEGER)) FROM restores), 0)) + 1), ?1, ?2, ?3, ?4, ?5)",
                params![patient, planned_dosing, goals, now.timestamp_millis(), author],
            )?;
            let id = tx.last_insert_rowid();
            tx.record(now.timestamp_millis(), author, "course.start", ObjectKind::Course, id)?;
            Ok(id)
        })
    }

    /// The patient's current (latest) course.
    pub fn course(&self, patient: PatientId) -> Result<Option<Course>> {
        self.conn
            .query_row(
                "SELECT id, patient_id, planned_dosing, goals, started_at FROM courses
                 WHERE patient_id = ?1 ORDER BY id DESC LIMIT 1",
                [patient],
                |r| {
                    let goals: String = r.get(3)?;
                    Ok(Course {
                        id: r.get(0)?,
                        patient_id: r.get(1)?,
                        planned_dosing: r.get(2)?,
                        goals: serde_json::from_str(&goals).unwrap_or_default(),
                        started: from_stored(r.get(4)?, 0),
                    })
                },
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// The integration note of a dosing session, creating it (without text) when there is
    /// none. Returns the note and whether it was created now.
    pub fn note_for_dosing(
        &mut self,
        dosing: SessionId,
        format: &str,
        now: DateTime<FixedOffset>,
    ) -> Result<(Note, bool)> {
        let session = self.session(dosing)?;
        if session.kind != SessionKind::Dosing {
            return Err(StoreError::Invalid(format!(
                "session {dosing} is {} session; integration notes belong to dosing sessions",
                crate::domain::with_article(session.kind.as_str())
            )));
        }
        if let Some(id) = self.note_id_for(dosing)? {
            return Ok((self.note(id)?, false));
        }
        let author = self.clinician.id;
        let id = self.write(|tx| {
            tx.execute(
                "INSERT INTO notes (id, dosing_session_id, format, created_at, author_id) VALUES ((SELECT max(coalesce((SELECT max(id) FROM notes), 0), coalesce((SELECT max(CAST(json_extract(id_floors, '$.notes') AS INTEGER)) FROM restores), 0)) + 1), ?1, ?2, ?3, ?4)",
                params![dosing, format, now.timestamp_millis(), author],
            )?;
            let id = tx.last_insert_rowid();
            tx.record(now.timestamp_millis(), author, "note.create", ObjectKind::Note, id)?;
            Ok(id)
        })?;
        Ok((self.note(id)?, true))
    }

    pub fn note_id_for(&self, dosing: SessionId) -> Result<Option<NoteId>> {
        self.conn
            .query_row(
                "SELECT id FROM notes WHERE dosing_session_id = ?1",
                [dosing],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Every note of a patient, oldest first.
    pub fn notes_of_patient(&self, patient: PatientId) -> Result<Vec<Note>> {
        let ids: Vec<NoteId> = {
            let mut stmt = self
                .conn
                .prepare_cached(
                    "SELECT n.id FROM notes n JOIN sessions s ON s.id = n.dosing_session_id
                     WHERE s.patient_id = ?1 ORDER BY s.started_at, n.id",
                )
                .map_err(|e| self.err(e))?;
            stmt.query_map([patient], |r| r.get(0))
                .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
                .map_err(|e| self.err(e))?
        };
        ids.into_iter().map(|id| self.note(id)).collect()
    }

    pub fn note(&self, id: NoteId) -> Result<Note> {
        let err = |e| self.err(e);
        let head = self
            .conn
            .query_row(
                "SELECT n.id, n.dosing_session_id, n.format, n.created_at, c.name
                 FROM notes n JOIN clinicians c ON c.id = n.author_id WHERE n.id = ?1",
                [id],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, String>(4)?,
                    ))
                },
            )
            .optional()
            .map_err(err)?
            .ok_or(StoreError::NotFound { what: "note", id })?;
        let offset = self.session(head.1)?.started.offset().local_minus_utc();
        let draft = self
            .conn
            .query_row(
                "SELECT text, saved_at FROM note_drafts WHERE note_id = ?1 ORDER BY id DESC LIMIT 1",
                [id],
                |r| {
                    Ok(Draft {
                        text: r.get(0)?,
                        saved: from_stored(r.get(1)?, offset),
                    })
                },
            )
            .optional()
            .map_err(err)?;
        let signature = self
            .conn
            .query_row(
                "SELECT s.text, s.sha256, c.name, s.signer_id, s.signed_at, s.signed_offset, s.reason, s.id
                 FROM note_signatures s JOIN clinicians c ON c.id = s.signer_id WHERE s.note_id = ?1",
                [id],
                |r| {
                    Ok((
                        Signature {
                            text: r.get(0)?,
                            sha256: r.get(1)?,
                            signer: r.get(2)?,
                            signer_id: r.get(3)?,
                            signed: from_stored(r.get(4)?, r.get(5)?),
                            reason: r.get(6)?,
                            ed25519: None,
                        },
                        r.get::<_, i64>(7)?,
                    ))
                },
            )
            .optional()
            .map_err(err)?;
        let signature = match signature {
            Some((mut s, row)) => {
                s.ed25519 = self.seal_of(SealOf::NoteSignature(row))?;
                Some(s)
            }
            None => None,
        };
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT a.id, a.text, a.sha256, c.name, a.author_id, a.at, a.at_offset
                 FROM note_addenda a JOIN clinicians c ON c.id = a.author_id
                 WHERE a.note_id = ?1 ORDER BY a.id",
            )
            .map_err(err)?;
        let addenda = stmt
            .query_map([id], |r| {
                Ok(Addendum {
                    id: r.get(0)?,
                    text: r.get(1)?,
                    sha256: r.get(2)?,
                    author: r.get(3)?,
                    author_id: r.get(4)?,
                    at: from_stored(r.get(5)?, r.get(6)?),
                    ed25519: None,
                })
            })
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(err)?;
        let addenda = addenda
            .into_iter()
            .map(|mut a| {
                a.ed25519 = self.seal_of(SealOf::Addendum(a.id))?;
                Ok(a)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Note {
            id: head.0,
            dosing_session_id: head.1,
            format: head.2,
            created: from_stored(head.3, offset),
            author: head.4,
            draft,
            signature,
            addenda,
        })
    }

    /// Saves a new version of a note's draft. Refused once the note is signed.
    pub fn save_draft(
        &mut self,
        note: NoteId,
        text: &str,
        now: DateTime<FixedOffset>,
    ) -> Result<i64> {
        super::check_text(text::NOTE, text)?;
        let current = self.note(note)?;
        if current.is_signed() {
            return Err(StoreError::Invalid(format!(
                "note {note} is signed and cannot change; add an addendum instead"
            )));
        }
        let author = self.clinician.id;
        self.write(|tx| {
            tx.execute(
                "INSERT INTO note_drafts (id, note_id, text, saved_at, author_id) VALUES ((SELECT max(coalesce((SELECT max(id) FROM note_drafts), 0), coalesce((SELECT max(CAST(json_extract(id_floors, '$.note_drafts') AS INTEGER)) FROM restores), 0)) + 1), ?1, ?2, ?3, ?4)",
                params![note, text, now.timestamp_millis(), author],
            )?;
            let id = tx.last_insert_rowid();
            super::search_index::index_note(tx, note, text)?;
            tx.record(now.timestamp_millis(), author, "note.draft", ObjectKind::NoteDraft, id)?;
            Ok(id)
        })
    }

    /// Signs the note's latest draft: the text, signer, time and its SHA-256 are locked.
    /// The rules about when a note may be signed are the caller's (see `notes::sign`).
    pub fn sign_note(
        &mut self,
        note: NoteId,
        reason: Option<&str>,
        now: DateTime<FixedOffset>,
    ) -> Result<Signature> {
        let current = self.note(note)?;
        if let Some(s) = &current.signature {
            return Err(StoreError::Invalid(format!(
                "note {note} was already signed by {} at {}",
                s.signer,
                s.signed.format("%Y-%m-%d %H:%M")
            )));
        }
        // Refused before anything is written on a chart without team keys (not yet upgraded).
        let key = self.signing_key()?.clone();
        let text = current.draft.map(|d| d.text).unwrap_or_default();
        if text.trim().is_empty() {
            return Err(StoreError::Invalid(format!(
                "note {note} has no text to sign"
            )));
        }
        let hash = sha256_hex(text.as_bytes());
        let signer = self.clinician.id;
        let (at, offset) = to_stored(now);
        let reason = reason.map(str::trim).filter(|r| !r.is_empty());
        if let Some(r) = reason {
            super::check_text(text::REASON, r)?;
        }
        self.write(|tx| {
            tx.execute(
                "INSERT INTO note_signatures (id, note_id, text, sha256, signer_id, signed_at, signed_offset, reason)
                 VALUES ((SELECT max(coalesce((SELECT max(id) FROM note_signatures), 0), coalesce((SELECT max(CAST(json_extract(id_floors, '$.note_signatures') AS INTEGER)) FROM restores), 0)) + 1), ?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![note, text, hash, signer, at, offset, reason],
            )?;
            let id = tx.last_insert_rowid();
            super::search_index::index_note(tx, note, &text)?;
            tx.record(at, signer, "note.sign", ObjectKind::NoteSignature, id)?;
            let signer_name = signatures::name_of(tx, signer)?;
            let statement = Statement {
                signed: Signed::Note { note },
                text_sha256: &hash,
                signer_id: signer,
                signer_name: &signer_name,
                signer_key: key.verifying_key().to_bytes(),
                signed_at: from_stored(at, 0).with_timezone(&Utc),
                reason,
            };
            signatures::seal(tx, &key, &statement, SealOf::NoteSignature(id), at)?;
            Ok(())
        })?;
        self.note(note)?
            .signature
            .ok_or_else(|| StoreError::Invalid("the signature was not stored".into()))
    }

    /// Adds an addendum to a signed note, with its own author, time and SHA-256.
    pub fn add_addendum(
        &mut self,
        note: NoteId,
        text: &str,
        now: DateTime<FixedOffset>,
    ) -> Result<Addendum> {
        let current = self.note(note)?;
        if !current.is_signed() {
            return Err(StoreError::Invalid(format!(
                "note {note} is not signed yet: edit the draft; addenda follow a signature"
            )));
        }
        let key = self.signing_key()?.clone();
        let text = text.trim();
        if text.is_empty() {
            return Err(StoreError::Invalid("an addendum needs text".into()));
        }
        super::check_text(text::ADDENDUM, text)?;
        let hash = sha256_hex(text.as_bytes());
        let author = self.clinician.id;
        let (at, offset) = to_stored(now);
        let id = self.write(|tx| {
            tx.execute(
                "INSERT INTO note_addenda (id, note_id, text, sha256, author_id, at, at_offset) VALUES ((SELECT max(coalesce((SELECT max(id) FROM note_addenda), 0), coalesce((SELECT max(CAST(json_extract(id_floors, '$.note_addenda') AS INTEGER)) FROM restores), 0)) + 1), ?1, ?2, ?3, ?4, ?5, ?6)",
                params![note, text, hash, author, at, offset],
            )?;
            let id = tx.last_insert_rowid();
            super::search_index::index_addendum(tx, id, text)?;
            tx.record(at, author, "note.addendum", ObjectKind::NoteAddendum, id)?;
            let author_name = signatures::name_of(tx, author)?;
            let statement = Statement {
                signed: Signed::Addendum { note, addendum: id },
                text_sha256: &hash,
                signer_id: author,
                signer_name: &author_name,
                signer_key: key.verifying_key().to_bytes(),
                signed_at: from_stored(at, 0).with_timezone(&Utc),
                reason: None,
            };
            signatures::seal(tx, &key, &statement, SealOf::Addendum(id), at)?;
            Ok(id)
        })?;
        self.note(note)?
            .addenda
            .into_iter()
            .find(|a| a.id == id)
            .ok_or_else(|| StoreError::Invalid("the addendum was not stored".into()))
    }

    /// Signed texts and addenda whose SHA-256 no longer matches: (what, id).
    pub fn broken_signatures(&self) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for (table, what) in [
            ("note_signatures", "signed note"),
            ("note_addenda", "addendum"),
        ] {
            let column = if table == "note_signatures" {
                "note_id"
            } else {
                "id"
            };
            let mut stmt = self
                .conn
                .prepare(&format!(
                    "SELECT {column}, text, sha256 FROM {table} ORDER BY id"
                ))
                .map_err(|e| self.err(e))?;
            // Row by row: a ten-year chart's signed texts are not held at once.
            let mut rows = stmt.query([]).map_err(|e| self.err(e))?;
            while let Some(r) = rows.next().map_err(|e| self.err(e))? {
                let id: i64 = r.get(0).map_err(|e| self.err(e))?;
                let text: String = r.get(1).map_err(|e| self.err(e))?;
                let hash: String = r.get(2).map_err(|e| self.err(e))?;
                if sha256_hex(text.as_bytes()) != hash {
                    out.push(format!("{what} {id}"));
                }
            }
        }
        Ok(out)
    }
}
