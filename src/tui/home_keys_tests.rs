//! The home screen's keys, on its state alone: recent sessions, the patient filter and its
//! pages, a patient's sessions, and the new-session form.

use super::*;
use crate::app::patient_list::PatientList;
use chrono::{FixedOffset, NaiveDate, TimeZone};

fn key(s: &str) -> Key {
    Key::parse(s).unwrap()
}

fn data() -> HomeData {
    let p = |id, name: &str| Patient {
        id,
        name: name.into(),
        dob: NaiveDate::from_ymd_opt(1980, 1, 1).unwrap(),
        mrn: Some(format!("M{id}")),
        weight_kg: None,
    };
    let at = |d| {
        FixedOffset::east_opt(0)
            .unwrap()
            .with_ymd_and_hms(2026, 11, d, 10, 0, 0)
            .unwrap()
    };
    let s = |id, patient, kind, day, intention: Option<&str>| Session {
        id,
        patient_id: patient,
        kind,
        started: at(day),
        ended: Some(at(day)),
        clinician: "Dr".into(),
        intention: intention.map(str::to_string),
        dosing_session_id: None,
    };
    let sessions = vec![
        s(3, 2, SessionKind::Dosing, 25, Some("Feel safe")),
        s(2, 1, SessionKind::Intake, 10, None),
        s(1, 2, SessionKind::Intake, 1, None),
    ];
    let mut patient_sessions = std::collections::HashMap::new();
    for session in &sessions {
        patient_sessions
            .entry(session.patient_id)
            .or_insert_with(Vec::new)
            .push(session.clone());
    }
    HomeData {
        patients: PatientList {
            filter: PatientFilter::All,
            rows: vec![p(1, "Ada Byron"), p(2, "Bo Chen")],
            complete: true,
        },
        patient_count: 2,
        names: std::collections::HashMap::new(),
        sessions,
        patient_sessions,
        integrations: Vec::new(),
        today: NaiveDate::from_ymd_opt(2026, 11, 26).unwrap(),
        rems_due: None,
    }
}

fn press(h: &mut Home, k: &str, cmd: Option<Command>) -> Option<Effect> {
    h.on_key(cmd, &key(k))
}

#[test]
fn recent_shows_the_last_week_only() {
    let h = Home::new(data());
    let ids: Vec<_> = h.recent().iter().map(|s| s.id).collect();
    assert_eq!(ids, [3]);
    assert_eq!(h.focus, Focus::Recent);
}

#[test]
fn enter_on_a_recent_session_opens_it() {
    let mut h = Home::new(data());
    assert_eq!(
        press(&mut h, "enter", Some(Command::Open)),
        Some(Effect::OpenSession(3))
    );
}

fn page(filter: PatientFilter, after: Option<&Patient>, rows: Vec<Patient>, last: bool) -> Page {
    Page {
        read: PageRead {
            filter,
            after: after.cloned(),
        },
        rows,
        last,
    }
}

/// The filter asks the chart for its first page as it is typed; rows of an earlier
/// filter are never shown for a later one (tests/patient_list.rs types into a chart).
#[test]
fn filter_as_you_type_reads_the_filters_first_page() {
    let mut h = Home::new(data());
    let bo = h.data.patients.rows[1].clone();
    press(&mut h, "/", Some(Command::FocusFilter));
    assert_eq!(h.context(), Context::Panel);
    press(&mut h, "b", None);
    let b = PatientFilter::Begins("b".into());
    assert_eq!(
        h.patients_needed(),
        Some(PageRead {
            filter: b.clone(),
            after: None
        })
    );
    press(&mut h, "o", None);
    assert!(h.visible_patients().is_empty(), "no rows of another filter");
    // The page for "b" arrives after "o" was typed: left out.
    h.patients_read(page(b, None, vec![bo.clone()], true));
    assert!(h.visible_patients().is_empty());
    let bo_filter = PatientFilter::Begins("bo".into());
    assert_eq!(h.patients_needed().unwrap().filter, bo_filter);
    h.patients_read(page(bo_filter, None, vec![bo], true));
    let names: Vec<_> = h
        .visible_patients()
        .iter()
        .map(|p| p.name.clone())
        .collect();
    assert_eq!(names, ["Bo Chen"]);
    assert_eq!(h.patients_needed(), None);
    press(&mut h, "enter", Some(Command::Confirm));
    assert_eq!(h.context(), Context::Home);
    assert_eq!(h.filter, "bo", "the typed filter stays");
}

/// Moving past the rows read asks for the page after the last one; the selection goes
/// on to where it was asked once the page is in.
#[test]
fn moving_past_the_rows_read_asks_for_the_next_page() {
    let mut d = data();
    d.patients.complete = false;
    let mut h = Home::new(d);
    press(&mut h, "tab", Some(Command::NextField));
    press(&mut h, "down", Some(Command::Down));
    assert_eq!(h.patients_needed(), None, "Bo is read");
    press(&mut h, "pagedown", Some(Command::PageDown));
    assert_eq!(h.patient, 1, "on the last row read until more arrive");
    let bo = h.data.patients.rows[1].clone();
    let read = h.patients_needed().expect("the next page");
    assert_eq!(read.after.as_ref(), Some(&bo));
    let more: Vec<Patient> = (3..20)
        .map(|id| Patient {
            id,
            name: format!("Cy {id:02}"),
            ..bo.clone()
        })
        .collect();
    h.patients_read(page(PatientFilter::All, Some(&bo), more, true));
    assert_eq!(h.patient, 11, "ten rows down from Bo");
    assert_eq!(h.selected_patient().unwrap().name, "Cy 12");
    assert_eq!(h.patients_needed(), None);
    press(&mut h, "end", Some(Command::ListEnd));
    assert_eq!(h.selected_patient().unwrap().name, "Cy 19");
    press(&mut h, "home", Some(Command::ListStart));
    assert_eq!(h.patient, 0);
}

#[test]
fn patients_then_their_sessions() {
    let mut h = Home::new(data());
    press(&mut h, "tab", Some(Command::NextField));
    press(&mut h, "down", Some(Command::Down));
    press(&mut h, "down", Some(Command::Down));
    assert_eq!(
        h.selected_patient().unwrap().name,
        "Bo Chen",
        "stops at the end"
    );
    press(&mut h, "enter", Some(Command::Open));
    assert_eq!(h.focus, Focus::Sessions);
    press(&mut h, "down", Some(Command::Down));
    assert_eq!(
        press(&mut h, "enter", Some(Command::Open)),
        Some(Effect::OpenSession(1))
    );
}

fn form(h: &Home) -> &NewSessionForm {
    match &h.form {
        Some(HomeForm::NewSession(f)) => f,
        other => panic!("not the new-session form: {other:?}"),
    }
}

#[test]
fn new_dosing_session_leaves_the_intention_to_the_record_unless_typed() {
    let mut h = Home::new(data());
    assert_eq!(
        press(&mut h, "n", Some(Command::NewSession)),
        Some(Effect::ReadCarriedIntention(2)),
        "the form reads what an empty intention carries"
    );
    assert_eq!(form(&h).intention, "");
    assert_eq!(
        press(&mut h, "enter", Some(Command::Confirm)),
        Some(Effect::StartSession {
            patient: 2,
            kind: SessionKind::Dosing,
            intention: None,
            dosing: None,
        })
    );
    h.session_started();
    press(&mut h, "n", Some(Command::NewSession));
    for c in "Rest".chars() {
        press(&mut h, &c.to_string(), None);
    }
    assert_eq!(
        press(&mut h, "enter", Some(Command::Confirm)),
        Some(Effect::StartSession {
            patient: 2,
            kind: SessionKind::Dosing,
            intention: Some("Rest".into()),
            dosing: None,
        })
    );
}

#[test]
fn new_integration_links_the_latest_dosing_or_explains() {
    let mut h = Home::new(data());
    press(&mut h, "n", Some(Command::NewSession));
    press(&mut h, "right", Some(Command::Increase));
    assert_eq!(
        press(&mut h, "enter", Some(Command::Confirm)),
        Some(Effect::StartSession {
            patient: 2,
            kind: SessionKind::Integration,
            intention: None,
            dosing: Some(3),
        })
    );
    h.session_started();
    // Ada has no dosing session yet.
    h.focus = Focus::Patients;
    h.patient = 0;
    press(&mut h, "n", Some(Command::NewSession));
    press(&mut h, "right", Some(Command::Increase));
    assert_eq!(press(&mut h, "enter", Some(Command::Confirm)), None);
    assert!(form(&h).error.as_ref().unwrap().contains("has none"));
    press(&mut h, "esc", Some(Command::Cancel));
    assert!(h.form.is_none());
    assert!(h.kept.is_empty(), "nothing typed, nothing kept");
}
