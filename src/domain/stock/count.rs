//! Counts and inventories. Clinics count at the start and end of the day, and a difference
//! needs a reason (practice in the tools clinics use, clinical.md section 8). An inventory
//! (21 CFR 1304.11) is taken on the first day and at least every two years, says whether at
//! the opening or the close of business, and may estimate an opened Schedule III container.
//! A theft or significant loss is noticed to the DEA in writing within one business day of
//! discovery, and DEA Form 106 follows (88 FR 40707): kapchart reminds; whether a loss is
//! significant is the registrant's judgement, so the threshold is the clinic's
//! (`[stock] significant_loss_mg`).

use super::{BusinessHours, ContainerId, InventoryKind, MG_EPSILON};
use chrono::{Datelike, Days, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

/// One container counted.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CountLine {
    pub container: ContainerId,
    /// What the ledger held when counted.
    pub expected_mg: f64,
    pub counted_mg: f64,
    /// An opened container's amount estimated rather than measured (21 CFR 1304.11(e)(3)).
    #[serde(default)]
    pub estimated: bool,
}

impl CountLine {
    /// Counted minus expected: below zero is missing stock.
    pub fn difference_mg(&self) -> f64 {
        super::ledger::round_mg(self.counted_mg - self.expected_mg)
    }

    pub fn balances(&self) -> bool {
        self.difference_mg().abs() <= MG_EPSILON
    }
}

/// A physical count of the stock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Count {
    pub taken: BusinessHours,
    pub lines: Vec<CountLine>,
    /// Why the counted amounts differ from the ledger; required when one does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Count {
    /// The lines whose count differs from the ledger.
    pub fn differences(&self) -> impl Iterator<Item = &CountLine> {
        self.lines.iter().filter(|l| !l.balances())
    }

    /// Stock missing in total (positive mg), found by this count.
    pub fn missing_mg(&self) -> f64 {
        -self
            .differences()
            .map(CountLine::difference_mg)
            .filter(|d| *d < 0.0)
            .sum::<f64>()
    }
}

/// An inventory (21 CFR 1304.11).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Inventory {
    pub kind: InventoryKind,
    pub taken: BusinessHours,
    pub lines: Vec<CountLine>,
}

/// Why a count is refused as it stands.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CountRefusal {
    #[error(
        "the count differs from the ledger ({}): give the reason with --reason; nothing was written",
        differences.join(", ")
    )]
    NeedsReason { differences: Vec<String> },
}

/// The containers a record names (to read their ledgers when it is written).
pub fn containers_of(record: &super::StockRecord) -> Vec<ContainerId> {
    use super::StockRecord;
    match record {
        StockRecord::Open { container } | StockRecord::Keep { container, .. } => vec![*container],
        StockRecord::Waste(w) => vec![w.container],
        StockRecord::Count(c) => c.lines.iter().map(|l| l.container).collect(),
        StockRecord::Inventory(i) => i.lines.iter().map(|l| l.container).collect(),
        StockRecord::Receive(_) | StockRecord::Witness { .. } | StockRecord::Strike => Vec::new(),
    }
}

/// A count is written only with a reason when it does not balance.
pub fn check(count: &Count) -> Result<(), CountRefusal> {
    let differences: Vec<String> = count
        .differences()
        .map(|l| {
            format!(
                "{} expected {} mg, counted {} mg",
                l.container,
                crate::domain::entry::trim_number(l.expected_mg, 3),
                crate::domain::entry::trim_number(l.counted_mg, 3)
            )
        })
        .collect();
    let has_reason = count
        .reason
        .as_deref()
        .is_some_and(|r| !r.trim().is_empty());
    if !differences.is_empty() && !has_reason {
        return Err(CountRefusal::NeedsReason { differences });
    }
    Ok(())
}

/// What a count that found stock missing reminds of: the written notice to the DEA is due
/// within one business day of discovery (88 FR 40707), when the loss is past the clinic's
/// threshold. Weekends are skipped; the clinic's own holidays are not known to kapchart.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LossNotice {
    pub missing_mg: f64,
    pub notice_by: NaiveDate,
}

pub fn loss_notice(
    count: &Count,
    significant_loss_mg: f64,
    discovered: NaiveDate,
) -> Option<LossNotice> {
    let missing = count.missing_mg();
    if missing <= MG_EPSILON || missing <= significant_loss_mg {
        return None;
    }
    Some(LossNotice {
        missing_mg: missing,
        notice_by: next_business_day(discovered),
    })
}

fn next_business_day(day: NaiveDate) -> NaiveDate {
    let mut d = day;
    loop {
        d = d.checked_add_days(Days::new(1)).unwrap_or(d);
        if !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) || d == day {
            return d;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(lines: &[(f64, f64)], reason: Option<&str>) -> Count {
        Count {
            taken: BusinessHours::Close,
            lines: lines
                .iter()
                .enumerate()
                .map(|(i, (e, c))| CountLine {
                    container: ContainerId(i as i64 + 1),
                    expected_mg: *e,
                    counted_mg: *c,
                    estimated: false,
                })
                .collect(),
            reason: reason.map(str::to_string),
        }
    }

    #[test]
    fn a_count_that_balances_needs_no_reason_and_one_that_does_not_does() {
        assert_eq!(check(&count(&[(500.0, 500.0), (65.0, 65.0)], None)), Ok(()));
        let e = check(&count(&[(500.0, 500.0), (65.0, 60.0)], None)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the count differs from the ledger (V2 expected 65 mg, counted 60 mg): give the reason with --reason; nothing was written"
        );
        assert_eq!(
            check(&count(&[(65.0, 60.0)], Some("  "))),
            Err(CountRefusal::NeedsReason {
                differences: vec!["V1 expected 65 mg, counted 60 mg".into()]
            })
        );
        assert_eq!(check(&count(&[(65.0, 60.0)], Some("spill"))), Ok(()));
    }

    #[test]
    fn a_loss_past_the_threshold_reminds_of_the_notice_by_the_next_business_day() {
        let friday = NaiveDate::from_ymd_opt(2026, 12, 4).unwrap();
        let c = count(&[(65.0, 40.0), (10.0, 12.0)], Some("unknown"));
        assert_eq!(c.missing_mg(), 25.0);
        let n = loss_notice(&c, 10.0, friday).unwrap();
        assert_eq!(n.notice_by, NaiveDate::from_ymd_opt(2026, 12, 7).unwrap());
        assert_eq!(loss_notice(&c, 25.0, friday), None);
        let wednesday = NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
        assert_eq!(
            loss_notice(&c, 0.0, wednesday).unwrap().notice_by,
            NaiveDate::from_ymd_opt(2026, 12, 3).unwrap()
        );
        // Found more than expected is no loss.
        assert_eq!(
            loss_notice(&count(&[(10.0, 12.0)], Some("r")), 0.0, friday),
            None
        );
    }
}
