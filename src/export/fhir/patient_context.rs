//! What stands about the patient beside their sessions: the medications they take (as the
//! record lists them over time) and their PHQ-9 item 9 safety flag (each time it stood).

use super::builder::Builder;
use super::codes::{LOINC, coding};
use super::ids::{instant, reference};
use crate::domain::Payload;
use crate::domain::measures::needs_risk_assessment;
use crate::domain::medications::Listed;
use serde_json::{Value, json};

/// R4 Flag category (https://hl7.org/fhir/R4/codesystem-flag-category.html): "safety",
/// "flags related to risk of harm to patient".
const FLAG_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/flag-category";

impl Builder<'_> {
    /// Each stretch of time a medication stood on the patient's list, as a
    /// MedicationStatement (https://hl7.org/fhir/R4/medicationstatement.html). R4's status
    /// value set (https://hl7.org/fhir/R4/valueset-medication-statement-status.html):
    /// `active`, "the medication is still being taken", while it stands on the list;
    /// `completed`, "the medication is no longer being taken", once a later version of the
    /// list leaves it out (kapchart does not know why: the note says when it came off).
    /// The name is as the clinician wrote it (no RxNorm code: kapchart keeps free text), with
    /// the class that matters for ketamine and esketamine noted.
    pub(super) fn medications(&mut self) {
        let patient = self.record.patient.id;
        let statements: Vec<Value> = self
            .record
            .medications
            .iter()
            .map(|m| self.medication_statement(patient, m))
            .collect();
        for s in statements {
            self.push(s);
        }
    }

    fn medication_statement(&self, patient: i64, m: &Listed) -> Value {
        let mut period = json!({ "start": instant(m.from) });
        let mut notes: Vec<Value> = Vec::new();
        if let Some(class) = m.class {
            notes.push(json!({ "text": format!("kapchart: {class}: {}", class.why_it_matters()) }));
        }
        if let Some(until) = m.until {
            period["end"] = json!(instant(until));
            notes.push(json!({ "text": format!(
                "kapchart: no longer on the patient's medication list from {}",
                instant(until)
            ) }));
        }
        let mut s = json!({
            "resourceType": "MedicationStatement",
            "id": self.ids.row(&format!(
                "patient/{patient}/medication/{}/{}",
                m.key(),
                m.ordinal
            )),
            "status": if m.until.is_some() { "completed" } else { "active" },
            "medicationCodeableConcept": { "text": m.name },
            "subject": self.patient_ref(),
            "effectivePeriod": period,
            "dateAsserted": instant(m.from),
        });
        if !notes.is_empty() {
            s["note"] = json!(notes);
        }
        s
    }

    /// The patient's safety flag, as one Flag (https://hl7.org/fhir/R4/flag.html) that
    /// stays under one id: raised by a PHQ-9 whose item 9 (LOINC 44260-8) was above 0, it is
    /// `active` until a risk assessment clears it, then `inactive`, its period that of the
    /// latest time it stood (R4 Flag.status: "active | inactive | entered-in-error"; the
    /// server's history keeps the earlier times). Raised only by PHQ-9s since struck or
    /// amended away, it is `entered-in-error`. The flag reminds; the assessment and what
    /// follows are the clinician's.
    pub(super) fn safety_flags(&mut self) {
        if let Some(flag) = self.safety_flag() {
            self.push(flag);
        }
    }

    fn safety_flag(&self) -> Option<Value> {
        let patient = self.record.patient.id;
        let latest = self.record.safety.last();
        let ever_raised = self
            .lines
            .values()
            .any(|l| matches!(&l.entry.payload, Payload::Measure(m) if needs_risk_assessment(m)));
        if latest.is_none() && !ever_raised {
            return None;
        }
        let (status, answer) = match latest {
            Some(e) if e.cleared.is_none() => ("active", Some(e.latest.item9)),
            Some(e) => ("inactive", Some(e.latest.item9)),
            None => ("entered-in-error", None),
        };
        let text = match answer {
            Some(n) => format!(
                "PHQ-9 item 9 answered {n} (thoughts of being better off dead or of self-harm): structured suicide risk assessment needed"
            ),
            None => {
                "PHQ-9 item 9 above 0: the questionnaires that raised it were struck or amended"
                    .to_string()
            }
        };
        let mut flag = json!({
            "resourceType": "Flag",
            "id": self.ids.row(&format!("patient/{patient}/safety-flag")),
            "status": status,
            "category": [{
                "coding": [coding(FLAG_CATEGORY, "safety", "Safety")],
                "text": "Safety",
            }],
            "code": {
                "coding": [coding(
                    LOINC,
                    "44260-8",
                    "Thoughts that you would be better off dead, or of hurting yourself in some way in the last 2 weeks [Reported.PHQ]",
                )],
                "text": text,
            },
            "subject": self.patient_ref(),
        });
        if let Some(e) = latest {
            let mut period = json!({ "start": instant(e.raised.at) });
            if let Some((_, at)) = e.cleared {
                period["end"] = json!(instant(at));
            }
            flag["period"] = period;
            if let Some(line) = self.lines.get(&e.raised.measure_entry) {
                flag["encounter"] =
                    reference("Encounter", &self.ids.session(line.entry.session_id));
            }
        }
        Some(flag)
    }
}
