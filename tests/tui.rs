//! The terminal interface, through the built binary in a pseudo-terminal.

mod common;

use std::time::Duration;

use common::Home;
use common::pty::{Key, Tty};

/// Generous: a debug build, and opening a chart derives the SQLCipher key.
const TIMEOUT: Duration = Duration::from_secs(20);

/// `kapchart` with no arguments on a chart with one patient, on the home screen.
fn home_screen(home: &Home) -> Tty {
    home.with_dosing_session();
    let tty = Tty::spawn(&home.cmd(&[]), 80, 24);
    tty.wait_for("Test Patient", TIMEOUT);
    assert!(
        tty.alternate_screen(),
        "the home screen is drawn on the alternate screen"
    );
    tty
}

#[test]
fn home_screen_lists_patients_and_quits_cleanly() {
    let home = Home::new();
    let mut tty = home_screen(&home);
    tty.key(Key::Char('q'));
    let status = tty.wait_exit(TIMEOUT);
    assert!(
        status.success(),
        "q quits with success, got {status}; screen:\n{}",
        tty.screen()
    );
    assert!(
        tty.terminal_restored(),
        "terminal restored after q (alternate screen {}, cursor hidden {}); screen:\n{}",
        tty.alternate_screen(),
        tty.cursor_hidden(),
        tty.screen()
    );
}

/// A patient added from the command line shows on the open home screen without a key
/// pressed, and one added on the home screen (`a`) is in the chart for the command line.
#[test]
fn the_home_screen_follows_the_command_line_and_adds_patients_itself() {
    let home = Home::new();
    let mut tty = home_screen(&home);
    tty.wait_for("Patients (1)", TIMEOUT);
    home.ok(&["patient", "add", "--name", "Bo Chen", "--dob", "1990-05-06"]);
    tty.wait_for_all(&["Bo Chen", "Patients (2)"], TIMEOUT);
    // Added on the home screen: name, Tab, date of birth, Enter.
    tty.send("a");
    tty.wait_for("Add patient", TIMEOUT);
    tty.send("Cy Okafor");
    tty.key(Key::Tab);
    tty.send("1979-02-03");
    tty.key(Key::Enter);
    // The new patient is the one selected.
    tty.wait_for_all(&["Patients (3)", "> Cy Okafor"], TIMEOUT);
    let listed = home.ok(&["patient", "list"]);
    assert!(listed.contains("Cy Okafor"), "{listed}");
    tty.key(Key::Char('q'));
    assert!(tty.wait_exit(TIMEOUT).success());
}

#[test]
fn ctrl_c_quits_the_home_screen_cleanly() {
    let home = Home::new();
    let mut tty = home_screen(&home);
    tty.key(Key::CtrlC);
    let status = tty.wait_exit(TIMEOUT);
    assert!(
        status.success(),
        "Ctrl-C quits with success, got {status}; screen:\n{}",
        tty.screen()
    );
    assert!(
        tty.terminal_restored(),
        "terminal restored after Ctrl-C (alternate screen {}, cursor hidden {}); screen:\n{}",
        tty.alternate_screen(),
        tty.cursor_hidden(),
        tty.screen()
    );
}

#[test]
fn wrong_passphrase_says_so_on_the_terminal_and_exits_1() {
    let home = Home::new();
    home.with_dosing_session();
    let mut cmd = home.cmd(&[]);
    cmd.env("KAPCHART_PASSPHRASE", "not the passphrase");
    let mut tty = Tty::spawn(&cmd, 80, 24);
    let screen = tty.wait_for("wrong passphrase, or not a kapchart chart", TIMEOUT);
    let status = tty.wait_exit(TIMEOUT);
    assert_eq!(
        status.exit_code(),
        1,
        "exit status {status}; screen:\n{screen}"
    );
    assert!(
        !screen.contains("Test Patient"),
        "nothing from the chart is shown:\n{screen}"
    );
    assert!(
        tty.terminal_restored(),
        "terminal left as it was; screen:\n{}",
        tty.screen()
    );
}

/// `kapchart chart --session ID` on a fresh dosing session, with the bar focused.
fn live_screen(home: &Home, cols: u16, rows: u16) -> (Tty, String) {
    let (_, session) = home.with_dosing_session();
    let tty = Tty::spawn(&home.cmd(&["chart", "--session", &session]), cols, rows);
    tty.wait_for("Chart: bp 128/82", TIMEOUT);
    (tty, session)
}

#[test]
fn chart_vitals_and_an_observation_at_the_bedside() {
    let home = Home::new();
    let (mut tty, session) = live_screen(&home, 80, 24);
    tty.send("bp 128/82 hr 74 spo2 97");
    tty.wait_for("→ BP 128/82 · HR 74 · SpO2 97%", TIMEOUT);
    tty.key(Key::Enter);
    tty.wait_for("charted 1 entry", TIMEOUT);
    tty.send("obs eyes closed, \"I feel held\" #insight");
    tty.key(Key::Enter);
    // The timeline's two lines and the flowsheet row, on one screen.
    tty.wait_for_all(
        &[
            "obs     eyes closed",
            "BP 128/82 · HR 74 · SpO2 97%",
            "eyes closed, \"I feel held\" #insight",
            "128/82",
        ],
        TIMEOUT,
    );
    // A bad line stays in the bar with its error and is not charted.
    tty.send("bp 128");
    tty.key(Key::Enter);
    tty.wait_for("Blood pressure needs", TIMEOUT);
    tty.key(Key::CtrlC);
    assert!(tty.wait_exit(TIMEOUT).success());
    assert!(tty.terminal_restored());

    let json = home.show_json(&session);
    let entries = json["entries"].as_array().unwrap();
    let summaries: Vec<&str> = entries
        .iter()
        .map(|e| e["summary"].as_str().unwrap())
        .collect();
    assert_eq!(
        summaries,
        [
            "BP 128/82 · HR 74 · SpO2 97%",
            "eyes closed, \"I feel held\" #insight"
        ]
    );
    assert_eq!(entries[1]["payload"]["tags"][0], "insight");
    assert_eq!(entries[1]["payload"]["quotes"][0], "I feel held");
}

#[test]
fn sigterm_restores_the_terminal() {
    let home = Home::new();
    let (mut tty, _) = live_screen(&home, 80, 24);
    tty.signal(15);
    tty.wait_exit(TIMEOUT);
    assert!(tty.terminal_restored(), "screen:\n{}", tty.screen());
}

/// A panic restores the terminal before its message is printed. The panic comes from a
/// test hook in debug builds only (`KAPCHART_TEST_PANIC_ON_KEY=1`: the first key panics; see
/// tests/README.md). Raw mode is off again: the message's second line starts at column 0,
/// which needs the terminal's own newline handling back.
#[test]
fn a_panic_restores_the_terminal() {
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    let mut cmd = home.cmd(&["chart", "--session", &session]);
    cmd.env("KAPCHART_TEST_PANIC_ON_KEY", "1");
    let mut tty = Tty::spawn(&cmd, 80, 24);
    tty.wait_for("Chart: bp 128/82", TIMEOUT);
    assert!(
        tty.alternate_screen(),
        "the chart screen is on the alternate screen"
    );
    tty.send("h");
    let status = tty.wait_exit(TIMEOUT);
    assert!(!status.success(), "a panic is a failure: {status}");
    assert!(
        tty.terminal_restored(),
        "alternate screen {}, cursor hidden {}; screen:\n{}",
        tty.alternate_screen(),
        tty.cursor_hidden(),
        tty.screen()
    );
    let screen = tty.screen();
    assert!(
        screen
            .lines()
            .any(|l| l.starts_with("KAPCHART_TEST_PANIC_ON_KEY: a panic asked for by a test")),
        "the panic message, on the normal screen, from column 0:\n{screen}"
    );
}

/// `NO_COLOR` is honoured: with it set, the chart screen sends no colour at all (no SGR
/// foreground or background sequence), and the alert is still marked with `!`. Without it,
/// the same screen does send colour, so the check can tell the two apart.
#[test]
fn no_color_draws_without_colour_and_keeps_the_marks() {
    /// SGR sequences (ESC [ ... m) that set a foreground or background colour.
    fn colour_sequences(transcript: &[u8]) -> usize {
        let text = String::from_utf8_lossy(transcript);
        text.split("\x1b[")
            .skip(1)
            .filter_map(|rest| {
                let end = rest.find(|c: char| !(c.is_ascii_digit() || c == ';'))?;
                (rest[end..].starts_with('m')).then(|| rest[..end].to_string())
            })
            .filter(|params| {
                params.split(';').any(|p| {
                    matches!(
                        p.parse::<u16>(),
                        Ok(30..=38 | 40..=48 | 90..=97 | 100..=107)
                    )
                })
            })
            .count()
    }
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    home.ok(&["log", "--session", &session, "bp 172/104 hr 80"]);
    let mut counts = Vec::new();
    for no_color in [false, true] {
        let mut cmd = home.cmd(&["chart", "--session", &session]);
        if no_color {
            cmd.env("NO_COLOR", "1");
        }
        let mut tty = Tty::spawn(&cmd, 100, 30);
        // The whole frame, not its first rows: a frame reaches the terminal in pieces.
        let screen = tty.wait_until(TIMEOUT, |s| {
            s.contains("172/104!") || s.contains("172/104 !")
        });
        assert!(
            screen.contains("172/104!") || screen.contains("172/104 !"),
            "{screen}"
        );
        tty.key(Key::CtrlC);
        tty.wait_exit(TIMEOUT);
        counts.push(colour_sequences(&tty.transcript()));
    }
    assert!(counts[0] > 0, "with colour, the screen is coloured");
    assert_eq!(counts[1], 0, "NO_COLOR: no colour sequence at all");
}

#[test]
fn sighup_restores_the_terminal() {
    let home = Home::new();
    let (mut tty, _) = live_screen(&home, 80, 24);
    tty.signal(1);
    tty.wait_exit(TIMEOUT);
    assert!(tty.terminal_restored(), "screen:\n{}", tty.screen());
}

#[test]
fn resize_redraws_and_a_tiny_terminal_says_so() {
    let home = Home::new();
    let (mut tty, _) = live_screen(&home, 80, 24);
    tty.send("obs typed before the resize");
    tty.wait_for("→ typed before the resize", TIMEOUT);
    tty.resize(40, 12);
    tty.wait_for("Terminal too small", TIMEOUT);
    tty.resize(160, 48);
    // Nothing typed is lost: the bar's text in the frame drawn for the new size.
    tty.wait_for_all(&["BP and HR trend", "obs typed before the resize"], TIMEOUT);
    tty.key(Key::CtrlC);
    tty.wait_exit(TIMEOUT);
}

#[test]
fn ctrl_z_suspends_and_the_screen_comes_back() {
    let home = Home::new();
    let (mut tty, _) = live_screen(&home, 80, 24);
    tty.send("obs before suspend");
    tty.wait_for("→ before suspend", TIMEOUT);
    let leave = b"\x1b[?1049l";
    let count = |t: &[u8]| t.windows(leave.len()).filter(|w| w == leave).count();
    let before = count(&tty.transcript());
    tty.key(Key::CtrlZ);
    // The terminal is handed back to the shell (in a real shell the process then stops;
    // in this test's pseudo-terminal there is no job control, so it carries straight on).
    tty.wait_until(TIMEOUT, |_| count(&tty.transcript()) > before);
    tty.signal(18); // SIGCONT, as the shell's `fg` sends
    tty.wait_for_all(&["obs before suspend", "Chart: bp 128/82"], TIMEOUT);
    assert!(tty.alternate_screen(), "back on the alternate screen");
    tty.key(Key::CtrlC);
    tty.wait_exit(TIMEOUT);
}

#[test]
fn ctrl_c_with_text_in_the_bar_prints_it_after_quitting() {
    let home = Home::new();
    let (mut tty, _) = live_screen(&home, 80, 24);
    tty.send("obs not yet charted");
    tty.wait_for("→ not yet charted", TIMEOUT);
    tty.key(Key::CtrlC);
    assert!(tty.wait_exit(TIMEOUT).success());
    let screen = tty.screen();
    assert!(
        screen.contains("typed but not charted") && screen.contains("obs not yet charted"),
        "{screen}"
    );
}

#[test]
fn a_locked_chart_asks_for_the_passphrase_masked() {
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    let mut cmd = home.cmd(&["chart", "--session", &session]);
    cmd.env_remove("KAPCHART_PASSPHRASE");
    let mut tty = Tty::spawn(&cmd, 80, 24);
    tty.wait_for("Passphrase:", TIMEOUT);
    tty.send("wrong");
    tty.key(Key::Enter);
    tty.wait_for("wrong passphrase, or not a kapchart chart", TIMEOUT);
    tty.send(common::PASSPHRASE);
    let screen = tty.screen();
    assert!(!screen.contains(common::PASSPHRASE), "masked: {screen}");
    tty.key(Key::Enter);
    tty.wait_for("Chart: bp 128/82", TIMEOUT);
    tty.key(Key::CtrlC);
    assert!(tty.wait_exit(TIMEOUT).success());
}

#[test]
fn chart_for_a_missing_session_is_a_clear_error() {
    let home = Home::new();
    home.with_dosing_session();
    let err = home.fails(&["chart", "--session", "99"], 1);
    assert!(err.contains("session 99 does not exist"), "{err}");
}

/// A note draft is saved within two seconds of typing: after the editor says "draft saved",
/// killing the process (SIGKILL, no chance to clean up) loses nothing typed before.
#[test]
fn note_draft_survives_a_kill_after_autosave() {
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    let note: serde_json::Value =
        serde_json::from_str(&home.ok(&["note", "draft", "--session", &session, "--json"]))
            .unwrap();
    let id = note["id"].to_string();

    let mut tty = Tty::spawn(&home.cmd(&["note", "edit", &id]), 100, 30);
    tty.wait_for("Draft", TIMEOUT);
    tty.send("Assessment: grounded after the session");
    tty.wait_for("draft saved", TIMEOUT);
    tty.send(" and this may be lost");
    tty.kill();

    let shown: serde_json::Value =
        serde_json::from_str(&home.ok(&["note", "show", &id, "--json"])).unwrap();
    let text = shown["text"].as_str().unwrap();
    assert!(
        text.contains("Assessment: grounded after the session"),
        "{text}"
    );

    // Reopen: the editor shows the saved text; leaving with Esc saves what was typed.
    let mut tty = Tty::spawn(&home.cmd(&["note", "edit", &id]), 100, 30);
    tty.wait_for("grounded after the session", TIMEOUT);
    tty.send(" Plan: journal daily.");
    tty.key(Key::Esc);
    tty.wait_for("Today and recent", TIMEOUT);
    tty.key(Key::Char('q'));
    tty.wait_exit(TIMEOUT);
    let shown: serde_json::Value =
        serde_json::from_str(&home.ok(&["note", "show", &id, "--json"])).unwrap();
    assert!(
        shown["text"]
            .as_str()
            .unwrap()
            .contains("Plan: journal daily.")
    );
}

/// Ctrl-C in the editor saves the draft before quitting.
#[test]
fn note_draft_is_saved_on_quit() {
    let home = Home::new();
    let (_, session) = home.with_dosing_session();
    let note: serde_json::Value =
        serde_json::from_str(&home.ok(&["note", "draft", "--session", &session, "--json"]))
            .unwrap();
    let id = note["id"].to_string();
    let mut tty = Tty::spawn(&home.cmd(&["note", "edit", &id]), 100, 30);
    tty.wait_for("Draft", TIMEOUT);
    tty.send("Typed right before quitting");
    tty.wait_for("Typed right before quitting", TIMEOUT);
    tty.key(Key::CtrlC);
    assert!(tty.wait_exit(TIMEOUT).success());
    let shown: serde_json::Value =
        serde_json::from_str(&home.ok(&["note", "show", &id, "--json"])).unwrap();
    assert!(
        shown["text"]
            .as_str()
            .unwrap()
            .contains("Typed right before quitting")
    );
}
