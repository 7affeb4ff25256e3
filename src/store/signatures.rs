//! Signatures that name who: each note signature and addendum carries its signer's Ed25519
//! signature over the signed statement (`domain::signature`), stored with the public key it
//! was made with in `ed25519_signatures`. Written in the signing transaction; checked by
//! `verify` against the text, the signer the row names and the key the chart recorded for
//! them when they joined the team.

use super::audit::{ObjectKind, sha256_hex};
use super::{Chart, Result, from_stored};
use crate::domain::signature::{Ed25519Seal, MESSAGE_VERSION, Signed, Statement};
use chrono::Utc;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use rusqlite::{OptionalExtension, Transaction, params};
use std::collections::BTreeMap;

/// Which row a seal belongs to.
#[derive(Debug, Clone, Copy)]
pub(super) enum SealOf {
    NoteSignature(i64),
    Addendum(i64),
}

/// Signs `statement` with `key` and stores the signature, with its public key, for the row
/// `of`, plus its audit row: inside the transaction that writes that row.
pub(super) fn seal(
    tx: &super::Tx<'_>,
    key: &SigningKey,
    statement: &Statement<'_>,
    of: SealOf,
    at_ms: i64,
) -> rusqlite::Result<()> {
    let signature = key.sign(&statement.message_v1());
    let (note_signature, addendum) = match of {
        SealOf::NoteSignature(id) => (Some(id), None),
        SealOf::Addendum(id) => (None, Some(id)),
    };
    tx.execute(
        "INSERT INTO ed25519_signatures
           (note_signature_id, addendum_id, message_version, signer_public, signature)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            note_signature,
            addendum,
            MESSAGE_VERSION,
            statement.signer_key.to_vec(),
            signature.to_bytes().to_vec()
        ],
    )?;
    let id = tx.last_insert_rowid();
    tx.record(
        at_ms,
        statement.signer_id,
        "note.ed25519",
        ObjectKind::Ed25519Signature,
        id,
    )?;
    Ok(())
}

/// The signer's name as the chart records it, which is what `verify` rebuilds the message
/// with.
pub(super) fn name_of(tx: &Transaction<'_>, clinician: i64) -> rusqlite::Result<String> {
    tx.query_row(
        "SELECT name FROM clinicians WHERE id = ?1",
        [clinician],
        |r| r.get(0),
    )
}

/// A stored seal; `None` when its key or signature is not the right length (which `verify`
/// reports).
fn seal_from(version: u32, public: Vec<u8>, signature: Vec<u8>) -> Option<Ed25519Seal> {
    Some(Ed25519Seal {
        message_version: version,
        public_key: public.try_into().ok()?,
        signature: signature.try_into().ok()?,
    })
}

/// One signed row as `verify` reads it: what, its text, who the row names, and its seal.
struct SignedRow {
    what: String,
    signed: Signed,
    text: String,
    signer_id: i64,
    signer_name: Option<String>,
    signed_at_ms: i64,
    reason: Option<String>,
    seal: Option<(u32, Vec<u8>, Vec<u8>)>,
    /// Whether it was signed after the chart began sealing signatures.
    must_be_sealed: bool,
}

/// What `verify` found about the Ed25519 signatures.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignatureCheck {
    /// Per signer (clinician id, name): the notes and addenda whose signature verified.
    pub signers: BTreeMap<(i64, String), (usize, usize)>,
    /// Note signatures and addenda from before kapchart sealed them (SHA-256 only).
    pub sha256_only: usize,
    /// One line per signature that did not verify, naming the note or addendum.
    pub problems: Vec<String>,
}

impl Chart {
    /// The seal of a note signature row or addendum row, if it has one.
    pub(super) fn seal_of(&self, of: SealOf) -> Result<Option<Ed25519Seal>> {
        let (sql, id) = match of {
            SealOf::NoteSignature(id) => (
                "SELECT message_version, signer_public, signature FROM ed25519_signatures
                 WHERE note_signature_id = ?1",
                id,
            ),
            SealOf::Addendum(id) => (
                "SELECT message_version, signer_public, signature FROM ed25519_signatures
                 WHERE addendum_id = ?1",
                id,
            ),
        };
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| self.err(e))?;
        let row = stmt
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(row.and_then(|(v, p, s)| seal_from(v, p, s)))
    }

    /// Checks every note signature and addendum: its text against its SHA-256 is
    /// `broken_signatures`'; here, that its Ed25519 signature verifies over the statement
    /// rebuilt from the chart (with the signer the row names), that the key it was made with
    /// is the one the chart recorded for that signer, and that nothing signed since the
    /// chart began sealing lacks a seal.
    pub fn check_ed25519_signatures(&self) -> Result<SignatureCheck> {
        let mut check = SignatureCheck::default();
        let recorded: BTreeMap<i64, [u8; 32]> = self
            .team_members()?
            .into_iter()
            .map(|m| (m.id, m.signing_public))
            .collect();
        // Row by row: a ten-year chart's signed texts are not held at once.
        self.each_signed_row(&mut |row| {
            let Some((version, public, signature)) = &row.seal else {
                if row.must_be_sealed {
                    check.problems.push(format!(
                        "{}: its Ed25519 signature is missing (it was signed after the chart began signing with clinicians' keys)",
                        row.what
                    ));
                } else {
                    check.sha256_only += 1;
                }
                return;
            };
            match check_row(
                &row,
                *version,
                public,
                signature,
                recorded.get(&row.signer_id),
            ) {
                Ok(()) => {
                    let who = (row.signer_id, row.signer_name.clone().unwrap_or_default());
                    let counts = check.signers.entry(who).or_default();
                    match row.signed {
                        Signed::Note { .. } => counts.0 += 1,
                        Signed::Addendum { .. } => counts.1 += 1,
                    }
                }
                Err(why) => check.problems.push(format!("{}: {why}", row.what)),
            }
        })?;
        Ok(check)
    }

    /// Every signed note and addendum, one at a time, to `f` (streamed: none is kept).
    fn each_signed_row(&self, f: &mut dyn FnMut(SignedRow)) -> Result<()> {
        let err = |e| self.err(e);
        let (from_signature, from_addendum): (i64, i64) = self
            .conn
            .query_row(
                "SELECT note_signature_id, addendum_id FROM ed25519_signatures_from WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(err)?
            .unwrap_or((i64::MAX, i64::MAX));
        let mut stmt = self
            .conn
            .prepare(
                "SELECT s.id, s.note_id, s.text, s.signer_id, c.name, s.signed_at, s.reason,
                        e.message_version, e.signer_public, e.signature
                 FROM note_signatures s
                 LEFT JOIN clinicians c ON c.id = s.signer_id
                 LEFT JOIN ed25519_signatures e ON e.note_signature_id = s.id
                 ORDER BY s.id",
            )
            .map_err(err)?;
        let mut rows = stmt.query([]).map_err(err)?;
        while let Some(r) = rows.next().map_err(err)? {
            let row = (|| -> rusqlite::Result<SignedRow> {
                let id: i64 = r.get(0)?;
                let note: i64 = r.get(1)?;
                Ok(SignedRow {
                    what: format!("signed note {note}"),
                    signed: Signed::Note { note },
                    text: r.get(2)?,
                    signer_id: r.get(3)?,
                    signer_name: r.get(4)?,
                    signed_at_ms: r.get(5)?,
                    reason: r.get(6)?,
                    seal: seal_parts(r.get(7)?, r.get(8)?, r.get(9)?),
                    must_be_sealed: id > from_signature,
                })
            })()
            .map_err(err)?;
            f(row);
        }
        drop(rows);
        let mut stmt = self
            .conn
            .prepare(
                "SELECT a.id, a.note_id, a.text, a.author_id, c.name, a.at,
                        e.message_version, e.signer_public, e.signature
                 FROM note_addenda a
                 LEFT JOIN clinicians c ON c.id = a.author_id
                 LEFT JOIN ed25519_signatures e ON e.addendum_id = a.id
                 ORDER BY a.id",
            )
            .map_err(err)?;
        let mut rows = stmt.query([]).map_err(err)?;
        while let Some(r) = rows.next().map_err(err)? {
            let row = (|| -> rusqlite::Result<SignedRow> {
                let id: i64 = r.get(0)?;
                let note: i64 = r.get(1)?;
                Ok(SignedRow {
                    what: format!("addendum {id} to note {note}"),
                    signed: Signed::Addendum { note, addendum: id },
                    text: r.get(2)?,
                    signer_id: r.get(3)?,
                    signer_name: r.get(4)?,
                    signed_at_ms: r.get(5)?,
                    reason: None,
                    seal: seal_parts(r.get(6)?, r.get(7)?, r.get(8)?),
                    must_be_sealed: id > from_addendum,
                })
            })()
            .map_err(err)?;
            f(row);
        }
        Ok(())
    }
}

fn seal_parts(
    version: Option<u32>,
    public: Option<Vec<u8>>,
    signature: Option<Vec<u8>>,
) -> Option<(u32, Vec<u8>, Vec<u8>)> {
    Some((version?, public?, signature?))
}

/// Checks one signed row's Ed25519 signature; `recorded` is the key the chart recorded for
/// the signer the row names.
fn check_row(
    row: &SignedRow,
    version: u32,
    public: &[u8],
    signature: &[u8],
    recorded: Option<&[u8; 32]>,
) -> std::result::Result<(), String> {
    let Some(name) = &row.signer_name else {
        return Err(format!(
            "its signer, clinician {}, is not in the chart",
            row.signer_id
        ));
    };
    let who = format!("{name} (clinician {})", row.signer_id);
    let key: [u8; 32] = public
        .try_into()
        .map_err(|_| "its stored public key is not 32 bytes".to_string())?;
    let hash = sha256_hex(row.text.as_bytes());
    let statement = Statement {
        signed: row.signed,
        text_sha256: &hash,
        signer_id: row.signer_id,
        signer_name: name,
        signer_key: key,
        signed_at: from_stored(row.signed_at_ms, 0).with_timezone(&Utc),
        reason: row.reason.as_deref(),
    };
    let message = statement.message(version).ok_or_else(|| {
        format!("its signature uses message version {version}, which this kapchart does not know")
    })?;
    match recorded {
        None => {
            return Err(format!(
                "its signer {who} has no signing key recorded in the chart's team"
            ));
        }
        Some(k) if *k != key => {
            return Err(format!(
                "it was signed with a key that is not the one the chart recorded for {who}"
            ));
        }
        Some(_) => {}
    }
    let verifying = VerifyingKey::from_bytes(&key)
        .map_err(|_| "its stored public key is not a valid Ed25519 key".to_string())?;
    let signature = Signature::from_slice(signature)
        .map_err(|_| "its stored signature is not 64 bytes".to_string())?;
    verifying.verify(&message, &signature).map_err(|_| {
        format!(
            "its Ed25519 signature does not verify for {who} over its text, signer and time as the chart holds them now"
        )
    })
}
