//! Why a line was refused: the offending token, its byte span in the line, what was wrong,
//! and a valid example of what was expected. The examples every error of the core grammar
//! shows are here, so each reads the same wherever it is raised.

use std::fmt;
use std::ops::Range;

use super::tokens::Token;

pub(super) const EX_LINE: &str = "bp 128/82 hr 74";
pub(super) const EX_TIME: &str = "@14:05 bp 128/82";
pub(super) const EX_TIME_AGO: &str = "@-10m moaas 4";
pub(super) const EX_BP: &str = "bp 128/82";
pub(super) const EX_HR: &str = "hr 74";
pub(super) const EX_SPO2: &str = "spo2 97";
pub(super) const EX_RR: &str = "rr 14";
pub(super) const EX_TEMP: &str = "temp 36.8";
pub(super) const EX_TEMP_F: &str = "temp 98.6F";
pub(super) const EX_MOAAS: &str = "moaas 4";
pub(super) const EX_DOSE: &str = "dose ketamine 35mg IM";
pub(super) const EX_DOSE_OVER: &str = "dose ketamine 0.5mg/kg IV over 40m";
pub(super) const EX_OBS: &str = "obs calm, eyes closed";
pub(super) const EX_QUOTE: &str = "obs says \"I feel light\"";
pub(super) const EX_NEXT: &str = "bp 128/82 obs calm";
pub(super) const EX_WITNESS: &str = "dose ketamine 35mg IM witness";

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
    pub(super) fn at(tok: Token<'_>, message: impl Into<String>, example: &'static str) -> Self {
        GrammarError {
            token: tok.text.to_string(),
            span: tok.span(),
            message: message.into(),
            example,
        }
    }
}
