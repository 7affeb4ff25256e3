//! The benchmarks time `verify` beside `Chart::verify_without_signatures` on the same chart
//! (BENCHMARKS.md): these hold that the two differ in the signatures only. A row rewritten
//! and re-chained with the chain key (an insider with the chart open) is caught by `verify`
//! as a broken signature, named; without the signature checks the chain itself holds, so the
//! same chart reads as whole. A row changed without re-chaining is caught by both.

mod common;

use common::signing::{rechain_with_the_chain_key, tamper};
use common::{Home, PASSPHRASE};

fn open(home: &Home) -> kapchart::store::Chart {
    kapchart::store::Chart::open(&home.chart(), PASSPHRASE, 2000).expect("open the chart")
}

#[test]
fn verify_without_signatures_differs_from_verify_in_the_signatures_only() {
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    let bp = home.ok(&["log", "--session", &session, "bp 120/80"]);
    home.ok(&["log", "--session", &session, "hr 72"]);

    // Whole: both agree, and only verify checked signatures.
    let chart = open(&home);
    let with = chart.verify().expect("verify");
    let without = chart.verify_without_signatures().expect("verify");
    assert!(with.is_ok(), "{:?}", with.problems());
    assert!(without.is_ok(), "{:?}", without.problems());
    assert!(with.signed_rows > 0);
    assert_eq!(without.signed_rows, 0);
    assert_eq!(with.audit_rows, without.audit_rows);
    drop(chart);

    // Rewritten and re-chained: only the author's signature can tell.
    tamper(
        &home,
        &["entries"],
        &format!(
            "UPDATE entries SET payload = json_set(payload, '$.bp.systolic', 180) WHERE id = {bp}"
        ),
    );
    rechain_with_the_chain_key(&home);
    let chart = open(&home);
    let with = chart.verify().expect("verify");
    let bad = with
        .first_bad_signature
        .as_ref()
        .unwrap_or_else(|| panic!("verify names the re-signed row: {:?}", with.problems()));
    assert!(
        bad.why.contains(&format!("entry.add of entry {bp}")),
        "{}",
        bad.why
    );
    assert!(with.first_break.is_none(), "{:?}", with.first_break);
    let without = chart.verify_without_signatures().expect("verify");
    assert!(without.first_bad_signature.is_none());
    assert!(without.first_break.is_none(), "{:?}", without.first_break);
    drop(chart);

    // Changed without re-chaining: the chain breaks, for both.
    tamper(
        &home,
        &["entries"],
        &format!(
            "UPDATE entries SET payload = json_set(payload, '$.bp.systolic', 190) WHERE id = {bp}"
        ),
    );
    let chart = open(&home);
    for report in [
        chart.verify().expect("verify"),
        chart.verify_without_signatures().expect("verify"),
    ] {
        let broken = report.first_break.expect("the chain breaks");
        assert!(
            broken.why.contains(&format!("entry {bp} was changed")),
            "{}",
            broken.why
        );
    }
}
