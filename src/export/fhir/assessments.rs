//! The entries around the dosing: a clinician's free-text observation, intake screening
//! answers and the eligibility decision, the intention and setting agreed in preparation,
//! a structured suicide risk assessment, and informed consent. Each is exported as what it
//! is, under its entry's id (corrections update it in place, as for vitals).

use super::builder::Builder;
use super::codes::{LOINC, coding};
use super::ids::{instant, reference};
use super::standing::{Standing, observation_status, standing};
use crate::domain::ChartLine;
use crate::domain::entry::RiskAssessment;
use serde_json::{Value, json};

/// R4 Consent.scope (https://hl7.org/fhir/R4/codesystem-consent-scope.html): "treatment",
/// "consent to participate in or authorize treatment".
const CONSENT_SCOPE: &str = "http://terminology.hl7.org/CodeSystem/consentscope";

impl Builder<'_> {
    /// An entry whose content is text: the observation as its value, with its code's text
    /// saying what kind of statement it is. A bedside observation of the patient is an
    /// `exam` Observation; screening, eligibility, intention and setting are `survey`
    /// (https://hl7.org/fhir/R4/codesystem-observation-category.html).
    pub(super) fn statement(
        &self,
        line: &ChartLine,
        suffix: &str,
        category: &str,
        what: &str,
        value: String,
    ) -> Value {
        self.observation(
            line,
            suffix,
            category,
            json!({ "text": what }),
            ("valueString", json!(value)),
        )
    }

    /// A structured suicide risk assessment (it clears the PHQ-9 item 9 safety flag) as a
    /// RiskAssessment (https://hl7.org/fhir/R4/riskassessment.html), whose status takes the
    /// Observation status codes (R4 RiskAssessment.status binds to ObservationStatus), so a
    /// correction reads as it does on an Observation.
    pub(super) fn risk_assessment(&self, line: &ChartLine, r: &RiskAssessment) -> Value {
        let e = &line.entry;
        let mut notes = vec![json!({ "text": r.outcome })];
        notes.extend(self.notes(line, "risk"));
        json!({
            "resourceType": "RiskAssessment",
            "id": self.ids.entry(self.resource_owner(line), "risk"),
            "status": observation_status(standing(line)),
            "method": { "text": "Structured suicide risk assessment (PHQ-9 item 9 above 0 calls for one)" },
            "code": {
                "coding": [coding(
                    LOINC,
                    "44260-8",
                    "Thoughts that you would be better off dead, or of hurting yourself in some way in the last 2 weeks [Reported.PHQ]",
                )],
                "text": "Suicide risk",
            },
            "subject": self.patient_ref(),
            "encounter": reference("Encounter", &self.ids.session(e.session_id)),
            "occurrenceDateTime": instant(e.event_time),
            "performer": self.practitioner_ref(&e.author),
            "note": notes,
        })
    }

    /// Informed consent as recorded, as a Consent (https://hl7.org/fhir/R4/consent.html):
    /// scope treatment, category LOINC 59284-0 "Patient Consent", the recorded text as its
    /// source. R4 Consent.status has no "corrected": a consent that stands is `active`, one
    /// struck or amended away `entered-in-error`. The policy is the clinic's informed
    /// consent for the treatment, named as text (R4 requires a policy or a policy rule).
    pub(super) fn consent(&self, line: &ChartLine, text: &str) -> Value {
        let e = &line.entry;
        let status = match standing(line) {
            Standing::Withdrawn => "entered-in-error",
            Standing::Final | Standing::Replacement => "active",
        };
        json!({
            "resourceType": "Consent",
            "id": self.ids.entry(self.resource_owner(line), "consent"),
            "status": status,
            "scope": {
                "coding": [coding(CONSENT_SCOPE, "treatment", "Treatment")],
                "text": "Treatment",
            },
            "category": [{
                "coding": [coding(LOINC, "59284-0", "Patient Consent")],
                "text": "Patient consent",
            }],
            "patient": self.patient_ref(),
            "dateTime": instant(e.event_time),
            "performer": [self.patient_ref()],
            "policyRule": { "text": "The clinic's informed consent to ketamine-assisted psychotherapy" },
            "sourceAttachment": {
                "contentType": "text/plain; charset=utf-8",
                "data": crate::domain::signature::base64(text.as_bytes()),
                "title": format!("Consent as recorded in kapchart by {}", e.author),
            },
        })
    }
}
