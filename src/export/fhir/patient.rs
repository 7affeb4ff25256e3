//! The Patient.

use super::builder::Builder;
use super::codes::{IDENTIFIER_TYPE, coding};
use super::ids::reference;
use serde_json::{Value, json};

impl<'a> Builder<'a> {
    pub(super) fn patient_ref(&self) -> Value {
        let p = &self.record.patient;
        let mut r = reference("Patient", &self.ids.patient(p.id));
        r["display"] = json!(p.name);
        r
    }

    pub(super) fn patient(&mut self) {
        let p = &self.record.patient;
        let mut patient = json!({
            "resourceType": "Patient",
            "id": self.ids.patient(p.id),
            "name": [{ "text": p.name }],
            "birthDate": p.dob.format("%Y-%m-%d").to_string(),
        });
        if let Some(mrn) = p.mrn.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
            let mut identifier = json!({
                "use": "usual",
                "type": {
                    "coding": [coding(IDENTIFIER_TYPE, "MR", "Medical record number")],
                    "text": "MRN",
                },
                "value": mrn,
            });
            if let Some(system) = &self.record.mrn_system {
                identifier["system"] = json!(system);
            }
            patient["identifier"] = json!([identifier]);
        }
        if let Some(gender) = self.record.details.sex.as_deref().and_then(gender) {
            patient["gender"] = json!(gender);
        }
        self.push(patient);
    }
}

/// R4 `Patient.gender` (AdministrativeGender: male, female, other, unknown;
/// https://hl7.org/fhir/R4/valueset-administrative-gender.html) for the sex the clinic
/// recorded (`patient update --sex`); a word it does not know is left out rather than guessed.
fn gender(sex: &str) -> Option<&'static str> {
    match sex.trim().to_lowercase().as_str() {
        "female" | "f" | "woman" => Some("female"),
        "male" | "m" | "man" => Some("male"),
        "other" | "intersex" | "x" => Some("other"),
        "unknown" => Some("unknown"),
        _ => None,
    }
}
