//! Spravato (esketamine) sessions through the real binary: intranasal devices, lot numbers,
//! dissociation (CADSS-6) and respiratory status, on the chart and in every export.

mod common;

use common::fhir_validator::validate_fhir;

use common::Home;
use serde_json::Value;

fn entries(home: &Home, session: &str) -> Vec<Value> {
    home.show_json(session)["entries"]
        .as_array()
        .expect("entries")
        .clone()
}

fn of_kind(all: &[Value], kind: &str) -> Vec<Value> {
    all.iter().filter(|e| e["kind"] == kind).cloned().collect()
}

/// The flags of an entry, without the late-entry mark (lines here are charted with @-Nm).
fn flag_codes(entry: &Value) -> Vec<String> {
    entry["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .filter(|c| c != "late")
        .collect()
}

fn log(home: &Home, session: &str, line: &str) -> String {
    home.ok(&["log", "--session", session, line])
}

#[test]
fn an_intranasal_dose_knows_its_devices_and_refuses_a_count_that_disagrees() {
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    log(&home, &session, "@-30m bp 128/82 hr 74");
    log(&home, &session, "@-20m dose esketamine 56mg IN lot ABC123");
    let all = entries(&home, &session);
    let doses = of_kind(&all, "dose");
    assert_eq!(doses.len(), 1);
    assert_eq!(doses[0]["payload"]["devices"], 2, "{}", doses[0]);
    assert_eq!(doses[0]["payload"]["lot"], "ABC123");
    assert_eq!(
        doses[0]["summary"],
        "Dose esketamine 56 mg IN, 2 devices, lot ABC123"
    );
    assert!(flag_codes(&doses[0]).is_empty(), "{}", doses[0]);

    // Devices that disagree with the mg, or a dose that is not whole devices: refused,
    // naming both, and nothing written.
    let err = home.fails(
        &[
            "log",
            "--session",
            &session,
            "dose esketamine 56mg IN devices 3",
        ],
        1,
    );
    assert!(
        err.contains("3 devices of esketamine IN are 84 mg"),
        "{err}"
    );
    assert!(err.contains("the dose is 56 mg (2 devices)"), "{err}");
    let err = home.fails(
        &["log", "--session", &session, "dose esketamine 70mg IN"],
        1,
    );
    assert!(err.contains("comes in devices of 28 mg"), "{err}");
    assert_eq!(of_kind(&entries(&home, &session), "dose").len(), 1);
}

#[test]
fn devices_charted_one_by_one_start_the_clock_at_the_first() {
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    log(&home, &session, "@-40m bp 128/82 hr 74");
    log(&home, &session, "@-30m dose esketamine 28mg IN lot ABC123");
    log(
        &home,
        &session,
        "@-25m dose esketamine 28mg IN lot ABC123 devices 1",
    );
    let all = entries(&home, &session);
    let doses = of_kind(&all, "dose");
    assert_eq!(doses.len(), 2);
    assert!(doses.iter().all(|d| d["payload"]["devices"] == 1));
    // The label's 5-minute rest was kept: no mark.
    assert!(doses.iter().all(|d| flag_codes(d).is_empty()), "{doses:?}");
    // The T+40 BP counts from the first device (30 minutes ago), not the second.
    let checks: Value =
        serde_json::from_str(&home.ok(&["session", "checks", &session, "--json"])).unwrap();
    let bp40 = checks["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["t_plus_min"] == 40)
        .unwrap_or_else(|| panic!("no T+40 in {checks}"))
        .clone();
    let due = chrono::DateTime::parse_from_rfc3339(bp40["due"].as_str().unwrap()).unwrap();
    let first =
        chrono::DateTime::parse_from_rfc3339(doses[0]["event_time"].as_str().unwrap()).unwrap();
    assert_eq!(due - first, chrono::Duration::minutes(40));

    // A third device two minutes after the second is marked (not refused, not an alert).
    log(&home, &session, "@-23m dose esketamine 28mg IN lot ABC123");
    let third = of_kind(&entries(&home, &session), "dose")[2].clone();
    assert_eq!(flag_codes(&third), ["device-rest"], "{third}");
    assert!(
        third["flags"]
            .to_string()
            .contains("device charted 2 min after the previous one (rest between devices: 5 min)"),
        "{third}"
    );
}

#[test]
fn a_dose_without_the_lot_the_clinic_requires_is_marked_and_the_lot_reaches_every_export() {
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    log(&home, &session, "@-30m bp 128/82 hr 74");
    // The shipped config requires a lot for esketamine, not for ondansetron.
    log(&home, &session, "@-25m dose ondansetron 4mg PO");
    log(&home, &session, "@-20m dose esketamine 56mg IN");
    log(&home, &session, "@-10m dose esketamine 28mg IN lot LOT-77");
    let all = entries(&home, &session);
    let doses = of_kind(&all, "dose");
    assert!(flag_codes(&doses[0]).is_empty(), "{}", doses[0]);
    assert_eq!(flag_codes(&doses[1]), ["lot-missing"], "{}", doses[1]);
    assert!(flag_codes(&doses[2]).iter().all(|c| c != "lot-missing"));
    let text = home.ok(&["session", "show", &session]);
    assert!(text.contains("lot number missing: esketamine"), "{text}");

    let md = home.ok(&["export", "--session", &session, "--format", "md"]);
    assert!(md.contains("28 mg (1 device), lot LOT-77"), "{md}");
    assert!(md.contains("56 mg (2 devices)"), "{md}");
    let html = home.ok(&["export", "--session", &session, "--format", "html"]);
    assert!(html.contains("28 mg (1 device), lot LOT-77"), "{html}");
    let fhir = home.ok(&["export", "--session", &session, "--format", "fhir"]);
    let bundle: Value = serde_json::from_str(&fhir).unwrap();
    let with_lot: Vec<&Value> = bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .filter(|r| r["resourceType"] == "MedicationAdministration")
        .filter(|r| r["contained"].is_array())
        .collect();
    assert_eq!(with_lot.len(), 1, "{fhir}");
    let med = &with_lot[0]["contained"][0];
    assert_eq!(med["resourceType"], "Medication");
    assert_eq!(med["batch"]["lotNumber"], "LOT-77");
    assert_eq!(
        with_lot[0]["medicationReference"]["reference"],
        format!("#{}", med["id"].as_str().unwrap())
    );
    assert!(
        with_lot[0]["dosage"]["text"]
            .as_str()
            .unwrap()
            .contains("1 device, lot LOT-77")
    );
    validate_fhir(&fhir);
}

#[test]
fn dissociation_and_respiratory_status_are_charted_flagged_and_exported() {
    let home = Home::new();
    // A clinic sets a CADSS-6 alert level (none is shipped: there is no published cut-off).
    let config_dir = home.path().join("xdg-config").join("kapchart");
    std::fs::create_dir_all(&config_dir).unwrap();
    std::fs::write(
        config_dir.join("config.toml"),
        "[alerts]\ncadss6_total_at_or_above = 4\n",
    )
    .unwrap();
    let (_, session) = home.with_dosing_session();
    log(
        &home,
        &session,
        "@-60m bp 128/82 hr 74 spo2 98 rr 14 resp ok",
    );
    log(&home, &session, "@-50m dose esketamine 56mg IN lot ABC123");
    log(&home, &session, "@-30m cadss 1 0 2 0 1 0 moaas 4");
    log(
        &home,
        &session,
        "@-25m spo2 91 rr 7 resp depressed shallow breathing, chin lift",
    );
    log(&home, &session, "@-10m cadss 0 0 0 0 0 0 resp ok");
    let all = entries(&home, &session);
    let cadss = of_kind(&all, "dissociation");
    assert_eq!(cadss.len(), 2);
    assert_eq!(
        cadss[0]["payload"]["cadss6"],
        serde_json::json!([1, 0, 2, 0, 1, 0])
    );
    assert_eq!(cadss[0]["summary"], "CADSS-6 4 (items 1 0 2 0 1 0)");
    assert_eq!(flag_codes(&cadss[0]), ["dissociation"]);
    assert!(flag_codes(&cadss[1]).is_empty());
    let resp = of_kind(&all, "respiration");
    assert_eq!(resp.len(), 3);
    assert_eq!(resp[1]["payload"]["depressed"], true);
    assert_eq!(resp[1]["payload"]["note"], "shallow breathing, chin lift");
    assert_eq!(flag_codes(&resp[1]), ["resp-depressed"]);
    assert!(flag_codes(&resp[0]).is_empty() && flag_codes(&resp[2]).is_empty());

    // Out of range or short: refused with what is expected, nothing written.
    let err = home.fails(&["log", "--session", &session, "cadss 1 0 5 0 1 0"], 1);
    assert!(
        err.contains("item 3 must be a whole number from 0 to 4"),
        "{err}"
    );
    let err = home.fails(&["log", "--session", &session, "resp fine"], 1);
    assert!(err.contains("ok or depressed"), "{err}");
    assert_eq!(of_kind(&entries(&home, &session), "dissociation").len(), 2);

    let md = home.ok(&["export", "--session", &session, "--format", "md"]);
    assert!(md.contains("CADSS-6 4 (items 1 0 2 0 1 0)"), "{md}");
    assert!(
        md.contains("Respiration: depressed: shallow breathing, chin lift"),
        "{md}"
    );
    let html = home.ok(&["export", "--session", &session, "--format", "html"]);
    assert!(html.contains("CADSS-6 4 (items 1 0 2 0 1 0)"), "{html}");
    // The CSV flowsheet: each score joins the reading within 3 minutes, in the last columns.
    let csv = home.ok(&["export", "--session", &session, "--format", "csv"]);
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].ends_with(",entry_id,cadss6,resp,moaas_entry_id"),
        "{csv}"
    );
    let with = |needle: &str| -> Vec<&str> {
        lines
            .iter()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no {needle} in {csv}"))
            .split(',')
            .collect()
    };
    // The first reading (with resp ok) and the 91% reading with respiratory depression.
    assert_eq!(with(",128,82,")[14..16], ["", "ok"]);
    let depressed = with(",91,7,");
    assert_eq!(depressed[14..16], ["", "depressed"]);
    let flags = depressed[11];
    assert!(flags.contains("; respiratory depression"), "{flags}");
    assert_eq!(flags.matches("late entry").count(), 1, "{flags}");
    // The CADSS-6 at -30m has no reading near it: a row of its own, with its flag.
    let cadss_row = with("CADSS-6 4 (alert at >= 4)");
    assert_eq!(cadss_row[14..16], ["4", ""]);
    let fhir = home.ok(&["export", "--session", &session, "--format", "fhir"]);
    let bundle: Value = serde_json::from_str(&fhir).unwrap();
    let observations: Vec<&Value> = bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .filter(|r| r["resourceType"] == "Observation")
        .collect();
    let cadss_obs: Vec<&&Value> = observations
        .iter()
        .filter(|o| o["code"]["coding"][0]["code"] == "cadss6")
        .collect();
    assert_eq!(cadss_obs.len(), 2);
    assert_eq!(cadss_obs[0]["valueInteger"], 4);
    assert_eq!(cadss_obs[0]["component"].as_array().unwrap().len(), 6);
    assert_eq!(cadss_obs[0]["component"][2]["valueInteger"], 2);
    assert_eq!(cadss_obs[0]["interpretation"][0]["coding"][0]["code"], "H");
    let depressed = observations
        .iter()
        .find(|o| o["valueCodeableConcept"]["coding"][0]["code"] == "resp-depressed")
        .expect("a respiratory depression observation");
    assert_eq!(
        depressed["valueCodeableConcept"]["text"],
        "respiratory depression: shallow breathing, chin lift"
    );
    validate_fhir(&fhir);
}
