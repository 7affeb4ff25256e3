//! What the FHIR export says about the patient beside their sessions' readings, through
//! `kapchart export --format fhir`: each stretch of the medication list as a
//! MedicationStatement (active, or completed once taken off), the PHQ-9 item 9 safety flag as
//! one Flag (active, inactive once a risk assessment cleared it, entered-in-error when only
//! struck questionnaires raised it), the risk assessment, consent, screening, eligibility,
//! intention and a bedside observation; the bundle validates against the FHIR R4B models,
//! and a struck consent keeps its id as entered-in-error.

mod common;

use common::Home;
use common::fhir_validator::validate_fhir;
use serde_json::Value;

fn export(home: &Home, patient: &str) -> Value {
    let text = home.ok(&["export", "--patient", patient, "--format", "fhir"]);
    validate_fhir(&text);
    serde_json::from_str(&text).unwrap()
}

fn of_type<'a>(bundle: &'a Value, rtype: &str) -> Vec<&'a Value> {
    bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .filter(|r| r["resourceType"] == rtype)
        .collect()
}

fn by_id<'a>(bundle: &'a Value, id: &str) -> &'a Value {
    bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("no resource {id} in the bundle"))
}

fn phq9(home: &Home, session: &str, item9: &str) -> String {
    home.ok(&[
        "measure",
        "add",
        "--session",
        session,
        "phq9",
        "1",
        "2",
        "1",
        "0",
        "3",
        "2",
        "1",
        "0",
        item9,
    ])
}

/// A new chart with one patient, Alex Rivera: their id.
fn new_patient(home: &Home) -> String {
    home.ok(&["init", "--clinician", "Dr. Test"]);
    home.ok(&[
        "patient",
        "add",
        "--name",
        "Alex Rivera",
        "--dob",
        "1986-04-12",
    ])
}

/// An intake session for `patient`: its id.
fn intake(home: &Home, patient: &str) -> String {
    home.ok(&["session", "start", "--patient", patient, "--kind", "intake"])
}

#[test]
fn medications_and_the_safety_flag_are_exported_as_they_stood() {
    let home = Home::new();
    let patient = new_patient(&home);
    home.ok(&[
        "patient",
        "update",
        &patient,
        "--med-add",
        "Clonazepam 0.5 mg at night",
        "--med-add",
        "sertraline 50 mg",
    ]);
    let intake = intake(&home, &patient);
    let raised = phq9(&home, &intake, "2");

    let b = export(&home, &patient);
    let statements = of_type(&b, "MedicationStatement");
    assert_eq!(statements.len(), 2, "{statements:#?}");
    assert!(statements.iter().all(|s| s["status"] == "active"));
    let clonazepam = statements
        .iter()
        .find(|s| s["medicationCodeableConcept"]["text"] == "Clonazepam 0.5 mg at night")
        .unwrap();
    let clonazepam_id = clonazepam["id"].as_str().unwrap().to_string();
    assert!(
        clonazepam["note"][0]["text"]
            .as_str()
            .unwrap()
            .contains("benzodiazepine"),
        "{clonazepam}"
    );
    assert!(clonazepam["effectivePeriod"].get("end").is_none());
    let flag_id = common::named(&b, &format!("patient/{patient}/safety-flag"));
    let flag = by_id(&b, &flag_id);
    assert_eq!(flag["status"], "active", "{flag}");
    assert_eq!(flag["category"][0]["coding"][0]["code"], "safety");
    assert_eq!(flag["code"]["coding"][0]["code"], "44260-8");
    assert!(
        flag["code"]["text"]
            .as_str()
            .unwrap()
            .contains("answered 2")
    );
    assert!(flag["period"].get("end").is_none());
    assert_eq!(
        flag["encounter"]["reference"],
        format!(
            "Encounter/{}",
            common::named(&b, &format!("session/{intake}"))
        )
    );

    // The clonazepam comes off the list; a risk assessment clears the flag.
    home.ok(&[
        "patient",
        "update",
        &patient,
        "--med-stop",
        "Clonazepam 0.5 mg at night",
    ]);
    let risk = home.ok(&[
        "log",
        "--session",
        &intake,
        "risk-assessment C-SSRS screen negative; safety plan reviewed",
    ]);
    let b = export(&home, &patient);
    let clonazepam = by_id(&b, &clonazepam_id);
    assert_eq!(clonazepam["status"], "completed", "{clonazepam}");
    assert!(clonazepam["effectivePeriod"]["end"].is_string());
    assert_eq!(
        of_type(&b, "MedicationStatement")
            .iter()
            .filter(|s| s["status"] == "active")
            .count(),
        1
    );
    let flag = by_id(&b, &flag_id);
    assert_eq!(flag["status"], "inactive", "{flag}");
    assert!(flag["period"]["end"].is_string(), "{flag}");
    let assessment = by_id(&b, &common::named(&b, &format!("entry/{risk}/risk")));
    assert_eq!(assessment["resourceType"], "RiskAssessment");
    assert_eq!(assessment["status"], "final");
    assert_eq!(
        assessment["note"][0]["text"],
        "C-SSRS screen negative; safety plan reviewed"
    );

    // Listed again later: a second stretch, its own statement.
    home.ok(&[
        "patient",
        "update",
        &patient,
        "--med-add",
        "Clonazepam 0.5 mg at night",
    ]);
    let b = export(&home, &patient);
    assert_eq!(of_type(&b, "MedicationStatement").len(), 3);
    assert_eq!(by_id(&b, &clonazepam_id)["status"], "completed");

    // Only a struck questionnaire raised it: the one Flag, entered in error.
    home.ok(&["strike", &risk, "--reason", "charted for the wrong patient"]);
    home.ok(&[
        "strike",
        &raised,
        "--reason",
        "charted for the wrong patient",
    ]);
    let b = export(&home, &patient);
    let flag = by_id(&b, &flag_id);
    assert_eq!(flag["status"], "entered-in-error", "{flag}");
    assert_eq!(
        by_id(&b, &common::named(&b, &format!("entry/{risk}/risk")))["status"],
        "entered-in-error"
    );
}

#[test]
fn intake_consent_screening_eligibility_and_observations_are_exported() {
    let home = Home::new();
    let patient = new_patient(&home);
    // A patient who never had a flag has no Flag.
    let b = export(&home, &patient);
    assert!(of_type(&b, "Flag").is_empty());
    assert!(of_type(&b, "MedicationStatement").is_empty());

    let intake = intake(&home, &patient);
    let mut ids = Vec::new();
    for line in [
        "screen psychosis no",
        "eligibility eligible no contraindications found",
        "consent KAP course, risks and transport rules explained",
        "intention To meet my grief with less fear",
        "setting eye mask, own playlist, weighted blanket",
        "obs calm, eyes closed",
    ] {
        ids.push(home.ok(&["log", "--session", &intake, line]));
    }
    let b = export(&home, &patient);
    let named = |i: usize, suffix: &str| common::named(&b, &format!("entry/{}/{suffix}", ids[i]));
    let consent = by_id(&b, &named(2, "consent"));
    assert_eq!(consent["resourceType"], "Consent");
    assert_eq!(consent["status"], "active");
    assert_eq!(consent["scope"]["coding"][0]["code"], "treatment");
    let text = consent["sourceAttachment"]["data"].as_str().unwrap();
    assert_eq!(
        String::from_utf8(common::fhir_validator::base64_decode(text)).unwrap(),
        "KAP course, risks and transport rules explained"
    );
    for (i, suffix, category, value) in [
        (0, "screening", "survey", "Screening active-psychosis: no"),
        (
            1,
            "eligibility",
            "survey",
            "Eligibility (clinician's decision): eligible: no contraindications found",
        ),
        (3, "intention", "survey", "To meet my grief with less fear"),
        (
            4,
            "setting",
            "survey",
            "eye mask, own playlist, weighted blanket",
        ),
        (5, "obs", "exam", "calm, eyes closed"),
    ] {
        let o = by_id(&b, &named(i, suffix));
        assert_eq!(o["resourceType"], "Observation", "{o}");
        assert_eq!(o["status"], "final", "{o}");
        assert_eq!(o["category"][0]["coding"][0]["code"], category, "{o}");
        assert_eq!(o["valueString"], value, "{o}");
    }

    // A struck consent keeps its id, entered in error.
    home.ok(&[
        "strike",
        &ids[2],
        "--reason",
        "recorded before the patient had read it",
    ]);
    let b = export(&home, &patient);
    let consent = by_id(&b, &common::named(&b, &format!("entry/{}/consent", ids[2])));
    assert_eq!(consent["status"], "entered-in-error");
}

/// The same resources reach a clinic's FHIR server by `kapchart sync`, once each: a second
/// sync after a risk assessment updates the Flag in place.
#[test]
fn sync_sends_the_medications_flag_consent_and_assessment_once() {
    let server = common::fhir_server::FhirServer::start();
    let home = Home::new();
    home.configure(&format!("[sync]\nserver = \"{}\"\n", server.base()));
    let patient = new_patient(&home);
    home.ok(&[
        "patient",
        "update",
        &patient,
        "--med-add",
        "lamotrigine 100 mg",
    ]);
    let intake = intake(&home, &patient);
    home.ok(&["log", "--session", &intake, "consent KAP course explained"]);
    phq9(&home, &intake, "1");
    let before = |t: &str| server.count(t);
    let (flags, statements, consents) = (
        before("Flag"),
        before("MedicationStatement"),
        before("Consent"),
    );
    home.ok(&["sync"]);
    assert_eq!(server.count("Flag"), flags + 1);
    assert_eq!(server.count("MedicationStatement"), statements + 1);
    assert_eq!(server.count("Consent"), consents + 1);
    let b: Value =
        serde_json::from_str(&home.ok(&["export", "--patient", &patient, "--format", "fhir"]))
            .unwrap();
    let flag_id = common::named(&b, &format!("patient/{patient}/safety-flag"));
    assert_eq!(server.get(&format!("Flag/{flag_id}"))["status"], "active");

    home.ok(&[
        "log",
        "--session",
        &intake,
        "risk-assessment C-SSRS negative",
    ]);
    home.ok(&["sync"]);
    assert_eq!(server.count("Flag"), flags + 1, "updated in place");
    assert!(server.count("RiskAssessment") >= 1);
    let flag = server.get(&format!("Flag/{flag_id}"));
    assert_eq!(flag["status"], "inactive", "{flag}");
}

/// Each session's Provenance reads the session's signed audit rows: from the session's own
/// objects through the `audit_object` index, never by walking the audit trail (which made
/// every export, and a sync of every patient, slower the longer the chart's trail).
#[test]
fn a_sessions_signed_rows_and_trail_are_read_by_the_audit_object_index_not_by_walking_it() {
    use chrono::TimeZone;
    let dir = tempfile::tempdir().unwrap();
    let now = chrono::FixedOffset::east_opt(0)
        .unwrap()
        .with_ymd_and_hms(2026, 11, 20, 12, 0, 0)
        .unwrap();
    let mut chart = kapchart::app::Chart::create(
        &dir.path().join("c.db"),
        "pw",
        "Dr. Trail Reads",
        2000,
        now - chrono::Duration::days(400),
    )
    .unwrap();
    let config = kapchart::config::Config::default();
    kapchart::demo::scale::generate(&mut chart, &config, 3, 7, now, &mut |_, _| {}).unwrap();
    use kapchart::store::audit::TrailOf;
    let store = chart.behind_the_door_ref();
    // The session's signed rows (its Provenance), and the trail `kapchart audit --session`
    // and `--patient` list, the same join.
    for plan in [
        store.signed_session_trail_plan(1).unwrap(),
        store.audit_trail_plan(TrailOf::Session(1)).unwrap(),
        store.audit_trail_plan(TrailOf::Patient(1)).unwrap(),
    ] {
        reads_by_object(&plan);
    }
}

fn reads_by_object(plan: &[String]) {
    let shown = plan.join("\n");
    // Each step that reads the audit table finds one object's rows by kind and id; reading
    // by kind alone walks every entry's (or note's) rows of the chart.
    let audit: Vec<&String> = plan
        .iter()
        .filter(|l| l.starts_with("SEARCH a ") || l.starts_with("SCAN a"))
        .collect();
    assert!(!audit.is_empty(), "{shown}");
    for step in audit {
        assert_eq!(
            step, "SEARCH a USING INDEX audit_object (object_kind=? AND object_id=?)",
            "{shown}"
        );
    }
}
