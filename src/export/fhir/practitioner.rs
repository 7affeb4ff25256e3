//! A Practitioner for each clinician the record names, with an id named from the chart and
//! the clinician's name (the team keeps names unique).

use super::builder::Builder;
use super::ids::reference;
use crate::domain::npi::{IdentifierKind, NPI_SYSTEM};
use serde_json::{Value, json};

impl<'a> Builder<'a> {
    pub(super) fn practitioner_ref(&self, name: &str) -> Value {
        let mut r = reference("Practitioner", &self.ids.clinician(name));
        r["display"] = json!(name);
        r
    }

    /// A clinician's identifiers outside the chart: the clinic's staff id under `[clinic]
    /// staff_id_system` first (by which `kapchart sync` matches them on the server), then
    /// their NPI under HL7's `us-npi` system.
    fn identifiers_of(&self, name: &str) -> Vec<Value> {
        let mut out = Vec::new();
        for kind in [IdentifierKind::Staff, IdentifierKind::Npi] {
            let Some((_, _, value)) = self
                .record
                .identifiers
                .iter()
                .find(|(n, k, _)| n == name && *k == kind)
            else {
                continue;
            };
            let mut identifier = json!({ "value": value });
            match kind {
                IdentifierKind::Npi => identifier["system"] = json!(NPI_SYSTEM),
                IdentifierKind::Staff => {
                    identifier["type"] = json!({ "text": "Clinic staff id" });
                    if let Some(system) = &self.record.staff_id_system {
                        identifier["system"] = json!(system);
                    }
                }
            }
            out.push(identifier);
        }
        out
    }

    /// A Practitioner for each clinician in the record, then for anyone else a resource names
    /// (a note's author), so that every reference resolves.
    pub(super) fn practitioners(&mut self) {
        let mut names: Vec<&str> = Vec::new();
        let notes = self.record.sessions.iter().filter_map(|s| s.note.as_ref());
        let others = self.record.sessions.iter().flat_map(|s| {
            std::iter::once(s.session.clinician.as_str())
                .chain(s.lines.iter().map(|l| l.entry.author.as_str()))
        });
        let note_people = notes.flat_map(|n| {
            std::iter::once(n.author.as_str())
                .chain(n.signature.iter().map(|s| s.signer.as_str()))
                .chain(n.addenda.iter().map(|a| a.author.as_str()))
        });
        let all = self
            .record
            .clinicians
            .iter()
            .map(String::as_str)
            .chain(others)
            .chain(note_people);
        for name in all {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        for name in names {
            let mut practitioner = json!({
                "resourceType": "Practitioner",
                "id": self.ids.clinician(name),
                "name": [{ "text": name }],
            });
            // The credentials the team records ("RN", "MD"), as R4 Practitioner.qualification
            // (https://hl7.org/fhir/R4/practitioner.html): text only, no code system chosen.
            if let Some((_, c)) = self.record.credentials.iter().find(|(n, _)| n == name) {
                practitioner["qualification"] = json!([{ "code": { "text": c } }]);
            }
            let identifiers = self.identifiers_of(name);
            if !identifiers.is_empty() {
                practitioner["identifier"] = json!(identifiers);
            }
            self.push(practitioner);
        }
    }
}
