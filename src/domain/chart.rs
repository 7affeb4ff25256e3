//! One session, one truth: a session with its chart lines and the clinic's rules. Everything
//! kapchart derives from a session is derived here, once: its first dose and the session clock
//! (T+), when it took place (its period), what counts as pre-dose, the entries that stand, the
//! flags a new line earns (the live preview and the write plan through the same call), the
//! protocol checks and their states, the alerts still waiting for acknowledgement and the one
//! the bedside keeps in view, what an acknowledgement may say and when, the discharge state
//! and what stands against ending the session. The TUI, the CLI, the note draft and the
//! exports all ask it.

use super::discharge::{self, DischargeConcern, DischargeRules, DischargeState};
use super::grammar::ParsedLine;
use super::planning::{PlannedEntry, late_flag};
use super::protocol::{self, Check, CheckStatus, ProtocolConfig};
use super::thresholds::{AlertThresholds, Flag, FlagCode};
use super::{ChartLine, Entry, EntryId, EntryStatus, Payload, Session, SessionKind, chart_lines};
use chrono::{DateTime, Duration, FixedOffset};

/// The clinic's rules a session is charted under (from the configuration).
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRules {
    pub alerts: AlertThresholds,
    /// Entries written more than this after their event time are late entries.
    pub late_after: Duration,
    pub protocol: ProtocolConfig,
    pub discharge: DischargeRules,
    /// The Spravato REMS settings: which drugs make a session a REMS treatment, and the
    /// checks such a session gets before discharge.
    pub rems: super::rems::RemsRules,
}

/// An alert on an entry that stands and has not been acknowledged.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenAlert<'a> {
    pub line: &'a ChartLine,
    pub flag: &'a Flag,
}

/// When a session took place: from its first entry's event time (readings charted with
/// `@-50m` before the session was opened start it), or from its opening when that is earlier
/// or nothing stands, to its end. The report, the note, the REMS form and the screens all
/// read this one period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub start: DateTime<FixedOffset>,
    /// The end that stands; None while the session is open.
    pub end: Option<DateTime<FixedOffset>>,
}

impl Period {
    /// The day it started, in the offset of that moment.
    pub fn day(&self) -> chrono::NaiveDate {
        self.start.date_naive()
    }

    /// Whole minutes from its start to its end; None while it is open.
    pub fn minutes(&self) -> Option<i64> {
        self.end.map(|e| (e - self.start).num_minutes())
    }
}

/// The alert the bedside keeps in view until someone acknowledges it, and how many more are
/// open besides it.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertInView<'a> {
    pub alert: OpenAlert<'a>,
    pub others: usize,
}

/// Why an acknowledgement cannot be charted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AckRefusal {
    /// The entry has no alert waiting (none, or acknowledged already), or is not in the session.
    NothingOpen { entry: EntryId },
    /// The acknowledgement's time is before the entry it acknowledges.
    BeforeTheAlert {
        entry: EntryId,
        alert_at: DateTime<FixedOffset>,
    },
}

impl std::fmt::Display for AckRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AckRefusal::NothingOpen { entry } => {
                write!(f, "entry {entry} has no alert waiting for acknowledgement")
            }
            AckRefusal::BeforeTheAlert { entry, alert_at } => write!(
                f,
                "an acknowledgement comes after what it acknowledges: entry {entry} was charted at {}; give a later time, or none for now",
                alert_at.format("%H:%M")
            ),
        }
    }
}

/// Why an amendment cannot be planned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AmendRefusal {
    /// The line makes more (or fewer) than one entry.
    NotOneEntry { entries: usize },
}

/// The kinds of entry that planning a line reads from the session: the doses (the first
/// clock-drug dose decides what is pre-dose; earlier devices decide the rest between
/// devices). A rule of [`SessionChart::plan_line`] that reads another kind adds it here, so
/// the write path ([`SessionChart::for_planning`]) reads it too.
pub const PLANNING_KINDS: &[&str] = &["dose"];

/// The kinds of entry that acknowledging an entry's alert reads from the session, besides the
/// entry itself: the acknowledgements (and, as for planning, the corrections among the
/// session's entries). See [`SessionChart::for_acknowledging`].
pub const ACKNOWLEDGING_KINDS: &[&str] = &["acknowledgement"];

/// A session with its lines, under the clinic's rules.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionChart {
    session: Session,
    lines: Vec<ChartLine>,
    rules: SessionRules,
}

impl SessionChart {
    /// The session with its stored entries (any order; kept in event-time order).
    pub fn new(session: Session, entries: Vec<Entry>, rules: SessionRules) -> SessionChart {
        let mut entries = entries;
        entries.sort_by_key(|e| (e.event_time, e.id));
        SessionChart {
            session,
            lines: chart_lines(entries),
            rules,
        }
    }

    /// The session with only what planning a line reads: its entries of
    /// [`PLANNING_KINDS`] and the corrections among its entries (which decide which of them
    /// stand). Such a chart plans a line ([`plan_line`](Self::plan_line),
    /// [`plan_payloads`](Self::plan_payloads)) exactly as the whole session does, without
    /// decoding the rest; it is for writing, not for showing the session.
    pub fn for_planning(
        session: Session,
        entries: Vec<Entry>,
        rules: SessionRules,
    ) -> SessionChart {
        let entries = entries
            .into_iter()
            .filter(|e| e.corrects.is_some() || PLANNING_KINDS.contains(&e.payload.kind()))
            .collect();
        SessionChart::new(session, entries, rules)
    }

    /// The session with only what acknowledging `target` reads: `target`, and the session's
    /// entries of [`ACKNOWLEDGING_KINDS`] and corrections (which decide whether `target` and
    /// its acknowledgements stand). Such a chart plans an acknowledgement of `target`
    /// ([`plan_acknowledgement`](Self::plan_acknowledgement)) exactly as the whole session
    /// does; it is for writing, not for showing the session.
    pub fn for_acknowledging(
        session: Session,
        target: Entry,
        entries: Vec<Entry>,
        rules: SessionRules,
    ) -> SessionChart {
        let mut entries: Vec<Entry> = entries
            .into_iter()
            .filter(|e| {
                e.id != target.id
                    && (e.corrects.is_some() || ACKNOWLEDGING_KINDS.contains(&e.payload.kind()))
            })
            .collect();
        entries.push(target);
        SessionChart::new(session, entries, rules)
    }

    pub fn session(&self) -> &Session {
        &self.session
    }

    pub fn rules(&self) -> &SessionRules {
        &self.rules
    }

    /// Every entry with its status, in event-time order.
    pub fn lines(&self) -> &[ChartLine] {
        &self.lines
    }

    /// Takes in entries written since the chart was read, as the chart stores them: the
    /// lines and their statuses are derived again from all the entries (so an amendment or
    /// a strike marks what it corrects), and the session's end is the end that now stands
    /// (a struck end reopens the session). Everything else the chart derives (first dose,
    /// checks, flags, discharge) follows from the lines. With the whole session read before,
    /// the chart is the one a fresh read of the session gives.
    pub fn extend(&mut self, written: Vec<Entry>) {
        let mut entries: Vec<Entry> = std::mem::take(&mut self.lines)
            .into_iter()
            .map(|l| l.entry)
            .chain(written)
            .collect();
        entries.sort_by_key(|e| (e.event_time, e.id));
        entries.dedup_by_key(|e| e.id);
        self.lines = chart_lines(entries);
        self.session.ended = self.standing_end();
    }

    /// The session as its record stood at `at`: only the entries written by then (by their
    /// recorded time), with their statuses and the session's end as they stood then. What
    /// a REMS form said when it was submitted is built from this.
    pub fn as_recorded_by(&self, at: DateTime<FixedOffset>) -> SessionChart {
        let entries = self
            .lines
            .iter()
            .filter(|l| l.entry.recorded_time <= at)
            .map(|l| l.entry.clone())
            .collect();
        let mut then = SessionChart::new(self.session.clone(), entries, self.rules.clone());
        then.session.ended = then.standing_end();
        then
    }

    /// The latest session end among the entries that stand (the end the store reads with
    /// the session).
    fn standing_end(&self) -> Option<DateTime<FixedOffset>> {
        self.current()
            .filter(|l| matches!(l.entry.payload, Payload::SessionEnd(_)))
            .map(|l| l.entry.event_time)
            .max()
    }

    /// The entries that stand: not amended away, not struck (an amending entry stands).
    pub fn current(&self) -> impl Iterator<Item = &ChartLine> {
        self.lines
            .iter()
            .filter(|l| l.status == EntryStatus::Current)
    }

    pub fn is_dosing(&self) -> bool {
        self.session.kind == SessionKind::Dosing
    }

    /// The event time of the first dose of a drug that starts the clock (`clock_drugs`),
    /// among the doses that stand. Doses of other drugs are co-medications.
    pub fn first_dose(&self) -> Option<DateTime<FixedOffset>> {
        self.first_dose_apart_from(None)
    }

    /// The first clock-drug dose among the entries that stand, leaving out `skip` (an entry
    /// being amended does not count against its own replacement).
    fn first_dose_apart_from(&self, skip: Option<EntryId>) -> Option<DateTime<FixedOffset>> {
        self.current()
            .filter(|l| Some(l.entry.id) != skip && self.starts_clock(&l.entry.payload))
            .map(|l| l.entry.event_time)
            .min()
    }

    /// What the session clock says before it starts: "no dose yet", or "no clock dose yet"
    /// once a dose of a drug that does not start the clock (an antiemetic) stands.
    pub fn no_clock_dose_words(&self) -> &'static str {
        if self
            .current()
            .any(|l| matches!(l.entry.payload, Payload::Dose(_)))
        {
            "no clock dose yet"
        } else {
            "no dose yet"
        }
    }

    fn starts_clock(&self, payload: &Payload) -> bool {
        matches!(payload, Payload::Dose(d) if self.rules.protocol.starts_clock(&d.drug))
    }

    /// When the session took place: see [`Period`].
    pub fn period(&self) -> Period {
        let first = self
            .current()
            .map(|l| l.entry.event_time)
            .min()
            .filter(|t| *t < self.session.started);
        Period {
            start: first.unwrap_or(self.session.started),
            end: self.session.ended,
        }
    }

    /// Whole minutes from the first dose to `at` (negative before it); None before any dose.
    pub fn t_plus_min(&self, at: DateTime<FixedOffset>) -> Option<i64> {
        super::since_dose::minutes_after(self.first_dose(), at)
    }

    /// Whether a reading at `at` is pre-dose: in a dosing session, before the first dose of
    /// the clock drug (or with none given yet).
    pub fn is_predose(&self, at: DateTime<FixedOffset>) -> bool {
        self.is_dosing() && self.first_dose().is_none_or(|d| at < d)
    }

    /// The entries a parsed line becomes, each with its flags: what the preview shows and
    /// what is written. Vitals count as pre-dose when no clock-drug dose stands at or before
    /// their time, nor earlier on the same line.
    pub fn plan_line(
        &self,
        line: &ParsedLine,
        recorded: DateTime<FixedOffset>,
    ) -> Vec<PlannedEntry> {
        let mut dosed_on_line = false;
        line.entries
            .iter()
            .map(|payload| {
                let predose = !dosed_on_line && self.is_predose(line.event_time);
                dosed_on_line |= self.starts_clock(payload);
                let mut flags = self.rules.alerts.flags_for(payload, predose);
                flags.extend(self.device_rest_flag(payload, line.event_time));
                flags.extend(late_flag(line.event_time, recorded, self.rules.late_after));
                PlannedEntry {
                    payload: payload.clone(),
                    event_time: line.event_time,
                    flags,
                }
            })
            .collect()
    }

    /// A device charted sooner after the previous device of its drug and route (among the
    /// doses that stand, at or before `at`) than the clinic's rest between devices: the
    /// Spravato label rests 5 minutes between devices (clinical.md section 2).
    fn device_rest_flag(&self, payload: &Payload, at: DateTime<FixedOffset>) -> Option<Flag> {
        let Payload::Dose(d) = payload else {
            return None;
        };
        d.devices?;
        let rest = self
            .rules
            .alerts
            .doses
            .for_drug(&d.drug, d.route)?
            .device_rest_min?;
        let previous = self
            .current()
            .filter_map(|l| match &l.entry.payload {
                Payload::Dose(p)
                    if p.devices.is_some()
                        && p.route == d.route
                        && p.drug.eq_ignore_ascii_case(&d.drug)
                        && l.entry.event_time <= at =>
                {
                    Some(l.entry.event_time)
                }
                _ => None,
            })
            .max()?;
        let gap = (at - previous).num_minutes();
        (gap < i64::from(rest)).then(|| Flag {
            code: FlagCode::DeviceRest,
            text: format!(
                "device charted {gap} min after the previous one (rest between devices: {rest} min)"
            ),
        })
    }

    /// Entries made by a form (discharge items, an acknowledgement, a session end), at `at`.
    pub fn plan_payloads(
        &self,
        payloads: Vec<Payload>,
        at: DateTime<FixedOffset>,
    ) -> Vec<PlannedEntry> {
        let predose = self.is_predose(at);
        payloads
            .into_iter()
            .map(|payload| PlannedEntry {
                flags: self.rules.alerts.flags_for(&payload, predose),
                payload,
                event_time: at,
            })
            .collect()
    }

    /// The replacement for `original` that `line` describes. It keeps the original's event
    /// time unless the line gives one with `@`; its flags follow the reading at that time. A
    /// correction is identified as one, so it is not also a late entry.
    pub fn plan_amendment(
        &self,
        original: &Entry,
        line: &ParsedLine,
    ) -> Result<PlannedEntry, AmendRefusal> {
        if line.entries.len() != 1 {
            return Err(AmendRefusal::NotOneEntry {
                entries: line.entries.len(),
            });
        }
        let at = if line.time_given {
            line.event_time
        } else {
            original.event_time
        };
        let payload = line.entries[0].clone();
        // The original does not count against its own replacement (an amended dose moves T+0).
        let predose = self.is_dosing()
            && self
                .first_dose_apart_from(Some(original.id))
                .is_none_or(|d| at < d);
        let flags = self.rules.alerts.flags_for(&payload, predose);
        Ok(PlannedEntry {
            payload,
            event_time: at,
            flags,
        })
    }

    /// The protocol's checks at `now` (none for sessions other than dosing), and in a REMS
    /// session (a REMS drug given) the REMS checks before discharge after them.
    pub fn checks(&self, now: DateTime<FixedOffset>) -> Vec<Check> {
        if !self.is_dosing() {
            return Vec::new();
        }
        let mut checks = protocol::checks(
            &self.rules.protocol,
            self.first_dose(),
            self.session.ended,
            &protocol::readings_from(&self.lines),
            now,
        );
        if super::rems::is_rems_session(self, &self.rules.rems) {
            checks.extend(super::rems::checks::discharge_checks(
                &self.rules.rems,
                &self.rules.protocol,
                self.first_dose(),
                self.session.ended,
                &self.lines,
                now,
            ));
        }
        checks
    }

    /// Checks that are part of the record as lapses, or would be if the session ended at
    /// `now`: missed, overdue or due and still without a reading.
    pub fn checks_without_reading(&self, now: DateTime<FixedOffset>) -> Vec<Check> {
        self.checks(now)
            .into_iter()
            .filter(|c| {
                matches!(
                    c.status,
                    CheckStatus::Missed | CheckStatus::Overdue | CheckStatus::Due
                ) && c.due.is_none_or(|d| d <= now)
            })
            .collect()
    }

    /// When the minimum observation after the first dose ends.
    pub fn observe_until(&self) -> Option<DateTime<FixedOffset>> {
        protocol::minimum_observation_until(&self.rules.protocol, self.first_dose())
    }

    /// Whether `entry` has been acknowledged by an entry that stands.
    pub fn is_acknowledged(&self, entry: EntryId) -> bool {
        self.acknowledged_by(entry).is_some()
    }

    /// The acknowledgement that stands for `entry`, if any.
    pub fn acknowledged_by(&self, entry: EntryId) -> Option<EntryId> {
        super::summary::acknowledgement_of(&self.lines, entry).map(|l| l.entry.id)
    }

    /// An entry in one line, with what it points at (an acknowledgement its alert, a witness
    /// its dose): as every listing of the session shows it.
    pub fn summary(&self, entry: &Entry) -> String {
        super::summary::entry_summary(&self.lines, entry)
    }

    /// The alert kept in view (the header, the lock screen) until it is acknowledged: the
    /// newest pre-dose caution, else the newest alert still open, with how many others are
    /// open. None when nothing waits.
    pub fn alert_in_view(&self) -> Option<AlertInView<'_>> {
        let open = self.open_alerts();
        let others = open.len().saturating_sub(1);
        let caution = open
            .iter()
            .rev()
            .find(|a| a.flag.code == FlagCode::BpPredose)
            .cloned();
        caution
            .or_else(|| open.last().cloned())
            .map(|alert| AlertInView { alert, others })
    }

    /// The acknowledgement of `entry`'s open alert (the one with `flag`, else its first), at
    /// `at`, written at `recorded`: `note` is what was decided, or, left empty, the words
    /// that fit the alert ([`FlagCode::default_acknowledgement`]). Refused when nothing of
    /// the entry waits, and for a time before the entry's own. An acknowledgement written
    /// more than the late-entry time after its time is marked late.
    pub fn plan_acknowledgement(
        &self,
        entry: EntryId,
        flag: Option<FlagCode>,
        note: &str,
        at: DateTime<FixedOffset>,
        recorded: DateTime<FixedOffset>,
    ) -> Result<PlannedEntry, AckRefusal> {
        let open = self
            .open_alerts()
            .into_iter()
            .filter(|a| a.line.entry.id == entry)
            .find(|a| flag.is_none_or(|f| f == a.flag.code))
            .ok_or(AckRefusal::NothingOpen { entry })?;
        let alert_at = open.line.entry.event_time;
        if at < alert_at {
            return Err(AckRefusal::BeforeTheAlert { entry, alert_at });
        }
        let code = open.flag.code;
        let note = match note.trim() {
            "" => code.default_acknowledgement().to_string(),
            t => t.to_string(),
        };
        Ok(PlannedEntry {
            payload: Payload::Acknowledgement(super::entry::Acknowledgement {
                entry,
                flag: code,
                note,
            }),
            event_time: at,
            flags: late_flag(at, recorded, self.rules.late_after)
                .into_iter()
                .collect(),
        })
    }

    /// Alerts (not the late mark) on entries that stand and have no acknowledgement (by an
    /// entry that stands), in event-time order. Read on every frame of the live screen: the
    /// acknowledged entries are gathered once, not looked up per entry.
    pub fn open_alerts(&self) -> Vec<OpenAlert<'_>> {
        let acknowledged: std::collections::HashSet<EntryId> = self
            .current()
            .filter_map(|l| match &l.entry.payload {
                Payload::Acknowledgement(a) => Some(a.entry),
                _ => None,
            })
            .collect();
        self.current()
            .filter(|l| !acknowledged.contains(&l.entry.id))
            .flat_map(|line| {
                line.entry
                    .flags
                    .iter()
                    .filter(|f| f.code.is_alert())
                    .map(move |flag| OpenAlert { line, flag })
            })
            .collect()
    }

    /// The first alert of `entry` that waits for acknowledgement.
    pub fn open_alert_of(&self, entry: EntryId) -> Option<OpenAlert<'_>> {
        self.open_alerts()
            .into_iter()
            .find(|a| a.line.entry.id == entry)
    }

    /// What the chart holds for discharge.
    pub fn discharge_state(&self) -> DischargeState {
        discharge::discharge_state(&self.lines)
    }

    /// What stands against ending the session at `now` with the discharge state `state`
    /// (the chart's own, or a form's about to be written): the minimum observation, the
    /// ride home, the Aldrete score, alerts not acknowledged and checks without a reading.
    /// The same list for every way of ending a session; the clinician may end it anyway
    /// with a reason.
    pub fn end_concerns(
        &self,
        state: &DischargeState,
        now: DateTime<FixedOffset>,
    ) -> Vec<DischargeConcern> {
        let mut out = discharge::concerns(
            self.session.kind,
            &self.rules.protocol,
            &self.rules.discharge,
            self.first_dose(),
            state,
            now,
        );
        for a in self.open_alerts() {
            out.push(DischargeConcern::AlertOpen {
                entry: a.line.entry.id,
                at: a.line.entry.event_time,
                text: a.flag.text.clone(),
            });
        }
        for c in self.checks_without_reading(now) {
            out.push(DischargeConcern::CheckMissed {
                check: c.to_string(),
            });
        }
        for w in self.unwitnessed_wastes() {
            out.push(DischargeConcern::WasteUnwitnessed {
                entry: w.entry.id,
                at: w.entry.event_time,
            });
        }
        out
    }

    /// The wastes standing in this session that no second clinician has witnessed: flagged
    /// until they are (clinical.md section 8).
    pub fn unwitnessed_wastes(&self) -> Vec<&ChartLine> {
        self.current()
            .filter(|l| matches!(l.entry.payload, Payload::Waste(_)))
            .filter(|l| super::witness::witness_of(&self.lines, l.entry.id).is_none())
            .collect()
    }

    /// What the doses and wastes standing in this session drew from the stock.
    pub fn drawn(&self) -> Vec<super::stock::Draw> {
        self.current()
            .flat_map(|l| l.entry.payload.drawn().iter().copied())
            .collect()
    }
}

#[cfg(test)]
mod tests;
