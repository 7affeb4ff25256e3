//! What the home screen's patient filter matches, as the clinician types it: from three
//! characters, patients whose name or MRN contains the text; with one or two, patients whose
//! name or MRN begins with them; upper and lower case alike. The chart answers it from its
//! indexes (`store::patient_list`); [`PatientFilter::matches`] says the same for one patient,
//! the meaning those reads are held to.

use super::Patient;
use super::text::{MRN, PERSON_NAME};

/// From this many characters the filter matches anywhere in a name or MRN.
pub const CONTAINS_FROM: usize = 3;

/// The typed text, as the patient list reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatientFilter {
    /// Nothing typed (or only spaces): every patient.
    All,
    /// One or two characters: names and MRNs that begin with them.
    Begins(String),
    /// Three characters or more: names and MRNs that contain them.
    Contains(String),
    /// Longer than any name or MRN can be, even with its case changed, or holding a
    /// character kapchart refuses in them (a control character, a bidirectional control):
    /// no patient.
    Nothing,
}

impl PatientFilter {
    /// The filter for what was typed; spaces around it do not count.
    pub fn typed(text: &str) -> PatientFilter {
        let text = text.trim();
        // A letter's lower case may take more characters than the letter (at most three):
        // text longer than that could never be inside a stored name or MRN. Counted only so
        // far, so that a megabyte typed costs no more than a name.
        let longest = 3 * PERSON_NAME.max_chars.max(MRN.max_chars);
        let chars = text.chars().take(longest + 1).count();
        if text.chars().take(longest + 1).any(super::text::is_hostile) {
            return PatientFilter::Nothing;
        }
        match chars {
            0 => PatientFilter::All,
            n if n < CONTAINS_FROM => PatientFilter::Begins(text.to_string()),
            n if n <= longest => PatientFilter::Contains(text.to_string()),
            _ => PatientFilter::Nothing,
        }
    }

    /// Whether the patient is in the list under this filter (case compared by lower case).
    pub fn matches(&self, patient: &Patient) -> bool {
        let fields = || std::iter::once(patient.name.as_str()).chain(patient.mrn.as_deref());
        match self {
            PatientFilter::All => true,
            PatientFilter::Nothing => false,
            PatientFilter::Begins(text) => {
                let text = text.to_lowercase();
                fields().any(|f| f.to_lowercase().starts_with(&text))
            }
            PatientFilter::Contains(text) => {
                let text = text.to_lowercase();
                fields().any(|f| f.to_lowercase().contains(&text))
            }
        }
    }

    /// The ways the typed characters may be written in a name, upper and lower case, for a
    /// search by an index that compares case only for A to Z: every mix of each character's
    /// forms whose lower case is the typed text's (at most 3 x 3 for two characters).
    pub fn spellings(text: &str) -> Vec<String> {
        let mut spellings = vec![String::new()];
        for c in text.chars() {
            let mut forms = vec![c];
            forms.extend(single(c.to_lowercase()));
            forms.extend(single(c.to_uppercase()));
            forms.sort_unstable();
            forms.dedup();
            spellings = spellings
                .iter()
                .flat_map(|s| forms.iter().map(move |f| format!("{s}{f}")))
                .collect();
        }
        let lower = text.to_lowercase();
        spellings.retain(|s| s.to_lowercase() == lower);
        spellings
    }
}

/// The case form when it is one character (a letter whose other case takes two, such as
/// German ß, has none).
fn single(mut chars: impl Iterator<Item = char>) -> Option<char> {
    let first = chars.next()?;
    chars.next().is_none().then_some(first)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn patient(name: &str, mrn: Option<&str>) -> Patient {
        Patient {
            id: 1,
            name: name.into(),
            dob: NaiveDate::from_ymd_opt(1980, 1, 1).unwrap(),
            mrn: mrn.map(str::to_string),
            weight_kg: None,
        }
    }

    #[test]
    fn short_text_begins_longer_text_contains() {
        assert_eq!(PatientFilter::typed("  "), PatientFilter::All);
        assert_eq!(
            PatientFilter::typed(" bo "),
            PatientFilter::Begins("bo".into())
        );
        assert_eq!(
            PatientFilter::typed("hen"),
            PatientFilter::Contains("hen".into())
        );
        assert_eq!(
            PatientFilter::typed(&"a".repeat(5000)),
            PatientFilter::Nothing
        );
        let bo = patient("Bo Chen", Some("MRN-7"));
        assert!(PatientFilter::typed("bO").matches(&bo));
        assert!(
            !PatientFilter::typed("ch").matches(&bo),
            "begins, not contains"
        );
        assert!(PatientFilter::typed("CHE").matches(&bo));
        assert!(PatientFilter::typed("mr").matches(&bo));
        assert!(PatientFilter::typed("n-7").matches(&bo));
        assert!(!PatientFilter::typed("n-8").matches(&bo));
    }

    #[test]
    fn spellings_cover_both_cases_of_accented_letters() {
        let mut s = PatientFilter::spellings("éo");
        s.sort();
        assert_eq!(s, ["ÉO", "Éo", "éO", "éo"]);
        assert_eq!(PatientFilter::spellings("ß"), ["ß"]);
        assert_eq!(PatientFilter::spellings("4-"), ["4-"]);
    }
}
