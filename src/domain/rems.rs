//! The Spravato REMS Patient Monitoring Form, built from the record: every field the form
//! asks for, answered from the session's chart, the patient, the medication review and the
//! clinic's settings, or listed as missing with what would answer it. Never guessed.
//!
//! The form (clinical.md section 2, Janssen form copies and the J&J walkthrough): patient
//! name, birth date and sex; first treatment or not; concomitant medications by class;
//! monitoring provider and setting; treatment date; dose (56 / 84 / other) and lot; total
//! minutes from the first device to the end of monitoring; when the patient would have been
//! ready to leave without the 2-hour minimum; vital signs in range before dosing and at the
//! end; BP before dosing, at about 40 minutes and before the end; sedation, dissociation and
//! respiratory depression during the session. Newer versions of the form add items, so the
//! field list is data ([`FORM_FIELDS`]): a new item is a new key there and its answer here.
//!
//! It is due within `deadline_days` calendar days of the treatment (7: Osmind support page,
//! June 2026, on the REMS; clinical.md section 2); inpatient settings are exempt.

mod changes;
pub mod checks;

pub use changes::{ChangedField, changed_since};

use super::chart::SessionChart;
use super::medications::{self, MedClass};
use super::protocol::CheckKind;
use super::{BloodPressure, ChartLine, Entry, Patient, Payload};
use chrono::{DateTime, Days, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};

/// The clinic's REMS settings, the `[rems]` table of the config (unknown keys refused).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemsRules {
    /// Whether the clinic is an outpatient setting: the form is due only there.
    pub outpatient: bool,
    /// Calendar days from the treatment date by which the form is due.
    pub deadline_days: u32,
    /// The drugs whose sessions are REMS treatments (esketamine).
    pub drugs: Vec<String>,
    /// The monitoring provider and setting, as the form asks for them; "" when not set.
    pub provider_name: String,
    pub provider_phone: String,
    pub provider_email: String,
    pub setting_name: String,
    pub setting_address: String,
    /// The BP "at about 40 minutes": the reading that closed the protocol's BP check at this
    /// minute, else the BP nearest to it within `bp_window_min` minutes either side.
    pub bp_at_min: u32,
    pub bp_window_min: u32,
    /// A MOAA/S at or below this counts as sedation on the form.
    pub sedation_moaas_at_or_below: u8,
    /// A CADSS-6 total at or above this counts as dissociation on the form.
    pub dissociation_cadss6_at_or_above: u16,
    /// The checks a REMS session gets before discharge, on top of `[protocol]`: any of
    /// "bp", "sedation", "dissociation", "respiration".
    pub discharge_checks: Vec<String>,
    /// The before-discharge checks are due when the minimum observation ends; entries from
    /// this many minutes before then count for them.
    pub discharge_window_min: u32,
}

impl RemsRules {
    /// Whether a dose of `drug` makes its session a REMS treatment (names without case).
    pub fn is_rems_drug(&self, drug: &str) -> bool {
        self.drugs
            .iter()
            .any(|d| d.trim().eq_ignore_ascii_case(drug.trim()))
    }

    /// The last day the form may be submitted for a treatment on `treated`.
    pub fn deadline(&self, treated: NaiveDate) -> NaiveDate {
        treated
            .checked_add_days(Days::new(u64::from(self.deadline_days)))
            .unwrap_or(treated)
    }

    /// Checks the settings for sense: a deadline of at least a day, a drug, known checks.
    pub fn validate(&self) -> Result<(), String> {
        if self.deadline_days == 0 {
            return Err("[rems] deadline_days must be at least 1".into());
        }
        if self.drugs.iter().all(|d| d.trim().is_empty()) {
            return Err("[rems] drugs: name the REMS drug, e.g. [\"esketamine\"]".into());
        }
        for c in &self.discharge_checks {
            if checks::DischargeCheck::from_name(c).is_none() {
                return Err(format!(
                    "[rems] discharge_checks: \"{c}\" is not a check; expected bp, sedation, dissociation or respiration"
                ));
            }
        }
        Ok(())
    }
}

/// The form's fields in its order, as (key, label). The keys are what `--json` gives.
pub const FORM_FIELDS: &[(&str, &str)] = &[
    ("patient_name", "Patient name"),
    ("patient_dob", "Date of birth"),
    ("patient_sex", "Sex"),
    ("first_treatment", "First treatment"),
    ("benzodiazepines", "Benzodiazepines"),
    (
        "sedative_hypnotics",
        "Non-benzodiazepine sedative hypnotics",
    ),
    ("psychostimulants", "Psychostimulants"),
    ("maois", "MAOIs"),
    ("opioids", "Opioids"),
    ("provider_name", "Monitoring provider"),
    ("provider_phone", "Provider phone"),
    ("provider_email", "Provider email"),
    ("setting_name", "Setting"),
    ("setting_address", "Setting address"),
    ("treatment_date", "Treatment date"),
    ("dose", "Dose"),
    ("lot", "Lot number"),
    ("total_minutes", "Total treatment time"),
    ("ready_minutes", "Ready to leave without the 2-hour minimum"),
    (
        "vitals_in_range_before",
        "Vital signs in range before dosing",
    ),
    ("vitals_in_range_end", "Vital signs in range before the end"),
    ("bp_before", "BP before dosing"),
    ("bp_at_40", "BP at about 40 minutes"),
    ("bp_end", "BP before the end"),
    ("sedation", "Sedation"),
    ("dissociation", "Dissociation"),
    ("respiratory_depression", "Respiratory depression"),
];

/// One answer of the form.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Answer {
    Text(String),
    YesNo(bool),
    Minutes(i64),
    Date(NaiveDate),
    Bp {
        systolic: u16,
        diastolic: u16,
        at: DateTime<FixedOffset>,
        t_plus_min: i64,
    },
}

impl Answer {
    /// The answer as written on the form: Y/N, "95 min", "128/82 (10:05, T-5)".
    pub fn text(&self) -> String {
        match self {
            Answer::Text(t) => t.clone(),
            Answer::YesNo(true) => "Y".into(),
            Answer::YesNo(false) => "N".into(),
            Answer::Minutes(m) => format!("{m} min"),
            Answer::Date(d) => d.format("%Y-%m-%d").to_string(),
            Answer::Bp {
                systolic,
                diastolic,
                at,
                t_plus_min,
            } => {
                let t = super::since_dose::t_plus_minutes(*t_plus_min);
                format!("{systolic}/{diastolic} ({}, {t})", at.format("%H:%M"))
            }
        }
    }
}

/// One field: its key and label, and its answer or why it is missing.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub key: &'static str,
    pub label: &'static str,
    /// The answer, or what would answer it ("no BP charted before the first device").
    pub answer: Result<Answer, String>,
}

/// What the form is built from besides the session's chart and the clinic's settings.
#[derive(Debug, Clone, Copy)]
pub struct FormInputs<'a> {
    pub patient: &'a Patient,
    /// The patient's sex as recorded (`patient update --sex`).
    pub sex: Option<&'a str>,
    /// The medication review as it stands (`patient update --med-add`).
    pub medications: &'a [String],
    /// The patient's REMS treatments before this session.
    pub earlier_treatments: usize,
}

/// The form of one REMS session.
#[derive(Debug, Clone, PartialEq)]
pub struct RemsForm {
    pub session: i64,
    pub treatment_date: NaiveDate,
    pub deadline: NaiveDate,
    pub fields: Vec<Field>,
}

impl RemsForm {
    /// The fields the record cannot answer.
    pub fn missing(&self) -> impl Iterator<Item = &Field> {
        self.fields.iter().filter(|f| f.answer.is_err())
    }

    pub fn field(&self, key: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.key == key)
    }
}

/// Why a session has no REMS form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotRems {
    /// Not a dosing session.
    NotDosing,
    /// A dosing session without a dose of a REMS drug that stands.
    NoRemsDose,
}

/// The doses of REMS drugs that stand, in event-time order.
pub fn rems_doses<'c>(
    chart: &'c SessionChart,
    rules: &RemsRules,
) -> Vec<(&'c Entry, &'c super::Dose)> {
    chart
        .current()
        .filter_map(|l| match &l.entry.payload {
            Payload::Dose(d) if rules.is_rems_drug(&d.drug) => Some((&l.entry, d)),
            _ => None,
        })
        .collect()
}

/// What the live header says of a REMS session's doses: "2 devices, lot ABC123" (every lot
/// charted; "lot missing" when a dose has none). None when the session gave no REMS drug.
pub fn devices_and_lots(chart: &SessionChart, rules: &RemsRules) -> Option<String> {
    let doses = rems_doses(chart, rules);
    if doses.is_empty() {
        return None;
    }
    let devices: u32 = doses
        .iter()
        .map(|(_, d)| u32::from(d.devices.unwrap_or(0)))
        .sum();
    let mut out = match devices {
        0 => format!(
            "{} mg",
            super::entry::trim_number(doses.iter().map(|(_, d)| d.total_mg).sum(), 2)
        ),
        1 => "1 device".to_string(),
        n => format!("{n} devices"),
    };
    match lots(&doses) {
        Ok(a) => out.push_str(&format!(", lot {}", a.text())),
        Err(_) => out.push_str(", lot missing"),
    }
    Some(out)
}

/// Whether the session is a REMS treatment: a dosing session with a REMS drug dose standing.
pub fn is_rems_session(chart: &SessionChart, rules: &RemsRules) -> bool {
    chart.is_dosing() && !rems_doses(chart, rules).is_empty()
}

/// Builds the form of `chart`'s session at `now` (an open session is read as it stands).
pub fn form(
    chart: &SessionChart,
    rules: &RemsRules,
    inputs: FormInputs<'_>,
    now: DateTime<FixedOffset>,
) -> Result<RemsForm, NotRems> {
    if !chart.is_dosing() {
        return Err(NotRems::NotDosing);
    }
    let doses = rems_doses(chart, rules);
    let (first_entry, _) = *doses.first().ok_or(NotRems::NoRemsDose)?;
    // T+0 is the first device (clinical.md section 2), and the end of monitoring the end of
    // the session's period: both as the chart derives them for every other view.
    let first = chart.first_dose().unwrap_or(first_entry.event_time);
    let treatment_date = first.date_naive();
    let derive = Derive {
        chart,
        rules,
        inputs,
        first,
        end: chart.period().end,
        now,
    };
    let fields = FORM_FIELDS
        .iter()
        .map(|(key, label)| Field {
            key,
            label,
            answer: derive.answer(key, &doses, treatment_date),
        })
        .collect();
    Ok(RemsForm {
        session: chart.session().id,
        treatment_date,
        deadline: rules.deadline(treatment_date),
        fields,
    })
}

struct Derive<'a> {
    chart: &'a SessionChart,
    rules: &'a RemsRules,
    inputs: FormInputs<'a>,
    first: DateTime<FixedOffset>,
    end: Option<DateTime<FixedOffset>>,
    now: DateTime<FixedOffset>,
}

fn setting(value: &str, key: &str) -> Result<Answer, String> {
    let v = value.trim();
    if v.is_empty() {
        Err(format!("not set: {key} in the [rems] table of config.toml"))
    } else {
        Ok(Answer::Text(v.to_string()))
    }
}

impl Derive<'_> {
    fn answer(
        &self,
        key: &str,
        doses: &[(&Entry, &super::Dose)],
        treated: NaiveDate,
    ) -> Result<Answer, String> {
        let p = self.inputs.patient;
        match key {
            "patient_name" => Ok(Answer::Text(p.name.clone())),
            "patient_dob" => Ok(Answer::Date(p.dob)),
            "patient_sex" => self
                .inputs
                .sex
                .map(|s| Answer::Text(s.to_string()))
                .ok_or_else(|| {
                    format!("no sex recorded for the patient (kapchart patient update {} --sex ...)", p.id)
                }),
            "first_treatment" => Ok(Answer::YesNo(self.inputs.earlier_treatments == 0)),
            "benzodiazepines" => self.takes(MedClass::Benzodiazepine),
            "sedative_hypnotics" => self.takes(MedClass::SedativeHypnotic),
            "psychostimulants" => self.takes(MedClass::Psychostimulant),
            "maois" => self.takes(MedClass::Maoi),
            "opioids" => self.takes(MedClass::Opioid),
            "provider_name" => setting(&self.rules.provider_name, "provider_name"),
            "provider_phone" => setting(&self.rules.provider_phone, "provider_phone"),
            "provider_email" => setting(&self.rules.provider_email, "provider_email"),
            "setting_name" => setting(&self.rules.setting_name, "setting_name"),
            "setting_address" => setting(&self.rules.setting_address, "setting_address"),
            "treatment_date" => Ok(Answer::Date(treated)),
            "dose" => Ok(Answer::Text(dose_text(doses))),
            "lot" => lots(doses),
            "total_minutes" => self
                .end
                .map(|e| Answer::Minutes((e - self.first).num_minutes()))
                .ok_or_else(|| "the session has not ended (the end of monitoring)".to_string()),
            "ready_minutes" => self
                .chart
                .discharge_state()
                .ready_at
                .map(|r| Answer::Minutes((r - self.first).num_minutes()))
                .ok_or_else(|| {
                    "no \"patient ready to leave\" charted (the discharge panel, or `ready-to-leave` in the entry bar)".to_string()
                }),
            "vitals_in_range_before" => self
                .baseline()
                .map(|e| Answer::YesNo(!has_alert(e)))
                .ok_or_else(|| "no vitals with a BP charted before the first device".to_string()),
            "vitals_in_range_end" => self
                .last_vitals(false)
                .map(|e| Answer::YesNo(!has_alert(e)))
                .ok_or_else(|| self.why_no_end("vitals")),
            "bp_before" => self
                .baseline()
                .and_then(|e| self.bp_of(e))
                .ok_or_else(|| "no BP charted before the first device".to_string()),
            "bp_at_40" => self.bp_at().ok_or_else(|| {
                format!(
                    "no BP charted within {} min of T+{}",
                    self.rules.bp_window_min, self.rules.bp_at_min
                )
            }),
            "bp_end" => self
                .last_vitals(true)
                .and_then(|e| self.bp_of(e))
                .ok_or_else(|| self.why_no_end("BP")),
            "sedation" => self.during(
                |p| match p {
                    Payload::Sedation(s) => Some(s.moaas <= self.rules.sedation_moaas_at_or_below),
                    _ => None,
                },
                "MOAA/S",
            ),
            "dissociation" => self.during(
                |p| match p {
                    Payload::Dissociation(d) => {
                        Some(d.total() >= self.rules.dissociation_cadss6_at_or_above)
                    }
                    _ => None,
                },
                "CADSS-6",
            ),
            "respiratory_depression" => self.during(
                |p| match p {
                    Payload::Respiration(r) => Some(r.depressed),
                    _ => None,
                },
                "respiratory status (resp ok / resp depressed)",
            ),
            other => Err(format!("kapchart does not know how to answer {other}")),
        }
    }

    fn takes(&self, class: MedClass) -> Result<Answer, String> {
        if self.inputs.medications.is_empty() {
            return Err(format!(
                "no medications recorded for the patient (kapchart patient update {} --med-add ...)",
                self.inputs.patient.id
            ));
        }
        Ok(Answer::YesNo(
            self.inputs
                .medications
                .iter()
                .any(|m| medications::classify(m) == Some(class)),
        ))
    }

    /// The entries that stand, from the first device to the end (or now).
    fn monitored(&self) -> impl Iterator<Item = &ChartLine> {
        let until = self.end.unwrap_or(self.now);
        self.chart
            .current()
            .filter(move |l| l.entry.event_time >= self.first && l.entry.event_time <= until)
    }

    /// The reading that closed the baseline check: the BP before the first device.
    fn baseline(&self) -> Option<&Entry> {
        let by = self
            .chart
            .checks(self.end.unwrap_or(self.now))
            .into_iter()
            .find(|c| c.kind == CheckKind::Baseline)?
            .status
            .closed_by()?;
        self.entry(by)
    }

    fn entry(&self, id: i64) -> Option<&Entry> {
        self.chart
            .lines()
            .iter()
            .find(|l| l.entry.id == id)
            .map(|l| &l.entry)
    }

    fn bp_of(&self, e: &Entry) -> Option<Answer> {
        let Payload::Vitals(v) = &e.payload else {
            return None;
        };
        let BloodPressure {
            systolic,
            diastolic,
        } = v.bp?;
        Some(Answer::Bp {
            systolic,
            diastolic,
            at: e.event_time,
            t_plus_min: (e.event_time - self.first).num_minutes(),
        })
    }

    /// The BP at about 40 minutes: the reading that closed the protocol's BP check at that
    /// minute (Spravato PI 5.6: measure BP about 40 minutes after the dose), else the BP
    /// nearest to it within the window.
    fn bp_at(&self) -> Option<Answer> {
        let minute = self.rules.bp_at_min;
        let closed = self
            .chart
            .checks(self.end.unwrap_or(self.now))
            .into_iter()
            .find(|c| c.kind == CheckKind::BloodPressure && c.t_plus_min == Some(minute))
            .and_then(|c| c.status.closed_by())
            .and_then(|by| self.entry(by));
        if let Some(e) = closed {
            return self.bp_of(e);
        }
        let target = self.first + chrono::Duration::minutes(i64::from(minute));
        let window = i64::from(self.rules.bp_window_min);
        self.monitored()
            .filter(|l| matches!(&l.entry.payload, Payload::Vitals(v) if v.bp.is_some()))
            .map(|l| &l.entry)
            .filter(|e| (e.event_time - target).num_minutes().abs() <= window)
            .min_by_key(|e| ((e.event_time - target).num_seconds().abs(), e.id))
            .and_then(|e| self.bp_of(e))
    }

    /// The last vitals (with a BP when `bp`) after the first device, once the session ended.
    fn last_vitals(&self, bp: bool) -> Option<&Entry> {
        self.end?;
        self.monitored()
            .filter(|l| l.entry.event_time > self.first)
            .filter(|l| matches!(&l.entry.payload, Payload::Vitals(v) if !bp || v.bp.is_some()))
            .map(|l| &l.entry)
            .last()
    }

    fn why_no_end(&self, what: &str) -> String {
        if self.end.is_none() {
            format!("the session has not ended: the {what} before the end is read once it has")
        } else {
            format!("no {what} charted after the first device")
        }
    }

    /// Y when any entry of a kind during the session meets the level, N when entries of that
    /// kind were charted and none does, missing when none was charted.
    fn during(
        &self,
        meets: impl Fn(&Payload) -> Option<bool>,
        what: &str,
    ) -> Result<Answer, String> {
        let seen: Vec<bool> = self
            .monitored()
            .filter_map(|l| meets(&l.entry.payload))
            .collect();
        if seen.is_empty() {
            return Err(format!("no {what} charted after the first device"));
        }
        Ok(Answer::YesNo(seen.into_iter().any(|b| b)))
    }
}

/// An alert (not a record-keeping mark) on the entry, as charted under the clinic's levels.
fn has_alert(e: &Entry) -> bool {
    e.flags.iter().any(|f| f.code.is_alert())
}

/// "56", "84", or "other: 28 mg": the form's dose boxes, from the REMS doses that stand.
fn dose_text(doses: &[(&Entry, &super::Dose)]) -> String {
    let mg: f64 = doses.iter().map(|(_, d)| d.total_mg).sum();
    let devices: u32 = doses
        .iter()
        .map(|(_, d)| u32::from(d.devices.unwrap_or(0)))
        .sum();
    let amount = super::entry::trim_number(mg, 2);
    let devices = match devices {
        0 => String::new(),
        1 => " (1 device)".into(),
        n => format!(" ({n} devices)"),
    };
    match amount.as_str() {
        "56" | "84" => format!("{amount} mg{devices}"),
        _ => format!("other: {amount} mg{devices}"),
    }
}

/// The lot numbers of the REMS doses, or which dose has none.
fn lots(doses: &[(&Entry, &super::Dose)]) -> Result<Answer, String> {
    let mut lots: Vec<&str> = Vec::new();
    for (e, d) in doses {
        match d.lot.as_deref() {
            Some(lot) if !lots.contains(&lot) => lots.push(lot),
            Some(_) => {}
            None => {
                return Err(format!(
                    "no lot charted on the {} dose at {} (entry {}): amend it with `lot LOT`",
                    d.drug,
                    e.event_time.format("%H:%M"),
                    e.id
                ));
            }
        }
    }
    Ok(Answer::Text(lots.join(", ")))
}

/// Where a form stands in the deadline queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormState {
    /// The session is still open.
    ToDo,
    /// Not submitted; due by this day (the deadline, inclusive).
    DueBy(NaiveDate),
    /// Not submitted and the deadline passed: overdue since the day after it.
    OverdueSince(NaiveDate),
    /// Submitted on this day, with the REMS reference when one was charted.
    Submitted {
        on: NaiveDate,
        reference: Option<String>,
    },
}

impl FormState {
    /// Where a form for a treatment on `treated` stands on `today`.
    pub fn of(
        rules: &RemsRules,
        treated: NaiveDate,
        open: bool,
        submitted: Option<&super::entry::RemsSubmission>,
        today: NaiveDate,
    ) -> FormState {
        if let Some(s) = submitted {
            return FormState::Submitted {
                on: s.on,
                reference: s.reference.clone(),
            };
        }
        if open {
            return FormState::ToDo;
        }
        FormState::unsubmitted(rules.deadline(treated), today)
    }

    /// Where a form of an ended session with no submission stands on `today`: due by its
    /// `deadline` (the last day, inclusive), overdue since the day after it. Every view of a
    /// form's deadline (`rems list`, the home screen) says it through here.
    pub fn unsubmitted(deadline: NaiveDate, today: NaiveDate) -> FormState {
        if today <= deadline {
            FormState::DueBy(deadline)
        } else {
            FormState::OverdueSince(deadline.succ_opt().unwrap_or(deadline))
        }
    }

    /// "to do", "due", "overdue", "submitted": what `--json` gives as the state.
    pub fn code(&self) -> &'static str {
        match self {
            FormState::ToDo => "to-do",
            FormState::DueBy(_) => "due",
            FormState::OverdueSince(_) => "overdue",
            FormState::Submitted { .. } => "submitted",
        }
    }
}

impl std::fmt::Display for FormState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FormState::ToDo => f.write_str("to do (session open)"),
            FormState::DueBy(d) => write!(f, "due by {d}"),
            FormState::OverdueSince(d) => write!(f, "overdue since {d}"),
            FormState::Submitted { on, reference } => {
                write!(f, "submitted on {on}")?;
                match reference {
                    Some(r) => write!(f, " (ref {r})"),
                    None => Ok(()),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
