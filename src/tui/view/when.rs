//! Times and durations as the screens write them: a clock time is `HH:MM`, with its date
//! when a table's rows fall on more than one date; a duration is in words (`23 min`,
//! `1 h 5 min`), so that it is never read as a time of day. The session clock `T+mm:ss` is
//! the one exception: it is labelled and it ticks.

use chrono::{DateTime, Duration, FixedOffset, NaiveDate};

/// How a table shows the times of its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dates {
    /// Every row on one date: the time alone.
    One,
    /// Rows on more than one date, with room for it: `05 Dec 23:40` in the time column.
    InColumn,
    /// Rows on more than one date and no room: each day's rows are headed by a row naming
    /// the date, and the time column keeps `HH:MM`.
    InRows,
}

/// Whether `times` fall on more than one date (each as written, in its own offset).
pub fn spans_dates(times: impl IntoIterator<Item = DateTime<FixedOffset>>) -> bool {
    let mut first: Option<NaiveDate> = None;
    for t in times {
        match first {
            None => first = Some(t.date_naive()),
            Some(d) if d != t.date_naive() => return true,
            Some(_) => {}
        }
    }
    false
}

/// The time column's text for `at`.
pub fn time_cell(at: DateTime<FixedOffset>, dates: Dates) -> String {
    match dates {
        Dates::InColumn => at.format("%d %b %H:%M").to_string(),
        Dates::One | Dates::InRows => at.format("%H:%M").to_string(),
    }
}

/// The width of the time column: `HH:MM`, `dd Mon HH:MM`, or room for a day row's
/// `dd Mon`.
pub fn time_width(dates: Dates) -> u16 {
    match dates {
        Dates::One => 5,
        Dates::InColumn => 12,
        Dates::InRows => 6,
    }
}

/// A day row's label: `05 Dec`.
pub fn day_label(day: NaiveDate) -> String {
    day.format("%d %b").to_string()
}

/// A duration in words, whole minutes down: "under 1 min", "23 min", "1 h 5 min".
pub fn minutes(d: Duration) -> String {
    words(d.num_minutes().max(0))
}

/// A wait in words, whole minutes up (a check due in 2 min 10 s is "in 3 min").
pub fn minutes_up(d: Duration) -> String {
    let s = d.num_seconds().max(0);
    words((s + 59) / 60)
}

fn words(min: i64) -> String {
    match min {
        0 => "under 1 min".to_string(),
        m if m < 60 => format!("{m} min"),
        m if m % 60 == 0 => format!("{} h", m / 60),
        m => format!("{} h {} min", m / 60, m % 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_words_never_a_time_of_day() {
        assert_eq!(minutes(Duration::seconds(23 * 60 + 59)), "23 min");
        assert_eq!(minutes(Duration::seconds(30)), "under 1 min");
        assert_eq!(minutes(Duration::minutes(65)), "1 h 5 min");
        assert_eq!(minutes(Duration::minutes(120)), "2 h");
        assert_eq!(minutes_up(Duration::seconds(130)), "3 min");
        assert_eq!(minutes_up(Duration::seconds(0)), "under 1 min");
    }
}
