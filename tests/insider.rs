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
