//! Each session's Provenance, checked outside kapchart: a chart with two clinicians' rows (a
//! dose witnessed by a nurse, a signed note with an addendum) is synced to a real FHIR
//! server (`tests/fhir-server`), and `tests/fhir-server/verify-provenance.mjs` (Node's own
//! Ed25519, nothing from kapchart) checks every signature, every key certificate back to the
//! root and the root fingerprint, reading the Provenance back from the server; a signature
//! byte, a signed message byte or a certificate byte changed on the server fails it, named.
//! The exported bundle carries the same Provenance and validates (`fhir.resources`, R4B).

mod common;

use common::fhir_server::FhirServer;
use common::{Home, PASSPHRASE};
use kapchart::domain::signature::{base64, from_base64};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

const NURSE_PASS: &str = "tidal meadow lantern quartz";
const AUTHORS_SIGNATURE: &str = "1.2.840.10065.1.12.1.1";
const SIGNED_MESSAGE: &str = "https://kapchart.org/fhir/StructureDefinition/signed-message";
const CERTIFICATE: &str = "https://kapchart.org/fhir/StructureDefinition/key-certificate";

/// Runs kapchart signed in as `who`; its output.
fn run_as(home: &Home, who: &str, pass: &str, args: &[&str]) -> String {
    let out = home
        .cmd(args)
        .env("KAPCHART_CLINICIAN", who)
        .env("KAPCHART_PASSPHRASE", pass)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "kapchart {args:?} as {who}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn as_nurse(home: &Home, args: &[&str]) -> String {
    run_as(home, "Nia Nurse", NURSE_PASS, args)
}

/// The admin who began the chart, once the team has two clinicians.
fn as_doctor(home: &Home, args: &[&str]) -> String {
    run_as(home, "Dr. Test", PASSPHRASE, args)
}

/// A chart set to sync to `server`, whose team is Dr. Test (admin) and a nurse, with one
/// dosing session: vitals, a ketamine dose the nurse witnesses, an amended reading, a
/// signed note and an addendum. Returns (root fingerprint printed by init, session id).
fn team_chart(home: &Home, server: &FhirServer) -> (String, String) {
    home.configure(&format!("[sync]\nserver = \"{}\"\n", server.base()));
    let (_, session) = home.with_dosing_session();
    let root = home
        .ok(&["verify"])
        .split_whitespace()
        .find(|w| w.len() == 64 && w.bytes().all(|b| b.is_ascii_hexdigit()))
        .expect("verify prints the root")
        .to_string();
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
    let reading = as_doctor(
        home,
        &["log", "--session", &session, "@-30m bp 128/82 hr 74"],
    );
    let dose = as_doctor(
        home,
        &[
            "log",
            "--session",
            &session,
            "@-20m dose ketamine 35mg IM witness",
        ],
    );
    as_nurse(home, &["witness", &dose]);
    as_doctor(
        home,
        &[
            "amend",
            &reading,
            "--reason",
            "typed the wrong cuff",
            "@-30m bp 126/80 hr 74",
        ],
    );
    let note: Value = serde_json::from_str(&as_doctor(
        home,
        &["note", "draft", "--session", &session, "--json"],
    ))
    .unwrap();
    let id = note["id"].as_i64().unwrap().to_string();
    // The clinician's sections written, as `note save` takes them.
    let completed: String = note["text"]
        .as_str()
        .unwrap()
        .lines()
        .map(|l| match l.trim_end() {
            "Assessment:" => "Assessment: settled, oriented.".to_string(),
            "Plan:" => "Plan: continue the course.".to_string(),
            t if t.starts_with("Patient's account") => format!("{t} slept well since."),
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    let file = home.path().join("note.md");
    std::fs::write(&file, completed).unwrap();
    as_doctor(home, &["note", "save", &id, file.to_str().unwrap()]);
    as_doctor(
        home,
        &[
            "note",
            "sign",
            &id,
            "--reason",
            "session still open when signed",
        ],
    );
    as_doctor(
        home,
        &["note", "addend", &id, "Called the next day: slept well."],
    );
    (root, session)
}

fn sync(home: &Home) -> Value {
    serde_json::from_str(&as_doctor(home, &["sync", "--json"])).unwrap()
}

/// Runs the outside check: (passed, what it printed).
fn verify_outside(target: &str, extra: &[&str]) -> (bool, String) {
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fhir-server/verify-provenance.mjs");
    let out = Command::new("node")
        .arg(script)
        .arg(target)
        .args(extra)
        .output()
        .expect("run node (Node 20 or later) for verify-provenance.mjs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "verify-provenance exited {:?}: {text}",
        out.status.code()
    );
    (out.status.success(), text)
}

/// The Provenances the server holds that carry signatures.
fn signed_provenances(server: &FhirServer) -> Vec<Value> {
    let page = server.get("Provenance?_count=100");
    page["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| e["resource"].clone())
        .filter(|r| r["signature"].as_array().is_some_and(|s| !s.is_empty()))
        .collect()
}

fn put(server: &FhirServer, provenance: &Value) {
    let id = provenance["id"].as_str().unwrap();
    let reply = server
        .request("PUT", &format!("Provenance/{id}"), Some(provenance))
        .unwrap();
    assert!(
        (200..300).contains(&reply.status),
        "PUT Provenance/{id}: {} {}",
        reply.status,
        reply.body
    );
}

/// Changes one byte of a base64 value: `at` counts from the end when negative.
fn change_byte(b64: &str, at: isize) -> String {
    let mut bytes = from_base64(b64).unwrap();
    let i = if at < 0 {
        (bytes.len() as isize + at) as usize
    } else {
        at as usize
    };
    bytes[i] = match bytes[i] {
        b'0' => b'1',
        b => b ^ 0x01,
    };
    base64(&bytes)
}

#[test]
fn each_session_provenance_verifies_outside_kapchart_and_a_changed_byte_is_named() {
    let server = FhirServer::start_local();
    let home = Home::new();
    let (root, session) = team_chart(&home, &server);
    sync(&home);

    let held = signed_provenances(&server);
    assert_eq!(
        held.len(),
        1,
        "one session, one signed Provenance: {held:#?}"
    );
    let p = &held[0];
    // Its targets are the session's resources.
    let targets: Vec<&str> = p["target"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["reference"].as_str().unwrap())
        .collect();
    for kind in [
        "Encounter/",
        "Observation/",
        "MedicationAdministration/",
        "DocumentReference/",
    ] {
        assert!(
            targets.iter().any(|t| t.starts_with(kind)),
            "no {kind} in {targets:?}"
        );
    }
    // Both clinicians are its authors, each with their key.
    let agents = p["agent"].as_array().unwrap();
    let names: Vec<&str> = agents
        .iter()
        .map(|a| a["who"]["display"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Dr. Test", "Nia Nurse"], "{p:#}");
    for a in agents {
        assert_eq!(a["type"]["coding"][0]["code"], "author");
        let key = a["extension"][0]["valueBase64Binary"].as_str().unwrap();
        assert_eq!(from_base64(key).unwrap().len(), 32);
    }
    // One signature for each write `kapchart audit --session` lists, by seq.
    let trail: Vec<Value> = serde_json::from_str(&as_doctor(
        &home,
        &["audit", "--session", &session, "--json"],
    ))
    .unwrap();
    let mut writes: Vec<i64> = trail
        .iter()
        .filter(|r| {
            let a = r["action"].as_str().unwrap();
            !a.ends_with(".view") && !a.starts_with("export.")
        })
        .map(|r| r["seq"].as_i64().unwrap())
        .collect();
    writes.sort();
    let signatures = p["signature"].as_array().unwrap();
    let signed: Vec<i64> = signatures
        .iter()
        .map(|s| {
            let row = s["extension"][1]["valueString"].as_str().unwrap();
            row.split(':').next().unwrap().parse().unwrap()
        })
        .collect();
    assert_eq!(signed, writes, "{p:#}");
    for s in signatures {
        assert_eq!(s["type"][0]["system"], "urn:iso-astm:E1762-95:2013");
        assert_eq!(s["type"][0]["code"], AUTHORS_SIGNATURE);
        assert_eq!(from_base64(s["data"].as_str().unwrap()).unwrap().len(), 64);
    }
    assert!(
        signatures
            .iter()
            .any(|s| s["who"]["display"] == "Nia Nurse"),
        "the nurse's witness row is signed by her"
    );

    // The outside check passes, against the root the clinic wrote down at init.
    let (ok, out) = verify_outside(server.base(), &["--root", &root]);
    assert!(ok, "{out}");
    assert!(
        out.contains(&format!("ok: {} signature(s)", signed.len())),
        "{out}"
    );
    // A root the clinic did not keep is named.
    let other = "ab".repeat(32);
    let (ok, out) = verify_outside(server.base(), &["--root", &other]);
    assert!(
        !ok && out.contains(&format!("not the clinic's {other}")),
        "{out}"
    );

    // An unchanged chart sends nothing the second time, the Provenance included.
    let again = sync(&home);
    assert_eq!(again["sent"], 0, "{again}");

    let id = p["id"].as_str().unwrap();
    // One byte of the nurse's signature changed on the server.
    let nurse_at = signatures
        .iter()
        .position(|s| s["who"]["display"] == "Nia Nurse")
        .unwrap();
    let mut tampered = p.clone();
    let sig = &mut tampered["signature"][nurse_at]["data"];
    *sig = Value::String(change_byte(sig.as_str().unwrap(), 10));
    put(&server, &tampered);
    let (ok, out) = verify_outside(server.base(), &[]);
    assert!(!ok, "{out}");
    assert!(
        out.contains(&format!(
            "Provenance/{id}: signature {} (audit row",
            nurse_at + 1
        )) && out.contains("entry.witness")
            && out.contains("does not verify"),
        "{out}"
    );

    // One byte of a signed message (its content hash) changed.
    let mut tampered = p.clone();
    let ext = tampered["signature"][0]["extension"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|x| x["url"] == SIGNED_MESSAGE)
        .unwrap();
    let changed = change_byte(ext["valueBase64Binary"].as_str().unwrap(), -3);
    ext["valueBase64Binary"] = Value::String(changed);
    put(&server, &tampered);
    let (ok, out) = verify_outside(server.base(), &[]);
    assert!(!ok, "{out}");
    assert!(
        out.contains(&format!("Provenance/{id}: signature 1 (audit row"))
            && out.contains("does not verify"),
        "{out}"
    );

    // One byte of the nurse's certificate changed: her key is no longer certified, and each
    // of her signatures is named.
    let mut tampered = p.clone();
    let cert = tampered["extension"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .filter(|x| x["url"] == CERTIFICATE)
        .find(|x| x["extension"][0]["valueInteger"] != 1)
        .unwrap();
    let sig = &mut cert["extension"][4]["valueBase64Binary"];
    *sig = Value::String(change_byte(sig.as_str().unwrap(), 0));
    put(&server, &tampered);
    let (ok, out) = verify_outside(server.base(), &[]);
    assert!(!ok, "{out}");
    assert!(
        out.contains("certificate of clinician 2")
            && out.contains("does not verify with clinician 1's key"),
        "{out}"
    );
    assert!(
        out.contains("its author's key is not certified back to the root"),
        "{out}"
    );

    // Put back as kapchart sent it, it passes again.
    put(&server, p);
    let (ok, out) = verify_outside(server.base(), &["--root", &root]);
    assert!(ok, "{out}");
}

fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("KAPCHART_FHIR_PYTHON").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fhir-venv/bin/python");
    assert!(
        venv.exists(),
        "FHIR validation needs Python with fhir.resources 8.x: run bash .ci/test, which creates target/fhir-venv, or set KAPCHART_FHIR_PYTHON"
    );
    venv
}

#[test]
fn the_exported_bundle_carries_the_provenance_which_verifies_and_validates() {
    let server = FhirServer::start_with(&[("FHIR_TOKEN", "clinic-token")]);
    let home = Home::new();
    let (root, session) = team_chart(&home, &server);
    let file = home.path().join("session.json");
    as_doctor(
        &home,
        &[
            "export",
            "--session",
            &session,
            "--format",
            "fhir",
            "-o",
            file.to_str().unwrap(),
        ],
    );
    let (ok, out) = verify_outside(file.to_str().unwrap(), &["--root", &root]);
    assert!(ok, "{out}");
    // Exported again later, the Provenance is the same bytes (times from the record).
    let bundle: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let again = home.path().join("again.json");
    let shifted = home
        .cmd(&[
            "export",
            "--session",
            &session,
            "--format",
            "fhir",
            "-o",
            again.to_str().unwrap(),
        ])
        .env("KAPCHART_CLINICIAN", "Dr. Test")
        .env("KAPCHART_TEST_CLOCK_SHIFT", "7200")
        .output()
        .unwrap();
    assert!(
        shifted.status.success(),
        "{}",
        String::from_utf8_lossy(&shifted.stderr)
    );
    let later: Value = serde_json::from_slice(&std::fs::read(&again).unwrap()).unwrap();
    let provenance = |b: &Value| {
        b["entry"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["resource"].clone())
            .find(|r| r["resourceType"] == "Provenance")
            .unwrap()
            .to_string()
    };
    assert!(
        provenance(&bundle) == provenance(&later),
        "the Provenance changed with the export time:\n{}\n{}",
        provenance(&bundle),
        provenance(&later)
    );

    // On a server that wants a token, the script reads it with --token, and says so without.
    let p: Value = serde_json::from_str(&provenance(&bundle)).unwrap();
    put(&server, &p);
    let (ok, out) = verify_outside(server.base(), &["--token", "clinic-token", "--root", &root]);
    assert!(ok, "{out}");
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fhir-server/verify-provenance.mjs");
    let refused = Command::new("node")
        .arg(script)
        .arg(server.base())
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{said}");
    assert!(said.contains("HTTP 401"), "{said}");

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fhir_validate.py");
    let out = Command::new(python())
        .arg(script)
        .arg(&file)
        .output()
        .expect("run the FHIR validator");
    assert!(
        out.status.success(),
        "FHIR R4B validation failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
