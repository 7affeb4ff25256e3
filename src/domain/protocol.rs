//! Protocol timers for a dosing session: which vitals checks the schedule asks for, and
//! whether each is done, upcoming, due or overdue. Pure: the caller passes the time.
//!
//! The schedule (defaults in `assets/config.toml`, with sources):
//! - a baseline: vitals with a blood pressure before the first dose;
//! - rounds of vitals after the first dose (T+0), phase by phase: a phase checks every
//!   `every_min` minutes up to its `until_min`, the next phase counts on from there, and a last
//!   phase without `until_min` runs until the session ends;
//! - extra blood pressure checks at fixed minutes (`bp_at_min`); a check falling on a minute
//!   that already has a vitals check makes that check need a BP.
//!
//! A timed check is *due* at its time and *overdue* `overdue_after_min` minutes later.
//!
//! Which reading satisfies which check ("covers"): the check due at `d` covers readings whose
//! event time is at or after `d - early_min` (but after the previous check's due time, or after
//! the first dose for the first check), and before the next check's due time. A BP check needs
//! a reading with a BP. Taking readings in time order, each satisfies at most one still-open
//! check it covers: a reading with a BP goes first to a BP check, then to the check whose due
//! time is nearest (the earlier on a tie). So a reading a few minutes before a check counts for
//! that check, a late reading still counts for the check it follows, a BP taken a minute after
//! T+40 is the T+40 BP, and one reading never ticks off two checks.
//!
//! The baseline is satisfied by the latest vitals with a BP whose event time is at or before the
//! first dose (before any dose: by any vitals with a BP).

use super::{ChartLine, EntryId, EntryStatus, Payload};
use chrono::{DateTime, Duration, FixedOffset};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The vitals schedule of a dosing session. Deserialised from the `[protocol]` table of the
/// config (unknown keys refused, the schedule checked for sense).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ProtocolToml")]
pub struct ProtocolConfig {
    /// Ask for vitals with a BP before the first dose.
    pub baseline: bool,
    /// Rounds of vitals after the first dose, in order.
    pub phases: Vec<Phase>,
    /// Extra BP checks, in minutes after the first dose.
    pub bp_at_min: Vec<u32>,
    /// Minimum observation after the first dose before discharge, in minutes.
    pub minimum_observation_min: u32,
    /// A check turns overdue this many minutes after its due time.
    pub overdue_after_min: u32,
    /// A reading up to this many minutes before a check's due time counts for it.
    pub early_min: u32,
}

/// One phase of vitals rounds: a check every `every_min` minutes, counted from the end of the
/// previous phase (T+0 for the first), up to `until_min` (open-ended when absent, last phase
/// only). `bp = true` makes each of its checks need a blood pressure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Phase {
    pub every_min: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until_min: Option<u32>,
    #[serde(default)]
    pub bp: bool,
}

/// The `[protocol]` table as written, before its schedule is checked.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProtocolToml {
    baseline: bool,
    phases: Vec<Phase>,
    bp_at_min: Vec<u32>,
    minimum_observation_min: u32,
    overdue_after_min: u32,
    early_min: u32,
}

impl TryFrom<ProtocolToml> for ProtocolConfig {
    type Error = String;
    fn try_from(t: ProtocolToml) -> Result<Self, Self::Error> {
        let cfg = ProtocolConfig {
            baseline: t.baseline,
            phases: t.phases,
            bp_at_min: t.bp_at_min,
            minimum_observation_min: t.minimum_observation_min,
            overdue_after_min: t.overdue_after_min,
            early_min: t.early_min,
        };
        cfg.validate()?;
        Ok(cfg)
    }
}

impl ProtocolConfig {
    /// Checks that the schedule makes sense: every phase has `every_min` of at least 1, phase
    /// ends increase, only the last phase is open-ended, BP checks are after the dose.
    pub fn validate(&self) -> Result<(), String> {
        let mut end = 0;
        for (i, p) in self.phases.iter().enumerate() {
            let n = i + 1;
            if p.every_min == 0 {
                return Err(format!("protocol phase {n}: every_min must be at least 1"));
            }
            match p.until_min {
                Some(u) if u <= end => {
                    return Err(format!(
                        "protocol phase {n}: until_min {u} must be after the previous phase's end ({end})"
                    ));
                }
                Some(u) => end = u,
                None if n < self.phases.len() => {
                    return Err(format!(
                        "protocol phase {n}: only the last phase may leave out until_min"
                    ));
                }
                None => {}
            }
        }
        if self.bp_at_min.contains(&0) {
            return Err(
                "protocol bp_at_min: 0 is the dose itself; use baseline for the BP before dosing"
                    .to_string(),
            );
        }
        Ok(())
    }
}

/// When the minimum observation ends: `minimum_observation_min` after the first dose.
pub fn minimum_observation_until(
    cfg: &ProtocolConfig,
    first_dose: Option<DateTime<FixedOffset>>,
) -> Option<DateTime<FixedOffset>> {
    first_dose.map(|d| d + minutes(cfg.minimum_observation_min))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CheckKind {
    /// Vitals with a BP before the first dose.
    Baseline,
    /// Any vitals.
    Vitals,
    /// Vitals with a BP.
    BloodPressure,
}

impl CheckKind {
    pub fn needs_bp(self) -> bool {
        self != CheckKind::Vitals
    }
}

impl fmt::Display for CheckKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CheckKind::Baseline => "baseline vitals with BP",
            CheckKind::Vitals => "vitals",
            CheckKind::BloodPressure => "BP",
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CheckStatus {
    /// Satisfied by this vitals entry.
    Done { by: EntryId },
    /// Not yet due.
    Upcoming,
    /// Due now, not yet overdue (the baseline before the first dose is Due).
    Due,
    /// Past its grace period, or missed: the session ended or the dose was given without it.
    Overdue,
}

/// One check of the schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub kind: CheckKind,
    /// When it is due; None for the baseline before the first dose, the first dose's time after.
    pub due: Option<DateTime<FixedOffset>>,
    /// Minutes after the first dose (0 for the baseline once dosed); None before the dose.
    pub t_plus_min: Option<u32>,
    pub status: CheckStatus,
}

impl Check {
    pub fn is_done(&self) -> bool {
        matches!(self.status, CheckStatus::Done { .. })
    }
}

impl fmt::Display for Check {
    /// "baseline vitals with BP", "vitals T+15 (10:15)", "BP T+40 (10:40)".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.kind, self.t_plus_min, self.due) {
            (CheckKind::Baseline, _, _) => write!(f, "{}", self.kind),
            (_, Some(t), Some(due)) => write!(f, "{} T+{t} ({})", self.kind, due.format("%H:%M")),
            _ => write!(f, "{}", self.kind),
        }
    }
}

/// A vitals entry that can satisfy a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reading {
    pub entry: EntryId,
    pub at: DateTime<FixedOffset>,
    pub has_bp: bool,
}

/// The current vitals entries (not amended away, not struck; an amending entry is current), in
/// event-time order.
pub fn readings_from(lines: &[ChartLine]) -> Vec<Reading> {
    let mut readings: Vec<Reading> = lines
        .iter()
        .filter(|l| l.status == EntryStatus::Current)
        .filter_map(|l| match &l.entry.payload {
            Payload::Vitals(v) => Some(Reading {
                entry: l.entry.id,
                at: l.entry.event_time,
                has_bp: v.bp.is_some(),
            }),
            _ => None,
        })
        .collect();
    readings.sort_by_key(|r| (r.at, r.entry));
    readings
}

/// The checks of a dosing session: the baseline, every timed check due up to `now` (or up to
/// the session end), and, while the session runs, the following ones up to the first that is
/// not done yet. Before the first dose only the baseline is known. Once the session has ended,
/// checks left unsatisfied are Overdue (missed); an ended session without a dose lists the
/// baseline only when it was done.
pub fn checks(
    cfg: &ProtocolConfig,
    first_dose: Option<DateTime<FixedOffset>>,
    ended: Option<DateTime<FixedOffset>>,
    readings: &[Reading],
    now: DateTime<FixedOffset>,
) -> Vec<Check> {
    let mut readings = readings.to_vec();
    readings.sort_by_key(|r| (r.at, r.entry));
    let mut out = Vec::new();

    let Some(dose) = first_dose else {
        if cfg.baseline {
            let by = readings.iter().rev().find(|r| r.has_bp).map(|r| r.entry);
            let status = match by {
                Some(by) => Some(CheckStatus::Done { by }),
                None if ended.is_none() => Some(CheckStatus::Due),
                None => None,
            };
            out.extend(status.map(|status| Check {
                kind: CheckKind::Baseline,
                due: None,
                t_plus_min: None,
                status,
            }));
        }
        return out;
    };

    if cfg.baseline {
        let by = readings
            .iter()
            .rev()
            .find(|r| r.has_bp && r.at <= dose)
            .map(|r| r.entry);
        out.push(Check {
            kind: CheckKind::Baseline,
            due: Some(dose),
            t_plus_min: Some(0),
            status: by.map_or(CheckStatus::Overdue, |by| CheckStatus::Done { by }),
        });
    }

    // Readings taken after the session ended satisfy nothing.
    readings.retain(|r| r.at > dose && ended.is_none_or(|e| r.at <= e));

    // The slots whose window could hold a reading or that are due by the limit, plus one more
    // (never done: no reading reaches its window) that ends the last one's window.
    let limit = ended.unwrap_or(now);
    let reach = readings.last().map_or(limit, |r| r.at.max(limit));
    let early = minutes(cfg.early_min);
    let mut slots = Vec::new();
    for slot in schedule(cfg) {
        let due = dose + minutes(slot.minute);
        slots.push((slot, due));
        if due - early > reach {
            break;
        }
    }

    // Each reading, in time order, satisfies one open check that covers it: a BP check first
    // when it has a BP, else the nearest in time.
    let mut done: Vec<Option<EntryId>> = vec![None; slots.len()];
    for r in &readings {
        let covers = |i: usize| {
            let (slot, due) = slots[i];
            let after = if i == 0 { dose } else { slots[i - 1].1 };
            let before = slots.get(i + 1).map(|s| s.1);
            (r.has_bp || !slot.bp)
                && r.at >= due - early
                && r.at > after
                && before.is_none_or(|b| r.at < b)
        };
        let chosen = (0..slots.len())
            .filter(|&i| done[i].is_none() && covers(i))
            .min_by_key(|&i| {
                let (slot, due) = slots[i];
                (!(r.has_bp && slot.bp), (r.at - due).abs(), i)
            });
        if let Some(i) = chosen {
            done[i] = Some(r.entry);
        }
    }

    let grace = minutes(cfg.overdue_after_min);
    for ((slot, due), by) in slots.into_iter().zip(done) {
        if due > limit && ended.is_some() {
            break;
        }
        let status = match (by, ended) {
            (Some(by), _) => CheckStatus::Done { by },
            (None, Some(_)) => CheckStatus::Overdue,
            (None, None) if now < due => CheckStatus::Upcoming,
            (None, None) if now < due + grace => CheckStatus::Due,
            (None, None) => CheckStatus::Overdue,
        };
        let stop = due > limit && by.is_none();
        out.push(Check {
            kind: if slot.bp {
                CheckKind::BloodPressure
            } else {
                CheckKind::Vitals
            },
            due: Some(due),
            t_plus_min: Some(slot.minute),
            status,
        });
        if stop {
            break;
        }
    }
    out
}

/// The check to show next: the earliest overdue one, else the earliest due, else the earliest
/// upcoming. None when every listed check is done.
pub fn next_check(checks: &[Check]) -> Option<&Check> {
    checks.iter().filter(|c| !c.is_done()).min_by_key(|c| {
        let rank = match c.status {
            CheckStatus::Overdue => 0,
            CheckStatus::Due => 1,
            CheckStatus::Upcoming | CheckStatus::Done { .. } => 2,
        };
        (rank, c.due)
    })
}

/// One timed check of the schedule, in minutes after the first dose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Slot {
    minute: u32,
    bp: bool,
}

/// The timed checks in order: phase rounds merged with the extra BP minutes. Endless when the
/// last phase is open-ended.
fn schedule(cfg: &ProtocolConfig) -> impl Iterator<Item = Slot> + '_ {
    let mut bp_at = cfg.bp_at_min.clone();
    bp_at.sort_unstable();
    bp_at.dedup();
    let mut bp_at = bp_at.into_iter().peekable();
    let mut rounds = rounds(&cfg.phases).peekable();
    std::iter::from_fn(move || {
        let (round, extra) = (rounds.peek().copied(), bp_at.peek().copied());
        match (round, extra) {
            (None, None) => None,
            (Some(r), Some(m)) if m < r.minute => {
                bp_at.next();
                Some(Slot {
                    minute: m,
                    bp: true,
                })
            }
            (Some(r), Some(m)) if m == r.minute => {
                rounds.next();
                bp_at.next();
                Some(Slot {
                    minute: m,
                    bp: true,
                })
            }
            (Some(r), _) => {
                rounds.next();
                Some(r)
            }
            (None, Some(m)) => {
                bp_at.next();
                Some(Slot {
                    minute: m,
                    bp: true,
                })
            }
        }
    })
}

/// The phase rounds in order. Phases with `every_min` 0 are skipped, and a phase never counts
/// back before the previous phase's end, so the minutes always increase.
fn rounds(phases: &[Phase]) -> impl Iterator<Item = Slot> + '_ {
    let mut phase = 0;
    let mut start: u32 = 0;
    let mut k: u32 = 1;
    std::iter::from_fn(move || {
        loop {
            let p = phases.get(phase)?;
            let minute = start.checked_add(k.checked_mul(p.every_min)?)?;
            if p.every_min == 0 || p.until_min.is_some_and(|u| minute > u) {
                start = start.max(p.until_min?);
                phase += 1;
                k = 1;
                continue;
            }
            k += 1;
            return Some(Slot { minute, bp: p.bp });
        }
    })
}

fn minutes(m: u32) -> Duration {
    Duration::minutes(i64::from(m))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::entry::{BloodPressure, VitalSigns};
    use crate::domain::{Correction, Entry, chart_lines};
    use chrono::TimeZone;

    fn at_s(h: u32, m: u32, s: u32) -> DateTime<FixedOffset> {
        FixedOffset::east_opt(3600)
            .unwrap()
            .with_ymd_and_hms(2026, 11, 26, h, m, s)
            .unwrap()
    }

    fn at(h: u32, m: u32) -> DateTime<FixedOffset> {
        at_s(h, m, 0)
    }

    fn defaults() -> ProtocolConfig {
        ProtocolConfig {
            baseline: true,
            phases: vec![
                Phase {
                    every_min: 15,
                    until_min: Some(60),
                    bp: false,
                },
                Phase {
                    every_min: 30,
                    until_min: None,
                    bp: false,
                },
            ],
            bp_at_min: vec![40],
            minimum_observation_min: 120,
            overdue_after_min: 3,
            early_min: 5,
        }
    }

    const DOSE: (u32, u32) = (10, 0);

    fn dose() -> Option<DateTime<FixedOffset>> {
        Some(at(DOSE.0, DOSE.1))
    }

    fn vitals(entry: EntryId, at: DateTime<FixedOffset>) -> Reading {
        Reading {
            entry,
            at,
            has_bp: false,
        }
    }

    fn bp(entry: EntryId, at: DateTime<FixedOffset>) -> Reading {
        Reading {
            entry,
            at,
            has_bp: true,
        }
    }

    /// The check at T+`t`.
    fn at_t(checks: &[Check], t: u32) -> &Check {
        checks
            .iter()
            .find(|c| c.kind != CheckKind::Baseline && c.t_plus_min == Some(t))
            .unwrap_or_else(|| panic!("no check at T+{t} in {checks:#?}"))
    }

    fn status_at(readings: &[Reading], t: u32, now: DateTime<FixedOffset>) -> CheckStatus {
        at_t(&checks(&defaults(), dose(), None, readings, now), t).status
    }

    fn summary(checks: &[Check]) -> Vec<(Option<u32>, CheckKind, CheckStatus)> {
        checks
            .iter()
            .map(|c| (c.t_plus_min, c.kind, c.status))
            .collect()
    }

    #[test]
    fn shipped_config_is_the_default_schedule() {
        assert_eq!(crate::config::Config::default().protocol, defaults());
    }

    #[test]
    fn a_clinic_overrides_one_key_or_the_whole_schedule() {
        use crate::config::Config;
        let c = Config::from_layers(Some(("mine.toml", "[protocol]\nearly_min = 2\n"))).unwrap();
        assert_eq!(c.protocol.early_min, 2);
        assert_eq!(c.protocol.phases, defaults().phases);
        let err = Config::from_layers(Some((
            "mine.toml",
            "[protocol]\nphases = [{ every_min = 0 }]\n",
        )))
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("mine.toml") && err.contains("every_min must be at least 1"),
            "{err}"
        );
    }

    #[test]
    fn default_schedule_due_times() {
        use CheckKind::*;
        use CheckStatus::*;
        let list = checks(&defaults(), dose(), None, &[], at(12, 10));
        assert_eq!(
            summary(&list),
            [
                (Some(0), Baseline, Overdue),
                (Some(15), Vitals, Overdue),
                (Some(30), Vitals, Overdue),
                (Some(40), BloodPressure, Overdue),
                (Some(45), Vitals, Overdue),
                (Some(60), Vitals, Overdue),
                (Some(90), Vitals, Overdue),
                (Some(120), Vitals, Overdue),
                (Some(150), Vitals, Upcoming),
            ]
        );
        assert_eq!(list[0].due, dose());
        assert_eq!(list[3].due, Some(at(10, 40)));
        assert_eq!(list[8].due, Some(at(12, 30)));
    }

    #[test]
    fn right_after_the_dose_the_next_check_is_t15() {
        let list = checks(&defaults(), dose(), None, &[bp(1, at(9, 50))], at(10, 0));
        assert_eq!(
            summary(&list),
            [
                (Some(0), CheckKind::Baseline, CheckStatus::Done { by: 1 }),
                (Some(15), CheckKind::Vitals, CheckStatus::Upcoming),
            ]
        );
        assert_eq!(next_check(&list).unwrap().due, Some(at(10, 15)));
    }

    #[test]
    fn due_at_its_time_and_overdue_three_minutes_later() {
        assert_eq!(status_at(&[], 15, at_s(10, 14, 59)), CheckStatus::Upcoming);
        assert_eq!(status_at(&[], 15, at(10, 15)), CheckStatus::Due);
        assert_eq!(status_at(&[], 15, at_s(10, 17, 59)), CheckStatus::Due);
        assert_eq!(status_at(&[], 15, at(10, 18)), CheckStatus::Overdue);
        let mut cfg = defaults();
        cfg.overdue_after_min = 10;
        let list = checks(&cfg, dose(), None, &[], at(10, 24));
        assert_eq!(at_t(&list, 15).status, CheckStatus::Due);
    }

    #[test]
    fn a_reading_satisfies_the_check_it_covers_and_not_the_next() {
        let now = at(10, 35);
        let on_time = [vitals(7, at(10, 16))];
        assert_eq!(status_at(&on_time, 15, now), CheckStatus::Done { by: 7 });
        assert_eq!(status_at(&on_time, 30, now), CheckStatus::Overdue);

        // Up to five minutes early counts for the coming check, not the one before.
        let early = [vitals(8, at(10, 25))];
        assert_eq!(status_at(&early, 15, now), CheckStatus::Overdue);
        assert_eq!(status_at(&early, 30, now), CheckStatus::Done { by: 8 });

        // Too early for T+15: it counts for nothing.
        let too_early = [vitals(9, at_s(10, 9, 59))];
        assert_eq!(status_at(&too_early, 15, now), CheckStatus::Overdue);
        let just_in = [vitals(9, at(10, 10))];
        assert_eq!(status_at(&just_in, 15, now), CheckStatus::Done { by: 9 });

        // Late still counts, up to the next check's early window.
        let late = [vitals(10, at_s(10, 24, 59))];
        assert_eq!(status_at(&late, 15, now), CheckStatus::Done { by: 10 });
        assert_eq!(status_at(&late, 30, now), CheckStatus::Overdue);

        // One reading never ticks off two checks; a second one takes the open check.
        let two = [vitals(11, at(10, 26)), vitals(12, at(10, 27))];
        assert_eq!(status_at(&two, 30, now), CheckStatus::Done { by: 11 });
        assert_eq!(status_at(&two, 15, now), CheckStatus::Done { by: 12 });
    }

    #[test]
    fn an_early_reading_completes_an_upcoming_check_and_the_next_one_shows() {
        let list = checks(
            &defaults(),
            dose(),
            None,
            &[vitals(3, at(10, 12))],
            at(10, 13),
        );
        assert_eq!(
            summary(&list)[1..],
            [
                (Some(15), CheckKind::Vitals, CheckStatus::Done { by: 3 }),
                (Some(30), CheckKind::Vitals, CheckStatus::Upcoming),
            ]
        );
    }

    #[test]
    fn a_bp_check_needs_a_bp() {
        let now = at(10, 41);
        let no_bp = [vitals(1, at(10, 31)), vitals(2, at(10, 38))];
        assert_eq!(status_at(&no_bp, 30, now), CheckStatus::Done { by: 1 });
        assert_eq!(status_at(&no_bp, 40, now), CheckStatus::Due);
        // Without BP, a reading in the T+40 window still serves the open T+30 check.
        assert_eq!(
            status_at(&[vitals(2, at(10, 38))], 30, now),
            CheckStatus::Done { by: 2 }
        );
        let with_bp = [vitals(1, at(10, 31)), bp(2, at(10, 38))];
        assert_eq!(status_at(&with_bp, 40, now), CheckStatus::Done { by: 2 });
        assert_eq!(status_at(&with_bp, 30, now), CheckStatus::Done { by: 1 });

        // A BP that could serve T+40 or T+45 goes to the BP check; plain vitals go to T+45.
        let now = at(10, 50);
        let late_bp = [bp(3, at(10, 44))];
        assert_eq!(status_at(&late_bp, 40, now), CheckStatus::Done { by: 3 });
        assert_eq!(status_at(&late_bp, 45, now), CheckStatus::Overdue);
        let both = [bp(3, at(10, 41)), vitals(4, at(10, 44))];
        assert_eq!(status_at(&both, 40, now), CheckStatus::Done { by: 3 });
        assert_eq!(status_at(&both, 45, now), CheckStatus::Done { by: 4 });
        let plain = [vitals(4, at(10, 42))];
        assert_eq!(status_at(&plain, 40, now), CheckStatus::Overdue);
        assert_eq!(status_at(&plain, 45, now), CheckStatus::Done { by: 4 });
    }

    #[test]
    fn baseline_before_the_dose() {
        let now = at(9, 55);
        let none = checks(&defaults(), None, None, &[], now);
        assert_eq!(
            summary(&none),
            [(None, CheckKind::Baseline, CheckStatus::Due)]
        );
        assert_eq!(none[0].due, None);
        let hr_only = checks(&defaults(), None, None, &[vitals(1, at(9, 50))], now);
        assert_eq!(hr_only[0].status, CheckStatus::Due);
        let with_bp = checks(
            &defaults(),
            None,
            None,
            &[bp(1, at(9, 45)), bp(2, at(9, 50)), vitals(3, at(9, 52))],
            now,
        );
        assert_eq!(with_bp[0].status, CheckStatus::Done { by: 2 });
        assert_eq!(next_check(&with_bp), None);
        assert_eq!(with_bp[0].to_string(), "baseline vitals with BP");
    }

    #[test]
    fn baseline_after_the_dose() {
        let now = at(10, 5);
        let before = checks(&defaults(), dose(), None, &[bp(1, at(9, 50))], now);
        assert_eq!(before[0].status, CheckStatus::Done { by: 1 });
        let same_minute = checks(&defaults(), dose(), None, &[bp(1, at(10, 0))], now);
        assert_eq!(same_minute[0].status, CheckStatus::Done { by: 1 });
        // Taken after the dose: the baseline was missed.
        let after = checks(&defaults(), dose(), None, &[bp(1, at(10, 2))], now);
        assert_eq!(after[0].kind, CheckKind::Baseline);
        assert_eq!(after[0].status, CheckStatus::Overdue);
        assert_eq!(after[0].due, dose());
        // And it does not count for T+15 either (too early).
        assert_eq!(at_t(&after, 15).status, CheckStatus::Upcoming);
        // A pre-dose reading never counts for a timed check.
        let mut cfg = defaults();
        cfg.early_min = 30;
        let list = checks(&cfg, dose(), None, &[bp(1, at(9, 50))], at(10, 16));
        assert_eq!(at_t(&list, 15).status, CheckStatus::Due);
    }

    #[test]
    fn no_baseline_when_the_clinic_turns_it_off() {
        let mut cfg = defaults();
        cfg.baseline = false;
        assert!(checks(&cfg, None, None, &[], at(9, 0)).is_empty());
        let list = checks(&cfg, dose(), None, &[], at(10, 1));
        assert_eq!(
            summary(&list),
            [(Some(15), CheckKind::Vitals, CheckStatus::Upcoming)]
        );
    }

    #[test]
    fn an_ended_session_lists_checks_to_its_end_and_missed_ones_stay_overdue() {
        let readings = [bp(1, at(9, 55)), vitals(2, at(10, 15)), bp(3, at(10, 41))];
        // Ended at 10:46, a minute after T+45 was due (still in its grace period).
        let list = checks(&defaults(), dose(), Some(at(10, 46)), &readings, at(11, 30));
        use CheckKind::*;
        use CheckStatus::*;
        assert_eq!(
            summary(&list),
            [
                (Some(0), Baseline, Done { by: 1 }),
                (Some(15), Vitals, Done { by: 2 }),
                (Some(30), Vitals, Overdue),
                (Some(40), BloodPressure, Done { by: 3 }),
                (Some(45), Vitals, Overdue),
            ]
        );
        assert_eq!(next_check(&list).unwrap().t_plus_min, Some(30));
        // Read right after the end: counts for nothing.
        let after_end = [vitals(4, at(10, 47))];
        let list = checks(
            &defaults(),
            dose(),
            Some(at(10, 46)),
            &after_end,
            at(11, 30),
        );
        assert_eq!(at_t(&list, 45).status, Overdue);
    }

    #[test]
    fn an_ended_session_without_a_dose_lists_the_baseline_only_when_done() {
        let end = Some(at(10, 0));
        assert!(checks(&defaults(), None, end, &[], at(10, 5)).is_empty());
        let list = checks(&defaults(), None, end, &[bp(1, at(9, 50))], at(10, 5));
        assert_eq!(
            summary(&list),
            [(None, CheckKind::Baseline, CheckStatus::Done { by: 1 })]
        );
    }

    #[test]
    fn struck_and_amended_vitals_do_not_count() {
        let v = |bp_: bool| {
            Payload::Vitals(VitalSigns {
                bp: bp_.then_some(BloodPressure {
                    systolic: 120,
                    diastolic: 80,
                }),
                hr: Some(70),
                ..Default::default()
            })
        };
        let entry = |id, payload, event_time, corrects: Option<(EntryId, Correction)>| Entry {
            id,
            session_id: 1,
            payload,
            event_time,
            recorded_time: event_time,
            author: "dr".into(),
            flags: vec![],
            corrects: corrects.map(|c| c.0),
            correction: corrects.map(|c| c.1),
            reason: corrects.map(|_| "typo".into()),
        };
        let lines = chart_lines(vec![
            entry(1, v(true), at(9, 50), None),
            entry(2, v(false), at(10, 16), None),
            entry(
                3,
                Payload::Strike,
                at(10, 16),
                Some((2, Correction::Strike)),
            ),
            entry(4, v(false), at(10, 31), None),
            entry(5, v(true), at(10, 31), Some((4, Correction::Amend))),
            entry(6, Payload::Strike, at(9, 50), Some((1, Correction::Strike))),
        ]);
        let readings = readings_from(&lines);
        assert_eq!(readings, [bp(5, at(10, 31))]);
        let list = checks(&defaults(), dose(), None, &readings, at(10, 32));
        assert_eq!(list[0].status, CheckStatus::Overdue);
        assert_eq!(at_t(&list, 15).status, CheckStatus::Overdue);
        assert_eq!(at_t(&list, 30).status, CheckStatus::Done { by: 5 });
    }

    #[test]
    fn a_clinic_can_take_bp_every_10_min_during_a_40_min_infusion() {
        let cfg: ProtocolConfig = toml::from_str(
            "baseline = true\n\
             phases = [{ every_min = 10, until_min = 40, bp = true }, { every_min = 15 }]\n\
             bp_at_min = [40]\n\
             minimum_observation_min = 120\n\
             overdue_after_min = 3\n\
             early_min = 5\n",
        )
        .unwrap();
        let list = checks(&cfg, dose(), None, &[], at(11, 12));
        let times: Vec<(Option<u32>, CheckKind)> = list
            .iter()
            .skip(1)
            .map(|c| (c.t_plus_min, c.kind))
            .collect();
        use CheckKind::*;
        assert_eq!(
            times,
            [
                (Some(10), BloodPressure),
                (Some(20), BloodPressure),
                (Some(30), BloodPressure),
                (Some(40), BloodPressure),
                (Some(55), Vitals),
                (Some(70), Vitals),
                (Some(85), Vitals),
            ]
        );
        assert_eq!(list.last().unwrap().status, CheckStatus::Upcoming);
        // The same with the BP minutes listed instead of bp = true.
        let mut listed = cfg.clone();
        listed.phases[0].bp = false;
        listed.bp_at_min = vec![30, 10, 40, 20];
        assert_eq!(checks(&listed, dose(), None, &[], at(11, 12)), list);
    }

    #[test]
    fn a_finite_schedule_stops() {
        let mut cfg = defaults();
        cfg.phases = vec![Phase {
            every_min: 20,
            until_min: Some(40),
            bp: false,
        }];
        cfg.bp_at_min = vec![];
        let list = checks(&cfg, dose(), None, &[vitals(1, at(11, 30))], at(12, 0));
        assert_eq!(
            summary(&list)[1..],
            [
                (Some(20), CheckKind::Vitals, CheckStatus::Overdue),
                (Some(40), CheckKind::Vitals, CheckStatus::Done { by: 1 }),
            ]
        );
    }

    #[test]
    fn next_check_is_overdue_then_due_then_upcoming() {
        let c = |t: u32, status| Check {
            kind: CheckKind::Vitals,
            due: Some(at(10, t)),
            t_plus_min: Some(t),
            status,
        };
        let list = [
            c(15, CheckStatus::Done { by: 1 }),
            c(30, CheckStatus::Upcoming),
            c(40, CheckStatus::Due),
            c(45, CheckStatus::Overdue),
            c(50, CheckStatus::Overdue),
        ];
        assert_eq!(next_check(&list).unwrap().t_plus_min, Some(45));
        assert_eq!(next_check(&list[..3]).unwrap().t_plus_min, Some(40));
        assert_eq!(next_check(&list[..2]).unwrap().t_plus_min, Some(30));
        assert_eq!(next_check(&list[..1]), None);
        assert_eq!(list[2].to_string(), "vitals T+40 (10:40)");
    }

    #[test]
    fn minimum_observation_is_two_hours_after_the_first_dose() {
        assert_eq!(
            minimum_observation_until(&defaults(), dose()),
            Some(at(12, 0))
        );
        assert_eq!(minimum_observation_until(&defaults(), None), None);
    }

    #[test]
    fn a_schedule_that_makes_no_sense_is_refused_with_its_reason() {
        let parse = |phases: &str, bp_at: &str| {
            toml::from_str::<ProtocolConfig>(&format!(
                "baseline = true\nphases = {phases}\nbp_at_min = {bp_at}\n\
                 minimum_observation_min = 120\noverdue_after_min = 3\nearly_min = 5\n"
            ))
            .map_err(|e| e.to_string())
        };
        assert!(parse("[{ every_min = 15 }]", "[]").is_ok());
        let err = parse("[{ every_min = 0, until_min = 30 }]", "[]").unwrap_err();
        assert!(err.contains("every_min must be at least 1"), "{err}");
        let err = parse(
            "[{ every_min = 15, until_min = 60 }, { every_min = 10, until_min = 50 }]",
            "[]",
        )
        .unwrap_err();
        assert!(err.contains("until_min 50"), "{err}");
        let err = parse("[{ every_min = 15 }, { every_min = 30 }]", "[]").unwrap_err();
        assert!(err.contains("only the last phase"), "{err}");
        let err = parse("[{ every_min = 15 }]", "[0, 40]").unwrap_err();
        assert!(err.contains("baseline"), "{err}");
        let err = parse("[{ every_min = 15, evry = 3 }]", "[]").unwrap_err();
        assert!(err.contains("evry"), "{err}");
        let err = toml::from_str::<ProtocolConfig>("baseline = true\nbogus = 1\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("bogus"), "{err}");
    }
}
