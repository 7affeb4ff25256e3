//! Numbers as a clinician types them: whole numbers, plain decimals (a point, never a
//! comma), and a whole number within a vital sign's or a score's plausible range.

use super::error::GrammarError;
use super::tokens::Token;

/// A whole number of ASCII digits; huge values saturate (and then fail any range check).
pub(super) fn parse_whole(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(s.bytes().fold(0u64, |acc, b| {
        acc.saturating_mul(10).saturating_add(u64::from(b - b'0'))
    }))
}

/// A plain decimal such as `36.8`, `0.5`, `35` (no sign, no exponent, no inf/nan).
pub(super) fn parse_decimal(s: &str) -> Option<f64> {
    let digits = s.bytes().filter(u8::is_ascii_digit).count();
    let dots = s.bytes().filter(|b| *b == b'.').count();
    if digits == 0 || dots > 1 || digits + dots != s.len() {
        return None;
    }
    s.parse::<f64>().ok().filter(|v| v.is_finite())
}

pub(super) fn decimals_of(s: &str) -> usize {
    s.split_once('.').map_or(0, |(_, frac)| frac.len())
}

pub(super) fn looks_like_comma_decimal(s: &str) -> bool {
    s.contains(',') && s.bytes().all(|b| b.is_ascii_digit() || b == b',')
}

pub(super) fn round_to(value: f64, decimals: i32) -> f64 {
    let factor = 10f64.powi(decimals);
    (value * factor).round() / factor
}

/// Added to a "needs a number" message when the token holds no digits at all: likely a note.
pub(super) fn free_text_hint(tok: Token<'_>) -> &'static str {
    if tok.text.bytes().any(|b| b.is_ascii_digit()) {
        ""
    } else {
        "; to write a note, start it with obs"
    }
}

/// A whole number within `min..=max` for the vital or score called `what`.
pub(super) fn whole_in_range(
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
