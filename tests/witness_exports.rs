//! A witnessed dose in the exports: the report's timeline names the witness, and the FHIR
//! MedicationAdministration carries them as a performer with the function "witness" (and
//! still validates with `fhir.resources`, R4B models; see tests/fhir.rs for the setup).

mod common;

use common::fhir_validator::run_validator;

use common::fixture::{Fixture, at, dosing_session};
use kapchart::domain::Payload;
use kapchart::domain::team::Role;
use kapchart::export::{fhir, session_record_from};

const NURSE_PASS: &str = "tidal meadow lantern quartz";

/// The fixture's session with its ketamine dose witnessed by a nurse; the dose's id.
fn witnessed() -> (Fixture, i64) {
    // Made one at a time: under the full suite's load, two charts created at the same moment
    // of a fresh process now and then failed in SQLCipher's key setup (see `store::key`).
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let mut f = dosing_session(44);
    let nurse = f
        .chart
        .add_team_member("Nia Nurse", Role::Nurse, Some("RN"), NURSE_PASS, at(-60))
        .unwrap();
    let dose = f
        .lines_now()
        .iter()
        .find(|l| matches!(l.entry.payload, Payload::Dose(_)))
        .unwrap()
        .entry
        .id;
    f.chart
        .behind_the_door()
        .record_as_witness(dose, &nurse.to_string(), NURSE_PASS, at(11))
        .unwrap();
    (f, dose)
}

#[test]
fn the_report_timeline_names_the_witness_of_a_dose() {
    let (f, _) = witnessed();
    let record = session_record_from(&f.chart, &f.config, f.session, at(50)).unwrap();
    let md = kapchart::export::report::markdown(&record, &f.config.measures);
    let row = md
        .lines()
        .find(|l| l.contains("ketamine 0.75 mg/kg IM"))
        .unwrap_or_else(|| panic!("no dose row in\n{md}"));
    assert!(row.contains("witnessed by Nia Nurse at 10:11"), "{row}");
}

#[test]
fn the_fhir_dose_carries_its_witness_as_a_performer_and_validates() {
    let (f, dose) = witnessed();
    let record = session_record_from(&f.chart, &f.config, f.session, at(50)).unwrap();
    let bundle = fhir::bundle(&record);
    let ma = bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .find(|r| {
            r["resourceType"] == "MedicationAdministration"
                && r["id"] == record.chart.name(&format!("entry/{dose}/dose")).as_str()
        })
        .unwrap_or_else(|| panic!("no MedicationAdministration for entry {dose}"));
    let performers = ma["performer"].as_array().unwrap();
    assert_eq!(performers.len(), 2, "{ma:#}");
    assert_eq!(performers[0]["actor"]["display"], "Dr. Mara Quinn");
    let w = &performers[1];
    assert_eq!(w["actor"]["display"], "Nia Nurse");
    let coding = &w["function"]["coding"][0];
    assert_eq!(
        coding["system"],
        "http://terminology.hl7.org/CodeSystem/med-admin-perform-function"
    );
    assert_eq!(coding["code"], "witness");
    // The witness is a Practitioner of the bundle, so the reference resolves.
    let reference = w["actor"]["reference"].as_str().unwrap();
    assert!(
        bundle["entry"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["fullUrl"].as_str().unwrap().ends_with(reference)),
        "{reference}"
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("witnessed.json");
    std::fs::write(&file, serde_json::to_string_pretty(&bundle).unwrap()).unwrap();
    let (ok, out) = run_validator(&[file]);
    assert!(ok, "FHIR R4B validation failed:\n{out}");
}
