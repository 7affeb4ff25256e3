//! Which container a dose or a waste takes from, and whether it can. A dose names its
//! container (`vial V12`) or takes the one container of its drug (and lot) in use; an
//! esketamine dose takes whole devices of its lot, one by one. What a container does not
//! hold is refused, naming its balance. A drug the clinic keeps no stock of in kapchart is
//! charted without a draw, as before.

use super::ledger::{ContainerLedger, ContainerState};
use super::{ContainerId, Draw, MG_EPSILON};
use crate::domain::entry::trim_number;
use chrono::{DateTime, FixedOffset};

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
    /// The container holds enough now, but not at the time the line is charted at: it came
    /// in later, or what was drawn from it between then and now leaves too little.
    #[error("{}", held_too_little(*container, *at, *held_mg, *asked_mg, *received, *later))]
    HeldTooLittle {
        container: ContainerId,
        /// When the dose or waste is charted.
        at: DateTime<FixedOffset>,
        /// What the container held then.
        held_mg: f64,
        asked_mg: f64,
        received: DateTime<FixedOffset>,
        /// When a later movement brings it lowest, and to what, when that is below the ask.
        later: Option<(DateTime<FixedOffset>, f64)>,
    },
    #[error(
        "striking record {record} would leave {container} below nothing ({} mg at {}): correct what was drawn from it since first",
        trim_number(*balance_mg, 3),
        at.format("%Y-%m-%d %H:%M")
    )]
    StrikeBelowNothing {
        record: i64,
        container: ContainerId,
        /// Where its running balance would fall lowest.
        at: DateTime<FixedOffset>,
        balance_mg: f64,
    },
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

/// A time as the refusal names it: the clock time, with the date when the two times it
/// sets side by side fall on different days.
fn clock(t: DateTime<FixedOffset>, beside: DateTime<FixedOffset>) -> String {
    if t.date_naive() == beside.date_naive() {
        t.format("%H:%M").to_string()
    } else {
        t.format("%Y-%m-%d %H:%M").to_string()
    }
}

fn held_too_little(
    container: ContainerId,
    at: DateTime<FixedOffset>,
    held_mg: f64,
    asked_mg: f64,
    received: DateTime<FixedOffset>,
    later: Option<(DateTime<FixedOffset>, f64)>,
) -> String {
    let when = clock(at, received);
    let asked = trim_number(asked_mg, 3);
    if held_mg <= MG_EPSILON && at < received {
        return format!(
            "{container} held nothing at {when}: it was received at {}",
            clock(received, at)
        );
    }
    let held = if held_mg <= MG_EPSILON {
        "nothing".to_string()
    } else {
        format!("{} mg", trim_number(held_mg, 3))
    };
    match later {
        Some((then, low)) if held_mg + MG_EPSILON >= asked_mg => format!(
            "{container} held {held} at {when}, but what was drawn from it after leaves {} mg at {}, less than the {asked} mg asked",
            trim_number(low, 3),
            clock(then, at)
        ),
        _ => format!("{container} held {held} at {when}, less than the {asked} mg asked"),
    }
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
    /// When the dose or waste is charted (the line's own time, `@14:33`, or when it is
    /// written): the draw is placed there in the container's ledger.
    pub at: DateTime<FixedOffset>,
}

/// The draws of `ask` from the stock of its drug (`stock`: every container of the drug that
/// is not empty, with its ledger). `Ok(vec![])`: the drug is not kept in kapchart's stock.
pub fn plan(ask: &Ask<'_>, stock: &[ContainerLedger]) -> Result<Vec<Draw>, StockRefusal> {
    if let Some(named) = ask.vial {
        let Some(l) = stock.iter().find(|l| l.container.id == named) else {
            return Err(StockRefusal::NoSuchContainer { container: named });
        };
        return check(l, ask.drug, ask.mg, ask.at).map(|d| vec![d]);
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
        [one] => check(one, ask.drug, ask.mg, ask.at).map(|d| vec![d]),
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
    of_lot
        .into_iter()
        .take(needed as usize)
        .map(|l| check(l, ask.drug, l.balance_mg(), ask.at))
        .collect()
}

/// Whether `mg` of `drug` can be drawn from this container at `at`: the rule every draw
/// passes, when planned and again inside the write. The container must hold it now, and
/// its ledger with the draw placed at `at` may not run below nothing at any point: not
/// before its receipt (a dose back-dated to before the vial came in), nor after (a dose
/// back-dated past draws that emptied it).
pub fn check(
    l: &ContainerLedger,
    drug: &str,
    mg: f64,
    at: DateTime<FixedOffset>,
) -> Result<Draw, StockRefusal> {
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
    let standing = l.standing_at(at);
    if mg > standing.available_mg() + MG_EPSILON {
        return Err(StockRefusal::HeldTooLittle {
            container,
            at,
            held_mg: standing.held_mg,
            asked_mg: mg,
            received: l.container.received,
            later: standing
                .lowest_after
                .filter(|(_, low)| mg > low + MG_EPSILON),
        });
    }
    Ok(Draw { container, mg })
}

#[cfg(test)]
pub(crate) mod tests;
