//! The lock with the real binary in a pseudo-terminal: the chart screen locks by itself and
//! unlocks with the passphrase, and the command line's passphrase prompt gives up after the
//! same wait. (The lock's states and drawing are in lock.rs.)

mod common;

use std::time::Duration;

/// The real binary in a pseudo-terminal, with `after_idle = "2s"`: the chart screen locks
/// by itself, hides the patient, keeps the countdown moving, refuses a wrong passphrase
/// without saying which part was wrong, and unlocks with the right one, the bar's text intact.
#[test]
fn the_chart_screen_locks_when_idle_and_unlocks_with_the_passphrase() {
    use common::pty::{Key as PtyKey, Tty};
    const TIMEOUT: Duration = Duration::from_secs(20);
    let home = common::Home::new();
    let (_, session) = home.with_dosing_session();
    home.ok(&[
        "log",
        "--session",
        &session,
        "@-8m bp 118/76 hr 70 spo2 98 rr 14",
    ]);
    home.ok(&["log", "--session", &session, "@-5m dose ketamine 50mg IM"]);
    let config = home.path().join("xdg-config/kapchart/config.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(&config, "[lock]\nafter_idle = \"2s\"\n").unwrap();
    let mut tty = Tty::spawn(&home.cmd(&["chart", "--session", &session]), 80, 24);
    tty.wait_for("Test Patient", TIMEOUT);
    tty.send("bp 120/80");
    tty.wait_for("BP 120/80", TIMEOUT);

    let locked = tty.wait_for_all(
        &["The chart is locked", "Session clock: T+", "Next check:"],
        TIMEOUT,
    );
    for hidden in ["Test Patient", "Let go", "120/80", "1980"] {
        assert!(
            !locked.contains(hidden),
            "{hidden:?} on the lock screen:\n{locked}"
        );
    }
    // The session clock ticks behind the lock (the countdown moves a minute at a time).
    let clock = |screen: &str| {
        screen
            .lines()
            .find(|l| l.contains("Session clock:"))
            .map(str::to_string)
            .unwrap_or_else(|| panic!("no session clock:\n{screen}"))
    };
    let first = clock(&locked);
    let moved = tty.wait_until(TIMEOUT, |s| {
        s.contains("Session clock:") && clock(s) != first
    });
    assert!(!moved.contains("Test Patient"), "{moved}");

    tty.send("not the passphrase");
    tty.key(PtyKey::Enter);
    let refused = tty.wait_for_all(&["do not unlock", "The chart is locked"], TIMEOUT);
    assert!(!refused.contains("Test Patient"), "{refused}");

    tty.send(common::PASSPHRASE);
    assert!(!tty.screen().contains(common::PASSPHRASE), "masked");
    tty.key(PtyKey::Enter);
    let back = tty.wait_until(TIMEOUT, |s| {
        s.contains("Test Patient") && s.contains("bp 120/80")
    });
    assert!(!back.contains("The chart is locked"), "{back}");
    // Nothing typed behind the lock was charted.
    let shown = home.show_json(&session);
    let entries = shown["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "only the baseline and the dose: {shown}");
    drop(tty);
}

/// The command line's passphrase prompt gives up after `after_idle` as the chart screen
/// locks after it: a clear message, exit 1, nothing written; typed in time, it is read.
#[test]
fn a_passphrase_prompt_left_waiting_gives_up_and_writes_nothing() {
    use common::pty::{Key as PtyKey, Tty};
    const TIMEOUT: Duration = Duration::from_secs(20);
    let home = common::Home::new();
    let (_, session) = home.with_dosing_session();
    let config = home.path().join("xdg-config/kapchart/config.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(&config, "[lock]\nafter_idle = \"2s\"\n").unwrap();
    let before = common::file_bytes(&home.chart());

    let mut cmd = home.cmd(&["log", "--session", &session, "bp 120/80"]);
    cmd.env_remove("KAPCHART_PASSPHRASE");
    let mut tty = Tty::spawn(&cmd, 80, 24);
    tty.wait_for("Chart passphrase:", TIMEOUT);
    let status = tty.wait_exit(TIMEOUT);
    let screen = tty.screen();
    assert_eq!(status.exit_code(), 1, "{screen}");
    assert!(
        screen
            .contains("no answer within 2 s ([lock] after_idle in config.toml); nothing was done"),
        "{screen}"
    );
    assert_eq!(
        common::file_bytes(&home.chart()),
        before,
        "nothing was written"
    );
    let shown = home.show_json(&session);
    assert!(shown["entries"].as_array().unwrap().is_empty(), "{shown}");

    // Typed in time, the passphrase is read (without echo) and the line charted.
    let mut cmd = home.cmd(&["log", "--session", &session, "bp 120/80"]);
    cmd.env_remove("KAPCHART_PASSPHRASE");
    let mut tty = Tty::spawn(&cmd, 80, 24);
    tty.wait_for("Chart passphrase:", TIMEOUT);
    tty.send(common::PASSPHRASE);
    tty.key(PtyKey::Enter);
    let status = tty.wait_exit(TIMEOUT);
    let screen = tty.screen();
    assert!(status.success(), "{screen}");
    assert!(!screen.contains(common::PASSPHRASE), "no echo: {screen}");
    let shown = home.show_json(&session);
    assert_eq!(shown["entries"].as_array().unwrap().len(), 1, "{shown}");
}

/// Every passphrase the command line asks for gives up after `after_idle`, not only the
/// sign-in's: the admin signed in (from the environment) adds a clinician, the newcomer's
/// passphrase is asked at the terminal and nobody answers; nobody is added, the team and
/// the chart file stay as they were. Then a new passphrase for `rekey` left unanswered.
#[test]
fn the_newcomer_and_new_passphrase_prompts_give_up_too() {
    use common::pty::Tty;
    const TIMEOUT: Duration = Duration::from_secs(20);
    let home = common::Home::new();
    home.ok(&["init", "--clinician", "Dr. Test"]);
    let config = home.path().join("xdg-config/kapchart/config.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(&config, "[lock]\nafter_idle = \"2s\"\n").unwrap();
    let team_before = home.ok(&["clinician", "list", "--json"]);
    let before = common::file_bytes(&home.chart());

    let cmd = home.cmd(&["clinician", "add", "--name", "Nia Nurse", "--role", "nurse"]);
    let mut tty = Tty::spawn(&cmd, 80, 24);
    tty.wait_for("Passphrase for Nia Nurse (they type it):", TIMEOUT);
    let status = tty.wait_exit(TIMEOUT);
    let screen = tty.screen();
    assert_eq!(status.exit_code(), 1, "{screen}");
    assert!(
        screen
            .contains("no answer within 2 s ([lock] after_idle in config.toml); nothing was done"),
        "{screen}"
    );
    assert_eq!(
        common::file_bytes(&home.chart()),
        before,
        "nothing was written"
    );
    assert_eq!(home.ok(&["clinician", "list", "--json"]), team_before);

    let cmd = home.cmd(&["rekey"]);
    let mut tty = Tty::spawn(&cmd, 80, 24);
    tty.wait_for("New passphrase:", TIMEOUT);
    let status = tty.wait_exit(TIMEOUT);
    let screen = tty.screen();
    assert_eq!(status.exit_code(), 1, "{screen}");
    assert!(screen.contains("no answer within 2 s"), "{screen}");
    // The old passphrase still opens the chart.
    home.ok(&["clinician", "list"]);
}

/// `patient show` and `patient update` at a terminal ask for the passphrase once: typed
/// once, the command answers (a second prompt would go unanswered and give up after
/// `after_idle`).
#[test]
fn patient_show_and_update_ask_for_the_passphrase_once() {
    use common::pty::{Key as PtyKey, Tty};
    const TIMEOUT: Duration = Duration::from_secs(20);
    let home = common::Home::new();
    let (patient, _) = home.with_dosing_session();
    let config = home.path().join("xdg-config/kapchart/config.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(&config, "[lock]\nafter_idle = \"2s\"\n").unwrap();
    for args in [
        vec!["patient", "show", patient.as_str()],
        vec!["patient", "update", patient.as_str(), "--weight", "71"],
    ] {
        let mut cmd = home.cmd(&args);
        cmd.env_remove("KAPCHART_PASSPHRASE");
        let mut tty = Tty::spawn(&cmd, 80, 24);
        tty.wait_for("Chart passphrase:", TIMEOUT);
        tty.send(common::PASSPHRASE);
        tty.key(PtyKey::Enter);
        let status = tty.wait_exit(TIMEOUT);
        let screen = tty.screen();
        assert!(status.success(), "{args:?}: {screen}");
        assert_eq!(
            screen.matches("Chart passphrase:").count(),
            1,
            "{args:?}: {screen}"
        );
    }
}
