//! The controlled-substance stock in the terminal UI, driven through `update` with keys as
//! a user presses them and the reads and writes the runtime performs: the stock screen
//! opened from home, a dose drawn from a named vial, a waste witnessed from the timeline,
//! and the screen drawn at four sizes with no number cut.

mod common;

use common::fixture::{Fixture, at, dosing_session};
use kapchart::app::views;
use kapchart::domain::stock::{Presentation, Receipt};
use kapchart::tui::keymap::{Key, KeyName, Keymap};
use kapchart::tui::sign_in::{Purpose, SignIn};
use kapchart::tui::state::{Action, App, Effect, Screen, update};
use kapchart::tui::theme::Theme;
use std::collections::BTreeSet;
use std::sync::Arc;

/// The fixture's session (its first dose charted before the clinic kept stock in kapchart)
/// with two 50 mg/mL, 10 mL vials received at 10:45: V1 and V2.
fn with_stock() -> Fixture {
    let mut f = dosing_session(44);
    let (_, ids) = kapchart::app::stock::receive(
        &mut f.chart,
        &Receipt {
            drug: "ketamine".into(),
            presentation: Presentation::Vial {
                mg_per_ml: 50.0,
                ml: 10.0,
            },
            containers: 2,
            lot: "L2405A".into(),
            expires: "2027-06".into(),
            supplier: "Cardinal Health".into(),
            supplier_address: "7000 Cardinal Pl, Dublin OH".into(),
            supplier_dea: "RC1234563".into(),
            invoice: None,
        },
        &at(45),
    )
    .unwrap();
    assert_eq!(
        ids.iter().map(ToString::to_string).collect::<Vec<_>>(),
        ["V1", "V2"]
    );
    f
}

fn new_app(f: &Fixture, minute: i64) -> App {
    let mut app = App::new(
        Screen::SignIn(Box::new(SignIn::new(Purpose::Open, None))),
        at(minute),
        Keymap::default(),
        Arc::new(f.config.clone()),
    );
    app.theme = Theme { color: false };
    app
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
        update(app, Action::Key(key));
    }
}

/// The home screen, read as the runtime reads it.
fn go_home(f: &Fixture, app: &mut App, minute: i64) {
    let data = views::home_data(&f.chart, &f.config, at(minute)).unwrap();
    let mut effect = update(app, Action::HomeLoaded(Ok(data)));
    while let Some(Effect::LoadPatientSessions(p)) = effect {
        let sessions = views::patient_sessions(&f.chart, p).unwrap();
        effect = update(app, Action::PatientSessions(p, Ok(sessions)));
    }
    assert!(matches!(app.screen, Screen::Home(_)), "{:?}", app.screen);
}

/// `S` on the home screen, and the read the runtime performs for it.
fn open_stock(f: &Fixture, app: &mut App, minute: i64) {
    let effect = key(app, "S");
    assert_eq!(effect, Some(Effect::OpenStock));
    let data = kapchart::tui::stock::read(&f.chart, at(minute)).map(Box::new);
    assert_eq!(update(app, Action::StockOpened(data)), None);
    assert!(matches!(app.screen, Screen::Stock(_)), "{:?}", app.screen);
}

/// Charts `line` from the live screen's bar, performing the write as the runtime does.
fn chart_line(f: &mut Fixture, app: &mut App, line: &str, minute: i64) -> Option<Effect> {
    type_text(app, line);
    let effect = key(app, "enter").expect("a commit");
    let written = kapchart::tui::write_for_screen(&mut f.chart, &f.config, effect, &at(minute))
        .expect("a write");
    let written = written.unwrap_or_else(|e| panic!("{line}: {e:?}"));
    update(app, Action::Written(Ok(written)))
}

fn render(app: &App, width: u16, height: u16) -> String {
    let mut terminal =
        ratatui::Terminal::new(ratatui::backend::TestBackend::new(width, height)).unwrap();
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

/// The words of a screen that hold a digit (`465`, `9.3`, `-35`, `10:50`, `V1`), leaving out
/// the rows that say how many more there are (their count follows the size).
fn values(screen: &str) -> BTreeSet<String> {
    let part = |c: char| c.is_ascii_alphanumeric() || "/:.%+-#!".contains(c);
    screen
        .lines()
        .filter(|l| !l.contains(" more") && !l.contains("not shown"))
        .flat_map(|l| l.split(|c: char| !part(c)).map(str::to_string))
        .filter(|w| w.chars().any(|c| c.is_ascii_digit()))
        .collect()
}

/// The screen's row that names `container` first among the on-hand rows.
fn row_of<'a>(screen: &'a str, container: &str) -> &'a str {
    screen
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("{container} ")))
        .unwrap_or_else(|| panic!("no row for {container}:\n{screen}"))
}

#[test]
fn s_on_home_opens_the_stock_with_each_container_and_its_balance_and_esc_goes_home() {
    let f = with_stock();
    let mut app = new_app(&f, 50);
    go_home(&f, &mut app, 50);
    open_stock(&f, &mut app, 50);
    let shown = render(&app, 120, 40);
    assert!(shown.contains("On hand: 2 containers"), "{shown}");
    for v in ["V1", "V2"] {
        let row = row_of(&shown, v);
        for part in ["sealed", "500 mg", "10 mL", "ketamine", "lot L2405A"] {
            assert!(row.contains(part), "{v} lacks {part}: {row}\n{shown}");
        }
    }
    // The receipt is a movement of each container.
    assert!(shown.contains("Last 24 hours: 2 movements"), "{shown}");
    assert!(shown.contains("received  +500 mg"), "{shown}");
    assert!(
        shown.contains("Wastes of the last 24 hours awaiting a witness: none"),
        "{shown}"
    );
    assert!(shown.contains("Last count: none recorded"), "{shown}");
    // The keys come from the keymap: the hint line and help say Esc goes home.
    assert!(
        shown.lines().last().unwrap().contains("Esc home"),
        "{shown}"
    );
    // Help lists the stock's keys, and still takes one page at 160x48.
    assert_eq!(kapchart::tui::view::help_pages(&app, 160, 48), 1);
    key(&mut app, "?");
    let help = render(&app, 160, 48);
    assert!(help.contains("Controlled-substance stock"), "{help}");
    assert!(help.contains("S               drug stock"), "{help}");
    key(&mut app, "?");
    assert!(!app.help_open);
    assert_eq!(key(&mut app, "esc"), Some(Effect::LoadHome));
    go_home(&f, &mut app, 51);
}

#[test]
fn a_dose_drawn_from_vial_v1_lowers_its_balance_on_the_stock_screen() {
    let mut f = with_stock();
    let mut app = new_app(&f, 50);
    update(&mut app, Action::Opened(Ok(f.live_data())));
    chart_line(&mut f, &mut app, "dose ketamine 35mg IM vial V1", 50);
    let timeline = render(&app, 120, 40);
    assert!(timeline.contains("from V1"), "{timeline}");
    go_home(&f, &mut app, 52);
    open_stock(&f, &mut app, 52);
    let shown = render(&app, 120, 40);
    let v1 = row_of(&shown, "V1");
    assert!(
        v1.contains("open") && v1.contains("465 mg") && v1.contains("9.3 mL"),
        "{v1}\n{shown}"
    );
    let v2 = row_of(&shown, "V2");
    assert!(v2.contains("sealed") && v2.contains("500 mg"), "{v2}");
    // The draw is today's newest movement, with who gave it and that nobody witnessed it.
    let moved = shown
        .lines()
        .find(|l| l.contains("administered"))
        .unwrap_or_else(|| panic!("no administration:\n{shown}"));
    for part in ["10:50", "V1", "-35 mg", "Dr. Mara Quinn", "no witness"] {
        assert!(moved.contains(part), "{part}: {moved}");
    }
}

#[test]
fn a_waste_is_witnessed_from_the_timeline_and_awaits_its_witness_on_the_stock_screen() {
    let mut f = with_stock();
    let mut app = new_app(&f, 50);
    update(&mut app, Action::Opened(Ok(f.live_data())));
    chart_line(&mut f, &mut app, "dose ketamine 35mg IM vial V1", 50);
    chart_line(&mut f, &mut app, "waste ketamine 15mg vial V1", 55);
    key(&mut app, "esc");
    // The newest row is the waste: `w` opens the witness panel for it.
    assert_eq!(key(&mut app, "w"), Some(Effect::ReadTeam));
    let panel = app.witness.as_ref().expect("the witness panel");
    assert_eq!(panel.what, "waste");
    let shown = render(&app, 80, 24);
    assert!(shown.contains("Witness waste #"), "{shown}");
    key(&mut app, "esc");
    assert!(app.witness.is_none());
    match &app.screen {
        Screen::Live(l) => assert_eq!(l.notice.as_deref(), Some("the waste stays unwitnessed")),
        other => panic!("{other:?}"),
    }
    // A row that is neither a dose nor a waste is refused in words that say both.
    key(&mut app, "up");
    key(&mut app, "up");
    while matches!(
        &app.screen,
        Screen::Live(l) if matches!(
            l.selected_line().map(|x| &x.entry.payload),
            Some(kapchart::domain::Payload::Dose(_) | kapchart::domain::Payload::Waste(_))
        )
    ) {
        key(&mut app, "up");
    }
    assert_eq!(key(&mut app, "w"), None);
    match &app.screen {
        Screen::Live(l) => {
            let e = l.error.clone().unwrap();
            assert!(e.contains("not a dose or a waste"), "{e}");
        }
        other => panic!("{other:?}"),
    }
    go_home(&f, &mut app, 57);
    open_stock(&f, &mut app, 57);
    let shown = render(&app, 120, 40);
    assert!(
        shown.contains("Wastes of the last 24 hours awaiting a witness: 1"),
        "{shown}"
    );
    let v1 = row_of(&shown, "V1");
    assert!(v1.contains("450 mg") && v1.contains("9 mL"), "{v1}");
}

#[test]
fn the_stock_screen_at_four_sizes_cuts_no_number() {
    let mut f = with_stock();
    let mut app = new_app(&f, 50);
    update(&mut app, Action::Opened(Ok(f.live_data())));
    chart_line(&mut f, &mut app, "dose ketamine 35mg IM vial V1", 50);
    chart_line(&mut f, &mut app, "waste ketamine 15.5mg vial V1", 55);
    chart_line(&mut f, &mut app, "dose ketamine 12.25mg IM vial V2", 56);
    kapchart::app::stock::count(
        &mut f.chart,
        &f.config,
        &[
            (kapchart::domain::stock::ContainerId(1), 449.5, true),
            (kapchart::domain::stock::ContainerId(2), 487.75, false),
        ],
        kapchart::domain::stock::BusinessHours::Close,
        None,
        &at(58),
    )
    .unwrap();
    go_home(&f, &mut app, 60);
    open_stock(&f, &mut app, 60);
    let whole = render(&app, 400, 160);
    let all = values(&whole);
    for v in [
        "449.5", "487.75", "8.99", "9.755", "-35", "-15.5", "-12.25", "+500",
    ] {
        assert!(all.contains(v), "{v} missing from {all:?}:\n{whole}");
    }
    assert!(
        whole.contains("Last count: 10:58 on 26 Nov 2026, close"),
        "{whole}"
    );
    for (w, h) in [(60, 18), (80, 24), (120, 40), (160, 48)] {
        let shown = render(&app, w, h);
        for v in values(&shown) {
            assert!(
                all.contains(&v),
                "{w}x{h}: {v:?} is not a whole value of the screen:\n{shown}"
            );
        }
        // The balances are in view at every size.
        assert!(
            row_of(&shown, "V1").contains("449.5 mg"),
            "{w}x{h}:\n{shown}"
        );
        assert!(
            row_of(&shown, "V2").contains("487.75 mg"),
            "{w}x{h}:\n{shown}"
        );
        if w == 80 || w == 60 {
            println!("{shown}");
        }
    }
}

#[test]
fn a_stock_longer_than_the_screen_says_how_many_more_and_keeps_each_row_whole() {
    let mut f = with_stock();
    let mut receipt = kapchart::app::stock::all(&f.chart).unwrap()[0]
        .container
        .receipt
        .clone();
    receipt.containers = 12;
    kapchart::app::stock::receive(&mut f.chart, &receipt, &at(46)).unwrap();
    let mut app = new_app(&f, 50);
    go_home(&f, &mut app, 50);
    open_stock(&f, &mut app, 50);
    let all = values(&render(&app, 400, 160));
    for (w, h) in [(60, 18), (80, 24), (120, 40), (160, 48)] {
        let shown = render(&app, w, h);
        assert_eq!(shown.lines().count(), usize::from(h));
        assert!(
            shown.contains("On hand: 14 containers"),
            "{w}x{h}:\n{shown}"
        );
        if h < 40 {
            assert!(shown.contains("… "), "{w}x{h}:\n{shown}");
            assert!(shown.contains(" more"), "{w}x{h}:\n{shown}");
        }
        for v in values(&shown) {
            assert!(all.contains(&v), "{w}x{h}: {v:?} cut:\n{shown}");
        }
        assert!(
            shown.contains("Last count: none recorded"),
            "{w}x{h}:\n{shown}"
        );
        assert!(shown.lines().last().unwrap().contains("Esc home"));
    }
}

/// The live screen's header row that names the vial at hand.
fn at_hand_row(screen: &str) -> &str {
    screen
        .lines()
        .take(6)
        .find(|l| l.contains(" left") || l.contains(" empty"))
        .unwrap_or_else(|| panic!("no vial at hand in the header:\n{screen}"))
}

#[test]
fn the_live_header_shows_the_vial_at_hand_and_flags_a_balance_below_the_last_dose() {
    let mut f = with_stock();
    let mut app = new_app(&f, 50);
    update(&mut app, Action::Opened(Ok(f.live_data())));
    // Nothing drawn and nothing open: no vial is named.
    let shown = render(&app, 120, 40);
    assert!(!shown.contains("V1") && !shown.contains(" left"), "{shown}");

    chart_line(&mut f, &mut app, "dose ketamine 35mg IM vial V1", 50);
    let shown = render(&app, 120, 40);
    let row = at_hand_row(&shown);
    assert!(row.contains("V1 465 mg (9.3 mL) left"), "{row}\n{shown}");
    assert!(!row.contains("less than"), "{row}");

    // Twelve more 35 mg doses leave 45 mg: enough for one more, not flagged.
    for minute in 51..63 {
        chart_line(&mut f, &mut app, "dose ketamine 35mg IM", minute);
    }
    let row = at_hand_row(&render(&app, 120, 40)).to_string();
    assert!(row.contains("V1 45 mg (0.9 mL) left"), "{row}");
    assert!(!row.contains("less than"), "{row}");
    // The fourteenth leaves 10 mg: less than the 35 mg dose, flagged (the app does not
    // refuse or decide the next dose; the draw of one is refused when it is charted).
    chart_line(&mut f, &mut app, "dose ketamine 35mg IM", 63);
    for (w, h) in [(120, 40), (80, 24), (160, 48)] {
        let shown = render(&app, w, h);
        let row = at_hand_row(&shown);
        assert!(
            row.contains("⚠ V1 10 mg (0.2 mL) left, less than the 35 mg dose"),
            "{w}x{h}: {row}\n{shown}"
        );
    }
    // The screen read afresh (as the poll does) says the same.
    update(&mut app, Action::Opened(Ok(f.live_data())));
    let row = at_hand_row(&render(&app, 120, 40)).to_string();
    assert!(row.contains("⚠ V1 10 mg (0.2 mL) left"), "{row}");
    // A 5 mg dose leaves 5 mg, less than that 5 mg dose? No: exactly its size is not short.
    chart_line(&mut f, &mut app, "dose ketamine 5mg IM", 64);
    let row = at_hand_row(&render(&app, 120, 40)).to_string();
    assert!(
        row.contains("V1 5 mg (0.1 mL) left") && !row.contains("less than"),
        "{row}"
    );
    chart_line(&mut f, &mut app, "dose ketamine 5mg IM", 65);
    let row = at_hand_row(&render(&app, 120, 40)).to_string();
    assert!(row.contains("V1 empty"), "{row}");
}

#[test]
fn just_after_midnight_the_evenings_waste_still_awaits_its_witness_on_the_stock_screen() {
    let mut f = with_stock();
    // 23:50 and 23:58 on 26 Nov (the fixture's day, UTC+01:00): a dose and the rest wasted.
    let (dose, waste, read) = (830, 838, 845);
    let mut app = new_app(&f, dose);
    update(&mut app, Action::Opened(Ok(f.live_data())));
    chart_line(&mut f, &mut app, "dose ketamine 35mg IM vial V1", dose);
    chart_line(&mut f, &mut app, "waste ketamine 465mg vial V1", waste);
    // Read at 00:05 on 27 Nov: a calendar "today" would hold nothing.
    go_home(&f, &mut app, read);
    open_stock(&f, &mut app, read);
    let shown = render(&app, 120, 40);
    assert!(shown.contains("as read at 00:05 on 27 Nov 2026"), "{shown}");
    assert!(
        shown.contains("Wastes of the last 24 hours awaiting a witness: 1"),
        "{shown}"
    );
    let row = shown
        .lines()
        .find(|l| l.contains("wasted") && l.contains("no witness"))
        .unwrap_or_else(|| panic!("no waste row:\n{shown}"));
    assert!(row.contains("23:58") && row.contains("-465 mg"), "{row}");
}

/// A waste outside a session awaits its witness on the Stock screen like a session's, and
/// says how it is witnessed (the second clinician's `kapchart stock witness RECORD`, its
/// record named before the rest of the row, which a narrow screen cuts); once
/// witnessed, it leaves that list and its row names the witness.
#[test]
fn a_waste_outside_a_session_awaits_its_witness_on_the_stock_screen_naming_its_record() {
    let mut f = with_stock();
    let (record, _) = kapchart::app::stock::waste(
        &mut f.chart,
        &f.config,
        kapchart::domain::stock::ContainerId(2),
        Some(120.0),
        None,
        "beyond-use date passed",
        &at(50),
    )
    .unwrap();
    let mut app = new_app(&f, 52);
    go_home(&f, &mut app, 52);
    open_stock(&f, &mut app, 52);
    let shown = render(&app, 120, 40);
    assert!(
        shown.contains("Wastes of the last 24 hours awaiting a witness: 1 (stock witness RECORD)"),
        "{shown}"
    );
    let row = shown
        .lines()
        .rfind(|l| l.contains("wasted") && l.contains("-120 mg"))
        .unwrap_or_else(|| panic!("the waste's row:\n{shown}"));
    assert!(
        row.contains(&format!(
            "ketamine · stock record {record} · by Dr. Mara Quinn · no witness"
        )),
        "{row}"
    );
    assert!(row_of(&shown, "V2").contains("380 mg"), "{shown}");
    // At 80 columns the row is cut at its end, after the record.
    let narrow = render(&app, 80, 24);
    assert!(
        narrow
            .lines()
            .any(|l| l.contains("-120 mg") && l.contains(&format!("stock record {record} ·"))),
        "{narrow}"
    );
    let nurse = "tidal meadow lantern quartz";
    f.chart
        .add_team_member(
            "Nia Nurse",
            kapchart::domain::team::Role::Nurse,
            Some("RN"),
            nurse,
            at(52),
        )
        .unwrap();
    f.chart
        .behind_the_door()
        .sign_in("Nia Nurse", nurse)
        .unwrap();
    kapchart::app::stock::witness_waste(&mut f.chart, record, &at(53)).unwrap();
    let mut app = new_app(&f, 54);
    go_home(&f, &mut app, 54);
    open_stock(&f, &mut app, 54);
    let shown = render(&app, 120, 40);
    assert!(
        shown.contains("Wastes of the last 24 hours awaiting a witness: none"),
        "{shown}"
    );
    assert!(shown.contains("witnessed by Nia Nurse"), "{shown}");
}
