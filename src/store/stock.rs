//! The controlled-substance stock in the chart (`schema::STOCK`, `domain::stock`): its
//! records, its containers and their movements. Every row is signed and audited like an
//! entry; a draw is written in the same transaction as the dose or waste that takes it, and
//! checked there against the container's ledger (`domain::stock::draws::check`).

use super::audit::ObjectKind;
use super::write::{Tx, WriteError};
use super::{Chart, Result, StoreError, from_stored, to_stored};
use crate::domain::stock::ledger::{ContainerLedger, Movement, MovementKind};
use crate::domain::stock::{
    Container, ContainerId, Draw, MG_EPSILON, Receipt, StockRecord, StockRefusal, StockRow,
};
use crate::domain::{EntryId, Payload};
use chrono::{DateTime, FixedOffset};
use rusqlite::{Connection, OptionalExtension, Row, params};

/// A movement to write with a stock record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMovement {
    pub container: ContainerId,
    pub kind: MovementKind,
    pub change_mg: f64,
}

impl From<StockRefusal> for StoreError {
    fn from(r: StockRefusal) -> Self {
        StoreError::Stock(r)
    }
}

impl From<StockRefusal> for WriteError {
    fn from(r: StockRefusal) -> Self {
        WriteError::Store(StoreError::Stock(r))
    }
}

fn kind_text(k: &MovementKind) -> (&'static str, Option<String>) {
    match k {
        MovementKind::Received => ("received", None),
        MovementKind::Opened => ("opened", None),
        MovementKind::Administered => ("administered", None),
        MovementKind::Wasted { manner } => ("wasted", Some(manner.clone())),
        MovementKind::Kept { beyond_use } => ("kept", Some(beyond_use.to_string())),
        MovementKind::Counted { reason } => ("counted", Some(reason.clone())),
        MovementKind::GivenBack { reason } => ("given-back", Some(reason.clone())),
    }
}

fn kind_from(kind: &str, note: Option<String>) -> MovementKind {
    let note = note.unwrap_or_default();
    match kind {
        "received" => MovementKind::Received,
        "opened" => MovementKind::Opened,
        "administered" => MovementKind::Administered,
        "wasted" => MovementKind::Wasted { manner: note },
        "kept" => MovementKind::Kept {
            beyond_use: note.parse().unwrap_or_default(),
        },
        "counted" => MovementKind::Counted { reason: note },
        _ => MovementKind::GivenBack { reason: note },
    }
}

const CONTAINER_COLUMNS: &str =
    "k.id, k.receipt_id, k.number, s.payload, s.event_at, s.event_offset";

fn container_from_row(r: &Row<'_>) -> rusqlite::Result<Container> {
    let payload: String = r.get(3)?;
    let receipt = match serde_json::from_str::<StockRecord>(&payload) {
        Ok(StockRecord::Receive(receipt)) => receipt,
        _ => {
            return Err(rusqlite::Error::FromSqlConversionFailure(
                3,
                rusqlite::types::Type::Text,
                "the receipt of this container cannot be read (damaged)".into(),
            ));
        }
    };
    Ok(Container {
        id: ContainerId(r.get(0)?),
        receipt_id: r.get(1)?,
        number: r.get(2)?,
        receipt,
        received: from_stored(r.get(4)?, r.get(5)?),
    })
}

/// The movements read with who made them, the witness of a dose or waste, and the patient.
const MOVEMENT_SELECT: &str = "SELECT m.id, m.container_id, m.kind, m.change_mg, m.event_at, m.event_offset, c.name, m.entry_id, m.stock_id, m.note,
        coalesce((SELECT wc.name FROM entries w JOIN clinicians wc ON wc.id = w.author_id
          WHERE m.kind IN ('administered', 'wasted') AND w.session_id = e.session_id AND w.kind = 'witness'
            AND json_extract(w.payload, '$.entry') = m.entry_id
            AND NOT EXISTS (SELECT 1 FROM entries x WHERE x.corrects = w.id)
          LIMIT 1),
        (SELECT wc.name FROM stock ws JOIN clinicians wc ON wc.id = ws.author_id
          WHERE m.kind = 'wasted' AND m.stock_id IS NOT NULL AND ws.kind = 'witness'
            AND json_extract(ws.payload, '$.record') = m.stock_id
            AND NOT EXISTS (SELECT 1 FROM stock x WHERE x.strikes = ws.id)
          LIMIT 1)),
        (SELECT p.name || coalesce(', ' || (SELECT json_extract(d.details, '$.address')
              FROM patient_details d WHERE d.patient_id = p.id ORDER BY d.id DESC LIMIT 1), '')
           FROM sessions s JOIN patients p ON p.id = s.patient_id
          WHERE m.kind = 'administered' AND s.id = e.session_id)
     FROM stock_movements m
     JOIN clinicians c ON c.id = m.author_id
     LEFT JOIN entries e ON e.id = m.entry_id";

fn movement_from_row(r: &Row<'_>) -> rusqlite::Result<Movement> {
    let kind: String = r.get(2)?;
    Ok(Movement {
        id: r.get(0)?,
        container: ContainerId(r.get(1)?),
        kind: kind_from(&kind, r.get(9)?),
        change_mg: r.get(3)?,
        at: from_stored(r.get(4)?, r.get(5)?),
        who: r.get(6)?,
        entry: r.get(7)?,
        stock: r.get(8)?,
        witness: r.get(10)?,
        patient: r.get(11)?,
    })
}

fn container_in(conn: &Connection, id: ContainerId) -> rusqlite::Result<Option<Container>> {
    let sql = format!(
        "SELECT {CONTAINER_COLUMNS} FROM stock_containers k JOIN stock s ON s.id = k.receipt_id WHERE k.id = ?1"
    );
    conn.prepare_cached(&sql)?
        .query_row([id.0], container_from_row)
        .optional()
}

fn movements_of(conn: &Connection, id: ContainerId) -> rusqlite::Result<Vec<Movement>> {
    let sql = format!("{MOVEMENT_SELECT} WHERE m.container_id = ?1 ORDER BY m.event_at, m.id");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([id.0], movement_from_row)?;
    rows.collect()
}

/// The ledger of one container, read inside or outside a write.
pub(super) fn ledger_in(conn: &Connection, id: ContainerId) -> Result<Option<ContainerLedger>> {
    let sql_err = |e| StoreError::Invalid(format!("cannot read the stock: {e}"));
    let Some(c) = container_in(conn, id).map_err(sql_err)? else {
        return Ok(None);
    };
    let moves = movements_of(conn, id).map_err(sql_err)?;
    Ok(Some(ContainerLedger::new(c, moves)))
}

fn insert_movement(
    tx: &Tx<'_>,
    m: &NewMovement,
    at: DateTime<FixedOffset>,
    author: i64,
    entry: Option<EntryId>,
    stock: Option<i64>,
    recorded_ms: i64,
) -> rusqlite::Result<i64> {
    let (kind, note) = kind_text(&m.kind);
    let (event_at, event_offset) = to_stored(at);
    tx.prepare_cached(
        "INSERT INTO stock_movements (container_id, kind, change_mg, event_at, event_offset, author_id, entry_id, stock_id, note)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        m.container.0,
        kind,
        crate::domain::stock::ledger::round_mg(m.change_mg),
        event_at,
        event_offset,
        author,
        entry,
        stock,
        note
    ])?;
    let id = tx.last_insert_rowid();
    tx.record(
        recorded_ms,
        author,
        "stock.move",
        ObjectKind::StockMovement,
        id,
    )?;
    Ok(id)
}

/// What a dose or waste entry draws, as the movements it writes.
fn draws_of(payload: &Payload) -> Option<(&[Draw], MovementKind)> {
    match payload {
        Payload::Dose(d) if !d.drawn.is_empty() => Some((&d.drawn, MovementKind::Administered)),
        Payload::Waste(w) if !w.drawn.is_empty() => Some((
            &w.drawn,
            MovementKind::Wasted {
                manner: w.manner.clone(),
            },
        )),
        _ => None,
    }
}

/// Inside an entry's write: gives back what the corrected entry drew (when `corrects` is
/// one that drew), then draws what the new entry takes, each checked against the container's
/// ledger as it stands in this transaction. A sealed container a dose names is opened by it.
pub(super) fn draw_for_entry(
    tx: &Tx<'_>,
    entry: EntryId,
    payload: &Payload,
    corrects: Option<(EntryId, &str)>,
    at: DateTime<FixedOffset>,
    author: i64,
    recorded_ms: i64,
) -> std::result::Result<(), WriteError> {
    if let Some((target, reason)) = corrects {
        let taken: Vec<(i64, f64)> = tx
            .prepare_cached(
                "SELECT container_id, sum(change_mg) FROM stock_movements
                 WHERE entry_id = ?1 AND kind IN ('administered', 'wasted') GROUP BY container_id",
            )?
            .query_map([target], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        for (container, change) in taken {
            if change.abs() > MG_EPSILON {
                insert_movement(
                    tx,
                    &NewMovement {
                        container: ContainerId(container),
                        kind: MovementKind::GivenBack {
                            reason: reason.to_string(),
                        },
                        change_mg: -change,
                    },
                    at,
                    author,
                    Some(entry),
                    None,
                    recorded_ms,
                )?;
            }
        }
    }
    let Some((draws, kind)) = draws_of(payload) else {
        return Ok(());
    };
    let drug = match payload {
        Payload::Dose(d) => d.drug.as_str(),
        Payload::Waste(w) => w.drug.as_str(),
        _ => "",
    };
    for d in draws {
        let Some(ledger) = ledger_in(tx, d.container)? else {
            return Err(StockRefusal::NoSuchContainer {
                container: d.container,
            }
            .into());
        };
        crate::domain::stock::draws::check(&ledger, drug, d.mg, at)?;
        if ledger.state() == crate::domain::stock::ledger::ContainerState::Sealed
            && matches!(kind, MovementKind::Administered)
            && !ledger.container.receipt.presentation.is_device()
        {
            insert_movement(
                tx,
                &NewMovement {
                    container: d.container,
                    kind: MovementKind::Opened,
                    change_mg: 0.0,
                },
                at,
                author,
                Some(entry),
                None,
                recorded_ms,
            )?;
        }
        insert_movement(
            tx,
            &NewMovement {
                container: d.container,
                kind: kind.clone(),
                change_mg: -d.mg,
            },
            at,
            author,
            Some(entry),
            None,
            recorded_ms,
        )?;
    }
    Ok(())
}

impl Chart {
    /// Records a delivery: the receipt, one container per unit received, and each one's
    /// content coming in. Hands back the receipt's record id and the containers' ids.
    pub fn receive_stock(
        &mut self,
        receipt: &Receipt,
        at: DateTime<FixedOffset>,
        now: DateTime<FixedOffset>,
    ) -> Result<(i64, Vec<ContainerId>)> {
        let record = StockRecord::Receive(receipt.clone());
        let content = receipt.presentation.content_mg();
        let n = receipt.containers;
        self.write_stock(&record, at, now, None, |tx, id, author, rec_ms| {
            let mut ids = Vec::with_capacity(n as usize);
            for number in 1..=n {
                tx.prepare_cached(
                    "INSERT INTO stock_containers (receipt_id, number, drug, lot, content_mg) VALUES (?1, ?2, ?3, ?4, ?5)",
                )?
                .execute(params![id, number, receipt.drug, receipt.lot, content])?;
                let container = ContainerId(tx.last_insert_rowid());
                tx.record(rec_ms, author, "stock.container", ObjectKind::StockContainer, container.0)?;
                insert_movement(
                    tx,
                    &NewMovement {
                        container,
                        kind: MovementKind::Received,
                        change_mg: content,
                    },
                    at,
                    author,
                    None,
                    Some(id),
                    rec_ms,
                )?;
                ids.push(container);
            }
            Ok(ids)
        })
    }

    /// Records an open, keep, count or inventory with the movements it makes (checked by
    /// `check` against the ledgers read inside the write). Hands back its record id.
    pub fn record_stock(
        &mut self,
        record: &StockRecord,
        movements: &[NewMovement],
        at: DateTime<FixedOffset>,
        now: DateTime<FixedOffset>,
        check: impl Fn(&[ContainerLedger]) -> std::result::Result<(), StockRefusal>,
    ) -> Result<i64> {
        if matches!(
            record,
            StockRecord::Receive(_) | StockRecord::Strike | StockRecord::Witness { .. }
        ) {
            return Err(StoreError::Invalid(
                "a receipt, a witness or a strike is recorded by its own call".into(),
            ));
        }
        self.write_stock(record, at, now, None, |tx, id, author, rec_ms| {
            let mut ledgers = Vec::new();
            for c in crate::domain::stock::count::containers_of(record) {
                match ledger_in(tx, c)? {
                    Some(l) => ledgers.push(l),
                    None => return Err(StockRefusal::NoSuchContainer { container: c }.into()),
                }
            }
            check(&ledgers)?;
            for m in movements {
                insert_movement(tx, m, at, author, None, Some(id), rec_ms)?;
            }
            Ok(())
        })
        .map(|(id, ())| id)
    }

    /// The signed-in clinician witnesses the waste outside a session recorded as stock record
    /// `record`: a stock record of their own, checked inside the write (a waste, not struck,
    /// not witnessed yet, recorded by someone else). Hands back its id.
    pub fn witness_stock_waste(&mut self, record: i64, now: DateTime<FixedOffset>) -> Result<i64> {
        let me = self.clinician.id;
        self.write_stock(&StockRecord::Witness { record }, now, now, None, |tx, id, _, _| {
            let target: Option<(String, i64)> = tx
                .prepare_cached("SELECT kind, author_id FROM stock WHERE id = ?1")?
                .query_row([record], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            let refuse = |why: String| -> std::result::Result<(), WriteError> {
                Err(StockRefusal::Invalid(why).into())
            };
            match target {
                // The row just written is this witness itself, not what it witnesses.
                _ if record == id => return Err(StockRefusal::NoSuchRecord { id: record }.into()),
                None => return Err(StockRefusal::NoSuchRecord { id: record }.into()),
                Some((kind, _)) if kind != "waste" => {
                    let what = match kind.as_str() {
                        "receive" => "a receipt",
                        "open" => "an opening",
                        "keep" => "a vial kept",
                        "inventory" => "an inventory",
                        "count" => "a count",
                        "witness" => "a witness",
                        "strike" => "a strike",
                        _ => "another record",
                    };
                    return refuse(format!(
                        "stock record {record} is {what}, not a waste: only a waste outside a session is witnessed this way (a session's dose or waste: kapchart witness ENTRY)"
                    ));
                }
                Some((_, author)) if author == me => {
                    return refuse(format!(
                        "stock record {record} is your own waste: a second clinician witnesses it, signed in as themselves"
                    ));
                }
                Some(_) => {}
            }
            if let Some(by) = tx
                .prepare_cached("SELECT id FROM stock WHERE strikes = ?1")?
                .query_row([record], |r| r.get::<_, i64>(0))
                .optional()?
            {
                return Err(StockRefusal::AlreadyStruck { id: record, by }.into());
            }
            if let Some(done) = tx
                .prepare_cached(
                    "SELECT id FROM stock WHERE kind = 'witness' AND id != ?2
                       AND json_extract(payload, '$.record') = ?1
                       AND NOT EXISTS (SELECT 1 FROM stock x WHERE x.strikes = stock.id)",
                )?
                .query_row(params![record, id], |r| r.get::<_, i64>(0))
                .optional()?
            {
                return refuse(format!(
                    "stock record {record} was already witnessed (stock record {done})"
                ));
            }
            Ok(())
        })
        .map(|(id, ())| id)
    }

    /// Strikes a stock record, with the reason: what its movements moved comes back. A
    /// receipt is struck only while none of its containers was opened or drawn from.
    pub fn strike_stock(
        &mut self,
        target: i64,
        reason: &str,
        now: DateTime<FixedOffset>,
    ) -> Result<i64> {
        super::check_text(crate::domain::text::REASON, reason)?;
        let reason = reason.trim().to_string();
        // Named before the write: the strike's own row would otherwise meet the unique
        // index first.
        if let Some(by) = self
            .conn
            .prepare_cached("SELECT id FROM stock WHERE strikes = ?1")
            .and_then(|mut s| s.query_row([target], |r| r.get::<_, i64>(0)).optional())
            .map_err(|e| self.err(e))?
        {
            return Err(StockRefusal::AlreadyStruck { id: target, by }.into());
        }
        self.write_stock(&StockRecord::Strike, now, now, Some((target, &reason)), |tx, id, author, rec_ms| {
            let kind: Option<String> = tx
                .prepare_cached("SELECT kind FROM stock WHERE id = ?1")?
                .query_row([target], |r| r.get(0))
                .optional()?;
            let Some(kind) = kind else {
                return Err(StockRefusal::NoSuchRecord { id: target }.into());
            };
            if let Some(by) = tx
                .prepare_cached("SELECT id FROM stock WHERE strikes = ?1 AND id != ?2")?
                .query_row(params![target, id], |r| r.get::<_, i64>(0))
                .optional()?
            {
                return Err(StockRefusal::AlreadyStruck { id: target, by }.into());
            }
            if kind == "strike" {
                return Err(StockRefusal::Invalid(format!(
                    "stock record {target} is itself a strike: a strike is not struck"
                ))
                .into());
            }
            if kind == "receive" {
                let used: Vec<i64> = tx
                    .prepare_cached(
                        "SELECT DISTINCT m.container_id FROM stock_movements m JOIN stock_containers k ON k.id = m.container_id
                         WHERE k.receipt_id = ?1 AND m.kind != 'received' ORDER BY 1",
                    )?
                    .query_map([target], |r| r.get(0))?
                    .collect::<rusqlite::Result<_>>()?;
                if !used.is_empty() {
                    return Err(StockRefusal::ReceiptInUse {
                        id: target,
                        containers: used.into_iter().map(ContainerId).collect(),
                    }
                    .into());
                }
            }
            let moved: Vec<(i64, f64)> = tx
                .prepare_cached(
                    "SELECT container_id, sum(change_mg) FROM stock_movements WHERE stock_id = ?1 GROUP BY container_id",
                )?
                .query_map([target], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            for (container, change) in moved {
                insert_movement(
                    tx,
                    &NewMovement {
                        container: ContainerId(container),
                        kind: MovementKind::GivenBack {
                            reason: reason.clone(),
                        },
                        change_mg: -change,
                    },
                    now,
                    author,
                    None,
                    Some(id),
                    rec_ms,
                )?;
                // What was drawn since cannot be given back: the container would hold less
                // than nothing, now or at any point of its ledger.
                if let Some(l) = ledger_in(tx, ContainerId(container))?
                    && let Some(low) = l.lowest()
                    && low.balance_mg < -MG_EPSILON
                {
                    return Err(StockRefusal::StrikeBelowNothing {
                        record: target,
                        container: l.container.id,
                        at: low.movement.at,
                        balance_mg: low.balance_mg,
                    }
                    .into());
                }
            }
            Ok(())
        })
        .map(|(id, ())| id)
    }

    fn write_stock<T>(
        &mut self,
        record: &StockRecord,
        at: DateTime<FixedOffset>,
        now: DateTime<FixedOffset>,
        strikes: Option<(i64, &str)>,
        then: impl FnOnce(&Tx<'_>, i64, i64, i64) -> std::result::Result<T, WriteError>,
    ) -> Result<(i64, T)> {
        let payload = serde_json::to_value(record)
            .map_err(|e| StoreError::Invalid(format!("cannot store the stock record: {e}")))?;
        crate::domain::text::check_all_strings(crate::domain::text::ENTRY_TEXT, &payload)
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        let payload = payload.to_string();
        let author = self.clinician.id;
        self.write(|tx| {
            let (event_at, event_offset) = to_stored(at);
            let (recorded_at, recorded_offset) = to_stored(now);
            tx.prepare_cached(
                "INSERT INTO stock (kind, payload, event_at, event_offset, recorded_at, recorded_offset, author_id, strikes, reason)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(params![
                record.kind(),
                payload,
                event_at,
                event_offset,
                recorded_at,
                recorded_offset,
                author,
                strikes.map(|s| s.0),
                strikes.map(|s| s.1)
            ])?;
            let id = tx.last_insert_rowid();
            let action = if strikes.is_some() { "stock.strike" } else { "stock.add" };
            tx.record(recorded_at, author, action, ObjectKind::Stock, id)?;
            let value = then(tx, id, author, recorded_at)?;
            Ok((id, value))
        })
    }

    /// The ledgers of the containers `ids` (each read whole), in that order.
    fn ledgers_of(&self, ids: Vec<i64>) -> Result<Vec<ContainerLedger>> {
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(l) = ledger_in(&self.conn, ContainerId(id))? {
                out.push(l);
            }
        }
        Ok(out)
    }

    /// One container's ledger; `None` when there is no such container.
    pub fn container_ledger(&self, id: ContainerId) -> Result<Option<ContainerLedger>> {
        ledger_in(&self.conn, id)
    }

    /// The ledgers of the containers still holding something (sealed, open or kept): what
    /// the Stock screen and a dose's draw read. Which hold something is the list a trigger
    /// keeps (`stock_holding`, checked by `verify`), so this costs what is on hand, not the
    /// chart's history (BENCHMARKS.md, "The stock log at clinic scale").
    pub fn stock_on_hand(&self) -> Result<Vec<ContainerLedger>> {
        let ids: Vec<i64> = self
            .conn
            .prepare_cached("SELECT container_id FROM stock_holding ORDER BY container_id")
            .and_then(|mut s| {
                s.query_map([], |r| r.get(0))?
                    .collect::<rusqlite::Result<Vec<i64>>>()
            })
            .map_err(|e| self.err(e))?;
        self.ledgers_of(ids)
    }

    /// The ledgers of the containers with a movement between `from` and `to` (UTC ms,
    /// inclusive), of `drug` when given, each whole (so the running balance is right),
    /// plus every container on hand.
    pub fn stock_ledgers_between(
        &self,
        drug: Option<&str>,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<ContainerLedger>> {
        let ids: Vec<i64> = self
            .conn
            .prepare_cached(
                "SELECT DISTINCT m.container_id FROM stock_movements m JOIN stock_containers k ON k.id = m.container_id
                 WHERE m.event_at BETWEEN ?1 AND ?2 AND (?3 IS NULL OR k.drug = ?3) ORDER BY 1",
            )
            .and_then(|mut s| {
                s.query_map(params![from_ms, to_ms, drug], |r| r.get(0))?
                    .collect::<rusqlite::Result<Vec<i64>>>()
            })
            .map_err(|e| self.err(e))?;
        self.ledgers_of(ids)
    }

    /// Every container ever received, with its ledger, in id order (an inventory, a
    /// whole log, the property tests).
    pub fn all_stock(&self) -> Result<Vec<ContainerLedger>> {
        let ids: Vec<i64> = self
            .conn
            .prepare_cached("SELECT id FROM stock_containers ORDER BY id")
            .and_then(|mut s| {
                s.query_map([], |r| r.get(0))?
                    .collect::<rusqlite::Result<Vec<i64>>>()
            })
            .map_err(|e| self.err(e))?;
        self.ledgers_of(ids)
    }

    /// Stock records of `kind` (`count`, `inventory`, ...), newest first, at most `limit`,
    /// each with the strike that withdrew it, if any.
    pub fn stock_records(&self, kind: &str, limit: u32) -> Result<Vec<(StockRow, Option<i64>)>> {
        self.conn
            .prepare_cached(
                "SELECT s.id, s.payload, s.event_at, s.event_offset, s.recorded_at, s.recorded_offset, c.name, s.strikes, s.reason,
                        (SELECT x.id FROM stock x WHERE x.strikes = s.id)
                 FROM stock s JOIN clinicians c ON c.id = s.author_id
                 WHERE s.kind = ?1 ORDER BY s.event_at DESC, s.id DESC LIMIT ?2",
            )
            .and_then(|mut st| {
                st.query_map(params![kind, limit], |r| {
                    let payload: String = r.get(1)?;
                    let record = serde_json::from_str(&payload).map_err(|e| {
                        rusqlite::Error::FromSqlConversionFailure(
                            1,
                            rusqlite::types::Type::Text,
                            Box::new(e),
                        )
                    })?;
                    let strikes: Option<i64> = r.get(7)?;
                    let reason: Option<String> = r.get(8)?;
                    Ok((
                        StockRow {
                            id: r.get(0)?,
                            record,
                            event_time: from_stored(r.get(2)?, r.get(3)?),
                            recorded_time: from_stored(r.get(4)?, r.get(5)?),
                            author: r.get(6)?,
                            strikes: strikes.zip(reason),
                        },
                        r.get(9)?,
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(|e| self.err(e))
    }
}
