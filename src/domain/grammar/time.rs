//! The time a line happened: `@14:05` (the most recent moment the clock showed it) or
//! `@-10m` (that long ago), resolved in the clinician's zone across midnight and the clocks
//! changing. Without a time, a line happens when it is typed.

use chrono::{DateTime, FixedOffset, LocalResult, NaiveTime, TimeDelta, TimeZone};

use super::error::{EX_TIME, EX_TIME_AGO, GrammarError};
use super::numbers::parse_whole;
use super::tokens::{Cursor, Token};

/// How far back `@-…` may reach. Also a typo catcher: a session does not last a day.
pub(super) const MAX_AGO_SECS: u64 = 24 * 60 * 60;
/// `@HH:MM` reaches back at most this far (to yesterday, after midnight). A typo catcher: a
/// time later today is in the future, not yesterday's.
pub(super) const MAX_CLOCK_AGO_SECS: i64 = 12 * 60 * 60;
/// A clock time up to this far after now is accepted (typed as the minute turns).
pub(super) const FUTURE_SLACK_SECS: i64 = 60;

/// A free text's own time, as a line's: a leading `@14:05` or `@-5m` resolved at `now`, and
/// the text after it. The time is None when the text does not start with `@` (the caller's
/// now stands). An acknowledgement's note takes its time so.
pub fn time_prefix<'t, Tz: TimeZone>(
    text: &'t str,
    now: &DateTime<Tz>,
) -> Result<(Option<DateTime<FixedOffset>>, &'t str), GrammarError> {
    let mut cur = Cursor::new(text);
    match cur.peek() {
        Some(first) if first.text.starts_with('@') => {
            let at = resolve_time(first, now)?;
            let (rest, _) = cur.take_rest_after(first);
            Ok((Some(at), rest))
        }
        _ => Ok((None, text.trim())),
    }
}

pub(super) fn resolve_time<Tz: TimeZone>(
    tok: Token<'_>,
    now: &DateTime<Tz>,
) -> Result<DateTime<FixedOffset>, GrammarError> {
    let body = tok.text.strip_prefix('@').unwrap_or(tok.text);
    if body.is_empty() {
        return Err(GrammarError::at(
            tok,
            "A time is missing after @; give @HH:MM or @-10m (10 minutes ago)",
            EX_TIME,
        ));
    }

    if let Some(ago) = body.strip_prefix('-') {
        let secs =
            parse_span(ago, &[("h", 3600), ("m", 60), ("min", 60), ("s", 1)]).ok_or_else(|| {
                GrammarError::at(
                    tok,
                    "Give how long ago in hours, minutes or seconds, like @-10m, @-2h or @-1h30m",
                    EX_TIME_AGO,
                )
            })?;
        if secs == 0 {
            return Err(GrammarError::at(
                tok,
                "That is now; leave the time out, or give how long ago, like @-10m",
                EX_TIME_AGO,
            ));
        }
        let too_far = || {
            GrammarError::at(
                tok,
                "That is more than 24 hours ago; give how long ago, like @-10m or @-2h",
                EX_TIME_AGO,
            )
        };
        if secs > MAX_AGO_SECS {
            return Err(too_far());
        }
        let delta = i64::try_from(secs)
            .ok()
            .and_then(TimeDelta::try_seconds)
            .ok_or_else(too_far)?;
        return now
            .clone()
            .checked_sub_signed(delta)
            .map(|t| t.fixed_offset())
            .ok_or_else(too_far);
    }
    let clock = parse_clock(body).map_err(|message| GrammarError::at(tok, message, EX_TIME))?;
    most_recent(clock, now)
        .map(|t| t.fixed_offset())
        .map_err(|why| GrammarError::at(tok, why, EX_TIME_AGO))
}

/// A time of day means the most recent moment the clock showed it (up to
/// [`FUTURE_SLACK_SECS`] ahead, for a line typed as the minute turns): `@23:50` typed at
/// 00:04 is 14 minutes ago, yesterday. Refused when it is yesterday's and more than
/// [`MAX_CLOCK_AGO_SECS`] back (a time later today, mistyped), when the clocks went back
/// and both moments have passed (say which with `@-Nm`), and when the time was skipped
/// today by the clocks going forward.
pub(super) fn most_recent<Tz: TimeZone>(
    clock: NaiveTime,
    now: &DateTime<Tz>,
) -> Result<DateTime<Tz>, &'static str> {
    let zone = now.timezone();
    let latest = now.clone() + TimeDelta::seconds(FUTURE_SLACK_SECS);
    let passed = |t: &DateTime<Tz>| *t <= latest;
    let today = now.date_naive();
    let yesterday = today.pred_opt().unwrap_or(today);
    let mut days = [today, yesterday].into_iter();
    let when = loop {
        let Some(day) = days.next() else {
            return Err(FUTURE);
        };
        match zone.from_local_datetime(&day.and_time(clock)) {
            LocalResult::Single(t) if passed(&t) => break t,
            LocalResult::Single(_) => {}
            LocalResult::Ambiguous(a, b) => match (passed(&a), passed(&b)) {
                (true, true) => {
                    return Err("That time happened twice because the clocks went back; \
                                give how long ago instead, like @-10m");
                }
                (true, false) => break a,
                (false, true) => break b,
                (false, false) => {}
            },
            LocalResult::None if day.and_time(clock) < now.naive_local() => {
                return Err(
                    "That time does not exist today because the clocks went forward; \
                            give how long ago instead, like @-10m",
                );
            }
            LocalResult::None => {}
        }
    };
    let reach = TimeDelta::try_seconds(MAX_CLOCK_AGO_SECS).unwrap_or(TimeDelta::MAX);
    if when.date_naive() == yesterday && now.clone().signed_duration_since(when.clone()) > reach {
        return Err(FUTURE);
    }
    Ok(when)
}

pub(super) const FUTURE: &str = "That time is in the future (a time of day reaches back into yesterday by \
                      12 hours at most); use @-Nm for earlier (like @-20m), or leave the time \
                      out to chart it now";

/// `14:05` or `9:05`, 24-hour clock.
pub(super) fn parse_clock(body: &str) -> Result<NaiveTime, &'static str> {
    const FORMAT: &str = "Give the time as @HH:MM on the 24-hour clock, or how long ago like @-10m";
    let (h, m) = body.split_once(':').ok_or(FORMAT)?;
    if !(1..=2).contains(&h.len()) || m.len() != 2 {
        return Err(FORMAT);
    }
    let (hour, minute) = parse_whole(h).zip(parse_whole(m)).ok_or(FORMAT)?;
    if hour > 23 {
        return Err("Hours run from 0 to 23; give the time as @HH:MM");
    }
    if minute > 59 {
        return Err("Minutes run from 00 to 59; give the time as @HH:MM");
    }
    let hour = u32::try_from(hour).map_err(|_| FORMAT)?;
    let minute = u32::try_from(minute).map_err(|_| FORMAT)?;
    NaiveTime::from_hms_opt(hour, minute, 0).ok_or(FORMAT)
}

/// A span like `1h30m` or `90s`: number+unit pieces, units in the order listed in `units`
/// (case-insensitive, each at most once). Returns the total in the units' base (seconds).
/// Units that share a multiplier are the same slot (`m` and `min`).
pub(super) fn parse_span(s: &str, units: &[(&str, u64)]) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let mut rest = s;
    let mut total = 0u64;
    let mut last_mult = u64::MAX;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let n = parse_whole(rest.get(..digits)?)?;
        rest = rest.get(digits..)?;
        let letters = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let unit = rest.get(..letters)?.to_ascii_lowercase();
        rest = rest.get(letters..)?;
        let mult = units.iter().find(|(name, _)| *name == unit)?.1;
        if mult >= last_mult {
            return None;
        }
        last_mult = mult;
        total = total.saturating_add(n.saturating_mul(mult));
    }
    Some(total)
}
