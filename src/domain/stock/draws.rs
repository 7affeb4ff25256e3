//! Which container a dose or a waste takes from, and whether it can. A dose names its
//! container (`vial V12`) or takes the one container of its drug (and lot) in use; an
//! esketamine dose takes whole devices of its lot, one by one. What a container does not
//! hold is refused, naming its balance. A drug the clinic keeps no stock of in kapchart is
//! charted without a draw, as before.

use super::ledger::{ContainerLedger, ContainerState};
use super::{ContainerId, Draw, MG_EPSILON};
use crate::domain::entry::trim_number;

/// Why a draw is refused, in words that say what to do instead.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StockRefusal {
    #[error("there is no container {container} in the stock (kapchart stock show lists them)")]
    NoSuchContainer { container: ContainerId },
    #[error("{container} holds {holds}, not {asked}: name a {asked} container")]
    WrongDrug {
        container: ContainerId,
        holds: String,
        asked: String,
    },
    #[error("{container} holds {} mg, less than the {} mg asked: draw the rest from another container (a line each)", trim_number(*balance_mg, 3), trim_number(*asked_mg, 3))]
    Short {
        container: ContainerId,
        balance_mg: f64,
        asked_mg: f64,
    },
    #[error("{container} is empty")]
    Empty { container: ContainerId },
    #[error(
        "no {drug} container is open: name the one drawn from (vial V12), or open one first (kapchart stock open V12)"
    )]
    NoneOpen { drug: String },
    #[error("{} {drug} containers are open ({}): name the one drawn from, like vial {}", open.len(), list(open), open[0])]
    WhichContainer {
        drug: String,
        open: Vec<ContainerId>,
    },
    #[error("the dose takes {needed} {drug} devices{}, and the stock holds {have} sealed", lot.as_ref().map(|l| format!(" of lot {l}")).unwrap_or_default())]
    NotEnoughDevices {
        drug: String,
        lot: Option<String>,
        needed: u32,
        have: u32,
    },
    #[error("{drug} devices of more than one lot are in stock ({}): give the lot on the dose, like lot {}", lots.join(", "), lots[0])]
    WhichLot { drug: String, lots: Vec<String> },
    #[error("{container} is a device, drawn whole by a dose: a device is not wasted in part")]
    DevicePart { container: ContainerId },
    #[error("{0}")]
    Count(#[from] super::count::CountRefusal),
    #[error("stock record {id} does not exist")]
    NoSuchRecord { id: i64 },
    #[error("stock record {id} was already struck by record {by}")]
    AlreadyStruck { id: i64, by: i64 },
    #[error(
        "the receipt, record {id}, has containers that were opened or drawn from ({}): correct those first",
        list(containers)
    )]
    ReceiptInUse {
        id: i64,
        containers: Vec<ContainerId>,
    },
    #[error("{container} is {state}: only an opened container's rest is kept")]
    NotOpen {
        container: ContainerId,
        state: &'static str,
    },
    #[error("{0}")]
    Invalid(String),
}

fn list(ids: &[ContainerId]) -> String {
    ids.iter()
        .map(ContainerId::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// What one dose or waste asks of the stock.
#[derive(Debug, Clone, PartialEq)]
pub struct Ask<'a> {
    pub drug: &'a str,
    pub mg: f64,
    /// The container named on the line.
    pub vial: Option<ContainerId>,
    /// The lot named on the line (a dose).
    pub lot: Option<&'a str>,
    /// Whole devices a device dose takes.
    pub devices: Option<u8>,
}

/// The draws of `ask` from the stock of its drug (`stock`: every container of the drug that
/// is not empty, with its ledger). `Ok(vec![])`: the drug is not kept in kapchart's stock.
pub fn plan(ask: &Ask<'_>, stock: &[ContainerLedger]) -> Result<Vec<Draw>, StockRefusal> {
    if let Some(named) = ask.vial {
        let Some(l) = stock.iter().find(|l| l.container.id == named) else {
            return Err(StockRefusal::NoSuchContainer { container: named });
        };
        return check(l, ask.drug, ask.mg).map(|d| vec![d]);
    }
    let of_drug: Vec<&ContainerLedger> = stock
        .iter()
        .filter(|l| l.container.drug() == ask.drug && l.state() != ContainerState::Empty)
        .collect();
    if of_drug.is_empty() {
        return Ok(Vec::new());
    }
    if of_drug
        .iter()
        .any(|l| l.container.receipt.presentation.is_device())
    {
        return devices(ask, &of_drug);
    }
    let in_use: Vec<&ContainerLedger> = of_drug
        .iter()
        .copied()
        .filter(|l| l.state().in_use())
        .filter(|l| ask.lot.is_none_or(|lot| l.container.receipt.lot == lot))
        .collect();
    match in_use.as_slice() {
        [] => Err(StockRefusal::NoneOpen {
            drug: ask.drug.to_string(),
        }),
        [one] => check(one, ask.drug, ask.mg).map(|d| vec![d]),
        many => Err(StockRefusal::WhichContainer {
            drug: ask.drug.to_string(),
            open: many.iter().map(|l| l.container.id).collect(),
        }),
    }
}

/// Whole sealed devices of the dose's lot (or the one lot in stock), oldest first.
fn devices(ask: &Ask<'_>, of_drug: &[&ContainerLedger]) -> Result<Vec<Draw>, StockRefusal> {
    let sealed: Vec<&ContainerLedger> = of_drug
        .iter()
        .copied()
        .filter(|l| l.state() == ContainerState::Sealed)
        .collect();
    let lot = match ask.lot {
        Some(lot) => Some(lot.to_string()),
        None => {
            let mut lots: Vec<String> = sealed
                .iter()
                .map(|l| l.container.receipt.lot.clone())
                .collect();
            lots.sort();
            lots.dedup();
            if lots.len() > 1 {
                return Err(StockRefusal::WhichLot {
                    drug: ask.drug.to_string(),
                    lots,
                });
            }
            lots.pop()
        }
    };
    let mut of_lot: Vec<&ContainerLedger> = sealed
        .into_iter()
        .filter(|l| lot.as_deref().is_none_or(|x| l.container.receipt.lot == x))
        .collect();
    of_lot.sort_by_key(|l| l.container.id);
    let per = of_lot
        .first()
        .map_or(0.0, |l| l.container.receipt.presentation.content_mg());
    let needed = match ask.devices {
        Some(n) => u32::from(n),
        None if per > 0.0 => (ask.mg / per).round().max(1.0) as u32,
        None => 1,
    };
    if (of_lot.len() as u32) < needed {
        return Err(StockRefusal::NotEnoughDevices {
            drug: ask.drug.to_string(),
            lot,
            needed,
            have: of_lot.len() as u32,
        });
    }
    Ok(of_lot
        .into_iter()
        .take(needed as usize)
        .map(|l| Draw {
            container: l.container.id,
            mg: l.balance_mg(),
        })
        .collect())
}

/// Whether `mg` of `drug` can be drawn from this container: the rule every draw passes,
/// when planned and again inside the write.
pub fn check(l: &ContainerLedger, drug: &str, mg: f64) -> Result<Draw, StockRefusal> {
    let container = l.container.id;
    if l.container.drug() != drug {
        return Err(StockRefusal::WrongDrug {
            container,
            holds: l.container.drug().to_string(),
            asked: drug.to_string(),
        });
    }
    let balance = l.balance_mg();
    if balance <= MG_EPSILON {
        return Err(StockRefusal::Empty { container });
    }
    if mg > balance + MG_EPSILON {
        return Err(StockRefusal::Short {
            container,
            balance_mg: balance,
            asked_mg: mg,
        });
    }
    Ok(Draw { container, mg })
}

#[cfg(test)]
mod tests;
