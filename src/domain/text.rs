//! What free text the chart accepts: printable text within a size that fits its use.
//!
//! A control character (ESC, BEL, ...) stored in the chart would be printed later by the
//! command line or a Markdown export and act on the reader's terminal (retitle the window,
//! hide lines); a bidirectional override can make text read differently from what is stored.
//! Both are refused where text enters, and `escape_controls` shows them harmlessly on output
//! as a second guard. Limits keep one typo or paste from growing the append-only chart for
//! good (a 100 MB line was once committed); each is checked before the text is stored, and
//! the command line checks them before reading input whole.

use std::borrow::Cow;
use std::fmt;

/// A kind of free text, its limit and whether it may span lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// What it is, as a clinician would call it ("the patient's name").
    pub what: &'static str,
    /// Most characters accepted.
    pub max_chars: usize,
    /// Whether newline and tab are accepted.
    pub multi_line: bool,
}

impl Field {
    /// The most bytes text of this field can take in UTF-8 (4 bytes a character at most):
    /// what a reader may read before refusing.
    pub const fn max_bytes(&self) -> usize {
        self.max_chars * 4
    }
}

// The limits fit the use with a wide margin; they are not clinical rules. A quick-entry line
// is typed at the bedside (a long observation is a few hundred characters); a note is a few
// pages (a long integration note is about 20,000 characters).
pub const QUICK_ENTRY_LINE: Field = Field {
    what: "a quick-entry line",
    max_chars: 4_000,
    multi_line: false,
};
pub const PERSON_NAME: Field = Field {
    what: "a name",
    max_chars: 200,
    multi_line: false,
};
pub const MRN: Field = Field {
    what: "an MRN",
    max_chars: 64,
    multi_line: false,
};
pub const CONTACT: Field = Field {
    what: "a contact",
    max_chars: 500,
    multi_line: false,
};
pub const ADDRESS: Field = Field {
    what: "an address",
    max_chars: 500,
    multi_line: false,
};
pub const MEDICATION: Field = Field {
    what: "a medication",
    max_chars: 500,
    multi_line: false,
};
pub const GOAL: Field = Field {
    what: "a goal",
    max_chars: 1_000,
    multi_line: false,
};
pub const INTENTION: Field = Field {
    what: "an intention",
    max_chars: 2_000,
    multi_line: false,
};
pub const REASON: Field = Field {
    what: "a reason",
    max_chars: 2_000,
    multi_line: false,
};
/// Any text inside an entry (an observation, a quote, a decision's reason).
pub const ENTRY_TEXT: Field = Field {
    what: "an entry's text",
    max_chars: 4_000,
    multi_line: false,
};
pub const NOTE: Field = Field {
    what: "a note",
    max_chars: 200_000,
    multi_line: true,
};
pub const ADDENDUM: Field = Field {
    what: "an addendum",
    max_chars: 50_000,
    multi_line: true,
};

/// Why text was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextError {
    TooLong {
        field: Field,
        /// Characters found; `None` when reading stopped at the limit.
        found: Option<usize>,
    },
    Control {
        field: Field,
        /// 1-based character position, and line when the field spans lines.
        position: usize,
        line: usize,
        found: char,
    },
}

impl fmt::Display for TextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TextError::TooLong { field, found } => {
                write!(
                    f,
                    "{} is limited to {} characters; ",
                    capitalised(field.what),
                    group(field.max_chars)
                )?;
                match found {
                    Some(n) => write!(f, "this one has {}", group(*n)),
                    None => write!(f, "this one is longer (reading stopped there)"),
                }
            }
            TextError::Control {
                field,
                position,
                line,
                found,
            } => {
                write!(
                    f,
                    "{} may not contain {} ({}), found at character {position}",
                    capitalised(field.what),
                    char_name(*found),
                    code(*found),
                )?;
                if field.multi_line {
                    write!(f, " of line {line}")?;
                }
                if field.multi_line {
                    write!(
                        f,
                        "; only printable text, tabs and line breaks are accepted"
                    )
                } else {
                    write!(f, "; only printable text on one line is accepted")
                }
            }
        }
    }
}

impl std::error::Error for TextError {}

/// Whether `c` is refused in stored text: control characters (C0, DEL, C1) and the
/// bidirectional formatting characters that reorder what is displayed.
pub fn is_hostile(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Checks `text` for `field`: refused beyond its limit, or with a control character (tab
/// and newline only where it spans lines).
pub fn check(field: Field, text: &str) -> Result<(), TextError> {
    let mut chars = 0;
    let mut line = 1;
    let mut column = 0;
    for c in text.chars() {
        chars += 1;
        column += 1;
        if chars > field.max_chars {
            return Err(TextError::TooLong {
                field,
                found: Some(text.chars().count()),
            });
        }
        let allowed_break = field.multi_line && matches!(c, '\n' | '\t');
        if is_hostile(c) && !allowed_break {
            return Err(TextError::Control {
                field,
                position: if field.multi_line { column } else { chars },
                line,
                found: c,
            });
        }
        if c == '\n' {
            line += 1;
            column = 0;
        }
    }
    Ok(())
}

/// Checks every string inside a stored value (an entry's payload, a patient's details).
pub fn check_all_strings(field: Field, value: &serde_json::Value) -> Result<(), TextError> {
    match value {
        serde_json::Value::String(s) => check(field, s),
        serde_json::Value::Array(items) => {
            items.iter().try_for_each(|v| check_all_strings(field, v))
        }
        serde_json::Value::Object(map) => {
            map.values().try_for_each(|v| check_all_strings(field, v))
        }
        _ => Ok(()),
    }
}

/// Text as it may safely reach a terminal: every refused character shown as its escape
/// (`\u{1b}`), newline and tab kept when `multi_line`.
pub fn escape_controls(text: &str, multi_line: bool) -> Cow<'_, str> {
    // In multi-line text a line break, a tab and the CR of a CRLF line ending (the CSV
    // export's, RFC 4180) pass: they move the cursor, nothing more.
    let keep = |c: char, next: Option<char>| {
        multi_line && (matches!(c, '\n' | '\t') || (c == '\r' && next == Some('\n')))
    };
    let hostile_at =
        |i: usize, c: char| is_hostile(c) && !keep(c, text[i + c.len_utf8()..].chars().next());
    if !text.char_indices().any(|(i, c)| hostile_at(i, c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for (i, c) in text.char_indices() {
        if hostile_at(i, c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn char_name(c: char) -> &'static str {
    match c {
        '\u{1b}' => "an escape character",
        '\u{7}' => "a bell character",
        '\u{8}' => "a backspace",
        '\r' => "a carriage return",
        '\n' => "a line break",
        '\t' => "a tab",
        '\0' => "a NUL character",
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => "a text-direction override",
        _ => "a control character",
    }
}

fn code(c: char) -> String {
    format!("U+{:04X}", u32::from(c))
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// 200000 as "200,000".
fn group(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_text_passes_and_escape_is_refused_with_its_place() {
        assert!(check(PERSON_NAME, "Zoë O'Brien-Łukasz").is_ok());
        let e = check(PERSON_NAME, "Ann\u{1b}]0;pwned\u{7}").unwrap_err();
        assert_eq!(
            e.to_string(),
            "A name may not contain an escape character (U+001B), found at character 4; only printable text on one line is accepted"
        );
        assert!(check(PERSON_NAME, "two\nlines").is_err());
        assert!(check(NOTE, "two\nlines\twith a tab").is_ok());
        let e = check(NOTE, "fine\nbad \u{7}").unwrap_err();
        assert!(e.to_string().contains("character 5 of line 2"), "{e}");
        assert!(check(NOTE, "reversed \u{202E}txet").is_err());
        assert!(check(NOTE, "carriage\r\nreturn").is_err());
    }

    #[test]
    fn limits_name_the_limit() {
        assert!(check(MRN, &"9".repeat(64)).is_ok());
        let e = check(MRN, &"9".repeat(65)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "An MRN is limited to 64 characters; this one has 65"
        );
        let e = check(NOTE, &"x".repeat(200_001)).unwrap_err();
        assert!(e.to_string().contains("limited to 200,000"), "{e}");
    }

    #[test]
    fn escaping_shows_controls_and_keeps_plain_text() {
        assert!(matches!(escape_controls("plain", false), Cow::Borrowed(_)));
        assert_eq!(escape_controls("a\u{1b}[2Jb", false), "a\\u{1b}[2Jb");
        assert_eq!(escape_controls("a\nb", true), "a\nb");
        assert_eq!(escape_controls("a\nb", false), "a\\u{a}b");
        // The CRLF of a CSV line ending passes; a lone CR (which rewrites the line) does not.
        assert_eq!(escape_controls("a,b\r\nc,d\r\n", true), "a,b\r\nc,d\r\n");
        assert_eq!(escape_controls("a\rb\r\n", true), "a\\u{d}b\r\n");
    }
}
