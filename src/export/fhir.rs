//! FHIR R4 export: a [`Record`] as a Bundle of type `collection`.
//!
//! What goes in, in this order: the Patient; a Practitioner per clinician named in the record;
//! per session its Encounter, then the resources of its chart entries in event-time order, then
//! its signed integration note and addenda as DocumentReferences. Codes are those of
//! clinical.md section 7.
//!
//! - Vitals: one Observation per vital sign on one entry, on the vital-signs profile (LOINC,
//!   UCUM); blood pressure as the 85354-9 panel with systolic and diastolic components.
//!   Alert flags become `interpretation` (H/L, v3-ObservationInterpretation) on the vital they
//!   concern, with the flag's words in `note`; an acknowledgement of a flag becomes a note too.
//! - MOAA/S and the modified Aldrete score: Observations in the `survey` category coded in
//!   kapchart's own CodeSystem ([`OBSERVATION_CODES`]); there is no LOINC code for them.
//! - Doses: MedicationAdministration, RxNorm where [`RXNORM`] has a sourced code, else the drug
//!   name as text; route as SNOMED CT; dose in mg (UCUM), what was typed in `dosage.text`; an
//!   infusion (`over N min`) has an `effectivePeriod`.
//! - PHQ-9, GAD-7, PCL-5: a QuestionnaireResponse with the item answers and an Observation with
//!   the total (`derivedFrom` the response, the severity band as interpretation text).
//! - Signed integration notes: DocumentReference (`text/markdown`, the signed text in base64).
//!   FHIR's `attachment.hash` must be SHA-1, which kapchart does not keep: the SHA-256 the
//!   signature locks is carried in the [`SHA256_EXTENSION`] extension on the attachment (hex).
//!   The signer's Ed25519 signature, with the public key and every field of the signed
//!   message, is the [`signatures::ED25519_EXTENSION`] extension beside it. Each addendum is
//!   its own DocumentReference that `appends` the note. Drafts are not exported.
//! - Other entry kinds (free-text observations, screening, consent, ride home, ...) are not
//!   exported as resources; they are in the signed note and the printed report.
//!
//! Corrections (kapchart keeps every entry; a correction is a later entry):
//! - An entry that stands and amends an earlier one: Observation `amended`, QuestionnaireResponse
//!   `amended` (FHIR: "modified subsequent to being final"), MedicationAdministration
//!   `completed` (it has no `amended`). It carries [`REPLACES_EXTENSION`] pointing at what it
//!   replaces and a note "amends entry N: reason".
//! - An entry replaced by a later amendment, and an entry that was struck: `entered-in-error`
//!   on every resource kind (the only status FHIR consumers reliably leave out of current
//!   values), with a note saying which entry amended or struck it, who, when and why. They stay
//!   in the bundle: a correction deletes no original content (CMS PIM 3.3.2.5).
//!   (QuestionnaireResponse has no `note`: for a questionnaire, the notes are on its total's
//!   Observation.)
//! - Everything else: Observation `final`, QuestionnaireResponse `completed`,
//!   MedicationAdministration `completed` (`in-progress` for an infusion still running at the
//!   export time).
//!
//! Ids and references: resource ids come from chart ids, so exporting again gives the same ids
//! (`kapchart-patient-1`, `kapchart-session-3`, `kapchart-entry-42-hr`, `kapchart-note-2`,
//! `kapchart-addendum-5`; a Practitioner's from a SHA-256 of the name). Each `fullUrl` is
//! [`FHIR_BASE`]`/Type/id` and every reference is the relative `Type/id`, which resolves
//! against that base inside the bundle. The Bundle's id is stable too; its identifier's value
//! adds the export time.

use super::{Record, SessionRecord, signatures};
use crate::domain::course::{Addendum, Note};
use crate::domain::entry::{
    AldreteScore, Dissociation, Dose, DoseUnit, Respiration, VitalSigns, trim_number,
};
use crate::domain::measures::{Instrument, MeasureResponse, pcl5_clusters};
use crate::domain::protocol::{Check, CheckKind, CheckStatus};
use crate::domain::signature::base64;
use crate::domain::{ChartLine, Correction, Entry, EntryId, EntryStatus, FlagCode, Payload, Route};
use chrono::{DateTime, FixedOffset, SecondsFormat, TimeDelta};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// The base of every `fullUrl` in an exported bundle.
pub const FHIR_BASE: &str = "https://kapchart.org/fhir";
/// kapchart's CodeSystem for scores with no LOINC code (clinical.md section 7: "CADSS, MOAA/S,
/// Aldrete: no LOINC code found: use a local CodeSystem URI") and for the PCL-5 total.
pub const OBSERVATION_CODES: &str = "https://kapchart.org/fhir/CodeSystem/kapchart-observation";
/// The system of the Bundle's identifier.
pub const EXPORT_IDENTIFIER_SYSTEM: &str = "https://kapchart.org/fhir/sid/export";
/// Extension on a note's attachment: the SHA-256 (hex) of the signed text, as locked at
/// signing. `Attachment.hash` is reserved for SHA-1.
pub const SHA256_EXTENSION: &str = "https://kapchart.org/fhir/StructureDefinition/sha256";
/// Extension on a note's attachment: the signer's Ed25519 signature and what it covers.
pub use super::signatures::ED25519_EXTENSION;
/// Extension on a resource made from an amending entry: a reference to the resource it
/// replaces.
pub const REPLACES_EXTENSION: &str = "https://kapchart.org/fhir/StructureDefinition/replaces";
/// The Questionnaire canonical of the PHQ-9 (LOINC panel 44249-1, clinical.md section 7).
pub const PHQ9_QUESTIONNAIRE: &str = "http://loinc.org/q/44249-1";
/// The Questionnaire canonical of the GAD-7 (LOINC panel 69737-5, clinical.md section 7).
pub const GAD7_QUESTIONNAIRE: &str = "http://loinc.org/q/69737-5";
/// The PCL-5 has no LOINC panel in the reference: a kapchart canonical.
pub const PCL5_QUESTIONNAIRE: &str = "https://kapchart.org/fhir/Questionnaire/pcl5";

const LOINC: &str = "http://loinc.org";
const UCUM: &str = "http://unitsofmeasure.org";
const SNOMED: &str = "http://snomed.info/sct";
const RXNORM_SYSTEM: &str = "http://www.nlm.nih.gov/research/umls/rxnorm";
const OBSERVATION_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/observation-category";
const INTERPRETATION: &str = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation";
const IDENTIFIER_TYPE: &str = "http://terminology.hl7.org/CodeSystem/v2-0203";
const ACT_CODE: &str = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
const DATA_ABSENT: &str = "http://terminology.hl7.org/CodeSystem/data-absent-reason";
const PERFORM_FUNCTION: &str = "http://terminology.hl7.org/CodeSystem/med-admin-perform-function";

/// RxNorm codes for drugs kapchart can name: (drug as typed, code, display). Only sourced codes
/// are listed; any other drug is exported by name only (`medicationCodeableConcept.text`).
pub const RXNORM: &[(&str, &str, &str)] = &[
    // clinical.md section 7: "ketamine | RxNorm ingredient 6130 (believed; keep the table in
    // data with its source)".
    ("ketamine", "6130", "ketamine"),
];

/// Routes as SNOMED CT (codes: clinical.md section 7).
fn route_code(route: Route) -> (&'static str, &'static str) {
    match route {
        Route::IV => ("47625008", "Intravenous route"),
        Route::IM => ("78421000", "Intramuscular route"),
        Route::IN => ("46713006", "Nasal route"),
        Route::SL => ("37839007", "Sublingual route"),
        Route::PO => ("26643006", "Oral route"),
    }
}

/// PHQ-9 items in order: (LOINC code, item). The linkId is "/" + code, as in the LOINC panel
/// 44249-1 rendered as a FHIR Questionnaire by NLM's LHC-Forms; item 9 (44260-8) is also in
/// clinical.md section 7.
const PHQ9_ITEMS: [(&str, &str); 9] = [
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
const PHQ9_ANSWERS: [(&str, &str); 4] = [
    ("LA6568-5", "Not at all"),
    ("LA6569-3", "Several days"),
    ("LA6570-1", "More than half the days"),
    ("LA6571-9", "Nearly every day"),
];

/// GAD-7 items in order: (LOINC code, item), from the LOINC panel 69737-5 as rendered by NLM's
/// LHC-Forms (linkId "/" + code). The answers are exported as the scored integer 0-3: the
/// reference gives no GAD-7 answer codes, and LOINC's answer list differs between items (item 2
/// scores 2 as LA18938-3 "More days than not" there).
const GAD7_ITEMS: [(&str, &str); 7] = [
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

/// Builds the FHIR R4 Bundle (type `collection`) of a record. Pure: the same record gives the
/// same JSON.
pub fn bundle(record: &Record) -> Value {
    let mut b = Builder::new(record);
    b.patient();
    b.practitioners();
    for s in &record.sessions {
        b.session(s);
    }
    let scope = match record.sessions.as_slice() {
        [one] => format!("session-{}", one.session.id),
        _ => "course".to_string(),
    };
    let patient = record.patient.id;
    json!({
        "resourceType": "Bundle",
        "id": format!("kapchart-export-patient-{patient}-{scope}"),
        "identifier": {
            "system": EXPORT_IDENTIFIER_SYSTEM,
            "value": format!("patient-{patient}/{scope}/{}", instant(record.exported)),
        },
        "type": "collection",
        "timestamp": instant(record.exported),
        "entry": b.entries,
    })
}

/// RFC 3339 with the offset kept, to the second: 2026-11-26T10:40:00+01:00.
fn instant(t: DateTime<FixedOffset>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, false)
}

fn reference(rtype: &str, id: &str) -> Value {
    json!({ "reference": format!("{rtype}/{id}") })
}

fn entry_resource_id(entry: EntryId, suffix: &str) -> String {
    format!("kapchart-entry-{entry}-{suffix}")
}

fn session_id(session: i64) -> String {
    format!("kapchart-session-{session}")
}

/// A Practitioner's id: from the name, so that it is the same in every export.
fn practitioner_id(name: &str) -> String {
    let digest = Sha256::digest(name.as_bytes());
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("kapchart-practitioner-{hex}")
}

fn coding(system: &str, code: &str, display: &str) -> Value {
    json!({ "system": system, "code": code, "display": display })
}

/// A UCUM quantity; `value` is a JSON number (an integer for counted values).
fn quantity(value: Value, unit: &str, code: &str) -> Value {
    json!({ "value": value, "unit": unit, "system": UCUM, "code": code })
}

fn category(code: &str, display: &str) -> Value {
    json!([{ "coding": [coding(OBSERVATION_CATEGORY, code, display)], "text": display }])
}

/// The resources one entry becomes: (resource type, id suffix).
fn resource_keys(payload: &Payload) -> Vec<(&'static str, &'static str)> {
    match payload {
        Payload::Vitals(v) => {
            let mut keys = Vec::new();
            if v.bp.is_some() {
                keys.push(("Observation", "bp"));
            }
            if v.hr.is_some() {
                keys.push(("Observation", "hr"));
            }
            if v.spo2.is_some() {
                keys.push(("Observation", "spo2"));
            }
            if v.rr.is_some() {
                keys.push(("Observation", "rr"));
            }
            if v.temp_c.is_some() {
                keys.push(("Observation", "temp"));
            }
            keys
        }
        Payload::Sedation(_) => vec![("Observation", "moaas")],
        Payload::Dissociation(_) => vec![("Observation", "cadss6")],
        Payload::Respiration(_) => vec![("Observation", "resp")],
        Payload::Aldrete(_) => vec![("Observation", "aldrete")],
        Payload::Dose(_) => vec![("MedicationAdministration", "dose")],
        Payload::Measure(_) => vec![
            ("QuestionnaireResponse", "response"),
            ("Observation", "total"),
        ],
        Payload::Unreadable(_) => vec![("Observation", "unreadable")],
        _ => Vec::new(),
    }
}

/// Which resource of an entry a flag is about (None: all of them).
fn flag_suffix(code: FlagCode) -> Option<&'static str> {
    match code {
        FlagCode::BpHigh | FlagCode::BpPredose => Some("bp"),
        FlagCode::Spo2Low => Some("spo2"),
        FlagCode::HrHigh | FlagCode::HrLow => Some("hr"),
        FlagCode::RrLow => Some("rr"),
        FlagCode::DeepSedation => Some("moaas"),
        FlagCode::Dissociation => Some("cadss6"),
        FlagCode::RespDepressed => Some("resp"),
        FlagCode::DoseHigh | FlagCode::LotMissing | FlagCode::DeviceRest => Some("dose"),
        FlagCode::Late => None,
    }
}

/// A flag as an interpretation code, where one fits: above the alert level H, below L.
fn interpretation_code(code: FlagCode) -> Option<(&'static str, &'static str)> {
    match code {
        FlagCode::BpHigh | FlagCode::BpPredose | FlagCode::HrHigh | FlagCode::DoseHigh => {
            Some(("H", "High"))
        }
        FlagCode::Spo2Low | FlagCode::HrLow | FlagCode::RrLow | FlagCode::DeepSedation => {
            Some(("L", "Low"))
        }
        FlagCode::Dissociation => Some(("H", "High")),
        FlagCode::RespDepressed => Some(("A", "Abnormal")),
        FlagCode::Late | FlagCode::LotMissing | FlagCode::DeviceRest => None,
    }
}

/// Where an entry stands, for the status of its resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Standing {
    /// Stands; corrects nothing.
    Final,
    /// Stands and amends an earlier entry.
    Replacement,
    /// Amended away or struck.
    Withdrawn,
}

fn standing(line: &ChartLine) -> Standing {
    match line.status {
        EntryStatus::Current if line.entry.correction == Some(Correction::Amend) => {
            Standing::Replacement
        }
        EntryStatus::Current => Standing::Final,
        EntryStatus::Amended { .. } | EntryStatus::Struck { .. } => Standing::Withdrawn,
    }
}

fn observation_status(s: Standing) -> &'static str {
    match s {
        Standing::Final => "final",
        Standing::Replacement => "amended",
        Standing::Withdrawn => "entered-in-error",
    }
}

fn response_status(s: Standing) -> &'static str {
    match s {
        Standing::Final => "completed",
        Standing::Replacement => "amended",
        Standing::Withdrawn => "entered-in-error",
    }
}

/// Standard base64 with padding (RFC 4648), for attachment data.
/// The suffix of a vitals entry's first Observation.
fn first_vital(v: &VitalSigns) -> Option<&'static str> {
    [
        (v.bp.is_some(), "bp"),
        (v.hr.is_some(), "hr"),
        (v.spo2.is_some(), "spo2"),
        (v.rr.is_some(), "rr"),
        (v.temp_c.is_some(), "temp"),
    ]
    .into_iter()
    .find_map(|(has, suffix)| has.then_some(suffix))
}

struct Builder<'a> {
    record: &'a Record,
    entries: Vec<Value>,
    /// Every entry of the record by id, for corrections.
    lines: HashMap<EntryId, &'a ChartLine>,
    /// Acknowledgements that stand, by the entry they acknowledge.
    acks: HashMap<EntryId, Vec<&'a Entry>>,
    /// Protocol checks a reading closed late, by the reading's entry.
    late: HashMap<EntryId, Vec<String>>,
    /// Witnesses that stand, by the dose they witnessed.
    witnesses: HashMap<EntryId, &'a Entry>,
}

impl<'a> Builder<'a> {
    fn new(record: &'a Record) -> Self {
        let all = record.sessions.iter().flat_map(|s| s.lines.iter());
        let lines = all.clone().map(|l| (l.entry.id, l)).collect();
        let mut acks: HashMap<EntryId, Vec<&Entry>> = HashMap::new();
        let mut witnesses: HashMap<EntryId, &Entry> = HashMap::new();
        for l in all.filter(|l| l.status == EntryStatus::Current) {
            match &l.entry.payload {
                Payload::Acknowledgement(a) => acks.entry(a.entry).or_default().push(&l.entry),
                Payload::Witness(w) => {
                    witnesses.insert(w.entry, &l.entry);
                }
                _ => {}
            }
        }
        let mut late: HashMap<EntryId, Vec<String>> = HashMap::new();
        for c in record.sessions.iter().flat_map(|s| s.checks.iter()) {
            if let CheckStatus::DoneLate { by, late_min } = c.status {
                late.entry(by).or_default().push(format!(
                    "kapchart: protocol check {c} done late ({late_min} min)"
                ));
            }
        }
        Builder {
            record,
            entries: Vec::new(),
            lines,
            acks,
            late,
            witnesses,
        }
    }

    fn push(&mut self, resource: Value) {
        let rtype = resource["resourceType"].as_str().unwrap_or_default();
        let id = resource["id"].as_str().unwrap_or_default();
        let full_url = format!("{FHIR_BASE}/{rtype}/{id}");
        self.entries
            .push(json!({ "fullUrl": full_url, "resource": resource }));
    }

    fn patient_ref(&self) -> Value {
        let p = &self.record.patient;
        let mut r = reference("Patient", &format!("kapchart-patient-{}", p.id));
        r["display"] = json!(p.name);
        r
    }

    fn practitioner_ref(&self, name: &str) -> Value {
        let mut r = reference("Practitioner", &practitioner_id(name));
        r["display"] = json!(name);
        r
    }

    fn patient(&mut self) {
        let p = &self.record.patient;
        let mut patient = json!({
            "resourceType": "Patient",
            "id": format!("kapchart-patient-{}", p.id),
            "name": [{ "text": p.name }],
            "birthDate": p.dob.format("%Y-%m-%d").to_string(),
        });
        if let Some(mrn) = p.mrn.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
            patient["identifier"] = json!([{
                "use": "usual",
                "type": {
                    "coding": [coding(IDENTIFIER_TYPE, "MR", "Medical record number")],
                    "text": "MRN",
                },
                "value": mrn,
            }]);
        }
        self.push(patient);
    }

    /// A Practitioner for each clinician in the record, then for anyone else a resource names
    /// (a note's author), so that every reference resolves.
    fn practitioners(&mut self) {
        let mut names: Vec<&str> = Vec::new();
        let notes = self.record.sessions.iter().filter_map(|s| s.note.as_ref());
        let others = self.record.sessions.iter().flat_map(|s| {
            std::iter::once(s.session.clinician.as_str())
                .chain(s.lines.iter().map(|l| l.entry.author.as_str()))
        });
        let note_people = notes.flat_map(|n| {
            std::iter::once(n.author.as_str())
                .chain(n.signature.iter().map(|s| s.signer.as_str()))
                .chain(n.addenda.iter().map(|a| a.author.as_str()))
        });
        let all = self
            .record
            .clinicians
            .iter()
            .map(String::as_str)
            .chain(others)
            .chain(note_people);
        for name in all {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        for name in names {
            self.push(json!({
                "resourceType": "Practitioner",
                "id": practitioner_id(name),
                "name": [{ "text": name }],
            }));
        }
    }

    fn session(&mut self, s: &'a SessionRecord) {
        let session = &s.session;
        // The session's period: from its first entry (charted before it was opened, when so).
        let mut period = json!({ "start": instant(s.period.start) });
        if let Some(end) = s.period.end {
            period["end"] = json!(instant(end));
        }
        self.push(json!({
            "resourceType": "Encounter",
            "id": session_id(session.id),
            "status": if session.ended.is_some() { "finished" } else { "in-progress" },
            "class": coding(ACT_CODE, "AMB", "ambulatory"),
            "type": [{ "text": session.kind.as_str() }],
            "subject": self.patient_ref(),
            "participant": [{ "individual": self.practitioner_ref(&session.clinician) }],
            "period": period,
        }));
        for line in &s.lines {
            for resource in self.line_resources(line) {
                self.push(resource);
            }
        }
        for check in s.checks.iter().filter(|c| c.status == CheckStatus::Missed) {
            let resource = self.missed_check(s, check);
            self.push(resource);
        }
        if let Some(note) = &s.note {
            self.note(note, s.number_in_course);
        }
    }

    /// A protocol check that got no reading: an Observation that was not performed
    /// (status cancelled, dataAbsentReason not-performed) at the check's due time, so that
    /// the missed check is part of the exported record.
    fn missed_check(&self, s: &SessionRecord, check: &Check) -> Value {
        let which = match (check.kind, check.t_plus_min) {
            (CheckKind::Baseline, _) | (_, None) => "baseline".to_string(),
            (kind, Some(t)) => format!("t{t}{}", kind.id_suffix()),
        };
        let code = if check.kind.needs_bp() {
            json!({
                "coding": [coding(LOINC, "85354-9", "Blood pressure panel with all children optional")],
                "text": "Blood pressure",
            })
        } else {
            json!({
                "coding": [coding(LOINC, "85353-1", "Vital signs, weight, height, head circumference, oxygen saturation and BMI panel")],
                "text": "Vital signs",
            })
        };
        let mut o = json!({
            "resourceType": "Observation",
            "id": format!("{}-check-{which}", session_id(s.session.id)),
            "status": "cancelled",
            "category": category("vital-signs", "Vital Signs"),
            "code": code,
            "subject": self.patient_ref(),
            "encounter": reference("Encounter", &session_id(s.session.id)),
            "dataAbsentReason": {
                "coding": [coding(DATA_ABSENT, "not-performed", "Not Performed")],
                "text": "protocol check missed",
            },
            "note": [{ "text": match check.missing_text() {
                Some(m) => format!("kapchart: protocol check missed: {check}, {m}"),
                None => format!("kapchart: protocol check missed: {check}"),
            } }],
        });
        if let Some(due) = check.due {
            o["effectiveDateTime"] = json!(instant(due));
        }
        o
    }

    fn line_resources(&self, line: &ChartLine) -> Vec<Value> {
        let e = &line.entry;
        match &e.payload {
            Payload::Vitals(v) => self.vitals(line, v),
            Payload::Sedation(s) => vec![self.observation(
                line,
                "moaas",
                "survey",
                json!({
                    "coding": [coding(OBSERVATION_CODES, "moaas", "MOAA/S sedation score")],
                    "text": "MOAA/S (Modified Observer's Assessment of Alertness/Sedation, 0-5)",
                }),
                ("valueInteger", json!(s.moaas)),
            )],
            Payload::Dissociation(d) => vec![self.dissociation(line, d)],
            Payload::Respiration(r) => vec![self.respiration(line, r)],
            Payload::Aldrete(a) => vec![self.aldrete(line, a)],
            Payload::Dose(d) => vec![self.dose(line, d)],
            Payload::Measure(m) => self.measure(line, m),
            // Exported as what it is, in its place in the session, rather than dropped.
            Payload::Unreadable(id) => vec![self.observation(
                line,
                "unreadable",
                "survey",
                json!({ "text": "kapchart chart entry" }),
                (
                    "valueString",
                    json!(format!("entry {id} {}", crate::domain::entry::UNREADABLE)),
                ),
            )],
            _ => Vec::new(),
        }
    }

    /// The resource of `suffix` on the entry that `line` amends, or all of that entry's
    /// resources when none has the same kind.
    fn replaces(&self, line: &ChartLine, rtype: &str, suffix: &str) -> Vec<Value> {
        let e = &line.entry;
        if e.correction != Some(Correction::Amend) {
            return Vec::new();
        }
        let Some(original) = e.corrects.and_then(|id| self.lines.get(&id)) else {
            return Vec::new();
        };
        let keys = resource_keys(&original.entry.payload);
        let same: Vec<_> = keys
            .iter()
            .filter(|(t, s)| *t == rtype && *s == suffix)
            .collect();
        let chosen = if same.is_empty() {
            keys.iter().collect()
        } else {
            same
        };
        chosen
            .into_iter()
            .map(|(t, s)| {
                json!({
                    "url": REPLACES_EXTENSION,
                    "valueReference": reference(t, &entry_resource_id(original.entry.id, s)),
                })
            })
            .collect()
    }

    /// Notes for one resource of an entry: its flags, their acknowledgements, and what
    /// corrected the entry or what it corrects.
    fn notes(&self, line: &ChartLine, suffix: &str) -> Vec<Value> {
        let e = &line.entry;
        let applies = |code: FlagCode| flag_suffix(code).is_none_or(|s| s == suffix);
        let mut notes: Vec<Value> = e
            .flags
            .iter()
            .filter(|f| applies(f.code))
            .map(|f| json!({ "text": format!("kapchart flag: {}", f.text) }))
            .collect();
        // A check closed late is noted once, on the reading's first vital sign.
        if let Payload::Vitals(v) = &e.payload
            && first_vital(v) == Some(suffix)
        {
            for text in self.late.get(&e.id).into_iter().flatten() {
                notes.push(json!({ "text": text }));
            }
        }
        for ack in self.acks.get(&e.id).into_iter().flatten() {
            if let Payload::Acknowledgement(a) = &ack.payload
                && applies(a.flag)
            {
                notes.push(json!({
                    "authorReference": self.practitioner_ref(&ack.author),
                    "time": instant(ack.event_time),
                    "text": format!("Acknowledged (entry {}): {}", ack.id, a.note),
                }));
            }
        }
        if let (Some(Correction::Amend), Some(target)) = (e.correction, e.corrects) {
            notes.push(json!({
                "authorReference": self.practitioner_ref(&e.author),
                "time": instant(e.recorded_time),
                "text": format!(
                    "amends entry {target}: {}",
                    e.reason.as_deref().unwrap_or("no reason recorded")
                ),
            }));
        }
        let (by, amended) = match line.status {
            EntryStatus::Current => return notes,
            EntryStatus::Amended { by } => (by, true),
            EntryStatus::Struck { by } => (by, false),
        };
        let Some(c) = self.lines.get(&by).map(|c| &c.entry) else {
            let verb = if amended { "amended" } else { "struck" };
            notes.push(json!({ "text": format!("entered in error: {verb} by entry {by}") }));
            return notes;
        };
        let reason = c.reason.as_deref().unwrap_or("no reason recorded");
        let text = if amended {
            format!(
                "entered in error: amended by entry {by} ({}): {reason}",
                c.payload
            )
        } else {
            format!("entered in error: struck by entry {by}: {reason}")
        };
        notes.push(json!({
            "authorReference": self.practitioner_ref(&c.author),
            "time": instant(c.recorded_time),
            "text": text,
        }));
        notes
    }

    fn interpretation(line: &ChartLine, suffix: &str) -> Vec<Value> {
        let mut out: Vec<Value> = Vec::new();
        for f in &line.entry.flags {
            if flag_suffix(f.code) != Some(suffix) {
                continue;
            }
            if let Some((code, display)) = interpretation_code(f.code) {
                out.push(json!({
                    "coding": [coding(INTERPRETATION, code, display)],
                    "text": f.text,
                }));
            }
        }
        out
    }

    /// An Observation of one entry; `value` is the value[x] field and its value (or
    /// "component" and the components).
    /// CADSS-6: the total as the value, each item (CADSS items 1, 2, 6, 7, 15, 22) as a
    /// component, in kapchart's CodeSystem (no LOINC code: clinical.md section 7).
    fn dissociation(&self, line: &ChartLine, d: &Dissociation) -> Value {
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
    fn respiration(&self, line: &ChartLine, r: &Respiration) -> Value {
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

    fn observation(
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
            "id": entry_resource_id(e.id, suffix),
            "status": observation_status(standing(line)),
            "category": category(category_code, category_display),
            "code": code,
            "subject": self.patient_ref(),
            "encounter": reference("Encounter", &session_id(e.session_id)),
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
        let replaces = self.replaces(line, "Observation", suffix);
        if !replaces.is_empty() {
            o["extension"] = json!(replaces);
        }
        o
    }

    fn vitals(&self, line: &ChartLine, v: &VitalSigns) -> Vec<Value> {
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

    fn aldrete(&self, line: &ChartLine, a: &AldreteScore) -> Value {
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

    fn dose(&self, line: &ChartLine, d: &Dose) -> Value {
        let e = &line.entry;
        let mut medication = json!({ "text": d.drug });
        if let Some((_, code, display)) = RXNORM
            .iter()
            .find(|(drug, _, _)| drug.eq_ignore_ascii_case(d.drug.trim()))
        {
            medication["coding"] = json!([coding(RXNORM_SYSTEM, code, display)]);
        }
        let mut text = format!(
            "{} {} {}",
            trim_number(d.amount, 3),
            d.unit.label(),
            d.route.label()
        );
        if let Some(m) = d.over_min {
            text.push_str(&format!(" over {m} min"));
        }
        if d.unit != DoseUnit::Mg {
            text.push_str(&format!(" = {} mg", trim_number(d.total_mg, 2)));
        }
        if let Some(w) = d.weight_kg {
            text.push_str(&format!(" (weight {} kg)", trim_number(w, 1)));
        }
        match d.devices {
            Some(1) => text.push_str(", 1 device"),
            Some(n) => text.push_str(&format!(", {n} devices")),
            None => {}
        }
        if let Some(lot) = &d.lot {
            text.push_str(&format!(", lot {lot}"));
        }
        let (route, route_display) = route_code(d.route);
        // To the microgram; a whole number of mg as an integer (4, not 4.0).
        let total_mg = (d.total_mg * 1000.0).round() / 1000.0;
        let total_mg = if total_mg.fract() == 0.0 && total_mg.abs() < 1e15 {
            json!(total_mg as i64)
        } else {
            json!(total_mg)
        };
        let status = match standing(line) {
            Standing::Withdrawn => "entered-in-error",
            _ => match d.over_min {
                Some(m)
                    if e.event_time + TimeDelta::minutes(i64::from(m)) > self.record.exported =>
                {
                    "in-progress"
                }
                _ => "completed",
            },
        };
        let mut ma = json!({
            "resourceType": "MedicationAdministration",
            "id": entry_resource_id(e.id, "dose"),
            "status": status,
            "medicationCodeableConcept": medication,
            "subject": self.patient_ref(),
            "context": reference("Encounter", &session_id(e.session_id)),
            "performer": self.dose_performers(e),
            "dosage": {
                "text": text,
                "route": {
                    "coding": [coding(SNOMED, route, route_display)],
                    "text": d.route.label(),
                },
                "dose": quantity(total_mg, "mg", "mg"),
            },
        });
        // A lot belongs to the product given: a contained Medication with its batch, which
        // the administration references (FHIR R4 Medication.batch.lotNumber).
        if let Some(lot) = &d.lot {
            let id = format!("med-{}", e.id);
            if let Some(obj) = ma.as_object_mut() {
                obj.remove("medicationCodeableConcept");
            }
            ma["contained"] = json!([{
                "resourceType": "Medication",
                "id": id,
                "code": medication,
                "batch": { "lotNumber": lot },
            }]);
            ma["medicationReference"] = json!({ "reference": format!("#{id}") });
        }
        match d.over_min {
            Some(m) => {
                let end = e.event_time + TimeDelta::minutes(i64::from(m));
                ma["effectivePeriod"] = json!({
                    "start": instant(e.event_time),
                    "end": instant(end),
                });
            }
            None => ma["effectiveDateTime"] = json!(instant(e.event_time)),
        }
        let notes = self.notes(line, "dose");
        if !notes.is_empty() {
            ma["note"] = json!(notes);
        }
        let replaces = self.replaces(line, "MedicationAdministration", "dose");
        if !replaces.is_empty() {
            ma["extension"] = json!(replaces);
        }
        ma
    }

    /// Who gave the dose, and who witnessed it (FHIR R4 MedicationAdministration.performer
    /// with its function from the med-admin-perform-function code system: performer,
    /// witness). Ketamine doses are commonly witnessed (21 CFR 1304.22; clinical.md section 3).
    fn dose_performers(&self, e: &Entry) -> Value {
        let mut performers = vec![json!({ "actor": self.practitioner_ref(&e.author) })];
        if let Some(w) = self.witnesses.get(&e.id) {
            performers.push(json!({
                "function": {
                    "coding": [coding(PERFORM_FUNCTION, "witness", "Witness")],
                    "text": format!("witnessed at {} (entry {})", instant(w.event_time), w.id),
                },
                "actor": self.practitioner_ref(&w.author),
            }));
        }
        json!(performers)
    }

    fn measure(&self, line: &ChartLine, m: &MeasureResponse) -> Vec<Value> {
        let e = &line.entry;
        let response_id = entry_resource_id(e.id, "response");
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
        let mut response = json!({
            "resourceType": "QuestionnaireResponse",
            "id": response_id,
            "questionnaire": questionnaire,
            "status": response_status(standing(line)),
            "subject": self.patient_ref(),
            "encounter": reference("Encounter", &session_id(e.session_id)),
            "authored": instant(e.event_time),
            "author": self.practitioner_ref(&e.author),
            "source": self.patient_ref(),
            "item": items,
        });
        let replaces = self.replaces(line, "QuestionnaireResponse", "response");
        if !replaces.is_empty() {
            response["extension"] = json!(replaces);
        }

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

    fn note(&mut self, note: &Note, dosing_number: u32) {
        let Some(sig) = &note.signature else {
            return; // an unsigned draft is not part of the record yet
        };
        let note_id = format!("kapchart-note-{}", note.id);
        let encounter = reference("Encounter", &session_id(note.dosing_session_id));
        let mut authors = vec![self.practitioner_ref(&note.author)];
        if sig.signer != note.author {
            authors.push(self.practitioner_ref(&sig.signer));
        }
        let mut description = format!(
            "Integration note ({}) for dosing {dosing_number} (kapchart session {}), signed by {}",
            note.format.to_uppercase(),
            note.dosing_session_id,
            sig.signer
        );
        if let Some(reason) = &sig.reason {
            description.push_str(&format!("; signed with open items: {reason}"));
        }
        let doc = json!({
            "resourceType": "DocumentReference",
            "id": note_id,
            "status": "current",
            "docStatus": "final",
            "type": { "text": "Integration note" },
            "subject": self.patient_ref(),
            "date": instant(sig.signed),
            "author": authors,
            "authenticator": self.practitioner_ref(&sig.signer),
            "description": description,
            "content": [{ "attachment": attachment(
                &sig.text,
                &sig.sha256,
                &format!("Integration note, dosing {dosing_number}"),
                sig.signed,
                sig.ed25519.as_ref().map(|seal| {
                    let statement = signatures::note_statement(note, sig, seal.public_key);
                    signatures::fhir_extension(&statement, seal, self.practitioner_ref(&sig.signer))
                }),
            ) }],
            "context": { "encounter": [encounter.clone()] },
        });
        self.push(doc);
        for a in &note.addenda {
            self.addendum(note, dosing_number, a, &note_id, &encounter);
        }
    }

    fn addendum(
        &mut self,
        note: &Note,
        dosing_number: u32,
        a: &Addendum,
        note_id: &str,
        encounter: &Value,
    ) {
        let doc = json!({
            "resourceType": "DocumentReference",
            "id": format!("kapchart-addendum-{}", a.id),
            "status": "current",
            "docStatus": "final",
            "type": { "text": "Integration note addendum" },
            "subject": self.patient_ref(),
            "date": instant(a.at),
            "author": [self.practitioner_ref(&a.author)],
            "authenticator": self.practitioner_ref(&a.author),
            "relatesTo": [{
                "code": "appends",
                "target": reference("DocumentReference", note_id),
            }],
            "description": format!(
                "Addendum to the integration note for dosing {dosing_number} (kapchart session {}), by {}",
                note.dosing_session_id, a.author
            ),
            "content": [{ "attachment": attachment(
                &a.text,
                &a.sha256,
                &format!("Addendum, dosing {dosing_number}"),
                a.at,
                a.ed25519.as_ref().map(|seal| {
                    let statement = signatures::addendum_statement(note, a, seal.public_key);
                    signatures::fhir_extension(&statement, seal, self.practitioner_ref(&a.author))
                }),
            ) }],
            "context": { "encounter": [encounter.clone()] },
        });
        self.push(doc);
    }
}

/// A note's or addendum's text as an attachment, with its SHA-256 and, when it has one, its
/// Ed25519 signature (`export::signatures`).
fn attachment(
    text: &str,
    sha256: &str,
    title: &str,
    at: DateTime<FixedOffset>,
    ed25519: Option<Value>,
) -> Value {
    let mut extension = vec![json!({ "url": SHA256_EXTENSION, "valueString": sha256 })];
    extension.extend(ed25519);
    json!({
        "extension": extension,
        "contentType": "text/markdown",
        "data": base64(text.as_bytes()),
        "size": text.len(),
        "title": title,
        "creation": instant(at),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn practitioner_ids_are_stable_and_valid_fhir_ids() {
        let id = practitioner_id("Dr. Mara Quinn");
        assert_eq!(id, practitioner_id("Dr. Mara Quinn"));
        assert_ne!(id, practitioner_id("Dr. Lee"));
        assert!(id.len() <= 64);
        assert!(
            id.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        );
    }

    #[test]
    fn every_flag_code_has_a_place() {
        for code in [
            FlagCode::BpHigh,
            FlagCode::BpPredose,
            FlagCode::Spo2Low,
            FlagCode::HrHigh,
            FlagCode::HrLow,
            FlagCode::RrLow,
            FlagCode::DeepSedation,
        ] {
            assert!(flag_suffix(code).is_some() && interpretation_code(code).is_some());
        }
        assert_eq!(flag_suffix(FlagCode::Late), None);
    }
}
