//! Charting: a quick-entry line, a form's entries, an amendment, a strike or a session's end,
//! from typed text to durable entries. The CLI and the TUI both chart through here, and every
//! plan comes from the session's [`SessionChart`], so the preview and the write agree.

use super::AppError;
use super::Chart;
pub use super::error::{ChartingError, Refusal};
use crate::config::Config;
use crate::domain::chart::{
    ACKNOWLEDGING_KINDS, AckRefusal, AmendRefusal, PLANNING_KINDS, SessionChart,
};
use crate::domain::discharge::DischargeState;
use crate::domain::entry::SessionEnd;
use crate::domain::grammar::{ParsedLine, parse_line};
use crate::domain::measures::{self, SafetyFlag};
use crate::domain::planning::PlannedEntry;
use crate::domain::{Correction, Entry, EntryId, Patient, Payload, SessionId};
use crate::store::NewEntry;
use chrono::{DateTime, FixedOffset, TimeZone};

/// What a line will become, before it is written: the entries and their flags.
#[derive(Debug, Clone, PartialEq)]
pub struct Preview {
    pub line: ParsedLine,
    pub entries: Vec<PlannedEntry>,
}

/// What a charted line left in the chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Charted {
    /// The new entries, in line order.
    pub ids: Vec<EntryId>,
    /// The same entries as the chart stores them (author, times, flags).
    pub entries: Vec<Entry>,
    /// The patient's safety flag still open after this line, when the line bears on it
    /// (`measures::bears_on_safety`): raised or renewed by a PHQ-9 with item 9 above 0, or
    /// left open by a risk assessment timed before that PHQ-9. Every path that charts one
    /// says so.
    pub safety: Option<SafetyFlag>,
    /// The dose the line asked a second clinician to witness (`witness` after it), charted
    /// and waiting for them.
    pub witness: Option<EntryId>,
}

/// The session as it stands, under the clinic's rules.
pub fn session_chart(
    chart: &Chart,
    config: &Config,
    session: SessionId,
) -> Result<SessionChart, AppError> {
    Ok(SessionChart::new(
        chart.store.session(session)?,
        chart.store.entries(session)?,
        config.session_rules(),
    ))
}

/// The session with only what planning a line reads (its doses and corrections): the write
/// path plans through it without decoding the whole session, and plans exactly as
/// [`session_chart`] would (`SessionChart::for_planning`).
pub fn planning_chart(
    chart: &Chart,
    config: &Config,
    session: SessionId,
) -> Result<SessionChart, AppError> {
    Ok(SessionChart::for_planning(
        chart.store.session(session)?,
        chart.store.entries_of_kinds(session, PLANNING_KINDS)?,
        config.session_rules(),
    ))
}

/// Parses and plans a line against a session already read: what the live preview shows.
/// Writing nothing, reading nothing.
pub fn plan<Tz: TimeZone>(
    session: &SessionChart,
    patient: &Patient,
    config: &Config,
    line: &str,
    now: &DateTime<Tz>,
) -> Result<Preview, ChartingError> {
    let parsed = parse_line(line, &config.parse_context(now.clone(), patient.weight_kg))?;
    let entries = session.plan_line(&parsed, now.fixed_offset());
    Ok(Preview {
        line: parsed,
        entries,
    })
}

/// Parses and plans a line against the session as the chart holds it, writing nothing.
pub fn preview<Tz: TimeZone>(
    chart: &Chart,
    config: &Config,
    session: SessionId,
    line: &str,
    now: &DateTime<Tz>,
) -> Result<Preview, ChartingError> {
    let s = session_chart(chart, config, session)?;
    let patient = chart.store.patient(s.session().patient_id)?;
    let mut preview = plan(&s, &patient, config, line, now)?;
    super::stock::attach_draws(
        chart,
        config,
        preview
            .entries
            .iter_mut()
            .map(|p| (&mut p.payload, p.event_time)),
        None,
    )?;
    Ok(preview)
}

fn new_entries(planned: Vec<PlannedEntry>, recorded: DateTime<FixedOffset>) -> Vec<NewEntry> {
    planned
        .into_iter()
        .map(|p| NewEntry {
            payload: p.payload,
            event_time: p.event_time,
            recorded_time: recorded,
            flags: p.flags,
            corrects: None,
        })
        .collect()
}

/// Writes one quick-entry line durably, planned exactly as [`preview`] plans it; returns the
/// new entry ids in line order, and the safety flag when the line bears on it.
pub fn record_line<Tz: TimeZone>(
    chart: &mut Chart,
    config: &Config,
    session: SessionId,
    line: &str,
    now: &DateTime<Tz>,
) -> Result<Charted, ChartingError> {
    let s = planning_chart(chart, config, session)?;
    let patient = chart.store.patient(s.session().patient_id)?;
    let mut preview = plan(&s, &patient, config, line, now)?;
    super::stock::attach_draws(
        chart,
        config,
        preview
            .entries
            .iter_mut()
            .map(|p| (&mut p.payload, p.event_time)),
        None,
    )?;
    let bears_on_safety = preview
        .entries
        .iter()
        .any(|p| measures::bears_on_safety(&p.payload));
    let witness_at = preview.line.witness;
    let entries = chart
        .store
        .append_stored(session, &new_entries(preview.entries, now.fixed_offset()))?;
    let ids: Vec<EntryId> = entries.iter().map(|e| e.id).collect();
    let witness = witness_at.and_then(|i| ids.get(i).copied());
    let safety = if bears_on_safety {
        super::course::safety_flag(chart, patient.id)?
    } else {
        None
    };
    Ok(Charted {
        ids,
        entries,
        safety,
        witness,
    })
}

/// Writes entries made by a form (discharge items, an acknowledgement) in one durable
/// transaction, at `now`, with the flags they earn. A session's end goes through
/// [`end_session`], which asks for what stands against it.
/// Hands back the entries as the chart stores them.
pub fn record_payloads<Tz: TimeZone>(
    chart: &mut Chart,
    config: &Config,
    session: SessionId,
    payloads: Vec<Payload>,
    now: &DateTime<Tz>,
) -> Result<Vec<Entry>, ChartingError> {
    if payloads.iter().any(|p| matches!(p, Payload::SessionEnd(_))) {
        return Err(Refusal::EndThroughEndSession.into());
    }
    let s = planning_chart(chart, config, session)?;
    let at = now.fixed_offset();
    let mut planned = s.plan_payloads(payloads, at);
    super::stock::attach_draws(
        chart,
        config,
        planned.iter_mut().map(|p| (&mut p.payload, p.event_time)),
        None,
    )?;
    Ok(chart
        .store
        .append_stored(session, &new_entries(planned, at))?)
}

/// What an acknowledgement left without words of its own records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unworded {
    /// The front end showed the words that fit the alert before it was confirmed (the live
    /// screen's panel reads `empty: "caution weighed; proceeding"`): those are recorded.
    ShownWords,
    /// Nothing was shown in their place (`kapchart ack --note ""`): refused, asking what
    /// was decided, so that no words the clinician never saw go into the record.
    Refused,
}

/// Acknowledges the open alert of `entry` (the one with `flag`, else its first): `text` says
/// what was decided, after its own time when it starts with one (`@10:45 rechecked`, `@-5m
/// ...`, read as a quick-entry line's). Left without words, `unworded` says what happens:
/// the words that fit the alert, when the front end showed them
/// (`SessionChart::plan_acknowledgement`), else a refusal. An entry with nothing waiting is
/// refused as [`Refusal::NothingToAcknowledge`]. The TUI's panel and `kapchart ack` both
/// chart through here, so both go by this one rule.
pub fn acknowledge<Tz: TimeZone>(
    chart: &mut Chart,
    config: &Config,
    entry: EntryId,
    flag: Option<crate::domain::FlagCode>,
    text: &str,
    unworded: Unworded,
    now: &DateTime<Tz>,
) -> Result<Entry, ChartingError> {
    let (at, note) = crate::domain::grammar::time_prefix(text, now)?;
    if note.trim().is_empty() && unworded == Unworded::Refused {
        return Err(Refusal::AcknowledgementNeedsWords.into());
    }
    // Only the entry, the session's acknowledgements and its corrections are read.
    let target = chart.store.entry(entry)?;
    let session = target.session_id;
    let s = SessionChart::for_acknowledging(
        chart.store.session(session)?,
        target,
        chart.store.entries_of_kinds(session, ACKNOWLEDGING_KINDS)?,
        config.session_rules(),
    );
    let recorded = now.fixed_offset();
    let planned = s
        .plan_acknowledgement(entry, flag, note, at.unwrap_or(recorded), recorded)
        .map_err(|r| match r {
            AckRefusal::NothingOpen { entry } => Refusal::NothingToAcknowledge { entry },
            r => Refusal::Acknowledgement(r),
        })?;
    let mut stored = chart
        .store
        .append_stored(session, &new_entries(vec![planned], recorded))?;
    Ok(stored.remove(0))
}

fn require_reason(reason: &str) -> Result<String, ChartingError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(Refusal::CorrectionNeedsReason.into());
    }
    Ok(reason.to_string())
}

/// Replaces an entry with what `line` describes (one entry). The replacement keeps the
/// original's event time unless the line gives one with `@`.
/// Hands back the amending entry as the chart stores it.
pub fn amend_entry<Tz: TimeZone>(
    chart: &mut Chart,
    config: &Config,
    target: EntryId,
    reason: &str,
    line: &str,
    now: &DateTime<Tz>,
) -> Result<Entry, ChartingError> {
    let reason = require_reason(reason)?;
    let original = chart.store.entry(target)?;
    let s = session_chart(chart, config, original.session_id)?;
    let patient = chart.store.patient(s.session().patient_id)?;
    let preview = plan(&s, &patient, config, line, now)?;
    if preview.line.witness.is_some() {
        return Err(Refusal::WitnessOnAmendment.into());
    }
    let mut planned = s
        .plan_amendment(&original, &preview.line)
        .map_err(|AmendRefusal::NotOneEntry { entries }| Refusal::AmendNotOneEntry { entries })?;
    super::stock::attach_draws(
        chart,
        config,
        [(&mut planned.payload, planned.event_time)],
        Some(target),
    )?;
    let mut stored = chart.store.append_stored(
        original.session_id,
        &[NewEntry {
            payload: planned.payload,
            event_time: planned.event_time,
            recorded_time: now.fixed_offset(),
            flags: planned.flags,
            corrects: Some((target, Correction::Amend, reason)),
        }],
    )?;
    Ok(stored.remove(0))
}

/// Withdraws an entry; it stays in the record, marked as struck, with the reason.
/// Hands back the strike as the chart stores it.
pub fn strike_entry<Tz: TimeZone>(
    chart: &mut Chart,
    target: EntryId,
    reason: &str,
    now: &DateTime<Tz>,
) -> Result<Entry, ChartingError> {
    let reason = require_reason(reason)?;
    let original = chart.store.entry(target)?;
    let mut stored = chart.store.append_stored(
        original.session_id,
        &[NewEntry {
            payload: Payload::Strike,
            event_time: now.fixed_offset(),
            recorded_time: now.fixed_offset(),
            flags: Vec::new(),
            corrects: Some((target, Correction::Strike, reason)),
        }],
    )?;
    Ok(stored.remove(0))
}

/// The discharge state once a form's entries (Aldrete, ride home, patient ready) are written
/// at `now`.
pub fn state_with(
    mut state: DischargeState,
    payloads: &[Payload],
    now: DateTime<FixedOffset>,
) -> DischargeState {
    for p in payloads {
        match p {
            Payload::Aldrete(a) => state.aldrete = Some((0, *a)),
            Payload::RideHome(r) => state.ride = Some(r.who.clone()),
            Payload::PatientReady => state.ready_at = Some(now),
            _ => {}
        }
    }
    state
}

/// What is done with the rest of a container opened in a session, when it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rest {
    /// Wasted now (a waste entry written with the end, awaiting its witness).
    Waste,
    /// Kept for a later session until its beyond-use date (a multi-dose vial).
    Keep,
}

/// Ends a session now, with the discharge entries of a form (`payloads`, may be empty) in the
/// same transaction. Every way of ending goes through here: when anything stands against the
/// end (before the minimum observation, no ride home, Aldrete below the level, alerts not
/// acknowledged, checks without a reading, a waste not witnessed), it is refused with the
/// list unless `reason` is given, and the reason is recorded with the end.
/// Hands back the entries it wrote (the form's, then the end, last) as the chart stores
/// them. A session that drew from a vial still holding something is ended through
/// [`end_session_with_rests`], which says what happens to each rest.
pub fn end_session<Tz: TimeZone>(
    chart: &mut Chart,
    config: &Config,
    session: SessionId,
    payloads: Vec<Payload>,
    reason: Option<&str>,
    now: &DateTime<Tz>,
) -> Result<Vec<Entry>, ChartingError> {
    end_session_with_rests(chart, config, session, payloads, reason, &[], now)
}

/// [`end_session`], saying for each container the session drew from and that still holds
/// something whether its rest is wasted (a waste written before the end) or kept (a stock
/// record after it). A container left unanswered refuses the end, naming what it holds
/// ([`Refusal::ContainerRestUnanswered`]).
pub fn end_session_with_rests<Tz: TimeZone>(
    chart: &mut Chart,
    config: &Config,
    session: SessionId,
    mut payloads: Vec<Payload>,
    reason: Option<&str>,
    rests: &[(crate::domain::stock::ContainerId, Rest)],
    now: &DateTime<Tz>,
) -> Result<Vec<Entry>, ChartingError> {
    let s = session_chart(chart, config, session)?;
    if let Some(ended) = s.session().ended {
        return Err(Refusal::AlreadyEnded { session, at: ended }.into());
    }
    let at = now.fixed_offset();
    let open = super::stock::rests_of_session(chart, &s.drawn())?;
    let unanswered: Vec<_> = open
        .iter()
        .filter(|(c, _)| !rests.iter().any(|(r, _)| r == c))
        .copied()
        .collect();
    if !unanswered.is_empty() {
        return Err(Refusal::ContainerRestUnanswered {
            containers: unanswered,
        }
        .into());
    }
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    let concerns = s.end_concerns(&state_with(s.discharge_state(), &payloads, at), at);
    if !concerns.is_empty() && reason.is_none() {
        return Err(Refusal::EndNeedsReason { session, concerns }.into());
    }
    let mut keeps = Vec::new();
    for (container, mg) in &open {
        match rests.iter().find(|(c, _)| c == container).map(|(_, r)| *r) {
            Some(Rest::Waste) => {
                let drug = super::stock::container(chart, *container)?
                    .container
                    .drug()
                    .to_string();
                payloads.push(Payload::Waste(crate::domain::stock::Waste {
                    drug,
                    mg: *mg,
                    manner: String::new(),
                    drawn: Vec::new(),
                    vial: Some(*container),
                }));
            }
            Some(Rest::Keep) => keeps.push(*container),
            None => {}
        }
    }
    let mut planned = s.plan_payloads(payloads, at);
    super::stock::attach_draws(
        chart,
        config,
        planned.iter_mut().map(|p| (&mut p.payload, p.event_time)),
        None,
    )?;
    planned.push(PlannedEntry {
        payload: Payload::SessionEnd(SessionEnd {
            reason: reason.map(str::to_string),
        }),
        event_time: at,
        flags: Vec::new(),
    });
    let written = chart
        .store
        .append_stored(session, &new_entries(planned, at))?;
    for container in keeps {
        super::stock::keep(chart, config, container, now)?;
    }
    Ok(written)
}
