use super::*;
use crate::domain::stock::ledger::{Movement, MovementKind};
use crate::domain::stock::{Container, Presentation, Receipt};
use chrono::{FixedOffset, TimeZone};

/// A container `id` of `drug` and `lot` with `moves` after its receipt, one a minute; also
/// the other stock tests' container.
pub(crate) fn ledger(
    id: i64,
    drug: &str,
    lot: &str,
    p: Presentation,
    moves: &[(MovementKind, f64)],
) -> ContainerLedger {
    let at = FixedOffset::east_opt(0)
        .unwrap()
        .with_ymd_and_hms(2026, 12, 1, 9, 0, 0)
        .unwrap();
    let container = Container {
        id: ContainerId(id),
        receipt_id: 1,
        number: 1,
        receipt: Receipt {
            drug: drug.into(),
            presentation: p,
            containers: 1,
            lot: lot.into(),
            expires: "2027-06".into(),
            supplier: "S".into(),
            supplier_address: "A".into(),
            supplier_dea: "RS1234567".into(),
            invoice: None,
        },
        received: at,
    };
    let mut all = vec![(MovementKind::Received, p.content_mg())];
    all.extend(moves.iter().cloned());
    let movements = all
        .into_iter()
        .enumerate()
        .map(|(i, (kind, change_mg))| Movement {
            id: i as i64,
            container: ContainerId(id),
            kind,
            change_mg,
            at: at + chrono::Duration::minutes(i as i64),
            who: "Dr A".into(),
            witness: None,
            entry: None,
            stock: None,
            patient: None,
        })
        .collect();
    ContainerLedger::new(container, movements)
}

pub(crate) const VIAL: Presentation = Presentation::Vial {
    mg_per_ml: 50.0,
    ml: 10.0,
};
const DEVICE: Presentation = Presentation::Device { mg: 28.0 };

/// 9:00 on 1 December 2026, plus `minutes`: the ledgers above start with their receipt at 9:00.
fn nine_plus(minutes: i64) -> chrono::DateTime<FixedOffset> {
    FixedOffset::east_opt(0)
        .unwrap()
        .with_ymd_and_hms(2026, 12, 1, 9, 0, 0)
        .unwrap()
        + chrono::Duration::minutes(minutes)
}

/// An ask charted at noon, after every movement of the ledgers here.
fn ask<'a>(drug: &'a str, mg: f64, vial: Option<i64>) -> Ask<'a> {
    Ask {
        drug,
        mg,
        vial: vial.map(ContainerId),
        lot: None,
        devices: None,
        at: nine_plus(180),
    }
}

#[test]
fn a_named_container_is_drawn_when_it_holds_the_dose_and_refused_naming_its_balance_when_not() {
    let stock = vec![ledger(
        12,
        "ketamine",
        "L1",
        VIAL,
        &[
            (MovementKind::Opened, 0.0),
            (MovementKind::Administered, -470.0),
        ],
    )];
    assert_eq!(
        plan(&ask("ketamine", 30.0, Some(12)), &stock),
        Ok(vec![Draw {
            container: ContainerId(12),
            mg: 30.0
        }])
    );
    let e = plan(&ask("ketamine", 35.0, Some(12)), &stock).unwrap_err();
    assert_eq!(
        e.to_string(),
        "V12 holds 30 mg, less than the 35 mg asked: draw the rest from another container (a line each)"
    );
    assert_eq!(
        plan(&ask("ketamine", 1.0, Some(13)), &stock),
        Err(StockRefusal::NoSuchContainer {
            container: ContainerId(13)
        })
    );
    assert!(matches!(
        plan(&ask("midazolam", 1.0, Some(12)), &stock),
        Err(StockRefusal::WrongDrug { .. })
    ));
}

#[test]
fn without_a_name_the_one_open_container_is_drawn_and_several_are_asked_about() {
    let sealed = ledger(1, "ketamine", "L1", VIAL, &[]);
    let open = ledger(2, "ketamine", "L1", VIAL, &[(MovementKind::Opened, 0.0)]);
    let other = ledger(3, "ketamine", "L2", VIAL, &[(MovementKind::Opened, 0.0)]);
    assert_eq!(
        plan(&ask("ketamine", 35.0, None), std::slice::from_ref(&sealed)),
        Err(StockRefusal::NoneOpen {
            drug: "ketamine".into()
        })
    );
    assert_eq!(
        plan(
            &ask("ketamine", 35.0, None),
            &[sealed.clone(), open.clone()]
        ),
        Ok(vec![Draw {
            container: ContainerId(2),
            mg: 35.0
        }])
    );
    let both = [sealed, open, other];
    let e = plan(&ask("ketamine", 35.0, None), &both).unwrap_err();
    assert_eq!(
        e.to_string(),
        "2 ketamine containers are open (V2, V3): name the one drawn from, like vial V2"
    );
    let mut by_lot = ask("ketamine", 35.0, None);
    by_lot.lot = Some("L2");
    assert_eq!(
        plan(&by_lot, &both),
        Ok(vec![Draw {
            container: ContainerId(3),
            mg: 35.0
        }])
    );
    // A drug kapchart keeps no stock of is charted without a draw.
    assert_eq!(plan(&ask("ondansetron", 4.0, None), &both), Ok(vec![]));
}

#[test]
fn devices_are_drawn_whole_one_by_one_from_their_lot() {
    let stock = vec![
        ledger(5, "esketamine", "E1", DEVICE, &[]),
        ledger(6, "esketamine", "E1", DEVICE, &[]),
        ledger(
            7,
            "esketamine",
            "E1",
            DEVICE,
            &[(MovementKind::Administered, -28.0)],
        ),
        ledger(8, "esketamine", "E2", DEVICE, &[]),
    ];
    let mut a = ask("esketamine", 56.0, None);
    a.devices = Some(2);
    assert!(matches!(
        plan(&a, &stock),
        Err(StockRefusal::WhichLot { .. })
    ));
    a.lot = Some("E1");
    assert_eq!(
        plan(&a, &stock),
        Ok(vec![
            Draw {
                container: ContainerId(5),
                mg: 28.0
            },
            Draw {
                container: ContainerId(6),
                mg: 28.0
            }
        ])
    );
    a.devices = Some(3);
    a.mg = 84.0;
    assert_eq!(
        plan(&a, &stock).unwrap_err().to_string(),
        "the dose takes 3 esketamine devices of lot E1, and the stock holds 2 sealed"
    );
}

#[test]
fn a_draw_charted_before_its_container_came_in_is_refused_naming_when_it_was_received() {
    let stock = vec![ledger(1, "ketamine", "L1", VIAL, &[])];
    let mut early = ask("ketamine", 35.0, Some(1));
    early.at = nine_plus(-7);
    let e = plan(&early, &stock).unwrap_err();
    assert!(matches!(
        e,
        StockRefusal::HeldTooLittle { container: ContainerId(1), held_mg, .. } if held_mg == 0.0
    ));
    assert_eq!(
        e.to_string(),
        "V1 held nothing at 08:53: it was received at 09:00"
    );
    // The day before: both dates are named.
    early.at = nine_plus(-24 * 60);
    assert_eq!(
        plan(&early, &stock).unwrap_err().to_string(),
        "V1 held nothing at 2026-11-30 09:00: it was received at 2026-12-01 09:00"
    );
    // At its receipt's own minute, or after, it is drawn.
    early.at = nine_plus(0);
    assert!(plan(&early, &stock).is_ok());
}

#[test]
fn a_draw_charted_before_later_draws_may_not_take_what_they_took() {
    // 500 mg in at 9:00, 470 drawn at 9:01, a count finds 100 more at 9:02: it holds 130 mg,
    // but between 9:01 and 9:02 it held 30.
    let stock = vec![ledger(
        2,
        "ketamine",
        "L1",
        VIAL,
        &[
            (MovementKind::Administered, -470.0),
            (
                MovementKind::Counted {
                    reason: "found".into(),
                },
                100.0,
            ),
        ],
    )];
    let mut back = ask("ketamine", 35.0, Some(2));
    back.at = nine_plus(0);
    assert_eq!(
        plan(&back, &stock).unwrap_err().to_string(),
        "V2 held 500 mg at 09:00, but what was drawn from it after leaves 30 mg at 09:01, less than the 35 mg asked"
    );
    back.mg = 30.0;
    assert!(plan(&back, &stock).is_ok());
    // Now it holds 130 mg: 35 is drawn.
    assert!(plan(&ask("ketamine", 35.0, Some(2)), &stock).is_ok());
    // At 9:01, after the 470 mg: it held 30 mg then.
    back.mg = 35.0;
    back.at = nine_plus(1);
    assert_eq!(
        plan(&back, &stock).unwrap_err().to_string(),
        "V2 held 30 mg at 09:01, less than the 35 mg asked"
    );
}

#[test]
fn a_device_charted_before_it_came_in_is_refused() {
    let stock = vec![ledger(5, "esketamine", "E1", DEVICE, &[])];
    let mut a = ask("esketamine", 28.0, None);
    a.devices = Some(1);
    a.at = nine_plus(-60);
    assert_eq!(
        plan(&a, &stock).unwrap_err().to_string(),
        "V5 held nothing at 08:00: it was received at 09:00"
    );
    a.at = nine_plus(60);
    assert!(plan(&a, &stock).is_ok());
}
