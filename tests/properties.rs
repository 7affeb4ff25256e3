//! Properties of the quick-entry grammar, checked on generated input (proptest):
//!
//! - the grammar never panics, whatever is typed (100,000 lines: arbitrary text and lines
//!   built from the grammar's own words, numbers, units, times, quotes and tags);
//! - every valid entry kind formats to a line that parses back to the same entry, and a
//!   temperature typed in °F comes back in °C rounded to 0.1.
//!
//! The chart's properties are in store_properties.rs.

mod generators;

use chrono::{Duration, TimeZone};
use generators::*;
use kapchart::domain::Payload;
use kapchart::domain::grammar::{GrammarError, KEYWORDS, format_payload, parse_line};
use proptest::prelude::*;
use proptest::test_runner::{RngAlgorithm, TestCaseError};

// ---------------------------------------------------------------------------------------
// The grammar never panics

/// A word the grammar knows, or nearly knows: keywords, numbers with and without units,
/// blood pressures, times, quotes, tags, drugs, routes and stray characters.
fn grammar_token() -> impl Strategy<Value = String> {
    let keywords: Vec<String> = KEYWORDS
        .iter()
        .flat_map(|k| [k.to_string(), k.to_uppercase()])
        .collect();
    let drugs: Vec<String> = config().drugs.known.clone();
    let words: Vec<String> = [
        "over",
        "IV",
        "IM",
        "IN",
        "SL",
        "PO",
        "iv",
        "mg",
        "mcg",
        "mg/kg",
        "F",
        "C",
        "°C",
        "°F",
        "yes",
        "no",
        "y",
        "n",
        "?",
        "unknown",
        "eligible",
        "not-eligible",
        "deferred",
        "psychosis",
        "mania",
        "hypertension",
        "aneurysm",
        "avm",
        "ich",
        "pregnancy",
        "substance",
        "risk",
        "@",
        "-",
        "/",
        "%",
        "#",
        "\"",
        "obs",
        "hr74",
        "bp128/82",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    prop_oneof![
        4 => proptest::sample::select(keywords),
        2 => proptest::sample::select(drugs),
        2 => proptest::sample::select(words),
        3 => re("[0-9]{1,7}"),
        2 => re("[0-9]{0,4}[.,][0-9]{0,5}"),
        2 => re("[0-9]{1,5}(\\.[0-9]{1,4})?(mg|mcg|mg/kg|MG|%|F|C|°C|°F|m|h|min|s|kg)"),
        2 => re("[0-9]{0,4}/[0-9]{0,4}"),
        2 => re("@[0-9]{1,3}:[0-9]{1,3}"),
        2 => re("@-?[0-9]{0,6}(h|m|min|s|H|M)?([0-9]{1,3}(m|s))?"),
        1 => re("@[+-]?[0-9a-z:]{0,5}"),
        2 => re("\"[a-zA-Z ]{0,8}\"?"),
        2 => re("#[a-zA-Z0-9_#-]{0,8}"),
        1 => re("[a-z]{1,10}"),
        1 => chars(1..5),
    ]
}

/// Any characters at all (proptest leans towards the awkward ones: controls, combining
/// marks, surrogates' neighbours, the edges of the planes).
fn chars(len: std::ops::Range<usize>) -> impl Strategy<Value = String> {
    proptest::collection::vec(any::<char>(), len).prop_map(String::from_iter)
}

fn separator() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => Just(" ".to_string()),
        1 => Just("  ".to_string()),
        1 => Just("\t".to_string()),
        1 => Just("".to_string()),
        1 => re("[\\s\\u{0}-\\u{1f}\\u{85}\\u{2028}]{1,2}"),
    ]
}

fn grammarish_line() -> impl Strategy<Value = String> {
    (
        separator(),
        proptest::collection::vec((grammar_token(), separator()), 0..14),
    )
        .prop_map(|(lead, parts)| {
            let mut line = lead;
            for (token, sep) in parts {
                line.push_str(&token);
                line.push_str(&sep);
            }
            line
        })
}

fn any_line() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => grammarish_line(),
        1 => chars(0..60),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 100_000,
        max_shrink_iters: 2_000,
        // ChaCha is most of the time in a debug build; XorShift is plenty for test input.
        rng_algorithm: RngAlgorithm::XorShift,
        ..ProptestConfig::default()
    })]

    /// Whatever is typed, in whichever zone, the grammar answers with entries or an error
    /// whose span points at the token it names; it never panics.
    #[test]
    fn the_grammar_never_panics(line in any_line(), weight in weights(), zone in 0..3u8) {
        match parse_on(zone, weight, &line) {
            Ok(entries) => prop_assert!(!entries.is_empty(), "{line:?} made no entries"),
            Err(e) => prop_assert_eq!(
                line.get(e.span.clone()),
                Some(e.token.as_str()),
                "{:?}: the error's span points at its token",
                line
            ),
        }
    }
}

fn weights() -> impl Strategy<Value = Option<f64>> {
    prop_oneof![Just(None), Just(Some(WEIGHT_KG)), Just(Some(0.4))]
}

/// Parses `line` on an ordinary day (zone 0), or in Berlin on the day the clocks go back
/// (1: some times happen twice) or forward (2: some times do not exist).
fn parse_on(zone: u8, weight_kg: Option<f64>, line: &str) -> Result<Vec<Payload>, GrammarError> {
    let berlin = |m, d, h| {
        chrono_tz::Europe::Berlin
            .with_ymd_and_hms(2026, m, d, h, 0, 0)
            .unwrap()
    };
    let in_berlin = |now| {
        let ctx = config().parse_context(now, weight_kg);
        parse_line(line, &ctx).map(|p| p.entries)
    };
    match zone {
        0 => parse_line(line, &context(weight_kg)).map(|p| p.entries),
        1 => in_berlin(berlin(10, 25, 4)),
        _ => in_berlin(berlin(3, 29, 5)),
    }
}

// ---------------------------------------------------------------------------------------
// Valid payloads, and their round trip through format_payload and parse_line

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 10_000,
        rng_algorithm: RngAlgorithm::XorShift,
        ..ProptestConfig::default()
    })]

    /// format_payload, then parse_line, gives back the same entry, for every kind.
    #[test]
    fn every_entry_kind_round_trips(payload in valid_payload()) {
        let line = format_payload(&payload).expect("a line for every typed kind");
        let parsed = parse_line(&line, &context(Some(WEIGHT_KG)))
            .map_err(|e| TestCaseError::fail(format!("{line:?} does not parse: {e}")))?;
        prop_assert!(!parsed.time_given);
        prop_assert_eq!(parsed.event_time, now());
        prop_assert_eq!(parsed.entries, vec![payload], "line {:?}", line);
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 2_000,
        rng_algorithm: RngAlgorithm::XorShift,
        ..ProptestConfig::default()
    })]

    /// A temperature in °F (`98.6F`, `98.6 F`, `98.6°F`) is stored in °C, rounded to 0.1.
    #[test]
    fn fahrenheit_comes_back_in_celsius(tenths_f in 860i64..=1130, form in 0..3u8) {
        let f = tenths_f as f64 / 10.0;
        let line = match form {
            0 => format!("temp {f}F"),
            1 => format!("temp {f} F"),
            _ => format!("temp {f}°F"),
        };
        let parsed = parse_line(&line, &context(None))
            .map_err(|e| TestCaseError::fail(format!("{line:?} does not parse: {e}")))?;
        // (tenths_f - 320) * 5 / 9 tenths of a degree, rounded: never a tie (9 is odd).
        let tenths_c = ((tenths_f - 320) * 10 * 5 / 9 + 5).div_euclid(10);
        let Payload::Vitals(v) = &parsed.entries[0] else {
            return Err(TestCaseError::fail(format!("{line:?}: {:?}", parsed.entries)));
        };
        let got = v.temp_c.unwrap();
        prop_assert!(
            (got - tenths_c as f64 / 10.0).abs() < 1e-9,
            "{}: {} °C, expected {}",
            line,
            got,
            tenths_c as f64 / 10.0
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 2_000,
        rng_algorithm: RngAlgorithm::XorShift,
        ..ProptestConfig::default()
    })]

    /// Segments combine: vitals, a score, doses and a measure, then one segment that takes
    /// the rest of the line, with an `@` time in front, parse back to the same entries.
    #[test]
    fn combined_lines_round_trip(
        vitals in proptest::option::of(vitals()),
        sedation in proptest::option::of(sedation()),
        doses in proptest::collection::vec(dose(), 0..3),
        measure in proptest::option::of(measure()),
        last in proptest::option::of(valid_payload().prop_filter("ends the line", takes_the_rest)),
        minutes_ago in proptest::option::of(1i64..=600),
    ) {
        let payloads: Vec<Payload> = vitals
            .into_iter()
            .chain(sedation)
            .chain(doses)
            .chain(measure)
            .chain(last)
            .collect();
        prop_assume!(!payloads.is_empty());
        let mut line: Vec<String> = payloads.iter().map(|p| format_payload(p).unwrap()).collect();
        if let Some(m) = minutes_ago {
            line.insert(0, format!("@-{m}m"));
        }
        let line = line.join(" ");
        let parsed = parse_line(&line, &context(Some(WEIGHT_KG)))
            .map_err(|e| TestCaseError::fail(format!("{line:?} does not parse: {e}")))?;
        prop_assert_eq!(parsed.time_given, minutes_ago.is_some());
        prop_assert_eq!(parsed.event_time, now() - Duration::minutes(minutes_ago.unwrap_or(0)));
        prop_assert_eq!(parsed.entries, payloads, "line {:?}", line);
    }
}
