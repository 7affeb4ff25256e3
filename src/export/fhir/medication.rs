//! Doses as MedicationAdministration: the drug (RxNorm where a sourced code exists), the
//! route (SNOMED CT), the dose in mg, who gave it and who witnessed it, and what it drew
//! from the controlled-substance stock (`draws`).

use super::builder::Builder;
use super::codes::{PERFORM_FUNCTION, RXNORM_SYSTEM, SNOMED, coding, quantity};
use super::draws::{draw_extension, from_text, mg_value};
use super::ids::{instant, reference};
use super::standing::{Standing, standing};
use crate::domain::entry::{Dose, DoseUnit, trim_number};
use crate::domain::{ChartLine, Entry, Route};
use chrono::TimeDelta;
use serde_json::{Value, json};

/// RxNorm codes for drugs kapchart can name: (drug as typed, code, display, the one route the
/// code implies, if any). Only sourced codes are listed; any other drug is exported by name
/// only (`medicationCodeableConcept.text`).
pub const RXNORM: &[(&str, &str, &str, Option<Route>)] = &[
    // clinical.md section 7: "ketamine | RxNorm ingredient 6130 (believed; keep the table in
    // data with its source)".
    ("ketamine", "6130", "ketamine", None),
    // RxNorm SCDF "esketamine Nasal Spray", RxCUI 2201623 (RxNorm browsers, e.g.
    // https://ndclist.com/rxnorm/rxcui/2201623, RxNorm release of 2026-06). Esketamine is
    // given as the Spravato nasal spray (clinical.md section 2), so its doses carry the
    // nasal spray's code; an esketamine dose by another route is exported by name only. No
    // sourced code for the ingredient alone was found.
    (
        "esketamine",
        "2201623",
        "esketamine Nasal Spray",
        Some(Route::IN),
    ),
];

/// A drug as the export codes it: RxNorm where [`RXNORM`] has a sourced code for the drug
/// (and, for a code that implies a route, when `route` is that one or not known: a stock
/// lot), and the name as typed in `text` always.
pub(super) fn medication_code(drug: &str, route: Option<Route>) -> Value {
    let mut medication = json!({ "text": drug });
    if let Some((_, code, display, _)) = RXNORM.iter().find(|(known, _, _, only)| {
        known.eq_ignore_ascii_case(drug.trim())
            && match (only, route) {
                (Some(only), Some(route)) => *only == route,
                _ => true,
            }
    }) {
        medication["coding"] = json!([coding(RXNORM_SYSTEM, code, display)]);
    }
    medication
}

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
        let medication = medication_code(&d.drug, Some(d.route));
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
        text.push_str(&from_text(&d.drawn));
        let (route, route_display) = route_code(d.route);
        let total_mg = mg_value(d.total_mg);
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
            "id": self.ids.entry(self.resource_owner(line), "dose"),
            "status": status,
            "medicationCodeableConcept": medication,
            "subject": self.patient_ref(),
            "context": reference("Encounter", &self.ids.session(e.session_id)),
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
        // the administration references (see `draws`: the container's lot when drawn).
        let mut notes = Vec::new();
        if d.lot.is_some() || !d.drawn.is_empty() {
            let (product, lot_notes) = self.product(e.id, &medication, &d.drawn, d.lot.as_deref());
            notes = lot_notes;
            if let Some(obj) = ma.as_object_mut() {
                obj.remove("medicationCodeableConcept");
            }
            ma["contained"] = json!([product]);
            ma["medicationReference"] = json!({ "reference": format!("#med-{}", e.id) });
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
        notes.extend(self.notes(line, "dose"));
        if !notes.is_empty() {
            ma["note"] = json!(notes);
        }
        let extensions: Vec<Value> = d
            .drawn
            .iter()
            .map(|x| draw_extension(&x.container.to_string(), x.mg))
            .collect();
        if !extensions.is_empty() {
            ma["extension"] = json!(extensions);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn esketamine_carries_the_nasal_spray_code_only_when_given_nasally_or_as_a_stock_lot() {
        let code = |drug, route| medication_code(drug, route)["coding"][0]["code"].clone();
        assert_eq!(code("esketamine", Some(Route::IN)), "2201623");
        assert_eq!(code("Esketamine", None), "2201623");
        assert_eq!(code("esketamine", Some(Route::IV)), Value::Null);
        assert_eq!(code("ketamine", Some(Route::IM)), "6130");
        assert_eq!(code("ondansetron", Some(Route::IV)), Value::Null);
        assert_eq!(
            medication_code("esketamine", Some(Route::IV))["text"],
            "esketamine"
        );
    }
}
