//! Clinicians across laptops: an admin records a clinician's NPI and the clinic's staff id
//! (`kapchart clinician update`), checked, audited and signed; the FHIR export carries them
//! as Practitioner identifiers; `kapchart sync` matches one clinician charting on two laptops
//! to one Practitioner on the clinic's server (by staff id under `[clinic] staff_id_system`,
//! else by NPI), and both laptops' sessions point at it. Against the FHIR test server.

mod common;

use common::Home;
use common::fhir_server::FhirServer;
use serde_json::Value;

const STAFF_SYSTEM: &str = "https://clinic.example/staff";
const NURSE_PASS: &str = "tidal meadow lantern quartz";

/// A laptop whose chart's first clinician is Dr. Test, with one patient and a dosing
/// session charted by Dr. Test: the session.
fn laptop(home: &Home, server: &FhirServer, staff_system: &str) -> String {
    home.configure(&format!(
        "[clinic]\nstaff_id_system = \"{staff_system}\"\n\n[sync]\nserver = \"{}\"\n",
        server.base()
    ));
    let (_, session) = home.with_dosing_session();
    home.ok(&["log", "--session", &session, "@-5m bp 128/82 hr 74"]);
    session
}

fn practitioners_named(server: &FhirServer, name: &str) -> Vec<Value> {
    server.get("Practitioner?_count=100")["entry"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|e| e["resource"].clone())
        .filter(|p| p["name"][0]["text"] == name)
        .collect()
}

#[test]
fn one_clinician_on_two_laptops_is_one_practitioner_by_staff_id() {
    let server = FhirServer::start_local();
    let (a, b) = (Home::new(), Home::new());
    laptop(&a, &server, STAFF_SYSTEM);
    laptop(&b, &server, STAFF_SYSTEM);
    for home in [&a, &b] {
        let said = home.ok(&[
            "clinician",
            "update",
            "1",
            "--staff-id",
            "S-0042",
            "--npi",
            "1234567893",
        ]);
        assert_eq!(said, "clinician 1: NPI 1234567893, staff id S-0042");
    }
    let before = practitioners_named(&server, "Dr. Test").len();
    a.ok(&["sync"]);
    b.ok(&["sync"]);
    let held = practitioners_named(&server, "Dr. Test");
    assert_eq!(held.len(), before + 1, "one Practitioner: {held:#?}");
    let practitioner = &held[held.len() - 1];
    let ids = practitioner["identifier"].as_array().unwrap();
    assert!(
        ids.iter()
            .any(|i| i["system"] == STAFF_SYSTEM && i["value"] == "S-0042"),
        "{practitioner}"
    );
    assert!(
        ids.iter()
            .any(|i| i["system"] == "http://hl7.org/fhir/sid/us-npi" && i["value"] == "1234567893"),
        "{practitioner}"
    );
    // Both laptops' encounters name that Practitioner.
    let reference = format!("Practitioner/{}", practitioner["id"].as_str().unwrap());
    let encounters: Vec<Value> = server.get("Encounter?_count=100")["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["resource"].clone())
        .collect();
    let naming = encounters
        .iter()
        .filter(|e| e["participant"][0]["individual"]["reference"] == reference.as_str())
        .count();
    assert_eq!(naming, 2, "{encounters:#?}");
    // A second sync sends nothing.
    for home in [&a, &b] {
        assert!(home.ok(&["sync"]).starts_with("nothing to send"));
    }
    assert_eq!(practitioners_named(&server, "Dr. Test").len(), before + 1);
}

#[test]
fn without_a_staff_id_system_the_npi_matches_and_without_either_each_laptop_has_its_own() {
    let server = FhirServer::start_local();
    let (a, b) = (Home::new(), Home::new());
    laptop(&a, &server, "");
    laptop(&b, &server, "");
    let before = practitioners_named(&server, "Dr. Test").len();
    a.ok(&["sync"]);
    b.ok(&["sync"]);
    assert_eq!(
        practitioners_named(&server, "Dr. Test").len(),
        before + 2,
        "no identifier: each chart's own Practitioner"
    );
    let (c, d) = (Home::new(), Home::new());
    laptop(&c, &server, "");
    laptop(&d, &server, "");
    for home in [&c, &d] {
        home.ok(&["clinician", "update", "1", "--npi", "1245319599"]);
    }
    c.ok(&["sync"]);
    d.ok(&["sync"]);
    assert_eq!(
        practitioners_named(&server, "Dr. Test").len(),
        before + 3,
        "by NPI: one more"
    );
}

#[test]
fn identifiers_are_checked_recorded_by_admins_listed_and_verified() {
    let home = Home::new();
    home.with_dosing_session();
    let bad = home.fails(&["clinician", "update", "1", "--npi", "1234567890"], 1);
    assert!(
        bad.contains("check digit should be 3") && bad.contains("nothing was changed"),
        "{bad}"
    );
    let bad = home.fails(&["clinician", "update", "1", "--staff-id", "S 42"], 1);
    assert!(bad.contains("not a staff id"), "{bad}");
    let bad = home.fails(&["clinician", "update", "1"], 1);
    assert!(bad.contains("--npi"), "{bad}");
    let bad = home.fails(&["clinician", "update", "7", "--npi", "1234567893"], 1);
    assert!(bad.contains("no clinician 7"), "{bad}");
    // A refused pair records neither.
    home.fails(
        &[
            "clinician",
            "update",
            "1",
            "--npi",
            "1234567893",
            "--staff-id",
            "a b",
        ],
        1,
    );
    assert!(!home.ok(&["clinician", "list"]).contains("NPI"));

    home.ok(&[
        "clinician",
        "update",
        "1",
        "--npi",
        "1234567893",
        "--staff-id",
        "S-0042",
    ]);
    let list = home.ok(&["clinician", "list"]);
    assert!(list.contains("NPI 1234567893, staff id S-0042"), "{list}");
    let json: Value = serde_json::from_str(&home.ok(&["clinician", "list", "--json"])).unwrap();
    assert_eq!(json[0]["npi"], "1234567893");
    assert_eq!(json[0]["staff_id"], "S-0042");
    // An empty value withdraws one.
    home.ok(&["clinician", "update", "1", "--staff-id", ""]);
    let json: Value = serde_json::from_str(&home.ok(&["clinician", "list", "--json"])).unwrap();
    assert_eq!(json[0]["staff_id"], Value::Null);
    assert_eq!(json[0]["npi"], "1234567893");

    // Only an admin records them.
    let out = home
        .cmd(&["clinician", "add", "--name", "Nia Nurse", "--role", "nurse"])
        .env("KAPCHART_NEW_PASSPHRASE", NURSE_PASS)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = home
        .cmd(&["clinician", "update", "1", "--npi", "1245319599"])
        .env("KAPCHART_CLINICIAN", "Nia Nurse")
        .env("KAPCHART_PASSPHRASE", NURSE_PASS)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("only an admin"),
        "{err}"
    );

    // Each change is an audited row the chain and its signatures cover.
    let as_admin = |args: &[&str]| common::signing::ok_as(&home, "1", common::PASSPHRASE, args);
    let audit = as_admin(&["audit", "--json"]);
    assert_eq!(audit.matches("team.identifier").count(), 3, "{audit}");
    let verified = as_admin(&["verify"]);
    assert!(verified.contains("ok"), "{verified}");
    // An insider who rewrites the NPI behind kapchart's back is caught by verify.
    common::signing::tamper(
        &home,
        &["clinician_identifiers"],
        "UPDATE clinician_identifiers SET value = '1245319599' WHERE kind = 'npi'",
    );
    let problems = common::signing::verify_problems(&home);
    assert!(
        problems.iter().any(|p| p.contains("clinician-identifier")),
        "{problems:#?}"
    );
}

/// A clinician given an NPI after their first sync keeps their one Practitioner (updated in
/// place, now with the NPI), another laptop with the same NPI then matches it, and an NPI
/// withdrawn on the first laptop leaves still one.
#[test]
fn an_identifier_given_after_the_first_sync_updates_the_practitioner_in_place() {
    let server = FhirServer::start_local();
    let (a, b) = (Home::new(), Home::new());
    laptop(&a, &server, "");
    laptop(&b, &server, "");
    let before = practitioners_named(&server, "Dr. Test").len();
    a.ok(&["sync"]);
    assert_eq!(practitioners_named(&server, "Dr. Test").len(), before + 1);
    a.ok(&["clinician", "update", "1", "--npi", "1234567893"]);
    a.ok(&["sync"]);
    let held = practitioners_named(&server, "Dr. Test");
    assert_eq!(held.len(), before + 1, "updated in place: {held:#?}");
    assert!(
        held.iter()
            .any(|p| p["identifier"].to_string().contains("1234567893")),
        "{held:#?}"
    );
    b.ok(&["clinician", "update", "1", "--npi", "1234567893"]);
    b.ok(&["sync"]);
    assert_eq!(
        practitioners_named(&server, "Dr. Test").len(),
        before + 1,
        "the second laptop matches it by NPI"
    );
    b.ok(&["clinician", "update", "1", "--npi", ""]);
    b.ok(&["sync"]);
    assert_eq!(
        practitioners_named(&server, "Dr. Test").len(),
        before + 1,
        "withdrawn: updated where the server holds it, not sent as a second"
    );
    for home in [&a, &b] {
        assert!(home.ok(&["sync"]).starts_with("nothing to send"));
    }
}
