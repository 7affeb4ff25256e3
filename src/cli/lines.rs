//! The lines the commands print: a patient, a session, an entry with its history, the ids
//! a write made, what a charted line raised.

use crate::app::charting;
use crate::domain::chart::SessionChart;
use crate::domain::{ChartLine, EntryStatus, Patient, Session};
use chrono::NaiveDate;

pub(crate) fn patient_line(p: &Patient, today: NaiveDate) -> String {
    let mut line = format!(
        "{:>4}  {}  born {} (age {})",
        p.id,
        p.name,
        p.dob,
        p.age_on(today)
    );
    if let Some(mrn) = &p.mrn {
        line.push_str(&format!("  MRN {mrn}"));
    }
    if let Some(w) = p.weight_kg {
        line.push_str(&format!("  {} kg", crate::domain::entry::trim_number(w, 1)));
    }
    line
}

pub(crate) fn to_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string_pretty(v).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

/// One session in a line: its id, its patient by name (and id), kind, start, end and who
/// opened it.
pub(crate) fn session_line(s: &Session, patient: &str) -> String {
    let mut line = format!(
        "{:>4}  {patient} (patient {})  {:<12} started {}",
        s.id,
        s.patient_id,
        s.kind.as_str(),
        s.started.format("%Y-%m-%d %H:%M %:z")
    );
    match s.ended {
        Some(e) => line.push_str(&format!("  ended {}", e.format("%H:%M"))),
        None => line.push_str("  open"),
    }
    if let Some(d) = s.dosing_session_id {
        line.push_str(&format!("  integrates session {d}"));
    }
    line.push_str(&format!("  opened by {}", s.clinician));
    line
}

/// The acknowledgement that stands for an entry with an alert, if any.
pub(crate) fn acknowledged_by(session: &SessionChart, l: &ChartLine) -> Option<i64> {
    l.entry
        .flags
        .iter()
        .any(|f| f.code.is_alert())
        .then(|| session.acknowledged_by(l.entry.id))
        .flatten()
}

pub(crate) fn entry_line(session: &SessionChart, l: &ChartLine) -> String {
    let e = &l.entry;
    let mut line = format!(
        "{:>5}  {}  (written {})  {:<11} {}",
        e.id,
        e.event_time.format("%Y-%m-%d %H:%M:%S %:z"),
        e.recorded_time.format("%H:%M:%S"),
        e.payload.kind(),
        session.summary(e)
    );
    if let (Some(target), Some(how), Some(reason)) = (e.corrects, e.correction, &e.reason) {
        line.push_str(&format!("  [{} of entry {target}: {reason}]", how.as_str()));
    }
    line.push_str(&format!("  by {}", e.author));
    for f in &e.flags {
        line.push_str(&format!("  [{f}]"));
    }
    if let Some(by) = acknowledged_by(session, l) {
        line.push_str(&format!("  (acknowledged by entry {by})"));
    }
    match l.status {
        EntryStatus::Current => {}
        EntryStatus::Amended { by } => line.push_str(&format!("  (amended by entry {by})")),
        EntryStatus::Struck { by } => line.push_str(&format!("  (STRUCK by entry {by})")),
    }
    line
}

pub(crate) fn say_safety(charted: &charting::Charted) {
    if let Some(f) = &charted.safety {
        eprintln!("kapchart: SAFETY: {f}");
    }
    if let Some(dose) = charted.witness {
        eprintln!(
            "kapchart: dose {dose} waits for its witness: they run `kapchart witness {dose}` signed in as themselves"
        );
    }
}

pub(crate) fn join_ids(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(" ")
}
