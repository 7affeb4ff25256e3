//! What each section of the report says, built once as format-neutral data: which facts,
//! which rows and cells, which words, and which of them are flagged. The HTML and Markdown
//! renderers only set this data in their own markup (and escape it); neither decides what
//! a section holds. The timeline rows are [`TimelineRow`](super::TimelineRow), built in
//! `report.rs`.

use super::{
    CourseView, SessionView, bands_text, brief_entries, corrected_count, long_date,
    measures_with_change, short_date, signed, stamp,
};
use crate::domain::course::Note;
use crate::domain::discharge::{ALDRETE_ITEMS, aldrete_items};
use crate::domain::entry::trim_number;
use crate::domain::measures::{
    Instrument, MeasureRules, Trend, meaningful_change, needs_risk_assessment, trends,
};
use crate::domain::{DoseUnit, FlagCode, SessionKind};
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

use ColKind::{Id, Number, Reading, Small, Text as Txt, Time};

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

// ---------------------------------------------------------------------------------------
// Doses, vitals, checks, questionnaires

/// The doses that stand; None when the section is not shown (no dose in a session other
/// than dosing). No rows: "No dose charted."
pub(crate) fn doses(v: &SessionView<'_>) -> Option<Table> {
    let doses = v.doses();
    if v.kind() != SessionKind::Dosing && doses.is_empty() {
        return None;
    }
    let rows = doses
        .iter()
        .map(|(e, d)| {
            let amount = format!("{} {}", trim_number(d.amount, 3), d.unit.label());
            let dose = match d.weight_kg {
                Some(kg) if d.unit == DoseUnit::MgPerKg => {
                    format!("{amount} × {} kg", trim_number(kg, 1))
                }
                _ => amount,
            };
            vec![
                cell(v.time(e.event_time)),
                cell(v.t_plus(e.event_time)),
                cell(d.drug.clone()),
                cell(dose),
                cell(d.route.label()),
                cell(d.over_min.map(|m| format!("{m} min")).unwrap_or_default()),
                strong(format!("{} mg", trim_number(d.total_mg, 2))),
                cell(format!("#{}", e.id)),
                cell(e.author.clone()),
            ]
        })
        .collect();
    Some(table(
        &[
            ("Time", Time),
            ("T+", Time),
            ("Drug", Txt),
            ("Dose", Number),
            ("Route", Txt),
            ("Over", Txt),
            ("Total mg", Number),
            ("Entry", Txt),
            ("Author", Txt),
        ],
        rows,
    ))
}

/// "ketamine 35 mg; midazolam 1 mg", when more than one dose stands.
pub(crate) fn dose_totals(v: &SessionView<'_>) -> Option<String> {
    let totals = v.dose_totals();
    let t: Vec<String> = totals
        .iter()
        .map(|(drug, mg)| format!("{drug} {} mg", trim_number(*mg, 2)))
        .collect();
    (!t.is_empty()).then(|| t.join("; "))
}

/// The vitals flowsheet; None when the section is not shown (no readings outside a dosing
/// session). No rows: "No vitals charted."
pub(crate) fn flowsheet(v: &SessionView<'_>) -> Option<Table> {
    let rows = v.flow_rows();
    if rows.is_empty() && v.kind() != SessionKind::Dosing {
        return None;
    }
    let rows = rows
        .iter()
        .map(|r| {
            let signs = r.signs();
            let entry = r.entry();
            let mut id = format!("#{}", entry.id);
            if entry.corrects.is_some() {
                id.push_str(" †");
            }
            if r.has(FlagCode::Late) {
                id.push_str(" late");
            }
            vec![
                cell(v.time(r.at)),
                cell(v.t_plus(r.at)),
                sign(
                    signs
                        .and_then(|s| s.bp)
                        .map(|bp| format!("{}/{}", bp.systolic, bp.diastolic)),
                    r.bp_flagged(),
                ),
                sign(
                    signs.and_then(|s| s.hr).map(|x| x.to_string()),
                    r.hr_flagged(),
                ),
                sign(
                    signs.and_then(|s| s.spo2).map(|x| format!("{x}%")),
                    r.has(FlagCode::Spo2Low),
                ),
                sign(
                    signs.and_then(|s| s.rr).map(|x| x.to_string()),
                    r.has(FlagCode::RrLow),
                ),
                sign(
                    signs.and_then(|s| s.temp_c).map(|t| trim_number(t, 1)),
                    false,
                ),
                sign(
                    r.moaas().map(|m| m.to_string()),
                    r.has(FlagCode::DeepSedation),
                ),
                cell(id),
            ]
        })
        .collect();
    Some(table(
        &[
            ("Time", Time),
            ("T+", Time),
            ("BP", Number),
            ("HR", Number),
            ("SpO2", Number),
            ("RR", Number),
            ("Temp °C", Number),
            ("MOAA/S", Number),
            ("Entry", Txt),
        ],
        rows,
    ))
}

/// The protocol's checks of a dosing session, missed and late ones in bold, with the
/// summary line; None for other sessions.
pub(crate) fn checks(v: &SessionView<'_>) -> Option<(Table, String)> {
    let rows: Vec<Vec<Cell>> = v
        .check_rows()
        .into_iter()
        .map(|r| {
            let state = if r.lapse {
                Cell::new(vec![Span::Alert(r.state)])
            } else {
                cell(r.state)
            };
            vec![
                cell(r.check),
                cell(r.due),
                cell(r.t_plus),
                state,
                cell(r.entry),
            ]
        })
        .collect();
    if rows.is_empty() {
        return None;
    }
    let cols = [
        ("Check", Txt),
        ("Due", Time),
        ("T+", Time),
        ("State", Txt),
        ("Entry", Txt),
    ];
    Some((table(&cols, rows), v.check_summary()))
}

/// The questionnaires of the session; an item 9 above 0 is marked in the band.
pub(crate) fn questionnaires(v: &SessionView<'_>) -> Option<Table> {
    let measures = v.measures();
    if measures.is_empty() {
        return None;
    }
    let rows = measures
        .into_iter()
        .map(|(e, m)| {
            let mut band = vec![text(m.band.clone())];
            if needs_risk_assessment(m) {
                band = vec![
                    text(format!("{} ", m.band)),
                    Span::Mark(format!(
                        "! item 9 answered {}: structured risk assessment needed",
                        m.items[8]
                    )),
                ];
            }
            let answers: Vec<String> = m.items.iter().map(u8::to_string).collect();
            vec![
                cell(v.time(e.event_time)),
                cell(m.instrument.name()),
                cell(m.total.to_string()),
                Cell::new(band),
                cell(answers.join(" ")),
                cell(format!("#{}", e.id)),
            ]
        })
        .collect();
    Some(table(
        &[
            ("Time", Time),
            ("Measure", Txt),
            ("Total", Number),
            ("Band", Txt),
            ("Answers", Small),
            ("Entry", Id),
        ],
        rows,
    ))
}

// ---------------------------------------------------------------------------------------
// Discharge and the note

/// Discharge: Aldrete, ride home, ready to leave, session end; None when the section is
/// not shown (nothing recorded outside a dosing session).
pub(crate) fn discharge(v: &SessionView<'_>) -> Option<Vec<Fact>> {
    let d = v.discharge();
    if v.kind() != SessionKind::Dosing && d.is_empty() {
        return None;
    }
    let at = |t| format!("{} ({})", v.time(t), v.t_plus(t));
    let aldrete = match d.aldrete() {
        Some(a) => {
            let items: Vec<String> = ALDRETE_ITEMS
                .iter()
                .zip(aldrete_items(&a))
                .map(|(item, score)| {
                    let said = item.describe(score).unwrap_or("?");
                    format!("{} {score} ({said})", item.name)
                })
                .collect();
            vec![
                Span::Strong(format!("{}/10", a.total())),
                text(
                    d.aldrete_at
                        .map(|t| format!(" at {}", at(t)))
                        .unwrap_or_default(),
                ),
                Span::Detail(items.join("; ")),
            ]
        }
        None => vec![text("not recorded")],
    };
    let ended = match (&d.ended, v.rec.session.ended) {
        (Some((t, end)), _) => {
            let reason = end
                .reason
                .as_deref()
                .map(|r| format!("; ended against a discharge reminder, reason: {r}"))
                .unwrap_or_else(|| "; no end reason needed".into());
            format!("{}{reason}", at(*t))
        }
        (None, Some(t)) => v.time(t),
        (None, None) => "not ended".into(),
    };
    Some(vec![
        Fact {
            name: "Modified Aldrete",
            value: aldrete,
        },
        fact(
            "Ride home",
            d.state.ride.as_deref().unwrap_or("not recorded"),
        ),
        fact(
            "Ready to leave",
            d.state.ready_at.map_or_else(|| "not recorded".into(), at),
        ),
        fact("Session ended", ended),
    ])
}

/// The integration note as the report shows it. A draft's text is never shown.
pub(crate) enum NoteSection {
    /// "No integration note yet."
    Missing,
    Signed {
        /// "**Signed** by Dr X at ... · MD note #3".
        signed: Vec<Span>,
        /// "SHA-256 of the signed text: `…`".
        hash: Vec<Span>,
        /// "Signed with open items, reason: …".
        reason: Option<String>,
        text: String,
        addenda: Vec<Addendum>,
    },
    Draft {
        /// "DRAFT — not signed".
        headline: &'static str,
        /// Which note, who opened it, when it was last saved, and why its text is left out.
        body: String,
    },
}

pub(crate) struct Addendum {
    /// "Addendum 1 — Dr X at 2026-11-27 09:00 (UTC+01:00)".
    pub heading: String,
    pub hash: Vec<Span>,
    pub text: String,
}

/// The note section; None when it is not shown (no note outside a dosing session).
pub(crate) fn note(v: &SessionView<'_>) -> Option<NoteSection> {
    let shown = v.kind() == SessionKind::Dosing || v.rec.note.is_some();
    shown.then(|| note_section(v.rec.note.as_ref()))
}

fn note_section(note: Option<&Note>) -> NoteSection {
    let Some(n) = note else {
        return NoteSection::Missing;
    };
    let format = n.format.to_uppercase();
    match &n.signature {
        Some(sig) => NoteSection::Signed {
            signed: vec![
                Span::Strong("Signed".into()),
                text(format!(
                    " by {} at {} · {format} note #{}",
                    sig.signer,
                    stamp(sig.signed),
                    n.id
                )),
            ],
            hash: vec![
                text("SHA-256 of the signed text: "),
                Span::Code(sig.sha256.clone()),
            ],
            reason: sig
                .reason
                .as_ref()
                .map(|r| format!("Signed with open items, reason: {r}")),
            text: sig.text.clone(),
            addenda: n
                .addenda
                .iter()
                .enumerate()
                .map(|(i, a)| Addendum {
                    heading: format!("Addendum {} — {} at {}", i + 1, a.author, stamp(a.at)),
                    hash: vec![text("SHA-256: "), Span::Code(a.sha256.clone())],
                    text: a.text.clone(),
                })
                .collect(),
        },
        None => {
            let saved = n
                .draft
                .as_ref()
                .map(|d| format!("last saved {}", stamp(d.saved)))
                .unwrap_or_else(|| "no text yet".into());
            NoteSection::Draft {
                headline: "DRAFT — not signed",
                body: format!(
                    "{format} note #{} opened by {} at {}; {saved}. The draft text is left out of \
                     this record until the note is signed.",
                    n.id,
                    n.author,
                    stamp(n.created)
                ),
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// The course

/// The patient as the course summary shows them: name, birth, MRN, weight, medications,
/// contacts, clinicians.
pub(crate) fn course_patient_facts(record: &Record) -> Vec<Fact> {
    let p = &record.patient;
    let d = &record.details;
    let mut facts = patient_facts(record, record.exported.date_naive(), "at export");
    if let Some(kg) = d.weight_kg.or(p.weight_kg) {
        facts.push(fact("Weight", format!("{} kg", trim_number(kg, 1))));
    }
    if !d.medications.is_empty() {
        facts.push(fact("Medications", d.medications.join("; ")));
    }
    if let Some(c) = &d.emergency_contact {
        facts.push(fact("Emergency contact", c.clone()));
    }
    if let Some(c) = &d.ride_contact {
        facts.push(fact("Usual ride home", c.clone()));
    }
    facts.push(fact("Clinician(s)", record.clinicians.join(", ")));
    facts
}

/// The course plan: when it started, dosing sessions planned, progress (in bold).
pub(crate) fn course_plan_facts(record: &Record, cv: &CourseView) -> Vec<Fact> {
    let started = record.course.as_ref().map_or_else(
        || "no course plan recorded".into(),
        |c| long_date(c.started.date_naive()),
    );
    vec![
        fact("Started", started),
        fact("Planned dosing sessions", cv.planned.to_string()),
        Fact {
            name: "Progress",
            value: vec![Span::Strong(cv.progress())],
        },
    ]
}

/// The course plan's goals, in order.
pub(crate) fn goals(record: &Record) -> &[String] {
    record.course.as_ref().map(|c| &c.goals[..]).unwrap_or(&[])
}

/// Each questionnaire's totals over the record.
pub(crate) fn course_trends(record: &Record) -> Vec<Trend> {
    let points: Vec<_> = record
        .measures
        .iter()
        .map(|(_, at, m)| (*at, m.clone()))
        .collect();
    trends(&points)
}

/// One row a questionnaire: baseline, latest, change (in bold), how many readings and
/// whether the change is clinically meaningful.
pub(crate) fn trend_table(trends: &[Trend]) -> Table {
    let when = |p: Option<&(chrono::DateTime<chrono::FixedOffset>, u16)>| {
        p.map(|(at, total)| format!("{total} ({})", short_date(at.date_naive())))
            .unwrap_or_default()
    };
    let rows = trends
        .iter()
        .map(|t| {
            let change = t.change.unwrap_or(0);
            let mut note = format!("{} readings", t.points.len());
            if let Some(m) = meaningful_change(t.instrument, change) {
                note = format!("{note}; {m}");
            }
            vec![
                cell(t.instrument.name()),
                cell(when(t.points.first())),
                cell(when(t.points.last())),
                strong(signed(change)),
                cell(note),
            ]
        })
        .collect();
    let cols = [
        ("Measure", Txt),
        ("Baseline", Reading),
        ("Latest", Reading),
        ("Change", Number),
        ("Note", Txt),
    ];
    table(&cols, rows)
}

/// Every questionnaire of the record with its change from baseline; an item 9 above 0
/// marked.
pub(crate) fn measure_table(record: &Record) -> Table {
    let mut seen = Vec::new();
    let rows = measures_with_change(record)
        .into_iter()
        .map(|(id, at, m, change)| {
            let first = !seen.contains(&m.instrument);
            seen.push(m.instrument);
            let mut note = Vec::new();
            if first {
                note.push(text("baseline"));
            }
            if needs_risk_assessment(m) {
                if first {
                    note.push(text("; "));
                }
                note.push(Span::Mark(format!("! item 9 answered {}", m.items[8])));
            }
            vec![
                cell(at.format("%-d %b %Y %H:%M").to_string()),
                cell(m.instrument.name()),
                cell(m.total.to_string()),
                cell(m.band.clone()),
                cell(if first { "–".into() } else { signed(change) }),
                Cell {
                    entry: Some(format!("#{id}")),
                    ..Cell::new(note)
                },
            ]
        })
        .collect();
    let cols = [
        ("Date", Time),
        ("Measure", Txt),
        ("Total", Number),
        ("Band", Txt),
        ("Change from baseline", Number),
        ("Note", Txt),
    ];
    table(&cols, rows)
}

/// "PHQ-9 minimal 0-4, ...; GAD-7 ...", the bands the measures are read against.
pub(crate) fn bands(rules: &MeasureRules) -> String {
    let bands: Vec<String> = Instrument::ALL
        .into_iter()
        .map(|i| format!("{} {}", i.name(), bands_text(i, rules)))
        .collect();
    bands.join("; ")
}

/// The sessions of the record, one row each, with where each is shown and its note.
pub(crate) fn session_table(record: &Record) -> Option<Table> {
    if record.sessions.is_empty() {
        return None;
    }
    let rows = record
        .sessions
        .iter()
        .map(|s| {
            let v = SessionView::new(s);
            let mut notes: Vec<String> = vec![if s.session.kind == SessionKind::Dosing {
                "in full below".into()
            } else {
                "briefly below".into()
            }];
            match &s.note {
                Some(n) if n.is_signed() => notes.push(match n.addenda.len() {
                    0 => "note signed".into(),
                    1 => "note signed, 1 addendum".into(),
                    k => format!("note signed, {k} addenda"),
                }),
                Some(_) => notes.push("note: DRAFT, not signed".into()),
                None => {}
            }
            vec![
                cell(format!("#{}", s.session.id)),
                cell(v.title()),
                cell(short_date(v.day())),
                cell(v.span()),
                cell(s.session.clinician.clone()),
                cell(s.lines.len().to_string()),
                cell(notes.join("; ")),
            ]
        })
        .collect();
    let cols = [
        ("#", Txt),
        ("Session", Txt),
        ("Date", Time),
        ("Time", Time),
        ("Clinician", Txt),
        ("Entries", Number),
        ("Notes", Txt),
    ];
    Some(table(&cols, rows))
}

/// Said before the brief listing of the sessions other than dosing.
pub(crate) const OTHER_SESSIONS_INTRO: &str = "What stands in each non-dosing session, without \
     vitals; corrections are counted, not shown. Export a session on its own for its full \
     timeline.";

/// A session other than dosing, briefly.
pub(crate) struct BriefSession {
    /// "Integration 1 — Fri 27 Nov 2026, 10:00–10:50".
    pub heading: String,
    pub id: crate::domain::SessionId,
    pub clinician: String,
    /// (time, what) of each entry that stands, vitals left out.
    pub entries: Vec<(String, String)>,
    /// "2 corrected (amended or struck) entries not shown.", when any were.
    pub corrected: Option<String>,
}

/// The sessions other than dosing, in record order.
pub(crate) fn other_sessions(record: &Record) -> Vec<BriefSession> {
    record
        .sessions
        .iter()
        .filter(|s| s.session.kind != SessionKind::Dosing)
        .map(|s| {
            let v = SessionView::new(s);
            let corrected = corrected_count(&v);
            BriefSession {
                heading: format!(
                    "{} — {}, {}",
                    session_title(&v),
                    long_date(v.day()),
                    v.span()
                ),
                id: s.session.id,
                clinician: s.session.clinician.clone(),
                entries: brief_entries(&v),
                corrected: (corrected > 0).then(|| {
                    format!("{corrected} corrected (amended or struck) entries not shown.")
                }),
            }
        })
        .collect()
}
