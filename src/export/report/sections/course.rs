//! The sections of a course: the summary's facts, the outcome measures, the list of
//! sessions, and the brief listing of the sessions other than dosing.

use super::{
    Cell, ColKind, Fact, Span, Table, cell, fact, patient_facts, session_title, strong, table, text,
};
use crate::domain::SessionKind;
use crate::domain::entry::trim_number;
use crate::domain::measures::{
    Instrument, MeasureRules, Trend, change_meaning, needs_risk_assessment, trends,
};
use crate::domain::measures::{MeasureResponse, band_boundaries};
use crate::domain::{EntryId, EntryStatus, Payload};
use crate::export::Record;
use crate::export::report::{CourseView, SessionView, content, long_date, short_date};
use ColKind::{Number, Reading, Text as Txt, Time};
use chrono::{DateTime, FixedOffset};

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
pub(crate) fn trend_table(trends: &[Trend], rules: &MeasureRules) -> Table {
    let when = |p: Option<&(chrono::DateTime<chrono::FixedOffset>, u16)>| {
        p.map(|(at, total)| format!("{total} ({})", short_date(at.date_naive())))
            .unwrap_or_default()
    };
    let rows = trends
        .iter()
        .map(|t| {
            let change = t.change.unwrap_or(0);
            let mut note = crate::domain::count_of(t.points.len(), "reading");
            if let Some(m) = change_meaning(t, rules) {
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

// ---------------------------------------------------------------------------------------
// Helpers

/// The measures of the record with each one's change from its instrument's first (baseline)
/// total in the record, oldest first.
fn measures_with_change(
    record: &Record,
) -> Vec<(EntryId, DateTime<FixedOffset>, &MeasureResponse, i32)> {
    let mut sorted: Vec<&(EntryId, DateTime<FixedOffset>, MeasureResponse)> =
        record.measures.iter().collect();
    sorted.sort_by_key(|(id, at, _)| (*at, *id));
    sorted
        .iter()
        .map(|(id, at, m)| {
            let baseline = sorted
                .iter()
                .find(|(_, _, b)| b.instrument == m.instrument)
                .map_or(m.total, |(_, _, b)| b.total);
            (*id, *at, m, i32::from(m.total) - i32::from(baseline))
        })
        .collect()
}

/// "minimal 0-4, mild 5-9, ..., severe 20-27", from [`band_boundaries`].
fn bands_text(instrument: Instrument, rules: &MeasureRules) -> String {
    let bounds = band_boundaries(instrument, rules);
    bounds
        .iter()
        .enumerate()
        .map(|(i, (lower, name))| {
            let upper = bounds
                .get(i + 1)
                .map_or(instrument.max_total(), |(next, _)| next - 1);
            format!("{name} {lower}-{upper}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// "+3", "-7", "0".
fn signed(n: i32) -> String {
    if n > 0 {
        format!("+{n}")
    } else {
        n.to_string()
    }
}

/// A session's key entries in one line each, for the brief listing of a non-dosing session
/// in a course: what stands, without the vitals.
fn brief_entries<'a>(view: &SessionView<'a>) -> Vec<(String, String)> {
    view.lines
        .iter()
        .filter(|l| l.status == EntryStatus::Current)
        .filter(|l| {
            !matches!(
                l.entry.payload,
                Payload::Vitals(_) | Payload::Sedation(_) | Payload::Strike
            )
        })
        .map(|l| {
            (
                view.time(l.entry.event_time),
                content(&view.rec.lines, &l.entry),
            )
        })
        .collect()
}

/// How many entries of a session were corrected (amended or struck).
fn corrected_count(view: &SessionView<'_>) -> usize {
    view.lines
        .iter()
        .filter(|l| l.status != EntryStatus::Current)
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_read_from_the_boundaries() {
        let rules = MeasureRules::default();
        assert_eq!(
            bands_text(Instrument::Phq9, &rules),
            "minimal 0-4, mild 5-9, moderate 10-14, moderately severe 15-19, severe 20-27"
        );
        assert_eq!(
            bands_text(Instrument::Pcl5, &rules),
            "below provisional cut-off 0-32, at or above provisional cut-off 33-80"
        );
    }

    #[test]
    fn signed_change() {
        assert_eq!(signed(3), "+3");
        assert_eq!(signed(-7), "-7");
        assert_eq!(signed(0), "0");
    }
}
