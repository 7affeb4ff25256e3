//! A signed note's Ed25519 signature as exports carry it, with every field of the signed
//! message (`domain::signature`), so a reader can rebuild the message and check the signature
//! outside kapchart: in FHIR as an extension on the note's attachment, in the printed report
//! as a line under the note's SHA-256.

use crate::domain::course::{Addendum, Note, Signature};
use crate::domain::signature::{Ed25519Seal, Signed, Statement, base64, signed_at_text};
use chrono::Utc;
use serde_json::{Value, json};

/// Extension on a note's or addendum's attachment: the signer's Ed25519 signature and what it
/// covers. Sub-extensions: `messageVersion` (1), `message` (the first line of the message,
/// naming its format), `noteId`, `addendumId` (addenda), `signerClinicianId`, `signerName`,
/// `signer` (the Practitioner), `publicKey` and `signature` (base64), `signedAt` (UTC to the
/// millisecond, as in the message) and `reason` (notes signed with items open). The text's
/// SHA-256 is the attachment's own (`data`, and the sha256 extension).
pub const ED25519_EXTENSION: &str =
    "https://kapchart.org/fhir/StructureDefinition/ed25519-signature";

/// The statement a note's signature covers, as the note holds it.
pub(crate) fn note_statement<'a>(note: &Note, sig: &'a Signature, key: [u8; 32]) -> Statement<'a> {
    Statement {
        signed: Signed::Note { note: note.id },
        text_sha256: &sig.sha256,
        signer_id: sig.signer_id,
        signer_name: &sig.signer,
        signer_key: key,
        signed_at: sig.signed.with_timezone(&Utc),
        reason: sig.reason.as_deref(),
    }
}

/// The statement an addendum's signature covers.
pub(crate) fn addendum_statement<'a>(note: &Note, a: &'a Addendum, key: [u8; 32]) -> Statement<'a> {
    Statement {
        signed: Signed::Addendum {
            note: note.id,
            addendum: a.id,
        },
        text_sha256: &a.sha256,
        signer_id: a.author_id,
        signer_name: &a.author,
        signer_key: key,
        signed_at: a.at.with_timezone(&Utc),
        reason: None,
    }
}

/// The FHIR extension of one signature (see [`ED25519_EXTENSION`]).
pub(crate) fn fhir_extension(s: &Statement<'_>, seal: &Ed25519Seal, signer: Value) -> Value {
    let first_line = match s.signed {
        Signed::Note { .. } => "kapchart note signature v1",
        Signed::Addendum { .. } => "kapchart addendum signature v1",
    };
    let mut parts = vec![
        json!({ "url": "messageVersion", "valueInteger": seal.message_version }),
        json!({ "url": "message", "valueString": first_line }),
    ];
    match s.signed {
        Signed::Note { note } => parts.push(json!({ "url": "noteId", "valueInteger": note })),
        Signed::Addendum { note, addendum } => {
            parts.push(json!({ "url": "noteId", "valueInteger": note }));
            parts.push(json!({ "url": "addendumId", "valueInteger": addendum }));
        }
    }
    parts.extend([
        json!({ "url": "signerClinicianId", "valueInteger": s.signer_id }),
        json!({ "url": "signerName", "valueString": s.signer_name }),
        json!({ "url": "signer", "valueReference": signer }),
        json!({ "url": "publicKey", "valueBase64Binary": base64(&seal.public_key) }),
        json!({ "url": "signature", "valueBase64Binary": base64(&seal.signature) }),
        json!({ "url": "signedAt", "valueInstant": signed_at_text(s.signed_at) }),
    ]);
    if let Some(r) = s.reason {
        parts.push(json!({ "url": "reason", "valueString": r }));
    }
    json!({ "url": ED25519_EXTENSION, "extension": parts })
}

/// The report's line for a signature: the message format and the fields a reader needs
/// beyond those the report shows beside it; then the signature and the key (base64).
pub(crate) fn report_parts(s: &Statement<'_>, seal: &Ed25519Seal) -> (String, String, String) {
    let (what, ids) = match s.signed {
        Signed::Note { note } => ("note", format!("note {note}")),
        Signed::Addendum { note, addendum } => {
            ("addendum", format!("note {note}, addendum {addendum}"))
        }
    };
    (
        format!(
            "Ed25519 signature (message \"kapchart {what} signature v{}\": {ids}, signer-id {}, signed-at {}): ",
            seal.message_version,
            s.signer_id,
            signed_at_text(s.signed_at)
        ),
        base64(&seal.signature),
        base64(&seal.public_key),
    )
}

/// What the report says of a note or addendum signed before Ed25519 signatures.
pub(crate) const NO_ED25519: &str = "No Ed25519 signature: signed before kapchart signed with clinicians' keys (its SHA-256 locks it).";
