//! What the home screen's patient filter matches, as the clinician types it: from three
//! characters, patients whose name or MRN contains the text; with one or two letters or
//! digits, patients with a word of their name or MRN that begins with them ("ko" finds Aisha
//! Kowalski and MRN KO-12); upper and lower case alike. A word is a run of letters and digits:
//! spaces, hyphens and apostrophes part words. The chart answers it from its
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
    /// One or two letters or digits: names and MRNs with a word that begins with them.
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
            // One or two characters that are not all letters or digits ("o'", "-") begin no
            // word: nothing matches until the third character makes it a search inside names.
            n if n < CONTAINS_FROM && !text.chars().all(char::is_alphanumeric) => {
                PatientFilter::Nothing
            }
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
                fields().any(|f| {
                    f.split(|c: char| !c.is_alphanumeric())
                        .any(|word| word.to_lowercase().starts_with(&text))
                })
            }
            PatientFilter::Contains(text) => {
                let text = text.to_lowercase();
                fields().any(|f| f.to_lowercase().contains(&text))
            }
        }
    }
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
            PatientFilter::typed("ch").matches(&bo),
            "a word of the name begins with it"
        );
        assert!(
            !PatientFilter::typed("en").matches(&bo),
            "begins a word, not inside one"
        );
        assert!(PatientFilter::typed("7").matches(&bo), "a word of the MRN");
        assert_eq!(PatientFilter::typed("-"), PatientFilter::Nothing);
        assert_eq!(PatientFilter::typed("o'"), PatientFilter::Nothing);
        assert!(PatientFilter::typed("o'b").matches(&patient("Ann O'Brien", None)));
        assert!(PatientFilter::typed("CHE").matches(&bo));
        assert!(PatientFilter::typed("mr").matches(&bo));
        assert!(PatientFilter::typed("n-7").matches(&bo));
        assert!(!PatientFilter::typed("n-8").matches(&bo));
    }
}
