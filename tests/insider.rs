//! The insider's attacks, each performed the way a clinician on the team could (raw SQL
//! through their own chart key, a text editor on the keyring, a kill at a bad moment, a full
//! disk), and what kapchart now does about each, through the commands a user runs.

mod common;

use common::signing::{fails_as, ok_as, run_as};
use common::{Home, PASSPHRASE};
use std::process::Output;

const NURSE_PASS: &str = "tidal meadow lantern quartz";

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

fn add_clinician(home: &Home, name: &str, role: &str, pass: &str) -> Output {
    home.cmd(&["clinician", "add", "--name", name, "--role", role])
        .env("KAPCHART_CLINICIAN", "1")
        .env("KAPCHART_NEW_PASSPHRASE", pass)
        .output()
        .unwrap()
}

/// Attack 8: names that look the same. Every invisible, format, direction and separator
/// character is refused in a clinician's name, naming the character; a name that reads as
/// one already on the team (another case, look-alike letters from another script, a
/// decomposed accent) is refused; and the duplicate-patient rule holds for look-alike names.
#[test]
fn names_that_look_the_same_are_refused_in_the_team_and_among_patients() {
    let home = Home::new();
    home.with_dosing_session();
    let first = add_clinician(&home, "Dr Ada Admin", "admin", NURSE_PASS);
    assert!(first.status.success(), "{}", stderr(&first));
    for (hidden, said) in [
        ('\u{200B}', "U+200B"),
        ('\u{200D}', "U+200D"),
        ('\u{2060}', "U+2060"),
        ('\u{00AD}', "U+00AD"),
        ('\u{FEFF}', "U+FEFF"),
        ('\u{3164}', "U+3164"),
        ('\u{E0041}', "U+E0041"),
        ('\u{200E}', "U+200E"),
        ('\u{200F}', "U+200F"),
        ('\u{061C}', "U+061C"),
        ('\u{2028}', "U+2028"),
        ('\u{2029}', "U+2029"),
    ] {
        let name = format!("Dr Ada{hidden} Admin");
        let out = add_clinician(&home, &name, "admin", NURSE_PASS);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{hidden:?}: {err}");
        assert!(err.contains(said), "{hidden:?}: {err}");
    }
    for same in [
        "dr ada admin",
        "Dr  Ada Admin",
        "Dr \u{0410}d\u{0430} Admin",
        "Dr Ada Admi\u{0578}",
    ] {
        let out = add_clinician(&home, same, "admin", NURSE_PASS);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{same:?}: {err}");
        assert!(
            err.contains("already on the team") && err.contains("nobody was added"),
            "{same:?}: {err}"
        );
    }
    let team = ok_as(&home, "1", PASSPHRASE, &["clinician", "list", "--json"]);
    let team: serde_json::Value = serde_json::from_str(&team).unwrap();
    assert_eq!(team.as_array().unwrap().len(), 2, "{team}");

    // Patients: the same person typed with a look-alike letter or hidden character.
    let add = |name: &str| {
        run_as(
            &home,
            "1",
            PASSPHRASE,
            &[
                "patient",
                "add",
                "--name",
                name,
                "--dob",
                "1980-05-17",
                "--weight",
                "70",
            ],
        )
    };
    let err = stderr(&add("Test Pat\u{0456}ent"));
    assert!(err.contains("patient 1 (Test Patient"), "{err}");
    let err = stderr(&add("Test\u{200B} Patient"));
    assert!(err.contains("U+200B"), "{err}");
    let decomposed = add("Zoe\u{0308} Quinn");
    assert!(decomposed.status.success(), "{}", stderr(&decomposed));
    let err = stderr(&add("Zo\u{00EB} Quinn"));
    assert!(
        err.contains("Zo\u{00EB} Quinn") && err.contains("same name"),
        "{err}"
    );
}

/// Attack 9: passphrases built from the clinician's or clinic's name, a published example,
/// or a clinic's config lowering the bar, are refused.
#[test]
fn weak_passphrases_are_refused_and_the_bar_cannot_be_lowered() {
    let home = Home::new();
    home.with_dosing_session();
    for (name, pass) in [
        ("Nia Nurse", "Nia Nurse 2024"),
        ("Weak One", "Weak One 2026"),
        ("Theo Therapist", "Tr0ub4dor&3"),
    ] {
        let out = add_clinician(&home, name, "nurse", pass);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{pass}: {err}");
        assert!(err.contains("nobody was added"), "{pass}: {err}");
    }
    // The clinic's own name weighs too.
    let config = home.path().join("xdg-config").join("kapchart");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        config.join("config.toml"),
        "[chart]\nclinic = \"Riverside Wellness\"\n",
    )
    .unwrap();
    let out = add_clinician(&home, "Nia Nurse", "nurse", "Riverside Wellness 2026");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        add_clinician(&home, "Nia Nurse", "nurse", NURSE_PASS)
            .status
            .success()
    );
    // A clinic cannot lower the least score.
    std::fs::write(
        config.join("config.toml"),
        "[chart]\nmin_passphrase_score = 0\n",
    )
    .unwrap();
    let err = stderr(&add_clinician(&home, "Theo Therapist", "therapist", "a"));
    assert!(
        err.contains("min_passphrase_score = 0") && err.contains("never weaker"),
        "{err}"
    );
}

/// Attack 9: wrong passphrases at the command line wait longer each time, counted across
/// processes, and the refusal never says whether the clinician or the passphrase was wrong.
#[test]
fn wrong_sign_ins_at_the_command_line_wait_longer_across_processes() {
    let home = Home::new();
    home.with_dosing_session();
    assert!(
        add_clinician(&home, "Nia Nurse", "nurse", NURSE_PASS)
            .status
            .success()
    );
    let tries = [
        ("Nia Nurse", "wrong passphrase one"),
        ("Dr. Test", NURSE_PASS),
        ("Nia Nurse", "wrong passphrase two"),
    ];
    let mut said = Vec::new();
    for (n, (who, pass)) in tries.iter().enumerate() {
        let out = run_as(&home, who, pass, &["patient", "list"]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(
            err.contains("this clinician and passphrase do not open the chart"),
            "{err}"
        );
        assert!(
            !err.contains("wrong passphrase,") && !err.contains("no clinician"),
            "{err}"
        );
        // No wait after one wrong try (a typo costs nothing), then 1 s, 2 s, ...
        if n >= 2 {
            assert!(
                err.contains(&format!("{n} wrong sign-ins in a row")),
                "try {}: {err}",
                n + 1
            );
        }
        said.push(err);
    }
    // The count is kept beside the chart, not in any one process.
    let count =
        std::fs::read_to_string(common::signing::beside(&home.chart(), ".sign-in")).unwrap();
    assert!(count.starts_with("3 "), "{count}");
    // The fourth try, right after, still waits (2 s after three wrong ones): it is running
    // a second after it started.
    let mut child = home
        .cmd(&["patient", "list"])
        .env("KAPCHART_CLINICIAN", "Nia Nurse")
        .env("KAPCHART_PASSPHRASE", NURSE_PASS)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(800));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the try after three wrong ones waits"
    );
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("3 wrong sign-ins in a row"),
        "{}",
        stderr(&out)
    );
    // A right sign-in clears the count.
    assert!(!common::signing::beside(&home.chart(), ".sign-in").exists());
    let _ = fails_as;
}

fn verify_json(home: &Home) -> serde_json::Value {
    let out = run_as(home, "1", PASSPHRASE, &["verify", "--json"]);
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Attack 1: rewrite and re-chain. An entry's payload is changed (BP 120/80 to 180/110)
/// with the append-only trigger dropped and put back, and every audit row's hash recomputed
/// with the chart's own chain key: the chain holds, the schema matches, but the entry's row
/// was signed by its author over the content it had, and that signature is named.
#[test]
fn a_rewritten_and_rechained_entry_fails_its_authors_signature() {
    use common::signing::{rechain_with_the_chain_key, tamper, verify_problems};
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    let bp = home.ok(&["log", "--session", &session, "bp 120/80"]);
    home.ok(&["log", "--session", &session, "hr 72"]);
    tamper(
        &home,
        &["entries"],
        &format!(
            "UPDATE entries SET payload = json_set(payload, '$.bp.systolic', 180, '$.bp.diastolic', 110) WHERE id = {bp}"
        ),
    );
    rechain_with_the_chain_key(&home);
    let problems = verify_problems(&home);
    assert!(
        !problems
            .iter()
            .any(|p| p.contains("schema") || p.contains("audit trail broken")),
        "the chain and schema hold after re-chaining: {problems:?}"
    );
    let named = problems
        .iter()
        .find(|p| p.contains("signature broken"))
        .unwrap_or_else(|| panic!("{problems:?}"));
    assert!(
        named.contains(&format!("entry.add of entry {bp} by Dr. Test")),
        "{named}"
    );
    let v = verify_json(&home);
    assert_eq!(v["ok"], false);
}

/// Attack 2: forge a signed note. The insider replaces the therapist's recorded Ed25519 key
/// with one of their own, changes the signed text, signs the note's message anew with their
/// key and re-chains: the therapist's certificate no longer holds (the admin certified the
/// key they were added with), and their rows no longer verify.
#[test]
fn a_replaced_key_and_a_re_signed_note_are_named() {
    use common::signing::{
        THERAPIST, THERAPIST_PASS, copy_of, rechain_with_the_chain_key, signed_by_two, tamper,
        verify_problems,
    };
    use ed25519_dalek::Signer;
    let home = Home::new();
    let (_, note, addendum) = signed_by_two(&home);
    let insider = ed25519_dalek::SigningKey::from_bytes(&[42; 32]);
    let forged_public = insider.verifying_key().to_bytes();
    let attacked = copy_of(&home);
    // The therapist (clinician 2) wrote the addendum; its text is rewritten and re-signed.
    let text = "Called the next day: not reached.";
    let hash = kapchart::store::audit::sha256_hex(text.as_bytes());
    let conn = common::signing::raw(&attacked);
    let (at, note_id): (i64, i64) = conn
        .query_row(
            "SELECT at, note_id FROM note_addenda WHERE id = ?1",
            [&addendum],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    drop(conn);
    let statement = kapchart::domain::signature::Statement {
        signed: kapchart::domain::signature::Signed::Addendum {
            note: note_id,
            addendum: addendum.parse().unwrap(),
        },
        text_sha256: &hash,
        signer_id: 2,
        signer_name: THERAPIST,
        signer_key: forged_public,
        signed_at: chrono::DateTime::from_timestamp_millis(at).unwrap(),
        reason: None,
    };
    let signature = insider.sign(&statement.message_v1()).to_bytes();
    let hex = |b: &[u8]| kapchart::domain::signature::hex(b);
    tamper(
        &attacked,
        &["team_members", "note_addenda", "ed25519_signatures"],
        &format!(
            "UPDATE team_members SET ed25519_public = x'{}' WHERE clinician_id = 2;
             UPDATE note_addenda SET text = '{text}', sha256 = '{hash}' WHERE id = {addendum};
             UPDATE ed25519_signatures SET signer_public = x'{}', signature = x'{}' WHERE addendum_id = {addendum};",
            hex(&forged_public),
            hex(&forged_public),
            hex(&signature)
        ),
    );
    rechain_with_the_chain_key(&attacked);
    let problems = verify_problems(&attacked);
    assert!(
        problems
            .iter()
            .any(|p| p.contains("team member Theo Therapist (clinician 2)")
                && p.contains("does not verify")),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("signature broken")),
        "{problems:?}"
    );
    // verify no longer says the addendum is Theo's.
    let out = run_as(&attacked, "1", PASSPHRASE, &["verify"]);
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("ok"),
        "{note}"
    );
    let _ = THERAPIST_PASS;
}

/// Attack 3: keep the key after removal. A clinician still on the team appends a keyring
/// entry under another member's id with their own X25519 key; the team's admin then
/// removes them. `verify` names the entry before, and the removal seals the new chart key
/// only to the keys the team certifies: nothing in the new keyring is sealed to theirs.
#[test]
fn a_keyring_entry_the_team_does_not_certify_gets_no_chart_key() {
    let home = Home::new();
    home.with_dosing_session();
    assert!(
        add_clinician(&home, "Nia Nurse", "nurse", NURSE_PASS)
            .status
            .success()
    );
    assert!(
        add_clinician(
            &home,
            "Theo Therapist",
            "therapist",
            "violet harbor compass ember"
        )
        .status
        .success()
    );
    let ring_path = common::signing::beside(&home.chart(), ".keyring");
    let mut ring: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&ring_path).unwrap()).unwrap();
    let clinicians = ring["clinicians"].as_array_mut().unwrap();
    let nurse = clinicians.iter().find(|c| c["id"] == 2).unwrap().clone();
    let nurse_key = nurse["x25519_public"].as_str().unwrap().to_string();
    let mut planted = nurse.clone();
    planted["id"] = 3.into();
    clinicians.push(planted);
    std::fs::write(&ring_path, serde_json::to_string_pretty(&ring).unwrap()).unwrap();
    let problems = common::signing::verify_problems(&home);
    assert!(
        problems
            .iter()
            .any(|p| p.contains("keyring") && p.contains("clinician 3")),
        "{problems:?}"
    );
    let out = home
        .cmd(&["clinician", "remove", "2", "--reason", "left the clinic"])
        .env("KAPCHART_CLINICIAN", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let after: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&ring_path).unwrap()).unwrap();
    let entries = after["clinicians"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{after}");
    assert!(
        entries
            .iter()
            .all(|e| e["x25519_public"] != nurse_key.as_str()),
        "the new chart key is sealed to no entry with the nurse's key: {after}"
    );
    assert!(ok_as(&home, "1", PASSPHRASE, &["verify"]).starts_with("ok"));
}

/// Attack 5: a removal killed part-way, at moments spread over its run, on a chart of a few
/// megabytes. Whatever the moment, once `clinician list` says the clinician was removed,
/// the keyring they held before (with their passphrase) no longer opens the chart: the
/// first kapchart that opened the chart with nobody else using it finished the re-key.
#[test]
fn a_removal_killed_at_any_moment_is_finished_before_it_is_called_done() {
    use std::process::Stdio;
    use std::time::Duration;
    let home = Home::new();
    let chart = home.chart();
    let db = chart.to_str().unwrap();
    std::fs::create_dir_all(chart.parent().unwrap()).unwrap();
    home.ok(&["--db", db, "demo", "--patients", "30", "--no-tui"]);
    const ADMIN: &str = "Dr. Demo Clinician";
    let size = std::fs::metadata(&chart).unwrap().len();
    eprintln!("chart of {size} bytes");
    let ring_path = common::signing::beside(&chart, ".keyring");
    let mut unfinished_seen = 0;
    for i in 0..6u64 {
        let name = format!("Nurse Number {i}");
        let out = home
            .cmd(&["clinician", "add", "--name", &name, "--role", "nurse"])
            .env("KAPCHART_CLINICIAN", ADMIN)
            .env("KAPCHART_NEW_PASSPHRASE", NURSE_PASS)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
        // What the nurse could have kept: the keyring as it was before their removal.
        let kept = home.path().join(format!("kept-{i}"));
        std::fs::create_dir_all(&kept).unwrap();
        std::fs::copy(&ring_path, kept.join("chart.db.keyring")).unwrap();
        let mut child = home
            .cmd(&["clinician", "remove", &id, "--reason", "left the clinic"])
            .env("KAPCHART_CLINICIAN", ADMIN)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(100 + i * 45));
        let _ = child.kill();
        let _ = child.wait();
        if common::signing::beside(&chart, ".keyring.new").exists() {
            unfinished_seen += 1;
        }
        let list = ok_as(&home, ADMIN, PASSPHRASE, &["clinician", "list", "--json"]);
        let list: serde_json::Value = serde_json::from_str(&list).unwrap();
        let member = list
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"].as_i64().map(|n| n.to_string()).as_deref() == Some(id.as_str()))
            .unwrap()
            .clone();
        if member["removed"].is_null() {
            // Killed before the removal was recorded: they are still on the team.
            continue;
        }
        // Removed: the chart as it is now, with the keyring they kept, does not open.
        std::fs::copy(&chart, kept.join("chart.db")).unwrap();
        let kept_chart = kept.join("chart.db");
        let opened = kapchart::store::Chart::open_as(&kept_chart, &id, NURSE_PASS, 2000);
        let err = opened.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            err.contains("does not open this chart") || err.contains("wrong passphrase"),
            "kill {i}: a removed clinician's kept keyring must not open the chart: {err:?}"
        );
        assert!(
            !common::signing::beside(&chart, ".keyring.new").exists(),
            "kill {i}"
        );
        assert!(
            ok_as(&home, ADMIN, PASSPHRASE, &["verify"]).starts_with("ok"),
            "kill {i}"
        );
    }
    eprintln!("kills that left the removal's journal behind: {unfinished_seen} of 6");
}

/// Attack 6: the damage mark was a file, and `rm` cleared it. Now a chart changed behind
/// kapchart's back is found by the next kapchart that opens it (it walks what was written
/// since the last head it checked), before anyone runs `verify`; writes and exports stop;
/// the damage is kept in the keyring as well as in the mark (0600), so removing the mark
/// changes nothing; and an admin's acknowledgement, recorded and signed, lets writes go on
/// while `verify` goes on reporting the damage.
#[test]
fn damage_is_found_on_open_and_rm_does_not_clear_it() {
    use common::signing::{beside, rechain_with_the_chain_key, tamper};
    use std::os::unix::fs::PermissionsExt;
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    let bp = home.ok(&["log", "--session", &session, "bp 120/80"]);
    tamper(
        &home,
        &["entries"],
        &format!(
            "UPDATE entries SET payload = json_set(payload, '$.bp.systolic', 180) WHERE id = {bp}"
        ),
    );
    rechain_with_the_chain_key(&home);
    // No verify: the next command's open finds it.
    let err = home.fails(&["log", "--session", &session, "hr 80"], 1);
    assert!(
        err.contains("failed verification") && err.contains(&format!("entry {bp}")),
        "{err}"
    );
    let mark = beside(&home.chart(), ".damaged");
    let mode = std::fs::metadata(&mark).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the mark is private");
    let err = home.fails(&["export", "--session", &session, "--format", "md"], 1);
    assert!(err.contains("exports nothing"), "{err}");
    std::fs::remove_file(&mark).unwrap();
    let err = home.fails(&["log", "--session", &session, "hr 80"], 1);
    assert!(err.contains("failed verification"), "rm alone: {err}");
    // Reading goes on: the clinician with a patient in the room still sees the record.
    assert!(
        home.ok(&["session", "show", &session])
            .contains("BP 180/80")
    );
    // Only an admin acknowledges, with a reason.
    let nurse = add_clinician(&home, "Nia Nurse", "nurse", NURSE_PASS);
    assert_eq!(nurse.status.code(), Some(1), "adding is a write: refused");
    let ack = run_as(
        &home,
        "1",
        PASSPHRASE,
        &[
            "verify",
            "--acknowledge",
            "--reason",
            "BP checked against the monitor's printout",
        ],
    );
    assert!(ack.status.success(), "{}", stderr(&ack));
    assert!(String::from_utf8_lossy(&ack.stdout).contains("acknowledged by Dr. Test"));
    let id = home.ok(&["log", "--session", &session, "hr 80"]);
    assert!(!id.is_empty());
    let problems = common::signing::verify_problems(&home);
    assert!(
        problems
            .iter()
            .any(|p| p.contains("(acknowledged)") && p.contains(&format!("entry {bp}"))),
        "{problems:?}"
    );
    // The acknowledgement is in the audit trail.
    let trail = home.ok(&["audit", "--limit", "5"]);
    assert!(trail.contains("damage.acknowledge"), "{trail}");
}

/// Attack 4: undo one's own removal with a restore. A restore needs an admin of the live
/// chart; a backup whose team includes someone removed since is refused without a reason,
/// and with one the removal is applied again; the restore is a signed entry in the
/// restored chart; and ids continue above the highest the replaced chart issued.
#[test]
fn a_removed_clinician_cannot_restore_their_way_back() {
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    assert!(
        add_clinician(&home, "Nia Nurse", "nurse", NURSE_PASS)
            .status
            .success()
    );
    let therapist = "violet harbor compass ember";
    assert!(
        add_clinician(&home, "Theo Therapist", "therapist", therapist)
            .status
            .success()
    );
    ok_as(
        &home,
        "Nia Nurse",
        NURSE_PASS,
        &["log", "--session", &session, "hr 70"],
    );
    let backup = home.path().join("backup.db");
    ok_as(
        &home,
        "1",
        PASSPHRASE,
        &["backup", "--to", backup.to_str().unwrap()],
    );
    ok_as(
        &home,
        "1",
        PASSPHRASE,
        &["clinician", "remove", "2", "--reason", "left the clinic"],
    );
    let later = ok_as(
        &home,
        "3",
        therapist,
        &["log", "--session", &session, "hr 72"],
    );
    let restore = |who: &str, pass: &str, extra: &[&str]| {
        let mut args = vec!["restore", backup.to_str().unwrap(), "--replace"];
        args.extend(extra);
        run_as(&home, who, pass, &args)
    };
    // The removed nurse: her passphrase opens the backup, not the chart.
    let err = stderr(&restore("Nia Nurse", NURSE_PASS, &[]));
    assert!(
        err.contains("restore refused") && err.contains("needs an admin"),
        "{err}"
    );
    // A therapist standing on the team is no admin.
    let err = stderr(&restore("3", therapist, &[]));
    assert!(err.contains("only an admin"), "{err}");
    // The admin, without a reason: the backup would give the nurse the chart back.
    let err = stderr(&restore("1", PASSPHRASE, &[]));
    assert!(
        err.contains("Nia Nurse (clinician 2)") && err.contains("--reason"),
        "{err}"
    );
    // Nothing was restored yet: the entry charted after the backup is still there.
    let shown = ok_as(&home, "1", PASSPHRASE, &["session", "show", &session]);
    assert!(shown.contains(&later.to_string()), "{shown}");
    let out = restore("1", PASSPHRASE, &["--reason", "the chart's disk failed"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("removed again") && said.contains("Nia Nurse"),
        "{said}"
    );
    // Her passphrase opens nothing now; the team says she was removed.
    let refused = run_as(&home, "Nia Nurse", NURSE_PASS, &["patient", "list"]);
    assert_eq!(refused.status.code(), Some(1));
    let team = ok_as(&home, "1", PASSPHRASE, &["clinician", "list"]);
    assert!(
        team.contains("Nia Nurse") && team.contains("removed"),
        "{team}"
    );
    // The restore is in the restored chart's trail, signed; the chart verifies.
    let trail = ok_as(&home, "1", PASSPHRASE, &["audit", "--limit", "10"]);
    assert!(
        trail.contains("chart.restore") && trail.contains("Dr. Test"),
        "{trail}"
    );
    assert!(ok_as(&home, "1", PASSPHRASE, &["verify"]).starts_with("ok"));
    // No id is reused: the next entry's id is above the one charted after the backup (which
    // is only in the chart that was set aside).
    let next = ok_as(
        &home,
        "1",
        PASSPHRASE,
        &["log", "--session", &session, "hr 74"],
    );
    assert!(
        next.parse::<i64>().unwrap() > later.parse::<i64>().unwrap(),
        "{next} after {later}"
    );
}

/// Attack 10, the smaller ones: an entry whose content no longer decodes is shown and
/// exported as "entry N cannot be read (damaged)" with the rest of its session (before, the
/// whole session failed to show or export), and `verify` names it; keyring temporaries a
/// killed writer left are removed by the next open.
#[test]
fn an_unreadable_entry_is_shown_and_exported_with_its_session() {
    use common::signing::{beside, tamper};
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    let bad = home.ok(&["log", "--session", &session, "bp 120/80"]);
    home.ok(&["log", "--session", &session, "obs resting quietly"]);
    tamper(
        &home,
        &["entries"],
        &format!("UPDATE entries SET payload = '{{broken' WHERE id = {bad}"),
    );
    let said = format!("entry {bad} cannot be read (damaged)");
    let show = home.ok(&["session", "show", &session]);
    assert!(
        show.contains(&said) && show.contains("resting quietly"),
        "{show}"
    );
    let json = home.show_json(&session);
    assert!(json.to_string().contains(&said), "{json}");
    for format in ["md", "html", "csv", "fhir"] {
        let out = home.run(&["export", "--session", &session, "--format", format]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{format}: {}", stderr(&out));
        if format != "csv" {
            assert!(text.contains(&said), "{format}: {text}");
        }
    }
    let problems = common::signing::verify_problems(&home);
    assert!(
        problems
            .iter()
            .any(|p| p.contains(&format!("entry {bad}: its content does not decode"))),
        "{problems:?}"
    );
    // A keyring temporary left by a killed writer goes at the next open.
    let temp = beside(&home.chart(), ".keyring.tmp-999999");
    std::fs::write(&temp, "{").unwrap();
    home.ok(&["patient", "list"]);
    assert!(!temp.exists());
}

/// The chart's root (its first admin's key fingerprint) is printed where a clinic can copy
/// it off the laptop: by `init`, `verify` (text and JSON), `backup` and every export (in the
/// FHIR bundle's tags, the HTML and Markdown reports, the REMS form, and the line that says
/// where a CSV was written), always the same one; `verify --root` passes with it, fails
/// naming both with another, and refuses what is not a fingerprint.
#[test]
fn the_root_is_printed_by_init_verify_backup_and_every_export_and_verify_checks_it() {
    let home = Home::new();
    let init = home.ok(&["init", "--clinician", "Dr. Test"]);
    let root = init
        .lines()
        .find_map(|l| l.strip_prefix("root "))
        .unwrap_or_else(|| panic!("init prints the root: {init}"))
        .to_string();
    assert_eq!(root.len(), 64, "{root}");
    assert!(root.chars().all(|c| c.is_ascii_hexdigit()), "{root}");
    let patient = home.ok(&[
        "patient",
        "add",
        "--name",
        "Root Patient",
        "--dob",
        "1980-05-17",
        "--weight",
        "70",
    ]);
    let session = home.ok(&[
        "session",
        "start",
        "--patient",
        &patient,
        "--kind",
        "dosing",
    ]);
    home.ok(&["log", "--session", &session, "bp 120/80"]);
    home.ok(&[
        "log",
        "--session",
        &session,
        "dose esketamine 56mg IN lot ABC123",
    ]);

    let verify = home.ok(&["verify"]);
    assert!(
        verify.lines().any(|l| l == format!("root {root}")),
        "{verify}"
    );
    assert_eq!(
        verify_json(&home)["root"],
        serde_json::Value::from(root.clone())
    );
    home.ok(&["verify", "--root", &root]);
    let other = "ab".repeat(32);
    let err = home.fails(&["verify", "--root", &other], 1);
    assert!(err.contains(&root) && err.contains(&other), "{err}");
    let err = home.fails(&["verify", "--root", "not-a-fingerprint"], 2);
    assert!(err.contains("64 hex digits"), "{err}");

    let backup = home.path().join("root-backup.db");
    let out = home.ok(&["backup", "--to", backup.to_str().unwrap()]);
    assert!(out.lines().any(|l| l == format!("root {root}")), "{out}");

    for format in ["fhir", "html", "md"] {
        let text = home.ok(&["export", "--session", &session, "--format", format]);
        assert!(text.contains(&root), "{format} export names the root");
    }
    let bundle: serde_json::Value =
        serde_json::from_str(&home.ok(&["export", "--session", &session, "--format", "fhir"]))
            .unwrap();
    assert!(
        bundle["meta"]["tag"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["system"] == "urn:kapchart:root" && t["code"] == root.as_str()),
        "{}",
        bundle["meta"]
    );
    let csv = home.path().join("vitals.csv");
    let out = home.ok(&[
        "export",
        "--session",
        &session,
        "--format",
        "csv",
        "-o",
        csv.to_str().unwrap(),
    ]);
    assert!(out.contains(&format!("root {root}")), "{out}");
    let csv = home.run(&["export", "--session", &session, "--format", "csv"]);
    assert!(csv.status.success());
    let stdout = String::from_utf8_lossy(&csv.stdout);
    assert!(!stdout.contains(&root), "the CSV itself holds data only");
    assert!(
        String::from_utf8_lossy(&csv.stderr).contains(&format!("root {root}")),
        "a CSV on stdout: the root beside it"
    );
    let rems = home.ok(&["export", "--session", &session, "--format", "rems-html"]);
    assert!(rems.contains(&root), "the REMS form names the root");
}

/// Every write is signed by its author: after entries, an amendment and a strike, a note
/// drafted, saved and signed by one clinician and an addendum by another, a clinician added
/// and removed, reads, an export, a backup and a rebuild of the search index, every audit row
/// from where the chart began signing carries a signature, `verify --json` counts each as
/// checked against its author's certified key, and only the chain key's row is from before.
#[test]
fn every_kind_of_write_carries_its_authors_signature_and_verify_checks_each() {
    use common::signing::{raw, signed_by_two};
    let home = Home::new();
    let (session, _note, _addendum) = signed_by_two(&home);
    let first = ok_as(
        &home,
        "1",
        PASSPHRASE,
        &["log", "--session", &session, "bp 150/90"],
    );
    let obs = ok_as(
        &home,
        "1",
        PASSPHRASE,
        &["log", "--session", &session, "obs restless"],
    );
    ok_as(
        &home,
        "1",
        PASSPHRASE,
        &["amend", &first, "--reason", "misread the cuff", "bp 138/82"],
    );
    ok_as(
        &home,
        "1",
        PASSPHRASE,
        &["strike", &obs, "--reason", "entered in the wrong chart"],
    );
    ok_as(&home, "1", PASSPHRASE, &["session", "show", &session]);
    ok_as(
        &home,
        "1",
        PASSPHRASE,
        &["export", "--session", &session, "--format", "md"],
    );
    let backup = home.path().join("signed-backup.db");
    ok_as(
        &home,
        "1",
        PASSPHRASE,
        &["backup", "--to", backup.to_str().unwrap()],
    );
    ok_as(&home, "1", PASSPHRASE, &["search", "--rebuild-index"]);
    ok_as(
        &home,
        "1",
        PASSPHRASE,
        &["clinician", "remove", "2", "--reason", "left the clinic"],
    );

    let conn = raw(&home);
    let from: i64 = conn
        .query_row("SELECT audit_seq FROM signed_from", [], |r| r.get(0))
        .unwrap();
    let unsigned: Vec<String> = conn
        .prepare("SELECT seq || ' ' || action FROM audit WHERE seq >= ?1 AND signature IS NULL")
        .unwrap()
        .query_map([from], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(unsigned.is_empty(), "unsigned rows: {unsigned:?}");
    let actions: Vec<String> = conn
        .prepare("SELECT DISTINCT action FROM audit WHERE seq >= ?1")
        .unwrap()
        .query_map([from], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for action in [
        "entry.add",
        "note.sign",
        "note.addendum",
        "clinician.add",
        "session.view",
        "search.rebuild",
    ] {
        assert!(
            actions.iter().any(|a| a == action),
            "{action} in {actions:?}"
        );
    }
    let rows: i64 = conn
        .query_row("SELECT count(*) FROM audit", [], |r| r.get(0))
        .unwrap();
    drop(conn);
    let v = verify_json(&home);
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["rows_before_signing"], 1, "the chain key's row: {v}");
    assert_eq!(v["signed_rows"], rows - 1, "{v}");
}
