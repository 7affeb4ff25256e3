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
mod tests {
    use super::*;
    use crate::domain::entry::RideHome;
    use crate::domain::protocol::Phase;
    use crate::domain::{Correction, Entry, chart_lines};
    use chrono::TimeZone;

    fn at(h: u32, m: u32) -> DateTime<FixedOffset> {
        FixedOffset::east_opt(3600)
            .unwrap()
            .with_ymd_and_hms(2026, 11, 26, h, m, 0)
            .unwrap()
    }

    fn protocol() -> ProtocolConfig {
        ProtocolConfig {
            baseline: true,
            phases: vec![Phase {
                every_min: 15,
                until_min: None,
                bp: false,
            }],
            bp_at_min: vec![40],
            minimum_observation_min: 120,
            overdue_after_min: 3,
            early_min: 5,
        }
    }

    fn rules() -> DischargeRules {
        DischargeRules {
            aldrete_at_least: 9,
            ride_home_required: true,
        }
    }

    fn score(items: [u8; 5]) -> AldreteScore {
        aldrete_score(items).unwrap()
    }

    fn ready_state() -> DischargeState {
        DischargeState {
            aldrete: Some((7, score([2, 2, 2, 2, 1]))),
            ride: Some("partner (Sam)".into()),
            ready_at: Some(at(11, 55)),
        }
    }

    fn concerns_at(
        kind: SessionKind,
        state: &DischargeState,
        now: DateTime<FixedOffset>,
    ) -> Vec<DischargeConcern> {
        concerns(kind, &protocol(), &rules(), Some(at(10, 0)), state, now)
    }

    #[test]
    fn shipped_config_has_the_suggested_rules() {
        assert_eq!(crate::config::Config::default().discharge, rules());
    }

    #[test]
    fn no_concerns_when_all_is_well() {
        assert_eq!(
            concerns_at(SessionKind::Dosing, &ready_state(), at(12, 0)),
            []
        );
    }

    #[test]
    fn ending_before_the_minimum_observation() {
        let got = concerns_at(SessionKind::Dosing, &ready_state(), at(11, 25));
        assert_eq!(
            got,
            [DischargeConcern::BeforeMinimumObservation {
                until: at(12, 0),
                minutes_left: 35,
                minimum_min: 120,
            }]
        );
        assert_eq!(
            got[0].to_string(),
            "ending 35 min before the 120-min minimum observation (until 12:00)"
        );
        // Part of a minute left counts as a minute.
        let now = at(11, 59) + chrono::Duration::seconds(30);
        assert!(matches!(
            concerns_at(SessionKind::Dosing, &ready_state(), now)[..],
            [DischargeConcern::BeforeMinimumObservation {
                minutes_left: 1,
                ..
            }]
        ));
        // No dose, no minimum observation.
        let got = concerns(
            SessionKind::Dosing,
            &protocol(),
            &rules(),
            None,
            &ready_state(),
            at(10, 5),
        );
        assert_eq!(got, []);
    }

    #[test]
    fn no_ride_home() {
        for ride in [None, Some("  ".to_string())] {
            let state = DischargeState {
                ride,
                ..ready_state()
            };
            let got = concerns_at(SessionKind::Dosing, &state, at(12, 30));
            assert_eq!(got, [DischargeConcern::NoRideHome]);
            assert_eq!(
                got[0].to_string(),
                "no ride home recorded (the patient may not drive after ketamine)"
            );
        }
        let state = DischargeState {
            ride: None,
            ..ready_state()
        };
        let lenient = DischargeRules {
            ride_home_required: false,
            ..rules()
        };
        let got = concerns(
            SessionKind::Dosing,
            &protocol(),
            &lenient,
            Some(at(10, 0)),
            &state,
            at(12, 30),
        );
        assert_eq!(got, []);
    }

    #[test]
    fn no_aldrete_or_below_the_suggested_total() {
        let none = DischargeState {
            aldrete: None,
            ..ready_state()
        };
        let got = concerns_at(SessionKind::Dosing, &none, at(12, 30));
        assert_eq!(got, [DischargeConcern::NoAldrete]);
        assert_eq!(got[0].to_string(), "no modified Aldrete score recorded");

        let low = DischargeState {
            aldrete: Some((3, score([2, 2, 1, 2, 1]))),
            ..ready_state()
        };
        let got = concerns_at(SessionKind::Dosing, &low, at(12, 30));
        assert_eq!(
            got,
            [DischargeConcern::AldreteBelow {
                total: 8,
                at_least: 9
            }]
        );
        assert_eq!(
            got[0].to_string(),
            "modified Aldrete 8/10, below the suggested 9"
        );

        let nine = DischargeState {
            aldrete: Some((3, score([2, 2, 1, 2, 2]))),
            ..ready_state()
        };
        assert_eq!(concerns_at(SessionKind::Dosing, &nine, at(12, 30)), []);
    }

    #[test]
    fn every_concern_at_once_in_a_fixed_order() {
        let got = concerns_at(SessionKind::Dosing, &DischargeState::default(), at(10, 30));
        assert_eq!(got.len(), 3);
        assert!(matches!(
            got[0],
            DischargeConcern::BeforeMinimumObservation {
                minutes_left: 90,
                ..
            }
        ));
        assert_eq!(
            got[1..],
            [DischargeConcern::NoRideHome, DischargeConcern::NoAldrete]
        );
    }

    #[test]
    fn other_sessions_have_no_concerns() {
        for kind in SessionKind::ALL
            .into_iter()
            .filter(|k| *k != SessionKind::Dosing)
        {
            assert_eq!(
                concerns_at(kind, &DischargeState::default(), at(10, 30)),
                [],
                "{kind}"
            );
        }
    }

    #[test]
    fn aldrete_labels_follow_the_reference() {
        let items = aldrete_item_labels();
        let names: Vec<&str> = items.iter().map(|i| i.name).collect();
        assert_eq!(
            names,
            [
                "activity",
                "respiration",
                "circulation",
                "consciousness",
                "SpO2"
            ]
        );
        assert_eq!(items[0].describe(2), Some("moves 4 limbs"));
        assert_eq!(items[2].describe(1), Some("BP 20-50 mmHg of pre-sedation"));
        assert_eq!(items[4].describe(0), Some("< 90% even with O2"));
        assert_eq!(items[3].describe(3), None);
    }

    #[test]
    fn aldrete_items_must_be_0_1_or_2() {
        let s = aldrete_score([2, 1, 0, 2, 2]).unwrap();
        assert_eq!(s.total(), 7);
        assert_eq!(aldrete_items(&s), [2, 1, 0, 2, 2]);
        assert_eq!(
            aldrete_score([2, 2, 3, 2, 2]).unwrap_err(),
            "Aldrete circulation must be 0, 1 or 2 (got 3)"
        );
        let bad = AldreteScore { spo2: 9, ..s };
        assert_eq!(
            validate_aldrete(&bad).unwrap_err(),
            "Aldrete SpO2 must be 0, 1 or 2 (got 9)"
        );
    }

    #[test]
    fn rules_refuse_an_impossible_total_and_unknown_keys() {
        let err =
            toml::from_str::<DischargeRules>("aldrete_at_least = 11\nride_home_required = true\n")
                .unwrap_err()
                .to_string();
        assert!(err.contains("maximum of 10"), "{err}");
        let err = toml::from_str::<DischargeRules>(
            "aldrete_at_least = 9\nride_home_required = true\nride = 1\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("ride"), "{err}");
    }

    #[test]
    fn state_takes_the_latest_current_entry_of_each_kind() {
        let entry = |id, payload, event_time, corrects: Option<(EntryId, Correction)>| Entry {
            id,
            session_id: 1,
            payload,
            event_time,
            recorded_time: event_time,
            author: "dr".into(),
            flags: vec![],
            corrects: corrects.map(|c| c.0),
            correction: corrects.map(|c| c.1),
            reason: corrects.map(|_| "correction".into()),
        };
        let ride = |who: &str| Payload::RideHome(RideHome { who: who.into() });
        let lines = chart_lines(vec![
            entry(
                1,
                Payload::Aldrete(score([2, 2, 2, 2, 2])),
                at(11, 50),
                None,
            ),
            entry(
                2,
                Payload::Aldrete(score([1, 2, 2, 2, 2])),
                at(11, 40),
                None,
            ),
            entry(3, ride("taxi"), at(10, 0), None),
            entry(4, ride("sister"), at(10, 5), None),
            entry(5, Payload::Strike, at(10, 6), Some((4, Correction::Strike))),
            entry(6, Payload::PatientReady, at(11, 55), None),
            entry(
                7,
                Payload::Aldrete(score([2, 2, 1, 2, 2])),
                at(11, 50),
                Some((1, Correction::Amend)),
            ),
        ]);
        let state = discharge_state(&lines);
        assert_eq!(state.aldrete, Some((7, score([2, 2, 1, 2, 2]))));
        assert_eq!(state.ride.as_deref(), Some("taxi"));
        assert_eq!(state.ready_at, Some(at(11, 55)));
        assert_eq!(discharge_state(&[]), DischargeState::default());
    }
}
