//! Doses as MedicationAdministration: the drug (RxNorm where a sourced code exists), the
//! route (SNOMED CT), the dose in mg, who gave it and who witnessed it.

use super::builder::Builder;
use super::codes::{PERFORM_FUNCTION, RXNORM_SYSTEM, SNOMED, coding, quantity};
use super::ids::{entry_resource_id, instant, reference, session_id};
use super::standing::{Standing, standing};
use crate::domain::entry::{Dose, DoseUnit, trim_number};
use crate::domain::{ChartLine, Entry, Route};
use chrono::TimeDelta;
use serde_json::{Value, json};

/// RxNorm codes for drugs kapchart can name: (drug as typed, code, display). Only sourced codes
/// are listed; any other drug is exported by name only (`medicationCodeableConcept.text`).
pub const RXNORM: &[(&str, &str, &str)] = &[
    // clinical.md section 7: "ketamine | RxNorm ingredient 6130 (believed; keep the table in
    // data with its source)".
    ("ketamine", "6130", "ketamine"),
];

/// Routes as SNOMED CT (codes: clinical.md section 7).
pub(super) fn route_code(route: Route) -> (&'static str, &'static str) {
    match route {
        Route::IV => ("47625008", "Intravenous route"),
        Route::IM => ("78421000", "Intramuscular route"),
        Route::IN => ("46713006", "Nasal route"),
        Route::SL => ("37839007", "Sublingual route"),
        Route::PO => ("26643006", "Oral route"),
    }
}

impl<'a> Builder<'a> {
    pub(super) fn dose(&self, line: &ChartLine, d: &Dose) -> Value {
        let e = &line.entry;
        let mut medication = json!({ "text": d.drug });
        if let Some((_, code, display)) = RXNORM
            .iter()
            .find(|(drug, _, _)| drug.eq_ignore_ascii_case(d.drug.trim()))
        {
            medication["coding"] = json!([coding(RXNORM_SYSTEM, code, display)]);
        }
        let mut text = format!(
            "{} {} {}",
            trim_number(d.amount, 3),
            d.unit.label(),
            d.route.label()
        );
        if let Some(m) = d.over_min {
            text.push_str(&format!(" over {m} min"));
        }
        if d.unit != DoseUnit::Mg {
            text.push_str(&format!(" = {} mg", trim_number(d.total_mg, 2)));
        }
        if let Some(w) = d.weight_kg {
            text.push_str(&format!(" (weight {} kg)", trim_number(w, 1)));
        }
        match d.devices {
            Some(1) => text.push_str(", 1 device"),
            Some(n) => text.push_str(&format!(", {n} devices")),
            None => {}
        }
        if let Some(lot) = &d.lot {
            text.push_str(&format!(", lot {lot}"));
        }
        let (route, route_display) = route_code(d.route);
        // To the microgram; a whole number of mg as an integer (4, not 4.0).
        let total_mg = (d.total_mg * 1000.0).round() / 1000.0;
        let total_mg = if total_mg.fract() == 0.0 && total_mg.abs() < 1e15 {
            json!(total_mg as i64)
        } else {
            json!(total_mg)
        };
        let status = match standing(line) {
            Standing::Withdrawn => "entered-in-error",
            _ => match d.over_min {
                Some(m)
                    if e.event_time + TimeDelta::minutes(i64::from(m)) > self.record.exported =>
                {
                    "in-progress"
                }
                _ => "completed",
            },
        };
        let mut ma = json!({
            "resourceType": "MedicationAdministration",
            "id": entry_resource_id(e.id, "dose"),
            "status": status,
            "medicationCodeableConcept": medication,
            "subject": self.patient_ref(),
            "context": reference("Encounter", &session_id(e.session_id)),
            "performer": self.dose_performers(e),
            "dosage": {
                "text": text,
                "route": {
                    "coding": [coding(SNOMED, route, route_display)],
                    "text": d.route.label(),
                },
                "dose": quantity(total_mg, "mg", "mg"),
            },
        });
        // A lot belongs to the product given: a contained Medication with its batch, which
        // the administration references (FHIR R4 Medication.batch.lotNumber).
        if let Some(lot) = &d.lot {
            let id = format!("med-{}", e.id);
            if let Some(obj) = ma.as_object_mut() {
                obj.remove("medicationCodeableConcept");
            }
            ma["contained"] = json!([{
                "resourceType": "Medication",
                "id": id,
                "code": medication,
                "batch": { "lotNumber": lot },
            }]);
            ma["medicationReference"] = json!({ "reference": format!("#{id}") });
        }
        match d.over_min {
            Some(m) => {
                let end = e.event_time + TimeDelta::minutes(i64::from(m));
                ma["effectivePeriod"] = json!({
                    "start": instant(e.event_time),
                    "end": instant(end),
                });
            }
            None => ma["effectiveDateTime"] = json!(instant(e.event_time)),
        }
        let notes = self.notes(line, "dose");
        if !notes.is_empty() {
            ma["note"] = json!(notes);
        }
        let replaces = self.replaces(line, "MedicationAdministration", "dose");
        if !replaces.is_empty() {
            ma["extension"] = json!(replaces);
        }
        ma
    }

    /// Who gave the dose, and who witnessed it (FHIR R4 MedicationAdministration.performer
    /// with its function from the med-admin-perform-function code system: performer,
    /// witness). Ketamine doses are commonly witnessed (21 CFR 1304.22; clinical.md section 3).
    pub(super) fn dose_performers(&self, e: &Entry) -> Value {
        let mut performers = vec![json!({ "actor": self.practitioner_ref(&e.author) })];
        if let Some(w) = self.witnesses.get(&e.id) {
            performers.push(json!({
                "function": {
                    "coding": [coding(PERFORM_FUNCTION, "witness", "Witness")],
                    "text": format!("witnessed at {} (entry {})", instant(w.event_time), w.id),
                },
                "actor": self.practitioner_ref(&w.author),
            }));
        }
        json!(performers)
    }
}
