//! An entry planned from a line or a form, before it is written, and the late-entry mark.
//! The plan itself is made by the session's chart (`domain::chart::SessionChart`).

use super::Payload;
use super::thresholds::{Flag, FlagCode};
use chrono::{DateTime, Duration, FixedOffset};

/// An entry ready to be written.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedEntry {
    pub payload: Payload,
    pub event_time: DateTime<FixedOffset>,
    pub flags: Vec<Flag>,
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
    use chrono::TimeZone;

    fn at(h: u32, m: u32) -> DateTime<FixedOffset> {
        FixedOffset::east_opt(3600)
            .unwrap()
            .with_ymd_and_hms(2026, 11, 26, h, m, 0)
            .unwrap()
    }

    #[test]
    fn late_after_ten_minutes_not_at_ten() {
        let ten = Duration::minutes(10);
        assert_eq!(late_flag(at(10, 0), at(10, 10), ten), None);
        let flag = late_flag(at(10, 0), at(10, 11), ten).expect("late");
        assert_eq!(flag.code, FlagCode::Late);
        assert_eq!(flag.text, "late entry: written 11 min after the event");
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(Duration::minutes(45)), "45 min");
        assert_eq!(human_duration(Duration::minutes(125)), "2 h 05 min");
        assert_eq!(human_duration(Duration::minutes(26 * 60)), "1 d 2 h");
    }
}
