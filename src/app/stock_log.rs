//! The controlled-substance log gathered for its FHIR export: the ledgers that moved in the
//! period, the counts and inventories taken in it, the wastes outside a session recorded in
//! it, and the sessions its doses and wastes were charted in (read as the session export reads them, so that an administration is the
//! same resource, with the same id, in both).

use super::record::{Record, session_record_from};
use super::{AppError, Chart};
use crate::config::Config;
use crate::domain::stock::ledger::{ContainerLedger, MovementKind};
use crate::domain::stock::{Container, StockRecord, StockRow};
use chrono::{DateTime, FixedOffset};

/// Counts and inventories are read whole: a clinic takes a few a day.
const RECORDS_READ: u32 = 1_000_000;

/// What the stock log's FHIR export holds.
#[derive(Debug, Clone, PartialEq)]
pub struct StockLog {
    /// The drug the log is limited to, when it is.
    pub drug: Option<String>,
    pub from: DateTime<FixedOffset>,
    pub to: DateTime<FixedOffset>,
    pub exported: DateTime<FixedOffset>,
    /// The ledgers of the containers that moved in the period, whole.
    pub ledgers: Vec<ContainerLedger>,
    /// Every container the log names (moved, or counted), by id.
    pub containers: Vec<Container>,
    /// Counts and inventories taken in the period (only the lines of the drug's containers),
    /// with the record that struck each, if any.
    pub counts: Vec<(StockRow, Option<i64>)>,
    /// Wastes outside a session recorded in the period (of the drug's containers), with the
    /// record that struck each, if any.
    pub wastes: Vec<(StockRow, Option<i64>)>,
    /// One record per session a dose or waste of the period was charted in.
    pub sessions: Vec<Record>,
    /// The chart's UUID, which names every resource (`domain::identity`).
    pub chart: crate::domain::identity::ChartUuid,
    /// The system of each resource's business identifier (`record::identifier_system`).
    pub identifier_system: String,
}

/// Gathers the log of `drug` (all drugs when `None`) between `from` and `to`, inclusive.
pub fn stock_log(
    chart: &Chart,
    config: &Config,
    drug: Option<&str>,
    from: DateTime<FixedOffset>,
    to: DateTime<FixedOffset>,
    exported: DateTime<FixedOffset>,
) -> Result<StockLog, AppError> {
    let ledgers = super::stock::log(chart, drug, from, to)?;
    let every = super::stock::all(chart)?;
    let of_drug = |c: &Container| drug.is_none_or(|d| c.drug() == d);
    let mut counts = Vec::new();
    for kind in ["count", "inventory"] {
        for (mut row, struck) in super::stock::records(chart, kind, RECORDS_READ)? {
            if row.event_time < from || row.event_time > to {
                continue;
            }
            let keep = |id| {
                every
                    .iter()
                    .any(|l| l.container.id == id && of_drug(&l.container))
            };
            let lines = match &mut row.record {
                StockRecord::Count(c) => &mut c.lines,
                StockRecord::Inventory(i) => &mut i.lines,
                _ => continue,
            };
            lines.retain(|l| keep(l.container));
            // An inventory of nothing on hand is a record too (an initial one may be zero).
            if lines.is_empty() && kind == "count" {
                continue;
            }
            counts.push((row, struck));
        }
    }
    counts.sort_by(|a, b| {
        a.0.event_time
            .cmp(&b.0.event_time)
            .then(a.0.id.cmp(&b.0.id))
    });
    let mut wastes = Vec::new();
    for (row, struck) in super::stock::records(chart, "waste", RECORDS_READ)? {
        let StockRecord::Waste(w) = &row.record else {
            continue;
        };
        let ours = every
            .iter()
            .any(|l| l.container.id == w.container && of_drug(&l.container));
        if ours && row.event_time >= from && row.event_time <= to {
            wastes.push((row, struck));
        }
    }
    wastes.sort_by(|a, b| {
        a.0.event_time
            .cmp(&b.0.event_time)
            .then(a.0.id.cmp(&b.0.id))
    });

    let mut containers: Vec<Container> = ledgers.iter().map(|l| l.container.clone()).collect();
    for (row, _) in counts.iter().chain(&wastes) {
        for id in crate::domain::stock::count::containers_of(&row.record) {
            if !containers.iter().any(|c| c.id == id)
                && let Some(l) = every.iter().find(|l| l.container.id == id)
            {
                containers.push(l.container.clone());
            }
        }
    }
    containers.sort_by_key(|c| c.id);

    let mut session_ids: Vec<i64> = Vec::new();
    for line in ledgers.iter().flat_map(|l| l.lines.iter()) {
        let m = &line.movement;
        let charted = matches!(
            m.kind,
            MovementKind::Administered
                | MovementKind::Wasted { .. }
                | MovementKind::GivenBack { .. }
        );
        if charted
            && m.at >= from
            && m.at <= to
            && let Some(entry) = m.entry
        {
            let session = chart.store.entry(entry)?.session_id;
            if !session_ids.contains(&session) {
                session_ids.push(session);
            }
        }
    }
    session_ids.sort();
    let sessions = session_ids
        .into_iter()
        .map(|s| session_record_from(chart, config, s, exported))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(StockLog {
        chart: chart.store.chart_uuid()?,
        identifier_system: super::record::identifier_system(chart, config)?,
        drug: drug.map(str::to_string),
        from,
        to,
        exported,
        ledgers,
        containers,
        counts,
        wastes,
        sessions,
    })
}
