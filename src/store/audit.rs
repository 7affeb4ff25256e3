//! The audit trail: one row per write, each hash covering the previous row's hash, the row's
//! own fields and a hash of the content it records. Changing an audit row, or a row it
//! records, behind kapchart's back breaks the chain, and `verify` names the first break.
//!
//! From schema v4 the chain is keyed: each hash is an HMAC-SHA256 under the chart's chain key,
//! a random secret stored (encrypted, like every row) inside the chart itself. Rows alone,
//! copied out of the chart, cannot be re-chained without it. Charts written before v4 keep
//! their plain SHA-256 rows; the key's own audit row starts the keyed part and pins it.

mod trail;
mod walk;

pub use trail::{SignedTrailRow, TrailOf, TrailRow, signed_trail, trail};
pub use walk::{Break, RowSignatures, Walk, signed_from, walk, walk_after};

use hmac::{Hmac, KeyInit, Mac};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// The `prev_hash` of the first audit row.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Lower-case hex of `bytes`. Every audit row's hash and content hash goes through here,
/// on every write and for every row `verify` walks, so no formatter per byte.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0x0f)] as char);
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
    ChainKey,
    /// The chart as a whole, as a backup copies it: its id is the sequence number of the
    /// audit row the copy ends at, and its content that row's hash. Not a table of its own,
    /// so not in [`ObjectKind::ALL`].
    Chart,
    TeamMember,
    TeamRemoval,
    Ed25519Signature,
    /// An admin's certificate of a team member's public keys.
    TeamCertificate,
    /// A restore: who, when, from which backup head, what was set aside.
    Restore,
    /// An admin's acknowledgement of damage found, after which writes go on.
    DamageAcknowledgement,
    /// A stock record (receipt, open, keep, count, inventory, strike).
    Stock,
    /// A container a receipt brought in.
    StockContainer,
    /// A movement of a container.
    StockMovement,
    /// A clinician's NPI or clinic staff id, as an admin recorded it.
    ClinicianIdentifier,
}

impl ObjectKind {
    pub const ALL: [ObjectKind; 21] = [
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
        ObjectKind::ChainKey,
        ObjectKind::TeamMember,
        ObjectKind::TeamRemoval,
        ObjectKind::Ed25519Signature,
        ObjectKind::TeamCertificate,
        ObjectKind::Restore,
        ObjectKind::DamageAcknowledgement,
        ObjectKind::Stock,
        ObjectKind::StockContainer,
        ObjectKind::StockMovement,
        ObjectKind::ClinicianIdentifier,
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
            ObjectKind::ChainKey => "chain-key",
            ObjectKind::Chart => "chart",
            ObjectKind::TeamMember => "team-member",
            ObjectKind::TeamRemoval => "team-removal",
            ObjectKind::Ed25519Signature => "ed25519-signature",
            ObjectKind::TeamCertificate => "team-certificate",
            ObjectKind::Restore => "restore",
            ObjectKind::DamageAcknowledgement => "damage-acknowledgement",
            ObjectKind::Stock => "stock",
            ObjectKind::StockContainer => "stock-container",
            ObjectKind::StockMovement => "stock-movement",
            ObjectKind::ClinicianIdentifier => "clinician-identifier",
        }
    }

    fn parse(s: &str) -> Option<ObjectKind> {
        ObjectKind::ALL
            .into_iter()
            .chain([ObjectKind::Chart])
            .find(|k| k.as_str() == s)
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
            ObjectKind::ChainKey => "chain_key",
            ObjectKind::Chart => "audit",
            ObjectKind::TeamMember => "team_members",
            ObjectKind::TeamRemoval => "team_removals",
            ObjectKind::Ed25519Signature => "ed25519_signatures",
            ObjectKind::TeamCertificate => "team_certificates",
            ObjectKind::Restore => "restores",
            ObjectKind::DamageAcknowledgement => "damage_acknowledgements",
            ObjectKind::Stock => "stock",
            ObjectKind::StockContainer => "stock_containers",
            ObjectKind::StockMovement => "stock_movements",
            ObjectKind::ClinicianIdentifier => "clinician_identifiers",
        }
    }

    /// The column that identifies a row of the kind's table.
    fn key(self) -> &'static str {
        match self {
            ObjectKind::Chart => "seq",
            _ => "id",
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
            // The secret enters as its SHA-256 (blobs are hashed), never as itself.
            ObjectKind::ChainKey => "id, secret, keyed_from, created_at",
            ObjectKind::Chart => "seq, hash",
            ObjectKind::TeamMember => {
                "id, clinician_id, role, credentials, x25519_public, ed25519_public, added_at, added_by"
            }
            ObjectKind::TeamRemoval => "id, clinician_id, removed_at, removed_by, reason",
            ObjectKind::Ed25519Signature => {
                "id, note_signature_id, addendum_id, message_version, signer_public, signature"
            }
            ObjectKind::TeamCertificate => {
                "id, member_id, certified_by, message_version, signature"
            }
            ObjectKind::Restore => {
                "id, at, by_id, backup_head, replaced_head, set_aside, reason, removals_applied, id_floors"
            }
            ObjectKind::DamageAcknowledgement => "id, at, by_id, problems, reason",
            ObjectKind::Stock => {
                "id, kind, payload, event_at, event_offset, recorded_at, recorded_offset, author_id, strikes, reason"
            }
            ObjectKind::StockContainer => "id, receipt_id, number, drug, lot, content_mg",
            ObjectKind::StockMovement => {
                "id, container_id, kind, change_mg, event_at, event_offset, author_id, entry_id, stock_id, note"
            }
            ObjectKind::ClinicianIdentifier => {
                "id, clinician_id, kind, value, recorded_at, author_id"
            }
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
        "SELECT {} FROM {} WHERE {} = ?1",
        kind.columns(),
        kind.table(),
        kind.key()
    );
    // Cached: every write seals its row, so this runs once per entry.
    conn.prepare_cached(&sql)?
        .query_row([id], |row| {
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
    /// The row's hash: HMAC-SHA256 under the chain key from the row that starts the keyed
    /// part, plain SHA-256 before it (rows written before schema v4) or without a key.
    pub fn hash(&self, key: Option<&ChainKey>) -> String {
        self.hash_of_text(&self.text(), key)
    }

    /// The row's fields as its hash and its signature cover them: a JSON array of the
    /// previous row's hash, the sequence number, the time (UTC milliseconds), the
    /// clinician's id (as text, empty for none), the action, the object's kind and id, and
    /// the SHA-256 of the object's row.
    pub fn text(&self) -> String {
        let clinician = self.clinician_id.map(|c| c.to_string()).unwrap_or_default();
        serde_json::json!([
            self.prev_hash,
            self.seq,
            self.at_ms,
            clinician,
            self.action,
            self.object_kind,
            self.object_id,
            self.content_hash,
        ])
        .to_string()
    }

    fn hash_of_text(&self, text: &str, key: Option<&ChainKey>) -> String {
        match key {
            Some(k) if self.seq >= k.keyed_from => k.hmac_hex(text.as_bytes()),
            _ => sha256_hex(text.as_bytes()),
        }
    }
}

/// The chart's chain key: 32 random bytes kept inside the encrypted chart, and the first
/// audit sequence number it keys. Wiped from memory when dropped.
pub struct ChainKey {
    secret: Zeroizing<Vec<u8>>,
    pub keyed_from: i64,
}

impl ChainKey {
    fn hmac_hex(&self, bytes: &[u8]) -> String {
        // HMAC takes a key of any length; 32 bytes are always accepted.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.secret) else {
            return sha256_hex(bytes);
        };
        mac.update(bytes);
        hex(&mac.finalize().into_bytes())
    }
}

/// The chain key, or `None` in a chart that has none (before schema v4, or when it was
/// removed behind kapchart's back).
pub fn chain_key(conn: &Connection) -> rusqlite::Result<Option<ChainKey>> {
    let exists: bool = conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'chain_key')",
        )?
        .query_row([], |r| r.get(0))?;
    if !exists {
        return Ok(None);
    }
    conn.prepare_cached("SELECT secret, keyed_from FROM chain_key ORDER BY id LIMIT 1")?
        .query_row([], |r| {
            Ok(ChainKey {
                secret: Zeroizing::new(r.get(0)?),
                keyed_from: r.get(1)?,
            })
        })
        .optional()
}

/// Creates the chain key (in the migration to schema v4) and records it as the first keyed
/// audit row: every row before it stays plain SHA-256 and is pinned by this one's HMAC.
pub fn install_chain_key(tx: &Transaction<'_>, at_ms: i64) -> rusqlite::Result<()> {
    let mut secret = Zeroizing::new(vec![0u8; 32]);
    getrandom::fill(&mut secret).map_err(|e| {
        rusqlite::Error::ToSqlConversionFailure(Box::new(std::io::Error::other(format!(
            "no randomness for the chain key: {e}"
        ))))
    })?;
    let keyed_from: i64 = tx.query_row("SELECT coalesce(max(seq), 0) + 1 FROM audit", [], |r| {
        r.get(0)
    })?;
    tx.execute(
        "INSERT INTO chain_key (id, secret, keyed_from, created_at) VALUES (1, ?1, ?2, ?3)",
        params![secret.as_slice(), keyed_from, at_ms],
    )?;
    record_unsigned(tx, at_ms, None, "chain.key", ObjectKind::ChainKey, 1)
}

/// The newest audit row: what a backup or export was made at, and what `verify --head`
/// looks for later.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Head {
    pub seq: i64,
    pub hash: String,
}

impl std::fmt::Display for Head {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.seq, self.hash)
    }
}

impl std::str::FromStr for Head {
    type Err = String;

    fn from_str(s: &str) -> Result<Head, String> {
        let expected =
            "expected SEQ:HASH, e.g. 42:9f86d0...(64 hex digits), as `kapchart verify` prints it";
        let (seq, hash) = s
            .trim()
            .split_once(':')
            .ok_or_else(|| expected.to_string())?;
        let seq = seq
            .parse::<i64>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("'{seq}' is not a sequence number; {expected}"))?;
        let hash = hash.to_ascii_lowercase();
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!("the hash is not 64 hex digits; {expected}"));
        }
        Ok(Head { seq, hash })
    }
}

/// The newest audit row, if any.
pub fn head(conn: &Connection) -> rusqlite::Result<Option<Head>> {
    conn.query_row(
        "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
        [],
        |r| {
            Ok(Head {
                seq: r.get(0)?,
                hash: r.get(1)?,
            })
        },
    )
    .optional()
}

/// The hash stored at `seq`, if that row exists.
pub fn hash_at(conn: &Connection, seq: i64) -> rusqlite::Result<Option<String>> {
    conn.query_row("SELECT hash FROM audit WHERE seq = ?1", [seq], |r| r.get(0))
        .optional()
}

/// Appends the audit row for a row just written in `tx`, unsigned: the rows kapchart wrote
/// before the chart began signing (the chain key's, in its migration), and tests that build
/// such charts. Every other write signs its row (`record_signed`).
pub fn record_unsigned(
    tx: &Transaction<'_>,
    at_ms: i64,
    clinician_id: Option<i64>,
    action: &str,
    kind: ObjectKind,
    object_id: i64,
) -> rusqlite::Result<()> {
    append(tx, None, at_ms, clinician_id, action, kind, object_id)
}

/// Appends the audit row for a row just written in `tx`, signed with `key`, the key of
/// `clinician_id` (`store::chain`).
pub fn record_signed(
    tx: &Transaction<'_>,
    key: &ed25519_dalek::SigningKey,
    at_ms: i64,
    clinician_id: i64,
    action: &str,
    kind: ObjectKind,
    object_id: i64,
) -> rusqlite::Result<()> {
    append(
        tx,
        Some(key),
        at_ms,
        Some(clinician_id),
        action,
        kind,
        object_id,
    )
}

fn append(
    tx: &Transaction<'_>,
    key: Option<&ed25519_dalek::SigningKey>,
    at_ms: i64,
    clinician_id: Option<i64>,
    action: &str,
    kind: ObjectKind,
    object_id: i64,
) -> rusqlite::Result<()> {
    // Every statement here is cached: one audit row per write, so compiling them per row
    // was a large part of a line's commit (BENCHMARKS.md section 1).
    let (last_seq, prev_hash): (i64, String) = tx
        .prepare_cached("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .unwrap_or((0, GENESIS.to_string()));
    let content_hash =
        content_hash(tx, kind, object_id)?.ok_or(rusqlite::Error::QueryReturnedNoRows)?;
    let chain = chain_key(tx)?;
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
    let text = fields.text();
    let hash = fields.hash_of_text(&text, chain.as_ref());
    match key {
        Some(k) => {
            let signature = super::chain::sign_row(k, &fields);
            tx.prepare_cached(
                "INSERT INTO audit (seq, at, clinician_id, action, object_kind, object_id, content_hash, prev_hash, hash, signature)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?
            .execute(params![
                fields.seq,
                at_ms,
                clinician_id,
                action,
                fields.object_kind,
                object_id,
                content_hash,
                prev_hash,
                hash,
                signature.as_slice()
            ])?;
        }
        // Unsigned rows are written by migrations too, before the signature column exists.
        None => {
            tx.prepare_cached(
                "INSERT INTO audit (seq, at, clinician_id, action, object_kind, object_id, content_hash, prev_hash, hash)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(params![
                fields.seq,
                at_ms,
                clinician_id,
                action,
                fields.object_kind,
                object_id,
                content_hash,
                prev_hash,
                hash
            ])?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_lower_case_hex_of_the_digest() {
        // FIPS 180-2, appendix B.1: SHA-256("abc").
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(hex(&[0x00, 0x0f, 0xf0, 0xff]), "000ff0ff");
    }
}
