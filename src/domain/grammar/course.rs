//! Quick-entry segments for the course around the dosing sessions: intake screening, the
//! eligibility decision, preparation (intention, set and setting, consent), outcome measures
//! and risk assessments.
//!
//! ```text
//! screen psychosis no | screen hypertension yes controlled on amlodipine
//! eligibility eligible no contraindications found     (the clinician's decision)
//! intention To meet my grief with less fear
//! setting eye mask, own playlist, weighted blanket
//! consent written consent signed after discussion of risks
//! phq9 1 2 1 0 3 2 1 0 1 | gad7 ... | pcl5 ... (20 answers)
//! risk-assessment C-SSRS screen: passive ideation, no plan; safety plan reviewed
//! ```
//!
//! A risk assessment clears a PHQ-9 item 9 safety flag, so its keyword is spelt out in full
//! (`risk-assessment`, or `cssrs`): a note that merely starts with "risk" stays a note.
//!
//! ```text
//! ```

use super::error::GrammarError;
use super::tokens::{Cursor, Token, is_keyword};
use crate::domain::entry::{Payload, RiskAssessment, Text};
use crate::domain::measures::{Instrument, MeasureRules, score};
use crate::domain::screening::{
    Answer, Decision, EligibilityDecision, ScreeningAnswer, ScreeningItem,
};

pub const EX_SCREEN: &str = "screen psychosis no";
pub const EX_ELIGIBILITY: &str = "eligibility eligible no contraindications found";
pub const EX_RISK: &str = "risk-assessment C-SSRS screen negative; safety plan reviewed";
pub const EX_TEXT: &str = "intention To meet my grief with less fear";
pub const EX_SETTING: &str = "setting eye mask, own playlist, weighted blanket";
pub const EX_CONSENT: &str = "consent KAP course, risks and transport rules explained";

/// Screening items as typed, with the words accepted for each.
const ITEMS: &[(&str, ScreeningItem)] = &[
    ("psychosis", ScreeningItem::ActivePsychosis),
    ("mania", ScreeningItem::ManiaHistory),
    ("hypertension", ScreeningItem::Hypertension),
    ("bp", ScreeningItem::Hypertension),
    (
        "uncontrolled-hypertension",
        ScreeningItem::UncontrolledHypertension,
    ),
    ("vascular", ScreeningItem::VascularDisease),
    ("aneurysm", ScreeningItem::VascularDisease),
    ("avm", ScreeningItem::VascularDisease),
    ("ich", ScreeningItem::VascularDisease),
    ("pregnancy", ScreeningItem::Pregnancy),
    ("substance", ScreeningItem::SubstanceUse),
];

/// True for a word that names a screening item (`psychosis`, `hypertension`, ...).
pub fn is_screening_item(word: &str) -> bool {
    ITEMS.iter().any(|(w, _)| *w == word)
}

fn item_word(item: ScreeningItem) -> &'static str {
    ITEMS
        .iter()
        .find(|(_, i)| *i == item)
        .map(|(w, _)| *w)
        .unwrap_or("psychosis")
}

pub fn format_screening(s: &ScreeningAnswer) -> String {
    let answer = match s.answer {
        Answer::Yes => "yes",
        Answer::No => "no",
        Answer::Unknown => "unknown",
    };
    match &s.note {
        Some(n) => format!("screen {} {answer} {n}", item_word(s.item)),
        None => format!("screen {} {answer}", item_word(s.item)),
    }
}

pub fn format_eligibility(e: &EligibilityDecision) -> String {
    let d = match e.decision {
        Decision::Eligible => "eligible",
        Decision::NotEligible => "not-eligible",
        Decision::Deferred => "deferred",
    };
    format!("eligibility {d} {}", e.reason)
}

/// `screen ITEM yes|no|unknown [note]`.
pub fn parse_screening<'l>(kw: Token<'l>, cur: &mut Cursor<'l>) -> Result<Payload, GrammarError> {
    let item_tok = cur.expect(
        "Say which item: psychosis, mania, hypertension, vascular, pregnancy or substance",
        EX_SCREEN,
    )?;
    let item = ITEMS
        .iter()
        .find(|(w, _)| *w == item_tok.lower())
        .map(|(_, i)| *i)
        .ok_or_else(|| {
            GrammarError::at(
                item_tok,
                "Not a screening item; expected psychosis, mania, hypertension (or uncontrolled-hypertension), vascular (aneurysm, AVM, ICH), pregnancy or substance",
                EX_SCREEN,
            )
        })?;
    let answer_tok = cur.expect(
        "Give the answer after the item: yes, no or unknown",
        EX_SCREEN,
    )?;
    let answer = match answer_tok.lower().as_str() {
        "yes" | "y" => Answer::Yes,
        "no" | "n" => Answer::No,
        "unknown" | "?" => Answer::Unknown,
        _ => {
            return Err(GrammarError::at(
                answer_tok,
                "The answer is yes, no or unknown",
                EX_SCREEN,
            ));
        }
    };
    let (note, _) = cur.take_rest_after(answer_tok);
    let _ = kw;
    Ok(Payload::Screening(ScreeningAnswer {
        item,
        answer,
        note: (!note.is_empty()).then(|| note.to_string()),
    }))
}

/// `eligibility eligible|not-eligible|deferred REASON`: the reason is required.
pub fn parse_eligibility<'l>(cur: &mut Cursor<'l>) -> Result<Payload, GrammarError> {
    let tok = cur.expect(
        "Give the decision: eligible, not-eligible or deferred, then the reason",
        EX_ELIGIBILITY,
    )?;
    let decision = match tok.lower().as_str() {
        "eligible" | "yes" => Decision::Eligible,
        "not-eligible" | "ineligible" | "no" => Decision::NotEligible,
        "deferred" | "defer" => Decision::Deferred,
        _ => {
            return Err(GrammarError::at(
                tok,
                "The decision is eligible, not-eligible or deferred",
                EX_ELIGIBILITY,
            ));
        }
    };
    let (reason, _) = cur.take_rest_after(tok);
    if reason.is_empty() {
        return Err(GrammarError::at(
            tok,
            "The decision needs its reason after it",
            EX_ELIGIBILITY,
        ));
    }
    Ok(Payload::Eligibility(EligibilityDecision {
        decision,
        reason: reason.to_string(),
    }))
}

/// `intention TEXT`, `setting TEXT`, `consent TEXT`, `risk TEXT`: the rest of the line.
pub fn parse_text<'l>(kw: Token<'l>, cur: &mut Cursor<'l>) -> Result<Payload, GrammarError> {
    let word = kw.lower();
    let (text, _) = cur.take_rest_after(kw);
    if text.is_empty() {
        let example = match word.as_str() {
            "risk-assessment" | "cssrs" => EX_RISK,
            "setting" => EX_SETTING,
            "consent" => EX_CONSENT,
            _ => EX_TEXT,
        };
        return Err(GrammarError::at(
            kw,
            format!("{word} needs text after it"),
            example,
        ));
    }
    let text = text.to_string();
    Ok(match word.as_str() {
        "intention" => Payload::Intention(Text { text }),
        "setting" => Payload::Setting(Text { text }),
        "consent" => Payload::Consent(Text { text }),
        _ => Payload::RiskAssessment(RiskAssessment { outcome: text }),
    })
}

/// `phq9 1 2 1 0 3 2 1 0 1`: the answers in item order, up to the end of the line or the
/// next keyword; scored and banded.
pub fn parse_measure<'l>(
    kw: Token<'l>,
    cur: &mut Cursor<'l>,
    rules: &MeasureRules,
) -> Result<Payload, GrammarError> {
    let instrument = Instrument::ALL
        .into_iter()
        .find(|i| i.keyword() == kw.lower())
        .unwrap_or(Instrument::Phq9);
    let example = instrument.example();
    let mut items = Vec::new();
    let mut tokens = Vec::new();
    while let Some(tok) = cur.peek() {
        if is_keyword(tok) {
            break;
        }
        cur.bump();
        let value = tok.text.parse::<u8>().map_err(|_| {
            GrammarError::at(
                tok,
                format!(
                    "{instrument} answers are whole numbers 0-{}, one per item",
                    instrument.max_item()
                ),
                example,
            )
        })?;
        items.push(value);
        tokens.push(tok);
    }
    score(instrument, &items, rules)
        .map(Payload::Measure)
        .map_err(|message| {
            // Point at the first out-of-range answer, else at the questionnaire's name.
            let bad = items
                .iter()
                .position(|v| *v > instrument.max_item())
                .and_then(|i| tokens.get(i).copied())
                .unwrap_or(kw);
            GrammarError::at(bad, message, example)
        })
}
