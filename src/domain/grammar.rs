//! The quick-entry grammar: one line typed at the bedside becomes one or more chart entries.
//!
//! ```text
//! [@14:05 | @-10m]  bp 128/82 hr 74 spo2 97 rr 14 temp 36.8   (one vitals entry)
//!                   moaas 4                                   (sedation score)
//!                   cadss 1 0 2 0 1 0 | resp ok | resp depressed TEXT (see `monitoring`)
//!                   dose ketamine 0.5mg/kg IV over 40m        (one entry per dose)
//!                   dose esketamine 56mg IN devices 2 lot ABC123
//!                   obs calm, eyes closed #music "I feel light"
//!                   dose ketamine 35mg IM witness             (the dose, then its witness)
//!                   dose ketamine 35mg IM vial V12            (drawn from container V12)
//!                   waste ketamine 10mg vial V12 witness      (the rest wasted, witnessed)
//! ```
//!
//! Segments may follow one another on one line. A line whose first word (after the
//! optional time) is not a keyword is an observation as a whole, unless it is a slip on a
//! keyword (`bpp 120/80`, `hr74`: see `near_miss`). Nothing is partial: any
//! bad part makes the whole line an error that names the token and shows an example.

use chrono::{DateTime, FixedOffset, TimeZone};

use super::entry::Payload;

mod course;
mod devices;
mod doses;
mod error;
mod line;
mod monitoring;
mod near_miss;
mod numbers;
mod observation;
#[cfg(test)]
mod tests;
mod time;
mod tokens;
mod vitals;
mod waste;

pub use error::GrammarError;
pub use line::{format_payload, parse_line};
pub use time::time_prefix;

/// Words that start a keyword segment; anything else at line start is an observation.
pub const KEYWORDS: &[&str] = &[
    "bp",
    "hr",
    "pulse",
    "spo2",
    "rr",
    "temp",
    "moaas",
    "cadss",
    "resp",
    "ready-to-leave",
    "dose",
    "waste",
    "obs",
    "screen",
    "eligibility",
    "intention",
    "setting",
    "consent",
    "risk-assessment",
    "cssrs",
    "phq9",
    "gad7",
    "pcl5",
];

/// What `parse_line` needs to know besides the line itself.
#[derive(Debug, Clone)]
pub struct ParseContext<'a, Tz: TimeZone> {
    /// The moment the line is typed, in the clinician's local zone.
    pub now: DateTime<Tz>,
    /// The patient's weight, for mg/kg doses.
    pub weight_kg: Option<f64>,
    /// Known drug names, lowercase (e.g. "ketamine", "esketamine", "ondansetron").
    pub drugs: &'a [String],
    /// Dose levels per drug and route: a dose above its ceiling is refused as a typo.
    pub doses: &'a super::dose_levels::DoseLevels,
    /// How questionnaires are banded (the PCL-5 cut-off).
    pub measures: &'a super::measures::MeasureRules,
}

/// One parsed line: when it happened and what was recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedLine {
    /// The event time, with the local UTC offset of that moment.
    pub event_time: DateTime<FixedOffset>,
    /// True when an `@` prefix set the time.
    pub time_given: bool,
    /// One or more entries, in line order.
    pub entries: Vec<Payload>,
    /// The index in `entries` of a dose the line asks a second clinician to witness
    /// (`witness` right after it): the dose is charted, then the witness signs in.
    pub witness: Option<usize>,
}
