//! Witnessed doses through the `kapchart` binary: `witness` on a dose line, `kapchart
//! witness ENTRY` run by the witness, and what is refused (a non-dose, one's own dose, a
//! second witness, a wrong clinician/passphrase pair).

mod common;

use common::{Home, PASSPHRASE, file_bytes};
use std::process::Output;

const NURSE_PASS: &str = "tidal meadow lantern quartz";
const THERAPIST_PASS: &str = "violet harbor compass ember";

fn as_who(home: &Home, who: &str, pass: &str, args: &[&str]) -> Output {
    home.cmd(args)
        .env("KAPCHART_CLINICIAN", who)
        .env("KAPCHART_PASSPHRASE", pass)
        .output()
        .unwrap()
}

fn ok_as(home: &Home, who: &str, pass: &str, args: &[&str]) -> (String, String) {
    let out = as_who(home, who, pass, args);
    assert!(
        out.status.success(),
        "kapchart {args:?} as {who}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8_lossy(&out.stdout).trim().to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

fn refused_as(home: &Home, who: &str, pass: &str, args: &[&str]) -> String {
    let out = as_who(home, who, pass, args);
    assert_eq!(
        out.status.code(),
        Some(1),
        "kapchart {args:?} as {who} should be refused; stdout {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).to_string()
}

fn add(home: &Home, name: &str, role: &str, pass: &str) {
    let out = home
        .cmd(&["clinician", "add", "--name", name, "--role", role])
        .env("KAPCHART_CLINICIAN", "Dr. Test")
        .env("KAPCHART_NEW_PASSPHRASE", pass)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Dr. Test (admin), a nurse and a therapist; one open dosing session.
fn team_home() -> (Home, String) {
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    add(&home, "Nia Nurse", "nurse", NURSE_PASS);
    add(&home, "Theo Therapist", "therapist", THERAPIST_PASS);
    (home, session)
}

fn show(home: &Home, session: &str) -> String {
    ok_as(home, "Dr. Test", PASSPHRASE, &["session", "show", session]).0
}

#[test]
fn a_dose_line_asks_for_its_witness_who_records_it_under_their_own_name() {
    let (home, session) = team_home();
    let (dose, stderr) = ok_as(
        &home,
        "Dr. Test",
        PASSPHRASE,
        &[
            "log",
            "--session",
            &session,
            "dose ketamine 35mg IM witness",
        ],
    );
    assert!(
        stderr.contains(&format!("dose {dose} waits for its witness"))
            && stderr.contains(&format!("kapchart witness {dose}")),
        "{stderr}"
    );
    let (witness, _) = ok_as(&home, "Nia Nurse", NURSE_PASS, &["witness", &dose]);
    let shown = show(&home, &session);
    let row = shown
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("{witness} ")))
        .unwrap_or_else(|| panic!("no witness row {witness} in\n{shown}"));
    assert!(
        row.contains(&format!("Witnessed dose #{dose}")) && row.contains("by Nia Nurse"),
        "{row}"
    );
    let dose_row = shown
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("{dose} ")))
        .unwrap();
    assert!(dose_row.contains("by Dr. Test"), "{dose_row}");
    // The witness is in the audit trail, and the chart verifies.
    ok_as(&home, "Dr. Test", PASSPHRASE, &["verify"]);
}

#[test]
fn witnessing_a_non_dose_ones_own_dose_or_twice_is_refused_naming_why() {
    let (home, session) = team_home();
    let (vitals, _) = ok_as(
        &home,
        "Dr. Test",
        PASSPHRASE,
        &["log", "--session", &session, "bp 128/82"],
    );
    let (dose, _) = ok_as(
        &home,
        "Dr. Test",
        PASSPHRASE,
        &["log", "--session", &session, "dose ketamine 35mg IM"],
    );
    let e = refused_as(&home, "Nia Nurse", NURSE_PASS, &["witness", &vitals]);
    assert!(e.contains("not a dose"), "{e}");
    let e = refused_as(&home, "Dr. Test", PASSPHRASE, &["witness", &dose]);
    assert!(e.contains("a witness is a second clinician"), "{e}");
    ok_as(&home, "Nia Nurse", NURSE_PASS, &["witness", &dose]);
    let e = refused_as(&home, "Theo Therapist", THERAPIST_PASS, &["witness", &dose]);
    assert!(e.contains("already witnessed by Nia Nurse"), "{e}");
    let e = refused_as(&home, "Nia Nurse", NURSE_PASS, &["witness", "9999"]);
    assert!(e.contains("9999"), "{e}");
    // A struck dose is not witnessed: the one that stands is.
    let (second, _) = ok_as(
        &home,
        "Dr. Test",
        PASSPHRASE,
        &["log", "--session", &session, "dose ondansetron 4mg IV"],
    );
    ok_as(
        &home,
        "Dr. Test",
        PASSPHRASE,
        &["strike", &second, "--reason", "charted in error"],
    );
    let e = refused_as(&home, "Nia Nurse", NURSE_PASS, &["witness", &second]);
    assert!(e.contains("struck"), "{e}");
    // Nor is an amended one: the amendment that replaced it is.
    let (third, _) = ok_as(
        &home,
        "Dr. Test",
        PASSPHRASE,
        &["log", "--session", &session, "dose ketamine 20mg IM"],
    );
    let (amendment, _) = ok_as(
        &home,
        "Dr. Test",
        PASSPHRASE,
        &[
            "amend",
            &third,
            "--reason",
            "wrong amount",
            "dose ketamine 25mg IM",
        ],
    );
    let e = refused_as(&home, "Nia Nurse", NURSE_PASS, &["witness", &third]);
    assert!(e.contains("amended"), "{e}");
    ok_as(
        &home,
        "Nia Nurse",
        NURSE_PASS,
        &["witness", amendment.trim()],
    );
}

#[test]
fn a_wrong_clinician_passphrase_pair_witnesses_nothing_and_leaves_the_file_alone() {
    let (home, session) = team_home();
    let (dose, _) = ok_as(
        &home,
        "Dr. Test",
        PASSPHRASE,
        &["log", "--session", &session, "dose ketamine 35mg IM"],
    );
    let before = file_bytes(&home.chart());
    let e = refused_as(&home, "Nia Nurse", THERAPIST_PASS, &["witness", &dose]);
    assert!(e.contains("do not open the chart"), "{e}");
    assert_eq!(file_bytes(&home.chart()), before, "the chart file changed");
    assert!(!show(&home, &session).contains("Witnessed"));
}

#[test]
fn witness_only_follows_a_dose_on_its_line() {
    let (home, session) = team_home();
    for line in ["bp 128/82 witness", "witness dose ketamine 35mg IM"] {
        let out = as_who(
            &home,
            "Dr. Test",
            PASSPHRASE,
            &["log", "--session", &session, line],
        );
        let e = String::from_utf8_lossy(&out.stderr);
        if line.starts_with("bp") {
            assert!(!out.status.success());
            assert!(e.contains("witness goes right after a dose"), "{e}");
        } else {
            // A line that starts with the word is a note, as before.
            assert!(out.status.success(), "{e}");
        }
    }
}

/// Two clinicians chart in one dosing session at one terminal: the first signs in at the
/// chart screen (after a wrong clinician/passphrase pair, refused with the chart file
/// unchanged), charts a dose that asks for a witness, the nurse witnesses it, then the
/// therapist takes over with F3 and charts what was already typed in the bar.
#[test]
fn two_clinicians_chart_one_session_with_a_hand_over_and_a_witness_at_the_chart_screen() {
    use common::pty::{Key, Tty};
    use std::time::Duration;
    const TIMEOUT: Duration = Duration::from_secs(30);
    let (home, session) = team_home();
    let before = file_bytes(&home.chart());
    let mut cmd = home.cmd(&["chart", "--session", &session]);
    cmd.env_remove("KAPCHART_PASSPHRASE");
    let mut tty = Tty::spawn(&cmd, 80, 24);
    tty.wait_for("Who is signing in?", TIMEOUT);
    // The nurse with the therapist's passphrase: refused, not saying which was wrong.
    tty.send("nia");
    tty.key(Key::Enter);
    tty.send(THERAPIST_PASS);
    tty.key(Key::Enter);
    tty.wait_for("wrong try 1", TIMEOUT);
    assert_eq!(file_bytes(&home.chart()), before, "the chart file changed");
    // Back to the list: Dr. Test signs in.
    tty.key(Key::Up);
    tty.send("dr");
    tty.key(Key::Enter);
    tty.send(PASSPHRASE);
    tty.key(Key::Enter);
    tty.wait_for("signed in: Dr. Test", TIMEOUT);
    tty.send("dose ketamine 35mg IM witness");
    tty.key(Key::Enter);
    tty.wait_for("Witness dose #", TIMEOUT);
    // The panel offers someone other than the signed-in clinician first (waiting for the
    // whole panel: the terminal may show it drawn in part).
    tty.wait_for("▸ Nia Nurse", TIMEOUT);
    tty.key(Key::Enter);
    tty.send(NURSE_PASS);
    tty.key(Key::Enter);
    tty.wait_for_all(&["witnessed by Nia Nurse", "signed in: Dr. Test"], TIMEOUT);
    // A line typed, then the therapist takes over: the line stays and is charted as theirs.
    tty.send("bp 118/76 hr 70");
    tty.key(Key::F(3));
    tty.wait_for("Hand over", TIMEOUT);
    tty.send("theo");
    tty.key(Key::Enter);
    tty.send(THERAPIST_PASS);
    tty.key(Key::Enter);
    tty.wait_for("signed in: Theo Therapist", TIMEOUT);
    assert!(tty.screen().contains("bp 118/76 hr 70"), "{}", tty.screen());
    tty.key(Key::Enter);
    tty.wait_for("charted 1 entry", TIMEOUT);
    tty.key(Key::CtrlC);
    assert!(tty.wait_exit(TIMEOUT).success());

    let shown = show(&home, &session);
    let row = |needle: &str| {
        shown
            .lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no {needle} in\n{shown}"))
            .to_string()
    };
    assert!(row("Dose ketamine 35 mg IM").contains("by Dr. Test"));
    assert!(row("Witnessed dose #").contains("by Nia Nurse"));
    assert!(row("BP 118/76").contains("by Theo Therapist"));
}
