//! The controlled-substance log as FHIR through the `kapchart` binary: a delivery of two lots,
//! a vial opened, a dose drawn from it, a witnessed waste and a count; `stock log --format
//! fhir` validates against the FHIR R4B models (fhir.resources, as tests/fhir.rs) and carries
//! the right lots, quantities in mg and references; the session's own FHIR export gives its
//! dose the same lot and container, as the very same resource.
//!
//! The validation needs a Python with `fhir.resources` 8.x: `$KAPCHART_FHIR_PYTHON`, else
//! `target/fhir-venv/bin/python`, which `bash .ci/test` (the README's test command) creates.

mod common;

use common::fhir_validator::validate_fhir;

use common::{Home, PASSPHRASE};
use kapchart::export::fhir::{CONTAINER_SYSTEM, DEA_SYSTEM, STOCK_CONTAINER_EXTENSION};
use serde_json::Value;

const NURSE_PASS: &str = "tidal meadow lantern quartz";

fn as_who(home: &Home, who: &str, pass: &str, args: &[&str]) -> String {
    let out = home
        .cmd(args)
        .env("KAPCHART_CLINICIAN", who)
        .env("KAPCHART_PASSPHRASE", pass)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "kapchart {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn ok(home: &Home, args: &[&str]) -> String {
    as_who(home, "Dr. Test", PASSPHRASE, args)
}

fn receive(home: &Home, lot: &str, containers: &str, supplier: &str, dea: &str) -> String {
    ok(
        home,
        &[
            "stock",
            "receive",
            "ketamine",
            "--strength",
            "50mg/mL",
            "--volume",
            "10mL",
            "--containers",
            containers,
            "--lot",
            lot,
            "--expires",
            if lot == "L123" { "2027-06" } else { "2028-01" },
            "--supplier",
            supplier,
            "--supplier-address",
            "1 Main St, Springfield",
            "--supplier-dea",
            dea,
            "--invoice",
            "INV-9",
        ],
    )
}

fn resources(bundle: &Value) -> Vec<&Value> {
    bundle["entry"]
        .as_array()
        .expect("bundle has entries")
        .iter()
        .map(|e| &e["resource"])
        .collect()
}

fn find<'a>(bundle: &'a Value, rtype: &str, id: &str) -> &'a Value {
    resources(bundle)
        .into_iter()
        .find(|r| r["resourceType"] == rtype && r["id"] == id)
        .unwrap_or_else(|| panic!("no {rtype}/{id} in {bundle:#}"))
}

/// The resource a `Type/id` reference names, in the bundle.
fn resolve<'a>(bundle: &'a Value, reference: &Value) -> &'a Value {
    let text = reference["reference"].as_str().expect("a reference");
    let (rtype, id) = text.split_once('/').expect("Type/id");
    find(bundle, rtype, id)
}

/// Each container an administration or delivery names, with its mg.
fn containers(resource: &Value) -> Vec<(String, f64)> {
    resource["extension"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["url"] == STOCK_CONTAINER_EXTENSION)
        .map(|e| {
            let parts = e["extension"].as_array().unwrap();
            let part = |url: &str| parts.iter().find(|p| p["url"] == url).unwrap();
            let id = &part("container")["valueIdentifier"];
            assert_eq!(id["system"], CONTAINER_SYSTEM);
            let q = &part("quantity")["valueQuantity"];
            assert_eq!(
                (&q["system"], &q["code"]),
                (&"http://unitsofmeasure.org".into(), &"mg".into())
            );
            (
                id["value"].as_str().unwrap().to_string(),
                q["value"].as_f64().unwrap(),
            )
        })
        .collect()
}

/// The batch of the contained Medication a MedicationAdministration references.
fn batch(ma: &Value) -> &Value {
    let reference = ma["medicationReference"]["reference"].as_str().unwrap();
    let id = reference.strip_prefix('#').expect("a contained Medication");
    let med = ma["contained"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == id)
        .expect("the referenced Medication is contained");
    assert_eq!(med["code"]["coding"][0]["code"], "6130", "{med}");
    &med["batch"]
}

/// Two lots received (V1, V2 of L123 from Acme; V3 of L777 from Beta), V1 opened, a dose of
/// 35 mg from it, a waste of 10 mg witnessed by the nurse, and a close-of-business count.
fn charted() -> (Home, String, String, String) {
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    let out = home
        .cmd(&["clinician", "add", "--name", "Nia Nurse", "--role", "nurse"])
        .env("KAPCHART_CLINICIAN", "Dr. Test")
        .env("KAPCHART_NEW_PASSPHRASE", NURSE_PASS)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        receive(&home, "L123", "2", "Acme Pharma", "RA1234563"),
        "receipt 1: V1 V2"
    );
    assert_eq!(
        receive(&home, "L777", "1", "Beta Supply", "RB7654321"),
        "receipt 2: V3"
    );
    ok(&home, &["stock", "open", "V1"]);
    let dose = ok(
        &home,
        &[
            "log",
            "--session",
            &session,
            "dose ketamine 35mg IM vial V1",
        ],
    );
    let waste = ok(
        &home,
        &[
            "log",
            "--session",
            &session,
            "waste ketamine 10mg vial V1 witness",
        ],
    );
    as_who(&home, "Nia Nurse", NURSE_PASS, &["witness", &waste]);
    ok(
        &home,
        &[
            "stock", "count", "V1~455", "V2=500", "V3=500", "--taken", "close",
        ],
    );
    (home, session, dose, waste)
}

#[test]
fn the_stock_log_as_fhir_validates_and_carries_lots_quantities_and_references() {
    let (home, session, dose, waste) = charted();
    let text = ok(&home, &["stock", "log", "--format", "fhir"]);
    validate_fhir(&text);
    let b: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(b["type"], "collection");

    // One Medication per lot, each with its batch, form, package amount and strength.
    let meds: Vec<&Value> = resources(&b)
        .into_iter()
        .filter(|r| r["resourceType"] == "Medication")
        .collect();
    assert_eq!(meds.len(), 2, "{meds:#?}");
    let l123 = meds
        .iter()
        .find(|m| m["batch"]["lotNumber"] == "L123")
        .unwrap();
    assert_eq!(l123["batch"]["expirationDate"], "2027-06");
    assert_eq!(
        l123["code"]["coding"][0]["system"],
        "http://www.nlm.nih.gov/research/umls/rxnorm"
    );
    assert_eq!(l123["code"]["coding"][0]["code"], "6130");
    assert_eq!(l123["amount"]["numerator"]["value"], 10);
    assert_eq!(l123["amount"]["numerator"]["code"], "mL");
    let strength = &l123["ingredient"][0]["strength"];
    assert_eq!(
        (
            &strength["numerator"]["value"],
            &strength["numerator"]["code"]
        ),
        (&50.into(), &"mg".into())
    );
    assert_eq!(strength["denominator"]["code"], "mL");
    assert!(
        l123["form"]["text"].as_str().unwrap().contains("vial"),
        "{l123}"
    );

    // The receipt: a SupplyDelivery from the supplier, with its DEA number, of the lot.
    let delivery = find(&b, "SupplyDelivery", &common::named(&b, "stock/1"));
    assert_eq!(delivery["status"], "completed");
    assert_eq!(delivery["suppliedItem"]["quantity"]["value"], 2);
    assert_eq!(
        resolve(&b, &delivery["suppliedItem"]["itemReference"])["batch"]["lotNumber"],
        "L123"
    );
    let supplier = resolve(&b, &delivery["supplier"]);
    assert_eq!(supplier["name"], "Acme Pharma");
    assert_eq!(supplier["identifier"][0]["system"], DEA_SYSTEM);
    assert_eq!(supplier["identifier"][0]["value"], "RA1234563");
    assert_eq!(
        containers(delivery),
        vec![("V1".into(), 500.0), ("V2".into(), 500.0)]
    );
    let other = find(&b, "SupplyDelivery", &common::named(&b, "stock/2"));
    assert_eq!(
        resolve(&b, &other["suppliedItem"]["itemReference"])["batch"]["lotNumber"],
        "L777"
    );
    assert_eq!(
        resolve(&b, &other["supplier"])["identifier"][0]["value"],
        "RB7654321"
    );

    // The dose: its lot is V1's (not the other lot's), 35 mg from V1, to the patient.
    let ma = find(
        &b,
        "MedicationAdministration",
        &common::named(&b, &format!("entry/{dose}/dose")),
    );
    assert_eq!(ma["status"], "completed");
    assert_eq!(batch(ma)["lotNumber"], "L123");
    assert_eq!(batch(ma)["expirationDate"], "2027-06");
    assert_eq!(containers(ma), vec![("V1".into(), 35.0)]);
    assert_eq!(ma["dosage"]["dose"]["value"], 35);
    assert_eq!(
        resolve(&b, &ma["subject"])["name"][0]["text"],
        "Test Patient"
    );
    assert_eq!(
        resolve(&b, &ma["performer"][0]["actor"])["name"][0]["text"],
        "Dr. Test"
    );
    assert_eq!(
        ma["context"]["reference"],
        format!(
            "Encounter/{}",
            common::named(&b, &format!("session/{session}"))
        )
    );

    // The waste: not-done with its manner, 10 mg from V1, and its witness.
    let w = find(
        &b,
        "MedicationAdministration",
        &common::named(&b, &format!("entry/{waste}/waste")),
    );
    assert_eq!(w["status"], "not-done");
    assert!(
        w["statusReason"][0]["text"]
            .as_str()
            .unwrap()
            .starts_with("wasted: "),
        "{w}"
    );
    assert_eq!(w["dosage"]["dose"]["value"], 10);
    assert_eq!(containers(w), vec![("V1".into(), 10.0)]);
    assert_eq!(batch(w)["lotNumber"], "L123");
    let witness = w["performer"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["function"]["coding"][0]["code"] == "witness")
        .expect("the waste's witness");
    assert_eq!(
        resolve(&b, &witness["actor"])["name"][0]["text"],
        "Nia Nurse"
    );

    // The count: an Observation per container, counted against expected, of its lot.
    let counted: Vec<&Value> = resources(&b)
        .into_iter()
        .filter(|r| r["resourceType"] == "Observation")
        .collect();
    assert_eq!(counted.len(), 3);
    let v1 = counted
        .iter()
        .find(|o| o["extension"][0]["extension"][0]["valueIdentifier"]["value"] == "V1")
        .unwrap();
    assert_eq!(v1["valueQuantity"]["value"], 455);
    assert_eq!(v1["component"][0]["valueQuantity"]["value"], 455);
    assert!(
        v1["method"]["text"]
            .as_str()
            .unwrap()
            .starts_with("estimated")
    );
    assert_eq!(resolve(&b, &v1["focus"][0])["batch"]["lotNumber"], "L123");

    // Every reference resolves in the bundle, but the Encounter (the session export's).
    let mut refs = Vec::new();
    collect_references(&b, &mut refs);
    for r in refs
        .iter()
        .filter(|r| !r.starts_with('#') && !r.starts_with("Encounter/"))
    {
        resolve(&b, &serde_json::json!({ "reference": r }));
    }
    assert!(refs.len() > 10, "{refs:?}");

    // The same log, exported again, is identified the same.
    let again: Value =
        serde_json::from_str(&ok(&home, &["stock", "log", "--format", "fhir"])).unwrap();
    assert_eq!(again["identifier"], b["identifier"]);
    assert_eq!(again["id"], b["id"]);
    // Limited to a drug the clinic has none of, the log holds none of this.
    let none: Value = serde_json::from_str(&ok(
        &home,
        &["stock", "log", "--format", "fhir", "--drug", "esketamine"],
    ))
    .unwrap();
    assert_eq!(none["entry"].as_array().map_or(0, Vec::len), 0, "{none:#}");
    assert_ne!(none["identifier"], b["identifier"]);
}

fn collect_references(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(o) => {
            if let Some(Value::String(r)) = o.get("reference") {
                out.push(r.clone());
            }
            o.values().for_each(|x| collect_references(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| collect_references(x, out)),
        _ => {}
    }
}

#[test]
fn the_session_export_gives_a_drawn_dose_its_lot_and_container_as_the_stock_log_does() {
    let (home, session, dose, waste) = charted();
    let text = ok(
        &home,
        &["export", "--session", &session, "--format", "fhir"],
    );
    validate_fhir(&text);
    let s: Value = serde_json::from_str(&text).unwrap();
    let ma = find(
        &s,
        "MedicationAdministration",
        &common::named(&s, &format!("entry/{dose}/dose")),
    );
    assert_eq!(batch(ma)["lotNumber"], "L123");
    assert_eq!(batch(ma)["expirationDate"], "2027-06");
    assert_eq!(containers(ma), vec![("V1".into(), 35.0)]);
    assert!(
        ma["dosage"]["text"].as_str().unwrap().ends_with("from V1"),
        "{ma}"
    );
    // The witness charted in the session: a participant of its Encounter beside Dr. Test.
    let encounter = s["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .find(|r| r["resourceType"] == "Encounter")
        .unwrap();
    let people: Vec<&str> = encounter["participant"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["individual"]["display"].as_str().unwrap())
        .collect();
    assert_eq!(people, ["Dr. Test", "Nia Nurse"], "{encounter}");
    // The stock log holds the very same resources for the dose and the waste.
    let log: Value =
        serde_json::from_str(&ok(&home, &["stock", "log", "--format", "fhir"])).unwrap();
    for id in [
        common::named(&s, &format!("entry/{dose}/dose")),
        common::named(&s, &format!("entry/{waste}/waste")),
    ] {
        assert_eq!(
            find(&log, "MedicationAdministration", &id),
            find(&s, "MedicationAdministration", &id),
            "{id}"
        );
    }
    // A lot typed on the line unlike the vial's: the vial's lot is exported, the typed one
    // kept in the dose's text and flagged.
    let typed = ok(
        &home,
        &[
            "log",
            "--session",
            &session,
            "dose ketamine 5mg IM vial V1 lot L777",
        ],
    );
    let s: Value = serde_json::from_str(&ok(
        &home,
        &["export", "--session", &session, "--format", "fhir"],
    ))
    .unwrap();
    let ma = find(
        &s,
        "MedicationAdministration",
        &common::named(&s, &format!("entry/{typed}/dose")),
    );
    assert_eq!(batch(ma)["lotNumber"], "L123");
    assert!(
        ma["dosage"]["text"].as_str().unwrap().contains("lot L777"),
        "{ma}"
    );
    assert!(
        ma["note"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["text"].as_str().unwrap().contains(
                "lot L777 was typed on the line; the container drawn from is of lot L123"
            )),
        "{ma}"
    );
    // A struck dose gives its milligrams back and is entered-in-error in both exports.
    ok(
        &home,
        &["strike", &dose, "--reason", "charted on the wrong vial"],
    );
    let s: Value = serde_json::from_str(&ok(
        &home,
        &["export", "--session", &session, "--format", "fhir"],
    ))
    .unwrap();
    let log: Value =
        serde_json::from_str(&ok(&home, &["stock", "log", "--format", "fhir"])).unwrap();
    let id = common::named(&s, &format!("entry/{dose}/dose"));
    assert_eq!(
        find(&s, "MedicationAdministration", &id)["status"],
        "entered-in-error"
    );
    assert_eq!(
        find(&log, "MedicationAdministration", &id),
        find(&s, "MedicationAdministration", &id)
    );
}
