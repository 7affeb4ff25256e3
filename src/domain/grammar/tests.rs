//! Tests of the quick-entry grammar: every valid form and every class of invalid input.
//! One file because it is the grammar's table of cases, each a line as typed and what it
//! charts or why it is refused, in sections in the order the grammar's docs give them, all
//! through `parse_line` and the same few helpers at the top.

use super::*;
use chrono::{Datelike, Timelike};
use chrono_tz::Europe::Berlin;

use super::error::{EX_DOSE, EX_NEXT};
use crate::domain::entry::{
    BloodPressure, Dose, DoseUnit, Observation, Route, Sedation, VitalSigns,
};

fn drugs() -> Vec<String> {
    ["ketamine", "esketamine", "ondansetron"]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

/// Tuesday 2026-05-12 14:30:00 +01:00.
fn now() -> DateTime<FixedOffset> {
    FixedOffset::east_opt(3600)
        .unwrap()
        .with_ymd_and_hms(2026, 5, 12, 14, 30, 0)
        .unwrap()
}

fn parse_with(line: &str, weight: Option<f64>) -> Result<ParsedLine, GrammarError> {
    let drugs = drugs();
    let ctx = ParseContext {
        measures: &crate::domain::measures::MeasureRules::default(),
        now: now(),
        weight_kg: weight,
        drugs: &drugs,
        doses: &super::super::dose_levels::DoseLevels::default(),
    };
    parse_line(line, &ctx)
}

fn ok(line: &str) -> ParsedLine {
    match parse_with(line, Some(70.0)) {
        Ok(p) => p,
        Err(e) => panic!("{line:?} should parse, got: {e}"),
    }
}

fn one(line: &str) -> Payload {
    let parsed = ok(line);
    assert_eq!(parsed.entries.len(), 1, "{line:?}: {:?}", parsed.entries);
    parsed.entries.into_iter().next().unwrap()
}

fn vitals(line: &str) -> VitalSigns {
    match one(line) {
        Payload::Vitals(v) => v,
        other => panic!("{line:?} gave {other:?}"),
    }
}

fn dose(line: &str) -> Dose {
    match one(line) {
        Payload::Dose(d) => d,
        other => panic!("{line:?} gave {other:?}"),
    }
}

fn obs(line: &str) -> Observation {
    match one(line) {
        Payload::Observation(o) => o,
        other => panic!("{line:?} gave {other:?}"),
    }
}

fn err(line: &str) -> GrammarError {
    err_with(line, Some(70.0))
}

fn err_with(line: &str, weight: Option<f64>) -> GrammarError {
    match parse_with(line, weight) {
        Ok(p) => panic!("{line:?} should be refused, got {p:?}"),
        Err(e) => {
            assert_eq!(
                line.get(e.span.clone()),
                Some(e.token.as_str()),
                "span must point at the token"
            );
            e
        }
    }
}

/// Asserts the error names `token` and its message contains every one of `words`.
fn refused(line: &str, token: &str, words: &[&str]) -> GrammarError {
    let e = err(line);
    assert_eq!(e.token, token, "{line:?}: {e}");
    for w in words {
        assert!(
            e.message.contains(w),
            "{line:?}: {:?} lacks {w:?}",
            e.message
        );
    }
    e
}

fn bp(systolic: u16, diastolic: u16) -> Option<BloodPressure> {
    Some(BloodPressure {
        systolic,
        diastolic,
    })
}

// --- vitals -------------------------------------------------------------------------

#[test]
fn all_vitals_go_into_one_entry() {
    let v = vitals("bp 128/82 hr 74 spo2 97 rr 14 temp 36.8");
    assert_eq!(
        v,
        VitalSigns {
            bp: bp(128, 82),
            hr: Some(74),
            spo2: Some(97),
            rr: Some(14),
            temp_c: Some(36.8),
        }
    );
}

#[test]
fn vitals_in_any_order_with_aliases_and_units() {
    let v = vitals("TEMP 36.8C spo2 97% Pulse 74 RR 14 BP 128/82");
    assert_eq!(v.bp, bp(128, 82));
    assert_eq!(v.hr, Some(74));
    assert_eq!(v.spo2, Some(97));
    assert_eq!(v.rr, Some(14));
    assert_eq!(v.temp_c, Some(36.8));
    assert_eq!(vitals("hr 74").hr, Some(74));
    assert_eq!(vitals("temp 37 c").temp_c, Some(37.0));
    assert_eq!(vitals("temp 36.8°C").temp_c, Some(36.8));
}

#[test]
fn fahrenheit_is_converted_to_celsius() {
    assert_eq!(vitals("temp 98.6F").temp_c, Some(37.0));
    assert_eq!(vitals("temp 100.4f").temp_c, Some(38.0));
    assert_eq!(vitals("temp 99.5 F").temp_c, Some(37.5));
    assert_eq!(vitals("temp 97.0°F").temp_c, Some(36.1));
}

#[test]
fn celsius_is_kept_to_one_decimal() {
    assert_eq!(vitals("temp 36.84").temp_c, Some(36.8));
}

#[test]
fn limits_are_inclusive() {
    assert_eq!(vitals("bp 300/200").bp, bp(300, 200));
    assert_eq!(vitals("bp 50/20").bp, bp(50, 20));
    assert_eq!(vitals("hr 20").hr, Some(20));
    assert_eq!(vitals("hr 250").hr, Some(250));
    assert_eq!(vitals("spo2 50").spo2, Some(50));
    assert_eq!(vitals("spo2 100%").spo2, Some(100));
    assert_eq!(vitals("rr 4").rr, Some(4));
    assert_eq!(vitals("rr 60").rr, Some(60));
    assert_eq!(vitals("temp 30").temp_c, Some(30.0));
    assert_eq!(vitals("temp 45.0").temp_c, Some(45.0));
}

#[test]
fn blood_pressure_errors() {
    refused("bp 128", "128", &["systolic/diastolic"]);
    refused("bp 128/", "128/", &["systolic/diastolic"]);
    refused("bp 128/82/60", "128/82/60", &["systolic/diastolic"]);
    refused("bp 128.5/82", "128.5/82", &["whole numbers"]);
    refused("bp 1280/82", "1280/82", &["Systolic", "50 and 300"]);
    refused("bp 128/8", "128/8", &["Diastolic", "20 and 200"]);
    refused("bp 82/128", "82/128", &["below systolic"]);
    refused("bp 120/120", "120/120", &["below systolic"]);
    refused("bp high", "high", &["systolic/diastolic", "obs"]);
    refused("bp", "bp", &["needs a value"]);
    refused(
        "bp 99999999999999999999999/82",
        "99999999999999999999999/82",
        &["50 and 300"],
    );
}

#[test]
fn whole_number_vitals_refuse_decimals_and_words() {
    refused("hr 74.5", "74.5", &["Heart rate", "whole number"]);
    refused("hr 400", "400", &["20 and 250"]);
    refused("pulse 5", "5", &["20 and 250"]);
    refused("hr fast", "fast", &["needs a number", "obs"]);
    refused("spo2 101", "101", &["50 and 100"]);
    refused("spo2 97%%", "97%%", &["SpO2", "number"]);
    refused("spo2 97.5", "97.5", &["whole number"]);
    refused("rr 2", "2", &["4 and 60"]);
    refused("rr 14,5", "14,5", &["whole number"]);
    refused("rr", "rr", &["needs a value"]);
    refused("hr -74", "-74", &["number"]);
    refused("hr ７４", "７４", &["number"]);
}

#[test]
fn temperature_errors() {
    let e = refused("temp 98.6", "98.6", &["did you mean 98.6F?"]);
    assert_eq!(e.example, "temp 98.6F");
    refused("temp 29.9", "29.9", &["30 and 45 °C"]);
    refused("temp 120F", "120F", &["30 and 45 °C"]);
    refused("temp 37K", "37K", &["°C", "F"]);
    refused("temp 36,8", "36,8", &["point for decimals"]);
    refused("temp warm", "warm", &["obs"]);
    refused("temp", "temp", &["needs a value"]);
    refused("temp 1e2", "1e2", &["number"]);
    refused("temp inf", "inf", &["number"]);
    refused("temp NaN", "NaN", &["number"]);
}

#[test]
fn the_same_vital_twice_is_refused() {
    refused("hr 74 bp 128/82 pulse 80", "pulse", &["already", "once"]);
    refused("bp 128/82 BP 130/80", "BP", &["already"]);
    refused("temp 36.8 temp 37", "temp", &["already"]);
}

// --- sedation -----------------------------------------------------------------------

#[test]
fn moaas_scores() {
    for n in 0..=5u8 {
        assert_eq!(
            one(&format!("moaas {n}")),
            Payload::Sedation(Sedation { moaas: n })
        );
    }
    assert_eq!(one("MOAAS 3"), Payload::Sedation(Sedation { moaas: 3 }));
}

#[test]
fn moaas_errors_explain_the_scale() {
    refused(
        "moaas 6",
        "6",
        &["0 and 5", "responds readily", "no response"],
    );
    refused("moaas 3.5", "3.5", &["whole number"]);
    refused("moaas drowsy", "drowsy", &["number", "obs"]);
    refused("moaas", "moaas", &["0 to 5"]);
    refused("moaas 4 moaas 3", "moaas", &["already"]);
}

// --- doses --------------------------------------------------------------------------

#[test]
fn dose_in_mg() {
    let d = dose("dose ketamine 35mg IM");
    assert_eq!(
        d,
        Dose {
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
        }
    );
    assert_eq!(dose("dose ketamine 35 mg IM"), d);
    assert_eq!(dose("DOSE Ketamine 35MG im"), d);
    let e = dose("dose esketamine 56mg IN");
    assert_eq!(
        (e.drug.as_str(), e.route, e.total_mg),
        ("esketamine", Route::IN, 56.0)
    );
}

#[test]
fn dose_routes() {
    for r in Route::ALL {
        assert_eq!(
            dose(&format!("dose ondansetron 4mg {}", r.label())).route,
            r
        );
    }
}

#[test]
fn dose_in_mcg_and_mg_per_kg() {
    let d = dose("dose ondansetron 500mcg IV");
    assert_eq!(
        (d.unit, d.total_mg, d.weight_kg),
        (DoseUnit::Mcg, 0.5, None)
    );

    let d = dose("dose ketamine 0.5mg/kg IV over 40m");
    assert_eq!(d.unit, DoseUnit::MgPerKg);
    assert_eq!(d.amount, 0.5);
    assert_eq!(d.total_mg, 35.0);
    assert_eq!(d.weight_kg, Some(70.0));
    assert_eq!(d.over_min, Some(40));

    let d = dose("dose ketamine 0.75 MG/KG iv");
    assert_eq!((d.total_mg, d.over_min), (52.5, None));
}

#[test]
fn mg_per_kg_total_is_rounded_to_two_decimals() {
    let drugs = drugs();
    let ctx = ParseContext {
        measures: &crate::domain::measures::MeasureRules::default(),
        now: now(),
        weight_kg: Some(71.3),
        drugs: &drugs,
        doses: &super::super::dose_levels::DoseLevels::default(),
    };
    let p = parse_line("dose ketamine 0.333mg/kg IV", &ctx).unwrap();
    match &p.entries[0] {
        Payload::Dose(d) => {
            assert_eq!(d.total_mg, 23.74);
            assert_eq!(d.weight_kg, Some(71.3));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn mg_per_kg_without_weight_is_refused() {
    let e = err_with("dose ketamine 0.5mg/kg IV", None);
    assert_eq!(e.token, "0.5mg/kg");
    assert!(e.message.contains("weight is not recorded"), "{e}");
    assert!(e.message.contains("in mg"), "{e}");
    let e = err_with("dose ketamine 0.5 mg/kg IV", None);
    assert_eq!(e.token, "mg/kg");
    let e = err_with("dose ketamine 0.5mg/kg IV", Some(f64::NAN));
    assert!(e.message.contains("weight"));
    // mg doses need no weight.
    assert!(parse_with("dose ketamine 35mg IM", None).is_ok());
}

#[test]
fn infusion_durations() {
    assert_eq!(dose("dose ketamine 35mg IV over 40min").over_min, Some(40));
    assert_eq!(dose("dose ketamine 35mg IV OVER 1h").over_min, Some(60));
    assert_eq!(dose("dose ketamine 35mg IV over 1h30m").over_min, Some(90));
    assert_eq!(dose("dose ketamine 35mg IV over 2H").over_min, Some(120));
}

#[test]
fn dose_errors() {
    let e = refused(
        "dose ketamin 35mg IM",
        "ketamin",
        &["Unknown drug", "ketamine, esketamine, ondansetron"],
    );
    assert_eq!(e.example, EX_DOSE);
    refused("dose 35mg ketamine IM", "35mg", &["Unknown drug"]);
    refused("dose", "dose", &["drug", "amount", "route"]);
    refused("dose ketamine", "ketamine", &["amount", "unit"]);
    refused("dose ketamine 0mg IM", "0mg", &["above zero"]);
    refused("dose ketamine 0 mg IM", "0", &["above zero"]);
    refused("dose ketamine -5mg IM", "-5mg", &["number above zero"]);
    refused(
        "dose ketamine IM 35mg",
        "IM",
        &["amount", "before the route"],
    );
    refused(
        "dose ketamine 0,5mg/kg IV",
        "0,5mg/kg",
        &["point for decimals"],
    );
    refused("dose ketamine 0.5.1mg IV", "0.5.1mg", &["number"]);
    refused(
        "dose ketamine 0.1234mg/kg IV",
        "0.1234mg/kg",
        &["3 decimals"],
    );
    refused("dose ketamine 35 IM", "IM", &["mg, mcg or mg/kg"]);
    refused("dose ketamine 35", "35", &["unit", "mg, mcg or mg/kg"]);
    refused("dose ketamine 35ml IM", "35ml", &["mg, mcg or mg/kg"]);
    refused(
        "dose ketamine 35mg",
        "35mg",
        &["route", "IV, IM, IN, SL or PO"],
    );
    refused("dose ketamine 35mg IP", "IP", &["IV, IM, IN, SL or PO"]);
    refused("dose ketamine 35mg IV over", "over", &["over 40m"]);
    refused("dose ketamine 35mg IV over 40", "40", &["minutes or hours"]);
    refused("dose ketamine 35mg IV over 0m", "0m", &["more than zero"]);
    refused(
        "dose ketamine 35mg IV over 30m1h",
        "30m1h",
        &["minutes or hours"],
    );
    refused("dose ketamine 35mg IV over 25h", "25h", &["24 hours"]);
    refused(
        "dose ketamine 35mg IV over -5m",
        "-5m",
        &["minutes or hours"],
    );
    refused(
        "dose ketamine 35mg IV over 99999999999999999999999m",
        "99999999999999999999999m",
        &["24 hours"],
    );
    refused("dose ketamine inf IV", "inf", &["number"]);
    refused("dose ketamine 35mg IM slowly", "slowly", &["obs"]);
}

#[test]
fn unknown_drug_when_none_are_set_up() {
    let ctx = ParseContext {
        measures: &crate::domain::measures::MeasureRules::default(),
        now: now(),
        weight_kg: None,
        drugs: &[],
        doses: &super::super::dose_levels::DoseLevels::default(),
    };
    let e = parse_line("dose ketamine 35mg IM", &ctx).unwrap_err();
    assert_eq!(e.token, "ketamine");
    assert!(e.message.contains("No drugs are set up"));
}

#[test]
fn multi_word_drug_names_match_longest() {
    let drugs = vec!["nitrous".to_string(), "nitrous oxide".to_string()];
    let ctx = ParseContext {
        measures: &crate::domain::measures::MeasureRules::default(),
        now: now(),
        weight_kg: None,
        drugs: &drugs,
        doses: &super::super::dose_levels::DoseLevels::default(),
    };
    let p = parse_line("dose Nitrous Oxide 5mg IN", &ctx).unwrap();
    match &p.entries[0] {
        Payload::Dose(d) => assert_eq!(d.drug, "nitrous oxide"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn every_dose_is_its_own_entry() {
    let p = ok("dose ketamine 35mg IM dose ondansetron 4mg IV");
    assert_eq!(p.entries.len(), 2);
    assert!(matches!(&p.entries[0], Payload::Dose(d) if d.drug == "ketamine"));
    assert!(matches!(&p.entries[1], Payload::Dose(d) if d.drug == "ondansetron"));
}

// --- observations -------------------------------------------------------------------

#[test]
fn a_line_that_starts_with_a_plain_word_is_a_note() {
    let o = obs("calm, eyes closed #Music #breathing #music");
    assert_eq!(o.text, "calm, eyes closed #Music #breathing #music");
    assert_eq!(o.tags, vec!["music", "breathing"]);
    assert!(o.quotes.is_empty());
    // Keywords later in a note are just words.
    assert_eq!(
        obs("patient asked about dose hr 80").text,
        "patient asked about dose hr 80"
    );
}

#[test]
fn obs_keyword_takes_the_rest_of_the_line() {
    let o = obs("obs   says \"I feel light\" then \"floating\"  #insight ");
    assert_eq!(o.text, "says \"I feel light\" then \"floating\"  #insight");
    assert_eq!(o.quotes, vec!["I feel light", "floating"]);
    assert_eq!(o.tags, vec!["insight"]);
    assert_eq!(
        obs("OBS bp 128/82 is just text").text,
        "bp 128/82 is just text"
    );
    assert_eq!(obs("obs @home").text, "@home");
}

#[test]
fn tags_are_whole_words_outside_quotes() {
    let o = obs("obs room#4 \"#notatag\" (#grief_work), #re-entry! #Ärger # ##");
    assert_eq!(o.tags, vec!["grief_work", "re-entry", "ärger"]);
    assert_eq!(o.quotes, vec!["#notatag"]);
    assert!(obs("obs \"\" nothing quoted").quotes.is_empty());
}

#[test]
fn observation_errors() {
    let e = refused("obs says \"I feel", "\"I", &["quote is not closed"]);
    assert_eq!(e.span, 9..11);
    refused("crying \"why", "\"why", &["not closed"]);
    refused("obs", "obs", &["needs some text"]);
    refused("bp 128/82 obs   ", "obs", &["needs some text"]);
}

// --- combining segments -------------------------------------------------------------

#[test]
fn segments_combine_in_line_order() {
    let p = ok("bp 128/82 hr 74 moaas 4 obs calm, eyes closed");
    assert_eq!(p.entries.len(), 3);
    assert_eq!(p.entries[0].kind(), "vitals");
    assert_eq!(p.entries[1], Payload::Sedation(Sedation { moaas: 4 }));
    assert_eq!(p.entries[2].kind(), "observation");

    // Vitals sit where the first vital appeared, even if more come later.
    let p = ok("moaas 3 bp 120/80 dose ketamine 35mg IM hr 70 obs ok");
    let kinds: Vec<_> = p.entries.iter().map(Payload::kind).collect();
    assert_eq!(kinds, ["sedation", "vitals", "dose", "observation"]);
    match &p.entries[1] {
        Payload::Vitals(v) => assert_eq!((v.bp, v.hr), (bp(120, 80), Some(70))),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_stray_word_after_a_keyword_segment_is_refused() {
    let e = refused("bp 128/82 calm", "calm", &["start it with obs"]);
    assert_eq!(e.example, EX_NEXT);
    assert_eq!(e.span, 10..14);
    refused("hr 74 hr74", "hr74", &["space"]);
    refused("moaas 4 sleepy", "sleepy", &["obs"]);
}

#[test]
fn nothing_partial_is_recorded() {
    // A good vital and a bad one: the whole line is refused.
    refused("hr 74 bp 300/250", "300/250", &["Diastolic"]);
    refused(
        "bp 128/82 dose ketamin 35mg IM",
        "ketamin",
        &["Unknown drug"],
    );
}

#[test]
fn a_keyword_run_into_its_number_is_refused() {
    refused("hr74", "hr74", &["space between hr"]);
    refused("BP128/82 ok", "BP128/82", &["space between bp"]);
    refused("spo297", "spo297", &["space between spo2"]);
    // Ordinary words that merely start like a keyword are notes.
    assert_eq!(obs("temperature feels fine").text, "temperature feels fine");
    assert_eq!(obs("hrs of music").text, "hrs of music");
}

#[test]
fn empty_lines_have_nothing_to_record() {
    for line in ["", "   ", "\t \n"] {
        let e = err(line);
        assert_eq!(e.token, "");
        assert!(e.message.contains("Nothing to record"));
    }
    refused("@14:05", "@14:05", &["Nothing to record"]);
    refused("  @-5m  ", "@-5m", &["Nothing to record"]);
}

#[test]
fn control_characters_are_refused() {
    refused("obs calm\u{1b}[31m", "\u{1b}", &["control character"]);
    refused("obs one\ntwo", "\n", &["line break"]);
    // A trailing newline from a terminal read is fine.
    assert_eq!(obs("obs calm\n").text, "calm");
}

// --- time prefix --------------------------------------------------------------------

#[test]
fn no_prefix_means_now() {
    let p = ok("hr 74");
    assert_eq!(p.event_time, now());
    assert!(!p.time_given);
}

#[test]
fn clock_times_today() {
    let p = ok("@14:05 hr 74");
    assert!(p.time_given);
    assert_eq!(p.event_time.to_rfc3339(), "2026-05-12T14:05:00+01:00");
    let p = ok("@9:05 calm");
    assert_eq!(p.event_time.to_rfc3339(), "2026-05-12T09:05:00+01:00");
    assert_eq!(ok("@0:00 moaas 5").event_time.hour(), 0);
    // Up to one minute ahead is allowed.
    assert_eq!(ok("@14:31 hr 74").event_time.minute(), 31);
}

#[test]
fn relative_times() {
    let at = |line: &str| ok(line).event_time.to_rfc3339();
    assert_eq!(at("@-5m hr 74"), "2026-05-12T14:25:00+01:00");
    assert_eq!(at("@-2h hr 74"), "2026-05-12T12:30:00+01:00");
    assert_eq!(at("@-1h30m hr 74"), "2026-05-12T13:00:00+01:00");
    assert_eq!(at("@-90s hr 74"), "2026-05-12T14:28:30+01:00");
    assert_eq!(at("@-10min hr 74"), "2026-05-12T14:20:00+01:00");
    assert_eq!(at("@-1H5M hr 74"), "2026-05-12T13:25:00+01:00");
    assert_eq!(at("@-24h hr 74"), "2026-05-11T14:30:00+01:00");
    assert!(ok("@-5m hr 74").time_given);
}

#[test]
fn bad_times_are_refused() {
    refused("@25:00 hr 74", "@25:00", &["0 to 23"]);
    refused("@14:60 hr 74", "@14:60", &["00 to 59"]);
    refused("@14:5 hr 74", "@14:5", &["@HH:MM"]);
    refused("@1405 hr 74", "@1405", &["@HH:MM"]);
    refused("@abc hr 74", "@abc", &["@HH:MM"]);
    refused("@ hr 74", "@", &["missing"]);
    refused("@", "@", &["missing"]);
    refused("@- hr 74", "@-", &["how long ago", "@-10m"]);
    refused("@-0x hr 74", "@-0x", &["how long ago"]);
    refused("@-5 hr 74", "@-5", &["how long ago"]);
    refused("@-30m1h hr 74", "@-30m1h", &["how long ago"]);
    refused("@-5m5m hr 74", "@-5m5m", &["how long ago"]);
    refused("@-0m hr 74", "@-0m", &["That is now"]);
    refused("@-25h hr 74", "@-25h", &["24 hours"]);
    // A time after the readings is named where it goes, not taken for an unknown word.
    refused("bp 172/108 hr 131 @23:55", "@23:55", &["start of the line"]);
    refused("moaas 2 @-5m", "@-5m", &["start of the line"]);
    refused(
        "@-99999999999999999999999h hr 74",
        "@-99999999999999999999999h",
        &["24 hours"],
    );
    refused("@+5m hr 74", "@+5m", &["@HH:MM"]);
    refused("@14:05 @-5m hr 74", "@-5m", &["Only one time"]);
}

#[test]
fn future_times_are_refused() {
    let e = refused("@14:32 hr 74", "@14:32", &["in the future", "@-Nm"]);
    assert!(e.to_string().starts_with("That time is in the future"));
    refused("@23:59 calm", "@23:59", &["in the future"]);
}

fn at_berlin(now: DateTime<chrono_tz::Tz>, line: &str) -> Result<ParsedLine, GrammarError> {
    let drugs = drugs();
    let ctx = ParseContext {
        measures: &crate::domain::measures::MeasureRules::default(),
        now,
        weight_kg: None,
        drugs: &drugs,
        doses: &super::super::dose_levels::DoseLevels::default(),
    };
    parse_line(line, &ctx)
}

#[test]
fn a_time_of_day_is_the_most_recent_one_across_midnight() {
    let now = Berlin.with_ymd_and_hms(2026, 12, 6, 0, 4, 0).unwrap();
    let p = at_berlin(now, "@23:50 hr 74").unwrap();
    assert_eq!(p.event_time.to_rfc3339(), "2026-12-05T23:50:00+01:00");
    let p = at_berlin(now, "@00:01 hr 74").unwrap();
    assert_eq!(p.event_time.to_rfc3339(), "2026-12-06T00:01:00+01:00");
    // Typed as the minute turns: a minute ahead is now, not yesterday.
    let p = at_berlin(now, "@00:05 hr 74").unwrap();
    assert_eq!(p.event_time.to_rfc3339(), "2026-12-06T00:05:00+01:00");
    // Twelve hours back is the furthest a time of day reaches.
    let p = at_berlin(now, "@12:04 hr 74").unwrap();
    assert_eq!(p.event_time.to_rfc3339(), "2026-12-05T12:04:00+01:00");
    let e = at_berlin(now, "@12:03 hr 74").unwrap_err();
    assert!(e.message.contains("in the future"), "{e}");
    let e = at_berlin(now, "@00:06 hr 74").unwrap_err();
    assert!(e.message.contains("in the future"), "{e}");
}

#[test]
fn the_hour_the_clocks_repeat_is_placed_when_only_one_of_them_has_passed() {
    // 2026-10-25: 03:00 CEST went back to 02:00 CET. At 02:20 CET, 02:10 is 10 minutes ago
    // (its CEST twin is 70 minutes ago: both passed, so it is refused); 02:40 has passed only
    // in CEST.
    let now = Berlin
        .with_ymd_and_hms(2026, 10, 25, 2, 20, 0)
        .latest()
        .unwrap();
    let e = at_berlin(now, "@02:10 hr 74").unwrap_err();
    assert!(e.message.contains("twice"), "{e}");
    let p = at_berlin(now, "@02:40 hr 74").unwrap();
    assert_eq!(p.event_time.to_rfc3339(), "2026-10-25T02:40:00+02:00");
    // Before the change (02:20 CEST), 02:40 has not come in either: yesterday's is 23 h ago.
    let now = Berlin
        .with_ymd_and_hms(2026, 10, 25, 2, 20, 0)
        .earliest()
        .unwrap();
    let e = at_berlin(now, "@02:40 hr 74").unwrap_err();
    assert!(e.message.contains("in the future"), "{e}");
}

#[test]
fn a_skipped_time_later_today_is_refused_as_future_not_as_skipped() {
    // 2026-03-29 02:00 CET jumped to 03:00 CEST. At 01:30, 02:30 is later today (skipped),
    // and yesterday's 02:30 is 23 hours ago.
    let now = Berlin.with_ymd_and_hms(2026, 3, 29, 1, 30, 0).unwrap();
    let e = at_berlin(now, "@02:30 hr 74").unwrap_err();
    assert!(e.message.contains("in the future"), "{e}");
}

#[test]
fn ambiguous_local_time_when_clocks_go_back() {
    let drugs = drugs();
    let ctx = ParseContext {
        measures: &crate::domain::measures::MeasureRules::default(),
        now: Berlin.with_ymd_and_hms(2026, 10, 25, 12, 0, 0).unwrap(),
        weight_kg: None,
        drugs: &drugs,
        doses: &super::super::dose_levels::DoseLevels::default(),
    };
    let e = parse_line("@02:30 hr 74", &ctx).unwrap_err();
    assert_eq!(e.token, "@02:30");
    assert!(e.message.contains("happened twice"), "{e}");
    assert!(e.message.contains("clocks went back"), "{e}");
    // Either side of the change is fine, with its own offset.
    let before = parse_line("@01:30 hr 74", &ctx).unwrap();
    assert_eq!(before.event_time.to_rfc3339(), "2026-10-25T01:30:00+02:00");
    let after = parse_line("@03:30 hr 74", &ctx).unwrap();
    assert_eq!(after.event_time.to_rfc3339(), "2026-10-25T03:30:00+01:00");
}

#[test]
fn skipped_local_time_when_clocks_go_forward() {
    let drugs = drugs();
    let ctx = ParseContext {
        measures: &crate::domain::measures::MeasureRules::default(),
        now: Berlin.with_ymd_and_hms(2026, 3, 29, 12, 0, 0).unwrap(),
        weight_kg: None,
        drugs: &drugs,
        doses: &super::super::dose_levels::DoseLevels::default(),
    };
    let e = parse_line("@02:30 hr 74", &ctx).unwrap_err();
    assert_eq!(e.token, "@02:30");
    assert!(e.message.contains("does not exist"), "{e}");
    assert!(e.message.contains("clocks went forward"), "{e}");
}

#[test]
fn relative_time_across_a_clock_change_keeps_the_old_offset() {
    let drugs = drugs();
    let ctx = ParseContext {
        measures: &crate::domain::measures::MeasureRules::default(),
        // 03:30 CEST is one real hour after 01:30 CET.
        now: Berlin.with_ymd_and_hms(2026, 3, 29, 3, 30, 0).unwrap(),
        weight_kg: None,
        drugs: &drugs,
        doses: &super::super::dose_levels::DoseLevels::default(),
    };
    let p = parse_line("@-1h hr 74", &ctx).unwrap();
    assert_eq!(p.event_time.to_rfc3339(), "2026-03-29T01:30:00+01:00");
    let p = parse_line("hr 74", &ctx).unwrap();
    assert_eq!(p.event_time.to_rfc3339(), "2026-03-29T03:30:00+02:00");
    assert_eq!(p.event_time.day(), 29);
}

// --- errors and formatting ----------------------------------------------------------

#[test]
fn error_display() {
    let e = err("hr 400");
    assert_eq!(
        e.to_string(),
        "Heart rate must be between 20 and 250; check for a typo: '400' (example: hr 74)"
    );
    let e = err("");
    assert_eq!(
        e.to_string(),
        "Nothing to record; type a measurement, a dose or a note (example: bp 128/82 hr 74)"
    );
}

#[test]
fn format_payload_round_trips() {
    let lines = [
        "bp 128/82 hr 74 spo2 97 rr 14 temp 36.8",
        "temp 98.6F",
        "temp 37",
        "spo2 93% rr 8",
        "moaas 0",
        "dose ketamine 35mg IM",
        "dose ketamine 35 mg IM",
        "dose ketamine 0.5mg/kg IV over 40m",
        "dose ketamine 0.333 mg/kg IV over 1h30m",
        "dose ondansetron 4000mcg PO",
        "dose esketamine 56mg IN",
        "dose ketamine 12.125mg SL",
        "obs says \"I feel light\" #insight #music",
        "tearful, then laughing #release",
    ];
    for line in lines {
        for entry in ok(line).entries {
            let text = format_payload(&entry).unwrap();
            let back = ok(&text).entries;
            assert_eq!(back, vec![entry], "{line:?} -> {text:?}");
        }
    }
}

#[test]
fn format_payload_canonical_lines() {
    assert_eq!(
        format_payload(&one("TEMP 98.6F rr 14 Pulse 74 bp 128/82 spo2 97%")).unwrap(),
        "bp 128/82 hr 74 spo2 97 rr 14 temp 37"
    );
    assert_eq!(
        format_payload(&one("dose Ketamine 0.5 MG/KG iv over 1h")).unwrap(),
        "dose ketamine 0.5mg/kg IV over 60m"
    );
    assert_eq!(format_payload(&one("calm")).unwrap(), "obs calm");
    assert_eq!(format_payload(&Payload::Strike), None);
    assert_eq!(
        format_payload(&Payload::SessionEnd(Default::default())),
        None
    );
    assert_eq!(
        format_payload(&Payload::Vitals(VitalSigns::default())),
        None
    );
}

#[test]
fn keywords_are_the_documented_set() {
    assert_eq!(
        KEYWORDS,
        [
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
            "waste",
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
            "pcl5"
        ]
    );
}

#[test]
fn never_panics_on_nasty_input() {
    let nasty = [
        "",
        " ",
        "@",
        "@@",
        "@-",
        "@--",
        "@-@",
        "@:",
        "@::",
        "@1:",
        "@:1",
        "@-h",
        "@-m5",
        "@-9999999999999999999999999999s",
        "@99999999999999999999:00",
        "\"",
        "\"\"\"",
        "obs \"",
        "#",
        "##",
        "# #",
        "obs #",
        "bp /",
        "bp //",
        "bp 1/",
        "bp /1",
        "hr 99999999999999999999999999999999",
        "temp .",
        "temp ..",
        "temp 1.",
        "temp .5",
        "temp F",
        "temp °",
        "temp 36.8°",
        "temp 1e308",
        "dose",
        "dose ketamine .",
        "dose ketamine .mg IV",
        "dose ketamine 1e400mg IV",
        "dose ketamine 99999999999999999999999999999999999999mg/kg IV",
        "dose ketamine 1mg IV over",
        "dose ketamine 1mg IV over h",
        "dose ketamine 1mg IV over 1hm",
        "🙂",
        "🙂 🙂",
        "@🙂",
        "@-🙂",
        "hr 🙂",
        "bp 🙂/🙂",
        "temp 🙂F",
        "dose 🙂",
        "dose ketamine 🙂mg IV",
        "obs \"🙂",
        "#🙂 \"🙂\"",
        "İ",
        "ǅ ǅ",
        "\u{0}",
        "\u{feff}hr 74",
        "\u{200b}",
        "\u{202e}obs",
        "\u{a0}hr\u{a0}74",
        "ａｂｃ",
        "hr\u{3000}74",
        "moaas -1",
        "moaas 99999999999999999999999999",
        "spo2 %",
        "spo2 %%",
        "\t@14:05\tbp\t128/82",
        "@14:05 \"",
        "@23:59:59",
        "@-1h-1m",
        "obs \u{301}\"\u{301}",
    ];
    let long = "9".repeat(10_000);
    let long_lines = [
        format!("hr {long}"),
        format!("temp {long}.{long}"),
        format!("dose ketamine {long}mg IV"),
        format!("@-{long}m hr 74"),
        format!("obs {}", "\"".repeat(1001)),
        "#a".repeat(5000),
    ];
    let drugs = drugs();
    for weight in [
        None,
        Some(70.0),
        Some(0.0),
        Some(f64::MAX),
        Some(f64::INFINITY),
    ] {
        let ctx = ParseContext {
            measures: &crate::domain::measures::MeasureRules::default(),
            now: now(),
            weight_kg: weight,
            drugs: &drugs,
            doses: &super::super::dose_levels::DoseLevels::default(),
        };
        for line in nasty
            .iter()
            .copied()
            .chain(long_lines.iter().map(String::as_str))
        {
            for prefix in ["", "@-5m ", "obs ", "bp 128/82 ", "dose ketamine "] {
                let line = format!("{prefix}{line}");
                match parse_line(&line, &ctx) {
                    Ok(p) => {
                        for e in &p.entries {
                            let _ = format_payload(e);
                        }
                    }
                    Err(e) => {
                        assert!(line.get(e.span.clone()).is_some(), "{line:?}: {e:?}");
                        let _ = e.to_string();
                    }
                }
            }
        }
    }
}

#[test]
fn course_lines_parse_to_their_entries() {
    let parse_line = |line: &str, _: &()| parse_with(line, Some(70.0));
    let ctx = ();
    let p = parse_line("phq9 1 2 1 0 3 2 1 0 1", &ctx).unwrap();
    let Payload::Measure(m) = &p.entries[0] else {
        panic!("{p:?}")
    };
    assert_eq!((m.total, m.band.as_str()), (11, "moderate"));
    assert_eq!(
        format_payload(&p.entries[0]).unwrap(),
        "phq9 1 2 1 0 3 2 1 0 1"
    );
    let p = parse_line("gad7 0 0 0 0 0 0 1 obs calmer this week", &ctx).unwrap();
    assert_eq!(p.entries.len(), 2, "a measure ends at the next keyword");
    let err = parse_line("phq9 1 2 1", &ctx).unwrap_err();
    assert!(
        err.message.contains("9 items") && err.token == "phq9",
        "{err}"
    );
    let err = parse_line("gad7 0 0 0 5 0 0 0", &ctx).unwrap_err();
    assert!(err.message.contains("item 4") && err.token == "5", "{err}");
    let err = parse_line("pcl5 1 2 x", &ctx).unwrap_err();
    assert_eq!(err.token, "x");
    let p = parse_line("screen hypertension yes controlled on amlodipine", &ctx).unwrap();
    let Payload::Screening(answer) = &p.entries[0] else {
        panic!("{p:?}")
    };
    assert_eq!(
        answer.item,
        crate::domain::screening::ScreeningItem::Hypertension
    );
    assert_eq!(answer.note.as_deref(), Some("controlled on amlodipine"));
    assert_eq!(
        format_payload(&p.entries[0]).unwrap(),
        "screen hypertension yes controlled on amlodipine"
    );
    let err = parse_line("screen psychosis maybe", &ctx).unwrap_err();
    assert_eq!(err.token, "maybe");
    let err = parse_line("eligibility eligible", &ctx).unwrap_err();
    assert!(err.message.contains("reason"), "{err}");
    let p = parse_line("risk-assessment C-SSRS negative", &ctx).unwrap();
    assert!(matches!(p.entries[0], Payload::RiskAssessment(_)));
    let p = parse_line("risk of falls discussed", &ctx).unwrap();
    assert!(
        matches!(p.entries[0], Payload::Observation(_)),
        "a note that starts with 'risk' stays a note"
    );
    let p = parse_line("intention To feel safe", &ctx).unwrap();
    assert_eq!(
        format_payload(&p.entries[0]).unwrap(),
        "intention To feel safe"
    );
}

#[test]
fn a_slip_on_a_keyword_is_refused_with_the_line_it_meant() {
    let e = refused("bpp 120/80", "bpp", &["did you mean `bp 120/80`?", "obs"]);
    assert_eq!(e.example, "bp 128/82");
    refused("@-5m sp02 97", "sp02", &["did you mean `spo2 97`?"]);
    refused("moass 3", "moass", &["`moaas 3`"]);
    refused(
        "dsoe ketamine 35mg IM",
        "dsoe",
        &["`dose ketamine 35mg IM`"],
    );
    refused("sceen psychosis no", "sceen", &["`screen psychosis no`"]);
    refused("intension to rest", "intension", &["`intention to rest`"]);
    refused(
        "eligibilty eligible no contraindication",
        "eligibilty",
        &["`eligibility eligible no contraindication`"],
    );
    refused(
        "risk-assesment C-SSRS negative",
        "risk-assesment",
        &["`risk-assessment C-SSRS negative`"],
    );
    refused("csrs negative", "csrs", &["`cssrs negative`"]);
    refused("hr74", "hr74", &["did you mean `hr 74`?"]);
    // Ordinary words one edit from a keyword start notes when what follows does not fit.
    for note in [
        "he is calm",
        "hrs of music",
        "her mother called",
        "does not want the mask",
        "nose itchy",
        "sitting up, calm",
        "content and relaxed",
        "screens off",
        "ob calm",
        "or perhaps not",
    ] {
        assert_eq!(obs(note).text, note);
    }
    // `obs` always charts text as written.
    assert_eq!(obs("obs bpp 120/80").text, "bpp 120/80");
    assert_eq!(obs("obs hr74").text, "hr74");
}

#[test]
fn a_dose_beyond_its_ceiling_is_refused_naming_the_level() {
    let drugs = drugs();
    let doses: super::super::dose_levels::DoseLevels = toml::from_str(
        "[ketamine.IM]\nalert_above_mg = 150\nrefuse_above_mg = 1500\n\
         [ketamine.IV]\nrefuse_above_mg_per_kg = 5\n",
    )
    .unwrap();
    let ctx = ParseContext {
        measures: &crate::domain::measures::MeasureRules::default(),
        now: now(),
        weight_kg: Some(70.0),
        drugs: &drugs,
        doses: &doses,
    };
    let e = parse_line("dose ketamine 10000mg IM", &ctx).unwrap_err();
    assert_eq!(e.token, "10000mg");
    assert!(e.message.contains("above the 1500 mg IM ceiling"), "{e}");
    let e = parse_line("dose ketamine 10 mg/kg IV", &ctx).unwrap_err();
    assert_eq!(e.token, "10");
    assert!(e.message.contains("5 mg/kg IV ceiling"), "{e}");
    // At the ceiling, and for a route without levels, the dose is charted.
    assert!(parse_line("dose ketamine 1500mg IM", &ctx).is_ok());
    assert!(parse_line("dose ketamine 5mg/kg IV", &ctx).is_ok());
    assert!(parse_line("dose ketamine 10000mg SL", &ctx).is_ok());
}

#[test]
fn ready_to_leave_charts_the_patient_ready_entry_and_ready_alone_stays_a_note() {
    assert_eq!(one("ready-to-leave"), Payload::PatientReady);
    assert_eq!(one("READY-TO-LEAVE"), Payload::PatientReady);
    assert!(matches!(
        one("ready for the music"),
        Payload::Observation(_)
    ));
}
