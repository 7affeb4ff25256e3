//! The wall clock kapchart reads: the one place the binary asks what time it is.
//!
//! Everything below the front ends takes its `now` as an argument; the CLI, the terminal UI
//! and the demo ask here. Release builds read the system clock and nothing else.
//!
//! Debug builds (the test builds) can be shifted, so that the suite runs as if it were just
//! after midnight or at a daylight-saving change, with every process agreeing on the time:
//!
//! - `KAPCHART_TEST_CLOCK_SHIFT=SECONDS` (signed): the clock reads the system clock plus this
//!   many seconds. Processes started at different moments with the same shift agree, and the
//!   clock still runs. `.ci/test` sets it from `KAPCHART_TEST_NOW`.
//! - `KAPCHART_TEST_NOW=2026-12-06T00:15:00` (local wall time, in `TZ`) or with an offset
//!   (`2026-11-01T01:10:00-05:00`): the clock reads that at this process's first question and
//!   runs on from there. For one process by hand (`KAPCHART_TEST_NOW=... kapchart demo`);
//!   a shift takes precedence.
//!
//! A value that cannot be read is reported on standard error once and the system clock is
//! used: the hook never stops the program.

use chrono::{DateTime, FixedOffset, Local, NaiveDate, TimeDelta, Utc};

/// Now, in the local time zone, with its offset.
pub fn now() -> DateTime<FixedOffset> {
    now_local().fixed_offset()
}

/// Now, in the local time zone.
pub fn now_local() -> DateTime<Local> {
    (Utc::now() + shift()).with_timezone(&Local)
}

/// Today's date in the local time zone.
pub fn today() -> NaiveDate {
    now_local().date_naive()
}

#[cfg(not(debug_assertions))]
fn shift() -> TimeDelta {
    TimeDelta::zero()
}

#[cfg(debug_assertions)]
fn shift() -> TimeDelta {
    use std::sync::OnceLock;
    static SHIFT: OnceLock<TimeDelta> = OnceLock::new();
    *SHIFT.get_or_init(|| match test_shift(Utc::now()) {
        Ok(shift) => shift,
        Err(why) => {
            eprintln!("kapchart: {why}; the system clock is used");
            TimeDelta::zero()
        }
    })
}

/// The shift the test hooks ask for, given the system clock at the first question.
#[cfg(debug_assertions)]
fn test_shift(system: DateTime<Utc>) -> Result<TimeDelta, String> {
    let shift = std::env::var("KAPCHART_TEST_CLOCK_SHIFT").ok();
    let at = std::env::var("KAPCHART_TEST_NOW").ok();
    shift_from(shift.as_deref(), at.as_deref(), system, &Local)
}

/// The shift from the two hooks' values (either may be unset), given the system clock.
#[cfg(any(debug_assertions, test))]
fn shift_from<Tz: chrono::TimeZone>(
    shift: Option<&str>,
    at: Option<&str>,
    system: DateTime<Utc>,
    zone: &Tz,
) -> Result<TimeDelta, String> {
    if let Some(seconds) = shift.map(str::trim).filter(|s| !s.is_empty()) {
        return seconds
            .parse::<i64>()
            .ok()
            .and_then(TimeDelta::try_seconds)
            .ok_or_else(|| {
                format!("KAPCHART_TEST_CLOCK_SHIFT={seconds:?} is not a whole number of seconds")
            });
    }
    let Some(at) = at.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(TimeDelta::zero());
    };
    let wanted = parse_instant(at, zone).ok_or_else(|| {
        format!(
            "KAPCHART_TEST_NOW={at:?} is not a time like 2026-12-06T00:15:00 \
             or 2026-11-01T01:10:00-05:00 (a local time that exists once)"
        )
    })?;
    Ok(wanted - system)
}

/// `2026-12-06T00:15[:SS]` in `zone` (a wall time that exists once there), or RFC 3339.
#[cfg(any(debug_assertions, test))]
fn parse_instant<Tz: chrono::TimeZone>(text: &str, zone: &Tz) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    let naive = [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
    ]
    .iter()
    .find_map(|f| chrono::NaiveDateTime::parse_from_str(text, f).ok())?;
    zone.from_local_datetime(&naive)
        .single()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn system() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 6, 13, 0, 0).unwrap()
    }

    #[test]
    fn no_hook_is_the_system_clock() {
        assert_eq!(
            shift_from(None, None, system(), &Utc),
            Ok(TimeDelta::zero())
        );
        assert_eq!(
            shift_from(Some(""), Some(" "), system(), &Utc),
            Ok(TimeDelta::zero())
        );
    }

    #[test]
    fn a_shift_in_seconds_moves_the_clock_either_way() {
        assert_eq!(
            shift_from(Some("-3600"), None, system(), &Utc),
            Ok(TimeDelta::hours(-1))
        );
        assert_eq!(
            shift_from(Some("90"), Some("2020-01-01T00:00"), system(), &Utc),
            Ok(TimeDelta::seconds(90)),
            "the shift takes precedence over a wanted time"
        );
        let refused = shift_from(Some("1.5"), None, system(), &Utc).unwrap_err();
        assert!(refused.contains("KAPCHART_TEST_CLOCK_SHIFT"), "{refused}");
    }

    #[test]
    fn a_wanted_local_time_becomes_the_shift_to_it() {
        let zone = FixedOffset::east_opt(5 * 3600 + 1800).unwrap();
        // 00:15 at +05:30 is 18:45 UTC the day before: 18h15m before the system clock.
        let shift = shift_from(None, Some("2026-12-06T00:15"), system(), &zone).unwrap();
        assert_eq!(shift, TimeDelta::minutes(-(18 * 60 + 15)));
        let shift = shift_from(None, Some("2026-12-06T14:00:00+01:00"), system(), &zone).unwrap();
        assert_eq!(shift, TimeDelta::zero());
    }

    #[test]
    fn a_wanted_time_that_does_not_read_is_named() {
        for bad in ["tomorrow", "2026-13-01T00:00", "00:15"] {
            let why = shift_from(None, Some(bad), system(), &Utc).unwrap_err();
            assert!(
                why.contains("KAPCHART_TEST_NOW") && why.contains(bad),
                "{why}"
            );
        }
    }

    #[test]
    fn a_wall_time_the_clocks_skip_or_repeat_is_refused() {
        let zone: chrono_tz::Tz = "America/New_York".parse().unwrap();
        // 2027-03-14 02:30 does not exist there; 2026-11-01 01:30 happens twice.
        for bad in ["2027-03-14T02:30", "2026-11-01T01:30"] {
            assert!(
                shift_from(None, Some(bad), system(), &zone).is_err(),
                "{bad}"
            );
        }
        assert!(shift_from(None, Some("2026-11-01T01:30:00-05:00"), system(), &zone).is_ok());
    }
}
