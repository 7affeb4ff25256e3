//! Handing the screen over and witnessing a dose, driven through `update` with keys and
//! results as the runtime does (the runtime's sign-in calls are made here against the
//! fixture's chart), with an injected clock. No terminal.

mod common;

use chrono::Duration;
use common::fixture::{Fixture, at, dosing_session};
use kapchart::domain::team::{Role, TeamMember};
use kapchart::domain::{Payload, SessionKind};
use kapchart::store::StoreError;
use kapchart::tui::handover::Authenticated;
use kapchart::tui::keymap::{Key, KeyName, Keymap};
use kapchart::tui::live::{Focus, Live};
use kapchart::tui::sign_in::{Field, Purpose, Refused, SignIn};
use kapchart::tui::state::{Action, App, Effect, Screen, update};
use std::sync::Arc;

const NURSE_PASS: &str = "tidal meadow lantern quartz";

/// The fixture's session with a nurse on the team; the screen open as its first clinician.
fn team_session() -> (Fixture, App, i64) {
    let mut f = dosing_session(44);
    let nurse = f
        .chart
        .add_team_member("Nia Nurse", Role::Nurse, None, NURSE_PASS, at(-60))
        .unwrap();
    let config = Arc::new(f.config.clone());
    let mut app = App::new(
        Screen::SignIn(Box::new(SignIn::new(Purpose::Open, None))),
        at(45),
        Keymap::default(),
        config,
    );
    app.signed_in = Some(f.chart.clinician().clone());
    update(&mut app, Action::Opened(Ok(f.live_data())));
    (f, app, nurse)
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

fn team(f: &Fixture) -> Result<Vec<TeamMember>, kapchart::app::ChartingError> {
    kapchart::app::sign_in::team(f.chart.path()).map_err(kapchart::app::ChartingError::from)
}

/// What the runtime does with `Effect::Authenticate` for a hand-over or a witness.
fn authenticate(f: &mut Fixture, app: &mut App, effect: Effect, minute: i64) -> Option<Effect> {
    let Effect::Authenticate { purpose, attempt } = effect else {
        panic!("expected a sign-in, got {effect:?}");
    };
    let refused = |e: StoreError| Refused {
        wrong_pair: matches!(e, StoreError::WrongPassphrase | StoreError::WrongSignIn),
        why: e.to_string(),
    };
    let result = match purpose {
        Purpose::HandOver => f
            .chart
            .behind_the_door()
            .sign_in(&attempt.who, &attempt.passphrase)
            .map(|clinician| Authenticated {
                clinician,
                data: None,
                unaudited: None,
            })
            .map_err(refused),
        Purpose::Witness(dose) => f
            .chart
            .behind_the_door()
            .record_as_witness(dose, &attempt.who, &attempt.passphrase, at(minute))
            .map(|(clinician, _)| Authenticated {
                clinician,
                data: Some(f.live_data()),
                unaudited: None,
            })
            .map_err(refused),
        Purpose::Open | Purpose::Unlock => panic!("the chart is open, not locked"),
    };
    update(app, Action::Authenticated { purpose, result })
}

/// F3, the team read, the nurse chosen by typing, her passphrase typed: the sign-in asked.
fn hand_over_to_nurse(f: &Fixture, app: &mut App, passphrase: &str) -> Effect {
    assert_eq!(key(app, "f3"), Some(Effect::ReadTeam));
    assert_eq!(update(app, Action::TeamRead(team(f))), None);
    type_text(app, "ni");
    let h = app.hand_over.as_ref().expect("the hand-over is open");
    assert_eq!(h.chosen().unwrap().name, "Nia Nurse");
    assert_eq!(key(app, "enter"), None, "Enter moves to the passphrase");
    assert_eq!(app.hand_over.as_ref().unwrap().field, Field::Passphrase);
    type_text(app, passphrase);
    key(app, "enter").expect("a sign-in is asked for")
}

#[test]
fn handing_over_keeps_the_bar_and_the_next_entry_is_the_new_clinicians() {
    let (mut f, mut app, nurse) = team_session();
    type_text(&mut app, "bp 132/84 obs eyes closed");
    let effect = hand_over_to_nurse(&f, &mut app, NURSE_PASS);
    match &effect {
        Effect::Authenticate { purpose, attempt } => {
            assert_eq!(*purpose, Purpose::HandOver);
            assert_eq!(attempt.who, nurse.to_string());
        }
        other => panic!("{other:?}"),
    }
    // While the sign-in is open, what is typed goes to it, not to the bar.
    assert_eq!(live(&app).input.text(), "bp 132/84 obs eyes closed");
    assert_eq!(authenticate(&mut f, &mut app, effect, 46), None);
    assert!(app.hand_over.is_none());
    assert_eq!(app.signed_in.as_ref().unwrap().name, "Nia Nurse");
    assert_eq!(f.chart.clinician().name, "Nia Nurse");
    let l = live(&app);
    assert_eq!(
        l.input.text(),
        "bp 132/84 obs eyes closed",
        "the bar is kept"
    );
    assert_eq!(l.focus, Focus::Entry);
    // The next line charted is hers.
    let commit = key(&mut app, "enter").expect("commit");
    let written = kapchart::tui::write_for_screen(&mut f.chart, &f.config, commit, &at(46));
    update(&mut app, Action::Written(written.unwrap()));
    assert_eq!(
        live(&app).data,
        f.live_data(),
        "the screen took the line in"
    );
    let lines = f.lines_now();
    let newest = lines.iter().max_by_key(|l| l.entry.id).unwrap();
    assert_eq!(newest.entry.author, "Nia Nurse");
    assert!(
        lines
            .iter()
            .any(|l| l.entry.author == "Dr. Mara Quinn"
                && matches!(l.entry.payload, Payload::Dose(_)))
    );
}

#[test]
fn esc_closes_a_hand_over_with_nothing_changed() {
    let (f, mut app, _) = team_session();
    type_text(&mut app, "moaas 4");
    assert_eq!(key(&mut app, "f3"), Some(Effect::ReadTeam));
    update(&mut app, Action::TeamRead(team(&f)));
    key(&mut app, "enter");
    type_text(&mut app, "half a passphrase");
    assert_eq!(key(&mut app, "esc"), None);
    assert!(app.hand_over.is_none());
    assert_eq!(app.signed_in.as_ref().unwrap().name, "Dr. Mara Quinn");
    assert_eq!(f.chart.clinician().name, "Dr. Mara Quinn");
    assert_eq!(live(&app).input.text(), "moaas 4");
}

#[test]
fn a_wrong_pair_never_says_which_and_each_waits_longer_before_the_next_try() {
    let (mut f, mut app, _) = team_session();
    let effect = hand_over_to_nurse(&f, &mut app, "not her passphrase");
    assert_eq!(authenticate(&mut f, &mut app, effect, 45), None);
    // The first wrong try waits nothing: its refusal shows at the next tick.
    update(&mut app, Action::Tick(at(45)));
    let h = app.hand_over.as_ref().unwrap();
    let e = h.error.clone().unwrap();
    assert!(
        e.contains("this clinician and passphrase do not open the chart"),
        "{e}"
    );
    assert!(
        e.contains("wrong try 1; each waits longer: this one 0 s"),
        "{e}"
    );
    assert!(h.passphrase.is_empty(), "the wrong passphrase is wiped");
    assert_eq!(f.chart.clinician().name, "Dr. Mara Quinn");
    // The second waits a second before its refusal shows and another try may go.
    type_text(&mut app, "still not hers");
    let effect = key(&mut app, "enter").expect("a try");
    assert_eq!(authenticate(&mut f, &mut app, effect, 45), None);
    update(&mut app, Action::Tick(at(45)));
    assert!(app.hand_over.as_ref().unwrap().waiting(), "held");
    assert!(
        app.hand_over.as_ref().unwrap().error.is_none(),
        "not shown yet"
    );
    type_text(&mut app, NURSE_PASS);
    assert_eq!(key(&mut app, "enter"), None, "queued while the wait runs");
    let later = at(45) + Duration::seconds(1);
    let effect = update(&mut app, Action::Tick(later)).expect("the queued try goes");
    let h = app.hand_over.as_ref().unwrap();
    let e = h.error.clone().unwrap();
    assert!(
        e.contains("wrong try 2; each waits longer: this one 1 s"),
        "{e}"
    );
    app.now = later;
    authenticate(&mut f, &mut app, effect, 46);
    assert_eq!(f.chart.clinician().name, "Nia Nurse");
}

#[test]
fn a_dose_line_with_witness_is_charted_and_then_the_witness_signs_for_it() {
    let (mut f, mut app, _) = team_session();
    type_text(&mut app, "dose ondansetron 4mg IV witness");
    let commit = key(&mut app, "enter").expect("commit");
    let written = kapchart::tui::write_for_screen(&mut f.chart, &f.config, commit, &at(45))
        .unwrap()
        .unwrap();
    let dose = written.witness.expect("the dose asks for a witness");
    let effect = update(&mut app, Action::Written(Ok(written)));
    assert_eq!(effect, Some(Effect::ReadTeam));
    assert_eq!(live(&app).input.text(), "", "the dose was charted at once");
    assert_eq!(app.witness.as_ref().unwrap().dose, dose);
    update(&mut app, Action::TeamRead(team(&f)));
    let w = app.witness.as_ref().unwrap();
    assert_eq!(
        w.sign_in.chosen().unwrap().name,
        "Nia Nurse",
        "someone other than who is signed in comes first"
    );
    key(&mut app, "enter");
    type_text(&mut app, NURSE_PASS);
    let effect = key(&mut app, "enter").expect("a sign-in");
    assert_eq!(authenticate(&mut f, &mut app, effect, 46), None);
    assert!(app.witness.is_none());
    assert_eq!(
        f.chart.clinician().name,
        "Dr. Mara Quinn",
        "still signed in"
    );
    assert_eq!(app.signed_in.as_ref().unwrap().name, "Dr. Mara Quinn");
    let l = live(&app);
    let witnessed = l
        .lines()
        .iter()
        .find(|x| matches!(x.entry.payload, Payload::Witness(w) if w.entry == dose))
        .expect("the witness entry");
    assert_eq!(witnessed.entry.author, "Nia Nurse");
    assert!(
        l.notice
            .as_deref()
            .unwrap()
            .contains("witnessed by Nia Nurse")
    );
}

#[test]
fn w_on_the_timeline_opens_the_witness_panel_for_a_dose_only_and_esc_leaves_it() {
    let (f, mut app, _) = team_session();
    key(&mut app, "esc");
    assert_eq!(live(&app).focus, Focus::Timeline);
    // The newest row is not a dose: refused, naming why.
    assert_eq!(key(&mut app, "w"), None);
    assert!(app.witness.is_none());
    let e = live(&app).error.clone().unwrap();
    assert!(e.contains("not a dose"), "{e}");
    let dose_row = live(&app)
        .lines()
        .iter()
        .position(|l| matches!(l.entry.payload, Payload::Dose(_)))
        .unwrap();
    while live(&app).selected > dose_row {
        key(&mut app, "up");
    }
    assert_eq!(key(&mut app, "w"), Some(Effect::ReadTeam));
    update(&mut app, Action::TeamRead(team(&f)));
    let before = f.lines_now().len();
    assert_eq!(key(&mut app, "esc"), None);
    assert!(app.witness.is_none());
    assert_eq!(f.lines_now().len(), before, "nothing was written");
    assert!(
        live(&app)
            .notice
            .as_deref()
            .unwrap()
            .contains("unwitnessed")
    );
    assert_eq!(live(&app).data.session().kind, SessionKind::Dosing);
}

#[test]
fn a_team_of_one_is_asked_its_passphrase_only_and_a_list_jumps_as_names_are_typed() {
    let one = vec![TeamMember {
        id: 1,
        name: "Dr. Mara Quinn".into(),
        role: Role::Admin,
    }];
    let mut s = SignIn::new(Purpose::Open, None);
    s.team_read(Ok(one));
    assert_eq!(s.field, Field::Passphrase);
    assert!(!s.asks_who());

    let team: Vec<TeamMember> = ["Dr. Mara Quinn", "Nia Nurse", "Theo Therapist", "Nora Lee"]
        .iter()
        .enumerate()
        .map(|(i, n)| TeamMember {
            id: i as i64 + 1,
            name: n.to_string(),
            role: Role::Nurse,
        })
        .collect();
    let mut s = SignIn::new(Purpose::HandOver, Some(1));
    s.team_read(Ok(team));
    assert_eq!(
        s.chosen().unwrap().name,
        "Nia Nurse",
        "not who is signed in"
    );
    let guard = Default::default();
    let press = |s: &mut SignIn, c: char| {
        s.on_key(
            None,
            &Key {
                code: KeyName::Char(c),
                ctrl: false,
                alt: false,
            },
            &guard,
            at(0),
        )
    };
    press(&mut s, 't');
    assert_eq!(s.chosen().unwrap().name, "Theo Therapist");
    press(&mut s, 'n');
    assert_eq!(s.chosen().unwrap().name, "Nia Nurse", "a new start");
    press(&mut s, 'o');
    assert_eq!(s.chosen().unwrap().name, "Nora Lee");
}

fn render(app: &App, width: u16, height: u16) -> String {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|frame| kapchart::tui::view::draw(app, frame))
        .unwrap();
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

#[test]
fn the_hand_over_panel_80x24_keeps_the_bar_beneath_and_names_who_is_signed_in() {
    let (f, mut app, _) = team_session();
    type_text(&mut app, "bp 132/84");
    key(&mut app, "f3");
    update(&mut app, Action::TeamRead(team(&f)));
    let screen = render(&app, 80, 24);
    assert!(screen.contains("signed in: Dr. Mara Quinn"), "{screen}");
    insta::assert_snapshot!("hand_over_80x24", screen);
    key(&mut app, "enter");
    type_text(&mut app, "secret");
    let screen = render(&app, 80, 24);
    assert!(!screen.contains("secret"), "masked: {screen}");
    insta::assert_snapshot!("hand_over_passphrase_80x24", screen);
}

#[test]
fn the_witness_panel_80x24_names_the_dose_and_who_charted_it() {
    let (f, mut app, _) = team_session();
    key(&mut app, "esc");
    let dose_row = live(&app)
        .lines()
        .iter()
        .position(|l| matches!(l.entry.payload, Payload::Dose(_)))
        .unwrap();
    while live(&app).selected > dose_row {
        key(&mut app, "up");
    }
    key(&mut app, "w");
    update(&mut app, Action::TeamRead(team(&f)));
    insta::assert_snapshot!("witness_panel_80x24", render(&app, 80, 24));
}

#[test]
fn the_sign_in_screen_80x24_lists_the_team() {
    let (f, _, _) = team_session();
    let mut s = SignIn::new(Purpose::Open, None);
    s.team_read(kapchart::tui::wording::said(team(&f)));
    let mut app = App::new(
        Screen::SignIn(Box::new(s)),
        at(45),
        Keymap::default(),
        Arc::new(f.config.clone()),
    );
    type_text(&mut app, "n");
    insta::assert_snapshot!("sign_in_80x24", render(&app, 80, 24));
}

#[test]
fn f3_hands_over_from_home_the_bar_and_the_timeline_and_w_witnesses_from_the_timeline() {
    use kapchart::tui::keymap::{Command, Context};
    let map = Keymap::default();
    let f3 = Key::parse("f3").unwrap();
    for ctx in [Context::Home, Context::EntryBar, Context::Timeline] {
        assert_eq!(map.command(ctx, &f3), Some(Command::HandOver), "{ctx:?}");
    }
    assert_eq!(
        map.command(Context::Timeline, &Key::parse("w").unwrap()),
        Some(Command::Witness)
    );
    // Typed in the bar, w is text.
    assert_eq!(
        map.command(Context::EntryBar, &Key::parse("w").unwrap()),
        None
    );
}
