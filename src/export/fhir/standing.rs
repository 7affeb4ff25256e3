//! Where an entry stands (it stands, it amends an earlier one, it was amended away or struck)
//! as the status of its resources, and what is said about it: its flags as interpretations
//! and notes, their acknowledgements, and the corrections that touch it.

use super::REPLACES_EXTENSION;
use super::builder::{Builder, first_vital, resource_keys};
use super::codes::{INTERPRETATION, coding};
use super::ids::{instant, reference};
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

pub(super) fn observation_status(s: Standing) -> &'static str {
    match s {
        Standing::Final => "final",
        Standing::Replacement => "amended",
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
    /// The resource of `suffix` on the entry that `line` amends, or all of that entry's
    /// resources when none has the same kind.
    pub(super) fn replaces(&self, line: &ChartLine, rtype: &str, suffix: &str) -> Vec<Value> {
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
                    "valueReference": reference(t, &self.ids.entry(original.entry.id, s)),
                })
            })
            .collect()
    }

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
