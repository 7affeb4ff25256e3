//! Intake screening: the contraindications a KAP intake asks about (clinical.md sections 1
//! and 2), answered one by one, and the clinician's eligibility decision. kapchart records
//! the answers and the decision; it never decides eligibility.

use serde::{Deserialize, Serialize};

/// The screening checklist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScreeningItem {
    ActivePsychosis,
    ManiaHistory,
    /// High blood pressure, controlled or not: what the clinician said about it is in the
    /// answer's note (`screen hypertension yes controlled on amlodipine`). The intake screens
    /// out uncontrolled high blood pressure (clinical.md section 1); kapchart records, the
    /// clinician decides.
    Hypertension,
    /// Charted by `screen uncontrolled-hypertension ...`; earlier charts also stored
    /// `screen hypertension ...` under this item.
    UncontrolledHypertension,
    /// Aneurysmal vascular disease, arteriovenous malformation or intracerebral haemorrhage.
    VascularDisease,
    Pregnancy,
    SubstanceUse,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Answer {
    Yes,
    No,
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScreeningAnswer {
    pub item: ScreeningItem,
    pub answer: Answer,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Decision {
    Eligible,
    NotEligible,
    Deferred,
}

/// The clinician's decision, with the reason; always the clinician's, never kapchart's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EligibilityDecision {
    pub decision: Decision,
    pub reason: String,
}
