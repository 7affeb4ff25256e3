//! Where an entry stands (it stands, it amends an earlier one, it was amended away or struck)
//! as the status of its resources, and what is said about it: its flags as interpretations
//! and notes, their acknowledgements, and the corrections that touch it.

use super::builder::{Builder, first_vital};
use super::codes::{INTERPRETATION, coding};
use super::ids::instant;
use crate::domain::{ChartLine, Correction, EntryStatus, FlagCode, Payload};
use serde_json::{Value, json};

/// Which resource of an entry a flag is about (None: all of them).
pub(super) fn flag_suffix(code: FlagCode) -> Option<&'static str> {
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
pub(super) fn interpretation_code(code: FlagCode) -> Option<(&'static str, &'static str)> {
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
pub(super) enum Standing {
    /// Stands; corrects nothing.
    Final,
    /// Stands and amends an earlier entry.
    Replacement,
    /// Amended away or struck.
    Withdrawn,
}

pub(super) fn standing(line: &ChartLine) -> Standing {
    match line.status {
        EntryStatus::Current if line.entry.correction == Some(Correction::Amend) => {
            Standing::Replacement
        }
        EntryStatus::Current => Standing::Final,
        EntryStatus::Amended { .. } | EntryStatus::Struck { .. } => Standing::Withdrawn,
    }
}

/// R4 Observation.status (https://hl7.org/fhir/R4/valueset-observation-status.html): a
/// replacement is `corrected`, "the Observation has been modified subsequent to being Final,
/// and the modifications correct an error", which is what an amendment with its reason is.
pub(super) fn observation_status(s: Standing) -> &'static str {
    match s {
        Standing::Final => "final",
        Standing::Replacement => "corrected",
        Standing::Withdrawn => "entered-in-error",
    }
}

pub(super) fn response_status(s: Standing) -> &'static str {
    match s {
        Standing::Final => "completed",
        Standing::Replacement => "amended",
        Standing::Withdrawn => "entered-in-error",
    }
}

impl<'a> Builder<'a> {
    /// Notes for one resource of an entry: its flags, their acknowledgements, and what
    /// corrected the entry or what it corrects.
    pub(super) fn notes(&self, line: &ChartLine, suffix: &str) -> Vec<Value> {
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
            let was = self
                .lines
                .get(&target)
                .map(|t| format!(" (was: {})", t.entry.payload))
                .unwrap_or_default();
            notes.push(json!({
                "authorReference": self.practitioner_ref(&e.author),
                "time": instant(e.recorded_time),
                "text": format!(
                    "corrects entry {target}{was}: {}",
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

    /// The entry whose resources an entry's resources are: for an amendment (or a chain of
    /// them), the entry first replaced, so that a correction updates the same resources in
    /// place (the server keeps the replaced values in its history; the export says them in
    /// the note); for any other entry, itself.
    pub(super) fn resource_owner(&self, line: &ChartLine) -> crate::domain::EntryId {
        let mut at = &line.entry;
        while at.correction == Some(Correction::Amend) {
            match at.corrects.and_then(|id| self.lines.get(&id)) {
                Some(earlier) => at = &earlier.entry,
                None => break,
            }
        }
        at.id
    }

    /// Corrections the FHIR way: an entry's resources under the ids of the entry it first
    /// replaced (`resource_owner`). Of a chain of amendments the one that stands wins each
    /// id; what an earlier link made and the standing one does not make again stays, as
    /// `entered-in-error`, under the first entry's id. `resources` are a session's, in
    /// order, each with whether its entry stands.
    pub(super) fn in_place(&self, resources: Vec<(Value, bool)>) -> Vec<Value> {
        let standing: std::collections::HashSet<String> = resources
            .iter()
            .filter(|(_, current)| *current)
            .filter_map(|(r, _)| r["id"].as_str().map(str::to_string))
            .collect();
        let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
        resources
            .into_iter()
            .filter(|(r, current)| {
                let id = r["id"].as_str().unwrap_or_default().to_string();
                *current || (!standing.contains(&id) && seen.insert(id))
            })
            .map(|(r, _)| r)
            .collect()
    }

    pub(super) fn interpretation(line: &ChartLine, suffix: &str) -> Vec<Value> {
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
}

#[cfg(test)]
mod tests {
    use super::*;

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
