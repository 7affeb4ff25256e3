//! A Spravato REMS form's submission as a Communication: R4 Communication is "a record of
//! information transmitted from a sender to a receiver" (https://hl7.org/fhir/R4/communication.html);
//! here the monitoring form the clinic sent to the REMS program for the session, on the day
//! charted, with the program's reference when one was given. A struck submission is
//! `entered-in-error`; an amended one keeps its history, as every correction does.

use super::builder::Builder;
use super::ids::reference;
use super::standing::{Standing, standing};
use crate::domain::ChartLine;
use crate::domain::entry::RemsSubmission;
use serde_json::{Value, json};

impl<'a> Builder<'a> {
    pub(super) fn rems_submission(&self, line: &ChartLine, r: &RemsSubmission) -> Value {
        let e = &line.entry;
        let status = match standing(line) {
            Standing::Withdrawn => "entered-in-error",
            _ => "completed",
        };
        let mut text = format!(
            "Spravato REMS Patient Monitoring Form for this treatment submitted on {}",
            r.on
        );
        if let Some(reference) = &r.reference {
            text.push_str(&format!(" (REMS reference {reference})"));
        }
        let mut c = json!({
            "resourceType": "Communication",
            "id": self.ids.entry(self.resource_owner(line), "rems"),
            "status": status,
            "category": [{ "text": "Spravato REMS Patient Monitoring Form" }],
            "subject": self.patient_ref(),
            "encounter": reference("Encounter", &self.ids.session(e.session_id)),
            "sent": r.on.format("%Y-%m-%d").to_string(),
            "sender": self.practitioner_ref(&e.author),
            "recipient": [{ "display": "Spravato REMS" }],
            "payload": [{ "contentString": text }],
        });
        if let Some(reference) = &r.reference {
            c["identifier"] = json!([{ "type": { "text": "REMS reference" }, "value": reference }]);
        }
        let notes = self.notes(line, "rems");
        if !notes.is_empty() {
            c["note"] = json!(notes);
        }
        c
    }
}
