use super::*;
use crate::domain::chart::SessionChart;
use crate::domain::stock::Draw;
use crate::domain::stock::draws::tests::VIAL;
use crate::domain::stock::ledger::MovementKind;
use crate::domain::{Dose, DoseUnit, Entry, Route};
use crate::domain::{Session, SessionKind};
use chrono::{DateTime, FixedOffset, TimeZone};

fn at(m: u32) -> DateTime<FixedOffset> {
    FixedOffset::east_opt(0)
        .unwrap()
        .with_ymd_and_hms(2026, 12, 1, 10, m, 0)
        .unwrap()
}

/// A 50 mg/mL, 10 mL ketamine vial `id` with `moves` after its receipt.
fn vial(id: i64, moves: &[(MovementKind, f64)]) -> ContainerLedger {
    crate::domain::stock::draws::tests::ledger(id, "ketamine", "L1", VIAL, moves)
}

fn dose(id: i64, minute: u32, drug: &str, mg: f64, from: Option<i64>) -> Entry {
    Entry {
        id,
        session_id: 1,
        payload: Payload::Dose(Dose {
            drug: drug.into(),
            amount: mg,
            unit: DoseUnit::Mg,
            route: Route::IM,
            over_min: None,
            total_mg: mg,
            weight_kg: None,
            devices: None,
            lot: None,
            vial: from.map(ContainerId),
            drawn: from
                .map(|c| {
                    vec![Draw {
                        container: ContainerId(c),
                        mg,
                    }]
                })
                .unwrap_or_default(),
        }),
        event_time: at(minute),
        recorded_time: at(minute),
        author: "Dr A".into(),
        flags: Vec::new(),
        corrects: None,
        correction: None,
        reason: None,
    }
}

fn chart(entries: Vec<Entry>) -> SessionChart {
    let session = Session {
        id: 1,
        patient_id: 1,
        kind: SessionKind::Dosing,
        started: at(0),
        ended: None,
        clinician: "Dr A".into(),
        intention: None,
        dosing_session_id: None,
    };
    SessionChart::new(
        session,
        entries,
        crate::config::Config::default().session_rules(),
    )
}

#[test]
fn the_container_of_the_newest_draw_is_at_hand_and_flagged_when_it_holds_less_than_that_dose() {
    let v1 = vial(
        1,
        &[
            (MovementKind::Opened, 0.0),
            (MovementKind::Administered, -35.0),
        ],
    );
    let v2 = vial(
        2,
        &[
            (MovementKind::Opened, 0.0),
            (MovementKind::Administered, -440.0),
            (MovementKind::Administered, -35.0),
        ],
    );
    let c = chart(vec![
        dose(1, 10, "ketamine", 35.0, Some(1)),
        dose(2, 30, "ketamine", 35.0, Some(2)),
    ]);
    let a = at_hand(&c, &[v1.clone(), v2.clone()]).unwrap();
    assert_eq!(a.container, ContainerId(2));
    assert_eq!(a.balance_mg, 25.0);
    assert_eq!(a.balance_ml, Some(0.5));
    assert_eq!(
        a.short_of,
        Some(35.0),
        "25 mg left cannot give the 35 mg dose again"
    );

    // Exactly the dose left: not short.
    let v2 = vial(
        2,
        &[
            (MovementKind::Opened, 0.0),
            (MovementKind::Administered, -430.0),
            (MovementKind::Administered, -35.0),
        ],
    );
    assert_eq!(at_hand(&c, &[v1.clone(), v2]).unwrap().short_of, None);
    // Empty: said by its balance, not flagged as short.
    let v2 = vial(
        2,
        &[
            (MovementKind::Opened, 0.0),
            (MovementKind::Administered, -465.0),
            (MovementKind::Administered, -35.0),
        ],
    );
    let a = at_hand(&c, &[v1, v2]).unwrap();
    assert_eq!((a.balance_mg, a.short_of), (0.0, None));
}

#[test]
fn before_any_draw_the_one_open_container_is_at_hand_and_none_when_several_are_open() {
    let c = chart(vec![dose(1, 10, "ondansetron", 4.0, None)]);
    let open = vial(1, &[(MovementKind::Opened, 0.0)]);
    let sealed = vial(2, &[]);
    let a = at_hand(&c, &[open.clone(), sealed.clone()]).unwrap();
    assert_eq!(
        (a.container, a.state, a.balance_mg, a.short_of),
        (ContainerId(1), ContainerState::Open, 500.0, None)
    );
    let also_open = vial(3, &[(MovementKind::Opened, 0.0)]);
    assert_eq!(at_hand(&c, &[open, sealed.clone(), also_open]), None);
    assert_eq!(
        at_hand(&c, &[sealed]),
        None,
        "a sealed container is not at hand"
    );
}

#[test]
fn the_next_dose_is_the_newest_dose_of_the_containers_drug_not_another_drugs() {
    let v1 = vial(
        1,
        &[
            (MovementKind::Opened, 0.0),
            (MovementKind::Administered, -480.0),
        ],
    );
    // 20 mg left; the newest dose is ondansetron 4 mg, but the ketamine dose was 20 mg.
    let c = chart(vec![
        dose(1, 10, "ketamine", 20.0, Some(1)),
        dose(2, 20, "ondansetron", 4.0, None),
    ]);
    assert_eq!(
        at_hand(&c, std::slice::from_ref(&v1)).unwrap().short_of,
        None
    );
    let c = chart(vec![dose(1, 10, "Ketamine", 30.0, Some(1))]);
    assert_eq!(at_hand(&c, &[v1]).unwrap().short_of, Some(30.0));
}
