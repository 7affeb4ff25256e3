//! What one line of the chart holds: vitals, a sedation score, a dose, an observation,
//! a correction or the end of a session. Pure data; the store decides how it is kept.

use serde::{Deserialize, Serialize};
use std::fmt;

/// What an entry whose content no longer decodes says, after "entry N".
pub const UNREADABLE: &str = "cannot be read (damaged)";

/// The typed content of one chart entry. Stored as JSON; `kind()` is stored beside it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Payload {
    Vitals(VitalSigns),
    Sedation(Sedation),
    /// A CADSS-6 dissociation score (the short form used with esketamine).
    Dissociation(Dissociation),
    /// Respiratory status: breathing unremarkable, or respiratory depression.
    Respiration(Respiration),
    Dose(Dose),
    Observation(Observation),
    /// Withdraws the entry it corrects; the reason lives on the entry.
    Strike,
    /// The clinician saw a caution (e.g. pre-dose BP) and records having weighed it.
    Acknowledgement(Acknowledgement),
    /// Modified Aldrete discharge score.
    Aldrete(AldreteScore),
    /// Who takes the patient home (the patient may not drive after ketamine).
    RideHome(RideHome),
    /// The clinician judges the patient ready to leave; the event time is when.
    PatientReady,
    /// A completed outcome questionnaire (PHQ-9, GAD-7, PCL-5).
    Measure(super::measures::MeasureResponse),
    /// A structured suicide risk assessment was done (e.g. C-SSRS); clears a PHQ-9 item 9
    /// safety flag.
    RiskAssessment(RiskAssessment),
    /// One intake screening item and its answer.
    Screening(super::screening::ScreeningAnswer),
    /// The clinician's eligibility decision and reason.
    Eligibility(super::screening::EligibilityDecision),
    /// The patient's intention, set in preparation; carried into the dosing sessions.
    Intention(Text),
    /// Set and setting agreed in preparation (music, eye mask, ...).
    Setting(Text),
    /// Informed consent recorded.
    Consent(Text),
    /// The clinician ended the session; `reason` explains an end that went against a
    /// discharge reminder (before the minimum observation, no ride, low Aldrete).
    SessionEnd(SessionEnd),
    /// The session's Spravato REMS Patient Monitoring Form was submitted (charted after the
    /// fact, usually once the session has ended; a correction amends it with a reason).
    RemsSubmitted(RemsSubmission),
    /// A second clinician saw a dose given and records it: authored by the witness, pointing
    /// at the dose. Ketamine is Schedule III in the US (21 CFR 1308.13); each dose given and
    /// its waste are recorded, commonly witnessed by a second licensed person (21 CFR 1304.22;
    /// clinical.md section 3).
    Witness(Witness),
    /// What was left of a controlled substance, wasted in front of a witness (21 CFR
    /// 1304.22(c): each disposal, its date, manner and quantity; clinical.md section 8).
    Waste(super::stock::Waste),
    /// An entry whose stored content no longer decodes (damaged, or changed behind
    /// kapchart's back): shown and exported as "entry N cannot be read (damaged)" with the
    /// rest of its session, and named by `verify`. Never written: only read.
    #[serde(skip)]
    Unreadable(super::EntryId),
}

impl Payload {
    /// What a dose or a waste drew from the controlled-substance stock (nothing for any
    /// other entry).
    pub fn drawn(&self) -> &[super::stock::Draw] {
        match self {
            Payload::Dose(d) => &d.drawn,
            Payload::Waste(w) => &w.drawn,
            _ => &[],
        }
    }

    /// The kind as stored in the `entries.kind` column and shown in the timeline.
    pub fn kind(&self) -> &'static str {
        match self {
            Payload::Vitals(_) => "vitals",
            Payload::Sedation(_) => "sedation",
            Payload::Dissociation(_) => "dissociation",
            Payload::Respiration(_) => "respiration",
            Payload::Dose(_) => "dose",
            Payload::Observation(_) => "observation",
            Payload::Strike => "strike",
            Payload::Acknowledgement(_) => "acknowledgement",
            Payload::Aldrete(_) => "aldrete",
            Payload::RideHome(_) => "ride-home",
            Payload::PatientReady => "patient-ready",
            Payload::Measure(_) => "measure",
            Payload::RiskAssessment(_) => "risk-assessment",
            Payload::Screening(_) => "screening",
            Payload::Eligibility(_) => "eligibility",
            Payload::Intention(_) => "intention",
            Payload::Setting(_) => "setting",
            Payload::Consent(_) => "consent",
            Payload::SessionEnd(_) => "session-end",
            Payload::RemsSubmitted(_) => "rems-submitted",
            Payload::Witness(_) => "witness",
            Payload::Waste(_) => "waste",
            Payload::Unreadable(_) => "unreadable",
        }
    }
}

/// One set of vital signs read at one moment. At least one field is present.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VitalSigns {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bp: Option<BloodPressure>,
    /// Heart rate, beats per minute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hr: Option<u16>,
    /// Peripheral oxygen saturation, percent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spo2: Option<u8>,
    /// Respiratory rate, breaths per minute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rr: Option<u16>,
    /// Body temperature in degrees Celsius, one decimal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temp_c: Option<f64>,
}

impl VitalSigns {
    pub fn is_empty(&self) -> bool {
        self.bp.is_none()
            && self.hr.is_none()
            && self.spo2.is_none()
            && self.rr.is_none()
            && self.temp_c.is_none()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BloodPressure {
    pub systolic: u16,
    pub diastolic: u16,
}

/// MOAA/S, the Modified Observer's Assessment of Alertness/Sedation (Chernik 1990):
/// 5 responds readily to name ... 0 no response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sedation {
    pub moaas: u8,
}

/// CADSS-6, the six-item short form of the Clinician-Administered Dissociative States Scale
/// used with esketamine: items 1, 2, 6, 7, 15 and 22 of the 23-item CADSS (Rodrigues et al.,
/// J Affect Disord 2021;282:160; not validated as a stand-alone scale). Each item is scored
/// from 0 up to `[measures] cadss6_item_max` (0-4 in the reference, marked unconfirmed there:
/// clinical.md section 3). The items are kept in that order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dissociation {
    pub cadss6: [u8; 6],
}

impl Dissociation {
    pub fn total(&self) -> u16 {
        self.cadss6.iter().map(|i| u16::from(*i)).sum()
    }
}

/// Respiratory status, charted alongside SpO2 and RR: the Spravato REMS (modified 31 Dec
/// 2024) monitors until respiratory depression has resolved (clinical.md section 2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Respiration {
    /// True when the clinician sees respiratory depression.
    pub depressed: bool,
    /// What was seen (shallow breathing, apnoea, what was done), when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DoseUnit {
    Mg,
    Mcg,
    MgPerKg,
}

impl DoseUnit {
    pub fn label(self) -> &'static str {
        match self {
            DoseUnit::Mg => "mg",
            DoseUnit::Mcg => "mcg",
            DoseUnit::MgPerKg => "mg/kg",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Route {
    /// Intravenous
    IV,
    /// Intramuscular
    IM,
    /// Intranasal
    IN,
    /// Sublingual
    SL,
    /// Oral
    PO,
}

impl Route {
    pub const ALL: [Route; 5] = [Route::IV, Route::IM, Route::IN, Route::SL, Route::PO];

    pub fn label(self) -> &'static str {
        match self {
            Route::IV => "IV",
            Route::IM => "IM",
            Route::IN => "IN",
            Route::SL => "SL",
            Route::PO => "PO",
        }
    }
}

/// A drug given. `amount` and `unit` are what the clinician typed; `total_mg` is the dose
/// in milligrams (from the patient's weight, `weight_kg`, when the unit is mg/kg).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dose {
    pub drug: String,
    pub amount: f64,
    pub unit: DoseUnit,
    pub route: Route,
    /// Infusion duration in minutes, when the dose ran over time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub over_min: Option<u32>,
    pub total_mg: f64,
    /// The weight the mg/kg dose was computed from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight_kg: Option<f64>,
    /// Single-use devices the dose took, for a drug given by device (Spravato: one 28 mg
    /// intranasal device per 2 sprays; `[alerts.doses.esketamine.IN] device_mg`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub devices: Option<u8>,
    /// The manufacturer's lot number, as printed on the package (the REMS form asks for it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lot: Option<String>,
    /// The container named on the line (`vial V12`), before it is drawn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vial: Option<super::stock::ContainerId>,
    /// What the dose took from the controlled-substance stock, filled in when charted
    /// (`app::stock`): the container (or devices) and the mg from each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drawn: Vec<super::stock::Draw>,
}

/// Free text, with its `#tags` and "patient quotes" pulled out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observation {
    pub text: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub quotes: Vec<String>,
}

/// A caution the clinician saw and weighed: which entry, which flag, and what they decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acknowledgement {
    pub entry: i64,
    pub flag: super::thresholds::FlagCode,
    pub note: String,
}

/// Modified Aldrete score: five items, each 0-2, total 0-10 (clinical.md section 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AldreteScore {
    /// Moves 4 limbs 2 / 2 limbs 1 / none 0.
    pub activity: u8,
    /// Breathes deeply and coughs freely 2 / dyspnoea or shallow 1 / apnoeic 0.
    pub respiration: u8,
    /// BP within 20 mmHg of pre-sedation 2 / 20-50 mmHg 1 / beyond 50 mmHg 0.
    pub circulation: u8,
    /// Fully awake 2 / arousable on calling 1 / not responding 0.
    pub consciousness: u8,
    /// SpO2 > 92% on room air 2 / needs O2 to keep > 90% 1 / < 90% even with O2 0.
    pub spo2: u8,
}

impl AldreteScore {
    pub fn total(&self) -> u8 {
        self.activity + self.respiration + self.circulation + self.consciousness + self.spo2
    }
}

/// Free text with a meaning given by the payload kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Text {
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskAssessment {
    /// What was done and found, e.g. "C-SSRS screen: no ideation; safety plan reviewed".
    pub outcome: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RideHome {
    pub who: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionEnd {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// When a session's REMS Patient Monitoring Form was submitted, and the reference the REMS
/// gave (a confirmation number, a fax receipt), when there is one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemsSubmission {
    pub on: chrono::NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// The dose a witness saw given: the entry id of the dose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Witness {
    pub entry: i64,
}

/// Formats a number with at most `decimals` decimals and no trailing zeros.
pub fn trim_number(value: f64, decimals: usize) -> String {
    let s = format!("{value:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

impl fmt::Display for VitalSigns {
    /// "BP 128/82 · HR 74 · SpO2 97% · RR 14 · T 36.8 °C"
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(bp) = self.bp {
            parts.push(format!("BP {}/{}", bp.systolic, bp.diastolic));
        }
        if let Some(hr) = self.hr {
            parts.push(format!("HR {hr}"));
        }
        if let Some(spo2) = self.spo2 {
            parts.push(format!("SpO2 {spo2}%"));
        }
        if let Some(rr) = self.rr {
            parts.push(format!("RR {rr}"));
        }
        if let Some(t) = self.temp_c {
            parts.push(format!("T {} °C", trim_number(t, 1)));
        }
        f.write_str(&parts.join(" · "))
    }
}

impl fmt::Display for Dose {
    /// "ketamine 0.5 mg/kg IV over 40 min (35 mg)"
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {}",
            self.drug,
            trim_number(self.amount, 3),
            self.unit.label(),
            self.route.label()
        )?;
        if let Some(m) = self.over_min {
            write!(f, " over {m} min")?;
        }
        if self.unit != DoseUnit::Mg {
            write!(f, " ({} mg)", trim_number(self.total_mg, 2))?;
        }
        match self.devices {
            Some(1) => f.write_str(", 1 device")?,
            Some(n) => write!(f, ", {n} devices")?,
            None => {}
        }
        if let Some(lot) = &self.lot {
            write!(f, ", lot {lot}")?;
        }
        write_drawn(f, &self.drawn, self.vial)
    }
}

/// ", from V12" (or "V12 V13" for devices), after what a dose or waste took; the container
/// named on a line not yet drawn reads the same.
fn write_drawn(
    f: &mut fmt::Formatter<'_>,
    drawn: &[super::stock::Draw],
    vial: Option<super::stock::ContainerId>,
) -> fmt::Result {
    if drawn.is_empty() {
        if let Some(v) = vial {
            write!(f, ", from {v}")?;
        }
        return Ok(());
    }
    let ids: Vec<String> = drawn.iter().map(|d| d.container.to_string()).collect();
    write!(f, ", from {}", ids.join(" "))
}

impl fmt::Display for super::stock::Waste {
    /// "ketamine 10 mg, from V12 (drug disposal pouch)"
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} mg", self.drug, trim_number(self.mg, 3))?;
        write_drawn(f, &self.drawn, self.vial)?;
        if !self.manner.is_empty() {
            write!(f, " ({})", self.manner)?;
        }
        Ok(())
    }
}

impl fmt::Display for Payload {
    /// The one-line summary used by the timeline, the CLI and the entry preview.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Payload::Unreadable(id) => write!(f, "entry {id} {UNREADABLE}"),
            Payload::Vitals(v) => write!(f, "{v}"),
            Payload::Sedation(s) => write!(f, "MOAA/S {}", s.moaas),
            Payload::Dissociation(d) => {
                let items: Vec<String> = d.cadss6.iter().map(u8::to_string).collect();
                write!(f, "CADSS-6 {} (items {})", d.total(), items.join(" "))
            }
            Payload::Respiration(r) => {
                f.write_str(if r.depressed {
                    "Respiration: depressed"
                } else {
                    "Respiration: ok"
                })?;
                if let Some(n) = &r.note {
                    write!(f, ": {n}")?;
                }
                Ok(())
            }
            Payload::Dose(d) => write!(f, "Dose {d}"),
            Payload::Observation(o) => write!(f, "{}", o.text),
            Payload::Strike => f.write_str("struck"),
            Payload::Acknowledgement(a) => {
                write!(f, "Acknowledged #{} {}: {}", a.entry, a.flag.noun(), a.note)
            }
            Payload::Aldrete(a) => write!(
                f,
                "Aldrete {}/10 (activity {}, respiration {}, circulation {}, consciousness {}, SpO2 {})",
                a.total(),
                a.activity,
                a.respiration,
                a.circulation,
                a.consciousness,
                a.spo2
            ),
            Payload::RideHome(r) => write!(f, "Ride home: {}", r.who),
            Payload::PatientReady => f.write_str("Patient ready to leave"),
            Payload::Measure(m) => write!(f, "{} {} ({})", m.instrument, m.total, m.band),
            Payload::RiskAssessment(r) => write!(f, "Risk assessment: {}", r.outcome),
            Payload::Screening(s) => {
                let answer = match s.answer {
                    super::screening::Answer::Yes => "yes",
                    super::screening::Answer::No => "no",
                    super::screening::Answer::Unknown => "unknown",
                };
                let item = serde_json::to_value(s.item)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default();
                write!(f, "Screening {item}: {answer}")?;
                if let Some(n) = &s.note {
                    write!(f, " ({n})")?;
                }
                Ok(())
            }
            Payload::Eligibility(e) => {
                let decision = match e.decision {
                    super::screening::Decision::Eligible => "eligible",
                    super::screening::Decision::NotEligible => "not eligible",
                    super::screening::Decision::Deferred => "deferred",
                };
                write!(
                    f,
                    "Eligibility (clinician's decision): {decision}: {}",
                    e.reason
                )
            }
            Payload::Intention(t) => write!(f, "Intention: {}", t.text),
            Payload::Setting(t) => write!(f, "Set and setting: {}", t.text),
            Payload::Consent(t) => write!(f, "Consent: {}", t.text),
            Payload::SessionEnd(SessionEnd { reason: None }) => f.write_str("Session ended"),
            Payload::SessionEnd(SessionEnd { reason: Some(r) }) => {
                write!(f, "Session ended (reason: {r})")
            }
            Payload::RemsSubmitted(r) => {
                write!(f, "REMS monitoring form submitted on {}", r.on)?;
                if let Some(reference) = &r.reference {
                    write!(f, " (ref {reference})")?;
                }
                Ok(())
            }
            Payload::Witness(w) => write!(f, "Witnessed dose #{}", w.entry),
            Payload::Waste(w) => write!(f, "Wasted {w}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vitals_summary_reads_like_a_flowsheet_row() {
        let v = VitalSigns {
            bp: Some(BloodPressure {
                systolic: 128,
                diastolic: 82,
            }),
            hr: Some(74),
            temp_c: Some(37.0),
            ..Default::default()
        };
        assert_eq!(v.to_string(), "BP 128/82 · HR 74 · T 37 °C");
    }

    #[test]
    fn weight_based_dose_shows_the_milligrams() {
        let d = Dose {
            drug: "ketamine".into(),
            amount: 0.5,
            unit: DoseUnit::MgPerKg,
            route: Route::IV,
            over_min: Some(40),
            total_mg: 35.0,
            weight_kg: Some(70.0),
            devices: None,
            lot: None,
            vial: None,
            drawn: Vec::new(),
        };
        assert_eq!(d.to_string(), "ketamine 0.5 mg/kg IV over 40 min (35 mg)");
    }

    #[test]
    fn a_device_dose_shows_its_devices_and_lot() {
        let d = Dose {
            drug: "esketamine".into(),
            amount: 56.0,
            unit: DoseUnit::Mg,
            route: Route::IN,
            over_min: None,
            total_mg: 56.0,
            weight_kg: None,
            devices: Some(2),
            lot: Some("ABC123".into()),
            vial: None,
            drawn: Vec::new(),
        };
        assert_eq!(d.to_string(), "esketamine 56 mg IN, 2 devices, lot ABC123");
    }

    #[test]
    fn payload_json_carries_its_kind() {
        let p = Payload::Sedation(Sedation { moaas: 3 });
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(json, r#"{"kind":"sedation","moaas":3}"#);
        assert_eq!(serde_json::from_str::<Payload>(&json).unwrap(), p);
    }
}
