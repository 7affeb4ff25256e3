//! PHQ-9, GAD-7 and PCL-5 as a QuestionnaireResponse with the item answers, and an Observation
//! with the total.

use super::builder::Builder;
use super::codes::{LOINC, coding};
use super::ids::{instant, reference};
use super::standing::{response_status, standing};
use super::{GAD7_QUESTIONNAIRE, OBSERVATION_CODES, PCL5_QUESTIONNAIRE, PHQ9_QUESTIONNAIRE};
use crate::domain::ChartLine;
use crate::domain::measures::{Instrument, MeasureResponse, pcl5_clusters};
use serde_json::{Value, json};

/// PHQ-9 items in order: (LOINC code, item). The linkId is "/" + code, as in the LOINC panel
/// 44249-1 rendered as a FHIR Questionnaire by NLM's LHC-Forms; item 9 (44260-8) is also in
/// clinical.md section 7.
pub(super) const PHQ9_ITEMS: [(&str, &str); 9] = [
    ("44250-9", "Little interest or pleasure in doing things"),
    ("44255-8", "Feeling down, depressed, or hopeless"),
    (
        "44259-0",
        "Trouble falling or staying asleep, or sleeping too much",
    ),
    ("44254-1", "Feeling tired or having little energy"),
    ("44251-7", "Poor appetite or overeating"),
    (
        "44258-2",
        "Feeling bad about yourself-or that you are a failure or have let yourself or your family down",
    ),
    (
        "44252-5",
        "Trouble concentrating on things, such as reading the newspaper or watching television",
    ),
    (
        "44253-3",
        "Moving or speaking so slowly that other people could have noticed. Or the opposite-being so fidgety or restless that you have been moving around a lot more than usual",
    ),
    (
        "44260-8",
        "Thoughts that you would be better off dead, or of hurting yourself in some way",
    ),
];

/// PHQ-9 answers 0-3 as LOINC answer codes (clinical.md section 7).
pub(super) const PHQ9_ANSWERS: [(&str, &str); 4] = [
    ("LA6568-5", "Not at all"),
    ("LA6569-3", "Several days"),
    ("LA6570-1", "More than half the days"),
    ("LA6571-9", "Nearly every day"),
];

/// GAD-7 items in order: (LOINC code, item), from the LOINC panel 69737-5 as rendered by NLM's
/// LHC-Forms (linkId "/" + code). The answers are exported as the scored integer 0-3: the
/// reference gives no GAD-7 answer codes, and LOINC's answer list differs between items (item 2
/// scores 2 as LA18938-3 "More days than not" there).
pub(super) const GAD7_ITEMS: [(&str, &str); 7] = [
    ("69725-0", "Feeling nervous, anxious or on edge"),
    ("68509-9", "Not being able to stop or control worrying"),
    ("69733-4", "Worrying too much about different things"),
    ("69734-2", "Trouble relaxing"),
    ("69735-9", "Being so restless that it is hard to sit still"),
    ("69689-8", "Becoming easily annoyed or irritable"),
    (
        "69736-7",
        "Feeling afraid as if something awful might happen",
    ),
];

impl<'a> Builder<'a> {
    pub(super) fn measure(&self, line: &ChartLine, m: &MeasureResponse) -> Vec<Value> {
        let e = &line.entry;
        let response_id = self.ids.entry(self.resource_owner(line), "response");
        let (questionnaire, items): (&str, Vec<Value>) = match m.instrument {
            Instrument::Phq9 => (
                PHQ9_QUESTIONNAIRE,
                PHQ9_ITEMS
                    .iter()
                    .zip(&m.items)
                    .map(|((code, text), &answer)| {
                        let (a, display) = PHQ9_ANSWERS[usize::from(answer.min(3))];
                        json!({
                            "linkId": format!("/{code}"),
                            "text": text,
                            "answer": [{ "valueCoding": coding(LOINC, a, display) }],
                        })
                    })
                    .collect(),
            ),
            Instrument::Gad7 => (
                GAD7_QUESTIONNAIRE,
                GAD7_ITEMS
                    .iter()
                    .zip(&m.items)
                    .map(|((code, text), &answer)| {
                        json!({
                            "linkId": format!("/{code}"),
                            "text": text,
                            "answer": [{ "valueInteger": answer }],
                        })
                    })
                    .collect(),
            ),
            Instrument::Pcl5 => (
                PCL5_QUESTIONNAIRE,
                m.items
                    .iter()
                    .enumerate()
                    .map(|(i, &answer)| {
                        json!({
                            "linkId": format!("{}", i + 1),
                            "text": format!("PCL-5 item {}", i + 1),
                            "answer": [{ "valueInteger": answer }],
                        })
                    })
                    .collect(),
            ),
        };
        let response = json!({
            "resourceType": "QuestionnaireResponse",
            "id": response_id,
            "questionnaire": questionnaire,
            "status": response_status(standing(line)),
            "subject": self.patient_ref(),
            "encounter": reference("Encounter", &self.ids.session(e.session_id)),
            "authored": instant(e.event_time),
            "author": self.practitioner_ref(&e.author),
            "source": self.patient_ref(),
            "item": items,
        });

        let code = match m.instrument {
            Instrument::Phq9 => json!({
                "coding": [coding(
                    LOINC,
                    "44261-6",
                    "Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]",
                )],
                "text": "PHQ-9 total score",
            }),
            Instrument::Gad7 => json!({
                "coding": [coding(
                    LOINC,
                    "70274-6",
                    "Generalized anxiety disorder 7 item (GAD-7) total score [Reported.PHQ]",
                )],
                "text": "GAD-7 total score",
            }),
            Instrument::Pcl5 => json!({
                "coding": [coding(OBSERVATION_CODES, "pcl5-total", "PCL-5 total score")],
                "text": "PCL-5 total score",
            }),
        };
        let mut total = self.observation(
            line,
            "total",
            "survey",
            code,
            ("valueInteger", json!(m.total)),
        );
        total["interpretation"] = json!([{ "text": m.band }]);
        total["derivedFrom"] = json!([reference("QuestionnaireResponse", &response_id)]);
        if m.instrument == Instrument::Pcl5
            && let Some(clusters) = pcl5_clusters(&m.items)
        {
            total["component"] = json!(
                clusters
                    .iter()
                    .map(|(c, sum)| {
                        let code = format!("pcl5-cluster-{}", c.to_ascii_lowercase());
                        let display = format!("PCL-5 cluster {c} subtotal");
                        json!({
                            "code": {
                                "coding": [coding(OBSERVATION_CODES, &code, &display)],
                                "text": display,
                            },
                            "valueInteger": sum,
                        })
                    })
                    .collect::<Vec<_>>()
            );
        }
        if crate::domain::measures::needs_risk_assessment(m) {
            let mut notes = total["note"].as_array().cloned().unwrap_or_default();
            notes.push(json!({
                "text": format!(
                    "PHQ-9 item 9 answered {}: a structured suicide risk assessment is called for",
                    m.items[8]
                ),
            }));
            total["note"] = json!(notes);
        }
        vec![response, total]
    }
}
