//! Turning a parsed quick-entry line into the entries to write: each with its flags.
//! Pure: the caller supplies what the chart already holds (the first dose time).

use super::grammar::ParsedLine;
use super::thresholds::{AlertThresholds, Flag, FlagCode};
use super::{Payload, SessionKind};
use chrono::{DateTime, Duration, FixedOffset};

/// An entry ready to be written.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedEntry {
    pub payload: Payload,
    pub event_time: DateTime<FixedOffset>,
    pub flags: Vec<Flag>,
}

/// What the session already tells about a new line.
#[derive(Debug, Clone, Copy)]
pub struct SessionContext {
    pub kind: SessionKind,
    /// Event time of the session's first dose still standing (not struck).
    pub first_dose: Option<DateTime<FixedOffset>>,
}

/// The rules that flag entries (from the config).
#[derive(Debug, Clone, Copy)]
pub struct FlagRules<'a> {
    pub alerts: &'a AlertThresholds,
    /// Entries written more than this after their event time are late entries.
    pub late_after: Duration,
}

/// Plans the entries for one line. Vitals count as "before the first dose" in a dosing
/// session when no dose stands at or before their event time, nor earlier on the same line.
pub fn plan_line(
    line: &ParsedLine,
    recorded: DateTime<FixedOffset>,
    session: SessionContext,
    rules: FlagRules<'_>,
) -> Vec<PlannedEntry> {
    let mut dose_earlier_on_line = false;
    line.entries
        .iter()
        .map(|payload| {
            let before_first_dose = session.kind == SessionKind::Dosing
                && !dose_earlier_on_line
                && session.first_dose.is_none_or(|d| line.event_time < d);
            if matches!(payload, Payload::Dose(_)) {
                dose_earlier_on_line = true;
            }
            let mut flags = rules.alerts.flags_for(payload, before_first_dose);
            flags.extend(late_flag(line.event_time, recorded, rules.late_after));
            PlannedEntry {
                payload: payload.clone(),
                event_time: line.event_time,
                flags,
            }
        })
        .collect()
}

/// The late-entry flag, when `recorded` is more than `late_after` after `event`.
pub fn late_flag(
    event: DateTime<FixedOffset>,
    recorded: DateTime<FixedOffset>,
    late_after: Duration,
) -> Option<Flag> {
    let delay = recorded - event;
    (delay > late_after).then(|| Flag {
        code: FlagCode::Late,
        text: format!(
            "late entry: written {} after the event",
            human_duration(delay)
        ),
    })
}

/// "45 min", "2 h 05 min", "3 d 4 h".
pub fn human_duration(d: Duration) -> String {
    let minutes = d.num_minutes();
    if minutes < 60 {
        format!("{minutes} min")
    } else if minutes < 24 * 60 {
        format!("{} h {:02} min", minutes / 60, minutes % 60)
    } else {
        format!("{} d {} h", minutes / (24 * 60), (minutes / 60) % 24)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::entry::{BloodPressure, Dose, DoseUnit, Route, VitalSigns};
    use crate::domain::thresholds::defaults_for_tests;
    use chrono::TimeZone;

    fn at(h: u32, m: u32) -> DateTime<FixedOffset> {
        FixedOffset::east_opt(3600)
            .unwrap()
            .with_ymd_and_hms(2026, 11, 26, h, m, 0)
            .unwrap()
    }

    fn bp(s: u16, d: u16) -> Payload {
        Payload::Vitals(VitalSigns {
            bp: Some(BloodPressure {
                systolic: s,
                diastolic: d,
            }),
            ..Default::default()
        })
    }

    fn dose() -> Payload {
        Payload::Dose(Dose {
            drug: "ketamine".into(),
            amount: 35.0,
            unit: DoseUnit::Mg,
            route: Route::IM,
            over_min: None,
            total_mg: 35.0,
            weight_kg: None,
        })
    }

    fn codes(planned: &[PlannedEntry]) -> Vec<Vec<FlagCode>> {
        planned
            .iter()
            .map(|p| p.flags.iter().map(|f| f.code).collect())
            .collect()
    }

    fn plan(
        entries: Vec<Payload>,
        event: DateTime<FixedOffset>,
        recorded: DateTime<FixedOffset>,
        kind: SessionKind,
        first_dose: Option<DateTime<FixedOffset>>,
    ) -> Vec<PlannedEntry> {
        let alerts = defaults_for_tests();
        plan_line(
            &ParsedLine {
                event_time: event,
                time_given: event != recorded,
                entries,
            },
            recorded,
            SessionContext { kind, first_dose },
            FlagRules {
                alerts: &alerts,
                late_after: Duration::minutes(10),
            },
        )
    }

    #[test]
    fn predose_caution_before_the_first_dose_of_a_dosing_session_only() {
        let p = plan(
            vec![bp(145, 85)],
            at(10, 0),
            at(10, 0),
            SessionKind::Dosing,
            None,
        );
        assert_eq!(codes(&p), [[FlagCode::BpPredose]]);
        let p = plan(
            vec![bp(145, 85)],
            at(10, 0),
            at(10, 0),
            SessionKind::Dosing,
            Some(at(9, 50)),
        );
        assert_eq!(codes(&p), [Vec::<FlagCode>::new()]);
        // A reading back-dated to before the dose is a pre-dose reading.
        let p = plan(
            vec![bp(145, 85)],
            at(9, 45),
            at(9, 52),
            SessionKind::Dosing,
            Some(at(9, 50)),
        );
        assert_eq!(codes(&p), [[FlagCode::BpPredose]]);
        let p = plan(
            vec![bp(145, 85)],
            at(10, 0),
            at(10, 0),
            SessionKind::Intake,
            None,
        );
        assert_eq!(codes(&p), [Vec::<FlagCode>::new()]);
    }

    #[test]
    fn vitals_after_a_dose_on_the_same_line_are_not_predose() {
        let p = plan(
            vec![bp(145, 85), dose(), bp(145, 85)],
            at(10, 0),
            at(10, 0),
            SessionKind::Dosing,
            None,
        );
        assert_eq!(codes(&p), [vec![FlagCode::BpPredose], vec![], vec![]]);
    }

    #[test]
    fn late_after_ten_minutes_not_at_ten() {
        let p = plan(
            vec![bp(120, 80)],
            at(10, 0),
            at(10, 10),
            SessionKind::Dosing,
            Some(at(9, 0)),
        );
        assert_eq!(codes(&p), [Vec::<FlagCode>::new()]);
        let p = plan(
            vec![bp(120, 80)],
            at(10, 0),
            at(10, 11),
            SessionKind::Dosing,
            Some(at(9, 0)),
        );
        assert_eq!(codes(&p), [[FlagCode::Late]]);
        assert_eq!(
            p[0].flags[0].text,
            "late entry: written 11 min after the event"
        );
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(Duration::minutes(45)), "45 min");
        assert_eq!(human_duration(Duration::minutes(125)), "2 h 05 min");
        assert_eq!(human_duration(Duration::minutes(26 * 60)), "1 d 2 h");
    }
}
