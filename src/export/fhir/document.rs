//! Signed integration notes and their addenda as DocumentReferences, each with its signed
//! text, its SHA-256 and its Ed25519 signature.

use super::SHA256_EXTENSION;
use super::builder::Builder;
use super::ids::{instant, reference};
use crate::domain::course::{Addendum, Note};
use crate::domain::signature::base64;
use crate::export::signatures;
use chrono::{DateTime, FixedOffset};
use serde_json::{Value, json};

impl<'a> Builder<'a> {
    pub(super) fn note(&mut self, note: &Note, dosing_number: u32) {
        let Some(sig) = &note.signature else {
            return; // an unsigned draft is not part of the record yet
        };
        let note_id = self.ids.note(note.id);
        let encounter = reference("Encounter", &self.ids.session(note.dosing_session_id));
        let mut authors = vec![self.practitioner_ref(&note.author)];
        if sig.signer != note.author {
            authors.push(self.practitioner_ref(&sig.signer));
        }
        let mut description = format!(
            "Integration note ({}) for dosing {dosing_number} (kapchart session {}), signed by {}",
            note.format.to_uppercase(),
            note.dosing_session_id,
            sig.signer
        );
        if let Some(reason) = &sig.reason {
            description.push_str(&format!("; signed with open items: {reason}"));
        }
        let doc = json!({
            "resourceType": "DocumentReference",
            "id": note_id,
            "status": "current",
            "docStatus": "final",
            "type": { "text": "Integration note" },
            "subject": self.patient_ref(),
            "date": instant(sig.signed),
            "author": authors,
            "authenticator": self.practitioner_ref(&sig.signer),
            "description": description,
            "content": [{ "attachment": attachment(
                &sig.text,
                &sig.sha256,
                &format!("Integration note, dosing {dosing_number}"),
                sig.signed,
                sig.ed25519.as_ref().map(|seal| {
                    let statement = signatures::note_statement(note, sig, seal.public_key);
                    signatures::fhir_extension(&statement, seal, self.practitioner_ref(&sig.signer))
                }),
            ) }],
            "context": { "encounter": [encounter.clone()] },
        });
        self.push(doc);
        for a in &note.addenda {
            self.addendum(note, dosing_number, a, &note_id, &encounter);
        }
    }

    pub(super) fn addendum(
        &mut self,
        note: &Note,
        dosing_number: u32,
        a: &Addendum,
        note_id: &str,
        encounter: &Value,
    ) {
        let doc = json!({
            "resourceType": "DocumentReference",
            "id": self.ids.addendum(a.id),
            "status": "current",
            "docStatus": "final",
            "type": { "text": "Integration note addendum" },
            "subject": self.patient_ref(),
            "date": instant(a.at),
            "author": [self.practitioner_ref(&a.author)],
            "authenticator": self.practitioner_ref(&a.author),
            "relatesTo": [{
                "code": "appends",
                "target": reference("DocumentReference", note_id),
            }],
            "description": format!(
                "Addendum to the integration note for dosing {dosing_number} (kapchart session {}), by {}",
                note.dosing_session_id, a.author
            ),
            "content": [{ "attachment": attachment(
                &a.text,
                &a.sha256,
                &format!("Addendum, dosing {dosing_number}"),
                a.at,
                a.ed25519.as_ref().map(|seal| {
                    let statement = signatures::addendum_statement(note, a, seal.public_key);
                    signatures::fhir_extension(&statement, seal, self.practitioner_ref(&a.author))
                }),
            ) }],
            "context": { "encounter": [encounter.clone()] },
        });
        self.push(doc);
    }
}

/// A note's or addendum's text as an attachment, with its SHA-256 and, when it has one, its
/// Ed25519 signature (`export::signatures`).
pub(super) fn attachment(
    text: &str,
    sha256: &str,
    title: &str,
    at: DateTime<FixedOffset>,
    ed25519: Option<Value>,
) -> Value {
    let mut extension = vec![json!({ "url": SHA256_EXTENSION, "valueString": sha256 })];
    extension.extend(ed25519);
    json!({
        "extension": extension,
        "contentType": "text/markdown",
        "data": base64(text.as_bytes()),
        "size": text.len(),
        "title": title,
        "creation": instant(at),
    })
}
