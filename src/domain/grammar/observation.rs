//! A note: free text with `#tags` and "the patient's own words" in quotes pulled out of it.

use super::error::{EX_QUOTE, GrammarError};
use crate::domain::entry::Observation;

pub(super) fn is_tag_char(c: char) -> bool {
    c.is_alphanumeric() || c == '-' || c == '_'
}

/// Pulls `#tags` (outside quotes) and "quoted words" out of a note; `offset` is where
/// `text` starts in the line, for the span of an unclosed quote.
pub(super) fn parse_observation(text: &str, offset: usize) -> Result<Observation, GrammarError> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut tags: Vec<String> = Vec::new();
    let mut quotes = Vec::new();
    let mut open_quote: Option<usize> = None;
    let mut i = 0;
    while let Some(&(at, c)) = chars.get(i) {
        i += 1;
        match (c, open_quote) {
            ('"', None) => open_quote = Some(at),
            ('"', Some(start)) => {
                let quote = text.get(start + 1..at).unwrap_or("").trim();
                if !quote.is_empty() {
                    quotes.push(quote.to_string());
                }
                open_quote = None;
            }
            ('#', None) => {
                let starts_word = i < 2
                    || chars
                        .get(i - 2)
                        .is_none_or(|&(_, p)| !is_tag_char(p) && p != '#');
                if !starts_word {
                    continue;
                }
                let tag_start = at + 1;
                let mut tag_end = tag_start;
                while let Some(&(j, d)) = chars.get(i) {
                    if !is_tag_char(d) {
                        break;
                    }
                    tag_end = j + d.len_utf8();
                    i += 1;
                }
                let tag = text.get(tag_start..tag_end).unwrap_or("").to_lowercase();
                if !tag.is_empty() && !tags.contains(&tag) {
                    tags.push(tag);
                }
            }
            _ => {}
        }
    }

    if let Some(start) = open_quote {
        let word_start = text
            .get(..start)
            .and_then(|before| {
                before
                    .char_indices()
                    .rev()
                    .find(|(_, c)| c.is_whitespace())
                    .map(|(j, c)| j + c.len_utf8())
            })
            .unwrap_or(0);
        let word_end = text
            .get(start..)
            .and_then(|after| after.find(char::is_whitespace))
            .map_or(text.len(), |j| start + j);
        let token = text.get(word_start..word_end).unwrap_or("");
        return Err(GrammarError {
            token: token.to_string(),
            span: offset + word_start..offset + word_end,
            message: "This quote is not closed; end the patient's words with another \"".into(),
            example: EX_QUOTE,
        });
    }

    Ok(Observation {
        text: text.to_string(),
        tags,
        quotes,
    })
}
