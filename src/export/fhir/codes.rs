//! The terminologies the export codes in (LOINC, UCUM, SNOMED CT, RxNorm, HL7 code systems)
//! and the small shapes every resource uses: a coding, a UCUM quantity, a category.

use serde_json::{Value, json};

pub(super) const LOINC: &str = "http://loinc.org";
pub(super) const UCUM: &str = "http://unitsofmeasure.org";
pub(super) const SNOMED: &str = "http://snomed.info/sct";
pub(super) const RXNORM_SYSTEM: &str = "http://www.nlm.nih.gov/research/umls/rxnorm";
pub(super) const OBSERVATION_CATEGORY: &str =
    "http://terminology.hl7.org/CodeSystem/observation-category";
pub(super) const INTERPRETATION: &str =
    "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation";
pub(super) const IDENTIFIER_TYPE: &str = "http://terminology.hl7.org/CodeSystem/v2-0203";
pub(super) const ACT_CODE: &str = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
pub(super) const DATA_ABSENT: &str = "http://terminology.hl7.org/CodeSystem/data-absent-reason";
pub(super) const PERFORM_FUNCTION: &str =
    "http://terminology.hl7.org/CodeSystem/med-admin-perform-function";

pub(super) fn coding(system: &str, code: &str, display: &str) -> Value {
    json!({ "system": system, "code": code, "display": display })
}

/// A UCUM quantity; `value` is a JSON number (an integer for counted values).
pub(super) fn quantity(value: Value, unit: &str, code: &str) -> Value {
    json!({ "value": value, "unit": unit, "system": UCUM, "code": code })
}

pub(super) fn category(code: &str, display: &str) -> Value {
    json!([{ "coding": [coding(OBSERVATION_CATEGORY, code, display)], "text": display }])
}
