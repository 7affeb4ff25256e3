//! A dose on a line: `dose DRUG AMOUNT[UNIT] ROUTE [over DURATION]`, then what `devices`
//! reads (devices and lot). mg/kg is worked out to mg from the patient's weight; a dose above
//! the clinic's ceiling for its drug and route is refused as a slip.

use chrono::TimeZone;

use super::ParseContext;
use super::devices;
use super::error::{EX_DOSE, EX_DOSE_OVER, GrammarError};
use super::numbers::{decimals_of, looks_like_comma_decimal, parse_decimal, round_to};
use super::time::parse_span;
use super::tokens::{Cursor, Token};
use crate::domain::entry::{Dose, DoseUnit, Route};

/// Longest `over …` duration. A typo catcher, not a clinical limit.
pub(super) const MAX_OVER_MIN: u64 = 24 * 60;
/// Decimals a dose amount may have; `format_payload` writes the amount with this many.
pub(super) const AMOUNT_DECIMALS: usize = 3;

/// `DRUG AMOUNT[UNIT] [UNIT] ROUTE [over DURATION] [devices N] [lot LOT]`, after `dose`.
pub(super) fn parse_dose<Tz: TimeZone>(
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
        vial: None,
        drawn: Vec::new(),
    };
    devices::parse_dose_details(cur, ctx.doses, &mut dose, amount_tok)?;
    // Far beyond a usual dose is a slip (10000 for 100), like `hr 0`: the clinic's ceiling
    // for this drug and route is named (`[alerts.doses]`).
    if let Some(message) = ctx.doses.refusal(&dose) {
        return Err(GrammarError::at(amount_tok, message, EX_DOSE));
    }
    Ok(dose)
}

pub(super) fn is_route(tok: Token<'_>) -> bool {
    Route::ALL
        .into_iter()
        .any(|r| r.label().eq_ignore_ascii_case(tok.text))
}

/// The longest known drug name (possibly several words) at the cursor: (name, words).
pub(super) fn match_drug(cur: &Cursor<'_>, drugs: &[String]) -> Option<(String, usize)> {
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
pub(super) fn parse_over(tok: Token<'_>) -> Result<u32, GrammarError> {
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
