//! Counts and inventories of the controlled-substance stock as Observations. R4 has no
//! inventory resource; a physical count is a measurement, which is what an Observation
//! records ("measurements and simple assertions", https://hl7.org/fhir/R4/observation.html),
//! made of the lot's Medication (`focus`, "what the observation is about, when it is not
//! about the subject of record", https://hl7.org/fhir/R4/observation-definitions.html#Observation.focus).
//!
//! One Observation a container counted (named from the chart's UUID and `stock/<record>/<V12>`): coded in kapchart's
//! CodeSystem (`stock-count` or `stock-inventory`: no LOINC code exists), `valueQuantity` the
//! mg counted, a component with the mg the ledger expected, `method` measured or estimated
//! (an opened container, 21 CFR 1304.11(e)(3)), the container named by the
//! `stock-container` extension as every movement is, and notes for the reason of a
//! difference, the kind of inventory and whether taken at the opening or close of business.
//! A count or inventory that was struck is `entered-in-error`, and says which record struck
//! it.
//!
//! A waste outside a session is an Observation too (`stock-waste`, named from
//! `stock/<record>`): what was wasted in mg as `valueQuantity`, the manner as `method`,
//! who wasted it and the witness as performers, the reason and whether it awaits its witness
//! as notes. A MedicationAdministration, as a session's waste is exported, needs a patient,
//! and this waste has none.

use super::OBSERVATION_CODES;
use super::codes::{UCUM, coding};
use super::draws::{container_extension, mg_value};
use super::ids::Ids;
use super::ids::{instant, reference};
use super::stock::lot_id;
use crate::domain::entry::trim_number;
use crate::domain::stock::count::CountLine;
use crate::domain::stock::{Container, StockRecord, StockRow};

/// The Observation of a waste outside a session; `None` for any other record.
pub(super) fn waste_observation(
    ids: Ids,
    row: &StockRow,
    struck: Option<i64>,
    witness: Option<&str>,
    containers: &[Container],
) -> Option<Value> {
    let StockRecord::Waste(w) = &row.record else {
        return None;
    };
    let display = "Controlled-substance waste outside a session";
    let mut notes = vec![json!({ "text": format!("reason: {}", w.reason) })];
    let mut performer = vec![json!({
        "reference": format!("Practitioner/{}", ids.clinician(&row.author)),
        "display": row.author,
    })];
    match witness {
        Some(by) => {
            notes.push(json!({ "text": format!("witnessed by {by}") }));
            performer.push(json!({
                "reference": format!("Practitioner/{}", ids.clinician(by)),
                "display": by,
            }));
        }
        None => notes.push(json!({ "text": "awaiting a witness" })),
    }
    if let Some(by) = struck {
        notes.push(json!({ "text": format!("entered in error: struck by stock record {by}") }));
    }
    let mut o = json!({
        "resourceType": "Observation",
        "id": ids.row(&format!("stock/{}", row.id)),
        "extension": [container_extension(&w.container.to_string())],
        "status": if struck.is_some() { "entered-in-error" } else { "final" },
        "code": {
            "coding": [coding(OBSERVATION_CODES, "stock-waste", display)],
            "text": display,
        },
        "effectiveDateTime": instant(row.event_time),
        "issued": instant(row.recorded_time),
        "performer": performer,
        "valueQuantity": mg(w.mg),
        "method": { "text": w.manner },
        "note": notes,
    });
    if let Some(c) = containers.iter().find(|c| c.id == w.container) {
        o["focus"] = json!([reference("Medication", &lot_id(c))]);
    }
    Some(o)
}
use serde_json::{Value, json};

fn mg(value: f64) -> Value {
    json!({ "value": mg_value(value), "unit": "mg", "system": UCUM, "code": "mg" })
}

/// The Observations of one count or inventory record.
pub(super) fn observations(
    ids: Ids,
    row: &StockRow,
    struck: Option<i64>,
    containers: &[Container],
) -> Vec<Value> {
    let (code, display, lines, mut notes): (_, _, &[CountLine], Vec<String>) = match &row.record {
        StockRecord::Count(c) => (
            "stock-count",
            "Controlled-substance count",
            &c.lines,
            std::iter::once(format!("count at {} of business", c.taken.label()))
                .chain(
                    c.reason
                        .iter()
                        .map(|r| format!("reason for the difference: {r}")),
                )
                .collect(),
        ),
        StockRecord::Inventory(i) => (
            "stock-inventory",
            "Controlled-substance inventory",
            &i.lines,
            vec![format!(
                "{} inventory (21 CFR 1304.11) at {} of business",
                i.kind.label(),
                i.taken.label()
            )],
        ),
        _ => return Vec::new(),
    };
    if let Some(by) = struck {
        notes.push(format!("entered in error: struck by stock record {by}"));
    }
    let status = if struck.is_some() {
        "entered-in-error"
    } else {
        "final"
    };
    lines
        .iter()
        .map(|l| {
            let mut line_notes: Vec<Value> = notes.iter().map(|n| json!({ "text": n })).collect();
            if !l.balances() {
                line_notes.push(json!({ "text": format!(
                    "differs from the ledger by {} mg",
                    trim_number(l.difference_mg(), 3)
                ) }));
            }
            let mut o = json!({
                "resourceType": "Observation",
                "id": ids.row(&format!("stock/{}/{}", row.id, l.container)),
                "extension": [container_extension(&l.container.to_string())],
                "status": status,
                "code": {
                    "coding": [coding(OBSERVATION_CODES, code, display)],
                    "text": display,
                },
                "effectiveDateTime": instant(row.event_time),
                "issued": instant(row.recorded_time),
                "performer": [{
                    "reference": format!("Practitioner/{}", ids.clinician(&row.author)),
                    "display": row.author,
                }],
                "valueQuantity": mg(l.counted_mg),
                "method": { "text": if l.estimated { "estimated (opened container)" } else { "measured" } },
                "component": [{
                    "code": {
                        "coding": [coding(OBSERVATION_CODES, "stock-expected", "Expected by the ledger")],
                        "text": "Expected by the ledger",
                    },
                    "valueQuantity": mg(l.expected_mg),
                }],
                "note": line_notes,
            });
            if let Some(c) = containers.iter().find(|c| c.id == l.container) {
                o["focus"] = json!([reference("Medication", &lot_id(c))]);
            }
            o
        })
        .collect()
}
