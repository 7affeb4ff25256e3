//! A container's ledger: every movement in or out, in the order it happened, with the
//! running balance after each. The balance is the sum of the movements, here and nowhere
//! else; the store keeps the movements (`stock_movements`), never a balance.

use super::{Container, ContainerId, MG_EPSILON};
use crate::domain::EntryId;
use chrono::{DateTime, FixedOffset, NaiveDate};

/// What moved.
#[derive(Debug, Clone, PartialEq)]
pub enum MovementKind {
    /// The container arrived full (its content comes in).
    Received,
    /// Its seal was broken (nothing moves).
    Opened,
    /// Drawn for a dose given to a patient.
    Administered,
    /// Wasted, in the manner given.
    Wasted { manner: String },
    /// What was left kept at the end of a session, until its beyond-use date (nothing moves).
    Kept { beyond_use: NaiveDate },
    /// A count found a different amount than the ledger expected; the reason is given.
    Counted { reason: String },
    /// A dose or waste that took from it was corrected: what it took comes back (and an
    /// amended one takes its new amount in a movement of its own).
    GivenBack { reason: String },
}

impl MovementKind {
    pub fn label(&self) -> &'static str {
        match self {
            MovementKind::Received => "received",
            MovementKind::Opened => "opened",
            MovementKind::Administered => "administered",
            MovementKind::Wasted { .. } => "wasted",
            MovementKind::Kept { .. } => "kept",
            MovementKind::Counted { .. } => "count adjusted",
            MovementKind::GivenBack { .. } => "given back",
        }
    }
}

/// One movement of one container.
#[derive(Debug, Clone, PartialEq)]
pub struct Movement {
    pub id: i64,
    pub container: ContainerId,
    pub kind: MovementKind,
    /// In (+) or out (-), in mg.
    pub change_mg: f64,
    pub at: DateTime<FixedOffset>,
    /// Who moved it (who administered, wasted, received, counted).
    pub who: String,
    /// The second clinician who witnessed a dose or waste, once they have.
    pub witness: Option<String>,
    /// The dose, waste or correction entry behind it.
    pub entry: Option<EntryId>,
    /// The stock record behind it (receipt, open, keep, count).
    pub stock: Option<i64>,
    /// The patient a dose was given to (and their address when recorded), for an
    /// administration.
    pub patient: Option<String>,
}

/// A movement with the balance after it.
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerLine {
    pub movement: Movement,
    pub balance_mg: f64,
}

/// Where a container stands.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ContainerState {
    /// Sealed, in the safe.
    Sealed,
    /// Opened and not empty.
    Open,
    /// Opened, its rest kept after a session until `beyond_use`.
    Kept { beyond_use: NaiveDate },
    /// Nothing left.
    Empty,
}

impl ContainerState {
    pub fn label(self) -> &'static str {
        match self {
            ContainerState::Sealed => "sealed",
            ContainerState::Open => "open",
            ContainerState::Kept { .. } => "kept",
            ContainerState::Empty => "empty",
        }
    }

    /// Whether a dose may draw from it without opening it first.
    pub fn in_use(self) -> bool {
        matches!(self, ContainerState::Open | ContainerState::Kept { .. })
    }
}

/// What a container held at a time, and the lowest it falls to after (see
/// [`ContainerLedger::standing_at`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Standing {
    pub held_mg: f64,
    pub lowest_after: Option<(DateTime<FixedOffset>, f64)>,
}

impl Standing {
    /// The most a movement placed at that time may take.
    pub fn available_mg(&self) -> f64 {
        self.lowest_after
            .map_or(self.held_mg, |(_, low)| low.min(self.held_mg))
    }
}

/// One container and its ledger.
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerLedger {
    pub container: Container,
    pub lines: Vec<LedgerLine>,
}

impl ContainerLedger {
    /// The ledger of `container` from its movements, in the order they happened (event
    /// time, then the order they were written).
    pub fn new(container: Container, mut movements: Vec<Movement>) -> ContainerLedger {
        movements.sort_by(|a, b| a.at.cmp(&b.at).then(a.id.cmp(&b.id)));
        let mut balance = 0.0;
        let lines = movements
            .into_iter()
            .map(|m| {
                balance = round_mg(balance + m.change_mg);
                LedgerLine {
                    movement: m,
                    balance_mg: balance,
                }
            })
            .collect();
        ContainerLedger { container, lines }
    }

    /// What the container holds now: the sum of its movements.
    pub fn balance_mg(&self) -> f64 {
        self.lines.last().map_or(0.0, |l| l.balance_mg)
    }

    /// The volume left, for a vial.
    pub fn balance_ml(&self) -> Option<f64> {
        self.container
            .receipt
            .presentation
            .ml_of(self.balance_mg())
            .map(round_mg)
    }

    pub fn state(&self) -> ContainerState {
        if self.balance_mg() <= MG_EPSILON {
            return ContainerState::Empty;
        }
        let mut state = ContainerState::Sealed;
        for l in &self.lines {
            match &l.movement.kind {
                MovementKind::Opened | MovementKind::Administered | MovementKind::Wasted { .. } => {
                    state = ContainerState::Open
                }
                MovementKind::Kept { beyond_use } => {
                    state = ContainerState::Kept {
                        beyond_use: *beyond_use,
                    }
                }
                _ => {}
            }
        }
        state
    }

    /// Where the container stands for a movement placed at `at`, after every movement at
    /// or before that time (where a new row sorts): what it held then, and the lowest its
    /// running balance falls to after, with when. A draw placed there lowers every later
    /// line by what it takes, so it may take no more than the least of these.
    pub fn standing_at(&self, at: DateTime<FixedOffset>) -> Standing {
        let split = self.lines.partition_point(|l| l.movement.at <= at);
        let held_mg = split
            .checked_sub(1)
            .map_or(0.0, |i| self.lines[i].balance_mg);
        let lowest_after = self.lines[split..]
            .iter()
            .min_by(|a, b| a.balance_mg.total_cmp(&b.balance_mg))
            .map(|l| (l.movement.at, l.balance_mg));
        Standing {
            held_mg,
            lowest_after,
        }
    }

    /// The line where the running balance is lowest (the first of equals).
    pub fn lowest(&self) -> Option<&LedgerLine> {
        self.lines
            .iter()
            .min_by(|a, b| a.balance_mg.total_cmp(&b.balance_mg))
    }

    /// Whether the movements sum to the balance shown on every line (they do by
    /// construction; the property tests hold the store's rows to it).
    pub fn balances(&self) -> bool {
        let mut sum = 0.0;
        self.lines.iter().all(|l| {
            sum = round_mg(sum + l.movement.change_mg);
            (sum - l.balance_mg).abs() <= MG_EPSILON
        })
    }
}

/// Rounded to the thousandth of a mg that amounts are typed with, so that sums of decimals
/// do not drift.
pub fn round_mg(mg: f64) -> f64 {
    (mg * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::stock::{Presentation, Receipt};
    use chrono::TimeZone;

    fn container() -> Container {
        let at = FixedOffset::east_opt(0)
            .unwrap()
            .with_ymd_and_hms(2026, 12, 1, 9, 0, 0)
            .unwrap();
        Container {
            id: ContainerId(1),
            receipt_id: 1,
            number: 1,
            receipt: Receipt {
                drug: "ketamine".into(),
                presentation: Presentation::Vial {
                    mg_per_ml: 50.0,
                    ml: 10.0,
                },
                containers: 1,
                lot: "L1".into(),
                expires: "2027-06".into(),
                supplier: "S".into(),
                supplier_address: "A".into(),
                supplier_dea: "RS1234567".into(),
                invoice: None,
            },
            received: at,
        }
    }

    fn movement(id: i64, minute: u32, kind: MovementKind, change_mg: f64) -> Movement {
        Movement {
            id,
            container: ContainerId(1),
            kind,
            change_mg,
            at: FixedOffset::east_opt(0)
                .unwrap()
                .with_ymd_and_hms(2026, 12, 1, 10, minute, 0)
                .unwrap(),
            who: "Dr A".into(),
            witness: None,
            entry: None,
            stock: None,
            patient: None,
        }
    }

    #[test]
    fn the_balance_is_the_running_sum_in_event_order() {
        let l = ContainerLedger::new(
            container(),
            vec![
                movement(4, 30, MovementKind::Administered, -35.0),
                movement(1, 0, MovementKind::Received, 500.0),
                movement(2, 10, MovementKind::Opened, 0.0),
                movement(3, 20, MovementKind::Administered, -0.1),
                movement(
                    5,
                    40,
                    MovementKind::Wasted {
                        manner: "pouch".into(),
                    },
                    -0.2,
                ),
            ],
        );
        let balances: Vec<f64> = l.lines.iter().map(|x| x.balance_mg).collect();
        assert_eq!(balances, vec![500.0, 500.0, 499.9, 464.9, 464.7]);
        assert_eq!(l.balance_mg(), 464.7);
        assert_eq!(l.balance_ml(), Some(9.294));
        assert_eq!(l.state(), ContainerState::Open);
        assert!(l.balances());
    }

    #[test]
    fn what_a_container_held_at_a_time_is_its_running_balance_then_and_the_least_after() {
        let l = ContainerLedger::new(
            container(),
            vec![
                movement(1, 10, MovementKind::Received, 100.0),
                movement(2, 20, MovementKind::Administered, -100.0),
                movement(
                    3,
                    30,
                    MovementKind::Counted {
                        reason: "found".into(),
                    },
                    50.0,
                ),
            ],
        );
        let at = |minute| {
            FixedOffset::east_opt(0)
                .unwrap()
                .with_ymd_and_hms(2026, 12, 1, 10, minute, 0)
                .unwrap()
        };
        // Before the receipt: nothing, and the least after is the emptied vial.
        let before = l.standing_at(at(5));
        assert_eq!(before.held_mg, 0.0);
        assert_eq!(before.lowest_after, Some((at(20), 0.0)));
        assert_eq!(before.available_mg(), 0.0);
        // At the receipt's own minute a new row sorts after it.
        let received = l.standing_at(at(10));
        assert_eq!(received.held_mg, 100.0);
        assert_eq!(received.available_mg(), 0.0);
        // After the count: what it holds now.
        let now = l.standing_at(at(40));
        assert_eq!(
            now,
            Standing {
                held_mg: 50.0,
                lowest_after: None
            }
        );
        assert_eq!(now.available_mg(), 50.0);
        assert_eq!(l.lowest().map(|x| x.movement.id), Some(2));
    }

    #[test]
    fn a_container_is_sealed_until_opened_or_drawn_and_empty_at_zero() {
        let sealed = ContainerLedger::new(
            container(),
            vec![movement(1, 0, MovementKind::Received, 500.0)],
        );
        assert_eq!(sealed.state(), ContainerState::Sealed);
        let empty = ContainerLedger::new(
            container(),
            vec![
                movement(1, 0, MovementKind::Received, 500.0),
                movement(2, 1, MovementKind::Administered, -499.9996),
            ],
        );
        assert_eq!(empty.state(), ContainerState::Empty);
        let kept = ContainerLedger::new(
            container(),
            vec![
                movement(1, 0, MovementKind::Received, 500.0),
                movement(2, 1, MovementKind::Administered, -35.0),
                movement(
                    3,
                    2,
                    MovementKind::Kept {
                        beyond_use: NaiveDate::from_ymd_opt(2026, 12, 29).unwrap(),
                    },
                    0.0,
                ),
            ],
        );
        assert!(matches!(kept.state(), ContainerState::Kept { .. }));
        assert!(kept.state().in_use());
        assert!(!sealed.state().in_use());
    }
}
