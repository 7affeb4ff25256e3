//! What a dose or a waste took from the controlled-substance stock, on its
//! MedicationAdministration: the lot and expiry of the product, and the container(s) it came
//! from with the mg from each.
//!
//! - The lot: FHIR R4 MedicationAdministration has no lot of its own; the product given is a
//!   Medication, whose `batch` holds `lotNumber` and `expirationDate`
//!   (https://hl7.org/fhir/R4/medication.html#Medication.batch). The administration carries
//!   it as a contained Medication referenced from `medicationReference`
//!   (https://hl7.org/fhir/R4/medicationadministration.html#MedicationAdministration.medication_x_,
//!   https://hl7.org/fhir/R4/references.html#contained), so the lot goes wherever the
//!   administration goes. A drawn dose's lot is its container's, as the stock recorded it at
//!   receipt; a lot typed on the dose that differs is kept in `dosage.text` and flagged in a
//!   note rather than silently preferred.
//! - The container: R4 has no element for the vial a dose was drawn from (`device` is the
//!   administering device, e.g. a pump: not the vial). Each draw is the [`STOCK_CONTAINER_EXTENSION`]
//!   extension (https://hl7.org/fhir/R4/extensibility.html) on the administration, with the
//!   container's id (`V12`, in the [`CONTAINER_SYSTEM`] identifier system) and the mg taken;
//!   `dosage.text` says "from V12" for a reader. A waste, and every movement of the stock log,
//!   name their container with the same extension.
//! - A waste: a MedicationAdministration with status `not-done` and the manner as its
//!   `statusReason`, the amount in `dosage.dose`, who wasted it and the witness as for a dose
//!   (`performer` with the `witness` function). FHIR's current build describes this use:
//!   "This event can also be used to record waste using a status of not-done and the
//!   appropriate statusReason" (https://build.fhir.org/medicationadministration.html); R4 has
//!   the same `not-done` status and `statusReason`
//!   (https://hl7.org/fhir/R4/valueset-medication-admin-status.html).

use super::builder::Builder;
use super::codes::{UCUM, quantity};
use super::ids::{instant, reference};
use super::standing::{Standing, standing};
use crate::domain::ChartLine;
use crate::domain::entry::trim_number;
use crate::domain::stock::{Container, Draw, Waste};
use serde_json::{Value, json};

/// Extension on a MedicationAdministration (and the stock log's resources): one container a
/// dose, waste or receipt took from or brought to, and the mg (a count names the container
/// only).
pub const STOCK_CONTAINER_EXTENSION: &str =
    "https://kapchart.org/fhir/StructureDefinition/stock-container";
/// The identifier system of kapchart's container ids (`V12`).
pub const CONTAINER_SYSTEM: &str = "https://kapchart.org/fhir/sid/container";

/// A number of mg to the microgram; a whole number as an integer (4, not 4.0).
pub(super) fn mg_value(mg: f64) -> Value {
    let mg = (mg * 1000.0).round() / 1000.0;
    if mg.fract() == 0.0 && mg.abs() < 1e15 {
        json!(mg as i64)
    } else {
        json!(mg)
    }
}

/// The container's id as an Identifier.
pub(super) fn container_identifier(container: &str) -> Value {
    json!({ "system": CONTAINER_SYSTEM, "value": container })
}

/// One [`STOCK_CONTAINER_EXTENSION`]: `container` and the mg that moved (positive).
pub(super) fn draw_extension(container: &str, mg: f64) -> Value {
    let mut ext = container_extension(container);
    if let Some(parts) = ext["extension"].as_array_mut() {
        parts.push(json!({
            "url": "quantity",
            "valueQuantity": { "value": mg_value(mg), "unit": "mg", "system": UCUM, "code": "mg" },
        }));
    }
    ext
}

/// A [`STOCK_CONTAINER_EXTENSION`] naming the container only (a count: the amount is the
/// Observation's value).
pub(super) fn container_extension(container: &str) -> Value {
    json!({
        "url": STOCK_CONTAINER_EXTENSION,
        "extension": [
            { "url": "container", "valueIdentifier": container_identifier(container) },
        ],
    })
}

/// ", from V12" (or ", from V3, V4").
pub(super) fn from_text(drawn: &[Draw]) -> String {
    if drawn.is_empty() {
        return String::new();
    }
    let ids: Vec<String> = drawn.iter().map(|d| d.container.to_string()).collect();
    format!(", from {}", ids.join(", "))
}

impl<'a> Builder<'a> {
    /// The containers of `drawn` the record knows.
    fn containers_of(&self, drawn: &[Draw]) -> Vec<&'a Container> {
        drawn
            .iter()
            .filter_map(|d| self.record.containers.iter().find(|c| c.id == d.container))
            .collect()
    }

    /// The product given or wasted as a contained Medication (id `med-<entry>`): its code,
    /// and its batch (lot and expiry) from the containers drawn, else the lot typed on the
    /// line. With the notes a lot typed unlike the container's calls for.
    pub(super) fn product(
        &self,
        entry: i64,
        code: &Value,
        drawn: &[Draw],
        typed_lot: Option<&str>,
    ) -> (Value, Vec<Value>) {
        let containers = self.containers_of(drawn);
        let mut lots: Vec<(&str, &str)> = containers
            .iter()
            .map(|c| (c.receipt.lot.as_str(), c.receipt.expires.as_str()))
            .collect();
        lots.sort();
        lots.dedup();
        let mut notes = Vec::new();
        let batch = match (lots.as_slice(), typed_lot) {
            ([(lot, expires)], typed) => {
                if let Some(typed) = typed.filter(|t| t.trim() != *lot) {
                    notes.push(json!({ "text": format!(
                        "kapchart: lot {typed} was typed on the line; the container{} drawn from {} of lot {lot} in the stock",
                        if drawn.len() > 1 { "s" } else { "" },
                        if drawn.len() > 1 { "are" } else { "is" },
                    ) }));
                }
                json!({ "lotNumber": lot, "expirationDate": expires })
            }
            ([], Some(typed)) => json!({ "lotNumber": typed }),
            ([], None) => Value::Null,
            (many, _) => {
                // Draws plan one lot per line; should a line ever span lots, none is
                // chosen: each container's lot is said instead.
                let each: Vec<String> = many.iter().map(|(l, _)| (*l).to_string()).collect();
                notes.push(
                    json!({ "text": format!("kapchart: drawn from lots {}", each.join(", ")) }),
                );
                Value::Null
            }
        };
        let mut medication = json!({
            "resourceType": "Medication",
            "id": format!("med-{entry}"),
            "code": code,
        });
        if !batch.is_null() {
            medication["batch"] = batch;
        }
        (medication, notes)
    }

    /// A waste as a MedicationAdministration `not-done` (see the module's notes).
    pub(super) fn waste(&self, line: &ChartLine, w: &Waste) -> Value {
        let e = &line.entry;
        let code = super::medication::medication_code(&w.drug, None);
        let (medication, mut notes) = self.product(e.id, &code, &w.drawn, None);
        let status = match standing(line) {
            Standing::Withdrawn => "entered-in-error",
            _ => "not-done",
        };
        let mut ma = json!({
            "resourceType": "MedicationAdministration",
            "id": self.ids.entry(self.resource_owner(line), "waste"),
            "contained": [medication],
            "extension": w.drawn.iter()
                .map(|d| draw_extension(&d.container.to_string(), d.mg))
                .collect::<Vec<_>>(),
            "status": status,
            "statusReason": [{ "text": format!("wasted: {}", w.manner) }],
            "medicationReference": { "reference": format!("#med-{}", e.id) },
            "subject": self.patient_ref(),
            "context": reference("Encounter", &self.ids.session(e.session_id)),
            "effectiveDateTime": instant(e.event_time),
            "performer": self.dose_performers(e),
            "dosage": {
                "text": format!(
                    "wasted {} mg{}: {}",
                    trim_number(w.mg, 3),
                    from_text(&w.drawn),
                    w.manner
                ),
                "dose": quantity(mg_value(w.mg), "mg", "mg"),
            },
        });
        notes.extend(self.notes(line, "waste"));
        if !notes.is_empty() {
            ma["note"] = json!(notes);
        }
        if ma["extension"].as_array().is_some_and(Vec::is_empty)
            && let Some(o) = ma.as_object_mut()
        {
            o.remove("extension");
        }
        ma
    }
}
