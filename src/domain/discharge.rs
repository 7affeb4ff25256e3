//! Discharge: the modified Aldrete items, the ride home, the patient-ready time, and the
//! reminders shown when a dosing session is ended. kapchart never decides: each concern is a
//! reminder the clinician may override with a reason, which is recorded on the session end.

use super::entry::AldreteScore;
use super::protocol::{ProtocolConfig, minimum_observation_until};
use super::{ChartLine, EntryId, EntryStatus, Payload, SessionKind};
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The discharge reminders' settings, from the `[discharge]` table of the config (unknown
/// keys refused). The minimum observation time is the protocol's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "DischargeToml")]
pub struct DischargeRules {
    /// Remind when the modified Aldrete total is below this (0-10).
    pub aldrete_at_least: u8,
    /// Remind when no ride home is recorded.
    pub ride_home_required: bool,
}

/// The `[discharge]` table as written, before it is checked.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DischargeToml {
    aldrete_at_least: u8,
    ride_home_required: bool,
}

impl TryFrom<DischargeToml> for DischargeRules {
    type Error = String;
    fn try_from(t: DischargeToml) -> Result<Self, Self::Error> {
        if t.aldrete_at_least > 10 {
            return Err(format!(
                "discharge aldrete_at_least {} is above the score's maximum of 10",
                t.aldrete_at_least
            ));
        }
        Ok(DischargeRules {
            aldrete_at_least: t.aldrete_at_least,
            ride_home_required: t.ride_home_required,
        })
    }
}

/// One modified Aldrete item with what each score means (clinical.md section 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AldreteItem {
    pub name: &'static str,
    /// What scores 0, 1 and 2 mean, indexed by score.
    pub scores: [&'static str; 3],
}

impl AldreteItem {
    /// What `score` means, or None outside 0-2.
    pub fn describe(&self, score: u8) -> Option<&'static str> {
        self.scores.get(usize::from(score)).copied()
    }
}

/// The five modified Aldrete items, in the order of `AldreteScore`'s fields and of
/// `aldrete_items` / `aldrete_score`.
pub const ALDRETE_ITEMS: [AldreteItem; 5] = [
    AldreteItem {
        name: "activity",
        scores: ["moves no limbs", "moves 2 limbs", "moves 4 limbs"],
    },
    AldreteItem {
        name: "respiration",
        scores: [
            "apnoeic",
            "dyspnoea or shallow breathing",
            "breathes deeply and coughs freely",
        ],
    },
    AldreteItem {
        name: "circulation",
        scores: [
            "BP beyond 50 mmHg of pre-sedation",
            "BP 20-50 mmHg of pre-sedation",
            "BP within 20 mmHg of pre-sedation",
        ],
    },
    AldreteItem {
        name: "consciousness",
        scores: ["not responding", "arousable on calling", "fully awake"],
    },
    AldreteItem {
        name: "SpO2",
        scores: [
            "< 90% even with O2",
            "needs O2 to keep > 90%",
            "> 92% on room air",
        ],
    },
];

/// The five items with their 0/1/2 descriptions, for the discharge panel.
pub fn aldrete_item_labels() -> &'static [AldreteItem; 5] {
    &ALDRETE_ITEMS
}

/// The item scores of `score`, in `ALDRETE_ITEMS` order.
pub fn aldrete_items(score: &AldreteScore) -> [u8; 5] {
    [
        score.activity,
        score.respiration,
        score.circulation,
        score.consciousness,
        score.spo2,
    ]
}

/// Builds a score from the item scores in `ALDRETE_ITEMS` order, each 0-2.
pub fn aldrete_score(items: [u8; 5]) -> Result<AldreteScore, String> {
    let [activity, respiration, circulation, consciousness, spo2] = items;
    let score = AldreteScore {
        activity,
        respiration,
        circulation,
        consciousness,
        spo2,
    };
    validate_aldrete(&score)?;
    Ok(score)
}

/// Each item must be 0, 1 or 2; the error names the first item that is not.
pub fn validate_aldrete(score: &AldreteScore) -> Result<(), String> {
    for (item, value) in ALDRETE_ITEMS.iter().zip(aldrete_items(score)) {
        if value > 2 {
            return Err(format!(
                "Aldrete {} must be 0, 1 or 2 (got {value})",
                item.name
            ));
        }
    }
    Ok(())
}

/// What the chart holds for discharge: the latest current entry of each kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DischargeState {
    pub aldrete: Option<(EntryId, AldreteScore)>,
    pub ride: Option<String>,
    pub ready_at: Option<DateTime<FixedOffset>>,
}

/// The latest (by event time, then entry id) current Aldrete, ride home and patient-ready
/// entries. Struck and amended-away entries do not count; an amending entry does.
pub fn discharge_state(lines: &[ChartLine]) -> DischargeState {
    let mut current: Vec<&ChartLine> = lines
        .iter()
        .filter(|l| l.status == EntryStatus::Current)
        .collect();
    current.sort_by_key(|l| (l.entry.event_time, l.entry.id));
    let mut state = DischargeState::default();
    for l in current {
        match &l.entry.payload {
            Payload::Aldrete(a) => state.aldrete = Some((l.entry.id, *a)),
            Payload::RideHome(r) => state.ride = Some(r.who.clone()),
            Payload::PatientReady => state.ready_at = Some(l.entry.event_time),
            _ => {}
        }
    }
    state
}

/// A reminder shown when a dosing session is ended; the clinician may end it anyway with a
/// reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DischargeConcern {
    /// Ending before the minimum observation after the first dose (Spravato REMS: 2 hours).
    BeforeMinimumObservation {
        until: DateTime<FixedOffset>,
        /// Whole minutes left, rounded up.
        minutes_left: i64,
        /// The minimum observation, in minutes after the first dose.
        minimum_min: u32,
    },
    NoRideHome,
    NoAldrete,
    AldreteBelow {
        total: u8,
        at_least: u8,
    },
    /// An alert on an entry that nobody acknowledged.
    AlertOpen {
        entry: EntryId,
        at: DateTime<FixedOffset>,
        text: String,
    },
    /// A protocol check with no reading (missed, or overdue when the session ends).
    CheckMissed {
        check: String,
    },
    /// A waste charted in the session that no second clinician has witnessed yet (two-person
    /// witnessing of waste: clinical.md section 8).
    WasteUnwitnessed {
        entry: EntryId,
        at: DateTime<FixedOffset>,
    },
}

impl fmt::Display for DischargeConcern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DischargeConcern::BeforeMinimumObservation {
                until,
                minutes_left,
                minimum_min,
            } => write!(
                f,
                "ending {minutes_left} min before the {minimum_min}-min minimum observation (until {})",
                until.format("%H:%M")
            ),
            DischargeConcern::NoRideHome => {
                f.write_str("no ride home recorded (the patient may not drive after ketamine)")
            }
            DischargeConcern::NoAldrete => f.write_str("no modified Aldrete score recorded"),
            DischargeConcern::AldreteBelow { total, at_least } => write!(
                f,
                "modified Aldrete {total}/10, below the suggested {at_least}"
            ),
            DischargeConcern::AlertOpen { entry, at, text } => write!(
                f,
                "alert not acknowledged: {text} at {} (entry {entry})",
                at.format("%H:%M")
            ),
            DischargeConcern::CheckMissed { check } => {
                write!(f, "protocol check without a reading: {check}")
            }
            DischargeConcern::WasteUnwitnessed { entry, at } => write!(
                f,
                "waste not witnessed: entry {entry} at {}",
                at.format("%H:%M")
            ),
        }
    }
}

/// The reminders for ending a session at `now`. Empty for sessions other than dosing. The
/// minimum observation needs a first dose; the ride home and Aldrete reminders apply to every
/// dosing session (a session that gave no dose is ended with that as the reason).
pub fn concerns(
    kind: SessionKind,
    protocol: &ProtocolConfig,
    rules: &DischargeRules,
    first_dose: Option<DateTime<FixedOffset>>,
    state: &DischargeState,
    now: DateTime<FixedOffset>,
) -> Vec<DischargeConcern> {
    let mut out = Vec::new();
    if kind != SessionKind::Dosing {
        return out;
    }
    if let Some(until) = minimum_observation_until(protocol, first_dose).filter(|u| now < *u) {
        let seconds = (until - now).num_seconds();
        out.push(DischargeConcern::BeforeMinimumObservation {
            until,
            minutes_left: (seconds + 59) / 60,
            minimum_min: protocol.minimum_observation_min,
        });
    }
    if rules.ride_home_required && state.ride.as_deref().is_none_or(|w| w.trim().is_empty()) {
        out.push(DischargeConcern::NoRideHome);
    }
    match state.aldrete {
        None => out.push(DischargeConcern::NoAldrete),
        Some((_, a)) if a.total() < rules.aldrete_at_least => {
            out.push(DischargeConcern::AldreteBelow {
                total: a.total(),
                at_least: rules.aldrete_at_least,
            })
        }
        Some(_) => {}
    }
    out
}

#[cfg(test)]
mod tests;
