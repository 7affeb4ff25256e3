//! A waste: `waste DRUG AMOUNTmg [vial V12]`, what was left of a controlled substance and
//! disposed of (21 CFR 1304.22(c): date, manner, quantity). The manner is the clinic's
//! (`[stock] waste_manner`), filled in when the line is planned; `witness` after it asks a
//! second clinician to witness it, as for a dose.

use chrono::TimeZone;

use super::ParseContext;
use super::devices::{EX_VIAL, parse_vial};
use super::doses::{AMOUNT_DECIMALS, match_drug};
use super::error::GrammarError;
use super::numbers::{decimals_of, parse_decimal};
use super::tokens::Cursor;
use crate::domain::entry::trim_number;
use crate::domain::stock::Waste;

pub const EX_WASTE: &str = "waste ketamine 10mg vial V12";

pub(super) fn parse_waste<Tz: TimeZone>(
    cur: &mut Cursor<'_>,
    ctx: &ParseContext<'_, Tz>,
) -> Result<Waste, GrammarError> {
    let Some(drug_tok) = cur.peek() else {
        return Err(GrammarError::at(
            cur.previous(),
            "A waste needs the drug and the amount in mg, like waste ketamine 10mg",
            EX_WASTE,
        ));
    };
    let Some((drug, words)) = match_drug(cur, ctx.drugs) else {
        return Err(GrammarError::at(
            drug_tok,
            "Unknown drug; write the drug first, then the amount in mg",
            EX_WASTE,
        ));
    };
    cur.pos += words;
    let amount_tok = cur.expect(
        "Give the amount wasted in mg after the drug, like 10mg",
        EX_WASTE,
    )?;
    let lower = amount_tok.lower();
    let (num, unit) = match lower.strip_suffix("mg") {
        Some(n) if !n.is_empty() => (n.to_string(), true),
        _ => (lower.clone(), false),
    };
    let mg = parse_decimal(&num).filter(|v| v.is_finite() && *v > 0.0);
    let unit = unit
        || cur
            .peek()
            .is_some_and(|t| t.lower() == "mg")
            .then(|| cur.bump())
            .is_some();
    let (Some(mg), true) = (mg, unit) else {
        return Err(GrammarError::at(
            amount_tok,
            "Give the amount wasted as a number above zero in mg, like 10mg",
            EX_WASTE,
        ));
    };
    if decimals_of(&num) > AMOUNT_DECIMALS {
        return Err(GrammarError::at(
            amount_tok,
            format!("Give the amount with at most {AMOUNT_DECIMALS} decimals"),
            EX_WASTE,
        ));
    }
    let mut vial = None;
    if let Some(tok) = cur.peek()
        && tok.lower() == "vial"
    {
        cur.bump();
        vial = Some(parse_vial(cur)?);
        if let Some(again) = cur.peek()
            && again.lower() == "vial"
        {
            return Err(GrammarError::at(
                again,
                "The container is already on this waste; give it once",
                EX_VIAL,
            ));
        }
    }
    Ok(Waste {
        drug,
        mg,
        manner: String::new(),
        drawn: Vec::new(),
        vial,
    })
}

/// The line that parses back to `w` (the manner is the clinic's, not the line's).
pub(super) fn format_waste(w: &Waste) -> String {
    let mut line = format!("waste {} {}mg", w.drug, trim_number(w.mg, AMOUNT_DECIMALS));
    if let Some(v) = w.vial {
        line.push_str(&format!(" vial {v}"));
    }
    line
}
