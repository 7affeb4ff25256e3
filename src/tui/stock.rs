//! The controlled-substance stock screen, opened from the home screen: the containers on
//! hand with their balances, the last 24 hours' movements with who moved them and who
//! witnessed, the wastes of those hours no second clinician has witnessed yet, and the last
//! count. Not a calendar day: just after midnight, the waste charted at 23:58 still shows
//! as awaiting its witness. It is read
//! when opened (`app::stock`); it names no patient, so opening it reads no record.

use super::keymap::{Command, Context};
use super::state::Effect;
use crate::app::{Chart, ChartingError};
use crate::domain::stock::MG_EPSILON;
use crate::domain::stock::StockRow;
use crate::domain::stock::ledger::{ContainerLedger, LedgerLine, MovementKind};
use chrono::{DateTime, Duration, FixedOffset};

/// What the screen shows, as read when it was opened.
#[derive(Debug, Clone, PartialEq)]
pub struct StockData {
    /// When it was read: the movements shown are of the 24 hours before it.
    pub read_at: DateTime<FixedOffset>,
    /// The containers holding something, in id order.
    pub on_hand: Vec<ContainerLedger>,
    /// The last 24 hours' movements of every container, newest first.
    pub recent: Vec<Moved>,
    /// The newest count, and the record that struck it, if one did.
    pub last_count: Option<(StockRow, Option<i64>)>,
}

/// One movement of the last 24 hours, with its container's drug.
#[derive(Debug, Clone, PartialEq)]
pub struct Moved {
    pub drug: String,
    pub line: LedgerLine,
    /// A later movement of the same container gave back what this one took (the dose or
    /// waste behind it was corrected).
    pub given_back: bool,
}

impl Moved {
    /// A waste that stands and that no second clinician has witnessed.
    pub fn awaits_witness(&self) -> bool {
        let m = &self.line.movement;
        matches!(m.kind, MovementKind::Wasted { .. }) && m.witness.is_none() && !self.given_back
    }
}

impl StockData {
    /// The last 24 hours' wastes that await a witness, newest first.
    pub fn awaiting_witness(&self) -> Vec<&Moved> {
        self.recent.iter().filter(|m| m.awaits_witness()).collect()
    }
}

/// How far back the screen shows movements.
pub const RECENT: Duration = Duration::hours(24);

/// Reads the stock for the screen: the movements of the [`RECENT`] hours before `now`.
pub fn read(chart: &Chart, now: DateTime<FixedOffset>) -> Result<StockData, ChartingError> {
    let (from, to) = (now - RECENT, now);
    let on_hand = crate::app::stock::on_hand(chart)?;
    let mut recent: Vec<Moved> = Vec::new();
    for ledger in crate::app::stock::log(chart, None, from, to)? {
        for (i, line) in ledger.lines.iter().enumerate() {
            let at = line.movement.at;
            if at < from || at > to {
                continue;
            }
            let took = -line.movement.change_mg;
            let given_back = took > MG_EPSILON
                && ledger.lines[i + 1..].iter().any(|later| {
                    matches!(later.movement.kind, MovementKind::GivenBack { .. })
                        && (later.movement.change_mg - took).abs() <= MG_EPSILON
                });
            recent.push(Moved {
                drug: ledger.container.drug().to_string(),
                line: line.clone(),
                given_back,
            });
        }
    }
    recent.sort_by(|a, b| {
        let (a, b) = (&a.line.movement, &b.line.movement);
        b.at.cmp(&a.at).then(b.id.cmp(&a.id))
    });
    let last_count = crate::app::stock::records(chart, "count", 1)?
        .into_iter()
        .next();
    Ok(StockData {
        read_at: now,
        on_hand,
        recent,
        last_count,
    })
}

/// The screen: what was read, and what went wrong reading it again.
#[derive(Debug, Clone, PartialEq)]
pub struct StockScreen {
    pub data: StockData,
    pub error: Option<String>,
}

impl StockScreen {
    pub fn new(data: StockData) -> StockScreen {
        StockScreen { data, error: None }
    }

    pub fn context(&self) -> Context {
        Context::Stock
    }

    /// Esc (or q) goes home; nothing else is done here.
    pub fn on_key(&mut self, command: Option<Command>) -> Option<Effect> {
        match command {
            Some(Command::Home) => Some(Effect::LoadHome),
            _ => None,
        }
    }
}
