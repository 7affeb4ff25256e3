//! Identity that survives the laptop, through the binary: two laptops' charts never give one
//! id to two records, a copy of one chart gives the same ids, a chart made before kapchart
//! kept a UUID derives the same one every time, and the patient carries the clinic's MRN
//! system and the recorded sex.

mod common;

use common::Home;
use kapchart::domain::identity::ChartUuid;
use serde_json::Value;

/// A chart with one patient (MRN `mrn`, sex female) and one dosing session with a BP:
/// (patient, session).
fn laptop(home: &Home, name: &str, mrn: &str) -> (String, String) {
    home.ok(&["init", "--clinician", "Dr. Test"]);
    let patient = home.ok(&[
        "patient",
        "add",
        "--name",
        name,
        "--dob",
        "1980-05-17",
        "--mrn",
        mrn,
        "--weight",
        "70",
    ]);
    home.ok(&["patient", "update", &patient, "--sex", "female"]);
    let session = home.ok(&[
        "session",
        "start",
        "--patient",
        &patient,
        "--kind",
        "dosing",
    ]);
    home.ok(&["log", "--session", &session, "bp 120/80 hr 70"]);
    (patient, session)
}

fn export(home: &Home, session: &str) -> Value {
    serde_json::from_str(&home.ok(&["export", "--session", session, "--format", "fhir"])).unwrap()
}

fn ids(bundle: &Value) -> Vec<String> {
    bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{}/{}",
                e["resource"]["resourceType"].as_str().unwrap(),
                e["resource"]["id"].as_str().unwrap()
            )
        })
        .collect()
}

fn of_type<'a>(bundle: &'a Value, rtype: &str) -> &'a Value {
    bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .find(|r| r["resourceType"] == rtype)
        .unwrap_or_else(|| panic!("no {rtype}"))
}

fn set_config(home: &Home, text: &str) {
    home.configure(text);
}

#[test]
fn two_laptops_patient_1_and_session_1_get_different_ids_and_a_copy_of_one_chart_the_same() {
    let (a, b) = (Home::new(), Home::new());
    let (pa, sa) = laptop(&a, "Alex Rivera", "A-1");
    let (pb, sb) = laptop(&b, "Zoe Other", "Z-9");
    assert_eq!(
        (pa.as_str(), sa.as_str()),
        (pb.as_str(), sb.as_str()),
        "both are 1 and 1"
    );
    let (ea, eb) = (export(&a, &sa), export(&b, &sb));
    let (ia, ib) = (ids(&ea), ids(&eb));
    for id in &ia {
        assert!(!ib.contains(id), "{id} is in both laptops' exports");
    }
    assert_ne!(of_type(&ea, "Patient")["id"], of_type(&eb, "Patient")["id"]);

    // A copy of laptop A's chart (its file and keyring, as a restored backup is) names its
    // records with the same ids.
    let c = Home::new();
    std::fs::create_dir_all(c.chart().parent().unwrap()).unwrap();
    for suffix in ["", ".keyring"] {
        std::fs::copy(
            format!("{}{suffix}", a.chart().display()),
            format!("{}{suffix}", c.chart().display()),
        )
        .unwrap();
    }
    assert_eq!(ids(&export(&c, &sa)), ia);
    // Exporting again changes nothing either.
    assert_eq!(ids(&export(&a, &sa)), ia);
}

#[test]
fn the_patient_carries_the_clinics_mrn_system_and_gender_and_every_resource_its_uuid() {
    let home = Home::new();
    let (_, session) = laptop(&home, "Alex Rivera", "A-1");
    let b = export(&home, &session);
    let patient = of_type(&b, "Patient");
    // Without [clinic] mrn_system the MRN has no system; the sex gives the gender.
    assert_eq!(patient["identifier"][0]["value"], "A-1");
    assert!(
        patient["identifier"][0].get("system").is_none(),
        "{patient}"
    );
    assert_eq!(patient["gender"], "female");
    set_config(&home, "[clinic]\nmrn_system = \"urn:oid:1.2.3.4.5\"\n");
    let b = export(&home, &session);
    let patient = of_type(&b, "Patient");
    assert_eq!(patient["identifier"][0]["system"], "urn:oid:1.2.3.4.5");
    assert_eq!(patient["identifier"][0]["value"], "A-1");
    // Every resource's id is a UUID, carried as its identifier under the chart's URN.
    let chart_urn = patient["identifier"][1]["system"].as_str().unwrap();
    let chart = ChartUuid::parse(chart_urn.strip_prefix("urn:uuid:").unwrap()).unwrap();
    assert_eq!(patient["id"], chart.name("patient/1"));
    for e in b["entry"].as_array().unwrap() {
        let r = &e["resource"];
        let id = r["id"].as_str().unwrap();
        assert!(ChartUuid::parse(id).is_some(), "{id}");
        let own = serde_json::json!({ "system": chart_urn, "value": id });
        // R4 Provenance has no identifier: its UUID id is all it carries.
        if r["resourceType"] == "Provenance" {
            continue;
        }
        assert!(
            r["identifier"]
                .as_array()
                .is_some_and(|list| list.contains(&own)),
            "{r}"
        );
    }
    // A sex the export does not know is left out, not guessed.
    home.ok(&["patient", "update", "1", "--sex", "declined to say"]);
    assert!(
        of_type(&export(&home, &session), "Patient")
            .get("gender")
            .is_none()
    );
    // A misspelt setting is refused, naming it and what was meant.
    set_config(&home, "[clinic]\nmrn_sytem = \"x\"\n");
    let e = home.fails(&["export", "--session", &session, "--format", "fhir"], 1);
    assert!(
        e.contains("mrn_sytem") && e.contains("expected `mrn_system`"),
        "{e}"
    );
}

#[test]
fn a_chart_made_before_kapchart_kept_a_uuid_derives_one_from_its_chain_every_time() {
    let home = Home::new();
    let (_, session) = laptop(&home, "Alex Rivera", "A-1");
    let before = ids(&export(&home, &session));
    // As a chart from before: no recorded UUID (an insider removing it is the same case).
    common::signing::raw(&home)
        .execute_batch("DROP TRIGGER chart_identity_no_delete; DELETE FROM chart_identity;")
        .unwrap();
    let derived = ids(&export(&home, &session));
    assert_ne!(derived, before, "the recorded UUID is gone");
    assert_eq!(
        ids(&export(&home, &session)),
        derived,
        "and derived the same each time"
    );
}

#[test]
fn a_clinicians_recorded_credentials_are_their_practitioners_qualification() {
    let home = Home::new();
    let (_, session) = laptop(&home, "Alex Rivera", "A-1");
    let out = home
        .cmd(&[
            "clinician",
            "add",
            "--name",
            "Nia Nurse",
            "--role",
            "nurse",
            "--credentials",
            "RN",
        ])
        .env("KAPCHART_CLINICIAN", "Dr. Test")
        .env("KAPCHART_NEW_PASSPHRASE", "tidal meadow lantern quartz")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = home
        .cmd(&["log", "--session", &session, "hr 72"])
        .env("KAPCHART_CLINICIAN", "Nia Nurse")
        .env("KAPCHART_PASSPHRASE", "tidal meadow lantern quartz")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let b: Value = serde_json::from_str(
        &home
            .cmd(&["export", "--session", &session, "--format", "fhir"])
            .env("KAPCHART_CLINICIAN", "Dr. Test")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).to_string())
            .unwrap(),
    )
    .unwrap();
    let nurse = b["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .find(|r| r["resourceType"] == "Practitioner" && r["name"][0]["text"] == "Nia Nurse")
        .unwrap_or_else(|| panic!("no Practitioner for the nurse: {b}"));
    assert_eq!(nurse["qualification"][0]["code"]["text"], "RN");
    let doctor = b["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .find(|r| r["resourceType"] == "Practitioner" && r["name"][0]["text"] == "Dr. Test")
        .unwrap();
    assert!(
        doctor.get("qualification").is_none(),
        "none recorded: {doctor}"
    );
}
