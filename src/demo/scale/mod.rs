//! Synthetic charts at a clinic's scale: many patients, each with a whole KAP course, written
//! through the same parsing, planning and storing path as typed lines, for benchmarks and for
//! `kapchart demo --patients N`. No real person's data: names, dates and readings come from a
//! small deterministic generator seeded by the caller.
//!
//! Each patient has an intake, a preparation session, six dosing sessions of about forty
//! entries (vitals on the protocol's 15/30-minute rounds with the T+40 BP, MOAA/S, the dose,
//! observations with #tags and quotes, the discharge items), an integration session 2-3 days
//! after each dosing session with PHQ-9 and GAD-7, and a signed integration note drafted from
//! the record. As in a clinic, some sessions stand out: in a generated chart about 7% of dosing
//! sessions start with a pre-dose BP caution, about 11% reach the BP alert level, 4-5% have an
//! SpO2 dip or deep sedation, one in six has a late entry, and a few have an amendment or a
//! strike; alerts are mostly acknowledged, and notes with open alerts are signed with a reason.
//! Esketamine courses (about one patient in seven) have their Spravato REMS forms recorded as
//! submitted within the deadline, except those of the last week, which are still due. The
//! ketamine and esketamine come from the clinic's stock, received in deliveries, drawn by the
//! doses and the rest of each vial wasted and witnessed ([`stock`]).
//!
//! Courses start at random over the ten years before `now` and the sessions are written in
//! the order they happened, across patients, as a clinic's chart fills up; what would end
//! after `now` is left out, so the newest courses are in progress. Every time carries `now`'s
//! UTC offset (daylight saving time is not modelled).
//!
//! Each session's entries go to the chart in one [`Chart::append`] transaction (two or three
//! when an acknowledgement or a correction must name an entry written before it); patients,
//! details, courses, sessions and the note's drafts and signature are one transaction each.
//! That is still about fifty commits per patient, so while it runs the chart is set to
//! `synchronous = NORMAL` (in WAL mode: commits are not fsynced one by one; a crash may lose
//! the newest transactions but never leaves the chart inconsistent), then back to `FULL`
//! with one checkpoint at the end.

use crate::app::Chart;
use crate::app::charting::ChartingError;
use crate::app::course;
use crate::app::rems::{self, RemsError};
use crate::config::Config;
use crate::domain::chart::SessionChart;
use crate::domain::course::{DEFAULT_PLANNED_DOSING, PatientDetails};
use crate::domain::entry::{Acknowledgement, AldreteScore, RideHome, SessionEnd};
use crate::domain::grammar::parse_line;
use crate::domain::{Correction, Entry, EntryId, Flag, PatientId, Payload, SessionId, SessionKind};
use crate::store::{NewEntry, NewPatient, NewSession};
use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, TimeZone, Weekday};

/// What [`generate`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScaleReport {
    pub patients: usize,
    pub sessions: usize,
    pub entries: usize,
}

/// Sessions in a finished course: intake, preparation, and each dosing session with its
/// integration session.
pub const SESSIONS_PER_COURSE: usize = 2 + 2 * DOSING_SESSIONS;

/// Dosing sessions per course.
pub const DOSING_SESSIONS: usize = DEFAULT_PLANNED_DOSING as usize;

/// About how many entries one finished course has; for progress estimates.
pub const ENTRIES_PER_COURSE: usize = 285;

/// Changes whenever the same seed would write a different chart (for caches of generated
/// charts, such as the benchmarks').
pub const VERSION: u32 = 3;

/// How far back the clinic's history reaches.
const HISTORY_DAYS: i64 = 3652;

/// The latest a course may start, in days before `now` (most courses finish in 4-6 weeks, so
/// the newest ones are still running).
const NEWEST_COURSE_DAYS: i64 = 14;

/// Fills `chart` with `patients` synthetic patients, each with intake, preparation, 6 dosing
/// sessions of about 40 entries (vitals every 15/30 min, MOAA/S, dose, observations with #tags
/// and quotes, discharge entries), an integration session per dosing session with a signed
/// integration note, PHQ-9/GAD-7 measures, deterministic from `seed`, with realistic dates
/// spread over ten years before `now` (a clinic's history). `progress(done_entries,
/// total_estimate)` is called as it goes.
pub fn generate(
    chart: &mut Chart,
    config: &Config,
    patients: usize,
    seed: u64,
    now: DateTime<FixedOffset>,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<ScaleReport, ChartingError> {
    // Bulk writing: commits are not fsynced one by one (a crash may lose the newest
    // transactions, never the chart's consistency); FULL again and one checkpoint at the end.
    let pragma = |chart: &Chart, value: &str| {
        chart
            .behind_the_door_ref()
            .raw_connection()
            .pragma_update(None, "synchronous", value)
            .map_err(|e| ChartingError::Invalid(format!("cannot set synchronous={value}: {e}")))
    };
    pragma(chart, "NORMAL")?;
    let filled = fill(chart, config, patients, seed, now, progress);
    let restored = pragma(chart, "FULL").and_then(|()| {
        chart
            .behind_the_door_ref()
            .raw_connection()
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .map_err(|e| ChartingError::Invalid(format!("cannot checkpoint the chart: {e}")))
    });
    let report = filled?;
    restored?;
    Ok(report)
}

fn fill(
    chart: &mut Chart,
    config: &Config,
    patients: usize,
    seed: u64,
    now: DateTime<FixedOffset>,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<ScaleReport, ChartingError> {
    let profiles: Vec<Profile> = (0..patients).map(|i| Profile::new(seed, i, now)).collect();
    // Everything that happens, in the order it happened (ties: patient, then course order).
    let mut events: Vec<(DateTime<FixedOffset>, usize, usize, Event)> = Vec::new();
    for (i, p) in profiles.iter().enumerate() {
        for (order, (at, event)) in p
            .events(now, config.rems.deadline_days)
            .into_iter()
            .enumerate()
        {
            events.push((at, i, order, event));
        }
    }
    events.sort_by_key(|(at, i, order, _)| (*at, *i, *order));

    let first = events.first().map_or(now, |(at, ..)| *at);
    let mut pharmacy = Pharmacy::new(chart, seed, first - Duration::days(2))?;
    let mut state: Vec<PatientState> = (0..patients).map(|_| PatientState::default()).collect();
    let mut report = ScaleReport {
        patients: 0,
        sessions: 0,
        entries: 0,
    };
    let mut estimate = patients * ENTRIES_PER_COURSE;
    progress(0, estimate);
    for (at, i, _, event) in events {
        let p = &profiles[i];
        let st = &mut state[i];
        match event {
            Event::Admit => {
                st.patient = Some(admit(chart, p, at)?);
                report.patients += 1;
            }
            Event::Session(slot) => {
                let patient = st.patient.ok_or_else(|| missing("patient", i))?;
                let dosing = match slot {
                    Slot::Integration(k) => {
                        Some(st.dosing[k].ok_or_else(|| missing("dosing session", k))?)
                    }
                    _ => None,
                };
                let mut rng = Rng::for_session(seed, i, slot.index());
                let timeline = match slot {
                    Slot::Intake => intake(p, &mut rng, at),
                    Slot::Preparation => preparation(p, &mut rng, at),
                    Slot::Dosing(k) => dosing_session(p, &mut rng, at, k),
                    Slot::Integration(k) => integration_session(p, &mut rng, at, k),
                };
                let supply = match slot {
                    Slot::Dosing(k) => pharmacy.supply(
                        chart,
                        config,
                        p.regimen,
                        f64::from(Regimen::intranasal_mg(k)),
                        at,
                    )?,
                    _ => Supply::None,
                };
                let session = chart.behind_the_door().start_session(
                    &NewSession {
                        patient_id: patient,
                        kind: slot.kind(),
                        started: at,
                        intention: matches!(slot, Slot::Dosing(_))
                            .then(|| p.theme.intention.into()),
                        dosing_session_id: dosing,
                    },
                    at,
                )?;
                if let Slot::Dosing(k) = slot {
                    st.dosing[k] = Some(session);
                }
                report.sessions += 1;
                let stock = (&supply, &pharmacy.witness);
                report.entries +=
                    write_session(chart, config, session, slot.kind(), p, timeline, stock)?;
                estimate = estimate.max(report.entries);
                progress(report.entries, estimate);
            }
            Event::Note { dosing: k, signed } => {
                let dosing = st.dosing[k].ok_or_else(|| missing("dosing session", k))?;
                let mut rng = Rng::for_session(seed, i, 100 + k);
                write_note(chart, config, p, &mut rng, dosing, at, signed, now)?;
            }
            Event::RemsSubmitted { dosing: k, on } => {
                let dosing = st.dosing[k].ok_or_else(|| missing("dosing session", k))?;
                if submit_rems_form(chart, config, dosing, on, at)? {
                    report.entries += 1;
                }
            }
        }
    }
    progress(report.entries, report.entries);
    Ok(report)
}

/// Records the session's REMS form as submitted on `on`, as `kapchart rems submitted` does;
/// false when there is no form to submit (an inpatient clinic, or the dose was struck).
fn submit_rems_form(
    chart: &mut Chart,
    config: &Config,
    dosing: SessionId,
    on: NaiveDate,
    at: DateTime<FixedOffset>,
) -> Result<bool, ChartingError> {
    if !config.rems.outpatient {
        return Ok(false);
    }
    let reference = format!("REMS-{dosing:06}");
    match rems::record_submission(
        chart,
        config,
        dosing,
        on,
        Some(&reference),
        None,
        at.date_naive(),
        at,
    ) {
        Ok(_) => Ok(true),
        Err(RemsError::NotRems { .. }) => Ok(false),
        Err(e) => Err(ChartingError::Invalid(format!(
            "scale data: REMS form of session {dosing}: {e}"
        ))),
    }
}

fn missing(what: &str, n: usize) -> ChartingError {
    ChartingError::Invalid(format!("scale data: {what} {n} was not written"))
}

mod notes;
mod patients;
mod rng;
mod stock;
mod timelines;
mod write;

use notes::*;
use patients::*;
use rng::*;
use stock::*;
use timelines::*;
use write::*;

#[cfg(test)]
mod tests;
