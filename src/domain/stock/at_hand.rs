//! The container at hand in a session, for the live screen: the vial its newest standing
//! dose or waste drew from (else the one container open on the shelf), with its balance,
//! and whether that balance is less than the next dose. Devices (esketamine) are given
//! whole and are not named here.
//!
//! kapchart keeps no dosing plan, so the next dose is taken to be the session's newest
//! standing dose of the container's drug, given again. A flag here is a reminder that the
//! container alone cannot give that much; what is given next is the prescriber's decision.

use super::ledger::{ContainerLedger, ContainerState};
use super::{ContainerId, MG_EPSILON, Presentation};
use crate::domain::chart::SessionChart;
use crate::domain::entry::Payload;

/// The container at hand and what it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct AtHand {
    pub container: ContainerId,
    pub state: ContainerState,
    pub balance_mg: f64,
    pub balance_ml: Option<f64>,
    /// The session's newest standing dose of this drug (mg), when the balance is less than
    /// it and more than nothing: the container cannot give it again.
    pub short_of: Option<f64>,
}

/// The container at hand for `chart` among `ledgers` (the containers the session drew from
/// and those open on the shelf), if there is one to name.
pub fn at_hand(chart: &SessionChart, ledgers: &[ContainerLedger]) -> Option<AtHand> {
    let drawn = chart.drawn();
    let ledger = match drawn.last() {
        Some(draw) => ledgers.iter().find(|l| l.container.id == draw.container)?,
        None => {
            let mut open = ledgers.iter().filter(|l| l.state() == ContainerState::Open);
            let only = open.next()?;
            if open.next().is_some() {
                return None;
            }
            only
        }
    };
    // A device is given whole: the session's line of devices and lots says which.
    if matches!(
        ledger.container.receipt.presentation,
        Presentation::Device { .. }
    ) {
        return None;
    }
    let balance_mg = ledger.balance_mg();
    let last_dose = chart
        .current()
        .filter_map(|l| match &l.entry.payload {
            Payload::Dose(d) if d.drug.eq_ignore_ascii_case(ledger.container.drug()) => {
                Some(d.total_mg)
            }
            _ => None,
        })
        .last();
    let short_of =
        last_dose.filter(|dose| balance_mg > MG_EPSILON && balance_mg + MG_EPSILON < *dose);
    Some(AtHand {
        container: ledger.container.id,
        state: ledger.state(),
        balance_mg,
        balance_ml: ledger.balance_ml(),
        short_of,
    })
}

#[cfg(test)]
mod tests;
