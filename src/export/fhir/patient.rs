//! The Patient.

use super::builder::Builder;
use super::codes::{IDENTIFIER_TYPE, coding};
use super::ids::reference;
use serde_json::{Value, json};

impl<'a> Builder<'a> {
    pub(super) fn patient_ref(&self) -> Value {
        let p = &self.record.patient;
        let mut r = reference("Patient", &format!("kapchart-patient-{}", p.id));
        r["display"] = json!(p.name);
        r
    }

    pub(super) fn patient(&mut self) {
        let p = &self.record.patient;
        let mut patient = json!({
            "resourceType": "Patient",
            "id": format!("kapchart-patient-{}", p.id),
            "name": [{ "text": p.name }],
            "birthDate": p.dob.format("%Y-%m-%d").to_string(),
        });
        if let Some(mrn) = p.mrn.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
            patient["identifier"] = json!([{
                "use": "usual",
                "type": {
                    "coding": [coding(IDENTIFIER_TYPE, "MR", "Medical record number")],
                    "text": "MRN",
                },
                "value": mrn,
            }]);
        }
        self.push(patient);
    }
}
