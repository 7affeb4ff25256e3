//! kapchart's clinical model: patients, sessions, chart entries and the rules that apply to
//! them. Pure: no I/O, no clock, no database.

pub mod authorship;
pub mod chart;
pub mod course;
pub mod discharge;
pub mod dose_levels;
pub mod entry;
pub mod grammar;
pub mod identity;
pub mod integration;
pub mod item_forms;
pub mod measures;
pub mod medications;
pub mod name;
pub mod notes;
pub mod npi;
pub mod passphrase;
pub mod patient_filter;
pub mod planning;
pub mod protocol;
pub mod rems;
pub mod screening;
pub mod search;
pub mod signature;
pub mod since_dose;
pub mod stock;
pub mod summary;
pub mod sync;
pub mod team;
pub mod text;
pub mod thresholds;
pub mod witness;

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

pub use entry::{BloodPressure, Dose, DoseUnit, Observation, Payload, Route, Sedation, VitalSigns};
pub use thresholds::{AlertThresholds, Flag, FlagCode};

pub type ClinicianId = i64;
pub type PatientId = i64;
pub type SessionId = i64;
pub type EntryId = i64;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Clinician {
    pub id: ClinicianId,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Patient {
    pub id: PatientId,
    pub name: String,
    pub dob: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mrn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight_kg: Option<f64>,
}

impl Patient {
    /// Age in whole years on `on`.
    pub fn age_on(&self, on: NaiveDate) -> u32 {
        on.years_since(self.dob).unwrap_or(0)
    }
}

/// What a session is for, in the order a KAP course runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SessionKind {
    Intake,
    Preparation,
    Dosing,
    Integration,
    FollowUp,
}

impl SessionKind {
    pub const ALL: [SessionKind; 5] = [
        SessionKind::Intake,
        SessionKind::Preparation,
        SessionKind::Dosing,
        SessionKind::Integration,
        SessionKind::FollowUp,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SessionKind::Intake => "intake",
            SessionKind::Preparation => "preparation",
            SessionKind::Dosing => "dosing",
            SessionKind::Integration => "integration",
            SessionKind::FollowUp => "follow-up",
        }
    }
}

impl fmt::Display for SessionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SessionKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase();
        SessionKind::ALL
            .into_iter()
            .find(|k| k.as_str() == wanted || (wanted == "followup" && *k == SessionKind::FollowUp))
            .ok_or_else(|| {
                format!(
                    "unknown session kind '{s}'; expected one of: intake, preparation, dosing, integration, follow-up"
                )
            })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub id: SessionId,
    pub patient_id: PatientId,
    pub kind: SessionKind,
    pub started: DateTime<FixedOffset>,
    /// Set by the session's end entry.
    #[serde(default)]
    pub ended: Option<DateTime<FixedOffset>>,
    pub clinician: String,
    /// The intention set in preparation, for a dosing session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intention: Option<String>,
    /// For an integration session: the dosing session it integrates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dosing_session_id: Option<SessionId>,
}

/// How an entry corrects an earlier one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Correction {
    /// Replaces the earlier entry with this one.
    Amend,
    /// Withdraws the earlier entry.
    Strike,
}

impl Correction {
    pub fn as_str(self) -> &'static str {
        match self {
            Correction::Amend => "amend",
            Correction::Strike => "strike",
        }
    }
}

/// One stored chart entry, as written. Never changed after it is written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub id: EntryId,
    pub session_id: SessionId,
    pub payload: Payload,
    /// When it happened, with the local UTC offset of that moment.
    pub event_time: DateTime<FixedOffset>,
    /// When it was typed.
    pub recorded_time: DateTime<FixedOffset>,
    pub author: String,
    pub flags: Vec<Flag>,
    /// The earlier entry this one amends or strikes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrects: Option<EntryId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correction: Option<Correction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Where an entry stands in the current view of the chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "status")]
pub enum EntryStatus {
    /// Nothing has corrected it.
    Current,
    /// Replaced by a later entry.
    Amended { by: EntryId },
    /// Withdrawn by a later strike entry.
    Struck { by: EntryId },
}

/// An entry with what later entries did to it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChartLine {
    #[serde(flatten)]
    pub entry: Entry,
    #[serde(flatten)]
    pub status: EntryStatus,
}

/// "an intake", "a dosing": the word with its indefinite article.
pub fn with_article(word: &str) -> String {
    let vowel = word
        .chars()
        .next()
        .is_some_and(|c| "aeiouAEIOU".contains(c));
    format!("{} {word}", if vowel { "an" } else { "a" })
}

/// "1 reading", "3 readings".
pub fn count_of(n: usize, thing: &str) -> String {
    if n == 1 {
        format!("1 {thing}")
    } else {
        format!("{n} {thing}s")
    }
}

/// The entries that stand (not amended away, not struck; an amending entry stands), in
/// event-time order (entry id on a tie).
pub fn current_entries(lines: &[ChartLine]) -> Vec<&Entry> {
    let mut entries: Vec<&Entry> = lines
        .iter()
        .filter(|l| l.status == EntryStatus::Current)
        .map(|l| &l.entry)
        .collect();
    entries.sort_by_key(|e| (e.event_time, e.id));
    entries
}

/// Works out each entry's status from the corrections among `entries`.
pub fn chart_lines(entries: Vec<Entry>) -> Vec<ChartLine> {
    let mut corrected_by = std::collections::HashMap::new();
    for e in &entries {
        if let (Some(target), Some(how)) = (e.corrects, e.correction) {
            corrected_by.insert(target, (e.id, how));
        }
    }
    entries
        .into_iter()
        .map(|entry| {
            let status = match corrected_by.get(&entry.id) {
                None => EntryStatus::Current,
                Some((by, Correction::Amend)) => EntryStatus::Amended { by: *by },
                Some((by, Correction::Strike)) => EntryStatus::Struck { by: *by },
            };
            ChartLine { entry, status }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_kind_parses_what_clinicians_type() {
        assert_eq!("Dosing".parse::<SessionKind>(), Ok(SessionKind::Dosing));
        assert_eq!("followup".parse::<SessionKind>(), Ok(SessionKind::FollowUp));
        let err = "dose".parse::<SessionKind>().unwrap_err();
        assert!(err.contains("'dose'") && err.contains("follow-up"), "{err}");
    }

    #[test]
    fn small_words_read_right() {
        assert_eq!(with_article("intake"), "an intake");
        assert_eq!(with_article("dosing"), "a dosing");
        assert_eq!(with_article("integration"), "an integration");
        assert_eq!(count_of(1, "reading"), "1 reading");
        assert_eq!(count_of(4, "reading"), "4 readings");
    }

    #[test]
    fn age_counts_whole_years() {
        let p = Patient {
            id: 1,
            name: "A".into(),
            dob: NaiveDate::from_ymd_opt(1990, 6, 15).unwrap(),
            mrn: None,
            weight_kg: None,
        };
        assert_eq!(p.age_on(NaiveDate::from_ymd_opt(2026, 6, 14).unwrap()), 35);
        assert_eq!(p.age_on(NaiveDate::from_ymd_opt(2026, 6, 15).unwrap()), 36);
    }
}
