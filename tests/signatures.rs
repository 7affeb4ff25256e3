//! Signatures that name who, through the real binary: two clinicians sign a note and an
//! addendum, `verify` checks each Ed25519 signature and names its signer, a signature row
//! changed behind kapchart's back (signer, name, key, text, a signature removed) is found
//! naming the note, the exported signature checks out with an independent check (Python's
//! `cryptography`, rebuilding the message from the exported fields), notes signed before
//! keep verifying by their SHA-256, and a chart without team keys signs nothing.

mod common;

use common::fhir_validator::python;

use common::signing::{
    THERAPIST, THERAPIST_PASS, chart_signed_before, copy_of, fails_as, ok_as, raw, signed_by_two,
    tamper, verify_problems,
};
use common::{Home, PASSPHRASE};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

#[test]
fn two_clinicians_sign_and_verify_names_each_signer() {
    let home = Home::new();
    let (session, note, addendum) = signed_by_two(&home);
    let out = ok_as(&home, THERAPIST, THERAPIST_PASS, &["verify"]);
    assert!(
        out.contains(
            "signatures: Ed25519 verified: Dr. Test (clinician 1): 1 note; Theo Therapist (clinician 2): 1 addendum"
        ),
        "{out}"
    );
    assert!(!out.contains("SHA-256 only"), "{out}");
    let v: Value =
        serde_json::from_str(&ok_as(&home, "1", PASSPHRASE, &["verify", "--json"])).unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(
        v["signatures"],
        serde_json::json!({
            "ed25519_signers": [
                {"clinician_id": 1, "name": "Dr. Test", "notes": 1, "addenda": 0},
                {"clinician_id": 2, "name": THERAPIST, "notes": 0, "addenda": 1}
            ],
            "sha256_only": 0
        })
    );
    // note show names the signature and the key, as text and as JSON.
    let shown = ok_as(&home, "1", PASSPHRASE, &["note", "show", &note]);
    assert_eq!(
        shown.matches("Ed25519 signature (message v1").count(),
        2,
        "{shown}"
    );
    let json: Value = serde_json::from_str(&ok_as(
        &home,
        "1",
        PASSPHRASE,
        &["note", "show", &note, "--json"],
    ))
    .unwrap();
    let seal = &json["signature"]["ed25519"];
    assert_eq!(seal["algorithm"], "Ed25519");
    assert_eq!(seal["message_version"], 1);
    assert_eq!(seal["signature_base64"].as_str().unwrap().len(), 88);
    assert_eq!(seal["public_key_base64"].as_str().unwrap().len(), 44);
    let a = &json["addenda"][0];
    assert_eq!(a["id"].to_string(), addendum);
    // The Markdown report prints each signature and key under its own note or addendum,
    // with the fields of the message that the report does not show beside it.
    let md = ok_as(
        &home,
        "1",
        PASSPHRASE,
        &["export", "--session", &session, "--format", "md"],
    );
    let line_of = |start: &str| {
        md.lines()
            .find(|l| l.starts_with(start))
            .unwrap_or_else(|| panic!("no line starting {start:?} in\n{md}"))
            .to_string()
    };
    let note_line = line_of("Ed25519 signature (message \"kapchart note signature v1\"");
    assert!(
        note_line.contains(&format!("note {note}, signer-id 1, signed-at 20")),
        "{note_line}"
    );
    assert!(
        note_line.ends_with(&format!(
            "`{}` · public key: `{}`",
            seal["signature_base64"].as_str().unwrap(),
            seal["public_key_base64"].as_str().unwrap()
        )),
        "{note_line}"
    );
    let addendum_line = line_of("Ed25519 signature (message \"kapchart addendum signature v1\"");
    assert!(
        addendum_line.contains(&format!("note {note}, addendum {addendum}, signer-id 2,")),
        "{addendum_line}"
    );
    assert!(
        addendum_line.ends_with(&format!(
            "`{}` · public key: `{}`",
            a["ed25519"]["signature_base64"].as_str().unwrap(),
            a["ed25519"]["public_key_base64"].as_str().unwrap()
        )),
        "{addendum_line}"
    );
    assert_eq!(a["author_id"], 2);
    assert_ne!(
        a["ed25519"]["public_key_base64"], seal["public_key_base64"],
        "each signer signs with their own key"
    );
    // The key each signature was made with is the one the chart recorded for its signer.
    let conn = raw(&home);
    for (who, key) in [
        (1, &seal["public_key_base64"]),
        (2, &a["ed25519"]["public_key_base64"]),
    ] {
        let recorded: Vec<u8> = conn
            .query_row(
                "SELECT ed25519_public FROM team_members WHERE clinician_id = ?1",
                [who],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(
            key.as_str().unwrap(),
            kapchart::domain::signature::base64(&recorded)
        );
    }
    // Each signature row has its audit row, written with it.
    let audited: i64 = conn
        .query_row(
            "SELECT count(*) FROM audit WHERE object_kind = 'ed25519-signature'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(audited, 2);
    drop(conn);
    // A clinician who leaves keeps their signatures: the chart still holds their key.
    ok_as(
        &home,
        "1",
        PASSPHRASE,
        &["clinician", "remove", "2", "--reason", "left the clinic"],
    );
    let out = ok_as(&home, "1", PASSPHRASE, &["verify"]);
    assert!(
        out.contains("Theo Therapist (clinician 2): 1 addendum"),
        "{out}"
    );
}

#[test]
fn a_signature_changed_behind_kapcharts_back_is_found_naming_the_note() {
    let home = Home::new();
    let (_, note, addendum) = signed_by_two(&home);
    let signed_note = format!("signed note {note}:");

    // The note's signer changed to the therapist.
    let h = copy_of(&home);
    tamper(
        &h,
        &["note_signatures"],
        "UPDATE note_signatures SET signer_id = 2",
    );
    let problems = verify_problems(&h);
    assert!(
        problems.iter().any(|p| p.starts_with(&signed_note)
            && p.contains("not the one the chart recorded for Theo Therapist (clinician 2)")),
        "{problems:?}"
    );
    let err = fails_as(&h, &["verify"]);
    assert!(err.contains(&signed_note), "{err}");

    // ... and the stored key swapped for the therapist's, so the key matches the signer:
    // the signature itself no longer verifies.
    let h = copy_of(&home);
    tamper(
        &h,
        &["note_signatures", "ed25519_signatures"],
        "UPDATE note_signatures SET signer_id = 2;
         UPDATE ed25519_signatures SET signer_public =
           (SELECT ed25519_public FROM team_members WHERE clinician_id = 2)
         WHERE note_signature_id IS NOT NULL;",
    );
    let problems = verify_problems(&h);
    assert!(
        problems.iter().any(|p| p.starts_with(&signed_note)
            && p.contains("Ed25519 signature does not verify for Theo Therapist (clinician 2)")),
        "{problems:?}"
    );

    // The signer's name changed in the clinicians table.
    let h = copy_of(&home);
    tamper(
        &h,
        &["clinicians"],
        "UPDATE clinicians SET name = 'Dr. Someone Else' WHERE id = 1",
    );
    let problems = verify_problems(&h);
    assert!(
        problems.iter().any(|p| p.starts_with(&signed_note)
            && p.contains("does not verify for Dr. Someone Else (clinician 1)")),
        "{problems:?}"
    );

    // The addendum's text changed: its SHA-256 and its Ed25519 signature both say so.
    let h = copy_of(&home);
    tamper(
        &h,
        &["note_addenda"],
        "UPDATE note_addenda SET text = 'Called the next day: all fine.'",
    );
    let problems = verify_problems(&h);
    let named = format!("addendum {addendum} to note {note}:");
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with(&named) && p.contains("Ed25519 signature does not verify")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains(&format!("addendum {addendum}: its text no longer matches"))),
        "{problems:?}"
    );

    // The note's signature removed: the note does not pass as one signed before.
    let h = copy_of(&home);
    tamper(
        &h,
        &["ed25519_signatures"],
        "DELETE FROM ed25519_signatures WHERE note_signature_id IS NOT NULL",
    );
    let problems = verify_problems(&h);
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with(&signed_note) && p.contains("Ed25519 signature is missing")),
        "{problems:?}"
    );

    // The untouched chart still verifies.
    ok_as(&home, "1", PASSPHRASE, &["verify"]);
}

/// The resource with `id` in a bundle.
fn resource<'a>(bundle: &'a mut Value, id: &str) -> &'a mut Value {
    bundle["entry"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .map(|e| &mut e["resource"])
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("no resource {id}"))
}

/// Runs tests/ed25519_check.py on a bundle: (success, output).
fn independent_check(bundle: &Path) -> (bool, String) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ed25519_check.py");
    let out = Command::new(python())
        .arg(script)
        .arg(bundle)
        .output()
        .expect("run the signature check");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn an_exported_signature_checks_out_outside_kapchart() {
    let home = Home::new();
    let (session, note, addendum) = signed_by_two(&home);
    let bundle = ok_as(
        &home,
        "1",
        PASSPHRASE,
        &["export", "--session", &session, "--format", "fhir"],
    );
    let path = home.path().join("bundle.json");
    std::fs::write(&path, &bundle).unwrap();
    let (ok, said) = independent_check(&path);
    assert!(ok, "{said}");
    let exported: Value = serde_json::from_str(&bundle).unwrap();
    let note_id = common::named(&exported, &format!("note/{note}"));
    let addendum_id = common::named(&exported, &format!("addendum/{addendum}"));
    assert!(
        said.contains(&format!("ok {note_id} by Dr. Test")),
        "{said}"
    );
    assert!(
        said.contains(&format!("ok {addendum_id} by Theo Therapist")),
        "{said}"
    );
    assert!(said.contains("2 signatures verified"), "{said}");

    // The check can fail: the same bundle with the addendum's signer name, or the note's
    // text, changed.
    let original: Value = serde_json::from_str(&bundle).unwrap();
    let mut v = original.clone();
    let parts =
        resource(&mut v, &addendum_id)["content"][0]["attachment"]["extension"][1]["extension"]
            .as_array_mut()
            .unwrap();
    let name = parts.iter_mut().find(|p| p["url"] == "signerName").unwrap();
    name["valueString"] = Value::String("Nia Nurse".into());
    let forged = home.path().join("forged-name.json");
    std::fs::write(&forged, v.to_string()).unwrap();
    let (ok, said) = independent_check(&forged);
    assert!(!ok, "a changed signer name must not verify: {said}");
    assert!(said.contains(&format!("FAILED {addendum_id}")), "{said}");
    let mut v = original;
    resource(&mut v, &note_id)["content"][0]["attachment"]["data"] = Value::String(
        kapchart::domain::signature::base64(b"Patient denied all symptoms."),
    );
    let forged = home.path().join("forged-text.json");
    std::fs::write(&forged, v.to_string()).unwrap();
    let (ok, said) = independent_check(&forged);
    assert!(!ok, "a changed text must not verify: {said}");
    assert!(said.contains(&format!("FAILED {note_id}")), "{said}");
}

#[test]
fn notes_signed_before_keep_verifying_by_their_sha256_and_new_ones_are_signed() {
    let home = Home::new();
    chart_signed_before(&home);
    let out = home.ok(&["verify"]);
    assert!(
        out.contains(
            "signatures: Ed25519 verified: none to check; 2 signed before Ed25519 signatures (SHA-256 only, checked as before)"
        ),
        "{out}"
    );
    let shown = home.ok(&["note", "show", "1"]);
    assert!(
        shown.contains("no Ed25519 signature (signed before"),
        "{shown}"
    );
    // A new addendum, after the upgrade, is signed with the clinician's key.
    home.ok(&["note", "addend", "1", "Seen again a week later: well."]);
    let out = home.ok(&["verify"]);
    assert!(
        out.contains("Dr. Old (clinician 1): 1 addendum; 2 signed before"),
        "{out}"
    );
    // The old signed text changed is still found by its SHA-256.
    tamper(
        &home,
        &["note_signatures"],
        "UPDATE note_signatures SET text = 'Nothing happened.'",
    );
    let err = home.fails(&["verify"], 1);
    assert!(
        err.contains("signed note 1: its text no longer matches its signature (SHA-256)"),
        "{err}"
    );
}

/// Every write is signed by its author's key, so a chart from before keyrings that cannot be
/// upgraded yet (another kapchart has it open) takes no write at all; it is read as before,
/// and the first open with nobody else using it upgrades it, after which writes go through.
#[test]
fn a_chart_without_team_keys_takes_no_write_until_it_is_upgraded() {
    let home = Home::new();
    let path = home.chart();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    kapchart::store::Chart::create_without_keyring(
        &path,
        PASSPHRASE,
        "Dr. Early",
        2000,
        kapchart::clock::now(),
    )
    .unwrap();
    // Another kapchart holds the chart open, so this one cannot upgrade it to team keys.
    let lock = std::fs::File::open({
        let mut s = path.as_os_str().to_owned();
        s.push(".lock");
        PathBuf::from(s)
    })
    .unwrap();
    rustix::fs::flock(&lock, rustix::fs::FlockOperation::LockShared).unwrap();
    let err = home.fails(
        &[
            "patient",
            "add",
            "--name",
            "Early Patient",
            "--dob",
            "1980-01-01",
        ],
        1,
    );
    assert!(
        err.contains("this chart has no team keys yet") && err.contains("nothing was written"),
        "{err}"
    );
    assert_eq!(home.ok(&["patient", "list"]), "");
    drop(lock);
    // Nobody else has it open now: this open upgrades it, and the write is signed.
    let patient = home.ok(&[
        "patient",
        "add",
        "--name",
        "Early Patient",
        "--dob",
        "1980-01-01",
    ]);
    assert_eq!(patient, "1");
    assert!(home.ok(&["verify"]).contains("ok:"));
}
