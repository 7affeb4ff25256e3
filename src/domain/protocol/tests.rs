//! Tests of protocol.rs.

use super::*;
use crate::domain::entry::{BloodPressure, VitalSigns};
use crate::domain::{Correction, Entry, chart_lines};
use chrono::TimeZone;

fn at_s(h: u32, m: u32, s: u32) -> DateTime<FixedOffset> {
    FixedOffset::east_opt(3600)
        .unwrap()
        .with_ymd_and_hms(2026, 11, 26, h, m, s)
        .unwrap()
}

fn at(h: u32, m: u32) -> DateTime<FixedOffset> {
    at_s(h, m, 0)
}

fn defaults() -> ProtocolConfig {
    ProtocolConfig {
        baseline: true,
        phases: vec![
            Phase {
                every_min: 15,
                until_min: Some(60),
                bp: false,
            },
            Phase {
                every_min: 30,
                until_min: None,
                bp: false,
            },
        ],
        vitals_round: Signs::of(&[Sign::Bp, Sign::Hr, Sign::Spo2]),
        bp_at_min: vec![40],
        minimum_observation_min: 120,
        overdue_after_min: 3,
        early_min: 5,
        clock_drugs: vec!["ketamine".into(), "esketamine".into()],
    }
}

const DOSE: (u32, u32) = (10, 0);

fn dose() -> Option<DateTime<FixedOffset>> {
    Some(at(DOSE.0, DOSE.1))
}

fn reading(entry: EntryId, at: DateTime<FixedOffset>, signs: &[Sign]) -> Reading {
    Reading {
        entry,
        at,
        signs: Signs::of(signs),
    }
}

/// A full round: BP, HR and SpO2.
fn vitals(entry: EntryId, at: DateTime<FixedOffset>) -> Reading {
    reading(entry, at, &[Sign::Bp, Sign::Hr, Sign::Spo2])
}

/// HR and SpO2, no BP.
fn no_bp(entry: EntryId, at: DateTime<FixedOffset>) -> Reading {
    reading(entry, at, &[Sign::Hr, Sign::Spo2])
}

/// A BP alone.
fn bp(entry: EntryId, at: DateTime<FixedOffset>) -> Reading {
    reading(entry, at, &[Sign::Bp])
}

/// The check at T+`t`.
fn at_t(checks: &[Check], t: u32) -> &Check {
    checks
        .iter()
        .find(|c| c.kind != CheckKind::Baseline && c.t_plus_min == Some(t))
        .unwrap_or_else(|| panic!("no check at T+{t} in {checks:#?}"))
}

fn status_at(readings: &[Reading], t: u32, now: DateTime<FixedOffset>) -> CheckStatus {
    at_t(&checks(&defaults(), dose(), None, readings, now), t).status
}

fn summary(checks: &[Check]) -> Vec<(Option<u32>, CheckKind, CheckStatus)> {
    checks
        .iter()
        .map(|c| (c.t_plus_min, c.kind, c.status))
        .collect()
}

#[test]
fn shipped_config_is_the_default_schedule() {
    assert_eq!(crate::config::Config::default().protocol, defaults());
}

#[test]
fn a_clinic_overrides_one_key_or_the_whole_schedule() {
    use crate::config::Config;
    let c = Config::from_layers(Some(("mine.toml", "[protocol]\nearly_min = 2\n"))).unwrap();
    assert_eq!(c.protocol.early_min, 2);
    assert_eq!(c.protocol.phases, defaults().phases);
    let err = Config::from_layers(Some((
        "mine.toml",
        "[protocol]\nphases = [{ every_min = 0 }]\n",
    )))
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("mine.toml") && err.contains("every_min must be at least 1"),
        "{err}"
    );
}

#[test]
fn default_schedule_due_times() {
    use CheckKind::*;
    use CheckStatus::*;
    // At T+130 with no reading: each vitals check was missed once the next check fell due;
    // the T+40 BP stays overdue (no later check needs a BP) and T+120 is overdue.
    let list = checks(&defaults(), dose(), None, &[], at(12, 10));
    assert_eq!(
        summary(&list),
        [
            (Some(0), Baseline, Missed),
            (Some(15), Vitals, Missed),
            (Some(30), Vitals, Missed),
            (Some(40), BloodPressure, Overdue),
            (Some(45), Vitals, Missed),
            (Some(60), Vitals, Missed),
            (Some(90), Vitals, Missed),
            (Some(120), Vitals, Overdue),
            (Some(150), Vitals, Upcoming),
        ]
    );
    assert_eq!(list[0].due, dose());
    assert_eq!(list[3].due, Some(at(10, 40)));
    assert_eq!(list[8].due, Some(at(12, 30)));
}

#[test]
fn right_after_the_dose_the_next_check_is_t15() {
    let list = checks(&defaults(), dose(), None, &[bp(1, at(9, 50))], at(10, 0));
    assert_eq!(
        summary(&list),
        [
            (Some(0), CheckKind::Baseline, CheckStatus::Done { by: 1 }),
            (Some(15), CheckKind::Vitals, CheckStatus::Upcoming),
        ]
    );
    assert_eq!(next_check(&list).unwrap().due, Some(at(10, 15)));
}

#[test]
fn due_at_its_time_and_overdue_three_minutes_later() {
    assert_eq!(status_at(&[], 15, at_s(10, 14, 59)), CheckStatus::Upcoming);
    assert_eq!(status_at(&[], 15, at(10, 15)), CheckStatus::Due);
    assert_eq!(status_at(&[], 15, at_s(10, 17, 59)), CheckStatus::Due);
    assert_eq!(status_at(&[], 15, at(10, 18)), CheckStatus::Overdue);
    let mut cfg = defaults();
    cfg.overdue_after_min = 10;
    let list = checks(&cfg, dose(), None, &[], at(10, 24));
    assert_eq!(at_t(&list, 15).status, CheckStatus::Due);
}

#[test]
fn a_reading_satisfies_the_check_it_covers_and_not_the_next() {
    let now = at(10, 35);
    let on_time = [vitals(7, at(10, 16))];
    assert_eq!(status_at(&on_time, 15, now), CheckStatus::Done { by: 7 });
    assert_eq!(status_at(&on_time, 30, now), CheckStatus::Overdue);

    // In the five minutes before the coming round, a reading goes to the overdue round
    // before it, as done late: one reading closes one round of a kind.
    let early = [vitals(8, at(10, 25))];
    assert_eq!(
        status_at(&early, 15, now),
        CheckStatus::DoneLate {
            by: 8,
            late_min: 10
        }
    );
    assert_eq!(status_at(&early, 30, now), CheckStatus::Overdue);
    // With the earlier round done, it counts for the coming one.
    let early = [vitals(7, at(10, 16)), vitals(8, at(10, 25))];
    assert_eq!(status_at(&early, 30, now), CheckStatus::Done { by: 8 });

    // Too early for T+15: it counts for nothing, and by T+35 the T+15 check was missed.
    let too_early = [vitals(9, at_s(10, 9, 59))];
    assert_eq!(status_at(&too_early, 15, now), CheckStatus::Missed);
    let just_in = [vitals(9, at(10, 10))];
    assert_eq!(status_at(&just_in, 15, now), CheckStatus::Done { by: 9 });

    // Within the grace period it is on time; after it, done late with the minutes.
    let in_grace = [vitals(10, at_s(10, 17, 59))];
    assert_eq!(status_at(&in_grace, 15, now), CheckStatus::Done { by: 10 });
    let late = [vitals(10, at_s(10, 24, 59))];
    assert_eq!(
        status_at(&late, 15, now),
        CheckStatus::DoneLate {
            by: 10,
            late_min: 9
        }
    );
    assert_eq!(status_at(&late, 30, now), CheckStatus::Overdue);

    // One reading closes one round; a second one takes the next.
    let two = [vitals(11, at(10, 26)), vitals(12, at(10, 27))];
    assert_eq!(status_at(&two, 30, now), CheckStatus::Done { by: 12 });
    assert_eq!(
        status_at(&two, 15, now),
        CheckStatus::DoneLate {
            by: 11,
            late_min: 11
        }
    );
}

#[test]
fn an_early_reading_completes_an_upcoming_check_and_the_next_one_shows() {
    let list = checks(
        &defaults(),
        dose(),
        None,
        &[vitals(3, at(10, 12))],
        at(10, 13),
    );
    assert_eq!(
        summary(&list)[1..],
        [
            (Some(15), CheckKind::Vitals, CheckStatus::Done { by: 3 }),
            (Some(30), CheckKind::Vitals, CheckStatus::Upcoming),
        ]
    );
}

#[test]
fn a_bp_check_needs_a_bp() {
    let now = at(10, 41);
    let t30 = vitals(1, at(10, 31));
    let without = [t30, no_bp(2, at(10, 38))];
    assert_eq!(status_at(&without, 30, now), CheckStatus::Done { by: 1 });
    assert_eq!(status_at(&without, 40, now), CheckStatus::Due);
    // A full round in the T+40 window closes the overdue T+30 round late and is the T+40 BP:
    // one check of each kind.
    let full = [vitals(2, at(10, 38))];
    assert_eq!(
        status_at(&full, 30, now),
        CheckStatus::DoneLate { by: 2, late_min: 8 }
    );
    assert_eq!(status_at(&full, 40, now), CheckStatus::Done { by: 2 });
    let with_bp = [t30, bp(2, at(10, 38))];
    assert_eq!(status_at(&with_bp, 40, now), CheckStatus::Done { by: 2 });
    assert_eq!(status_at(&with_bp, 30, now), CheckStatus::Done { by: 1 });

    // A BP a minute after T+40 is the T+40 BP; four minutes after, it is the T+40 BP done
    // late and the T+45 round on time. A round without a BP goes to T+45 and leaves it open.
    let now = at(10, 50);
    let on_time_bp = [t30, bp(3, at(10, 41))];
    assert_eq!(status_at(&on_time_bp, 40, now), CheckStatus::Done { by: 3 });
    let late_bp = [t30, vitals(3, at(10, 44))];
    assert_eq!(
        status_at(&late_bp, 40, now),
        CheckStatus::DoneLate { by: 3, late_min: 4 }
    );
    assert_eq!(status_at(&late_bp, 45, now), CheckStatus::Done { by: 3 });
    let both = [t30, bp(3, at(10, 41)), vitals(4, at(10, 44))];
    assert_eq!(status_at(&both, 40, now), CheckStatus::Done { by: 3 });
    assert_eq!(status_at(&both, 45, now), CheckStatus::Done { by: 4 });
    let plain = [t30, no_bp(4, at(10, 42))];
    assert_eq!(status_at(&plain, 40, now), CheckStatus::Overdue);
    let list = checks(&defaults(), dose(), None, &plain, now);
    assert_eq!(at_t(&list, 45).status, CheckStatus::Overdue);
    assert_eq!(
        at_t(&list, 45).missing_text().as_deref(),
        Some("missing BP")
    );
}

#[test]
fn a_round_is_done_by_every_sign_it_asks_for() {
    let t45 = [
        vitals(1, at(10, 16)),
        vitals(2, at(10, 31)),
        vitals(3, at(10, 41)),
    ];
    let t45 = [&t45[..], &[vitals(4, at(10, 46))]].concat();
    // A lone SpO2 at T+60 is a round charted in part: due, saying what is missing.
    let spo2 = [&t45[..], &[reading(5, at(11, 0), &[Sign::Spo2])]].concat();
    let list = checks(&defaults(), dose(), None, &spo2, at(11, 1));
    let t60 = at_t(&list, 60);
    assert_eq!(t60.status, CheckStatus::Due);
    assert_eq!(t60.charted, Signs::of(&[Sign::Spo2]));
    assert_eq!(t60.missing_text().as_deref(), Some("missing BP and HR"));
    let s = super::summary(&list);
    assert_eq!(s.next.as_ref().and_then(|c| c.t_plus_min), Some(60));
    // BP and HR a minute later complete it: the round is done by the reading that did.
    let full = [&spo2[..], &[reading(6, at(11, 1), &[Sign::Bp, Sign::Hr])]].concat();
    let list = checks(&defaults(), dose(), None, &full, at(11, 2));
    assert_eq!(at_t(&list, 60).status, CheckStatus::Done { by: 6 });
    assert_eq!(at_t(&list, 60).missing(), None);
    // The session ended with the round in part: missed, and what it had is kept.
    let list = checks(&defaults(), dose(), Some(at(11, 2)), &spo2, at(11, 30));
    assert_eq!(at_t(&list, 60).status, CheckStatus::Missed);
    assert_eq!(
        at_t(&list, 60).missing_text().as_deref(),
        Some("missing BP and HR")
    );
}

#[test]
fn one_reading_closes_at_most_one_round_of_a_kind() {
    // Rounds to T+30 done; nothing for the T+40 BP or the T+45 round; then `bp 176/104
    // hr 92` at T+57.
    let before = [vitals(1, at(10, 16)), vitals(2, at(10, 31))];
    let list = checks(&defaults(), dose(), None, &before, at(10, 57));
    let s = super::summary(&list);
    let overdue: Vec<_> = s.overdue.iter().map(|c| c.t_plus_min).collect();
    assert_eq!(overdue, [Some(40), Some(45)]);
    let late = [
        &before[..],
        &[reading(3, at(10, 57), &[Sign::Bp, Sign::Hr])],
    ]
    .concat();
    let list = checks(&defaults(), dose(), None, &late, at(10, 57));
    assert_eq!(
        at_t(&list, 40).status,
        CheckStatus::DoneLate {
            by: 3,
            late_min: 17
        }
    );
    // It brought BP and HR to the overdue T+45 round, and nothing to T+60.
    let t45 = at_t(&list, 45);
    assert_eq!(t45.status, CheckStatus::Overdue);
    assert_eq!(t45.missing_text().as_deref(), Some("missing SpO2"));
    assert_eq!(at_t(&list, 60).status, CheckStatus::Upcoming);
    assert_eq!(at_t(&list, 60).charted, Signs::NONE);
    let s = super::summary(&list);
    assert_eq!(s.overdue.len(), 1);
    assert_eq!(s.next.and_then(|c| c.t_plus_min), Some(60));
    // A full set there would close T+45 late as well, still leaving T+60 to come.
    let full = [&before[..], &[vitals(3, at(10, 57))]].concat();
    let list = checks(&defaults(), dose(), None, &full, at(10, 57));
    assert!(matches!(
        at_t(&list, 45).status,
        CheckStatus::DoneLate { by: 3, .. }
    ));
    assert_eq!(at_t(&list, 60).status, CheckStatus::Upcoming);
}

#[test]
fn a_clinic_chooses_what_a_round_asks_for() {
    let mut cfg = defaults();
    cfg.vitals_round = Signs::of(&[Sign::Spo2]);
    let list = checks(
        &cfg,
        dose(),
        None,
        &[reading(1, at(10, 15), &[Sign::Spo2])],
        at(10, 16),
    );
    assert_eq!(at_t(&list, 15).status, CheckStatus::Done { by: 1 });
    use crate::config::Config;
    let c = Config::from_layers(Some((
        "mine.toml",
        "[protocol]\nvitals_round = [\"bp\", \"hr\", \"spo2\", \"rr\"]\n",
    )))
    .unwrap();
    assert!(c.protocol.vitals_round.contains(Sign::Rr));
    for (round, said) in [
        ("[]", "vitals_round"),
        ("[\"pulse\"]", "\"pulse\" is not a vital sign"),
    ] {
        let err = Config::from_layers(Some((
            "mine.toml",
            &format!("[protocol]\nvitals_round = {round}\n"),
        )))
        .unwrap_err()
        .to_string();
        assert!(err.contains("mine.toml") && err.contains(said), "{err}");
    }
}

#[test]
fn baseline_before_the_dose() {
    let now = at(9, 55);
    let none = checks(&defaults(), None, None, &[], now);
    assert_eq!(
        summary(&none),
        [(None, CheckKind::Baseline, CheckStatus::Due)]
    );
    assert_eq!(none[0].due, None);
    let hr_only = checks(&defaults(), None, None, &[no_bp(1, at(9, 50))], now);
    assert_eq!(hr_only[0].status, CheckStatus::Due);
    let with_bp = checks(
        &defaults(),
        None,
        None,
        &[bp(1, at(9, 45)), bp(2, at(9, 50)), no_bp(3, at(9, 52))],
        now,
    );
    assert_eq!(with_bp[0].status, CheckStatus::Done { by: 2 });
    assert_eq!(next_check(&with_bp), None);
    assert_eq!(with_bp[0].to_string(), "baseline vitals with BP");
}

#[test]
fn baseline_after_the_dose() {
    let now = at(10, 5);
    let before = checks(&defaults(), dose(), None, &[bp(1, at(9, 50))], now);
    assert_eq!(before[0].status, CheckStatus::Done { by: 1 });
    let same_minute = checks(&defaults(), dose(), None, &[bp(1, at(10, 0))], now);
    assert_eq!(same_minute[0].status, CheckStatus::Done { by: 1 });
    // Taken after the dose: the baseline was missed.
    let after = checks(&defaults(), dose(), None, &[bp(1, at(10, 2))], now);
    assert_eq!(after[0].kind, CheckKind::Baseline);
    assert_eq!(after[0].status, CheckStatus::Missed);
    assert_eq!(after[0].due, dose());
    // And it does not count for T+15 either (too early).
    assert_eq!(at_t(&after, 15).status, CheckStatus::Upcoming);
    // A pre-dose reading never counts for a timed check.
    let mut cfg = defaults();
    cfg.early_min = 30;
    let list = checks(&cfg, dose(), None, &[bp(1, at(9, 50))], at(10, 16));
    assert_eq!(at_t(&list, 15).status, CheckStatus::Due);
}

#[test]
fn no_baseline_when_the_clinic_turns_it_off() {
    let mut cfg = defaults();
    cfg.baseline = false;
    assert!(checks(&cfg, None, None, &[], at(9, 0)).is_empty());
    let list = checks(&cfg, dose(), None, &[], at(10, 1));
    assert_eq!(
        summary(&list),
        [(Some(15), CheckKind::Vitals, CheckStatus::Upcoming)]
    );
}

#[test]
fn an_ended_session_lists_checks_to_its_end_and_open_ones_are_missed() {
    // A BP alone at T+41: the T+40 BP, and a BP brought to the overdue T+30 round.
    let readings = [bp(1, at(9, 55)), vitals(2, at(10, 15)), bp(3, at(10, 41))];
    // Ended at 10:46, a minute after T+45 was due (still in its grace period).
    let list = checks(&defaults(), dose(), Some(at(10, 46)), &readings, at(11, 30));
    use CheckKind::*;
    use CheckStatus::*;
    assert_eq!(
        summary(&list),
        [
            (Some(0), Baseline, Done { by: 1 }),
            (Some(15), Vitals, Done { by: 2 }),
            (Some(30), Vitals, Missed),
            (Some(40), BloodPressure, Done { by: 3 }),
            (Some(45), Vitals, Missed),
        ]
    );
    assert_eq!(
        at_t(&list, 30).missing_text().as_deref(),
        Some("missing HR and SpO2")
    );
    assert_eq!(next_check(&list), None);
    let s = super::summary(&list);
    assert_eq!((s.missed, s.overdue.len(), s.next), (2, 0, None));
    // Read right after the end: counts for nothing.
    let after_end = [vitals(4, at(10, 47))];
    let list = checks(
        &defaults(),
        dose(),
        Some(at(10, 46)),
        &after_end,
        at(11, 30),
    );
    assert_eq!(at_t(&list, 45).status, Missed);
}

#[test]
fn an_ended_session_without_a_dose_lists_the_baseline_only_when_done() {
    let end = Some(at(10, 0));
    assert!(checks(&defaults(), None, end, &[], at(10, 5)).is_empty());
    let list = checks(&defaults(), None, end, &[bp(1, at(9, 50))], at(10, 5));
    assert_eq!(
        summary(&list),
        [(None, CheckKind::Baseline, CheckStatus::Done { by: 1 })]
    );
}

#[test]
fn struck_and_amended_vitals_do_not_count() {
    let v = |bp_: bool| {
        Payload::Vitals(VitalSigns {
            bp: bp_.then_some(BloodPressure {
                systolic: 120,
                diastolic: 80,
            }),
            hr: Some(70),
            spo2: bp_.then_some(98),
            ..Default::default()
        })
    };
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
        reason: corrects.map(|_| "typo".into()),
    };
    let lines = chart_lines(vec![
        entry(1, v(true), at(9, 50), None),
        entry(2, v(false), at(10, 16), None),
        entry(
            3,
            Payload::Strike,
            at(10, 16),
            Some((2, Correction::Strike)),
        ),
        entry(4, v(false), at(10, 31), None),
        entry(5, v(true), at(10, 31), Some((4, Correction::Amend))),
        entry(6, Payload::Strike, at(9, 50), Some((1, Correction::Strike))),
    ]);
    let readings = readings_from(&lines);
    assert_eq!(readings, [vitals(5, at(10, 31))]);
    let list = checks(&defaults(), dose(), None, &readings, at(10, 32));
    assert_eq!(list[0].status, CheckStatus::Missed);
    assert_eq!(at_t(&list, 15).status, CheckStatus::Missed);
    assert_eq!(at_t(&list, 30).status, CheckStatus::Done { by: 5 });
}

#[test]
fn a_clinic_can_take_bp_every_10_min_during_a_40_min_infusion() {
    let cfg: ProtocolConfig = toml::from_str(
        "baseline = true\n\
         phases = [{ every_min = 10, until_min = 40, bp = true }, { every_min = 15 }]\n\
         vitals_round = [\"bp\", \"hr\", \"spo2\"]\n\
         bp_at_min = [40]\n\
         minimum_observation_min = 120\n\
         overdue_after_min = 3\n\
         early_min = 5\n\
         clock_drugs = [\"ketamine\"]\n",
    )
    .unwrap();
    let list = checks(&cfg, dose(), None, &[], at(11, 12));
    let times: Vec<(Option<u32>, CheckKind)> = list
        .iter()
        .skip(1)
        .map(|c| (c.t_plus_min, c.kind))
        .collect();
    use CheckKind::*;
    assert_eq!(
        times,
        [
            (Some(10), BloodPressure),
            (Some(20), BloodPressure),
            (Some(30), BloodPressure),
            (Some(40), BloodPressure),
            (Some(55), Vitals),
            (Some(70), Vitals),
            (Some(85), Vitals),
        ]
    );
    assert_eq!(list.last().unwrap().status, CheckStatus::Upcoming);
    // The same with the BP minutes listed instead of bp = true.
    let mut listed = cfg.clone();
    listed.phases[0].bp = false;
    listed.bp_at_min = vec![30, 10, 40, 20];
    assert_eq!(checks(&listed, dose(), None, &[], at(11, 12)), list);
}

#[test]
fn a_finite_schedule_stops() {
    let mut cfg = defaults();
    cfg.phases = vec![Phase {
        every_min: 20,
        until_min: Some(40),
        bp: false,
    }];
    cfg.bp_at_min = vec![];
    // The last check stays open until the session ends; a reading 50 minutes after it
    // closes it, late. T+20 was missed when T+40 fell due.
    let list = checks(&cfg, dose(), None, &[vitals(1, at(11, 30))], at(12, 0));
    assert_eq!(
        summary(&list)[1..],
        [
            (Some(20), CheckKind::Vitals, CheckStatus::Missed),
            (
                Some(40),
                CheckKind::Vitals,
                CheckStatus::DoneLate {
                    by: 1,
                    late_min: 50
                }
            ),
        ]
    );
}

#[test]
fn next_check_is_overdue_then_due_then_upcoming() {
    let c = |t: u32, status| Check {
        kind: CheckKind::Vitals,
        due: Some(at(10, t)),
        t_plus_min: Some(t),
        status,
        needs: defaults().vitals_round,
        charted: Signs::NONE,
    };
    let list = [
        c(15, CheckStatus::Done { by: 1 }),
        c(30, CheckStatus::Upcoming),
        c(40, CheckStatus::Due),
        c(45, CheckStatus::Overdue),
        c(50, CheckStatus::Overdue),
    ];
    assert_eq!(next_check(&list).unwrap().t_plus_min, Some(45));
    assert_eq!(next_check(&list[..3]).unwrap().t_plus_min, Some(40));
    assert_eq!(next_check(&list[..2]).unwrap().t_plus_min, Some(30));
    assert_eq!(next_check(&list[..1]), None);
    assert_eq!(list[2].to_string(), "vitals T+40 (10:40)");
}

#[test]
fn minimum_observation_is_two_hours_after_the_first_dose() {
    assert_eq!(
        minimum_observation_until(&defaults(), dose()),
        Some(at(12, 0))
    );
    assert_eq!(minimum_observation_until(&defaults(), None), None);
}

#[test]
fn a_schedule_that_makes_no_sense_is_refused_with_its_reason() {
    let parse = |phases: &str, bp_at: &str| {
        toml::from_str::<ProtocolConfig>(&format!(
            "baseline = true\nphases = {phases}\nbp_at_min = {bp_at}\n\
             vitals_round = [\"bp\", \"hr\", \"spo2\"]\n\
             minimum_observation_min = 120\noverdue_after_min = 3\nearly_min = 5\n\
             clock_drugs = [\"ketamine\"]\n"
        ))
        .map_err(|e| e.to_string())
    };
    assert!(parse("[{ every_min = 15 }]", "[]").is_ok());
    let err = parse("[{ every_min = 0, until_min = 30 }]", "[]").unwrap_err();
    assert!(err.contains("every_min must be at least 1"), "{err}");
    let err = parse(
        "[{ every_min = 15, until_min = 60 }, { every_min = 10, until_min = 50 }]",
        "[]",
    )
    .unwrap_err();
    assert!(err.contains("until_min 50"), "{err}");
    let err = parse("[{ every_min = 15 }, { every_min = 30 }]", "[]").unwrap_err();
    assert!(err.contains("only the last phase"), "{err}");
    let err = parse("[{ every_min = 15 }]", "[0, 40]").unwrap_err();
    assert!(err.contains("baseline"), "{err}");
    let err = parse("[{ every_min = 15, evry = 3 }]", "[]").unwrap_err();
    assert!(err.contains("evry"), "{err}");
    let err = toml::from_str::<ProtocolConfig>("baseline = true\nbogus = 1\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("bogus"), "{err}");
}
