//! Observations: vital signs (the vital-signs profile, LOINC and UCUM), MOAA/S, CADSS-6,
//! respiratory status and the modified Aldrete score.

use super::OBSERVATION_CODES;
use super::builder::Builder;
use super::codes::{LOINC, category, coding, quantity};
use super::ids::{instant, reference};
use super::standing::{observation_status, standing};
use crate::domain::ChartLine;
use crate::domain::entry::{AldreteScore, Dissociation, Respiration, VitalSigns};
use serde_json::{Value, json};

impl<'a> Builder<'a> {
    /// An Observation of one entry; `value` is the value[x] field and its value (or
    /// "component" and the components).
    pub(super) fn observation(
        &self,
        line: &ChartLine,
        suffix: &str,
        category_code: &str,
        code: Value,
        value: (&str, Value),
    ) -> Value {
        let e = &line.entry;
        let category_display = match category_code {
            "vital-signs" => "Vital Signs",
            "exam" => "Exam",
            _ => "Survey",
        };
        let mut o = json!({
            "resourceType": "Observation",
            "id": self.ids.entry(self.resource_owner(line), suffix),
            "status": observation_status(standing(line)),
            "category": category(category_code, category_display),
            "code": code,
            "subject": self.patient_ref(),
            "encounter": reference("Encounter", &self.ids.session(e.session_id)),
            "effectiveDateTime": instant(e.event_time),
            "issued": instant(e.recorded_time),
            "performer": [self.practitioner_ref(&e.author)],
        });
        o[value.0] = value.1;
        let interpretation = Self::interpretation(line, suffix);
        if !interpretation.is_empty() {
            o["interpretation"] = json!(interpretation);
        }
        let notes = self.notes(line, suffix);
        if !notes.is_empty() {
            o["note"] = json!(notes);
        }
        o
    }

    /// CADSS-6: the total as the value, each item (CADSS items 1, 2, 6, 7, 15, 22) as a
    /// component, in kapchart's CodeSystem (no LOINC code: clinical.md section 7).
    pub(super) fn dissociation(&self, line: &ChartLine, d: &Dissociation) -> Value {
        let mut o = self.observation(
            line,
            "cadss6",
            "survey",
            json!({
                "coding": [coding(OBSERVATION_CODES, "cadss6", "CADSS-6 dissociation score")],
                "text": "CADSS-6 (Clinician-Administered Dissociative States Scale, 6-item short form)",
            }),
            ("valueInteger", json!(d.total())),
        );
        const CADSS_ITEMS: [u8; 6] = [1, 2, 6, 7, 15, 22];
        o["component"] = json!(
            CADSS_ITEMS
                .iter()
                .zip(d.cadss6)
                .map(|(item, score)| {
                    let code = format!("cadss-item-{item}");
                    json!({
                        "code": {
                            "coding": [coding(OBSERVATION_CODES, &code, &format!("CADSS item {item}"))],
                        },
                        "valueInteger": score,
                    })
                })
                .collect::<Vec<_>>()
        );
        o
    }

    /// Respiratory status as the clinician judged it, with what was seen.
    pub(super) fn respiration(&self, line: &ChartLine, r: &Respiration) -> Value {
        let (code, display) = if r.depressed {
            ("resp-depressed", "respiratory depression")
        } else {
            ("resp-ok", "no respiratory depression")
        };
        let text = match &r.note {
            Some(n) => format!("{display}: {n}"),
            None => display.to_string(),
        };
        self.observation(
            line,
            "resp",
            "exam",
            json!({
                "coding": [coding(OBSERVATION_CODES, "respiratory-status", "Respiratory status")],
                "text": "Respiratory status",
            }),
            (
                "valueCodeableConcept",
                json!({ "coding": [coding(OBSERVATION_CODES, code, display)], "text": text }),
            ),
        )
    }

    pub(super) fn vitals(&self, line: &ChartLine, v: &VitalSigns) -> Vec<Value> {
        let loinc = |code: &str, display: &str, text: &str| json!({ "coding": [coding(LOINC, code, display)], "text": text });
        let mut out = Vec::new();
        if let Some(bp) = v.bp {
            let component = |code: &str, display: &str, value: u16| {
                json!({
                    "code": loinc(code, display, display),
                    "valueQuantity": quantity(json!(value), "mmHg", "mm[Hg]"),
                })
            };
            out.push(self.observation(
                line,
                "bp",
                "vital-signs",
                loinc(
                    "85354-9",
                    "Blood pressure panel with all children optional",
                    "Blood pressure",
                ),
                (
                    "component",
                    json!([
                        component("8480-6", "Systolic blood pressure", bp.systolic),
                        component("8462-4", "Diastolic blood pressure", bp.diastolic),
                    ]),
                ),
            ));
        }
        if let Some(hr) = v.hr {
            out.push(self.observation(
                line,
                "hr",
                "vital-signs",
                loinc("8867-4", "Heart rate", "Heart rate"),
                ("valueQuantity", quantity(json!(hr), "beats/minute", "/min")),
            ));
        }
        if let Some(spo2) = v.spo2 {
            out.push(self.observation(
                line,
                "spo2",
                "vital-signs",
                json!({
                    "coding": [
                        coding(LOINC, "2708-6", "Oxygen saturation in Arterial blood"),
                        coding(
                            LOINC,
                            "59408-5",
                            "Oxygen saturation in Arterial blood by Pulse oximetry",
                        ),
                    ],
                    "text": "SpO2",
                }),
                ("valueQuantity", quantity(json!(spo2), "%", "%")),
            ));
        }
        if let Some(rr) = v.rr {
            out.push(self.observation(
                line,
                "rr",
                "vital-signs",
                loinc("9279-1", "Respiratory rate", "Respiratory rate"),
                (
                    "valueQuantity",
                    quantity(json!(rr), "breaths/minute", "/min"),
                ),
            ));
        }
        if let Some(t) = v.temp_c {
            out.push(self.observation(
                line,
                "temp",
                "vital-signs",
                loinc("8310-5", "Body temperature", "Body temperature"),
                ("valueQuantity", quantity(json!(t), "Cel", "Cel")),
            ));
        }
        out
    }

    pub(super) fn aldrete(&self, line: &ChartLine, a: &AldreteScore) -> Value {
        let item = |code: &str, display: &str, value: u8| {
            json!({
                "code": {
                    "coding": [coding(OBSERVATION_CODES, code, display)],
                    "text": display,
                },
                "valueInteger": value,
            })
        };
        let mut o = self.observation(
            line,
            "aldrete",
            "survey",
            json!({
                "coding": [coding(OBSERVATION_CODES, "aldrete", "Modified Aldrete score")],
                "text": "Modified Aldrete score (0-10)",
            }),
            ("valueInteger", json!(a.total())),
        );
        o["component"] = json!([
            item("aldrete-activity", "Aldrete activity", a.activity),
            item("aldrete-respiration", "Aldrete respiration", a.respiration),
            item("aldrete-circulation", "Aldrete circulation", a.circulation),
            item(
                "aldrete-consciousness",
                "Aldrete consciousness",
                a.consciousness
            ),
            item("aldrete-spo2", "Aldrete oxygen saturation", a.spo2),
        ]);
        o
    }
}
