//! Time since the first dose, as every screen, note and export labels it: "T+42" minutes
//! after the first dose of the clock drug, "T-5" before it, "+3d" a day or more later. The
//! session's T+ clock (`T+12:05` on the live header) counts seconds and is the live screen's.

use chrono::{DateTime, Duration, FixedOffset};

/// Whole minutes from the first dose to `at` (negative before it); None when no dose was
/// given.
pub fn minutes_after(
    first_dose: Option<DateTime<FixedOffset>>,
    at: DateTime<FixedOffset>,
) -> Option<i64> {
    first_dose.map(|d| (at - d).num_minutes())
}

/// "T+42": a point `minutes` after the first dose (a check's offset, an alert's time);
/// "T-5" before it.
pub fn t_plus_minutes(minutes: i64) -> String {
    if minutes < 0 {
        format!("T{minutes}")
    } else {
        format!("T+{minutes}")
    }
}

/// The label of an event at `at`: "T+42" minutes after the first dose, "T-5" before it,
/// "+3d" a day or more after it, or "" when no dose was given.
pub fn t_plus_label(
    first_dose: Option<DateTime<FixedOffset>>,
    at: DateTime<FixedOffset>,
) -> String {
    match first_dose {
        Some(d) if at - d >= Duration::days(1) => format!("+{}d", (at - d).num_days()),
        Some(d) if at >= d => t_plus_minutes((at - d).num_minutes()),
        Some(d) => format!("T-{}", (d - at).num_minutes()),
        None => String::new(),
    }
}

/// "T+42" for an event at or after the first dose; None before it or without one (the
/// caller then says the time of day).
pub fn t_plus_after(
    first_dose: Option<DateTime<FixedOffset>>,
    at: DateTime<FixedOffset>,
) -> Option<String> {
    match first_dose {
        Some(d) if at >= d => Some(t_plus_minutes((at - d).num_minutes())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32) -> DateTime<FixedOffset> {
        FixedOffset::east_opt(3600)
            .unwrap()
            .with_ymd_and_hms(2026, 3, 4, h, m, 0)
            .unwrap()
    }

    #[test]
    fn the_label_reads_minutes_after_minutes_before_and_days_later() {
        let dose = Some(at(10, 10));
        assert_eq!(t_plus_label(dose, at(10, 40)), "T+30");
        assert_eq!(t_plus_label(dose, at(10, 10)), "T+0");
        assert_eq!(t_plus_label(dose, at(10, 0)), "T-10");
        assert_eq!(t_plus_label(dose, at(10, 9) + Duration::days(1)), "T+1439");
        assert_eq!(t_plus_label(dose, at(10, 10) + Duration::days(3)), "+3d");
        assert_eq!(t_plus_label(None, at(10, 0)), "");
        assert_eq!(minutes_after(dose, at(10, 0)), Some(-10));
        assert_eq!(minutes_after(None, at(10, 0)), None);
        assert_eq!(t_plus_after(dose, at(10, 0)), None);
        assert_eq!(t_plus_after(dose, at(11, 0)).as_deref(), Some("T+50"));
        assert_eq!(t_plus_minutes(40), "T+40");
        assert_eq!(t_plus_minutes(-5), "T-5");
    }
}
