//! `kapchart sync` through the binary, against a real FHIR R4 server on 127.0.0.1 (Medplum's
//! router, `tests/fhir-server`, started by `common::fhir_server`): two laptops charting one
//! patient end with one Patient and both laptops' sessions; a second sync sends nothing;
//! corrections arrive as statuses; a refused, failed or cut bundle leaves exactly one copy of
//! each resource after the next sync.

mod common;

use common::Home;
use common::fhir_server::FhirServer;
use serde_json::{Value, json};

/// A laptop's chart: the clinic's config (MRN system, the server) and one patient by MRN
/// with a dosing session: (patient, session).
fn laptop(home: &Home, server: &FhirServer, mrn: &str) -> (String, String) {
    home.laptop(server.base(), mrn, 40, &common::SYNC_LINES)
}

fn sync(home: &Home) -> Value {
    serde_json::from_str(&home.ok(&["sync", "--json"])).unwrap()
}

fn sync_fails(home: &Home) -> String {
    home.fails(&["sync"], 1)
}

/// What the server holds of each type kapchart sends.
fn held(server: &FhirServer) -> Vec<(&'static str, usize)> {
    [
        "Patient",
        "Practitioner",
        "Encounter",
        "Observation",
        "MedicationAdministration",
    ]
    .into_iter()
    .map(|t| (t, server.count(t)))
    .collect()
}

#[test]
fn two_laptops_charting_one_patient_end_with_one_patient_and_both_sessions_and_a_resend_sends_nothing()
 {
    let server = FhirServer::start_local();
    let (a, b) = (Home::new(), Home::new());
    laptop(&a, &server, "MRN-1001");
    laptop(&b, &server, "MRN-1001");

    let first = sync(&a);
    assert!(first["bundles"].as_u64().unwrap() >= 2, "{first}");
    let after_a = held(&server);
    assert_eq!(server.count("Patient"), 1);
    assert_eq!(server.count("Encounter"), 1);
    // Laptop B's patient is found by the MRN: one Patient, B's session points at it.
    sync(&b);
    assert_eq!(server.count("Patient"), 1, "one patient by MRN");
    assert_eq!(server.count("Encounter"), 2, "both laptops' sessions");
    assert_eq!(
        server.count("Observation"),
        2 * after_a.iter().find(|(t, _)| *t == "Observation").unwrap().1
    );
    let patient_id = server.get("Patient")["entry"][0]["resource"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let encounters = server.get("Encounter");
    for e in encounters["entry"].as_array().unwrap() {
        assert_eq!(
            e["resource"]["subject"]["reference"],
            format!("Patient/{patient_id}"),
            "{e}"
        );
    }
    // A second sync of each laptop sends nothing, and the server holds the same.
    let before = held(&server);
    for home in [&a, &b] {
        let again = sync(home);
        assert_eq!(again["sent"], 0, "{again}");
        assert_eq!(again["bundles"], 0, "{again}");
        assert!(again["unchanged"].as_u64().unwrap() > 5, "{again}");
        assert!(home.ok(&["sync"]).starts_with("nothing to send"));
    }
    assert_eq!(held(&server), before);
    // The sync is audited as a disclosure of the record.
    let audit = a.ok(&["audit", "--json"]);
    assert!(audit.contains("chart.sync"), "{audit}");
}

#[test]
fn a_struck_and_an_amended_entry_arrive_as_statuses_and_only_what_changed_is_sent() {
    let server = FhirServer::start_local();
    let home = Home::new();
    let (_, session) = laptop(&home, &server, "MRN-2002");
    sync(&home);
    let observations = server.count("Observation");
    // Strike the MOAA/S reading and amend the first BP.
    let shown = home.ok(&["session", "show", &session, "--json"]);
    let v: Value = serde_json::from_str(&shown).unwrap();
    let entries = v["entries"].as_array().unwrap();
    let id_of = |kind: &str, has: &str| {
        entries
            .iter()
            .find(|e| e["kind"] == kind && e.to_string().contains(has))
            .map(|e| e["id"].to_string())
            .unwrap_or_else(|| panic!("no {kind} with {has}: {shown}"))
    };
    let bp = id_of("vitals", "128");
    let moaas = id_of("sedation", "4");
    home.ok(&[
        "strike",
        &moaas,
        "--reason",
        "charted for the wrong patient",
    ]);
    home.ok(&[
        "amend",
        &bp,
        "--reason",
        "misread",
        "bp 138/82 hr 74 spo2 98",
    ]);
    let dry: Value = serde_json::from_str(&home.ok(&["sync", "--dry-run", "--json"])).unwrap();
    assert_eq!(dry["dry_run"], true);
    assert!(dry["would_send"].as_u64().unwrap() >= 2, "{dry}");
    assert_eq!(
        server.count("Observation"),
        observations,
        "a dry run sends nothing"
    );
    let second = sync(&home);
    // Only what changed: the struck MOAA/S, and the amended reading's BP, HR and SpO2,
    // corrected in place (the amendment takes their ids); the rest is as the server
    // acknowledged it; and the session's Provenance, which signs the two new rows.
    assert_eq!(second["sent"], 5, "{second}");
    assert_eq!(
        second["by_type"],
        json!({ "Observation": 4, "Provenance": 1 }),
        "{second}"
    );
    assert_eq!(server.count("Observation"), observations, "nothing doubled");
    let statuses: Vec<(String, String)> = server.get("Observation?_count=200")["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["resource"]["code"]["text"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
                e["resource"]["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let errors = statuses
        .iter()
        .filter(|(_, s)| s == "entered-in-error")
        .count();
    assert_eq!(errors, 1, "the struck MOAA/S: {statuses:?}");
    let corrected = statuses.iter().filter(|(_, s)| s == "corrected").count();
    assert_eq!(corrected, 3, "the BP, HR and SpO2 corrected: {statuses:?}");
    // The server keeps the replaced BP in the resource's history.
    let bp_id = common::named(
        &serde_json::from_str(&home.ok(&["export", "--session", &session, "--format", "fhir"]))
            .unwrap(),
        &format!("entry/{bp}/bp"),
    );
    let history = server.get(&format!("Observation/{bp_id}/_history"));
    let systolic: Vec<i64> = history["entry"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["resource"]["component"][0]["valueQuantity"]["value"].as_f64())
        .map(|v| v as i64)
        .collect();
    assert_eq!(systolic, [138, 128], "newest first: {history}");
    assert_eq!(sync(&home)["sent"], 0);
}

#[test]
fn a_refused_failed_or_cut_bundle_leaves_one_copy_of_each_resource_after_the_next_sync() {
    let server = FhirServer::start_local();
    let home = Home::new();
    laptop(&home, &server, "MRN-3003");
    // Reference: what one clean sync leaves, on a second server state.
    let whole = {
        let clean = Home::new();
        laptop(&clean, &server, "MRN-3004");
        sync(&clean);
        let counts = held(&server);
        server.reset();
        counts
    };

    // The server is down when asked what it can do: nothing is sent.
    server.fault(json!({ "next": 1, "status": 503 }));
    let e = sync_fails(&home);
    assert!(e.contains("503") && e.contains("nothing was sent"), "{e}");
    // It fails on the second bundle (the patient's went through): recorded up to there.
    server.fault(json!({ "next": 1, "after": 2, "status": 503 }));
    let e = sync_fails(&home);
    assert!(
        e.contains("(503)") && e.contains("bundle 2 of") && e.contains("next sync sends it again"),
        "{e}"
    );
    assert_eq!(server.count("Patient"), 1);
    // A 4xx with an OperationOutcome is worded.
    server.fault(json!({ "next": 1, "after": 1, "status": 422 }));
    let e = sync_fails(&home);
    assert!(e.contains("refused it (422)"), "{e}");
    // The answer comes later than [sync] timeout_seconds: the sync stops, worded.
    let config = home.path().join("xdg-config/kapchart/config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("{text}timeout_seconds = 1\n")).unwrap();
    server.fault(json!({ "next": 1, "after": 1, "delay_ms": 3000 }));
    let e = sync_fails(&home);
    assert!(e.contains("could not reach") && e.contains("bundle"), "{e}");
    std::fs::write(&config, text).unwrap();
    // The connection is cut after the transaction landed: the sync cannot know it did.
    server.fault(json!({ "next": 1, "after": 1, "cut": true }));
    let e = sync_fails(&home);
    assert!(e.contains("could not reach"), "{e}");
    // The next sync sends what was not acknowledged; the server ends with one copy.
    let done = sync(&home);
    assert!(done["sent"].as_u64().unwrap() > 0, "{done}");
    assert_eq!(held(&server), whole);
    assert_eq!(sync(&home)["sent"], 0);
    assert_eq!(held(&server), whole);
}

#[test]
fn a_token_is_sent_from_the_environment_or_a_private_file_and_a_refusal_names_what_to_do() {
    let server = FhirServer::start_with(&[("FHIR_TOKEN", "s3cret")]);
    let home = Home::new();
    laptop(&home, &server, "MRN-4004");
    let e = sync_fails(&home);
    assert!(
        e.contains("refused the token (401") && e.contains("KAPCHART_SYNC_TOKEN"),
        "{e}"
    );
    // From a file readable by others: refused before anything is sent.
    let file = home
        .path()
        .join("xdg-config")
        .join("kapchart")
        .join("sync-token");
    std::fs::write(&file, "s3cret\n").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = sync_fails(&home);
        assert!(
            e.contains("can be read by others") && e.contains("chmod 600"),
            "{e}"
        );
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    assert!(sync(&home)["sent"].as_u64().unwrap() > 0);
    assert_eq!(server.count("Patient"), 1);
    // The token never reaches the log.
    let log = std::fs::read_to_string(home.path().join("xdg-state/kapchart/kapchart.log"))
        .unwrap_or_default();
    assert!(!log.contains("s3cret"), "{log}");
    // Without a server: the message says how to give one.
    let e = home.fails(&["sync", "--server", "ftp://x"], 1);
    assert!(e.contains("not an http:// or https:// URL"), "{e}");
}

#[test]
fn the_server_keeps_each_synced_audit_head_and_verify_against_it_catches_a_record_rewritten_after()
{
    use common::signing::{rechain_with_the_chain_key, tamper};
    let server = FhirServer::start_local();
    let home = Home::new();
    let (_, session) = laptop(&home, &server, "MRN-5005");
    // Never synced: nothing to hold the chart to.
    let out = home.run(&["verify", "--against-server"]);
    let said =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{said}");
    assert!(said.contains("holds no audit head of this chart"), "{said}");
    sync(&home);
    let bp = home.ok(&["log", "--session", &session, "bp 120/80"]);
    sync(&home);
    // Two syncs that sent something: two versions of the anchor, each a head (beside it,
    // the session's own Provenance).
    assert_eq!(server.count("Provenance"), 2);
    let out = home.ok(&["verify", "--against-server"]);
    assert!(out.starts_with("ok"), "{out}");
    // An insider rewrites the BP and re-chains the audit trail with the chart's own key.
    tamper(
        &home,
        &["entries"],
        &format!(
            "UPDATE entries SET payload = json_set(payload, '$.bp.systolic', 180, '$.bp.diastolic', 110) WHERE id = {bp}"
        ),
    );
    rechain_with_the_chain_key(&home);
    let out = home.run(&["verify", "--against-server"]);
    let said =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{said}");
    assert!(
        said.contains("no longer holds the head the FHIR server at")
            && said.contains("acknowledged at"),
        "{said}"
    );
    // As for a lost backup head, writes stop until the chart is restored.
    let refused = home.run(&["log", "--session", &session, "hr 70"]);
    assert!(
        !refused.status.success(),
        "a write to a chart found rewritten"
    );
}

#[test]
fn a_sync_killed_at_spread_moments_leaves_one_copy_of_each_resource_after_the_next() {
    let server = FhirServer::start_local();
    // What one clean sync of such a chart leaves.
    let whole = {
        let clean = Home::new();
        laptop(&clean, &server, "MRN-6000");
        for i in 0..30 {
            clean.ok(&["log", "--session", "1", &format!("obs note {i}")]);
            clean.ok(&["log", "--session", "1", &format!("hr {}", 60 + i)]);
        }
        sync(&clean);
        let counts = held(&server);
        server.reset();
        counts
    };
    let home = Home::new();
    laptop(&home, &server, "MRN-6001");
    for i in 0..30 {
        home.ok(&["log", "--session", "1", &format!("obs note {i}")]);
        home.ok(&["log", "--session", "1", &format!("hr {}", 60 + i)]);
    }
    // Small bundles, so that a kill can fall between them.
    let config = home.path().join("xdg-config/kapchart/config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, text.replace("bundle_size = 40", "bundle_size = 5")).unwrap();
    let rounds: u64 = common::by_depth(4, 8, 30);
    for i in 0..rounds {
        let mut child = home
            .cmd(&["sync"])
            .env("KAPCHART_CLINICIAN", "Dr. Test")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(60 + i * 40));
        let _ = child.kill();
        let _ = child.wait();
    }
    let last = sync(&home);
    assert_eq!(held(&server), whole, "{last}");
    assert_eq!(sync(&home)["sent"], 0);
    home.ok(&["verify"]);
}

#[test]
fn a_rems_submission_reaches_the_server_as_a_communication() {
    let server = FhirServer::start_local();
    let home = Home::new();
    let (_, session) = laptop(&home, &server, "MRN-7007");
    home.ok(&[
        "log",
        "--session",
        &session,
        "dose esketamine 56mg IN lot ABC1",
    ]);
    home.ok(&["session", "end", &session, "--reason", "discharge on paper"]);
    let form: Value =
        serde_json::from_str(&home.ok(&["rems", "show", "--session", &session, "--json"])).unwrap();
    let treated = form["treatment_date"].as_str().unwrap().to_string();
    home.ok(&[
        "rems",
        "submitted",
        "--session",
        &session,
        "--on",
        &treated,
        "--ref",
        "R-1",
    ]);
    sync(&home);
    assert_eq!(server.count("Communication"), 1);
    let sent = &server.get("Communication")["entry"][0]["resource"];
    assert_eq!(sent["identifier"][0]["value"], "R-1");
    assert_eq!(sent["status"], "completed");
}
