//! FHIR R4 export: a [`Record`] as a Bundle of type `collection`.
//!
//! What goes in, in this order: the Patient; a Practitioner per clinician named in the record;
//! per session its Encounter, then the resources of its chart entries in event-time order, then
//! its signed integration note and addenda as DocumentReferences. Codes are those of
//! clinical.md section 7.
//!
//! - Vitals: one Observation per vital sign on one entry, on the vital-signs profile (LOINC,
//!   UCUM); blood pressure as the 85354-9 panel with systolic and diastolic components.
//!   Alert flags become `interpretation` (H/L, v3-ObservationInterpretation) on the vital they
//!   concern, with the flag's words in `note`; an acknowledgement of a flag becomes a note too.
//! - MOAA/S and the modified Aldrete score: Observations in the `survey` category coded in
//!   kapchart's own CodeSystem ([`OBSERVATION_CODES`]); there is no LOINC code for them.
//! - Doses: MedicationAdministration, RxNorm where [`RXNORM`] has a sourced code, else the drug
//!   name as text; route as SNOMED CT; dose in mg (UCUM), what was typed in `dosage.text`; an
//!   infusion (`over N min`) has an `effectivePeriod`. A dose drawn from the controlled-substance
//!   stock carries its lot and expiry (a contained Medication's `batch`) and the container(s)
//!   drawn from ([`STOCK_CONTAINER_EXTENSION`]); a waste of the stock is a MedicationAdministration
//!   `not-done` with the manner as `statusReason` (module `draws` cites the spec for both).
//! - PHQ-9, GAD-7, PCL-5: a QuestionnaireResponse with the item answers and an Observation with
//!   the total (`derivedFrom` the response, the severity band as interpretation text).
//! - Signed integration notes: DocumentReference (`text/markdown`, the signed text in base64).
//!   FHIR's `attachment.hash` must be SHA-1, which kapchart does not keep: the SHA-256 the
//!   signature locks is carried in the [`SHA256_EXTENSION`] extension on the attachment (hex).
//!   The signer's Ed25519 signature, with the public key and every field of the signed
//!   message, is the [`ED25519_EXTENSION`] extension beside it. Each addendum is
//!   its own DocumentReference that `appends` the note. Drafts are not exported.
//! - A Spravato REMS form's submission: a Communication (module `rems_submission` cites it).
//! - Each session with signed audit rows: a Provenance of who wrote it, with each author's
//!   Ed25519 signature of each row, the exact message signed, and the certificates of their
//!   keys back to the chart's root (module `provenance` says what it holds and proves).
//! - Other entry kinds (free-text observations, screening, consent, ride home, ...) are not
//!   exported as resources; they are in the signed note and the printed report.
//!
//! Corrections (kapchart keeps every entry; a correction is a later entry), the FHIR way:
//! - An amendment takes the ids of the resources of the entry it first replaced, so that a
//!   server updates them in place and keeps the replaced values in its history: Observation
//!   `corrected` (R4: "modified subsequent to being final, and the modifications correct an
//!   error"), QuestionnaireResponse `amended`, MedicationAdministration `completed` (it has
//!   neither). Its note says which entry it corrects, what that entry said, who and why.
//! - A struck entry, and a resource of an amended entry that the amendment does not make
//!   again: `entered-in-error` on every resource kind (the only status FHIR consumers reliably
//!   leave out of current values), with a note saying which entry amended or struck it, who,
//!   when and why. A correction deletes no original content (CMS PIM 3.3.2.5): the replaced
//!   values are in the note and the server's history. (QuestionnaireResponse has no `note`:
//!   for a questionnaire, the notes are on its total's Observation.)
//! - Everything else: Observation `final`, QuestionnaireResponse `completed`,
//!   MedicationAdministration `completed` (`in-progress` for an infusion still running at the
//!   export time).
//!
//! Ids and references: resource ids come from chart ids, so exporting again gives the same ids
//! (UUIDs named from the chart's UUID and the row: `patient/1`, `session/3`, `entry/42/hr`,
//! `note/2`, `addendum/5`, a clinician's name; `domain::identity`), each also carried as a
//! business identifier whose system is the chart's URN. Each `fullUrl` is
//! [`FHIR_BASE`]`/Type/id` and every reference is the relative `Type/id`, which resolves
//! against that base inside the bundle. The Bundle's id is stable too, and its identifier is
//! a SHA-256 of its entries: the same content exported twice has the same identifier.

use serde_json::{Value, json};
use sha2::Digest;

use super::Record;
use builder::Builder;
use ids::instant;

mod assessments;
mod builder;
mod codes;
mod document;
mod draws;
mod encounter;
mod ids;
mod medication;
mod observation;
mod patient;
mod patient_context;
mod practitioner;
mod provenance;
mod questionnaire;
mod rems_submission;
mod standing;
mod stock;
mod stock_count;

pub use draws::{CONTAINER_SYSTEM, STOCK_CONTAINER_EXTENSION};
pub use medication::RXNORM;
pub use provenance::{
    AGENT_KEY_EXTENSION, AUDIT_ROW_EXTENSION, CERTIFICATE_EXTENSION, ROOT_EXTENSION,
    SESSION_HEAD_EXTENSION, SIGNED_MESSAGE_EXTENSION,
};
pub use stock::{DEA_SYSTEM, stock_bundle};

/// The base of every `fullUrl` in an exported bundle.
pub const FHIR_BASE: &str = "https://kapchart.org/fhir";
/// kapchart's CodeSystem for scores with no LOINC code (clinical.md section 7: "CADSS, MOAA/S,
/// Aldrete: no LOINC code found: use a local CodeSystem URI") and for the PCL-5 total.
pub const OBSERVATION_CODES: &str = "https://kapchart.org/fhir/CodeSystem/kapchart-observation";
/// The system of the Bundle's identifier.
pub const EXPORT_IDENTIFIER_SYSTEM: &str = "https://kapchart.org/fhir/sid/export";
/// Extension on a note's attachment: the SHA-256 (hex) of the signed text, as locked at
/// signing. `Attachment.hash` is reserved for SHA-1.
pub const SHA256_EXTENSION: &str = "https://kapchart.org/fhir/StructureDefinition/sha256";
/// Extension on a note's attachment: the signer's Ed25519 signature and what it covers.
pub use super::signatures::ED25519_EXTENSION;
/// The Questionnaire canonical of the PHQ-9 (LOINC panel 44249-1, clinical.md section 7).
pub const PHQ9_QUESTIONNAIRE: &str = "http://loinc.org/q/44249-1";
/// The Questionnaire canonical of the GAD-7 (LOINC panel 69737-5, clinical.md section 7).
pub const GAD7_QUESTIONNAIRE: &str = "http://loinc.org/q/69737-5";
/// The PCL-5 has no LOINC panel in the reference: a kapchart canonical.
pub const PCL5_QUESTIONNAIRE: &str = "https://kapchart.org/fhir/Questionnaire/pcl5";

/// Builds the FHIR R4 Bundle (type `collection`) of a record. Pure: the same record gives the
/// same JSON.
pub fn bundle(record: &Record) -> Value {
    let mut b = Builder::new(record);
    b.patient();
    b.practitioners();
    b.medications();
    b.safety_flags();
    for s in &record.sessions {
        let from = b.entries.len();
        b.session(s);
        b.provenance(s, from);
    }
    let scope = match record.sessions.as_slice() {
        [one] => format!("session/{}", one.session.id),
        _ => "course".to_string(),
    };
    let patient = record.patient.id;
    // The same content gives the same identifier, whenever it is exported: a hash of the
    // entries (the export time is the Bundle's timestamp, not part of its identity).
    let content = serde_json::to_string(&b.entries).unwrap_or_default();
    let digest = crate::domain::signature::hex(&sha2::Sha256::digest(content.as_bytes()));
    json!({
        "resourceType": "Bundle",
        "id": b.ids.row(&format!("export/patient/{patient}/{scope}")),
        "identifier": {
            "system": EXPORT_IDENTIFIER_SYSTEM,
            "value": format!("sha256:{digest}"),
        },
        "type": "collection",
        "timestamp": instant(record.exported),
        "entry": b.entries,
    })
}
