//! FHIR R4 export: a realistic dosing session (and a course of several sessions) charted
//! through the library at fixed times, exported, checked field by field, compared with a golden
//! file and validated with the Python package `fhir.resources` (R4B models).
//!
//! The validation needs a Python with `fhir.resources` 8.x: `$KAPCHART_FHIR_PYTHON`, else
//! `target/fhir-venv/bin/python`, which `bash .ci/test` (the README's test command) creates.

mod common;

use common::fhir_validator::run_validator;

use chrono::{DateTime, Duration, FixedOffset, TimeZone};
use common::fixture::{Fixture, at, dosing_session, mask_ed25519};
use kapchart::app::charting;
use kapchart::domain::{ChartLine, EntryId, Payload, SessionKind};
use kapchart::export::fhir::{self, FHIR_BASE};
use kapchart::export::{Record, course_record_from, session_record_from};
use kapchart::store::NewSession;
use serde_json::Value;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

const NOTE_TEXT: &str = "## Data\nKetamine 0.75 mg/kg IM. BP peaked 164/98 at T+30.\n\n\
                         ## Assessment\nTolerated well; grief work surfaced.\n\n\
                         ## Plan\nIntegration session within 72 h.\n";
const ADDENDUM_TEXT: &str = "Patient called the next day: slept well, no nausea.";

/// The fixture's dosing session charted to T+50, with measures, an infusion, a struck dose and
/// a struck sedation score, discharge, the end, and a signed note with an addendum.
fn charted() -> Fixture {
    let mut f = dosing_session(60);
    f.log_at(48, "phq9 1 1 2 1 0 1 1 0 0");
    f.log_at(49, "gad7 2 1 1 0 1 2 0");
    f.log_at(50, "pcl5 1 2 1 0 3 2 1 0 1 2 4 1 0 2 1 3 0 1 2 1");
    f.log_at(52, "dose ondansetron 4mg IV over 15m");
    f.log_at(55, "dose midazolam 1mg IV");
    let midazolam = entry_at(&f, 55, "dose");
    charting::strike_entry(
        &mut f.chart,
        midazolam,
        "charted for the wrong patient",
        &at(56),
    )
    .unwrap();
    let moaas4 = entry_at(&f, 26, "sedation");
    charting::strike_entry(&mut f.chart, moaas4, "charted twice", &at(57)).unwrap();
    f.discharge_at(130);
    // The fixture charts vitals to T+50 only: ending needs a reason, which is recorded.
    charting::end_session(
        &mut f.chart,
        &f.config,
        f.session,
        Vec::new(),
        Some("vitals after T+50 kept on the monitor printout"),
        &at(135),
    )
    .unwrap();

    let note = kapchart::app::course::open_note(&mut f.chart, &f.config, f.session, at(24 * 60))
        .unwrap()
        .note
        .id;
    f.chart
        .behind_the_door()
        .save_draft(note, NOTE_TEXT, at(24 * 60 + 30))
        .unwrap();
    f.chart
        .behind_the_door()
        .sign_note(note, None, at(24 * 60 + 45))
        .unwrap();
    f.chart
        .behind_the_door()
        .add_addendum(note, ADDENDUM_TEXT, at(26 * 60))
        .unwrap();
    f
}

fn exported() -> DateTime<FixedOffset> {
    at(27 * 60)
}

fn session_record(f: &Fixture, when: DateTime<FixedOffset>) -> Record {
    session_record_from(&f.chart, &f.config, f.session, when).unwrap()
}

/// The id of the entry of `kind` charted at `minute` (the first, when several).
fn entry_at(f: &Fixture, minute: i64, kind: &str) -> EntryId {
    f.lines_now()
        .iter()
        .find(|l| l.entry.event_time == at(minute) && l.entry.payload.kind() == kind)
        .unwrap_or_else(|| panic!("no {kind} entry at minute {minute}"))
        .entry
        .id
}

fn lines(f: &Fixture) -> Vec<ChartLine> {
    f.lines_now()
}

fn resources(bundle: &Value) -> Vec<&Value> {
    bundle["entry"]
        .as_array()
        .expect("bundle has entries")
        .iter()
        .map(|e| &e["resource"])
        .collect()
}

fn resource<'a>(bundle: &'a Value, rtype: &str, id: &str) -> &'a Value {
    resources(bundle)
        .into_iter()
        .find(|r| r["resourceType"] == rtype && r["id"] == id)
        .unwrap_or_else(|| panic!("no {rtype}/{id} in the bundle"))
}

fn of_type<'a>(bundle: &'a Value, rtype: &str) -> Vec<&'a Value> {
    resources(bundle)
        .into_iter()
        .filter(|r| r["resourceType"] == rtype)
        .collect()
}

fn codes(concept: &Value) -> Vec<(String, String)> {
    concept["coding"]
        .as_array()
        .map(|c| {
            c.iter()
                .map(|c| {
                    (
                        c["system"].as_str().unwrap_or_default().to_string(),
                        c["code"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn loinc(code: &str) -> (String, String) {
    ("http://loinc.org".to_string(), code.to_string())
}

/// The id of the resource the chart names `what` ("patient/1", "session/3").
fn name(f: &Fixture, what: &str) -> String {
    f.chart.uuid().unwrap().name(what)
}

fn obs_id(f: &Fixture, entry: EntryId, suffix: &str) -> String {
    name(f, &format!("entry/{entry}/{suffix}"))
}

/// Every resource id one entry can become.
fn entry_ids(f: &Fixture, entry: EntryId) -> Vec<String> {
    [
        "bp",
        "hr",
        "spo2",
        "rr",
        "temp",
        "moaas",
        "cadss6",
        "resp",
        "aldrete",
        "dose",
        "waste",
        "response",
        "total",
        "unreadable",
    ]
    .iter()
    .map(|s| obs_id(f, entry, s))
    .collect()
}

/// Every `reference` anywhere in the bundle, with the path it sits at.
fn references(v: &Value, path: &str, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                if k == "reference"
                    && let Some(r) = child.as_str()
                {
                    out.push((path.to_string(), r.to_string()));
                }
                references(child, &format!("{path}.{k}"), out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                references(child, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

/// Checks that every fullUrl is unique and names its resource, and that every reference
/// resolves to an entry of the bundle; returns how many references there were.
fn assert_references_resolve(bundle: &Value) -> usize {
    let mut full_urls = HashSet::new();
    for e in bundle["entry"].as_array().unwrap() {
        let r = &e["resource"];
        let url = e["fullUrl"].as_str().expect("every entry has a fullUrl");
        assert_eq!(
            url,
            format!(
                "{FHIR_BASE}/{}/{}",
                r["resourceType"].as_str().unwrap(),
                r["id"].as_str().unwrap()
            )
        );
        assert!(full_urls.insert(url.to_string()), "duplicate fullUrl {url}");
    }
    let mut refs = Vec::new();
    references(bundle, "Bundle", &mut refs);
    for (path, r) in &refs {
        let absolute = if r.contains("://") || r.starts_with("urn:") {
            r.clone()
        } else {
            format!("{FHIR_BASE}/{r}")
        };
        assert!(
            full_urls.contains(&absolute),
            "{path}: reference {r} does not resolve inside the bundle"
        );
    }
    refs.len()
}

// --- the Python validator ---------------------------------------------------------------

fn write_json(dir: &Path, name: &str, v: &Value) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(v).unwrap()).unwrap();
    path
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

// --- a course of several sessions -----------------------------------------------------------

/// The charted dosing session, then an integration session two days later and a second
/// dosing session in summer time (UTC+02:00), left open, with an unsigned note draft.
fn course() -> (Fixture, i64, i64, i64) {
    let mut f = charted();
    let patient = f.chart.session(f.session).unwrap().patient_id;
    let integration_start = at(2 * 24 * 60);
    let integration = f
        .chart
        .behind_the_door()
        .start_session(
            &NewSession {
                patient_id: patient,
                kind: SessionKind::Integration,
                started: integration_start,
                intention: None,
                dosing_session_id: Some(f.session),
            },
            integration_start,
        )
        .unwrap();
    charting::record_line(
        &mut f.chart,
        &f.config,
        integration,
        "@10:05 phq9 0 1 1 0 0 1 0 0 0",
        &(integration_start + Duration::minutes(6)),
    )
    .unwrap();
    charting::end_session(
        &mut f.chart,
        &f.config,
        integration,
        Vec::new(),
        None,
        &(integration_start + Duration::minutes(50)),
    )
    .unwrap();

    let summer = FixedOffset::east_opt(7200)
        .unwrap()
        .with_ymd_and_hms(2027, 4, 15, 10, 0, 0)
        .unwrap();
    let second = f
        .chart
        .behind_the_door()
        .start_session(
            &NewSession {
                patient_id: patient,
                kind: SessionKind::Dosing,
                started: summer,
                intention: Some("Rest in what is here".into()),
                dosing_session_id: None,
            },
            summer,
        )
        .unwrap();
    for (minute, line) in [
        (1, "@10:00 bp 128/80 hr 70 spo2 98"),
        (6, "@10:05 dose esketamine 56mg IN"),
        (46, "@10:45 bp 150/94 hr 84"),
    ] {
        charting::record_line(
            &mut f.chart,
            &f.config,
            second,
            line,
            &(summer + Duration::minutes(minute)),
        )
        .unwrap();
    }
    kapchart::app::course::open_note(&mut f.chart, &f.config, second, summer + Duration::hours(3))
        .unwrap();
    (f, patient, integration, second)
}

fn course_exported() -> DateTime<FixedOffset> {
    FixedOffset::east_opt(7200)
        .unwrap()
        .with_ymd_and_hms(2027, 4, 15, 14, 0, 0)
        .unwrap()
}

// --- tests ---------------------------------------------------------------------------------

#[test]
fn bundle_is_a_collection_with_patient_practitioner_and_encounter() {
    let f = charted();
    let b = fhir::bundle(&session_record(&f, exported()));
    assert_eq!(b["resourceType"], "Bundle");
    assert_eq!(b["type"], "collection");
    assert_eq!(b["timestamp"], "2026-11-27T13:00:00+01:00");
    assert_eq!(
        b["id"],
        name(&f, &format!("export/patient/1/session/{}", f.session))
    );
    assert_eq!(
        b["identifier"]["system"],
        "https://kapchart.org/fhir/sid/export"
    );
    let identifier = b["identifier"]["value"].as_str().unwrap();
    assert!(
        identifier.starts_with("sha256:") && identifier.len() == 7 + 64,
        "{identifier}"
    );
    // Every resource named from the chart carries its UUID as a business identifier under
    // the chart's URN.
    let urn = format!("urn:uuid:{}", f.chart.uuid().unwrap());
    // (R4 Provenance has no identifier.)
    for r in resources(&b)
        .into_iter()
        .filter(|r| r["resourceType"] != "Provenance")
    {
        let id = r["id"].as_str().unwrap();
        let own = serde_json::json!({ "system": urn, "value": id });
        let carried = match &r["identifier"] {
            Value::Array(list) => list.contains(&own),
            one => *one == own,
        };
        assert!(
            carried,
            "{} {id} lacks its identifier: {r}",
            r["resourceType"]
        );
    }

    let patient = resource(&b, "Patient", &name(&f, "patient/1"));
    assert_eq!(patient["name"][0]["text"], "Alex Rivera");
    assert_eq!(patient["birthDate"], "1986-04-12");
    assert_eq!(patient["identifier"][0]["value"], "DEMO-1001");
    assert_eq!(patient["identifier"][0]["type"]["coding"][0]["code"], "MR");

    let practitioners = of_type(&b, "Practitioner");
    assert_eq!(practitioners.len(), 1, "one clinician charted everything");
    assert_eq!(practitioners[0]["name"][0]["text"], "Dr. Mara Quinn");

    let enc = resource(
        &b,
        "Encounter",
        &name(&f, &format!("session/{}", f.session)),
    );
    assert_eq!(enc["status"], "finished");
    assert_eq!(enc["class"]["code"], "AMB");
    assert_eq!(
        enc["class"]["system"],
        "http://terminology.hl7.org/CodeSystem/v3-ActCode"
    );
    assert_eq!(enc["type"][0]["text"], "dosing");
    assert_eq!(enc["period"]["start"], "2026-11-26T09:55:00+01:00");
    assert_eq!(enc["period"]["end"], "2026-11-26T12:15:00+01:00");
    assert_eq!(
        enc["participant"][0]["individual"]["reference"],
        format!("Practitioner/{}", practitioners[0]["id"].as_str().unwrap())
    );
    assert_eq!(
        enc["subject"]["reference"],
        format!("Patient/{}", name(&f, "patient/1"))
    );
}

#[test]
fn vitals_carry_loinc_codes_ucum_units_and_the_event_offset() {
    let f = charted();
    let b = fhir::bundle(&session_record(&f, exported()));
    let baseline = entry_at(&f, 0, "vitals");

    let bp = resource(&b, "Observation", &obs_id(&f, baseline, "bp"));
    assert_eq!(bp["status"], "final");
    assert_eq!(
        bp["category"][0]["coding"][0]["system"],
        "http://terminology.hl7.org/CodeSystem/observation-category"
    );
    assert_eq!(bp["category"][0]["coding"][0]["code"], "vital-signs");
    assert_eq!(codes(&bp["code"]), [loinc("85354-9")]);
    assert_eq!(bp["effectiveDateTime"], "2026-11-26T10:00:00+01:00");
    assert_eq!(bp["issued"], "2026-11-26T10:00:30+01:00");
    assert!(bp.get("valueQuantity").is_none(), "a panel has components");
    let comps = bp["component"].as_array().unwrap();
    assert_eq!(comps.len(), 2);
    assert_eq!(codes(&comps[0]["code"]), [loinc("8480-6")]);
    assert_eq!(comps[0]["valueQuantity"]["value"], 146.0);
    assert_eq!(codes(&comps[1]["code"]), [loinc("8462-4")]);
    assert_eq!(comps[1]["valueQuantity"]["value"], 92.0);
    for c in comps {
        assert_eq!(c["valueQuantity"]["system"], "http://unitsofmeasure.org");
        assert_eq!(c["valueQuantity"]["code"], "mm[Hg]");
    }
    // The pre-dose caution: H, with the flag's words, and the acknowledgement as a note.
    assert_eq!(bp["interpretation"][0]["coding"][0]["code"], "H");
    assert_eq!(
        bp["interpretation"][0]["coding"][0]["system"],
        "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
    );
    let notes: Vec<&str> = bp["note"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["text"].as_str().unwrap())
        .collect();
    assert!(
        notes.iter().any(|n| n.contains("consider delaying")),
        "{notes:?}"
    );
    assert!(
        notes
            .iter()
            .any(|n| n.contains("rechecked after rest; proceeding")),
        "{notes:?}"
    );

    let want = [
        ("hr", "8867-4", "/min", 80.0),
        ("rr", "9279-1", "/min", 14.0),
        ("spo2", "2708-6", "%", 98.0),
        ("temp", "8310-5", "Cel", 36.7),
    ];
    for (suffix, code, unit, value) in want {
        let o = resource(&b, "Observation", &obs_id(&f, baseline, suffix));
        assert_eq!(codes(&o["code"])[0], loinc(code), "{suffix}");
        assert_eq!(o["valueQuantity"]["code"], unit, "{suffix}");
        assert_eq!(
            o["valueQuantity"]["system"], "http://unitsofmeasure.org",
            "{suffix}"
        );
        assert_eq!(o["valueQuantity"]["value"], value, "{suffix}");
        assert_eq!(o["effectiveDateTime"], "2026-11-26T10:00:00+01:00");
        assert!(o.get("interpretation").is_none(), "{suffix} has no flag");
        // Only the BP has the caution: no flag notes on the others.
        assert!(o.get("note").is_none(), "{suffix}: {}", o["note"]);
    }
    let spo2 = resource(&b, "Observation", &obs_id(&f, baseline, "spo2"));
    assert_eq!(
        codes(&spo2["code"]),
        [loinc("2708-6"), loinc("59408-5")],
        "pulse oximetry as a second coding"
    );

    // One vitals line with four values becomes four Observations.
    let t15 = entry_at(&f, 25, "vitals");
    let of_t15 = entry_ids(&f, t15);
    let from_t15: Vec<&str> = of_type(&b, "Observation")
        .iter()
        .filter_map(|o| o["id"].as_str())
        .filter(|id| of_t15.iter().any(|x| x == id))
        .collect();
    assert_eq!(from_t15.len(), 4, "{from_t15:?}");

    // MOAA/S: kapchart's CodeSystem, survey, an integer.
    let moaas = resource(
        &b,
        "Observation",
        &obs_id(&f, entry_at(&f, 41, "sedation"), "moaas"),
    );
    assert_eq!(
        codes(&moaas["code"]),
        [(fhir::OBSERVATION_CODES.to_string(), "moaas".to_string())]
    );
    assert_eq!(moaas["category"][0]["coding"][0]["code"], "survey");
    assert_eq!(moaas["valueInteger"], 2);
    assert_eq!(moaas["interpretation"][0]["coding"][0]["code"], "L");

    // Aldrete: total with its five items.
    let aldrete = resource(
        &b,
        "Observation",
        &obs_id(&f, entry_at(&f, 130, "aldrete"), "aldrete"),
    );
    assert_eq!(aldrete["valueInteger"], 10);
    assert_eq!(aldrete["component"].as_array().unwrap().len(), 5);
    assert_eq!(aldrete["effectiveDateTime"], "2026-11-26T12:10:00+01:00");
}

#[test]
fn amended_and_struck_entries_keep_their_history_with_fhir_statuses() {
    let f = charted();
    let b = fhir::bundle(&session_record(&f, exported()));
    let lines = lines(&f);
    let original = entry_at(&f, 40, "vitals");
    let replacement = lines
        .iter()
        .find(|l| l.entry.corrects == Some(original))
        .unwrap()
        .entry
        .id;

    // The misread SpO2, corrected the FHIR way: the replacement takes the original's id
    // (a server updates it in place and keeps 91% in its history), status corrected, and
    // its note says what it replaced, who and why.
    let spo2 = resource(&b, "Observation", &obs_id(&f, original, "spo2"));
    assert_eq!(spo2["status"], "corrected");
    assert_eq!(spo2["valueQuantity"]["value"], 95.0);
    assert_eq!(spo2["effectiveDateTime"], "2026-11-26T10:40:00+01:00");
    assert!(spo2.get("interpretation").is_none(), "95% is not low");
    let note = spo2["note"].to_string();
    assert!(
        note.contains(&format!("corrects entry {original} (was: "))
            && note.contains("91%")
            && note.contains("probe slipped; re-read"),
        "{note}"
    );
    assert!(spo2.get("extension").is_none(), "{spo2}");
    // One resource per vital: the replacement's own ids are not used, nothing is doubled.
    for suffix in ["bp", "hr", "spo2", "rr"] {
        assert_eq!(
            resource(&b, "Observation", &obs_id(&f, original, suffix))["status"],
            "corrected"
        );
        assert!(
            !resources(&b)
                .iter()
                .any(|r| r["id"] == obs_id(&f, replacement, suffix).as_str()),
            "{suffix}"
        );
        assert_eq!(
            resources(&b)
                .iter()
                .filter(|r| r["id"] == obs_id(&f, original, suffix).as_str())
                .count(),
            1
        );
    }

    // A struck sedation score and a struck dose.
    let moaas = resource(
        &b,
        "Observation",
        &obs_id(&f, entry_at(&f, 26, "sedation"), "moaas"),
    );
    assert_eq!(moaas["status"], "entered-in-error");
    assert!(moaas["note"].to_string().contains("struck by entry"));
    assert!(moaas["note"].to_string().contains("charted twice"));
    let midazolam = resource(
        &b,
        "MedicationAdministration",
        &obs_id(&f, entry_at(&f, 55, "dose"), "dose"),
    );
    assert_eq!(midazolam["status"], "entered-in-error");
    assert!(
        midazolam["note"]
            .to_string()
            .contains("charted for the wrong patient")
    );

    // Everything else stands.
    let standing: Vec<&Value> = of_type(&b, "Observation")
        .into_iter()
        .filter(|o| o["status"] == "final")
        .collect();
    assert!(standing.len() > 10, "{}", standing.len());
    // Strike entries and free-text observations are not resources of their own.
    let strike = lines
        .iter()
        .find(|l| matches!(l.entry.payload, Payload::Strike))
        .unwrap()
        .entry
        .id;
    let of_strike = entry_ids(&f, strike);
    assert!(
        !resources(&b)
            .iter()
            .any(|r| of_strike.iter().any(|x| r["id"] == x.as_str()))
    );
}

#[test]
fn doses_have_rxnorm_snomed_routes_mg_and_an_infusion_period() {
    let f = charted();
    let b = fhir::bundle(&session_record(&f, exported()));
    let enc = format!("Encounter/{}", name(&f, &format!("session/{}", f.session)));

    let ketamine = resource(
        &b,
        "MedicationAdministration",
        &obs_id(&f, entry_at(&f, 10, "dose"), "dose"),
    );
    assert_eq!(ketamine["status"], "completed");
    assert_eq!(
        codes(&ketamine["medicationCodeableConcept"]),
        [(
            "http://www.nlm.nih.gov/research/umls/rxnorm".to_string(),
            "6130".to_string()
        )]
    );
    assert_eq!(ketamine["medicationCodeableConcept"]["text"], "ketamine");
    assert_eq!(ketamine["context"]["reference"], enc);
    assert_eq!(ketamine["effectiveDateTime"], "2026-11-26T10:10:00+01:00");
    assert!(ketamine.get("effectivePeriod").is_none());
    let dosage = &ketamine["dosage"];
    assert_eq!(
        codes(&dosage["route"]),
        [("http://snomed.info/sct".to_string(), "78421000".to_string())]
    );
    assert_eq!(dosage["dose"]["value"], 52.5);
    assert_eq!(dosage["dose"]["code"], "mg");
    assert_eq!(dosage["dose"]["system"], "http://unitsofmeasure.org");
    assert_eq!(dosage["text"], "0.75 mg/kg IM = 52.5 mg (weight 70 kg)");

    let ondansetron = resource(
        &b,
        "MedicationAdministration",
        &obs_id(&f, entry_at(&f, 52, "dose"), "dose"),
    );
    assert_eq!(ondansetron["status"], "completed");
    assert!(
        ondansetron["medicationCodeableConcept"]
            .get("coding")
            .is_none(),
        "no sourced RxNorm code: text only"
    );
    assert_eq!(
        ondansetron["medicationCodeableConcept"]["text"],
        "ondansetron"
    );
    assert_eq!(
        ondansetron["effectivePeriod"]["start"],
        "2026-11-26T10:52:00+01:00"
    );
    assert_eq!(
        ondansetron["effectivePeriod"]["end"],
        "2026-11-26T11:07:00+01:00"
    );
    assert!(ondansetron.get("effectiveDateTime").is_none());
    assert_eq!(codes(&ondansetron["dosage"]["route"])[0].1, "47625008");
    assert_eq!(ondansetron["dosage"]["dose"]["value"], 4.0);
    assert_eq!(ondansetron["dosage"]["text"], "4 mg IV over 15 min");

    // An infusion still running at the export time is in progress.
    let during = fhir::bundle(&session_record(&f, at(60)));
    let running = resource(
        &during,
        "MedicationAdministration",
        &obs_id(&f, entry_at(&f, 52, "dose"), "dose"),
    );
    assert_eq!(running["status"], "in-progress");
}

#[test]
fn measures_become_questionnaire_responses_with_score_observations() {
    let f = charted();
    let record = session_record(&f, exported());
    assert_eq!(record.measures.len(), 3);
    let b = fhir::bundle(&record);
    for (id, _, _) in &record.measures {
        resource(&b, "QuestionnaireResponse", &obs_id(&f, *id, "response"));
    }

    let phq9 = entry_at(&f, 48, "measure");
    let qr = resource(&b, "QuestionnaireResponse", &obs_id(&f, phq9, "response"));
    assert_eq!(qr["status"], "completed");
    assert_eq!(qr["questionnaire"], "http://loinc.org/q/44249-1");
    assert_eq!(qr["authored"], "2026-11-26T10:48:00+01:00");
    let items = qr["item"].as_array().unwrap();
    assert_eq!(items.len(), 9);
    let answers: Vec<&str> = items
        .iter()
        .map(|i| i["answer"][0]["valueCoding"]["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        answers,
        [
            "LA6569-3", "LA6569-3", "LA6570-1", "LA6569-3", "LA6568-5", "LA6569-3", "LA6569-3",
            "LA6568-5", "LA6568-5"
        ]
    );
    assert_eq!(items[8]["linkId"], "/44260-8");
    let total = resource(&b, "Observation", &obs_id(&f, phq9, "total"));
    assert_eq!(codes(&total["code"]), [loinc("44261-6")]);
    assert_eq!(total["category"][0]["coding"][0]["code"], "survey");
    assert_eq!(total["valueInteger"], 7);
    assert_eq!(total["interpretation"][0]["text"], "mild");
    assert_eq!(
        total["derivedFrom"][0]["reference"],
        format!("QuestionnaireResponse/{}", obs_id(&f, phq9, "response"))
    );

    let gad7 = entry_at(&f, 49, "measure");
    let qr = resource(&b, "QuestionnaireResponse", &obs_id(&f, gad7, "response"));
    assert_eq!(qr["questionnaire"], "http://loinc.org/q/69737-5");
    assert_eq!(qr["item"].as_array().unwrap().len(), 7);
    assert_eq!(qr["item"][0]["answer"][0]["valueInteger"], 2);
    let total = resource(&b, "Observation", &obs_id(&f, gad7, "total"));
    assert_eq!(codes(&total["code"]), [loinc("70274-6")]);
    assert_eq!(total["valueInteger"], 7);
    assert_eq!(total["interpretation"][0]["text"], "mild");

    let pcl5 = entry_at(&f, 50, "measure");
    let qr = resource(&b, "QuestionnaireResponse", &obs_id(&f, pcl5, "response"));
    let items = qr["item"].as_array().unwrap();
    assert_eq!(items.len(), 20);
    assert_eq!(items[10]["answer"][0]["valueInteger"], 4);
    let total = resource(&b, "Observation", &obs_id(&f, pcl5, "total"));
    assert_eq!(
        codes(&total["code"]),
        [(
            fhir::OBSERVATION_CODES.to_string(),
            "pcl5-total".to_string()
        )]
    );
    assert_eq!(total["valueInteger"], 28);
    assert_eq!(
        total["interpretation"][0]["text"],
        "below provisional cut-off"
    );
    let clusters: Vec<i64> = total["component"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["valueInteger"].as_i64().unwrap())
        .collect();
    assert_eq!(clusters, [7, 3, 10, 8]);
}

#[test]
fn signed_note_and_addendum_are_document_references() {
    let f = charted();
    let b = fhir::bundle(&session_record(&f, exported()));
    let docs = of_type(&b, "DocumentReference");
    assert_eq!(docs.len(), 2, "the note and its addendum");
    let (note, addendum) = (docs[0], docs[1]);

    assert_eq!(note["status"], "current");
    assert_eq!(note["docStatus"], "final");
    assert_eq!(note["type"]["text"], "Integration note");
    assert_eq!(note["date"], "2026-11-27T10:45:00+01:00");
    assert_eq!(
        note["context"]["encounter"][0]["reference"],
        format!("Encounter/{}", name(&f, &format!("session/{}", f.session)))
    );
    let att = &note["content"][0]["attachment"];
    assert_eq!(att["contentType"], "text/markdown");
    let text = common::fhir_validator::base64_decode(att["data"].as_str().unwrap());
    assert_eq!(String::from_utf8(text.clone()).unwrap(), NOTE_TEXT);
    assert_eq!(att["extension"][0]["url"], fhir::SHA256_EXTENSION);
    assert_eq!(att["extension"][0]["valueString"], sha256_hex(&text));
    assert!(att.get("hash").is_none(), "attachment.hash is SHA-1 only");

    assert_eq!(addendum["date"], "2026-11-27T12:00:00+01:00");
    assert_eq!(addendum["relatesTo"][0]["code"], "appends");
    assert_eq!(
        addendum["relatesTo"][0]["target"]["reference"],
        format!("DocumentReference/{}", note["id"].as_str().unwrap())
    );
    let att = &addendum["content"][0]["attachment"];
    let text = common::fhir_validator::base64_decode(att["data"].as_str().unwrap());
    assert_eq!(String::from_utf8(text.clone()).unwrap(), ADDENDUM_TEXT);
    assert_eq!(att["extension"][0]["valueString"], sha256_hex(&text));
}

#[test]
fn unsigned_drafts_are_not_exported() {
    let mut f = dosing_session(60);
    let note = kapchart::app::course::open_note(&mut f.chart, &f.config, f.session, at(24 * 60))
        .unwrap()
        .note;
    assert!(note.draft.is_some() && !note.is_signed());
    let b = fhir::bundle(&session_record(&f, exported()));
    assert!(of_type(&b, "DocumentReference").is_empty());
}

#[test]
fn every_reference_resolves_inside_the_bundle() {
    let f = charted();
    let b = fhir::bundle(&session_record(&f, exported()));
    let n = assert_references_resolve(&b);
    assert!(n > 50, "{n} references");

    let (f, patient, _, _) = course();
    let b =
        fhir::bundle(&course_record_from(&f.chart, &f.config, patient, course_exported()).unwrap());
    assert_references_resolve(&b);
}

#[test]
fn ids_are_stable_across_exports() {
    let f = charted();
    let first = fhir::bundle(&session_record(&f, exported()));
    let later = fhir::bundle(&session_record(&f, exported() + Duration::days(30)));
    let ids = |b: &Value| -> Vec<String> {
        b["entry"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["fullUrl"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(ids(&first), ids(&later));
    assert_eq!(first["id"], later["id"]);
    assert_eq!(
        first["identifier"]["value"], later["identifier"]["value"],
        "the same content, whenever exported, is recognisably the same"
    );
    assert_ne!(first["timestamp"], later["timestamp"]);
    assert_eq!(
        first["entry"], later["entry"],
        "only the export time differs"
    );

    // The same resources keep their ids in the whole-course export.
    let (f, patient, _, _) = course();
    let session = fhir::bundle(&session_record(&f, exported()));
    let whole =
        fhir::bundle(&course_record_from(&f.chart, &f.config, patient, course_exported()).unwrap());
    let whole_ids: HashSet<String> = ids(&whole).into_iter().collect();
    for id in ids(&session) {
        assert!(
            whole_ids.contains(&id),
            "{id} missing from the course bundle"
        );
    }
    assert_eq!(whole["id"], name(&f, "export/patient/1/course"));
    // New content, a new identifier.
    let mut f = charted();
    let before = fhir::bundle(&session_record(&f, exported()));
    f.log_at(26 * 60 + 30, "obs a line charted after the first export");
    f.log_at(26 * 60 + 31, "bp 120/80");
    let after = fhir::bundle(&session_record(&f, exported()));
    assert_ne!(before["identifier"]["value"], after["identifier"]["value"]);
}

#[test]
fn course_bundle_has_every_session_with_its_own_offset() {
    let (f, patient, integration, second) = course();
    let record = course_record_from(&f.chart, &f.config, patient, course_exported()).unwrap();
    let b = fhir::bundle(&record);
    let encounters = of_type(&b, "Encounter");
    assert_eq!(encounters.len(), 3);
    let enc = |id: i64| resource(&b, "Encounter", &name(&f, &format!("session/{id}")));
    assert_eq!(enc(f.session)["status"], "finished");
    assert_eq!(enc(integration)["status"], "finished");
    assert_eq!(enc(integration)["type"][0]["text"], "integration");
    // The integration session's Encounter is part of its dosing session's.
    assert_eq!(
        enc(integration)["partOf"]["reference"],
        format!("Encounter/{}", name(&f, &format!("session/{}", f.session)))
    );
    assert!(enc(f.session).get("partOf").is_none());
    assert_eq!(enc(second)["status"], "in-progress");
    assert!(enc(second)["period"].get("end").is_none());
    assert_eq!(enc(second)["period"]["start"], "2027-04-15T10:00:00+02:00");

    let second_chart = kapchart::app::charting::session_chart(&f.chart, &f.config, second).unwrap();
    let second_lines = second_chart.lines();
    let id_of = |kind: &str| {
        second_lines
            .iter()
            .find(|l| l.entry.payload.kind() == kind)
            .unwrap()
            .entry
            .id
    };
    let bp = resource(&b, "Observation", &obs_id(&f, id_of("vitals"), "bp"));
    assert_eq!(bp["effectiveDateTime"], "2027-04-15T10:00:00+02:00");
    let esketamine = resource(
        &b,
        "MedicationAdministration",
        &obs_id(&f, id_of("dose"), "dose"),
    );
    assert_eq!(esketamine["effectiveDateTime"], "2027-04-15T10:05:00+02:00");
    assert_eq!(codes(&esketamine["dosage"]["route"])[0].1, "46713006");
    // The nasal spray's RxNorm code (SCDF 2201623), with the name as typed.
    assert_eq!(
        esketamine["medicationCodeableConcept"]["coding"][0]["code"],
        "2201623"
    );
    assert_eq!(
        esketamine["medicationCodeableConcept"]["coding"][0]["system"],
        "http://www.nlm.nih.gov/research/umls/rxnorm"
    );
    assert_eq!(
        esketamine["medicationCodeableConcept"]["text"],
        "esketamine"
    );
    assert_eq!(esketamine["dosage"]["dose"]["value"], 56.0);

    // Two PHQ-9s across the course, each with its own encounter.
    let phq9s: Vec<&Value> = of_type(&b, "QuestionnaireResponse")
        .into_iter()
        .filter(|r| r["questionnaire"] == "http://loinc.org/q/44249-1")
        .collect();
    assert_eq!(phq9s.len(), 2);
    assert_eq!(
        phq9s[1]["encounter"]["reference"],
        format!("Encounter/{}", name(&f, &format!("session/{integration}")))
    );
    // The first session's signed note and addendum; the second's draft stays out.
    assert_eq!(of_type(&b, "DocumentReference").len(), 2);
}

/// The session Provenance's keys, signatures, signed messages, certificates, root and chain
/// hashes are new on every run (each chart has its own keys and chain key): masked, their
/// place kept.
fn mask_provenance(b: &mut Value) {
    fn mask(v: &mut Value) {
        match v {
            Value::Object(map) => {
                for (k, x) in map.iter_mut() {
                    match k.as_str() {
                        "valueBase64Binary" | "data" => *x = Value::from("MASKED"),
                        "valueString" => *x = Value::from("MASKED"),
                        _ => mask(x),
                    }
                }
            }
            Value::Array(list) => list.iter_mut().for_each(mask),
            _ => {}
        }
    }
    for e in b["entry"].as_array_mut().unwrap() {
        if e["resource"]["resourceType"] == "Provenance" {
            mask(&mut e["resource"]);
        }
    }
}

#[test]
fn golden_session_bundle() {
    let f = charted();
    // Each chart's UUID is random; the golden file is written for this one, so that its ids
    // (named from the chart's UUID) are the same on every run.
    let mut record = session_record(&f, exported());
    record.chart = kapchart::domain::identity::ChartUuid::random([0x11; 16]);
    record.identifier_system = record.chart.urn();
    let mut b = fhir::bundle(&record);
    // The identifier hashes the content, signatures included, which are new on every run.
    b["identifier"]["value"] = Value::from("sha256:MASKED-CONTENT-HASH");
    mask_provenance(&mut b);
    let got = mask_ed25519(&f.chart, &serde_json::to_string_pretty(&b).unwrap()) + "\n";
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/fhir/session.json");
    if std::env::var_os("KAPCHART_UPDATE_GOLDEN").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; write it with KAPCHART_UPDATE_GOLDEN=1 cargo test --test fhir",
            path.display()
        )
    });
    if got != want {
        let line = got
            .lines()
            .zip(want.lines())
            .position(|(a, b)| a != b)
            .map_or(got.lines().count().min(want.lines().count()), |i| i);
        panic!(
            "the FHIR export differs from {} at line {}:\n  got:  {}\n  want: {}\n\
             If the change is intended, rewrite it with KAPCHART_UPDATE_GOLDEN=1 cargo test --test fhir",
            path.display(),
            line + 1,
            got.lines().nth(line).unwrap_or("<end>"),
            want.lines().nth(line).unwrap_or("<end>")
        );
    }
}

#[test]
fn bundles_validate_with_fhir_resources_r4b() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();

    let f = charted();
    files.push(write_json(
        dir.path(),
        "session.json",
        &fhir::bundle(&session_record(&f, exported())),
    ));
    // Mid-session: an open encounter, a running infusion, no note yet.
    files.push(write_json(
        dir.path(),
        "mid-session.json",
        &fhir::bundle(&session_record(&dosing_session(30), at(31))),
    ));
    let (f, patient, _, _) = course();
    files.push(write_json(
        dir.path(),
        "course.json",
        &fhir::bundle(
            &course_record_from(&f.chart, &f.config, patient, course_exported()).unwrap(),
        ),
    ));

    let (ok, out) = run_validator(&files);
    assert!(ok, "FHIR R4B validation failed:\n{out}");
    assert!(out.contains("3 bundle(s) valid"), "{out}");
}

#[test]
fn the_validator_rejects_an_invalid_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let f = dosing_session(30);
    let good = fhir::bundle(&session_record(&f, at(31)));
    let broken = |name: &str, change: &dyn Fn(&mut Value)| {
        let mut b = good.clone();
        let obs = b["entry"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|e| e["resource"]["resourceType"] == "Observation")
            .unwrap();
        change(&mut obs["resource"]);
        write_json(dir.path(), name, &b)
    };
    let cases = [
        broken("unknown-field.json", &|r| {
            r["valueQuantityy"] = Value::from(3)
        }),
        broken("bad-status.json", &|r| r["status"] = Value::from("struck")),
        broken("bad-time.json", &|r| {
            r["effectiveDateTime"] = Value::from("2026-11-26 10:00")
        }),
        broken("no-value.json", &|r| {
            r.as_object_mut().unwrap().remove("component");
        }),
    ];
    for file in cases {
        let (ok, out) = run_validator(std::slice::from_ref(&file));
        assert!(!ok, "{} passed validation:\n{out}", file.display());
        assert!(out.contains("Observation/"), "{out}");
    }
}
