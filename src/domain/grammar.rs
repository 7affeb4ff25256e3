//! The quick-entry grammar: one line typed at the bedside becomes one or more chart entries.
//!
//! ```text
//! [@14:05 | @-10m]  bp 128/82 hr 74 spo2 97 rr 14 temp 36.8   (one vitals entry)
//!                   moaas 4                                   (sedation score)
//!                   cadss 1 0 2 0 1 0 | resp ok | resp depressed TEXT (see `monitoring`)
//!                   dose ketamine 0.5mg/kg IV over 40m        (one entry per dose)
//!                   dose esketamine 56mg IN devices 2 lot ABC123
//!                   obs calm, eyes closed #music "I feel light"
//!                   dose ketamine 35mg IM witness             (the dose, then its witness)
//! ```
//!
//! Segments may follow one another on one line. A line whose first word (after the
//! optional time) is not a keyword is an observation as a whole, unless it is a slip on a
//! keyword (`bpp 120/80`, `hr74`: see `near_miss`). Nothing is partial: any
//! bad part makes the whole line an error that names the token and shows an example.

use std::fmt;
use std::ops::Range;

use chrono::{DateTime, FixedOffset, LocalResult, NaiveTime, TimeDelta, TimeZone};

use super::entry::{
    BloodPressure, Dose, DoseUnit, Observation, Payload, Route, Sedation, VitalSigns, trim_number,
};

/// Words that start a keyword segment; anything else at line start is an observation.
pub const KEYWORDS: &[&str] = &[
    "bp",
    "hr",
    "pulse",
    "spo2",
    "rr",
    "temp",
    "moaas",
    "cadss",
    "resp",
    "ready-to-leave",
    "dose",
    "obs",
    "screen",
    "eligibility",
    "intention",
    "setting",
    "consent",
    "risk-assessment",
    "cssrs",
    "phq9",
    "gad7",
    "pcl5",
];

// Plausibility limits. They only catch typing slips (1280 for 128, a dropped digit); they
// are NOT clinical thresholds. A value outside them is refused, never charted with a flag,
// and a value inside them may still need action.
const SYSTOLIC_MIN: u16 = 50;
const SYSTOLIC_MAX: u16 = 300;
const DIASTOLIC_MIN: u16 = 20;
const DIASTOLIC_MAX: u16 = 200;
const HR_MIN: u16 = 20;
const HR_MAX: u16 = 250;
const SPO2_MIN: u16 = 50;
const SPO2_MAX: u16 = 100;
const RR_MIN: u16 = 4;
const RR_MAX: u16 = 60;
const TEMP_C_MIN: f64 = 30.0;
const TEMP_C_MAX: f64 = 45.0;
/// MOAA/S runs from 0 (no response) to 5 (responds readily to name).
const MOAAS_MAX: u16 = 5;

/// How far back `@-…` may reach. Also a typo catcher: a session does not last a day.
const MAX_AGO_SECS: u64 = 24 * 60 * 60;
/// `@HH:MM` reaches back at most this far (to yesterday, after midnight). A typo catcher: a
/// time later today is in the future, not yesterday's.
const MAX_CLOCK_AGO_SECS: i64 = 12 * 60 * 60;
/// A clock time up to this far after now is accepted (typed as the minute turns).
const FUTURE_SLACK_SECS: i64 = 60;
/// Longest `over …` duration. A typo catcher, not a clinical limit.
const MAX_OVER_MIN: u64 = 24 * 60;
/// Decimals a dose amount may have; `format_payload` writes the amount with this many.
const AMOUNT_DECIMALS: usize = 3;

const EX_LINE: &str = "bp 128/82 hr 74";
const EX_TIME: &str = "@14:05 bp 128/82";
const EX_TIME_AGO: &str = "@-10m moaas 4";
const EX_BP: &str = "bp 128/82";
const EX_HR: &str = "hr 74";
const EX_SPO2: &str = "spo2 97";
const EX_RR: &str = "rr 14";
const EX_TEMP: &str = "temp 36.8";
const EX_TEMP_F: &str = "temp 98.6F";
const EX_MOAAS: &str = "moaas 4";
const EX_DOSE: &str = "dose ketamine 35mg IM";
const EX_DOSE_OVER: &str = "dose ketamine 0.5mg/kg IV over 40m";
const EX_OBS: &str = "obs calm, eyes closed";
const EX_QUOTE: &str = "obs says \"I feel light\"";
const EX_NEXT: &str = "bp 128/82 obs calm";
const EX_WITNESS: &str = "dose ketamine 35mg IM witness";

/// What `parse_line` needs to know besides the line itself.
#[derive(Debug, Clone)]
pub struct ParseContext<'a, Tz: TimeZone> {
    /// The moment the line is typed, in the clinician's local zone.
    pub now: DateTime<Tz>,
    /// The patient's weight, for mg/kg doses.
    pub weight_kg: Option<f64>,
    /// Known drug names, lowercase (e.g. "ketamine", "esketamine", "ondansetron").
    pub drugs: &'a [String],
    /// Dose levels per drug and route: a dose above its ceiling is refused as a typo.
    pub doses: &'a super::dose_levels::DoseLevels,
    /// How questionnaires are banded (the PCL-5 cut-off).
    pub measures: &'a super::measures::MeasureRules,
}

/// One parsed line: when it happened and what was recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedLine {
    /// The event time, with the local UTC offset of that moment.
    pub event_time: DateTime<FixedOffset>,
    /// True when an `@` prefix set the time.
    pub time_given: bool,
    /// One or more entries, in line order.
    pub entries: Vec<Payload>,
    /// The index in `entries` of a dose the line asks a second clinician to witness
    /// (`witness` right after it): the dose is charted, then the witness signs in.
    pub witness: Option<usize>,
}

/// Why a line was refused: the offending token, where it is, and a valid example.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct GrammarError {
    /// The offending token as typed ("" when the line is empty).
    pub token: String,
    /// Byte range of that token in the input line.
    pub span: Range<usize>,
    /// What is wrong and what is expected, in plain words.
    pub message: String,
    /// A valid example, e.g. "bp 128/82".
    pub example: &'static str,
}

impl fmt::Display for GrammarError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.token.is_empty() {
            write!(f, "{} (example: {})", self.message, self.example)
        } else {
            write!(
                f,
                "{}: '{}' (example: {})",
                self.message, self.token, self.example
            )
        }
    }
}

impl GrammarError {
    fn at(tok: Token<'_>, message: impl Into<String>, example: &'static str) -> Self {
        GrammarError {
            token: tok.text.to_string(),
            span: tok.span(),
            message: message.into(),
            example,
        }
    }
}

/// Parses one quick-entry line. See the module docs for the grammar.
pub fn parse_line<Tz: TimeZone>(
    line: &str,
    ctx: &ParseContext<'_, Tz>,
) -> Result<ParsedLine, GrammarError> {
    if let Err(e) = super::text::check(super::text::QUICK_ENTRY_LINE, line)
        && matches!(e, super::text::TextError::TooLong { .. })
    {
        return Err(GrammarError {
            token: String::new(),
            span: 0..0,
            message: e.to_string(),
            example: EX_LINE,
        });
    }
    reject_control_chars(line)?;
    let mut cur = Cursor::new(line);

    let Some(first) = cur.peek() else {
        return Err(GrammarError {
            token: String::new(),
            span: 0..0,
            message: "Nothing to record; type a measurement, a dose or a note".into(),
            example: EX_LINE,
        });
    };

    let (event_time, time_given) = if first.text.starts_with('@') {
        cur.bump();
        (resolve_time(first, &ctx.now)?, true)
    } else {
        (ctx.now.fixed_offset(), false)
    };

    let Some(head) = cur.peek() else {
        return Err(GrammarError::at(
            first,
            "Nothing to record after the time; add a measurement, a dose or a note",
            EX_TIME,
        ));
    };
    if head.text.starts_with('@') {
        return Err(GrammarError::at(
            head,
            "Only one time per line, at the start; for a note that starts with @, begin with obs",
            EX_TIME,
        ));
    }

    let (entries, witness) = if is_keyword(head) {
        parse_segments(&mut cur, ctx)?
    } else {
        check_glued_keyword(head)?;
        near_miss::check(head, &cur, ctx.drugs)?;
        let text = line[head.start..].trim_end();
        (
            vec![Payload::Observation(parse_observation(text, head.start)?)],
            None,
        )
    };

    Ok(ParsedLine {
        event_time,
        time_given,
        entries,
        witness,
    })
}

/// The canonical quick-entry line that parses back to the same payload (vitals, sedation,
/// dose, observation); None for Strike/SessionEnd, and for empty vitals or an empty note,
/// which no line can produce.
pub fn format_payload(p: &Payload) -> Option<String> {
    match p {
        Payload::Vitals(v) => {
            if v.is_empty() {
                return None;
            }
            let mut parts = Vec::new();
            if let Some(bp) = v.bp {
                parts.push(format!("bp {}/{}", bp.systolic, bp.diastolic));
            }
            if let Some(hr) = v.hr {
                parts.push(format!("hr {hr}"));
            }
            if let Some(spo2) = v.spo2 {
                parts.push(format!("spo2 {spo2}"));
            }
            if let Some(rr) = v.rr {
                parts.push(format!("rr {rr}"));
            }
            if let Some(t) = v.temp_c {
                parts.push(format!("temp {}", trim_number(t, 1)));
            }
            Some(parts.join(" "))
        }
        Payload::Sedation(s) => Some(format!("moaas {}", s.moaas)),
        Payload::Dissociation(d) => Some(format!(
            "cadss {}",
            d.cadss6
                .iter()
                .map(u8::to_string)
                .collect::<Vec<_>>()
                .join(" ")
        )),
        Payload::Respiration(r) => Some(monitoring::format_resp(r)),
        Payload::Dose(d) => {
            let base = format!(
                "dose {} {}{} {}",
                d.drug,
                trim_number(d.amount, AMOUNT_DECIMALS),
                d.unit.label(),
                d.route.label()
            );
            let mut line = match d.over_min {
                Some(m) => format!("{base} over {m}m"),
                None => base,
            };
            if let Some(n) = d.devices {
                line.push_str(&format!(" devices {n}"));
            }
            if let Some(lot) = &d.lot {
                line.push_str(&format!(" lot {lot}"));
            }
            Some(line)
        }
        Payload::Observation(o) => {
            let text = o.text.trim();
            (!text.is_empty()).then(|| format!("obs {text}"))
        }
        Payload::Measure(m) => Some(format!(
            "{} {}",
            m.instrument.keyword(),
            m.items
                .iter()
                .map(u8::to_string)
                .collect::<Vec<_>>()
                .join(" ")
        )),
        Payload::RiskAssessment(r) => Some(format!("risk-assessment {}", r.outcome)),
        Payload::Screening(s) => Some(course::format_screening(s)),
        Payload::Eligibility(e) => Some(course::format_eligibility(e)),
        Payload::Intention(t) => Some(format!("intention {}", t.text)),
        Payload::Setting(t) => Some(format!("setting {}", t.text)),
        Payload::Consent(t) => Some(format!("consent {}", t.text)),
        // Corrections, acknowledgements and discharge items come from their own forms.
        Payload::Strike
        | Payload::Unreadable(_)
        | Payload::Acknowledgement(_)
        | Payload::Aldrete(_)
        | Payload::RideHome(_)
        | Payload::PatientReady
        | Payload::SessionEnd(_)
        | Payload::RemsSubmitted(_)
        | Payload::Witness(_) => None,
    }
}

// ---------------------------------------------------------------------------------------
// Tokens

/// A whitespace-separated word of the line and where it starts (in bytes).
#[derive(Debug, Clone, Copy)]
struct Token<'l> {
    text: &'l str,
    start: usize,
}

impl Token<'_> {
    fn span(&self) -> Range<usize> {
        self.start..self.start + self.text.len()
    }

    fn lower(&self) -> String {
        self.text.to_lowercase()
    }
}

struct Cursor<'l> {
    line: &'l str,
    tokens: Vec<Token<'l>>,
    pos: usize,
}

impl<'l> Cursor<'l> {
    fn new(line: &'l str) -> Self {
        let mut tokens = Vec::new();
        let mut start = None;
        for (i, c) in line.char_indices() {
            if c.is_whitespace() {
                if let Some(s) = start.take() {
                    tokens.push(Token {
                        text: &line[s..i],
                        start: s,
                    });
                }
            } else if start.is_none() {
                start = Some(i);
            }
        }
        if let Some(s) = start {
            tokens.push(Token {
                text: &line[s..],
                start: s,
            });
        }
        Cursor {
            line,
            tokens,
            pos: 0,
        }
    }

    fn peek(&self) -> Option<Token<'l>> {
        self.tokens.get(self.pos).copied()
    }

    fn peek_at(&self, ahead: usize) -> Option<Token<'l>> {
        self.tokens.get(self.pos.checked_add(ahead)?).copied()
    }

    fn bump(&mut self) -> Option<Token<'l>> {
        let tok = self.peek()?;
        self.pos += 1;
        Some(tok)
    }

    /// The last token taken, or an empty token at the end of the line.
    fn previous(&self) -> Token<'l> {
        self.pos
            .checked_sub(1)
            .and_then(|i| self.tokens.get(i).copied())
            .unwrap_or(Token {
                text: "",
                start: self.line.len(),
            })
    }

    /// Takes the next token; when the line ends instead, the error names the token before.
    fn expect(&mut self, message: &str, example: &'static str) -> Result<Token<'l>, GrammarError> {
        match self.bump() {
            Some(tok) => Ok(tok),
            None => Err(GrammarError::at(self.previous(), message, example)),
        }
    }

    /// The rest of the line after `tok`, trimmed, with its byte offset; consumes it all.
    fn take_rest_after(&mut self, tok: Token<'l>) -> (&'l str, usize) {
        self.pos = self.tokens.len();
        let rest = self.line.get(tok.start + tok.text.len()..).unwrap_or("");
        let trimmed = rest.trim_start();
        let offset = tok.start + tok.text.len() + (rest.len() - trimmed.len());
        (trimmed.trim_end(), offset)
    }
}

fn is_keyword(tok: Token<'_>) -> bool {
    KEYWORDS.contains(&tok.lower().as_str())
}

fn keyword_example(kw: &str) -> &'static str {
    match kw {
        "bp" => EX_BP,
        "hr" | "pulse" => EX_HR,
        "spo2" => EX_SPO2,
        "rr" => EX_RR,
        "temp" => EX_TEMP,
        "moaas" => EX_MOAAS,
        "cadss" => monitoring::EX_CADSS,
        "resp" => monitoring::EX_RESP,
        "dose" => EX_DOSE,
        _ => EX_OBS,
    }
}

/// "hr74" or "bp128/82": a keyword run into its value is a slip, not a note.
fn check_glued_keyword(tok: Token<'_>) -> Result<(), GrammarError> {
    let lower = tok.lower();
    for kw in KEYWORDS.iter().filter(|kw| **kw != "obs") {
        let glued = lower
            .strip_prefix(kw)
            .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()));
        if glued {
            return Err(GrammarError::at(
                tok,
                format!(
                    "Put a space between {kw} and the number: did you mean `{kw} {}`?",
                    tok.text.get(kw.len()..).unwrap_or("")
                ),
                keyword_example(kw),
            ));
        }
    }
    Ok(())
}

fn reject_control_chars(line: &str) -> Result<(), GrammarError> {
    let trimmed_start = line.len() - line.trim_start().len();
    let trimmed_end = line.trim_end().len();
    for (i, c) in line.char_indices() {
        let line_break = matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}' | '\u{85}')
            && i >= trimmed_start
            && i < trimmed_end;
        if line_break || (c.is_control() && !c.is_whitespace()) {
            let message = if line_break {
                "One entry line at a time; this text has a line break in it"
            } else {
                "The line has an invisible control character in it; retype it"
            };
            return Err(GrammarError {
                token: c.to_string(),
                span: i..i + c.len_utf8(),
                message: message.into(),
                example: EX_LINE,
            });
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Numbers

/// A whole number of ASCII digits; huge values saturate (and then fail any range check).
fn parse_whole(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(s.bytes().fold(0u64, |acc, b| {
        acc.saturating_mul(10).saturating_add(u64::from(b - b'0'))
    }))
}

/// A plain decimal such as `36.8`, `0.5`, `35` (no sign, no exponent, no inf/nan).
fn parse_decimal(s: &str) -> Option<f64> {
    let digits = s.bytes().filter(u8::is_ascii_digit).count();
    let dots = s.bytes().filter(|b| *b == b'.').count();
    if digits == 0 || dots > 1 || digits + dots != s.len() {
        return None;
    }
    s.parse::<f64>().ok().filter(|v| v.is_finite())
}

fn decimals_of(s: &str) -> usize {
    s.split_once('.').map_or(0, |(_, frac)| frac.len())
}

fn looks_like_comma_decimal(s: &str) -> bool {
    s.contains(',') && s.bytes().all(|b| b.is_ascii_digit() || b == b',')
}

fn round_to(value: f64, decimals: i32) -> f64 {
    let factor = 10f64.powi(decimals);
    (value * factor).round() / factor
}

/// Added to a "needs a number" message when the token holds no digits at all: likely a note.
fn free_text_hint(tok: Token<'_>) -> &'static str {
    if tok.text.bytes().any(|b| b.is_ascii_digit()) {
        ""
    } else {
        "; to write a note, start it with obs"
    }
}

/// A whole number within `min..=max` for the vital or score called `what`.
fn whole_in_range(
    tok: Token<'_>,
    text: &str,
    what: &str,
    min: u16,
    max: u16,
    example: &'static str,
) -> Result<u16, GrammarError> {
    let Some(n) = parse_whole(text) else {
        let message = if parse_decimal(text).is_some() || looks_like_comma_decimal(text) {
            format!("{what} needs a whole number, without decimals")
        } else {
            format!("{what} needs a number{}", free_text_hint(tok))
        };
        return Err(GrammarError::at(tok, message, example));
    };
    let out_of_range = || {
        GrammarError::at(
            tok,
            format!("{what} must be between {min} and {max}; check for a typo"),
            example,
        )
    };
    if n < u64::from(min) || n > u64::from(max) {
        return Err(out_of_range());
    }
    u16::try_from(n).map_err(|_| out_of_range())
}

// ---------------------------------------------------------------------------------------
// Time prefix

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

fn resolve_time<Tz: TimeZone>(
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
fn most_recent<Tz: TimeZone>(
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

const FUTURE: &str = "That time is in the future (a time of day reaches back into yesterday by \
                      12 hours at most); use @-Nm for earlier (like @-20m), or leave the time \
                      out to chart it now";

/// `14:05` or `9:05`, 24-hour clock.
fn parse_clock(body: &str) -> Result<NaiveTime, &'static str> {
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
fn parse_span(s: &str, units: &[(&str, u64)]) -> Option<u64> {
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

// ---------------------------------------------------------------------------------------
// Keyword segments

/// The entries of a keyword line, and the index of the dose it asks to be witnessed.
fn parse_segments<Tz: TimeZone>(
    cur: &mut Cursor<'_>,
    ctx: &ParseContext<'_, Tz>,
) -> Result<(Vec<Payload>, Option<usize>), GrammarError> {
    let mut entries = Vec::new();
    let mut witness: Option<usize> = None;
    let mut just_dosed = false;
    let mut vitals = VitalSigns::default();
    let mut vitals_at: Option<usize> = None;
    let mut sedation_seen = false;

    while let Some(tok) = cur.bump() {
        let kw = tok.lower();
        let after_dose = std::mem::take(&mut just_dosed);
        match kw.as_str() {
            "bp" | "hr" | "pulse" | "spo2" | "rr" | "temp" => {
                if vitals_at.is_none() {
                    vitals_at = Some(entries.len());
                }
                parse_vital(&kw, tok, cur, &mut vitals)?;
            }
            "moaas" => {
                if sedation_seen {
                    return Err(GrammarError::at(
                        tok,
                        "MOAA/S is already on this line; give it once",
                        EX_MOAAS,
                    ));
                }
                sedation_seen = true;
                let value = cur.expect("MOAA/S needs a score from 0 to 5 after moaas", EX_MOAAS)?;
                let moaas = whole_in_range(
                    value,
                    value.text,
                    "MOAA/S (5 responds readily to name ... 0 no response)",
                    0,
                    MOAAS_MAX,
                    EX_MOAAS,
                )?;
                let moaas = u8::try_from(moaas).map_err(|_| {
                    GrammarError::at(value, "MOAA/S must be between 0 and 5", EX_MOAAS)
                })?;
                entries.push(Payload::Sedation(Sedation { moaas }));
            }
            "cadss" => entries.push(monitoring::parse_cadss(tok, cur, ctx.measures)?),
            "resp" => entries.push(monitoring::parse_resp(tok, cur)?),
            // The clinician judges the patient ready to leave, at the line's time (`@11:25
            // ready-to-leave`): the Spravato REMS form asks when the patient would have been
            // ready without the 2-hour minimum (clinical.md section 2). The discharge panel
            // charts the same entry.
            "ready-to-leave" => entries.push(Payload::PatientReady),
            "dose" => {
                entries.push(Payload::Dose(parse_dose(cur, ctx)?));
                just_dosed = true;
            }
            // Controlled-substance doses are witnessed by a second clinician (21 CFR
            // 1304.22; clinical.md section 3): `witness` asks for it right after the dose.
            "witness" => {
                if !after_dose {
                    return Err(GrammarError::at(
                        tok,
                        "witness goes right after a dose, to ask a second clinician to witness it",
                        EX_WITNESS,
                    ));
                }
                if witness.is_some() {
                    return Err(GrammarError::at(
                        tok,
                        "One witnessed dose per line; chart the other dose on a line of its own",
                        EX_WITNESS,
                    ));
                }
                witness = Some(entries.len() - 1);
            }
            "screen" => entries.push(course::parse_screening(tok, cur)?),
            "eligibility" => entries.push(course::parse_eligibility(cur)?),
            "phq9" | "gad7" | "pcl5" => {
                entries.push(course::parse_measure(tok, cur, ctx.measures)?)
            }
            "intention" | "setting" | "consent" | "risk-assessment" | "cssrs" => {
                entries.push(course::parse_text(tok, cur)?)
            }
            "obs" => {
                let (text, offset) = cur.take_rest_after(tok);
                if text.is_empty() {
                    return Err(GrammarError::at(
                        tok,
                        "A note needs some text after obs",
                        EX_OBS,
                    ));
                }
                entries.push(Payload::Observation(parse_observation(text, offset)?));
            }
            _ if tok.text.starts_with('@') => {
                // A time typed after the readings (`bp 172/108 @23:55`): say where it goes.
                return Err(GrammarError::at(
                    tok,
                    "The time goes at the start of the line, before what happened then",
                    EX_TIME,
                ));
            }
            _ => {
                check_glued_keyword(tok)?;
                return Err(GrammarError::at(
                    tok,
                    "Not a measurement, score or dose; to add a note after them, start it with obs",
                    EX_NEXT,
                ));
            }
        }
    }

    if let Some(at) = vitals_at {
        entries.insert(at, Payload::Vitals(vitals));
        witness = witness.map(|w| if at <= w { w + 1 } else { w });
    }
    Ok((entries, witness))
}

fn parse_vital(
    kw: &str,
    key: Token<'_>,
    cur: &mut Cursor<'_>,
    v: &mut VitalSigns,
) -> Result<(), GrammarError> {
    let (what, already, example) = match kw {
        "bp" => ("Blood pressure", v.bp.is_some(), EX_BP),
        "hr" | "pulse" => ("Heart rate", v.hr.is_some(), EX_HR),
        "spo2" => ("SpO2", v.spo2.is_some(), EX_SPO2),
        "rr" => ("Breathing rate", v.rr.is_some(), EX_RR),
        _ => ("Temperature", v.temp_c.is_some(), EX_TEMP),
    };
    if already {
        return Err(GrammarError::at(
            key,
            format!("{what} is already on this line; give each vital sign once"),
            example,
        ));
    }
    let value = cur.expect(&format!("{what} needs a value after {}", key.text), example)?;

    match kw {
        "bp" => v.bp = Some(parse_bp(value)?),
        "hr" | "pulse" => {
            v.hr = Some(whole_in_range(
                value, value.text, what, HR_MIN, HR_MAX, example,
            )?);
        }
        "spo2" => {
            let text = value.text.strip_suffix('%').unwrap_or(value.text);
            let spo2 = whole_in_range(value, text, what, SPO2_MIN, SPO2_MAX, example)?;
            v.spo2 = Some(u8::try_from(spo2).map_err(|_| {
                GrammarError::at(value, "SpO2 must be between 50 and 100", example)
            })?);
        }
        "rr" => {
            v.rr = Some(whole_in_range(
                value, value.text, what, RR_MIN, RR_MAX, example,
            )?);
        }
        _ => v.temp_c = Some(parse_temp(value, cur)?),
    }
    Ok(())
}

fn parse_bp(tok: Token<'_>) -> Result<BloodPressure, GrammarError> {
    let shape = || {
        GrammarError::at(
            tok,
            format!(
                "Blood pressure needs two whole numbers, systolic/diastolic{}",
                free_text_hint(tok)
            ),
            EX_BP,
        )
    };
    let (s, d) = tok.text.split_once('/').ok_or_else(shape)?;
    let (sys, dia) = parse_whole(s).zip(parse_whole(d)).ok_or_else(shape)?;
    let range = |what: &str, min: u16, max: u16| {
        GrammarError::at(
            tok,
            format!("{what} must be between {min} and {max}; check for a typo"),
            EX_BP,
        )
    };
    if sys < u64::from(SYSTOLIC_MIN) || sys > u64::from(SYSTOLIC_MAX) {
        return Err(range("Systolic", SYSTOLIC_MIN, SYSTOLIC_MAX));
    }
    if dia < u64::from(DIASTOLIC_MIN) || dia > u64::from(DIASTOLIC_MAX) {
        return Err(range("Diastolic", DIASTOLIC_MIN, DIASTOLIC_MAX));
    }
    if dia >= sys {
        return Err(GrammarError::at(
            tok,
            "Diastolic must be below systolic; give systolic first",
            EX_BP,
        ));
    }
    let systolic = u16::try_from(sys).map_err(|_| range("Systolic", SYSTOLIC_MIN, SYSTOLIC_MAX))?;
    let diastolic =
        u16::try_from(dia).map_err(|_| range("Diastolic", DIASTOLIC_MIN, DIASTOLIC_MAX))?;
    Ok(BloodPressure {
        systolic,
        diastolic,
    })
}

#[derive(Clone, Copy, PartialEq)]
enum TempUnit {
    C,
    F,
}

fn temp_unit(s: &str) -> Option<TempUnit> {
    match s {
        "c" | "°c" => Some(TempUnit::C),
        "f" | "°f" => Some(TempUnit::F),
        _ => None,
    }
}

/// `36.8`, `36.8C`, `98.6F`, `98.6 F`; returns °C rounded to 0.1.
fn parse_temp(tok: Token<'_>, cur: &mut Cursor<'_>) -> Result<f64, GrammarError> {
    let lower = tok.lower();
    let num_end = lower
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ','))
        .unwrap_or(lower.len());
    let (num, suffix) = lower.split_at(num_end);
    let mut unit = if suffix.is_empty() {
        None
    } else {
        Some(temp_unit(suffix).ok_or_else(|| {
            GrammarError::at(
                tok,
                format!(
                    "Temperature needs a number in °C, or in °F marked with F{}",
                    free_text_hint(tok)
                ),
                EX_TEMP,
            )
        })?)
    };
    // A unit may also come as its own word: `temp 98.6 F`.
    let separate_unit = match unit {
        None => cur.peek().and_then(|t| temp_unit(&t.lower())),
        Some(_) => None,
    };
    if separate_unit.is_some() {
        cur.bump();
        unit = separate_unit;
    }

    let Some(value) = parse_decimal(num) else {
        let message = if looks_like_comma_decimal(num) {
            "Use a point for decimals in the temperature".to_string()
        } else {
            format!(
                "Temperature needs a number in °C, or in °F marked with F{}",
                free_text_hint(tok)
            )
        };
        return Err(GrammarError::at(tok, message, EX_TEMP));
    };

    let celsius = match unit {
        Some(TempUnit::F) => (value - 32.0) * 5.0 / 9.0,
        _ => value,
    };
    let celsius = round_to(celsius, 1);
    if (TEMP_C_MIN..=TEMP_C_MAX).contains(&celsius) {
        return Ok(celsius);
    }

    let f_min = TEMP_C_MIN * 9.0 / 5.0 + 32.0;
    let f_max = TEMP_C_MAX * 9.0 / 5.0 + 32.0;
    if unit.is_none() && (f_min..=f_max).contains(&value) {
        return Err(GrammarError::at(
            tok,
            format!("Temperature is in °C unless marked F; did you mean {num}F?"),
            EX_TEMP_F,
        ));
    }
    Err(GrammarError::at(
        tok,
        format!(
            "Temperature must be between {} and {} °C ({} to {} °F); check for a typo",
            trim_number(TEMP_C_MIN, 1),
            trim_number(TEMP_C_MAX, 1),
            trim_number(f_min, 1),
            trim_number(f_max, 1),
        ),
        if unit == Some(TempUnit::F) {
            EX_TEMP_F
        } else {
            EX_TEMP
        },
    ))
}

// ---------------------------------------------------------------------------------------
// Doses

/// `DRUG AMOUNT[UNIT] [UNIT] ROUTE [over DURATION] [devices N] [lot LOT]`, after `dose`.
fn parse_dose<Tz: TimeZone>(
    cur: &mut Cursor<'_>,
    ctx: &ParseContext<'_, Tz>,
) -> Result<Dose, GrammarError> {
    const NEEDS: &str = "A dose needs a drug, an amount with its unit, and a route";
    let Some(drug_tok) = cur.peek() else {
        return Err(GrammarError::at(cur.previous(), NEEDS, EX_DOSE));
    };
    let Some((drug, words)) = match_drug(cur, ctx.drugs) else {
        let known: Vec<String> = ctx
            .drugs
            .iter()
            .map(|d| {
                d.split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
                    .to_lowercase()
            })
            .filter(|d| !d.is_empty())
            .collect();
        let message = if known.is_empty() {
            "No drugs are set up for this chart, so no dose can be recorded".to_string()
        } else {
            format!(
                "Unknown drug; write the drug first, one of: {}",
                known.join(", ")
            )
        };
        return Err(GrammarError::at(drug_tok, message, EX_DOSE));
    };
    cur.pos += words;

    let amount_tok = cur.expect(
        "Give the amount and unit after the drug, like 35mg or 0.5mg/kg",
        EX_DOSE,
    )?;
    let split = amount_tok
        .text
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ','))
        .unwrap_or(amount_tok.text.len());
    let (num, attached_unit) = amount_tok.text.split_at(split);
    let amount = match parse_decimal(num) {
        Some(a) => a,
        None => {
            let message = if looks_like_comma_decimal(num) {
                "Use a point for decimals in the amount, like 0.5mg/kg".to_string()
            } else {
                if num.is_empty() && is_route(amount_tok) {
                    "Give the amount and unit before the route, like 35mg IM".to_string()
                } else {
                    "Give the amount as a number above zero after the drug, like 35mg".to_string()
                }
            };
            return Err(GrammarError::at(amount_tok, message, EX_DOSE));
        }
    };
    if decimals_of(num) > AMOUNT_DECIMALS {
        return Err(GrammarError::at(
            amount_tok,
            format!("Give the amount with at most {AMOUNT_DECIMALS} decimals"),
            EX_DOSE,
        ));
    }
    if amount <= 0.0 {
        return Err(GrammarError::at(
            amount_tok,
            "The amount must be above zero",
            EX_DOSE,
        ));
    }

    let unit_tok = if attached_unit.is_empty() {
        cur.expect("Give the unit after the amount: mg, mcg or mg/kg", EX_DOSE)?
    } else {
        amount_tok
    };
    let unit_text = if attached_unit.is_empty() {
        unit_tok.text
    } else {
        attached_unit
    };
    let unit = match unit_text.to_lowercase().as_str() {
        "mg" => DoseUnit::Mg,
        "mcg" => DoseUnit::Mcg,
        "mg/kg" => DoseUnit::MgPerKg,
        _ => {
            return Err(GrammarError::at(
                unit_tok,
                "The unit must be mg, mcg or mg/kg",
                EX_DOSE,
            ));
        }
    };

    let route_tok = cur.expect(
        "Give the route after the amount: IV, IM, IN, SL or PO",
        EX_DOSE,
    )?;
    let route = Route::ALL
        .into_iter()
        .find(|r| r.label().eq_ignore_ascii_case(route_tok.text))
        .ok_or_else(|| {
            GrammarError::at(route_tok, "The route must be IV, IM, IN, SL or PO", EX_DOSE)
        })?;

    let over_min = match cur.peek() {
        Some(t) if t.text.eq_ignore_ascii_case("over") => {
            cur.bump();
            let dur = cur.expect(
                "Give how long the dose ran after over, like over 40m or over 1h30m",
                EX_DOSE_OVER,
            )?;
            Some(parse_over(dur)?)
        }
        _ => None,
    };

    let (total_mg, weight_kg) = match unit {
        DoseUnit::Mg => (amount, None),
        DoseUnit::Mcg => (amount / 1000.0, None),
        DoseUnit::MgPerKg => {
            let Some(weight) = ctx.weight_kg.filter(|w| w.is_finite() && *w > 0.0) else {
                return Err(GrammarError::at(
                    unit_tok,
                    "The patient's weight is not recorded, so mg/kg cannot be worked out; \
                     give the dose in mg",
                    EX_DOSE,
                ));
            };
            let total = round_to(amount * weight, 2);
            if !total.is_finite() {
                return Err(GrammarError::at(
                    amount_tok,
                    "That amount is too large; check for a typo",
                    EX_DOSE_OVER,
                ));
            }
            if total <= 0.0 {
                return Err(GrammarError::at(
                    amount_tok,
                    "That works out to less than 0.01 mg; give the dose in mg or mcg",
                    EX_DOSE,
                ));
            }
            (total, Some(weight))
        }
    };

    let mut dose = Dose {
        drug,
        amount,
        unit,
        route,
        over_min,
        total_mg,
        weight_kg,
        devices: None,
        lot: None,
    };
    devices::parse_dose_details(cur, ctx.doses, &mut dose, amount_tok)?;
    // Far beyond a usual dose is a slip (10000 for 100), like `hr 0`: the clinic's ceiling
    // for this drug and route is named (`[alerts.doses]`).
    if let Some(message) = ctx.doses.refusal(&dose) {
        return Err(GrammarError::at(amount_tok, message, EX_DOSE));
    }
    Ok(dose)
}

fn is_route(tok: Token<'_>) -> bool {
    Route::ALL
        .into_iter()
        .any(|r| r.label().eq_ignore_ascii_case(tok.text))
}

/// The longest known drug name (possibly several words) at the cursor: (name, words).
fn match_drug(cur: &Cursor<'_>, drugs: &[String]) -> Option<(String, usize)> {
    let mut best: Option<(String, usize)> = None;
    for drug in drugs {
        let words: Vec<String> = drug.split_whitespace().map(str::to_lowercase).collect();
        if words.is_empty() {
            continue;
        }
        let matches = words
            .iter()
            .enumerate()
            .all(|(i, w)| cur.peek_at(i).is_some_and(|t| t.lower() == *w));
        if matches && best.as_ref().is_none_or(|(_, n)| words.len() > *n) {
            best = Some((words.join(" "), words.len()));
        }
    }
    best
}

/// `40m`, `40min`, `1h`, `1h30m` → minutes.
fn parse_over(tok: Token<'_>) -> Result<u32, GrammarError> {
    let minutes = parse_span(
        tok.text,
        &[("h", 60), ("hr", 60), ("m", 1), ("min", 1), ("mins", 1)],
    )
    .ok_or_else(|| {
        GrammarError::at(
            tok,
            "Give how long the dose ran in minutes or hours, like over 40m or over 1h30m",
            EX_DOSE_OVER,
        )
    })?;
    if minutes == 0 {
        return Err(GrammarError::at(
            tok,
            "The duration after over must be more than zero",
            EX_DOSE_OVER,
        ));
    }
    let too_long = || {
        GrammarError::at(
            tok,
            "That duration is longer than 24 hours; check for a typo",
            EX_DOSE_OVER,
        )
    };
    if minutes > MAX_OVER_MIN {
        return Err(too_long());
    }
    u32::try_from(minutes).map_err(|_| too_long())
}

// ---------------------------------------------------------------------------------------
// Observations

fn is_tag_char(c: char) -> bool {
    c.is_alphanumeric() || c == '-' || c == '_'
}

/// Pulls `#tags` (outside quotes) and "quoted words" out of a note; `offset` is where
/// `text` starts in the line, for the span of an unclosed quote.
fn parse_observation(text: &str, offset: usize) -> Result<Observation, GrammarError> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut tags: Vec<String> = Vec::new();
    let mut quotes = Vec::new();
    let mut open_quote: Option<usize> = None;
    let mut i = 0;
    while let Some(&(at, c)) = chars.get(i) {
        i += 1;
        match (c, open_quote) {
            ('"', None) => open_quote = Some(at),
            ('"', Some(start)) => {
                let quote = text.get(start + 1..at).unwrap_or("").trim();
                if !quote.is_empty() {
                    quotes.push(quote.to_string());
                }
                open_quote = None;
            }
            ('#', None) => {
                let starts_word = i < 2
                    || chars
                        .get(i - 2)
                        .is_none_or(|&(_, p)| !is_tag_char(p) && p != '#');
                if !starts_word {
                    continue;
                }
                let tag_start = at + 1;
                let mut tag_end = tag_start;
                while let Some(&(j, d)) = chars.get(i) {
                    if !is_tag_char(d) {
                        break;
                    }
                    tag_end = j + d.len_utf8();
                    i += 1;
                }
                let tag = text.get(tag_start..tag_end).unwrap_or("").to_lowercase();
                if !tag.is_empty() && !tags.contains(&tag) {
                    tags.push(tag);
                }
            }
            _ => {}
        }
    }

    if let Some(start) = open_quote {
        let word_start = text
            .get(..start)
            .and_then(|before| {
                before
                    .char_indices()
                    .rev()
                    .find(|(_, c)| c.is_whitespace())
                    .map(|(j, c)| j + c.len_utf8())
            })
            .unwrap_or(0);
        let word_end = text
            .get(start..)
            .and_then(|after| after.find(char::is_whitespace))
            .map_or(text.len(), |j| start + j);
        let token = text.get(word_start..word_end).unwrap_or("");
        return Err(GrammarError {
            token: token.to_string(),
            span: offset + word_start..offset + word_end,
            message: "This quote is not closed; end the patient's words with another \"".into(),
            example: EX_QUOTE,
        });
    }

    Ok(Observation {
        text: text.to_string(),
        tags,
        quotes,
    })
}

// ---------------------------------------------------------------------------------------

mod course;
mod devices;
mod monitoring;
mod near_miss;
#[cfg(test)]
mod tests;
