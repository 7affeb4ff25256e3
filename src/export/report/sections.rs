//! What each section of the report says, built once as format-neutral data: which facts,
//! which rows and cells, which words, and which of them are flagged. The HTML and Markdown
//! renderers only set this data in their own markup (and escape it); neither decides what
//! a section holds. The timeline rows are [`TimelineRow`](super::TimelineRow), built in
//! `report.rs`.

mod course;
mod session;

pub(crate) use course::{
    OTHER_SESSIONS_INTRO, bands, course_patient_facts, course_plan_facts, course_trends, goals,
    measure_table, other_sessions, session_table, trend_table,
};
pub(crate) use session::{
    NoteSection, checks, discharge, dose_totals, doses, flowsheet, note, questionnaires,
};

use super::{SessionView, long_date, short_date};
use crate::domain::SessionKind;
use crate::export::Record;
use chrono::NaiveDate;

// ---------------------------------------------------------------------------------------
// The pieces

/// A run of text and how it is set.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Span {
    Text(String),
    /// Bold: a total, a change, progress.
    Strong(String),
    /// Bold and marked as flagged: a missed or late check, in words, not colour alone.
    Alert(String),
    /// A mark the reader must not miss ("! item 9 answered 2").
    Mark(String),
    /// A hash or other code, shown exactly.
    Code(String),
    /// A detail after the value (the Aldrete items): a small line of its own on paper.
    Detail(String),
}

fn text(s: impl Into<String>) -> Span {
    Span::Text(s.into())
}

/// One row of a facts table: "Session" — "dosing 2 of 6 planned; session #7".
pub(crate) struct Fact {
    pub name: &'static str,
    pub value: Vec<Span>,
}

fn fact(name: &'static str, value: impl Into<String>) -> Fact {
    Fact {
        name,
        value: vec![text(value)],
    }
}

/// What a column holds, which sets its alignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ColKind {
    Text,
    Time,
    Number,
    /// A total with its date ("12 (3 Nov 2026)"): right-aligned on paper, left in Markdown.
    Reading,
    /// An entry number ("#12").
    Id,
    /// Small print (a questionnaire's answers).
    Small,
}

pub(crate) struct Col {
    pub name: &'static str,
    pub kind: ColKind,
}

/// How a cell stands out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Look {
    Plain,
    /// A value flagged when it was charted: bold, with "!".
    Flagged,
    /// No value: a dash.
    Missing,
}

pub(crate) struct Cell {
    pub spans: Vec<Span>,
    pub look: Look,
    /// The entry the cell came from ("#12"), set after it in small print.
    pub entry: Option<String>,
}

impl Cell {
    fn new(spans: Vec<Span>) -> Cell {
        Cell {
            spans,
            look: Look::Plain,
            entry: None,
        }
    }
}

fn cell(s: impl Into<String>) -> Cell {
    Cell::new(vec![text(s)])
}

fn strong(s: impl Into<String>) -> Cell {
    Cell::new(vec![Span::Strong(s.into())])
}

/// A vital sign's cell: the value, flagged when the reading carried the flag, or a dash.
fn sign(value: Option<String>, flagged: bool) -> Cell {
    match value {
        Some(v) => Cell {
            look: if flagged { Look::Flagged } else { Look::Plain },
            ..cell(v)
        },
        None => Cell {
            look: Look::Missing,
            ..cell("–")
        },
    }
}

pub(crate) struct Table {
    pub cols: Vec<Col>,
    pub rows: Vec<Vec<Cell>>,
}

fn table(cols: &[(&'static str, ColKind)], rows: Vec<Vec<Cell>>) -> Table {
    Table {
        cols: cols
            .iter()
            .map(|&(name, kind)| Col { name, kind })
            .collect(),
        rows,
    }
}

// ---------------------------------------------------------------------------------------
// Headings and facts

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// "KAP dosing 2 record: Ann Example, 26 Nov 2026" / "KAP course record: Ann Example".
pub(crate) fn report_title(record: &Record) -> String {
    let name = &record.patient.name;
    if super::is_course(record) {
        format!("KAP course record: {name}")
    } else {
        let v = SessionView::new(&record.sessions[0]);
        format!("KAP {} record: {name}, {}", v.title(), short_date(v.day()))
    }
}

/// "Dosing 2".
pub(crate) fn session_title(v: &SessionView<'_>) -> String {
    capitalised(&v.title())
}

/// "Dosing 2 — Thu 26 Nov 2026".
pub(crate) fn session_heading(v: &SessionView<'_>) -> String {
    format!("{} — {}", session_title(v), long_date(v.day()))
}

/// " · MRN 12345", or " · no MRN", as the line naming the patient ends.
pub(crate) fn mrn_suffix(record: &Record) -> String {
    match &record.patient.mrn {
        Some(m) => format!(" · MRN {m}"),
        None => " · no MRN".into(),
    }
}

/// The sessions shown in full: the one session of a session record; the dosing sessions
/// of a course (the others are listed briefly after them).
pub(crate) fn sessions_in_full(record: &Record) -> Vec<SessionView<'_>> {
    let course = super::is_course(record);
    record
        .sessions
        .iter()
        .filter(|s| !course || s.session.kind == SessionKind::Dosing)
        .map(SessionView::new)
        .collect()
}

/// The patient: name, date of birth with the age on `on` ("at the session", "at export"),
/// MRN.
pub(crate) fn patient_facts(record: &Record, on: NaiveDate, when: &str) -> Vec<Fact> {
    let p = &record.patient;
    vec![
        fact("Name", p.name.clone()),
        fact(
            "Date of birth",
            format!("{} (age {} {when})", short_date(p.dob), p.age_on(on)),
        ),
        fact("MRN", p.mrn.as_deref().unwrap_or("none recorded")),
    ]
}

/// The session: kind and number, date, times, clinicians, intention, what it integrates.
pub(crate) fn session_facts(record: &Record, v: &SessionView<'_>) -> Vec<Fact> {
    let s = &v.rec.session;
    let mut kind = format!("{} (number {} of its kind)", s.kind, v.rec.number_in_course);
    if let (SessionKind::Dosing, Some(c)) = (s.kind, &record.course) {
        let n = v.rec.number_in_course;
        kind = format!("dosing {n} of {} planned", c.planned_dosing);
    }
    let mut facts = vec![
        fact("Session", format!("{kind}; session #{}", s.id)),
        fact("Date", long_date(v.day())),
        fact(
            "Start – end",
            format!("{} (times are {})", v.span(), v.utc_offset()),
        ),
        fact("Clinician(s)", v.clinicians.join(", ")),
    ];
    if let Some(i) = &s.intention {
        facts.push(fact("Intention", format!("“{i}”")));
    }
    if let Some(d) = s.dosing_session_id {
        facts.push(fact("Integrates", format!("dosing session #{d}")));
    }
    facts
}
