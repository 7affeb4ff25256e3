//! The FHIR R4 server the sync tests send the chart to (`tests/fhir-server/server.mjs`,
//! through `common::fhir_server`): that it is a FHIR server as a clinic's is (capabilities,
//! conditional creates, versions, whole transactions, a token), and that its fault switches
//! do what the sync tests will rely on. With `KAPCHART_TEST_FHIR_BASE` set, the tests that
//! need only FHIR run against that server instead.
mod common;

use common::fhir_server::{FhirServer, Reply};
use serde_json::{Value, json};
use std::time::Duration;

const SSN: &str = "urn:oid:2.16.840.1.113883.4.1";
const KAPCHART_TYPES: [&str; 13] = [
    "Patient",
    "Practitioner",
    "Encounter",
    "Observation",
    "MedicationAdministration",
    "QuestionnaireResponse",
    "DocumentReference",
    "Provenance",
    "Medication",
    "Organization",
    "SupplyDelivery",
    "Communication",
    "List",
];

/// A random UUID (version 4), so runs against a shared external server do not meet.
fn uuid() -> String {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).expect("random bytes");
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// A transaction as the sync sends one: the patient created only if no patient has the
/// identifier, and an observation put at kapchart's id, naming the patient by its urn:uuid.
fn chart_bundle(identifier: &str, observation_id: &str, systolic: u32) -> Value {
    let patient_urn = format!("urn:uuid:{}", uuid());
    json!({
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": patient_urn,
                "resource": {
                    "resourceType": "Patient",
                    "identifier": [{"system": SSN, "value": identifier}],
                    "name": [{"family": "Okafor", "given": ["Ada"]}]
                },
                "request": {
                    "method": "POST",
                    "url": "Patient",
                    "ifNoneExist": format!("identifier={SSN}|{identifier}")
                }
            },
            {
                "fullUrl": format!("urn:uuid:{observation_id}"),
                "resource": {
                    "resourceType": "Observation",
                    "id": observation_id,
                    "status": "final",
                    "code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]},
                    "subject": {"reference": patient_urn},
                    "valueQuantity": {"value": systolic, "unit": "mm[Hg]",
                        "system": "http://unitsofmeasure.org", "code": "mm[Hg]"}
                },
                "request": {"method": "PUT", "url": format!("Observation/{observation_id}")}
            }
        ]
    })
}

fn statuses(reply: &Value) -> Vec<String> {
    reply["entry"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| {
            e["response"]["status"]
                .as_str()
                .expect("status")
                .to_string()
        })
        .collect()
}

/// The id in a location (`Patient/ID`, `Patient/ID/_history/V`, or a URL ending so).
fn id_in(location: &Value, resource_type: &str) -> String {
    let location = location.as_str().expect("a location");
    let after = location
        .split(&format!("{resource_type}/"))
        .nth(1)
        .unwrap_or_else(|| panic!("{location} names no {resource_type}"));
    after.split('/').next().unwrap().to_string()
}

fn patients_with(server: &FhirServer, identifier: &str) -> usize {
    server.count_matching("Patient", &format!("identifier={SSN}%7C{identifier}"))
}

#[test]
fn metadata_is_an_r4_capability_statement_that_creates_by_update_and_by_condition() {
    let mut server = FhirServer::start();
    let cs = server.get("metadata");
    assert_eq!(cs["resourceType"], "CapabilityStatement");
    assert_eq!(cs["fhirVersion"], "4.0.1");
    assert_eq!(cs["kind"], "instance");
    assert_eq!(cs["status"], "active");
    let rest = &cs["rest"][0];
    assert_eq!(rest["mode"], "server");
    let codes = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .map(|i| i["code"].as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    assert!(codes(&rest["interaction"]).contains(&"transaction".to_string()));
    for ty in KAPCHART_TYPES {
        let resource = rest["resource"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["type"] == ty)
            .unwrap_or_else(|| panic!("{ty} missing from the CapabilityStatement"));
        assert_eq!(resource["updateCreate"], true, "{ty}");
        assert_eq!(resource["conditionalCreate"], true, "{ty}");
        let interactions = codes(&resource["interaction"]);
        for code in [
            "read",
            "create",
            "update",
            "search-type",
            "history-instance",
        ] {
            assert!(
                interactions.contains(&code.to_string()),
                "{ty} lacks {code}"
            );
        }
    }
    if server.is_local() {
        // A test process that dies closes the server's stdin: it must not outlive it.
        assert!(server.close_stdin_and_wait().success());
    }
}

#[test]
fn without_update_as_create_a_put_to_a_new_id_is_refused_and_said_so() {
    let server = FhirServer::start_with(&[("KAPCHART_FHIR_NO_UPDATE_CREATE", "1")]);
    let cs = server.get("metadata");
    assert_eq!(cs["rest"][0]["resource"][0]["updateCreate"], false);

    let id = uuid();
    let patient = json!({"resourceType": "Patient", "id": id});
    let put = server
        .request("PUT", &format!("Patient/{id}"), Some(&patient))
        .unwrap();
    assert_eq!(put.status, 405, "{}", put.body);
    assert_eq!(put.body["resourceType"], "OperationOutcome");
    assert_eq!(server.count("Patient"), 0);
    // In a transaction the refusal fails the whole bundle.
    let reply = server.post_json("", &chart_bundle("123-45-6789", &uuid(), 120));
    assert_eq!(reply.status, 405, "{}", reply.body);
    assert_eq!(server.count("Patient"), 0);

    // Created by POST, the same resource is then updated by PUT as usual.
    let created = server.post_json("Patient", &json!({"resourceType": "Patient"}));
    assert_eq!(created.status, 201);
    let id = created.body["id"].as_str().unwrap();
    let mut again = created.body.clone();
    again["active"] = json!(true);
    let put = server
        .request("PUT", &format!("Patient/{id}"), Some(&again))
        .unwrap();
    assert_eq!(put.status, 200, "{}", put.body);
}

#[test]
fn a_transaction_sent_twice_leaves_one_patient_and_two_versions_of_the_observation() {
    let server = FhirServer::start();
    let identifier = uuid();
    let observation_id = uuid();

    let first = server.post_json("", &chart_bundle(&identifier, &observation_id, 120));
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.body["type"], "transaction-response");
    let first_statuses = statuses(&first.body);
    assert!(
        first_statuses.iter().all(|s| s.starts_with("201")),
        "{first_statuses:?}"
    );
    let patient_id = id_in(&first.body["entry"][0]["response"]["location"], "Patient");

    let second = server.post_json("", &chart_bundle(&identifier, &observation_id, 124));
    assert_eq!(second.status, 200, "{}", second.body);
    // The patient was found, not made again; the observation is a new version of itself.
    let second_statuses = statuses(&second.body);
    assert!(
        second_statuses.iter().all(|s| s.starts_with("200")),
        "{second_statuses:?}"
    );
    assert_eq!(
        id_in(&second.body["entry"][0]["response"]["location"], "Patient"),
        patient_id
    );

    assert_eq!(patients_with(&server, &identifier), 1);
    if server.is_local() {
        assert_eq!(server.count("Patient"), 1);
        assert_eq!(server.count("Observation"), 1);
    }
    let observation = server.get(&format!("Observation/{observation_id}"));
    assert_eq!(observation["valueQuantity"]["value"], 124);
    let subject = observation["subject"]["reference"].as_str().unwrap();
    assert!(
        subject.ends_with(&format!("Patient/{patient_id}")),
        "{subject}"
    );

    let history = server.get(&format!("Observation/{observation_id}/_history"));
    assert_eq!(history["type"], "history");
    let versions = history["entry"].as_array().expect("versions");
    assert_eq!(versions.len(), 2);
    assert_eq!(
        versions[0]["resource"]["valueQuantity"]["value"], 124,
        "newest first"
    );
    assert_eq!(versions[1]["resource"]["valueQuantity"]["value"], 120);
}

#[test]
fn a_transaction_with_one_bad_entry_applies_nothing() {
    let server = FhirServer::start();
    let identifier = uuid();
    let mut bundle = chart_bundle(&identifier, &uuid(), 120);
    bundle["entry"][1]["resource"]["effectiveDateTime"] = json!("yesterday");
    let reply = server.post_json("", &bundle);
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert_eq!(reply.body["resourceType"], "OperationOutcome");
    assert_eq!(patients_with(&server, &identifier), 0);
    if server.is_local() {
        assert_eq!(server.count("Patient"), 0);
        assert_eq!(server.count("Observation"), 0);
    }
}

#[test]
fn with_a_token_set_a_request_without_it_is_refused_401() {
    let server = FhirServer::start_with(&[("FHIR_TOKEN", "clinic-secret")]);
    for token in [None, Some("someone-else")] {
        let reply = server
            .request_as(
                token,
                "POST",
                "Patient",
                Some(&json!({"resourceType": "Patient"})),
            )
            .unwrap();
        assert_eq!(reply.status, 401, "{token:?}: {}", reply.body);
        assert_eq!(reply.body["resourceType"], "OperationOutcome");
    }
    assert_eq!(server.count("Patient"), 0);
    // The CapabilityStatement stays open, as SMART clients read it before they hold a token.
    let metadata = server.request_as(None, "GET", "metadata", None).unwrap();
    assert_eq!(metadata.status, 200);

    let created = server.post_json("Patient", &json!({"resourceType": "Patient"}));
    assert_eq!(created.status, 201, "{}", created.body);
    let location = created.header("location").expect("Location");
    let etag = created.header("etag").expect("ETag");
    let version = created.body["meta"]["versionId"].as_str().unwrap();
    assert_eq!(etag, format!("W/\"{version}\""));
    assert!(
        location.starts_with(&format!("{}/Patient/", server.base())),
        "{location}"
    );
    assert_eq!(server.count("Patient"), 1);
}

#[test]
fn a_503_fault_answers_503_applying_nothing_then_the_server_recovers() {
    let server = FhirServer::start_local();
    server.fault(json!({"next": 2, "status": 503, "retry_after": 1}));
    let identifier = uuid();
    let bundle = chart_bundle(&identifier, &uuid(), 120);
    for _ in 0..2 {
        let reply = server.post_json("", &bundle);
        assert_eq!(reply.status, 503, "{}", reply.body);
        assert_eq!(reply.body["resourceType"], "OperationOutcome");
        assert_eq!(reply.header("retry-after"), Some("1"));
    }
    assert_eq!(server.count("Patient"), 0);
    let reply = server.post_json("", &bundle);
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(server.count("Patient"), 1);
    assert_eq!(server.count("Observation"), 1);
}

#[test]
fn a_cut_connection_gives_no_answer_but_the_transaction_landed() {
    let server = FhirServer::start_local();
    server.fault(json!({"next": 1, "cut": true}));
    let identifier = uuid();
    let observation_id = uuid();
    let bundle = chart_bundle(&identifier, &observation_id, 120);
    let reply = server.request("POST", "", Some(&bundle));
    assert!(reply.is_err(), "expected no answer, got {reply:?}");
    assert_eq!(server.count("Patient"), 1);
    assert_eq!(server.count("Observation"), 1);
    // Sent again, as a sync that cannot know it landed must: still one patient.
    assert_eq!(server.post_json("", &bundle).status, 200);
    assert_eq!(patients_with(&server, &identifier), 1);
    assert_eq!(server.count("Observation"), 1);
}

#[test]
fn a_late_answer_times_the_client_out_after_the_transaction_landed() {
    let server = FhirServer::start_local();
    server.fault(json!({"next": 1, "delay_ms": 10_000}));
    let identifier = uuid();
    let reply = server.request_within(
        Duration::from_millis(300),
        "POST",
        "",
        Some(&chart_bundle(&identifier, &uuid(), 120)),
    );
    assert!(reply.is_err(), "expected a timeout, got {reply:?}");
    // A search waits behind the transaction (the server takes FHIR requests one at a time).
    assert_eq!(patients_with(&server, &identifier), 1);
    assert_eq!(server.count("Observation"), 1);
}

#[test]
fn reset_empties_the_repository_and_clears_faults() {
    let server = FhirServer::start_local();
    assert_eq!(
        server
            .post_json("", &chart_bundle(&uuid(), &uuid(), 120))
            .status,
        200
    );
    server.fault(json!({"next": 5, "status": 500}));
    server.reset();
    assert_eq!(server.count("Patient"), 0);
    assert_eq!(server.count("Observation"), 0);
    assert_eq!(
        server
            .post_json("Patient", &json!({"resourceType": "Patient"}))
            .status,
        201
    );
}

/// Medplum's limits, which a clinic running Medplum has too and the sync must send within:
/// at most 8 entries in a transaction that holds a conditional create (it needs serialisable
/// isolation), and at most 50 updates (PUTs) in any transaction. Refused whole, with a 400.
#[test]
fn medplum_refuses_a_conditional_transaction_over_8_entries_and_one_over_50_updates() {
    let server = FhirServer::start_local();
    let with_observations = |conditional: bool, observations: usize| {
        let mut bundle = chart_bundle(&uuid(), &uuid(), 120);
        if !conditional {
            bundle["entry"][0]["request"]
                .as_object_mut()
                .unwrap()
                .remove("ifNoneExist");
        }
        let template = bundle["entry"][1].clone();
        let entries = bundle["entry"].as_array_mut().unwrap();
        entries.truncate(1);
        for _ in 0..observations {
            let id = uuid();
            let mut entry = template.clone();
            entry["fullUrl"] = json!(format!("urn:uuid:{id}"));
            entry["resource"]["id"] = json!(id);
            entry["request"]["url"] = json!(format!("Observation/{id}"));
            entries.push(entry);
        }
        server.post_json("", &bundle)
    };
    let refused = |reply: Reply, why: &str| {
        assert_eq!(reply.status, 400, "{}", reply.body);
        assert_eq!(reply.body["issue"][0]["details"]["text"], why);
    };

    assert_eq!(with_observations(true, 7).status, 200);
    refused(
        with_observations(true, 8),
        "Transaction requires strict isolation but has too many entries",
    );
    assert_eq!(with_observations(false, 50).status, 200);
    refused(
        with_observations(false, 51),
        "Transaction contains more update operations than allowed",
    );
    assert_eq!(server.count("Observation"), 7 + 50);
}

#[test]
fn a_transaction_that_fails_leaves_every_resource_and_history_as_before() {
    let server = FhirServer::start();
    let created = server.post_json(
        "Patient",
        &json!({"resourceType": "Patient", "active": false}),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_string();
    let mut changed = created.body.clone();
    changed["active"] = json!(true);
    let (new_id, bad_id) = (uuid(), uuid());
    // An update, a create by update, then an entry the server refuses (not a valid
    // Observation): all three are updates, which the server applies in order.
    let bundle = json!({
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            { "resource": changed, "request": { "method": "PUT", "url": format!("Patient/{id}") } },
            {
                "resource": { "resourceType": "Patient", "id": new_id },
                "request": { "method": "PUT", "url": format!("Patient/{new_id}") }
            },
            {
                "resource": { "resourceType": "Observation", "id": bad_id, "status": "not-a-status" },
                "request": { "method": "PUT", "url": format!("Observation/{bad_id}") }
            },
        ],
    });
    let reply = server.post_json("", &bundle);
    assert!(reply.status >= 400, "{}", reply.body);
    assert_eq!(server.count("Patient"), 1, "the create undone");
    assert_eq!(server.count("Observation"), 0);
    assert_eq!(
        server.get(&format!("Patient/{id}"))["active"],
        false,
        "the update undone"
    );
    let history = server.get(&format!("Patient/{id}/_history"));
    assert_eq!(history["total"], 1, "{history}");
    let gone = server
        .request("GET", &format!("Patient/{new_id}"), None)
        .unwrap();
    assert_eq!(gone.status, 404);
    // The server goes on: the same update alone goes through.
    let mut again = created.body.clone();
    again["active"] = json!(true);
    let put = server
        .request("PUT", &format!("Patient/{id}"), Some(&again))
        .unwrap();
    assert_eq!(put.status, 200, "{}", put.body);
    assert_eq!(server.get(&format!("Patient/{id}/_history"))["total"], 2);
}
