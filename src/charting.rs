//! Charting: a quick-entry line, an amendment or a strike, from typed text to durable
//! entries. The CLI and the TUI both chart through here, so they behave the same.

use crate::config::Config;
use crate::domain::entry::SessionEnd;
use crate::domain::grammar::{GrammarError, ParseContext, ParsedLine, parse_line};
use crate::domain::planning::{FlagRules, PlannedEntry, SessionContext, plan_line};
use crate::domain::{ChartLine, Correction, EntryId, EntryStatus, Payload, SessionId, chart_lines};
use crate::store::{Chart, NewEntry, StoreError};
use chrono::{DateTime, FixedOffset, TimeZone};

#[derive(Debug, thiserror::Error)]
pub enum ChartingError {
    #[error("{0}")]
    Grammar(#[from] GrammarError),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Invalid(String),
}

/// What a line will become, before it is written: the entries and their flags.
#[derive(Debug, Clone, PartialEq)]
pub struct Preview {
    pub line: ParsedLine,
    pub entries: Vec<PlannedEntry>,
}

/// The session as it stands: every entry with its status, in event-time order.
pub fn session_lines(chart: &Chart, session: SessionId) -> Result<Vec<ChartLine>, StoreError> {
    Ok(chart_lines(chart.entries(session)?))
}

/// The event time of the first dose that still stands in the session.
pub fn first_dose(lines: &[ChartLine]) -> Option<DateTime<FixedOffset>> {
    lines
        .iter()
        .filter(|l| l.status == EntryStatus::Current && matches!(l.entry.payload, Payload::Dose(_)))
        .map(|l| l.entry.event_time)
        .min()
}

/// Parses and plans a line against the session, writing nothing.
pub fn preview<Tz: TimeZone>(
    chart: &Chart,
    config: &Config,
    session: SessionId,
    line: &str,
    now: &DateTime<Tz>,
) -> Result<Preview, ChartingError> {
    let s = chart.session(session)?;
    let patient = chart.patient(s.patient_id)?;
    let parsed = parse_line(
        line,
        &ParseContext {
            now: now.clone(),
            weight_kg: patient.weight_kg,
            drugs: &config.drugs.known,
            doses: &config.alerts.doses,
            measures: &config.measures,
        },
    )?;
    let lines = session_lines(chart, session)?;
    let entries = plan_line(
        &parsed,
        now.fixed_offset(),
        SessionContext {
            kind: s.kind,
            first_dose: first_dose(&lines),
        },
        FlagRules {
            alerts: &config.alerts,
            late_after: config.late_after(),
        },
    );
    Ok(Preview {
        line: parsed,
        entries,
    })
}

/// Writes one quick-entry line durably; returns the new entry ids in line order.
pub fn record_line<Tz: TimeZone>(
    chart: &mut Chart,
    config: &Config,
    session: SessionId,
    line: &str,
    now: &DateTime<Tz>,
) -> Result<Vec<EntryId>, ChartingError> {
    let preview = preview(chart, config, session, line, now)?;
    let recorded = now.fixed_offset();
    let entries: Vec<NewEntry> = preview
        .entries
        .into_iter()
        .map(|p| NewEntry {
            payload: p.payload,
            event_time: p.event_time,
            recorded_time: recorded,
            flags: p.flags,
            corrects: None,
        })
        .collect();
    Ok(chart.append(session, &entries)?)
}

/// Writes entries made by a form (discharge items, an acknowledgement, a session end) in one
/// durable transaction, at `now`, with the flags they earn.
pub fn record_payloads<Tz: TimeZone>(
    chart: &mut Chart,
    config: &Config,
    session: SessionId,
    payloads: Vec<Payload>,
    now: &DateTime<Tz>,
) -> Result<Vec<EntryId>, ChartingError> {
    let s = chart.session(session)?;
    if s.ended.is_some() && payloads.iter().any(|p| matches!(p, Payload::SessionEnd(_))) {
        return Err(ChartingError::Invalid(format!(
            "session {session} has already ended"
        )));
    }
    let lines = session_lines(chart, session)?;
    let at = now.fixed_offset();
    let before_first_dose =
        s.kind == crate::domain::SessionKind::Dosing && first_dose(&lines).is_none_or(|d| at < d);
    let entries: Vec<NewEntry> = payloads
        .into_iter()
        .map(|payload| NewEntry {
            flags: config.alerts.flags_for(&payload, before_first_dose),
            payload,
            event_time: at,
            recorded_time: at,
            corrects: None,
        })
        .collect();
    Ok(chart.append(session, &entries)?)
}

fn require_reason(reason: &str) -> Result<String, ChartingError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(ChartingError::Invalid(
            "a correction needs a reason, e.g. --reason \"wrong arm cuff reading\"".into(),
        ));
    }
    Ok(reason.to_string())
}

/// Replaces an entry with what `line` describes (one entry). The replacement keeps the
/// original's event time unless the line gives one with `@`.
pub fn amend_entry<Tz: TimeZone>(
    chart: &mut Chart,
    config: &Config,
    target: EntryId,
    reason: &str,
    line: &str,
    now: &DateTime<Tz>,
) -> Result<EntryId, ChartingError> {
    let reason = require_reason(reason)?;
    let original = chart.entry(target)?;
    let mut preview = preview(chart, config, original.session_id, line, now)?;
    if preview.entries.len() != 1 {
        return Err(ChartingError::Invalid(format!(
            "an amendment replaces one entry, but this line makes {}; amend each entry on its own",
            preview.entries.len()
        )));
    }
    let mut planned = preview.entries.remove(0);
    if !preview.line.time_given {
        planned.event_time = original.event_time;
        // Flags follow the reading, not the correction: recompute against the kept time.
        let s = chart.session(original.session_id)?;
        let lines = session_lines(chart, original.session_id)?;
        let before_first_dose = s.kind == crate::domain::SessionKind::Dosing
            && first_dose(&lines).is_none_or(|d| planned.event_time < d);
        planned.flags = config.alerts.flags_for(&planned.payload, before_first_dose);
    } else {
        // A correction is identified as one; it is not also a late entry.
        planned.flags.retain(|f| f.code.is_alert());
    }
    let ids = chart.append(
        original.session_id,
        &[NewEntry {
            payload: planned.payload,
            event_time: planned.event_time,
            recorded_time: now.fixed_offset(),
            flags: planned.flags,
            corrects: Some((target, Correction::Amend, reason)),
        }],
    )?;
    Ok(ids[0])
}

/// Withdraws an entry; it stays in the record, marked as struck, with the reason.
pub fn strike_entry<Tz: TimeZone>(
    chart: &mut Chart,
    target: EntryId,
    reason: &str,
    now: &DateTime<Tz>,
) -> Result<EntryId, ChartingError> {
    let reason = require_reason(reason)?;
    let original = chart.entry(target)?;
    let ids = chart.append(
        original.session_id,
        &[NewEntry {
            payload: Payload::Strike,
            event_time: now.fixed_offset(),
            recorded_time: now.fixed_offset(),
            flags: Vec::new(),
            corrects: Some((target, Correction::Strike, reason)),
        }],
    )?;
    Ok(ids[0])
}

/// Ends a session now; `reason` explains an end against a discharge reminder.
pub fn end_session<Tz: TimeZone>(
    chart: &mut Chart,
    session: SessionId,
    reason: Option<String>,
    now: &DateTime<Tz>,
) -> Result<EntryId, ChartingError> {
    let s = chart.session(session)?;
    if let Some(ended) = s.ended {
        return Err(ChartingError::Invalid(format!(
            "session {session} already ended at {}",
            ended.format("%Y-%m-%d %H:%M")
        )));
    }
    let ids = chart.append(
        session,
        &[NewEntry {
            payload: Payload::SessionEnd(SessionEnd {
                reason: reason
                    .map(|r| r.trim().to_string())
                    .filter(|r| !r.is_empty()),
            }),
            event_time: now.fixed_offset(),
            recorded_time: now.fixed_offset(),
            flags: Vec::new(),
            corrects: None,
        }],
    )?;
    Ok(ids[0])
}
