//! The audit trail: one row per write, each hash covering the previous row's hash, the row's
//! own fields and a hash of the content it records. Changing an audit row, or a row it
//! records, behind kapchart's back breaks the chain, and `verify` names the first break.

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use sha2::{Digest, Sha256};

/// The `prev_hash` of the first audit row.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// What kind of row an audit entry records; its table and the columns hashed, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    Clinician,
    Patient,
    Session,
    Entry,
    PatientDetails,
    Course,
    Note,
    NoteDraft,
    NoteSignature,
    NoteAddendum,
}

impl ObjectKind {
    pub const ALL: [ObjectKind; 10] = [
        ObjectKind::Clinician,
        ObjectKind::Patient,
        ObjectKind::Session,
        ObjectKind::Entry,
        ObjectKind::PatientDetails,
        ObjectKind::Course,
        ObjectKind::Note,
        ObjectKind::NoteDraft,
        ObjectKind::NoteSignature,
        ObjectKind::NoteAddendum,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ObjectKind::Clinician => "clinician",
            ObjectKind::Patient => "patient",
            ObjectKind::Session => "session",
            ObjectKind::Entry => "entry",
            ObjectKind::PatientDetails => "patient-details",
            ObjectKind::Course => "course",
            ObjectKind::Note => "note",
            ObjectKind::NoteDraft => "note-draft",
            ObjectKind::NoteSignature => "note-signature",
            ObjectKind::NoteAddendum => "note-addendum",
        }
    }

    fn parse(s: &str) -> Option<ObjectKind> {
        ObjectKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn table(self) -> &'static str {
        match self {
            ObjectKind::Clinician => "clinicians",
            ObjectKind::Patient => "patients",
            ObjectKind::Session => "sessions",
            ObjectKind::Entry => "entries",
            ObjectKind::PatientDetails => "patient_details",
            ObjectKind::Course => "courses",
            ObjectKind::Note => "notes",
            ObjectKind::NoteDraft => "note_drafts",
            ObjectKind::NoteSignature => "note_signatures",
            ObjectKind::NoteAddendum => "note_addenda",
        }
    }

    fn columns(self) -> &'static str {
        match self {
            ObjectKind::Clinician => "id, name, created_at",
            ObjectKind::Patient => "id, name, dob, mrn, weight_kg, created_at, created_by",
            ObjectKind::Session => {
                "id, patient_id, kind, started_at, started_offset, clinician_id, intention, dosing_session_id"
            }
            ObjectKind::Entry => {
                "id, session_id, kind, payload, event_at, event_offset, recorded_at, recorded_offset, \
                 author_id, flags, corrects, correction, reason"
            }
            ObjectKind::PatientDetails => "id, patient_id, details, recorded_at, author_id",
            ObjectKind::Course => "id, patient_id, planned_dosing, goals, started_at, author_id",
            ObjectKind::Note => "id, dosing_session_id, format, created_at, author_id",
            ObjectKind::NoteDraft => "id, note_id, text, saved_at, author_id",
            ObjectKind::NoteSignature => {
                "id, note_id, text, sha256, signer_id, signed_at, signed_offset, reason"
            }
            ObjectKind::NoteAddendum => "id, note_id, text, sha256, author_id, at, at_offset",
        }
    }
}

/// SHA-256 of a stored row, read back from the table exactly as it is on disk. `None` when
/// the row does not exist.
pub fn content_hash(
    conn: &Connection,
    kind: ObjectKind,
    id: i64,
) -> rusqlite::Result<Option<String>> {
    let sql = format!(
        "SELECT {} FROM {} WHERE id = ?1",
        kind.columns(),
        kind.table()
    );
    conn.query_row(&sql, [id], |row| {
        let n = row.as_ref().column_count();
        let mut values = Vec::with_capacity(n);
        for i in 0..n {
            values.push(match row.get_ref(i)? {
                rusqlite::types::ValueRef::Null => serde_json::Value::Null,
                rusqlite::types::ValueRef::Integer(v) => v.into(),
                rusqlite::types::ValueRef::Real(v) => v.into(),
                rusqlite::types::ValueRef::Text(t) => {
                    String::from_utf8_lossy(t).into_owned().into()
                }
                rusqlite::types::ValueRef::Blob(b) => sha256_hex(b).into(),
            });
        }
        // A JSON array keeps field boundaries unambiguous.
        Ok(sha256_hex(
            serde_json::Value::Array(values).to_string().as_bytes(),
        ))
    })
    .optional()
}

/// The fields of one audit row that its hash covers.
pub struct AuditFields<'a> {
    pub seq: i64,
    pub at_ms: i64,
    pub clinician_id: Option<i64>,
    pub action: &'a str,
    pub object_kind: &'a str,
    pub object_id: i64,
    pub content_hash: &'a str,
    pub prev_hash: &'a str,
}

impl AuditFields<'_> {
    pub fn hash(&self) -> String {
        let clinician = self.clinician_id.map(|c| c.to_string()).unwrap_or_default();
        let text = serde_json::json!([
            self.prev_hash,
            self.seq,
            self.at_ms,
            clinician,
            self.action,
            self.object_kind,
            self.object_id,
            self.content_hash,
        ])
        .to_string();
        sha256_hex(text.as_bytes())
    }
}

/// Appends the audit row for a row just written in `tx`.
pub fn record(
    tx: &Transaction<'_>,
    at_ms: i64,
    clinician_id: Option<i64>,
    action: &str,
    kind: ObjectKind,
    object_id: i64,
) -> rusqlite::Result<()> {
    let (last_seq, prev_hash): (i64, String) = tx
        .query_row(
            "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
        .unwrap_or((0, GENESIS.to_string()));
    let content_hash =
        content_hash(tx, kind, object_id)?.ok_or(rusqlite::Error::QueryReturnedNoRows)?;
    let fields = AuditFields {
        seq: last_seq + 1,
        at_ms,
        clinician_id,
        action,
        object_kind: kind.as_str(),
        object_id,
        content_hash: &content_hash,
        prev_hash: &prev_hash,
    };
    tx.execute(
        "INSERT INTO audit (seq, at, clinician_id, action, object_kind, object_id, content_hash, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            fields.seq,
            at_ms,
            clinician_id,
            action,
            fields.object_kind,
            object_id,
            content_hash,
            prev_hash,
            fields.hash()
        ],
    )?;
    Ok(())
}

/// The first place where the audit trail does not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Break {
    /// The sequence number of the first bad audit row, or of the row after which the
    /// trail breaks off.
    pub seq: i64,
    pub why: String,
}

/// Walks the whole chain, then checks that every stored row is covered by it.
pub fn walk(conn: &Connection) -> rusqlite::Result<(i64, Option<Break>)> {
    let mut stmt = conn.prepare(
        "SELECT seq, at, clinician_id, action, object_kind, object_id, content_hash, prev_hash, hash
         FROM audit ORDER BY seq",
    )?;
    let mut rows = stmt.query([])?;
    let mut expected_prev = GENESIS.to_string();
    let mut expected_seq = 1;
    let mut count = 0;
    while let Some(row) = rows.next()? {
        let seq: i64 = row.get(0)?;
        let object_kind: String = row.get(4)?;
        let object_id: i64 = row.get(5)?;
        let stored_content: String = row.get(6)?;
        let prev_hash: String = row.get(7)?;
        let hash: String = row.get(8)?;
        let fields = AuditFields {
            seq,
            at_ms: row.get(1)?,
            clinician_id: row.get(2)?,
            action: &row.get::<_, String>(3)?,
            object_kind: &object_kind,
            object_id,
            content_hash: &stored_content,
            prev_hash: &prev_hash,
        };
        let broken = |why: String| Ok((count, Some(Break { seq, why })));
        if seq != expected_seq {
            return broken(format!(
                "expected audit row {expected_seq} here, found {seq} (rows missing)"
            ));
        }
        if prev_hash != expected_prev {
            return broken("does not follow from the row before it".into());
        }
        if fields.hash() != hash {
            return broken("its own fields were changed".into());
        }
        let Some(kind) = ObjectKind::parse(&object_kind) else {
            return broken(format!("records an unknown kind of row '{object_kind}'"));
        };
        match content_hash(conn, kind, object_id)? {
            None => return broken(format!("{object_kind} {object_id} is missing")),
            Some(h) if h != stored_content => {
                return broken(format!(
                    "{object_kind} {object_id} was changed after it was written"
                ));
            }
            Some(_) => {}
        }
        expected_prev = hash;
        expected_seq += 1;
        count += 1;
    }
    // Every row must be in the trail: a row slipped in behind kapchart's back is not.
    for kind in ObjectKind::ALL {
        let sql = format!(
            "SELECT t.id FROM {} t WHERE NOT EXISTS
               (SELECT 1 FROM audit a WHERE a.object_kind = ?1 AND a.object_id = t.id)
             ORDER BY t.id LIMIT 1",
            kind.table()
        );
        let stray: Option<i64> = conn
            .query_row(&sql, [kind.as_str()], |r| r.get(0))
            .optional()?;
        if let Some(id) = stray {
            return Ok((
                count,
                Some(Break {
                    seq: count,
                    why: format!(
                        "{} {id} is not in the audit trail (written behind kapchart's back)",
                        kind.as_str()
                    ),
                }),
            ));
        }
    }
    Ok((count, None))
}
