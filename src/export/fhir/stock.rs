//! The controlled-substance log as a FHIR R4 Bundle (type `collection`), for a clinic's
//! other systems and an inspector's tools. R4 has no inventory resources (InventoryReport
//! and InventoryItem arrive in R5), so each part of the log is the R4 resource closest to it:
//!
//! - A lot: one Medication per drug, presentation, lot and expiry, with its RxNorm code as
//!   the session export codes the drug ([`super::medication::medication_code`]), `form`, the
//!   package `amount` (mL a vial holds, or mg a device) and the `ingredient.strength` (mg/mL
//!   or mg per device), and `batch` (lot and expiry)
//!   (https://hl7.org/fhir/R4/medication.html).
//! - A supplier: an Organization with its name, address and DEA registration number, in the
//!   identifier system HL7 registers for DEA numbers, `http://terminology.hl7.org/NamingSystem/USDEANumber`
//!   (https://terminology.hl7.org/NamingSystem-USDEANumber.html; its preferred URI since
//!   2024-06-03), typed `DEA` from v2-0203.
//! - A receipt: a SupplyDelivery, "record of delivery of what is supplied", `completed`, type
//!   `medication`, the containers as `suppliedItem.quantity` with the lot's Medication as the
//!   item, the supplier and who received it, and each container with its content in mg
//!   (https://hl7.org/fhir/R4/supplydelivery.html).
//! - A dose and a waste: the MedicationAdministration the session export makes of the same
//!   chart entry, built by the same code, with the same id (named from the chart's
//!   UUID and `entry/42/dose`, `entry/43/waste`): the two exports agree, and a struck or amended one is
//!   `entered-in-error` in both. Their Patient and Practitioners are in the bundle; their
//!   Encounter is the session export's (named from `session/3`).
//! - A count or inventory: Observations (`stock_count`).
//! - A waste outside a session: an Observation of the amount wasted (`stock_count`), with
//!   who wasted it and the witness as performers: a MedicationAdministration needs a patient.
//!
//! Opening a container and keeping its rest move no stock and are not exported; they are in
//! the log's text, CSV and HTML. The bundle's id names the drug and period; its identifier is
//! a SHA-256 of its entries, so the same log exported again carries the same identifier.

use super::builder::Builder;
use super::codes::{IDENTIFIER_TYPE, UCUM, coding};
use super::draws::{draw_extension, mg_value};
use super::ids::Ids;
use super::ids::{instant, reference};
use super::medication::medication_code;
use super::{EXPORT_IDENTIFIER_SYSTEM, FHIR_BASE};
use crate::app::stock_log::StockLog;
use crate::domain::EntryStatus;
use crate::domain::stock::ledger::MovementKind;
use crate::domain::stock::{Container, Presentation};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The identifier system of a DEA registration number (HL7 Terminology NamingSystem
/// USDEANumber, preferred URI).
pub const DEA_SYSTEM: &str = "http://terminology.hl7.org/NamingSystem/USDEANumber";
/// The code system of SupplyDelivery.type (R4 value set supplydelivery-type).
const SUPPLY_ITEM_TYPE: &str = "http://terminology.hl7.org/CodeSystem/supply-item-type";
/// The identifier system of a receipt's stock record.
const RECEIPT_SYSTEM: &str = "https://kapchart.org/fhir/sid/stock-receipt";

fn short_hash(text: &str) -> String {
    crate::domain::signature::hex(&Sha256::digest(text.as_bytes())[..8])
}

/// The Medication id of a container's lot.
pub(super) fn lot_id(c: &Container) -> String {
    let r = &c.receipt;
    format!(
        "kapchart-lot-{}",
        short_hash(&format!(
            "{}|{}|{}|{}",
            r.drug, r.presentation, r.lot, r.expires
        ))
    )
}

fn supplier_id(c: &Container) -> String {
    let r = &c.receipt;
    format!(
        "kapchart-supplier-{}",
        short_hash(&format!("{}|{}", r.supplier, r.supplier_dea))
    )
}

fn ucum(value: f64, unit: &str) -> Value {
    json!({ "value": mg_value(value), "unit": unit, "system": UCUM, "code": unit })
}

fn medication(c: &Container) -> Value {
    let r = &c.receipt;
    let code = medication_code(&r.drug, None);
    let one = |unit: &str| json!({ "value": 1, "unit": unit });
    let (form, amount, strength) = match r.presentation {
        Presentation::Vial { mg_per_ml, ml } => (
            "vial of solution",
            json!({ "numerator": ucum(ml, "mL"), "denominator": one("vial") }),
            json!({ "numerator": ucum(mg_per_ml, "mg"), "denominator": ucum(1.0, "mL") }),
        ),
        Presentation::Device { mg } => (
            "single-use device",
            json!({ "numerator": ucum(mg, "mg"), "denominator": one("device") }),
            json!({ "numerator": ucum(mg, "mg"), "denominator": one("device") }),
        ),
    };
    json!({
        "resourceType": "Medication",
        "id": lot_id(c),
        "code": code,
        "status": "active",
        "form": { "text": format!("{form} ({})", r.presentation) },
        "amount": amount,
        "ingredient": [{ "itemCodeableConcept": code, "isActive": true, "strength": strength }],
        "batch": { "lotNumber": r.lot, "expirationDate": r.expires },
    })
}

fn organization(c: &Container) -> Value {
    let r = &c.receipt;
    json!({
        "resourceType": "Organization",
        "id": supplier_id(c),
        "identifier": [{
            "use": "official",
            "type": {
                "coding": [coding(IDENTIFIER_TYPE, "DEA", "Drug Enforcement Administration registration number")],
                "text": "DEA registration number",
            },
            "system": DEA_SYSTEM,
            "value": r.supplier_dea,
        }],
        "name": r.supplier,
        "address": [{ "text": r.supplier_address }],
    })
}

/// A receipt's SupplyDelivery: `received` lists the containers received in the log's period.
fn delivery(ids: Ids, first: &Container, received: &[&Container], who: &str) -> Value {
    let r = &first.receipt;
    let unit = if r.presentation.is_device() {
        "device"
    } else {
        "vial"
    };
    let mut identifier =
        vec![json!({ "system": RECEIPT_SYSTEM, "value": first.receipt_id.to_string() })];
    if let Some(invoice) = &r.invoice {
        identifier.push(json!({ "type": { "text": "invoice or DEA Form 222 / CSOS reference" }, "value": invoice }));
    }
    json!({
        "resourceType": "SupplyDelivery",
        "id": ids.row(&format!("stock/{}", first.receipt_id)),
        "extension": received.iter()
            .map(|c| draw_extension(&c.id.to_string(), c.content_mg()))
            .collect::<Vec<_>>(),
        "identifier": identifier,
        "status": "completed",
        "type": { "coding": [coding(SUPPLY_ITEM_TYPE, "medication", "Medication")] },
        "suppliedItem": {
            "quantity": { "value": r.containers, "unit": unit },
            "itemReference": reference("Medication", &lot_id(first)),
        },
        "occurrenceDateTime": instant(first.received),
        "supplier": { "reference": format!("Organization/{}", supplier_id(first)), "display": r.supplier },
        "receiver": [{ "reference": format!("Practitioner/{}", ids.clinician(who)), "display": who }],
    })
}

fn entry(ids: Ids, mut resource: Value) -> Value {
    ids.stamp(&mut resource);
    let rtype = resource["resourceType"].as_str().unwrap_or_default();
    let id = resource["id"].as_str().unwrap_or_default();
    json!({ "fullUrl": format!("{FHIR_BASE}/{rtype}/{id}"), "resource": resource })
}

/// Builds the stock log's Bundle. Pure: the same log gives the same JSON.
pub fn stock_bundle(log: &StockLog) -> Value {
    let ids = Ids {
        chart: log.chart,
        system: &log.identifier_system,
    };
    let in_period = |t| t >= log.from && t <= log.to;
    let mut head: Vec<Value> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    let mut once = |resource: Value, head: &mut Vec<Value>| {
        let key = format!("{}/{}", resource["resourceType"], resource["id"]);
        if !seen.contains(&key) {
            seen.push(key);
            head.push(resource);
        }
    };
    for c in &log.containers {
        once(organization(c), &mut head);
        once(medication(c), &mut head);
    }
    // Movements in the order they happened: (time, resource).
    let mut events: Vec<(chrono::DateTime<chrono::FixedOffset>, Value)> = Vec::new();
    let mut people: Vec<String> = Vec::new();
    let mut receipts: Vec<i64> = Vec::new();
    for l in &log.ledgers {
        for line in l.lines.iter().filter(|x| in_period(x.movement.at)) {
            let m = &line.movement;
            if m.kind == MovementKind::Received && !receipts.contains(&l.container.receipt_id) {
                receipts.push(l.container.receipt_id);
                let received: Vec<&Container> = log
                    .ledgers
                    .iter()
                    .filter(|o| o.container.receipt_id == l.container.receipt_id)
                    .filter(|o| {
                        o.lines.iter().any(|x| {
                            x.movement.kind == MovementKind::Received && in_period(x.movement.at)
                        })
                    })
                    .map(|o| &o.container)
                    .collect();
                people.push(m.who.clone());
                events.push((m.at, delivery(ids, &l.container, &received, &m.who)));
            }
        }
    }
    for (row, struck) in &log.counts {
        people.push(row.author.clone());
        for o in super::stock_count::observations(ids, row, *struck, &log.containers) {
            events.push((row.event_time, o));
        }
    }
    for (row, struck) in &log.wastes {
        // Who witnessed it, as its movement in the ledger says (a witness struck since is not).
        let witness = log
            .ledgers
            .iter()
            .flat_map(|l| l.lines.iter())
            .find(|x| x.movement.stock == Some(row.id))
            .and_then(|x| x.movement.witness.clone());
        people.push(row.author.clone());
        people.extend(witness.clone());
        if let Some(o) = super::stock_count::waste_observation(
            ids,
            row,
            *struck,
            witness.as_deref(),
            &log.containers,
        ) {
            events.push((row.event_time, o));
        }
    }
    for record in &log.sessions {
        let mut b = Builder::new(record);
        b.patient();
        for line in record.sessions.iter().flat_map(|s| s.lines.iter()) {
            let e = &line.entry;
            let ours = e
                .payload
                .drawn()
                .iter()
                .any(|x| log.containers.iter().any(|c| c.id == x.container));
            if !ours || !in_period(e.event_time) {
                continue;
            }
            people.push(e.author.clone());
            if let Some(w) = b.witnesses.get(&e.id) {
                people.push(w.author.clone());
            }
            if let EntryStatus::Amended { by } | EntryStatus::Struck { by } = line.status
                && let Some(c) = b.lines.get(&by)
            {
                people.push(c.entry.author.clone());
            }
            for r in b.line_resources(line) {
                events.push((e.event_time, r));
            }
        }
        for p in b.entries.drain(..) {
            once(p["resource"].clone(), &mut head);
        }
    }
    people.sort();
    people.dedup();
    for name in &people {
        once(
            json!({ "resourceType": "Practitioner", "id": ids.clinician(name), "name": [{ "text": name }] }),
            &mut head,
        );
    }
    events.sort_by_key(|a| a.0);
    let entries: Vec<Value> = head
        .into_iter()
        .chain(events.into_iter().map(|(_, r)| r))
        .map(|r| entry(ids, r))
        .collect();
    let content = serde_json::to_string(&entries).unwrap_or_default();
    let digest = crate::domain::signature::hex(&Sha256::digest(content.as_bytes()));
    json!({
        "resourceType": "Bundle",
        "id": format!(
            "kapchart-stock-log-{}-{}-{}",
            log.drug.as_deref().map_or("all".to_string(), |d| d.chars().filter(char::is_ascii_alphanumeric).collect()),
            log.from.format("%Y%m%d"),
            log.to.format("%Y%m%d")
        ),
        "identifier": {
            "system": EXPORT_IDENTIFIER_SYSTEM,
            "value": format!("stock-log/sha256:{digest}"),
        },
        "type": "collection",
        "timestamp": instant(log.exported),
        "entry": entries,
    })
}
