//! Drafting the integration note from the record. Pure: the caller passes the record, the
//! date of drafting and the template text (a shipped one from [`template_text`], or a user's
//! override it has read from the config directory); nothing here reads a file or a clock.
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

use super::entry::{BloodPressure, Payload, VitalSigns, trim_number};
use super::measures::{MeasureResponse, needs_risk_assessment};
use super::thresholds::{Flag, FlagCode};
use super::{ChartLine, Entry, EntryId, EntryStatus, Patient, Session};
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
    /// The dosing session the note integrates.
    pub dosing: &'a Session,
    /// Which dosing session of the course this is: 3 for "dosing 3".
    pub dosing_number: u32,
    /// The dosing session's chart lines with their status, in any order.
    pub lines: &'a [ChartLine],
    /// The integration session, when one exists.
    pub integration: Option<&'a Session>,
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
        "the note's date: the integration session's, or the dosing session's when none is recorded",
    ),
    ("drafted_on", "the date the draft was made"),
    ("patient", "the patient's name"),
    ("dob", "the patient's date of birth"),
    ("mrn", "the patient's MRN, or \"not recorded\""),
    (
        "clinician",
        "the integration session's clinician, or the dosing session's",
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
        "each dose: time, T+, drug, amount as typed, route, infusion time and mg",
    ),
    (
        "vitals",
        "baseline vitals, peak BP, lowest SpO2, deepest sedation (MOAA/S)",
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

/// The current entries in event-time order (entry id on a tie).
fn current_entries(lines: &[ChartLine]) -> Vec<&Entry> {
    let mut entries: Vec<&Entry> = lines
        .iter()
        .filter(|l| l.status == EntryStatus::Current)
        .map(|l| &l.entry)
        .collect();
    entries.sort_by_key(|e| (e.event_time, e.id));
    entries
}

fn first_dose_of(entries: &[&Entry]) -> Option<DateTime<FixedOffset>> {
    entries
        .iter()
        .filter(|e| matches!(e.payload, Payload::Dose(_)))
        .map(|e| e.event_time)
        .min()
}

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
        Some(d) if t >= d => format!("T+{} ({})", (t - d).num_minutes(), hm(t)),
        Some(_) => format!("{} (before the dose)", hm(t)),
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
        Some(d) if t >= d => format!("T+{} ({}, {note})", (t - d).num_minutes(), hm(t)),
        Some(_) => format!("{} (before the dose, {note})", hm(t)),
        None => format!("{} ({note})", hm(t)),
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
        let first_dose = first_dose_of(&entries);
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
            "date" => day(s.integration.unwrap_or(s.dosing).started.date_naive()),
            "drafted_on" => day(s.drafted_on),
            "patient" => s.patient.name.clone(),
            "dob" => day(s.patient.dob),
            "mrn" => s
                .patient
                .mrn
                .clone()
                .unwrap_or_else(|| "not recorded".into()),
            "clinician" => s.integration.unwrap_or(s.dosing).clinician.clone(),
            "dosing_number" => s.dosing_number.to_string(),
            "dosing_date" => day(s.dosing.started.date_naive()),
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

    fn integration(&self) -> String {
        let Some(i) = self.source.integration else {
            return "no integration session recorded yet".into();
        };
        let mut out = format!("{} at {}", day(i.started.date_naive()), hm(i.started));
        if let Some(d) = self.first_dose {
            let minutes = (i.started - d).num_minutes();
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
        let mut items: Vec<String> = doses
            .iter()
            .map(|(e, d)| format!("{} {d}", self.when(e.event_time)))
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
        if v.readings == 0 && v.deepest_sedation.is_none() {
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

    fn alerts(&self) -> String {
        let items = self
            .summary
            .alerts
            .iter()
            .map(|a| self.alert_line(a))
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
            FlagCode::Late => ("", ""),
        };
        let mut line = format!("{} {what} at {at}", a.reading);
        match &a.resolved {
            Some(r) => line.push_str(&format!(
                ", {back} {}",
                when_with(r.at, self.first_dose, &r.reading)
            )),
            None if a.flag.code == FlagCode::BpPredose => {}
            None => line.push_str(", not resolved in the record"),
        }
        match &a.acknowledged {
            Some(note) => line.push_str(&format!("; acknowledged: “{note}”")),
            None if a.flag.code == FlagCode::BpPredose => {
                line.push_str("; no acknowledgement in the record")
            }
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
mod tests {
    use super::*;
    use crate::domain::SessionKind;
    use crate::domain::entry::{
        Acknowledgement, AldreteScore, Dose, DoseUnit, Observation, RideHome, Route, Sedation,
        SessionEnd, Text,
    };
    use crate::domain::measures::Instrument;
    use crate::domain::{Correction, chart_lines};
    use chrono::TimeZone;

    /// Central European winter time: a time shown in UTC would be an hour early.
    fn at(h: u32, m: u32) -> DateTime<FixedOffset> {
        on(24, h, m)
    }

    fn on(d: u32, h: u32, m: u32) -> DateTime<FixedOffset> {
        FixedOffset::east_opt(3600)
            .unwrap()
            .with_ymd_and_hms(2025, 11, d, h, m, 0)
            .unwrap()
    }

    fn flag(code: FlagCode, text: &str) -> Flag {
        Flag {
            code,
            text: text.into(),
        }
    }

    fn vitals(bp: Option<(u16, u16)>, hr: u16, spo2: u8) -> Payload {
        Payload::Vitals(VitalSigns {
            bp: bp.map(|(systolic, diastolic)| BloodPressure {
                systolic,
                diastolic,
            }),
            hr: Some(hr),
            spo2: Some(spo2),
            rr: Some(14),
            temp_c: None,
        })
    }

    fn observation(text: &str, tags: &[&str], quotes: &[&str]) -> Payload {
        Payload::Observation(Observation {
            text: text.into(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            quotes: quotes.iter().map(|q| q.to_string()).collect(),
        })
    }

    struct Builder(Vec<Entry>);

    impl Builder {
        fn add(&mut self, t: DateTime<FixedOffset>, payload: Payload, flags: Vec<Flag>) -> i64 {
            let id = self.0.len() as i64 + 1;
            self.0.push(Entry {
                id,
                session_id: 7,
                payload,
                event_time: t,
                recorded_time: t,
                author: "Dr Okafor".into(),
                flags,
                corrects: None,
                correction: None,
                reason: None,
            });
            id
        }

        fn correct(
            &mut self,
            t: DateTime<FixedOffset>,
            payload: Payload,
            target: i64,
            how: Correction,
            reason: &str,
        ) -> i64 {
            let id = self.add(t, payload, vec![]);
            let e = self.0.last_mut().unwrap();
            e.corrects = Some(target);
            e.correction = Some(how);
            e.reason = Some(reason.into());
            id
        }
    }

    /// Dosing session 3: a pre-dose caution, acknowledged and rechecked; IM ketamine at 10:10;
    /// a BP alert at T+30 resolved at T+45; an SpO2 of 91 amended to 95; a struck observation.
    fn dosing_lines() -> Vec<ChartLine> {
        let mut b = Builder(Vec::new());
        let caution = b.add(
            at(9, 50),
            vitals(Some((146, 92)), 78, 98),
            vec![flag(
                FlagCode::BpPredose,
                "BP 146/92 before dosing, above 140/90: consider delaying",
            )],
        );
        b.add(
            at(9, 54),
            Payload::Acknowledgement(Acknowledgement {
                entry: caution,
                flag: FlagCode::BpPredose,
                note: "anxious on arrival; rechecked after 5 min of rest".into(),
            }),
            vec![],
        );
        b.add(at(9, 58), vitals(Some((138, 88)), 74, 98), vec![]);
        b.add(
            at(10, 10),
            Payload::Dose(Dose {
                drug: "ketamine".into(),
                amount: 0.75,
                unit: DoseUnit::MgPerKg,
                route: Route::IM,
                over_min: None,
                total_mg: 52.5,
                weight_kg: Some(70.0),
            }),
            vec![],
        );
        b.add(at(10, 25), vitals(Some((150, 94)), 84, 97), vec![]);
        b.add(
            at(10, 33),
            observation(
                "#somatic #insight hands on chest, breathing slower \"it's like warm water over my chest\"",
                &["somatic", "insight"],
                &["it's like warm water over my chest"],
            ),
            vec![],
        );
        b.add(
            at(10, 40),
            vitals(Some((164, 98)), 88, 96),
            vec![flag(
                FlagCode::BpHigh,
                "BP 164/98 high (alert at >= 160/100)",
            )],
        );
        b.add(at(10, 40), Payload::Sedation(Sedation { moaas: 3 }), vec![]);
        let wrong = b.add(
            at(10, 45),
            observation("#grief talks about her brother's funeral", &["grief"], &[]),
            vec![],
        );
        b.correct(
            at(10, 46),
            Payload::Strike,
            wrong,
            Correction::Strike,
            "charted for the wrong patient",
        );
        b.add(
            at(10, 50),
            observation(
                "#insight \"I don't have to carry all of it\"",
                &["insight"],
                &["I don't have to carry all of it"],
            ),
            vec![],
        );
        b.add(at(10, 55), vitals(Some((148, 90)), 80, 96), vec![]);
        b.add(
            at(11, 0),
            observation("eye mask off briefly, sipping water", &[], &[]),
            vec![],
        );
        let low = b.add(
            at(11, 10),
            vitals(Some((142, 88)), 76, 91),
            vec![flag(FlagCode::Spo2Low, "SpO2 91% low (alert below 92%)")],
        );
        b.correct(
            at(11, 10),
            vitals(Some((142, 88)), 76, 95),
            low,
            Correction::Amend,
            "probe had slipped; re-read 95%",
        );
        b.add(at(11, 10), Payload::Sedation(Sedation { moaas: 4 }), vec![]);
        b.add(at(11, 40), vitals(Some((132, 84)), 72, 97), vec![]);
        b.add(
            at(12, 5),
            Payload::Aldrete(AldreteScore {
                activity: 2,
                respiration: 2,
                circulation: 2,
                consciousness: 2,
                spo2: 2,
            }),
            vec![],
        );
        b.add(
            at(12, 8),
            Payload::RideHome(RideHome {
                who: "partner (Sam)".into(),
            }),
            vec![],
        );
        b.add(at(12, 10), Payload::PatientReady, vec![]);
        b.add(
            at(12, 15),
            Payload::SessionEnd(SessionEnd::default()),
            vec![],
        );
        chart_lines(b.0)
    }

    fn patient() -> Patient {
        Patient {
            id: 1,
            name: "Alex Rivera".into(),
            dob: NaiveDate::from_ymd_opt(1988, 3, 14).unwrap(),
            mrn: Some("KAP-0042".into()),
            weight_kg: Some(70.0),
        }
    }

    fn session(id: i64, kind: SessionKind, started: DateTime<FixedOffset>) -> Session {
        Session {
            id,
            patient_id: 1,
            kind,
            started,
            ended: None,
            clinician: "Dr Okafor".into(),
            intention: (kind == SessionKind::Dosing)
                .then(|| "to meet the grief without bracing against it".into()),
            dosing_session_id: (kind == SessionKind::Integration).then_some(7),
        }
    }

    fn measure(instrument: Instrument, items: Vec<u8>, band: &str) -> MeasureResponse {
        MeasureResponse {
            instrument,
            total: items.iter().map(|&i| u16::from(i)).sum(),
            items,
            band: band.into(),
        }
    }

    fn measures() -> Vec<(DateTime<FixedOffset>, MeasureResponse)> {
        vec![
            (
                on(26, 13, 55),
                measure(Instrument::Gad7, vec![1, 1, 2, 1, 1, 2, 1], "mild"),
            ),
            (
                on(26, 13, 50),
                measure(
                    Instrument::Phq9,
                    vec![2, 2, 1, 2, 1, 2, 1, 1, 0],
                    "moderate",
                ),
            ),
        ]
    }

    fn draft_for(format: NoteFormat) -> String {
        let lines = dosing_lines();
        let patient = patient();
        let dosing = session(7, SessionKind::Dosing, at(9, 45));
        let integration = session(8, SessionKind::Integration, on(26, 14, 0));
        let measures = measures();
        let source = NoteSource {
            patient: &patient,
            dosing: &dosing,
            dosing_number: 3,
            lines: &lines,
            integration: Some(&integration),
            measures: &measures,
            drafted_on: NaiveDate::from_ymd_opt(2025, 11, 26).unwrap(),
        };
        draft(&source, template_text(format)).unwrap()
    }

    #[test]
    fn each_format_drafts_every_fact_of_the_record_and_nothing_withdrawn() {
        for format in NoteFormat::ALL {
            let note = draft_for(format);
            let has = |s: &str| assert!(note.contains(s), "{format}: missing {s:?} in\n{note}");
            let lacks = |s: &str| assert!(!note.contains(s), "{format}: has {s:?} in\n{note}");
            has(&format!("# Integration note ({})", format.label()));
            has(
                "DRAFT drafted from the kapchart record on 26 Nov 2025 for dosing session 3 \
                 (24 Nov 2025)",
            );
            has("Date: 26 Nov 2025");
            has("Patient: Alex Rivera (DOB 14 Mar 1988, MRN KAP-0042)");
            has("Clinician: Dr Okafor");
            has("Integration session: 26 Nov 2025 at 14:00, 51 h after the first dose");
            has("to meet the grief without bracing against it");
            has("- T+0 (10:10) ketamine 0.75 mg/kg IM (52.5 mg)");
            has("- Baseline (09:58): BP 138/88 · HR 74 · SpO2 98% · RR 14");
            has("- Peak BP 164/98 at T+30 (10:40)");
            has("- Lowest SpO2 95% at T+60 (11:10)");
            has("- Deepest sedation MOAA/S 3 at T+30 (10:40)");
            has("- 7 sets of vitals recorded, 09:50 to 11:40");
            has(
                "- BP 146/92 above the pre-dose caution level at 09:50 (before the dose), \
                 rechecked below it at 09:58 (before the dose, BP 138/88); \
                 acknowledged: “anxious on arrival; rechecked after 5 min of rest”",
            );
            has(
                "- BP 164/98 high at T+30 (10:40), back below alert level by T+45 (10:55, \
                 BP 148/90)",
            );
            has("- Aldrete 10/10 at T+115 (12:05)");
            has("- Ready to leave at T+120 (12:10)");
            has("- Ride home: partner (Sam)");
            has("- Session ended at T+125 (12:15)");
            has("- #somatic\n  - 10:33 #somatic #insight hands on chest");
            has("- #insight\n  - 10:33 #somatic #insight hands on chest");
            has("  - 10:50 #insight \"I don't have to carry all of it\"");
            has("- 10:33 “it's like warm water over my chest”");
            has("- 10:50 “I don't have to carry all of it”");
            has("- PHQ-9 12 (moderate) on 26 Nov 2025\n- GAD-7 9 (mild) on 26 Nov 2025");
            has("Plan: ");
            // Withdrawn, amended away, untagged, or template-only text.
            lacks("brother");
            lacks("#grief");
            lacks("SpO2 91");
            lacks("Spo2");
            lacks("not resolved");
            lacks("eye mask off");
            lacks("item 9");
            lacks("{{");
            lacks("}}");
            lacks("Placeholders are");
            assert!(note.starts_with("# Integration note"), "{note}");
            assert!(!note.contains("09:10"), "shown in UTC:\n{note}");
        }
    }

    #[test]
    fn each_format_has_its_sections_with_prompts_for_the_clinician() {
        let sections: [(NoteFormat, &[&str]); 3] = [
            (
                NoteFormat::Dap,
                &["## Data", "## Assessment\n\nAssessment: \n", "## Plan"],
            ),
            (
                NoteFormat::Soap,
                &["## Subjective", "## Objective", "## Assessment", "## Plan"],
            ),
            (
                NoteFormat::Birp,
                &[
                    "## Behavior",
                    "## Intervention\n\nIntervention: \n",
                    "## Response\n\nResponse: \n",
                    "## Plan",
                ],
            ),
        ];
        for (format, headings) in sections {
            let note = draft_for(format);
            let mut from = 0;
            for h in headings {
                let found = note[from..]
                    .find(h)
                    .unwrap_or_else(|| panic!("{format}: {h:?} missing or out of order"));
                from += found + h.len();
            }
            assert!(note.ends_with("Plan: \n"), "{format}");
        }
        // SOAP: the patient's words are subjective; the record is objective.
        let soap = draft_for(NoteFormat::Soap);
        let objective = soap.find("## Objective").unwrap();
        assert!(soap.find("“it's like warm water").unwrap() < objective);
        assert!(soap.find("Peak BP").unwrap() > objective);
    }

    #[test]
    fn shipped_templates_validate_and_use_the_record() {
        for format in NoteFormat::ALL {
            let text = template_text(format);
            validate_template(text).unwrap();
            for name in [
                "drafted_on",
                "dosing_number",
                "date",
                "patient",
                "intention",
                "dose",
                "vitals",
                "alerts",
                "observations",
                "quotes",
                "measures",
            ] {
                assert!(
                    text.contains(&format!("{{{{{name}}}}}")),
                    "{format} lacks {name}"
                );
            }
            assert!(text.contains("{{all_observations}}"), "{format}: hint");
        }
    }

    #[test]
    fn an_override_can_list_every_observation_and_keeps_its_text_exactly() {
        let lines = dosing_lines();
        let patient = patient();
        let dosing = session(7, SessionKind::Dosing, at(9, 45));
        let source = NoteSource {
            patient: &patient,
            dosing: &dosing,
            dosing_number: 3,
            lines: &lines,
            integration: None,
            measures: &[],
            drafted_on: NaiveDate::from_ymd_opt(2025, 11, 24).unwrap(),
        };
        let template = "Note {{date}}  *{{ patient }}*\n\
                        {{! a comment on its own line goes, line and all }}\n\
                        Seen:{{! inline comment }} {{integration}}\n\
                        \x20   {{all_observations}}\n\
                        M: {{measures}}\n\
                        {{quotes}}";
        let note = draft(&source, template).unwrap();
        assert_eq!(
            note,
            "Note 24 Nov 2025  *Alex Rivera*\n\
             Seen: no integration session recorded yet\n\
             \x20   - 10:33 #somatic #insight hands on chest, breathing slower \"it's like warm water over my chest\"\n\
             \x20   - 10:50 #insight \"I don't have to carry all of it\"\n\
             \x20   - 11:00 eye mask off briefly, sipping water\n\
             M: No measures since the last note.\n\
             - 10:33 “it's like warm water over my chest”\n\
             - 10:50 “I don't have to carry all of it”"
        );
        // Windows line endings stay Windows line endings.
        let crlf = draft(&source, "Quotes:\r\n{{quotes}}\r\n").unwrap();
        assert_eq!(
            crlf,
            "Quotes:\r\n- 10:33 “it's like warm water over my chest”\r\n\
             - 10:50 “I don't have to carry all of it”\r\n"
        );
    }

    #[test]
    fn a_phq9_item_9_answer_is_surfaced() {
        let lines = dosing_lines();
        let patient = patient();
        let dosing = session(7, SessionKind::Dosing, at(9, 45));
        let measures = [(
            on(26, 13, 50),
            measure(
                Instrument::Phq9,
                vec![2, 2, 1, 2, 1, 2, 1, 1, 1],
                "moderate",
            ),
        )];
        let source = NoteSource {
            patient: &patient,
            dosing: &dosing,
            dosing_number: 3,
            lines: &lines,
            integration: None,
            measures: &measures,
            drafted_on: NaiveDate::from_ymd_opt(2025, 11, 26).unwrap(),
        };
        assert_eq!(
            draft(&source, "{{measures}}").unwrap(),
            "- PHQ-9 13 (moderate) on 26 Nov 2025; item 9 (thoughts of death or self-harm) \
             answered 1"
        );
    }

    #[test]
    fn unknown_placeholders_are_named_with_the_known_ones() {
        let err = validate_template("# Note\n{{date}}\n{{vitls}} and {{ Patient }}\n").unwrap_err();
        assert!(err.contains("{{vitls}} (line 3)"), "{err}");
        assert!(err.contains("{{Patient}} (line 3)"), "{err}");
        assert!(err.contains("unknown placeholders"), "{err}");
        for (name, _) in placeholders() {
            assert!(err.contains(&format!("{{{{{name}}}}}")), "{name}: {err}");
        }
        let err = validate_template("{{}}").unwrap_err();
        assert!(err.contains("{{}} (line 1)"), "{err}");

        let err = validate_template("a\n{{date\n}}").unwrap_err();
        assert!(
            err.contains("line 2") && err.contains("not closed"),
            "{err}"
        );
        let err = validate_template("{{date").unwrap_err();
        assert!(err.contains("not closed"), "{err}");
        let err = validate_template("x\n\n{{! about {{quotes}} }").unwrap_err();
        assert!(err.contains("comment") && err.contains("line 3"), "{err}");
        // A placeholder mentioned in a comment is not checked; stray closing braces are text.
        validate_template("{{! try {{anything}} }} }} {").unwrap();

        let lines = dosing_lines();
        let patient = patient();
        let dosing = session(7, SessionKind::Dosing, at(9, 45));
        let source = NoteSource {
            patient: &patient,
            dosing: &dosing,
            dosing_number: 1,
            lines: &lines,
            integration: None,
            measures: &[],
            drafted_on: NaiveDate::from_ymd_opt(2025, 11, 24).unwrap(),
        };
        let err = draft(&source, "{{vitals}} {{spo2}}").unwrap_err();
        assert!(
            err.contains("{{spo2}}") && err.contains("{{vitals}}"),
            "{err}"
        );
    }

    #[test]
    fn format_parses_and_defaults_to_dap() {
        assert_eq!(NoteFormat::default(), NoteFormat::Dap);
        assert_eq!("SOAP".parse::<NoteFormat>(), Ok(NoteFormat::Soap));
        assert_eq!(" birp ".parse::<NoteFormat>(), Ok(NoteFormat::Birp));
        let err = "narrative".parse::<NoteFormat>().unwrap_err();
        assert!(
            err.contains("'narrative'") && err.contains("dap, soap, birp"),
            "{err}"
        );
        assert_eq!(NoteFormat::Birp.to_string(), "birp");
        assert_eq!(
            serde_json::to_string(&NoteFormat::Soap).unwrap(),
            "\"soap\""
        );
        assert_eq!(
            serde_json::from_str::<NoteFormat>("\"dap\"").unwrap(),
            NoteFormat::Dap
        );
    }

    #[test]
    fn vitals_summary_of_the_whole_session() {
        let lines = dosing_lines();
        let s = vitals_summary(&lines, Some(at(10, 10)));
        assert_eq!(s.baseline.as_ref().map(|b| b.1), Some(at(9, 58)));
        assert_eq!(
            s.peak_bp,
            Some((
                BloodPressure {
                    systolic: 164,
                    diastolic: 98
                },
                at(10, 40)
            ))
        );
        assert_eq!(s.lowest_spo2, Some((95, at(11, 10))));
        assert_eq!(s.deepest_sedation, Some((3, at(10, 40))));
        assert_eq!(s.readings, 7);
        let codes: Vec<FlagCode> = s.alerts.iter().map(|a| a.flag.code).collect();
        assert_eq!(codes, [FlagCode::BpPredose, FlagCode::BpHigh]);
        assert_eq!(s.alerts[1].resolved.as_ref().unwrap().at, at(10, 55));
        assert_eq!(s.alerts[1].acknowledged, None);
        assert!(
            s.alerts[0]
                .acknowledged
                .as_deref()
                .unwrap()
                .contains("rest")
        );
    }

    #[test]
    fn vitals_summary_before_any_dose() {
        let mut b = Builder(Vec::new());
        b.add(at(9, 40), vitals(Some((130, 80)), 70, 99), vec![]);
        b.add(
            at(9, 50),
            vitals(Some((146, 92)), 78, 98),
            vec![flag(FlagCode::BpPredose, "BP 146/92 before dosing")],
        );
        b.add(at(9, 52), vitals(None, 76, 97), vec![]);
        let lines = chart_lines(b.0);
        let s = vitals_summary(&lines, None);
        // The latest with a BP, before a later reading without one.
        assert_eq!(s.baseline.as_ref().map(|b| b.1), Some(at(9, 50)));
        assert_eq!(
            (s.peak_bp, s.lowest_spo2, s.deepest_sedation),
            (None, None, None)
        );
        assert_eq!(s.readings, 3);
        assert_eq!(s.alerts.len(), 1);
        assert_eq!(s.alerts[0].reading, "BP 146/92");
        assert_eq!(s.alerts[0].resolved, None);
        assert_eq!(s.alerts[0].acknowledged, None);

        let patient = patient();
        let dosing = session(7, SessionKind::Dosing, at(9, 35));
        let source = NoteSource {
            patient: &patient,
            dosing: &dosing,
            dosing_number: 1,
            lines: &lines,
            integration: None,
            measures: &[],
            drafted_on: NaiveDate::from_ymd_opt(2025, 11, 24).unwrap(),
        };
        assert_eq!(
            draft(&source, "{{dose}}\n{{vitals}}\n{{alerts}}\n{{discharge}}").unwrap(),
            "No dose recorded.\n\
             - Baseline (09:50): BP 146/92 · HR 78 · SpO2 98% · RR 14\n\
             - 3 sets of vitals recorded, 09:40 to 09:52\n\
             - BP 146/92 above the pre-dose caution level at 09:50; no acknowledgement in the \
             record\n\
             No discharge entries recorded."
        );
    }

    #[test]
    fn vitals_summary_without_vitals() {
        let mut b = Builder(Vec::new());
        b.add(
            at(10, 10),
            Payload::Dose(Dose {
                drug: "ketamine".into(),
                amount: 100.0,
                unit: DoseUnit::Mg,
                route: Route::SL,
                over_min: None,
                total_mg: 100.0,
                weight_kg: None,
            }),
            vec![],
        );
        b.add(
            at(10, 30),
            Payload::Dose(Dose {
                drug: "ketamine".into(),
                amount: 0.5,
                unit: DoseUnit::MgPerKg,
                route: Route::IV,
                over_min: Some(40),
                total_mg: 35.0,
                weight_kg: Some(70.0),
            }),
            vec![],
        );
        let lines = chart_lines(b.0);
        assert_eq!(
            vitals_summary(&lines, Some(at(10, 10))),
            VitalsSummary::default()
        );
        assert_eq!(vitals_summary(&[], None), VitalsSummary::default());

        let patient = patient();
        let dosing = session(7, SessionKind::Dosing, at(10, 0));
        let source = NoteSource {
            patient: &patient,
            dosing: &dosing,
            dosing_number: 2,
            lines: &lines,
            integration: None,
            measures: &[],
            drafted_on: NaiveDate::from_ymd_opt(2025, 11, 24).unwrap(),
        };
        assert_eq!(
            draft(
                &source,
                "{{dose}}\n{{vitals}}\n{{alerts}}\n{{observations}}"
            )
            .unwrap(),
            "- T+0 (10:10) ketamine 100 mg SL\n\
             - T+20 (10:30) ketamine 0.5 mg/kg IV over 40 min (35 mg)\n\
             - Total ketamine: 135 mg in 2 doses\n\
             No vitals recorded.\n\
             No alerts recorded.\n\
             No tagged observations."
        );
    }

    #[test]
    fn alerts_resolve_on_the_first_later_reading_of_their_kind() {
        let mut b = Builder(Vec::new());
        b.add(at(10, 0), vitals(Some((130, 80)), 70, 98), vec![]);
        b.add(
            at(10, 5),
            Payload::Dose(Dose {
                drug: "ketamine".into(),
                amount: 50.0,
                unit: DoseUnit::Mg,
                route: Route::IM,
                over_min: None,
                total_mg: 50.0,
                weight_kg: None,
            }),
            vec![],
        );
        b.add(
            at(10, 30),
            Payload::Sedation(Sedation { moaas: 2 }),
            vec![flag(FlagCode::DeepSedation, "MOAA/S 2 (alert at <= 2)")],
        );
        b.add(
            at(10, 32),
            vitals(None, 70, 90),
            vec![flag(FlagCode::Spo2Low, "SpO2 90% low")],
        );
        // Still low: does not resolve it. A reading without SpO2 is not of its kind.
        b.add(
            at(10, 35),
            vitals(None, 70, 89),
            vec![flag(FlagCode::Spo2Low, "SpO2 89% low")],
        );
        b.add(
            at(10, 38),
            Payload::Vitals(VitalSigns {
                hr: Some(72),
                ..Default::default()
            }),
            vec![],
        );
        b.add(at(10, 40), vitals(None, 70, 94), vec![]);
        b.add(at(10, 45), Payload::Sedation(Sedation { moaas: 4 }), vec![]);
        b.add(
            at(10, 50),
            Payload::Intention(Text {
                text: "to let the sadness be there".into(),
            }),
            vec![],
        );
        let lines = chart_lines(b.0);
        let patient = patient();
        let dosing = session(7, SessionKind::Dosing, at(9, 55));
        let source = NoteSource {
            patient: &patient,
            dosing: &dosing,
            dosing_number: 4,
            lines: &lines,
            integration: None,
            measures: &[],
            drafted_on: NaiveDate::from_ymd_opt(2025, 11, 24).unwrap(),
        };
        assert_eq!(
            draft(&source, "{{alerts}}").unwrap(),
            "- MOAA/S 2 (deep sedation) at T+25 (10:30), lighter by T+40 (10:45, MOAA/S 4)\n\
             - SpO2 90% low at T+27 (10:32), back above alert level by T+35 (10:40, SpO2 94%)\n\
             - SpO2 89% low at T+30 (10:35), back above alert level by T+35 (10:40, SpO2 94%)"
        );
        let mut unresolved = lines.clone();
        unresolved.truncate(4);
        let source = NoteSource {
            lines: &unresolved,
            ..source
        };
        assert_eq!(
            draft(&source, "{{alerts}}").unwrap(),
            "- MOAA/S 2 (deep sedation) at T+25 (10:30), not resolved in the record\n\
             - SpO2 90% low at T+27 (10:32), not resolved in the record"
        );
        // Without an intention on the session, the intention entry of the record is used.
        let dosing = Session {
            intention: None,
            ..dosing.clone()
        };
        let source = NoteSource {
            dosing: &dosing,
            lines: &lines,
            ..source
        };
        assert_eq!(
            draft(&source, "{{intention}}").unwrap(),
            "to let the sadness be there"
        );
    }
}
