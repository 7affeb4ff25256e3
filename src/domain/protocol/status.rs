//! Where a check stands: upcoming, due, overdue, done, done late or missed, decided in one
//! place for every kind of check.

use crate::domain::EntryId;
use chrono::{DateTime, Duration, FixedOffset};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CheckStatus {
    /// Not yet due.
    Upcoming,
    /// Due now, not yet overdue (the baseline before the first dose is Due).
    Due,
    /// Past its grace period; a reading now still closes it, as done late.
    Overdue,
    /// Satisfied in time by this vitals entry.
    Done { by: EntryId },
    /// Satisfied by this vitals entry, taken `late_min` minutes after the due time.
    DoneLate { by: EntryId, late_min: u32 },
    /// No reading came for it before the next check of its kind fell due, or before the
    /// session ended (the baseline: before the first dose).
    Missed,
}

impl CheckStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Upcoming => "upcoming",
            CheckStatus::Due => "due",
            CheckStatus::Overdue => "overdue",
            CheckStatus::Done { .. } => "done",
            CheckStatus::DoneLate { .. } => "done-late",
            CheckStatus::Missed => "missed",
        }
    }

    /// A check due at `due` closed by entry `by` charted at `at`: done, or done late when
    /// `at` is past its grace (`due + grace`), late by the whole minutes from `due`. The
    /// protocol's checks and the REMS before-discharge checks are closed through here.
    pub fn closed(
        by: EntryId,
        at: DateTime<FixedOffset>,
        due: DateTime<FixedOffset>,
        grace: Duration,
    ) -> CheckStatus {
        if at >= due + grace {
            CheckStatus::DoneLate {
                by,
                late_min: u32::try_from((at - due).num_minutes()).unwrap_or(u32::MAX),
            }
        } else {
            CheckStatus::Done { by }
        }
    }

    /// A check due at `due` that nothing closed, at `now`: missed once the session ended or
    /// once `missed_at` (the next check of its kind falling due) passed; else upcoming
    /// before `due`, due within its grace, overdue after it. The protocol's checks and the
    /// REMS before-discharge checks are decided through here.
    pub fn unclosed(
        due: DateTime<FixedOffset>,
        grace: Duration,
        ended: Option<DateTime<FixedOffset>>,
        missed_at: Option<DateTime<FixedOffset>>,
        now: DateTime<FixedOffset>,
    ) -> CheckStatus {
        if ended.is_some() || missed_at.is_some_and(|m| m <= now) {
            CheckStatus::Missed
        } else if now < due {
            CheckStatus::Upcoming
        } else if now < due + grace {
            CheckStatus::Due
        } else {
            CheckStatus::Overdue
        }
    }

    /// The entry that closed the check.
    pub fn closed_by(self) -> Option<EntryId> {
        match self {
            CheckStatus::Done { by } | CheckStatus::DoneLate { by, .. } => Some(by),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(m: u32) -> DateTime<FixedOffset> {
        FixedOffset::east_opt(0)
            .unwrap()
            .with_ymd_and_hms(2026, 3, 4, 10, m, 0)
            .unwrap()
    }

    #[test]
    fn a_check_is_done_late_from_the_end_of_its_grace_and_overdue_from_the_same_minute() {
        let (due, grace) = (at(40), Duration::minutes(5));
        assert_eq!(
            CheckStatus::closed(7, at(44), due, grace),
            CheckStatus::Done { by: 7 }
        );
        assert_eq!(
            CheckStatus::closed(7, at(45), due, grace),
            CheckStatus::DoneLate { by: 7, late_min: 5 }
        );
        let open = |now| CheckStatus::unclosed(due, grace, None, Some(at(55)), now);
        assert_eq!(open(at(39)), CheckStatus::Upcoming);
        assert_eq!(open(at(40)), CheckStatus::Due);
        assert_eq!(open(at(44)), CheckStatus::Due);
        assert_eq!(open(at(45)), CheckStatus::Overdue);
        assert_eq!(open(at(55)), CheckStatus::Missed);
        assert_eq!(
            CheckStatus::unclosed(due, grace, Some(at(30)), None, at(20)),
            CheckStatus::Missed
        );
    }
}
