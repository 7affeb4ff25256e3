//! Drafting the integration note from the record. Pure: the caller passes the record, the
//! date of drafting and the template text (a shipped one from [`template_text`], or a user's
//! override it has read from the config directory); nothing here reads a file or a clock.
//! One file because the draft's pre-filled sections, about a thousand lines, are built
//! in one pass and read in the order the note has them; the tests are in `notes/tests.rs`.
//!
//! A draft is pre-filled with the facts of the dosing session it integrates: the dose, a
//! vitals summary (baseline, peak BP, lowest SpO2, deepest sedation), each alert and how it
//! resolved, the intention, the tagged observations and the patient's words, and the measures
//! since the last note. The clinician writes the rest (assessment, plan, ...) and signs.
//!
//! Only current entries count: an amended original and a struck entry are left out, the
//! amending entry counts.
//!
//! Templates are Markdown with placeholders `{{name}}` (see [`placeholders`]) and comments
//! `{{! ... }}`, which are left out of the draft (a comment alone on its line takes the line
//! with it; comments may mention placeholders, `{{! add {{all_observations}} here }}`). All
//! other text is kept exactly. A placeholder alone on its line after some indentation has
//! each of its lines indented the same way.

pub mod complete;

use super::chart::Period;
use super::entry::{BloodPressure, Payload, VitalSigns, trim_number};
use super::measures::{MeasureResponse, needs_risk_assessment};
use super::protocol::{Check, CheckStatus};
use super::thresholds::{Flag, FlagCode};
use super::{ChartLine, Entry, EntryId, Patient, Session, current_entries};
use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The shape of an integration note.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NoteFormat {
    /// Data, Assessment, Plan.
    #[default]
    Dap,
    /// Subjective, Objective, Assessment, Plan.
    Soap,
    /// Behavior, Intervention, Response, Plan.
    Birp,
}

impl NoteFormat {
    pub const ALL: [NoteFormat; 3] = [NoteFormat::Dap, NoteFormat::Soap, NoteFormat::Birp];

    /// "dap", "soap", "birp": as typed and as stored in the config.
    pub fn as_str(self) -> &'static str {
        match self {
            NoteFormat::Dap => "dap",
            NoteFormat::Soap => "soap",
            NoteFormat::Birp => "birp",
        }
    }

    /// "DAP", "SOAP", "BIRP".
    pub fn label(self) -> &'static str {
        match self {
            NoteFormat::Dap => "DAP",
            NoteFormat::Soap => "SOAP",
            NoteFormat::Birp => "BIRP",
        }
    }

    /// The template's file name, shipped in `assets/templates/` and looked for in the user's
    /// config directory for an override: "dap.md", "soap.md", "birp.md".
    pub fn file_name(self) -> &'static str {
        match self {
            NoteFormat::Dap => "dap.md",
            NoteFormat::Soap => "soap.md",
            NoteFormat::Birp => "birp.md",
        }
    }
}

impl fmt::Display for NoteFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for NoteFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase();
        NoteFormat::ALL
            .into_iter()
            .find(|f| f.as_str() == wanted)
            .ok_or_else(|| format!("unknown note format '{s}'; expected one of: dap, soap, birp"))
    }
}

/// The shipped template of a format (embedded at build time).
pub fn template_text(format: NoteFormat) -> &'static str {
    match format {
        NoteFormat::Dap => include_str!("../../assets/templates/dap.md"),
        NoteFormat::Soap => include_str!("../../assets/templates/soap.md"),
        NoteFormat::Birp => include_str!("../../assets/templates/birp.md"),
    }
}

/// What a draft is made from. The caller gathers it; nothing is looked up here.
#[derive(Debug, Clone, Copy)]
pub struct NoteSource<'a> {
    pub patient: &'a Patient,
    /// Who writes the note (drafts and signs it): the note's clinician.
    pub author: &'a str,
    /// The dosing session the note integrates.
    pub dosing: &'a Session,
    /// When the dosing session took place (from the session's chart: from its first entry).
    pub dosing_period: Period,
    /// Which dosing session of the course this is: 3 for "dosing 3".
    pub dosing_number: u32,
    /// The dosing session's chart lines with their status, in any order.
    pub lines: &'a [ChartLine],
    /// The first dose of the drug that starts the session clock (from the session's chart).
    pub first_dose: Option<DateTime<FixedOffset>>,
    /// The session's protocol checks (from the session's chart): missed and late ones are
    /// part of the record and go into the note.
    pub checks: &'a [Check],
    /// The integration session, when one exists.
    pub integration: Option<&'a Session>,
    /// When the integration session took place (from its chart), when one exists.
    pub integration_period: Option<Period>,
    /// The measures since the last note (the caller filters), in any order.
    pub measures: &'a [(DateTime<FixedOffset>, MeasureResponse)],
    /// The day the draft is made (the caller's clock), shown in the draft's first line.
    pub drafted_on: NaiveDate,
}

/// The vital signs of a dosing session at a glance.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct VitalsSummary {
    /// The latest vitals with a BP at or before the first dose (the latest vitals of any kind
    /// when none has a BP); before any dose, the latest vitals so far.
    pub baseline: Option<(VitalSigns, DateTime<FixedOffset>)>,
    /// The highest systolic after the first dose (the earliest on a tie).
    pub peak_bp: Option<(BloodPressure, DateTime<FixedOffset>)>,
    /// The lowest SpO2 after the first dose (the earliest on a tie).
    pub lowest_spo2: Option<(u8, DateTime<FixedOffset>)>,
    /// The lowest MOAA/S after the first dose (the earliest on a tie).
    pub deepest_sedation: Option<(u8, DateTime<FixedOffset>)>,
    /// How many current vitals entries the session has.
    pub readings: usize,
    /// Each alert flag on a current entry, in time order.
    pub alerts: Vec<AlertEpisode>,
}

/// One alert flag on one current entry, and what became of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertEpisode {
    /// The flagged entry.
    pub entry: EntryId,
    pub flag: Flag,
    pub at: DateTime<FixedOffset>,
    /// The flagged value: "BP 164/98", "SpO2 91%", "MOAA/S 2".
    pub reading: String,
    /// The first later reading of the same kind without the flag. For a pre-dose BP caution:
    /// the first later pre-dose BP with neither the caution nor a high-BP alert.
    pub resolved: Option<Resolution>,
    /// The note of an acknowledgement entry pointing at this entry and flag.
    pub acknowledged: Option<String>,
}

/// The reading that showed an alert had passed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Resolution {
    pub entry: EntryId,
    pub at: DateTime<FixedOffset>,
    /// The value read: "BP 148/90".
    pub reading: String,
}

/// The placeholders a template may use, with what each holds, in the order a note uses them.
pub fn placeholders() -> &'static [(&'static str, &'static str)] {
    PLACEHOLDERS
}

const PLACEHOLDERS: &[(&str, &str)] = &[
    (
        "date",
        "the note's date: the integration session's, or the dosing session's when none is recorded (the day each began, from its first entry)",
    ),
    ("drafted_on", "the date the draft was made"),
    ("patient", "the patient's name"),
    ("dob", "the patient's date of birth"),
    ("mrn", "the patient's MRN, or \"not recorded\""),
    (
        "clinician",
        "the clinician who writes the note: who drafts and signs it",
    ),
    (
        "charted_by",
        "who charted the dosing session, first to chart first",
    ),
    (
        "dosing_number",
        "which dosing session of the course the note integrates (3 for the third)",
    ),
    ("dosing_date", "the dosing session's date"),
    (
        "integration",
        "when the integration session took place, and how long after the first dose",
    ),
    (
        "intention",
        "the patient's intention for the dosing session",
    ),
    (
        "dose",
        "each dose: time, T+, drug, amount as typed, route, infusion time and mg, and who witnessed it",
    ),
    (
        "vitals",
        "baseline vitals, peak BP, lowest SpO2, deepest sedation (MOAA/S), the CADSS-6 course",
    ),
    (
        "alerts",
        "each alert and caution, and how it resolved or was acknowledged",
    ),
    (
        "discharge",
        "Aldrete score, readiness to leave, ride home, session end",
    ),
    ("observations", "the tagged observations, grouped by tag"),
    (
        "all_observations",
        "every observation, tagged or not, in time order",
    ),
    ("quotes", "the patient's words, verbatim, with their time"),
    (
        "measures",
        "outcome measures since the last note (PHQ-9, GAD-7, PCL-5)",
    ),
];

fn is_known(name: &str) -> bool {
    PLACEHOLDERS.iter().any(|(n, _)| *n == name)
}

/// Checks a template: every `{{placeholder}}` is known, every `{{` and comment is closed.
/// The error names each unknown placeholder with its line and lists the known ones.
pub fn validate_template(text: &str) -> Result<(), String> {
    parse(text).map(|_| ())
}

/// Fills `template`'s placeholders from the record. Fails only on a template that does not
/// validate.
pub fn draft(source: &NoteSource<'_>, template: &str) -> Result<String, String> {
    let pieces = parse(template)?;
    let newline = if template.contains("\r\n") {
        "\r\n"
    } else {
        "\n"
    };
    let record = Record::new(source);
    let mut out = String::with_capacity(template.len() * 2);
    for piece in pieces {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Field { name, indent } => {
                let value = record.value(name);
                for (i, line) in value.lines().enumerate() {
                    if i > 0 {
                        out.push_str(newline);
                        if !line.is_empty() {
                            out.push_str(indent);
                        }
                    }
                    out.push_str(line);
                }
            }
        }
    }
    Ok(out)
}

/// The vitals summary of a dosing session's lines; `first_dose` is the event time of the
/// earliest current dose, if any.
pub fn vitals_summary(
    lines: &[ChartLine],
    first_dose: Option<DateTime<FixedOffset>>,
) -> VitalsSummary {
    summarise(&current_entries(lines), first_dose)
}

// ---------------------------------------------------------------------------------------
// The record

fn summarise(entries: &[&Entry], first_dose: Option<DateTime<FixedOffset>>) -> VitalsSummary {
    let after = |t: DateTime<FixedOffset>| first_dose.is_some_and(|d| t > d);
    let vitals: Vec<(&VitalSigns, DateTime<FixedOffset>)> = entries
        .iter()
        .filter_map(|e| match &e.payload {
            Payload::Vitals(v) => Some((v, e.event_time)),
            _ => None,
        })
        .collect();

    let before: Vec<_> = vitals
        .iter()
        .filter(|(_, t)| first_dose.is_none_or(|d| *t <= d))
        .collect();
    let baseline = before
        .iter()
        .rev()
        .find(|(v, _)| v.bp.is_some())
        .or_else(|| before.last())
        .map(|(v, t)| ((*v).clone(), *t));

    let mut peak_bp: Option<(BloodPressure, DateTime<FixedOffset>)> = None;
    let mut lowest_spo2: Option<(u8, DateTime<FixedOffset>)> = None;
    for (v, t) in vitals.iter().filter(|(_, t)| after(*t)) {
        if let Some(bp) = v.bp
            && peak_bp.is_none_or(|(p, _)| bp.systolic > p.systolic)
        {
            peak_bp = Some((bp, *t));
        }
        if let Some(s) = v.spo2
            && lowest_spo2.is_none_or(|(l, _)| s < l)
        {
            lowest_spo2 = Some((s, *t));
        }
    }
    let mut deepest_sedation: Option<(u8, DateTime<FixedOffset>)> = None;
    for e in entries.iter().filter(|e| after(e.event_time)) {
        if let Payload::Sedation(s) = e.payload
            && deepest_sedation.is_none_or(|(l, _)| s.moaas < l)
        {
            deepest_sedation = Some((s.moaas, e.event_time));
        }
    }

    VitalsSummary {
        baseline,
        peak_bp,
        lowest_spo2,
        deepest_sedation,
        readings: vitals.len(),
        alerts: alert_episodes(entries, first_dose),
    }
}

fn has_flag(e: &Entry, code: FlagCode) -> bool {
    e.flags.iter().any(|f| f.code == code)
}

/// The value an alert is about, read from the entry; None when the entry holds no such value.
fn reading(code: FlagCode, e: &Entry) -> Option<String> {
    match (&e.payload, code) {
        (Payload::Vitals(v), FlagCode::BpHigh | FlagCode::BpPredose) => {
            v.bp.map(|bp| format!("BP {}/{}", bp.systolic, bp.diastolic))
        }
        (Payload::Vitals(v), FlagCode::Spo2Low) => v.spo2.map(|s| format!("SpO2 {s}%")),
        (Payload::Vitals(v), FlagCode::HrHigh | FlagCode::HrLow) => v.hr.map(|h| format!("HR {h}")),
        (Payload::Vitals(v), FlagCode::RrLow) => v.rr.map(|r| format!("RR {r}")),
        (Payload::Sedation(s), FlagCode::DeepSedation) => Some(format!("MOAA/S {}", s.moaas)),
        (Payload::Dissociation(d), FlagCode::Dissociation) => {
            Some(format!("CADSS-6 {}", d.total()))
        }
        (Payload::Respiration(r), FlagCode::RespDepressed) => Some(
            if r.depressed {
                "respiratory depression"
            } else {
                "breathing ok"
            }
            .to_string(),
        ),
        _ => None,
    }
}

/// Whether `later` is a reading of the kind `code` is about and shows the alert has passed.
fn resolves(code: FlagCode, later: &Entry, first_dose: Option<DateTime<FixedOffset>>) -> bool {
    if reading(code, later).is_none() {
        return false;
    }
    match code {
        FlagCode::BpPredose => {
            first_dose.is_none_or(|d| later.event_time <= d)
                && !has_flag(later, FlagCode::BpPredose)
                && !has_flag(later, FlagCode::BpHigh)
        }
        FlagCode::Late => false,
        _ => !has_flag(later, code),
    }
}

fn alert_episodes(
    entries: &[&Entry],
    first_dose: Option<DateTime<FixedOffset>>,
) -> Vec<AlertEpisode> {
    let mut episodes = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        for flag in e.flags.iter().filter(|f| f.code.is_alert()) {
            let resolved = entries[i + 1..]
                .iter()
                .find(|later| resolves(flag.code, later, first_dose))
                .map(|later| Resolution {
                    entry: later.id,
                    at: later.event_time,
                    reading: reading(flag.code, later).unwrap_or_default(),
                });
            let acknowledged = entries
                .iter()
                .filter_map(|a| match &a.payload {
                    Payload::Acknowledgement(ack) if ack.entry == e.id && ack.flag == flag.code => {
                        Some(ack.note.clone())
                    }
                    _ => None,
                })
                .next_back();
            episodes.push(AlertEpisode {
                entry: e.id,
                flag: flag.clone(),
                at: e.event_time,
                reading: reading(flag.code, e).unwrap_or_else(|| flag.text.clone()),
                resolved,
                acknowledged,
            });
        }
    }
    episodes
}

// ---------------------------------------------------------------------------------------
// Writing the facts

fn hm(t: DateTime<FixedOffset>) -> String {
    t.format("%H:%M").to_string()
}

fn day(t: NaiveDate) -> String {
    t.format("%d %b %Y").to_string()
}

/// "T+30 (10:40)" after the first dose, "09:50 (before the dose)" before it, "09:50" when
/// there is no dose. Times are shown in the entry's own offset.
fn when(t: DateTime<FixedOffset>, first_dose: Option<DateTime<FixedOffset>>) -> String {
    match first_dose {
        Some(_) => match super::since_dose::t_plus_after(first_dose, t) {
            Some(label) => format!("{label} ({})", hm(t)),
            None => format!("{} (before the dose)", hm(t)),
        },
        None => hm(t),
    }
}

/// [`when`] with a note inside its parentheses: "T+45 (10:55, BP 148/90)".
fn when_with(
    t: DateTime<FixedOffset>,
    first_dose: Option<DateTime<FixedOffset>>,
    note: &str,
) -> String {
    match first_dose {
        Some(_) => match super::since_dose::t_plus_after(first_dose, t) {
            Some(label) => format!("{label} ({}, {note})", hm(t)),
            None => format!("{} (before the dose, {note})", hm(t)),
        },
        None => format!("{} ({note})", hm(t)),
    }
}

/// A protocol check that is part of the record as a lapse: "Protocol check missed: BP T+40
/// (10:40)", "Protocol check done late: vitals T+15 (10:15), 6 min late".
pub fn check_lapse(c: &Check) -> Option<String> {
    match c.status {
        CheckStatus::Missed => Some(match c.missing_text() {
            Some(m) => format!("Protocol check missed: {c}, {m}"),
            None => format!("Protocol check missed: {c}"),
        }),
        CheckStatus::DoneLate { late_min, .. } => Some(format!(
            "Protocol check done late: {c}, {late_min} min late"
        )),
        _ => None,
    }
}

fn bullets(items: Vec<String>, when_empty: &str) -> String {
    if items.is_empty() {
        when_empty.to_string()
    } else {
        items
            .iter()
            .map(|i| format!("- {i}"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// The facts of one dosing session, ready to fill placeholders.
struct Record<'a> {
    source: &'a NoteSource<'a>,
    entries: Vec<&'a Entry>,
    first_dose: Option<DateTime<FixedOffset>>,
    summary: VitalsSummary,
}

impl<'a> Record<'a> {
    fn new(source: &'a NoteSource<'a>) -> Self {
        let entries = current_entries(source.lines);
        let first_dose = source.first_dose;
        let summary = summarise(&entries, first_dose);
        Record {
            source,
            entries,
            first_dose,
            summary,
        }
    }

    fn when(&self, t: DateTime<FixedOffset>) -> String {
        when(t, self.first_dose)
    }

    fn value(&self, name: &str) -> String {
        let s = self.source;
        match name {
            "date" => day(s.integration_period.unwrap_or(s.dosing_period).day()),
            "drafted_on" => day(s.drafted_on),
            "patient" => s.patient.name.clone(),
            "dob" => day(s.patient.dob),
            "mrn" => s
                .patient
                .mrn
                .clone()
                .unwrap_or_else(|| "not recorded".into()),
            "clinician" => s.author.to_string(),
            "charted_by" => self.charted_by(),
            "dosing_number" => s.dosing_number.to_string(),
            "dosing_date" => day(s.dosing_period.day()),
            "integration" => self.integration(),
            "intention" => self.intention(),
            "dose" => self.doses(),
            "vitals" => self.vitals(),
            "alerts" => self.alerts(),
            "discharge" => self.discharge(),
            "observations" => self.observations(),
            "all_observations" => self.all_observations(),
            "quotes" => self.quotes(),
            "measures" => self.measures(),
            _ => unreachable!("placeholder {name} passed validation but has no value"),
        }
    }

    /// Who charted the dosing session, each once, in the order they first charted.
    fn charted_by(&self) -> String {
        let mut names: Vec<&str> = Vec::new();
        for e in &self.entries {
            if !names.contains(&e.author.as_str()) {
                names.push(&e.author);
            }
        }
        match names.as_slice() {
            [] => "no entries charted".into(),
            [one] => one.to_string(),
            [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
        }
    }

    fn integration(&self) -> String {
        let Some(start) = self.source.integration_period.map(|p| p.start) else {
            return "no integration session recorded yet".into();
        };
        let mut out = format!("{} at {}", day(start.date_naive()), hm(start));
        if let Some(d) = self.first_dose {
            let minutes = (start - d).num_minutes();
            if minutes >= 0 {
                out.push_str(&format!(", {} h after the first dose", minutes / 60));
            }
        }
        out
    }

    fn intention(&self) -> String {
        let from_entry = || {
            self.entries.iter().rev().find_map(|e| match &e.payload {
                Payload::Intention(t) => Some(t.text.clone()),
                _ => None,
            })
        };
        self.source
            .dosing
            .intention
            .clone()
            .filter(|t| !t.trim().is_empty())
            .or_else(from_entry)
            .unwrap_or_else(|| "none recorded".into())
    }

    fn doses(&self) -> String {
        let doses: Vec<(&Entry, &super::entry::Dose)> = self
            .entries
            .iter()
            .filter_map(|e| match &e.payload {
                Payload::Dose(d) => Some((*e, d)),
                _ => None,
            })
            .collect();
        // A witnessed dose names its witness (21 CFR 1304.22; clinical.md section 3).
        let mut items: Vec<String> = doses
            .iter()
            .map(|(e, d)| {
                let witness = super::witness::witness_of(self.source.lines, e.id)
                    .map(|w| format!(", witnessed by {}", w.entry.author))
                    .unwrap_or_default();
                format!("{} {d}{witness}", self.when(e.event_time))
            })
            .collect();
        // A total per drug given more than once (booster doses).
        let mut drugs: Vec<&str> = Vec::new();
        for (_, d) in &doses {
            if !drugs.contains(&d.drug.as_str()) {
                drugs.push(&d.drug);
            }
        }
        for drug in drugs {
            let given: Vec<f64> = doses
                .iter()
                .filter(|(_, d)| d.drug == drug)
                .map(|(_, d)| d.total_mg)
                .collect();
            if given.len() > 1 {
                items.push(format!(
                    "Total {drug}: {} mg in {} doses",
                    trim_number(given.iter().sum(), 2),
                    given.len()
                ));
            }
        }
        bullets(items, "No dose recorded.")
    }

    fn vitals(&self) -> String {
        let v = &self.summary;
        if v.readings == 0 && v.deepest_sedation.is_none() && self.cadss6_course().is_none() {
            return "No vitals recorded.".into();
        }
        let mut items = Vec::new();
        match &v.baseline {
            Some((b, t)) => items.push(format!("Baseline ({}): {b}", hm(*t))),
            None => items.push("Baseline: no vitals recorded before the dose".into()),
        }
        if self.first_dose.is_some() {
            items.push(match v.peak_bp {
                Some((bp, t)) => format!(
                    "Peak BP {}/{} at {}",
                    bp.systolic,
                    bp.diastolic,
                    self.when(t)
                ),
                None => "Peak BP: no BP recorded after the dose".into(),
            });
            items.push(match v.lowest_spo2 {
                Some((s, t)) => format!("Lowest SpO2 {s}% at {}", self.when(t)),
                None => "Lowest SpO2: no SpO2 recorded after the dose".into(),
            });
            if let Some((m, t)) = v.deepest_sedation {
                items.push(format!("Deepest sedation MOAA/S {m} at {}", self.when(t)));
            }
        }
        if let Some(course) = self.cadss6_course() {
            items.push(course);
        }
        let times: Vec<DateTime<FixedOffset>> = self
            .entries
            .iter()
            .filter(|e| matches!(e.payload, Payload::Vitals(_)))
            .map(|e| e.event_time)
            .collect();
        if let (Some(first), Some(last)) = (times.first(), times.last()) {
            let sets = if times.len() == 1 { "set" } else { "sets" };
            items.push(format!(
                "{} {sets} of vitals recorded, {} to {}",
                times.len(),
                hm(*first),
                hm(*last)
            ));
        }
        bullets(items, "No vitals recorded.")
    }

    /// "CADSS-6 (dissociation): 8 at T+15 (10:25), 3 at T+45 (10:55)": every total that
    /// stands, in time order; None when none was charted.
    fn cadss6_course(&self) -> Option<String> {
        let totals: Vec<String> = self
            .entries
            .iter()
            .filter_map(|e| match &e.payload {
                Payload::Dissociation(d) => {
                    Some(format!("{} at {}", d.total(), self.when(e.event_time)))
                }
                _ => None,
            })
            .collect();
        (!totals.is_empty()).then(|| format!("CADSS-6 (dissociation): {}", totals.join(", ")))
    }

    fn alerts(&self) -> String {
        let items = self
            .summary
            .alerts
            .iter()
            .map(|a| self.alert_line(a))
            .chain(self.source.checks.iter().filter_map(check_lapse))
            .collect();
        bullets(items, "No alerts recorded.")
    }

    fn alert_line(&self, a: &AlertEpisode) -> String {
        let at = self.when(a.at);
        let (what, back) = match a.flag.code {
            FlagCode::BpHigh | FlagCode::HrHigh => ("high", "back below alert level by"),
            FlagCode::BpPredose => ("above the pre-dose caution level", "rechecked below it at"),
            FlagCode::Spo2Low | FlagCode::HrLow | FlagCode::RrLow => {
                ("low", "back above alert level by")
            }
            FlagCode::DeepSedation => ("(deep sedation)", "lighter by"),
            FlagCode::Dissociation => ("(dissociation)", "lower by"),
            FlagCode::RespDepressed => ("charted", "resolved by"),
            // A dose is not "resolved" by a later reading; its acknowledgement is what counts.
            FlagCode::DoseHigh => ("given", ""),
            FlagCode::Late | FlagCode::LotMissing | FlagCode::DeviceRest => ("", ""),
        };
        let no_resolution = matches!(a.flag.code, FlagCode::BpPredose | FlagCode::DoseHigh);
        let mut line = format!("{} {what} at {at}", a.reading);
        match &a.resolved {
            Some(r) => line.push_str(&format!(
                ", {back} {}",
                when_with(r.at, self.first_dose, &r.reading)
            )),
            None if no_resolution => {}
            None => line.push_str(", not resolved in the record"),
        }
        match &a.acknowledged {
            Some(note) => line.push_str(&format!("; acknowledged: “{note}”")),
            None if no_resolution => line.push_str("; no acknowledgement in the record"),
            None => {}
        }
        line
    }

    fn discharge(&self) -> String {
        let latest = |pick: fn(&Payload) -> bool| {
            self.entries
                .iter()
                .rev()
                .find(|e| pick(&e.payload))
                .copied()
        };
        let mut items = Vec::new();
        if let Some(e) = latest(|p| matches!(p, Payload::Aldrete(_)))
            && let Payload::Aldrete(a) = &e.payload
        {
            items.push(format!(
                "Aldrete {}/10 at {}",
                a.total(),
                self.when(e.event_time)
            ));
        }
        if let Some(e) = latest(|p| matches!(p, Payload::PatientReady)) {
            items.push(format!("Ready to leave at {}", self.when(e.event_time)));
        }
        if let Some(e) = latest(|p| matches!(p, Payload::RideHome(_)))
            && let Payload::RideHome(r) = &e.payload
        {
            items.push(format!("Ride home: {}", r.who));
        }
        let end = latest(|p| matches!(p, Payload::SessionEnd(_)));
        match end.map(|e| (&e.payload, e.event_time)) {
            Some((Payload::SessionEnd(end), t)) => {
                let mut line = format!("Session ended at {}", self.when(t));
                if let Some(r) = &end.reason {
                    line.push_str(&format!(" (reason: {r})"));
                }
                items.push(line);
            }
            _ => {
                if let Some(t) = self.source.dosing.ended {
                    items.push(format!("Session ended at {}", self.when(t)));
                }
            }
        }
        bullets(items, "No discharge entries recorded.")
    }

    fn observation_entries(&self) -> impl Iterator<Item = (&'a Entry, &'a super::Observation)> {
        self.entries
            .clone()
            .into_iter()
            .filter_map(|e| match &e.payload {
                Payload::Observation(o) => Some((e, o)),
                _ => None,
            })
    }

    fn observations(&self) -> String {
        let mut groups: Vec<(&str, Vec<String>)> = Vec::new();
        for (e, o) in self.observation_entries() {
            for tag in &o.tags {
                let line = format!("{} {}", hm(e.event_time), o.text);
                match groups.iter_mut().find(|(t, _)| *t == tag.as_str()) {
                    Some((_, lines)) => lines.push(line),
                    None => groups.push((tag, vec![line])),
                }
            }
        }
        if groups.is_empty() {
            return "No tagged observations.".into();
        }
        groups
            .iter()
            .map(|(tag, lines)| {
                let mut out = format!("- #{tag}");
                for l in lines {
                    out.push_str(&format!("\n  - {l}"));
                }
                out
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn all_observations(&self) -> String {
        let items = self
            .observation_entries()
            .map(|(e, o)| format!("{} {}", hm(e.event_time), o.text))
            .collect();
        bullets(items, "No observations recorded.")
    }

    fn quotes(&self) -> String {
        let items = self
            .observation_entries()
            .flat_map(|(e, o)| {
                o.quotes
                    .iter()
                    .map(move |q| format!("{} “{q}”", hm(e.event_time)))
            })
            .collect();
        bullets(items, "No patient quotes recorded.")
    }

    fn measures(&self) -> String {
        let mut measures: Vec<&(DateTime<FixedOffset>, MeasureResponse)> =
            self.source.measures.iter().collect();
        measures.sort_by_key(|(t, _)| *t);
        let items = measures
            .iter()
            .map(|(t, m)| {
                let mut line = format!(
                    "{} {} ({}) on {}",
                    m.instrument,
                    m.total,
                    m.band,
                    day(t.date_naive())
                );
                if needs_risk_assessment(m) {
                    line.push_str(&format!(
                        "; item 9 (thoughts of death or self-harm) answered {}",
                        m.items[8]
                    ));
                }
                line
            })
            .collect();
        bullets(items, "No measures since the last note.")
    }
}

// ---------------------------------------------------------------------------------------
// Templates

enum Piece<'t> {
    Text(&'t str),
    /// A placeholder; `indent` is the whitespace before it when nothing else precedes it on
    /// its line, repeated before each further line of its value.
    Field {
        name: &'t str,
        indent: &'t str,
    },
}

fn line_of(text: &str, at: usize) -> usize {
    text[..at].matches('\n').count() + 1
}

/// The end (just past the closing braces) of the comment opening at `open`; comments nest
/// so that they may mention placeholders.
fn comment_end(text: &str, open: usize) -> Result<usize, String> {
    let mut depth = 1;
    let mut pos = open + 3;
    loop {
        let next_open = text[pos..].find("{{").map(|i| pos + i);
        let next_close = text[pos..].find("}}").map(|i| pos + i);
        match (next_open, next_close) {
            (Some(o), Some(c)) if o < c => {
                depth += 1;
                pos = o + 2;
            }
            (_, Some(c)) => {
                depth -= 1;
                pos = c + 2;
                if depth == 0 {
                    return Ok(pos);
                }
            }
            (_, None) => {
                return Err(format!(
                    "the comment opened with {{{{! on line {} is not closed with }}}}",
                    line_of(text, open)
                ));
            }
        }
    }
}

fn parse(text: &str) -> Result<Vec<Piece<'_>>, String> {
    let mut pieces = Vec::new();
    let mut unknown: Vec<(&str, usize)> = Vec::new();
    let mut pos = 0;
    while let Some(found) = text[pos..].find("{{") {
        let open = pos + found;
        let line_start = text[..open].rfind('\n').map_or(0, |i| i + 1);
        let before = &text[line_start..open];
        if text[open + 2..].starts_with('!') {
            let close = comment_end(text, open)?;
            let line_end = text[close..]
                .find('\n')
                .map_or(text.len(), |i| close + i + 1);
            let standalone = pos <= line_start
                && before.trim().is_empty()
                && text[close..line_end].trim().is_empty();
            if standalone {
                pieces.push(Piece::Text(&text[pos..line_start]));
                pos = line_end;
            } else {
                pieces.push(Piece::Text(&text[pos..open]));
                pos = close;
            }
            continue;
        }
        let inner_start = open + 2;
        let unclosed = || {
            format!(
                "the placeholder opened with {{{{ on line {} is not closed with }}}}",
                line_of(text, open)
            )
        };
        let inner_end = text[inner_start..]
            .find("}}")
            .map(|i| inner_start + i)
            .ok_or_else(unclosed)?;
        let inner = &text[inner_start..inner_end];
        if inner.contains('\n') || inner.contains("{{") {
            return Err(unclosed());
        }
        let name = inner.trim();
        if !is_known(name) {
            unknown.push((name, line_of(text, open)));
        }
        pieces.push(Piece::Text(&text[pos..open]));
        let indent = if before.chars().all(|c| c == ' ' || c == '\t') {
            before
        } else {
            ""
        };
        pieces.push(Piece::Field { name, indent });
        pos = inner_end + 2;
    }
    pieces.push(Piece::Text(&text[pos..]));

    if unknown.is_empty() {
        return Ok(pieces);
    }
    let named: Vec<String> = unknown
        .iter()
        .map(|(name, line)| format!("{{{{{name}}}}} (line {line})"))
        .collect();
    let known: Vec<String> = PLACEHOLDERS
        .iter()
        .map(|(n, _)| format!("{{{{{n}}}}}"))
        .collect();
    Err(format!(
        "unknown placeholder{} in the note template: {}; the known placeholders are: {}",
        if unknown.len() == 1 { "" } else { "s" },
        named.join(", "),
        known.join(", ")
    ))
}

#[cfg(test)]
mod tests;
