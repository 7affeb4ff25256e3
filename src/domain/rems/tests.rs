use super::*;
use crate::domain::entry::{Dissociation, Dose, DoseUnit, Respiration, Route, Sedation};
use crate::domain::protocol::CheckStatus;
use crate::domain::{Entry, EntryId, Session, SessionKind, VitalSigns};
use chrono::TimeZone;

fn at(h: u32, m: u32) -> DateTime<FixedOffset> {
    FixedOffset::east_opt(3600)
        .unwrap()
        .with_ymd_and_hms(2026, 11, 26, h, m, 0)
        .unwrap()
}

fn entry(id: EntryId, when: DateTime<FixedOffset>, payload: Payload) -> Entry {
    Entry {
        id,
        session_id: 1,
        payload,
        event_time: when,
        recorded_time: when,
        author: "Dr Test".into(),
        flags: Vec::new(),
        corrects: None,
        correction: None,
        reason: None,
    }
}

fn dose(drug: &str) -> Payload {
    Payload::Dose(Dose {
        drug: drug.into(),
        amount: 56.0,
        unit: DoseUnit::Mg,
        route: Route::IN,
        over_min: None,
        total_mg: 56.0,
        weight_kg: None,
        devices: Some(2),
        lot: Some("ABC123".into()),
        vial: None,
        drawn: Vec::new(),
    })
}

fn bp(s: u16, d: u16) -> Payload {
    Payload::Vitals(VitalSigns {
        bp: Some(BloodPressure {
            systolic: s,
            diastolic: d,
        }),
        ..Default::default()
    })
}

fn chart(drug: &str, entries: Vec<Entry>, ended: Option<DateTime<FixedOffset>>) -> SessionChart {
    let session = Session {
        id: 1,
        patient_id: 1,
        kind: SessionKind::Dosing,
        started: at(8, 0),
        ended,
        clinician: "Dr Test".into(),
        intention: None,
        dosing_session_id: None,
    };
    let mut all = vec![
        entry(1, at(8, 50), bp(128, 82)),
        entry(2, at(9, 0), dose(drug)),
    ];
    all.extend(entries);
    SessionChart::new(
        session,
        all,
        crate::config::Config::default().session_rules(),
    )
}

fn discharge_statuses(
    c: &SessionChart,
    now: DateTime<FixedOffset>,
) -> Vec<(CheckKind, CheckStatus)> {
    c.checks(now)
        .into_iter()
        .filter(|c| c.kind.id_suffix().len() > 1)
        .map(|c| (c.kind, c.status))
        .collect()
}

#[test]
fn an_esketamine_session_gets_the_rems_checks_before_discharge_and_ketamine_does_not() {
    let rems = chart("esketamine", vec![], None);
    let checks = discharge_statuses(&rems, at(10, 0));
    assert_eq!(
        checks
            .iter()
            .map(|(k, _)| k.to_string())
            .collect::<Vec<_>>(),
        [
            "BP before discharge",
            "sedation resolved",
            "dissociation resolved",
            "respiration resolved"
        ]
    );
    assert!(checks.iter().all(|(_, s)| *s == CheckStatus::Upcoming));
    // Due when the minimum observation ends (T+120 = 11:00), overdue 3 min later.
    assert!(
        discharge_statuses(&rems, at(11, 1))
            .iter()
            .all(|(_, s)| *s == CheckStatus::Due)
    );
    assert!(
        discharge_statuses(&rems, at(11, 4))
            .iter()
            .all(|(_, s)| *s == CheckStatus::Overdue)
    );
    let ketamine = chart("ketamine", vec![], None);
    assert!(discharge_statuses(&ketamine, at(11, 4)).is_empty());
}

#[test]
fn the_latest_entry_in_the_window_decides_and_an_ended_session_misses_the_rest() {
    let c = chart(
        "esketamine",
        vec![
            // Before the window (11:00 - 30 min): does not count.
            entry(3, at(10, 20), Payload::Sedation(Sedation { moaas: 5 })),
            entry(4, at(10, 40), bp(130, 80)),
            entry(5, at(10, 45), Payload::Sedation(Sedation { moaas: 3 })),
            entry(
                6,
                at(10, 50),
                Payload::Dissociation(Dissociation { cadss6: [0; 6] }),
            ),
            entry(
                7,
                at(10, 55),
                Payload::Respiration(Respiration {
                    depressed: true,
                    note: None,
                }),
            ),
            entry(8, at(11, 6), Payload::Sedation(Sedation { moaas: 5 })),
        ],
        Some(at(11, 10)),
    );
    let s = discharge_statuses(&c, at(12, 0));
    assert_eq!(s[0].1, CheckStatus::Done { by: 4 });
    // The MOAA/S 3 at 10:45 was not resolved; the 5 at 11:06 closed it, 6 min late.
    assert_eq!(s[1].1, CheckStatus::DoneLate { by: 8, late_min: 6 });
    assert_eq!(s[2].1, CheckStatus::Done { by: 6 });
    // The last respiratory status was depression: the ended session missed the check.
    assert_eq!(s[3].1, CheckStatus::Missed);
}

#[test]
fn a_session_ended_before_the_minimum_lists_only_what_was_done() {
    let c = chart(
        "esketamine",
        vec![entry(3, at(10, 40), bp(130, 80))],
        Some(at(10, 45)),
    );
    let s = discharge_statuses(&c, at(12, 0));
    assert_eq!(
        s,
        [(CheckKind::BpBeforeDischarge, CheckStatus::Done { by: 3 })]
    );
}

#[test]
fn the_form_state_counts_calendar_days_from_the_treatment() {
    let rules = crate::config::Config::default().rems;
    let day = |d: u32| NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
    assert_eq!(
        FormState::of(&rules, day(1), true, None, day(20)),
        FormState::ToDo
    );
    assert_eq!(
        FormState::of(&rules, day(1), false, None, day(8)),
        FormState::DueBy(day(8))
    );
    assert_eq!(
        FormState::of(&rules, day(1), false, None, day(9)),
        FormState::OverdueSince(day(9))
    );
    let sub = crate::domain::entry::RemsSubmission {
        on: day(3),
        reference: Some("R-1".into()),
    };
    assert_eq!(
        FormState::of(&rules, day(1), false, Some(&sub), day(30)).to_string(),
        "submitted on 2026-11-03 (ref R-1)"
    );
}

#[test]
fn a_clinic_sets_its_deadline_and_checks_and_a_wrong_check_is_named() {
    let c = crate::config::Config::from_layers(Some((
        "mine.toml",
        "[rems]\ndeadline_days = 5\ndischarge_checks = [\"bp\"]\n",
    )))
    .unwrap();
    assert_eq!(c.rems.deadline_days, 5);
    assert_eq!(c.rems.discharge_checks, ["bp"]);
    let err = crate::config::Config::from_layers(Some((
        "mine.toml",
        "[rems]\ndischarge_checks = [\"pulse\"]\n",
    )))
    .unwrap_err()
    .to_string();
    assert!(err.contains("\"pulse\" is not a check"), "{err}");
}

/// The end-of-monitoring fields say why the record cannot answer them: before the end, that
/// the session has not ended; after it, that nothing was charted after the first device.
#[test]
fn the_end_fields_say_why_they_are_empty_before_and_after_the_end() {
    let patient = crate::domain::Patient {
        id: 1,
        name: "Alex Rivera".into(),
        dob: chrono::NaiveDate::from_ymd_opt(1986, 4, 12).unwrap(),
        mrn: None,
        weight_kg: None,
    };
    let inputs = FormInputs {
        patient: &patient,
        sex: None,
        medications: &[],
        earlier_treatments: 0,
    };
    let rules = crate::config::Config::default().rems;
    let reason = |chart: &SessionChart, key: &str| {
        form(chart, &rules, inputs, at(11, 30))
            .unwrap()
            .fields
            .into_iter()
            .find(|f| f.key == key)
            .unwrap()
            .answer
            .unwrap_err()
    };
    let open = chart("esketamine", vec![], None);
    for (key, what) in [("vitals_in_range_end", "vitals"), ("bp_end", "BP")] {
        assert_eq!(
            reason(&open, key),
            format!("the session has not ended: the {what} before the end is read once it has")
        );
    }
    let ended = chart("esketamine", vec![], Some(at(11, 10)));
    for (key, what) in [("vitals_in_range_end", "vitals"), ("bp_end", "BP")] {
        assert_eq!(
            reason(&ended, key),
            format!("no {what} charted after the first device")
        );
    }
}
