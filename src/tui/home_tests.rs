//! The home screen through the runtime on a real chart, as the clinician uses it: adding a
//! patient, starting a course, starting a session with the intention typed, and following
//! what another kapchart process writes.

use super::bedside_fixture::{Bedside as Setup, bedside};
use super::dispatch;
use super::home::{Home, HomeForm};
use super::keymap::{Key, KeyName};
use super::state::{Action, Effect, Screen};
use crate::app::Chart;
use crate::domain::{Payload, SessionKind};
use crate::store::NewPatient;
use chrono::{Duration, FixedOffset, NaiveDate, TimeZone};

fn setup() -> Setup {
    let now = FixedOffset::east_opt(3600)
        .unwrap()
        .with_ymd_and_hms(2026, 11, 26, 10, 0, 0)
        .unwrap();
    let mut s = bedside(now, now - Duration::minutes(30));
    let home = s.rt.perform(Effect::LoadHome);
    dispatch(&mut s.app, &mut s.rt, home, None).unwrap();
    s
}

fn home(s: &Setup) -> &Home {
    match &s.app.screen {
        Screen::Home(h) => h,
        other => panic!("not on the home screen: {other:?}"),
    }
}

fn press(s: &mut Setup, key: &str) {
    let key = Key::parse(key).unwrap();
    dispatch(&mut s.app, &mut s.rt, Action::Key(key), None).unwrap();
}

fn type_in(s: &mut Setup, text: &str) {
    for c in text.chars() {
        let key = Key {
            code: KeyName::Char(c),
            ctrl: false,
            alt: false,
        };
        dispatch(&mut s.app, &mut s.rt, Action::Key(key), None).unwrap();
    }
}

fn tick(s: &mut Setup) {
    s.app.now += Duration::seconds(1);
    let now = s.app.now;
    dispatch(&mut s.app, &mut s.rt, Action::Tick(now), None).unwrap();
}

fn chart(s: &Setup) -> &Chart {
    s.rt.chart.as_ref().unwrap()
}

fn render(s: &Setup, width: u16, height: u16) -> String {
    let mut terminal =
        ratatui::Terminal::new(ratatui::backend::TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|frame| super::view::draw(&s.app, frame))
        .unwrap();
    let buffer = terminal.backend().buffer();
    let mut out = String::new();
    for y in 0..height {
        for x in 0..width {
            out.push_str(buffer[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

/// The error the open form shows.
fn form_error(s: &Setup) -> String {
    let error = match &home(s).form {
        Some(HomeForm::Patient(f)) => f.error.clone(),
        Some(HomeForm::Course(f)) => f.error.clone(),
        Some(HomeForm::NewSession(f)) => f.error.clone(),
        None => panic!("no form open"),
    };
    error.unwrap_or_default()
}

fn names(s: &Setup) -> Vec<String> {
    home(s)
        .visible_patients()
        .iter()
        .map(|p| p.name.clone())
        .collect()
}

#[test]
fn a_patient_is_added_from_the_home_screen_and_shown_selected() {
    let mut s = setup();
    assert!(render(&s, 80, 24).contains("Patients (1)"));
    press(&mut s, "a");
    type_in(&mut s, "Sam Okafor");
    press(&mut s, "tab");
    type_in(&mut s, "1979-02-03");
    press(&mut s, "tab");
    type_in(&mut s, "MRN-77");
    press(&mut s, "enter");
    assert_eq!(chart(&s).behind_the_door_ref().patient_count().unwrap(), 2);
    let h = home(&s);
    assert!(h.form.is_none(), "the form is done with");
    assert_eq!(h.selected_patient().unwrap().name, "Sam Okafor");
    let screen = render(&s, 80, 24);
    assert!(screen.contains("Patients (2)"), "{screen}");
    assert!(screen.contains("> Sam Okafor (47) MRN-77"), "{screen}");
    assert!(screen.contains("added"), "{screen}");

    // The same person again: refused, naming who exists; Enter again means another person.
    press(&mut s, "a");
    type_in(&mut s, "Sam Okafor");
    press(&mut s, "tab");
    type_in(&mut s, "1979-02-03");
    press(&mut s, "tab");
    type_in(&mut s, "MRN-77");
    press(&mut s, "enter");
    assert_eq!(chart(&s).behind_the_door_ref().patient_count().unwrap(), 2);
    let screen = render(&s, 80, 24);
    assert!(screen.contains("same name"), "{screen}");
    assert!(
        form_error(&s).ends_with("Enter again adds a second record (another person), or Esc"),
        "{screen}"
    );
    press(&mut s, "enter");
    assert_eq!(chart(&s).behind_the_door_ref().patient_count().unwrap(), 3);
}

#[test]
fn a_wrong_date_of_birth_is_named_and_what_was_typed_is_kept_across_esc() {
    let mut s = setup();
    press(&mut s, "a");
    type_in(&mut s, "Kim Lee");
    press(&mut s, "tab");
    type_in(&mut s, "1979-13-40");
    press(&mut s, "enter");
    assert_eq!(
        form_error(&s),
        "date of birth: 1979-13-40 is not a date; expected YYYY-MM-DD, e.g. 1986-04-12"
    );
    let screen = render(&s, 80, 24);
    assert!(screen.contains("1979-13-40 is not a date;"), "{screen}");
    press(&mut s, "esc");
    assert!(home(&s).form.is_none());
    assert!(render(&s, 80, 24).contains("kept as typed"));
    // Opened again: as it was left.
    press(&mut s, "a");
    let Some(HomeForm::Patient(form)) = &home(&s).form else {
        panic!("the patient form")
    };
    assert_eq!(form.fields[0].text(), "Kim Lee");
    assert_eq!(form.fields[1].text(), "1979-13-40");
    // A date of birth after today is refused by the rule every front end shares.
    press(&mut s, "ctrl-u");
    type_in(&mut s, "2999-01-01");
    press(&mut s, "enter");
    assert!(
        form_error(&s).contains("in the future"),
        "{}",
        form_error(&s)
    );
    assert_eq!(
        chart(&s).behind_the_door_ref().patient_count().unwrap(),
        1,
        "nothing written"
    );
    // Quitting hands what was typed back to the terminal.
    press(&mut s, "esc");
    press(&mut s, "q");
    let unsent = s.app.unsent.clone().unwrap_or_default();
    assert!(unsent.contains("Name: Kim Lee"), "{unsent}");
}

#[test]
fn a_course_is_started_from_the_home_screen_and_a_second_only_when_meant() {
    let mut s = setup();
    let patient = s.patient;
    // The recent session is selected: its patient's course.
    press(&mut s, "c");
    let screen = render(&s, 80, 24);
    assert!(
        screen.contains("Start course") && screen.contains("Alex Rivera"),
        "{screen}"
    );
    press(&mut s, "tab");
    type_in(&mut s, "Sleep through the night");
    press(&mut s, "enter");
    let course = chart(&s).course(patient).unwrap().expect("a course");
    assert_eq!(course.planned_dosing, 6);
    assert_eq!(course.goals, ["Sleep through the night"]);
    assert!(render(&s, 80, 24).contains("started for Alex Rivera"));
    press(&mut s, "c");
    press(&mut s, "ctrl-u");
    type_in(&mut s, "4");
    press(&mut s, "enter");
    let error = form_error(&s);
    assert!(
        error.contains("already has course") && error.contains("Enter again starts a new course"),
        "{error}"
    );
    assert!(render(&s, 80, 24).contains("already has course"));
    assert_eq!(
        chart(&s).course(patient).unwrap().unwrap().planned_dosing,
        6
    );
    press(&mut s, "enter");
    assert_eq!(
        chart(&s).course(patient).unwrap().unwrap().planned_dosing,
        4
    );
}

#[test]
fn the_intention_typed_is_kept_across_kinds_and_charted_in_a_preparation_session() {
    let mut s = setup();
    press(&mut s, "n");
    type_in(&mut s, "Feel safe in my body");
    // To intake: kept, and said not to be charted there; Enter says why and starts nothing.
    press(&mut s, "left");
    press(&mut s, "left");
    let screen = render(&s, 80, 24);
    assert!(
        screen.contains("Intention: Feel safe in my body"),
        "{screen}"
    );
    assert!(
        screen.contains("not charted in an intake session"),
        "{screen}"
    );
    press(&mut s, "enter");
    assert!(
        form_error(&s).starts_with(
            "an intention is charted in a preparation or dosing session, not in an intake session"
        ),
        "{}",
        form_error(&s)
    );
    assert!(render(&s, 80, 24).contains("an intention is charted in a"));
    assert_eq!(
        chart(&s).sessions(None).unwrap().len(),
        1,
        "nothing started"
    );
    // To preparation: charted there as the course's intention.
    press(&mut s, "right");
    let screen = render(&s, 80, 24);
    assert!(
        screen.contains("charted in the preparation session"),
        "{screen}"
    );
    press(&mut s, "enter");
    let Screen::Live(live) = &s.app.screen else {
        panic!("the preparation session opens")
    };
    assert_eq!(live.data.session().kind, SessionKind::Preparation);
    let intention = live.lines().iter().find_map(|l| match &l.entry.payload {
        Payload::Intention(t) => Some(t.text.clone()),
        _ => None,
    });
    assert_eq!(intention.as_deref(), Some("Feel safe in my body"));

    // Home again: a dosing session started empty says what it carries, at both sizes.
    let home_again = s.rt.perform(Effect::LoadHome);
    dispatch(&mut s.app, &mut s.rt, home_again, None).unwrap();
    press(&mut s, "n");
    for (w, h) in [(80, 24), (60, 18)] {
        let screen = render(&s, w, h);
        let joined: String = screen.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            joined.contains("carries “Feel safe in my body”"),
            "{w}x{h}:\n{screen}"
        );
    }
}

#[test]
fn an_intention_set_aside_with_esc_comes_back_after_a_visit_to_a_session() {
    let mut s = setup();
    press(&mut s, "n");
    type_in(&mut s, "Rest");
    press(&mut s, "esc");
    // Open the session and come back: the form set aside is still there.
    press(&mut s, "enter");
    assert!(matches!(s.app.screen, Screen::Live(_)));
    let home_again = s.rt.perform(Effect::LoadHome);
    dispatch(&mut s.app, &mut s.rt, home_again, None).unwrap();
    press(&mut s, "n");
    let Some(HomeForm::NewSession(form)) = &home(&s).form else {
        panic!("the new-session form")
    };
    assert_eq!(form.intention, "Rest");
}

#[test]
fn the_home_screen_follows_what_another_process_writes() {
    let mut s = setup();
    press(&mut s, "tab");
    assert_eq!(names(&s), ["Alex Rivera"]);
    // Nothing changed: the poll reads nothing.
    let now = s.app.now;
    let effect = super::state::update(&mut s.app, Action::Tick(now));
    let Some(refresh @ Effect::RefreshHome { .. }) = effect else {
        panic!("the home screen looks at the chart on each tick: {effect:?}")
    };
    assert!(matches!(
        s.rt.perform(refresh),
        Action::HomeRefreshed(Ok(None))
    ));
    // A second kapchart (or `kapchart patient add`) adds a patient.
    let mut other = Chart::open(&s.path, "pw", 2000).unwrap();
    other
        .behind_the_door()
        .add_patient(
            &NewPatient {
                name: "Bo Chen".into(),
                dob: NaiveDate::from_ymd_opt(1990, 5, 6).unwrap(),
                mrn: None,
                weight_kg: None,
            },
            s.app.now,
        )
        .unwrap();
    tick(&mut s);
    assert_eq!(names(&s), ["Alex Rivera", "Bo Chen"]);
    assert_eq!(
        home(&s).selected_patient().unwrap().name,
        "Alex Rivera",
        "the selection stays"
    );
    assert!(render(&s, 80, 24).contains("Patients (2)"));
    // Under a filter typed: kept, and what the other process adds shows under it.
    press(&mut s, "/");
    type_in(&mut s, "ch");
    press(&mut s, "enter");
    tick(&mut s);
    assert_eq!(names(&s), ["Bo Chen"]);
    other
        .behind_the_door()
        .add_patient(
            &NewPatient {
                name: "Cy Chandra".into(),
                dob: NaiveDate::from_ymd_opt(1991, 5, 6).unwrap(),
                mrn: None,
                weight_kg: None,
            },
            s.app.now,
        )
        .unwrap();
    tick(&mut s);
    assert_eq!(home(&s).filter, "ch");
    assert_eq!(names(&s), ["Bo Chen", "Cy Chandra"]);
}
