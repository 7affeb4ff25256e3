//! Alert thresholds: values that get a flag on the entry. They never reject a value and never
//! decide anything; the clinician sees the flag and judges. Defaults live in
//! `assets/config.toml` with their sources; a clinic overrides them in its own config.

use super::dose_levels::DoseLevels;
use super::entry::{Payload, VitalSigns};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Why an entry stands out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FlagCode {
    /// Blood pressure at or above the alert level.
    BpHigh,
    /// Blood pressure above the pre-dose caution level before the first dose.
    BpPredose,
    Spo2Low,
    HrHigh,
    HrLow,
    RrLow,
    /// MOAA/S at or below the alert level.
    DeepSedation,
    /// A dose above its drug's and route's alert level (`[alerts.doses]`).
    DoseHigh,
    /// A CADSS-6 total at or above the clinic's alert level.
    Dissociation,
    /// Respiratory depression charted (`resp depressed`).
    RespDepressed,
    /// Written more than the configured time after it happened.
    Late,
    /// A dose of a drug the clinic charts with its lot number, without one
    /// (`[alerts] lot_required_for`).
    LotMissing,
    /// A device charted sooner after the previous one than the rest between devices
    /// (`device_rest_min`).
    DeviceRest,
}

impl FlagCode {
    /// True for flags about the patient's state (as opposed to record-keeping flags).
    pub fn is_alert(self) -> bool {
        !matches!(
            self,
            FlagCode::Late | FlagCode::LotMissing | FlagCode::DeviceRest
        )
    }

    /// What the flag is about, in a word or two: "BP alert", "pre-dose BP caution", "MOAA/S
    /// alert". Names the kind of value, never the value.
    pub fn noun(self) -> &'static str {
        match self {
            FlagCode::BpHigh => "BP alert",
            FlagCode::BpPredose => "pre-dose BP caution",
            FlagCode::Spo2Low => "SpO2 alert",
            FlagCode::HrHigh | FlagCode::HrLow => "HR alert",
            FlagCode::RrLow => "RR alert",
            FlagCode::DeepSedation => "MOAA/S alert",
            FlagCode::DoseHigh => "dose alert",
            FlagCode::Dissociation => "CADSS-6 alert",
            FlagCode::RespDepressed => "respiration alert",
            FlagCode::Late => "late-entry mark",
            FlagCode::LotMissing => "missing lot mark",
            FlagCode::DeviceRest => "device rest mark",
        }
    }

    /// What an acknowledgement records when the clinician writes nothing of their own: the
    /// pre-dose caution was weighed before dosing (Spravato PI 5.6: a decision to delay weighs
    /// benefit against risk); any other alert was seen. Never a decision kapchart makes.
    pub fn default_acknowledgement(self) -> &'static str {
        match self {
            FlagCode::BpPredose => "caution weighed; proceeding",
            _ => "alert seen and weighed",
        }
    }
}

/// A flag stored with an entry: its code and the words shown to the clinician.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flag {
    pub code: FlagCode,
    pub text: String,
}

impl fmt::Display for Flag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let symbol = if self.code.is_alert() { "!" } else { "late" };
        if self.code.is_alert() {
            write!(f, "{symbol} {}", self.text)
        } else {
            f.write_str(&self.text)
        }
    }
}

/// The levels at which kapchart flags a value. Field docs name the default's source; the
/// defaults themselves are in `assets/config.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertThresholds {
    /// Flag when systolic is at or above this (mmHg).
    pub systolic_at_or_above: u16,
    /// Flag when diastolic is at or above this (mmHg).
    pub diastolic_at_or_above: u16,
    /// Before the first dose of a dosing session: "consider delaying" when systolic is above
    /// this (Spravato PI 5.6, "general guide: >140/90 mmHg").
    pub predose_systolic_above: u16,
    pub predose_diastolic_above: u16,
    /// Flag SpO2 below this (%).
    pub spo2_below: u8,
    pub hr_above: u16,
    pub hr_below: u16,
    pub rr_below: u16,
    /// Flag MOAA/S at or below this (0-5).
    pub moaas_at_or_below: u8,
    /// Dose plausibility levels per drug and route (`[alerts.doses.DRUG.ROUTE]`): above the
    /// alert level a dose is flagged; above the ceiling the grammar refuses it as a typo.
    #[serde(default)]
    pub doses: DoseLevels,
    /// Drugs whose doses are charted with a lot number: a dose without one is marked (the
    /// Spravato REMS Patient Monitoring Form asks for the lot, clinical.md section 2).
    #[serde(default)]
    pub lot_required_for: Vec<String>,
    /// Flag a CADSS-6 total at or above this (0-24 with items scored 0-4). No published
    /// cut-off: unset, no CADSS-6 total is flagged (see assets/config.toml).
    #[serde(default)]
    pub cadss6_total_at_or_above: Option<u16>,
    /// Flag respiratory depression charted with `resp depressed` (Spravato REMS, modified
    /// 31 Dec 2024: monitor until respiratory depression resolves).
    #[serde(default = "flag_by_default")]
    pub respiratory_depression: bool,
}

fn flag_by_default() -> bool {
    true
}

impl AlertThresholds {
    /// The flags a payload earns. `before_first_dose` is true for vitals in a dosing session
    /// taken before any dose was given.
    pub fn flags_for(&self, payload: &Payload, before_first_dose: bool) -> Vec<Flag> {
        match payload {
            Payload::Vitals(v) => self.vital_flags(v, before_first_dose),
            Payload::Sedation(s) if s.moaas <= self.moaas_at_or_below => vec![Flag {
                code: FlagCode::DeepSedation,
                text: format!(
                    "MOAA/S {} (alert at <= {})",
                    s.moaas, self.moaas_at_or_below
                ),
            }],
            Payload::Dissociation(d)
                if self
                    .cadss6_total_at_or_above
                    .is_some_and(|level| d.total() >= level) =>
            {
                vec![Flag {
                    code: FlagCode::Dissociation,
                    text: format!(
                        "CADSS-6 {} (alert at >= {})",
                        d.total(),
                        self.cadss6_total_at_or_above.unwrap_or_default()
                    ),
                }]
            }
            Payload::Respiration(r) if r.depressed && self.respiratory_depression => {
                vec![Flag {
                    code: FlagCode::RespDepressed,
                    text: "respiratory depression".to_string(),
                }]
            }
            Payload::Dose(d) => {
                let mut flags: Vec<Flag> = self
                    .doses
                    .alert(d)
                    .map(|text| Flag {
                        code: FlagCode::DoseHigh,
                        text,
                    })
                    .into_iter()
                    .collect();
                if d.lot.is_none() && self.lot_required(&d.drug) {
                    flags.push(Flag {
                        code: FlagCode::LotMissing,
                        text: format!(
                            "lot number missing: {} is charted with its lot (add lot LOT)",
                            d.drug
                        ),
                    });
                }
                flags
            }
            _ => Vec::new(),
        }
    }

    /// Whether the clinic charts this drug's doses with a lot number.
    pub fn lot_required(&self, drug: &str) -> bool {
        self.lot_required_for
            .iter()
            .any(|d| d.trim().eq_ignore_ascii_case(drug.trim()))
    }

    fn vital_flags(&self, v: &VitalSigns, before_first_dose: bool) -> Vec<Flag> {
        let mut flags = Vec::new();
        let mut flag = |code, text: String| flags.push(Flag { code, text });
        if let Some(bp) = v.bp {
            if bp.systolic >= self.systolic_at_or_above
                || bp.diastolic >= self.diastolic_at_or_above
            {
                flag(
                    FlagCode::BpHigh,
                    format!(
                        "BP {}/{} high (alert at >= {}/{})",
                        bp.systolic,
                        bp.diastolic,
                        self.systolic_at_or_above,
                        self.diastolic_at_or_above
                    ),
                );
            } else if before_first_dose
                && (bp.systolic > self.predose_systolic_above
                    || bp.diastolic > self.predose_diastolic_above)
            {
                flag(
                    FlagCode::BpPredose,
                    format!(
                        "BP {}/{} before dosing, above {}/{}: consider delaying",
                        bp.systolic,
                        bp.diastolic,
                        self.predose_systolic_above,
                        self.predose_diastolic_above
                    ),
                );
            }
        }
        if let Some(spo2) = v.spo2
            && spo2 < self.spo2_below
        {
            flag(
                FlagCode::Spo2Low,
                format!("SpO2 {spo2}% low (alert below {}%)", self.spo2_below),
            );
        }
        if let Some(hr) = v.hr {
            if hr > self.hr_above {
                flag(
                    FlagCode::HrHigh,
                    format!("HR {hr} high (alert above {})", self.hr_above),
                );
            } else if hr < self.hr_below {
                flag(
                    FlagCode::HrLow,
                    format!("HR {hr} low (alert below {})", self.hr_below),
                );
            }
        }
        if let Some(rr) = v.rr
            && rr < self.rr_below
        {
            flag(
                FlagCode::RrLow,
                format!("RR {rr} low (alert below {})", self.rr_below),
            );
        }
        flags
    }
}

#[cfg(test)]
pub(crate) fn defaults_for_tests() -> AlertThresholds {
    AlertThresholds {
        systolic_at_or_above: 160,
        diastolic_at_or_above: 100,
        predose_systolic_above: 140,
        predose_diastolic_above: 90,
        spo2_below: 92,
        hr_above: 120,
        hr_below: 50,
        rr_below: 8,
        moaas_at_or_below: 2,
        doses: DoseLevels::default(),
        lot_required_for: vec!["esketamine".into()],
        cadss6_total_at_or_above: Some(4),
        respiratory_depression: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::entry::{BloodPressure, Sedation};

    fn vitals(f: impl FnOnce(&mut VitalSigns)) -> Payload {
        let mut v = VitalSigns::default();
        f(&mut v);
        Payload::Vitals(v)
    }

    fn bp(s: u16, d: u16) -> Payload {
        vitals(|v| {
            v.bp = Some(BloodPressure {
                systolic: s,
                diastolic: d,
            })
        })
    }

    fn codes(p: &Payload, before_first_dose: bool) -> Vec<FlagCode> {
        defaults_for_tests()
            .flags_for(p, before_first_dose)
            .into_iter()
            .map(|f| f.code)
            .collect()
    }

    #[test]
    fn bp_alert_at_each_boundary() {
        assert!(codes(&bp(159, 99), false).is_empty());
        assert_eq!(codes(&bp(160, 80), false), [FlagCode::BpHigh]);
        assert_eq!(codes(&bp(130, 100), false), [FlagCode::BpHigh]);
    }

    #[test]
    fn predose_caution_only_before_the_first_dose() {
        assert!(codes(&bp(140, 90), true).is_empty());
        assert_eq!(codes(&bp(141, 80), true), [FlagCode::BpPredose]);
        assert_eq!(codes(&bp(130, 91), true), [FlagCode::BpPredose]);
        assert!(codes(&bp(141, 91), false).is_empty());
        // The higher alert wins; one flag, not two.
        assert_eq!(codes(&bp(170, 95), true), [FlagCode::BpHigh]);
    }

    #[test]
    fn spo2_hr_rr_boundaries() {
        assert!(codes(&vitals(|v| v.spo2 = Some(92)), false).is_empty());
        assert_eq!(
            codes(&vitals(|v| v.spo2 = Some(91)), false),
            [FlagCode::Spo2Low]
        );
        assert!(codes(&vitals(|v| v.hr = Some(120)), false).is_empty());
        assert_eq!(
            codes(&vitals(|v| v.hr = Some(121)), false),
            [FlagCode::HrHigh]
        );
        assert!(codes(&vitals(|v| v.hr = Some(50)), false).is_empty());
        assert_eq!(
            codes(&vitals(|v| v.hr = Some(49)), false),
            [FlagCode::HrLow]
        );
        assert!(codes(&vitals(|v| v.rr = Some(8)), false).is_empty());
        assert_eq!(codes(&vitals(|v| v.rr = Some(7)), false), [FlagCode::RrLow]);
    }

    #[test]
    fn several_vitals_several_flags() {
        let p = vitals(|v| {
            v.spo2 = Some(88);
            v.rr = Some(6);
            v.hr = Some(130);
        });
        assert_eq!(
            codes(&p, false),
            [FlagCode::Spo2Low, FlagCode::HrHigh, FlagCode::RrLow]
        );
    }

    #[test]
    fn deep_sedation_at_or_below_two() {
        let s = |n| Payload::Sedation(Sedation { moaas: n });
        assert!(codes(&s(3), false).is_empty());
        assert_eq!(codes(&s(2), false), [FlagCode::DeepSedation]);
        assert_eq!(codes(&s(0), false), [FlagCode::DeepSedation]);
    }

    #[test]
    fn a_dose_above_its_alert_level_is_flagged() {
        use crate::domain::entry::{Dose, DoseUnit, Route};
        let mut t = defaults_for_tests();
        t.doses = toml::from_str("[esketamine.IN]\nalert_above_mg = 84\n").unwrap();
        let d = |mg: f64| {
            Payload::Dose(Dose {
                drug: "esketamine".into(),
                amount: mg,
                unit: DoseUnit::Mg,
                route: Route::IN,
                over_min: None,
                total_mg: mg,
                weight_kg: None,
                devices: None,
                lot: Some("ABC123".into()),
                vial: None,
                drawn: Vec::new(),
            })
        };
        assert!(t.flags_for(&d(84.0), false).is_empty());
        let flags = t.flags_for(&d(112.0), false);
        assert_eq!(flags.len(), 1);
        assert_eq!(flags[0].code, FlagCode::DoseHigh);
        assert_eq!(
            flags[0].text,
            "esketamine 112 mg IN above the alert level of 84 mg IN"
        );
    }

    #[test]
    fn dissociation_and_respiratory_depression_flag_at_their_levels() {
        use crate::domain::entry::{Dissociation, Respiration};
        let cadss = |items| Payload::Dissociation(Dissociation { cadss6: items });
        assert!(codes(&cadss([1, 0, 1, 0, 1, 0]), false).is_empty());
        assert_eq!(
            codes(&cadss([1, 0, 2, 0, 1, 0]), false),
            [FlagCode::Dissociation]
        );
        let mut off = defaults_for_tests();
        off.cadss6_total_at_or_above = None;
        assert!(off.flags_for(&cadss([4; 6]), false).is_empty());
        let resp = |depressed| {
            Payload::Respiration(Respiration {
                depressed,
                note: None,
            })
        };
        assert!(codes(&resp(false), false).is_empty());
        assert_eq!(codes(&resp(true), false), [FlagCode::RespDepressed]);
        off.respiratory_depression = false;
        assert!(off.flags_for(&resp(true), false).is_empty());
    }

    #[test]
    fn a_dose_without_its_required_lot_is_marked_not_alerted() {
        use crate::domain::entry::{Dose, DoseUnit, Route};
        let d = |drug: &str, lot: Option<&str>| {
            Payload::Dose(Dose {
                drug: drug.into(),
                amount: 56.0,
                unit: DoseUnit::Mg,
                route: Route::IN,
                over_min: None,
                total_mg: 56.0,
                weight_kg: None,
                devices: Some(2),
                lot: lot.map(str::to_string),
                vial: None,
                drawn: Vec::new(),
            })
        };
        assert_eq!(codes(&d("esketamine", None), false), [FlagCode::LotMissing]);
        assert!(!FlagCode::LotMissing.is_alert());
        assert!(codes(&d("esketamine", Some("ABC123")), false).is_empty());
        assert!(codes(&d("ketamine", None), false).is_empty());
    }
}
