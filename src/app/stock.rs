//! The controlled-substance stock's use cases: receive, open, keep, count, inventory,
//! strike, what is on hand and the log. Draws are planned here for a dose or waste line
//! (`attach_draws`) and checked again inside the write by the store.

use super::{AppError, Chart, ChartingError};
use crate::config::Config;
use crate::domain::Payload;
use crate::domain::entry::trim_number;
use crate::domain::stock::count::{self, Count, CountLine, Inventory, LossNotice};
use crate::domain::stock::draws::{self, Ask};
use crate::domain::stock::ledger::{ContainerLedger, ContainerState, MovementKind};
use crate::domain::stock::{
    BusinessHours, ContainerId, InventoryKind, MG_EPSILON, Receipt, StockRecord, StockRefusal,
    StockRow, StockWaste,
};
use crate::store::NewMovement;
use chrono::{DateTime, Duration, FixedOffset, NaiveDate, TimeZone};

/// Records a delivery; hands back the receipt's record id and its containers' ids.
pub fn receive<Tz: TimeZone>(
    chart: &mut Chart,
    receipt: &Receipt,
    now: &DateTime<Tz>,
) -> Result<(i64, Vec<ContainerId>), ChartingError> {
    if receipt.containers == 0 || receipt.containers > 500 {
        return Err(StockRefusal::Invalid(format!(
            "{} containers is not a delivery kapchart records: give 1 to 500 (--containers)",
            receipt.containers
        ))
        .into());
    }
    for (what, value) in [
        ("--lot", &receipt.lot),
        ("--supplier", &receipt.supplier),
        ("--supplier-address", &receipt.supplier_address),
        ("--supplier-dea", &receipt.supplier_dea),
    ] {
        if value.trim().is_empty() {
            return Err(StockRefusal::Invalid(format!(
                "{what} is empty: a receipt records it (21 CFR 1304.22(c))"
            ))
            .into());
        }
    }
    let at = now.fixed_offset();
    Ok(chart.store.receive_stock(receipt, at, at)?)
}

/// Opens a sealed container (breaks its seal) for use.
pub fn open<Tz: TimeZone>(
    chart: &mut Chart,
    container: ContainerId,
    now: &DateTime<Tz>,
) -> Result<i64, ChartingError> {
    let at = now.fixed_offset();
    let id = chart.store.record_stock(
        &StockRecord::Open { container },
        &[NewMovement {
            container,
            kind: MovementKind::Opened,
            change_mg: 0.0,
        }],
        at,
        at,
        |ledgers| match ledgers.first().map(ContainerLedger::state) {
            Some(ContainerState::Sealed) => Ok(()),
            Some(state) => Err(StockRefusal::Invalid(format!(
                "{container} is {}: only a sealed container is opened",
                state.label()
            ))),
            None => Err(StockRefusal::NoSuchContainer { container }),
        },
    )?;
    Ok(id)
}

/// Keeps the rest of an opened vial after a session, until its beyond-use date (the day it
/// was first opened plus `[stock] multi_dose_beyond_use_days`, USP <797>).
pub fn keep<Tz: TimeZone>(
    chart: &mut Chart,
    config: &Config,
    container: ContainerId,
    now: &DateTime<Tz>,
) -> Result<NaiveDate, ChartingError> {
    let at = now.fixed_offset();
    let Some(ledger) = chart.store.container_ledger(container)? else {
        return Err(StockRefusal::NoSuchContainer { container }.into());
    };
    let opened = ledger
        .lines
        .iter()
        .find(|l| !matches!(l.movement.kind, MovementKind::Received))
        .map_or(at, |l| l.movement.at);
    let beyond_use =
        opened.date_naive() + Duration::days(i64::from(config.stock.multi_dose_beyond_use_days));
    chart.store.record_stock(
        &StockRecord::Keep {
            container,
            beyond_use,
        },
        &[NewMovement {
            container,
            kind: MovementKind::Kept { beyond_use },
            change_mg: 0.0,
        }],
        at,
        at,
        |ledgers| match ledgers.first().map(ContainerLedger::state) {
            Some(s) if s.in_use() => Ok(()),
            Some(s) => Err(StockRefusal::NotOpen {
                container,
                state: s.label(),
            }),
            None => Err(StockRefusal::NoSuchContainer { container }),
        },
    )?;
    Ok(beyond_use)
}

/// What a count left: its record, the lines, and the reminder of a loss notice when it found
/// more missing than the clinic's threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct Counted {
    pub id: i64,
    pub count: Count,
    pub notice: Option<LossNotice>,
}

/// Records a physical count: `counted` holds each container counted (mg, and whether
/// estimated). Expected amounts are the ledgers' as the count is written; a difference needs
/// `reason`, and adjusts the ledger by what was found.
pub fn count<Tz: TimeZone>(
    chart: &mut Chart,
    config: &Config,
    counted: &[(ContainerId, f64, bool)],
    taken: BusinessHours,
    reason: Option<&str>,
    now: &DateTime<Tz>,
) -> Result<Counted, ChartingError> {
    if counted.is_empty() {
        return Err(StockRefusal::Invalid(
            "a count names at least one container and what it holds, like V12=465".into(),
        )
        .into());
    }
    let mut lines = Vec::with_capacity(counted.len());
    for (i, (container, _, _)) in counted.iter().enumerate() {
        if counted[..i].iter().any(|(c, _, _)| c == container) {
            return Err(StockRefusal::Invalid(format!(
                "{container} is named twice in this count: give each container once"
            ))
            .into());
        }
    }
    for (container, mg, estimated) in counted {
        if !mg.is_finite() || *mg < 0.0 {
            return Err(
                StockRefusal::Invalid(format!("{container}: a count is 0 mg or more")).into(),
            );
        }
        let Some(ledger) = chart.store.container_ledger(*container)? else {
            return Err(StockRefusal::NoSuchContainer {
                container: *container,
            }
            .into());
        };
        lines.push(CountLine {
            container: *container,
            expected_mg: ledger.balance_mg(),
            counted_mg: crate::domain::stock::ledger::round_mg(*mg),
            estimated: *estimated,
        });
    }
    let c = Count {
        taken,
        lines,
        reason: reason
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_string),
    };
    count::check(&c).map_err(StockRefusal::from)?;
    let movements: Vec<NewMovement> = c
        .differences()
        .map(|l| NewMovement {
            container: l.container,
            kind: MovementKind::Counted {
                reason: c.reason.clone().unwrap_or_default(),
            },
            change_mg: l.difference_mg(),
        })
        .collect();
    let at = now.fixed_offset();
    let expected: Vec<(ContainerId, f64)> = c
        .lines
        .iter()
        .map(|l| (l.container, l.expected_mg))
        .collect();
    let id = chart.store.record_stock(
        &StockRecord::Count(c.clone()),
        &movements,
        at,
        at,
        |ledgers| {
            // Another laptop or window drew between the reading and the write: count again.
            for (l, (container, mg)) in ledgers.iter().zip(&expected) {
                if (l.balance_mg() - mg).abs() > crate::domain::stock::MG_EPSILON {
                    return Err(StockRefusal::Invalid(format!(
                        "{container} changed while it was counted (now {} mg): count it again",
                        crate::domain::entry::trim_number(l.balance_mg(), 3)
                    )));
                }
            }
            Ok(())
        },
    )?;
    let notice = count::loss_notice(&c, config.stock.significant_loss_mg, at.date_naive());
    Ok(Counted {
        id,
        count: c,
        notice,
    })
}

/// Records an inventory (21 CFR 1304.11) of every container on hand, as the ledgers hold
/// them; an opened container is marked estimated. A difference found is a count's to
/// record, with its reason, before the inventory.
pub fn inventory<Tz: TimeZone>(
    chart: &mut Chart,
    kind: InventoryKind,
    taken: BusinessHours,
    now: &DateTime<Tz>,
) -> Result<(i64, Inventory), ChartingError> {
    let on_hand = chart.store.stock_on_hand()?;
    let inv = Inventory {
        kind,
        taken,
        lines: on_hand
            .iter()
            .map(|l| CountLine {
                container: l.container.id,
                expected_mg: l.balance_mg(),
                counted_mg: l.balance_mg(),
                estimated: l.state() != ContainerState::Sealed,
            })
            .collect(),
    };
    let at = now.fixed_offset();
    let id =
        chart.store.record_stock(
            &StockRecord::Inventory(inv.clone()),
            &[],
            at,
            at,
            |_| Ok(()),
        )?;
    Ok((id, inv))
}

/// Wastes what is left of a container outside any session (`mg`: all it holds when `None`),
/// in the clinic's manner unless `manner` says, with the reason; it awaits a second
/// clinician's witness ([`witness_waste`]). Checked against the ledger inside the write as a
/// session's waste is: no more than it held at `now`, a device only whole. Hands back the
/// record's id and the mg wasted.
pub fn waste<Tz: TimeZone>(
    chart: &mut Chart,
    config: &Config,
    container: ContainerId,
    mg: Option<f64>,
    manner: Option<&str>,
    reason: &str,
    now: &DateTime<Tz>,
) -> Result<(i64, f64), ChartingError> {
    let at = now.fixed_offset();
    if reason.trim().is_empty() {
        return Err(StockRefusal::Invalid(
            "a waste outside a session says why (--reason, e.g. \"beyond-use date passed\")".into(),
        )
        .into());
    }
    let held = self::container(chart, container)?.standing_at(at).held_mg;
    let mg = match mg {
        Some(mg) if mg.is_finite() && mg > MG_EPSILON => crate::domain::stock::ledger::round_mg(mg),
        Some(mg) => {
            return Err(StockRefusal::Invalid(format!(
                "{} mg is not an amount to waste: give more than 0 (--mg), or leave it out to waste all {container} holds",
                trim_number(mg, 3)
            ))
            .into());
        }
        None if held <= MG_EPSILON => return Err(StockRefusal::Empty { container }.into()),
        None => held,
    };
    if mg > held + MG_EPSILON {
        return Err(StockRefusal::Invalid(format!(
            "{container} holds {} mg, less than the {} mg to waste: give --mg {} or less",
            trim_number(held, 3),
            trim_number(mg, 3),
            trim_number(held, 3)
        ))
        .into());
    }
    let manner = manner
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .unwrap_or(&config.stock.waste_manner)
        .to_string();
    let record = StockRecord::Waste(StockWaste {
        container,
        mg,
        manner: manner.clone(),
        reason: reason.trim().to_string(),
    });
    let note = format!("{manner}; outside a session: {}", reason.trim());
    let id = chart.store.record_stock(
        &record,
        &[NewMovement {
            container,
            kind: MovementKind::Wasted { manner: note },
            change_mg: -mg,
        }],
        at,
        at,
        |ledgers| {
            let Some(l) = ledgers.first() else {
                return Err(StockRefusal::NoSuchContainer { container });
            };
            if l.container.receipt.presentation.is_device()
                && (mg - l.standing_at(at).held_mg).abs() > MG_EPSILON
            {
                return Err(StockRefusal::DevicePart { container });
            }
            crate::domain::stock::draws::check(l, l.container.drug(), mg, at).map(|_| ())
        },
    )?;
    Ok((id, mg))
}

/// The signed-in clinician witnesses the waste outside a session recorded as `record`
/// (another clinician's, not struck, not witnessed yet).
pub fn witness_waste<Tz: TimeZone>(
    chart: &mut Chart,
    record: i64,
    now: &DateTime<Tz>,
) -> Result<i64, ChartingError> {
    Ok(chart
        .store
        .witness_stock_waste(record, now.fixed_offset())?)
}

/// Strikes a stock record (a wrong receipt, open, keep or count), with the reason.
pub fn strike<Tz: TimeZone>(
    chart: &mut Chart,
    record: i64,
    reason: &str,
    now: &DateTime<Tz>,
) -> Result<i64, ChartingError> {
    if reason.trim().is_empty() {
        return Err(super::Refusal::CorrectionNeedsReason.into());
    }
    Ok(chart
        .store
        .strike_stock(record, reason, now.fixed_offset())?)
}

/// One container's ledger.
pub fn container(chart: &Chart, id: ContainerId) -> Result<ContainerLedger, ChartingError> {
    chart
        .store
        .container_ledger(id)?
        .ok_or_else(|| StockRefusal::NoSuchContainer { container: id }.into())
}

/// The containers holding something, with their ledgers.
pub fn on_hand(chart: &Chart) -> Result<Vec<ContainerLedger>, AppError> {
    Ok(chart.store.stock_on_hand()?)
}

/// The containers a session's live screen names beside its doses
/// (`domain::stock::at_hand`): each one the session's standing doses and wastes drew from,
/// or, before it drew anything, the containers open on the shelf.
pub fn of_session(
    chart: &Chart,
    session: &crate::domain::chart::SessionChart,
) -> Result<Vec<ContainerLedger>, AppError> {
    let mut ids: Vec<ContainerId> = session.drawn().iter().map(|d| d.container).collect();
    ids.sort();
    ids.dedup();
    if ids.is_empty() {
        return Ok(on_hand(chart)?
            .into_iter()
            .filter(|l| l.state() == ContainerState::Open)
            .collect());
    }
    of_containers(chart, &ids)
}

/// The ledgers of `ids` (those that exist).
pub fn of_containers(chart: &Chart, ids: &[ContainerId]) -> Result<Vec<ContainerLedger>, AppError> {
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(l) = chart.store.container_ledger(*id)? {
            out.push(l);
        }
    }
    Ok(out)
}

/// Every container ever received.
pub fn all(chart: &Chart) -> Result<Vec<ContainerLedger>, AppError> {
    Ok(chart.store.all_stock()?)
}

/// The ledgers of `drug`'s containers that moved between `from` and `to` (inclusive),
/// whole, so that each line's running balance is the container's.
pub fn log(
    chart: &Chart,
    drug: Option<&str>,
    from: DateTime<FixedOffset>,
    to: DateTime<FixedOffset>,
) -> Result<Vec<ContainerLedger>, AppError> {
    Ok(chart
        .store
        .stock_ledgers_between(drug, from.timestamp_millis(), to.timestamp_millis())?)
}

/// The audit row a read of the log makes: the log names patients, so reading it is a look
/// at the record, recorded for the chart as it stands.
pub fn log_access(chart: &Chart) -> Result<super::access::Access, AppError> {
    match chart.store.head()? {
        Some(head) => Ok(super::access::Access::ViewStockLog(head)),
        None => Err(AppError::invalid("the chart has no audit trail")),
    }
}

/// The newest records of a kind (`count`, `inventory`, `receive`), with the strike that
/// withdrew each, if any.
pub fn records(
    chart: &Chart,
    kind: &str,
    limit: u32,
) -> Result<Vec<(StockRow, Option<i64>)>, AppError> {
    Ok(chart.store.stock_records(kind, limit)?)
}

/// Fills in what each dose or waste of a planned line takes from the stock (the container
/// named, the one open container of its drug and lot, or whole devices of its lot), and the
/// clinic's manner of waste. The store checks each draw again inside the write. `replacing`:
/// the entry an amendment replaces, whose draws come back first.
pub fn attach_draws<'a>(
    chart: &Chart,
    config: &Config,
    payloads: impl IntoIterator<Item = (&'a mut Payload, DateTime<FixedOffset>)>,
    replacing: Option<crate::domain::EntryId>,
) -> Result<(), ChartingError> {
    let mut payloads: Vec<(&mut Payload, DateTime<FixedOffset>)> = payloads.into_iter().collect();
    let wants = payloads
        .iter()
        .any(|(p, _)| matches!(p, Payload::Dose(_) | Payload::Waste(_)));
    if !wants {
        return Ok(());
    }
    let mut stock = chart.store.stock_on_hand()?;
    if let (Some(old), Some((_, at))) = (replacing, payloads.first()) {
        give_back(chart, &mut stock, old, *at)?;
    }
    for (p, at) in payloads.iter_mut() {
        let at = *at;
        match &mut **p {
            Payload::Dose(d) => {
                if let Some(v) = d.vial
                    && !stock.iter().any(|l| l.container.id == v)
                {
                    // Named but not on hand: empty, or not in the stock at all.
                    stock.extend(chart.store.container_ledger(v)?);
                }
                d.drawn = draws::plan(
                    &Ask {
                        drug: &d.drug,
                        mg: d.total_mg,
                        vial: d.vial,
                        lot: d.lot.as_deref(),
                        devices: d.devices,
                        at,
                    },
                    &stock,
                )?;
                take(&mut stock, &d.drawn, at);
            }
            Payload::Waste(w) => {
                if w.manner.trim().is_empty() {
                    w.manner = config.stock.waste_manner.clone();
                }
                if let Some(v) = w.vial
                    && !stock.iter().any(|l| l.container.id == v)
                {
                    stock.extend(chart.store.container_ledger(v)?);
                }
                if let Some(v) = w.vial
                    && stock.iter().any(|l| {
                        l.container.id == v && l.container.receipt.presentation.is_device()
                    })
                {
                    return Err(StockRefusal::DevicePart { container: v }.into());
                }
                w.drawn = draws::plan(
                    &Ask {
                        drug: &w.drug,
                        mg: w.mg,
                        vial: w.vial,
                        lot: None,
                        devices: None,
                        at,
                    },
                    &stock,
                )?;
                take(&mut stock, &w.drawn, at);
            }
            _ => {}
        }
    }
    Ok(())
}

/// The ledgers as they will stand once `drawn` is taken at `at` (two doses on one line).
fn take(
    stock: &mut [ContainerLedger],
    drawn: &[crate::domain::stock::Draw],
    at: DateTime<FixedOffset>,
) {
    for d in drawn {
        if let Some(l) = stock.iter_mut().find(|l| l.container.id == d.container)
            && let Some(last) = l.lines.last().cloned()
        {
            let mut m = last.movement;
            // Written after every row there is: first among equals in time.
            m.id = l.lines.iter().map(|x| x.movement.id).max().unwrap_or(0) + 1;
            m.at = at;
            m.kind = MovementKind::Administered;
            m.change_mg = -d.mg;
            let rebuilt: Vec<_> = l
                .lines
                .iter()
                .map(|x| x.movement.clone())
                .chain([m])
                .collect();
            *l = ContainerLedger::new(l.container.clone(), rebuilt);
        }
    }
}

/// The ledgers as they will stand once what `entry` drew comes back (an amendment).
fn give_back(
    chart: &Chart,
    stock: &mut Vec<ContainerLedger>,
    entry: crate::domain::EntryId,
    at: DateTime<FixedOffset>,
) -> Result<(), ChartingError> {
    let old = chart.store.entry(entry)?;
    for d in old.payload.drawn() {
        if !stock.iter().any(|l| l.container.id == d.container) {
            stock.extend(chart.store.container_ledger(d.container)?);
        }
        take(
            stock,
            &[crate::domain::stock::Draw {
                container: d.container,
                mg: -d.mg,
            }],
            at,
        );
    }
    Ok(())
}

/// Containers a session drew from that still hold something and were not kept after it:
/// what ending it asks about (waste the rest, or keep it).
pub fn rests_of_session(
    chart: &Chart,
    drawn: &[crate::domain::stock::Draw],
) -> Result<Vec<(ContainerId, f64)>, AppError> {
    let mut out: Vec<(ContainerId, f64)> = Vec::new();
    for d in drawn {
        if out.iter().any(|(c, _)| *c == d.container) {
            continue;
        }
        if let Some(l) = chart.store.container_ledger(d.container)?
            && l.state() == ContainerState::Open
            && !l.container.receipt.presentation.is_device()
        {
            out.push((l.container.id, l.balance_mg()));
        }
    }
    Ok(out)
}
