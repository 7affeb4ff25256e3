//! The line cut into words: each word with the byte where it starts (for the span an error
//! points at), a cursor over them, and the checks on the raw line before any word is read
//! (control characters, line breaks, a keyword glued to its value).

use std::ops::Range;

use super::KEYWORDS;
use super::error::{
    EX_BP, EX_DOSE, EX_HR, EX_LINE, EX_MOAAS, EX_OBS, EX_RR, EX_SPO2, EX_TEMP, GrammarError,
};
use super::monitoring;

/// A whitespace-separated word of the line and where it starts (in bytes).
#[derive(Debug, Clone, Copy)]
pub(super) struct Token<'l> {
    pub(super) text: &'l str,
    pub(super) start: usize,
}

impl Token<'_> {
    pub(super) fn span(&self) -> Range<usize> {
        self.start..self.start + self.text.len()
    }

    pub(super) fn lower(&self) -> String {
        self.text.to_lowercase()
    }
}

pub(super) struct Cursor<'l> {
    pub(super) line: &'l str,
    pub(super) tokens: Vec<Token<'l>>,
    pub(super) pos: usize,
}

impl<'l> Cursor<'l> {
    pub(super) fn new(line: &'l str) -> Self {
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

    pub(super) fn peek(&self) -> Option<Token<'l>> {
        self.tokens.get(self.pos).copied()
    }

    pub(super) fn peek_at(&self, ahead: usize) -> Option<Token<'l>> {
        self.tokens.get(self.pos.checked_add(ahead)?).copied()
    }

    pub(super) fn bump(&mut self) -> Option<Token<'l>> {
        let tok = self.peek()?;
        self.pos += 1;
        Some(tok)
    }

    /// The last token taken, or an empty token at the end of the line.
    pub(super) fn previous(&self) -> Token<'l> {
        self.pos
            .checked_sub(1)
            .and_then(|i| self.tokens.get(i).copied())
            .unwrap_or(Token {
                text: "",
                start: self.line.len(),
            })
    }

    /// Takes the next token; when the line ends instead, the error names the token before.
    pub(super) fn expect(
        &mut self,
        message: &str,
        example: &'static str,
    ) -> Result<Token<'l>, GrammarError> {
        match self.bump() {
            Some(tok) => Ok(tok),
            None => Err(GrammarError::at(self.previous(), message, example)),
        }
    }

    /// The rest of the line after `tok`, trimmed, with its byte offset; consumes it all.
    pub(super) fn take_rest_after(&mut self, tok: Token<'l>) -> (&'l str, usize) {
        self.pos = self.tokens.len();
        let rest = self.line.get(tok.start + tok.text.len()..).unwrap_or("");
        let trimmed = rest.trim_start();
        let offset = tok.start + tok.text.len() + (rest.len() - trimmed.len());
        (trimmed.trim_end(), offset)
    }
}

pub(super) fn is_keyword(tok: Token<'_>) -> bool {
    KEYWORDS.contains(&tok.lower().as_str())
}

pub(super) fn keyword_example(kw: &str) -> &'static str {
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
pub(super) fn check_glued_keyword(tok: Token<'_>) -> Result<(), GrammarError> {
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

pub(super) fn reject_control_chars(line: &str) -> Result<(), GrammarError> {
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
