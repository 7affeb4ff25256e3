//! Each session's Provenance (https://hl7.org/fhir/R4/provenance.html): who wrote the
//! session's record, with the signatures that prove it, checkable with nothing but the
//! Provenance itself.
//!
//! - `target`: the session's resources (its Encounter, Observations, MedicationAdministrations,
//!   questionnaires, its note's DocumentReferences, ...), not the Observations of protocol
//!   checks missed, which no one wrote and which change with the export time.
//! - `recorded`: when the session's newest signed audit row was written (from the record,
//!   never the export time: an unchanged session gives the same Provenance, so a second sync
//!   sends nothing).
//! - `agent`: each clinician who wrote a signed row of the session, type `author`, `who` their
//!   Practitioner, their Ed25519 public key (base64, 32 bytes) in [`AGENT_KEY_EXTENSION`].
//! - `signature`: one per signed audit row of the session's writes (entries, corrections,
//!   witnesses, the session's start and end, the note's drafts, signature and addenda), type
//!   ASTM E1762-95 "Author's Signature" (system `urn:iso-astm:E1762-95:2013`, code
//!   `1.2.840.10065.1.12.1.1`: the R4 Signature Type Codes value set,
//!   https://hl7.org/fhir/R4/valueset-signature-type.html), `when` the row's time (UTC, to
//!   the millisecond the row holds), `who` the author, `data` the 64-byte Ed25519 signature
//!   (RFC 8032 section 5.1.6) in base64, `sigFormat` `application/octet-stream` (RFC 2046
//!   section 4.5.1: the bare signature bytes, no envelope), and the exact signed message
//!   (base64) in [`SIGNED_MESSAGE_EXTENSION`], its row's `seq:hash` in
//!   [`AUDIT_ROW_EXTENSION`].
//! - [`CERTIFICATE_EXTENSION`] (one per key): the certificates that tie each author's key to
//!   the chart's root, the author's and, transitively, their certifier's: the clinician's id,
//!   key, the certificate message and the certifier's signature over it, each base64.
//! - [`ROOT_EXTENSION`]: the chart's root fingerprint, SHA-256 of `"kapchart root v1\n"` and
//!   the first admin's key (`domain::team::root_fingerprint`); [`SESSION_HEAD_EXTENSION`]:
//!   the session's newest signed row in the chart's chain (`seq:hash`), the chart's own head
//!   being the sync's anchor Provenance.
//!
//! What it proves: each author signed that audit row of the chart's chain, whose content
//! hash covers the row as kapchart charted it; not this FHIR rendering of it.
//! `tests/fhir-server/verify-provenance.mjs` checks it outside kapchart.

use super::builder::Builder;
use super::codes::coding;
use super::ids::reference;
use crate::app::record::SessionRecord;
use crate::domain::authorship::chain_to_root;
use crate::domain::signature::base64;
use chrono::SecondsFormat;
use serde_json::{Value, json};

/// On an agent: the clinician's Ed25519 public key (base64 of the 32 bytes).
pub const AGENT_KEY_EXTENSION: &str = "https://kapchart.org/fhir/StructureDefinition/ed25519-key";
/// On a signature: the exact bytes signed (base64).
pub const SIGNED_MESSAGE_EXTENSION: &str =
    "https://kapchart.org/fhir/StructureDefinition/signed-message";
/// On a signature: the audit row signed, `seq:hash` in the chart's chain.
pub const AUDIT_ROW_EXTENSION: &str = "https://kapchart.org/fhir/StructureDefinition/audit-row";
/// On the Provenance: one certificate of a key (complex: `clinician`, `key`, `certified-by`,
/// `message`, `signature`).
pub const CERTIFICATE_EXTENSION: &str =
    "https://kapchart.org/fhir/StructureDefinition/key-certificate";
/// On the Provenance: the chart's root fingerprint (64 hex digits).
pub const ROOT_EXTENSION: &str = "https://kapchart.org/fhir/StructureDefinition/root-fingerprint";
/// On the Provenance: the session's newest signed audit row, `seq:hash`.
pub const SESSION_HEAD_EXTENSION: &str =
    "https://kapchart.org/fhir/StructureDefinition/session-audit-head";

/// ASTM E1762-95 in the R4 Signature Type Codes.
const SIGNATURE_TYPES: &str = "urn:iso-astm:E1762-95:2013";
const AUTHORS_SIGNATURE: &str = "1.2.840.10065.1.12.1.1";
const PARTICIPANT_TYPES: &str = "http://terminology.hl7.org/CodeSystem/provenance-participant-type";

impl Builder<'_> {
    /// The session's Provenance, targeting the resources pushed since `from`; none for a
    /// session with no signed row (charted before kapchart signed rows).
    pub(super) fn provenance(&mut self, s: &SessionRecord, from: usize) {
        let Some(newest) = s.signed.last() else {
            return;
        };
        // What the session's authors wrote: not the patient and clinicians (their own
        // resources), nor the protocol checks missed so far (which depend on the export time).
        let missed: Vec<String> = s.checks.iter().map(|c| self.check_id(s, c)).collect();
        let targets: Vec<Value> = self.entries[from..]
            .iter()
            .map(|e| &e["resource"])
            .filter(|r| !matches!(r["resourceType"].as_str(), Some("Patient" | "Practitioner")))
            .filter(|r| !missed.iter().any(|id| r["id"] == id.as_str()))
            .map(|r| {
                reference(
                    r["resourceType"].as_str().unwrap_or_default(),
                    r["id"].as_str().unwrap_or_default(),
                )
            })
            .collect();
        let mut authors: Vec<i64> = Vec::new();
        for r in &s.signed {
            if !authors.contains(&r.clinician_id) {
                authors.push(r.clinician_id);
            }
        }
        let team = &self.record.team_keys;
        let key_of = |id: i64| team.iter().find(|k| k.clinician_id == id);
        let agents: Vec<Value> = authors
            .iter()
            .filter_map(|id| s.signed.iter().find(|r| r.clinician_id == *id))
            .map(|r| {
                let mut agent = json!({
                    "type": { "coding": [coding(PARTICIPANT_TYPES, "author", "Author")] },
                    "who": self.practitioner_ref(&r.clinician),
                });
                if let Some(k) = key_of(r.clinician_id) {
                    agent["extension"] =
                        json!([{ "url": AGENT_KEY_EXTENSION, "valueBase64Binary": base64(&k.key) }]);
                }
                agent
            })
            .collect();
        let signatures: Vec<Value> = s
            .signed
            .iter()
            .map(|r| {
                json!({
                    "extension": [
                        { "url": SIGNED_MESSAGE_EXTENSION, "valueBase64Binary": base64(&r.message) },
                        { "url": AUDIT_ROW_EXTENSION, "valueString": format!("{}:{}", r.seq, r.hash) },
                    ],
                    "type": [coding(SIGNATURE_TYPES, AUTHORS_SIGNATURE, "Author's Signature")],
                    "when": r.at.to_rfc3339_opts(SecondsFormat::Millis, true),
                    "who": self.practitioner_ref(&r.clinician),
                    "sigFormat": "application/octet-stream",
                    "data": base64(&r.signature),
                })
            })
            .collect();
        let mut extensions: Vec<Value> = chain_to_root(team, &authors)
            .into_iter()
            .filter_map(|k| {
                let c = k.certificate.as_ref()?;
                Some(json!({
                    "url": CERTIFICATE_EXTENSION,
                    "extension": [
                        { "url": "clinician", "valueInteger": k.clinician_id },
                        { "url": "key", "valueBase64Binary": base64(&k.key) },
                        { "url": "certified-by", "valueInteger": c.certified_by },
                        { "url": "message", "valueBase64Binary": base64(&c.message) },
                        { "url": "signature", "valueBase64Binary": base64(&c.signature) },
                    ],
                }))
            })
            .collect();
        if let Some(first) = team.first() {
            extensions.push(json!({
                "url": ROOT_EXTENSION,
                "valueString": crate::domain::team::root_fingerprint(&first.key),
            }));
        }
        extensions.push(json!({
            "url": SESSION_HEAD_EXTENSION,
            "valueString": format!("{}:{}", newest.seq, newest.hash),
        }));
        let id = self
            .ids
            .row(&format!("session/{}/provenance", s.session.id));
        self.push(json!({
            "resourceType": "Provenance",
            "id": id,
            "extension": extensions,
            "target": targets,
            "recorded": newest.at.to_rfc3339_opts(SecondsFormat::Millis, true),
            "agent": agents,
            "signature": signatures,
        }));
    }
}
