//! People's names as the chart keeps them (clinicians, patients, credentials): one form per
//! name, and no character that hides in it.
//!
//! A name is stored NFC-normalised (Unicode Standard Annex #15), so that "Zoë" typed with a
//! combining diaeresis and "Zoë" typed precomposed are one name. Characters that show nothing
//! or move what is shown are refused, naming the character: default-ignorable code points
//! (zero-width space and joiners, the soft hyphen, the Hangul filler, tag characters, the
//! variation selectors; Unicode Technical Standard #39, `Identifier_Type=Default_Ignorable`),
//! other format characters (general category Cf), the bidirectional controls (LRM, RLM, ALM,
//! the embeddings, overrides and isolates) and every separator but the ordinary space (the
//! no-break and the wide spaces, U+2028 and U+2029). Each would let two names that read the
//! same on the screen be two clinicians on a team, or two patients past the duplicate rule.
//!
//! Two names are the same person's when their confusable skeletons are equal (UTS #39
//! section 4: "Dr Ada Admin" with a Cyrillic "а" has the skeleton of the Latin one), compared
//! without regard to case or to runs of spaces. The data is the Unicode Consortium's, from
//! the `unicode-security` crate; kapchart keeps no table of its own.

use super::text::{self, Field, TextError};
use std::fmt;
use unicode_normalization::UnicodeNormalization;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};
use unicode_security::GeneralSecurityProfile;
use unicode_security::general_security_profile::IdentifierType;

/// Why a name was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameError {
    Empty {
        field: Field,
    },
    Text(TextError),
    Hidden {
        field: Field,
        found: char,
        /// 1-based character position in the NFC form.
        position: usize,
        why: &'static str,
    },
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NameError::Empty { field } => write!(f, "{} must not be empty", field.what),
            NameError::Text(e) => e.fmt(f),
            NameError::Hidden {
                field,
                found,
                position,
                why,
            } => write!(
                f,
                "{} may not contain U+{:04X} ({why}), found at character {position}; letters, marks, digits, punctuation and ordinary spaces are accepted",
                capitalised(field.what),
                u32::from(*found),
            ),
        }
    }
}

impl std::error::Error for NameError {}

/// What kind of hidden character `c` is, or `None` for a character a name may hold.
pub fn hidden(c: char) -> Option<&'static str> {
    if c == ' ' {
        return None;
    }
    if is_bidi_control(c) {
        return Some("a text-direction control");
    }
    if c.identifier_type() == Some(IdentifierType::Default_Ignorable) {
        return Some(describe_ignorable(c));
    }
    match c.general_category() {
        GeneralCategory::Format => Some("a format character, which shows nothing"),
        GeneralCategory::LineSeparator | GeneralCategory::ParagraphSeparator => {
            Some("a line or paragraph separator")
        }
        GeneralCategory::SpaceSeparator => Some("a space other than the ordinary space"),
        _ => None,
    }
}

/// Unicode's Bidi_Control property (PropList.txt).
fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

fn describe_ignorable(c: char) -> &'static str {
    match c {
        '\u{200B}' => "zero width space, an invisible character",
        '\u{200C}' | '\u{200D}' => "a zero width joiner, an invisible character",
        '\u{2060}' => "word joiner, an invisible character",
        '\u{00AD}' => "soft hyphen, an invisible character",
        '\u{FEFF}' => "zero width no-break space, an invisible character",
        '\u{3164}' | '\u{FFA0}' => "Hangul filler, which shows as a blank",
        '\u{E0000}'..='\u{E007F}' => "a tag character, an invisible character",
        '\u{FE00}'..='\u{FE0F}' | '\u{E0100}'..='\u{E01EF}' => {
            "a variation selector, an invisible character"
        }
        _ => "a default-ignorable character, which shows nothing",
    }
}

/// The name as the chart stores it: trimmed and NFC-normalised. Refused when empty, too long,
/// with a control character (`text::check`), or with a hidden character (`hidden`).
pub fn clean(field: Field, raw: &str) -> Result<String, NameError> {
    let name: String = raw.trim().nfc().collect();
    if name.is_empty() {
        return Err(NameError::Empty { field });
    }
    text::check(field, &name).map_err(NameError::Text)?;
    if let Some((i, c, why)) = name
        .chars()
        .enumerate()
        .find_map(|(i, c)| hidden(c).map(|why| (i, c, why)))
    {
        return Err(NameError::Hidden {
            field,
            found: c,
            position: i + 1,
            why,
        });
    }
    Ok(name)
}

/// What two names that look the same have in common: the UTS #39 confusable skeleton of the
/// name in lower case with its spaces collapsed. Equal skeletons: the same name to a reader.
pub fn skeleton(name: &str) -> String {
    let folded: String = name
        .nfc()
        .flat_map(char::to_lowercase)
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let first: String = unicode_security::skeleton(&folded).collect();
    // A skeleton may map to characters that themselves lower-case differently (a capital
    // look-alike): fold once more so that case never tells two names apart.
    first.chars().flat_map(char::to_lowercase).collect()
}

/// Whether two names read the same (equal skeletons).
pub fn looks_the_same(a: &str, b: &str) -> bool {
    skeleton(a) == skeleton(b)
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::text::PERSON_NAME;

    #[test]
    fn names_are_stored_nfc_and_trimmed() {
        let decomposed = "Zoe\u{0308} O'Brien";
        let stored = clean(PERSON_NAME, &format!("  {decomposed} ")).unwrap();
        assert_eq!(stored, "Zo\u{00EB} O'Brien");
        assert_eq!(
            clean(PERSON_NAME, "Łukasz Nowak-Żak").unwrap(),
            "Łukasz Nowak-Żak"
        );
        assert_eq!(clean(PERSON_NAME, "李小龍").unwrap(), "李小龍");
        assert!(matches!(
            clean(PERSON_NAME, "   "),
            Err(NameError::Empty { .. })
        ));
    }

    #[test]
    fn every_hidden_character_is_refused_naming_it() {
        let cases = [
            ('\u{200B}', "zero width space"),
            ('\u{200C}', "zero width joiner"),
            ('\u{200D}', "zero width joiner"),
            ('\u{2060}', "word joiner"),
            ('\u{00AD}', "soft hyphen"),
            ('\u{FEFF}', "zero width no-break space"),
            ('\u{3164}', "Hangul filler"),
            ('\u{E0041}', "tag character"),
            ('\u{E007F}', "tag character"),
            ('\u{200E}', "text-direction control"),
            ('\u{200F}', "text-direction control"),
            ('\u{061C}', "text-direction control"),
            ('\u{2066}', "text-direction"),
            ('\u{202E}', "text-direction"),
            ('\u{2028}', "line or paragraph separator"),
            ('\u{2029}', "line or paragraph separator"),
            ('\u{00A0}', "space other than the ordinary space"),
            ('\u{3000}', "space other than the ordinary space"),
            ('\u{0600}', "format character"),
            ('\u{FE0F}', "variation selector"),
        ];
        for (c, named) in cases {
            let e = clean(PERSON_NAME, &format!("Dr Ada{c}Admin")).unwrap_err();
            let said = e.to_string();
            assert!(
                said.contains(&format!("U+{:04X}", u32::from(c))) && said.contains(named),
                "{c:?}: {said}"
            );
            assert!(said.contains("character 7"), "{said}");
        }
    }

    #[test]
    fn names_that_read_the_same_have_one_skeleton() {
        assert!(looks_the_same("Dr Ada Admin", "dr ada  admin"));
        // Cyrillic а (U+0430) and о (U+043E) in place of the Latin letters.
        assert!(looks_the_same("Dr Ada Admin", "Dr \u{0410}d\u{0430} Admin"));
        assert!(looks_the_same("Nia Nurse", "Nia Nurs\u{0435}"));
        assert!(looks_the_same("Zo\u{00EB}", "Zoe\u{0308}"));
        // rn and m read alike; l and 1 and I too.
        assert!(looks_the_same("Dr Kim", "Dr Kirn"));
        assert!(looks_the_same("Ali", "A1i"));
        assert!(!looks_the_same("Ada Admin", "Ada Adams"));
        assert!(!looks_the_same("Nia Nurse", "Mia Nurse"));
    }
}
