//! Tests of chart.rs: each rule the session chart derives, once.

use super::*;
use crate::domain::entry::{Acknowledgement, BloodPressure, Dose, DoseUnit, Route, VitalSigns};
use crate::domain::grammar::ParsedLine;
use crate::domain::protocol::CheckKind;
use crate::domain::thresholds::FlagCode;
use chrono::TimeZone;

fn at(h: u32, m: u32) -> DateTime<FixedOffset> {
    FixedOffset::east_opt(3600)
        .unwrap()
        .with_ymd_and_hms(2026, 11, 26, h, m, 0)
        .unwrap()
}

fn rules() -> SessionRules {
    crate::config::Config::default().session_rules()
}

fn session(kind: SessionKind) -> Session {
    Session {
        id: 1,
        patient_id: 1,
        kind,
        started: at(5, 30),
        ended: None,
        clinician: "Dr Test".into(),
        intention: None,
        dosing_session_id: None,
    }
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

fn dose(drug: &str, mg: f64, route: Route) -> Payload {
    Payload::Dose(Dose {
        drug: drug.into(),
        amount: mg,
        unit: DoseUnit::Mg,
        route,
        over_min: None,
        total_mg: mg,
        weight_kg: None,
        devices: None,
        lot: None,
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
        hr: Some(80),
        spo2: Some(97),
        ..Default::default()
    })
}

fn dosing(entries: Vec<Entry>) -> SessionChart {
    SessionChart::new(session(SessionKind::Dosing), entries, rules())
}

fn line(when: DateTime<FixedOffset>, entries: Vec<Payload>) -> ParsedLine {
    ParsedLine {
        event_time: when,
        time_given: true,
        entries,
        witness: None,
    }
}

fn codes(planned: &[PlannedEntry]) -> Vec<Vec<FlagCode>> {
    planned
        .iter()
        .map(|p| p.flags.iter().map(|f| f.code).collect())
        .collect()
}

#[test]
fn the_clock_starts_at_the_first_ketamine_dose_not_the_antiemetic() {
    // Ondansetron at 05:15, ketamine at 05:45, now 06:00.
    let chart = dosing(vec![
        entry(1, at(5, 15), dose("ondansetron", 4.0, Route::PO)),
        entry(2, at(5, 45), dose("ketamine", 50.0, Route::IM)),
    ]);
    assert_eq!(chart.first_dose(), Some(at(5, 45)));
    assert_eq!(chart.t_plus_min(at(6, 0)), Some(15));
    assert_eq!(chart.observe_until(), Some(at(7, 45)));
    // A BP between the antiemetic and ketamine is still pre-dose: the caution applies.
    assert!(chart.is_predose(at(5, 30)));
    let planned = chart.plan_line(&line(at(5, 30), vec![bp(150, 95)]), at(5, 31));
    assert_eq!(codes(&planned), [[FlagCode::BpPredose]]);
    // The T+40 BP check falls 40 minutes after ketamine, not after ondansetron.
    let checks = chart.checks(at(6, 30));
    let bp40 = checks
        .iter()
        .find(|c| c.kind == CheckKind::BloodPressure)
        .expect("a T+40 BP check");
    assert_eq!(bp40.due, Some(at(6, 25)));
}

#[test]
fn a_co_medication_alone_does_not_start_the_clock() {
    let chart = dosing(vec![entry(
        1,
        at(5, 15),
        dose("ondansetron", 4.0, Route::PO),
    )]);
    assert_eq!(chart.first_dose(), None);
    assert!(chart.is_predose(at(6, 0)));
    // On one line, vitals after an antiemetic stay pre-dose; after ketamine they do not.
    let planned = chart.plan_line(
        &line(
            at(6, 0),
            vec![
                dose("ondansetron", 4.0, Route::PO),
                bp(150, 95),
                dose("ketamine", 50.0, Route::IM),
                bp(150, 95),
            ],
        ),
        at(6, 0),
    );
    assert_eq!(
        codes(&planned),
        [vec![], vec![FlagCode::BpPredose], vec![], vec![]]
    );
}

#[test]
fn which_drugs_start_the_clock_is_configuration() {
    let mut r = rules();
    r.protocol.clock_drugs = vec!["midazolam".into()];
    let chart = SessionChart::new(
        session(SessionKind::Dosing),
        vec![
            entry(1, at(5, 15), dose("ketamine", 50.0, Route::IM)),
            entry(2, at(5, 30), dose("Midazolam", 2.0, Route::IV)),
        ],
        r,
    );
    assert_eq!(chart.first_dose(), Some(at(5, 30)));
}

#[test]
fn a_late_bp_closes_the_t40_check_and_the_next_check_shows() {
    // Dose at 06:01; a BP at T+46 (06:47).
    let chart = dosing(vec![
        entry(1, at(5, 55), bp(128, 82)),
        entry(2, at(6, 1), dose("ketamine", 50.0, Route::IM)),
        entry(3, at(6, 16), bp(130, 84)),
        entry(4, at(6, 31), bp(132, 84)),
        entry(5, at(6, 47), bp(138, 88)),
    ]);
    let checks = chart.checks(at(6, 50));
    let t = |m: u32| {
        checks
            .iter()
            .find(|c| c.t_plus_min == Some(m) && c.kind != CheckKind::Baseline)
            .unwrap_or_else(|| panic!("no T+{m} in {checks:#?}"))
            .status
    };
    assert_eq!(t(40), CheckStatus::DoneLate { by: 5, late_min: 6 });
    assert_eq!(t(45), CheckStatus::Done { by: 5 });
    let summary = protocol::summary(&checks);
    assert!(summary.overdue.is_empty(), "{summary:#?}");
    assert_eq!(summary.late, 1);
    let next = summary.next.expect("a next check");
    assert_eq!(next.t_plus_min, Some(60));
    assert_eq!(next.status, CheckStatus::Upcoming);
}

#[test]
fn an_overdue_check_is_missed_once_the_next_of_its_kind_is_due() {
    let chart = dosing(vec![
        entry(1, at(5, 55), bp(128, 82)),
        entry(2, at(6, 0), dose("ketamine", 50.0, Route::IM)),
    ]);
    // T+15 has no reading: overdue at T+18, still overdue at T+29, missed at T+30.
    let status = |now| {
        chart
            .checks(now)
            .into_iter()
            .find(|c| c.t_plus_min == Some(15))
            .unwrap()
            .status
    };
    assert_eq!(status(at(6, 18)), CheckStatus::Overdue);
    assert_eq!(status(at(6, 29)), CheckStatus::Overdue);
    assert_eq!(status(at(6, 30)), CheckStatus::Missed);
    // While T+15 is overdue, the header still shows the T+30 check coming.
    let summary = protocol::summary(&chart.checks(at(6, 20)));
    assert_eq!(summary.overdue.len(), 1);
    assert_eq!(summary.next.unwrap().t_plus_min, Some(30));
    // A reading at T+35 cannot close T+15 any more: it is the T+30 check, late.
    let chart = dosing(vec![
        entry(1, at(5, 55), bp(128, 82)),
        entry(2, at(6, 0), dose("ketamine", 50.0, Route::IM)),
        entry(3, at(6, 35), bp(130, 80)),
    ]);
    let checks = chart.checks(at(6, 36));
    let find = |m: u32| {
        checks
            .iter()
            .find(|c| c.t_plus_min == Some(m))
            .unwrap()
            .status
    };
    assert_eq!(find(15), CheckStatus::Missed);
    assert_eq!(find(30), CheckStatus::DoneLate { by: 3, late_min: 5 });
}

#[test]
fn every_alert_waits_for_acknowledgement_until_one_is_charted() {
    let mut high = entry(3, at(6, 20), bp(172, 104));
    high.flags = rules().alerts.flags_for(&high.payload, false);
    let chart = dosing(vec![
        entry(1, at(6, 0), dose("ketamine", 50.0, Route::IM)),
        high.clone(),
    ]);
    let open = chart.open_alerts();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].line.entry.id, 3);
    assert_eq!(chart.open_alert_of(3).unwrap().flag.code, FlagCode::BpHigh);
    assert!(chart.open_alert_of(1).is_none());
    let acked = dosing(vec![
        entry(1, at(6, 0), dose("ketamine", 50.0, Route::IM)),
        high,
        entry(
            4,
            at(6, 22),
            Payload::Acknowledgement(Acknowledgement {
                entry: 3,
                flag: FlagCode::BpHigh,
                note: "rechecked, prescriber informed".into(),
            }),
        ),
    ]);
    assert!(acked.open_alerts().is_empty());
}

#[test]
fn ending_lists_open_alerts_and_checks_without_a_reading() {
    let mut high = entry(3, at(6, 20), bp(172, 104));
    high.flags = rules().alerts.flags_for(&high.payload, false);
    let chart = dosing(vec![
        entry(1, at(5, 55), bp(128, 82)),
        entry(2, at(6, 0), dose("ketamine", 50.0, Route::IM)),
        high,
    ]);
    let concerns = chart.end_concerns(&chart.discharge_state(), at(6, 50));
    let words: Vec<String> = concerns.iter().map(ToString::to_string).collect();
    let has = |s: &str| words.iter().any(|w| w.contains(s));
    assert!(has("minimum observation"), "{words:#?}");
    assert!(has("no ride home"), "{words:#?}");
    assert!(has("alert not acknowledged"), "{words:#?}");
    assert!(has("BP T+40"), "{words:#?}");
    assert!(has("vitals T+45"), "{words:#?}");
    // Other kinds of session have no discharge and no protocol checks.
    let intake = SessionChart::new(session(SessionKind::Intake), Vec::new(), rules());
    assert!(
        intake
            .end_concerns(&intake.discharge_state(), at(6, 50))
            .is_empty()
    );
}

#[test]
fn an_amendment_keeps_the_original_time_and_one_entry() {
    let chart = dosing(vec![
        entry(1, at(5, 55), bp(128, 82)),
        entry(2, at(6, 0), dose("ketamine", 50.0, Route::IM)),
    ]);
    let original = chart.lines()[0].entry.clone();
    let mut replacement = line(at(6, 10), vec![bp(150, 95)]);
    replacement.time_given = false;
    let planned = chart.plan_amendment(&original, &replacement).unwrap();
    assert_eq!(planned.event_time, at(5, 55));
    assert_eq!(
        planned.flags.iter().map(|f| f.code).collect::<Vec<_>>(),
        [FlagCode::BpPredose]
    );
    let two = line(at(6, 10), vec![bp(150, 95), bp(150, 95)]);
    assert_eq!(
        chart.plan_amendment(&original, &two),
        Err(AmendRefusal::NotOneEntry { entries: 2 })
    );
}

#[test]
fn a_session_takes_place_from_its_first_entry_to_its_end() {
    // Opened at 05:30; a reading charted back to 04:40, struck, and one to 05:00 that stands.
    let mut struck = entry(3, at(5, 31), Payload::Strike);
    struck.corrects = Some(1);
    struck.correction = Some(crate::domain::Correction::Strike);
    let mut s = session(SessionKind::Dosing);
    s.ended = Some(at(7, 40));
    let chart = SessionChart::new(
        s.clone(),
        vec![
            entry(1, at(4, 40), bp(128, 82)),
            entry(2, at(5, 0), bp(130, 84)),
            struck,
        ],
        rules(),
    );
    let p = chart.period();
    assert_eq!((p.start, p.end), (at(5, 0), Some(at(7, 40))));
    assert_eq!(p.minutes(), Some(160));
    // Nothing before it was opened: from its opening.
    let chart = SessionChart::new(s, vec![entry(2, at(6, 0), bp(130, 84))], rules());
    assert_eq!(chart.period().start, at(5, 30));
}

#[test]
fn the_alert_in_view_is_the_caution_else_the_newest_open_alert() {
    let flagged = |id, when, p: Payload, predose| {
        let mut e = entry(id, when, p);
        e.flags = rules().alerts.flags_for(&e.payload, predose);
        e
    };
    let caution = flagged(1, at(5, 50), bp(150, 95), true);
    let dose = entry(2, at(6, 0), dose("ketamine", 50.0, Route::IM));
    let high = flagged(3, at(6, 20), bp(172, 108), false);
    let deep = flagged(
        4,
        at(6, 31),
        Payload::Sedation(crate::domain::Sedation { moaas: 2 }),
        false,
    );
    let chart = dosing(vec![caution, dose.clone(), high.clone(), deep.clone()]);
    let v = chart.alert_in_view().unwrap();
    assert_eq!((v.alert.flag.code, v.others), (FlagCode::BpPredose, 2));
    // With the caution acknowledged, the newest alert nobody acknowledged stands.
    let ack = |id, of, flag| {
        entry(
            id,
            at(6, 40),
            Payload::Acknowledgement(Acknowledgement {
                entry: of,
                flag,
                note: "seen".into(),
            }),
        )
    };
    let mut all = chart
        .lines()
        .iter()
        .map(|l| l.entry.clone())
        .collect::<Vec<_>>();
    all.push(ack(5, 1, FlagCode::BpPredose));
    let chart = dosing(all.clone());
    let v = chart.alert_in_view().unwrap();
    assert_eq!((v.alert.line.entry.id, v.others), (4, 1));
    assert_eq!(chart.acknowledged_by(1), Some(5));
    assert!(chart.is_acknowledged(1));
    assert!(!chart.is_acknowledged(3), "the 172/108 waits for its own");
    all.push(ack(6, 4, FlagCode::DeepSedation));
    all.push(ack(7, 3, FlagCode::BpHigh));
    assert!(dosing(all).alert_in_view().is_none());
}

#[test]
fn an_acknowledgement_fits_its_alert_takes_its_own_time_and_says_what_it_acknowledges() {
    let mut high = entry(3, at(6, 20), bp(172, 108));
    high.flags = rules().alerts.flags_for(&high.payload, false);
    let entries = vec![
        entry(1, at(5, 55), bp(128, 82)),
        entry(2, at(6, 0), dose("ketamine", 50.0, Route::IM)),
        high.clone(),
    ];
    let chart = dosing(entries.clone());
    // Empty: the words that fit a post-dose alert, not the pre-dose caution's.
    let planned = chart
        .plan_acknowledgement(3, None, " ", at(6, 25), at(6, 26))
        .unwrap();
    let Payload::Acknowledgement(a) = &planned.payload else {
        panic!("{planned:?}")
    };
    assert_eq!(a.note, "alert seen and weighed");
    assert_eq!(a.flag, FlagCode::BpHigh);
    assert_eq!(planned.event_time, at(6, 25));
    assert!(planned.flags.is_empty());
    // Its own time, written long after: marked late.
    let late = chart
        .plan_acknowledgement(3, None, "rechecked 150/92", at(6, 22), at(6, 50))
        .unwrap();
    assert_eq!(late.flags[0].code, FlagCode::Late);
    // Not before the alert, and not of an entry with nothing open.
    assert_eq!(
        chart.plan_acknowledgement(3, None, "x", at(6, 19), at(6, 30)),
        Err(AckRefusal::BeforeTheAlert {
            entry: 3,
            alert_at: at(6, 20)
        })
    );
    assert_eq!(
        chart.plan_acknowledgement(1, None, "x", at(6, 30), at(6, 30)),
        Err(AckRefusal::NothingOpen { entry: 1 })
    );
    // Written, it says what it acknowledges; the chart read for writing plans the same.
    let mut written = entry(4, at(6, 25), planned.payload.clone());
    written.flags = planned.flags.clone();
    let partial = SessionChart::for_acknowledging(
        session(SessionKind::Dosing),
        high.clone(),
        vec![],
        rules(),
    );
    assert_eq!(
        partial.plan_acknowledgement(3, None, " ", at(6, 25), at(6, 26)),
        Ok(planned)
    );
    let mut all = entries;
    all.push(written.clone());
    let chart = dosing(all);
    assert_eq!(
        chart.summary(&written),
        "Acknowledged #3 [BP 172/108 high (alert at >= 160/100)]: alert seen and weighed"
    );
    assert_eq!(
        chart.plan_acknowledgement(3, None, "again", at(6, 30), at(6, 30)),
        Err(AckRefusal::NothingOpen { entry: 3 })
    );
    let acked =
        SessionChart::for_acknowledging(session(SessionKind::Dosing), high, vec![written], rules());
    assert!(
        acked
            .plan_acknowledgement(3, None, "again", at(6, 30), at(6, 30))
            .is_err()
    );
    // The pre-dose caution keeps its own words.
    let mut caution = entry(1, at(5, 50), bp(150, 95));
    caution.flags = rules().alerts.flags_for(&caution.payload, true);
    let planned = dosing(vec![caution])
        .plan_acknowledgement(1, None, "", at(5, 52), at(5, 52))
        .unwrap();
    assert!(matches!(&planned.payload,
        Payload::Acknowledgement(a) if a.note == "caution weighed; proceeding"));
}
