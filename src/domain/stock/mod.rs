//! The controlled-substance stock: ketamine and esketamine are DEA Schedule III (21 CFR
//! 1308.13), and a practitioner who administers them keeps a record of what was received,
//! each administration and every other disposal (21 CFR 1304.22(c)), with inventories (21 CFR
//! 1304.11), kept two years and readily retrievable (21 CFR 1304.04; clinical.md section 8).
//!
//! Each commercial container (a vial, or one esketamine nasal device) has an id shown as
//! `V12` and a ledger of movements: received, opened, drawn for a dose, wasted, kept at the
//! end of a session, adjusted by a count, given back when the dose or waste that took it is
//! corrected. Its balance is the sum of its ledger ([`ledger`]), derived in that one place.

pub mod at_hand;
pub mod count;
pub mod draws;
pub mod ledger;
mod presentation;

pub use draws::StockRefusal;
pub use presentation::{Presentation, StrengthText, parse_expiry, parse_strength, parse_volume};

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A container's id, shown and typed as `V12`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ContainerId(pub i64);

impl fmt::Display for ContainerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "V{}", self.0)
    }
}

impl ContainerId {
    /// `V12`, `v12` or `12`.
    pub fn parse(text: &str) -> Option<ContainerId> {
        let digits = text
            .strip_prefix('V')
            .or_else(|| text.strip_prefix('v'))
            .unwrap_or(text);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits
            .parse::<i64>()
            .ok()
            .filter(|n| *n > 0)
            .map(ContainerId)
    }
}

/// Milligrams below which two quantities are the same: amounts are typed with at most three
/// decimals (`grammar::doses::AMOUNT_DECIMALS`).
pub const MG_EPSILON: f64 = 0.0005;

/// What a delivery brought in: the record 21 CFR 1304.22(c) asks for, per receipt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Receipt {
    pub drug: String,
    pub presentation: Presentation,
    /// How many containers arrived.
    pub containers: u32,
    pub lot: String,
    /// Expiry as printed, `YYYY-MM`.
    pub expires: String,
    pub supplier: String,
    pub supplier_address: String,
    /// The supplier's DEA registration number.
    pub supplier_dea: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice: Option<String>,
}

/// One container as the chart knows it: its receipt and its place in it.
#[derive(Debug, Clone, PartialEq)]
pub struct Container {
    pub id: ContainerId,
    /// The stock record of the receipt.
    pub receipt_id: i64,
    /// 1..=containers within the receipt.
    pub number: u32,
    pub receipt: Receipt,
    pub received: DateTime<FixedOffset>,
}

impl Container {
    pub fn drug(&self) -> &str {
        &self.receipt.drug
    }

    pub fn content_mg(&self) -> f64 {
        self.receipt.presentation.content_mg()
    }

    /// "V12 ketamine 50 mg/mL, 10 mL vial, lot L123".
    pub fn describe(&self) -> String {
        format!(
            "{} {} {}, lot {}",
            self.id, self.receipt.drug, self.receipt.presentation, self.receipt.lot
        )
    }
}

/// The amount a dose or a waste took from a container.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Draw {
    pub container: ContainerId,
    pub mg: f64,
}

/// The rest of a container, or part of it, wasted: charted in the session where it happened,
/// and witnessed by a second clinician as a dose is (two-person witnessing of waste is state
/// rule and clinic policy: clinical.md section 8).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Waste {
    pub drug: String,
    pub mg: f64,
    /// How it was disposed of (`[stock] waste_manner` unless the line says).
    pub manner: String,
    /// The container it came from, filled in when charted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drawn: Vec<Draw>,
    /// The container named on the line (`vial V12`), before it is drawn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vial: Option<ContainerId>,
}

/// What is left of a container wasted outside any session (a kept vial past its beyond-use
/// date, one dropped or contaminated): a disposal 21 CFR 1304.22(c) asks the date, manner and
/// quantity of, recorded with why, and witnessed by a second clinician as a session's waste
/// is (two-person witnessing: clinical.md section 8). Destroying stock through a reverse
/// distributor (DEA Form 41) is not this.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StockWaste {
    pub container: ContainerId,
    pub mg: f64,
    /// How it was disposed of (`[stock] waste_manner` unless given).
    pub manner: String,
    /// Why it was wasted outside a session.
    pub reason: String,
}

/// Which inventory 21 CFR 1304.11 asks for this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InventoryKind {
    /// On the first day controlled substances are kept (a zero count is allowed).
    Initial,
    /// At least every two years after.
    Biennial,
    /// Asked for by the clinic, the state or an inspector.
    OnDemand,
}

impl InventoryKind {
    pub fn label(self) -> &'static str {
        match self {
            InventoryKind::Initial => "initial",
            InventoryKind::Biennial => "biennial",
            InventoryKind::OnDemand => "on-demand",
        }
    }

    pub fn parse(text: &str) -> Option<InventoryKind> {
        [
            InventoryKind::Initial,
            InventoryKind::Biennial,
            InventoryKind::OnDemand,
        ]
        .into_iter()
        .find(|k| k.label().eq_ignore_ascii_case(text))
    }
}

/// Whether an inventory or count was taken at the opening or the close of business (21 CFR
/// 1304.11(a) asks an inventory to say which).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BusinessHours {
    Opening,
    Close,
}

impl BusinessHours {
    pub fn label(self) -> &'static str {
        match self {
            BusinessHours::Opening => "opening",
            BusinessHours::Close => "close",
        }
    }

    pub fn parse(text: &str) -> Option<BusinessHours> {
        [BusinessHours::Opening, BusinessHours::Close]
            .into_iter()
            .find(|k| k.label().eq_ignore_ascii_case(text))
    }
}

/// One record of the stock, as written: each is signed, audited and append-only; a wrong one
/// is struck by a later one with a reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum StockRecord {
    /// A delivery: its containers get their ids.
    Receive(Receipt),
    /// A container opened (its seal broken) for use.
    Open { container: ContainerId },
    /// The rest of an opened multi-dose vial kept for later, until its beyond-use date.
    Keep {
        container: ContainerId,
        beyond_use: NaiveDate,
    },
    /// A physical count of containers: expected against counted.
    Count(count::Count),
    /// An inventory in the sense of 21 CFR 1304.11.
    Inventory(count::Inventory),
    /// A waste outside any session.
    Waste(StockWaste),
    /// A second clinician witnessed the waste recorded as stock record `record`.
    Witness { record: i64 },
    /// Withdraws the record it corrects; the reason is on the row.
    Strike,
}

impl StockRecord {
    /// As stored in the `stock.kind` column.
    pub fn kind(&self) -> &'static str {
        match self {
            StockRecord::Receive(_) => "receive",
            StockRecord::Open { .. } => "open",
            StockRecord::Keep { .. } => "keep",
            StockRecord::Count(_) => "count",
            StockRecord::Inventory(_) => "inventory",
            StockRecord::Waste(_) => "waste",
            StockRecord::Witness { .. } => "witness",
            StockRecord::Strike => "strike",
        }
    }
}

/// A stock record as the chart holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct StockRow {
    pub id: i64,
    pub record: StockRecord,
    pub event_time: DateTime<FixedOffset>,
    pub recorded_time: DateTime<FixedOffset>,
    pub author: String,
    /// The row this one strikes, with the reason.
    pub strikes: Option<(i64, String)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn container_ids_read_as_typed() {
        assert_eq!(ContainerId::parse("V12"), Some(ContainerId(12)));
        assert_eq!(ContainerId::parse("v7"), Some(ContainerId(7)));
        assert_eq!(ContainerId::parse("3"), Some(ContainerId(3)));
        for bad in ["V", "", "V0", "V-1", "V1x", "X12", "V99999999999999999999"] {
            assert_eq!(ContainerId::parse(bad), None, "{bad}");
        }
        assert_eq!(ContainerId(12).to_string(), "V12");
    }

    #[test]
    fn records_keep_their_kind_in_the_json() {
        let r = StockRecord::Open {
            container: ContainerId(4),
        };
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(json, r#"{"kind":"open","container":4}"#);
        assert_eq!(serde_json::from_str::<StockRecord>(&json).unwrap(), r);
        assert_eq!(r.kind(), "open");
    }
}
