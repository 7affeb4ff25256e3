//! Tests of discharge.rs.

use super::*;
use crate::domain::entry::RideHome;
use crate::domain::protocol::Phase;
use crate::domain::{Correction, Entry, chart_lines};
use chrono::TimeZone;

fn at(h: u32, m: u32) -> DateTime<FixedOffset> {
    FixedOffset::east_opt(3600)
        .unwrap()
        .with_ymd_and_hms(2026, 11, 26, h, m, 0)
        .unwrap()
}

fn protocol() -> ProtocolConfig {
    ProtocolConfig {
        baseline: true,
        phases: vec![Phase {
            every_min: 15,
            until_min: None,
            bp: false,
        }],
        vitals_round: crate::domain::protocol::Signs::of(&[crate::domain::protocol::Sign::Bp]),
        bp_at_min: vec![40],
        minimum_observation_min: 120,
        overdue_after_min: 3,
        early_min: 5,
        clock_drugs: vec!["ketamine".into(), "esketamine".into()],
    }
}

fn rules() -> DischargeRules {
    DischargeRules {
        aldrete_at_least: 9,
        ride_home_required: true,
    }
}

fn score(items: [u8; 5]) -> AldreteScore {
    aldrete_score(items).unwrap()
}

fn ready_state() -> DischargeState {
    DischargeState {
        aldrete: Some((7, score([2, 2, 2, 2, 1]))),
        ride: Some("partner (Sam)".into()),
        ready_at: Some(at(11, 55)),
    }
}

fn concerns_at(
    kind: SessionKind,
    state: &DischargeState,
    now: DateTime<FixedOffset>,
) -> Vec<DischargeConcern> {
    concerns(kind, &protocol(), &rules(), Some(at(10, 0)), state, now)
}

#[test]
fn shipped_config_has_the_suggested_rules() {
    assert_eq!(crate::config::Config::default().discharge, rules());
}

#[test]
fn no_concerns_when_all_is_well() {
    assert_eq!(
        concerns_at(SessionKind::Dosing, &ready_state(), at(12, 0)),
        []
    );
}

#[test]
fn ending_before_the_minimum_observation() {
    let got = concerns_at(SessionKind::Dosing, &ready_state(), at(11, 25));
    assert_eq!(
        got,
        [DischargeConcern::BeforeMinimumObservation {
            until: at(12, 0),
            minutes_left: 35,
            minimum_min: 120,
        }]
    );
    assert_eq!(
        got[0].to_string(),
        "ending 35 min before the 120-min minimum observation (until 12:00)"
    );
    // Part of a minute left counts as a minute.
    let now = at(11, 59) + chrono::Duration::seconds(30);
    assert!(matches!(
        concerns_at(SessionKind::Dosing, &ready_state(), now)[..],
        [DischargeConcern::BeforeMinimumObservation {
            minutes_left: 1,
            ..
        }]
    ));
    // No dose, no minimum observation.
    let got = concerns(
        SessionKind::Dosing,
        &protocol(),
        &rules(),
        None,
        &ready_state(),
        at(10, 5),
    );
    assert_eq!(got, []);
}

#[test]
fn no_ride_home() {
    for ride in [None, Some("  ".to_string())] {
        let state = DischargeState {
            ride,
            ..ready_state()
        };
        let got = concerns_at(SessionKind::Dosing, &state, at(12, 30));
        assert_eq!(got, [DischargeConcern::NoRideHome]);
        assert_eq!(
            got[0].to_string(),
            "no ride home recorded (the patient may not drive after ketamine)"
        );
    }
    let state = DischargeState {
        ride: None,
        ..ready_state()
    };
    let lenient = DischargeRules {
        ride_home_required: false,
        ..rules()
    };
    let got = concerns(
        SessionKind::Dosing,
        &protocol(),
        &lenient,
        Some(at(10, 0)),
        &state,
        at(12, 30),
    );
    assert_eq!(got, []);
}

#[test]
fn no_aldrete_or_below_the_suggested_total() {
    let none = DischargeState {
        aldrete: None,
        ..ready_state()
    };
    let got = concerns_at(SessionKind::Dosing, &none, at(12, 30));
    assert_eq!(got, [DischargeConcern::NoAldrete]);
    assert_eq!(got[0].to_string(), "no modified Aldrete score recorded");

    let low = DischargeState {
        aldrete: Some((3, score([2, 2, 1, 2, 1]))),
        ..ready_state()
    };
    let got = concerns_at(SessionKind::Dosing, &low, at(12, 30));
    assert_eq!(
        got,
        [DischargeConcern::AldreteBelow {
            total: 8,
            at_least: 9
        }]
    );
    assert_eq!(
        got[0].to_string(),
        "modified Aldrete 8/10, below the suggested 9"
    );

    let nine = DischargeState {
        aldrete: Some((3, score([2, 2, 1, 2, 2]))),
        ..ready_state()
    };
    assert_eq!(concerns_at(SessionKind::Dosing, &nine, at(12, 30)), []);
}

#[test]
fn every_concern_at_once_in_a_fixed_order() {
    let got = concerns_at(SessionKind::Dosing, &DischargeState::default(), at(10, 30));
    assert_eq!(got.len(), 3);
    assert!(matches!(
        got[0],
        DischargeConcern::BeforeMinimumObservation {
            minutes_left: 90,
            ..
        }
    ));
    assert_eq!(
        got[1..],
        [DischargeConcern::NoRideHome, DischargeConcern::NoAldrete]
    );
}

#[test]
fn other_sessions_have_no_concerns() {
    for kind in SessionKind::ALL
        .into_iter()
        .filter(|k| *k != SessionKind::Dosing)
    {
        assert_eq!(
            concerns_at(kind, &DischargeState::default(), at(10, 30)),
            [],
            "{kind}"
        );
    }
}

#[test]
fn aldrete_labels_follow_the_reference() {
    let items = aldrete_item_labels();
    let names: Vec<&str> = items.iter().map(|i| i.name).collect();
    assert_eq!(
        names,
        [
            "activity",
            "respiration",
            "circulation",
            "consciousness",
            "SpO2"
        ]
    );
    assert_eq!(items[0].describe(2), Some("moves 4 limbs"));
    assert_eq!(items[2].describe(1), Some("BP 20-50 mmHg of pre-sedation"));
    assert_eq!(items[4].describe(0), Some("< 90% even with O2"));
    assert_eq!(items[3].describe(3), None);
}

#[test]
fn aldrete_items_must_be_0_1_or_2() {
    let s = aldrete_score([2, 1, 0, 2, 2]).unwrap();
    assert_eq!(s.total(), 7);
    assert_eq!(aldrete_items(&s), [2, 1, 0, 2, 2]);
    assert_eq!(
        aldrete_score([2, 2, 3, 2, 2]).unwrap_err(),
        "Aldrete circulation must be 0, 1 or 2 (got 3)"
    );
    let bad = AldreteScore { spo2: 9, ..s };
    assert_eq!(
        validate_aldrete(&bad).unwrap_err(),
        "Aldrete SpO2 must be 0, 1 or 2 (got 9)"
    );
}

#[test]
fn rules_refuse_an_impossible_total_and_unknown_keys() {
    let err =
        toml::from_str::<DischargeRules>("aldrete_at_least = 11\nride_home_required = true\n")
            .unwrap_err()
            .to_string();
    assert!(err.contains("maximum of 10"), "{err}");
    // The maximum itself is a rule a clinic may choose: a full score before discharge.
    let strict =
        toml::from_str::<DischargeRules>("aldrete_at_least = 10\nride_home_required = true\n")
            .unwrap();
    assert_eq!(strict.aldrete_at_least, 10);
    let err = toml::from_str::<DischargeRules>(
        "aldrete_at_least = 9\nride_home_required = true\nride = 1\n",
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("ride"), "{err}");
}

#[test]
fn state_takes_the_latest_current_entry_of_each_kind() {
    let entry = |id, payload, event_time, corrects: Option<(EntryId, Correction)>| Entry {
        id,
        session_id: 1,
        payload,
        event_time,
        recorded_time: event_time,
        author: "dr".into(),
        flags: vec![],
        corrects: corrects.map(|c| c.0),
        correction: corrects.map(|c| c.1),
        reason: corrects.map(|_| "correction".into()),
    };
    let ride = |who: &str| Payload::RideHome(RideHome { who: who.into() });
    let lines = chart_lines(vec![
        entry(
            1,
            Payload::Aldrete(score([2, 2, 2, 2, 2])),
            at(11, 50),
            None,
        ),
        entry(
            2,
            Payload::Aldrete(score([1, 2, 2, 2, 2])),
            at(11, 40),
            None,
        ),
        entry(3, ride("taxi"), at(10, 0), None),
        entry(4, ride("sister"), at(10, 5), None),
        entry(5, Payload::Strike, at(10, 6), Some((4, Correction::Strike))),
        entry(6, Payload::PatientReady, at(11, 55), None),
        entry(
            7,
            Payload::Aldrete(score([2, 2, 1, 2, 2])),
            at(11, 50),
            Some((1, Correction::Amend)),
        ),
    ]);
    let state = discharge_state(&lines);
    assert_eq!(state.aldrete, Some((7, score([2, 2, 1, 2, 2]))));
    assert_eq!(state.ride.as_deref(), Some("taxi"));
    assert_eq!(state.ready_at, Some(at(11, 55)));
    assert_eq!(discharge_state(&[]), DischargeState::default());
}
