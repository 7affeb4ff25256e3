//! The lock screen, driven through `update` and drawn by `view::draw` into a test backend,
//! with an injected clock: it locks after `[lock] after_idle` without a key and on Ctrl-L,
//! shows no patient detail, keeps the session clock and the next check moving, keeps what
//! was typed, and lets nothing typed behind it reach the chart. (The real binary in a
//! pseudo-terminal: lock_terminal.rs.)

mod common;

use common::fixture::{Fixture, at, dosing_session};
use kapchart::config::Config;
use kapchart::domain::Clinician;
use kapchart::domain::team::{Role, TeamMember};
use kapchart::tui::handover::Authenticated;
use kapchart::tui::home::HomeData;
use kapchart::tui::keymap::{Key, KeyName, Keymap};
use kapchart::tui::live::{Focus, Live, Panel};
use kapchart::tui::sign_in::{Attempt, LONGEST_PASSPHRASE, Purpose, Refused, SignIn};
use kapchart::tui::state::{Action, App, Effect, Screen, update};
use kapchart::tui::theme::Theme;
use kapchart::tui::view;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::sync::Arc;
use std::time::Duration;

/// What the fixture's session holds that must never be on the lock screen: the patient's
/// name, birth year, record number and age, the intention, charted values and notes.
const PATIENT_DATA: &[&str] = &[
    "Alex",
    "Rivera",
    "1986",
    "DEMO-1001",
    ", 40",
    "grief",
    "146/92",
    "138/88",
    "164/98",
    "warm water",
    "tearful",
    "eye mask",
    "0.75",
];

fn app_with(f: &Fixture, config: Config, minute: i64) -> App {
    let mut app = App::new(
        Screen::SignIn(Box::new(SignIn::new(Purpose::Open, None))),
        at(minute),
        Keymap::default(),
        Arc::new(config),
    );
    app.theme = Theme { color: false };
    update(&mut app, Action::Opened(Ok(f.live_data())));
    app
}

fn open(f: &Fixture, minute: i64) -> App {
    app_with(f, f.config.clone(), minute)
}

fn live(app: &App) -> &Live {
    match &app.screen {
        Screen::Live(l) => l,
        other => panic!("not on the live screen: {other:?}"),
    }
}

fn key(app: &mut App, k: &str) -> Option<Effect> {
    update(app, Action::Key(Key::parse(k).unwrap()))
}

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        let key = Key {
            code: KeyName::Char(c),
            ctrl: false,
            alt: false,
        };
        assert_eq!(update(app, Action::Key(key)), None, "typing {c:?}");
    }
}

fn render(app: &App, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| view::draw(app, frame)).unwrap();
    let buffer = terminal.backend().buffer();
    let mut out = String::new();
    for y in 0..height {
        let mut line = String::new();
        for x in 0..width {
            line.push_str(buffer[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn quinn() -> TeamMember {
    TeamMember {
        id: 1,
        name: "Dr. Mara Quinn".into(),
        role: Role::Admin,
    }
}

fn okafor() -> TeamMember {
    TeamMember {
        id: 2,
        name: "Sam Okafor RN".into(),
        role: Role::Nurse,
    }
}

fn clinician(m: &TeamMember) -> Clinician {
    Clinician {
        id: m.id,
        name: m.name.clone(),
    }
}

/// Locks with Ctrl-L while `signed_in` is signed in, and hands the lock its team, as the
/// runtime does.
fn lock_with_team(app: &mut App, team: Vec<TeamMember>, signed_in: TeamMember) {
    app.signed_in = Some(clinician(&signed_in));
    assert_eq!(key(app, "ctrl-l"), Some(Effect::ReadTeam));
    update(app, Action::TeamRead(Ok(team)));
}

/// The runtime accepted the lock's sign-in of `who`.
fn unlocked(app: &mut App, who: TeamMember) {
    let result = Ok(Authenticated {
        clinician: clinician(&who),
        data: None,
        unaudited: None,
    });
    let purpose = Purpose::Unlock;
    assert_eq!(update(app, Action::Authenticated { purpose, result }), None);
}

/// The runtime refused the lock's sign-in as it refuses any pair that does not unlock.
fn refused(app: &mut App) {
    let result = Err(Refused {
        why: "that clinician and passphrase do not unlock the chart".into(),
        wrong_pair: true,
    });
    let purpose = Purpose::Unlock;
    assert_eq!(update(app, Action::Authenticated { purpose, result }), None);
}

fn the_lock(app: &App) -> &SignIn {
    app.lock.as_ref().expect("still locked")
}

/// The sign-in the lock asks the runtime to check.
fn unlock_try(who: &str, passphrase: &str) -> Option<Effect> {
    Some(Effect::Authenticate {
        purpose: Purpose::Unlock,
        attempt: Attempt {
            who: who.into(),
            passphrase: passphrase.into(),
        },
    })
}

fn assert_no_patient_data(screen: &str) {
    for word in PATIENT_DATA {
        assert!(
            !screen.contains(word),
            "{word:?} is on the lock screen:\n{screen}"
        );
    }
}

#[test]
fn the_screen_locks_after_the_idle_wait_and_not_before() {
    let f = dosing_session(44);
    let mut app = open(&f, 45);
    assert_eq!(
        update(&mut app, Action::Idle(Duration::from_secs(299))),
        None
    );
    assert!(app.lock.is_none());
    assert_eq!(
        update(&mut app, Action::Idle(Duration::from_secs(300))),
        Some(Effect::ReadTeam),
        "the default wait is 5 minutes"
    );
    assert!(app.lock.is_some());
    assert_eq!(
        update(&mut app, Action::Idle(Duration::from_secs(900))),
        None
    );

    let config = Config::from_layers(Some(("mine.toml", "[lock]\nafter_idle = \"2s\"\n"))).unwrap();
    let mut app = app_with(&f, config.clone(), 45);
    assert_eq!(
        update(&mut app, Action::Idle(Duration::from_millis(1999))),
        None
    );
    assert_eq!(
        update(&mut app, Action::Idle(Duration::from_secs(2))),
        Some(Effect::ReadTeam)
    );

    // The sign-in before the chart is open has nothing to hide.
    let mut prompt = App::new(
        Screen::SignIn(Box::new(SignIn::new(Purpose::Open, None))),
        at(45),
        Keymap::default(),
        Arc::new(config),
    );
    assert_eq!(
        update(&mut prompt, Action::Idle(Duration::from_secs(60))),
        None
    );
    assert_eq!(key(&mut prompt, "ctrl-l"), None);
    assert!(prompt.lock.is_none());
}

#[test]
fn ctrl_l_locks_from_the_bar_the_timeline_a_form_help_and_home() {
    let f = dosing_session(44);
    let mut app = open(&f, 45);
    assert_eq!(key(&mut app, "ctrl-l"), Some(Effect::ReadTeam));
    assert!(app.lock.is_some());

    let mut app = open(&f, 45);
    key(&mut app, "esc");
    assert_eq!(live(&app).focus, Focus::Timeline);
    assert_eq!(key(&mut app, "ctrl-l"), Some(Effect::ReadTeam));

    let mut app = open(&f, 45);
    key(&mut app, "ctrl-d");
    assert!(matches!(live(&app).panel, Some(Panel::Discharge(_))));
    assert_eq!(key(&mut app, "ctrl-l"), Some(Effect::ReadTeam));

    let mut app = open(&f, 45);
    key(&mut app, "f1");
    assert!(app.help_open);
    assert_eq!(key(&mut app, "ctrl-l"), Some(Effect::ReadTeam));
    assert!(!app.help_open, "help closes under the lock");

    let mut app = open(&f, 45);
    update(&mut app, Action::HomeLoaded(Ok(home_data(&f))));
    assert!(matches!(app.screen, Screen::Home(_)));
    lock_with_team(&mut app, vec![quinn()], quinn());
    let screen = render(&app, 80, 24);
    assert!(screen.contains("The chart is locked"), "{screen}");
    assert!(
        !screen.contains("Session clock"),
        "home shows only the lock:\n{screen}"
    );
    assert_no_patient_data(&screen);
}

#[test]
fn ctrl_l_locks_the_note_editor_and_the_patient_screen_and_their_text_stays() {
    let mut f = dosing_session(44);
    let note =
        kapchart::app::course::open_note(&mut f.chart, &f.config, f.session, at(45)).unwrap();
    let mut app = open(&f, 45);
    update(&mut app, Action::NoteOpened(Ok(Box::new(note))));
    assert!(matches!(app.screen, Screen::Note(_)));
    type_text(&mut app, "held her hands");
    let before = match &app.screen {
        Screen::Note(n) => n.text(),
        _ => unreachable!(),
    };
    assert!(before.contains("held her hands"), "{before}");
    lock_with_team(&mut app, vec![quinn()], quinn());
    let screen = render(&app, 80, 24);
    assert_no_patient_data(&screen);
    assert!(!screen.contains("held her hands"), "{screen}");
    assert!(!screen.contains("Session clock"), "{screen}");
    type_text(&mut app, "pw");
    key(&mut app, "enter");
    unlocked(&mut app, quinn());
    match &app.screen {
        Screen::Note(n) => assert_eq!(n.text(), before, "the note's text is kept"),
        other => panic!("not the note editor: {other:?}"),
    }

    let patient = f.live_data().patient.id;
    let data = kapchart::app::views::patient_data(&f.chart, &f.config, patient, at(45)).unwrap();
    let mut app = open(&f, 45);
    update(&mut app, Action::PatientOpened(Ok(Box::new(data))));
    assert!(matches!(app.screen, Screen::Patient(_)));
    assert!(render(&app, 100, 30).contains("Rivera"));
    lock_with_team(&mut app, vec![quinn()], quinn());
    assert_no_patient_data(&render(&app, 100, 30));
}

fn home_data(f: &Fixture) -> HomeData {
    kapchart::app::views::home_data(&f.chart, &f.config, at(45)).unwrap()
}

#[test]
fn nothing_of_the_patient_is_drawn_while_locked() {
    let f = dosing_session(46);
    let mut app = open(&f, 47);
    type_text(&mut app, "bp 128/82 hr 74");
    let unlocked = render(&app, 160, 48);
    for word in ["Rivera", "grief", "164/98", "128/82"] {
        assert!(
            unlocked.contains(word),
            "the fixture shows {word:?}:\n{unlocked}"
        );
    }
    lock_with_team(&mut app, vec![quinn()], quinn());
    for (w, h) in [(80, 24), (160, 48), (60, 18)] {
        let screen = render(&app, w, h);
        assert_no_patient_data(&screen);
        assert!(
            !screen.contains("128/82"),
            "typed text is hidden:\n{screen}"
        );
        assert!(screen.contains("locked"), "{w}x{h}:\n{screen}");
        assert!(screen.contains("Dr. Mara Quinn"), "{w}x{h}:\n{screen}");
    }
}

#[test]
fn the_session_clock_and_the_next_check_move_between_two_frames() {
    let f = dosing_session(44);
    // The first dose was at 10:10; at 10:45 the session is at T+35 and the T+40 BP is next.
    let mut app = open(&f, 45);
    lock_with_team(&mut app, vec![quinn()], quinn());
    let first = render(&app, 80, 24);
    assert!(first.contains("T+35:00"), "{first}");
    assert!(first.contains("Next check: BP T+40 in 5 min"), "{first}");
    // The wait is in whole minutes, up (a duration is never written like a time of day).
    let later = at(45) + chrono::Duration::seconds(61);
    assert!(matches!(
        update(&mut app, Action::Tick(later)),
        Some(Effect::Poll { .. })
    ));
    let second = render(&app, 80, 24);
    assert!(second.contains("T+36:01"), "{second}");
    assert!(second.contains("Next check: BP T+40 in 4 min"), "{second}");

    // Past its grace period the check is overdue, as the live screen says.
    update(&mut app, Action::Tick(at(62)));
    let overdue = render(&app, 80, 24);
    assert!(overdue.contains("OVERDUE: BP T+40"), "{overdue}");
    let live_screen = render(&open(&f, 62), 80, 24);
    assert!(live_screen.contains("OVERDUE: BP T+40"), "{live_screen}");
    assert_no_patient_data(&overdue);
}

#[test]
fn keys_behind_the_lock_reach_only_its_fields_and_typed_text_is_kept() {
    let f = dosing_session(44);
    let mut app = open(&f, 45);
    type_text(&mut app, "bp 128/82");
    lock_with_team(&mut app, vec![quinn()], quinn());
    // Text, Enter, Esc, Ctrl-D, Ctrl-C: none charts, opens a form, leaves or quits.
    type_text(&mut app, "hr 70");
    for k in [
        "esc", "ctrl-d", "ctrl-c", "ctrl-z", "f1", "ctrl-a", "ctrl-n", "f2",
    ] {
        assert_eq!(key(&mut app, k), None, "{k}");
    }
    assert!(!app.quit && !app.help_open);
    let sent = key(&mut app, "enter");
    // A team of one: only the passphrase is asked, nobody is named.
    assert_eq!(
        sent,
        unlock_try("", "hr 70"),
        "Enter signs in; it never charts"
    );
    assert_eq!(live(&app).input.text(), "bp 128/82");
    assert!(live(&app).panel.is_none());
    unlocked(&mut app, quinn());
    assert!(app.lock.is_none());
    assert_eq!(
        live(&app).input.text(),
        "bp 128/82",
        "the bar kept its text"
    );
    assert_eq!(live(&app).focus, Focus::Entry);
    assert_eq!(
        app.signed_in,
        Some(clinician(&quinn())),
        "the same clinician is back"
    );
    let screen = render(&app, 80, 24);
    assert!(screen.contains("bp 128/82"), "{screen}");
    assert_eq!(screen.matches("signed in: ").count(), 1, "{screen}");

    // A half-written amendment reason is kept too.
    let mut app = open(&f, 45);
    key(&mut app, "esc");
    key(&mut app, "a");
    type_text(&mut app, "wrong arm");
    lock_with_team(&mut app, vec![quinn()], quinn());
    type_text(&mut app, "pw");
    key(&mut app, "enter");
    unlocked(&mut app, quinn());
    match &live(&app).panel {
        Some(Panel::Correction(form)) => assert_eq!(form.reason.text(), "wrong arm"),
        other => panic!("the amend form is gone: {other:?}"),
    }
}

#[test]
fn up_and_down_choose_who_and_a_new_clinician_is_named_in_the_status_bar() {
    let f = dosing_session(44);
    let mut app = open(&f, 45);
    lock_with_team(&mut app, vec![quinn(), okafor()], okafor());
    assert_eq!(
        the_lock(&app).chosen().unwrap().name,
        "Sam Okafor RN",
        "who was signed in"
    );
    // Up leaves the passphrase for the list, where Up and Down choose and Enter goes back.
    key(&mut app, "up");
    key(&mut app, "up");
    assert_eq!(the_lock(&app).chosen(), Some(&quinn()));
    let screen = render(&app, 80, 24);
    assert!(screen.contains("▸ Dr. Mara Quinn"), "{screen}");
    assert_eq!(
        key(&mut app, "enter"),
        None,
        "Enter on the list asks the passphrase"
    );
    type_text(&mut app, "secret");
    assert!(render(&app, 80, 24).contains("Passphrase: ••••••"));
    assert!(!render(&app, 80, 24).contains("secret"), "masked");
    assert_eq!(key(&mut app, "enter"), unlock_try("1", "secret"));
    assert_eq!(key(&mut app, "enter"), None, "one sign-in at a time");
    assert!(the_lock(&app).passphrase.is_empty(), "sent, not kept");
    unlocked(&mut app, quinn());
    assert_eq!(app.signed_in, Some(clinician(&quinn())));
    let screen = render(&app, 80, 24);
    let status = screen.lines().last().unwrap();
    assert!(status.contains("signed in: Dr. Mara Quinn"), "{screen}");
    assert_eq!(screen.matches("signed in: ").count(), 1, "{screen}");
    assert!(!screen.contains("Okafor"), "{screen}");
}

#[test]
fn a_wrong_passphrase_waits_longer_each_time_and_keeps_the_lock() {
    let f = dosing_session(44);
    let mut app = open(&f, 45);
    type_text(&mut app, "bp 128/82");
    lock_with_team(&mut app, vec![quinn()], quinn());
    let second = |s: i64| at(45) + chrono::Duration::seconds(s);
    type_text(&mut app, "guess1");
    assert!(key(&mut app, "enter").is_some());
    refused(&mut app);
    assert!(
        the_lock(&app).passphrase.is_empty(),
        "a refused passphrase is wiped"
    );
    // The first wrong try costs nothing: its refusal shows at the next tick.
    update(&mut app, Action::Tick(second(0)));
    let error = the_lock(&app).error.clone().unwrap();
    assert!(
        error.contains("do not unlock") && error.contains("wrong try 1"),
        "{error}"
    );
    // The second waits 1 s: a try typed within it goes only once the wait is over.
    type_text(&mut app, "guess2");
    assert!(key(&mut app, "enter").is_some());
    refused(&mut app);
    type_text(&mut app, "guess3");
    assert_eq!(key(&mut app, "enter"), None, "within the wait");
    assert!(the_lock(&app).waiting());
    assert!(
        matches!(
            update(&mut app, Action::Tick(second(1))),
            Some(Effect::Authenticate {
                purpose: Purpose::Unlock,
                ..
            })
        ),
        "after the wait"
    );
    let error = the_lock(&app).error.clone().unwrap();
    assert!(
        error.contains("wrong try 2") && error.contains("1 s"),
        "{error}"
    );
    // The third waits 2 s.
    refused(&mut app);
    update(&mut app, Action::Tick(second(3)));
    let error = the_lock(&app).error.clone().unwrap();
    assert!(
        error.contains("wrong try 3") && error.contains("2 s"),
        "{error}"
    );
    for word in ["clinician is", "passphrase is", "unknown", "no such"] {
        assert!(!error.contains(word), "never says which was wrong: {error}");
    }
    assert_eq!(live(&app).input.text(), "bp 128/82");
    assert_no_patient_data(&render(&app, 80, 24));

    // A paste far longer than any passphrase stops at the limit, and says so.
    type_text(&mut app, &"x".repeat(LONGEST_PASSPHRASE + 5));
    let lock = the_lock(&app);
    assert_eq!(lock.passphrase.chars().count(), LONGEST_PASSPHRASE);
    assert!(
        lock.error.as_deref().unwrap().contains("at most 1024"),
        "{:?}",
        lock.error
    );
    let screen = render(&app, 80, 24);
    assert!(screen.contains("at most 1024"), "{screen}");
}

#[test]
fn wrong_tries_at_a_hand_over_and_at_the_lock_count_together() {
    let f = dosing_session(44);
    let mut app = open(&f, 45);
    app.signed_in = Some(clinician(&quinn()));
    assert_eq!(key(&mut app, "f3"), Some(Effect::ReadTeam));
    update(&mut app, Action::TeamRead(Ok(vec![quinn(), okafor()])));
    assert!(key(&mut app, "enter").is_none(), "Sam Okafor RN is chosen");
    type_text(&mut app, "guess1");
    let Some(Effect::Authenticate { purpose, .. }) = key(&mut app, "enter") else {
        panic!("the hand-over's try");
    };
    assert_eq!(purpose, Purpose::HandOver);
    let result = Err(Refused {
        why: "wrong clinician or passphrase".into(),
        wrong_pair: true,
    });
    update(&mut app, Action::Authenticated { purpose, result });
    assert_eq!(app.sign_in_guard.wrong, 1);

    lock_with_team(&mut app, vec![quinn(), okafor()], quinn());
    type_text(&mut app, "guess2");
    assert!(key(&mut app, "enter").is_some());
    refused(&mut app);
    assert_eq!(
        app.sign_in_guard.wrong, 2,
        "the lock's try counts with the hand-over's"
    );
    update(
        &mut app,
        Action::Tick(at(45) + chrono::Duration::seconds(1)),
    );
    let error = the_lock(&app).error.clone().unwrap();
    assert!(error.contains("wrong try 2"), "{error}");
    assert_no_patient_data(&render(&app, 80, 24));
}

#[test]
fn charting_elsewhere_goes_on_beneath_the_lock_and_shows_after_unlocking() {
    let mut f = dosing_session(44);
    let mut app = open(&f, 45);
    lock_with_team(&mut app, vec![quinn()], quinn());
    assert!(matches!(
        update(&mut app, Action::Tick(at(46))),
        Some(Effect::Poll { .. })
    ));
    f.log_at(46, "bp 131/85 hr 77");
    update(&mut app, Action::Refreshed(Ok(Some(f.live_data()))));
    let locked = render(&app, 80, 24);
    assert!(!locked.contains("131/85"), "{locked}");
    assert_no_patient_data(&locked);
    type_text(&mut app, "pw");
    key(&mut app, "enter");
    unlocked(&mut app, quinn());
    let screen = render(&app, 80, 24);
    assert!(screen.contains("131/85"), "{screen}");
    assert!(screen.contains("charted elsewhere"), "{screen}");
}

#[test]
fn quitting_behind_the_lock_hands_no_typed_text_to_the_terminal() {
    let f = dosing_session(44);
    let mut app = open(&f, 45);
    type_text(&mut app, "bp 128/82");
    lock_with_team(&mut app, vec![quinn()], quinn());
    update(&mut app, Action::Terminate);
    assert!(app.quit);
    assert_eq!(app.unsent, None);
}

#[test]
fn the_lock_screen_80x24() {
    let f = dosing_session(46);
    let mut app = open(&f, 52);
    type_text(&mut app, "bp 128/82");
    lock_with_team(&mut app, vec![quinn(), okafor()], quinn());
    type_text(&mut app, "pw");
    insta::assert_snapshot!(render(&app, 80, 24));
}
