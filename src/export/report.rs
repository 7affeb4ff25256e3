//! The printable report: one self-contained HTML file (inline CSS and SVG, nothing loaded
//! from anywhere) that prints to A4 or Letter, and the same content as Markdown for pasting
//! into other systems. Both render a [`Record`]; nothing here reads a clock or the chart, so
//! the same record always gives the same bytes (the only time shown that is not in the
//! chart is `record.exported`). What each section says (facts, rows, cells, words, flags)
//! is built once, format-neutral, in `sections`; `html` and `markdown` only set it in their
//! own markup.
//! One file because the rows every format shares (the flowsheet, the checks and the times)
//! live here beside their tests, for the HTML, the Markdown and the CSV (a little over 700
//! lines).
//!
//! What a session shows: the patient and session, the doses, a BP/HR chart with the alert
//! levels (HTML only), the vitals flowsheet (readings that stand; a flagged value carries
//! "!"), the timeline of every entry with its corrections (struck entries struck through
//! *and* labelled "struck: reason", so the record survives black-and-white printing),
//! discharge, and the integration note.
//!
//! The note: a signed note is shown verbatim (preformatted, every character escaped, so the
//! text can be hashed again and checked against the SHA-256 printed beside it), with the
//! signer, time and SHA-256, then each addendum with its own. An unsigned note is **not**
//! printed: the report says "DRAFT — not signed" with when the draft was last saved, and
//! leaves the draft text out. A draft is not part of the signed record, and a copy on paper
//! or pasted into another system could be mistaken for the note.
//!
//! A record with several sessions (a course) starts with a summary: the patient, the course
//! plan and progress, the outcome measures (trend chart and table with change from
//! baseline) and a list of the sessions; then each dosing session in full, then the other
//! sessions briefly.

/// Appends formatted text to a `String` (which cannot fail).
macro_rules! w {
    ($out:expr, $($arg:tt)*) => {
        let _ = write!($out, $($arg)*);
    };
}

pub(crate) mod html;
mod markdown;
mod sections;
mod svg;

pub use html::html;
pub use markdown::markdown;

use super::{Record, SessionRecord};
use crate::domain::discharge::{DischargeState, discharge_state};
use crate::domain::entry::{AldreteScore, Dose, SessionEnd};
use crate::domain::measures::{MeasureResponse, SafetyFlag, needs_risk_assessment};
use crate::domain::protocol::CheckStatus;
use crate::domain::{
    ChartLine, Entry, EntryId, EntryStatus, FlagCode, Payload, SessionKind, VitalSigns,
    current_entries,
};
use chrono::{DateTime, FixedOffset, NaiveDate};

// ---------------------------------------------------------------------------------------
// Times

/// "2026-11-26 13:00 (UTC+01:00)".
pub(crate) fn stamp(t: DateTime<FixedOffset>) -> String {
    format!("{} (UTC{})", t.format("%Y-%m-%d %H:%M"), t.format("%:z"))
}

/// "Thu 26 Nov 2026".
pub(crate) fn long_date(d: NaiveDate) -> String {
    d.format("%a %-d %b %Y").to_string()
}

/// "12 Apr 1986".
pub(crate) fn short_date(d: NaiveDate) -> String {
    d.format("%-d %b %Y").to_string()
}

// ---------------------------------------------------------------------------------------
// The vitals flowsheet

/// One flowsheet row: a vitals reading with the MOAA/S charted alongside it, or a sedation
/// score on its own.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FlowRow<'a> {
    pub at: DateTime<FixedOffset>,
    pub vitals: Option<&'a Entry>,
    pub sedation: Option<&'a Entry>,
    /// A CADSS-6 score and a respiratory status joined to the row; only
    /// [`flow_rows_with_monitoring`] fills them.
    pub dissociation: Option<&'a Entry>,
    pub respiration: Option<&'a Entry>,
}

impl<'a> FlowRow<'a> {
    /// The entry the row stands for: the reading, else the sedation score.
    pub fn entry(&self) -> &'a Entry {
        self.vitals
            .or(self.sedation)
            .or(self.dissociation)
            .or(self.respiration)
            .expect("a flowsheet row has an entry")
    }

    pub fn signs(&self) -> Option<&'a VitalSigns> {
        self.vitals.and_then(|e| match &e.payload {
            Payload::Vitals(v) => Some(v),
            _ => None,
        })
    }

    pub fn moaas(&self) -> Option<u8> {
        self.sedation.and_then(|e| match e.payload {
            Payload::Sedation(s) => Some(s.moaas),
            _ => None,
        })
    }

    /// Whether the row's reading or score carries `code`.
    pub fn has(&self, code: FlagCode) -> bool {
        self.vitals
            .into_iter()
            .chain(self.sedation)
            .any(|e| e.flags.iter().any(|f| f.code == code))
    }

    pub fn bp_flagged(&self) -> bool {
        self.has(FlagCode::BpHigh) || self.has(FlagCode::BpPredose)
    }

    pub fn hr_flagged(&self) -> bool {
        self.has(FlagCode::HrHigh) || self.has(FlagCode::HrLow)
    }

    /// The flags of the reading and of the scores joined to it.
    pub fn flags(&self) -> impl Iterator<Item = &'a crate::domain::Flag> {
        self.vitals
            .into_iter()
            .chain(self.sedation)
            .chain(self.dissociation)
            .chain(self.respiration)
            .flat_map(|e| e.flags.iter())
    }

    /// The CADSS-6 total joined to the row.
    pub fn cadss6_total(&self) -> Option<u16> {
        self.dissociation.and_then(|e| match &e.payload {
            Payload::Dissociation(d) => Some(d.total()),
            _ => None,
        })
    }

    /// The respiratory status joined to the row: "ok" or "depressed".
    pub fn respiration(&self) -> Option<&'static str> {
        self.respiration.and_then(|e| match &e.payload {
            Payload::Respiration(r) => Some(if r.depressed { "depressed" } else { "ok" }),
            _ => None,
        })
    }
}

/// The readings that stand (amended originals and struck readings left out), in time
/// order. A sedation score within 3 minutes of an earlier reading joins its row, as on the
/// live screen; a score with no reading near it gets a row of its own.
pub(crate) fn flow_rows(lines: &[ChartLine]) -> Vec<FlowRow<'_>> {
    let mut rows: Vec<FlowRow<'_>> = Vec::new();
    for e in current_entries(lines) {
        match &e.payload {
            Payload::Vitals(_) => rows.push(FlowRow {
                at: e.event_time,
                vitals: Some(e),
                sedation: None,
                dissociation: None,
                respiration: None,
            }),
            Payload::Sedation(_) => {
                let near = rows.iter_mut().rev().find(|r| {
                    r.sedation.is_none() && (e.event_time - r.at).num_minutes().abs() <= 3
                });
                match near {
                    Some(r) => r.sedation = Some(e),
                    None => rows.push(FlowRow {
                        at: e.event_time,
                        vitals: None,
                        sedation: Some(e),
                        dissociation: None,
                        respiration: None,
                    }),
                }
            }
            _ => {}
        }
    }
    rows.sort_by_key(|r| (r.at, r.entry().id));
    rows
}

/// The flowsheet rows with each CADSS-6 score and respiratory status joined, as on the live
/// screen: to the latest row within 3 minutes with that slot free, else a row of its own.
pub(crate) fn flow_rows_with_monitoring(lines: &[ChartLine]) -> Vec<FlowRow<'_>> {
    let mut rows = flow_rows(lines);
    for e in current_entries(lines) {
        let dissociation = matches!(e.payload, Payload::Dissociation(_));
        if !dissociation && !matches!(e.payload, Payload::Respiration(_)) {
            continue;
        }
        let free = |r: &FlowRow<'_>| {
            if dissociation {
                r.dissociation.is_none()
            } else {
                r.respiration.is_none()
            }
        };
        let near = rows
            .iter()
            .rposition(|r| free(r) && (e.event_time - r.at).num_minutes().abs() <= 3);
        let i = near.unwrap_or_else(|| {
            rows.push(FlowRow {
                at: e.event_time,
                vitals: None,
                sedation: None,
                dissociation: None,
                respiration: None,
            });
            rows.len() - 1
        });
        if dissociation {
            rows[i].dissociation = Some(e);
        } else {
            rows[i].respiration = Some(e);
        }
    }
    rows.sort_by_key(|r| (r.at, r.entry().id));
    rows
}

// ---------------------------------------------------------------------------------------
// One session, ready to render

/// One protocol check as a report shows it.
pub(crate) struct CheckRow {
    pub check: String,
    pub due: String,
    pub t_plus: String,
    pub state: String,
    /// The entry that closed it ("#12"), or "".
    pub entry: String,
    /// Missed or done late: marked in the report.
    pub lapse: bool,
}

/// A session with what every renderer works out from it.
pub(crate) struct SessionView<'a> {
    pub rec: &'a SessionRecord,
    pub first_dose: Option<DateTime<FixedOffset>>,
    /// The clinicians who wrote in this session: its clinician first.
    pub clinicians: Vec<String>,
    /// Every entry, history included, in event-time order (entry id on a tie).
    pub lines: Vec<&'a ChartLine>,
}

impl<'a> SessionView<'a> {
    pub fn new(rec: &'a SessionRecord) -> Self {
        let mut lines: Vec<&ChartLine> = rec.lines.iter().collect();
        lines.sort_by_key(|l| (l.entry.event_time, l.entry.id));
        let mut clinicians: Vec<String> = Vec::new();
        let names = std::iter::once(rec.session.clinician.clone())
            .chain(lines.iter().map(|l| l.entry.author.clone()))
            .chain(rec.note.iter().flat_map(|n| {
                n.signature
                    .iter()
                    .map(|s| s.signer.clone())
                    .chain(n.addenda.iter().map(|a| a.author.clone()))
            }));
        for name in names {
            if !clinicians.contains(&name) {
                clinicians.push(name);
            }
        }
        SessionView {
            rec,
            first_dose: rec.first_dose,
            clinicians,
            lines,
        }
    }

    pub fn kind(&self) -> SessionKind {
        self.rec.session.kind
    }

    /// "dosing 2".
    pub fn title(&self) -> String {
        format!("{} {}", self.rec.session.kind, self.rec.number_in_course)
    }

    /// The day the session started (its first entry, when that was before it was opened).
    pub fn day(&self) -> NaiveDate {
        self.rec.period.day()
    }

    /// "14:05"; with the date when it is not the session's day, and the UTC offset when it
    /// is not the session's.
    pub fn time(&self, at: DateTime<FixedOffset>) -> String {
        let start = self.rec.period.start;
        let mut s = if at.date_naive() == self.day() {
            at.format("%H:%M").to_string()
        } else {
            at.format("%-d %b %Y %H:%M").to_string()
        };
        if at.offset() != start.offset() {
            s.push_str(&at.format(" (UTC%:z)").to_string());
        }
        s
    }

    pub fn t_plus(&self, at: DateTime<FixedOffset>) -> String {
        crate::domain::since_dose::t_plus_label(self.first_dose, at)
    }

    /// The protocol's checks as rows both report formats render the same way; empty for
    /// sessions other than dosing. Missed and late checks are part of the record.
    pub fn check_rows(&self) -> Vec<CheckRow> {
        self.rec
            .checks
            .iter()
            .map(|c| CheckRow {
                check: c.kind.to_string(),
                due: c
                    .due
                    .map_or_else(|| "before the dose".into(), |d| self.time(d)),
                t_plus: c
                    .t_plus_min
                    .map(|t| crate::domain::since_dose::t_plus_minutes(i64::from(t)))
                    .unwrap_or_default(),
                state: c.state_text(),
                entry: c
                    .status
                    .closed_by()
                    .map(|e| format!("#{e}"))
                    .unwrap_or_default(),
                lapse: c.is_lapse(),
            })
            .collect()
    }

    /// "2 missed, 1 done late" (or "all on time").
    pub fn check_summary(&self) -> String {
        let missed = self
            .rec
            .checks
            .iter()
            .filter(|c| c.status == CheckStatus::Missed)
            .count();
        let late = self
            .rec
            .checks
            .iter()
            .filter(|c| matches!(c.status, CheckStatus::DoneLate { .. }))
            .count();
        match (missed, late) {
            (0, 0) => "Every check so far was done on time.".into(),
            (m, l) => format!("{m} missed, {l} done late."),
        }
    }

    /// "09:55–12:10" or "09:55, not ended": the session's period, from its first entry.
    pub fn span(&self) -> String {
        let p = &self.rec.period;
        match p.end {
            Some(end) => format!("{}–{}", self.time(p.start), self.time(end)),
            None => format!("{}, not ended", self.time(p.start)),
        }
    }

    pub fn utc_offset(&self) -> String {
        format!("UTC{}", self.rec.period.start.format("%:z"))
    }

    fn entry(&self, id: EntryId) -> Option<&'a Entry> {
        self.lines
            .iter()
            .find(|l| l.entry.id == id)
            .map(|l| &l.entry)
    }

    /// The doses that stand, in time order.
    pub fn doses(&self) -> Vec<(&'a Entry, &'a Dose)> {
        self.lines
            .iter()
            .filter(|l| l.status == EntryStatus::Current)
            .filter_map(|l| match &l.entry.payload {
                Payload::Dose(d) => Some((&l.entry, d)),
                _ => None,
            })
            .collect()
    }

    /// A dose's amount as the dose tables show it, with its devices and lot when charted
    /// (`amount` is the table's own words for the amount, e.g. "56 mg").
    pub fn dose_with_details(amount: String, d: &Dose) -> String {
        let mut out = amount;
        match d.devices {
            Some(1) => out.push_str(" (1 device)"),
            Some(n) => out.push_str(&format!(" ({n} devices)")),
            None => {}
        }
        if let Some(lot) = &d.lot {
            out.push_str(&format!(", lot {lot}"));
        }
        out
    }

    /// Total milligrams per drug, in order of first dose, when more than one dose stands.
    pub fn dose_totals(&self) -> Vec<(String, f64)> {
        let doses = self.doses();
        if doses.len() < 2 {
            return Vec::new();
        }
        let mut totals: Vec<(String, f64)> = Vec::new();
        for (_, d) in doses {
            match totals.iter_mut().find(|(drug, _)| *drug == d.drug) {
                Some(t) => t.1 += d.total_mg,
                None => totals.push((d.drug.clone(), d.total_mg)),
            }
        }
        totals
    }

    pub fn flow_rows(&self) -> Vec<FlowRow<'a>> {
        flow_rows(&self.rec.lines)
    }

    /// The questionnaires that stand in this session, in time order.
    pub fn measures(&self) -> Vec<(&'a Entry, &'a MeasureResponse)> {
        self.lines
            .iter()
            .filter(|l| l.status == EntryStatus::Current)
            .filter_map(|l| match &l.entry.payload {
                Payload::Measure(m) => Some((&l.entry, m)),
                _ => None,
            })
            .collect()
    }

    pub fn timeline(&self) -> Vec<TimelineRow<'a>> {
        self.lines.iter().map(|l| self.timeline_row(l)).collect()
    }

    fn timeline_row(&self, line: &'a ChartLine) -> TimelineRow<'a> {
        let e = &line.entry;
        let recorded = (e.recorded_time.format("%Y-%m-%d %H:%M %z").to_string()
            != e.event_time.format("%Y-%m-%d %H:%M %z").to_string())
        .then(|| self.time(e.recorded_time));
        let corrects = match (e.corrects, e.correction) {
            (Some(target), Some(how)) => {
                let verb = match how {
                    crate::domain::Correction::Amend => "amends",
                    crate::domain::Correction::Strike => "strikes",
                };
                Some(format!(
                    "{verb} #{target}: {}",
                    e.reason.as_deref().unwrap_or("no reason given")
                ))
            }
            _ => None,
        };
        let by_line = |by: EntryId| self.entry(by);
        let (struck, amended) = match line.status {
            EntryStatus::Current => (None, None),
            EntryStatus::Struck { by } => {
                let s = by_line(by);
                let reason = s
                    .and_then(|s| s.reason.clone())
                    .unwrap_or_else(|| "no reason given".into());
                let who = s
                    .map(|s| format!(" (#{by}, {}, {})", self.time(s.recorded_time), s.author))
                    .unwrap_or_else(|| format!(" (#{by})"));
                (Some(format!("struck: {reason}{who}")), None)
            }
            EntryStatus::Amended { by } => {
                let a = by_line(by);
                let text = match a {
                    Some(a) => format!(
                        "amended: replaced by #{by} ({}, {}): {}; reason: {}",
                        self.time(a.recorded_time),
                        a.author,
                        content(&self.rec.lines, a),
                        a.reason.as_deref().unwrap_or("no reason given")
                    ),
                    None => format!("amended: replaced by #{by}"),
                };
                (None, Some(text))
            }
        };
        // A strike entry's content is what it does.
        let (content, corrects) = match (&e.payload, corrects) {
            (Payload::Strike, Some(c)) => (c, None),
            (_, c) => (content(&self.rec.lines, e), c),
        };
        // A witnessed dose names its witness (21 CFR 1304.22; clinical.md section 3).
        let witness = self.lines.iter().find(|l| {
            l.status == EntryStatus::Current
                && matches!(l.entry.payload, Payload::Witness(w) if w.entry == e.id)
        });
        let content = match witness {
            Some(w) => format!(
                "{content}; witnessed by {} at {}",
                w.entry.author,
                self.time(w.entry.event_time)
            ),
            None => content,
        };
        TimelineRow {
            line,
            time: self.time(e.event_time),
            recorded,
            late: e.flags.iter().any(|f| f.code == FlagCode::Late),
            t_plus: self.t_plus(e.event_time),
            kind: e.payload.kind(),
            content,
            corrects,
            struck,
            amended,
            flags: {
                // An alert someone acknowledged says so, with the acknowledgement's entry.
                let ack = crate::domain::summary::acknowledgement_of(&self.rec.lines, e.id)
                    .map(|a| format!("; acknowledged (#{})", a.entry.id))
                    .unwrap_or_default();
                e.flags
                    .iter()
                    .filter(|f| f.code.is_alert())
                    .map(|f| format!("{f}{ack}"))
                    .collect()
            },
        }
    }

    pub fn discharge(&self) -> Discharge {
        let owned: Vec<ChartLine> = self.lines.iter().map(|l| (*l).clone()).collect();
        let state = discharge_state(&owned);
        let aldrete_at = state
            .aldrete
            .and_then(|(id, _)| self.entry(id))
            .map(|e| e.event_time);
        let ended = self
            .lines
            .iter()
            .rev()
            .find_map(|l| match &l.entry.payload {
                Payload::SessionEnd(end) if l.status == EntryStatus::Current => {
                    Some((l.entry.event_time, end.clone()))
                }
                _ => None,
            });
        Discharge {
            state,
            aldrete_at,
            ended,
        }
    }
}

/// What discharge looks like in the record.
pub(crate) struct Discharge {
    pub state: DischargeState,
    pub aldrete_at: Option<DateTime<FixedOffset>>,
    pub ended: Option<(DateTime<FixedOffset>, SessionEnd)>,
}

impl Discharge {
    pub fn is_empty(&self) -> bool {
        self.state == DischargeState::default() && self.ended.is_none()
    }

    pub fn aldrete(&self) -> Option<AldreteScore> {
        self.state.aldrete.map(|(_, a)| a)
    }
}

/// One timeline row: an entry as written, with what later entries did to it.
pub(crate) struct TimelineRow<'a> {
    pub line: &'a ChartLine,
    /// When it happened.
    pub time: String,
    /// When it was written, when that is another minute.
    pub recorded: Option<String>,
    /// Flagged as a late entry.
    pub late: bool,
    pub t_plus: String,
    pub kind: &'static str,
    pub content: String,
    /// For a correcting entry: "amends #12: reason" / "strikes #12: reason".
    pub corrects: Option<String>,
    /// For a struck entry: "struck: reason (#14, 10:55, Dr X)".
    pub struck: Option<String>,
    /// For an amended entry: what replaced it, when, by whom and why.
    pub amended: Option<String>,
    /// The alert flags ("! BP 164/98 high (alert at >= 160/100)"); lateness is `late`.
    pub flags: Vec<String>,
}

impl TimelineRow<'_> {
    pub fn id(&self) -> EntryId {
        self.line.entry.id
    }

    pub fn author(&self) -> &str {
        &self.line.entry.author
    }

    /// What is said after the entry, in order: what it corrects, what struck or replaced
    /// it, its alert flags.
    pub fn annotations(&self) -> Vec<(Said, &str)> {
        let corrects = self.corrects.iter().map(|c| (Said::Corrects, c.as_str()));
        let by = self.struck.iter().chain(&self.amended);
        let by = by.map(|c| (Said::CorrectedBy, c.as_str()));
        let flags = self.flags.iter().map(|f| (Said::Alert, f.as_str()));
        corrects.chain(by).chain(flags).collect()
    }

    /// "written 10:52 · late" / "written 10:46" / "" .
    pub fn written(&self) -> Option<String> {
        match (&self.recorded, self.late) {
            (Some(r), true) => Some(format!("written {r}, late")),
            (Some(r), false) => Some(format!("written {r}")),
            (None, true) => Some("late".into()),
            (None, false) => None,
        }
    }
}

/// What a note after a timeline entry says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Said {
    /// "amends #12: reason" / "strikes #12: reason".
    Corrects,
    /// "struck: ..." / "amended: replaced by ...".
    CorrectedBy,
    /// An alert flag.
    Alert,
}

/// An entry's content in one line, as the timeline shows it: what it points at (an
/// acknowledgement its alert, a witness its dose) read among its session's `lines`.
pub(crate) fn content(lines: &[ChartLine], e: &Entry) -> String {
    match &e.payload {
        Payload::Measure(m) if needs_risk_assessment(m) => {
            format!("{}; item 9 answered {}", e.payload, m.items[8])
        }
        _ => crate::domain::summary::entry_summary(lines, e),
    }
}

// ---------------------------------------------------------------------------------------
// The course

/// The course figures the summary shows.
pub(crate) struct CourseView {
    /// Dosing sessions ended, as `kapchart course show` counts them.
    pub dosing_done: usize,
    /// Dosing sessions in the record, ended or not.
    pub dosing_held: usize,
    pub planned: u32,
    /// Whether `planned` comes from a course plan (else the default).
    pub planned_from_plan: bool,
    pub safety_flag: Option<SafetyFlag>,
}

impl CourseView {
    pub fn new(record: &Record) -> Self {
        let dosing = record
            .sessions
            .iter()
            .filter(|s| s.session.kind == SessionKind::Dosing);
        let all_lines: Vec<ChartLine> = record
            .sessions
            .iter()
            .flat_map(|s| s.lines.iter().cloned())
            .collect();
        CourseView {
            dosing_done: dosing.clone().filter(|s| s.session.ended.is_some()).count(),
            dosing_held: dosing.count(),
            planned: record
                .course
                .as_ref()
                .map_or(crate::domain::course::DEFAULT_PLANNED_DOSING, |c| {
                    c.planned_dosing
                }),
            planned_from_plan: record.course.is_some(),
            safety_flag: crate::domain::measures::safety_flag(&all_lines),
        }
    }

    /// "3 of 6 planned dosing sessions done".
    pub fn progress(&self) -> String {
        let mut s = format!(
            "{} of {} planned dosing sessions done",
            self.dosing_done, self.planned
        );
        if self.dosing_held > self.dosing_done {
            s.push_str(&format!(
                " ({} more started, not ended)",
                self.dosing_held - self.dosing_done
            ));
        }
        if !self.planned_from_plan {
            s.push_str(" (no course plan recorded; the default plan is assumed)");
        }
        s
    }
}

/// Whether the record is a course (summary first) rather than one session.
pub(crate) fn is_course(record: &Record) -> bool {
    record.sessions.len() != 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// 26 Nov 2026 at h:m, UTC+01:00; for the report's tests.
    pub(super) fn at(h: u32, m: u32) -> DateTime<FixedOffset> {
        FixedOffset::east_opt(3600)
            .unwrap()
            .with_ymd_and_hms(2026, 11, 26, h, m, 0)
            .unwrap()
    }
}
