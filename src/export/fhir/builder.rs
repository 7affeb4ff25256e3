//! The bundle as it is built: every entry of the record by id (for corrections), the
//! acknowledgements, late checks and witnesses that stand, and which resources each chart
//! entry becomes.

use super::codes::coding;
use super::ids::Ids;
use super::{FHIR_BASE, OBSERVATION_CODES};
use crate::domain::entry::VitalSigns;
use crate::domain::protocol::CheckStatus;
use crate::domain::{ChartLine, Entry, EntryId, EntryStatus, Payload};
use crate::export::Record;
use serde_json::{Value, json};
use std::collections::HashMap;

/// The suffix of a vitals entry's first Observation.
pub(super) fn first_vital(v: &VitalSigns) -> Option<&'static str> {
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

pub(super) struct Builder<'a> {
    pub(super) record: &'a Record,
    /// The ids of the chart's resources.
    pub(super) ids: Ids<'a>,
    pub(super) entries: Vec<Value>,
    /// Every entry of the record by id, for corrections.
    pub(super) lines: HashMap<EntryId, &'a ChartLine>,
    /// Acknowledgements that stand, by the entry they acknowledge.
    pub(super) acks: HashMap<EntryId, Vec<&'a Entry>>,
    /// Protocol checks a reading closed late, by the reading's entry.
    pub(super) late: HashMap<EntryId, Vec<String>>,
    /// Witnesses that stand, by the dose they witnessed.
    pub(super) witnesses: HashMap<EntryId, &'a Entry>,
}

impl<'a> Builder<'a> {
    pub(super) fn new(record: &'a Record) -> Self {
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
            ids: Ids {
                chart: record.chart,
                system: &record.identifier_system,
            },
            entries: Vec::new(),
            lines,
            acks,
            late,
            witnesses,
        }
    }

    pub(super) fn push(&mut self, mut resource: Value) {
        self.ids.stamp(&mut resource);
        let rtype = resource["resourceType"].as_str().unwrap_or_default();
        let id = resource["id"].as_str().unwrap_or_default();
        let full_url = format!("{FHIR_BASE}/{rtype}/{id}");
        self.entries
            .push(json!({ "fullUrl": full_url, "resource": resource }));
    }

    pub(super) fn line_resources(&self, line: &ChartLine) -> Vec<Value> {
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
            Payload::Waste(w) => vec![self.waste(line, w)],
            Payload::RemsSubmitted(r) => vec![self.rems_submission(line, r)],
            Payload::Measure(m) => self.measure(line, m),
            Payload::Observation(o) => {
                vec![self.statement(
                    line,
                    "obs",
                    "exam",
                    "Clinician's observation",
                    o.text.clone(),
                )]
            }
            Payload::Screening(_) => vec![self.statement(
                line,
                "screening",
                "survey",
                "KAP intake screening answer",
                e.payload.to_string(),
            )],
            Payload::Eligibility(_) => vec![self.statement(
                line,
                "eligibility",
                "survey",
                "Eligibility for ketamine-assisted psychotherapy (the clinician's decision)",
                e.payload.to_string(),
            )],
            Payload::Intention(t) => vec![self.statement(
                line,
                "intention",
                "survey",
                "Intention set in preparation",
                t.text.clone(),
            )],
            Payload::Setting(t) => vec![self.statement(
                line,
                "setting",
                "survey",
                "Set and setting agreed in preparation",
                t.text.clone(),
            )],
            Payload::RiskAssessment(r) => vec![self.risk_assessment(line, r)],
            Payload::Consent(t) => vec![self.consent(line, &t.text)],
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
}
