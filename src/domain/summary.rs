//! An entry in one line, with what it points at: an acknowledgement says which entry and
//! which alert it acknowledges, a witness which dose of which drug. Every listing of a
//! session (the live timeline, `session show`, the report) asks here, so they say the same.

use super::entry::{Acknowledgement, Witness};
use super::{ChartLine, Entry, EntryId, EntryStatus, Payload};

/// `entry` in one line, read among its session's `lines`. Entries that point at no other
/// entry read as their payload does.
pub fn entry_summary(lines: &[ChartLine], entry: &Entry) -> String {
    let target = |id: EntryId| lines.iter().find(|l| l.entry.id == id).map(|l| &l.entry);
    match &entry.payload {
        Payload::Acknowledgement(a) => acknowledgement(a, target(a.entry)),
        Payload::Witness(Witness { entry: dose }) => match target(*dose).map(|e| &e.payload) {
            Some(Payload::Dose(d)) => format!("Witnessed dose #{dose}: {d}"),
            _ => entry.payload.to_string(),
        },
        p => p.to_string(),
    }
}

/// "Acknowledged #12 [BP 172/108 high (alert at >= 160/100)]: rechecked, prescriber
/// informed": the entry, the alert's own words as it was flagged (in brackets, as `session
/// show` gives flags), and what was decided.
fn acknowledgement(a: &Acknowledgement, target: Option<&Entry>) -> String {
    let flag = target.and_then(|e| e.flags.iter().find(|f| f.code == a.flag));
    match flag {
        Some(f) => format!("Acknowledged #{} [{}]: {}", a.entry, f.text, a.note),
        None => Payload::Acknowledgement(a.clone()).to_string(),
    }
}

/// The acknowledgement that stands for `entry`, if any: what makes its row say
/// "acknowledged".
pub fn acknowledgement_of(lines: &[ChartLine], entry: EntryId) -> Option<&ChartLine> {
    lines.iter().find(|l| {
        l.status == EntryStatus::Current
            && matches!(&l.entry.payload, Payload::Acknowledgement(a) if a.entry == entry)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::entry::{BloodPressure, Dose, DoseUnit, Route, VitalSigns};
    use crate::domain::{Flag, FlagCode, chart_lines};
    use chrono::{DateTime, FixedOffset, TimeZone};

    fn at(m: u32) -> DateTime<FixedOffset> {
        FixedOffset::east_opt(3600)
            .unwrap()
            .with_ymd_and_hms(2026, 11, 26, 10, m, 0)
            .unwrap()
    }

    fn entry(id: EntryId, m: u32, payload: Payload, flags: Vec<Flag>) -> Entry {
        Entry {
            id,
            session_id: 1,
            payload,
            event_time: at(m),
            recorded_time: at(m),
            author: "Nia Nurse".into(),
            flags,
            corrects: None,
            correction: None,
            reason: None,
        }
    }

    #[test]
    fn an_acknowledgement_and_a_witness_say_what_they_point_at() {
        let high = Flag {
            code: FlagCode::BpHigh,
            text: "BP 172/108 high (alert at >= 160/100)".into(),
        };
        let lines = chart_lines(vec![
            entry(
                1,
                0,
                Payload::Dose(Dose {
                    drug: "ketamine".into(),
                    amount: 35.0,
                    unit: DoseUnit::Mg,
                    route: Route::IM,
                    over_min: None,
                    total_mg: 35.0,
                    weight_kg: None,
                    devices: None,
                    lot: None,
                    vial: None,
                    drawn: Vec::new(),
                }),
                vec![],
            ),
            entry(2, 1, Payload::Witness(Witness { entry: 1 }), vec![]),
            entry(
                3,
                40,
                Payload::Vitals(VitalSigns {
                    bp: Some(BloodPressure {
                        systolic: 172,
                        diastolic: 108,
                    }),
                    ..Default::default()
                }),
                vec![high],
            ),
            entry(
                4,
                42,
                Payload::Acknowledgement(Acknowledgement {
                    entry: 3,
                    flag: FlagCode::BpHigh,
                    note: "rechecked, prescriber informed".into(),
                }),
                vec![],
            ),
        ]);
        let said: Vec<String> = lines
            .iter()
            .map(|l| entry_summary(&lines, &l.entry))
            .collect();
        assert_eq!(said[1], "Witnessed dose #1: ketamine 35 mg IM");
        assert_eq!(
            said[3],
            "Acknowledged #3 [BP 172/108 high (alert at >= 160/100)]: rechecked, prescriber informed"
        );
        assert_eq!(acknowledgement_of(&lines, 3).map(|l| l.entry.id), Some(4));
        assert!(acknowledgement_of(&lines, 1).is_none());
        // Read without its session, it still names the entry and the kind of alert.
        assert_eq!(
            lines[3].entry.payload.to_string(),
            "Acknowledged #3 BP alert: rechecked, prescriber informed"
        );
    }
}
