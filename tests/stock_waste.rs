//! Wasting what is left of a container outside any session (a kept vial past its beyond-use
//! date, one dropped), through the `kapchart` binary: recorded with its reason by one
//! clinician, witnessed by a second signed in as themselves, shown in the log, on the Stock
//! screen's list of wastes awaiting a witness, and in the log's FHIR export (validated as
//! tests/stock_fhir.rs validates it); struck with a reason, it gives back what it took.

mod common;

use common::fhir_validator::validate_fhir;
use common::{Home, PASSPHRASE};
use serde_json::Value;
use std::process::Output;

const NURSE_PASS: &str = "tidal meadow lantern quartz";

fn as_who(home: &Home, who: &str, pass: &str, args: &[&str]) -> Output {
    home.cmd(args)
        .env("KAPCHART_CLINICIAN", who)
        .env("KAPCHART_PASSPHRASE", pass)
        .output()
        .unwrap()
}

fn said(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr)
}

fn ok_as(home: &Home, who: &str, pass: &str, args: &[&str]) -> String {
    let out = as_who(home, who, pass, args);
    assert!(out.status.success(), "kapchart {args:?}: {}", said(&out));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn ok(home: &Home, args: &[&str]) -> String {
    ok_as(home, "Dr. Test", PASSPHRASE, args)
}

fn refused_as(home: &Home, who: &str, pass: &str, args: &[&str]) -> String {
    let out = as_who(home, who, pass, args);
    assert!(
        !out.status.success(),
        "kapchart {args:?} should be refused: {}",
        said(&out)
    );
    String::from_utf8_lossy(&out.stderr).to_string()
}

fn refused(home: &Home, args: &[&str]) -> String {
    refused_as(home, "Dr. Test", PASSPHRASE, args)
}

/// Dr. Test (admin) and a nurse; two 50 mg/mL 10 mL vials and two 28 mg devices.
fn stocked() -> Home {
    let home = Home::new();
    home.ok(&["init", "--clinician", "Dr. Test"]);
    let out = home
        .cmd(&["clinician", "add", "--name", "Nia Nurse", "--role", "nurse"])
        .env("KAPCHART_CLINICIAN", "Dr. Test")
        .env("KAPCHART_NEW_PASSPHRASE", NURSE_PASS)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", said(&out));
    let supplier = [
        "--supplier",
        "Acme Pharma",
        "--supplier-address",
        "1 Main St, Springfield",
        "--supplier-dea",
        "RA1234563",
        "--expires",
        "2027-06",
    ];
    let mut vials = vec![
        "stock",
        "receive",
        "ketamine",
        "--strength",
        "50mg/mL",
        "--volume",
        "10mL",
        "--containers",
        "2",
        "--lot",
        "L123",
    ];
    vials.extend(supplier);
    assert_eq!(ok(&home, &vials), "receipt 1: V1 V2");
    let mut devices = vec![
        "stock",
        "receive",
        "esketamine",
        "--strength",
        "28mg",
        "--containers",
        "2",
        "--lot",
        "E9",
    ];
    devices.extend(supplier);
    assert_eq!(ok(&home, &devices), "receipt 2: V3 V4");
    home
}

/// The record id `stock waste` printed.
fn record_of(printed: &str) -> String {
    printed
        .split("(stock record ")
        .nth(1)
        .and_then(|r| r.split(')').next())
        .unwrap_or_else(|| panic!("no record in {printed:?}"))
        .to_string()
}

fn log_json(home: &Home) -> Value {
    serde_json::from_str(&ok(home, &["stock", "log", "--format", "json"])).unwrap()
}

/// The movements of `container` in the log, as (kind, change, witness, note).
fn moves(home: &Home, container: &str) -> Vec<(String, f64, Option<String>, Option<String>)> {
    let log = log_json(home);
    log["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == container)
        .unwrap_or_else(|| panic!("{container} in {log}"))["movements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["kind"].as_str().unwrap().to_string(),
                m["change_mg"].as_f64().unwrap(),
                m["witness"].as_str().map(str::to_string),
                m["note"].as_str().map(str::to_string),
            )
        })
        .collect()
}

fn balance(home: &Home, container: &str) -> f64 {
    let log = log_json(home);
    log["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == container)
        .map_or(f64::NAN, |c| c["balance_mg"].as_f64().unwrap())
}

#[test]
fn a_waste_outside_a_session_is_recorded_with_its_reason_and_witnessed_by_a_second_clinician() {
    let home = stocked();
    ok(&home, &["stock", "open", "V1"]);
    let printed = ok(
        &home,
        &[
            "stock",
            "waste",
            "V1",
            "--mg",
            "120",
            "--reason",
            "beyond-use date passed",
        ],
    );
    assert!(
        printed.starts_with("V1: 120 mg wasted (stock record ")
            && printed.contains("awaiting a witness"),
        "{printed}"
    );
    let record = record_of(&printed);
    assert_eq!(balance(&home, "V1"), 380.0);
    let wasted = moves(&home, "V1").pop().unwrap();
    assert_eq!(wasted.0, "wasted");
    assert_eq!(wasted.1, -120.0);
    assert_eq!(wasted.2, None, "no witness yet");
    let note = wasted.3.unwrap();
    assert!(
        note.contains("outside a session: beyond-use date passed"),
        "{note}"
    );

    // Not by who wasted it; by the nurse, signed in as herself, once.
    let own = refused(&home, &["stock", "witness", &record]);
    assert!(own.contains("your own waste"), "{own}");
    let wrong = refused_as(
        &home,
        "Nia Nurse",
        "not her passphrase",
        &["stock", "witness", &record],
    );
    assert!(!wrong.is_empty());
    let done = ok_as(
        &home,
        "Nia Nurse",
        NURSE_PASS,
        &["stock", "witness", &record],
    );
    assert!(
        done.starts_with(&format!("stock record {record} witnessed by Nia Nurse")),
        "{done}"
    );
    assert_eq!(
        moves(&home, "V1").pop().unwrap().2.as_deref(),
        Some("Nia Nurse")
    );
    let again = refused_as(
        &home,
        "Nia Nurse",
        NURSE_PASS,
        &["stock", "witness", &record],
    );
    assert!(again.contains("already witnessed"), "{again}");
    // Only a waste outside a session is witnessed this way.
    let receipt = refused_as(&home, "Nia Nurse", NURSE_PASS, &["stock", "witness", "1"]);
    assert!(
        receipt.contains("stock record 1 is a receipt, not a waste"),
        "{receipt}"
    );
    for unknown in ["999", &(record.parse::<i64>().unwrap() + 2).to_string()] {
        // (the second is the id the witness's own record would take)
        let none = refused_as(
            &home,
            "Nia Nurse",
            NURSE_PASS,
            &["stock", "witness", unknown],
        );
        assert!(
            none.contains(&format!("stock record {unknown} does not exist")),
            "{none}"
        );
    }

    // The text log names the witness and the reason.
    let text = ok(&home, &["stock", "log"]);
    let line = text.lines().find(|l| l.contains("-120 mg")).unwrap();
    assert!(
        line.contains("witness Nia Nurse") && line.contains("beyond-use date passed"),
        "{line}"
    );
    // Without --mg, all it holds; then it is empty and nothing more is wasted.
    let rest = ok(
        &home,
        &[
            "stock",
            "waste",
            "V1",
            "--reason",
            "vial cracked",
            "--manner",
            "into the pharmacy's disposal bin",
        ],
    );
    assert!(rest.starts_with("V1: 380 mg wasted"), "{rest}");
    let note = moves(&home, "V1").pop().unwrap().3.unwrap();
    assert_eq!(
        note,
        "into the pharmacy's disposal bin; outside a session: vial cracked"
    );
    assert_eq!(balance(&home, "V1"), 0.0);
    let empty = refused(&home, &["stock", "waste", "V1", "--reason", "again"]);
    assert!(empty.contains("V1 is empty"), "{empty}");
    assert!(ok(&home, &["verify"]).starts_with("ok"));
}

#[test]
fn a_waste_outside_a_session_refuses_what_the_container_does_not_hold_naming_what_to_give() {
    let home = stocked();
    for (args, says) in [
        (
            vec!["stock", "waste", "V2", "--mg", "600", "--reason", "dropped"],
            "V2 holds 500 mg, less than the 600 mg to waste: give --mg 500 or less",
        ),
        (
            vec!["stock", "waste", "V3", "--mg", "10", "--reason", "dropped"],
            "V3 is a device, drawn whole by a dose: a device is not wasted in part",
        ),
        (
            vec!["stock", "waste", "V2", "--reason", "  "],
            "a waste outside a session says why (--reason",
        ),
        (
            vec!["stock", "waste", "V9", "--reason", "dropped"],
            "there is no container V9 in the stock",
        ),
        (
            vec!["stock", "waste", "V2", "--mg", "0", "--reason", "dropped"],
            "'0' is not an amount in mg; expected a number above 0",
        ),
        (
            vec!["stock", "waste", "V2", "--mg", "NaN", "--reason", "dropped"],
            "'NaN' is not an amount in mg",
        ),
    ] {
        let err = refused(&home, &args);
        assert!(err.contains(says), "{args:?}: {err}");
    }
    // Nothing moved.
    assert_eq!(balance(&home, "V2"), 500.0);
    assert_eq!(balance(&home, "V3"), 28.0);
    // A device is wasted whole.
    let device = ok(
        &home,
        &["stock", "waste", "V3", "--reason", "device damaged"],
    );
    assert!(device.starts_with("V3: 28 mg wasted"), "{device}");
}

#[test]
fn a_struck_waste_outside_a_session_gives_back_what_it_took_and_awaits_no_witness() {
    let home = stocked();
    let printed = ok(
        &home,
        &["stock", "waste", "V2", "--mg", "50", "--reason", "dropped"],
    );
    let record = record_of(&printed);
    assert_eq!(balance(&home, "V2"), 450.0);
    ok(
        &home,
        &[
            "stock",
            "strike",
            &record,
            "--reason",
            "wrong vial: it was V1",
        ],
    );
    assert_eq!(balance(&home, "V2"), 500.0);
    let kinds: Vec<String> = moves(&home, "V2").into_iter().map(|m| m.0).collect();
    assert_eq!(kinds, ["received", "wasted", "given back"]);
    let struck = refused_as(
        &home,
        "Nia Nurse",
        NURSE_PASS,
        &["stock", "witness", &record],
    );
    assert!(struck.contains("was already struck"), "{struck}");
    assert!(ok(&home, &["verify"]).starts_with("ok"));
}

#[test]
fn the_stock_logs_fhir_export_carries_a_waste_outside_a_session_as_an_observation_and_validates() {
    let home = stocked();
    // A device of lot E9, beside the vials of lot L123: the Observation's focus is its own lot.
    let printed = ok(
        &home,
        &["stock", "waste", "V3", "--reason", "device damaged"],
    );
    let record = record_of(&printed);
    ok_as(
        &home,
        "Nia Nurse",
        NURSE_PASS,
        &["stock", "witness", &record],
    );
    let text = ok(&home, &["stock", "log", "--format", "fhir"]);
    validate_fhir(&text);
    let bundle: Value = serde_json::from_str(&text).unwrap();
    let wastes: Vec<&Value> = bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .filter(|r| {
            r["resourceType"] == "Observation" && r["code"]["coding"][0]["code"] == "stock-waste"
        })
        .collect();
    assert_eq!(wastes.len(), 1, "{bundle}");
    let o = wastes[0];
    assert_eq!(o["status"], "final");
    assert_eq!(o["valueQuantity"]["value"], 28);
    assert_eq!(o["valueQuantity"]["code"], "mg");
    let performers: Vec<&str> = o["performer"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["display"].as_str().unwrap())
        .collect();
    assert_eq!(performers, ["Dr. Test", "Nia Nurse"]);
    assert!(
        o["note"].to_string().contains("reason: device damaged"),
        "{o}"
    );
    assert!(o["extension"].to_string().contains("V3"), "{o}");
    let focus = o["focus"][0]["reference"].as_str().unwrap();
    let lot = bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .find(|r| format!("Medication/{}", r["id"].as_str().unwrap_or_default()) == focus)
        .unwrap_or_else(|| panic!("{focus} in the bundle"));
    assert_eq!(lot["batch"]["lotNumber"], "E9", "{lot}");
    // Every reference resolves inside the bundle (the lot's Medication, both Practitioners).
    let ids: Vec<String> = bundle["entry"]
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
        .collect();
    for r in [
        &o["focus"][0]["reference"],
        &o["performer"][0]["reference"],
        &o["performer"][1]["reference"],
    ] {
        assert!(
            ids.contains(&r.as_str().unwrap().to_string()),
            "{r} in {ids:?}"
        );
    }
}

/// The use case refuses an amount that is not one on its own, whoever calls it (the command
/// line refuses these before it, `--mg 0`).
#[test]
fn the_waste_use_case_refuses_an_amount_that_is_not_above_zero() {
    let mut f = common::fixture::dosing_session(20);
    let (_, ids) = kapchart::app::stock::receive(
        &mut f.chart,
        &kapchart::domain::stock::Receipt {
            drug: "ketamine".into(),
            presentation: kapchart::domain::stock::Presentation::Vial {
                mg_per_ml: 50.0,
                ml: 10.0,
            },
            containers: 1,
            lot: "L1".into(),
            expires: "2027-06".into(),
            supplier: "Acme Pharma".into(),
            supplier_address: "1 Main St".into(),
            supplier_dea: "RA1234563".into(),
            invoice: None,
        },
        &common::fixture::at(25),
    )
    .unwrap();
    for mg in [0.0, -5.0, f64::NAN, f64::INFINITY, 0.0001] {
        let err = kapchart::app::stock::waste(
            &mut f.chart,
            &f.config,
            ids[0],
            Some(mg),
            None,
            "dropped",
            &common::fixture::at(30),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("is not an amount to waste"), "{mg}: {err}");
    }
    // A manner of blanks is the clinic's.
    kapchart::app::stock::waste(
        &mut f.chart,
        &f.config,
        ids[0],
        Some(10.0),
        Some("   "),
        "dropped",
        &common::fixture::at(31),
    )
    .unwrap();
    let l = kapchart::app::stock::container(&f.chart, ids[0]).unwrap();
    let last = &l.lines.last().unwrap().movement;
    assert_eq!(
        last.kind,
        kapchart::domain::stock::ledger::MovementKind::Wasted {
            manner: format!(
                "{}; outside a session: dropped",
                f.config.stock.waste_manner
            )
        }
    );
}
