//! Two clinicians drawing from one vial at the same moment, from two processes: the draw is
//! checked against the container's ledger inside the write's own transaction, so only one
//! can take what the vial holds; the other is refused naming the balance, and the ledger
//! still balances. And a draw killed mid-write leaves the dose and its draw both or neither.

mod common;

use common::{Home, PASSPHRASE};
use std::process::{Child, Stdio};

fn ok(home: &Home, args: &[&str]) -> String {
    let out = home
        .cmd(args)
        .env("KAPCHART_CLINICIAN", "Dr. Test")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "kapchart {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// An open session and one opened 50 mg/mL, 10 mL vial (500 mg): V1.
fn one_vial() -> (Home, String) {
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    let receipt = home.receive_one_vial();
    assert_eq!(receipt, "receipt 1: V1");
    ok(&home, &["stock", "open", "V1"]);
    (home, session)
}

fn draw(home: &Home, session: &str, line: &str) -> Child {
    home.cmd(&["log", "--session", session, line])
        .env("KAPCHART_CLINICIAN", "Dr. Test")
        .env("KAPCHART_PASSPHRASE", PASSPHRASE)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// V1's balance and its ledger's sum, from `stock show --json` and `stock log --format json`.
fn balance(home: &Home) -> f64 {
    let v: serde_json::Value =
        serde_json::from_str(&ok(home, &["stock", "show", "--json"])).unwrap();
    v["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "V1")
        .map_or(0.0, |c| c["balance_mg"].as_f64().unwrap())
}

#[test]
fn two_processes_drawing_300_mg_from_a_500_mg_vial_at_once_one_is_refused_naming_the_balance() {
    let (home, session) = one_vial();
    for round in 0..3 {
        // Each round: two 300 mg draws at once against what the vial holds.
        let before = balance(&home);
        let a = draw(&home, &session, "dose ketamine 300mg IV vial V1");
        let b = draw(&home, &session, "dose ketamine 300mg IV vial V1");
        let outs = [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()];
        let taken = outs.iter().filter(|o| o.status.success()).count();
        let expected = if before >= 300.0 { 1 } else { 0 };
        assert_eq!(
            taken,
            expected,
            "round {round}, {before} mg before: {:?}",
            outs.iter()
                .map(|o| String::from_utf8_lossy(&o.stderr).to_string())
                .collect::<Vec<_>>()
        );
        for o in outs.iter().filter(|o| !o.status.success()) {
            let e = String::from_utf8_lossy(&o.stderr);
            assert_eq!(o.status.code(), Some(1), "{e}");
            assert!(e.contains("V1 holds") && e.contains("300 mg"), "{e}");
        }
        assert_eq!(balance(&home), before - 300.0 * taken as f64);
    }
    assert_eq!(balance(&home), 200.0);
    // The session's timeline holds exactly the one dose that drew, and verify agrees.
    let shown = ok(&home, &["session", "show", &session]);
    assert_eq!(shown.matches("300 mg IV, from V1").count(), 1, "{shown}");
    ok(&home, &["verify"]);
}

#[test]
fn a_draw_killed_at_spread_moments_leaves_the_dose_and_its_draw_both_or_neither() {
    let (home, session) = one_vial();
    let rounds: u64 = common::by_depth(6, 12, 40);
    for i in 0..rounds {
        let mut child = draw(&home, &session, "dose ketamine 10mg IV vial V1");
        std::thread::sleep(std::time::Duration::from_millis(20 + i * 25));
        let _ = child.kill();
        let _ = child.wait();
        // Whatever the moment, the doses that stand are what V1 gave.
        let shown = ok(&home, &["session", "show", &session]);
        let doses = shown.matches("10 mg IV, from V1").count() as f64;
        assert_eq!(balance(&home), 500.0 - 10.0 * doses, "round {i}:\n{shown}");
    }
    ok(&home, &["verify"]);
}

#[test]
fn the_list_of_containers_on_hand_follows_every_movement_and_verify_names_it_when_changed() {
    let (home, session) = one_vial();
    // The vial is on hand until its last milligram goes.
    ok(
        &home,
        &[
            "log",
            "--session",
            &session,
            "dose ketamine 450mg IV vial V1",
        ],
    );
    assert_eq!(balance(&home), 50.0);
    ok(
        &home,
        &["log", "--session", &session, "waste ketamine 50mg vial V1"],
    );
    let show: serde_json::Value =
        serde_json::from_str(&ok(&home, &["stock", "show", "--json"])).unwrap();
    assert_eq!(show["containers"].as_array().unwrap().len(), 0, "{show}");
    // A strike gives the waste back: on hand again.
    let log = ok(&home, &["session", "show", &session]);
    let waste = log
        .lines()
        .find(|l| l.contains("waste"))
        .and_then(|l| l.split_whitespace().next())
        .unwrap()
        .to_string();
    ok(
        &home,
        &["strike", &waste, "--reason", "wasted from the wrong vial"],
    );
    assert_eq!(balance(&home), 50.0);
    ok(&home, &["verify"]);
    // The list is kept beside the record, not part of it: an insider's edit is named.
    common::signing::raw(&home)
        .execute_batch("DELETE FROM stock_holding")
        .unwrap();
    let out = home
        .cmd(&["verify"])
        .env("KAPCHART_CLINICIAN", "Dr. Test")
        .output()
        .unwrap();
    let said =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{said}");
    assert!(
        said.contains("container V1 holds something in the record but is not in the list of containers on hand"),
        "{said}"
    );
}
