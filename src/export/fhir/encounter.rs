//! A session as an Encounter, followed by its entries' resources, its missed protocol checks
//! and its signed note.

use super::builder::Builder;
use super::codes::{ACT_CODE, DATA_ABSENT, LOINC, category, coding};
use super::ids::{instant, reference};
use crate::domain::protocol::{Check, CheckKind, CheckStatus};
use crate::export::SessionRecord;
use serde_json::{Value, json};

impl<'a> Builder<'a> {
    pub(super) fn session(&mut self, s: &'a SessionRecord) {
        let session = &s.session;
        // The session's period: from its first entry (charted before it was opened, when so).
        let mut period = json!({ "start": instant(s.period.start) });
        if let Some(end) = s.period.end {
            period["end"] = json!(instant(end));
        }
        // Every clinician who charted in the session, the one who opened it first.
        let mut people: Vec<&str> = vec![session.clinician.as_str()];
        for line in &s.lines {
            if !people.contains(&line.entry.author.as_str()) {
                people.push(line.entry.author.as_str());
            }
        }
        let participants: Vec<Value> = people
            .iter()
            .map(|name| json!({ "individual": self.practitioner_ref(name) }))
            .collect();
        let mut encounter = json!({
            "resourceType": "Encounter",
            "id": self.ids.session(session.id),
            "status": if session.ended.is_some() { "finished" } else { "in-progress" },
            "class": coding(ACT_CODE, "AMB", "ambulatory"),
            "type": [{ "text": session.kind.as_str() }],
            "subject": self.patient_ref(),
            "participant": participants,
            "period": period,
        });
        // An integration session belongs to the dosing session it integrates: R4
        // Encounter.partOf, "another Encounter of which this encounter is a part of
        // (administratively or in time)" (https://hl7.org/fhir/R4/encounter-definitions.html#Encounter.partOf).
        if let Some(dosing) = session.dosing_session_id {
            encounter["partOf"] = reference("Encounter", &self.ids.session(dosing));
        }
        self.push(encounter);
        let mut resources: Vec<(Value, bool)> = Vec::new();
        for line in &s.lines {
            let current = line.status == crate::domain::EntryStatus::Current;
            resources.extend(self.line_resources(line).into_iter().map(|r| (r, current)));
        }
        for resource in self.in_place(resources) {
            self.push(resource);
        }
        for check in s.checks.iter().filter(|c| c.status == CheckStatus::Missed) {
            let resource = self.missed_check(s, check);
            self.push(resource);
        }
        if let Some(note) = &s.note {
            self.note(note, s.number_in_course);
        }
    }

    /// The id of the Observation of a protocol check that got no reading.
    pub(super) fn check_id(&self, s: &SessionRecord, check: &Check) -> String {
        let which = match (check.kind, check.t_plus_min) {
            (CheckKind::Baseline, _) | (_, None) => "baseline".to_string(),
            (kind, Some(t)) => format!("t{t}{}", kind.id_suffix()),
        };
        self.ids.check(s.session.id, &which)
    }

    /// A protocol check that got no reading: an Observation that was not performed
    /// (status cancelled, dataAbsentReason not-performed) at the check's due time, so that
    /// the missed check is part of the exported record.
    pub(super) fn missed_check(&self, s: &SessionRecord, check: &Check) -> Value {
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
            "id": self.check_id(s, check),
            "status": "cancelled",
            "category": category("vital-signs", "Vital Signs"),
            "code": code,
            "subject": self.patient_ref(),
            "encounter": reference("Encounter", &self.ids.session(s.session.id)),
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
}
