//! `kapchart sync` to a server that does not create by update (its CapabilityStatement says
//! `updateCreate: false`; the local test server with `KAPCHART_FHIR_NO_UPDATE_CREATE=1`
//! refuses a PUT to an id it does not hold), through the binary: each new resource goes as a
//! conditional create on its identifier, and the tests count what the server holds after
//! each step, read every reference on it back, and check that nothing doubles across two
//! laptops, a resend, corrections and a connection cut after the server committed a bundle;
//! the bundles sent are validated as `tests/sync_validate.rs` validates them.
//! Charts stay small: the test server's in-memory search, which each conditional create
//! runs, reads every resource of the type.

mod common;

use common::Home;
use common::fhir_server::FhirServer;
use serde_json::{Value, json};
use std::collections::HashSet;

const ONLY_CREATES: (&str, &str) = ("KAPCHART_FHIR_NO_UPDATE_CREATE", "1");

/// The types a laptop's record holds.
const TYPES: [&str; 7] = [
    "Patient",
    "Practitioner",
    "Encounter",
    "Observation",
    "MedicationAdministration",
    "QuestionnaireResponse",
    "Provenance",
];

fn laptop(home: &Home, server: &FhirServer, mrn: &str) -> (String, String) {
    home.laptop(server.base(), mrn, 40, &common::SYNC_LINES)
}

fn sync(home: &Home) -> Value {
    serde_json::from_str(&home.ok(&["sync", "--json"])).unwrap()
}

/// The id of the session's first entry of `kind` whose JSON holds `has`.
fn entry_of(home: &Home, session: &str, kind: &str, has: &str) -> String {
    let shown: Value =
        serde_json::from_str(&home.ok(&["session", "show", session, "--json"])).unwrap();
    shown["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == kind && e.to_string().contains(has))
        .map(|e| e["id"].to_string())
        .unwrap_or_else(|| panic!("no {kind} entry with {has}: {shown}"))
}

fn held(server: &FhirServer) -> Vec<(&'static str, usize)> {
    TYPES.into_iter().map(|t| (t, server.count(t))).collect()
}

/// Every resource the server holds of `TYPES`, by `Type/id`.
fn everything(server: &FhirServer) -> Vec<(String, Value)> {
    TYPES
        .into_iter()
        .flat_map(|t| {
            let page = server.get(&format!("{t}?_count=1000"));
            page["entry"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(move |e| {
                    let r = e["resource"].clone();
                    (format!("{t}/{}", r["id"].as_str().unwrap()), r)
                })
        })
        .collect()
}

fn references(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("reference") {
                out.push(r.clone());
            }
            map.values().for_each(|x| references(x, out));
        }
        Value::Array(list) => list.iter().for_each(|x| references(x, out)),
        _ => {}
    }
}

/// Every reference of every resource on the server names one it holds: none points at a
/// chart's own id the server never gave, nor at a bundle's `urn:uuid:`.
fn every_reference_resolves(server: &FhirServer) {
    let all = everything(server);
    let ids: HashSet<&str> = all.iter().map(|(k, _)| k.as_str()).collect();
    for (key, r) in &all {
        let mut refs = Vec::new();
        references(r, &mut refs);
        for target in refs.iter().filter(|t| !t.starts_with('#')) {
            assert!(
                ids.contains(target.as_str()),
                "{key} points at {target}, which the server does not hold"
            );
        }
    }
}

#[test]
fn two_laptops_on_a_server_that_only_creates_end_with_one_copy_each_and_a_resend_sends_nothing() {
    let server = FhirServer::start_with(&[ONLY_CREATES]);
    let (a, b) = (Home::new(), Home::new());
    laptop(&a, &server, "MRN-7001");
    laptop(&b, &server, "MRN-7001");

    let first = sync(&a);
    assert_eq!(first["ok"], true, "{first}");
    // What was sent is what the server holds, one each, beside the chart's anchor.
    let by_type = &first["by_type"];
    for (t, n) in held(&server) {
        let expected = by_type[t].as_u64().unwrap_or(0) as usize + usize::from(t == "Provenance");
        assert_eq!(n, expected, "{t}: {first}");
    }
    // The server gave its own ids: none is the chart's.
    let export: Value =
        serde_json::from_str(&a.ok(&["export", "--patient", "1", "--format", "fhir"])).unwrap();
    let own: HashSet<String> = export["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["resource"]["id"].as_str().unwrap().to_string())
        .collect();
    for (key, _) in everything(&server) {
        let id = key.split_once('/').unwrap().1;
        assert!(!own.contains(id), "{key} kept the chart's id");
    }
    every_reference_resolves(&server);

    let again = sync(&a);
    assert_eq!(again["sent"], 0, "{again}");
    assert!(a.ok(&["sync"]).starts_with("nothing to send"));
    let after_a = held(&server);

    // Laptop B: its patient is A's (by MRN); its own session and readings are new.
    let second = sync(&b);
    assert_eq!(second["ok"], true, "{second}");
    assert_eq!(server.count("Patient"), 1, "one patient by MRN");
    assert_eq!(server.count("Encounter"), 2, "both laptops' sessions");
    let observations = after_a.iter().find(|(t, _)| *t == "Observation").unwrap().1;
    assert_eq!(server.count("Observation"), 2 * observations);
    every_reference_resolves(&server);
    assert_eq!(sync(&b)["sent"], 0);

    // The anchor is where the server put it: verify holds each chart to it.
    for home in [&a, &b] {
        let out = home.ok(&["verify", "--against-server"]);
        assert!(out.starts_with("ok"), "{out}");
    }
}

#[test]
fn corrections_on_a_server_that_only_creates_update_the_copy_it_holds() {
    let server = FhirServer::start_with(&[ONLY_CREATES]);
    let home = Home::new();
    let (_, session) = laptop(&home, &server, "MRN-7002");
    sync(&home);
    let before = held(&server);
    let bp = entry_of(&home, &session, "vitals", "128");
    let moaas = entry_of(&home, &session, "sedation", "4");
    home.ok(&["strike", &moaas, "--reason", "wrong patient"]);
    home.ok(&[
        "amend",
        &bp,
        "--reason",
        "misread",
        "bp 138/82 hr 74 spo2 98",
    ]);
    let second = sync(&home);
    assert_eq!(
        second["by_type"],
        json!({ "Observation": 4, "Provenance": 1 }),
        "{second}"
    );
    assert_eq!(held(&server), before, "updated in place: nothing doubled");
    let observations = server.get("Observation?_count=200");
    let statuses: Vec<&str> = observations["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["resource"]["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == "entered-in-error")
            .count(),
        1
    );
    assert_eq!(statuses.iter().filter(|s| **s == "corrected").count(), 3);
    // The corrected BP keeps the replaced value in the server's history, at the server's id.
    let bp_on_server = observations["entry"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["resource"]["status"] == "corrected" && e.to_string().contains("138"))
        .map(|e| e["resource"]["id"].as_str().unwrap().to_string())
        .unwrap();
    let history = server.get(&format!("Observation/{bp_on_server}/_history"));
    let systolic: Vec<i64> = history["entry"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["resource"]["component"][0]["valueQuantity"]["value"].as_f64())
        .map(|v| v as i64)
        .collect();
    assert_eq!(systolic, [138, 128], "newest first: {history}");
    every_reference_resolves(&server);
    assert_eq!(sync(&home)["sent"], 0);
    // Every bundle sent, the creates and the updates at the server's ids, is a valid R4
    // transaction (fhir.resources and the transaction's own rules).
    let bundles = server.received().unwrap();
    assert!(bundles.len() > 3);
    common::fhir_validator::validate_bundles(&bundles);
    // The authors' signatures in the session's Provenance (its targets and agents now the
    // server's ids) verify outside kapchart, with Node's own Ed25519.
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fhir-server/verify-provenance.mjs");
    let mut node = std::process::Command::new("node");
    node.arg(script).arg(server.base());
    if let Some(token) = server.token() {
        node.args(["--token", token]);
    }
    let out = node.output().expect("run node for verify-provenance.mjs");
    let said =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && said.starts_with("ok: "), "{said}");
}

#[test]
fn a_connection_cut_after_the_server_created_a_bundle_leaves_one_copy_after_the_next_syncs() {
    let server = FhirServer::start_with(&[ONLY_CREATES]);
    let whole = {
        let clean = Home::new();
        laptop(&clean, &server, "MRN-7003");
        sync(&clean);
        let counts = held(&server);
        server.reset();
        counts
    };
    let home = Home::new();
    let (_, session) = laptop(&home, &server, "MRN-7004");
    // The metadata and the patient's own transaction are answered; the next bundle (the
    // clinician, the encounter, the readings) is created on the server and its
    // answer never comes.
    server.fault(json!({ "next": 1, "after": 2, "cut": true }));
    let e = home.fails(&["sync"], 1);
    assert!(e.contains("could not reach"), "{e}");
    let systolic = |server: &FhirServer| -> Vec<i64> {
        everything(server)
            .iter()
            .filter(|(k, r)| k.starts_with("Observation/") && r["status"] != "entered-in-error")
            .filter_map(|(_, r)| r["component"][0]["valueQuantity"]["value"].as_f64())
            .map(|v| v as i64)
            .collect()
    };
    assert!(systolic(&server).contains(&128), "the cut bundle landed");
    // Before the next sync, the first BP is amended: the copy the server made is older than
    // the chart.
    let bp = entry_of(&home, &session, "vitals", "128");
    home.ok(&[
        "amend",
        &bp,
        "--reason",
        "misread",
        "bp 138/82 hr 74 spo2 98",
    ]);
    // The next sync finds what the cut bundle created (by identifier) and creates the rest;
    // what it found goes once more, in place, so that the server holds what the chart does.
    let resumed = sync(&home);
    assert_eq!(resumed["ok"], true, "{resumed}");
    assert_eq!(held(&server), whole, "one copy of each");
    let again = sync(&home);
    assert!(again["sent"].as_u64().unwrap() > 0, "{again}");
    assert_eq!(sync(&home)["sent"], 0);
    assert_eq!(held(&server), whole, "one copy of each");
    let mut now = systolic(&server);
    now.sort();
    assert_eq!(now, [132, 138], "the server holds the amended BP");
    every_reference_resolves(&server);
}

#[test]
fn bundle_sizes_outside_what_a_server_takes_are_refused_naming_the_setting() {
    let server = FhirServer::start_with(&[ONLY_CREATES]);
    let home = Home::new();
    laptop(&home, &server, "MRN-7005");
    let config = home.path().join("xdg-config/kapchart/config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    for (setting, said) in [
        (
            "bundle_size = 51",
            "[sync] bundle_size = 51 in config.toml: expected 1 to 50",
        ),
        (
            "create_bundle_size = 0",
            "[sync] create_bundle_size = 0 in config.toml: expected 1 to 50",
        ),
    ] {
        let changed = match setting.starts_with("bundle_size") {
            true => text.replace("bundle_size = 40", setting),
            false => format!("{text}{setting}\n"),
        };
        std::fs::write(&config, changed).unwrap();
        let e = home.fails(&["sync"], 1);
        assert!(e.contains(said), "{e}");
    }
    assert_eq!(server.received().unwrap(), Vec::<Value>::new());
    // Bundles of 3 to this server: the sync goes in more, smaller transactions.
    std::fs::write(&config, format!("{text}create_bundle_size = 3\n")).unwrap();
    let done = sync(&home);
    let sent = done["sent"].as_u64().unwrap();
    let bundles = server.received().unwrap();
    assert_eq!(bundles.len() as u64, done["bundles"].as_u64().unwrap() + 1);
    assert!(
        bundles
            .iter()
            .all(|b| b["entry"].as_array().unwrap().len() <= 3),
        "{done}"
    );
    assert!(
        done["bundles"].as_u64().unwrap() >= sent.div_ceil(3),
        "{done}"
    );
}

#[test]
fn a_clinics_identifier_system_names_every_resource_and_a_create_finds_it_by_that() {
    const SYSTEM: &str = "urn:oid:1.2.840.99999.7";
    let server = FhirServer::start_with(&[ONLY_CREATES]);
    let home = Home::new();
    laptop(&home, &server, "MRN-7006");
    let config = home.path().join("xdg-config/kapchart/config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("{text}identifier_system = \"{SYSTEM}\"\n")).unwrap();
    let export: Value =
        serde_json::from_str(&home.ok(&["export", "--patient", "1", "--format", "fhir"])).unwrap();
    let mut named = 0;
    for e in export["entry"].as_array().unwrap() {
        let r = &e["resource"];
        if r["resourceType"] == "Provenance" {
            continue;
        }
        let id = r["id"].as_str().unwrap();
        let ids: Vec<&Value> = match &r["identifier"] {
            Value::Array(list) => list.iter().collect(),
            one => vec![one],
        };
        assert!(
            ids.iter()
                .any(|i| i["system"] == SYSTEM && i["value"] == id),
            "{r}"
        );
        assert!(
            !r.to_string().contains("\"system\":\"urn:uuid:"),
            "no identifier under the chart's URN: {r}"
        );
        named += 1;
    }
    assert!(named > 5);
    let done = sync(&home);
    assert_eq!(done["ok"], true, "{done}");
    let searches: Vec<String> = server
        .received()
        .unwrap()
        .iter()
        .flat_map(|b| b["entry"].as_array().unwrap().clone())
        .filter_map(|e| e["request"]["ifNoneExist"].as_str().map(str::to_string))
        .collect();
    assert!(
        searches
            .iter()
            .any(|s| s.starts_with(&format!("identifier={SYSTEM}|"))),
        "{searches:?}"
    );
    assert_eq!(sync(&home)["sent"], 0);
    every_reference_resolves(&server);
}

/// Bundles of two creates, so that a kill falls between bundles as well as inside one.
fn small_create_bundles(home: &Home) {
    let config = home.path().join("xdg-config/kapchart/config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace(
            "bundle_size = 40",
            "bundle_size = 40\ncreate_bundle_size = 2",
        ),
    )
    .unwrap();
}

/// Syncs until one sends nothing (a create that found a copy sends it once more); at most
/// four.
fn sync_until_quiet(home: &Home) -> Value {
    for _ in 0..4 {
        let out = sync(home);
        assert_eq!(out["ok"], true, "{out}");
        if out["sent"] == 0 {
            return out;
        }
    }
    panic!("a fifth sync would still send");
}

#[test]
fn a_sync_killed_at_spread_moments_on_a_server_that_only_creates_leaves_one_copy_of_each() {
    let server = FhirServer::start_with(&[ONLY_CREATES]);
    // What one clean sync of such a chart leaves, and how long it takes here: the kills are
    // spread across that time, so they fall before, between and inside bundles.
    let (whole, took) = {
        let clean = Home::new();
        laptop(&clean, &server, "MRN-7010");
        small_create_bundles(&clean);
        let started = std::time::Instant::now();
        sync(&clean);
        let took = started.elapsed();
        let counts = held(&server);
        server.reset();
        (counts, took)
    };
    let home = Home::new();
    laptop(&home, &server, "MRN-7011");
    small_create_bundles(&home);
    let rounds: u32 = common::by_depth(6, 10, 20);
    let mut killed = 0;
    for i in 0..rounds {
        let mut child = home
            .cmd(&["sync"])
            .env("KAPCHART_CLINICIAN", "Dr. Test")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(took * (i + 1) / (rounds + 1));
        let _ = child.kill();
        if child.wait().unwrap().code().is_none() {
            killed += 1;
        }
    }
    assert!(
        killed > 0,
        "no sync was killed: each finished in under {took:?}"
    );
    sync_until_quiet(&home);
    assert_eq!(held(&server), whole, "one copy of each");
    every_reference_resolves(&server);
    home.ok(&["verify"]);
}

#[test]
fn two_syncs_of_one_chart_at_once_on_a_server_that_only_creates_leave_one_copy_of_each() {
    let server = FhirServer::start_with(&[ONLY_CREATES]);
    let whole = {
        let clean = Home::new();
        laptop(&clean, &server, "MRN-7012");
        sync(&clean);
        let counts = held(&server);
        server.reset();
        counts
    };
    let home = Home::new();
    laptop(&home, &server, "MRN-7013");
    small_create_bundles(&home);
    let start = || {
        home.cmd(&["sync", "--json"])
            .env("KAPCHART_CLINICIAN", "Dr. Test")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (one, two) = (start(), start());
    let said: Vec<String> = [one, two]
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().unwrap();
            format!(
                "{}: {}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        })
        .collect();
    sync_until_quiet(&home);
    assert_eq!(held(&server), whole, "one copy of each: {said:?}");
    every_reference_resolves(&server);
    home.ok(&["verify"]);
}
