//! The live screen's writes carried out on the chart: a line, an amendment, a strike, a
//! form's entries, a session's end; and how the use cases' refusals reach the screen.

use super::live::Written;
use super::state::Effect;
use crate::app::{Chart, Second};
use crate::app::{charting, views};
use crate::config::Config;
use crate::domain::SessionId;

/// Carries out a write the live screen asked for (a line, an amendment, a strike, a form's
/// entries, a session's end): the session it wrote in, and how many entries it charted, or
/// why nothing was written. None for effects that are not writes. For the tests and benches
/// (the `testing` feature); the screen writes through [`write_for_screen`].
#[cfg(any(test, feature = "testing"))]
pub fn write<Tz: chrono::TimeZone>(
    chart: &mut Chart,
    config: &Config,
    effect: Effect,
    now: &chrono::DateTime<Tz>,
) -> Option<(SessionId, Result<usize, charting::ChartingError>)> {
    write_charted(chart, config, effect, now).map(|(s, r)| (s, r.map(|(n, _)| n)))
}

/// How many entries a write charted, and the dose its line asked to be witnessed.
#[cfg(any(test, feature = "testing"))]
pub type WriteResult = Result<(usize, Option<crate::domain::EntryId>), charting::ChartingError>;

/// Like [`write`], with the dose a charted line asked a second clinician to witness.
#[cfg(any(test, feature = "testing"))]
pub fn write_charted<Tz: chrono::TimeZone>(
    chart: &mut Chart,
    config: &Config,
    effect: Effect,
    now: &chrono::DateTime<Tz>,
) -> Option<(SessionId, WriteResult)> {
    write_stored(chart, config, effect, now)
        .map(|(s, r)| (s, r.map(|(entries, witness)| (entries.len(), witness))))
}

/// Carries out a write the live screen asked for, with what the screen takes in from it
/// ([`LiveData::take_in`]) instead of reading the session again: the entries as stored, the
/// safety flag when the write may have changed it, and the dose to witness. None for
/// effects that are not writes.
pub fn write_for_screen<Tz: chrono::TimeZone>(
    chart: &mut Chart,
    config: &Config,
    effect: Effect,
    now: &chrono::DateTime<Tz>,
) -> Option<Result<Written, charting::ChartingError>> {
    let (_, result) = write_stored(chart, config, effect, now)?;
    Some(result.and_then(|(entries, witness)| {
        views::session_write(chart, entries)
            .map(|write| Written { write, witness })
            .map_err(charting::ChartingError::from)
    }))
}

/// The entries a write left, as stored, and the dose its line asked to be witnessed.
type StoredResult =
    Result<(Vec<crate::domain::Entry>, Option<crate::domain::EntryId>), charting::ChartingError>;

fn write_stored<Tz: chrono::TimeZone>(
    chart: &mut Chart,
    config: &Config,
    effect: Effect,
    now: &chrono::DateTime<Tz>,
) -> Option<(SessionId, StoredResult)> {
    let session_of = |chart: &Chart, entry| chart.entry(entry).map(|e| e.session_id);
    let unwitnessed = |r: Result<Vec<_>, charting::ChartingError>| r.map(|e| (e, None));
    Some(match effect {
        Effect::Commit { session, line } => (
            session,
            charting::record_line(chart, config, session, &line, now)
                .map(|c| (c.entries, c.witness)),
        ),
        Effect::Amend {
            target,
            reason,
            line,
        } => (
            session_of(chart, target).unwrap_or_default(),
            unwitnessed(
                charting::amend_entry(chart, config, target, &reason, &line, now).map(|e| vec![e]),
            ),
        ),
        Effect::Strike { target, reason } => (
            session_of(chart, target).unwrap_or_default(),
            unwitnessed(charting::strike_entry(chart, target, &reason, now).map(|e| vec![e])),
        ),
        Effect::Record { session, payloads } => (
            session,
            unwitnessed(charting::record_payloads(
                chart, config, session, payloads, now,
            )),
        ),
        Effect::Acknowledge { entry, flag, note } => (
            session_of(chart, entry).unwrap_or_default(),
            unwitnessed(
                charting::acknowledge(
                    chart,
                    config,
                    entry,
                    Some(flag),
                    &note,
                    charting::Unworded::ShownWords,
                    now,
                )
                .map(|e| vec![e]),
            ),
        ),
        Effect::EndSession {
            session,
            payloads,
            reason,
        } => (
            session,
            unwitnessed(charting::end_session(
                chart,
                config,
                session,
                payloads,
                reason.as_deref(),
                now,
            )),
        ),
        _ => return None,
    })
}

pub(super) fn second_if(meant: bool) -> Second {
    if meant { Second::Meant } else { Second::Refuse }
}
