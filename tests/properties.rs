//! Properties, checked on generated input (proptest):
//!
//! - the quick-entry grammar never panics, whatever is typed (100,000 lines: arbitrary text
//!   and lines built from the grammar's own words, numbers, units, times, quotes and tags);
//! - every valid entry kind formats to a line that parses back to the same entry, and a
//!   temperature typed in °F comes back in °C rounded to 0.1;
//! - every kind of entry (typed, from a form, a strike, a session end) reads back from the
//!   chart, reopened, exactly as written;
//! - the store stays append-only under random sequences of log (outcome measures with a
//!   PHQ-9 item 9 answer included), amend, strike, sign with and without a reason,
//!   addendum, patient details and courses (plausible and not): no row ever changes or
//!   goes, a refused write writes nothing, a correction target is corrected at most once,
//!   a note is never signed over an open safety flag, raw UPDATE and DELETE are refused,
//!   and the audit trail verifies.
//!
//! The store property runs 300 cases; `KAPCHART_LONG_TESTS=1` runs 3,000.

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, TimeZone};
use kapchart::charting;
use kapchart::config::Config;
use kapchart::course;
use kapchart::domain::course::PatientDetails;
use kapchart::domain::entry::{
    Acknowledgement, AldreteScore, RideHome, RiskAssessment, SessionEnd, Text,
};
use kapchart::domain::grammar::{GrammarError, KEYWORDS, ParseContext, format_payload, parse_line};
use kapchart::domain::measures::{Instrument, MeasureRules, score};
use kapchart::domain::screening::{
    Answer, Decision, EligibilityDecision, ScreeningAnswer, ScreeningItem,
};
use kapchart::domain::{
    BloodPressure, Dose, DoseUnit, EntryStatus, FlagCode, Observation, Payload, Route, Sedation,
    SessionKind, VitalSigns,
};
use kapchart::store::{Chart, NewPatient, NewSession};
use proptest::prelude::*;
use proptest::test_runner::{RngAlgorithm, TestCaseError};
use rusqlite::types::Value;
use std::collections::{BTreeMap, HashSet};

const WEIGHT_KG: f64 = 70.0;

/// A string strategy from a regex, parsed once (a `&str` strategy parses it per value).
fn re(regex: &str) -> proptest::string::RegexGeneratorStrategy<String> {
    proptest::string::string_regex(regex).expect("a valid regex")
}

fn config() -> &'static Config {
    static CONFIG: std::sync::OnceLock<Config> = std::sync::OnceLock::new();
    CONFIG.get_or_init(Config::default)
}

/// 14:30 on 12 May 2026 at +01:00.
fn now() -> DateTime<FixedOffset> {
    FixedOffset::east_opt(3600)
        .unwrap()
        .with_ymd_and_hms(2026, 5, 12, 14, 30, 0)
        .unwrap()
}

fn context(weight_kg: Option<f64>) -> ParseContext<'static, FixedOffset> {
    ParseContext {
        now: now(),
        weight_kg,
        drugs: &config().drugs.known,
        measures: &config().measures,
    }
}

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
        let ctx = ParseContext {
            now,
            weight_kg,
            drugs: &config().drugs.known,
            measures: &config().measures,
        };
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

/// A word of free text: no quotes or # (an observation reads those), no control characters.
fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => re("[a-zA-Z]{1,10}"),
        1 => re("[a-zA-Z0-9,.;:!?'/()@+-]{1,10}"),
        1 => re("[äöüéßñ]{1,4}"),
    ]
}

/// Free text: words with single spaces, trimmed.
fn text() -> impl Strategy<Value = String> {
    proptest::collection::vec(word(), 1..8).prop_map(|w| w.join(" "))
}

/// Free text where quotes and # are plain characters too (not an observation).
fn plain_text() -> impl Strategy<Value = String> {
    proptest::collection::vec(prop_oneof![4 => word(), 1 => re("[#\"a-z]{1,5}")], 1..8)
        .prop_map(|w| w.join(" "))
}

fn vitals() -> impl Strategy<Value = Payload> {
    let bp = (50u16..=300, 20u16..=200)
        .prop_filter("diastolic below systolic", |(s, d)| d < s)
        .prop_map(|(systolic, diastolic)| BloodPressure {
            systolic,
            diastolic,
        });
    (
        proptest::option::of(bp),
        proptest::option::of(20u16..=250),
        proptest::option::of(50u8..=100),
        proptest::option::of(4u16..=60),
        proptest::option::of((300u16..=450).prop_map(|tenths| f64::from(tenths) / 10.0)),
    )
        .prop_map(|(bp, hr, spo2, rr, temp_c)| VitalSigns {
            bp,
            hr,
            spo2,
            rr,
            temp_c,
        })
        .prop_filter("at least one vital sign", |v| !v.is_empty())
        .prop_map(Payload::Vitals)
}

fn sedation() -> impl Strategy<Value = Payload> {
    (0u8..=5).prop_map(|moaas| Payload::Sedation(Sedation { moaas }))
}

fn dose() -> impl Strategy<Value = Payload> {
    let unit = proptest::sample::select(vec![DoseUnit::Mg, DoseUnit::Mcg, DoseUnit::MgPerKg]);
    let route = proptest::sample::select(Route::ALL.to_vec());
    (
        proptest::sample::select(config().drugs.known.clone()),
        1u32..=5_000_000,
        unit,
        route,
        proptest::option::of(1u32..=1440),
    )
        .prop_map(|(drug, thousandths, unit, route, over_min)| {
            let amount = f64::from(thousandths) / 1000.0;
            let (total_mg, weight_kg) = match unit {
                DoseUnit::Mg => (amount, None),
                DoseUnit::Mcg => (amount / 1000.0, None),
                DoseUnit::MgPerKg => (
                    (amount * WEIGHT_KG * 100.0).round() / 100.0,
                    Some(WEIGHT_KG),
                ),
            };
            Payload::Dose(Dose {
                drug,
                amount,
                unit,
                route,
                over_min,
                total_mg,
                weight_kg,
            })
        })
}

/// An observation made of words, #tags and "quotes"; the expected tags (lowercase, each
/// once) and quotes follow from the parts.
fn observation() -> impl Strategy<Value = Payload> {
    #[derive(Debug, Clone)]
    enum Part {
        Word(String),
        Tag(String),
        Quote(String),
    }
    let part = prop_oneof![
        5 => word().prop_map(Part::Word),
        2 => re("[a-zA-Z][a-zA-Z0-9_-]{0,8}").prop_map(Part::Tag),
        2 => text().prop_map(Part::Quote),
    ];
    proptest::collection::vec(part, 1..8).prop_map(|parts| {
        let mut words = Vec::new();
        let mut tags: Vec<String> = Vec::new();
        let mut quotes = Vec::new();
        for p in parts {
            match p {
                Part::Word(w) => words.push(w),
                Part::Tag(t) => {
                    let lower = t.to_lowercase();
                    if !tags.contains(&lower) {
                        tags.push(lower);
                    }
                    words.push(format!("#{t}"));
                }
                Part::Quote(q) => {
                    words.push(format!("\"{q}\""));
                    quotes.push(q);
                }
            }
        }
        Payload::Observation(Observation {
            text: words.join(" "),
            tags,
            quotes,
        })
    })
}

fn measure() -> impl Strategy<Value = Payload> {
    proptest::sample::select(Instrument::ALL.to_vec())
        .prop_flat_map(|i| {
            proptest::collection::vec(0..=i.max_item(), i.item_count())
                .prop_map(move |items| (i, items))
        })
        .prop_map(|(i, items)| {
            Payload::Measure(score(i, &items, &MeasureRules::default()).expect("valid answers"))
        })
}

fn screening() -> impl Strategy<Value = Payload> {
    let item = proptest::sample::select(vec![
        ScreeningItem::ActivePsychosis,
        ScreeningItem::ManiaHistory,
        ScreeningItem::UncontrolledHypertension,
        ScreeningItem::VascularDisease,
        ScreeningItem::Pregnancy,
        ScreeningItem::SubstanceUse,
    ]);
    let answer = proptest::sample::select(vec![Answer::Yes, Answer::No, Answer::Unknown]);
    (item, answer, proptest::option::of(plain_text()))
        .prop_map(|(item, answer, note)| Payload::Screening(ScreeningAnswer { item, answer, note }))
}

fn eligibility() -> impl Strategy<Value = Payload> {
    let decision = proptest::sample::select(vec![
        Decision::Eligible,
        Decision::NotEligible,
        Decision::Deferred,
    ]);
    (decision, plain_text()).prop_map(|(decision, reason)| {
        Payload::Eligibility(EligibilityDecision { decision, reason })
    })
}

/// The kinds that take the rest of the line as text.
fn text_kind() -> impl Strategy<Value = Payload> {
    (0..4u8, plain_text()).prop_map(|(kind, text)| match kind {
        0 => Payload::Intention(Text { text }),
        1 => Payload::Setting(Text { text }),
        2 => Payload::Consent(Text { text }),
        _ => Payload::RiskAssessment(RiskAssessment { outcome: text }),
    })
}

/// Any payload a quick-entry line can make.
fn valid_payload() -> impl Strategy<Value = Payload> {
    prop_oneof![
        3 => vitals(),
        1 => sedation(),
        2 => dose(),
        3 => observation(),
        1 => measure(),
        1 => screening(),
        1 => eligibility(),
        2 => text_kind(),
    ]
}

/// Whether a payload's segment takes the rest of the line (so it must come last).
fn takes_the_rest(p: &Payload) -> bool {
    matches!(
        p,
        Payload::Observation(_)
            | Payload::Screening(_)
            | Payload::Eligibility(_)
            | Payload::Intention(_)
            | Payload::Setting(_)
            | Payload::Consent(_)
            | Payload::RiskAssessment(_)
    )
}

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

// ---------------------------------------------------------------------------------------
// Every kind of entry reads back from the chart as written

/// Entries that come from forms, not typed lines. An acknowledgement points at entry 0 until
/// the test gives it a real one.
fn form_payload() -> impl Strategy<Value = Payload> {
    let item = || 0u8..=2;
    prop_oneof![
        (plain_text(), 0..3u8).prop_map(|(note, f)| Payload::Acknowledgement(Acknowledgement {
            entry: 0,
            flag: [FlagCode::BpHigh, FlagCode::BpPredose, FlagCode::HrHigh][usize::from(f)],
            note,
        })),
        (item(), item(), item(), item(), item()).prop_map(|(a, r, c, k, s)| {
            Payload::Aldrete(AldreteScore {
                activity: a,
                respiration: r,
                circulation: c,
                consciousness: k,
                spo2: s,
            })
        }),
        plain_text().prop_map(|who| Payload::RideHome(RideHome { who })),
        Just(Payload::PatientReady),
    ]
}

/// A chart with one 70 kg patient and one dosing session started at `now()`.
fn new_chart() -> (tempfile::TempDir, Chart, i64) {
    let dir = tempfile::tempdir().unwrap();
    let start = now();
    let mut chart =
        Chart::create(&dir.path().join("p.db"), "pw", "Dr. Property", 2000, start).unwrap();
    let patient = chart
        .add_patient(
            &NewPatient {
                name: "Prop Patient".into(),
                dob: NaiveDate::from_ymd_opt(1980, 1, 1).unwrap(),
                mrn: None,
                weight_kg: Some(WEIGHT_KG),
            },
            start,
        )
        .unwrap();
    let session = chart
        .start_session(
            &NewSession {
                patient_id: patient,
                kind: SessionKind::Dosing,
                started: start,
                intention: None,
                dosing_session_id: None,
            },
            start,
        )
        .unwrap();
    (dir, chart, session)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 48,
        rng_algorithm: RngAlgorithm::XorShift,
        ..ProptestConfig::default()
    })]

    /// Typed entries, form entries, a strike and a session end (with or without a reason),
    /// written and read back from the chart reopened from disk: each payload as written.
    #[test]
    fn every_payload_kind_reads_back_from_the_chart(
        payloads in proptest::collection::vec(
            prop_oneof![3 => valid_payload(), 2 => form_payload()], 1..16),
        strike in any::<usize>(),
        end_reason in proptest::option::of(plain_text()),
    ) {
        let (dir, mut chart, session) = new_chart();
        let config = config();
        let mut written: Vec<(i64, Payload)> = Vec::new();
        let alert = charting::record_line(&mut chart, config, session, "bp 170/105", &now())
            .map_err(|e| TestCaseError::fail(e.to_string()))?[0];
        for (n, p) in payloads.iter().enumerate() {
            let at = now() + Duration::minutes(n as i64 + 1);
            let mut p = p.clone();
            if let Payload::Acknowledgement(a) = &mut p {
                a.entry = alert;
            }
            // A typed entry is expected as its line parses (the grammar's round trip is the
            // property above); a form entry as it was made.
            let (ids, expected) = match format_payload(&p) {
                Some(line) => {
                    let parsed = parse_line(&line, &context(Some(WEIGHT_KG)))
                        .map_err(|e| TestCaseError::fail(format!("{line:?}: {e}")))?;
                    let ids = charting::record_line(&mut chart, config, session, &line, &at);
                    (ids, parsed.entries[0].clone())
                }
                None => {
                    let ids =
                        charting::record_payloads(&mut chart, config, session, vec![p.clone()], &at);
                    (ids, p.clone())
                }
            };
            let ids = ids.map_err(|e| TestCaseError::fail(format!("{p:?}: {e}")))?;
            prop_assert_eq!(ids.len(), 1);
            written.push((ids[0], expected));
        }
        let later = now() + Duration::minutes(100);
        let target = written[strike % written.len()].0;
        let struck = charting::strike_entry(&mut chart, target, "in error", &later)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        written.push((struck, Payload::Strike));
        let end = Payload::SessionEnd(SessionEnd { reason: end_reason });
        let ended = charting::record_payloads(&mut chart, config, session, vec![end.clone()], &later)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        written.push((ended[0], end));
        drop(chart);

        let chart = Chart::open(&dir.path().join("p.db"), "pw", 5000)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let lines = charting::session_lines(&chart, session).unwrap();
        for (id, payload) in &written {
            let line = lines.iter().find(|l| l.entry.id == *id);
            prop_assert!(line.is_some(), "entry {} is in the chart", id);
            prop_assert_eq!(&line.unwrap().entry.payload, payload);
        }
        let struck_line = lines.iter().find(|l| l.entry.id == target).unwrap();
        prop_assert!(matches!(struck_line.status, EntryStatus::Struck { .. }), "{:?}", struck_line.status);
        prop_assert!(chart.verify().unwrap().is_ok());
    }
}

// ---------------------------------------------------------------------------------------
// The store under random sequences of writes

#[derive(Debug, Clone)]
enum Op {
    Log(Payload),
    /// Amend the entry at this index (modulo the entries so far) with this payload.
    Amend(usize, Payload),
    Strike(usize),
    /// Sign the session's note, with or without a reason.
    Sign(Option<String>),
    Addendum(String),
    /// New patient details; a weight outside 0-700 kg is refused.
    Details(PatientDetails),
    /// Start a course with this many planned dosing sessions; 1 to 50 are accepted.
    Course(u32, Vec<String>),
}

fn patient_details() -> impl Strategy<Value = PatientDetails> {
    let weight = prop_oneof![
        4 => (300u32..=2000).prop_map(|t| f64::from(t) / 10.0),
        1 => proptest::sample::select(vec![0.0, -5.0, 700.0, 900.0, f64::NAN]),
    ];
    // Always a weight: a version without one leaves the patient with no weight on record,
    // and mg/kg doses are then refused (tests/cli.rs covers that).
    (
        weight.prop_map(Some),
        proptest::option::of(plain_text()),
        proptest::option::of(plain_text()),
        proptest::collection::vec(plain_text(), 0..3),
    )
        .prop_map(
            |(weight_kg, emergency_contact, ride_contact, medications)| PatientDetails {
                weight_kg,
                emergency_contact,
                ride_contact,
                medications,
            },
        )
}

fn op() -> impl Strategy<Value = Op> {
    // Measures are logged too: a PHQ-9 with item 9 above 0 (three in four PHQ-9s here) opens
    // a safety flag that refuses signing until a risk assessment (a text kind) follows.
    let loggable = prop_oneof![
        3 => vitals(),
        1 => sedation(),
        2 => dose(),
        3 => observation(),
        2 => measure(),
        2 => text_kind(),
    ];
    let single = prop_oneof![vitals(), sedation(), observation()];
    prop_oneof![
        6 => loggable.prop_map(Op::Log),
        3 => (any::<usize>(), single).prop_map(|(i, p)| Op::Amend(i, p)),
        2 => any::<usize>().prop_map(Op::Strike),
        2 => proptest::option::of(plain_text()).prop_map(Op::Sign),
        2 => text().prop_map(Op::Addendum),
        1 => patient_details().prop_map(Op::Details),
        1 => (0u32..=55, proptest::collection::vec(plain_text(), 0..3))
            .prop_map(|(n, goals)| Op::Course(n, goals)),
    ]
}

/// The model's safety flag, worked out here from the session's lines: the newest standing
/// PHQ-9 with item 9 above 0, not followed by a standing risk assessment.
fn safety_flag_open(chart: &Chart, session: i64) -> bool {
    let lines = charting::session_lines(chart, session).unwrap();
    let current = || lines.iter().filter(|l| l.status == EntryStatus::Current);
    let raised = current()
        .filter(|l| {
            matches!(&l.entry.payload, Payload::Measure(m)
                if m.instrument == Instrument::Phq9 && m.items[8] > 0)
        })
        .map(|l| (l.entry.event_time, l.entry.id))
        .max();
    raised.is_some_and(|(at, _)| {
        !current().any(|l| {
            matches!(l.entry.payload, Payload::RiskAssessment(_)) && l.entry.event_time >= at
        })
    })
}

/// Tables the chart only ever appends to, and their key column.
const TABLES: &[(&str, &str)] = &[
    ("clinicians", "id"),
    ("patient_details", "id"),
    ("courses", "id"),
    ("entries", "id"),
    ("audit", "seq"),
    ("notes", "id"),
    ("note_drafts", "id"),
    ("note_signatures", "id"),
    ("note_addenda", "id"),
    ("sessions", "id"),
    ("patients", "id"),
];

/// Every row of the append-only tables as stored: (table, key) -> columns.
fn rows(chart: &Chart) -> BTreeMap<(&'static str, i64), Vec<Value>> {
    let conn = chart.raw_connection();
    let mut out = BTreeMap::new();
    for (table, key) in TABLES {
        let mut stmt = conn
            .prepare(&format!("SELECT {key}, * FROM {table} ORDER BY {key}"))
            .unwrap();
        let n = stmt.column_count();
        let mut q = stmt.query([]).unwrap();
        while let Some(r) = q.next().unwrap() {
            let id: i64 = r.get(0).unwrap();
            let values = (1..n).map(|i| r.get::<_, Value>(i).unwrap()).collect();
            out.insert((*table, id), values);
        }
    }
    out
}

/// What the model expects of an entry: whether it is a strike, and whether it was corrected.
#[derive(Debug, Clone, Copy)]
struct Known {
    id: i64,
    strike: bool,
    corrected: bool,
}

fn run_sequence(ops: &[Op]) -> Result<(), TestCaseError> {
    let (_dir, mut chart, session) = new_chart();
    let start = now();
    let patient = chart.session(session).unwrap().patient_id;
    let config = config();
    let mut known: Vec<Known> = Vec::new();
    let mut signed = false;
    let mut note = None;
    let mut seen = rows(&chart);

    for (n, op) in ops.iter().enumerate() {
        let at = start + Duration::minutes(n as i64 + 1);
        let count_before = chart.entry_count().unwrap();
        let max_before = known.iter().map(|k| k.id).max().unwrap_or(0);
        // Signing starts from the note's draft, which opening the note writes (an append
        // of its own, checked like any other).
        if matches!(op, Op::Sign(_)) && note.is_none() {
            let opened = course::open_note(&mut chart, config, session, at)
                .map_err(|e| TestCaseError::fail(format!("op {n}: open the note: {e}")))?;
            note = Some(opened.note.id);
            let after = rows(&chart);
            for (key, before) in &seen {
                prop_assert_eq!(
                    after.get(key),
                    Some(before),
                    "op {}: row {:?} changed",
                    n,
                    key
                );
            }
            seen = after;
        }
        // What the model expects: Some(true) succeeds, Some(false) is refused, None either.
        let (expected, result): (Option<bool>, Result<(), String>) = match op {
            Op::Log(p) => {
                let line = format_payload(p).unwrap();
                let r = charting::record_line(&mut chart, config, session, &line, &at);
                (Some(true), r.map(|_| ()).map_err(|e| e.to_string()))
            }
            Op::Amend(..) | Op::Strike(_) if known.is_empty() => (None, Ok(())),
            Op::Amend(i, _) | Op::Strike(i) => {
                let target = known[i % known.len()];
                let r = match p_of(op) {
                    Some(p) => {
                        let line = format_payload(p).unwrap();
                        charting::amend_entry(
                            &mut chart,
                            config,
                            target.id,
                            "corrected",
                            &line,
                            &at,
                        )
                    }
                    None => charting::strike_entry(&mut chart, target.id, "in error", &at),
                };
                if r.is_ok() {
                    let k = known.iter_mut().find(|k| k.id == target.id).unwrap();
                    k.corrected = true;
                }
                // A current entry can be corrected once; a strike, or a corrected entry, not.
                (
                    Some(!target.corrected && !target.strike),
                    r.map(|_| ()).map_err(|e| e.to_string()),
                )
            }
            Op::Sign(reason) => {
                let was_signed = signed;
                let flag_open = safety_flag_open(&chart, session);
                let check = course::sign_check(&chart, config, session, at).unwrap();
                prop_assert_eq!(
                    check.blocked.is_some(),
                    flag_open,
                    "op {}: the safety flag as the model sees it",
                    n
                );
                let id = note.expect("opened before the op");
                let r = course::sign_note(&mut chart, config, id, None, reason.as_deref(), at);
                if r.is_ok() {
                    signed = true;
                }
                if let Err(e) = &r
                    && !was_signed
                {
                    let e = e.to_string();
                    let why_ok = if flag_open {
                        e.contains("cannot be signed") && e.contains("risk assessment")
                    } else {
                        e.contains("needs a reason")
                    };
                    prop_assert!(why_ok, "op {}: refused with {:?}", n, e);
                }
                // Signed once; never over an open safety flag; without a reason only when
                // nothing open asks for one.
                (
                    Some(
                        !was_signed
                            && !flag_open
                            && (reason.as_deref().is_some_and(|r| !r.trim().is_empty())
                                || check.needs_reason.is_empty()),
                    ),
                    r.map_err(|e| e.to_string()),
                )
            }
            Op::Details(details) => {
                let plausible = details
                    .weight_kg
                    .is_none_or(|w| w.is_finite() && w > 0.0 && w < 700.0);
                let r = chart.update_patient_details(patient, details, at);
                (Some(plausible), r.map(|_| ()).map_err(|e| e.to_string()))
            }
            Op::Course(planned, goals) => {
                let r = chart.start_course(patient, *planned, goals, at);
                (
                    Some((1..=50).contains(planned)),
                    r.map(|_| ()).map_err(|e| e.to_string()),
                )
            }
            Op::Addendum(text) => {
                let r = match note {
                    Some(id) => chart
                        .add_addendum(id, text, at)
                        .map(|_| ())
                        .map_err(|e| e.to_string()),
                    None => Err("no note yet".into()),
                };
                // Addenda follow a signature.
                (Some(signed), r)
            }
        };
        if let Some(ok) = expected {
            prop_assert_eq!(result.is_ok(), ok, "op {} {:?}: {:?}", n, op, result);
        }
        // New entries join the model.
        for e in charting::session_lines(&chart, session).unwrap() {
            if e.entry.id > max_before {
                known.push(Known {
                    id: e.entry.id,
                    strike: matches!(e.entry.payload, Payload::Strike),
                    corrected: false,
                });
            }
        }
        known.sort_by_key(|k| k.id);
        // Append-only: the count never drops, and every row seen before is still there,
        // byte for byte.
        let count = chart.entry_count().unwrap();
        prop_assert!(
            count >= count_before,
            "op {}: entries went from {} to {}",
            n,
            count_before,
            count
        );
        let now_rows = rows(&chart);
        if result.is_err() {
            prop_assert_eq!(
                count,
                count_before,
                "op {} {:?}: a refused write wrote nothing",
                n,
                op
            );
            prop_assert_eq!(
                now_rows.len(),
                seen.len(),
                "op {} {:?}: a refused write added no row anywhere",
                n,
                op
            );
        }
        for (key, before) in &seen {
            prop_assert_eq!(
                now_rows.get(key),
                Some(before),
                "op {}: row {:?} changed or went",
                n,
                key
            );
        }
        seen = now_rows;
    }

    // Each correction target is corrected at most once, and only corrections point back.
    let conn = chart.raw_connection();
    let mut stmt = conn
        .prepare("SELECT corrects FROM entries WHERE corrects IS NOT NULL")
        .unwrap();
    let targets: Vec<i64> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let unique: HashSet<i64> = targets.iter().copied().collect();
    prop_assert_eq!(
        unique.len(),
        targets.len(),
        "a target corrected twice: {:?}",
        targets
    );
    let corrected: HashSet<i64> = known.iter().filter(|k| k.corrected).map(|k| k.id).collect();
    prop_assert_eq!(
        unique,
        corrected,
        "the model and the chart agree on what was corrected"
    );

    // Raw UPDATE and DELETE are refused by the chart itself.
    for (table, id) in seen.keys() {
        let key = TABLES.iter().find(|(t, _)| t == table).unwrap().1;
        for sql in [
            format!("UPDATE {table} SET {key} = {key} WHERE {key} = {id}"),
            format!("DELETE FROM {table} WHERE {key} = {id}"),
        ] {
            let err = conn.execute(&sql, []).expect_err(&sql).to_string();
            prop_assert!(err.contains("append-only"), "{}: {}", sql, err);
        }
    }
    prop_assert_eq!(
        &rows(&chart),
        &seen,
        "the refused statements changed nothing"
    );

    let report = chart.verify().unwrap();
    prop_assert!(report.is_ok(), "verify: {:?}", report);
    Ok(())
}

fn p_of(op: &Op) -> Option<&Payload> {
    match op {
        Op::Amend(_, p) => Some(p),
        _ => None,
    }
}

/// 300 cases; 3,000 with `KAPCHART_LONG_TESTS=1`.
fn store_cases() -> u32 {
    if std::env::var("KAPCHART_LONG_TESTS").is_ok_and(|v| v == "1") {
        3_000
    } else {
        300
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: store_cases(),
        max_shrink_iters: 64,
        ..ProptestConfig::default()
    })]

    /// One chart per case, up to 30 writes each.
    #[test]
    fn the_store_stays_append_only_under_random_writes(
        ops in proptest::collection::vec(op(), 1..=30)
    ) {
        run_sequence(&ops)?;
    }
}
