//! Vital signs on a line: `bp 128/82 hr 74 spo2 97 rr 14 temp 36.8`, all on one vitals
//! entry, each given once, each within a plausible range.

use super::error::{EX_BP, EX_HR, EX_RR, EX_SPO2, EX_TEMP, EX_TEMP_F, GrammarError};
use super::numbers::{
    free_text_hint, looks_like_comma_decimal, parse_decimal, parse_whole, round_to, whole_in_range,
};
use super::tokens::{Cursor, Token};
use crate::domain::entry::{BloodPressure, VitalSigns, trim_number};

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

pub(super) fn parse_vital(
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

pub(super) fn parse_bp(tok: Token<'_>) -> Result<BloodPressure, GrammarError> {
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
pub(super) enum TempUnit {
    C,
    F,
}

pub(super) fn temp_unit(s: &str) -> Option<TempUnit> {
    match s {
        "c" | "°c" => Some(TempUnit::C),
        "f" | "°f" => Some(TempUnit::F),
        _ => None,
    }
}

/// `36.8`, `36.8C`, `98.6F`, `98.6 F`; returns °C rounded to 0.1.
pub(super) fn parse_temp(tok: Token<'_>, cur: &mut Cursor<'_>) -> Result<f64, GrammarError> {
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
