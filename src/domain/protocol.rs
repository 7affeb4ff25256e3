//! Protocol timers for a dosing session: which vitals checks the schedule asks for, and
//! whether each is done, upcoming, due or overdue. Pure: the caller passes the time.
//!
//! The schedule (defaults in `assets/config.toml`, with sources):
//! - a baseline: vitals with a blood pressure before the first dose;
//! - rounds of vitals after the first dose (T+0), phase by phase: a phase checks every
//!   `every_min` minutes up to its `until_min`, the next phase counts on from there, and a last
//!   phase without `until_min` runs until the session ends;
//! - extra blood pressure checks at fixed minutes (`bp_at_min`); a check falling on a minute
//!   that already has a vitals round makes that round need a BP as well.
//!
//! What a check asks for: a vitals round asks for every sign of `vitals_round` (by default BP,
//! HR and SpO2), a round of a `bp = true` phase for those and a BP, an extra BP check for a
//! BP. A check is done once the readings it took hold every sign it asks for (a `bp ... hr
//! ...` and a `spo2 ...` a minute apart make one round); a check charted in part is still
//! open, and says which signs are missing. A lone `spo2 97` never makes a round.
//!
//! A timed check is *upcoming* before its time, *due* at its time, *overdue*
//! `overdue_after_min` minutes later, and *missed* once the next check of its kind falls due
//! (for a BP check, the next BP check; for a vitals round, the next check that asks for all
//! it asks for) or the session ends without its readings. A reading taken while a check is
//! overdue (not yet missed) goes to it, and closes it as *done late* (with the minutes after
//! the due time) once its signs are complete: a late reading closes the check it was for.
//!
//! Which reading goes to which check: a check of the two kinds (BP checks; vitals rounds) is
//! on time for readings from `d - early_min` (but after the previous check's due time, or
//! after the first dose for the first check) to the end of its grace period. Readings are
//! taken in time order, and each goes to at most one check of each kind, and only to a check
//! it brings a missing sign to: first to the oldest overdue check of each kind, as done late;
//! then to the one check it is on time for, of a kind it went to no check of yet (a BP check
//! first when it has a BP, else the nearest in time, the earlier on a tie). So a reading a few
//! minutes before a check counts for that check, a BP taken a minute after T+40 is the T+40
//! BP, a full set at T+46 is the T+40 BP six minutes late and the T+45 round on time, and one
//! `bp 176/104 hr 92` at T+57 closes the overdue T+40 BP only: it brings BP and HR to the
//! overdue T+45 round (SpO2 still missing), and nothing to T+60.
//!
//! The baseline is satisfied by the latest vitals with a BP whose event time is at or before the
//! first dose (before any dose: by any vitals with a BP).

pub mod signs;
mod status;

pub use status::CheckStatus;

use super::{ChartLine, EntryId, EntryStatus, Payload};
use chrono::{DateTime, Duration, FixedOffset};
use serde::{Deserialize, Serialize};
pub use signs::{Sign, Signs};
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
    /// The signs a vitals round asks for: a round is done once its readings hold them all.
    pub vitals_round: Signs,
    /// Extra BP checks, in minutes after the first dose.
    pub bp_at_min: Vec<u32>,
    /// Minimum observation after the first dose before discharge, in minutes.
    pub minimum_observation_min: u32,
    /// A check turns overdue this many minutes after its due time.
    pub overdue_after_min: u32,
    /// A reading up to this many minutes before a check's due time counts for it.
    pub early_min: u32,
    /// The drugs whose first dose starts the session clock (T+0). Doses of other drugs
    /// (an antiemetic, a rescue medication) are co-medications with their own times.
    pub clock_drugs: Vec<String>,
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
    vitals_round: Signs,
    bp_at_min: Vec<u32>,
    minimum_observation_min: u32,
    overdue_after_min: u32,
    early_min: u32,
    clock_drugs: Vec<String>,
}

impl TryFrom<ProtocolToml> for ProtocolConfig {
    type Error = String;
    fn try_from(t: ProtocolToml) -> Result<Self, Self::Error> {
        let cfg = ProtocolConfig {
            baseline: t.baseline,
            phases: t.phases,
            vitals_round: t.vitals_round,
            bp_at_min: t.bp_at_min,
            minimum_observation_min: t.minimum_observation_min,
            overdue_after_min: t.overdue_after_min,
            early_min: t.early_min,
            clock_drugs: t.clock_drugs,
        };
        cfg.validate()?;
        Ok(cfg)
    }
}

impl ProtocolConfig {
    /// Whether a dose of `drug` starts the session clock (names compared without case).
    pub fn starts_clock(&self, drug: &str) -> bool {
        self.clock_drugs
            .iter()
            .any(|d| d.trim().eq_ignore_ascii_case(drug.trim()))
    }

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
        if self.clock_drugs.iter().all(|d| d.trim().is_empty()) {
            return Err(
                "protocol clock_drugs: name at least one drug whose first dose starts the session clock, e.g. [\"ketamine\"]"
                    .to_string(),
            );
        }
        if self.vitals_round.is_empty() {
            return Err(
                "protocol vitals_round: name the signs a vitals round asks for, e.g. [\"bp\", \"hr\", \"spo2\"]"
                    .to_string(),
            );
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
    /// Spravato REMS sessions, before discharge (`[rems] discharge_checks`, see
    /// `domain::rems::checks`): a BP.
    BpBeforeDischarge,
    /// REMS: sedation resolved (the latest MOAA/S above the form's sedation level).
    SedationResolved,
    /// REMS: dissociation resolved (the latest CADSS-6 below the form's dissociation level).
    DissociationResolved,
    /// REMS: respiratory status resolved (the latest `resp` is ok).
    RespirationResolved,
}

impl CheckKind {
    pub fn needs_bp(self) -> bool {
        matches!(
            self,
            CheckKind::Baseline | CheckKind::BloodPressure | CheckKind::BpBeforeDischarge
        )
    }

    /// Told apart in identifiers (an export's ids) from the vitals check at the same minute.
    pub fn id_suffix(self) -> &'static str {
        match self {
            CheckKind::Baseline | CheckKind::Vitals | CheckKind::BloodPressure => "",
            CheckKind::BpBeforeDischarge => "-discharge-bp",
            CheckKind::SedationResolved => "-sedation-resolved",
            CheckKind::DissociationResolved => "-dissociation-resolved",
            CheckKind::RespirationResolved => "-respiration-resolved",
        }
    }
}

impl fmt::Display for CheckKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CheckKind::Baseline => "baseline vitals with BP",
            CheckKind::Vitals => "vitals",
            CheckKind::BloodPressure => "BP",
            CheckKind::BpBeforeDischarge => "BP before discharge",
            CheckKind::SedationResolved => "sedation resolved",
            CheckKind::DissociationResolved => "dissociation resolved",
            CheckKind::RespirationResolved => "respiration resolved",
        })
    }
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
    /// The vital signs it asks for (none for the REMS checks, which ask for other entries).
    pub needs: Signs,
    /// The signs of `needs` its readings have brought so far: all of them once it is done; some
    /// of them for a round charted in part.
    pub charted: Signs,
}

impl Check {
    /// Closed by a reading, in time or late.
    pub fn is_done(&self) -> bool {
        self.status.closed_by().is_some()
    }

    /// Still waiting for a reading: upcoming, due or overdue.
    pub fn is_open(&self) -> bool {
        matches!(
            self.status,
            CheckStatus::Upcoming | CheckStatus::Due | CheckStatus::Overdue
        )
    }

    /// Part of the record as a lapse: missed, or done late.
    pub fn is_lapse(&self) -> bool {
        matches!(
            self.status,
            CheckStatus::Missed | CheckStatus::DoneLate { .. }
        )
    }

    /// The signs it still asks for when some were charted for it and it is not done: a round
    /// charted in part. None otherwise.
    pub fn missing(&self) -> Option<Signs> {
        let missing = self.needs.without(self.charted);
        (!self.is_done() && !self.charted.is_empty() && !missing.is_empty()).then_some(missing)
    }

    /// What a round charted in part still needs: "missing BP and HR". None when it is not one.
    pub fn missing_text(&self) -> Option<String> {
        self.missing().map(|m| format!("missing {m}"))
    }

    /// Its state in words, as every listing of the checks gives it: "done", "done late
    /// (6 min)", "overdue, missing SpO2".
    pub fn state_text(&self) -> String {
        let state = match self.status {
            CheckStatus::DoneLate { late_min, .. } => format!("done late ({late_min} min)"),
            s => s.as_str().to_string(),
        };
        match self.missing_text() {
            Some(m) => format!("{state}, {m}"),
            None => state,
        }
    }
}

impl fmt::Display for Check {
    /// "baseline vitals with BP", "vitals T+15 (10:15)", "BP T+40 (10:40)".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.kind, self.t_plus_min, self.due) {
            (CheckKind::Baseline, _, _) => write!(f, "{}", self.kind),
            (_, Some(t), Some(due)) => write!(
                f,
                "{} {} ({})",
                self.kind,
                super::since_dose::t_plus_minutes(i64::from(t)),
                due.format("%H:%M")
            ),
            _ => write!(f, "{}", self.kind),
        }
    }
}

/// A vitals entry that can satisfy a check, with the signs it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reading {
    pub entry: EntryId,
    pub at: DateTime<FixedOffset>,
    pub signs: Signs,
}

impl Reading {
    pub fn has_bp(&self) -> bool {
        self.signs.contains(Sign::Bp)
    }
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
                signs: Signs::charted_in(v),
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
/// checks left without their readings are Missed; an ended session without a dose lists the
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
    let bp_only = Signs::of(&[Sign::Bp]);

    let Some(dose) = first_dose else {
        if cfg.baseline {
            let by = readings.iter().rev().find(|r| r.has_bp()).map(|r| r.entry);
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
                needs: bp_only,
                charted: if status.closed_by().is_some() {
                    bp_only
                } else {
                    Signs::NONE
                },
            }));
        }
        return out;
    };

    if cfg.baseline {
        let by = readings
            .iter()
            .rev()
            .find(|r| r.has_bp() && r.at <= dose)
            .map(|r| r.entry);
        out.push(Check {
            kind: CheckKind::Baseline,
            due: Some(dose),
            t_plus_min: Some(0),
            status: by.map_or(CheckStatus::Missed, |by| CheckStatus::Done { by }),
            needs: bp_only,
            charted: if by.is_some() { bp_only } else { Signs::NONE },
        });
    }

    // Readings taken after the session ended satisfy nothing.
    readings.retain(|r| r.at > dose && ended.is_none_or(|e| r.at <= e));

    // The slots whose window could hold a reading or that are due by the limit, plus one more
    // (never done on time: no reading reaches its window) that ends the last one's window.
    let limit = ended.unwrap_or(now);
    let reach = readings.last().map_or(limit, |r| r.at.max(limit));
    let early = minutes(cfg.early_min);
    let grace = minutes(cfg.overdue_after_min);
    let mut slots: Vec<(Slot, DateTime<FixedOffset>)> = Vec::new();
    for slot in schedule(cfg) {
        let due = dose + minutes(slot.minute);
        slots.push((slot, due));
        if due - early > reach {
            break;
        }
    }
    // When each slot is missed: the due time of the next check of its kind (for a BP check,
    // the next BP check; for a vitals round, the next check asking for all it asks for). A
    // slot beyond the list falls due after everything listed, so None means "not before the
    // limit".
    let missed_at: Vec<Option<DateTime<FixedOffset>>> = (0..slots.len())
        .map(|i| {
            let this = slots[i].0;
            slots[i + 1..]
                .iter()
                .find(|(s, _)| {
                    if this.bp {
                        s.bp
                    } else {
                        s.needs.covers(this.needs)
                    }
                })
                .map(|(_, due)| *due)
        })
        .collect();

    let mut charted = vec![Signs::NONE; slots.len()];
    let mut status: Vec<Option<CheckStatus>> = vec![None; slots.len()];
    for r in &readings {
        // What the reading brings to slot i: signs it asks for and still misses.
        let brings = |i: usize, charted: &[Signs]| {
            r.signs.intersection(slots[i].0.needs.without(charted[i]))
        };
        let mut took: Vec<bool> = Vec::new();
        // The oldest overdue check of each kind it brings something to (past its grace,
        // not yet missed), as done late once its signs are complete.
        for bp_kind in [true, false] {
            let overdue = (0..slots.len()).find(|&i| {
                let (slot, due) = slots[i];
                slot.bp == bp_kind
                    && status[i].is_none()
                    && r.at >= due + grace
                    && missed_at[i].is_none_or(|m| r.at < m)
                    && !brings(i, &charted).is_empty()
            });
            if let Some(i) = overdue {
                charted[i] = charted[i].union(brings(i, &charted));
                if charted[i].covers(slots[i].0.needs) {
                    status[i] = Some(CheckStatus::closed(r.entry, r.at, slots[i].1, grace));
                }
                took.push(bp_kind);
            }
        }
        // Then the one check it is on time for, of a kind it went to no check of: a BP check
        // first when it has a BP, else the nearest in time.
        let on_time = |i: usize| {
            let (_, due) = slots[i];
            let after = if i == 0 { dose } else { slots[i - 1].1 };
            r.at >= due - early && r.at > after && r.at < due + grace
        };
        let chosen = (0..slots.len())
            .filter(|&i| {
                status[i].is_none()
                    && !took.contains(&slots[i].0.bp)
                    && on_time(i)
                    && !brings(i, &charted).is_empty()
            })
            .min_by_key(|&i| {
                let (slot, due) = slots[i];
                (!(r.has_bp() && slot.bp), (r.at - due).abs(), i)
            });
        if let Some(i) = chosen {
            charted[i] = charted[i].union(brings(i, &charted));
            if charted[i].covers(slots[i].0.needs) {
                status[i] = Some(CheckStatus::closed(r.entry, r.at, slots[i].1, grace));
            }
        }
    }

    for (i, ((slot, due), closed)) in slots.into_iter().zip(status).enumerate() {
        if due > limit && ended.is_some() {
            break;
        }
        let status =
            closed.unwrap_or_else(|| CheckStatus::unclosed(due, grace, ended, missed_at[i], now));
        let stop = due > limit && closed.is_none();
        out.push(Check {
            kind: if slot.bp {
                CheckKind::BloodPressure
            } else {
                CheckKind::Vitals
            },
            due: Some(due),
            t_plus_min: Some(slot.minute),
            status,
            needs: slot.needs,
            charted: charted[i],
        });
        if stop {
            break;
        }
    }
    out
}

/// Where a running session stands with its checks: what the header shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckSummary {
    /// The next check still to come or due now (the earliest due, else the earliest upcoming).
    pub next: Option<Check>,
    /// Checks past their grace period and still open, oldest first.
    pub overdue: Vec<Check>,
    /// Checks missed so far.
    pub missed: usize,
    /// Checks done late so far.
    pub late: usize,
}

/// The header's view of `checks`: the next due or upcoming check, and the overdue ones.
pub fn summary(checks: &[Check]) -> CheckSummary {
    let next = checks
        .iter()
        .filter(|c| matches!(c.status, CheckStatus::Due | CheckStatus::Upcoming))
        .min_by_key(|c| (c.status != CheckStatus::Due, c.due))
        .cloned();
    let mut overdue: Vec<Check> = checks
        .iter()
        .filter(|c| c.status == CheckStatus::Overdue)
        .cloned()
        .collect();
    overdue.sort_by_key(|c| c.due);
    CheckSummary {
        next,
        overdue,
        missed: checks
            .iter()
            .filter(|c| c.status == CheckStatus::Missed)
            .count(),
        late: checks
            .iter()
            .filter(|c| matches!(c.status, CheckStatus::DoneLate { .. }))
            .count(),
    }
}

/// The check to show first: the earliest overdue one, else the earliest due, else the
/// earliest upcoming. None when no listed check is open.
pub fn next_check(checks: &[Check]) -> Option<&Check> {
    checks.iter().filter(|c| c.is_open()).min_by_key(|c| {
        let rank = match c.status {
            CheckStatus::Overdue => 0,
            CheckStatus::Due => 1,
            _ => 2,
        };
        (rank, c.due)
    })
}

/// One timed check of the schedule, in minutes after the first dose: a BP check (an extra BP
/// minute, or a round of a `bp = true` phase or on such a minute) or a vitals round, and the
/// signs it asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Slot {
    minute: u32,
    bp: bool,
    needs: Signs,
}

/// The timed checks in order: phase rounds merged with the extra BP minutes. Endless when the
/// last phase is open-ended.
fn schedule(cfg: &ProtocolConfig) -> impl Iterator<Item = Slot> + '_ {
    let mut bp_at = cfg.bp_at_min.clone();
    bp_at.sort_unstable();
    bp_at.dedup();
    let mut bp_at = bp_at.into_iter().peekable();
    let mut rounds = rounds(&cfg.phases, cfg.vitals_round).peekable();
    let bp_check = |minute| Slot {
        minute,
        bp: true,
        needs: Signs::of(&[Sign::Bp]),
    };
    std::iter::from_fn(move || {
        let (round, extra) = (rounds.peek().copied(), bp_at.peek().copied());
        match (round, extra) {
            (None, None) => None,
            (Some(r), Some(m)) if m < r.minute => {
                bp_at.next();
                Some(bp_check(m))
            }
            (Some(r), Some(m)) if m == r.minute => {
                rounds.next();
                bp_at.next();
                Some(Slot {
                    minute: m,
                    bp: true,
                    needs: r.needs.with(Sign::Bp),
                })
            }
            (Some(r), _) => {
                rounds.next();
                Some(r)
            }
            (None, Some(m)) => {
                bp_at.next();
                Some(bp_check(m))
            }
        }
    })
}

/// The phase rounds in order, each asking for `round` (and a BP in a `bp = true` phase).
/// Phases with `every_min` 0 are skipped, and a phase never counts back before the previous
/// phase's end, so the minutes always increase.
fn rounds(phases: &[Phase], round: Signs) -> impl Iterator<Item = Slot> + '_ {
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
            return Some(Slot {
                minute,
                bp: p.bp,
                needs: if p.bp { round.with(Sign::Bp) } else { round },
            });
        }
    })
}

fn minutes(m: u32) -> Duration {
    Duration::minutes(i64::from(m))
}

#[cfg(test)]
mod tests;
